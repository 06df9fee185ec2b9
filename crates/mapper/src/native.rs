//! A native evaluator for the common subset of JMESPath, straight over `serde_json::Value`.
//!
//! The `jmespath` crate needs its own copy of the record (a tree of reference-counted
//! variables), which costs more than the expressions themselves. Most mapping expressions are
//! field paths, projections, flattening, `||` and `join`. This module evaluates those directly and
//! answers `None` for anything else, or whenever a value is not of the expected type, so the
//! `jmespath` crate handles every other case, errors included. When it answers `Some`, the
//! result is the one the `jmespath` crate gives (checked by a property test).

use std::borrow::Cow;

use jmespath::ast::Ast;
use serde_json::{Map, Value};

static NULL: Value = Value::Null;

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) => true,
        Value::Null => false,
    }
}

fn owned<'a>(value: Value) -> Option<Cow<'a, Value>> {
    Some(Cow::Owned(value))
}

/// Evaluates `ast` against `data`; `None` when this subset cannot (use the `jmespath` crate).
pub(crate) fn eval<'a>(ast: &Ast, data: &'a Value) -> Option<Cow<'a, Value>> {
    match ast {
        Ast::Field { name, .. } => Some(Cow::Borrowed(
            data.as_object().and_then(|m| m.get(name)).unwrap_or(&NULL),
        )),
        Ast::Identity { .. } => Some(Cow::Borrowed(data)),
        Ast::Subexpr { lhs, rhs, .. } => match eval(lhs, data)? {
            Cow::Borrowed(left) => eval(rhs, left),
            Cow::Owned(left) => eval(rhs, &left).map(|r| Cow::Owned(r.into_owned())),
        },
        Ast::Index { idx, .. } => {
            let item = data.as_array().and_then(|items| {
                if *idx >= 0 {
                    items.get(usize::try_from(*idx).ok()?)
                } else {
                    let back = usize::try_from(idx.unsigned_abs()).ok()?.max(1);
                    items.len().checked_sub(back).and_then(|i| items.get(i))
                }
            });
            Some(Cow::Borrowed(item.unwrap_or(&NULL)))
        }
        Ast::Or { lhs, rhs, .. } => {
            let left = eval(lhs, data)?;
            if truthy(&left) {
                Some(left)
            } else {
                eval(rhs, data)
            }
        }
        Ast::And { lhs, rhs, .. } => {
            let left = eval(lhs, data)?;
            if truthy(&left) {
                eval(rhs, data)
            } else {
                Some(left)
            }
        }
        Ast::Not { node, .. } => owned(Value::Bool(!truthy(eval(node, data)?.as_ref()))),
        Ast::Projection { lhs, rhs, .. } => {
            let left = eval(lhs, data)?;
            let Some(items) = left.as_array() else {
                return owned(Value::Null);
            };
            let mut collected = Vec::with_capacity(items.len());
            for item in items {
                let result = eval(rhs, item)?;
                if !result.is_null() {
                    collected.push(result.into_owned());
                }
            }
            owned(Value::Array(collected))
        }
        Ast::Flatten { node, .. } => {
            let inner = eval(node, data)?;
            let Some(items) = inner.as_array() else {
                return owned(Value::Null);
            };
            let mut collected = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Array(nested) => collected.extend(nested.iter().cloned()),
                    other => collected.push(other.clone()),
                }
            }
            owned(Value::Array(collected))
        }
        Ast::ObjectValues { node, .. } => match eval(node, data)?.as_ref() {
            Value::Object(map) => owned(Value::Array(map.values().cloned().collect())),
            _ => owned(Value::Null),
        },
        Ast::MultiList { elements, .. } => {
            if data.is_null() {
                return owned(Value::Null);
            }
            let items = elements
                .iter()
                .map(|e| eval(e, data).map(Cow::into_owned))
                .collect::<Option<Vec<_>>>()?;
            owned(Value::Array(items))
        }
        Ast::MultiHash { elements, .. } => {
            if data.is_null() {
                return owned(Value::Null);
            }
            let mut map = Map::new();
            for kv in elements {
                map.insert(kv.key.clone(), eval(&kv.value, data)?.into_owned());
            }
            owned(Value::Object(map))
        }
        Ast::Function { name, args, .. } => function(name, args, data),
        Ast::Literal { .. }
        | Ast::Comparison { .. }
        | Ast::Condition { .. }
        | Ast::Slice { .. }
        | Ast::Expref { .. } => None,
    }
}

