//! Reading a raw SmartSuite value by its field type (the first conversion step).

use std::borrow::Cow;

use serde_json::Value;

use super::as_list;
use crate::schema::smartsuite::{Field as SsField, FieldType as S};
use crate::schema::webflow::WebflowFieldType as W;
use crate::value::{
    date_text, excerpt, full_name, html_to_text, iso_datetime, number_value, one_line_address,
    parse_number, text_to_html, to_text, unwrap_rendered,
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

fn flatten(value: &Value, out: &mut Vec<Value>, depth: usize) {
    match value {
        Value::Array(items) if depth < 64 => items.iter().for_each(|v| flatten(v, out, depth + 1)),
        Value::Null => {}
        other => out.push(other.clone()),
    }
}
