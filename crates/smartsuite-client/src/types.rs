//! SmartSuite shapes. Unknown keys are kept in `extra` maps and unknown field types as
//! [`FieldType::Other`]: adding keys or types is not a breaking change for SmartSuite, so it is
//! not one here.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A solution (a "base").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A table (the API's "application") with its field definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The solution id.
    #[serde(default)]
    pub solution: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    /// Slug of the title field.
    #[serde(default)]
    pub primary_field: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub structure: Vec<FieldDef>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Table {
    /// The field whose slug (the record key) is `slug`.
    pub fn field(&self, slug: &str) -> Option<&FieldDef> {
        self.structure.iter().find(|f| f.slug == slug)
    }
}

/// One entry of a table's `structure`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub slug: String,
    #[serde(default)]
    pub label: Option<String>,
    pub field_type: FieldType,
    #[serde(default)]
    pub params: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FieldDef {
    /// `params.choices` of select and status fields: `value` is the id stored in records.
    pub fn choices(&self) -> Vec<Choice> {
        self.params
            .get("choices")
            .and_then(Value::as_array)
            .map(|choices| {
                choices
                    .iter()
                    .filter_map(|c| {
                        Some(Choice {
                            value: c.get("value")?.as_str()?.to_owned(),
                            label: c
                                .get("label")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `params.required`.
    pub fn is_required(&self) -> bool {
        self.params
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// One choice of a select or status field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A field's `field_type`; unknown types are kept as `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FieldType {
    RecordTitle,
    Text,
    TextArea,
    RichTextArea,
    Number,
    Currency,
    Percent,
    Date,
    DateRange,
    DueDate,
    SingleSelect,
    MultipleSelect,
    Status,
    Tags,
    YesNo,
    LinkedRecord,
    User,
    File,
    Email,
    Phone,
    Link,
    Address,
    FullName,
    Formula,
    Lookup,
    Rollup,
    AutoNumber,
    FirstCreated,
    LastUpdated,
    Other(String),
}

const FIELD_TYPES: &[(&str, FieldType)] = &[
    ("recordtitlefield", FieldType::RecordTitle),
    ("textfield", FieldType::Text),
    ("textareafield", FieldType::TextArea),
    ("richtextareafield", FieldType::RichTextArea),
    ("numberfield", FieldType::Number),
    ("currencyfield", FieldType::Currency),
    ("percentfield", FieldType::Percent),
    ("datefield", FieldType::Date),
    ("daterangefield", FieldType::DateRange),
    ("duedatefield", FieldType::DueDate),
    ("singleselectfield", FieldType::SingleSelect),
    ("multipleselectfield", FieldType::MultipleSelect),
    ("statusfield", FieldType::Status),
    ("tagsfield", FieldType::Tags),
    ("yesnofield", FieldType::YesNo),
    ("linkedrecordfield", FieldType::LinkedRecord),
    ("userfield", FieldType::User),
    ("filefield", FieldType::File),
    ("emailfield", FieldType::Email),
    ("phonefield", FieldType::Phone),
    ("linkfield", FieldType::Link),
    ("addressfield", FieldType::Address),
    ("fullnamefield", FieldType::FullName),
    ("formulafield", FieldType::Formula),
    ("lookupfield", FieldType::Lookup),
    ("rollupfield", FieldType::Rollup),
    ("autonumberfield", FieldType::AutoNumber),
    ("firstcreatedfield", FieldType::FirstCreated),
    ("lastupdatedfield", FieldType::LastUpdated),
];

impl FieldType {
    /// SmartSuite's name, e.g. `numberfield`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => FIELD_TYPES
                .iter()
                .find(|(_, t)| t == known)
                .map_or("", |(name, _)| name),
        }
    }
}

impl From<String> for FieldType {
    fn from(s: String) -> Self {
        FIELD_TYPES
            .iter()
            .find(|(name, _)| *name == s)
            .map_or(Self::Other(s), |(_, t)| t.clone())
    }
}

impl From<FieldType> for String {
    fn from(t: FieldType) -> Self {
        t.as_str().to_owned()
    }
}

/// A record: values keyed by field slug, exactly as SmartSuite sent them (numbers as strings,
/// empty values omitted, select values as choice ids).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Record(pub Map<String, Value>);

impl Record {
    pub fn id(&self) -> Option<&str> {
        self.0.get("id").and_then(Value::as_str)
    }

    pub fn get(&self, slug: &str) -> Option<&Value> {
        self.0.get(slug)
    }
}

/// One page of `records/list/`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordPage {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub limit: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<Record>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `records/list/`: filter, sort and `hydrated`, all optional (see the
/// SmartSuite docs for the filter shape: `{"operator": "and", "fields": [...]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListRecords {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<Sort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hydrated: Option<bool>,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sort {
    pub field: String,
    /// `asc` or `desc`.
    pub direction: String,
}

impl Sort {
    pub fn asc(field: &str) -> Self {
        Self {
            field: field.to_owned(),
            direction: "asc".to_owned(),
        }
    }

    pub fn desc(field: &str) -> Self {
        Self {
            field: field.to_owned(),
            direction: "desc".to_owned(),
        }
    }
}

/// A webhook of the webhooks API. Kept loose: SmartSuite's webhooks are in beta.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub kinds: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_status: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_status: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Webhook {
    /// `notification_status.enabled.url`, when notifications are on.
    pub fn notification_url(&self) -> Option<&str> {
        self.notification_status
            .as_ref()?
            .get("enabled")?
            .get("url")?
            .as_str()
    }

    /// `system_status.enabled.expires_at`.
    pub fn expires_at(&self) -> Option<&str> {
        self.system_status
            .as_ref()?
            .get("enabled")?
            .get("expires_at")?
            .as_str()
    }
}

/// What to create with `CreateWebhook`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub solution_id: String,
    /// `WebhookFilter::*` builds the three documented shapes.
    pub filter: Value,
    /// `RECORD_CREATED`, `RECORD_UPDATED`, `RECORD_DELETED`.
    pub kinds: Vec<String>,
    /// Where SmartSuite sends the notification ping.
    pub notification_url: String,
}

/// The filter shapes of `CreateWebhook`.
pub struct WebhookFilter;

impl WebhookFilter {
    /// The whole solution.
    pub fn solution() -> Value {
        serde_json::json!({"solution": {}})
    }

    /// Some tables.
    pub fn applications(table_ids: &[&str]) -> Value {
        serde_json::json!({"applications": {"application_ids": table_ids}})
    }

    /// Some fields of one table.
    pub fn fields(table_id: &str, field_slugs: &[&str]) -> Value {
        serde_json::json!({"application": {"application_id": table_id, "field_ids": field_slugs}})
    }
}

/// The three record event kinds.
pub const ALL_RECORD_EVENTS: [&str; 3] = ["RECORD_CREATED", "RECORD_UPDATED", "RECORD_DELETED"];

/// One event of `ListEvents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// `<webhook_id>.<sequence>`: the idempotency key.
    pub event_id: String,
    #[serde(default)]
    pub webhook_id: Option<String>,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub event_at: Option<String>,
    #[serde(default)]
    pub locator: Option<Value>,
    #[serde(default)]
    pub record_event_data: Option<RecordEventData>,
    #[serde(default)]
    pub ctx: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `record_event_data` of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordEventData {
    pub record_id: String,
    #[serde(default)]
    pub locator: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Map<String, Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub previous: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RecordEventData {
    /// `locator.application_id`: the table that changed.
    pub fn table_id(&self) -> Option<&str> {
        self.locator.as_ref()?.get("application_id")?.as_str()
    }
}

/// A page of `ListEvents`: keep `next_page_token` as the durable cursor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<WebhookEvent>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub next_page_token: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of `ListWebhooks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub webhooks: Vec<Webhook>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub next_page_token: String,
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
    fn reference_samples_parse_and_keep_unknowns() {
        let structure: Value =
            serde_json::from_str(include_str!("../tests/data/sample_structure.json")).unwrap();
        let table: Table =
            serde_json::from_value(structure.get("table").cloned().unwrap_or(structure)).unwrap();
        assert!(!table.structure.is_empty());
        let record: Value =
            serde_json::from_str(include_str!("../tests/data/sample_record.json")).unwrap();
        let record: Record = serde_json::from_value(record["record"].clone()).unwrap();
        assert!(record.0.len() > 3);
        let hooks: Value =
            serde_json::from_str(include_str!("../tests/data/sample_webhook.json")).unwrap();
        let page: EventPage =
            serde_json::from_value(hooks["list_events_response"].clone()).unwrap();
        assert_eq!(page.events.len(), 2);
        assert_eq!(page.next_page_token, "8991625");
        assert_eq!(
            page.events[1].record_event_data.as_ref().unwrap().previous["title"],
            "test"
        );
        let created: Webhook =
            serde_json::from_value(hooks["create_webhook_response"]["webhook"].clone()).unwrap();
        assert_eq!(created.expires_at(), Some("2023-06-27T14:26:47Z"));

        let field: FieldDef = serde_json::from_value(serde_json::json!({
            "slug": "s1", "label": "Mood", "field_type": "moodringfield", "params": {"x": 1}, "new_key": true
        }))
        .unwrap();
        assert_eq!(field.field_type, FieldType::Other("moodringfield".into()));
        assert_eq!(field.extra["new_key"], true);
        assert_eq!(
            serde_json::to_value(&field).unwrap()["field_type"],
            "moodringfield"
        );
    }
}
