//! Fuzz targets, run as property tests: Partner Center's and the Graph export's line parsing, the
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

/// A Graph export line (`attributeSet: full`) as the reference shows one.
fn export_line() -> Value {
    json!({
        "PartnerId": "0e195b37-4574-4539-bc42-0e539b9684c0", "CustomerId": "196e2273-9651-43a3-ba7e-7cbcd918fc40",
        "CustomerName": "Contoso", "CustomerDomainName": "contoso.onmicrosoft.com", "InvoiceNumber": "G002297372",
        "SubscriptionId": "5d1f3c2a-8b7e-4c55-9a10-2f6e0d9b7a41", "UsageDate": "2025-05-14T00:00:00Z",
        "ChargeStartDate": "2025-05-01T00:00:00Z", "ChargeEndDate": "2025-05-31T00:00:00Z",
        "MeterCategory": "Storage", "MeterId": "a4f7e1c2-3b5d-4e6f-8a9b-0c1d2e3f4a5b", "MeterSubCategory": "Tables",
        "MeterName": "LRS Data Stored", "MeterRegion": "US East", "Unit": "1 GB/Month", "ResourceLocation": "EASTUS",
        "ResourceGroup": "rg-prod", "ResourceURI": "/subscriptions/8c2b/resourceGroups/rg-prod/providers/x/y",
        "ChargeType": "New", "UnitPrice": 0.0036, "Quantity": 12.5, "BillingPreTaxTotal": 0.03519,
        "BillingCurrency": "EUR", "PricingPreTaxTotal": 0.03825, "PricingCurrency": "USD", "Tags": "{\"env\":\"prod\"}",
        "EffectiveUnitPrice": 0.00306, "PCToBCExchangeRate": 0.92, "PartnerEarnedCreditPercentage": 15,
        "CreditType": "Credit Not Applied", "BenefitOrderId": "", "BenefitId": "", "BenefitType": ""
    })
}

