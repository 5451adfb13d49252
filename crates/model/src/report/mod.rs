//! The numbers of the overview and the customer list, from daily costs per
//! customer: month to date, last month, forecast, budgets, margin and
//! anomalies. Shared by the proxy (which aggregates across customers) and
//! anything else that holds daily costs.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::anomaly;
use crate::forecast;

/// One customer's cost on one day in one currency, in millionths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayCost {
    pub customer_id: String,
    pub currency: String,
    pub day: NaiveDate,
    pub partner_cost: i64,
    pub customer_price: i64,
    pub list_cost: i64,
}

/// Partner cost and customer price; margin is their difference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostPrice {
    pub partner_cost: i64,
    pub customer_price: i64,
}

impl CostPrice {
    pub fn margin(&self) -> i64 {
        self.customer_price - self.partner_cost
    }

    /// Margin as a share of price, in basis points; None without a price.
    pub fn margin_basis_points(&self) -> Option<i64> {
        (self.customer_price != 0)
            .then(|| (self.margin() as i128 * 10_000 / self.customer_price as i128) as i64)
    }

    fn add(&mut self, d: &DayCost) {
        self.partner_cost += d.partner_cost;
        self.customer_price += d.customer_price;
    }
}

/// The calendar periods a report compares, from the last day with data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    pub as_of: NaiveDate,
    pub month_start: NaiveDate,
    pub last_month_start: NaiveDate,
    pub last_month_end: NaiveDate,
    /// Last month up to the same day of the month, for a like-for-like change.
    pub last_month_same_day: NaiveDate,
}

impl Periods {
    pub fn new(as_of: NaiveDate) -> Periods {
        let month_start = NaiveDate::from_ymd_opt(as_of.year(), as_of.month(), 1).expect("valid");
        let last_month_start = month_start
            .checked_sub_months(Months::new(1))
            .expect("in range");
        let last_month_end = month_start - Days::new(1);
        let same = last_month_start
            .with_day(as_of.day())
            .unwrap_or(last_month_end)
            .min(last_month_end);
        Periods {
            as_of,
            month_start,
            last_month_start,
            last_month_end,
            last_month_same_day: same,
        }
    }

    /// The first day the reports need data from.
    pub fn needs_from(&self) -> NaiveDate {
        (self.as_of - Days::new(anomaly::WINDOW as u64 + 7)).min(self.last_month_start)
    }
}

/// A customer's figures in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerFigures {
    pub customer_id: String,
    pub currency: String,
    pub month_to_date: CostPrice,
    pub last_month: CostPrice,
    pub last_month_to_same_day: CostPrice,
    /// Partner cost forecast to month end.
    pub forecast: i64,
    /// Customer price forecast to month end.
    pub forecast_price: i64,
    /// Days this month with anomalous cost.
    pub anomalies: Vec<anomaly::Anomaly>,
}

impl CustomerFigures {
    /// Margin fell against last month (like for like), by at least one point.
    pub fn margin_fell(&self) -> bool {
        crate::margin::margin_fell(
            self.month_to_date.margin_basis_points(),
            self.last_month_to_same_day.margin_basis_points(),
        )
    }
}

/// Budget state: PC's usage budget is compared with the partner cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BudgetState {
    #[default]
    NoBudget,
    Within,
    /// The forecast to month end is over the budget.
    TrendingOver,
    Over,
}

/// The years a report's days may fall in: usage has none before 2000, and
/// days near chrono's ends overflow the date arithmetic every report does.
pub const REPORT_YEARS: std::ops::RangeInclusive<i32> = 2000..=2199;

/// A day a request names (`2026-11-01`), within [`REPORT_YEARS`].
pub fn request_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| REPORT_YEARS.contains(&d.year()))
}

pub fn budget_state(budget: Option<i64>, month_to_date: i64, forecast: i64) -> BudgetState {
    match budget {
        None => BudgetState::NoBudget,
        Some(b) if month_to_date > b => BudgetState::Over,
        Some(b) if forecast > b => BudgetState::TrendingOver,
        Some(_) => BudgetState::Within,
    }
}

/// Percent of the budget used, in basis points (10000 = 100 %).
pub fn budget_used(budget: Option<i64>, month_to_date: i64) -> Option<i64> {
    budget
        .filter(|b| *b > 0)
        .map(|b| (month_to_date as i128 * 10_000 / b as i128) as i64)
}

