//! Matching: how a record without an item of its own finds the Webflow item that already holds
//! it (the document's `match`), and the text both sides are compared by.

use serde_json::Value;

use crate::document::{MappingDocument, MatchRule};
use crate::mapping::CompiledMapping;
use crate::path::{Path, RecordView};
use crate::schema::webflow::{Collection, WebflowFieldType};
use crate::validation::{MappingProblem, compile_path, target_field};

/// The compiled `match`.
#[derive(Debug, Clone)]
pub(crate) enum CompiledMatch {
    Slug,
    Field { webflow_field: String, path: Path },
    None,
}

/// `match`: slug by default; on a field, that field must exist and hold text or a number, and
/// the source must compile.
pub(crate) fn compile(
    doc: &MappingDocument,
    collection: &Collection,
    problems: &mut Vec<MappingProblem>,
) -> CompiledMatch {
    let (webflow_field, source) = match doc.match_rule.clone().unwrap_or_default() {
        MatchRule::Slug => return CompiledMatch::Slug,
        MatchRule::None => return CompiledMatch::None,
        MatchRule::Field {
            webflow_field,
            source,
        } => (webflow_field, source),
    };
    let at = "match.webflowField";
    match target_field(collection, &webflow_field) {
        None => problems.push(MappingProblem::UnknownTargetField {
            at: at.to_string(),
            field: webflow_field.clone(),
        }),
        Some(field)
            if !matches!(
                field.field_type,
                WebflowFieldType::PlainText
                    | WebflowFieldType::Email
                    | WebflowFieldType::Phone
                    | WebflowFieldType::Link
                    | WebflowFieldType::Number
            ) =>
        {
            problems.push(MappingProblem::MatchFieldType {
                at: at.to_string(),
                field: webflow_field.clone(),
                field_type: field.field_type.to_string(),
            });
        }
        Some(_) => {}
    }
    if source.trim().is_empty() {
        problems.push(MappingProblem::MissingAttribute {
            at: "match".to_string(),
            kind: "field match".to_string(),
            attribute: "source".to_string(),
        });
        return CompiledMatch::None;
    }
    match compile_path("match.source", &source, problems) {
        Some(path) => CompiledMatch::Field {
            webflow_field,
            path,
        },
        None => CompiledMatch::None,
    }
}

/// What a record is matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOn<'m> {
    /// The item's slug equals the record's slug.
    Slug,
    /// The item's Webflow field (this slug) holds the record's match key
    /// ([`CompiledMapping::match_key`]).
    Field(&'m str),
    /// No matching: always create.
    None,
}

impl CompiledMapping {
    /// What a record without an item of its own is matched on.
    pub fn match_on(&self) -> MatchOn<'_> {
        match &self.matching {
            CompiledMatch::Slug => MatchOn::Slug,
            CompiledMatch::Field { webflow_field, .. } => MatchOn::Field(webflow_field),
            CompiledMatch::None => MatchOn::None,
        }
    }

    /// The record's match key under `match: {on: field}`: the text its `source` reads
    /// ([`match_text`]). `record_id` stands in for `id` when the record does not carry it (a
    /// signed push's `data`). `None` under the other rules, or when the source is empty.
    pub fn match_key(&self, record: &Value, record_id: Option<&str>) -> Option<String> {
        let CompiledMatch::Field { path, .. } = &self.matching else {
            return None;
        };
        let view = RecordView::new(record, &self.needs);
        match path.eval(&view).ok().flatten() {
            Some(value) => match_text(&value),
            None if path.single_field() == Some("id") => record_id.map(str::to_owned),
            None => None,
        }
    }
}

/// The text a match compares: a string (trimmed), or a number in its plain form (`12`, not
/// `12.0`). Anything else does not match.
pub fn match_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_numbers_compare_by_their_plain_text() {
        assert_eq!(match_text(&json!(" rec_1 ")), Some("rec_1".into()));
        assert_eq!(match_text(&json!(12)), Some("12".into()));
        assert_eq!(match_text(&json!(12.0)), Some("12".into()));
        assert_eq!(match_text(&json!(12.5)), Some("12.5".into()));
        assert_eq!(match_text(&json!("")), None);
        assert_eq!(match_text(&json!(null)), None);
        assert_eq!(match_text(&json!({"a": 1})), None);
    }
}
