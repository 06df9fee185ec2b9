//! The date patterns people write for `formatDate` (date-fns/Unicode letters, as in
//! `yyyy-MM-dd` or `EEE, MMM d`), translated to the `time` crate's format descriptions.

/// The date-fns/Unicode pattern letters `formatDate` knows, longest first within a letter, and
/// their `time` format description.
const PATTERN_TOKENS: &[(&str, &str)] = &[
    ("yyyy", "[year]"),
    ("yy", "[year repr:last_two]"),
    ("MMMM", "[month repr:long]"),
    ("MMM", "[month repr:short]"),
    ("MM", "[month]"),
    ("M", "[month padding:none]"),
    ("dd", "[day]"),
    ("d", "[day padding:none]"),
    ("EEEE", "[weekday]"),
    ("EEE", "[weekday repr:short]"),
    ("HH", "[hour]"),
    ("H", "[hour padding:none]"),
    ("hh", "[hour repr:12]"),
    ("h", "[hour repr:12 padding:none]"),
    ("mm", "[minute]"),
    ("m", "[minute padding:none]"),
    ("ss", "[second]"),
    ("s", "[second padding:none]"),
    ("a", "[period]"),
];

/// A date-fns/Unicode pattern (`yyyy-MM-dd HH:mm`, `'week of' MMM d`) as a `time` format
/// description. Refused, with the reason, when it has letters that are no field (they would
/// print themselves: `YYYY`, `DD`), an unclosed quote, or no field at all.
pub(crate) fn to_description(pattern: &str) -> Result<String, String> {
    fn literal(out: &mut String, text: &str) {
        for c in text.chars() {
            if matches!(c, '[' | ']' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    let mut out = String::new();
    let mut fields = 0;
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let after = &rest[1..];
            if let Some(next) = after.strip_prefix('\'') {
                out.push('\'');
                rest = next;
                continue;
            }
            let end = after
                .find('\'')
                .ok_or_else(|| "a quote (') is not closed".to_string())?;
            literal(&mut out, &after[..end]);
            rest = &after[end + 1..];
        } else if c.is_ascii_alphabetic() {
            let run = rest.chars().take_while(|x| *x == c).count();
            let token = &rest[..run];
            let (_, description) = PATTERN_TOKENS
                .iter()
                .find(|(t, _)| *t == token)
                .ok_or_else(|| {
                    format!(
                        "{token:?} is not a field it knows and would be printed as it is \
                         (fields: yyyy yy MMMM MMM MM M dd d EEEE EEE HH H hh h mm m ss s a; \
                         quote literal text, as in 'at')"
                    )
                })?;
            out.push_str(description);
            fields += 1;
            rest = &rest[run..];
        } else {
            literal(&mut out, &rest[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
        }
    }
    if fields == 0 {
        return Err("it has no date or time field, so it would print itself".into());
    }
    Ok(out)
}
