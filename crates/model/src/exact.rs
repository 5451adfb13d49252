//! Unit prices exactly as the upstream wrote them. Amounts are kept in
//! millionths ([`crate::money`]), but a unit price is not an amount: Azure
//! prices a GB-second of Functions at 0.000016 USD, and partner-earned
//! credit makes that 0.0000136, which millionths would round 3 % off. Prices
//! stay exact decimals (up to 28 digits); only a total is rounded, once.

use std::str::FromStr;

pub use rust_decimal::Decimal;

/// An exact decimal from text: `16`, `-0.5`, `0.0000136`, `1.36E-05`;
/// `None` when it is not a number (or has more than 28 digits before the
/// point).
pub fn parse(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || t.starts_with(['+', '-']) && t.len() == 1 {
        return None;
    }
    let value = if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()?
    } else {
        // Digits and one point only (from_str also takes `_`).
        let digits = t.strip_prefix('-').unwrap_or(t);
        if digits == "."
            || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            || digits.bytes().filter(|b| *b == b'.').count() > 1
        {
            return None;
        }
        Decimal::from_str(t).ok()?
    };
    Some(value.normalize())
}

/// Millionths as a decimal.
pub fn from_micros(micros: i64) -> Decimal {
    Decimal::new(micros, 6)
}

/// The product, exact to 28 significant digits; saturates past 7.9 × 10²⁸
/// (no price or quantity comes near), like [`to_micros`].
pub fn times(a: Decimal, b: Decimal) -> Decimal {
    a.checked_mul(b)
        .unwrap_or(if a.is_sign_negative() != b.is_sign_negative() {
            Decimal::MIN
        } else {
            Decimal::MAX
        })
}

/// The product to the nearest millionth: a unit price times a quantity
/// (or rate), rounded once.
pub fn product_micros(a: Decimal, b: Decimal) -> i64 {
    to_micros(times(a, b))
}

/// To the nearest millionth, half away from zero; saturates at the ends
/// of `i64` (9.2 trillion), which no real total reaches.
pub fn to_micros(value: Decimal) -> i64 {
    let rounded =
        value.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let scaled =
        rounded
            .checked_mul(Decimal::new(1_000_000, 0))
            .unwrap_or(if value.is_sign_negative() {
                Decimal::MIN
            } else {
                Decimal::MAX
            });
    i64::try_from(scaled.trunc()).unwrap_or(if value.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// Shortest exact text, never in E notation: `0.0000136`, `4.23936`, `0`.
pub fn text(value: Decimal) -> String {
    let n = value.normalize();
    if n.is_zero() {
        "0".into()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_services_write_and_nothing_else() {
        for (text, exact) in [
            ("16", "16"),
            ("-0.5", "-0.5"),
            ("0.0000136", "0.0000136"),
            ("1.36E-05", "0.0000136"),
            ("1.5e2", "150"),
            ("+3", "3"),
            (" 0.192000 ", "0.192"),
            ("1.2799888920023", "1.2799888920023"),
        ] {
            assert_eq!(parse(text).map(text_of), Some(exact.to_string()), "{text}");
        }
        for bad in ["", "-", "+", ".", "1.2.3", "1_000", "12abc", "NaN", "--1"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    fn text_of(d: Decimal) -> String {
        text(d)
    }

    #[test]
    fn a_tiny_price_keeps_its_digits_through_a_product() {
        let price = parse("0.0000136").unwrap();
        let rate = from_micros(920_000);
        assert_eq!(text(times(price, rate)), "0.000012512");
        // 90,000 GB-seconds: 1.12608 EUR exactly, where a price rounded to
        // the millionth (0.000014) would say 1.1592.
        assert_eq!(
            product_micros(times(price, rate), from_micros(90_000_000_000)),
            1_126_080
        );
    }

    #[test]
    fn totals_round_once_half_away_from_zero() {
        assert_eq!(to_micros(parse("0.0000005").unwrap()), 1);
        assert_eq!(to_micros(parse("-0.0000005").unwrap()), -1);
        assert_eq!(to_micros(parse("0.00000049").unwrap()), 0);
        assert_eq!(to_micros(parse("4.23936").unwrap()), 4_239_360);
        assert_eq!(to_micros(Decimal::MAX), i64::MAX);
        assert_eq!(to_micros(Decimal::MIN), i64::MIN);
        assert_eq!(text(from_micros(-2_000_000)), "-2");
        assert_eq!(text(Decimal::ZERO), "0");
    }
}
