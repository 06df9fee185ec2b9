//! Small value helpers shared by conversion, transforms and templates.

use serde_json::{Map, Number, Value};
use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Webflow's DateTime format: `2022-11-18T00:00:00.000Z`.
const WEBFLOW_DATETIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const DATE_ONLY: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
const NAIVE_T: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
const NAIVE_SPACE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Parses an RFC 3339 timestamp, a `YYYY-MM-DD` date or a timestamp without offset (taken as
/// UTC).
pub(crate) fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(dt);
    }
    if let Ok(date) = Date::parse(text, DATE_ONLY) {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    for format in [NAIVE_T, NAIVE_SPACE] {
        if let Ok(dt) = PrimitiveDateTime::parse(text, format) {
            return Some(dt.assume_utc());
        }
    }
    None
}

/// Formats as Webflow expects: UTC with milliseconds.
pub(crate) fn webflow_datetime(dt: OffsetDateTime) -> Option<String> {
    dt.to_offset(UtcOffset::UTC).format(WEBFLOW_DATETIME).ok()
}

/// ISO-8601 UTC with milliseconds, from any accepted date text.
pub(crate) fn iso_datetime(text: &str) -> Option<String> {
    fast_utc(text).or_else(|| parse_datetime(text).and_then(webflow_datetime))
}

/// Whether `text` is already exactly what [`iso_datetime`] produces.
pub(crate) fn is_webflow_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b[19] == b'.'
        && b[23] == b'Z'
        && b[20..23].iter().all(u8::is_ascii_digit)
        && valid_prefix(b)
}

/// `YYYY-MM-DDTHH:MM:SS` with every part in range.
fn valid_prefix(b: &[u8]) -> bool {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    day != 0 && day <= days && hour <= 23 && minute <= 59 && second <= 59
}

/// The common SmartSuite shape `YYYY-MM-DDTHH:MM:SS[.fraction]Z` without a full parse; `None`
/// for anything else (including out-of-range parts), which then takes the general path.
fn fast_utc(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 20 || !valid_prefix(b) {
        return None;
    }
    let rest = &b[19..];
    let (fraction, zone) = match rest.first() {
        Some(b'.') => {
            let digits = rest[1..].iter().take_while(|d| d.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            (&rest[1..=digits], &rest[1 + digits..])
        }
        _ => (&rest[..0], rest),
    };
    if zone != b"Z" && zone != b"z" {
        return None;
    }
    let mut out = String::with_capacity(24);
    out.push_str(&text[..19]);
    out.push('.');
    for i in 0..3 {
        out.push(char::from(*fraction.get(i).unwrap_or(&b'0')));
    }
    out.push('Z');
    Some(out)
}

/// The date text inside a SmartSuite date-like value: a string, a date object
/// `{date, include_time}`, a due date / date range (`to_date` for due dates, which carry
/// `is_overdue`, else `from_date`), or a first-created/last-updated `{by, on}`.
pub(crate) fn date_text(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(map) => {
            if let Some(date) = map.get("date") {
                return date.as_str();
            }
            if map.contains_key("from_date") || map.contains_key("to_date") {
                let order = if map.contains_key("is_overdue") {
                    ["to_date", "from_date"]
                } else {
                    ["from_date", "to_date"]
                };
                return order.iter().find_map(|key| {
                    map.get(*key)
                        .and_then(|d| d.get("date"))
                        .and_then(Value::as_str)
                });
            }
            map.get("on").and_then(Value::as_str)
        }
        _ => None,
    }
}

/// Parses a number from a JSON number or a numeric string (`"12.0"`, `" 19.95 "`).
/// Non-finite values are rejected.
pub(crate) fn parse_number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => {
            let t = s.trim();
            // Rust also accepts "inf"/"NaN"/"infinity"; SmartSuite never sends them.
            if t.is_empty()
                || t.chars()
                    .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
            {
                return None;
            }
            t.parse::<f64>().ok()?
        }
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A JSON number; integral values within ±2^53 become integers (`12`, not `12.0`).
pub(crate) fn number_value(n: f64) -> Option<Value> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        #[allow(clippy::cast_possible_truncation)]
        return Some(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n).map(Value::Number)
}

/// The number as text without a trailing `.0` for integers.
pub(crate) fn number_text(n: &Number) -> String {
    if let Some(f) = n.as_f64()
        && n.is_f64()
        && f.fract() == 0.0
        && f.abs() < 1e15
    {
        #[allow(clippy::cast_possible_truncation)]
        return (f as i64).to_string();
    }
    n.to_string()
}

