//! `/api/sync`: start a sync, read its progress, follow it as events.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use model::api::{SyncKind, SyncProgress};

use super::extract::{Partner, SignedIn, clip};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    #[serde(default)]
    kind: Option<String>,
}

/// `POST /api/sync`: starts a sync in the background (`{"kind": "full"}`
/// re-reads billed invoices).
pub async fn start(
    State(state): State<AppState>,
    partner: Partner,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<SyncProgress>), ApiError> {
    let partner = partner.manager()?;
    // An empty body is an incremental sync.
    let request: SyncRequest = if body.iter().all(|b| b.is_ascii_whitespace()) {
        SyncRequest { kind: None }
    } else {
        let invalid =
            |e: serde_json::Error| ApiError::BadRequest(format!("The body is not valid: {e}"));
        // serde would also read a struct from an array: only an object is asked for.
        match serde_json::from_slice::<serde_json::Value>(&body).map_err(invalid)? {
            v @ serde_json::Value::Object(_) => serde_json::from_value(v).map_err(invalid)?,
            _ => {
                return Err(ApiError::BadRequest(
                    "The body must be a JSON object, like {\"kind\": \"full\"}.".into(),
                ));
            }
        }
    };
    let kind = match request.kind.as_deref() {
        None => SyncKind::Incremental,
        Some(k) => SyncKind::parse(k).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "kind must be full or incremental, not “{}”.",
                clip(k)
            ))
        })?,
    };
    let syncer = state.syncer(partner.id());
    let mut progress = syncer.subscribe();
    state.sync.spawn(partner.0.clone(), kind);
    // Answer once the run has started, so the caller sees its ID (or that
    // of the run another replica holds).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), progress.changed()).await;
    Ok((
        StatusCode::ACCEPTED,
        Json(state.sync.progress(partner.id()).await?),
    ))
}

/// `GET /api/sync`: the latest sync. Shown during onboarding too, before
/// the data routes open.
pub async fn status(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<SyncProgress>, ApiError> {
    Ok(Json(state.sync.progress(who.session.partner).await?))
}

fn progress_event(progress: &SyncProgress) -> Event {
    Event::default()
        .event("progress")
        .json_data(progress)
        .unwrap_or_default()
}

/// `GET /api/sync/events`: server-sent events: the latest sync (as
/// `GET /api/sync` tells it), then its progress each time it changes.
/// A session holds at most [`crate::web::STREAMS_PER_SESSION`] streams, a
/// client address [`crate::web::STREAMS_PER_ADDRESS`], and each ends within
/// [`SESSION_CHECK`] of its session ending.
pub async fn events(
    State(state): State<AppState>,
    who: SignedIn,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
) -> Result<Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError>
{
    let address = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|p| crate::forwarded::client_address(p.0.ip(), &headers, &state.web.trusted_proxies));
    let place = state
        .web
        .streams
        .open(&who.session_hash, address)
        .map_err(|full| {
            let message = match full {
                crate::web::StreamsFull::Session => format!(
                    "This sign-in holds {} sync event streams open already; close a tab and try again.",
                    crate::web::STREAMS_PER_SESSION
                ),
                crate::web::StreamsFull::Address => format!(
                    "{} sync event streams are open from this address already; close a tab and try again.",
                    crate::web::STREAMS_PER_ADDRESS
                ),
            };
            ApiError::refused(model::api::ErrorCode::TooManyStreams, message)
        })?;
    let partner = who.session.partner;
    let syncer = state.syncer(partner);
    let mut receiver = syncer.subscribe();
    receiver.mark_unchanged();
    let first = state.sync.progress(partner).await?;
    let (state, session) = (state.clone(), who.session_hash.clone());
    let follow = Follow {
        receiver,
        last: first.clone(),
        first: Some(first),
        checked: tokio::time::Instant::now(),
        _place: place,
    };
    let stream = futures_util::stream::unfold(follow, move |mut follow| {
        let (state, session, syncer) = (state.clone(), session.clone(), syncer.clone());
        async move {
            if let Some(first) = follow.first.take() {
                return Some((Ok(progress_event(&first)), follow));
            }
            loop {
                tokio::select! {
                    changed = follow.receiver.changed() => {
                        changed.ok()?;
                        // A busy sync changes faster than the check below
                        // comes round: each change checks the session too.
                        if !matches!(state.store.session(&session).await, Ok(Some(_))) {
                            return None;
                        }
                        let progress = follow.receiver.borrow_and_update().clone();
                        follow.last = progress.clone();
                        return Some((Ok(progress_event(&progress)), follow));
                    }
                    _ = tokio::time::sleep(REMOTE_CHECK) => {
                        if follow.checked.elapsed() >= SESSION_CHECK {
                            follow.checked = tokio::time::Instant::now();
                            // Signed out, revoked or expired: the stream ends.
                            if !matches!(state.store.session(&session).await, Ok(Some(_))) {
                                return None;
                            }
                        }
                        // A run of another replica is followed in the store.
                        if syncer.is_running() {
                            continue;
                        }
                        if let Ok(progress) = state.sync.progress(partner).await
                            && progress != follow.last
                        {
                            follow.last = progress.clone();
                            return Some((Ok(progress_event(&progress)), follow));
                        }
                    }
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// How often an open event stream checks that its session still holds.
pub const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// How often an open event stream reads the progress of a run that another
/// replica is running (it updates the store about as often).
const REMOTE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// An event stream's state.
struct Follow<P> {
    /// This process's runs, as they change.
    receiver: tokio::sync::watch::Receiver<SyncProgress>,
    /// The last progress sent.
    last: SyncProgress,
    /// The progress sent when the stream opens.
    first: Option<SyncProgress>,
    /// When the session was checked last.
    checked: tokio::time::Instant,
    /// The stream's place among those open, given back when it ends.
    _place: P,
}
