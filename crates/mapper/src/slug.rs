//! Webflow item slugs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest slug the mapper produces.
pub const MAX_SLUG_LEN: usize = 100;

/// A Webflow item slug: kebab-case ASCII (`^[a-z0-9]+(-[a-z0-9]+)*$`), at most
/// [`MAX_SLUG_LEN`] characters. Validated on construction, so a `Slug` is always safe to send.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

/// Why a string is not a valid slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// The string is empty.
    #[error("a slug cannot be empty")]
    Empty,
    /// The string is longer than [`MAX_SLUG_LEN`].
    #[error("a slug has at most {MAX_SLUG_LEN} characters, this one has {0}")]
    TooLong(usize),
    /// The string is not lowercase kebab-case ASCII.
    #[error("a slug is lowercase letters and digits in groups joined by single dashes")]
    Invalid,
}

impl Slug {
    /// Accepts `text` only if it already is a valid slug.
    pub fn new(text: impl Into<String>) -> Result<Slug, SlugError> {
        let text = text.into();
        if text.is_empty() {
            return Err(SlugError::Empty);
        }
        if text.len() > MAX_SLUG_LEN {
            return Err(SlugError::TooLong(text.len()));
        }
        if !is_valid(&text) {
            return Err(SlugError::Invalid);
        }
        Ok(Slug(text))
    }

    /// Slugifies free text: lowercase, common Latin accents folded (`é` → `e`, `ß` → `ss`),
    /// camelCase split, every other character a separator, dashes collapsed and trimmed, cut to
    /// [`MAX_SLUG_LEN`] on a word boundary where possible. `None` when nothing is left.
    pub fn from_text(text: &str) -> Option<Slug> {
        slugify(text, Letters::Latin)
    }

    /// [`Slug::from_text`], with the letters and digits of other scripts spelled in Latin
    /// letters (`deunicode`): `Ёлка` → `iolka`, `Αθήνα` → `athena`, `北京` → `bei-jing` (each
    /// Han character a word). The Latin accents fold as in [`Slug::from_text`], symbols and
    /// emoji stay separators, and marks with no spelling of their own (the combining accents
    /// of decomposed text) are dropped without splitting the word. `None` when nothing is left.
    pub fn from_text_transliterated(text: &str) -> Option<Slug> {
        slugify(text, Letters::Transliterated)
    }

    /// [`Slug::from_text`] of `text`, else of `fallback` (the record id), else `item`.
    pub fn generate(text: &str, fallback: Option<&str>) -> Slug {
        Slug::from_text(text)
            .or_else(|| fallback.and_then(Slug::from_text))
            .unwrap_or_else(|| Slug("item".to_string()))
    }

    /// This slug with `-n` appended (for a slug already taken in the collection), shortened
    /// first so the result still has at most [`MAX_SLUG_LEN`] characters.
    pub fn with_suffix(&self, n: u32) -> Slug {
        let suffix = format!("-{n}");
        let keep = MAX_SLUG_LEN - suffix.len();
        let base = self
            .clone()
            .truncated(keep)
            .unwrap_or_else(|| Slug("item".to_string()));
        Slug(format!("{}{suffix}", base.0))
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the slug, returning its text.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Cuts an almost-valid slug (only `[a-z0-9-]`, no double dashes) to `max` characters,
    /// preferring the last dash before the limit, and trims dashes.
    fn truncated(self, max: usize) -> Option<Slug> {
        let mut text = self.0;
        if text.len() > max {
            let cut = &text[..max];
            let at = match cut.rfind('-') {
                Some(dash) if dash >= max / 2 => dash,
                _ => max,
            };
            text.truncate(at);
        }
        let trimmed = text.trim_matches('-');
        if trimmed.is_empty() {
            return None;
        }
        Some(Slug(trimmed.to_string()))
    }
}

/// Which characters beyond ASCII and the folded Latin accents make slug letters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Letters {
    /// None: every other character is a separator.
    Latin,
    /// The letters and digits of every script `deunicode` spells.
    Transliterated,
}

fn slugify(text: &str, letters: Letters) -> Option<Slug> {
    let mut out = String::with_capacity(text.len().min(MAX_SLUG_LEN + 8));
    let mut pending_dash = false;
    let mut prev_lower = false;
    for c in text.chars() {
        if out.len() > MAX_SLUG_LEN {
            break;
        }
        let folded = fold(c);
        if folded.is_empty() {
            let spelled = match letters {
                Letters::Latin => None,
                Letters::Transliterated => deunicode::deunicode_char(c),
            };
            match spelled {
                // A mark with no spelling (a combining accent): part of the word it sits on.
                Some("") => {}
                Some(spelled)
                    if c.is_alphanumeric()
                        && spelled.bytes().any(|b| b.is_ascii_alphanumeric()) =>
                {
                    // Case is the source character's: `Щ` is one capital, however many
                    // letters spell it.
                    if c.is_uppercase() && prev_lower {
                        pending_dash = true;
                    }
                    for b in spelled.bytes() {
                        if b.is_ascii_alphanumeric() {
                            if pending_dash {
                                out.push('-');
                                pending_dash = false;
                            }
                            out.push(char::from(b.to_ascii_lowercase()));
                        } else {
                            pending_dash = !out.is_empty();
                        }
                    }
                    prev_lower = c.is_lowercase() || c.is_numeric();
                }
                _ => {
                    pending_dash = !out.is_empty();
                    prev_lower = false;
                }
            }
            continue;
        }
        if c.is_uppercase() && prev_lower {
            pending_dash = true;
        }
        if pending_dash {
            out.push('-');
            pending_dash = false;
        }
        out.push_str(folded.as_str());
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    Slug(out).truncated(MAX_SLUG_LEN)
}

fn is_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
        && !text.contains("--")
}

/// Lowercase ASCII for `c`; empty for separators and characters with no ASCII form.
fn fold(c: char) -> FoldedChar {
    if c.is_ascii_alphanumeric() {
        return FoldedChar::one(c.to_ascii_lowercase());
    }
    let s =
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä'
            | 'Å' => "a",
            'æ' | 'Æ' => "ae",
            'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
            'ď' | 'đ' | 'Ď' | 'Đ' | 'ð' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ě' => {
                "e"
            }
            'ğ' | 'Ğ' => "g",
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'İ' => "i",
            'ł' | 'ľ' | 'Ł' | 'Ľ' => "l",
            'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø'
            | 'Ő' => "o",
            'œ' | 'Œ' => "oe",
            'ř' | 'Ř' => "r",
            'ś' | 'š' | 'ş' | 'Ś' | 'Š' | 'Ş' => "s",
            'ß' => "ss",
            'ť' | 'ţ' | 'Ť' | 'Ţ' => "t",
            'þ' | 'Þ' => "th",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ů' | 'Ű' => {
                "u"
            }
            'ý' | 'ÿ' | 'Ý' => "y",
            'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
            _ => "",
        };
    FoldedChar(s)
}

struct FoldedChar(&'static str);

impl FoldedChar {
    fn one(c: char) -> FoldedChar {
        const ASCII: &str = "0123456789abcdefghijklmnopqrstuvwxyz";
        let index = match c {
            '0'..='9' => c as usize - '0' as usize,
            'a'..='z' => 10 + c as usize - 'a' as usize,
            _ => return FoldedChar(""),
        };
        FoldedChar(&ASCII[index..=index])
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Slug::new(text)
    }
}

impl Serialize for Slug {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Slug::new(text).map_err(serde::de::Error::custom)
    }
}
