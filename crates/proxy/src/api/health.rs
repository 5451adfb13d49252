//! `GET /api/health`: whether the store answers, and whether the upstream
//! answered the proxy's latest call. Anyone may ask, so it asks the upstream
//! nothing (no partner's quota spent) and says nothing of any credential.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::api::{Health, HealthCheck};

use crate::state::AppState;

/// `ok` when the store answers and the upstream answered the latest call
/// (or none was made yet).
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let check = |name: &str, outcome: Result<(), String>| HealthCheck {
        name: name.into(),
        ok: outcome.is_ok(),
        reason: outcome.err(),
    };
    let store = check(
        "store",
        state
            .store
            .ping()
            .await
            .map_err(|_| "the store does not answer".to_string()),
    );
    let upstream = check(
        "upstream",
        match state.pc.last_call() {
            Some(last) if !last.answered => Err(format!(
                "the upstream did not answer the latest call, at {}",
                last.at.format("%Y-%m-%dT%H:%M:%SZ")
            )),
            _ => Ok(()),
        },
    );
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

/// `GET /api/health/ready`: whether this replica can serve, for a load
/// balancer's health check: the store answers. The upstream is left out on
/// purpose: when Partner Center is down every replica would be taken out of
/// rotation, and the costs already stored could not be read either.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "the store does not answer" })),
        ),
    }
}
