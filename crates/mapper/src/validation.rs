//! Checking a mapping document against the SmartSuite table and the Webflow collection:
//! [`validate`] reports every [`MappingProblem`] at once, or compiles the document into a
//! [`CompiledMapping`].

use serde::Serialize;
use serde_json::Value;

use crate::compat::{compatible_types, is_compatible};
use crate::document::{DeleteBehavior, MappingDocument};
use crate::mapping::{CompiledField, CompiledMapping, Source};
use crate::matching::CompiledMatch;
use crate::path::{Needs, Path};
use crate::schema::smartsuite::{Field as SsField, Table};
use crate::schema::webflow::{Collection, Field as WfField, WebflowFieldType};
use crate::status::CompiledStatus;
use crate::template::{Part, Template, TemplateError};
use crate::transform::{Transform, TransformError, parse_chain};

/// Keys every SmartSuite record carries besides its structure's fields.
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
/// `fieldMap.<target>`, `slugTemplate`, `statusBehavior.source`, `deleteBehavior`,
/// `requiredFields` or `match`.
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
    /// `match.webflowField` names a field whose values a record cannot be compared with.
    #[error(
        "{at}: a match field must hold text or a number (PlainText, Email, Phone, Link or Number); '{field}' is a {field_type} field"
    )]
    MatchFieldType {
        /// Where.
        at: String,
        /// The field slug.
        field: String,
        /// Its Webflow type.
        field_type: String,
    },
    /// `deleteBehavior` is not archive, unpublish or delete.
    #[error("deleteBehavior: '{value}' is not archive, unpublish or delete")]
    InvalidDeleteBehavior {
        /// The value given.
        value: String,
    },
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

    let matching = crate::matching::compile(doc, collection, &mut problems);

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
    if let CompiledMatch::Field { path, .. } = &matching {
        needs.add(path);
    }
    Ok(CompiledMapping {
        fields,
        slug_template,
        transliterate_slugs: doc.transliterate_slugs.unwrap_or(false),
        status,
        delete_behavior,
        required,
        matching,
        needs,
    })
}

/// The Webflow field, with `name` and `slug` implied as PlainText when the schema omits them.
pub(crate) fn target_field(collection: &Collection, slug: &str) -> Option<WfField> {
    collection.field(slug).cloned().or_else(|| {
        matches!(slug, "name" | "slug").then(|| {
            let mut f = WfField::new(slug, WebflowFieldType::PlainText);
            f.is_required = true;
            f
        })
    })
}

pub(crate) fn compile_path(
    at: &str,
    text: &str,
    problems: &mut Vec<MappingProblem>,
) -> Option<Path> {
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
