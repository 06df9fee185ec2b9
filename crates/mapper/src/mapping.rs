//! Validation into a [`CompiledMapping`], and mapping records with it.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::compat::{compatible_types, is_compatible};
use crate::convert::{Ids, coerce, normalize};
use crate::document::{DeleteBehavior, MappingDocument};
use crate::path::{Needs, Path, RecordView};
use crate::resolve::{Lookups, Recorder, Resolvers};
use crate::schema::smartsuite::{Field as SsField, FieldType, Table};
use crate::schema::webflow::{Collection, Field as WfField, WebflowFieldType};
use crate::slug::Slug;
use crate::template::{Part, Template, TemplateError, push_text};
use crate::transform::{Transform, TransformError, apply_all, parse_chain};
use crate::value::to_text;
use crate::warning::{Warning, WarningKind};

/// Keys every SmartSuite record carries besides its structure's fields (reference §3.3).
pub const SYSTEM_KEYS: &[&str] = &[
    "id",
    "application_id",
    "application_slug",
    "first_created",
    "last_updated",
    "deleted_date",
    "deleted_by",
    "followed_by",
    "comments_count",
    "autonumber",
    "ranking",
];

/// One thing wrong with a mapping. [`validate`] reports all of them at once. `at` says where:
/// `fieldMap.<target>`, `slugTemplate`, `statusBehavior.source`, `deleteBehavior` or
/// `requiredFields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum MappingProblem {
    /// `type` is not direct, expression, template, constant or reference.
    #[error(
        "{at}: unknown mapping type '{kind}' (expected direct, expression, template, constant or reference)"
    )]
    UnknownType {
        /// Where.
        at: String,
        /// The type given.
        kind: String,
    },
    /// A mapping lacks the attribute its type needs (`source`, `expression`, …).
    #[error("{at}: a '{kind}' mapping needs '{attribute}'")]
    MissingAttribute {
        /// Where.
        at: String,
        /// The mapping type.
        kind: String,
        /// The missing attribute.
        attribute: String,
    },
    /// No transform of this name.
    #[error("{at}: unknown transform '{name}'")]
    UnknownTransform {
        /// Where.
        at: String,
        /// The name given.
        name: String,
    },
    /// A transform's arguments are wrong.
    #[error("{at}: {transform}: {reason}")]
    InvalidTransformArgs {
        /// Where.
        at: String,
        /// The transform.
        transform: String,
        /// What is wrong.
        reason: String,
    },
    /// A JMESPath that does not compile.
    #[error("{at}: JMESPath '{expression}' does not compile: {reason}")]
    InvalidExpression {
        /// Where.
        at: String,
        /// The expression.
        expression: String,
        /// The parser's message.
        reason: String,
    },
    /// A template with bad structure.
    #[error("{at}: malformed template: {reason}")]
    MalformedTemplate {
        /// Where.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// The Webflow collection has no field with this slug.
    #[error("{at}: the Webflow collection has no field '{field}'")]
    UnknownTargetField {
        /// Where.
        at: String,
        /// The field slug.
        field: String,
    },
    /// The Webflow field cannot be written through the API.
    #[error("{at}: the Webflow field '{field}' is not editable")]
    TargetNotEditable {
        /// Where.
        at: String,
        /// The field slug.
        field: String,
    },
    /// A plain path names a field the SmartSuite table does not have.
    #[error("{at}: the SmartSuite table has no field '{slug}'")]
    UnknownSourceField {
        /// Where.
        at: String,
        /// The slug read.
        slug: String,
    },
    /// The SmartSuite field type cannot fill the Webflow field type.
    #[error(
        "{at}: a SmartSuite {source_type} cannot fill a Webflow {target_type} field (it can fill: {allowed})"
    )]
    TypeIncompatible {
        /// Where.
        at: String,
        /// SmartSuite type (or `reference mapping`).
        source_type: String,
        /// Webflow type.
        target_type: String,
        /// The Webflow types that would do.
        allowed: String,
    },
    /// A required Webflow field (`name`, `slug`, `isRequired`) or a `requiredFields` entry has
    /// no mapping.
    #[error("{at}: required field '{field}' is not mapped")]
    UnmappedRequiredField {
        /// Where.
        at: String,
        /// The field slug.
        field: String,
    },
    /// `deleteBehavior` is not archive, unpublish or delete.
    #[error("deleteBehavior: '{value}' is not archive, unpublish or delete")]
    InvalidDeleteBehavior {
        /// The value given.
        value: String,
    },
}

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

