//! The onboarding wizard's routes: the state of each step (kept in the
//! store, so a reload resumes it), the web app and its keys through
//! Microsoft Graph, and the trial, started only once the credentials work.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Duration, Utc};
use model::api::{
    AppChoice, AppInfo, ErrorCode, KeyInfo, KeyRequest, NewKey, OnboardingState, SessionInfo,
    TrialRequest,
};
use model::i18n::EN;
use model::onboarding::{self, EXPIRY_WARNING_DAYS, KEY_YEARS, Step, TRIAL_DAYS};
use model::pc::{Collection, Customer, Link};
use serde_json::{Value, json};

use super::auth::session_info;
use super::extract::{ApiJson, SignedIn};
use crate::connections::Connection;
use crate::crypto;
use crate::error::ApiError;
use crate::identity::GraphRefusal;
use crate::onboarding::seal_context;
use crate::pc::{Credentials, PcError};
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::{KeyRow, OnboardingRow, PartnerId};
use crate::sync::SyncKind;

mod billing;
mod connection;

use billing::{billing_access, check_billing, no_service_principal};
pub use billing::{consent_returned, grant_billing, verify_billing};
pub use connection::{connection_info, switch_key};

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The signed-in admin's Graph token with the directory scopes (step 2);
/// gone after a proxy restart, when the admin signs in again.
fn graph_token(state: &AppState, who: &SignedIn) -> Result<String, ApiError> {
    match state.identity.graph_token(&who.session_hash) {
        Some(t) if t.directory => Ok(t.token),
        _ => Err(ApiError::refused(
            ErrorCode::SignInAgain,
            "Sign in with access to your directory (step 2) first: the sign-in that lets this app reach it is missing or has expired.",
        )),
    }
}

fn app_info(v: &Value) -> AppInfo {
    AppInfo {
        object_id: v["id"].as_str().unwrap_or_default().into(),
        app_id: v["appId"].as_str().unwrap_or_default().into(),
        name: v["displayName"].as_str().unwrap_or_default().into(),
    }
}

