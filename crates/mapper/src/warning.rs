//! Warnings: a field that could not be mapped (partial success), and why.

use std::fmt;

use serde::Serialize;

/// One field that was left out (or mapped lossily), and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// The Webflow field (or `slug` / `statusBehavior`).
    pub field: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.kind)
    }
}

/// Why a value could not be mapped faithfully.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WarningKind {
    /// A select/status id that is not among the SmartSuite field's choices.
    #[error("SmartSuite choice id '{id}' is not in the field's choices")]
    UnknownChoice {
        /// The stored id.
        id: String,
    },
    /// No Webflow option has this name (case-insensitive) or id.
    #[error("no Webflow option named '{value}'")]
    UnknownOption {
        /// The label looked up.
        value: String,
    },
    /// The file URL resolver had no public URL for this handle.
    #[error("no public URL for SmartSuite file '{handle}'")]
    UnresolvedFile {
        /// The SmartSuite file handle.
        handle: String,
    },
    /// A file over Webflow's 4 MB limit (by SmartSuite's metadata): not sent, since Webflow
    /// would drop it silently.
    #[error("file '{file}' is {bytes} bytes, over Webflow's 4 MB limit: not sent")]
    FileTooLarge {
        /// The file's name (or its handle when it has none).
        file: String,
        /// Its size.
        bytes: u64,
    },
    /// The linked record has no Webflow item (yet).
    #[error("SmartSuite record '{id}' has no Webflow item")]
    UnresolvedRecord {
        /// The SmartSuite record id.
        id: String,
    },
    /// The value has a shape the target type cannot take.
    #[error("cannot turn {found} {value} into {target}")]
    Unconvertible {
        /// The Webflow type.
        target: String,
        /// The JSON shape found (`object`, `string`, …).
        found: String,
        /// An excerpt of the value.
        value: String,
    },
    /// A number field holds text that is not a number.
    #[error("'{value}' is not a number")]
    InvalidNumber {
        /// The text.
        value: String,
    },
    /// A date that does not parse.
    #[error("'{value}' is not a date")]
    InvalidDate {
        /// The text.
        value: String,
    },
    /// A fractional number was rounded for an integer field.
    #[error("{from} rounded to {to} (the Webflow field takes integers)")]
    Rounded {
        /// The original value.
        from: f64,
        /// The value sent.
        to: i64,
    },
    /// A number outside the Webflow field's validations; left out.
    #[error("{value} is not allowed: {rule}")]
    OutOfRange {
        /// The value.
        value: f64,
        /// The validation it breaks.
        rule: String,
    },
    /// Several values where the target takes one; the first was kept.
    #[error("{count} values where one fits; the first was kept")]
    ExtraValues {
        /// How many there were.
        count: usize,
    },
    /// A transform failed on this value.
    #[error("transform {reason}")]
    Transform {
        /// The transform and what went wrong.
        reason: String,
    },
    /// A JMESPath expression failed at run time.
    #[error("expression failed: {reason}")]
    Expression {
        /// The JMESPath error.
        reason: String,
    },
    /// The slug template rendered to nothing; the slug came from the record id.
    #[error("the slug template rendered empty; the slug was made from the record id")]
    SlugFallback,
    /// The slug text has letters of another script only (Cyrillic, Greek, CJK, …) and the
    /// mapping's `transliterateSlugs` is off: the slug came from the record id.
    #[error(
        "'{text}' has no Latin letters or digits, so the slug was made from the record id \
         (\"transliterateSlugs\": true would spell it in Latin letters)"
    )]
    SlugNotTransliterated {
        /// The text the slug was to be made of.
        text: String,
    },
}