/// Figures per customer and currency from their daily costs.
pub fn customer_figures(days: &[DayCost], periods: &Periods) -> Vec<CustomerFigures> {
    let mut by: BTreeMap<(&str, &str), Vec<&DayCost>> = BTreeMap::new();
    for d in days {
        by.entry((&d.customer_id, &d.currency)).or_default().push(d);
    }
    by.into_iter()
        .map(|((customer, currency), mut ds)| {
            ds.sort_by_key(|d| d.day);
            let mut f = CustomerFigures {
                customer_id: customer.to_string(),
                currency: currency.to_string(),
                month_to_date: CostPrice::default(),
                last_month: CostPrice::default(),
                last_month_to_same_day: CostPrice::default(),
                forecast: 0,
                forecast_price: 0,
                anomalies: Vec::new(),
            };
            for d in &ds {
                if d.day >= periods.month_start && d.day <= periods.as_of {
                    f.month_to_date.add(d);
                }
                if d.day >= periods.last_month_start && d.day <= periods.last_month_end {
                    f.last_month.add(d);
                    if d.day <= periods.last_month_same_day {
                        f.last_month_to_same_day.add(d);
                    }
                }
            }
            let series = |value: fn(&DayCost) -> i64| -> Vec<(NaiveDate, i64)> {
                dense(
                    ds.iter().map(|d| (d.day, value(d))),
                    periods.needs_from(),
                    periods.as_of,
                )
            };
            let cost = series(|d| d.partner_cost);
            f.forecast = forecast::month_end(&cost, periods.as_of).total;
            f.forecast_price =
                forecast::month_end(&series(|d| d.customer_price), periods.as_of).total;
            f.anomalies = anomaly::detect(&cost)
                .into_iter()
                .filter(|a| a.day >= periods.month_start)
                .collect();
            f
        })
        .collect()
}

/// Every day from `from` to `to`, with zero where nothing was used.
pub fn dense(
    values: impl Iterator<Item = (NaiveDate, i64)>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(NaiveDate, i64)> {
    let mut sums: HashMap<NaiveDate, i64> = HashMap::new();
    for (d, v) in values {
        *sums.entry(d).or_default() += v;
    }
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push((d, sums.get(&d).copied().unwrap_or(0)));
        d = d + Days::new(1);
    }
    out
}

/// The exchange rates a partner may set (units of the reporting currency
/// per unit, in millionths): one millionth to a million. No two currencies
/// in use are further apart; anything beyond is a typing mistake.
pub const RATE_MICROS: std::ops::RangeInclusive<i64> = 1..=1_000_000_000_000;

/// Converts an amount to the reporting currency at the partner's rate
/// (units of the reporting currency per unit, in millionths); none when the
/// result does not fit.
pub fn checked_convert(micros: i64, rate_micros: i64) -> Option<i64> {
    let v = micros as i128 * rate_micros as i128;
    let rounded = if v >= 0 {
        (v + 500_000) / 1_000_000
    } else {
        (v - 500_000) / 1_000_000
    };
    i64::try_from(rounded).ok()
}

/// [`checked_convert`], held at the ends of the range where it does not
/// fit (for ordering only).
pub fn convert(micros: i64, rate_micros: i64) -> i64 {
    checked_convert(micros, rate_micros).unwrap_or(if (micros < 0) == (rate_micros < 0) {
        i64::MAX
    } else {
        i64::MIN
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(customer: &str, d: &str, cost: i64, price: i64) -> DayCost {
        DayCost {
            customer_id: customer.into(),
            currency: "USD".into(),
            day: d.parse().unwrap(),
            partner_cost: cost,
            customer_price: price,
            list_cost: price,
        }
    }

    #[test]
    fn periods_compare_like_for_like() {
        let p = Periods::new("2026-03-31".parse().unwrap());
        assert_eq!(p.last_month_same_day, "2026-02-28".parse().unwrap());
        assert_eq!(p.month_start, "2026-03-01".parse().unwrap());
    }

    #[test]
    fn figures_split_months_and_flag_falling_margin() {
        let mut days = Vec::new();
        for d in 1..=31 {
            days.push(day("a", &format!("2026-10-{d:02}"), 100, 150));
        }
        for d in 1..=10 {
            days.push(day("a", &format!("2026-11-{d:02}"), 100, 110));
        }
        let p = Periods::new("2026-11-10".parse().unwrap());
        let f = &customer_figures(&days, &p)[0];
        assert_eq!(
            f.month_to_date,
            CostPrice {
                partner_cost: 1_000,
                customer_price: 1_100
            }
        );
        assert_eq!(f.last_month.partner_cost, 3_100);
        assert_eq!(f.last_month_to_same_day.partner_cost, 1_000);
        assert_eq!(f.forecast, 3_000);
        assert!(f.margin_fell());
    }

    #[test]
    fn budget_states() {
        assert_eq!(budget_state(None, 5, 10), BudgetState::NoBudget);
        assert_eq!(budget_state(Some(20), 5, 10), BudgetState::Within);
        assert_eq!(budget_state(Some(8), 5, 10), BudgetState::TrendingOver);
        assert_eq!(budget_state(Some(4), 5, 10), BudgetState::Over);
        assert_eq!(budget_used(Some(200), 50), Some(2_500));
        assert_eq!(convert(1_000_000, 920_000), 920_000);
    }
}
