//! The customer list and the overview from what the store holds: per
//! customer and currency figures, daily costs, costs per service, budgets
//! and markups, and the partner's exchange rates. Pure arithmetic: the
//! proxy reads the store and calls these.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};

use crate::api::{
    BudgetAlert, CurrencyTotals, CustomerAnomaly, CustomerRow, CustomerSummary, DailyPoint,
    MarginFall, Overview, Ranked,
};
use crate::pricing::Markup;
pub use crate::rates::Rates;
use crate::report::{self, BudgetState, CostPrice, CustomerFigures, DayCost, Periods};

/// Days of history the overview's trend shows, the last day with data included.
pub const TREND_DAYS: u64 = 60;

/// Alert thresholds a customer has until the partner sets its own.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];

/// Top customers and services the overview lists.
const TOP: usize = 10;

/// The cost of one service (meter category) in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCost {
    pub category: String,
    pub currency: String,
    pub cost: CostPrice,
}

/// What the store knows of a customer besides its usage.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFacts {
    pub customer: CustomerRow,
    /// Partner Center's usage budget, in millionths of the customer's currency.
    pub budget: Option<i64>,
    pub subscriptions: u32,
    pub azure_subscriptions: u32,
    /// The partner's own thresholds for this customer, if set.
    pub thresholds: Option<Vec<u32>>,
    pub markup: Markup,
}

/// The first day the overview needs daily costs from: what the figures
/// need (last month, the anomaly window) and the trend.
pub fn needs_from(as_of: NaiveDate) -> NaiveDate {
    Periods::new(as_of)
        .needs_from()
        .min(as_of - Days::new(TREND_DAYS - 1))
}

/// Every customer with this month's figures; a customer billed in two
/// currencies (rare) is listed in its larger one.
pub fn customer_summaries(
    facts: Vec<CustomerFacts>,
    figures: &[CustomerFigures],
) -> Vec<CustomerSummary> {
    let mut main: HashMap<&str, &CustomerFigures> = HashMap::new();
    for f in figures {
        let entry = main.entry(&f.customer_id).or_insert(f);
        if f.month_to_date.partner_cost > entry.month_to_date.partner_cost {
            *entry = f;
        }
    }
    facts
        .into_iter()
        .map(|facts| {
            let c = facts.customer;
            let f = main.get(c.id.as_str()).copied();
            let mtd = f.map(|f| f.month_to_date).unwrap_or_default();
            let forecast = f
                .map(|f| CostPrice {
                    partner_cost: f.forecast,
                    customer_price: f.forecast_price,
                })
                .unwrap_or_default();
            CustomerSummary {
                currency: f.map(|f| f.currency.clone()),
                subscriptions: facts.subscriptions,
                azure_subscriptions: facts.azure_subscriptions,
                month_to_date: mtd,
                last_month: f.map(|f| f.last_month).unwrap_or_default(),
                forecast,
                budget: facts.budget,
                budget_used: report::budget_used(facts.budget, mtd.partner_cost),
                budget_state: report::budget_state(
                    facts.budget,
                    mtd.partner_cost,
                    forecast.partner_cost,
                ),
                budget_thresholds: facts
                    .thresholds
                    .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec()),
                margin_fell: f.is_some_and(|f| f.margin_fell()),
                anomalies: f.map(|f| f.anomalies.clone()).unwrap_or_default(),
                markup: facts.markup,
                id: c.id,
                name: c.name,
                domain: c.domain,
            }
        })
        .collect()
}

/// Sums of one currency's real costs, which stay far inside i64.
fn add(a: &mut CostPrice, b: &CostPrice) {
    a.partner_cost += b.partner_cost;
    a.customer_price += b.customer_price;
}

/// Sums of converted amounts, checked: a rate can make them anything.
fn checked_add(a: &mut CostPrice, b: &CostPrice) -> Option<()> {
    a.partner_cost = a.partner_cost.checked_add(b.partner_cost)?;
    a.customer_price = a.customer_price.checked_add(b.customer_price)?;
    Some(())
}

fn convert(c: &CostPrice, rate: i64) -> Option<CostPrice> {
    Some(CostPrice {
        partner_cost: report::checked_convert(c.partner_cost, rate)?,
        customer_price: report::checked_convert(c.customer_price, rate)?,
    })
}

