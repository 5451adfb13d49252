//! Files people take away: CSV of any table (FOCUS rows are in
//! [`crate::focus`]).

use crate::money::Amount;
use crate::usage::LineItem;

/// Whether a spreadsheet could run this cell as a formula (OWASP's CSV
/// injection rule): `=`, `+`, `-`, `@`, a tab or a carriage return first,
/// in their full-width forms too, and after any leading white space (which
/// spreadsheets skip). A negative number is a number.
pub fn formula_like(field: &str) -> bool {
    if field.starts_with(['\t', '\r']) {
        return true;
    }
    let rest = field.trim_start();
    let first = rest.chars().next();
    matches!(
        first,
        Some('=' | '+' | '@' | '\t' | '\r' | '＝' | '＋' | '＠' | '－')
    ) || (first == Some('-') && !negative_decimal(rest))
}

/// A negative number as the exports write one (`-12.5`): digits with one
/// point at most. Stricter than `str::parse::<f64>` (no `-inf`, no
/// exponent: such a cell is quoted), which would also bring its tables into
/// the browser's first load for this one check.
fn negative_decimal(text: &str) -> bool {
    let Some(number) = text.strip_prefix('-') else {
        return false;
    };
    let (mut digits, mut points) = (0, 0);
    for c in number.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            _ => return false,
        }
    }
    digits > 0 && points <= 1
}

/// Appends one CSV record (RFC 4180). Formula-like text ([`formula_like`])
/// is prefixed with `'` so that a customer-controlled name or tag cannot
/// become a formula.
pub fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = field.as_ref();
        let risky = formula_like(field);
        let needs_quotes = risky || field.contains([',', '"', '\n', '\r']) || field.trim() != field;
        if needs_quotes {
            out.push('"');
            if risky {
                out.push('\'');
            }
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// A line's usage cells, from its Azure subscription to its quantity, as
/// both line-item CSVs (the partner's and a customer's own) write them.
pub fn usage_cells(l: &LineItem) -> [String; 9] {
    [
        l.entitlement_name.clone(),
        l.resource_group.clone(),
        l.resource_name().to_string(),
        l.meter_category.clone(),
        l.meter_subcategory.clone(),
        l.meter_name.clone(),
        l.region.clone(),
        l.unit.clone(),
        decimal(l.quantity_micros),
    ]
}

/// Exact decimal text of an amount in millionths.
pub fn decimal(micros: i64) -> String {
    let text = Amount::from_micros(micros).to_decimal_string(6);
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() || trimmed == "-" {
        "0".into()
    } else {
        trimmed.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let mut out = String::new();
        write_record(
            &mut out,
            &[
                "plain",
                "a,b",
                "say \"hi\"",
                "=HYPERLINK(\"x\")",
                "-12.5",
                "-x",
                " pad",
            ],
        );
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",-12.5,\"'-x\",\" pad\"\r\n"
        );
    }

    #[test]
    fn only_a_plain_negative_number_escapes_the_quote() {
        for number in ["-12.5", "-0", "-3.", "-.5", "-1234567.891234"] {
            assert!(!formula_like(number), "{number}");
        }
        for risky in [
            "-", "-.", "-1.2.3", "-1e5", "-inf", "-NaN", "-1 ", "-1+1", "--1",
        ] {
            assert!(formula_like(risky), "{risky}");
        }
    }

    #[test]
    fn decimals_are_exact_and_short() {
        assert_eq!(decimal(30_719_733), "30.719733");
        assert_eq!(decimal(1_500_000), "1.5");
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(-2_000_000), "-2");
    }
}
