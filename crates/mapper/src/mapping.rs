//! The compiled mapping and mapping a record with it: [`CompiledMapping::map_record`] gives a
//! [`MappedItem`] or a [`MapError`].

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::convert::{Ids, coerce, normalize};
use crate::document::DeleteBehavior;
use crate::matching::CompiledMatch;
use crate::path::{Needs, Path, RecordView};
use crate::render::render;
use crate::resolve::{Lookups, Recorder, Resolvers};
use crate::schema::smartsuite::{Field as SsField, FieldType};
use crate::schema::webflow::Field as WfField;
use crate::slug::Slug;
use crate::status::{CompiledStatus, ItemStatus};
use crate::template::Template;
use crate::transform::{Transform, apply_all};
use crate::value::to_text;
use crate::warning::{Warning, WarningKind};

/// A record that cannot be written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MapError {
    /// Required fields have no value; the event fails. The warnings often say why.
    #[error("missing required fields: {}", fields.join(", "))]
    MissingRequired {
        /// The empty required fields.
        fields: Vec<String>,
        /// Warnings collected while mapping.
        warnings: Vec<Warning>,
    },
}

/// A mapped record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappedItem {
    /// Webflow `fieldData`, including `slug`. A mapped field whose source is empty is `null`
    /// (clearing it in Webflow); a field that failed is absent and has a warning.
    pub field_data: Map<String, Value>,
    /// The item slug (also in `field_data`).
    pub slug: Slug,
    /// Draft / archived flags from `statusBehavior`.
    pub status: ItemStatus,
    /// Fields that could not be mapped (partial success).
    pub warnings: Vec<Warning>,
}

impl MappedItem {
    /// [`crate::content_hash`] of `field_data` together with the status flags: equal hashes mean
    /// the Webflow item would not change.
    pub fn content_hash(&self) -> String {
        let mut whole = Map::new();
        whole.insert(
            "fieldData".to_string(),
            Value::Object(self.field_data.clone()),
        );
        whole.insert("isDraft".to_string(), Value::Bool(self.status.is_draft));
        whole.insert(
            "isArchived".to_string(),
            Value::Bool(self.status.is_archived),
        );
        crate::hash::value_hash(&Value::Object(whole))
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// `direct` and `expression`
    Path(Path),
    Template(Template),
    Constant(Value),
    Reference {
        path: Path,
        connection: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledField {
    pub(crate) target: WfField,
    pub(crate) source: Source,
    /// The SmartSuite field when the path is exactly one of its slugs.
    pub(crate) smartsuite: Option<SsField>,
    pub(crate) transforms: Vec<Transform>,
    pub(crate) default: Option<Value>,
}

/// A validated mapping with every JMESPath expression, template and transform compiled.
/// Build it once per mapping version and share it (`Send + Sync`); [`CompiledMapping::map_record`]
/// does no parsing.
#[derive(Debug, Clone)]
pub struct CompiledMapping {
    pub(crate) fields: Vec<CompiledField>,
    pub(crate) slug_template: Option<Template>,
    /// `transliterateSlugs` (absent: off).
    pub(crate) transliterate_slugs: bool,
    pub(crate) status: Option<CompiledStatus>,
    pub(crate) delete_behavior: DeleteBehavior,
    pub(crate) required: Vec<String>,
    pub(crate) matching: CompiledMatch,
    /// Record keys the JMESPath expressions can see.
    pub(crate) needs: Needs,
}

enum Outcome {
    Value(Value),
    Empty,
    Failed,
}

impl CompiledMapping {
    /// What a deleted record does in Webflow.
    pub fn delete_behavior(&self) -> DeleteBehavior {
        self.delete_behavior
    }

    /// Whether slugs spell other scripts in Latin letters (`transliterateSlugs`; absent: off).
    pub fn transliterates_slugs(&self) -> bool {
        self.transliterate_slugs
    }

    /// Fields that must have a value: `requiredFields`, `name`, `slug` and every Webflow
    /// `isRequired` field.
    pub fn required_fields(&self) -> &[String] {
        &self.required
    }

    /// The Webflow fields this mapping writes (besides `slug`).
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.target.slug.as_str())
    }

    /// The Webflow fields this mapping writes that hold files (Image, MultiImage, File):
    /// Webflow fetches their URLs on every write that carries them.
    pub fn file_targets(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|f| {
                matches!(
                    f.target.field_type,
                    crate::schema::webflow::WebflowFieldType::Image
                        | crate::schema::webflow::WebflowFieldType::MultiImage
                        | crate::schema::webflow::WebflowFieldType::File
                )
            })
            .map(|f| f.target.slug.as_str())
    }

    /// Maps a SmartSuite record (the object keyed by field slugs, as the REST API and
    /// `ListEvents` return it). The record id for the slug fallback is read from `id`.
    pub fn map_record(&self, record: &Value, ctx: &dyn Resolvers) -> Result<MappedItem, MapError> {
        self.map_record_with_id(record, None, ctx)
    }

