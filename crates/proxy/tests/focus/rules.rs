//! FOCUS 1.2's normative requirements, written from the specification's
//! text (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, tag `v1.2`,
//! `specification/columns/*.md` and `specification/attributes/*.md`), as
//! checks on a CSV file. Nothing here comes from the product's own FOCUS
//! code: the columns' feature levels, nullability, types and allowed values
//! are copied from the specification's tables. A null is an empty CSV field.
//!
//! Each check has a rule name; [`check`] returns every violation found.
//! Left out, as no single file shows them: that BilledCost per InvoiceId
//! sums to the invoice (the invoice is not in the file); that a
//! commitment's EffectiveCost over its whole term equals its purchase's
//! BilledCost (purchases and unused hours are billed on the partner's
//! one-time invoice, not in usage); that a SkuPriceId finds its price in a
//! price list; which currency a number is denominated in; that IDs stay the
//! same across billing periods.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::spec::*;

/// Every rule [`check`] applies, by name.
pub const RULES: &[&str] = &[
    "column-names",
    "column-order",
    "mandatory-column",
    "conditional-column",
    "row-shape",
    "not-null",
    "empty-string",
    "numeric-format",
    "non-negative",
    "date-time-format",
    "period-bounds",
    "currency-format",
    "allowed-values",
    "service-subcategory",
    "charge-frequency",
    "key-value-format",
    "sku-price-details",
    "unit-format",
    "nullability",
    "commitment-pricing",
    "unrelated-cost",
    "cost-arithmetic",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub row: usize,
    pub column: String,
    pub detail: String,
}

/// One row, its cells by column name.
struct Row<'a> {
    cells: HashMap<&'a str, Option<&'a str>>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        self.cells.get(column).copied().flatten()
    }
    fn is(&self, column: &str, value: &str) -> bool {
        self.get(column) == Some(value)
    }
    fn has(&self, column: &str) -> bool {
        self.get(column).is_some()
    }
}

/// "Numeric values MUST be expressed as an integer value, a decimal value,
/// or a value expressed in scientific notation" ("mEn", the exponent's sign
/// only when negative); no sign for positives, no commas, units or symbols.
pub fn numeric(text: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match text.split_once('E') {
        Some((m, e)) => {
            let digits = e.strip_prefix('-').unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (m, Some(e))
        }
        None => (text, None),
    };
    let unsigned = mantissa.strip_prefix('-').unwrap_or(mantissa);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || unsigned.ends_with('.') {
        return None;
    }
    match exponent {
        Some(_) => Decimal::from_scientific(text).ok(),
        None => Decimal::from_str(text).ok(),
    }
}

/// 'YYYY-MM-DDTHH:mm:ssZ', a real moment.
fn date_time(text: &str) -> bool {
    text.len() == 20
        && text.ends_with('Z')
        && chrono::NaiveDateTime::parse_from_str(&text[..19], "%Y-%m-%dT%H:%M:%S").is_ok()
}

/// A word of a unit in Unit Format's capitalisation: a data size exactly
/// as abbreviated, a time or count term as its table writes it (singular,
/// or plural with an `s`), any other noun capitalised ("A new count-based
/// unit value MUST be capitalized"). `Some(true)` when plural.
fn unit_word(word: &str) -> Option<bool> {
    if DATA_SIZES.contains(&word) {
        // "GB is both the singular and plural form".
        return Some(true);
    }
    if DATA_SIZES.iter().any(|d| d.eq_ignore_ascii_case(word)) {
        return None;
    }
    let singular = word.strip_suffix('s').unwrap_or(word);
    if let Some(known) = TIMES
        .iter()
        .chain(COUNTS)
        .find(|t| t.eq_ignore_ascii_case(singular))
    {
        return (*known == singular).then_some(singular != word);
    }
    (word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_alphabetic()))
    .then_some(word.ends_with('s'))
}

/// A phrase of unit words, plural (or singular) by its last word.
fn units(phrase: &str, plural: bool) -> bool {
    let words: Vec<&str> = phrase.split(' ').collect();
    let last = words.len() - 1;
    words.iter().enumerate().all(|(i, w)| match unit_word(w) {
        Some(p) => i < last || p == plural || DATA_SIZES.contains(w),
        None => false,
    })
}

fn time(word: &str, plural: bool) -> bool {
    let singular = if plural {
        word.strip_suffix('s')
    } else {
        Some(word)
    };
    singular.is_some_and(|s| TIMES.contains(&s))
}