/// SmartSuite rich text HTML without its `<div class="rendered">` wrapper.
pub(crate) fn unwrap_rendered(html: &str) -> &str {
    let trimmed = html.trim();
    for open in ["<div class=\"rendered\">", "<div class='rendered'>"] {
        if let Some(inner) = trimmed.strip_prefix(open)
            && let Some(inner) = inner.strip_suffix("</div>")
        {
            return inner.trim();
        }
    }
    trimmed
}

/// Plain text of an HTML fragment: tags dropped (block ends become line breaks), the common
/// entities decoded, blank lines and surrounding whitespace removed.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('>') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = after[1..end].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/');
        let name = name
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(
            name,
            "br" | "p"
                | "div"
                | "li"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "tr"
                | "blockquote"
        ) && (tag.starts_with('/') || name == "br")
        {
            out.push('\n');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    decoded
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every HTML entity, named or numeric (htmlize knows the whole HTML5 list); a non-breaking
/// space becomes a plain one, as plain text wants.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    htmlize::unescape(text).replace('\u{a0}', " ")
}

/// Escapes text for HTML and turns it into paragraphs (`\n\n`) with line breaks (`\n`).
pub(crate) fn text_to_html(text: &str) -> String {
    let escaped = htmlize::escape_attribute(text);
    escaped
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>")))
        .collect()
}

/// Text of a value for display: strings as they are, numbers without `.0`, arrays joined with
/// `", "`, and the SmartSuite object shapes (rich text, dates, status, names, addresses,
/// phones, files, hydrated choices) by their readable part. `None` when nothing readable.
pub(crate) fn to_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(number_text(n)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(to_text)
                .filter(|s| !s.is_empty())
                .collect();
            Some(parts.join(", "))
        }
        Value::Object(map) => object_text(map),
    }
}

fn object_text(map: &Map<String, Value>) -> Option<String> {
    let s = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(html) = s("html") {
        return Some(html_to_text(unwrap_rendered(html)));
    }
    if map.contains_key("date") || map.contains_key("from_date") || map.contains_key("to_date") {
        return date_text(&Value::Object(map.clone()))
            .map(|d| iso_datetime(d).unwrap_or_else(|| d.to_string()));
    }
    if map.contains_key("first_name") || map.contains_key("last_name") {
        return Some(full_name(map));
    }
    if map.keys().any(|k| k.starts_with("location_")) {
        return Some(one_line_address(map));
    }
    if let Some(phone) = s("sys_title").or_else(|| s("phone_number")) {
        return Some(phone.to_string());
    }
    if map.contains_key("handle") {
        return file_alt(map);
    }
    for key in [
        "label",
        "title",
        "name",
        "full_name",
        "value",
        "address",
        "url",
        "text",
        "on",
    ] {
        if let Some(v) = map.get(key)
            && let Some(text) = to_text(v)
        {
            return Some(text);
        }
    }
    None
}

/// "first last" of a SmartSuite full name, falling back to `sys_root`.
pub(crate) fn full_name(map: &Map<String, Value>) -> String {
    let parts: Vec<&str> = ["first_name", "last_name"]
        .iter()
        .filter_map(|k| map.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return map
            .get("sys_root")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string();
    }
    parts.join(" ")
}

/// One line of a SmartSuite address: `sys_root`, or the non-empty parts joined with ", ".
pub(crate) fn one_line_address(map: &Map<String, Value>) -> String {
    if let Some(root) = map
        .get("sys_root")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return root.to_string();
    }
    [
        "location_address",
        "location_address2",
        "location_city",
        "location_state",
        "location_zip",
        "location_country",
    ]
    .iter()
    .filter_map(|k| map.get(*k).and_then(Value::as_str))
    .map(str::trim)
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// Alt text of a SmartSuite file: its description, else its file name.
pub(crate) fn file_alt(map: &Map<String, Value>) -> Option<String> {
    map.get("description")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            map.get("metadata")
                .and_then(|m| m.get("filename"))
                .and_then(Value::as_str)
        })
        .map(str::to_string)
}

