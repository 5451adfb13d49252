//! The onboarding wizard's server side: the state of each step (kept here,
//! so a reload resumes it), the web app and its keys through Microsoft
//! Graph, and the trial, started only once the credentials work.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use model::api::{
    AppChoice, AppInfo, KeyInfo, KeyRequest, NewKey, OnboardingState, SessionInfo, TrialInfo,
    TrialRequest,
};
use model::i18n::EN;
use model::onboarding::{self, EXPIRY_WARNING_DAYS, KEY_YEARS, Step, TRIAL_DAYS};
use model::pc::{Collection, Customer, Link};
use serde_json::{Value, json};

use crate::api::ApiJson;
use crate::error::ApiError;
use crate::identity::{AnySession, SignedIn};
use crate::pc::{Credentials, PcError};
use crate::secret::Secret;
use crate::store::{OnboardingRow, PartnerId, Store};
use crate::sync::{self, SyncKind};
use crate::{AppState, Connection, crypto};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/session", get(session))
        .route("/onboarding", get(state_of))
        .route("/onboarding/app", post(choose_app))
        .route("/onboarding/keys", post(add_key))
        .route("/onboarding/keys/{key}", delete(revoke_key))
        .route("/onboarding/continue", post(continue_to_trial))
        .route("/onboarding/trial", post(start_trial))
}

/// What a sealed key is bound to: its partner tenant and app.
pub fn seal_context(tenant: &str, app_id: &str) -> String {
    format!(
        "{}/{}",
        tenant.to_ascii_lowercase(),
        app_id.to_ascii_lowercase()
    )
}

/// Partners connected by configuration are past the wizard and not on a trial.
pub async fn mark_configured(store: &Store, partner: PartnerId) -> Result<(), sqlx::Error> {
    let mut row = store.onboarding(partner).await?.unwrap_or_default();
    row.step = "done".into();
    row.activated = true;
    store.set_onboarding(partner, &row).await
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn trial_info(row: &OnboardingRow) -> Option<TrialInfo> {
    let (start, end) = (row.trial_started_at?, row.trial_ends_at?);
    let left = end - Utc::now();
    Some(TrialInfo {
        started_at: stamp(start),
        ends_at: stamp(end),
        // Whole days, rounding up: "1 day left" until the last moment.
        days_left: ((left.num_seconds() + 86_399) / 86_400).max(0),
        ended: left <= Duration::zero(),
        activated: row.activated,
    })
}

/// Data routes answer `trial_ended` once a trial is over and no
/// subscription was activated.
pub async fn check_trial(store: &Store, partner: PartnerId) -> Result<(), ApiError> {
    if let Some(row) = store.onboarding_for_check(partner).await?
        && !row.activated
        && let Some(end) = row.trial_ends_at
        && end <= Utc::now()
    {
        return Err(ApiError::TrialEnded(end.format("%Y-%m-%d").to_string()));
    }
    Ok(())
}

/// The partner's name and Commerce ID, asked on every page load: kept until
/// this process writes (they change only with its writes).
pub async fn partner_names(
    state: &AppState,
    partner: PartnerId,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let names = state
        .store
        .memo(partner, "partner names", || async {
            Ok::<_, sqlx::Error>((
                state.store.partner_name(partner).await?,
                state.store.commerce_id(partner).await?,
            ))
        })
        .await?;
    Ok((*names).clone())
}

pub async fn session_info(state: &AppState, who: &SignedIn) -> Result<SessionInfo, ApiError> {
    let partner = who.session.partner;
    // The trial as the trial check sees it (at most a second old).
    let (partner_name, commerce_id) = partner_names(state, partner).await?;
    let row = state.store.onboarding_for_check(partner).await?;
    Ok(SessionInfo {
        user_name: who.session.user_name.clone(),
        display_name: who.session.display_name.clone(),
        roles: who.roles.clone(),
        can_manage: who.can_manage(),
        roles_message: (!who.can_manage()).then(|| onboarding::roles_needed_message(&who.roles)),
        tenant_id: who.session.tenant_id.clone(),
        partner_name,
        commerce_id,
        connected: state.connection_of(partner).is_some(),
        trial: row.as_ref().and_then(trial_info),
        customer: None,
    })
}

async fn session(
    State(state): State<AppState>,
    AnySession(who): AnySession,
) -> Result<Json<SessionInfo>, ApiError> {
    if who.session.customer.is_some() {
        return Ok(Json(
            crate::customer_view::session_info(&state, &who).await?,
        ));
    }
    Ok(Json(session_info(&state, &who).await?))
}

fn step_of(text: &str) -> Step {
    match text {
        "addKey" => Step::AddKey,
        "startTrial" => Step::StartTrial,
        "done" => Step::Done,
        _ => Step::RegisterApp,
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::AddKey => "addKey",
        Step::StartTrial => "startTrial",
        Step::Done => "done",
        _ => "registerApp",
    }
}

/// The signed-in user's Graph token; gone after a proxy restart, when the
/// user signs in again.
fn graph_token(state: &AppState, who: &SignedIn) -> Result<String, ApiError> {
    state
        .identity
        .graph_token(&who.session_hash)
        .ok_or(ApiError::Refused {
        status: StatusCode::UNAUTHORIZED,
        code: "sign_in_again",
        message:
            "Please sign in again: the sign-in that lets this app reach your directory has expired."
                .into(),
    })
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
        ApiError::Refused {
            status: StatusCode::BAD_GATEWAY,
            code: "graph_refused",
            message: format!(
                "Microsoft Graph could not {doing}: {}",
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("no reason given")
            ),
        }
    }
}

