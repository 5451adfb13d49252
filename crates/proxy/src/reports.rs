//! The customer list and the overview: read from the store, computed by
//! `model::overview`, kept until the store changes. Two kept values per
//! partner: what comes from the line items alone (daily costs, figures,
//! costs per service), and the two summaries' JSON bodies.

use std::sync::Arc;

use chrono::NaiveDate;
use model::api::{CustomerList, Overview};
use model::overview::{self, CategoryCost, CustomerFacts};
use model::report::{self, CostPrice, CustomerFigures, DayCost, Periods};

use crate::store::{PartnerId, Scope, Store};

/// Why a summary could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("the summary could not be written as JSON: {0}")]
    Encode(#[from] serde_json::Error),
}

/// What the summaries compute from the line items: kept across writes that
/// do not touch them (budgets, rates, the wizard).
pub struct UsageFigures {
    pub as_of: Option<NaiveDate>,
    /// Daily costs per customer and currency from [`overview::needs_from`].
    pub days: Vec<DayCost>,
    /// Per customer and currency.
    pub figures: Vec<CustomerFigures>,
    /// This month's cost per service.
    pub categories: Vec<CategoryCost>,
}

/// The figures from the line items, read once per change of the lines.
pub async fn usage_figures(
    store: &Store,
    partner: PartnerId,
) -> Result<Arc<UsageFigures>, ReportError> {
    store
        .memo_lines(partner, "usage figures", || async {
            let Some(as_of) = store.last_usage_day(partner).await? else {
                return Ok(UsageFigures {
                    as_of: None,
                    days: Vec::new(),
                    figures: Vec::new(),
                    categories: Vec::new(),
                });
            };
            let periods = Periods::new(as_of);
            let all = Scope {
                customer: None,
                from: overview::needs_from(as_of),
                to: as_of,
            };
            let days = store.daily_totals(partner, &all).await?;
            let month = Scope {
                from: periods.month_start,
                ..all
            };
            let categories = store
                .category_totals(partner, &month)
                .await?
                .into_iter()
                .map(|(category, currency, cost, price)| CategoryCost {
                    category,
                    currency,
                    cost: CostPrice {
                        partner_cost: cost,
                        customer_price: price,
                    },
                })
                .collect();
            Ok::<_, ReportError>(UsageFigures {
                as_of: Some(as_of),
                figures: report::customer_figures(&days, &periods),
                days,
                categories,
            })
        })
        .await
}

/// The customer list and the overview, as values.
pub struct Summaries {
    pub customers: CustomerList,
    pub overview: Overview,
}

async fn compute(store: &Store, partner: PartnerId) -> Result<Summaries, ReportError> {
    let usage = usage_figures(store, partner).await?;
    let budgets = store.budgets(partner).await?;
    let counts = store.subscription_counts(partner).await?;
    let mut thresholds = store.thresholds(partner).await?;
    let markups = store.markups(partner).await?;
    let facts = store
        .customers(partner)
        .await?
        .into_iter()
        .map(|c| {
            let (subscriptions, azure_subscriptions) =
                counts.get(&c.id).copied().unwrap_or_default();
            CustomerFacts {
                budget: budgets.get(&c.id).copied().flatten().map(|a| a.micros()),
                thresholds: thresholds.remove(&c.id),
                markup: markups.for_customer(&c.id),
                subscriptions,
                azure_subscriptions,
                customer: c,
            }
        })
        .collect();
    let mut customers = overview::customer_summaries(facts, &usage.figures);
    // The first sync reads this month before the months behind it: until a
    // sync has finished, a day compared with "usual" days that have not
    // arrived yet, or a margin with last month's, would be a false alarm.
    let history_pending = store.last_synced(partner).await?.is_none();
    if history_pending {
        for c in &mut customers {
            c.anomalies.clear();
            c.margin_fell = false;
        }
    }
    let rates = store.reporting(partner).await?;
    let mut overview = overview::overview(
        usage.as_of,
        &customers,
        &usage.figures,
        &usage.days,
        &usage.categories,
        &rates,
    );
    if history_pending {
        overview.anomalies.clear();
        overview.margin_falls.clear();
        overview.history_pending = true;
    }
    // What the last finished sync could not read: those figures are incomplete.
    if let Some(run) = store.latest_sync(partner).await?
        && run.status != model::api::SyncStatus::Running
    {
        overview.incomplete = run
            .problems
            .into_iter()
            .map(|mut p| {
                if p.kind == model::api::SyncProblemKind::Customer && p.name.is_none() {
                    p.name = p.subject.as_deref().and_then(|id| {
                        customers
                            .iter()
                            .find(|c| c.id == id)
                            .map(|c| c.name.clone())
                    });
                }
                p
            })
            .collect();
    }
    Ok(Summaries {
        customers: CustomerList {
            customers,
            synced_at: store.customers_read_at(partner).await?,
            as_of: usage.as_of,
        },
        overview,
    })
}

