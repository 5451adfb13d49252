//! The overview and the customer list, computed from the store with the
//! model's report functions.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use model::api::{
    BudgetAlert, CurrencyTotals, CustomerAnomaly, CustomerList, CustomerSummary, DailyPoint,
    ExchangeRate, MarginFall, Overview, Ranked, ReportingSettings,
};
use model::report::{self, CostPrice, CustomerFigures, Periods};

use crate::error::ApiError;
use crate::store::{PartnerId, Reporting, Scope, Store};

/// Days of history the overview's trend chart shows.
const TREND_DAYS: u64 = 60;

pub struct Figures {
    pub as_of: Option<NaiveDate>,
    pub customers: Vec<CustomerSummary>,
    /// Per customer and currency.
    pub figures: Vec<CustomerFigures>,
}

fn cost_price(partner_cost: i64, customer_price: i64) -> CostPrice {
    CostPrice {
        partner_cost,
        customer_price,
    }
}

/// Every customer with this month's figures.
pub async fn customers(store: &Store, partner: PartnerId) -> Result<Figures, ApiError> {
    // The costly part comes from the line items alone: kept across budget,
    // rate and wizard writes, computed again only when the lines change.
    let kept = store
        .memo_lines(partner, "customer figures", || async {
            let as_of = store.last_usage_day(partner).await?;
            let figures = match as_of {
                None => Vec::new(),
                Some(as_of) => {
                    let periods = Periods::new(as_of);
                    let scope = Scope {
                        customer: None,
                        from: periods.needs_from(),
                        to: as_of,
                    };
                    report::customer_figures(&store.daily_totals(partner, &scope).await?, &periods)
                }
            };
            Ok::<_, sqlx::Error>((as_of, figures))
        })
        .await?;
    let (as_of, figures) = (kept.0, kept.1.clone());
    let budgets = store.budgets(partner).await?;
    let counts = store.subscription_counts(partner).await?;
    let thresholds = store.thresholds(partner).await?;
    let markups = store.markups(partner).await?;
    // A customer billed in two currencies (rare) is listed in its larger one.
    let mut main: HashMap<&str, &CustomerFigures> = HashMap::new();
    for f in &figures {
        let entry = main.entry(&f.customer_id).or_insert(f);
        if f.month_to_date.partner_cost > entry.month_to_date.partner_cost {
            *entry = f;
        }
    }
    let customers = store
        .customers(partner)
        .await?
        .into_iter()
        .map(|c| {
            let f = main.get(c.id.as_str()).copied();
            let budget = budgets.get(&c.id).copied().flatten().map(|a| a.micros());
            let mtd = f.map(|f| f.month_to_date).unwrap_or_default();
            let forecast = f
                .map(|f| cost_price(f.forecast, f.forecast_price))
                .unwrap_or_default();
            let (subscriptions, azure_subscriptions) =
                counts.get(&c.id).copied().unwrap_or_default();
            CustomerSummary {
                currency: f.map(|f| f.currency.clone()),
                subscriptions,
                azure_subscriptions,
                month_to_date: mtd,
                last_month: f.map(|f| f.last_month).unwrap_or_default(),
                forecast,
                budget,
                budget_used: report::budget_used(budget, mtd.partner_cost),
                budget_state: report::budget_state(budget, mtd.partner_cost, forecast.partner_cost),
                budget_thresholds: thresholds
                    .get(&c.id)
                    .cloned()
                    .unwrap_or_else(|| vec![50, 80, 100]),
                margin_fell: f.is_some_and(|f| f.margin_fell()),
                anomalies: f.map(|f| f.anomalies.clone()).unwrap_or_default(),
                markup: markups.for_customer(&c.id),
                id: c.id,
                name: c.name,
                domain: c.domain,
            }
        })
        .collect();
    Ok(Figures {
        as_of,
        customers,
        figures,
    })
}

pub fn reporting_settings(r: &Reporting) -> ReportingSettings {
    ReportingSettings {
        currency: r.currency.clone(),
        rates: r
            .rates
            .iter()
            .map(|(c, micros)| ExchangeRate {
                currency: c.clone(),
                rate: model::export::decimal(*micros),
            })
            .collect(),
    }
}