fn empty_totals(currency: &str) -> CurrencyTotals {
    CurrencyTotals {
        currency: currency.to_string(),
        month_to_date: CostPrice::default(),
        last_month: CostPrice::default(),
        last_month_to_same_day: CostPrice::default(),
        forecast: CostPrice::default(),
    }
}

/// Totals per currency, in currency order.
pub fn totals_by_currency(figures: &[CustomerFigures]) -> Vec<CurrencyTotals> {
    let mut by: BTreeMap<&str, CurrencyTotals> = BTreeMap::new();
    for f in figures {
        let t = by
            .entry(&f.currency)
            .or_insert_with(|| empty_totals(&f.currency));
        add(&mut t.month_to_date, &f.month_to_date);
        add(&mut t.last_month, &f.last_month);
        add(&mut t.last_month_to_same_day, &f.last_month_to_same_day);
        add(
            &mut t.forecast,
            &CostPrice {
                partner_cost: f.forecast,
                customer_price: f.forecast_price,
            },
        );
    }
    by.into_values().collect()
}

/// All currencies in the reporting currency, when every one has a rate and
/// the sums fit (checked: a wrapped total would be a wrong figure shown).
pub fn converted_totals(by_currency: &[CurrencyTotals], rates: &Rates) -> Option<CurrencyTotals> {
    let mut total = empty_totals(&rates.currency);
    for t in by_currency {
        let r = rates.rate(&t.currency)?;
        checked_add(&mut total.month_to_date, &convert(&t.month_to_date, r)?)?;
        checked_add(&mut total.last_month, &convert(&t.last_month, r)?)?;
        checked_add(
            &mut total.last_month_to_same_day,
            &convert(&t.last_month_to_same_day, r)?,
        )?;
        checked_add(&mut total.forecast, &convert(&t.forecast, r)?)?;
    }
    Some(total)
}

/// Each currency's daily partner cost and price over the trend's days,
/// with zero on days without usage: a gap day is on the chart, at zero.
pub fn trend(days: &[DayCost], as_of: NaiveDate) -> Vec<DailyPoint> {
    let from = as_of - Days::new(TREND_DAYS - 1);
    let mut sums: BTreeMap<(&str, NaiveDate), CostPrice> = BTreeMap::new();
    let mut currencies: Vec<&str> = Vec::new();
    for d in days.iter().filter(|d| d.day >= from && d.day <= as_of) {
        if !currencies.contains(&d.currency.as_str()) {
            currencies.push(&d.currency);
        }
        let p = sums.entry((&d.currency, d.day)).or_default();
        p.partner_cost += d.partner_cost;
        p.customer_price += d.customer_price;
    }
    currencies.sort_unstable();
    let mut out = Vec::new();
    let mut day = from;
    while day <= as_of {
        for currency in &currencies {
            let p = sums.get(&(*currency, day)).copied().unwrap_or_default();
            out.push(DailyPoint {
                day,
                currency: currency.to_string(),
                partner_cost: p.partner_cost,
                customer_price: p.customer_price,
            });
        }
        day = day + Days::new(1);
    }
    out
}

/// The largest `TOP`, compared in the reporting currency when every
/// currency has a rate to it. Without one, amounts of different currencies
/// cannot be compared (¥101,575 is not more than $4,038): each currency is
/// ranked on its own, its largest few kept, currency by currency.
pub fn top(mut items: Vec<Ranked>, rates: &Rates) -> Vec<Ranked> {
    let cost = |r: &Ranked| r.month_to_date.partner_cost;
    if rates.converts_all(items.iter().map(|r| r.currency.as_str())) {
        let key = |r: &Ranked| report::convert(cost(r), rates.rate(&r.currency).unwrap_or(0));
        items.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name)));
        items.truncate(TOP);
        return items;
    }
    items.sort_by(|a, b| {
        a.currency
            .cmp(&b.currency)
            .then_with(|| cost(b).cmp(&cost(a)))
            .then_with(|| a.name.cmp(&b.name))
    });
    let currencies = items.chunk_by(|a, b| a.currency == b.currency).count();
    let each = TOP.div_ceil(currencies.max(1)).max(3);
    items
        .chunk_by(|a, b| a.currency == b.currency)
        .flat_map(|group| group.iter().take(each).cloned())
        .collect()
}

