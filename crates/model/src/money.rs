//! Exact money. Partner Center sends amounts as JSON numbers with many
//! decimals; we keep them as integer millionths of the currency unit so sums
//! are exact and a total always equals the sum of its line items.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Millionths per currency unit. Six decimals keep sub-cent unit prices exact
/// enough that rounding per line item can never move a total by a cent below
/// ten thousand line items, and leave room for totals up to 9.2 trillion.
pub const MICROS: i64 = 1_000_000;

/// An amount of money in millionths of a currency unit; the currency is kept
/// beside it (see [`Money`]) because it is constant over most collections.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub const fn from_micros(micros: i64) -> Self {
        Amount(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The nearest amount to a number read from JSON. Partner Center's JSON
    /// numbers are decimals written in text; the nearest millionth of the
    /// double that text parses to is the millionth the text meant.
    pub fn from_f64(value: f64) -> Option<Self> {
        let scaled = (value * MICROS as f64).round();
        (scaled.is_finite() && scaled.abs() < 9.0e18).then_some(Amount(scaled as i64))
    }

    /// The value as a double, for JSON output and charts only; never sum these.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / MICROS as f64
    }

    /// Rounded half away from zero to `decimals` (0..=6) decimal places.
    pub fn round_to(self, decimals: u32) -> Amount {
        let step = 10i64.pow(6 - decimals.min(6));
        let half = step / 2;
        let q = if self.0 >= 0 {
            (self.0 + half) / step
        } else {
            (self.0 - half) / step
        };
        Amount(q * step)
    }

    /// Multiplies by a quantity given in millionths (for unit price × quantity).
    pub fn times_micros(self, quantity_micros: i64) -> Amount {
        let product = self.0 as i128 * quantity_micros as i128;
        let half = MICROS as i128 / 2;
        let rounded = if product >= 0 {
            (product + half) / MICROS as i128
        } else {
            (product - half) / MICROS as i128
        };
        Amount(rounded as i64)
    }

    /// Fixed-point text with the given decimals, `-1234.50`; locale formatting
    /// happens in the browser, this is for CSV files and logs.
    pub fn to_decimal_string(self, decimals: u32) -> String {
        let r = self.round_to(decimals);
        let sign = if r.0 < 0 { "-" } else { "" };
        let abs = r.0.unsigned_abs();
        let units = abs / MICROS as u64;
        if decimals == 0 {
            return format!("{sign}{units}");
        }
        let frac = (abs % MICROS as u64) / 10u64.pow(6 - decimals.min(6));
        format!(
            "{sign}{units}.{frac:0width$}",
            width = decimals.min(6) as usize
        )
    }

    /// Parses plain decimal text (`12`, `-0.5`, `3.141592`); at most six decimals.
    pub fn parse_decimal(text: &str) -> Option<Amount> {
        let t = text.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty() && frac.is_empty()
            || frac.len() > 6
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let units: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let frac_micros: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i64>().ok()? * 10i64.pow(6 - frac.len() as u32)
        };
        let micros = units.checked_mul(MICROS)?.checked_add(frac_micros)?;
        Some(Amount(if neg { -micros } else { micros }))
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.to_decimal_string(6))
    }
}

impl Add for Amount {
    type Output = Amount;
    fn add(self, rhs: Amount) -> Amount {
        Amount(self.0 + rhs.0)
    }
}

impl AddAssign for Amount {
    fn add_assign(&mut self, rhs: Amount) {
        self.0 += rhs.0;
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, rhs: Amount) -> Amount {
        Amount(self.0 - rhs.0)
    }
}

impl Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        Amount(iter.map(|a| a.0).sum())
    }
}

/// On the wire an amount is a JSON number, as Partner Center writes it.
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Amount::from_f64(v)
            .ok_or_else(|| serde::de::Error::custom(format!("amount {v} is out of range")))
    }
}

