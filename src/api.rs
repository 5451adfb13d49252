//! The one typed client of the proxy's `/api`.

use gloo_net::http::{Request, RequestBuilder, Response};
use model::api::{
    AppChoice, AppInfo, BudgetUpdate, CustomerDetail, CustomerList, ErrorBody, KeyRequest,
    MarkupUpdate, NewKey, OnboardingState, Overview, ReportingSettings, SessionInfo, SyncProgress,
    TrialRequest,
};
use model::cube::Cube;
use model::pc::SpendingBudget;
use model::pricing::Markup;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What can go wrong talking to the proxy, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("The proxy could not be reached: {0}")]
    Network(String),
    /// The proxy's JSON error, with its stable code.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("The proxy's answer could not be read: {0}")]
    Decode(String),
}

impl ApiError {
    /// The proxy's stable error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Relative to the document's `<base>`, so the app also works under a sub-path.
fn url(path: &str) -> String {
    format!("api/{path}")
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.status() == 204 {
        return serde_json::from_value(serde_json::Value::Null)
            .map_err(|e| ApiError::Decode(e.to_string()));
    }
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|e| ApiError::Decode(e.to_string()));
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError::Api {
            status,
            code: body.error.code,
            message: body.error.message,
        }),
        Err(_) => Err(ApiError::Api {
            status,
            code: "http_error".into(),
            message: format!("The proxy answered HTTP {status}."),
        }),
    }
}

async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    let request = request.map_err(|e| ApiError::Network(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    read(response).await
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    send(Request::get(&url(path)).build()).await
}

async fn write<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<&impl Serialize>,
) -> Result<T, ApiError> {
    match body {
        Some(b) => send(builder.json(b)).await,
        None => send(builder.build()).await,
    }
}

pub async fn customers() -> Result<CustomerList, ApiError> {
    get("customers").await
}

pub async fn session() -> Result<SessionInfo, ApiError> {
    get("session").await
}

pub async fn onboarding() -> Result<OnboardingState, ApiError> {
    get("onboarding").await
}

pub async fn sync_progress() -> Result<SyncProgress, ApiError> {
    get("sync").await
}

pub async fn choose_app(choice: &AppChoice) -> Result<AppInfo, ApiError> {
    write(Request::post(&url("onboarding/app")), Some(choice)).await
}

pub async fn add_key(years: u32) -> Result<NewKey, ApiError> {
    write(
        Request::post(&url("onboarding/keys")),
        Some(&KeyRequest { years }),
    )
    .await
}

pub async fn revoke_key(key_id: &str) -> Result<(), ApiError> {
    write(
        Request::delete(&url(&format!("onboarding/keys/{key_id}"))),
        None::<&()>,
    )
    .await
}

pub async fn continue_to_trial() -> Result<(), ApiError> {
    write(Request::post(&url("onboarding/continue")), None::<&()>).await
}

pub async fn start_trial(request: &TrialRequest) -> Result<SessionInfo, ApiError> {
    write(Request::post(&url("onboarding/trial")), Some(request)).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    write(Request::post(&url("auth/logout")), None::<&()>).await
}

/// Where the sign-in starts; it comes back to `return_to`.
pub fn sign_in_url(return_to: &str) -> String {
    let encoded: String = return_to
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("api/auth/login?returnTo={encoded}")
}

pub async fn overview() -> Result<Overview, ApiError> {
    get("overview").await
}

pub async fn customer(id: &str) -> Result<CustomerDetail, ApiError> {
    get(&format!("customers/{id}")).await
}

/// The line items of a scope as a cube; `customer` empty for all.
pub async fn usage(customer: &str, from: &str, to: &str) -> Result<Cube, ApiError> {
    let mut query = format!("usage?from={from}&to={to}");
    if !customer.is_empty() {
        query.push_str(&format!("&customer={customer}"));
    }
    get(&query).await
}

/// Price and margin of a period; `customer` empty for all.
pub async fn margin(
    customer: &str,
    from: &str,
    to: &str,
) -> Result<model::margin::MarginReport, ApiError> {
    let mut query = format!("margin?from={from}&to={to}");
    if !customer.is_empty() {
        query.push_str(&format!("&customer={customer}"));
    }
    get(&query).await
}

pub async fn set_budget(id: &str, update: &BudgetUpdate) -> Result<SpendingBudget, ApiError> {
    write(
        Request::put(&url(&format!("customers/{id}/budget"))),
        Some(update),
    )
    .await
}

pub async fn set_markup(id: &str, update: &MarkupUpdate) -> Result<Markup, ApiError> {
    write(
        Request::put(&url(&format!("customers/{id}/markup"))),
        Some(update),
    )
    .await
}

pub async fn set_default_markup(update: &MarkupUpdate) -> Result<Markup, ApiError> {
    write(Request::put(&url("markup")), Some(update)).await
}

pub async fn reporting() -> Result<ReportingSettings, ApiError> {
    get("settings/reporting").await
}

pub async fn set_reporting(settings: &ReportingSettings) -> Result<ReportingSettings, ApiError> {
    write(Request::put(&url("settings/reporting")), Some(settings)).await
}

/// A server-made file (CSV, FOCUS) for a scope: a link the browser follows.
pub fn export_url(kind: &str, customer: &str, from: &str, to: &str) -> String {
    let mut u = format!("api/exports/{kind}.csv?from={from}&to={to}");
    if !customer.is_empty() {
        u.push_str(&format!("&customer={customer}"));
    }
    u
}
