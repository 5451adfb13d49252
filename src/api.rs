//! The one typed client of the proxy's `/api`.

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::on_cleanup;
use model::alerts::rules::{AlertSettings, AlertSettingsUpdate, Delivery, MadeRule, NewRule};
use model::api::{
    AppChoice, AppInfo, BillingAccess, BudgetUpdate, CustomerDetail, CustomerList, CustomerUser,
    CustomerUserInvite, ErrorBody, ErrorCode, KeyRequest, MarkupUpdate, NewKey, OnboardingState,
    Overview, OwnCosts, ReportingSettings, SessionInfo, TrialRequest, VerifyRequest,
};
use model::cube::{CUBE_MEDIA_TYPE, Cube};
use model::pc::SpendingBudget;
use model::pricing::Markup;
use model::saved_view::{NewSavedView, SavedView};
use send_wrapper::SendWrapper;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What can go wrong talking to the proxy, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The proxy could not be reached (the browser's reason).
    Network(String),
    /// The proxy's JSON error, with its stable code.
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The answer was not the JSON expected.
    Decode(String),
}

/// In English the proxy's own sentence, the most precise; in another
/// language the sentence for its code (the proxy speaks English only).
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = crate::i18n::t();
        let english = crate::i18n::current() == model::i18n::Locale::En;
        match self {
            ApiError::Network(why) if english => {
                write!(f, "The proxy could not be reached: {why}")
            }
            ApiError::Network(_) => f.write_str(t.err_network),
            ApiError::Decode(why) if english => {
                write!(f, "The proxy's answer could not be read: {why}")
            }
            ApiError::Decode(_) => f.write_str(t.err_decode),
            ApiError::Api { message, .. } if english => f.write_str(message),
            ApiError::Api { code, .. } => f.write_str(crate::i18n::error_text(*code)),
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// What every route answers a request with no session.
    pub fn not_signed_in() -> ApiError {
        ApiError::Api {
            status: 401,
            code: ErrorCode::NotSignedIn,
            message: "Nobody is signed in.".into(),
        }
    }

    /// The proxy's stable error code, when it sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The proxy's address: `config.json`'s `apiBase` when the app is hosted
/// elsewhere, otherwise the page's own origin.
static API_BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Set once at start-up, before the first request.
pub fn set_base(base: Option<String>) {
    let _ = API_BASE.set(base.unwrap_or_else(|| "/".into()));
}

fn base() -> &'static str {
    API_BASE.get().map(String::as_str).unwrap_or("/")
}

/// The session cookie goes along also when the proxy is on another origin
/// of the same site (a static host beside it); it allows this origin by CORS.
fn with_cookie(builder: RequestBuilder) -> RequestBuilder {
    builder.credentials(web_sys::RequestCredentials::Include)
}

