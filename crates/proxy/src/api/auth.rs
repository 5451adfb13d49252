//! Signing in and out, and who is signed in: `/api/auth/login`, the
//! callback from Entra ID, `/api/auth/logout` and `/api/session`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use model::api::{SessionCustomer, SessionInfo};
use model::onboarding;
use serde::Deserialize;

use super::extract::{AnySession, SignedIn, cookie, session_cookie_name, session_token};
use crate::crypto;
use crate::error::ApiError;
use crate::identity::{self, NewToken, SignInKind};
use crate::onboarding::{partner_name, trial_info};
use crate::state::AppState;

/// HttpOnly keeps it from scripts; SameSite=Lax keeps it off other sites'
/// requests; Secure, and named `__Host-`, whenever the proxy is reached
/// over HTTPS.
fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Binds a sign-in to the browser that started it: set with the redirect to
/// Entra, required and cleared at the callback (ten minutes at most, sent
/// only to `/api/auth`). Under HTTPS it is `__Secure-` (its path rules out
/// `__Host-`): a browser takes it only over HTTPS.
fn sign_in_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Secure-csp_signin"
    } else {
        "csp_signin"
    }
}

fn sign_in_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let name = sign_in_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/api/auth; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// `response` with the cookie `value` added.
fn with_cookie(mut response: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /api/auth/login?returnTo=/onboarding`: off to Entra's sign-in page.
/// `as=customer` signs in a customer's user; `as=directory` asks an admin
/// for the directory access the wizard needs.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let id = &state.identity;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let base = id.base_url(host);
    // Only this app's pages: here (as a path or an address), or on an origin
    // allowed by CORS (the same files on a static host). No open redirect.
    let return_to = q
        .get("returnTo")
        .filter(|r| state.web.may_return_to(r, &base))
        .cloned()
        .unwrap_or_else(|| "/".into());
    let kind = match q.get("as").map(String::as_str) {
        Some("customer") => SignInKind::Customer,
        Some("directory") => SignInKind::Directory,
        _ => SignInKind::Partner,
    };
    match id.begin(&base, return_to, kind) {
        Ok(started) => with_cookie(
            Redirect::to(&started.url).into_response(),
            &sign_in_cookie(&started.binding, 600, id.secure_cookies()),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error_description: Option<String>,
}

/// Back to the app's `path` with why the sign-in did not finish, in the
/// query, for the page to say.
pub(super) fn back_to_app(path: &str, problem: &str) -> Response {
    back_with(path, "signInError", problem)
}

/// Back to the app's `path` with `problem` under `key` in the query.
pub(super) fn back_with(path: &str, key: &str, problem: &str) -> Response {
    let mut query = reqwest::Url::parse("http://app/").expect("a valid address");
    query.query_pairs_mut().append_pair(key, problem);
    let url = format!("{path}?{}", query.query().unwrap_or_default());
    Redirect::to(&url).into_response()
}

/// `GET /api/auth/callback`: the code is redeemed, the user's roles read,
/// a session opened, and the browser sent back where it came from.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(cb): Query<Callback>,
) -> Response {
    let cleared = sign_in_cookie("", 0, state.identity.secure_cookies());
    with_cookie(finish(&state, &headers, cb).await, &cleared)
}

async fn finish(state: &AppState, headers: &HeaderMap, cb: Callback) -> Response {
    let id = &state.identity;
    let Some(pending) = cb.state.as_deref().and_then(|s| id.take_pending(s)) else {
        return back_to_app(
            "/onboarding",
            "The sign-in expired or was started elsewhere. Please sign in again.",
        );
    };
    // A callback address opened in another browser (sent to a victim, say)
    // must not sign that browser in as the person who started it.
    let binding = cookie(headers, sign_in_cookie_name(id.secure_cookies()));
    if !pending.started_by(binding.as_deref()) {
        tracing::warn!("a sign-in callback came to a browser that did not start it");
        return back_to_app(
            &pending.return_to,
            "The sign-in was started in another browser. Please sign in again here.",
        );
    }
    let Some(code) = cb.code else {
        let why = cb
            .error_description
            .unwrap_or_else(|| "Sign-in was cancelled.".into());
        return back_to_app(&pending.return_to, &why);
    };
    let finished = if pending.kind == SignInKind::Customer {
        identity::finish_customer_sign_in(id, &state.store, &code, &pending).await
    } else {
        identity::finish_sign_in(id, &state.store, &state.pc, &code, &pending).await
    };
    match finished {
        Ok(NewToken { token, .. }) => {
            let cookie = session_cookie(&token, id.session_hours * 3600, id.secure_cookies());
            let mut response = Redirect::to(&pending.return_to).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "sign-in failed");
            back_to_app(&pending.return_to, &e.to_string())
        }
    }
}

/// `POST /api/auth/logout`: the session ends here and now.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers, state.identity.secure_cookies()) {
        let hash = crypto::digest(&token);
        state.store.revoke_session(&hash).await?;
        state.identity.forget(&hash);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session_cookie("", 0, state.identity.secure_cookies()))
            .expect("valid cookie"),
    );
    Ok(response)
}

/// Who a partner's person is, for which partner, and where its trial stands.
pub(super) async fn session_info(
    state: &AppState,
    who: &SignedIn,
) -> Result<SessionInfo, ApiError> {
    let partner = who.session.partner;
    let partner_name = partner_name(&state.store, partner).await?;
    // The trial as the trial check sees it.
    let row = state.store.onboarding_for_check(partner).await?;
    Ok(SessionInfo {
        user_name: who.session.user_name.clone(),
        display_name: who.session.display_name.clone(),
        roles: who.roles.clone(),
        can_manage: who.can_manage(),
        roles_message: (!who.can_manage()).then(|| onboarding::roles_needed_message(&who.roles)),
        tenant_id: who.session.tenant_id.clone(),
        partner_name,
        connected: state.connection_of(partner).await.is_some(),
        trial: row.as_ref().and_then(trial_info),
        customer: None,
        as_of: super::as_of(state, partner).await?,
    })
}

/// A customer's user: no roles, no trial, no IDs of the partner beyond its name.
async fn customer_session_info(state: &AppState, who: &SignedIn) -> Result<SessionInfo, ApiError> {
    let partner = who.session.partner;
    let customer = who.session.customer.clone().unwrap_or_default();
    let name = state
        .store
        .customer_name(partner, &customer)
        .await?
        .unwrap_or_else(|| customer.clone());
    Ok(SessionInfo {
        user_name: who.session.user_name.clone(),
        display_name: who.session.display_name.clone(),
        roles: Vec::new(),
        can_manage: false,
        roles_message: None,
        tenant_id: customer.clone(),
        partner_name: partner_name(&state.store, partner).await?,
        connected: state.connection_of(partner).await.is_some(),
        trial: None,
        customer: Some(SessionCustomer { id: customer, name }),
        as_of: super::as_of(state, partner).await?,
    })
}

/// `GET /api/session`: who is signed in, or `204 No Content` for nobody.
/// Every page asks this first, and a browser logs each 4xx as a console
/// error: being signed out is an answer here, not a failure.
pub async fn session(
    State(state): State<AppState>,
    who: Result<AnySession, ApiError>,
) -> Result<Response, ApiError> {
    let who = match who {
        Ok(AnySession(who)) => who,
        Err(ApiError::NotSignedIn) => return Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => return Err(e),
    };
    Ok(Json(if who.session.customer.is_some() {
        customer_session_info(&state, &who).await?
    } else {
        session_info(&state, &who).await?
    })
    .into_response())
}