/// `isDraft` / `isArchived` for the Webflow item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemStatus {
    /// Keep the item staged.
    pub is_draft: bool,
    /// Archive the item.
    pub is_archived: bool,
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
enum Source {
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
struct CompiledField {
    target: WfField,
    source: Source,
    /// The SmartSuite field when the path is exactly one of its slugs.
    smartsuite: Option<SsField>,
    transforms: Vec<Transform>,
    default: Option<Value>,
}

#[derive(Debug, Clone)]
struct CompiledStatus {
    path: Path,
    smartsuite: Option<SsField>,
    draft: Vec<String>,
    archived: Vec<String>,
}

/// A validated mapping with every JMESPath expression, template and transform compiled.
/// Build it once per mapping version and share it (`Send + Sync`); [`CompiledMapping::map_record`]
/// does no parsing.
#[derive(Debug, Clone)]
pub struct CompiledMapping {
    fields: Vec<CompiledField>,
    slug_template: Option<Template>,
    status: Option<CompiledStatus>,
    delete_behavior: DeleteBehavior,
    required: Vec<String>,
    /// Record keys the JMESPath expressions can see.
    needs: Needs,
}

/// Checks `doc` against the SmartSuite table and the Webflow collection and compiles it.
/// Returns every problem at once.
pub fn validate(
    doc: &MappingDocument,
    table: &Table,
    collection: &Collection,
) -> Result<CompiledMapping, Vec<MappingProblem>> {
    let mut problems = Vec::new();
    let mut fields = Vec::new();
    for (target, spec) in &doc.field_map {
        let at = format!("fieldMap.{target}");
        let target_field = target_field(collection, target);
        match &target_field {
            None => problems.push(MappingProblem::UnknownTargetField {
                at: at.clone(),
                field: target.clone(),
            }),
            Some(f) if !f.is_editable => problems.push(MappingProblem::TargetNotEditable {
                at: at.clone(),
                field: target.clone(),
            }),
            Some(_) => {}
        }
        let kind = spec.kind.trim();
        let needs = |attribute: &str,
                     value: Option<&String>,
                     problems: &mut Vec<MappingProblem>| match value {
            Some(v) if !v.trim().is_empty() => Some(v.clone()),
            _ => {
                problems.push(MappingProblem::MissingAttribute {
                    at: at.clone(),
                    kind: kind.to_string(),
                    attribute: attribute.to_string(),
                });
                None
            }
        };
        let mut smartsuite = None;
        let source = match kind {
            "direct" | "expression" | "reference" => {
                let (attribute, text) = if kind == "expression" {
                    ("expression", spec.expression.as_ref())
                } else {
                    ("source", spec.source.as_ref())
                };
                needs(attribute, text, &mut problems).and_then(|text| {
                    let path = compile_path(&at, &text, &mut problems)?;
                    smartsuite = check_source(&at, &path, table, &mut problems);
                    Some(if kind == "reference" {
                        Source::Reference {
                            path,
                            connection: spec.connection.clone().filter(|c| !c.trim().is_empty()),
                        }
                    } else {
                        Source::Path(path)
                    })
                })
            }
            "template" => {
                needs("template", spec.template.as_ref(), &mut problems).and_then(|text| {
                    compile_template(&at, &text, table, &mut problems).map(Source::Template)
                })
            }
            "constant" => match &spec.value {
                Some(v) => Some(Source::Constant(v.clone())),
                None => {
                    problems.push(MappingProblem::MissingAttribute {
                        at: at.clone(),
                        kind: kind.to_string(),
                        attribute: "value".to_string(),
                    });
                    None
                }
            },
            other => {
                problems.push(MappingProblem::UnknownType {
                    at: at.clone(),
                    kind: other.to_string(),
                });
                None
            }
        };
        let transforms =
            compile_transforms(&at, spec.transform.as_deref(), &spec.args, &mut problems);
        if let Some(target_field) = &target_field {
            let target_type = &target_field.field_type;
            if kind == "reference"
                && !matches!(
                    target_type,
                    WebflowFieldType::Reference | WebflowFieldType::MultiReference
                )
            {
                problems.push(MappingProblem::TypeIncompatible {
                    at: at.clone(),
                    source_type: "reference mapping".to_string(),
                    target_type: target_type.to_string(),
                    allowed: "Reference, MultiReference".to_string(),
                });
            } else if let Some(ss) = &smartsuite
                && !is_compatible(&ss.field_type, target_type)
            {
                problems.push(MappingProblem::TypeIncompatible {
                    at: at.clone(),
                    source_type: ss.field_type.to_string(),
                    target_type: target_type.to_string(),
                    allowed: compatible_types(&ss.field_type)
                        .iter()
                        .map(WebflowFieldType::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        if let (Some(target), Some(source), Some(transforms)) = (target_field, source, transforms) {
            fields.push(CompiledField {
                target,
                source,
                smartsuite,
                transforms,
                default: spec.default.clone(),
            });
        }
    }

    let slug_template = doc
        .slug_template
        .as_deref()
        .and_then(|text| compile_template("slugTemplate", text, table, &mut problems));

    let status = doc.status_behavior.as_ref().and_then(|sb| {
        let at = "statusBehavior.source";
        if sb.source.trim().is_empty() {
            problems.push(MappingProblem::MissingAttribute {
                at: at.to_string(),
                kind: "statusBehavior".to_string(),
                attribute: "source".to_string(),
            });
            return None;
        }
        let path = compile_path(at, &sb.source, &mut problems)?;
        let smartsuite = check_source(at, &path, table, &mut problems);
        let lower = |v: &Vec<String>| v.iter().map(|s| s.trim().to_lowercase()).collect();
        Some(CompiledStatus {
            path,
            smartsuite,
            draft: lower(&sb.draft),
            archived: lower(&sb.archived),
        })
    });

    let delete_behavior = match doc.delete_behavior.as_deref() {
        None => DeleteBehavior::default(),
        Some(text) => DeleteBehavior::parse(text).unwrap_or_else(|| {
            problems.push(MappingProblem::InvalidDeleteBehavior {
                value: text.to_string(),
            });
            DeleteBehavior::default()
        }),
    };

    let is_mapped = |field: &str| {
        doc.field_map.contains_key(field) || (field == "slug" && doc.slug_template.is_some())
    };
    let mut required: Vec<String> = Vec::new();
    for field in &doc.required_fields {
        if target_field(collection, field).is_none() {
            problems.push(MappingProblem::UnknownTargetField {
                at: "requiredFields".to_string(),
                field: field.clone(),
            });
        } else if !is_mapped(field) {
            problems.push(MappingProblem::UnmappedRequiredField {
                at: "requiredFields".to_string(),
                field: field.clone(),
            });
        }
        if !required.contains(field) {
            required.push(field.clone());
        }
    }
    let mut webflow_required: Vec<String> = vec!["name".to_string(), "slug".to_string()];
    for field in collection.fields.iter().filter(|f| f.is_required) {
        if !webflow_required.contains(&field.slug) {
            webflow_required.push(field.slug.clone());
        }
    }
    for field in webflow_required {
        if !is_mapped(&field) && !doc.required_fields.contains(&field) {
            problems.push(MappingProblem::UnmappedRequiredField {
                at: "fieldMap".to_string(),
                field: field.clone(),
            });
        }
        if !required.contains(&field) {
            required.push(field);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut needs = Needs::default();
    let template_paths = |t: &Template| {
        t.parts
            .iter()
            .filter_map(|p| match p {
                Part::Placeholder(p) => Some(p.path.clone()),
                Part::Literal(_) => None,
            })
            .collect::<Vec<_>>()
    };
    for field in &fields {
        match &field.source {
            Source::Path(path) | Source::Reference { path, .. } => needs.add(path),
            Source::Template(t) => template_paths(t).iter().for_each(|p| needs.add(p)),
            Source::Constant(_) => {}
        }
    }
    if let Some(t) = &slug_template {
        template_paths(t).iter().for_each(|p| needs.add(p));
    }
    if let Some(s) = &status {
        needs.add(&s.path);
    }
    Ok(CompiledMapping {
        fields,
        slug_template,
        status,
        delete_behavior,
        required,
        needs,
    })
}

/// The Webflow field, with `name` and `slug` implied as PlainText when the schema omits them.
fn target_field(collection: &Collection, slug: &str) -> Option<WfField> {
    collection.field(slug).cloned().or_else(|| {
        matches!(slug, "name" | "slug").then(|| {
            let mut f = WfField::new(slug, WebflowFieldType::PlainText);
            f.is_required = true;
            f
        })
    })
}

fn compile_path(at: &str, text: &str, problems: &mut Vec<MappingProblem>) -> Option<Path> {
    match Path::compile(text) {
        Ok(path) => Some(path),
        Err(reason) => {
            problems.push(MappingProblem::InvalidExpression {
                at: at.to_string(),
                expression: text.to_string(),
                reason,
            });
            None
        }
    }
}

/// For plain paths: the first identifier must be a table field or a system key. Returns the
/// SmartSuite field when the path is exactly a field slug.
fn check_source(
    at: &str,
    path: &Path,
    table: &Table,
    problems: &mut Vec<MappingProblem>,
) -> Option<SsField> {
    let root = path.root_field()?;
    match table.field(root) {
        Some(field) => path.single_field().map(|_| field.clone()),
        None => {
            if !SYSTEM_KEYS.contains(&root) {
                problems.push(MappingProblem::UnknownSourceField {
                    at: at.to_string(),
                    slug: root.to_string(),
                });
            }
            None
        }
    }
}

fn compile_template(
    at: &str,
    text: &str,
    table: &Table,
    problems: &mut Vec<MappingProblem>,
) -> Option<Template> {
    match Template::compile(text) {
        Ok(mut template) => {
            let before = problems.len();
            for placeholder in template.placeholders_mut() {
                placeholder.field =
                    check_source(at, &placeholder.path, table, problems).map(Box::new);
            }
            (problems.len() == before).then_some(template)
        }
        Err(errors) => {
            for error in errors {
                problems.push(match error {
                    TemplateError::Malformed(reason) => MappingProblem::MalformedTemplate {
                        at: at.to_string(),
                        reason,
                    },
                    TemplateError::Expression { path, reason } => {
                        MappingProblem::InvalidExpression {
                            at: at.to_string(),
                            expression: path,
                            reason,
                        }
                    }
                    TemplateError::Transform(e) => transform_problem(at, e),
                });
            }
            None
        }
    }
}

fn transform_problem(at: &str, error: TransformError) -> MappingProblem {
    match error {
        TransformError::Unknown(name) => MappingProblem::UnknownTransform {
            at: at.to_string(),
            name,
        },
        TransformError::InvalidArgs { transform, reason } => MappingProblem::InvalidTransformArgs {
            at: at.to_string(),
            transform,
            reason,
        },
    }
}

fn compile_transforms(
    at: &str,
    spec: Option<&str>,
    args: &[Value],
    problems: &mut Vec<MappingProblem>,
) -> Option<Vec<Transform>> {
    let Some(spec) = spec.filter(|s| !s.trim().is_empty()) else {
        if !args.is_empty() {
            problems.push(MappingProblem::InvalidTransformArgs {
                at: at.to_string(),
                transform: "(none)".to_string(),
                reason: "'args' given without a 'transform'".to_string(),
            });
            return None;
        }
        return Some(Vec::new());
    };
    let calls = match parse_chain(spec) {
        Ok(calls) => calls,
        Err(reason) => {
            problems.push(MappingProblem::InvalidTransformArgs {
                at: at.to_string(),
                transform: spec.to_string(),
                reason,
            });
            return None;
        }
    };
    let single_bare = calls.len() == 1 && !spec.contains('(');
    if !args.is_empty() && !single_bare {
        problems.push(MappingProblem::InvalidTransformArgs {
            at: at.to_string(),
            transform: spec.to_string(),
            reason: "'args' only go with a single transform named without parentheses".to_string(),
        });
        return None;
    }
    let before = problems.len();
    let mut out = Vec::with_capacity(calls.len());
    for (name, call_args) in calls {
        let args = if single_bare {
            args
        } else {
            call_args.as_slice()
        };
        match Transform::new(&name, args) {
            Ok(t) => out.push(t),
            Err(e) => problems.push(transform_problem(at, e)),
        }
    }
    (problems.len() == before).then_some(out)
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

    /// Fields that must have a value: `requiredFields`, `name`, `slug` and every Webflow
    /// `isRequired` field.
    pub fn required_fields(&self) -> &[String] {
        &self.required
    }

    /// The Webflow fields this mapping writes (besides `slug`).
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.target.slug.as_str())
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
        let slug = match Slug::from_text(&slug_text) {
            Some(slug) => slug,
            None => {
                warnings.push(Warning {
                    field: "slug".to_string(),
                    kind: WarningKind::SlugFallback,
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

    fn eval_status(
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

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// Renders a template as text. A placeholder whose path is a SmartSuite field slug is read by
/// its type first (so `{{category}}` is the choice label, `{{price}}` the number).
fn render(template: &Template, view: &RecordView<'_>, w: &mut Vec<WarningKind>) -> String {
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