fn function<'a>(name: &str, args: &[Ast], data: &'a Value) -> Option<Cow<'a, Value>> {
    match (name, args) {
        ("join", [glue, list]) => {
            let glue = literal_string(glue)?;
            let list = eval(list, data)?;
            let items = list.as_array()?;
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&glue);
                }
                out.push_str(item.as_str()?);
            }
            owned(Value::String(out))
        }
        ("not_null", args) if !args.is_empty() => {
            let values = args
                .iter()
                .map(|a| eval(a, data))
                .collect::<Option<Vec<_>>>()?;
            Some(
                values
                    .into_iter()
                    .find(|v| !v.is_null())
                    .unwrap_or(Cow::Borrowed(&NULL)),
            )
        }
        _ => None,
    }
}

/// A literal string argument (`', '` or `` `", "` ``).
fn literal_string(ast: &Ast) -> Option<String> {
    match ast {
        Ast::Literal { value, .. } => value.as_string().cloned(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::eval;

    const EXPRESSIONS: &[&str] = &[
        "a",
        "a.b",
        "a.b.c",
        "a[0]",
        "a[-1]",
        "a[2].b",
        "a[*].b",
        "a[*]",
        "a[]",
        "a[].b",
        "a[][]",
        "a.*",
        "*.b",
        "a || b",
        "a && b",
        "!a",
        "a.b || c[0]",
        "[a, b]",
        "{x: a, y: b.c}",
        "join(', ', a)",
        "join(', ', a[*].b)",
        "join(', ', a[])",
        "join(`\"-\"`, a)",
        "not_null(a, b, c)",
        "@",
        "a[?b]",
        "length(a)",
    ];

    fn reference(expression: &str, data: &Value) -> Option<Value> {
        let compiled = jmespath::compile(expression).ok()?;
        let variable = jmespath::Variable::try_from(data).ok()?;
        let result = compiled.search(variable).ok()?;
        serde_json::to_value(&*result).ok()
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-5i64..5).prop_map(Value::from),
            "[ab,]{0,3}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![Just("a"), Just("b"), Just("c")],
                    inner,
                    0..3
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]
        #[test]
        fn agrees_with_the_jmespath_crate(data in arb_json()) {
            for expression in EXPRESSIONS {
                let ast = jmespath::compile(expression).unwrap();
                if let Some(native) = eval(ast.as_ast(), &data) {
                    prop_assert_eq!(Some(native.into_owned()), reference(expression, &data), "{}", expression);
                }
            }
        }
    }

    #[test]
    fn handles_the_common_shapes_natively() {
        let data =
            json!({"a": [{"b": "x"}, {"b": "y"}], "t": ["p", "q"], "n": [["j"], ["k", "l"]]});
        for (expression, expected) in [
            ("a[*].b", json!(["x", "y"])),
            ("join(', ', t)", json!("p, q")),
            ("join(', ', n[])", json!("j, k, l")),
            ("missing || t[0]", json!("p")),
        ] {
            let ast = jmespath::compile(expression).unwrap();
            assert_eq!(
                eval(ast.as_ast(), &data).map(|v| v.into_owned()),
                Some(expected),
                "{expression}"
            );
        }
        // Outside the subset, or a type the subset does not check: left to the crate.
        for expression in ["length(t)", "a[?b == 'x']", "join(', ', a)"] {
            let ast = jmespath::compile(expression).unwrap();
            assert!(eval(ast.as_ast(), &data).is_none(), "{expression}");
        }
    }
}
