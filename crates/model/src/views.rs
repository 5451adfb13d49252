//! View logic the browser runs on every keystroke or click, kept here so it
//! is plain Rust with native tests: searching and sorting the customer
//! list, and the CSV files of what a view shows.

use crate::api::CustomerSummary;
use crate::export::{decimal, write_record};
use crate::overview::Rates;

/// Columns the customer list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerColumn {
    Name,
    Currency,
    MonthToDate,
    Price,
    Margin,
    Forecast,
    LastMonth,
    BudgetUsed,
}

impl CustomerColumn {
    pub const ALL: [CustomerColumn; 8] = [
        CustomerColumn::Name,
        CustomerColumn::Currency,
        CustomerColumn::MonthToDate,
        CustomerColumn::Price,
        CustomerColumn::Margin,
        CustomerColumn::Forecast,
        CustomerColumn::LastMonth,
        CustomerColumn::BudgetUsed,
    ];

    /// The name in the URL (`?sort=mtd`).
    pub fn key(self) -> &'static str {
        match self {
            CustomerColumn::Name => "name",
            CustomerColumn::Currency => "currency",
            CustomerColumn::MonthToDate => "mtd",
            CustomerColumn::Price => "price",
            CustomerColumn::Margin => "margin",
            CustomerColumn::Forecast => "forecast",
            CustomerColumn::LastMonth => "last",
            CustomerColumn::BudgetUsed => "budget",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CustomerColumn::Name => "Customer",
            CustomerColumn::Currency => "Currency",
            CustomerColumn::MonthToDate => "Partner cost (month to date)",
            CustomerColumn::Price => "Customer price",
            CustomerColumn::Margin => "Margin",
            CustomerColumn::Forecast => "Forecast",
            CustomerColumn::LastMonth => "Last month",
            CustomerColumn::BudgetUsed => "Budget used",
        }
    }

    pub fn from_key(key: &str) -> Option<CustomerColumn> {
        CustomerColumn::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// Rows whose name or domain contains `search` (any case), sorted by
/// `column`; ties by name, so the order is stable.
/// Amounts are compared in the reporting currency when `rates` convert
/// every customer's currency; otherwise customers are grouped by currency
/// and sorted within it, since ¥648,064 is not more than $8,956.
pub fn customer_rows<'a>(
    rows: &'a [CustomerSummary],
    search: &str,
    column: CustomerColumn,
    descending: bool,
    rates: Option<&Rates>,
) -> Vec<&'a CustomerSummary> {
    let needle = search.trim().to_lowercase();
    let mut out: Vec<&CustomerSummary> = rows
        .iter()
        .filter(|c| {
            needle.is_empty()
                || c.name.to_lowercase().contains(&needle)
                || c.domain.to_lowercase().contains(&needle)
        })
        .collect();
    let amount = |c: &CustomerSummary| match column {
        CustomerColumn::MonthToDate => Some(c.month_to_date.partner_cost),
        CustomerColumn::Price => Some(c.month_to_date.customer_price),
        CustomerColumn::Margin => Some(c.month_to_date.margin()),
        CustomerColumn::Forecast => Some(c.forecast.partner_cost),
        CustomerColumn::LastMonth => Some(c.last_month.partner_cost),
        CustomerColumn::Name | CustomerColumn::Currency | CustomerColumn::BudgetUsed => None,
    };
    let currency = |c: &CustomerSummary| c.currency.clone().unwrap_or_default();
    let converted = rates.filter(|r| {
        let currencies: Vec<String> = out.iter().map(|c| currency(c)).collect();
        r.converts_all(currencies.iter().map(String::as_str))
    });
    let key = |c: &CustomerSummary| {
        amount(c).map(|a| match converted {
            Some(r) => crate::report::convert(a, r.rate(&currency(c)).unwrap_or(0)),
            None => a,
        })
    };
    // Amounts that cannot be compared are grouped by currency first.
    let grouped = converted.is_none() && amount(&CustomerSummary::default()).is_some();
    out.sort_by(|a, b| {
        let ord = match column {
            CustomerColumn::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            CustomerColumn::Currency => a.currency.cmp(&b.currency),
            CustomerColumn::BudgetUsed => a.budget_used.cmp(&b.budget_used),
            _ => key(a).cmp(&key(b)),
        };
        let ord = if descending { ord.reverse() } else { ord };
        let group = if grouped {
            a.currency.cmp(&b.currency)
        } else {
            std::cmp::Ordering::Equal
        };
        group
            .then(ord)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// The customer list as CSV, the rows in the order shown.
pub fn customers_csv(rows: &[&CustomerSummary]) -> String {
    let mut out = String::new();
    write_record(
        &mut out,
        &[
            "Customer",
            "Customer ID",
            "Domain",
            "Currency",
            "Partner cost (month to date)",
            "Customer price (month to date)",
            "Margin (month to date)",
            "Forecast partner cost",
            "Last month partner cost",
            "Budget",
            "Budget used %",
        ],
    );
    for c in rows {
        write_record(
            &mut out,
            &[
                c.name.clone(),
                c.id.clone(),
                c.domain.clone(),
                c.currency.clone().unwrap_or_default(),
                decimal(c.month_to_date.partner_cost),
                decimal(c.month_to_date.customer_price),
                decimal(c.month_to_date.margin()),
                decimal(c.forecast.partner_cost),
                decimal(c.last_month.partner_cost),
                c.budget.map(decimal).unwrap_or_default(),
                c.budget_used
                    .map(|b| decimal(b * 10_000))
                    .unwrap_or_default(),
            ],
        );
    }
    out
}

/// A table of text cells as CSV (for views that build their own rows).
/// The days a named period covers, counted from the last day with data
/// (`as_of`): this month (the default), last month, or the last 7, 30 or 90
/// days.
pub fn preset_range(
    name: &str,
    as_of: chrono::NaiveDate,
) -> (chrono::NaiveDate, chrono::NaiveDate) {
    use chrono::{Datelike, Days};
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    match name {
        "last-month" => {
            let end = month_start - Days::new(1);
            (end.with_day(1).unwrap_or(end), end)
        }
        "7d" => (as_of - Days::new(6), as_of),
        "30d" => (as_of - Days::new(29), as_of),
        "90d" => (as_of - Days::new(89), as_of),
        _ => (month_start, as_of),
    }
}

pub fn table_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    write_record(&mut out, header);
    for r in rows {
        write_record(&mut out, r);
    }
    out
}

/// Percent change from `before` to `now`, in basis points; None from zero.
pub fn change_basis_points(now: i64, before: i64) -> Option<i64> {
    (before != 0).then(|| ((now - before) as i128 * 10_000 / before.abs() as i128) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_count_from_the_last_day_with_data() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let as_of = d("2026-03-31");
        assert_eq!(preset_range("", as_of), (d("2026-03-01"), as_of));
        assert_eq!(
            preset_range("last-month", as_of),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(preset_range("7d", as_of), (d("2026-03-25"), as_of));
        assert_eq!(preset_range("90d", as_of), (d("2026-01-01"), as_of));
        assert_eq!(
            preset_range("unknown", d("2026-01-01")),
            (d("2026-01-01"), d("2026-01-01"))
        );
    }
    use crate::report::CostPrice;

    fn row(name: &str, cost: i64, currency: &str) -> CustomerSummary {
        CustomerSummary {
            id: format!("id-{name}"),
            name: name.into(),
            domain: format!("{}.onmicrosoft.com", name.to_lowercase()),
            currency: Some(currency.into()),
            month_to_date: CostPrice {
                partner_cost: cost,
                customer_price: cost * 2,
            },
            ..Default::default()
        }
    }

    #[test]
    fn searches_names_and_domains_and_sorts_stably() {
        let rows = vec![
            row("Coho", 5, "EUR"),
            row("adatum", 9, "USD"),
            row("Bellows", 9, "USD"),
        ];
        let names = |v: Vec<&CustomerSummary>| v.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(customer_rows(&rows, "", CustomerColumn::Name, false, None)),
            ["adatum", "Bellows", "Coho"]
        );
        // No rates: EUR and USD are sorted each on its own.
        assert_eq!(
            names(customer_rows(
                &rows,
                "",
                CustomerColumn::MonthToDate,
                true,
                None
            )),
            ["Coho", "adatum", "Bellows"]
        );
        // 5 EUR at 2.0 is 10 USD, more than 9 USD.
        let rates = Rates {
            of: None,
            currency: "USD".into(),
            rates: vec![("EUR".into(), 2_000_000)],
        };
        assert_eq!(
            names(customer_rows(
                &rows,
                "",
                CustomerColumn::MonthToDate,
                true,
                Some(&rates)
            )),
            ["Coho", "adatum", "Bellows"]
        );
        let cheap = Rates {
            of: None,
            currency: "USD".into(),
            rates: vec![("EUR".into(), 1_000_000)],
        };
        assert_eq!(
            names(customer_rows(
                &rows,
                "",
                CustomerColumn::MonthToDate,
                true,
                Some(&cheap)
            )),
            ["adatum", "Bellows", "Coho"]
        );
        assert_eq!(
            names(customer_rows(
                &rows,
                "",
                CustomerColumn::MonthToDate,
                false,
                Some(&cheap)
            )),
            ["Coho", "adatum", "Bellows"]
        );
        assert_eq!(
            names(customer_rows(
                &rows,
                "BELL",
                CustomerColumn::Name,
                false,
                None
            )),
            ["Bellows"]
        );
        assert_eq!(
            names(customer_rows(
                &rows,
                "coho.onmicro",
                CustomerColumn::Name,
                false,
                None
            )),
            ["Coho"]
        );
        assert_eq!(
            CustomerColumn::from_key("margin"),
            Some(CustomerColumn::Margin)
        );
    }

    #[test]
    fn the_csv_carries_the_rows_shown() {
        let rows = [row("Coho", 5_500_000, "EUR")];
        let csv = customers_csv(&rows.iter().collect::<Vec<_>>());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("Coho,id-Coho,coho.onmicrosoft.com,EUR,5.5,11,5.5,"));
    }

    #[test]
    fn change_is_relative_to_before() {
        assert_eq!(change_basis_points(110, 100), Some(1_000));
        assert_eq!(change_basis_points(90, 100), Some(-1_000));
        assert_eq!(change_basis_points(5, 0), None);
    }
}
