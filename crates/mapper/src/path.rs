//! Paths into a record: JMESPath, with a native fast path for plain dotted identifiers.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use jmespath::ast::Ast;
use jmespath::{Context, DEFAULT_RUNTIME, Expression, Rcvar, Variable};
use serde_json::Value;

/// Which top-level record keys JMESPath expressions can observe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Needs {
    /// The whole record (an expression uses `@` or `*` on it).
    All,
    /// Only these keys.
    Keys(BTreeSet<String>),
}

impl Default for Needs {
    fn default() -> Self {
        Needs::Keys(BTreeSet::new())
    }
}

impl Needs {
    /// Adds what `path` reads.
    pub(crate) fn add(&mut self, path: &Path) {
        if let Path::Jmes(expression) = path {
            walk(expression.as_ast(), true, self);
        }
    }

    fn key(&mut self, name: &str) {
        if let Needs::Keys(keys) = self
            && !keys.contains(name)
        {
            keys.insert(name.to_string());
        }
    }
}

/// Collects the root keys an AST reads. `at_root`: the node is evaluated against the record
/// itself (not an element of a projection). A conservative over-approximation.
fn walk(ast: &Ast, at_root: bool, needs: &mut Needs) {
    match ast {
        Ast::Identity { .. } if at_root => *needs = Needs::All,
        Ast::Field { name, .. } if at_root => needs.key(name),
        _ => {}
    }
    for (child, same_value) in children(ast) {
        walk(child, at_root && same_value, needs);
    }
}

/// The direct sub-expressions of `ast`, each with whether it is evaluated against the same
/// value as `ast` (not for the right side of a sub-expression or projection, nor an expref).
fn children(ast: &Ast) -> Vec<(&Ast, bool)> {
    match ast {
        Ast::Subexpr { lhs, rhs, .. } | Ast::Projection { lhs, rhs, .. } => {
            vec![(lhs, true), (rhs, false)]
        }
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            vec![(lhs, true), (rhs, true)]
        }
        Ast::Condition {
            predicate, then, ..
        } => vec![(predicate, true), (then, true)],
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            vec![(node, true)]
        }
        Ast::Function { args, .. } | Ast::MultiList { elements: args, .. } => {
            args.iter().map(|a| (a, true)).collect()
        }
        Ast::MultiHash { elements, .. } => elements.iter().map(|kv| (&kv.value, true)).collect(),
        Ast::Expref { ast, .. } => vec![(ast, false)],
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Slice { .. }
        | Ast::Literal { .. } => Vec::new(),
    }
}

/// The largest slice step accepted (either sign).
const MAX_SLICE_STEP: i32 = 1_000_000;

/// Refuses slices whose step the `jmespath` crate (0.5) cannot evaluate: it walks the array
/// with an `i32` index, `i += step`, so a large positive step (`a[1::2147483647]`) overflows
/// on any array longer than the start: a panic with overflow checks, else a wrapped negative
/// index and an out-of-bounds panic. A step of at most a million overflows only on arrays of
/// more than two billion elements. Found while writing the `map_record` fuzz target (by reading
/// the crate's evaluator); its corpus keeps the input.
fn check_slices(ast: &Ast) -> Result<(), String> {
    if let Ast::Slice { step, .. } = ast
        && step.unsigned_abs() > MAX_SLICE_STEP.unsigned_abs()
    {
        return Err(format!(
            "a slice step must be between -{MAX_SLICE_STEP} and {MAX_SLICE_STEP}, got {step}"
        ));
    }
    children(ast)
        .into_iter()
        .try_for_each(|(child, _)| check_slices(child))
}

/// Converts a JMESPath result back to JSON.
fn from_variable(variable: &Variable) -> Result<Value, String> {
    Ok(match variable {
        Variable::Null => Value::Null,
        Variable::Bool(b) => Value::Bool(*b),
        Variable::Number(n) => Value::Number(n.clone()),
        Variable::String(s) => Value::String(s.clone()),
        Variable::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| from_variable(v))
                .collect::<Result<_, _>>()?,
        ),
        Variable::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), from_variable(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Variable::Expref(_) => {
            return Err("the expression evaluates to an expression reference".to_string());
        }
    })
}

