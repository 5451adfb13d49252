//! The customers, and each customer's subscriptions, Azure subscriptions,
//! usage budget and Partner Center's usage estimate. Each call succeeds or
//! fails alone: a customer whose subscriptions cannot be read still gets
//! its budget, and the next customer is read either way.

use std::sync::Arc;

use model::api::{CustomerRow, SyncPhase, SyncProblem, SyncProblemKind};
use model::pc::{
    AzureEntitlement, Customer, CustomerUsageSummary, Link, SpendingBudget, Subscription,
};
use tokio::task::JoinSet;

use super::{Run, SyncError};
use crate::pc::{Listing, PcError};
use crate::store::{AzureSubscriptionRow, Budget, SubscriptionRow, UsageEstimate};

/// Customers per page; Partner Center caps pages, larger means fewer calls.
const CUSTOMER_PAGE: usize = 500;
/// Customers whose details are read at once; the client bounds requests too.
const CUSTOMER_CONCURRENCY: usize = 8;

/// Partner Center's code for an App+User call without MFA (since 1 April 2026).
const MFA_REQUIRED: &str = "900421";

/// The Azure plan's product, the first part of its offer ID
/// (`DZH318Z0BPS6:0001:DZH318Z0BML6`).
const AZURE_PLAN_PRODUCT: &str = "DZH318Z0BPS6";

/// Items of a listing that could not be read, as problems of the run.
fn unreadable<T>(run: &Run, listing: &Listing<T>, kind: SyncProblemKind, call: &str) {
    for u in &listing.unreadable {
        run.problem(SyncProblem {
            kind,
            subject: None,
            name: None,
            call: call.to_string(),
            reason: format!("item {}: {}", u.index + 1, u.reason),
            retried: false,
            next_sync: true,
            code: None,
        });
    }
}

/// The customer list, stored whole; `None` when it could not be read (the
/// customers stored before stay, and their usage is still read).
pub(super) async fn sync_customers(run: &Run) -> Result<Option<Vec<String>>, SyncError> {
    let call = format!("GET /v1/customers?size={CUSTOMER_PAGE}");
    let listing: Listing<Customer> = match run
        .pc
        .get_all(
            &run.connection.credentials,
            Link::get(format!("/customers?size={CUSTOMER_PAGE}")),
        )
        .await
    {
        Ok(listing) => listing,
        Err(e) => {
            run.failed(SyncProblemKind::Customers, None, call, &e);
            return Ok(None);
        }
    };
    run.read();
    unreadable(run, &listing, SyncProblemKind::Customer, &call);
    let mut rows = Vec::with_capacity(listing.items.len());
    for c in listing.items {
        // An ID is what the rest hangs on; without one the item is unreadable.
        let id = c.id.trim().to_ascii_lowercase();
        if id.is_empty() {
            run.problem(SyncProblem {
                kind: SyncProblemKind::Customer,
                subject: None,
                name: Some(c.company_profile.company_name).filter(|n| !n.is_empty()),
                call: call.clone(),
                reason: "a customer without an id".into(),
                retried: false,
                next_sync: true,
                code: None,
            });
            continue;
        }
        let profile = c.company_profile;
        rows.push(CustomerRow {
            name: if profile.company_name.is_empty() {
                profile.domain.clone()
            } else {
                profile.company_name
            },
            domain: profile.domain,
            relationship: c.relationship_to_partner,
            id,
        });
    }
    // Without every customer read, none is taken away from the list.
    if listing.unreadable.is_empty() {
        run.store
            .replace_customers(run.connection.partner, &rows)
            .await?;
    } else {
        run.store
            .upsert_customers(run.connection.partner, &rows)
            .await?;
    }
    run.bump(|c| c.customers_total = Some(rows.len()));
    run.report(SyncPhase::Customers).await?;
    Ok(Some(rows.into_iter().map(|r| r.id).collect()))
}