/// Unit Format's forms: `<plural-units>`, `<singular-unit>-<plural-time-
/// units>`, `<plural-units>/<singular-time-unit>`, `<plural-units>/<interval>
/// <plural-time-units>`, each after an optional whole-number quantity.
fn unit_format(text: &str) -> bool {
    let rest = match text.split_once(' ') {
        Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => text,
    };
    let (left, per) = match rest.split_once('/') {
        Some((l, r)) => (l, Some(r)),
        None => (rest, None),
    };
    let left_ok = match left.split_once('-') {
        Some((unit, t)) => per.is_none() && units(unit, false) && time(t, true),
        None => !left.is_empty() && units(left, true),
    };
    let per_ok = match per {
        None => true,
        Some(p) => match p.split_once(' ') {
            Some((n, t)) => n.bytes().all(|b| b.is_ascii_digit()) && time(t, true),
            None => time(p, false),
        },
    };
    left_ok && per_ok
}

/// Key-Value Format: "a serialized JSON string, consistent with the ECMA
/// 404 definition of an object"; "Values ... MUST NOT be an object or an
/// array". Returns the keys, or why not.
fn key_value(text: &str) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    for (k, v) in object {
        if v.is_object() || v.is_array() {
            return Err(format!("the value of {k} is an object or an array"));
        }
    }
    Ok(object.keys().cloned().collect())
}

/// The violations of FOCUS 1.2 in a file: its header, then its rows
/// (`None` for a null).
pub fn check(header: &[String], rows: &[Vec<Option<String>>]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut add = |rule: &'static str, row: usize, column: &str, detail: String| {
        assert!(RULES.contains(&rule), "{rule} is not in RULES");
        out.push(Violation {
            rule,
            row,
            column: column.to_string(),
            detail,
        })
    };

    // Column Handling and presence.
    let names: BTreeSet<&str> = header.iter().map(String::as_str).collect();
    if names.len() != header.len() {
        add("column-names", 0, "", "a column appears twice".into());
    }
    let mut custom_seen = false;
    for name in header {
        let custom = name.starts_with("x_");
        let body = name.strip_prefix("x_").unwrap_or(name);
        let pascal = body.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && body.chars().all(|c| c.is_ascii_alphanumeric());
        if !pascal || (!custom && !FOCUS_COLUMNS.contains(&name.as_str())) {
            add(
                "column-names",
                0,
                name,
                "not a FOCUS column, nor x_ and Pascal case".into(),
            );
        }
        if custom {
            custom_seen = true;
        } else if custom_seen {
            add(
                "column-order",
                0,
                name,
                "a FOCUS column after custom ones".into(),
            );
        }
    }
    for column in MANDATORY {
        if !names.contains(column) {
            add("mandatory-column", 0, column, "missing".into());
        }
    }
    for (column, condition) in CONDITIONAL_MET {
        if !names.contains(column) {
            add(
                "conditional-column",
                0,
                column,
                format!("missing; the provider {condition}"),
            );
        }
    }

    for (i, cells) in rows.iter().enumerate() {
        let n = i + 1;
        if cells.len() != header.len() {
            add(
                "row-shape",
                n,
                "",
                format!("{} cells under {} columns", cells.len(), header.len()),
            );
            continue;
        }
        let row = Row {
            cells: header
                .iter()
                .map(String::as_str)
                .zip(cells.iter().map(Option::as_deref))
                .collect(),
        };
        check_row(&row, n, &mut add);
    }
    out
}

