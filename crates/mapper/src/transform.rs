//! Value transforms: `uppercase`, `lowercase`, `title`, `camel`, `pascal`, `snake`, `kebab`,
//! `trim`, `truncate(n)`, `round(d)`, `floor`, `ceil`, `formatDate(fmt)`.

use std::fmt;

use convert_case::{Boundary, Case, Casing};
use serde_json::Value;
use time::format_description::OwnedFormatItem;

use crate::value::{date_text, number_value, parse_datetime, parse_number, to_text};

/// Default of `truncate` without an argument.
const DEFAULT_TRUNCATE: usize = 100;
/// Default of `formatDate` without an argument.
const DEFAULT_DATE_FORMAT: &str = "[year]-[month]-[day]";

/// A compiled transform. Names are matched case-insensitively.
#[derive(Clone)]
pub enum Transform {
    /// `uppercase`
    Uppercase,
    /// `lowercase`
    Lowercase,
    /// `title`: first letter of each word upper, the rest lower; punctuation kept.
    Title,
    /// `camel` (convert_case)
    Camel,
    /// `pascal` (convert_case)
    Pascal,
    /// `snake` (convert_case)
    Snake,
    /// `kebab` (convert_case)
    Kebab,
    /// `trim`
    Trim,
    /// `truncate(n)`: at most `n` characters (default 100).
    Truncate(usize),
    /// `round(d)`: to `d` decimals (default 0, may be negative).
    Round(i32),
    /// `floor`
    Floor,
    /// `ceil`
    Ceil,
    /// `formatDate(fmt)`: a date-fns/Unicode pattern such as `dd.MM.yyyy` or `EEE, MMM d`, or a
    /// `time` format description such as `[day].[month].[year]`.
    FormatDate {
        /// The description as written.
        source: String,
        /// The parsed description.
        format: Box<OwnedFormatItem>,
    },
}

impl fmt::Debug for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transform::Truncate(n) => write!(f, "truncate({n})"),
            Transform::Round(d) => write!(f, "round({d})"),
            Transform::FormatDate { source, .. } => write!(f, "formatDate({source:?})"),
            other => f.write_str(other.name()),
        }
    }
}

/// Why a transform could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// No transform has this name.
    #[error("unknown transform '{0}'")]
    Unknown(String),
    /// The arguments do not fit the transform.
    #[error("{transform}: {reason}")]
    InvalidArgs {
        /// The transform.
        transform: String,
        /// What is wrong.
        reason: String,
    },
}

/// A transform that could not be applied to a value (the field becomes a warning).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{transform}: {problem}")]
pub struct ApplyError {
    /// The transform's name.
    pub transform: &'static str,
    /// Why the value did not fit it.
    pub problem: ApplyProblem,
}

/// Why a value did not fit a transform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyProblem {
    /// `formatDate` of something that is not a date (an excerpt of the value).
    #[error("not a date: {0}")]
    NotADate(String),
    /// A numeric transform of something that is not a number (an excerpt of the value).
    #[error("needs a number, got {0}")]
    NotANumber(String),
    /// A text transform of a value that has no text form (its shape).
    #[error("cannot be applied to {0}")]
    NoText(&'static str),
    /// A numeric transform whose result is not a finite number.
    #[error("produced a value that is not a number")]
    NotFinite,
    /// The date could not be written in the format (the `time` crate's reason).
    #[error("cannot format the date: {0}")]
    Format(String),
}

