//! `GET /api/health`: whether the store and the upstream answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::api::{Health, HealthCheck};
use model::pc::Link;

use crate::state::AppState;

/// `ok` only when the store and the upstream both answer.
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
            .map_err(|e| format!("the store does not answer: {e}")),
    );
    // With credentials, a token and one real read prove the upstream works;
    // with none yet, Partner Center answering at all will do.
    let connection = state
        .connection
        .clone()
        .or_else(|| state.connections.all().into_iter().next());
    let upstream = check(
        "upstream",
        match connection {
            Some(c) => state
                .pc
                .get::<serde_json::Value>(&c.credentials, &Link::get("/customers?size=1"))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            None => state.pc.ping().await.map_err(|e| e.to_string()),
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
