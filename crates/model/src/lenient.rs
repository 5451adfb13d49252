//! Reading the upstream's JSON as the service writes it, not as its
//! documentation's examples suggest: numbers that come as JSON numbers or
//! as strings, fields that are null or missing, dates with or without a
//! zone or in `M/D/YYYY`, and HTML entities in links and messages. Used as
//! `#[serde(deserialize_with = "…")]` on the Partner Center and Graph types.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::money::{Amount, MICROS};

/// Text, whatever JSON scalar carries it: a number or a boolean as its
/// text; null (or missing, with `#[serde(default)]`) as empty. Read by a
/// visitor, with no intermediate value: the usage exports run to millions
/// of lines.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    text(d).map(std::borrow::Cow::into_owned)
}

/// Like [`string`], borrowed from the input when it has no escapes.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<std::borrow::Cow<'de, str>, D::Error> {
    use std::borrow::Cow;
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("text")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Owned(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Owned(v))
        }
        fn visit_unit<E>(self) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_none<E>(self) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Owned(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Owned(v.to_string()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Owned(v.to_string()))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Owned(v.to_string()))
        }
    }
    d.deserialize_any(Text)
}

/// Like [`string`], `None` when null, missing or empty.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    string(d).map(|s| (!s.is_empty()).then_some(s))
}

/// A decimal written as text (`"16"`, `"-0.5"`, `"1.2799888920023"`,
/// `"1.5E-05"`) to the nearest millionth, half away from zero; `None` when
/// it is not a number.
pub fn decimal_text(text: &str) -> Option<Amount> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
        None => (t, 0),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // All the digits as one integer, and where the decimal point sits.
    let all: String = format!("{int}{frac}");
    let all = all.trim_start_matches('0');
    let point = frac.len() as i32 - exponent;
    // value = all × 10^(-point); in millionths: all × 10^(6 - point).
    let shift = 6 - point;
    let micros: i128 = if all.is_empty() {
        0
    } else if shift >= 0 {
        if all.len() as i32 + shift > 30 {
            return None;
        }
        all.parse::<i128>()
            .ok()?
            .checked_mul(10i128.pow(shift as u32))?
    } else {
        let cut = (-shift) as usize;
        if cut > all.len() {
            // Under a tenth of a millionth: rounds to zero.
            0
        } else {
            let (kept, dropped) = all.split_at(all.len() - cut);
            let kept: i128 = if kept.is_empty() {
                0
            } else {
                kept.parse().ok()?
            };
            kept + i128::from(dropped.as_bytes()[0] >= b'5')
        }
    };
    let micros = i64::try_from(if negative { -micros } else { micros }).ok()?;
    Some(Amount::from_micros(micros))
}

/// An amount from a JSON number or a numeric string; null, missing or
/// empty as zero.
pub fn amount<'de, D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
    opt_amount(d).map(Option::unwrap_or_default)
}

/// Like [`amount`], `None` when null, missing or empty. Text is read digit
/// by digit; a JSON number comes as a double and is read from its shortest
/// text, which is the decimal the service wrote when it has 15 significant
/// digits or fewer. Either way the decimal is rounded once, to the millionth.
pub fn opt_amount<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
    struct Money;
    impl<'de> serde::de::Visitor<'de> for Money {
        type Value = Option<Amount>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an amount, as a number or as text")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            v.checked_mul(MICROS)
                .map(|m| Some(Amount::from_micros(m)))
                .ok_or_else(|| E::custom(format!("{v} is out of range")))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .ok()
                .and_then(|v| v.checked_mul(MICROS))
                .map(|m| Some(Amount::from_micros(m)))
                .ok_or_else(|| E::custom(format!("{v} is out of range")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // The shortest text that reads back as this double is the text
            // the service wrote, for any decimal of fifteen digits or fewer.
            shortest(v, decimal_text)
                .map(Some)
                .ok_or_else(|| E::custom(format!("{v} is out of range")))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.trim().is_empty() {
                return Ok(None);
            }
            decimal_text(v)
                .map(Some)
                .ok_or_else(|| E::custom(format!("“{v}” is not a number")))
        }
    }
    d.deserialize_any(Money)
}

/// `read` of the shortest text that reads back as `v`, written on the
/// stack: the exports carry millions of numbers.
fn shortest<R>(v: f64, read: impl FnOnce(&str) -> R) -> R {
    use std::fmt::Write;
    struct Digits {
        bytes: [u8; 48],
        len: usize,
    }
    impl Write for Digits {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let end = self.len + s.len();
            let to = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
            to.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut digits = Digits {
        bytes: [0; 48],
        len: 0,
    };
    match write!(digits, "{v}") {
        Ok(()) => read(std::str::from_utf8(&digits.bytes[..digits.len]).unwrap_or_default()),
        // Past 48 characters (1e60 is written out in full).
        Err(_) => read(&v.to_string()),
    }
}

/// A unit price exactly as written ([`crate::exact`]), from a JSON number
/// or numeric text; null, missing or empty as zero.
pub fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<crate::exact::Decimal, D::Error> {
    use crate::exact::{Decimal, parse};
    struct Exact;
    impl<'de> serde::de::Visitor<'de> for Exact {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a price, as a number or as text")
        }
        fn visit_unit<E>(self) -> Result<Decimal, E> {
            Ok(Decimal::ZERO)
        }
        fn visit_none<E>(self) -> Result<Decimal, E> {
            Ok(Decimal::ZERO)
        }
        fn visit_i64<E>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            // The shortest text that reads back as this double is the text
            // the service wrote (see `opt_amount`).
            shortest(v, parse).ok_or_else(|| E::custom(format!("{v} is out of range")))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            if v.trim().is_empty() {
                return Ok(Decimal::ZERO);
            }
            parse(v).ok_or_else(|| E::custom(format!("“{v}” is not a number")))
        }
    }
    d.deserialize_any(Exact)
}

