//! `records/list/` of the SmartSuite stand-in: offset/limit paging, the filter (nested
//! `and`/`or` groups of field comparisons) and the sort.

use serde_json::{Map, Value, json};

use super::routes::detail;
use super::state::{State, is_empty_value};
use crate::server::{Call, Outgoing};

pub(super) fn list_records(state: &State, table_id: &str, call: &Call) -> Outgoing {
    let Some(table) = state.tables.iter().find(|t| t.id == table_id) else {
        return detail(404, "Not found.");
    };
    let offset = call
        .query_param("offset")
        .map_or(Ok(0), |v| v.parse::<usize>());
    let limit = call
        .query_param("limit")
        .map_or(Ok(100), |v| v.parse::<usize>());
    let (Ok(offset), Ok(limit)) = (offset, limit) else {
        return Outgoing::json(400, &json!({"offset": ["A valid integer is required."]}));
    };
    if limit == 0 || limit > 1000 {
        return Outgoing::json(
            400,
            &json!({"limit": ["Ensure this value is between 1 and 1000."]}),
        );
    }
    let body = call.json();
    if !(body.is_object() || body.is_null()) {
        return detail(400, "JSON parse error");
    }
    // check the filter once even when the table is empty
    if let Err(message) = record_matches(&Map::new(), body.get("filter")) {
        return Outgoing::json(400, &json!({"filter": [message]}));
    }
    let mut records: Vec<&Map<String, Value>> = Vec::new();
    for record in &table.records {
        match record_matches(record, body.get("filter")) {
            Ok(true) => records.push(record),
            Ok(false) => {}
            Err(message) => return Outgoing::json(400, &json!({"filter": [message]})),
        }
    }
    if let Some(sort) = body.get("sort").and_then(Value::as_array) {
        for key in sort.iter().rev() {
            let field = key["field"].as_str().unwrap_or_default().to_owned();
            let desc = key["direction"] == "desc";
            records.sort_by(|a, b| {
                let ordering = compare(a.get(&field), b.get(&field));
                if desc { ordering.reverse() } else { ordering }
            });
        }
    }
    let total = records.len();
    let items: Vec<Value> = records
        .into_iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .map(Value::Object)
        .collect();
    Outgoing::json(
        200,
        &json!({"total": total, "offset": offset, "limit": limit, "items": items}),
    )
}

/// A comparable form: status `{value}`, date `{date}`, first-created `{on}`; numbers from
/// strings.
fn scalar(v: Option<&Value>) -> Option<Value> {
    let v = v?;
    let inner = match v {
        Value::Object(o) => o
            .get("value")
            .or_else(|| o.get("date"))
            .or_else(|| o.get("on"))
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    Some(inner)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    let (a, b) = (scalar(a), scalar(b));
    match (a.as_ref().and_then(number), b.as_ref().and_then(number)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => {
            let text = |v: &Option<Value>| {
                v.as_ref()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
            };
            text(&a).cmp(&text(&b))
        }
    }
}

fn record_matches(record: &Map<String, Value>, filter: Option<&Value>) -> Result<bool, String> {
    let Some(filter) = filter.filter(|f| !f.is_null()) else {
        return Ok(true);
    };
    let operator = filter
        .get("operator")
        .and_then(Value::as_str)
        .ok_or("filter needs an operator (and/or)")?;
    let fields = filter
        .get("fields")
        .and_then(Value::as_array)
        .ok_or("filter needs fields")?;
    let mut results = Vec::new();
    for condition in fields {
        if condition.get("operator").is_some() {
            results.push(record_matches(record, Some(condition))?);
            continue;
        }
        let field = condition["field"]
            .as_str()
            .ok_or("a condition needs a field")?;
        let comparison = condition["comparison"]
            .as_str()
            .ok_or("a condition needs a comparison")?;
        let value = &condition["value"];
        let actual = record.get(field);
        let actual_scalar = scalar(actual);
        let equal = |x: &Value| match (actual_scalar.as_ref().and_then(number), number(x)) {
            (Some(a), Some(b)) => (a - b).abs() < f64::EPSILON,
            _ => actual_scalar.as_ref() == Some(x),
        };
        let ordered = |want: std::cmp::Ordering, or_equal: bool| {
            let o = compare(actual, Some(value));
            o == want || (or_equal && o == std::cmp::Ordering::Equal)
        };
        let list: Vec<Value> = actual
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let wanted: Vec<Value> = value.as_array().cloned().unwrap_or_default();
        let result = match comparison {
            "is" | "is_equal_to" => equal(value),
            "is_not" | "is_not_equal_to" => !equal(value),
            "contains" => actual_scalar
                .as_ref()
                .and_then(Value::as_str)
                .zip(value.as_str())
                .is_some_and(|(a, b)| a.to_lowercase().contains(&b.to_lowercase())),
            "not_contains" => !actual_scalar
                .as_ref()
                .and_then(Value::as_str)
                .zip(value.as_str())
                .is_some_and(|(a, b)| a.to_lowercase().contains(&b.to_lowercase())),
            "is_empty" => actual.is_none_or(is_empty_value),
            "is_not_empty" => !actual.is_none_or(is_empty_value),
            "is_greater_than" => ordered(std::cmp::Ordering::Greater, false),
            "is_less_than" => ordered(std::cmp::Ordering::Less, false),
            "is_equal_or_greater_than" => ordered(std::cmp::Ordering::Greater, true),
            "is_equal_or_less_than" => ordered(std::cmp::Ordering::Less, true),
            "is_any_of" => wanted.iter().any(equal),
            "is_none_of" => !wanted.iter().any(equal),
            "has_any_of" => wanted.iter().any(|w| list.contains(w)),
            "has_all_of" => wanted.iter().all(|w| list.contains(w)),
            "has_none_of" => !wanted.iter().any(|w| list.contains(w)),
            other => {
                return Err(format!(
                    "the stand-in does not support comparison '{other}'"
                ));
            }
        };
        results.push(result);
    }
    Ok(match operator {
        "and" => results.iter().all(|r| *r),
        "or" => results.iter().any(|r| *r),
        other => return Err(format!("unknown operator '{other}'")),
    })
}
