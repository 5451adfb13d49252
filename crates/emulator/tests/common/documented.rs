//! The comparison of an answer with a documented example (`tests/documented/`,
//! copied verbatim from the references): the same fields and no others at
//! every level, in the example's order, the same JSON types, and the same
//! value wherever the value is a constant of the service.

use serde_json::Value;

use super::kind;

pub fn documented(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/documented")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fields whose documented value is the service's own constant: the
/// emulator must send exactly that text.
const CONSTANTS: &[&str] = &[
    "objectType",
    "method",
    "key",
    "relationshipToPartner",
    "invoiceLineItemType",
    "billingProvider",
    "documentType",
    "invoiceType",
    "billingType",
    "contractType",
    "unitType",
    "isTaxIncluded",
    "locale",
    "source",
    // Graph's billing export.
    "@odata.type",
    "status",
    "schemaVersion",
    "dataFormat",
    "partitionType",
    "partitionValue",
];

/// What the reference says beside an example, by field name: fields its
/// text documents that the example leaves out (`extra`), fields of the
/// example that the text says are not always there (`absent`), and objects
/// whose keys are data, not fields (`maps`).
#[derive(Default, Clone, Copy)]
pub struct Beside {
    pub extra: &'static [&'static str],
    pub absent: &'static [&'static str],
    pub maps: &'static [&'static str],
    /// Fields whose value the example shows for one kind of item only.
    pub data: &'static [&'static str],
}

/// A value the example leaves out: any value of the same type will do.
fn elided(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("...") || s.starts_with('<'),
        Value::Object(o) => o.is_empty() || o.contains_key("..."),
        _ => false,
    }
}

/// Collects every difference between `actual` and the documented
/// `example`, each named by its path.
pub fn compare(
    actual: &Value,
    example: &Value,
    beside: Beside,
    key: &str,
    path: &str,
    out: &mut Vec<String>,
) {
    match (actual, example) {
        (Value::Object(_), Value::Object(_)) if beside.maps.contains(&key) => {}
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e.iter().filter(|(k, _)| *k != "...") {
                match a.get(k) {
                    Some(av) => compare(av, ev, beside, k, &format!("{path}.{k}"), out),
                    None if beside.absent.contains(&k.as_str()) => {}
                    None => out.push(format!("{path}.{k} is missing")),
                }
            }
            // The documented fields come in the example's order (what is
            // beside the example may come anywhere).
            let sent: Vec<&String> = a.keys().filter(|k| e.contains_key(*k)).collect();
            let shown: Vec<&String> = e.keys().filter(|k| a.contains_key(*k)).collect();
            if sent != shown {
                out.push(format!(
                    "{path}: fields in the order {sent:?}, documented {shown:?}"
                ));
            }
            if !elided(example) {
                let documented =
                    |k: &String| e.contains_key(k) || beside.extra.contains(&k.as_str());
                for k in a.keys().filter(|k| !documented(k)) {
                    out.push(format!("{path}.{k} is not in the documented example"));
                }
            }
        }
        (Value::Array(a), Value::Array(e)) => match e.first() {
            // Every item, not only the first, has the example's shape.
            Some(item) => {
                for (i, av) in a.iter().enumerate() {
                    compare(av, item, beside, key, &format!("{path}[{i}]"), out);
                }
            }
            None if !a.is_empty() => out.push(format!("{path} should be empty: {actual}")),
            None => {}
        },
        (a, e) if kind(a) != kind(e) => out.push(format!(
            "{path}: {a} is a {}; the example has a {} ({e})",
            kind(a),
            kind(e)
        )),
        (a, e)
            if CONSTANTS.contains(&key) && !beside.data.contains(&key) && !elided(e) && a != e =>
        {
            out.push(format!("{path}: {a}, documented as {e}"))
        }
        _ => {}
    }
}

pub fn assert_documented(actual: &Value, name: &str, beside: Beside) {
    let mut out = Vec::new();
    compare(actual, &documented(name), beside, "", name, &mut out);
    assert!(out.is_empty(), "{}", out.join("\n"));
}

/// One page of a collection, with its item checked against the example of
/// the item alone.
pub fn assert_documented_items(actual: &Value, item: &str, path: &str, beside: Beside) {
    let mut out = Vec::new();
    let items = actual["items"].as_array().expect("items");
    assert!(!items.is_empty(), "{path}: no items to check");
    for (i, a) in items.iter().enumerate() {
        compare(
            a,
            &documented(item),
            beside,
            "",
            &format!("{path}[{i}]"),
            &mut out,
        );
    }
    assert!(out.is_empty(), "{}", out.join("\n"));
}

/// The fields of `row` are the example's, in its order (an export row's
/// values take the several forms the documents leave open, so only its
/// fields are compared). Fields named `x_` stand for ones no document
/// shows yet, which a reader must pass over; they are left out.
pub fn assert_same_fields(row: &Value, name: &str) {
    let example = documented(name);
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().filter(|k| !k.starts_with("x_")).cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(row), keys(&example), "{name}: {row}");
}