/// The overview, computed afresh (tests compare it with the kept one).
pub async fn overview(store: &Store, partner: PartnerId) -> Result<Overview, ReportError> {
    Ok(compute(store, partner).await?.overview)
}

/// The summaries and their JSON bodies, serialised once per store version,
/// not on every request (the customer list of 5,000 customers is over a
/// megabyte of JSON).
pub struct Kept {
    pub summaries: Summaries,
    pub customers_json: axum::body::Bytes,
    pub overview_json: axum::body::Bytes,
}

/// The kept summaries, computed again only after a write to the store.
pub async fn kept(store: &Store, partner: PartnerId) -> Result<Arc<Kept>, ReportError> {
    store
        .memo(partner, "summaries", || async {
            let summaries = compute(store, partner).await?;
            Ok::<_, ReportError>(Kept {
                customers_json: serde_json::to_vec(&summaries.customers)?.into(),
                overview_json: serde_json::to_vec(&summaries.overview)?.into(),
                summaries,
            })
        })
        .await
}

/// The margin report of a scope: partner-earned credit rates from it and the
/// period before (a resource's usual rate), then the two periods' lines.
/// Bounded in memory: it holds groups, not lines.
pub async fn margin_report(
    store: &Store,
    partner: PartnerId,
    scope: &crate::store::Scope,
) -> Result<model::margin::MarginReport, sqlx::Error> {
    use model::margin::{MarginBuilder, PecRates};
    let (from, to) = model::margin::previous_period(scope.from, scope.to);
    let previous = crate::store::Scope {
        customer: scope.customer.clone(),
        from,
        to,
    };
    let mut rates = PecRates::default();
    for s in [scope, &previous] {
        store
            .for_each_line(partner, s, |l, _| rates.see(&l))
            .await?;
    }
    let mut report = MarginBuilder::new(rates);
    store
        .for_each_line(partner, scope, |l, price| report.add_current(&l, price))
        .await?;
    store
        .for_each_line(partner, &previous, |l, price| {
            report.add_previous(&l, price)
        })
        .await?;
    Ok(report.finish((scope.from, scope.to)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Snapshot;
    use crate::store::tests::{line, temporary};
    use model::api::{CustomerRow, SyncCounts, SyncKind, SyncStatus};

    /// A customer's steady month and one day five times its usual cost, as
    /// a first sync leaves them before any sync has finished.
    #[tokio::test]
    async fn anomalies_and_margin_falls_wait_until_a_sync_has_finished() {
        let (_dir, store) = temporary().await;
        let p = store.partner("tenant-a").await.unwrap();
        let customer = CustomerRow {
            id: "c1".into(),
            name: "Contoso".into(),
            domain: "contoso.example".into(),
            relationship: "reseller".into(),
        };
        store.replace_customers(p, &[customer]).await.unwrap();
        let mut lines: Vec<_> = (1..=29)
            .map(|d| line("c1", &format!("2026-10-{d:02}"), 10_000_000))
            .collect();
        lines.extend((1..=19).map(|d| line("c1", &format!("2026-11-{d:02}"), 10_000_000)));
        lines.push(line("c1", "2026-11-20", 50_000_000));
        let until = chrono::Utc::now() + chrono::Duration::minutes(1);
        let run = store
            .start_sync(p, SyncKind::Full, "test", until, &|_| false)
            .await
            .unwrap()
            .unwrap();
        let scope = "v2:unbilled:USD:2026-11";
        store.stage_lines(p, scope, run, &lines).await.unwrap();
        let snapshot = Snapshot {
            scope: scope.into(),
            api: "v2".into(),
            billed: false,
            currency: "USD".into(),
            month: "2026-11".into(),
            etag: "e1".into(),
            unreadable: 0,
        };
        store.replace_scope(p, &snapshot, run).await.unwrap();

        let running = kept(&store, p).await.unwrap();
        assert!(running.summaries.overview.history_pending);
        assert!(running.summaries.overview.anomalies.is_empty());
        assert!(
            running.summaries.customers.customers[0]
                .anomalies
                .is_empty()
        );

        store
            .finish_sync(
                run,
                &SyncCounts::default(),
                SyncStatus::Succeeded,
                None,
                &[],
            )
            .await
            .unwrap();
        let finished = kept(&store, p).await.unwrap();
        let overview = &finished.summaries.overview;
        assert!(!overview.history_pending);
        assert_eq!(overview.anomalies.len(), 1, "{:?}", overview.anomalies);
        assert_eq!(overview.anomalies[0].anomaly.cost, 50_000_000);
        assert_eq!(finished.summaries.customers.customers[0].anomalies.len(), 1);
    }
}
