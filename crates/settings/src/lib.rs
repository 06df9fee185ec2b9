#![doc = include_str!("../README.md")]

mod parse;
pub mod parts;
mod source;

pub use parse::{boolean, http_url, integer_in, socket_addr};
pub use source::{Origin, Source, VARIABLES};

use std::fmt;

/// One thing wrong with the configuration: the variable and the rule it breaks. It never holds
/// the offending value, so printing it cannot leak a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub variable: String,
    pub rule: String,
    pub origin: Option<Origin>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.rule)?;
        if let Some(origin) = &self.origin {
            write!(f, " (set in {origin})")?;
        }
        Ok(())
    }
}

/// Every problem found in one pass over the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration:\n{}", self.lines().join("\n"))]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// One line per problem, as a binary prints them before exiting with status 2.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|p| format!("configuration error: {p}"))
            .collect()
    }

    /// Whether some problem names `variable`.
    pub fn names(&self, variable: &str) -> bool {
        self.0.iter().any(|p| p.variable == variable)
    }
}

/// Reads typed values out of a [`Source`], collecting every problem instead of stopping at the
/// first. Each crate's settings part has a `read(&mut Reader) -> Option<Self>` that returns
/// `None` when one of its values was bad; [`Reader::finish`] then reports all problems at once.
pub struct Reader<'a> {
    source: &'a Source,
    problems: Vec<Problem>,
}

impl<'a> Reader<'a> {
    pub fn new(source: &'a Source) -> Self {
        let problems = source.unknown_keys().map(|(key, origin)| Problem {
            variable: key,
            rule: "is not a suiteflow setting".into(),
            origin: Some(origin),
        });
        Self {
            source,
            problems: problems.collect(),
        }
    }

    /// A value that must be present.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.source.get(name) {
            Some((raw, origin)) => self.parsed(name, &raw, origin, parse),
            None => {
                self.report(name, "is required", None);
                None
            }
        }
    }

    /// A value that may be absent. `None` when it is invalid, `Some(None)` when it is absent.
    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.source.get(name) {
            Some((raw, _)) if raw.is_empty() => Some(None),
            Some((raw, origin)) => self.parsed(name, &raw, origin, parse).map(Some),
            None => Some(None),
        }
    }

    /// A value with a built-in default, used when the variable is absent.
    pub fn with_default<T>(
        &mut self,
        name: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        self.optional(name, parse).map(|v| v.unwrap_or(default))
    }

    /// Records a rule that involves more than one variable (checked by the part itself).
    pub fn report(&mut self, name: &str, rule: impl Into<String>, origin: Option<Origin>) {
        self.problems.push(Problem {
            variable: name.to_string(),
            rule: rule.into(),
            origin,
        });
    }

    /// Where a variable's value came from, for a problem found after parsing.
    pub fn origin(&self, name: &str) -> Option<Origin> {
        self.source.get(name).map(|(_, origin)| origin)
    }

    fn parsed<T>(
        &mut self,
        name: &str,
        raw: &str,
        origin: Origin,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(raw) {
            Ok(value) => Some(value),
            Err(rule) => {
                self.report(name, rule, Some(origin));
                None
            }
        }
    }

    /// Ends the pass: every problem found, or the settings value built by `build` (which uses
    /// `?` on the parts it read).
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Problems> {
        if !self.problems.is_empty() {
            return Err(Problems(self.problems));
        }
        build().ok_or_else(|| {
            Problems(vec![Problem {
                variable: "configuration".into(),
                rule: "could not be assembled".into(),
                origin: None,
            }])
        })
    }
}

/// Loads, validates and returns the settings of a binary, or prints every problem (one line
/// each, naming the variable and the rule, never the value) and exits with status 2.
pub fn load_or_exit<T>(read: impl FnOnce(&mut Reader<'_>) -> Option<T>) -> T {
    let result = Source::from_process().and_then(|source| {
        let mut reader = Reader::new(&source);
        let built = read(&mut reader);
        reader.finish(|| built)
    });
    match result {
        Ok(settings) => settings,
        Err(problems) => {
            for line in problems.lines() {
                eprintln!("{line}");
            }
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests;
