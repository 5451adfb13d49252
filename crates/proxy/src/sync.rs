//! Reads a partner's data from Partner Center into the store.

use model::api::CustomerRow;
use model::pc::{Customer, Link};

use crate::error::ApiError;
use crate::{AppState, Connection};

/// Customers per page; Partner Center caps pages, larger means fewer calls.
const CUSTOMER_PAGE: usize = 500;

/// Syncs the connected partner's customers. One sync at a time per proxy:
/// a caller that finds one running waits for it instead of starting another.
pub async fn sync_customers(state: &AppState, connection: &Connection) -> Result<usize, ApiError> {
    let _running = state.sync_lock.lock().await;
    let run = state.store.start_sync(connection.partner).await?;
    let result = async {
        let customers: Vec<Customer> = state
            .pc
            .get_all(
                &connection.credentials,
                Link::get(format!("/customers?size={CUSTOMER_PAGE}")),
            )
            .await?;
        let rows: Vec<CustomerRow> = customers
            .into_iter()
            .map(|c| CustomerRow {
                id: c.id,
                name: c.company_profile.company_name,
                domain: c.company_profile.domain,
                relationship: c.relationship_to_partner,
            })
            .collect();
        state
            .store
            .replace_customers(connection.partner, &rows)
            .await?;
        Ok::<usize, ApiError>(rows.len())
    }
    .await;
    match &result {
        Ok(n) => {
            state.store.finish_sync(run, *n, None).await?;
            tracing::info!(customers = n, "customer sync finished");
        }
        Err(e) => {
            state
                .store
                .finish_sync(run, 0, Some(&e.to_string()))
                .await?;
            tracing::warn!(error = %e, "customer sync failed");
        }
    }
    result
}

/// Syncs unless a sync has already succeeded, for the first request after a start.
pub async fn ensure_synced(state: &AppState, connection: &Connection) -> Result<(), ApiError> {
    if state.store.last_synced(connection.partner).await?.is_none() {
        let _waiting = state.first_sync.lock().await;
        if state.store.last_synced(connection.partner).await?.is_none() {
            sync_customers(state, connection).await?;
        }
    }
    Ok(())
}