impl Transform {
    /// Every transform name.
    pub const NAMES: &'static [&'static str] = &[
        "uppercase",
        "lowercase",
        "title",
        "camel",
        "pascal",
        "snake",
        "kebab",
        "trim",
        "truncate",
        "round",
        "floor",
        "ceil",
        "formatDate",
    ];

    /// Compiles a transform from its name and arguments.
    pub fn new(name: &str, args: &[Value]) -> Result<Transform, TransformError> {
        let canonical = Self::NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| TransformError::Unknown(name.trim().to_string()))?;
        let invalid = |reason: String| TransformError::InvalidArgs {
            transform: (*canonical).to_string(),
            reason,
        };
        let max_args = usize::from(matches!(*canonical, "truncate" | "round" | "formatDate"));
        if args.len() > max_args {
            return Err(invalid(format!(
                "takes at most {max_args} argument(s), got {}",
                args.len()
            )));
        }
        let arg = args.first();
        Ok(match *canonical {
            "uppercase" => Transform::Uppercase,
            "lowercase" => Transform::Lowercase,
            "title" => Transform::Title,
            "camel" => Transform::Camel,
            "pascal" => Transform::Pascal,
            "snake" => Transform::Snake,
            "kebab" => Transform::Kebab,
            "trim" => Transform::Trim,
            "floor" => Transform::Floor,
            "ceil" => Transform::Ceil,
            "truncate" => match arg {
                None => Transform::Truncate(DEFAULT_TRUNCATE),
                Some(v) => match integer_arg(v) {
                    Some(n) if n >= 0 => {
                        Transform::Truncate(usize::try_from(n).unwrap_or(usize::MAX))
                    }
                    _ => {
                        return Err(invalid(format!(
                            "length must be a whole number >= 0, got {v}"
                        )));
                    }
                },
            },
            "round" => match arg {
                None => Transform::Round(0),
                Some(v) => match integer_arg(v) {
                    Some(d) if (-15..=15).contains(&d) => {
                        Transform::Round(i32::try_from(d).unwrap_or(0))
                    }
                    _ => {
                        return Err(invalid(format!(
                            "decimals must be a whole number from -15 to 15, got {v}"
                        )));
                    }
                },
            },
            _ => {
                let source = match arg {
                    None => DEFAULT_DATE_FORMAT.to_string(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => {
                        return Err(invalid(format!("the format must be a string, got {v}")));
                    }
                };
                // A pattern without `[` is a date-fns/Unicode pattern (`yyyy-MM-dd`): translated
                // to a `time` description, or refused when it has letters that are not fields.
                let description = if source.contains('[') {
                    source.clone()
                } else {
                    crate::date_pattern::to_description(&source)
                        .map_err(|e| invalid(format!("date pattern {source:?}: {e}")))?
                };
                if !nested_descriptions_well_formed(&description) {
                    return Err(invalid(format!(
                        "invalid format description {source:?}: an unclosed '[', or a '[' inside \
                         a component not after whitespace (a nested description)"
                    )));
                }
                let format = time::format_description::parse_owned::<2>(&description)
                    .map_err(|e| invalid(format!("invalid format description {source:?}: {e}")))?;
                Transform::FormatDate {
                    source,
                    format: Box::new(format),
                }
            }
        })
    }

    /// The transform's name.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Uppercase => "uppercase",
            Transform::Lowercase => "lowercase",
            Transform::Title => "title",
            Transform::Camel => "camel",
            Transform::Pascal => "pascal",
            Transform::Snake => "snake",
            Transform::Kebab => "kebab",
            Transform::Trim => "trim",
            Transform::Truncate(_) => "truncate",
            Transform::Round(_) => "round",
            Transform::Floor => "floor",
            Transform::Ceil => "ceil",
            Transform::FormatDate { .. } => "formatDate",
        }
    }

    /// Applies the transform. Text transforms work on strings (numbers and booleans as text,
    /// arrays element by element); numeric ones on numbers and numeric strings; `formatDate` on
    /// date strings and SmartSuite date objects. `null` stays `null`.
    pub fn apply(&self, value: Value) -> Result<Value, ApplyError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let applied = match self {
            Transform::Round(_) | Transform::Floor | Transform::Ceil => self.numeric(&value),
            Transform::FormatDate { format, .. } => date_text(&value)
                .and_then(parse_datetime)
                .ok_or_else(|| ApplyProblem::NotADate(crate::value::excerpt(&value)))
                .and_then(|dt| {
                    dt.format(format.as_ref())
                        .map(Value::String)
                        .map_err(|e| ApplyProblem::Format(e.to_string()))
                }),
            _ => self.textual(value),
        };
        applied.map_err(|problem| ApplyError {
            transform: self.name(),
            problem,
        })
    }

    fn textual(&self, value: Value) -> Result<Value, ApplyProblem> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|v| self.textual(v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Null => Ok(Value::Null),
            Value::String(s) => Ok(Value::String(self.text(&s))),
            other => match to_text(&other) {
                Some(text) => Ok(Value::String(self.text(&text))),
                None => Err(ApplyProblem::NoText(crate::value::shape(&other))),
            },
        }
    }

    /// Whether this is a text transform (works on strings).
    pub(crate) fn is_textual(&self) -> bool {
        !matches!(
            self,
            Transform::Round(_) | Transform::Floor | Transform::Ceil | Transform::FormatDate { .. }
        )
    }

    pub(crate) fn text(&self, s: &str) -> String {
        match self {
            Transform::Uppercase => s.to_uppercase(),
            Transform::Lowercase => s.to_lowercase(),
            Transform::Title => title_case(s),
            Transform::Camel => convert(s, Case::Camel),
            Transform::Pascal => convert(s, Case::Pascal),
            Transform::Snake => convert(s, Case::Snake),
            Transform::Kebab => convert(s, Case::Kebab),
            Transform::Trim => s.trim().to_string(),
            Transform::Truncate(n) => s.chars().take(*n).collect(),
            _ => s.to_string(),
        }
    }

    fn numeric(&self, value: &Value) -> Result<Value, ApplyProblem> {
        if let Value::Array(items) = value {
            return items
                .iter()
                .map(|v| self.numeric(v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array);
        }
        let n = parse_number(value)
            .ok_or_else(|| ApplyProblem::NotANumber(crate::value::excerpt(value)))?;
        let result = match self {
            Transform::Floor => n.floor(),
            Transform::Ceil => n.ceil(),
            Transform::Round(d) => {
                // Divide (or multiply) by an exact power of ten last, so the result is the
                // double nearest the decimal (19.95, not 19.950000000000003).
                let factor = 10f64.powi(d.abs());
                if *d >= 0 {
                    (n * factor).round() / factor
                } else {
                    (n / factor).round() * factor
                }
            }
            _ => n,
        };
        number_value(result).ok_or(ApplyProblem::NotFinite)
    }
}

