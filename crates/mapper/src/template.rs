//! Templates: literal text with `{{path | transform | …}}` placeholders.
//!
//! The path is JMESPath (a plain slug such as `title`, a dotted path such as `status.value`,
//! or any expression). Inside a placeholder `|` separates the path from the transforms, so
//! JMESPath's own pipe operator cannot be used there (use an `expression` field for that);
//! `||` ("or") can. A placeholder ends at the first `}}`.

use serde_json::Value;

use crate::path::Path;
use crate::transform::{Transform, TransformError, parse_call, split_top_level};

/// Why a template does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplateError {
    /// Structure: unclosed `{{`, stray `}}`, empty placeholder, bad transform syntax.
    Malformed(String),
    /// A placeholder's path is not valid JMESPath.
    Expression { path: String, reason: String },
    /// A transform is unknown or has bad arguments.
    Transform(TransformError),
}

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Literal(String),
    Placeholder(Placeholder),
}

#[derive(Debug, Clone)]
pub(crate) struct Placeholder {
    pub(crate) path: Path,
    pub(crate) transforms: Vec<Transform>,
    /// The SmartSuite field when the path is one of its slugs (set by validation).
    pub(crate) field: Option<Box<crate::schema::smartsuite::Field>>,
}

/// A compiled template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) parts: Vec<Part>,
}

impl Template {
    /// Compiles a template, collecting every problem.
    pub(crate) fn compile(text: &str) -> Result<Template, Vec<TemplateError>> {
        let mut parts = Vec::new();
        let mut errors = Vec::new();
        let mut rest = text;
        if text.trim().is_empty() {
            return Err(vec![TemplateError::Malformed(
                "the template is empty".to_string(),
            )]);
        }
        loop {
            let open = rest.find("{{");
            let close = rest.find("}}");
            match (open, close) {
                (None, None) => {
                    if !rest.is_empty() {
                        parts.push(Part::Literal(rest.to_string()));
                    }
                    break;
                }
                (_, Some(c)) if open.is_none_or(|o| c < o) => {
                    errors.push(TemplateError::Malformed(format!(
                        "'}}}}' without an opening '{{{{' at byte {}",
                        text.len() - rest.len() + c
                    )));
                    parts.push(Part::Literal(rest[..c].to_string()));
                    rest = &rest[c + 2..];
                }
                (Some(o), _) => {
                    if o > 0 {
                        parts.push(Part::Literal(rest[..o].to_string()));
                    }
                    let after = &rest[o + 2..];
                    let Some(end) = after.find("}}") else {
                        errors.push(TemplateError::Malformed(format!(
                            "'{{{{' at byte {} is never closed",
                            text.len() - rest.len() + o
                        )));
                        break;
                    };
                    match compile_placeholder(&after[..end]) {
                        Ok(p) => parts.push(Part::Placeholder(p)),
                        Err(mut e) => errors.append(&mut e),
                    }
                    rest = &after[end + 2..];
                }
                (None, Some(_)) => break, // unreachable: handled by the guard above
            }
        }
        if errors.is_empty() {
            Ok(Template { parts })
        } else {
            Err(errors)
        }
    }

    /// The placeholders, in order, for validation to annotate.
    pub(crate) fn placeholders_mut(&mut self) -> impl Iterator<Item = &mut Placeholder> {
        self.parts.iter_mut().filter_map(|p| match p {
            Part::Placeholder(p) => Some(p),
            Part::Literal(_) => None,
        })
    }
}

fn compile_placeholder(inner: &str) -> Result<Placeholder, Vec<TemplateError>> {
    let segments = split_top_level(inner, '|', true)
        .map_err(|e| vec![TemplateError::Malformed(format!("{{{{{inner}}}}}: {e}"))])?;
    let mut errors = Vec::new();
    let mut segments = segments.into_iter();
    let path_text = segments.next().unwrap_or("").trim();
    let path = if path_text.is_empty() {
        errors.push(TemplateError::Malformed(format!(
            "'{{{{{inner}}}}}' has no path"
        )));
        None
    } else {
        match Path::compile(path_text) {
            Ok(p) => Some(p),
            Err(reason) => {
                errors.push(TemplateError::Expression {
                    path: path_text.to_string(),
                    reason,
                });
                None
            }
        }
    };
    let mut transforms = Vec::new();
    for segment in segments {
        match parse_call(segment) {
            Ok((name, _)) if name.is_empty() => {
                errors.push(TemplateError::Malformed(format!(
                    "'{{{{{inner}}}}}' has an empty transform"
                )));
            }
            Ok((name, args)) => match Transform::new(&name, &args) {
                Ok(t) => transforms.push(t),
                Err(e) => errors.push(TemplateError::Transform(e)),
            },
            Err(e) => errors.push(TemplateError::Malformed(format!("{{{{{inner}}}}}: {e}"))),
        }
    }
    match path {
        Some(path) if errors.is_empty() => Ok(Placeholder {
            path,
            transforms,
            field: None,
        }),
        _ => Err(errors),
    }
}

/// Renders one placeholder value as text (after transforms); `None` renders as empty.
pub(crate) fn push_text(out: &mut String, value: Option<&Value>) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.push_str(s),
        Some(other) => {
            if let Some(text) = crate::value::to_text(other) {
                out.push_str(&text);
            }
        }
    }
}
