//! Webflow CMS shapes. Every read type keeps keys it does not know in `extra`, and every optional
//! key defaults, so a new key or a `null` from Webflow never fails a sync.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The rate-limit headers of one answer: `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
/// `Retry-After` (seconds), each absent when Webflow did not send it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: Option<u32>,
    pub remaining: Option<u32>,
    pub retry_after: Option<Duration>,
}

impl RateInfo {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        let whole = |name: &str| number(name).filter(|n| *n >= 0.0).map(|n| n as u32);
        Self {
            limit: whole("x-ratelimit-limit"),
            remaining: whole("x-ratelimit-remaining"),
            retry_after: number("retry-after")
                .filter(|n| n.is_finite() && *n >= 0.0)
                .map(Duration::from_secs_f64),
        }
    }
}

/// A successful answer with the rate-limit headers that came with it.
#[derive(Debug, Clone)]
pub struct Reply<T> {
    pub value: T,
    pub rate: RateInfo,
}

impl<T> Reply<T> {
    pub fn into_value(self) -> T {
        self.value
    }
}

/// `GET /sites` and `GET /sites/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub short_name: Option<String>,
    #[serde(default)]
    pub locales: Option<Locales>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Site {
    /// The primary CMS locale id (not the site-locale `id`).
    pub fn primary_cms_locale_id(&self) -> Option<&str> {
        self.locales
            .as_ref()?
            .primary
            .as_ref()?
            .cms_locale_id
            .as_deref()
    }

    /// Every CMS locale id, primary first.
    pub fn cms_locale_ids(&self) -> Vec<&str> {
        let Some(locales) = &self.locales else {
            return Vec::new();
        };
        locales
            .primary
            .iter()
            .chain(&locales.secondary)
            .filter_map(|l| l.cms_locale_id.as_deref())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Locales {
    #[serde(default)]
    pub primary: Option<Locale>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub secondary: Vec<Locale>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Locale {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub cms_locale_id: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An entry of `GET /sites/{id}/collections` (no fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionSummary {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub singular_name: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /collections/{id}`: the collection with its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub singular_name: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<Field>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Collection {
    /// The field with this slug (the key used in `fieldData`).
    pub fn field(&self, slug: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.slug == slug)
    }
}

/// A collection field. `validations` stays raw JSON; `options()` reads Option choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_required: bool,
    #[serde(default)]
    pub is_editable: Option<bool>,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub slug: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub help_text: Option<String>,
    #[serde(default)]
    pub validations: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Field {
    /// The choices of an Option field (`validations.options[]`): write the `id`, not the name.
    pub fn options(&self) -> Vec<FieldOption> {
        self.validations
            .as_ref()
            .and_then(|v| v.get("options"))
            .and_then(Value::as_array)
            .map(|options| {
                options
                    .iter()
                    .filter_map(|o| {
                        Some(FieldOption {
                            id: o.get("id")?.as_str()?.to_owned(),
                            name: o
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The id of the option named `name`, if there is one.
    pub fn option_id(&self, name: &str) -> Option<String> {
        self.options()
            .into_iter()
            .find(|o| o.name == name)
            .map(|o| o.id)
    }
}

/// One choice of an Option field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOption {
    pub id: String,
    pub name: String,
}

/// A field's `type`; types this crate does not know arrive as `Other` and are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FieldType {
    PlainText,
    RichText,
    Image,
    MultiImage,
    VideoLink,
    Link,
    Email,
    Phone,
    Number,
    DateTime,
    Switch,
    Color,
    Option,
    File,
    Reference,
    MultiReference,
    User,
    ExtFileRef,
    Other(String),
}

impl FieldType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::PlainText => "PlainText",
            Self::RichText => "RichText",
            Self::Image => "Image",
            Self::MultiImage => "MultiImage",
            Self::VideoLink => "VideoLink",
            Self::Link => "Link",
            Self::Email => "Email",
            Self::Phone => "Phone",
            Self::Number => "Number",
            Self::DateTime => "DateTime",
            Self::Switch => "Switch",
            Self::Color => "Color",
            Self::Option => "Option",
            Self::File => "File",
            Self::Reference => "Reference",
            Self::MultiReference => "MultiReference",
            Self::User => "User",
            Self::ExtFileRef => "ExtFileRef",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for FieldType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "PlainText" => Self::PlainText,
            "RichText" => Self::RichText,
            "Image" => Self::Image,
            "MultiImage" => Self::MultiImage,
            "VideoLink" | "Video" => Self::VideoLink,
            "Link" => Self::Link,
            "Email" => Self::Email,
            "Phone" => Self::Phone,
            "Number" => Self::Number,
            "DateTime" => Self::DateTime,
            "Switch" => Self::Switch,
            "Color" => Self::Color,
            "Option" => Self::Option,
            "File" => Self::File,
            "Reference" => Self::Reference,
            "MultiReference" => Self::MultiReference,
            "User" => Self::User,
            "ExtFileRef" => Self::ExtFileRef,
            _ => Self::Other(s),
        }
    }
}

impl From<FieldType> for String {
    fn from(t: FieldType) -> Self {
        t.as_str().to_owned()
    }
}

/// A CMS item as Webflow returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: String,
    #[serde(default)]
    pub cms_locale_id: Option<String>,
    /// `None` when the item was never published.
    #[serde(default)]
    pub last_published: Option<String>,
    #[serde(default)]
    pub last_updated: Option<String>,
    #[serde(default)]
    pub created_on: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_archived: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_draft: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub field_data: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Item {
    pub fn slug(&self) -> Option<&str> {
        self.field_data.get("slug").and_then(Value::as_str)
    }

    pub fn name(&self) -> Option<&str> {
        self.field_data.get("name").and_then(Value::as_str)
    }
}

/// `pagination` of a list answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub limit: u32,
    #[serde(default)]
    pub offset: u32,
    #[serde(default)]
    pub total: u32,
}

/// One page of `GET /collections/{id}/items[/live]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<Item>,
    #[serde(default)]
    pub pagination: Pagination,
}

/// Which version of the items a call reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// The staged (draft) version: `…/items`.
    #[default]
    Staged,
    /// The published version: `…/items/live`.
    Live,
}

/// What to send for one item on create or update. On update, send only the fields that
/// change (and leave an unchanged `slug` out: Webflow rejects re-sending it as a duplicate).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cms_locale_id: Option<String>,
    pub field_data: Map<String, Value>,
}

impl ItemData {
    pub fn new(field_data: Map<String, Value>) -> Self {
        Self {
            field_data,
            ..Self::default()
        }
    }

    /// `fieldData` with `name` and `slug` (both required on create).
    pub fn named(name: impl Into<String>, slug: impl Into<String>) -> Self {
        let mut field_data = Map::new();
        field_data.insert("name".into(), Value::String(name.into()));
        field_data.insert("slug".into(), Value::String(slug.into()));
        Self::new(field_data)
    }

    /// Adds one `fieldData` entry.
    pub fn field(mut self, slug: impl Into<String>, value: impl Into<Value>) -> Self {
        self.field_data.insert(slug.into(), value.into());
        self
    }

    pub fn draft(mut self, is_draft: bool) -> Self {
        self.is_draft = Some(is_draft);
        self
    }

    pub fn archived(mut self, is_archived: bool) -> Self {
        self.is_archived = Some(is_archived);
        self
    }
}

/// One entry of a bulk update: the item id and what changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemUpdate {
    pub id: String,
    #[serde(flatten)]
    pub data: ItemData,
}

/// `POST /collections/{id}/items/bulk`: the same items created in several locales.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkCreate {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cms_locale_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
    pub field_data: Vec<Map<String, Value>>,
}

/// Filters and paging of a list call. `limit` is capped at 100 by Webflow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListItems {
    pub offset: u32,
    pub limit: Option<u32>,
    /// Exact slug match: the way to find an item whose create outcome is unknown.
    pub slug: Option<String>,
    pub name: Option<String>,
    pub cms_locale_id: Option<String>,
    /// Only items created at or after this instant (`createdOn[gte]`): a create whose outcome
    /// is unknown is looked for among the items made since it was attempted, not the whole
    /// collection.
    pub created_since: Option<time::OffsetDateTime>,
    /// Only items changed (or created) at or after this instant (`lastUpdated[gte]`): what
    /// changed since an earlier full read.
    pub updated_since: Option<time::OffsetDateTime>,
    pub target: Target,
}