/// All customers at once: totals per currency (and converted where the
/// partner set rates), the trend, the top customers and services, budget
/// alerts and anomalies.
pub async fn overview(store: &Store, partner: PartnerId) -> Result<Overview, ApiError> {
    let Figures {
        as_of,
        customers,
        figures,
    } = customers(store, partner).await?;
    let reporting = store.reporting(partner).await?;
    let names: HashMap<&str, &str> = customers
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();

    let mut by_currency: Vec<CurrencyTotals> = Vec::new();
    for f in &figures {
        let t = match by_currency.iter_mut().find(|t| t.currency == f.currency) {
            Some(t) => t,
            None => {
                by_currency.push(CurrencyTotals {
                    currency: f.currency.clone(),
                    month_to_date: CostPrice::default(),
                    last_month: CostPrice::default(),
                    last_month_to_same_day: CostPrice::default(),
                    forecast: CostPrice::default(),
                });
                by_currency.last_mut().expect("just pushed")
            }
        };
        add(&mut t.month_to_date, &f.month_to_date);
        add(&mut t.last_month, &f.last_month);
        add(&mut t.last_month_to_same_day, &f.last_month_to_same_day);
        add(&mut t.forecast, &cost_price(f.forecast, f.forecast_price));
    }
    by_currency.sort_by(|a, b| a.currency.cmp(&b.currency));

    let rate = |currency: &str| -> Option<i64> {
        if currency == reporting.currency {
            Some(1_000_000)
        } else {
            reporting
                .rates
                .iter()
                .find(|(c, _)| c == currency)
                .map(|(_, r)| *r)
        }
    };
    let missing_rates: Vec<String> = by_currency
        .iter()
        .filter(|t| rate(&t.currency).is_none())
        .map(|t| t.currency.clone())
        .collect();
    let converted = missing_rates.is_empty().then(|| {
        let mut total = CurrencyTotals {
            currency: reporting.currency.clone(),
            month_to_date: CostPrice::default(),
            last_month: CostPrice::default(),
            last_month_to_same_day: CostPrice::default(),
            forecast: CostPrice::default(),
        };
        for t in &by_currency {
            let r = rate(&t.currency).expect("checked above");
            add(&mut total.month_to_date, &convert(&t.month_to_date, r));
            add(&mut total.last_month, &convert(&t.last_month, r));
            add(
                &mut total.last_month_to_same_day,
                &convert(&t.last_month_to_same_day, r),
            );
            add(&mut total.forecast, &convert(&t.forecast, r));
        }
        total
    });

    let mut daily = Vec::new();
    let mut top_services = Vec::new();
    if let Some(as_of) = as_of {
        let scope = Scope {
            customer: None,
            from: as_of - Days::new(TREND_DAYS - 1),
            to: as_of,
        };
        let month = Scope {
            customer: None,
            from: Periods::new(as_of).month_start,
            to: as_of,
        };
        let lines = store
            .memo_lines(partner, "overview lines", || async {
                Ok::<_, sqlx::Error>((
                    store.daily_totals(partner, &scope).await?,
                    store.category_totals(partner, &month).await?,
                ))
            })
            .await?;
        let (trend, categories) = &*lines;
        let mut points: HashMap<(NaiveDate, String), (i64, i64)> = HashMap::new();
        for d in trend.iter().cloned() {
            let p = points.entry((d.day, d.currency)).or_default();
            p.0 += d.partner_cost;
            p.1 += d.customer_price;
        }
        daily = points
            .into_iter()
            .map(
                |((day, currency), (partner_cost, customer_price))| DailyPoint {
                    day,
                    currency,
                    partner_cost,
                    customer_price,
                },
            )
            .collect();
        daily.sort_by(|a, b| a.day.cmp(&b.day).then_with(|| a.currency.cmp(&b.currency)));

        top_services = categories
            .iter()
            .cloned()
            .map(|(category, currency, cost, price)| Ranked {
                id: category.clone(),
                name: category,
                currency,
                month_to_date: cost_price(cost, price),
            })
            .collect();
        rank(&mut top_services, &rate);
        top_services.truncate(10);
    }

    let mut top_customers: Vec<Ranked> = figures
        .iter()
        .filter(|f| f.month_to_date.partner_cost != 0)
        .map(|f| Ranked {
            id: f.customer_id.clone(),
            name: names.get(f.customer_id.as_str()).unwrap_or(&"").to_string(),
            currency: f.currency.clone(),
            month_to_date: f.month_to_date,
        })
        .collect();
    rank(&mut top_customers, &rate);
    top_customers.truncate(10);

    let mut budget_alerts: Vec<BudgetAlert> = customers
        .iter()
        .filter(|c| {
            matches!(
                c.budget_state,
                report::BudgetState::Over | report::BudgetState::TrendingOver
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
                name: names.get(f.customer_id.as_str()).unwrap_or(&"").to_string(),
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
                name: names.get(f.customer_id.as_str()).unwrap_or(&"").to_string(),
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

    Ok(Overview {
        as_of,
        by_currency,
        converted,
        reporting: reporting_settings(&reporting),
        missing_rates,
        daily,
        top_customers,
        top_services,
        budget_alerts,
        anomalies,
        margin_falls,
        customers: customers.len(),
    })
}

fn add(a: &mut CostPrice, b: &CostPrice) {
    a.partner_cost += b.partner_cost;
    a.customer_price += b.customer_price;
}

fn convert(c: &CostPrice, rate: i64) -> CostPrice {
    cost_price(
        report::convert(c.partner_cost, rate),
        report::convert(c.customer_price, rate),
    )
}

/// Largest first, comparing in the reporting currency where a rate is set.
fn rank(items: &mut [Ranked], rate: &impl Fn(&str) -> Option<i64>) {
    let key = |r: &Ranked| match rate(&r.currency) {
        Some(rate) => report::convert(r.month_to_date.partner_cost, rate),
        None => r.month_to_date.partner_cost,
    };
    items.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name)));
}

