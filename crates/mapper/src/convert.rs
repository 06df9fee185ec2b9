//! Value conversion: SmartSuite value shapes (reference §3.3) to Webflow `fieldData` values
//! (Webflow reference §4).
//!
//! Two steps. [`normalize`] reads a value by its SmartSuite field type (when the mapping reads
//! a field directly): ids become labels, number strings numbers, dates ISO-8601, rich text its
//! HTML, arrays of emails their first value, and so on. Then transforms run, and [`coerce`]
//! shapes the result for the Webflow field type, resolving files and linked records through
//! the caller's resolvers. Anything that cannot be converted is a [`WarningKind`], and the
//! field is left out.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use crate::resolve::Resolvers;
use crate::schema::smartsuite::{Field as SsField, FieldType as S};
use crate::schema::webflow::{Field as WfField, WebflowFieldType as W};
use crate::value::{
    date_text, excerpt, file_alt, full_name, html_to_text, iso_datetime, number_value,
    one_line_address, parse_number, shape, text_to_html, to_text, unwrap_rendered,
};
use crate::warning::WarningKind;

/// Reads a raw SmartSuite value (present, not null) by its field type. `None`: nothing to map.
pub(crate) fn normalize<'a>(
    src: &SsField,
    raw: &'a Value,
    target: &W,
    w: &mut Vec<WarningKind>,
) -> Option<Cow<'a, Value>> {
    let passthrough = match &src.field_type {
        S::Tags
        | S::User
        | S::File
        | S::Time
        | S::RecordId
        | S::Button
        | S::Formula
        | S::Unknown(_) => true,
        S::RecordTitle | S::Text | S::TextArea => !(raw.is_string() && *target == W::RichText),
        _ => false,
    };
    if passthrough {
        return Some(Cow::Borrowed(raw));
    }
    normalize_owned(src, raw, target, w).map(Cow::Owned)
}

