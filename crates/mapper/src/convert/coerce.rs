//! Shaping a value for its Webflow field type (the last conversion step).

use std::borrow::Cow;

use serde_json::Value;

use super::as_list;
use super::files::file_value;
use super::references::{Ids, id_list, resolve_id};
use crate::resolve::Resolvers;
use crate::schema::webflow::{Field as WfField, WebflowFieldType as W};
use crate::value::{
    date_text, excerpt, iso_datetime, number_value, parse_number, shape, text_to_html, to_text,
    unwrap_rendered,
};
use crate::warning::WarningKind;

/// Shapes a value for the Webflow field. `None`: leave the field out (a warning says why).
pub(crate) fn coerce(
    value: Cow<'_, Value>,
    target: &WfField,
    ids: Ids<'_>,
    ctx: &dyn Resolvers,
    w: &mut Vec<WarningKind>,
) -> Option<Value> {
    // Owned strings move straight into text fields (and already-canonical dates).
    if let Cow::Owned(Value::String(s)) = &value
        && (matches!(target.field_type, W::PlainText | W::RichText)
            || (target.field_type == W::DateTime && crate::value::is_webflow_datetime(s))
            || (matches!(target.field_type, W::Email | W::Phone | W::Color)
                && !s.is_empty()
                && s.trim() == s))
    {
        return Some(value.into_owned());
    }
    let value: &Value = &value;
    if value.is_null() {
        return None;
    }
    let unconvertible = |w: &mut Vec<WarningKind>, value: &Value| {
        w.push(WarningKind::Unconvertible {
            target: target.field_type.to_string(),
            found: shape(value).to_string(),
            value: excerpt(value),
        });
        None
    };
    match &target.field_type {
        W::PlainText => match to_text(value) {
            Some(text) => Some(Value::String(text)),
            None => unconvertible(w, value),
        },
        W::RichText => match value {
            Value::String(_) => Some(value.clone()),
            Value::Object(map) if map.get("html").is_some_and(Value::is_string) => {
                let html = map.get("html").and_then(Value::as_str).unwrap_or("");
                Some(Value::String(unwrap_rendered(html).to_string()))
            }
            other => match to_text(other) {
                Some(text) => Some(Value::String(text_to_html(&text))),
                None => unconvertible(w, other),
            },
        },
        W::Number => {
            let single = first_of(value, w)?;
            let Some(n) = parse_number(single) else {
                if single.is_string() {
                    w.push(WarningKind::InvalidNumber {
                        value: excerpt(single),
                    });
                    return None;
                }
                return unconvertible(w, single);
            };
            number_for(n, target, w)
        }
        W::Switch => match first_of(value, w)? {
            Value::Bool(b) => Some(Value::Bool(*b)),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            other => unconvertible(w, other),
        },
        W::DateTime => {
            let single = first_of(value, w)?;
            match date_text(single) {
                Some(text) => match iso_datetime(text) {
                    Some(iso) => Some(Value::String(iso)),
                    None => {
                        w.push(WarningKind::InvalidDate {
                            value: text.to_string(),
                        });
                        None
                    }
                },
                None => unconvertible(w, single),
            }
        }
        W::Option => {
            let single = first_of(value, w)?;
            let text: Cow<'_, str> = match single {
                Value::String(s) => Cow::Borrowed(s),
                other => match to_text(other) {
                    Some(t) => Cow::Owned(t),
                    None => return unconvertible(w, other),
                },
            };
            let name = text.trim();
            if name.is_empty() {
                return None;
            }
            let options = &target.validations.options;
            let found = options
                .iter()
                .find(|o| o.name.trim().eq_ignore_ascii_case(name))
                .or_else(|| {
                    options
                        .iter()
                        .find(|o| o.name.trim().to_lowercase() == name.to_lowercase())
                })
                .or_else(|| options.iter().find(|o| o.id == name));
            match found {
                Some(option) => Some(Value::String(option.id.clone())),
                None => {
                    w.push(WarningKind::UnknownOption {
                        value: name.to_string(),
                    });
                    None
                }
            }
        }
        W::Reference => {
            let list = id_list(value);
            if list.len() > 1 {
                w.push(WarningKind::ExtraValues { count: list.len() });
            }
            let first = list.into_iter().next()?;
            resolve_id(&first, ids, ctx, w).map(Value::String)
        }
        W::MultiReference => {
            let list = id_list(value);
            let total = list.len();
            let resolved: Vec<Value> = list
                .iter()
                .filter_map(|id| resolve_id(id, ids, ctx, w).map(Value::String))
                .collect();
            if total > 0 && resolved.is_empty() {
                return None;
            }
            Some(Value::Array(resolved))
        }
        W::Image | W::File => {
            let list = as_list(value);
            let count = list.iter().filter(|v| !v.is_null()).count();
            if count > 1 {
                w.push(WarningKind::ExtraValues { count });
            }
            let first = list.iter().find(|v| !v.is_null())?;
            file_value(first, target, ctx, w)
        }
        W::MultiImage => {
            let files: Vec<Value> = as_list(value)
                .iter()
                .filter(|v| !v.is_null())
                .filter_map(|v| file_value(v, target, ctx, w))
                .collect();
            (!files.is_empty()).then_some(Value::Array(files))
        }
        W::VideoLink | W::Link => {
            let single = first_of(value, w)?;
            let url = match single {
                Value::Object(map) if map.contains_key("handle") => {
                    file_value(single, target, ctx, w)?
                        .get("url")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                }
                other => to_text(other),
            };
            match url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) {
                Some(url) => Some(Value::String(with_scheme(url))),
                None => unconvertible(w, single),
            }
        }
        W::Email | W::Phone | W::Color => {
            let single = first_of(value, w)?;
            match to_text(single).map(|s| s.trim().to_string()) {
                Some(text) if !text.is_empty() => Some(Value::String(text)),
                Some(_) => None,
                None => unconvertible(w, single),
            }
        }
        W::ExtFileRef | W::User | W::Unknown(_) => Some(value.clone()),
    }
}