/// The overview of all customers. `days` are the daily costs from
/// [`needs_from`] to `as_of`, `categories` this month's cost per service.
pub fn overview(
    as_of: Option<NaiveDate>,
    customers: &[CustomerSummary],
    figures: &[CustomerFigures],
    days: &[DayCost],
    categories: &[CategoryCost],
    rates: &Rates,
) -> Overview {
    let names: HashMap<&str, &str> = customers
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    let name = |id: &str| names.get(id).copied().unwrap_or_default().to_string();
    let by_currency = totals_by_currency(figures);
    let missing_rates: Vec<String> = by_currency
        .iter()
        .filter(|t| rates.rate(&t.currency).is_none())
        .map(|t| t.currency.clone())
        .collect();
    let converted = converted_totals(&by_currency, rates);

    let daily = as_of.map(|d| trend(days, d)).unwrap_or_default();
    let top_services: Vec<Ranked> = categories
        .iter()
        .map(|c| Ranked {
            id: c.category.clone(),
            name: c.category.clone(),
            currency: c.currency.clone(),
            month_to_date: c.cost,
        })
        .collect();
    let top_services = top(top_services, rates);

    let top_customers: Vec<Ranked> = figures
        .iter()
        .filter(|f| f.month_to_date.partner_cost != 0)
        .map(|f| Ranked {
            id: f.customer_id.clone(),
            name: name(&f.customer_id),
            currency: f.currency.clone(),
            month_to_date: f.month_to_date,
        })
        .collect();
    let top_customers = top(top_customers, rates);

    let mut budget_alerts: Vec<BudgetAlert> = customers
        .iter()
        .filter(|c| {
            matches!(
                c.budget_state,
                BudgetState::Over | BudgetState::TrendingOver
            )
        })
        .map(|c| BudgetAlert {
            customer_id: c.id.clone(),
            name: c.name.clone(),
            currency: c.currency.clone().unwrap_or_default(),
            budget: c.budget.unwrap_or_default(),
            month_to_date: c.month_to_date.partner_cost,
            forecast: c.forecast.partner_cost,
            state: c.budget_state,
            used: c.budget_used,
        })
        .collect();
    budget_alerts.sort_by_key(|b| std::cmp::Reverse(b.used));

    let mut anomalies: Vec<CustomerAnomaly> = figures
        .iter()
        .flat_map(|f| {
            f.anomalies.iter().map(|a| CustomerAnomaly {
                customer_id: f.customer_id.clone(),
                name: name(&f.customer_id),
                currency: f.currency.clone(),
                anomaly: *a,
            })
        })
        .collect();
    anomalies.sort_by(|a, b| b.anomaly.day.cmp(&a.anomaly.day).then(a.name.cmp(&b.name)));

    let mut margin_falls: Vec<MarginFall> = figures
        .iter()
        .filter(|f| f.margin_fell())
        .filter_map(|f| {
            Some(MarginFall {
                customer_id: f.customer_id.clone(),
                name: name(&f.customer_id),
                now: f.month_to_date.margin_basis_points()?,
                before: f.last_month_to_same_day.margin_basis_points()?,
            })
        })
        .collect();
    margin_falls.sort_by(|a, b| {
        (a.now - a.before)
            .cmp(&(b.now - b.before))
            .then(a.name.cmp(&b.name))
    });

    Overview {
        as_of,
        by_currency,
        converted,
        reporting: rates.settings(),
        missing_rates,
        daily,
        top_customers,
        top_services,
        budget_alerts,
        anomalies,
        margin_falls,
        customers: customers.len(),
        incomplete: Vec::new(),
        history_pending: false,
    }
}

#[cfg(test)]
mod overflow_tests {
    use super::*;