    /// Like [`CompiledMapping::map_record`], with the record id given (for payloads whose
    /// `data` has no `id`, such as a signed push's).
    pub fn map_record_with_id(
        &self,
        record: &Value,
        record_id: Option<&str>,
        ctx: &dyn Resolvers,
    ) -> Result<MappedItem, MapError> {
        let view = RecordView::new(record, &self.needs);
        let record_id = record_id.or_else(|| record.get("id").and_then(Value::as_str));
        // `fields` is sorted by target (the document's field map is a BTreeMap), so collecting
        // a Vec into the map is a bulk build rather than one search per insert.
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(self.fields.len() + 1);
        let mut warnings = Vec::new();
        let mut kinds = Vec::new();
        for field in &self.fields {
            let outcome = self.eval_field(field, &view, ctx, &mut kinds);
            warnings.extend(kinds.drain(..).map(|kind| Warning {
                field: field.target.slug.clone(),
                kind,
            }));
            match outcome {
                Outcome::Value(v) => entries.push((field.target.slug.clone(), v)),
                Outcome::Empty => entries.push((field.target.slug.clone(), Value::Null)),
                Outcome::Failed => {}
            }
        }
        let mut field_data: Map<String, Value> = entries.into_iter().collect();

        let slug_text = match &self.slug_template {
            Some(template) => {
                let text = render(template, &view, &mut kinds);
                warnings.extend(kinds.drain(..).map(|kind| Warning {
                    field: "slug".to_string(),
                    kind,
                }));
                text
            }
            None => ["slug", "name"]
                .iter()
                .find_map(|k| {
                    field_data
                        .get(*k)
                        .and_then(to_text)
                        .filter(|s| !s.is_empty())
                })
                .unwrap_or_default(),
        };
        let slug = if self.transliterate_slugs {
            Slug::from_text_transliterated(&slug_text)
        } else {
            Slug::from_text(&slug_text)
        };
        let slug = match slug {
            Some(slug) => slug,
            None => {
                // With the option off, say so when it would have given a slug.
                let kind = if !self.transliterate_slugs
                    && Slug::from_text_transliterated(&slug_text).is_some()
                {
                    WarningKind::SlugNotTransliterated {
                        text: crate::value::excerpt(&Value::String(slug_text.clone())),
                    }
                } else {
                    WarningKind::SlugFallback
                };
                warnings.push(Warning {
                    field: "slug".to_string(),
                    kind,
                });
                Slug::generate("", record_id)
            }
        };
        field_data.insert("slug".to_string(), Value::String(slug.as_str().to_string()));

        let status = match &self.status {
            Some(s) => self.eval_status(s, &view, &mut warnings),
            None => ItemStatus::default(),
        };

        let missing: Vec<String> = self
            .required
            .iter()
            .filter(|f| field_data.get(f.as_str()).is_none_or(is_empty))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(MapError::MissingRequired {
                fields: missing,
                warnings,
            });
        }
        Ok(MappedItem {
            field_data,
            slug,
            status,
            warnings,
        })
    }

    /// The file handles and linked records `record` refers to, so the caller can resolve them
    /// (with I/O) before calling [`CompiledMapping::map_record`].
    pub fn lookups(&self, record: &Value) -> Lookups {
        let recorder = Recorder::default();
        let _ = self.map_record(record, &recorder);
        recorder.lookups.into_inner()
    }

    fn eval_field(
        &self,
        field: &CompiledField,
        view: &RecordView<'_>,
        ctx: &dyn Resolvers,
        w: &mut Vec<WarningKind>,
    ) -> Outcome {
        let target_type = &field.target.field_type;
        let raw = match &field.source {
            Source::Constant(v) => Some(Cow::Borrowed(v)),
            Source::Template(template) => {
                Some(Cow::Owned(Value::String(render(template, view, w))))
            }
            Source::Path(path) | Source::Reference { path, .. } => match path.eval(view) {
                Ok(raw) => raw,
                Err(reason) => {
                    w.push(WarningKind::Expression { reason });
                    return Outcome::Failed;
                }
            },
        };
        let ids = match &field.source {
            Source::Constant(_) => Ids::Literal,
            Source::Reference { connection, .. } => Ids::Resolve(connection.as_deref()),
            _ => Ids::Resolve(None),
        };
        let value: Option<Cow<'_, Value>> = match (&field.smartsuite, raw) {
            (Some(ss), None) if matches!(ss.field_type, FieldType::YesNo | FieldType::Checkbox) => {
                Some(Cow::Owned(Value::Bool(false)))
            }
            (_, None) => None,
            (Some(ss), Some(raw)) => {
                let before = w.len();
                let normalized = match raw {
                    Cow::Borrowed(raw) => normalize(ss, raw, target_type, w),
                    Cow::Owned(raw) => {
                        normalize(ss, &raw, target_type, w).map(|v| Cow::Owned(v.into_owned()))
                    }
                };
                if normalized.is_none() && w.len() > before {
                    return Outcome::Failed;
                }
                normalized
            }
            (None, raw) => raw,
        };
        let value = match value {
            Some(v) if !field.transforms.is_empty() => {
                match apply_all(&field.transforms, v.into_owned()) {
                    Ok(v) => Some(Cow::Owned(v)),
                    Err(e) => {
                        w.push(WarningKind::Transform {
                            reason: e.to_string(),
                        });
                        return Outcome::Failed;
                    }
                }
            }
            other => other,
        };
        let before = w.len();
        let converted = value.and_then(|v| coerce(v, &field.target, ids, ctx, w));
        match converted {
            Some(v) => Outcome::Value(v),
            None if w.len() > before => Outcome::Failed,
            None => match &field.default {
                Some(default) => {
                    match coerce(Cow::Borrowed(default), &field.target, Ids::Literal, ctx, w) {
                        Some(v) => Outcome::Value(v),
                        None if w.len() > before => Outcome::Failed,
                        None => Outcome::Empty,
                    }
                }
                None => Outcome::Empty,
            },
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}