fn check_row(row: &Row<'_>, n: usize, add: &mut impl FnMut(&'static str, usize, &str, String)) {
    // Null Handling and String Handling.
    for column in NOT_NULL {
        if row.cells.contains_key(column) && !row.has(column) {
            add("not-null", n, column, "null".into());
        }
    }
    for (column, value) in &row.cells {
        if let Some(v) = value
            && v.trim().is_empty()
        {
            add(
                "empty-string",
                n,
                column,
                "an empty or blank string for a value".into(),
            );
        }
    }
    // Numeric Format.
    let mut numbers = HashMap::new();
    for column in DECIMALS {
        if let Some(text) = row.get(column) {
            match numeric(text) {
                Some(d) => {
                    numbers.insert(*column, (d, text));
                    if NON_NEGATIVE.contains(column) && d.is_sign_negative() && !d.is_zero() {
                        add("non-negative", n, column, format!("{text} is negative"));
                    }
                }
                None => add("numeric-format", n, column, format!("{text:?}")),
            }
        }
    }
    // Date/Time Format, and the bounds' order (inclusive start, exclusive end).
    for column in DATES {
        if let Some(text) = row.get(column)
            && !date_time(text)
        {
            add("date-time-format", n, column, format!("{text:?}"));
        }
    }
    for (start, end) in [
        ("BillingPeriodStart", "BillingPeriodEnd"),
        ("ChargePeriodStart", "ChargePeriodEnd"),
    ] {
        if let (Some(s), Some(e)) = (row.get(start), row.get(end))
            && date_time(s)
            && date_time(e)
            && s >= e
        {
            add("period-bounds", n, end, format!("{e} is not after {s}"));
        }
    }
    // Currency Format: ISO 4217's three letters for national currencies.
    for column in ["BillingCurrency", "PricingCurrency"] {
        if let Some(code) = row.get(column)
            && !(code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
        {
            add("currency-format", n, column, format!("{code:?}"));
        }
    }
    // Allowed values.
    for (column, allowed) in ALLOWED {
        if let Some(v) = row.get(column)
            && !allowed.contains(&v)
        {
            add("allowed-values", n, column, format!("{v:?}"));
        }
    }
    if let (Some(category), Some(sub)) = (row.get("ServiceCategory"), row.get("ServiceSubcategory"))
        && !SUBCATEGORIES
            .iter()
            .any(|(c, subs)| *c == category && subs.contains(&sub))
    {
        add(
            "service-subcategory",
            n,
            "ServiceSubcategory",
            format!("{sub:?} is not under {category:?}"),
        );
    }
    if row.is("ChargeCategory", "Purchase") && row.is("ChargeFrequency", "Usage-Based") {
        add(
            "charge-frequency",
            n,
            "ChargeFrequency",
            "Usage-Based on a Purchase".into(),
        );
    }
    // Key-Value Format.
    for column in ["Tags", "SkuPriceDetails"] {
        if let Some(text) = row.get(column) {
            match key_value(text) {
                Ok(keys) if column == "SkuPriceDetails" => {
                    for key in keys {
                        if !key.starts_with("x_") && !SKU_PRICE_PROPERTIES.contains(&key.as_str()) {
                            add(
                                "sku-price-details",
                                n,
                                column,
                                format!("{key} is neither FOCUS-defined nor x_"),
                            );
                        }
                    }
                }
                Ok(_) => {}
                Err(why) => add("key-value-format", n, column, why),
            }
        }
    }
    // Unit Format (capitalisation is a MUST; we hold our units to all of it).
    for column in ["PricingUnit", "ConsumedUnit"] {
        if let Some(unit) = row.get(column)
            && !unit_format(unit)
        {
            add("unit-format", n, column, format!("{unit:?}"));
        }
    }

    let category = row.get("ChargeCategory");
    let correction = row.is("ChargeClass", "Correction");
    let usage_or_purchase = matches!(category, Some("Usage" | "Purchase"));
    let tax = category == Some("Tax");
    // "MUST be null when ChargeCategory is "Tax"", "MUST NOT be null when
    // ChargeCategory is "Usage" or "Purchase" and ChargeClass is not
    // "Correction"".
    for column in [
        "ContractedUnitPrice",
        "ListUnitPrice",
        "PricingCategory",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyListUnitPrice",
        "PricingQuantity",
        "SkuId",
        "SkuPriceId",
    ] {
        if !row.cells.contains_key(column) {
            continue;
        }
        if tax && row.has(column) {
            add("nullability", n, column, "not null on a Tax row".into());
        }
        if usage_or_purchase && !correction && !row.has(column) {
            add(
                "nullability",
                n,
                column,
                "null on a Usage or Purchase row".into(),
            );
        }
    }
    // Pairs: "X MUST be null when Y is null" / "MUST NOT be null when Y is not null".
    for (column, when, both_ways) in [
        ("PricingUnit", "PricingQuantity", true),
        ("ConsumedUnit", "ConsumedQuantity", true),
        ("RegionName", "RegionId", true),
        ("ResourceType", "ResourceId", true),
        ("ResourceName", "ResourceId", false),
        ("SubAccountName", "SubAccountId", true),
        ("SubAccountType", "SubAccountId", true),
        ("BillingAccountType", "BillingAccountId", true),
        ("SkuMeter", "SkuId", false),
        ("SkuPriceDetails", "SkuPriceId", false),
        ("CommitmentDiscountCategory", "CommitmentDiscountId", true),
        ("CommitmentDiscountType", "CommitmentDiscountId", true),
        ("CommitmentDiscountName", "CommitmentDiscountId", false),
        ("CommitmentDiscountStatus", "CommitmentDiscountId", false),
        ("CommitmentDiscountUnit", "CommitmentDiscountQuantity", true),
    ] {
        if !row.cells.contains_key(column) || !row.cells.contains_key(when) {
            continue;
        }
        if !row.has(when) && row.has(column) {
            add(
                "nullability",
                n,
                column,
                format!("not null while {when} is null"),
            );
        }
        if both_ways && row.has(when) && !row.has(column) {
            add(
                "nullability",
                n,
                column,
                format!("null while {when} is not"),
            );
        }
    }
    if let (Some(name), Some(id)) = (row.get("ResourceName"), row.get("ResourceId"))
        && name == id
    {
        add(
            "nullability",
            n,
            "ResourceName",
            "duplicates ResourceId".into(),
        );
    }
    // ConsumedQuantity: null unless a Usage row (and not an unused
    // commitment); not null on such rows unless a correction.
    let unused = row.is("CommitmentDiscountStatus", "Unused");
    if row.cells.contains_key("ConsumedQuantity") {
        let wanted = category == Some("Usage") && !unused;
        if !wanted && row.has("ConsumedQuantity") {
            add(
                "nullability",
                n,
                "ConsumedQuantity",
                "not null off a Usage row".into(),
            );
        }
        if wanted && !correction && !row.has("ConsumedQuantity") {
            add(
                "nullability",
                n,
                "ConsumedQuantity",
                "null on a Usage row".into(),
            );
        }
    }
    // Commitment discounts (Discount Handling and their columns).
    let committed = row.has("CommitmentDiscountId");
    if committed && category == Some("Usage") && !row.has("CommitmentDiscountStatus") {
        add(
            "nullability",
            n,
            "CommitmentDiscountStatus",
            "null on a Usage row of a commitment".into(),
        );
    }
    if row.cells.contains_key("CommitmentDiscountQuantity") {
        let wanted = committed && usage_or_purchase;
        if wanted && !correction && !row.has("CommitmentDiscountQuantity") {
            add(
                "nullability",
                n,
                "CommitmentDiscountQuantity",
                "null on a row of a commitment".into(),
            );
        }
        if !wanted && row.has("CommitmentDiscountQuantity") {
            add(
                "nullability",
                n,
                "CommitmentDiscountQuantity",
                "not null off a commitment's Usage or Purchase row".into(),
            );
        }
    }
    if committed && category != Some("Purchase") && row.has("PricingCategory") {
        if !row.is("PricingCategory", "Committed") {
            add(
                "commitment-pricing",
                n,
                "PricingCategory",
                "a commitment's usage is priced \"Committed\"".into(),
            );
        }
    } else if row.is("PricingCategory", "Committed") {
        add(
            "commitment-pricing",
            n,
            "CommitmentDiscountId",
            "\"Committed\" pricing names no commitment".into(),
        );
    }
    // Costs of charges not based on a unit price (a Credit): "MUST match
    // the BilledCost".
    if !usage_or_purchase && !tax && category.is_some() {
        for column in ["EffectiveCost", "ListCost", "ContractedCost"] {
            if row.get(column) != row.get("BilledCost") && !row.has(unit_price_of(column)) {
                add(
                    "unrelated-cost",
                    n,
                    column,
                    "differs from BilledCost".into(),
                );
            }
        }
    }
    // "The product of ContractedUnitPrice and PricingQuantity MUST match the
    // ContractedCost" (and List, and the pricing currency's): to the
    // decimals the file writes the cost with.
    if !correction && let Some((quantity, _)) = numbers.get("PricingQuantity") {
        for (cost, price) in [
            ("ContractedCost", "ContractedUnitPrice"),
            ("ListCost", "ListUnitPrice"),
        ] {
            if let (Some((c, text)), Some((p, _))) = (numbers.get(cost), numbers.get(price)) {
                let decimals = text.split_once('.').map_or(0, |(_, f)| f.len()) as u32;
                let product = p.checked_mul(*quantity).map(|x| {
                    x.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
                });
                if product != Some(*c) {
                    add(
                        "cost-arithmetic",
                        n,
                        cost,
                        format!("{price} × PricingQuantity is {product:?}, not {text}"),
                    );
                }
            }
        }
    }
}

fn unit_price_of(cost: &str) -> &'static str {
    match cost {
        "ListCost" => "ListUnitPrice",
        "ContractedCost" => "ContractedUnitPrice",
        _ => "",
    }
}