async fn apps(state: &AppState, token: &str) -> Result<Vec<Value>, ApiError> {
    let (status, body) = state
        .identity
        .graph(token, reqwest::Method::GET, "/applications", None)
        .await?;
    if status != 200 {
        return Err(graph_failure(status, &body, "list your web apps"));
    }
    Ok(body["value"].as_array().cloned().unwrap_or_default())
}

async fn state_of(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<OnboardingState>, ApiError> {
    let partner = who.session.partner;
    let session = session_info(&state, &who).await?;
    let row = state.store.onboarding(partner).await?.unwrap_or_default();
    let step = if session.connected {
        Step::Done
    } else if !who.can_manage() {
        Step::BeforeYouBegin
    } else {
        step_of(&row.step)
    };
    let (mut existing_apps, mut keys) = (Vec::new(), Vec::new());
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
    }))
}

async fn choose_app(
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
    row.step = step_name(Step::AddKey).into();
    row.app_object_id = Some(app.object_id.clone());
    row.app_id = Some(app.app_id.clone());
    row.app_name = Some(app.name.clone());
    state.store.set_onboarding(partner, &row).await?;
    Ok(Json(app))
}

async fn chosen_app(state: &AppState, partner: PartnerId) -> Result<OnboardingRow, ApiError> {
    let row = state.store.onboarding(partner).await?.unwrap_or_default();
    if row.app_object_id.is_none() {
        return Err(ApiError::Refused {
            status: StatusCode::CONFLICT,
            code: "no_app",
            message: "Register or choose the web app first (step 3).".into(),
        });
    }
    Ok(row)
}

