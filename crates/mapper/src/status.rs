//! `statusBehavior`: the draft / archived flags of the Webflow item, read from one SmartSuite
//! value matched against the document's lists.

use serde::Serialize;
use serde_json::Value;

use crate::mapping::CompiledMapping;
use crate::path::{Path, RecordView};
use crate::schema::smartsuite::Field as SsField;
use crate::value::to_text;
use crate::warning::{Warning, WarningKind};

/// `isDraft` / `isArchived` for the Webflow item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemStatus {
    /// Keep the item staged.
    pub is_draft: bool,
    /// Archive the item.
    pub is_archived: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledStatus {
    pub(crate) path: Path,
    pub(crate) smartsuite: Option<SsField>,
    pub(crate) draft: Vec<String>,
    pub(crate) archived: Vec<String>,
}

impl CompiledMapping {
    pub(crate) fn eval_status(
        &self,
        status: &CompiledStatus,
        view: &RecordView<'_>,
        warnings: &mut Vec<Warning>,
    ) -> ItemStatus {
        let raw = match status.path.eval(view) {
            Ok(raw) => raw,
            Err(reason) => {
                warnings.push(Warning {
                    field: "statusBehavior".to_string(),
                    kind: WarningKind::Expression { reason },
                });
                return ItemStatus::default();
            }
        };
        let Some(raw) = raw else {
            return ItemStatus::default();
        };
        let mut status_flags = ItemStatus::default();
        let mut check = |text: &str| {
            status_flags.is_draft |= listed(&status.draft, text);
            status_flags.is_archived |= listed(&status.archived, text);
        };
        let mut add = |v: &Value| {
            let v = match v {
                Value::Object(map) => map.get("value").unwrap_or(v),
                other => other,
            };
            let owned;
            let text: &str = match v {
                Value::String(s) => s,
                other => match to_text(other) {
                    Some(t) => {
                        owned = t;
                        &owned
                    }
                    None => return,
                },
            };
            if let Some(choice) = status.smartsuite.as_ref().and_then(|f| f.choice(text)) {
                check(&choice.label);
            }
            check(text);
        };
        match raw.as_ref() {
            Value::Array(items) => items.iter().for_each(&mut add),
            other => add(other),
        }
        status_flags
    }
}

/// Whether `text` is in `list` (already trimmed and lowercased), ignoring case.
fn listed(list: &[String], text: &str) -> bool {
    let text = text.trim();
    if list.iter().any(|x| x.eq_ignore_ascii_case(text)) {
        return true;
    }
    !text.is_ascii() && {
        let lower = text.to_lowercase();
        list.contains(&lower)
    }
}
