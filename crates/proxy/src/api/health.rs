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