/// convert_case with its default word boundaries; like the JavaScript `change-case` package,
/// punctuation separates words and is dropped, and runs of separators give one.
fn convert(s: &str, case: Case) -> String {
    let words: String = s
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    words
        .set_boundaries(&Boundary::defaults())
        .remove_empty()
        .to_case(case)
}

/// Whether a format description passes two checks `time` should make itself: every `[` is
/// closed, and inside a component a `[` opens a nested description (`[optional [x]]`), which
/// must follow whitespace. `time` 0.3.55 refuses nearly every description that fails them, but
/// many (`[a[b[c]`, `[day[ye[*]ar]]`, `[a [] [\`) first trip a debug assertion in its parser: a
/// panic in debug builds. As in `time`, a backslash escapes the next character and a `]`
/// outside any component is a literal. Checked against every description of up to 8 tokens
/// over `[`, `]`, space, tab, `a`, `optional`, `first` and `\`: it refuses all 120,747 that
/// panic, and only 4,114 others that `time` accepts, all meaningless (`[first[[]`, `[first [ []`).
/// Found by the `map_record` fuzz target.
fn nested_descriptions_well_formed(description: &str) -> bool {
    let mut depth = 0usize;
    let mut after_whitespace = false;
    let mut chars = description.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if depth % 2 == 1 && !after_whitespace => return false,
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        after_whitespace = c.is_ascii_whitespace();
    }
    depth == 0
}

fn integer_arg(value: &Value) -> Option<i64> {
    let n = parse_number(value)?;
    #[allow(clippy::cast_possible_truncation)]
    (n.fract() == 0.0 && n.abs() < 1e15).then_some(n as i64)
}

/// Capitalises the first letter of every whitespace-separated word and lowercases the rest.
fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        if c.is_whitespace() {
            at_word_start = true;
            out.push(c);
        } else if at_word_start {
            out.extend(c.to_uppercase());
            at_word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Applies a chain of transforms in order.
pub(crate) fn apply_all(transforms: &[Transform], mut value: Value) -> Result<Value, ApplyError> {
    for t in transforms {
        value = t.apply(value)?;
    }
    Ok(value)
}

/// Splits `text` on `sep` outside quotes (`'`, `"`, `` ` ``) and brackets (`()[]{}`).
/// With `pipe` set, a `||` (JMESPath "or") is not a separator.
pub(crate) fn split_top_level(text: &str, sep: char, pipe: bool) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth: i32 = 0;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unbalanced '{c}'"));
                }
            }
            _ if c == sep && depth == 0 => {
                if pipe && chars.peek().map(|(_, n)| *n) == Some(sep) {
                    chars.next();
                    continue;
                }
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if let Some(q) = quote {
        return Err(format!("unclosed quote {q}"));
    }
    if depth != 0 {
        return Err("unbalanced brackets".to_string());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// Parses one transform call: `name`, or `name(arg, …)` with numbers, quoted strings or bare
/// words as arguments.
pub(crate) fn parse_call(spec: &str) -> Result<(String, Vec<Value>), String> {
    let spec = spec.trim();
    let Some(open) = spec.find('(') else {
        return Ok((spec.to_string(), Vec::new()));
    };
    let name = spec[..open].trim().to_string();
    let inner = spec[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| format!("'{spec}' is missing its closing ')'"))?;
    if inner.trim().is_empty() {
        return Ok((name, Vec::new()));
    }
    let args = split_top_level(inner, ',', false)?
        .into_iter()
        .map(parse_arg)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name, args))
}

fn parse_arg(arg: &str) -> Result<Value, String> {
    let arg = arg.trim();
    for q in ['\'', '"'] {
        if let Some(rest) = arg.strip_prefix(q) {
            let body = rest
                .strip_suffix(q)
                .ok_or_else(|| format!("unclosed quote in {arg}"))?;
            let mut out = String::with_capacity(body.len());
            let mut chars = body.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else {
                    out.push(c);
                }
            }
            return Ok(Value::String(out));
        }
    }
    if let Ok(n) = arg.parse::<i64>() {
        return Ok(Value::from(n));
    }
    if let Some(n) = arg.parse::<f64>().ok().filter(|n| n.is_finite()) {
        return Ok(number_value(n).unwrap_or(Value::Null));
    }
    Ok(Value::String(arg.to_string()))
}

/// Parses a transform chain such as `trim | truncate(20) | kebab`.
pub(crate) fn parse_chain(spec: &str) -> Result<Vec<(String, Vec<Value>)>, String> {
    split_top_level(spec, '|', false)?
        .into_iter()
        .map(|part| {
            let (name, args) = parse_call(part)?;
            if name.is_empty() {
                return Err("empty transform name".to_string());
            }
            Ok((name, args))
        })
        .collect()
}