/// Converts JSON to a JMESPath variable directly (the crate's own conversion goes through
/// serde's serializer, which is several times slower).
fn to_variable(value: &Value) -> Variable {
    match value {
        Value::Null => Variable::Null,
        Value::Bool(b) => Variable::Bool(*b),
        Value::Number(n) => Variable::Number(n.clone()),
        Value::String(s) => Variable::String(s.clone()),
        Value::Array(items) => {
            Variable::Array(items.iter().map(|v| Rcvar::new(to_variable(v))).collect())
        }
        Value::Object(map) => Variable::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), Rcvar::new(to_variable(v))))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// A compiled path or expression.
#[derive(Debug, Clone)]
pub(crate) enum Path {
    /// `a.b.c` of plain identifiers: looked up directly, with JMESPath's semantics (a missing
    /// key or a non-object gives null).
    Fields(Vec<String>),
    /// Anything else, evaluated by the `jmespath` crate.
    Jmes(Box<Expression<'static>>),
}

impl Path {
    /// Compiles `text` as JMESPath.
    pub(crate) fn compile(text: &str) -> Result<Path, String> {
        let text = text.trim();
        let expression = jmespath::compile(text).map_err(|e| e.to_string())?;
        check_slices(expression.as_ast())?;
        if is_dotted_identifiers(text) {
            return Ok(Path::Fields(text.split('.').map(str::to_string).collect()));
        }
        Ok(Path::Jmes(Box::new(expression)))
    }

    /// The record field this path reads when it is a single identifier.
    pub(crate) fn single_field(&self) -> Option<&str> {
        match self {
            Path::Fields(parts) if parts.len() == 1 => parts.first().map(String::as_str),
            _ => None,
        }
    }

    /// The first identifier of a dotted path.
    pub(crate) fn root_field(&self) -> Option<&str> {
        match self {
            Path::Fields(parts) => parts.first().map(String::as_str),
            Path::Jmes(_) => None,
        }
    }

    /// Evaluates the path; `Ok(None)` for null or missing.
    pub(crate) fn eval<'r>(
        &self,
        record: &RecordView<'r>,
    ) -> Result<Option<Cow<'r, Value>>, String> {
        match self {
            Path::Fields(parts) => {
                let mut current = record.json;
                for part in parts {
                    match current.get(part) {
                        Some(v) => current = v,
                        None => return Ok(None),
                    }
                }
                Ok((!current.is_null()).then_some(Cow::Borrowed(current)))
            }
            Path::Jmes(expression) => {
                if let Some(value) = crate::native::eval(expression.as_ast(), record.json) {
                    return Ok(match value {
                        Cow::Borrowed(Value::Null) => None,
                        Cow::Owned(Value::Null) => None,
                        other => Some(other),
                    });
                }
                let data = record.variable()?;
                let mut ctx = Context::new(expression.as_str(), &DEFAULT_RUNTIME);
                let result = jmespath::interpret(data, expression.as_ast(), &mut ctx)
                    .map_err(|e| e.to_string())?;
                if result.is_null() {
                    return Ok(None);
                }
                let value = from_variable(&result)?;
                Ok((!value.is_null()).then_some(Cow::Owned(value)))
            }
        }
    }
}

fn is_dotted_identifiers(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// A record being mapped, with its JMESPath form (only the keys the mapping's expressions can
/// see) built at most once.
pub(crate) struct RecordView<'r> {
    pub(crate) json: &'r Value,
    needs: &'r Needs,
    variable: OnceCell<Rcvar>,
}

impl<'r> RecordView<'r> {
    pub(crate) fn new(json: &'r Value, needs: &'r Needs) -> RecordView<'r> {
        RecordView {
            json,
            needs,
            variable: OnceCell::new(),
        }
    }

    fn variable(&self) -> Result<&Rcvar, String> {
        Ok(self.variable.get_or_init(|| {
            let variable = match (self.needs, self.json) {
                (Needs::Keys(keys), Value::Object(map)) => Variable::Object(
                    keys.iter()
                        .filter_map(|k| map.get(k).map(|v| (k.clone(), Rcvar::new(to_variable(v)))))
                        .collect(),
                ),
                (_, json) => to_variable(json),
            };
            Rcvar::new(variable)
        }))
    }
}