    /// A rate far past any real one makes no wrapped (negative) total: the
    /// converted figure is left out instead.
    #[test]
    fn converted_totals_that_do_not_fit_are_left_out_not_wrapped() {
        let mut t = empty_totals("JPY");
        t.month_to_date.partner_cost = 9_000_000_000_000_000_000;
        let rates = Rates {
            of: None,
            currency: "USD".into(),
            rates: vec![("JPY".into(), 2_000_000)],
        };
        assert_eq!(converted_totals(std::slice::from_ref(&t), &rates), None);
        // Two that fit alone but not together.
        t.month_to_date.partner_cost = 5_000_000_000_000_000_000;
        let one = Rates {
            of: None,
            currency: "USD".into(),
            rates: vec![("JPY".into(), 1_000_000), ("EUR".into(), 1_000_000)],
        };
        let mut e = t.clone();
        e.currency = "EUR".into();
        assert_eq!(converted_totals(&[t.clone(), e], &one), None);
        // At sane figures, the exact sum.
        t.month_to_date.partner_cost = 1_500_000;
        assert_eq!(
            converted_totals(&[t], &rates)
                .unwrap()
                .month_to_date
                .partner_cost,
            3_000_000
        );
        assert_eq!(report::convert(i64::MAX, 2_000_000), i64::MAX);
        assert_eq!(report::convert(i64::MIN, 2_000_000), i64::MIN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::MarkupBasis;
    use crate::rates::{ExchangeRate, ReportingSettings};

    fn day(customer: &str, currency: &str, d: &str, cost: i64, price: i64) -> DayCost {
        DayCost {
            customer_id: customer.into(),
            currency: currency.into(),
            day: d.parse().unwrap(),
            partner_cost: cost,
            customer_price: price,
            list_cost: price,
        }
    }

    fn facts(id: &str, name: &str, budget: Option<i64>) -> CustomerFacts {
        CustomerFacts {
            customer: CustomerRow {
                id: id.into(),
                name: name.into(),
                domain: format!("{id}.example"),
                relationship: "reseller".into(),
            },
            budget,
            subscriptions: 1,
            azure_subscriptions: 2,
            thresholds: None,
            markup: Markup::new(MarkupBasis::PartnerCost, 0).unwrap(),
        }
    }

    fn usd_eur() -> Rates {
        Rates {
            of: None,
            currency: "USD".into(),
            // 1 EUR = 1.10 USD, 1 JPY = 0.0065 USD
            rates: vec![("EUR".into(), 1_100_000), ("JPY".into(), 6_500)],
        }
    }

    #[test]
    fn totals_convert_at_the_partners_rates_and_rank_in_the_reporting_currency() {
        let as_of: NaiveDate = "2026-11-10".parse().unwrap();
        // "b" is billed 100,000 JPY (650 USD), "a" 1,000 EUR (1,100 USD).
        let days = vec![
            day("a", "EUR", "2026-11-02", 1_000_000_000, 1_200_000_000),
            day("b", "JPY", "2026-11-03", 100_000_000_000, 110_000_000_000),
        ];
        let figures = report::customer_figures(&days, &Periods::new(as_of));
        let customers = customer_summaries(
            vec![
                facts("a", "Alpha", None),
                facts("b", "Beta", Some(50_000_000_000)),
            ],
            &figures,
        );
        let o = overview(Some(as_of), &customers, &figures, &days, &[], &usd_eur());
        let converted = o.converted.unwrap();
        // 1,000 EUR × 1.10 + 100,000 JPY × 0.0065 = 1,100 + 650 USD
        assert_eq!(converted.month_to_date.partner_cost, 1_750_000_000);
        assert_eq!(
            o.by_currency
                .iter()
                .map(|t| t.currency.as_str())
                .collect::<Vec<_>>(),
            ["EUR", "JPY"]
        );
        assert_eq!(
            o.top_customers[0].name, "Alpha",
            "1,100 USD ranks above 650 USD"
        );
        assert_eq!(o.budget_alerts.len(), 1, "Beta is over its 50,000 JPY");
        assert_eq!(o.budget_alerts[0].state, BudgetState::Over);
        assert!(o.missing_rates.is_empty());
        let no_rates = Rates {
            of: None,
            currency: "USD".into(),
            rates: vec![],
        };
        let o = overview(Some(as_of), &customers, &figures, &days, &[], &no_rates);
        assert_eq!(o.converted, None);
        assert_eq!(o.missing_rates, ["EUR", "JPY"]);
        // Without rates 100,000 JPY is not "more" than 1,000 EUR: each
        // currency is ranked on its own.
        let names: Vec<(&str, &str)> = o
            .top_customers
            .iter()
            .map(|r| (r.currency.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(names, [("EUR", "Alpha"), ("JPY", "Beta")]);
    }

    fn ranked(name: &str, currency: &str, cost: i64) -> Ranked {
        Ranked {
            id: name.into(),
            name: name.into(),
            currency: currency.into(),
            month_to_date: CostPrice {
                partner_cost: cost,
                customer_price: cost,
            },
        }
    }

    #[test]
    fn without_a_rate_the_largest_of_each_currency_are_kept() {
        let mut items = vec![ranked("yen", "JPY", 900_000_000_000)];
        items.extend((0..12).map(|i| ranked(&format!("usd{i:02}"), "USD", i * 1_000_000)));
        let none = Rates {
            of: None,
            currency: "USD".into(),
            rates: vec![],
        };
        let kept = top(items.clone(), &none);
        // Two currencies: five each at most, the largest of each first.
        assert_eq!(kept[0].name, "yen");
        let usd: Vec<&str> = kept[1..].iter().map(|r| r.name.as_str()).collect();
        assert_eq!(usd, ["usd11", "usd10", "usd09", "usd08", "usd07"]);
        // With a rate, one ranking in USD: ¥900,000 at 0.0065 is $5,850.
        let rates = Rates {
            of: None,
            currency: "USD".into(),
            rates: vec![("JPY".into(), 6_500)],
        };
        let kept = top(items, &rates);
        assert_eq!(kept.len(), TOP);
        assert_eq!(kept[0].name, "yen");
        assert_eq!(kept[1].name, "usd11");
    }

    #[test]
    fn rates_read_from_the_settings_page() {
        let settings = ReportingSettings {
            rates_of: None,
            currency: "USD".into(),
            rates: vec![
                ExchangeRate {
                    currency: "EUR".into(),
                    rate: "1.1".into(),
                },
                ExchangeRate {
                    currency: "JPY".into(),
                    rate: "not a number".into(),
                },
            ],
        };
        let rates = Rates::from_settings(&settings);
        assert_eq!(rates.rate("EUR"), Some(1_100_000));
        assert_eq!(rates.rate("USD"), Some(1_000_000));
        assert_eq!(rates.rate("JPY"), None);
        assert!(rates.converts_all(["USD", "EUR"].into_iter()));
        assert!(!rates.converts_all(["USD", "JPY"].into_iter()));
    }

    #[test]
    fn the_trend_has_every_day_and_a_gap_day_is_zero() {
        let as_of: NaiveDate = "2026-11-30".parse().unwrap();
        let days = vec![
            day("a", "USD", "2026-11-28", 5, 6),
            day("b", "USD", "2026-11-28", 1, 1),
            day("a", "USD", "2026-11-30", 7, 8),
            day("a", "USD", "2026-09-01", 99, 99),
        ];
        let t = trend(&days, as_of);
        assert_eq!(t.len(), TREND_DAYS as usize);
        assert_eq!(
            t.first().unwrap().day,
            "2026-10-02".parse::<NaiveDate>().unwrap()
        );
        let last3: Vec<_> = t[t.len() - 3..]
            .iter()
            .map(|p| (p.day.to_string(), p.partner_cost))
            .collect();
        assert_eq!(
            last3,
            [
                ("2026-11-28".into(), 6),
                ("2026-11-29".into(), 0),
                ("2026-11-30".into(), 7)
            ]
        );
    }

    #[test]
    fn a_customer_in_two_currencies_is_listed_in_its_larger() {
        let as_of: NaiveDate = "2026-11-10".parse().unwrap();
        let days = vec![
            day("a", "EUR", "2026-11-02", 10, 12),
            day("a", "USD", "2026-11-02", 30, 33),
        ];
        let figures = report::customer_figures(&days, &Periods::new(as_of));
        let list = customer_summaries(
            vec![facts("a", "Alpha", None), facts("z", "Zed", None)],
            &figures,
        );
        assert_eq!(list[0].currency.as_deref(), Some("USD"));
        assert_eq!(list[0].month_to_date.partner_cost, 30);
        assert_eq!(list[1].currency, None, "no usage, no currency");
        assert_eq!(list[1].budget_thresholds, DEFAULT_THRESHOLDS);
    }

    #[test]
    fn one_read_covers_the_figures_and_the_trend() {
        for as_of in ["2026-12-31", "2026-03-01", "2026-11-15"] {
            let as_of: NaiveDate = as_of.parse().unwrap();
            let from = needs_from(as_of);
            assert!(from <= Periods::new(as_of).needs_from());
            assert!(from <= as_of - Days::new(TREND_DAYS - 1));
        }
    }
}