/// The address of an `/api` route.
pub fn url(path: &str) -> String {
    format!("{}api/{path}", base())
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    // No body: a deletion, or a message taken to be sent (202).
    if matches!(response.status(), 202 | 204) {
        // Through the parser every body goes through: `from_value` would
        // compile a second decoder of every answer into the wasm.
        return serde_json::from_str("null").map_err(|e| ApiError::Decode(e.to_string()));
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
            code: ErrorCode::HttpError,
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

/// A GET that is cancelled when the view that asked for it goes away (a
/// page left, a filter changed before the answer came), as leptos'
/// hackernews example does.
async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    read(get_response(path, None).await?).await
}

/// A GET's response, `accept` asked for; cancelled with its view (above).
async fn get_response(path: &str, accept: Option<&str>) -> Result<Response, ApiError> {
    let controller = web_sys::AbortController::new().ok();
    let signal = controller.as_ref().map(|c| c.signal());
    let controller = SendWrapper::new(controller);
    on_cleanup(move || {
        if let Some(c) = controller.take() {
            c.abort();
        }
    });
    fetch(path, accept, signal.as_ref()).await
}

/// A GET's response, `accept` asked for, until `signal` aborts it.
async fn fetch(
    path: &str,
    accept: Option<&str>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Response, ApiError> {
    let mut builder = with_cookie(Request::get(&url(path))).abort_signal(signal);
    if let Some(accept) = accept {
        builder = builder.header("Accept", accept);
    }
    builder
        .build()
        .map_err(|e| ApiError::Network(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))
}

/// A cube, asked for as compact bytes (no JSON to parse in the browser);
/// read as JSON if the proxy answers so.
async fn get_cube(path: &str) -> Result<Cube, ApiError> {
    let response = get_response(path, Some(CUBE_MEDIA_TYPE)).await?;
    match cube_bytes(&response).await {
        Some(cube) => cube,
        None => read(response).await,
    }
}

/// The cube, when the proxy answered with its bytes.
async fn cube_bytes(response: &Response) -> Option<Result<Cube, ApiError>> {
    let binary = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with(CUBE_MEDIA_TYPE));
    if !(response.ok() && binary) {
        return None;
    }
    let bytes = match response.binary().await {
        Ok(bytes) => bytes,
        Err(e) => return Some(Err(ApiError::Network(e.to_string()))),
    };
    // The body's copy into wasm and its decoding in two tasks: a large
    // partner's cube (2.6 MB) made one task over 50 ms of them.
    next_task().await;
    let cube = crate::timing::measured("csp-costs:decode", || Cube::from_bytes(&bytes))
        .map_err(ApiError::Decode);
    // What the cube is drawn into runs in a task of its own: decoding a
    // large one and drawing it in one task held the page.
    next_task().await;
    Some(cube)
}

/// Resolves in a later task of the browser's event loop (a zero timeout),
/// so that what follows the `await` does not lengthen the current one.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| match web_sys::window() {
        Some(w) => {
            let _ = w.set_timeout_with_callback(&resolve);
        }
        None => {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
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

/// Who is signed in; nobody (the proxy's `204`) is `not_signed_in`, as
/// every other route says it.
pub async fn session() -> Result<SessionInfo, ApiError> {
    get::<Option<SessionInfo>>("session")
        .await?
        .ok_or_else(ApiError::not_signed_in)
}

pub async fn onboarding() -> Result<OnboardingState, ApiError> {
    get("onboarding").await
}

pub async fn choose_app(choice: &AppChoice) -> Result<AppInfo, ApiError> {
    write(
        with_cookie(Request::post(&url("onboarding/app"))),
        Some(choice),
    )
    .await
}

/// The connected app, its keys and the last sync (managers).
pub async fn connection() -> Result<model::onboarding::ConnectionInfo, ApiError> {
    get("connection").await
}

/// The sync signs in with this key from now on, once the proxy has checked it upstream.
pub async fn switch_key(key: &str) -> Result<(), ApiError> {
    write(
        with_cookie(Request::put(&url("connection/key"))),
        Some(&model::onboarding::SwitchKey { key: key.into() }),
    )
    .await
}

/// Starts a sync of this month's usage now.
pub async fn sync_now() -> Result<model::api::SyncProgress, ApiError> {
    write(with_cookie(Request::post(&url("sync"))), None::<&()>).await
}

pub async fn add_key(years: u32) -> Result<NewKey, ApiError> {
    write(
        with_cookie(Request::post(&url("onboarding/keys"))),
        Some(&KeyRequest { years }),
    )
    .await
}

pub async fn revoke_key(key_id: &str) -> Result<(), ApiError> {
    write(
        with_cookie(Request::delete(&url(&format!("onboarding/keys/{key_id}")))),
        None::<&()>,
    )
    .await
}

pub async fn continue_to_trial() -> Result<(), ApiError> {
    write(
        with_cookie(Request::post(&url("onboarding/continue"))),
        None::<&()>,
    )
    .await
}

/// Step 5: the permission, the service principal and the consent.
pub async fn grant_billing() -> Result<BillingAccess, ApiError> {
    write(
        with_cookie(Request::post(&url("onboarding/billing"))),
        None::<&()>,
    )
    .await
}

/// Step 5's check with the app's own token; `key` when the proxy asks for it.
pub async fn verify_billing(key: Option<String>) -> Result<BillingAccess, ApiError> {
    write(
        with_cookie(Request::post(&url("onboarding/billing/verify"))),
        Some(&VerifyRequest { key }),
    )
    .await
}

pub async fn start_trial(request: &TrialRequest) -> Result<SessionInfo, ApiError> {
    write(
        with_cookie(Request::post(&url("onboarding/trial"))),
        Some(request),
    )
    .await
}

pub async fn sign_out() -> Result<(), ApiError> {
    write(with_cookie(Request::post(&url("auth/logout"))), None::<&()>).await
}

/// Where the sign-in starts; it comes back to the app's `route` (a path of
/// the app, like `/onboarding`), as an absolute address since the proxy may
/// be on another origin.
pub fn sign_in_url(route: &str) -> String {
    format!(
        "{}api/auth/login?returnTo={}",
        base(),
        encode(&crate::host::app_url(route))
    )
}

/// An admin's sign-in with the directory access the wizard's app steps need.
pub fn directory_sign_in_url(route: &str) -> String {
    format!("{}&as=directory", sign_in_url(route))
}

/// The sign-in of a customer's user, from the customer's own tenant.
pub fn customer_sign_in_url(route: &str) -> String {
    format!("{}&as=customer", sign_in_url(route))
}

/// Percent-encodes a query value or a path segment.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn overview() -> Result<Overview, ApiError> {
    get("overview").await
}

pub async fn customer(id: &str) -> Result<CustomerDetail, ApiError> {
    get(&format!("customers/{id}")).await
}

/// The line items of a scope as a cube; `customer` empty for all.
/// A period's cube; `customer` empty for all. Past the proxy's limit it is
/// summed to `keep`'s dimensions (none: the proxy's default, the customer).
pub async fn usage(
    customer: &str,
    from: &str,
    to: &str,
    keep: &[model::cube::Dim],
) -> Result<Cube, ApiError> {
    let mut query = format!("usage?from={from}&to={to}");
    if !customer.is_empty() {
        query.push_str(&format!("&customer={customer}"));
    }
    if !keep.is_empty() {
        let names: Vec<String> = keep.iter().map(|d| encode(&d.name())).collect();
        query.push_str(&format!("&keep={}", names.join(",")));
    }
    get_cube(&query).await
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
        with_cookie(Request::put(&url(&format!("customers/{id}/budget")))),
        Some(update),
    )
    .await
}

