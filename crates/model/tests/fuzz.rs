//! Fuzz targets, run as property tests: Partner Center's JSON parsing, the
//! parsers behind `/api`'s inputs (GUIDs, decimals, dimensions, tags) and the
//! CSV writer. Each must answer every input with a value or an error, never a
//! panic; the CSV writer must round-trip. `cargo test` runs 256 cases each;
//! `cargo xtask fuzz` runs many more (PROPTEST_CASES). cargo-fuzz needs a
//! nightly compiler, which these machines do not have.

use model::Amount;
use model::cube::{Dim, parse_tags};
use model::export::write_record;
use model::onboarding::check_guid;
use model::pc::DailyRatedUsageLineItem;
use model::usage::LineItem;
use proptest::prelude::*;
use serde_json::{Value, json};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::from),
        Just(json!("2026-02-30T00:00:00")),
        Just(json!("1e400")),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A line item as Partner Center sends it, to mutate one field at a time.
fn sample() -> Value {
    json!({
        "partnerId": "3f2c0d2e-6b1a-4c43-9a8c-0d4f1b8e7a21",
        "customerId": "b44bb1fb-c595-45b0-9e09-d657365580bf",
        "customerName": "Adatum",
        "subscriptionId": "e1c1f1c0-0000-4000-8000-000000000001",
        "entitlementId": "9a1c7b3e-4f8d-4e2a-b5c6-7d8e9f0a1b2c",
        "usageDate": "2026-11-03T00:00:00",
        "meterId": "m1",
        "meterName": "D4s v5",
        "unitOfMeasure": "1 Hour",
        "quantity": 24.0,
        "unitPrice": 0.192,
        "effectiveUnitPrice": 0.1632,
        "pricingCurrency": "USD",
        "billingCurrency": "EUR",
        "pcToBCExchangeRate": 0.92,
        "billingPreTaxTotal": 3.603456,
        "pricingPreTaxTotal": 3.9168,
        "rateOfPartnerEarnedCredit": 0.15,
        "resourceUri": "/subscriptions/x/resourceGroups/rg/providers/p/vm1",
        "tags": "{\"env\":\"prod\"}",
        "chargeType": "new"
    })
}

/// A minimal RFC 4180 reader for one record (the writer's own format).
fn read_record(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

proptest! {
    #[test]
    fn line_item_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        if let Ok(raw) = serde_json::from_slice::<DailyRatedUsageLineItem>(&bytes) {
            let _ = LineItem::try_from(&raw);
        }
    }

    #[test]
    fn a_line_item_with_any_field_changed_parses_or_fails_cleanly(
        field in prop::sample::select(sample().as_object().unwrap().keys().cloned().collect::<Vec<_>>()),
        value in arb_json(),
    ) {
        let mut v = sample();
        v[&field] = value;
        let text = v.to_string();
        if let Ok(raw) = serde_json::from_str::<DailyRatedUsageLineItem>(&text)
            && let Ok(line) = LineItem::try_from(&raw)
        {
            // Whatever was read, the money is integer and its sums do not panic.
            let _ = line.list_total();
            let _ = line.billing_total.micros().checked_add(line.pricing_total.micros());
        }
    }

    #[test]
    fn input_parsers_never_panic(text in "\\PC{0,80}") {
        let _ = check_guid(&model::i18n::EN, "App ID", &text);
        let _ = Amount::parse_decimal(&text);
        let _ = Dim::parse(&text);
        let _ = parse_tags(&text);
        let _ = model::Currency::parse(&text);
    }

    #[test]
    fn decimals_round_trip(micros in any::<i64>()) {
        let text = Amount::from_micros(micros).to_decimal_string(6);
        prop_assert_eq!(Amount::parse_decimal(&text), Some(Amount::from_micros(micros)));
    }

    #[test]
    fn csv_records_round_trip(fields in prop::collection::vec("\\PC{0,20}|[=+@\\-][\\PC]{0,10}|[ ,\"\\n]{1,5}", 1..6)) {
        let mut out = String::new();
        write_record(&mut out, &fields);
        prop_assert!(out.ends_with("\r\n"));
        let read = read_record(out.trim_end_matches("\r\n"));
        prop_assert_eq!(read.len(), fields.len());
        for (got, sent) in read.iter().zip(&fields) {
            // Formula-like text is neutralised with a leading quote, nothing else changes.
            let formula = sent.starts_with(['=', '+', '@', '\t', '\r'])
                || (sent.starts_with('-') && sent.parse::<f64>().is_err());
            let expected = if formula { format!("'{sent}") } else { sent.clone() };
            prop_assert_eq!(got, &expected);
        }
    }
}