/// Creates a key; its value is in this answer and nowhere else.
async fn add_key(
    State(state): State<AppState>,
    who: SignedIn,
    ApiJson(req): ApiJson<KeyRequest>,
) -> Result<Json<NewKey>, ApiError> {
    who.require_manager()?;
    if !KEY_YEARS.contains(&req.years) {
        return Err(ApiError::BadRequest("A key lasts 1 or 2 years.".into()));
    }
    let partner = who.session.partner;
    let row = chosen_app(&state, partner).await?;
    let token = graph_token(&state, &who)?;
    let end = Utc::now() + Duration::days(365 * req.years as i64);
    let body = json!({ "passwordCredential": {
        "displayName": format!("CSP Cost Tracker ({} year{})", req.years, if req.years == 1 { "" } else { "s" }),
        "endDateTime": stamp(end)
    }});
    let object_id = row.app_object_id.clone().unwrap_or_default();
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
    let key = key_info(&created);
    state
        .store
        .add_key(
            partner,
            &crate::store::KeyRow {
                app_id: row.app_id.clone().unwrap_or_default(),
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

async fn revoke_key(
    State(state): State<AppState>,
    who: SignedIn,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require_manager()?;
    let key = onboarding::check_guid(&EN, "key ID", &key)
        .map_err(ApiError::BadRequest)?
        .to_string();
    let partner = who.session.partner;
    let row = chosen_app(&state, partner).await?;
    let token = graph_token(&state, &who)?;
    let object_id = row.app_object_id.unwrap_or_default();
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

async fn continue_to_trial(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<StatusCode, ApiError> {
    who.require_manager()?;
    let partner = who.session.partner;
    let mut row = chosen_app(&state, partner).await?;
    row.step = step_name(Step::StartTrial).into();
    state.store.set_onboarding(partner, &row).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::Refused {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        message,
    }
}

/// Checks the four things the admin typed against the upstream (a token and
/// one real read), then stores the connection and starts the trial and the
/// first sync.
async fn start_trial(
    State(state): State<AppState>,
    who: SignedIn,
    ApiJson(req): ApiJson<TrialRequest>,
) -> Result<Json<SessionInfo>, ApiError> {
    who.require_manager()?;
    let partner = who.session.partner;
    let commerce = onboarding::check_guid(&EN, "Commerce ID", &req.commerce_id)
        .map_err(ApiError::BadRequest)?;
    let app_id = onboarding::check_guid(&EN, "App ID", &req.app_id)
        .map_err(ApiError::BadRequest)?
        .to_string();
    onboarding::check_key(&EN, &req.key).map_err(ApiError::BadRequest)?;
    if let Some(own) = state.store.commerce_id(partner).await?
        && !own.eq_ignore_ascii_case(&commerce.to_string())
    {
        return Err(refused(
            "commerce_id_mismatch",
            "That Commerce ID is not your organization's. Copy it from step 3, where it is shown."
                .into(),
        ));
    }
    let tenant = who.session.tenant_id.clone();
    let credentials = Credentials {
        tenant: tenant.clone(),
        app_id: app_id.clone(),
        secret: Secret::new(req.key.trim()),
    };
    let checked = state
        .pc
        .check::<Collection<Customer>>(&credentials, &Link::get("/customers?size=1"))
        .await;
    if let Err(e) = checked {
        return Err(match e {
            PcError::Auth { code, .. } if code == "AADSTS700016" => refused(
                "app_not_found",
                format!(
                    "No web app with App ID {app_id} is registered in your organization's directory. \
                     It may belong to another partner: check the App ID shown in step 3."
                ),
            ),
            PcError::Auth { code, .. } if code == "AADSTS7000222" => refused(
                "key_expired",
                "This key has expired. Add a new key in step 4 and use its value.".into(),
            ),
            PcError::Auth { code, .. } if code == "AADSTS7000215" => {
                match state.store.key_by_value_hash(partner, &crypto::digest(req.key.trim())).await? {
                    Some(k) if k.revoked_at.is_some() => refused(
                        "key_revoked",
                        format!(
                            "This key was revoked on {}. Add a new key in step 4 and use its value.",
                            k.revoked_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
                        ),
                    ),
                    _ => refused(
                        "key_wrong",
                        "The key value is not right for this App ID. Paste the value shown when the key was created, \
                         or add a new key in step 4."
                            .into(),
                    ),
                }
            }
            PcError::Auth { description, .. } => refused("signin_refused", format!("Entra ID refused the app: {description}")),
            PcError::Unauthorized | PcError::Fault { status: 401 | 403, .. } => refused(
                "app_not_registered",
                "Partner Center does not accept this app yet: register it in App management (the link below), then try again."
                    .into(),
            ),
            PcError::Throttled { retry_after } => ApiError::Refused {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "upstream_throttled",
                message: format!(
                    "Partner Center is busy and asks to wait {} seconds. Try again then.",
                    retry_after.as_secs().max(1)
                ),
            },
            other => ApiError::Refused {
                status: StatusCode::BAD_GATEWAY,
                code: "upstream_unavailable",
                message: format!("Partner Center could not be reached to check the app ({other}). Try again in a few minutes."),
            },
        });
    }
    let sealed = state
        .sealer
        .seal(&credentials.secret, &seal_context(&tenant, &app_id));
    state
        .store
        .set_connection(partner, &app_id, &sealed)
        .await?;
    let mut row = state.store.onboarding(partner).await?.unwrap_or_default();
    let now = Utc::now();
    row.step = step_name(Step::Done).into();
    row.app_id = Some(app_id);
    if row.trial_started_at.is_none() {
        row.trial_started_at = Some(now);
        row.trial_ends_at = Some(now + Duration::days(TRIAL_DAYS));
    }
    state.store.set_onboarding(partner, &row).await?;
    let connection = Connection {
        partner,
        credentials,
    };
    state.add_connection(connection.clone());
    sync::spawn(state.clone(), connection, SyncKind::Full);
    tracing::info!(tenant = %tenant, "trial started");
    Ok(Json(session_info(&state, &who).await?))
}

/// Seals every stored app key with a fresh key and swaps the key file:
/// the new file is written first (`<file>.new`), the store is updated in one
/// transaction, then the files are renamed (the old key kept as `<file>.old`).
/// Returns what to print.
pub async fn rotate_sealing_key(
    store: &Store,
    key_file: &std::path::Path,
) -> Result<String, ApiError> {
    let internal = |e: String| ApiError::Internal(e);
    if !key_file.exists() {
        return Err(ApiError::BadRequest(format!(
            "There is no key file at {}: nothing is sealed with one yet.",
            key_file.display()
        )));
    }
    let old = crate::crypto::Sealer::from_file(key_file).map_err(|e| internal(e.to_string()))?;
    let (new, text) = crate::crypto::Sealer::generate().map_err(|e| internal(e.to_string()))?;
    let mut resealed = Vec::new();
    for (partner, tenant, app_id, sealed) in store.connections().await? {
        let context = seal_context(&tenant, &app_id);
        let secret = old.open(&sealed, &context).map_err(|e| {
            internal(format!(
                "the key of partner {tenant} does not open with {}: {e}",
                key_file.display()
            ))
        })?;
        resealed.push((partner, new.seal(&secret, &context)));
    }
    let with_suffix = |suffix: &str| {
        let mut name = key_file.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let (next, previous) = (with_suffix(".new"), with_suffix(".old"));
    let _ = std::fs::remove_file(&next);
    crate::crypto::write_key_file(&next, &text)
        .map_err(|e| internal(format!("{}: {e}", next.display())))?;
    store.reseal_connections(&resealed).await?;
    std::fs::rename(key_file, &previous)
        .and_then(|()| std::fs::rename(&next, key_file))
        .map_err(|e| {
            internal(format!(
                "the store is sealed with the key in {}, but the files could not be swapped: {e}",
                next.display()
            ))
        })?;
    Ok(format!(
        "{} app key(s) sealed with a new key in {}; the old key is in {} (delete it once the proxy starts)",
        resealed.len(),
        key_file.display(),
        previous.display()
    ))
}

/// Runs an operator task on the store; returns what to print.
pub async fn operator(store: &Store, action: &crate::PartnerAction) -> Result<String, ApiError> {
    let tenant = match action {
        crate::PartnerAction::Show { tenant }
        | crate::PartnerAction::Activate { tenant }
        | crate::PartnerAction::EndTrial { tenant }
        | crate::PartnerAction::Extend { tenant, .. } => tenant,
    };
    let partner = store.find_partner(tenant).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "No partner with tenant {tenant} has signed in here."
        ))
    })?;
    let mut row = store.onboarding(partner).await?.unwrap_or_default();
    match action {
        crate::PartnerAction::Show { .. } => {}
        crate::PartnerAction::Activate { .. } => {
            row.activated = true;
            store.set_onboarding(partner, &row).await?;
        }
        crate::PartnerAction::EndTrial { .. } => {
            let now = Utc::now();
            row.trial_started_at.get_or_insert(now);
            row.trial_ends_at = Some(now);
            row.activated = false;
            store.set_onboarding(partner, &row).await?;
        }
        crate::PartnerAction::Extend { days, .. } => {
            if !(1..=3650).contains(days) {
                return Err(ApiError::BadRequest(
                    "days must be between 1 and 3650.".into(),
                ));
            }
            let now = Utc::now();
            let from = row.trial_ends_at.filter(|e| *e > now).unwrap_or(now);
            row.trial_started_at.get_or_insert(now);
            row.trial_ends_at = Some(from + Duration::days(*days));
            store.set_onboarding(partner, &row).await?;
        }
    }
    let trial = trial_info(&row)
        .map(|t| {
            format!(
                "trial {} to {}, {} days left{}",
                t.started_at,
                t.ends_at,
                t.days_left,
                if t.ended { " (ended)" } else { "" }
            )
        })
        .unwrap_or_else(|| "no trial started".into());
    Ok(format!(
        "partner {tenant}: step {}, {trial}, subscription {}",
        if row.step.is_empty() {
            "registerApp"
        } else {
            &row.step
        },
        if row.activated {
            "active"
        } else {
            "not active"
        }
    ))
}
