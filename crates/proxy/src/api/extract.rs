//! What the routes take from a request, checked once here: who is signed
//! in (and for which partner or customer), JSON bodies and queries whose
//! errors are JSON too, a customer of this partner, and a scope of days.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use chrono::{Datelike, NaiveDate};
use model::api::ErrorCode;
use model::onboarding::{Role, can_manage, roles_needed_message};
use serde::de::DeserializeOwned;

use crate::connections::Connection;
use crate::crypto;
use crate::error::ApiError;
use crate::onboarding::check_trial;
use crate::state::AppState;
use crate::store::{PartnerId, Scope, SessionRow};

pub const SESSION_COOKIE: &str = "csp_session";

/// Under HTTPS the session cookie's name carries the `__Host-` prefix: a
/// browser takes it only if it is Secure, for `/`, from this very host, so
/// a sibling subdomain cannot plant a session of its choosing.
pub const SECURE_SESSION_COOKIE: &str = "__Host-csp_session";

/// The session cookie's name, as the proxy is reached (secure: HTTPS).
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session token a request carries in its cookie (only under the name
/// in use: under HTTPS, a plain `csp_session` is not read).
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    cookie(headers, session_cookie_name(secure))
}

/// The value of the cookie `name` of a request, when it has a value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The person behind a request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SessionRow,
    pub session_hash: String,
    pub roles: Vec<Role>,
}

impl SignedIn {
    pub fn can_manage(&self) -> bool {
        can_manage(&self.roles)
    }

    /// For routes that change the connection, budgets or markups.
    pub fn require_manager(&self) -> Result<(), ApiError> {
        if self.can_manage() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(roles_needed_message(&self.roles)))
        }
    }
}

/// Anyone signed in: the partner's people or a customer's user.
pub struct AnySession(pub SignedIn);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token(&parts.headers, state.identity.secure_cookies())
            .ok_or(ApiError::NotSignedIn)?;
        let hash = crypto::digest(&token);
        let session = state
            .store
            .session(&hash)
            .await?
            .ok_or(ApiError::NotSignedIn)?;
        let roles = session
            .roles
            .split(',')
            .filter_map(|r| serde_json::from_value(serde_json::Value::String(r.to_string())).ok())
            .collect();
        Ok(AnySession(SignedIn {
            session,
            session_hash: hash,
            roles,
        }))
    }
}

/// One of the partner's people: a customer user's session is refused here,
/// so every route that takes this never shows them the partner's data.
impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = AnySession::from_request_parts(parts, state).await?.0;
        if who.session.customer.is_some() {
            return Err(ApiError::PartnerOnly);
        }
        Ok(who)
    }
}

/// The partner a request acts for: the signed-in user's, once connected
/// and while its trial (or subscription) runs. A session reaches only its
/// own partner's data.
pub struct Partner(pub Connection, pub SignedIn);

impl FromRequestParts<AppState> for Partner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        let connection = state
            .connection_of(who.session.partner)
            .await
            .ok_or(ApiError::NotConnected)?;
        check_trial(&state.store, connection.partner).await?;
        Ok(Partner(connection, who))
    }
}

impl Partner {
    pub fn id(&self) -> PartnerId {
        self.0.partner
    }

    /// For routes that change something: Global admin or Admin agent.
    pub fn manager(self) -> Result<Partner, ApiError> {
        self.1.require_manager()?;
        Ok(self)
    }
}

/// A customer's user, for the partner whose customer they are.
pub struct CustomerViewer {
    pub partner: PartnerId,
    pub customer: String,
}

impl FromRequestParts<AppState> for CustomerViewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = AnySession::from_request_parts(parts, state).await?.0;
        let Some(customer) = who.session.customer else {
            return Err(ApiError::Forbidden(
                "These routes are a customer's own view; the partner's people see the customer on its page."
                    .into(),
            ));
        };
        let partner = who.session.partner;
        // The partner's connection and trial are the partner's business: the
        // customer is told only that the view is closed and whom to ask.
        if state.connection_of(partner).await.is_none()
            || check_trial(&state.store, partner).await.is_err()
        {
            return Err(ApiError::refused(
                ErrorCode::ViewClosed,
                "This view is closed for now. Ask your Microsoft partner.",
            ));
        }
        Ok(CustomerViewer { partner, customer })
    }
}

/// Query parameters whose errors are JSON like every other error.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::BadRequest(format!("The query is not valid: {}", e.body_text())))
    }
}

/// A JSON body whose errors are JSON like every other error.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::refused(
                    ErrorCode::BodyTooLarge,
                    format!(
                        "The request body is too large: at most {} KB.",
                        crate::web::BODY_LIMIT / 1024
                    ),
                ),
                _ => ApiError::BadRequest(format!("The body is not valid: {}", e.body_text())),
            })
    }
}

/// At most 40 characters of what someone sent, for an error message.
pub fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A customer ID from the path: a GUID of one of this partner's customers.
pub async fn own_customer(
    state: &AppState,
    partner: PartnerId,
    id: &str,
) -> Result<String, ApiError> {
    let guid: model::Guid = id
        .parse()
        .map_err(|e: model::guid::GuidError| ApiError::BadRequest(e.to_string()))?;
    let id = guid.to_string();
    if state.store.has_customer(partner, &id).await? {
        Ok(id)
    } else {
        Err(ApiError::NotFound(format!("There is no customer {id}.")))
    }
}

/// `customer`, `from` and `to` (YYYY-MM-DD, inclusive UTC days) of a
/// request, and for pages `offset` and `limit`.
#[derive(serde::Deserialize)]
pub struct ScopeQuery {
    pub customer: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    /// The rest: the exports read the Explorer's filters (`f.meter=…`) here.
    #[serde(flatten)]
    pub rest: std::collections::BTreeMap<String, String>,
}

/// Longest range one request may ask for.
const MAX_DAYS: i64 = 400;

fn parse_date(name: &str, text: &str) -> Result<NaiveDate, ApiError> {
    use model::report::REPORT_YEARS as YEARS;
    model::report::request_day(text).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{name} must be a date like 2026-11-01 between the years {} and {}, not “{}”.",
            YEARS.start(),
            YEARS.end(),
            clip(text)
        ))
    })
}

/// The days and customer a request covers: this month of the data by default.
pub async fn scope(
    state: &AppState,
    partner: PartnerId,
    q: &ScopeQuery,
) -> Result<Scope, ApiError> {
    let customer = match q.customer.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(own_customer(state, partner, c).await?),
        None => None,
    };
    let latest = state
        .store
        .last_usage_day(partner)
        .await?
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let to = match &q.to {
        Some(t) => parse_date("to", t)?,
        None => latest,
    };
    let from = match &q.from {
        Some(f) => parse_date("from", f)?,
        None => NaiveDate::from_ymd_opt(to.year(), to.month(), 1).expect("valid"),
    };
    if from > to {
        return Err(ApiError::BadRequest(format!(
            "from ({from}) is after to ({to})."
        )));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::BadRequest(format!(
            "A request covers at most {MAX_DAYS} days; {from} to {to} is longer."
        )));
    }
    Ok(Scope { customer, from, to })
}

/// A whole number from a query, up to `max`.
pub fn parse_count(
    name: &str,
    text: Option<&str>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match text {
        None => Ok(default),
        Some(t) => t
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "{name} must be a whole number up to {max}, not “{}”.",
                    clip(t)
                ))
            }),
    }
}