/// The single value of an array (warning when there were several); other values as they are.
fn first_of<'v>(value: &'v Value, w: &mut Vec<WarningKind>) -> Option<&'v Value> {
    match value {
        Value::Array(items) => {
            let count = items.iter().filter(|v| !v.is_null()).count();
            if count > 1 {
                w.push(WarningKind::ExtraValues { count });
            }
            items.iter().find(|v| !v.is_null())
        }
        Value::Null => None,
        other => Some(other),
    }
}

fn number_for(n: f64, target: &WfField, w: &mut Vec<WarningKind>) -> Option<Value> {
    let rules = &target.validations;
    let mut n = n;
    if target.is_integer() && n.fract() != 0.0 {
        let rounded = n.round();
        #[allow(clippy::cast_possible_truncation)]
        w.push(WarningKind::Rounded {
            from: n,
            to: rounded as i64,
        });
        n = rounded;
    }
    let broken = if rules.allow_negative == Some(false) && n < 0.0 {
        Some("negative numbers are not allowed".to_string())
    } else if rules.allow_zero == Some(false) && n == 0.0 {
        Some("zero is not allowed".to_string())
    } else if let Some(min) = rules.min_value.filter(|min| n < *min) {
        Some(format!("the minimum is {min}"))
    } else {
        rules
            .max_value
            .filter(|max| n > *max)
            .map(|max| format!("the maximum is {max}"))
    };
    if let Some(rule) = broken {
        w.push(WarningKind::OutOfRange { value: n, rule });
        return None;
    }
    number_value(n)
}

/// Adds `https://` to a bare host such as `www.smartsuite.com` (SmartSuite link fields often
/// lack the scheme; Webflow wants a URL).
fn with_scheme(url: String) -> String {
    let lower = url.to_ascii_lowercase();
    let has_scheme = lower.contains("://")
        || ["mailto:", "tel:", "/", "#", "?"]
            .iter()
            .any(|p| lower.starts_with(p));
    if has_scheme || url.contains(char::is_whitespace) || !url.contains('.') {
        url
    } else {
        format!("https://{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::with_scheme;

    #[test]
    fn links_get_a_scheme_only_when_bare() {
        assert_eq!(
            with_scheme("www.smartsuite.com".into()),
            "https://www.smartsuite.com"
        );
        assert_eq!(with_scheme("http://x.org".into()), "http://x.org");
        assert_eq!(with_scheme("mailto:a@b.c".into()), "mailto:a@b.c");
        assert_eq!(with_scheme("/about".into()), "/about");
        assert_eq!(with_scheme("not a url".into()), "not a url");
    }
}
