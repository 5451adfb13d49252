//! The customers, and each customer's subscriptions, Azure subscriptions,
//! usage budget and Partner Center's usage estimate.

use std::sync::Arc;

use model::api::{CustomerRow, SyncPhase};
use model::pc::{
    AzureEntitlement, Collection, Customer, CustomerUsageSummary, Link, SpendingBudget,
    Subscription,
};
use tokio::task::JoinSet;

use super::{Run, SyncError};
use crate::pc::PcError;
use crate::store::{AzureSubscriptionRow, Budget, SubscriptionRow, UsageEstimate};

/// Customers per page; Partner Center caps pages, larger means fewer calls.
const CUSTOMER_PAGE: usize = 500;
/// Customers whose details are read at once; the client bounds requests too.
const CUSTOMER_CONCURRENCY: usize = 8;

pub(super) async fn sync_customers(run: &Run) -> Result<Vec<String>, SyncError> {
    let customers: Vec<Customer> = run
        .pc
        .get_all(
            &run.connection.credentials,
            Link::get(format!("/customers?size={CUSTOMER_PAGE}")),
        )
        .await?;
    let rows: Vec<CustomerRow> = customers
        .into_iter()
        .map(|c| CustomerRow {
            id: c.id.to_ascii_lowercase(),
            name: c.company_profile.company_name,
            domain: c.company_profile.domain,
            relationship: c.relationship_to_partner,
        })
        .collect();
    run.store
        .replace_customers(run.connection.partner, &rows)
        .await?;
    run.bump(|c| c.customers_total = Some(rows.len()));
    run.report(SyncPhase::Customers).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Subscriptions, Azure subscriptions and the usage budget of each customer.
pub(super) async fn sync_customer_details(
    run: &Arc<Run>,
    customers: Vec<String>,
) -> Result<(), SyncError> {
    let mut tasks = JoinSet::new();
    let mut queue = customers.into_iter();
    loop {
        while tasks.len() < CUSTOMER_CONCURRENCY {
            let Some(customer) = queue.next() else { break };
            let run = run.clone();
            tasks.spawn(async move {
                let result = customer_details(&run, &customer).await;
                (customer, result)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (customer, result) = joined.map_err(|e| SyncError::Internal(e.to_string()))?;
        match result {
            Ok(()) => {}
            // A store failure ends the sync; an upstream one is counted and skipped.
            Err(SyncError::Upstream(e)) => {
                tracing::warn!(customer, error = %e, "customer details not synced");
                run.bump(|c| c.errors += 1);
            }
            Err(e) => return Err(e),
        }
        run.bump(|c| c.customers_done += 1);
        run.report(SyncPhase::Customers).await?;
    }
    Ok(())
}

async fn customer_details(run: &Run, customer: &str) -> Result<(), SyncError> {
    let pc = &run.pc;
    let creds = &run.connection.credentials;
    let subscriptions: Collection<Subscription> = pc
        .get(
            creds,
            &Link::get(format!("/customers/{customer}/subscriptions")),
        )
        .await?;
    let mut entitlements = Vec::new();
    for s in subscriptions
        .items
        .iter()
        .filter(|s| s.offer_name.eq_ignore_ascii_case("Azure plan"))
    {
        let list: Collection<AzureEntitlement> = pc
            .get(
                creds,
                &Link::get(format!(
                    "/customers/{customer}/subscriptions/{}/azureEntitlements",
                    s.id
                )),
            )
            .await?;
        entitlements.extend(list.items.into_iter().map(|e| AzureSubscriptionRow {
            id: e.id.to_ascii_lowercase(),
            subscription_id: e.subscription_id.to_ascii_lowercase(),
            friendly_name: e.friendly_name,
            status: e.status,
        }));
    }
    let subscriptions: Vec<_> = subscriptions
        .items
        .into_iter()
        .map(|s| SubscriptionRow {
            id: s.id.to_ascii_lowercase(),
            offer_name: s.offer_name,
            friendly_name: s.friendly_name,
            status: s.status,
        })
        .collect();
    run.store
        .replace_subscriptions(
            run.connection.partner,
            customer,
            &subscriptions,
            &entitlements,
        )
        .await?;
    let budget: SpendingBudget = pc
        .get(
            creds,
            &Link::get(format!("/customers/{customer}/usagebudget")),
        )
        .await?;
    run.store
        .set_budget(run.connection.partner, customer, Budget(budget.amount))
        .await?;
    // Partner Center documents the usage summary as App+User only: where it
    // refuses an app's token, the line items are the only figures, and that
    // is not an error of the sync.
    match pc
        .get::<CustomerUsageSummary>(
            creds,
            &Link::get(format!("/customers/{customer}/usagesummary")),
        )
        .await
    {
        Ok(summary) => {
            run.store
                .set_usage_estimate(
                    run.connection.partner,
                    customer,
                    &UsageEstimate {
                        total: summary.total_cost,
                        currency: summary.currency_code,
                        billing_start: summary
                            .billing_start_date
                            .get(..10)
                            .unwrap_or_default()
                            .to_string(),
                    },
                )
                .await?
        }
        Err(
            PcError::Unauthorized
            | PcError::Fault {
                status: 401 | 403, ..
            },
        ) => {
            tracing::debug!(customer, "usage summary needs App+User: skipped");
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
