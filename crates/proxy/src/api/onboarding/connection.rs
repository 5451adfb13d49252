//! The key's life after onboarding: which key the sync signs in with and
//! when it expires, every key of the app, and switching to a new key, which
//! is checked upstream before the old one stops being used.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use model::api::KeyInfo;
use model::onboarding::{ConnectionInfo, EXPIRY_WARNING_DAYS, KeyInUse, SwitchKey};

use super::{apps, connect, graph_token, key_info};
use crate::api::extract::{ApiJson, Partner};
use crate::crypto;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/connection` (managers).
pub async fn connection_info(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Json<ConnectionInfo>, ApiError> {
    let partner = partner.manager()?;
    let id = partner.id();
    let credentials = &partner.0.credentials;
    let row = state.store.onboarding(id).await?.unwrap_or_default();
    // Every key is listed by Graph, with a sign-in that has directory access.
    let mut keys_problem = None;
    let listed = match graph_token(&state, &partner.1) {
        // Graph not answering costs the key list only, said on the page.
        Ok(token) => match apps(&state, &token).await {
            // A sign-in to renew is the person's to do: asked for, as before.
            Err(e) if e.code() == model::api::ErrorCode::SignInAgain => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "the app's keys could not be listed");
                keys_problem = Some(e.to_string());
                None
            }
            Ok(apps) => apps
                .iter()
                .find(|a| a["appId"].as_str() == Some(credentials.app_id.as_str()))
                .map(|app| {
                    app["passwordCredentials"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|k| (key_info(k), k["hint"].as_str().map(str::to_string)))
                        .collect::<Vec<_>>()
                }),
        },
        Err(_) => None,
    };
    let secret = credentials.secret.expose();
    // The key in use: one made here is known by its value's digest; another
    // by Graph's hint (its first three characters) when only one key has it.
    let key_in_use = match state
        .store
        .key_by_value_hash(id, &crypto::digest(secret))
        .await?
    {
        Some(k) => Some((k.key_id, k.expires_at)),
        None => listed.as_ref().and_then(|keys| {
            let hint: String = secret.chars().take(3).collect();
            let mut same = keys.iter().filter(|(_, h)| h.as_deref() == Some(&hint));
            match (same.next(), same.next()) {
                (Some((k, _)), None) => DateTime::parse_from_rfc3339(&k.expires_at)
                    .ok()
                    .map(|t| (k.key_id.clone(), t.with_timezone(&Utc))),
                _ => None,
            }
        }),
    }
    .map(|(key_id, expires)| in_use(key_id, expires, Utc::now()));
    Ok(Json(ConnectionInfo {
        app_id: credentials.app_id.clone(),
        app_name: row.app_name,
        keys: listed.map(|keys| keys.into_iter().map(|(k, _)| k).collect::<Vec<KeyInfo>>()),
        keys_problem,
        key_in_use,
        last_synced: state.store.last_synced(id).await?,
    }))
}

fn in_use(key_id: String, expires: DateTime<Utc>, now: DateTime<Utc>) -> KeyInUse {
    let days_left = (expires - now).num_days();
    KeyInUse {
        key_id,
        expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        days_left,
        warn: days_left <= EXPIRY_WARNING_DAYS,
    }
}

/// `PUT /api/connection/key` (managers): the sync signs in with this key
/// from now on, once Partner Center and Graph have taken it. A key that
/// does not work changes nothing.
pub async fn switch_key(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(req): ApiJson<SwitchKey>,
) -> Result<StatusCode, ApiError> {
    let partner = partner.manager()?;
    let credentials = &partner.0.credentials;
    connect(
        &state,
        partner.id(),
        &credentials.tenant,
        &credentials.app_id,
        &req.key,
    )
    .await?;
    tracing::info!(tenant = %credentials.tenant, "the connection switched to another key");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_in_use_warns_from_sixty_days_before_it_expires() {
        let now: DateTime<Utc> = "2026-12-02T12:00:00Z".parse().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let far = in_use("k".into(), at("2027-12-02T12:00:00Z"), now);
        assert_eq!((far.days_left, far.warn), (365, false));
        let soon = in_use("k".into(), at("2027-01-31T12:00:00Z"), now);
        assert_eq!((soon.days_left, soon.warn), (60, true));
        let not_yet = in_use("k".into(), at("2027-02-01T12:00:00Z"), now);
        assert_eq!((not_yet.days_left, not_yet.warn), (61, false));
        let gone = in_use("k".into(), at("2026-11-30T12:00:00Z"), now);
        assert_eq!((gone.days_left, gone.warn), (-2, true));
        assert_eq!(gone.expires_at, "2026-11-30T12:00:00Z");
    }
}
