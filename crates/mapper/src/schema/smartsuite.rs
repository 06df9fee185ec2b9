//! SmartSuite table structure (`GET /applications/{tableId}/`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{lenient_string, null_as_default};

/// A SmartSuite table ("application"): its id, name and field list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Table (application) id.
    #[serde(default)]
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Field definitions; the record keys are their slugs.
    #[serde(default, deserialize_with = "null_as_default")]
    pub structure: Vec<Field>,
    /// Slug of the title field (usually `title`).
    #[serde(default)]
    pub primary_field: Option<String>,
}

impl Table {
    /// The field with this slug.
    pub fn field(&self, slug: &str) -> Option<&Field> {
        self.structure.iter().find(|f| f.slug == slug)
    }
}

/// One field of a table's `structure`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Stable id used as the record key (`title`, `s1a23f61ca`, …).
    pub slug: String,
    /// Display label; may be renamed at any time, so never map by it.
    #[serde(default)]
    pub label: String,
    /// The field type (`textfield`, `statusfield`, …).
    pub field_type: FieldType,
    /// Type-specific parameters.
    #[serde(default, deserialize_with = "null_as_default")]
    pub params: FieldParams,
}

impl Field {
    /// The choice whose id (`value`) is `id`.
    pub fn choice(&self, id: &str) -> Option<&Choice> {
        self.params.choices.iter().find(|c| c.value == id)
    }
}

/// The subset of `params` the mapper uses; everything else is kept in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldParams {
    /// Choices of single select, multiple select and status fields.
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<Choice>,
    /// Whether SmartSuite requires a value.
    #[serde(default, deserialize_with = "null_as_default")]
    pub required: bool,
    /// Linked record: the target table id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_application: Option<String>,
    /// Linked record: `single` or `multiple`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries_allowed: Option<String>,
    /// Currency code of a currency field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Formula text of a formula field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// Lookup/rollup/count: the linked record field they read through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_field: Option<String>,
    /// Lookup/rollup: the field read on the linked records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_selection: Option<String>,
    /// Rollup function (`sum`, `count`, `min`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Every other parameter, untouched.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One choice of a select or status field: `value` is the id stored in records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Human label.
    #[serde(default, deserialize_with = "lenient_string")]
    pub label: String,
    /// Opaque id stored in records (a UUID, a short code or a key such as `backlog`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub value: String,
    /// Colour shown in SmartSuite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_color: Option<String>,
}

macro_rules! field_types {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A SmartSuite `field_type`. Unknown types are kept, never rejected.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum FieldType {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
            /// A type this crate does not know (yet).
            Unknown(String),
        }

        impl FieldType {
            /// Every known type, in catalogue order.
            pub const KNOWN: &'static [FieldType] = &[$(FieldType::$variant),*];

            /// The API name (`textfield`, …).
            pub fn as_str(&self) -> &str {
                match self {
                    $(FieldType::$variant => $name,)*
                    FieldType::Unknown(name) => name,
                }
            }

            /// Parses an API name; anything unrecognised becomes [`FieldType::Unknown`].
            pub fn parse(name: &str) -> FieldType {
                match name {
                    $($name => FieldType::$variant,)*
                    other => FieldType::Unknown(other.to_string()),
                }
            }
        }
    };
}

field_types! {
    RecordTitle => "recordtitlefield",
    Text => "textfield",
    TextArea => "textareafield",
    RichTextArea => "richtextareafield",
    Number => "numberfield",
    NumberSlider => "numbersliderfield",
    Currency => "currencyfield",
    Percent => "percentfield",
    PercentComplete => "percentcompletefield",
    Rating => "ratingfield",
    Vote => "votefield",
    Date => "datefield",
    DateRange => "daterangefield",
    DueDate => "duedatefield",
    Duration => "durationfield",
    Time => "timefield",
    TimeTracking => "timetrackingfield",
    SingleSelect => "singleselectfield",
    MultipleSelect => "multipleselectfield",
    Status => "statusfield",
    Tags => "tagsfield",
    YesNo => "yesnofield",
    Checkbox => "checkboxfield",
    Checklist => "checklistfield",
    LinkedRecord => "linkedrecordfield",
    SubItems => "subitemsfield",
    User => "userfield",
    File => "filefield",
    Signature => "signaturefield",
    Email => "emailfield",
    Phone => "phonefield",
    Link => "linkfield",
    Address => "addressfield",
    FullName => "fullnamefield",
    IpAddress => "ipaddressfield",
    SocialNetwork => "socialnetworkfield",
    ColorPicker => "colorpickerfield",
    Formula => "formulafield",
    Lookup => "lookupfield",
    Rollup => "rollupfield",
    Count => "countfield",
    AutoNumber => "autonumberfield",
    RecordId => "recordidfield",
    FirstCreated => "firstcreatedfield",
    LastUpdated => "lastupdatedfield",
    CommentsCount => "commentscountfield",
    Button => "buttonfield",
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for FieldType {
    fn from(name: &str) -> Self {
        FieldType::parse(name)
    }
}

impl Serialize for FieldType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FieldType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(FieldType::parse(&name))
    }
}