/// A plain number (a rate, a quantity) from a JSON number or numeric
/// string; null, missing or empty as zero.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct Number;
    impl<'de> serde::de::Visitor<'de> for Number {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number, or a number as text")
        }
        fn visit_unit<E>(self) -> Result<f64, E> {
            Ok(0.0)
        }
        fn visit_none<E>(self) -> Result<f64, E> {
            Ok(0.0)
        }
        fn visit_i64<E>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_f64<E>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<f64, E> {
            if v.trim().is_empty() {
                return Ok(0.0);
            }
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| E::custom(format!("“{v}” is not a number")))
        }
    }
    d.deserialize_any(Number)
}

/// A whole number from a JSON number or numeric string; null or missing as zero.
pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = number(d)?;
    if v.fract() != 0.0 || v.abs() > 9.0e15 {
        return Err(serde::de::Error::custom(format!(
            "{v} is not a whole number"
        )));
    }
    Ok(v as i64)
}

/// A yes or no from a JSON boolean or its text; anything else as no.
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    opt_bool(d).map(Option::unwrap_or_default)
}

/// A list; null as empty.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A yes or no from a JSON boolean or `"true"`/`"false"`; `None` otherwise.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// The UTC day of a date as the service writes one: RFC 3339 with or
/// without a zone or fraction (`2025-05-14T00:00:00Z`, `2019-09-01T00:00:00+00:00`,
/// `2023-03-09T08:12:53`), a bare `YYYY-MM-DD`, or the recon files'
/// `M/D/YYYY` with an optional time (`2/1/2019 0:00`). The date part is the
/// day: Partner Center reports usage per UTC day. `None` for anything else
/// (a day-first date is not guessed).
pub fn day(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if let Some(iso) = t.get(..10)
        && iso.as_bytes().get(4) == Some(&b'-')
        && let Ok(d) = NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        && (t.len() == 10 || matches!(t.as_bytes()[10], b'T' | b't' | b' '))
    {
        return Some(d);
    }
    let date = t.split_whitespace().next()?;
    let mut parts = date.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// HTML's entities decoded: `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`
/// and numeric ones (`&#39;`, `&#x27;`). The service escapes links and
/// messages as if for a web page; anything else is kept as it is.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let decoded = after.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &after[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_double_is_read_from_its_shortest_text_however_long() {
        assert_eq!(shortest(0.00306, str::to_owned), "0.00306");
        assert_eq!(shortest(-12.5, str::to_owned), "-12.5");
        // Written out in full, past the stack's 48 characters.
        let huge = shortest(1e60, str::to_owned);
        assert_eq!((huge.len(), &huge[..4]), (61, "1000"));
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[derive(Deserialize)]
    struct Row<'a> {
        #[serde(borrow, deserialize_with = "text", default)]
        t: std::borrow::Cow<'a, str>,
        #[serde(deserialize_with = "opt_amount", default)]
        a: Option<Amount>,
        #[serde(deserialize_with = "number", default)]
        n: f64,
        #[serde(deserialize_with = "opt_bool", default)]
        b: Option<bool>,
        #[serde(deserialize_with = "boolean", default)]
        yes: bool,
    }

    /// Found by mutation testing: what each reader makes of every JSON
    /// type, as the service may send any of them (values worked out by hand).
    #[test]
    fn every_json_type_reads_to_the_value_it_writes() {
        fn row(json: &str) -> Row<'_> {
            serde_json::from_str(json).unwrap()
        }
        // Text from a number, a decimal or a boolean: as written.
        assert_eq!(row(r#"{"t": 4867890}"#).t, "4867890");
        assert_eq!(row(r#"{"t": -12}"#).t, "-12");
        assert_eq!(row(r#"{"t": 0.5}"#).t, "0.5");
        assert_eq!(row(r#"{"t": true}"#).t, "true");
        assert_eq!(row(r#"{"t": null}"#).t, "");
        // An amount from an integer, null or nothing.
        assert_eq!(row(r#"{"a": -3}"#).a, Some(Amount::from_micros(-3_000_000)));
        assert_eq!(row(r#"{"a": null}"#).a, None);
        assert_eq!(row(r#"{}"#).a, None);
        // A number from an integer, a negative one, or null.
        assert_eq!(row(r#"{"n": 24}"#).n, 24.0);
        assert_eq!(row(r#"{"n": -2}"#).n, -2.0);
        assert_eq!(row(r#"{"n": null}"#).n, 0.0);
        // Yes or no from a boolean or its text; anything else is unknown.
        assert_eq!(row(r#"{"b": "TRUE"}"#).b, Some(true));
        assert_eq!(row(r#"{"b": "false"}"#).b, Some(false));
        assert_eq!(row(r#"{"b": "maybe"}"#).b, None);
        assert_eq!(row(r#"{"b": 1}"#).b, None);
        assert!(!row(r#"{"yes": "no"}"#).yes);
        assert!(row(r#"{"yes": true}"#).yes);
        // Entities the service writes into links and messages.
        assert_eq!(decode_entities("a &gt; b &apos;c&apos;"), "a > b 'c'");
        // Thirty digits fit; more than that many is refused, not wrapped.
        assert_eq!(decimal_text("1e23").map(Amount::micros), None);
        assert_eq!(
            decimal_text("1e12").map(Amount::micros),
            Some(1_000_000_000_000_000_000)
        );
    }

    #[test]
    fn decimals_as_text_round_to_the_millionth() {
        let m = |t: &str| decimal_text(t).map(Amount::micros);
        assert_eq!(m("16"), Some(16_000_000));
        assert_eq!(m("-0.5"), Some(-500_000));
        assert_eq!(m("1.2799888920023"), Some(1_279_989));
        assert_eq!(m("30.7197334080551"), Some(30_719_733));
        assert_eq!(m("0.0000005"), Some(1), "half a millionth rounds up");
        assert_eq!(m("0.0000004"), Some(0));
        assert_eq!(m("1.5E-05"), Some(15));
        assert_eq!(m("2.5e3"), Some(2_500_000_000));
        assert_eq!(m("5e-7"), Some(1));
        assert_eq!(m("4e-7"), Some(0));
        assert_eq!(m(".25"), Some(250_000));
        assert_eq!(m("+3"), Some(3_000_000));
        for bad in ["", "abc", "1.2.3", "1e", "--1", "0x10", "1,5"] {
            assert_eq!(m(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_come_as_numbers_or_strings() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(default, deserialize_with = "amount")]
            price: Amount,
            #[serde(default, deserialize_with = "number")]
            quantity: f64,
            #[serde(default, deserialize_with = "string")]
            name: String,
            #[serde(default, deserialize_with = "opt_amount")]
            budget: Option<Amount>,
        }
        let r: Row =
            serde_json::from_str(r#"{"price":"16","quantity":"24.5","name":42,"budget":""}"#)
                .unwrap();
        assert_eq!(
            (r.price.micros(), r.quantity, r.name.as_str(), r.budget),
            (16_000_000, 24.5, "42", None)
        );
        let r: Row =
            serde_json::from_str(r#"{"price":820,"quantity":null,"name":null,"budget":97}"#)
                .unwrap();
        assert_eq!(
            (r.price.micros(), r.quantity, r.name.as_str()),
            (820_000_000, 0.0, "")
        );
        assert_eq!(r.budget, Some(Amount::from_micros(97_000_000)));
        let r: Row = serde_json::from_str("{}").unwrap();
        assert_eq!(
            (r.price, r.name.as_str(), r.budget),
            (Amount::ZERO, "", None)
        );
        assert!(serde_json::from_str::<Row>(r#"{"price":"twelve"}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"price":[1]}"#).is_err());
    }

    #[test]
    fn days_in_every_form_the_service_writes() {
        for (text, expected) in [
            ("2025-05-14T00:00:00Z", "2025-05-14"),
            ("2019-09-01T00:00:00+00:00", "2019-09-01"),
            ("2023-03-09T08:12:53", "2023-03-09"),
            ("2023-03-09T08:37:48.5046691Z", "2023-03-09"),
            ("2026-11-02", "2026-11-02"),
            ("2/1/2019 0:00", "2019-02-01"),
            ("12/31/2025", "2025-12-31"),
            (" 2026-01-05T00:00:00Z ", "2026-01-05"),
        ] {
            assert_eq!(day(text), Some(d(expected)), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "31/12/2025",
            "2026-11-02x",
            "1/2/26",
            "2026/11/02",
        ] {
            assert_eq!(day(bad), None, "{bad}");
        }
    }

    #[test]
    fn entities_are_decoded_once() {
        assert_eq!(
            decode_entities("/v1/customers?size=40&amp;seekOperation=Next"),
            "/v1/customers?size=40&seekOperation=Next"
        );
        assert_eq!(
            decode_entities("can&#39;t &quot;x&quot; &#x27;y&#x27;"),
            "can't \"x\" 'y'"
        );
        assert_eq!(
            decode_entities("a&amp;amp;b"),
            "a&amp;b",
            "decoded once, not twice"
        );
        assert_eq!(
            decode_entities("fish & chips &unknown; &"),
            "fish & chips &unknown; &"
        );
    }
}
