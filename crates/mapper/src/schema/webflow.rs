//! Webflow collection schema (`GET /collections/{collection_id}`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::null_as_default;

/// A Webflow CMS collection with its field list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    /// Collection id.
    #[serde(default)]
    pub id: String,
    /// Display name ("Blog Posts").
    #[serde(default)]
    pub display_name: String,
    /// Name of one item ("Blog Post").
    #[serde(default)]
    pub singular_name: String,
    /// Collection slug in site URLs.
    #[serde(default)]
    pub slug: String,
    /// Field definitions; `fieldData` keys are their slugs.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<Field>,
}

impl Collection {
    /// The field with this slug.
    pub fn field(&self, slug: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.slug == slug)
    }
}

/// One field of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Field id.
    #[serde(default)]
    pub id: String,
    /// The `fieldData` key.
    #[serde(default)]
    pub slug: String,
    /// Display name (never a `fieldData` key).
    #[serde(default)]
    pub display_name: String,
    /// Field type.
    #[serde(rename = "type")]
    pub field_type: WebflowFieldType,
    /// Whether an item must carry a value.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_required: bool,
    /// Whether the API may write it (false for e.g. created-by fields).
    #[serde(default = "yes", deserialize_with = "true_when_null")]
    pub is_editable: bool,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_text: Option<String>,
    /// Type-specific validations (`null` in the API becomes the default).
    #[serde(default, deserialize_with = "null_as_default")]
    pub validations: Validations,
}

impl Field {
    /// A field of this slug and type with no validations (name and slug are implicit).
    pub fn new(slug: &str, field_type: WebflowFieldType) -> Field {
        Field {
            id: String::new(),
            slug: slug.to_string(),
            display_name: slug.to_string(),
            field_type,
            is_required: false,
            is_editable: true,
            help_text: None,
            validations: Validations::default(),
        }
    }

    /// Whether a Number field only accepts integers (`validations.format == "integer"`).
    pub fn is_integer(&self) -> bool {
        self.validations.format.as_deref() == Some("integer")
    }
}

fn yes() -> bool {
    true
}

fn true_when_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}

/// Field validations the mapper reads; the rest is kept in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validations {
    /// Option fields: the allowed options (write the `id`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub options: Vec<OptionChoice>,
    /// Number fields: `integer` or `decimal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Reference fields: the referenced collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_id: Option<String>,
    /// Number fields: whether negative values are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_negative: Option<bool>,
    /// Number fields: whether zero is allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_zero: Option<bool>,
    /// Number fields: smallest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<f64>,
    /// Number fields: largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<f64>,
    /// Every other validation, untouched.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One option of an Option field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionChoice {
    /// Option id (the value to write).
    #[serde(default)]
    pub id: String,
    /// Option name (what SmartSuite labels are matched against).
    #[serde(default)]
    pub name: String,
}

macro_rules! webflow_types {
    ($($variant:ident),* $(,)?) => {
        /// A Webflow field `type`. Unknown types are kept, never rejected.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum WebflowFieldType {
            $(#[doc = concat!("`", stringify!($variant), "`")] $variant,)*
            /// A type this crate does not know (yet).
            Unknown(String),
        }

        impl WebflowFieldType {
            /// Every known type.
            pub const KNOWN: &'static [WebflowFieldType] = &[$(WebflowFieldType::$variant),*];

            /// The API name (`PlainText`, …).
            pub fn as_str(&self) -> &str {
                match self {
                    $(WebflowFieldType::$variant => stringify!($variant),)*
                    WebflowFieldType::Unknown(name) => name,
                }
            }

            /// Parses an API name; anything unrecognised becomes [`WebflowFieldType::Unknown`].
            pub fn parse(name: &str) -> WebflowFieldType {
                match name {
                    $(stringify!($variant) => WebflowFieldType::$variant,)*
                    other => WebflowFieldType::Unknown(other.to_string()),
                }
            }
        }
    };
}

webflow_types! {
    PlainText, RichText, Image, MultiImage, VideoLink, Link, Email, Phone, Number, DateTime,
    Switch, Color, Option, File, Reference, MultiReference, ExtFileRef, User,
}

impl fmt::Display for WebflowFieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for WebflowFieldType {
    fn from(name: &str) -> Self {
        WebflowFieldType::parse(name)
    }
}

impl Serialize for WebflowFieldType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WebflowFieldType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(WebflowFieldType::parse(&name))
    }
}