/// The customer list, kept until the next write to the store.
pub async fn kept_customer_list(
    store: &Store,
    partner: PartnerId,
) -> Result<std::sync::Arc<CustomerList>, ApiError> {
    store
        .memo(partner, "customers", || async {
            let figures = customers(store, partner).await?;
            Ok::<_, ApiError>(CustomerList {
                customers: figures.customers,
                synced_at: store.customers_read_at(partner).await?,
                as_of: figures.as_of,
            })
        })
        .await
}

/// The overview, kept until the next write to the store.
pub async fn kept_overview(
    store: &Store,
    partner: PartnerId,
) -> Result<std::sync::Arc<Overview>, ApiError> {
    store
        .memo(partner, "overview", || overview(store, partner))
        .await
}

/// A kept summary as the JSON body sent for it: serialised once per store
/// version, not on every request (the customer list of 5,000 customers is
/// over a megabyte of JSON).
pub struct KeptJson(axum::body::Bytes);

impl axum::response::IntoResponse for KeptJson {
    fn into_response(self) -> axum::response::Response {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.0,
        )
            .into_response()
    }
}

async fn kept_json<T, Fut>(
    store: &Store,
    partner: PartnerId,
    name: &'static str,
    kept: Fut,
) -> Result<KeptJson, ApiError>
where
    T: serde::Serialize,
    Fut: std::future::Future<Output = Result<std::sync::Arc<T>, ApiError>>,
{
    let body = store
        .memo(partner, name, || async {
            let value = kept.await?;
            serde_json::to_vec(&*value)
                .map(axum::body::Bytes::from)
                .map_err(|e| ApiError::Internal(format!("{name}: {e}")))
        })
        .await?;
    Ok(KeptJson(axum::body::Bytes::clone(&body)))
}

/// [`kept_overview`] as its JSON body.
pub async fn kept_overview_json(store: &Store, partner: PartnerId) -> Result<KeptJson, ApiError> {
    kept_json(
        store,
        partner,
        "overview.json",
        kept_overview(store, partner),
    )
    .await
}

/// [`kept_customer_list`] as its JSON body.
pub async fn kept_customer_list_json(
    store: &Store,
    partner: PartnerId,
) -> Result<KeptJson, ApiError> {
    kept_json(
        store,
        partner,
        "customers.json",
        kept_customer_list(store, partner),
    )
    .await
}