fn normalize_owned(
    src: &SsField,
    raw: &Value,
    target: &W,
    w: &mut Vec<WarningKind>,
) -> Option<Value> {
    match &src.field_type {
        S::RecordTitle | S::Text | S::TextArea => match raw {
            Value::String(s) if *target == W::RichText => Some(Value::String(text_to_html(s))),
            other => Some(other.clone()),
        },
        S::RichTextArea => {
            let html = match raw {
                Value::Object(map) => map
                    .get("html")
                    .and_then(Value::as_str)
                    .or_else(|| map.get("preview").and_then(Value::as_str))?,
                Value::String(s) => s,
                other => return Some(other.clone()),
            };
            let inner = unwrap_rendered(html);
            if *target == W::RichText {
                Some(Value::String(inner.to_string()))
            } else {
                Some(Value::String(html_to_text(inner)))
            }
        }
        S::Number
        | S::Currency
        | S::Percent
        | S::Duration
        | S::Rollup
        | S::Count
        | S::NumberSlider
        | S::PercentComplete
        | S::Rating
        | S::AutoNumber
        | S::CommentsCount => number_of(raw, w),
        S::Vote => number_of(raw.get("total_votes").unwrap_or(raw), w),
        S::TimeTracking => number_of(raw.get("total_duration").unwrap_or(raw), w),
        S::SubItems => number_of(raw.get("count").unwrap_or(raw), w),
        S::Date | S::DateRange | S::DueDate | S::FirstCreated | S::LastUpdated => {
            let text = date_text(raw)?;
            match iso_datetime(text) {
                Some(iso) => Some(Value::String(iso)),
                None => {
                    w.push(WarningKind::InvalidDate {
                        value: text.to_string(),
                    });
                    None
                }
            }
        }
        S::SingleSelect | S::Status => {
            let id = match raw {
                Value::Object(map) => {
                    if let Some(label) = map.get("label").and_then(Value::as_str) {
                        return Some(Value::String(label.to_string()));
                    }
                    map.get("value")?
                }
                other => other,
            };
            choice_label(src, id, w).map(Value::String)
        }
        S::MultipleSelect => {
            let labels: Vec<Value> = as_list(raw)
                .iter()
                .filter_map(|id| match id {
                    Value::Object(map) if map.contains_key("label") => map.get("label").cloned(),
                    other => choice_label(src, other, w).map(Value::String),
                })
                .collect();
            Some(Value::Array(labels))
        }
        S::YesNo | S::Checkbox => match raw {
            Value::Bool(b) => Some(Value::Bool(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => {
                Some(Value::Bool(false))
            }
            other => Some(other.clone()),
        },
        S::Email | S::Link | S::ColorPicker | S::IpAddress | S::Phone => {
            let list = as_list(raw);
            let first = list.iter().find(|v| !v.is_null())?;
            let text = match first {
                Value::Object(map) => ["sys_title", "phone_number", "value", "address", "url"]
                    .iter()
                    .find_map(|k| {
                        map.get(*k)
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                    })
                    .map(str::to_string),
                other => to_text(other),
            };
            text.filter(|t| !t.is_empty()).map(Value::String)
        }
        S::Address => match raw {
            Value::Object(map) => Some(Value::String(one_line_address(map))).filter(|v| v != ""),
            other => Some(other.clone()),
        },
        S::FullName => match raw {
            Value::Object(map) => Some(Value::String(full_name(map))).filter(|v| v != ""),
            other => Some(other.clone()),
        },
        S::SocialNetwork => match raw {
            Value::Object(map) => {
                let parts: Vec<String> = map
                    .iter()
                    .filter_map(|(k, v)| {
                        let name = v.as_str().filter(|s| !s.is_empty())?;
                        Some(format!("{}: {name}", k.trim_end_matches("_username")))
                    })
                    .collect();
                (!parts.is_empty()).then(|| Value::String(parts.join(", ")))
            }
            other => Some(other.clone()),
        },
        S::Signature => raw
            .get("text")
            .and_then(Value::as_str)
            .map(|s| Value::String(s.to_string())),
        S::Checklist => {
            let items = raw.get("items").and_then(Value::as_array)?;
            let texts: Vec<String> = items
                .iter()
                .filter_map(|item| {
                    let content = item.get("content")?;
                    let html = content
                        .get("html")
                        .and_then(Value::as_str)
                        .map(unwrap_rendered);
                    match (target, html) {
                        (W::RichText, Some(html)) => Some(html.to_string()),
                        (_, Some(html)) => Some(html_to_text(html)),
                        _ => to_text(content),
                    }
                })
                .collect();
            if *target == W::RichText {
                let lis: String = texts.iter().map(|t| format!("<li>{t}</li>")).collect();
                Some(Value::String(format!("<ul>{lis}</ul>")))
            } else {
                Some(Value::String(texts.join("\n")))
            }
        }
        S::Lookup => {
            let mut flat = Vec::new();
            flatten(raw, &mut flat, 0);
            match flat.len() {
                0 => None,
                1 if !matches!(target, W::PlainText | W::RichText) => flat.pop(),
                _ => Some(Value::Array(flat)),
            }
        }
        S::LinkedRecord => Some(Value::Array(
            as_list(raw)
                .iter()
                .filter_map(|v| match v {
                    Value::Object(map) => map.get("id").cloned(),
                    other => Some(other.clone()),
                })
                .collect(),
        )),
        S::Tags
        | S::User
        | S::File
        | S::Time
        | S::RecordId
        | S::Button
        | S::Formula
        | S::Unknown(_) => Some(raw.clone()),
    }
}

fn number_of(raw: &Value, w: &mut Vec<WarningKind>) -> Option<Value> {
    if let Some(n) = parse_number(raw).and_then(number_value) {
        return Some(n);
    }
    match raw {
        Value::String(s) if s.trim().is_empty() => None,
        other => {
            w.push(WarningKind::InvalidNumber {
                value: excerpt(other),
            });
            None
        }
    }
}

fn choice_label(src: &SsField, id: &Value, w: &mut Vec<WarningKind>) -> Option<String> {
    let owned;
    let id: &str = match id {
        Value::String(s) => s,
        Value::Null => return None,
        other => {
            owned = to_text(other)?;
            &owned
        }
    };
    match src.choice(id) {
        Some(choice) => Some(choice.label.clone()),
        None => {
            w.push(WarningKind::UnknownChoice { id: id.to_string() });
            None
        }
    }
}

fn as_list(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn flatten(value: &Value, out: &mut Vec<Value>, depth: usize) {
    match value {
        Value::Array(items) if depth < 64 => items.iter().for_each(|v| flatten(v, out, depth + 1)),
        Value::Null => {}
        other => out.push(other.clone()),
    }
}

/// How ids headed for Reference / MultiReference fields are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ids<'a> {
    /// SmartSuite record ids, resolved through the linked-record resolver.
    Resolve(Option<&'a str>),
    /// Already Webflow item ids (constants).
    Literal,
}

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

fn id_list(value: &Value) -> Vec<Cow<'_, str>> {
    as_list(value)
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(Cow::Borrowed(s.trim())),
            Value::Object(map) => map
                .get("id")
                .and_then(Value::as_str)
                .map(|s| Cow::Borrowed(s.trim())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn resolve_id(
    id: &str,
    ids: Ids<'_>,
    ctx: &dyn Resolvers,
    w: &mut Vec<WarningKind>,
) -> Option<String> {
    match ids {
        Ids::Literal => Some(id.to_string()),
        Ids::Resolve(connection) => {
            let found = ctx.webflow_item_id(connection, id);
            if found.is_none() {
                w.push(WarningKind::UnresolvedRecord { id: id.to_string() });
            }
            found
        }
    }
}

/// `{url, alt}` for a SmartSuite file object, a `{url, alt}` object or a URL string.
fn file_value(
    value: &Value,
    target: &WfField,
    ctx: &dyn Resolvers,
    w: &mut Vec<WarningKind>,
) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key("handle") => {
            let handle = map.get("handle").and_then(Value::as_str).unwrap_or("");
            let Some(url) = ctx.public_url(handle) else {
                w.push(WarningKind::UnresolvedFile {
                    handle: handle.to_string(),
                });
                return None;
            };
            Some(url_alt(url, file_alt(map)))
        }
        Value::Object(map)
            if map.get("url").is_some_and(Value::is_string) || map.contains_key("fileId") =>
        {
            let mut out = Map::new();
            for key in ["fileId", "url", "alt"] {
                if let Some(v) = map.get(key).filter(|v| !v.is_null()) {
                    out.insert(key.to_string(), v.clone());
                }
            }
            Some(Value::Object(out))
        }
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
            Some(url_alt(s.clone(), None))
        }
        other => {
            w.push(WarningKind::Unconvertible {
                target: target.field_type.to_string(),
                found: shape(other).to_string(),
                value: excerpt(other),
            });
            None
        }
    }
}

fn url_alt(url: String, alt: Option<String>) -> Value {
    match alt {
        Some(alt) => json!({"url": url, "alt": alt}),
        None => json!({ "url": url }),
    }
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
