//! `/api`: the JSON the SPA reads. Routes are listed in `docs/api.md`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::api::{CustomerList, Health, HealthCheck, SyncProgress};
use model::pc::Link;

use crate::error::{ApiError, api_not_found};
use crate::sync::SyncKind;
use crate::{AppState, sync};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/customers", get(customers))
        .route("/sync", post(start_sync).get(sync_status))
        .route("/sync/events", get(sync_events))
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
    sync::wait_for_customers(&state, connection).await?;
    Ok(Json(CustomerList {
        customers: state.store.customers(connection.partner).await?,
        synced_at: state.store.customers_read_at(connection.partner).await?,
    }))
}

#[derive(serde::Deserialize)]
struct SyncRequest {
    #[serde(default)]
    kind: Option<String>,
}

/// Starts a sync in the background (`{"kind": "full"}` re-reads billed invoices).
async fn start_sync(
    State(state): State<AppState>,
    body: Option<Json<SyncRequest>>,
) -> Result<(StatusCode, Json<SyncProgress>), ApiError> {
    state.connection.as_ref().ok_or(ApiError::NotConnected)?;
    let kind = match body.and_then(|b| b.0.kind).as_deref() {
        None | Some("incremental") => SyncKind::Incremental,
        Some("full") => SyncKind::Full,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "kind must be full or incremental, not “{other}”."
            )));
        }
    };
    let mut progress = state.syncer.subscribe();
    sync::spawn(state.clone(), kind);
    // Answer once the run has started, so the caller sees its ID.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), progress.changed()).await;
    Ok((StatusCode::ACCEPTED, Json(state.syncer.current())))
}

/// The latest sync, from memory while this process runs one, else from the store.
async fn sync_status(State(state): State<AppState>) -> Result<Json<SyncProgress>, ApiError> {
    let connection = state.connection.as_ref().ok_or(ApiError::NotConnected)?;
    let live = state.syncer.current();
    if live.run_id.is_some() {
        return Ok(Json(live));
    }
    Ok(Json(
        match state.store.latest_sync(connection.partner).await? {
            None => live,
            Some(run) => SyncProgress {
                run_id: Some(run.id),
                kind: run.kind,
                status: run.status,
                phase: "done".into(),
                counts: run.counts,
                started_at: Some(run.started_at),
                finished_at: run.finished_at,
                seconds_left: None,
                error: run.error,
            },
        },
    ))
}

/// Server-sent events: the sync's progress each time it changes.
async fn sync_events(
    State(state): State<AppState>,
) -> Result<Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError>
{
    state.connection.as_ref().ok_or(ApiError::NotConnected)?;
    let receiver = state.syncer.subscribe();
    let stream = futures_util::stream::unfold((receiver, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let progress = rx.borrow_and_update().clone();
        let event = Event::default()
            .event("progress")
            .json_data(&progress)
            .unwrap_or_default();
        Some((Ok(event), (rx, false)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