fn key_info(v: &Value) -> KeyInfo {
    let end = v["endDateTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let now = Utc::now();
    KeyInfo {
        key_id: v["keyId"].as_str().unwrap_or_default().into(),
        name: v["displayName"].as_str().unwrap_or_default().into(),
        created_at: v["startDateTime"].as_str().unwrap_or_default().into(),
        expires_at: v["endDateTime"].as_str().unwrap_or_default().into(),
        expiring_soon: end
            .is_some_and(|e| e > now && e - now <= Duration::days(EXPIRY_WARNING_DAYS)),
        expired: end.is_some_and(|e| e <= now),
    }
}

fn graph_failure(status: u16, body: &Value, doing: &str) -> ApiError {
    if status == 403 {
        ApiError::Forbidden(format!(
            "Microsoft Graph refused to {doing}: creating web apps and keys needs a Global admin of your organization."
        ))
    } else {
        ApiError::refused(
            ErrorCode::GraphRefused,
            format!(
                "Microsoft Graph could not {doing}: {}",
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("no reason given")
            ),
        )
    }
}

/// Every web app of the directory, each page of Graph's list followed.
async fn apps(state: &AppState, token: &str) -> Result<Vec<Value>, ApiError> {
    state
        .identity
        .graph_all(token, "/applications")
        .await
        .map_err(|e| match e {
            GraphRefusal::Status(status, body) => {
                graph_failure(status, &body, "list your web apps")
            }
            other => other.into_api("your web apps"),
        })
}

pub async fn state_of(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: SignedIn,
) -> Result<Json<OnboardingState>, ApiError> {
    let partner = who.session.partner;
    let session = session_info(&state, &who).await?;
    let row = state.store.onboarding(partner).await?.unwrap_or_default();
    let directory = state
        .identity
        .graph_token(&who.session_hash)
        .is_some_and(|t| t.directory);
    let step = if session.connected {
        Step::Done
    } else if !who.can_manage() {
        Step::BeforeYouBegin
    } else if !directory && row.step < Step::StartTrial {
        // The app steps need the directory access step 2 asks for.
        Step::SignIn
    } else {
        row.step
    };
    let (mut existing_apps, mut keys, mut billing) = (Vec::new(), Vec::new(), None);
    // Without a Graph sign-in (after a proxy restart) the lists stay empty;
    // the steps that need Graph ask to sign in again.
    if who.can_manage()
        && step != Step::Done
        && let Ok(token) = graph_token(&state, &who)
    {
        let listed = apps(&state, &token).await?;
        existing_apps = listed.iter().map(app_info).collect();
        if let Some(chosen) = listed
            .iter()
            .find(|a| Some(a["appId"].as_str().unwrap_or_default()) == row.app_id.as_deref())
        {
            keys = chosen["passwordCredentials"]
                .as_array()
                .into_iter()
                .flatten()
                .map(key_info)
                .collect();
            if step >= Step::ReadBilling {
                billing = Some(billing_access(&state, &token, chosen, &row, &who, &headers).await?);
            }
        }
    }
    Ok(Json(OnboardingState {
        step,
        app: row.app_id.clone().map(|app_id| AppInfo {
            object_id: row.app_object_id.clone().unwrap_or_default(),
            app_id,
            name: row.app_name.clone().unwrap_or_default(),
        }),
        existing_apps,
        keys,
        app_management_url: format!(
            "{}?tenant={}",
            state.identity.app_management_url, session.tenant_id
        ),
        session,
        billing,
    }))
}

pub async fn choose_app(
    State(state): State<AppState>,
    who: SignedIn,
    ApiJson(choice): ApiJson<AppChoice>,
) -> Result<Json<AppInfo>, ApiError> {
    who.require_manager()?;
    let token = graph_token(&state, &who)?;
    let app = match choice.mode.as_str() {
        "new" => {
            let body = json!({ "displayName": "CSP Cost Tracker" });
            let (status, created) = state
                .identity
                .graph(&token, reqwest::Method::POST, "/applications", Some(&body))
                .await?;
            if status != 201 && status != 200 {
                return Err(graph_failure(status, &created, "register the web app"));
            }
            app_info(&created)
        }
        "reuse" => {
            let wanted =
                onboarding::check_guid(&EN, "App ID", choice.app_id.as_deref().unwrap_or_default())
                    .map_err(ApiError::BadRequest)?
                    .to_string();
            apps(&state, &token)
                .await?
                .iter()
                .map(app_info)
                .find(|a| a.app_id.eq_ignore_ascii_case(&wanted))
                .ok_or_else(|| {
                    ApiError::NotFound(format!(
                        "No web app with App ID {wanted} is registered in your directory."
                    ))
                })?
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "mode must be new or reuse, not “{}”.",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    let partner = who.session.partner;
    let mut row = state.store.onboarding(partner).await?.unwrap_or_default();
    row.step = Step::AddKey;
    row.app_object_id = Some(app.object_id.clone());
    row.app_id = Some(app.app_id.clone());
    row.app_name = Some(app.name.clone());
    state.store.set_onboarding(partner, &row).await?;
    Ok(Json(app))
}

async fn chosen_app(state: &AppState, partner: PartnerId) -> Result<OnboardingRow, ApiError> {
    let row = state.store.onboarding(partner).await?.unwrap_or_default();
    if row.app_object_id.is_none() {
        return Err(ApiError::refused(
            ErrorCode::NoApp,
            "Register or choose the web app first (step 3).",
        ));
    }
    Ok(row)
}

/// The app keys are made for and revoked from: once connected, the app the
/// sync signs in as (connected from the start, a partner has no wizard row);
/// before, the one chosen in step 3. Returns its App ID and object ID.
async fn keys_app(
    state: &AppState,
    partner: PartnerId,
    token: &str,
) -> Result<(String, String), ApiError> {
    if let Some(c) = state.connection_of(partner).await {
        let app_id = c.credentials.app_id;
        let listed = apps(state, token).await?;
        let app = listed
            .iter()
            .find(|a| a["appId"].as_str() == Some(app_id.as_str()));
        return match app.and_then(|a| a["id"].as_str()) {
            Some(object_id) => Ok((app_id, object_id.to_string())),
            None => Err(ApiError::refused(
                ErrorCode::AppNotFound,
                format!(
                    "The web app {app_id} the sync signs in as is not in your organization's directory."
                ),
            )),
        };
    }
    let row = chosen_app(state, partner).await?;
    Ok((
        row.app_id.unwrap_or_default(),
        row.app_object_id.unwrap_or_default(),
    ))
}

/// Creates a key; its value is in this answer and nowhere else.
pub async fn add_key(
    State(state): State<AppState>,
    who: SignedIn,
    ApiJson(req): ApiJson<KeyRequest>,
) -> Result<Json<NewKey>, ApiError> {
    who.require_manager()?;
    if !KEY_YEARS.contains(&req.years) {
        return Err(ApiError::BadRequest("A key lasts 1 or 2 years.".into()));
    }
    let partner = who.session.partner;
    let token = graph_token(&state, &who)?;
    let (app_id, object_id) = keys_app(&state, partner, &token).await?;
    let end = Utc::now() + Duration::days(365 * req.years as i64);
    let body = json!({ "passwordCredential": {
        "displayName": format!("CSP Cost Tracker ({} year{})", req.years, if req.years == 1 { "" } else { "s" }),
        "endDateTime": stamp(end)
    }});
    let (status, created) = state
        .identity
        .graph(
            &token,
            reqwest::Method::POST,
            &format!("/applications/{object_id}/addPassword"),
            Some(&body),
        )
        .await?;
    if status != 200 && status != 201 {
        return Err(graph_failure(status, &created, "add the key"));
    }
    let value = created["secretText"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Kept in memory for step 5's check, so it need not be typed again there.
    state
        .identity
        .keep_fresh_key(partner.0, &app_id, Secret::new(&value));
    let key = key_info(&created);
    state
        .store
        .add_key(
            partner,
            &KeyRow {
                app_id,
                key_id: key.key_id.clone(),
                display_name: key.name.clone(),
                created_at: Utc::now(),
                expires_at: end,
                revoked_at: None,
            },
            &crypto::digest(&value),
        )
        .await?;
    Ok(Json(NewKey { key, value }))
}

pub async fn revoke_key(
    State(state): State<AppState>,
    who: SignedIn,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require_manager()?;
    let key = onboarding::check_guid(&EN, "key ID", &key)
        .map_err(ApiError::BadRequest)?
        .to_string();
    let partner = who.session.partner;
    let token = graph_token(&state, &who)?;
    let (_, object_id) = keys_app(&state, partner, &token).await?;
    let (status, body) = state
        .identity
        .graph(
            &token,
            reqwest::Method::POST,
            &format!("/applications/{object_id}/removePassword"),
            Some(&json!({ "keyId": key })),
        )
        .await?;
    if status != 204 && status != 200 {
        return Err(graph_failure(status, &body, "revoke the key"));
    }
    state.store.revoke_key(partner, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn continue_to_trial(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<StatusCode, ApiError> {
    who.require_manager()?;
    let partner = who.session.partner;
    let mut row = chosen_app(&state, partner).await?;
    if row.step < Step::ReadBilling {
        row.step = Step::ReadBilling;
        state.store.set_onboarding(partner, &row).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

fn refused(code: ErrorCode, message: String) -> ApiError {
    ApiError::refused(code, message)
}

/// Checks what the service checks (the tenant, the App ID, the key, and
/// Graph's billing permission) with a token and one real read of each API,
/// then stores the connection and starts the trial and the first sync. The
/// Commerce ID is not asked: no call needs it.
pub async fn start_trial(
    State(state): State<AppState>,
    who: SignedIn,
    ApiJson(req): ApiJson<TrialRequest>,
) -> Result<Json<SessionInfo>, ApiError> {
    who.require_manager()?;
    let partner = who.session.partner;
    let app_id = onboarding::check_guid(&EN, "App ID", &req.app_id)
        .map_err(ApiError::BadRequest)?
        .to_string();
    let tenant = who.session.tenant_id.clone();
    let connection = connect(&state, partner, &tenant, &app_id, &req.key).await?;
    let mut row = state.store.onboarding(partner).await?.unwrap_or_default();
    let now = Utc::now();
    row.step = Step::Done;
    row.app_id = Some(app_id);
    if row.trial_started_at.is_none() {
        row.trial_started_at = Some(now);
        row.trial_ends_at = Some(now + Duration::days(TRIAL_DAYS));
    }
    state.store.set_onboarding(partner, &row).await?;
    state.sync.spawn(connection, SyncKind::Full);
    tracing::info!(tenant = %tenant, "trial started");
    Ok(Json(session_info(&state, &who).await?))
}

/// Checks `key` of `app_id` with a token and one real read of Partner
/// Center and of Graph's billing, and only then seals and stores it as the
/// partner's connection, which the next sync uses.
async fn connect(
    state: &AppState,
    partner: PartnerId,
    tenant: &str,
    app_id: &str,
    key: &str,
) -> Result<Connection, ApiError> {
    onboarding::check_key(&EN, key).map_err(ApiError::BadRequest)?;
    let credentials = Credentials {
        tenant: tenant.to_string(),
        app_id: app_id.to_string(),
        secret: Secret::new(key.trim()),
    };
    let checked = state
        .pc
        .check::<Collection<Customer>>(&credentials, &Link::get("/customers?size=1"))
        .await;
    if let Err(e) = checked {
        return Err(credential_refusal(state, partner, app_id, key.trim(), e).await?);
    }
    check_billing(state, &credentials, None).await?;
    let sealed = state
        .sealer
        .seal(&credentials.secret, &seal_context(tenant, app_id));
    state.store.set_connection(partner, app_id, &sealed).await?;
    // Tokens got with the key before must not stand in for this one.
    state.pc.drop_app_tokens(&credentials).await;
    // Stored, the key is every replica's connection (the store's
    // connections version moved).
    Ok(Connection {
        partner,
        credentials,
    })
}

/// What Entra or Partner Center's refusal of the app's credentials means to
/// the admin, each with its own message.
async fn credential_refusal(
    state: &AppState,
    partner: PartnerId,
    app_id: &str,
    key: &str,
    e: PcError,
) -> Result<ApiError, ApiError> {
    Ok(match e {
            PcError::Auth { code, .. } if code == "AADSTS700016" => refused(
                ErrorCode::AppNotFound,
                format!(
                    "No web app with App ID {app_id} is registered in your organization's directory. \
                     It may belong to another partner: check the App ID shown in step 3."
                ),
            ),
            PcError::Auth { code, .. } if code == "AADSTS7000222" => refused(
                ErrorCode::KeyExpired,
                "This key has expired. Add a new key in step 4 and use its value.".into(),
            ),
            PcError::Auth { code, .. } if code == "AADSTS7000215" => {
                match state.store.key_by_value_hash(partner, &crypto::digest(key)).await? {
                    Some(k) if k.revoked_at.is_some() => refused(
                        ErrorCode::KeyRevoked,
                        format!(
                            "This key was revoked on {}. Add a new key in step 4 and use its value.",
                            k.revoked_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
                        ),
                    ),
                    _ => refused(
                        ErrorCode::KeyWrong,
                        "The key value is not right for this App ID. Paste the value shown when the key was created, \
                         or add a new key in step 4."
                            .into(),
                    ),
                }
            }
            PcError::Auth { code, .. } if code == "AADSTS7000229" => no_service_principal(),
            PcError::Auth { description, .. } => refused(ErrorCode::AppRefused, format!("Entra ID refused the app: {description}")),
            PcError::Unauthorized | PcError::Fault { status: 401 | 403, .. } => refused(
                ErrorCode::AppNotRegistered,
                "Partner Center does not accept this app yet: register it in Partner Center's App management (Account settings), then try again."
                    .into(),
            ),
            PcError::Throttled { retry_after } => ApiError::refused(
                ErrorCode::UpstreamThrottled,
                format!(
                    "Partner Center is busy and asks to wait {} seconds. Try again then.",
                    retry_after.as_secs().max(1)
                ),
            ),
            other => ApiError::refused(
                ErrorCode::UpstreamUnavailable,
                format!("Partner Center could not be reached to check the app ({other}). Try again in a few minutes."),
            ),
        })
}