/// Subscriptions, Azure subscriptions and the usage budget of each customer.
pub(super) async fn sync_customer_details(
    run: &Arc<Run>,
    customers: Option<Vec<String>>,
) -> Result<(), SyncError> {
    let mut tasks = JoinSet::new();
    let mut queue = customers.unwrap_or_default().into_iter();
    loop {
        while tasks.len() < CUSTOMER_CONCURRENCY {
            let Some(customer) = queue.next() else { break };
            let run = run.clone();
            tasks.spawn(async move { customer_details(&run, &customer).await });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        // Only a store failure (or a crashed task) ends the sync.
        joined.map_err(|e| SyncError::Internal(e.to_string()))??;
        run.bump(|c| c.customers_done += 1);
        run.report(SyncPhase::Customers).await?;
    }
    Ok(())
}

/// Whether a subscription is an Azure plan (whose Azure subscriptions are
/// its entitlements): by its offer's name or product; `None` when the
/// answer names neither.
fn is_azure_plan(s: &Subscription) -> Option<bool> {
    if s.offer_name.is_empty() && s.offer_id.is_empty() {
        return None;
    }
    Some(
        s.offer_name.eq_ignore_ascii_case("Azure plan")
            || s.offer_id
                .to_ascii_uppercase()
                .starts_with(AZURE_PLAN_PRODUCT),
    )
}

async fn customer_details(run: &Run, customer: &str) -> Result<(), SyncError> {
    let pc = &run.pc;
    let creds = &run.connection.credentials;
    let problem = |call: String, e: &PcError| {
        run.failed(SyncProblemKind::Customer, Some(customer), call, e);
    };

    let path = format!("/customers/{customer}/subscriptions");
    match pc.get_all::<Subscription>(creds, Link::get(&path)).await {
        Err(e) => problem(format!("GET /v1{path}"), &e),
        Ok(listing) => {
            run.read();
            for u in &listing.unreadable {
                run.problem(SyncProblem {
                    kind: SyncProblemKind::Customer,
                    subject: Some(customer.to_string()),
                    name: None,
                    call: format!("GET /v1{path}"),
                    reason: format!("subscription {}: {}", u.index + 1, u.reason),
                    retried: false,
                    next_sync: true,
                    code: None,
                });
            }
            let mut azure = Vec::new();
            let mut complete = listing.unreadable.is_empty();
            for s in listing.items.iter().filter(|s| !s.id.is_empty()) {
                let known = is_azure_plan(s);
                if known == Some(false) {
                    continue;
                }
                let path = format!(
                    "/customers/{customer}/subscriptions/{}/azureEntitlements",
                    s.id
                );
                match pc
                    .get_all::<AzureEntitlement>(creds, Link::get(&path))
                    .await
                {
                    Ok(list) => azure.extend(
                        list.items
                            .into_iter()
                            .filter(|e| !e.id.is_empty())
                            .map(|e| AzureSubscriptionRow {
                                id: e.id.to_ascii_lowercase(),
                                subscription_id: if e.subscription_id.is_empty() {
                                    s.id.to_ascii_lowercase()
                                } else {
                                    e.subscription_id.to_ascii_lowercase()
                                },
                                friendly_name: e.friendly_name,
                                status: e.status,
                            }),
                    ),
                    // A subscription of unknown offer that has no Azure
                    // subscriptions is refused here: it is not a plan.
                    Err(PcError::Fault {
                        status: 400 | 404, ..
                    }) if known.is_none() => {}
                    Err(e) => {
                        complete = false;
                        problem(format!("GET /v1{path}"), &e);
                    }
                }
            }
            let subscriptions: Vec<_> = listing
                .items
                .into_iter()
                .filter(|s| !s.id.is_empty())
                .map(|s| SubscriptionRow {
                    id: s.id.to_ascii_lowercase(),
                    offer_name: s.offer_name,
                    friendly_name: s.friendly_name,
                    status: s.status,
                })
                .collect();
            // What was stored before stays until a complete answer replaces it.
            if complete {
                run.store
                    .replace_subscriptions(run.connection.partner, customer, &subscriptions, &azure)
                    .await?;
            }
        }
    }

    let path = format!("/customers/{customer}/usagebudget");
    match pc.get::<SpendingBudget>(creds, &Link::get(&path)).await {
        Ok(budget) => {
            run.read();
            run.store
                .set_budget(run.connection.partner, customer, Budget(budget.amount))
                .await?;
        }
        Err(e) => problem(format!("GET /v1{path}"), &e),
    }

    // Partner Center serves the usage summary App+User only: it is read with
    // a signed-in person's delegated token when one is at hand, and skipped
    // otherwise (the line items are the figures then). The app's token never
    // goes there, so a refusal never costs the app its token.
    let tenant = &creds.tenant;
    if let Some(token) = pc.user_token(tenant) {
        let path = format!("/customers/{customer}/usagesummary");
        match pc
            .get_as_user::<CustomerUsageSummary>(tenant, &token, &Link::get(&path))
            .await
        {
            Ok(summary) => {
                run.read();
                // Either of its shapes is read; the legacy one names a
                // locale, not a currency, so it gives no estimate.
                if let (Some(total), Some(currency)) = (summary.total_cost, summary.currency_code) {
                    run.store
                        .set_usage_estimate(
                            run.connection.partner,
                            customer,
                            &UsageEstimate {
                                total,
                                currency,
                                billing_start: model::lenient::day(&summary.billing_start_date)
                                    .map(|d| d.to_string())
                                    .unwrap_or_default(),
                            },
                        )
                        .await?;
                }
            }
            Err(PcError::Fault {
                status: 401 | 403,
                code,
                ..
            }) => {
                // The person's token no longer serves: the other customers'
                // estimates wait for the next sign-in, and it is said once.
                pc.drop_user_token(tenant);
                if run
                    .user_token_refused
                    .swap(true, std::sync::atomic::Ordering::Relaxed)
                {
                    return Ok(());
                }
                let (reason, known) = if code == MFA_REQUIRED {
                    (
                        "Partner Center asks for multi-factor authentication on App+User calls (900421): \
                         sign in again with MFA to get Partner Center's usage estimates."
                            .to_string(),
                        Some(model::api::ErrorCode::MfaRequired),
                    )
                } else {
                    (
                        format!("the signed-in person's Partner Center token was refused ({code})"),
                        None,
                    )
                };
                run.problem(SyncProblem {
                    kind: SyncProblemKind::Customers,
                    subject: None,
                    name: None,
                    call: format!("GET /v1{path}"),
                    reason,
                    retried: false,
                    next_sync: true,
                    code: known,
                });
            }
            Err(e) => problem(format!("GET /v1{path}"), &e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(offer_id: &str, offer_name: &str) -> Subscription {
        Subscription {
            id: "s".into(),
            offer_id: offer_id.into(),
            offer_name: offer_name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_azure_plan_is_known_by_its_name_or_its_product() {
        assert_eq!(is_azure_plan(&subscription("", "Azure plan")), Some(true));
        assert_eq!(
            is_azure_plan(&subscription("DZH318Z0BPS6:0001:DZH318Z0BML6", "")),
            Some(true)
        );
        assert_eq!(
            is_azure_plan(&subscription("MS-AZR-0145P", "Microsoft Azure")),
            Some(false)
        );
        assert_eq!(
            is_azure_plan(&subscription("", "")),
            None,
            "ask Partner Center"
        );
    }
}
