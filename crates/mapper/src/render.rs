//! Template rendering: a compiled [`Template`] filled from a record as text.

use std::borrow::Cow;

use serde_json::Value;

use crate::convert::normalize;
use crate::path::RecordView;
use crate::schema::webflow::WebflowFieldType;
use crate::template::{Part, Template, push_text};
use crate::transform::{Transform, apply_all};
use crate::warning::WarningKind;

/// Renders a template as text. A placeholder whose path is a SmartSuite field slug is read by
/// its type first (so `{{category}}` is the choice label, `{{price}}` the number).
pub(crate) fn render(
    template: &Template,
    view: &RecordView<'_>,
    w: &mut Vec<WarningKind>,
) -> String {
    let mut out = String::with_capacity(64);
    for part in &template.parts {
        let placeholder = match part {
            Part::Literal(text) => {
                out.push_str(text);
                continue;
            }
            Part::Placeholder(p) => p,
        };
        let raw = match placeholder.path.eval(view) {
            Ok(raw) => raw,
            Err(reason) => {
                w.push(WarningKind::Expression { reason });
                continue;
            }
        };
        let value = match (&raw, &placeholder.field) {
            (None, _) => continue,
            (Some(raw), Some(ss)) => normalize(ss, raw, &WebflowFieldType::PlainText, w),
            (Some(raw), None) => Some(Cow::Borrowed(raw.as_ref())),
        };
        // A string through text transforms only: no copy of the input.
        if let Some(Value::String(text)) = value.as_deref()
            && let [first, rest @ ..] = placeholder.transforms.as_slice()
            && first.is_textual()
            && rest.iter().all(Transform::is_textual)
        {
            let mut text = first.text(text);
            for t in rest {
                text = t.text(&text);
            }
            out.push_str(&text);
            continue;
        }
        let value = match value {
            Some(v) if !placeholder.transforms.is_empty() => {
                match apply_all(&placeholder.transforms, v.into_owned()) {
                    Ok(v) => Some(Cow::Owned(v)),
                    Err(e) => {
                        w.push(WarningKind::Transform {
                            reason: e.to_string(),
                        });
                        None
                    }
                }
            }
            other => other,
        };
        push_text(&mut out, value.as_deref());
    }
    out
}