/// A short description of a value's shape for warnings ("string", "object", …).
pub(crate) fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The value shortened for a warning message (at most 60 characters).
pub(crate) fn excerpt(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_html_entity_is_decoded_in_plain_text() {
        assert_eq!(
            html_to_text(
                "<p>Caf&eacute; &mdash; Tom&rsquo;s &amp; Jerry&#8217;s&nbsp;&lt;3&gt; &#x1F600;</p>"
            ),
            "Café — Tom’s & Jerry’s <3> 😀"
        );
        // Text that merely contains an ampersand is left as it is.
        assert_eq!(html_to_text("<p>R&D, A & B</p>"), "R&D, A & B");
    }

    #[test]
    fn text_becomes_escaped_html() {
        assert!(text_to_html("a < b & \"c\"").contains("a &lt; b &amp; &quot;c&quot;"));
    }

    #[test]
    fn dates_become_webflow_iso() {
        assert_eq!(
            iso_datetime("2023-05-09T06:00:00Z").as_deref(),
            Some("2023-05-09T06:00:00.000Z")
        );
        assert_eq!(
            iso_datetime("2023-05-09T19:25:04.981000Z").as_deref(),
            Some("2023-05-09T19:25:04.981Z")
        );
        assert_eq!(
            iso_datetime("2023-05-09T08:00:00+02:00").as_deref(),
            Some("2023-05-09T06:00:00.000Z")
        );
        assert_eq!(
            iso_datetime("2022-11-18").as_deref(),
            Some("2022-11-18T00:00:00.000Z")
        );
        assert_eq!(
            iso_datetime("2022-11-18 10:11:12").as_deref(),
            Some("2022-11-18T10:11:12.000Z")
        );
        assert_eq!(iso_datetime("soon"), None);
        assert!(!is_webflow_datetime("2023-05-09T06:00:00Z"));
        assert!(!is_webflow_datetime("2023-02-30T06:00:00.000Z"));
        // The fast path and the general path agree.
        for text in [
            "2023-05-09T06:00:00Z",
            "2024-02-29T23:59:59.9Z",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-05-09T24:00:00Z",
            "2023-05-09T06:00:00.Z",
            "2023-05-09T06:00:00.123456789Z",
            "2023-05-09t06:00:00Z",
        ] {
            if let Some(fast) = fast_utc(text) {
                assert_eq!(
                    Some(fast),
                    parse_datetime(text).and_then(webflow_datetime),
                    "{text}"
                );
            }
            assert_eq!(
                iso_datetime(text),
                parse_datetime(text).and_then(webflow_datetime),
                "{text}"
            );
        }
        let due = json!({"from_date": {"date": null}, "to_date": {"date": "2023-05-12T00:00:00Z"}, "is_overdue": false});
        assert_eq!(date_text(&due), Some("2023-05-12T00:00:00Z"));
        let range = json!({"from_date": {"date": "2023-05-09T00:00:00Z"}, "to_date": {"date": "2023-05-12T00:00:00Z"}});
        assert_eq!(date_text(&range), Some("2023-05-09T00:00:00Z"));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(&json!("12.0")), Some(12.0));
        assert_eq!(parse_number(&json!(" 19.95 ")), Some(19.95));
        assert_eq!(parse_number(&json!("1e3")), Some(1000.0));
        for bad in ["inf", "NaN", "infinity", "", "12abc", "0x10"] {
            assert_eq!(parse_number(&json!(bad)), None, "{bad}");
        }
        assert_eq!(number_value(12.0), Some(json!(12)));
        assert_eq!(number_value(19.95), Some(json!(19.95)));
        assert_eq!(number_value(f64::NAN), None);
        assert_eq!(
            number_text(&serde_json::Number::from_f64(9.0).unwrap_or(0.into())),
            "9"
        );
    }

    #[test]
    fn html() {
        assert_eq!(
            unwrap_rendered(
                "<div class=\"rendered\">\n <p>Hello <strong>world</strong></p>\n</div>"
            ),
            "<p>Hello <strong>world</strong></p>"
        );
        assert_eq!(unwrap_rendered("<p>x</p>"), "<p>x</p>");
        assert_eq!(
            html_to_text("<p>Hello <b>w</b> &amp; co</p><p>2<br>3</p>"),
            "Hello w & co\n2\n3"
        );
        assert_eq!(
            text_to_html("a < b\nc\n\nd"),
            "<p>a &lt; b<br>c</p><p>d</p>"
        );
    }

    #[test]
    fn readable_text_of_shapes() {
        assert_eq!(
            to_text(&json!({"first_name": "Peter", "last_name": "Novosel", "sys_root": "Mr."}))
                .as_deref(),
            Some("Peter Novosel")
        );
        assert_eq!(
            to_text(&json!([1, "a", null, 2.5])).as_deref(),
            Some("1, a, 2.5")
        );
        assert_eq!(
            to_text(&json!({"location_city": "Olathe", "location_zip": "66062"})).as_deref(),
            Some("Olathe, 66062")
        );
        assert_eq!(to_text(&json!({"weird": {}})), None);
    }
}