/// Edits to a byte string: at a position, replace, insert or delete a byte.
fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), 0u8..3, any::<u8>()), 1..8)
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, kind, byte) in edits {
        let at = at % (bytes.len() + 1);
        match kind {
            0 if at < bytes.len() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    /// Valid lines with a few bytes changed reach the parser (most still
    /// start as a JSON object): each is read or refused, never a panic.
    #[test]
    fn line_item_bytes_never_panic(edits in edits()) {
        let bytes = mutate(sample().to_string().into_bytes(), &edits);
        if let Ok(raw) = serde_json::from_slice::<DailyRatedUsageLineItem>(&bytes) {
            let _ = LineItem::try_from(&raw);
        }
    }

    #[test]
    fn export_line_bytes_never_panic(edits in edits(), bom in any::<bool>()) {
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend(export_line().to_string().into_bytes());
        let _ = model::graph::read_line(&mutate(bytes, &edits));
    }

    /// Any value in any field of an export line: read or refused with a reason.
    #[test]
    fn an_export_line_with_any_field_changed_is_read_or_refused_with_a_reason(
        field in prop::sample::select(export_line().as_object().unwrap().keys().cloned().collect::<Vec<_>>()),
        value in arb_json(),
    ) {
        let mut v = export_line();
        v[&field] = value;
        if let Err(why) = model::graph::read_line(v.to_string().as_bytes()) {
            prop_assert!(!why.is_empty());
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
    fn input_parsers_never_panic(text in "\\PC{0,80}|[-+]?[0-9]{0,20}(\\.[0-9]{0,9})?([eE][-+]?[0-9]{1,3})?|[0-9a-fA-F-]{30,40}|[a-z]{1,12}(:[a-z]{1,8})?") {
        let _ = check_guid(&model::i18n::EN, "App ID", &text);
        let _ = Amount::parse_decimal(&text);
        let _ = Dim::parse(&text);
        let _ = parse_tags(&text);
        let _ = model::Currency::parse(&text);
        if let Some(day) = model::report::request_day(&text) {
            prop_assert!(model::report::REPORT_YEARS.contains(&chrono::Datelike::year(&day)));
        }
    }

    /// Any day a request may name works in the margin report's arithmetic
    /// (which once panicked on days at chrono's ends), and days outside the
    /// years are refused before it.
    #[test]
    fn request_days_are_within_the_years_and_reports_take_them(y in -262_143i32..=262_142, m in 1u32..=12, d in 1u32..=28, span in 0i64..400) {
        let text = format!("{y:04}-{m:02}-{d:02}");
        match model::report::request_day(&text) {
            Some(from) => {
                prop_assert!(model::report::REPORT_YEARS.contains(&y));
                let to = from + chrono::Duration::days(span);
                let _ = model::margin::margin_report((from, to), &[], &[]);
            }
            None => prop_assert!(!model::report::REPORT_YEARS.contains(&y)),
        }
        // And the comparison period of any day chrono has, without a panic.
        if let Some(from) = chrono::NaiveDate::from_ymd_opt(y, m, d) {
            let to = from.checked_add_days(chrono::Days::new(span as u64)).unwrap_or(from);
            let (before_from, before_to) = model::margin::previous_period(from, to);
            prop_assert!(before_from <= before_to);
        }
    }

    /// A decimal of up to six places is read to the exact millionths its
    /// digits say (worked out here from the digits, not by the parser).
    #[test]
    fn decimals_are_read_exactly(neg in any::<bool>(), int in "[0-9]{1,12}", frac in "[0-9]{0,6}") {
        let text = format!("{}{int}{}{frac}", if neg { "-" } else { "" }, if frac.is_empty() { "" } else { "." });
        let padded = format!("{frac:0<6}");
        let micros = int.parse::<i64>().unwrap() * 1_000_000 + padded.parse::<i64>().unwrap();
        prop_assert_eq!(Amount::parse_decimal(&text), Some(Amount::from_micros(if neg { -micros } else { micros })));
        // A seventh place is refused, not rounded away.
        prop_assert_eq!(Amount::parse_decimal(&format!("{int}.{padded}1")), None);
    }

    /// Every GUID-shaped text is an accepted App ID; one digit short is not.
    #[test]
    fn guid_shaped_text_is_accepted(g in "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}") {
        prop_assert!(check_guid(&model::i18n::EN, "App ID", &g).is_ok());
        prop_assert!(check_guid(&model::i18n::EN, "App ID", &g[1..]).is_err());
    }

    #[test]
    fn decimals_round_trip(micros in any::<i64>()) {
        let text = Amount::from_micros(micros).to_decimal_string(6);
        prop_assert_eq!(Amount::parse_decimal(&text), Some(Amount::from_micros(micros)));
    }

    /// The cube's wire bytes: any body is read or refused, never a panic;
    /// any cube's bytes read back equal.
    #[test]
    fn cube_bytes_never_panic_and_round_trip(
        junk in prop::collection::vec(any::<u8>(), 0..400),
        rows in prop::collection::vec(("\\PC{0,6}", "[a-c]{0,2}", -40_000i32..40_000, any::<i64>(), any::<i64>(), any::<u16>()), 0..40),
    ) {
        let _ = model::cube::Cube::from_bytes(&junk);
        let with_header = [b"CSPCUBE\x01".as_slice(), &junk].concat();
        let _ = model::cube::Cube::from_bytes(&with_header);
        let mut b = model::cube::CubeBuilder::new();
        for (customer, meter, day, cost, price, pec) in &rows {
            b.push(&model::cube::CubeRow {
                customer,
                meter,
                day: chrono::NaiveDate::from_num_days_from_ce_opt(719_163 + day).unwrap(),
                partner_cost: *cost,
                customer_price: *price,
                pec_basis_points: *pec,
                ..Default::default()
            });
        }
        let cube = b.finish();
        prop_assert_eq!(model::cube::Cube::from_bytes(&cube.to_bytes()).unwrap(), cube);
    }

    /// Text that starts with a letter or digit round-trips unchanged,
    /// whatever commas, quotes and line breaks it holds.
    #[test]
    fn csv_records_round_trip(fields in prop::collection::vec("[A-Za-z0-9][\\PC]{0,20}|[A-Za-z][ ,\"\n]{1,5}[a-z]", 1..6)) {
        let mut out = String::new();
        write_record(&mut out, &fields);
        prop_assert!(out.ends_with("\r\n"));
        let read = read_record(out.trim_end_matches("\r\n"));
        prop_assert_eq!(read, fields);
    }
}

/// Formula-like cells are neutralised with a leading quote; numbers, even
/// negative ones, are not. Known answers, written by hand.
#[test]
fn formula_like_cells_are_neutralised() {
    for (cell, written) in [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("@cmd", "'@cmd"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("-12.5", "-12.5"),
        ("Contoso", "Contoso"),
        ("a=b", "a=b"),
        // White space before, and the full-width forms (OWASP's rule).
        (" =1+2", "' =1+2"),
        ("\u{3000}@cmd", "'\u{3000}@cmd"),
        ("＝HYPERLINK(1)", "'＝HYPERLINK(1)"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠x", "'＠x"),
        ("  -2+3", "'  -2+3"),
        (" -12.5", " -12.5"),
    ] {
        let mut out = String::new();
        write_record(&mut out, &[cell.to_string()]);
        assert_eq!(
            read_record(out.trim_end_matches("\r\n")),
            [written],
            "{cell:?}"
        );
    }
}

/// The unchanged line the export targets start from is read: their edits
/// reach the line parser rather than a first-byte refusal.
#[test]
fn the_export_targets_start_from_a_line_that_reads() {
    let line = model::graph::read_line(export_line().to_string().as_bytes()).unwrap();
    assert_eq!(line.billing_total, Amount::from_micros(35_190));
    let with_bom = [
        b"\xEF\xBB\xBF".as_slice(),
        export_line().to_string().as_bytes(),
    ]
    .concat();
    assert!(model::graph::read_line(&with_bom).is_ok());
    let raw: DailyRatedUsageLineItem = serde_json::from_value(sample()).unwrap();
    assert!(LineItem::try_from(&raw).is_ok());
}