/// An [`Amount`] as integer millionths, the way `/api` writes money
/// (`#[serde(with = "model::money::as_micros")]`): no float on the wire.
pub mod as_micros {
    use super::Amount;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(a: &Amount, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(a.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        i64::deserialize(d).map(Amount)
    }
}

/// An ISO 4217 currency code, upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not a currency code: expected three letters, like USD or EUR")]
pub struct CurrencyError(pub String);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const JPY: Currency = Currency(*b"JPY");
    pub const TWD: Currency = Currency(*b"TWD");
    pub const AUD: Currency = Currency(*b"AUD");

    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let b = code.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_alphabetic()) {
            return Err(CurrencyError(code.chars().take(16).collect()));
        }
        Ok(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    pub fn code(&self) -> &str {
        // Always three ASCII letters, by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Decimals the currency is invoiced in (ISO 4217 minor units).
    pub fn minor_digits(&self) -> u32 {
        match &self.0 {
            b"JPY" | b"KRW" | b"TWD" | b"VND" | b"CLP" | b"ISK" | b"HUF" => 0,
            b"BHD" | b"KWD" | b"OMR" | b"JOD" | b"TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount in a known currency. Adding two of different currencies is a
/// bug the type system cannot catch, so [`Money::checked_add`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Amount,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Amount, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| Money::new(self.amount + other.amount, self.currency))
    }

    /// Text rounded to the currency's minor unit, e.g. `1234.50 USD`.
    pub fn to_plain_string(self) -> String {
        format!(
            "{} {}",
            self.amount.to_decimal_string(self.currency.minor_digits()),
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by mutation testing (`cargo xtask mutants`): arithmetic no
    /// test had pinned, with values worked out by hand.
    #[test]
    fn sums_differences_and_products_are_exact_and_round_half_away_from_zero() {
        let mut total = Amount::from_micros(1_250_000);
        total += Amount::from_micros(2_500_001);
        assert_eq!(total.micros(), 3_750_001);
        assert_eq!(
            (Amount::from_micros(10_000_000) - Amount::from_micros(2_500_000)).micros(),
            7_500_000
        );
        // 0.003 a unit × 2.5 units = 0.0075; × -2.5 = -0.0075 (a refund).
        assert_eq!(
            Amount::from_micros(3_000).times_micros(2_500_000).micros(),
            7_500
        );
        assert_eq!(
            Amount::from_micros(3_000).times_micros(-2_500_000).micros(),
            -7_500
        );
        // 0.000001 × 0.5 is half a millionth: away from zero either way.
        assert_eq!(Amount::from_micros(1).times_micros(500_000).micros(), 1);
        assert_eq!(Amount::from_micros(-1).times_micros(500_000).micros(), -1);
        assert_eq!(Amount::from_micros(-3).times_micros(1_500_000).micros(), -5);
        // Text that only a digit check refuses: a sign after the point.
        assert_eq!(Amount::parse_decimal("1.+5"), None);
        assert_eq!(Amount::parse_decimal("."), None);
    }

    #[test]
    fn currencies_say_their_code_and_minor_digits() {
        assert_eq!(Currency::parse("jpy").unwrap().minor_digits(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_digits(), 3);
        assert_eq!(Currency::USD.minor_digits(), 2);
        assert_eq!(
            format!("{} {:?}", Currency::USD, Currency::parse("eur").unwrap()),
            "USD EUR"
        );
        assert_eq!(
            format!("{:?}", Amount::from_micros(-1_500_000)),
            "Amount(-1.500000)"
        );
        let yen = Money::new(
            Amount::from_micros(1_234_500_000),
            Currency::parse("JPY").unwrap(),
        );
        assert_eq!(yen.to_plain_string(), "1235 JPY");
        let dinar = Money::new(
            Amount::from_micros(1_234_567),
            Currency::parse("BHD").unwrap(),
        );
        assert_eq!(dinar.to_plain_string(), "1.235 BHD");
        #[derive(serde::Deserialize)]
        struct Wire {
            #[serde(with = "as_micros")]
            total: Amount,
        }
        let w: Wire = serde_json::from_str(r#"{"total": -1234567}"#).unwrap();
        assert_eq!(w.total.micros(), -1_234_567);
    }

    /// Found by mutation testing: only the range check's boundaries tell
    /// `&&` from `||` and `<` from `<=`.
    #[test]
    fn numbers_past_the_range_are_refused_not_saturated() {
        assert_eq!(Amount::from_f64(1.0e13), None, "finite but 1e19 millionths");
        assert_eq!(Amount::from_f64(9.0e12), None, "exactly at the bound");
        assert_eq!(
            Amount::from_f64(8.0e12),
            Some(Amount::from_micros(8_000_000_000_000_000_000))
        );
        assert_eq!(Amount::from_f64(-1.0e13), None);
        assert_eq!(Amount::from_f64(f64::NAN), None);
        assert_eq!(Amount::from_f64(f64::INFINITY), None);
    }

    #[test]
    fn json_numbers_round_trip_exactly() {
        for text in [
            "30.7197334080551",
            "0.000001",
            "-12.5",
            "1234567.891234",
            "0",
        ] {
            let a: Amount = serde_json::from_str(text).unwrap();
            let back = serde_json::to_string(&a).unwrap();
            let again: Amount = serde_json::from_str(&back).unwrap();
            assert_eq!(a, again, "{text} -> {back}");
        }
        let a: Amount = serde_json::from_str("30.7197334080551").unwrap();
        assert_eq!(a.micros(), 30_719_733);
    }

    #[test]
    fn sum_of_items_is_exact_where_floats_drift() {
        let items = [Amount::parse_decimal("0.1").unwrap(); 10];
        let total: Amount = items.iter().copied().sum();
        assert_eq!(total, Amount::parse_decimal("1").unwrap());
        let float_total: f64 = std::iter::repeat_n(0.1f64, 10).sum();
        assert_ne!(float_total, 1.0, "the float sum drifts; ours must not");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        let a = Amount::parse_decimal("2.345").unwrap();
        assert_eq!(a.to_decimal_string(2), "2.35");
        assert_eq!((-a).to_decimal_string(2), "-2.35");
        assert_eq!(
            Amount::parse_decimal("2.344999")
                .unwrap()
                .to_decimal_string(2),
            "2.34"
        );
        assert_eq!(
            Amount::parse_decimal("1999.5")
                .unwrap()
                .to_decimal_string(0),
            "2000"
        );
        assert_eq!(
            Amount::parse_decimal("-0.004")
                .unwrap()
                .to_decimal_string(2),
            "0.00"
        );
    }

    #[test]
    fn parse_decimal_rejects_junk() {
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "1e5",
            "abc",
            "1.0000001",
            "99999999999999999999",
        ] {
            assert_eq!(Amount::parse_decimal(bad), None, "{bad:?}");
        }
        assert_eq!(Amount::parse_decimal(".5"), Some(Amount(500_000)));
    }

    #[test]
    fn unit_price_times_quantity() {
        let price = Amount::parse_decimal("1.279989").unwrap();
        let qty_micros = 24 * MICROS;
        assert_eq!(
            price.times_micros(qty_micros),
            Amount::parse_decimal("30.719736").unwrap()
        );
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::parse("usd").unwrap(), Currency::USD);
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U$D").is_err());
        assert_eq!(Currency::JPY.minor_digits(), 0);
        let usd = Money::new(Amount(1), Currency::USD);
        let eur = Money::new(Amount(1), Currency::EUR);
        assert_eq!(usd.checked_add(eur), None);
        assert_eq!(usd.checked_add(usd).unwrap().amount, Amount(2));
    }
}