pub async fn set_markup(id: &str, update: &MarkupUpdate) -> Result<Markup, ApiError> {
    write(
        with_cookie(Request::put(&url(&format!("customers/{id}/markup")))),
        Some(update),
    )
    .await
}

/// The markup of customers without their own.
pub async fn default_markup() -> Result<Markup, ApiError> {
    get("markup").await
}

pub async fn set_default_markup(update: &MarkupUpdate) -> Result<Markup, ApiError> {
    write(with_cookie(Request::put(&url("markup"))), Some(update)).await
}

pub async fn reporting() -> Result<ReportingSettings, ApiError> {
    get("settings/reporting").await
}

pub async fn set_reporting(settings: &ReportingSettings) -> Result<ReportingSettings, ApiError> {
    write(
        with_cookie(Request::put(&url("settings/reporting"))),
        Some(settings),
    )
    .await
}

/// The alert rules and whether e-mail can be sent (a manager's).
pub async fn alerts() -> Result<AlertSettings, ApiError> {
    get("alerts").await
}

pub async fn add_alert_rule(rule: &NewRule) -> Result<MadeRule, ApiError> {
    write(with_cookie(Request::post(&url("alerts/rules"))), Some(rule)).await
}

pub async fn remove_alert_rule(id: i64) -> Result<(), ApiError> {
    write(
        with_cookie(Request::delete(&url(&format!("alerts/rules/{id}")))),
        None::<&()>,
    )
    .await
}

/// A test message through the rule: it shows in the delivery log.
pub async fn test_alert_rule(id: i64) -> Result<(), ApiError> {
    write(
        with_cookie(Request::post(&url(&format!("alerts/rules/{id}/test")))),
        None::<&()>,
    )
    .await
}

pub async fn alert_deliveries() -> Result<Vec<Delivery>, ApiError> {
    get("alerts/deliveries").await
}

pub async fn set_alert_settings(
    update: &AlertSettingsUpdate,
) -> Result<AlertSettingsUpdate, ApiError> {
    write(
        with_cookie(Request::put(&url("alerts/settings"))),
        Some(update),
    )
    .await
}

/// The signed-in person's saved views.
pub async fn views() -> Result<Vec<SavedView>, ApiError> {
    get("views").await
}

pub async fn save_view(view: &NewSavedView) -> Result<SavedView, ApiError> {
    write(with_cookie(Request::post(&url("views"))), Some(view)).await
}

pub async fn delete_view(id: i64) -> Result<(), ApiError> {
    write(
        with_cookie(Request::delete(&url(&format!("views/{id}")))),
        None::<&()>,
    )
    .await
}

