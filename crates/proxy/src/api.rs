//! `/api`: the JSON the SPA reads. Routes are listed in `docs/api.md`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use model::api::{CustomerList, Health, HealthCheck};
use model::pc::Link;
use serde_json::json;

use crate::error::{ApiError, api_not_found};
use crate::{AppState, sync};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/customers", get(customers))
        .route("/sync", post(sync_now))
        .fallback(api_not_found)
}

/// `ok` only when the store and the upstream both answer.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let store = match state.store.ping().await {
        Ok(()) => HealthCheck {
            name: "store".into(),
            ok: true,
            reason: None,
        },
        Err(e) => HealthCheck {
            name: "store".into(),
            ok: false,
            reason: Some(format!("the store does not answer: {e}")),
        },
    };
    let upstream = match &state.connection {
        // With credentials, a token and one real read prove the upstream works.
        Some(c) => match state
            .pc
            .get::<serde_json::Value>(&c.credentials, &Link::get("/customers?size=1"))
            .await
        {
            Ok(_) => HealthCheck {
                name: "upstream".into(),
                ok: true,
                reason: None,
            },
            Err(e) => HealthCheck {
                name: "upstream".into(),
                ok: false,
                reason: Some(e.to_string()),
            },
        },
        None => HealthCheck {
            name: "upstream".into(),
            ok: false,
            reason: Some("no Partner Center connection is configured".into()),
        },
    };
    let ok = store.ok && upstream.ok;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ok { "ok" } else { "degraded" }.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            checks: vec![store, upstream],
        }),
    )
}

async fn customers(State(state): State<AppState>) -> Result<Json<CustomerList>, ApiError> {
    let connection = state.connection.as_ref().ok_or(ApiError::NotConnected)?;
    sync::ensure_synced(&state, connection).await?;
    Ok(Json(CustomerList {
        customers: state.store.customers(connection.partner).await?,
        synced_at: state.store.last_synced(connection.partner).await?,
    }))
}

async fn sync_now(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let connection = state.connection.as_ref().ok_or(ApiError::NotConnected)?;
    let customers = sync::sync_customers(&state, connection).await?;
    Ok(Json(json!({ "customers": customers })))
}