/// `POST /collections/{id}/items/publish`: what was published and what was not (the call can
/// partly succeed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishResult {
    #[serde(default, deserialize_with = "null_as_default")]
    pub published_item_ids: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_types_are_kept() {
        let c: Collection = serde_json::from_value(serde_json::json!({
            "id": "c1", "displayName": "Products", "newKey": 1,
            "fields": [
                {"id": "f1", "isRequired": true, "type": "PlainText", "slug": "name", "helpText": null},
                {"id": "f2", "isRequired": null, "type": "Hologram", "slug": "holo", "validations": null},
                {"type": "Option", "slug": "color", "validations": {"options": [{"id": "o1", "name": "Red"}]}}
            ]
        }))
        .unwrap();
        assert_eq!(c.extra["newKey"], 1);
        assert_eq!(c.fields[1].field_type, FieldType::Other("Hologram".into()));
        assert_eq!(
            c.field("color").unwrap().option_id("Red").as_deref(),
            Some("o1")
        );
        let back = serde_json::to_value(&c.fields[1]).unwrap();
        assert_eq!(back["type"], "Hologram");
    }

    #[test]
    fn rate_info_reads_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", "60".parse().unwrap());
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("retry-after", "12".parse().unwrap());
        let r = RateInfo::from_headers(&h);
        assert_eq!(
            r,
            RateInfo {
                limit: Some(60),
                remaining: Some(0),
                retry_after: Some(Duration::from_secs(12))
            }
        );
        assert_eq!(
            RateInfo::from_headers(&HeaderMap::new()),
            RateInfo::default()
        );
    }

    #[test]
    fn item_data_serialises_only_what_is_set() {
        let v = serde_json::to_value(ItemUpdate {
            id: "i".into(),
            data: ItemData::default().field("price", 3),
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"id": "i", "fieldData": {"price": 3}}));
    }
}
