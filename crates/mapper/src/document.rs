//! The mapping document, as stored per connection in JSON, YAML or TOML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A mapping document. Keys are camelCase (`fieldMap`, `slugTemplate`, …). Parsing is lenient
/// (unknown keys are ignored, `type` is free text); [`crate::validate`] reports every problem.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingDocument {
    /// Webflow field slug → how to fill it.
    #[serde(default)]
    pub field_map: BTreeMap<String, FieldSpec>,
    /// Template of the item slug, e.g. `{{title}}-{{sku}}`; slugified after rendering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug_template: Option<String>,
    /// Whether slugs spell the letters of other scripts (Cyrillic, Greek, CJK, …) in Latin
    /// letters ([`crate::Slug::from_text_transliterated`]) rather than dropping them. Absent
    /// means off, as in every mapping stored before the option existed, so their items keep
    /// their slugs; whoever stores a new mapping decides what an absent key becomes (the sync
    /// engine stores a connection's first mapping with it on).
    #[serde(
        default,
        deserialize_with = "optional_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub transliterate_slugs: Option<bool>,
    /// How the record's status decides `isDraft` / `isArchived`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_behavior: Option<StatusBehavior>,
    /// What a SmartSuite delete does in Webflow: `archive` (default), `unpublish`, `delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_behavior: Option<String>,
    /// Webflow fields that must have a value, or the record fails.
    #[serde(default)]
    pub required_fields: Vec<String>,
    /// How a record without an item of its own finds the item that already holds it (absent:
    /// by slug).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_rule: Option<MatchRule>,
}

/// `transliterateSlugs`: `true`, `false` or `null` (as if absent); anything else is refused,
/// naming the key.
fn optional_flag<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(flag)),
        other => Err(serde::de::Error::custom(format_args!(
            "transliterateSlugs is true or false, not {other}"
        ))),
    }
}

/// `match`: how a record that has no Webflow item yet finds one that already holds it (a
/// collection filled before the sync started), so that item is adopted instead of duplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "lowercase")]
pub enum MatchRule {
    /// The item whose slug is the record's slug.
    #[default]
    Slug,
    /// The item whose Webflow field `webflowField` holds the value `source` (JMESPath) reads
    /// from the record, for example a field that keeps the SmartSuite record id.
    Field {
        /// The Webflow field's slug.
        #[serde(rename = "webflowField")]
        webflow_field: String,
        /// JMESPath into the record.
        source: String,
    },
    /// No matching: every new record is created (a taken slug gets a suffix).
    None,
}

/// One `fieldMap` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// `direct`, `expression`, `template`, `constant` or `reference`.
    #[serde(rename = "type")]
    pub kind: String,
    /// JMESPath of the value (`direct`, `reference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// JMESPath expression (`expression`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Template (`template`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Literal value (`constant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// A transform name (`round`), a call (`round(2)`) or a chain (`trim | kebab`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    /// Arguments of a single bare-named transform (`"transform": "round", "args": [2]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Value>,
    /// `reference`: the connection whose id map turns SmartSuite record ids into Webflow item
    /// ids (absent: this connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// Value used when the source is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// `statusBehavior`: values of `source` (a JMESPath, typically the status field) that make the
/// item a draft or archived. Matched case-insensitively against the stored value and, for a
/// select or status field, its label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusBehavior {
    /// JMESPath of the status value.
    pub source: String,
    /// Values that make the item a draft.
    #[serde(default)]
    pub draft: Vec<String>,
    /// Values that archive the item.
    #[serde(default)]
    pub archived: Vec<String>,
}

/// What a SmartSuite delete does to the Webflow item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeleteBehavior {
    /// Set `isArchived` (default).
    #[default]
    Archive,
    /// Take it off the live site, keep it staged.
    Unpublish,
    /// Delete the item.
    Delete,
}

impl DeleteBehavior {
    /// Parses `archive`, `unpublish` or `delete` (case-insensitive).
    pub fn parse(text: &str) -> Option<DeleteBehavior> {
        match text.trim().to_ascii_lowercase().as_str() {
            "archive" => Some(DeleteBehavior::Archive),
            "unpublish" => Some(DeleteBehavior::Unpublish),
            "delete" => Some(DeleteBehavior::Delete),
            _ => None,
        }
    }

    /// The document spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteBehavior::Archive => "archive",
            DeleteBehavior::Unpublish => "unpublish",
            DeleteBehavior::Delete => "delete",
        }
    }
}

/// The syntax of a mapping document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    /// JSON
    Json,
    /// YAML (parsed with `serde_norway`)
    Yaml,
    /// TOML
    Toml,
}

impl DocumentFormat {
    /// From a file extension (`json`, `yaml`, `yml`, `toml`; case-insensitive).
    pub fn from_extension(extension: &str) -> Option<DocumentFormat> {
        match extension
            .trim_start_matches('.')
            .to_ascii_lowercase()
            .as_str()
        {
            "json" => Some(DocumentFormat::Json),
            "yaml" | "yml" => Some(DocumentFormat::Yaml),
            "toml" => Some(DocumentFormat::Toml),
            _ => None,
        }
    }
}

/// A mapping document that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Invalid JSON or wrong shape.
    #[error("mapping document (JSON): {0}")]
    Json(#[from] serde_json::Error),
    /// Invalid YAML or wrong shape.
    #[error("mapping document (YAML): {0}")]
    Yaml(#[from] serde_norway::Error),
    /// Invalid TOML or wrong shape.
    #[error("mapping document (TOML): {0}")]
    Toml(#[from] toml::de::Error),
}

impl MappingDocument {
    /// Parses a document in the given syntax.
    pub fn parse(text: &str, format: DocumentFormat) -> Result<MappingDocument, DocumentError> {
        match format {
            DocumentFormat::Json => Self::from_json(text),
            DocumentFormat::Yaml => Self::from_yaml(text),
            DocumentFormat::Toml => Self::from_toml(text),
        }
    }

    /// Parses JSON.
    pub fn from_json(text: &str) -> Result<MappingDocument, DocumentError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Parses YAML.
    pub fn from_yaml(text: &str) -> Result<MappingDocument, DocumentError> {
        Ok(serde_norway::from_str(text)?)
    }

    /// Parses TOML.
    pub fn from_toml(text: &str) -> Result<MappingDocument, DocumentError> {
        Ok(toml::from_str(text)?)
    }

    /// The document as a JSON value (how `mappings.field_map` etc. are stored).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