/// A server-made file (CSV, FOCUS) for a scope: a link the browser follows.
pub fn export_url(kind: &str, customer: &str, from: &str, to: &str) -> String {
    filtered_export_url(kind, customer, from, to, &[])
}

/// An export of the lines the Explorer's `filters` keep (dimension name and value).
pub fn filtered_export_url(
    kind: &str,
    customer: &str,
    from: &str,
    to: &str,
    filters: &[(String, String)],
) -> String {
    let mut u = format!("{}api/exports/{kind}.csv?from={from}&to={to}", base());
    if !customer.is_empty() {
        u.push_str(&format!("&customer={customer}"));
    }
    for (dim, value) in filters {
        u.push_str(&format!("&f.{}={}", encode(dim), encode(value)));
    }
    u
}

/// Who of a customer may see its own costs.
pub async fn customer_users(id: &str) -> Result<Vec<CustomerUser>, ApiError> {
    get(&format!("customers/{id}/users")).await
}

pub async fn invite_customer_user(
    id: &str,
    user_name: &str,
) -> Result<Vec<CustomerUser>, ApiError> {
    write(
        with_cookie(Request::post(&url(&format!("customers/{id}/users")))),
        Some(&CustomerUserInvite {
            user_name: user_name.to_string(),
        }),
    )
    .await
}

pub async fn remove_customer_user(id: &str, user_name: &str) -> Result<(), ApiError> {
    let user = encode(user_name).replace('/', "%2F");
    write(
        with_cookie(Request::delete(&url(&format!(
            "customers/{id}/users/{user}"
        )))),
        None::<&()>,
    )
    .await
}

/// A customer's user: its own figures, at its price.
pub async fn own_costs() -> Result<OwnCosts, ApiError> {
    get("my").await
}

pub async fn own_usage(from: &str, to: &str) -> Result<Cube, ApiError> {
    get_cube(&format!("my/usage?from={from}&to={to}")).await
}

pub fn own_export_url(from: &str, to: &str) -> String {
    format!("{}api/my/line-items.csv?from={from}&to={to}", base())
}

/// The customer's own entry (`/my`): a page with one view, whose requests
/// live as long as the page. Apart from the partner's app's because those
/// are cancelled with their Leptos views, and read by serde: the own entry
/// has neither, to stay small (issue 23), and reads its answers with
/// `model::fields`.
pub mod own {
    use model::fields::Unreadable;

    use super::*;
    use crate::parsed::Js;

    /// An answer read by `read`, or the proxy's error.
    async fn answer<T>(
        response: Response,
        read: fn(&Js) -> Result<T, Unreadable>,
    ) -> Result<T, ApiError> {
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        let value = Js::parse(&text);
        if response.ok() {
            return value
                .map_err(ApiError::Decode)
                .and_then(|v| read(&v).map_err(|e| ApiError::Decode(e.0)));
        }
        match value.ok().and_then(|v| ErrorBody::read(&v).ok()) {
            Some(body) => Err(ApiError::Api {
                status,
                code: body.error.code,
                message: body.error.message,
            }),
            None => Err(ApiError::Api {
                status,
                code: ErrorCode::HttpError,
                message: format!("The proxy answered HTTP {status}."),
            }),
        }
    }

    /// Who is signed in; nobody (`204`) is `not_signed_in`.
    pub async fn session() -> Result<SessionInfo, ApiError> {
        let response = fetch("session", None, None).await?;
        if response.status() == 204 {
            return Err(ApiError::not_signed_in());
        }
        answer(response, SessionInfo::read).await
    }

    pub async fn costs() -> Result<OwnCosts, ApiError> {
        answer(fetch("my", None, None).await?, OwnCosts::read).await
    }

    /// The period's cube, as compact bytes.
    pub async fn usage(from: &str, to: &str) -> Result<Cube, ApiError> {
        let path = format!("my/usage?from={from}&to={to}");
        let response = fetch(&path, Some(CUBE_MEDIA_TYPE), None).await?;
        match cube_bytes(&response).await {
            Some(cube) => cube,
            None => {
                answer(response, |_| {
                    Err(Unreadable(
                        "the period's usage came as JSON, not as its bytes".into(),
                    ))
                })
                .await
            }
        }
    }

    pub async fn sign_out() -> Result<(), ApiError> {
        let request = with_cookie(Request::post(&url("auth/logout")))
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        if response.ok() {
            return Ok(());
        }
        answer(response, |_| Ok(())).await
    }
}
