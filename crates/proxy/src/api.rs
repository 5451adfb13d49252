//! `/api`: the JSON the SPA reads. Routes are listed in `docs/api.md`.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate};
use model::api::{
    AzureSubscription, BudgetUpdate, CustomerDetail, Health, HealthCheck, LineItemPage,
    LineItemRow, MarkupUpdate, ReportingSettings, SyncProgress,
};
use model::cube::Cube;
use model::export::{FOCUS_COLUMNS, FocusParty, decimal, focus_row, usage_cells, write_record};
use model::pc::{Link, SpendingBudget};
use model::pricing::Markup;
use model::{Amount, Currency, Guid};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, api_not_found};
use crate::identity::SignedIn;
use crate::store::{Budget, PartnerId, Reporting, Scope};
use crate::sync::SyncKind;
use crate::{AppState, Connection, reports, sync};

pub fn routes(state: AppState) -> Router<AppState> {
    let sign_in = Router::new()
        .route("/auth/login", get(crate::identity::login))
        .route("/auth/callback", get(crate::identity::callback))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::web::limit_sign_in,
        ));
    let bounded = Router::new()
        .route("/health", get(health))
        .route("/customers", get(customers))
        .route("/customers/{id}", get(customer))
        .route("/customers/{id}/budget", put(set_budget))
        .route(
            "/customers/{id}/markup",
            put(set_markup).delete(remove_markup),
        )
        .route("/markup", put(set_default_markup))
        .route("/overview", get(overview))
        .route("/usage", get(usage))
        .route("/line-items", get(line_items))
        .route("/margin", get(margin))
        .route("/settings/reporting", get(reporting).put(set_reporting))
        .route("/exports/line-items.csv", get(export_csv))
        .route("/exports/focus.csv", get(export_focus))
        .route("/sync", post(start_sync).get(sync_status))
        .route("/auth/logout", post(crate::identity::logout))
        .merge(sign_in)
        .merge(crate::onboarding::routes())
        .merge(crate::customer_view::routes())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            crate::web::REQUEST_TIMEOUT,
        ));
    // The event stream stays open as long as the page does.
    Router::new()
        .route("/sync/events", get(sync_events))
        .merge(bounded)
        .fallback(api_not_found)
        .layer(axum::extract::DefaultBodyLimit::max(crate::web::BODY_LIMIT))
        .layer(axum::middleware::from_fn(crate::web::json_errors))
        // Outermost, so it sees the final body; the event stream is left
        // alone (tower-http's default predicate). The Explorer's cube of a
        // month is megabytes of JSON and a fifth of that compressed.
        .layer(tower_http::compression::CompressionLayer::new())
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
            .ok_or(ApiError::NotConnected)?;
        crate::onboarding::check_trial(&state.store, connection.partner).await?;
        Ok(Partner(connection, who))
    }
}

impl Partner {
    fn id(&self) -> PartnerId {
        self.0.partner
    }

    /// For routes that change something: Global admin or Admin agent.
    fn manager(self) -> Result<Partner, ApiError> {
        self.1.require_manager()?;
        Ok(self)
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
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::Refused {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    code: "body_too_large",
                    message: format!(
                        "The request body is too large: at most {} KB.",
                        crate::web::BODY_LIMIT / 1024
                    ),
                },
                _ => ApiError::BadRequest(format!("The body is not valid: {}", e.body_text())),
            })
    }
}

/// `ok` only when the store and the upstream both answer.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
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
    let upstream = check(
        "upstream",
        match &state.connection {
            // With credentials, a token and one real read prove the upstream works.
            Some(c) => state
                .pc
                .get::<serde_json::Value>(&c.credentials, &Link::get("/customers?size=1"))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            // No partner connected yet: Partner Center answering at all will do.
            None => match state.all_connections().first() {
                Some(c) => state
                    .pc
                    .get::<serde_json::Value>(&c.credentials, &Link::get("/customers?size=1"))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => state.pc.ping().await.map_err(|e| e.to_string()),
            },
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

async fn customers(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<reports::KeptJson, ApiError> {
    sync::wait_for_customers(&state, &partner.0).await?;
    reports::kept_customer_list_json(&state.store, partner.id()).await
}

/// A customer ID from the path: a GUID of one of this partner's customers.
pub(crate) async fn own_customer(
    state: &AppState,
    partner: PartnerId,
    id: &str,
) -> Result<String, ApiError> {
    let guid: Guid = id
        .parse()
        .map_err(|e: model::guid::GuidError| ApiError::BadRequest(e.to_string()))?;
    let id = guid.to_string();
    if state.store.has_customer(partner, &id).await? {
        Ok(id)
    } else {
        Err(ApiError::NotFound(format!("There is no customer {id}.")))
    }
}

async fn customer(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
) -> Result<Json<CustomerDetail>, ApiError> {
    let id = own_customer(&state, partner.id(), &id).await?;
    let figures = reports::customers(&state.store, partner.id()).await?;
    let summary = figures
        .customers
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("There is no customer {id}.")))?;
    let azure_subscriptions = state
        .store
        .entitlements(partner.id(), &id)
        .await?
        .into_iter()
        .map(|(id, name, _, status)| AzureSubscription { id, name, status })
        .collect();
    let partner_center_estimate = state
        .store
        .usage_summary(partner.id(), &id)
        .await?
        .map(|(amount, currency)| (amount.micros(), currency));
    Ok(Json(CustomerDetail {
        summary,
        azure_subscriptions,
        as_of: figures.as_of,
        partner_center_estimate,
    }))
}

async fn overview(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<reports::KeptJson, ApiError> {
    reports::kept_overview_json(&state.store, partner.id()).await
}

/// `customer`, `from` and `to` (YYYY-MM-DD, inclusive UTC days) of a request.
#[derive(serde::Deserialize)]
pub(crate) struct ScopeQuery {
    pub(crate) customer: Option<String>,
    from: Option<String>,
    to: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

/// Longest range one request may ask for.
const MAX_DAYS: i64 = 400;

fn parse_date(name: &str, text: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::BadRequest(format!(
            "{name} must be a date like 2026-11-01, not “{}”.",
            clip(text)
        ))
    })
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The days and customer a request covers: this month of the data by default.
pub(crate) async fn scope(
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

fn parse_count(
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

/// The scope's line items as a cube, for pivoting in the browser.
async fn usage(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<Cube>, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    Ok(Json(state.store.cube(partner.id(), &scope).await?))
}

async fn line_items(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<LineItemPage>, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let offset = parse_count("offset", q.offset.as_deref(), 0, usize::MAX / 2)?;
    let limit = parse_count("limit", q.limit.as_deref(), 500, 5_000)?.max(1);
    // One more than asked tells whether another page follows.
    let mut rows = state
        .store
        .line_items(partner.id(), &scope, limit as i64 + 1, offset as i64)
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok(Json(LineItemPage {
        items: rows
            .into_iter()
            .map(|(line, customer_price)| LineItemRow {
                list_cost: line.list_total().micros(),
                line,
                customer_price,
            })
            .collect(),
        offset,
        limit,
        next_offset: more.then_some(offset + limit),
    }))
}

/// Price and margin over a range (this month to date by default), compared
/// with the previous period; PEC applied and lost per line.
async fn margin(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<model::margin::MarginReport>, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let (from, to) = model::margin::previous_period(scope.from, scope.to);
    let previous = Scope {
        customer: scope.customer.clone(),
        from,
        to,
    };
    let current = scope_lines(&state, partner.id(), &scope).await?;
    let previous = scope_lines(&state, partner.id(), &previous).await?;
    Ok(Json(model::margin::margin_report(
        (scope.from, scope.to),
        &current,
        &previous,
    )))
}

/// Writes the budget to Partner Center first; the store follows only if
/// Partner Center took it.
async fn set_budget(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<BudgetUpdate>,
) -> Result<Json<SpendingBudget>, ApiError> {
    let partner = partner.manager()?;
    let id = own_customer(&state, partner.id(), &id).await?;
    let amount = match update.amount.as_deref() {
        None => None,
        Some(text) => Some(
            Amount::parse_decimal(text)
                .filter(|a| *a >= Amount::ZERO && *a <= Amount::from_micros(1_000_000_000_000_000_000))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "The budget must be an amount of zero or more, like 1500 or 99.50, not “{}”.",
                        clip(text)
                    ))
                })?,
        ),
    };
    if let Some(t) = &update.thresholds
        && (t.len() > 10 || t.iter().any(|p| !(1..=1000).contains(p)))
    {
        return Err(ApiError::BadRequest(
            "Thresholds are up to ten percents between 1 and 1000, like [50, 80, 100].".into(),
        ));
    }
    let body = serde_json::json!({
        "Amount": amount.map(|a| a.to_f64()),
        "Attributes": { "ObjectType": "SpendingBudget" }
    });
    let saved: SpendingBudget = state
        .pc
        .patch(
            &partner.0.credentials,
            &format!("/customers/{id}/usagebudget"),
            &body,
        )
        .await?;
    state
        .store
        .set_budget(partner.id(), &id, Budget(saved.amount))
        .await?;
    if let Some(t) = &update.thresholds {
        let mut t = t.clone();
        t.sort_unstable();
        t.dedup();
        state.store.set_thresholds(partner.id(), &id, &t).await?;
    }
    Ok(Json(saved))
}

fn markup_of(update: &MarkupUpdate) -> Result<Markup, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "The markup must be a percent with at most two decimals, like 12.5 or -5, not “{}”.",
            clip(&update.percent)
        ))
    };
    let micros = Amount::parse_decimal(&update.percent)
        .ok_or_else(bad)?
        .micros();
    if micros % 10_000 != 0 {
        return Err(bad());
    }
    let basis_points = i32::try_from(micros / 10_000).map_err(|_| bad())?;
    Markup::new(update.basis, basis_points).map_err(|e| ApiError::BadRequest(e.to_string()))
}

async fn set_markup(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<MarkupUpdate>,
) -> Result<Json<Markup>, ApiError> {
    let partner = partner.manager()?;
    let id = own_customer(&state, partner.id(), &id).await?;
    let markup = markup_of(&update)?;
    state
        .store
        .set_markup(partner.id(), &id, Some(markup))
        .await?;
    Ok(Json(markup))
}

async fn remove_markup(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let partner = partner.manager()?;
    let id = own_customer(&state, partner.id(), &id).await?;
    state.store.set_markup(partner.id(), &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_default_markup(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(update): ApiJson<MarkupUpdate>,
) -> Result<Json<Markup>, ApiError> {
    let partner = partner.manager()?;
    let markup = markup_of(&update)?;
    state
        .store
        .set_markup(partner.id(), "*", Some(markup))
        .await?;
    Ok(Json(markup))
}

async fn reporting(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Json<ReportingSettings>, ApiError> {
    Ok(Json(reports::reporting_settings(
        &state.store.reporting(partner.id()).await?,
    )))
}

async fn set_reporting(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(settings): ApiJson<ReportingSettings>,
) -> Result<Json<ReportingSettings>, ApiError> {
    let partner = partner.manager()?;
    let currency =
        Currency::parse(&settings.currency).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut rates: HashMap<String, i64> = HashMap::new();
    for r in &settings.rates {
        let c = Currency::parse(&r.currency).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let rate = Amount::parse_decimal(&r.rate)
            .filter(|a| *a > Amount::ZERO)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "The rate for {c} must be a number above zero with at most six decimals, not “{}”.",
                    clip(&r.rate)
                ))
            })?;
        if c != currency {
            rates.insert(c.code().to_string(), rate.micros());
        }
    }
    let mut rates: Vec<(String, i64)> = rates.into_iter().collect();
    rates.sort();
    let reporting = Reporting {
        currency: currency.code().to_string(),
        rates,
    };
    state.store.set_reporting(partner.id(), &reporting).await?;
    Ok(Json(reports::reporting_settings(&reporting)))
}

/// Every line item of the scope, page by page from the store.
pub(crate) async fn scope_lines(
    state: &AppState,
    partner: PartnerId,
    scope: &Scope,
) -> Result<Vec<(model::usage::LineItem, i64)>, ApiError> {
    let mut all = Vec::new();
    loop {
        let page = state
            .store
            .line_items(partner, scope, 20_000, all.len() as i64)
            .await?;
        let done = page.len() < 20_000;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

pub(crate) fn csv_file(name: String, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

pub(crate) fn file_name(kind: &str, scope: &Scope) -> String {
    let who = scope
        .customer
        .as_deref()
        .map(|c| &c[..8])
        .unwrap_or("all-customers");
    format!("{kind}-{who}-{}-{}.csv", scope.from, scope.to)
}

/// Line items as CSV, amounts in their billing currency with six decimals.
async fn export_csv(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let mut out = String::new();
    write_record(
        &mut out,
        &[
            "Date (UTC)",
            "Customer",
            "Customer ID",
            "Azure subscription",
            "Resource group",
            "Resource",
            "Meter category",
            "Meter subcategory",
            "Meter",
            "Region",
            "Unit",
            "Quantity",
            "Currency",
            "Partner cost",
            "Customer price",
            "Margin",
            "List cost",
            "PEC %",
            "Credit",
            "Invoice",
        ],
    );
    for (l, price) in scope_lines(&state, partner.id(), &scope).await? {
        let cost = l.billing_total.micros();
        let mut row = vec![
            l.usage_date.to_string(),
            l.customer_name.clone(),
            l.customer_id.clone(),
        ];
        row.extend(usage_cells(&l));
        row.extend([
            l.billing_currency.code().to_string(),
            decimal(cost),
            decimal(price),
            decimal(price - cost),
            decimal(l.list_total().micros()),
            decimal(l.pec_basis_points as i64 * 100),
            l.credit_type.clone(),
            l.invoice_number.clone(),
        ]);
        write_record(&mut out, &row);
    }
    Ok(csv_file(file_name("line-items", &scope), out))
}

/// FOCUS 1.2 rows: the partner as provider and invoice issuer, the
/// customer's price as billed cost, list price as list cost.
async fn export_focus(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let partner_name = state
        .store
        .partner_name(partner.id())
        .await?
        .unwrap_or_else(|| partner.0.credentials.tenant.clone());
    let party = FocusParty {
        partner_name: &partner_name,
    };
    let mut out = String::new();
    write_record(&mut out, FOCUS_COLUMNS);
    for (l, price) in scope_lines(&state, partner.id(), &scope).await? {
        write_record(&mut out, &focus_row(&l, price, &party));
    }
    Ok(csv_file(file_name("focus", &scope), out))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    #[serde(default)]
    kind: Option<String>,
}

/// Starts a sync in the background (`{"kind": "full"}` re-reads billed invoices).
async fn start_sync(
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
        None | Some("incremental") => SyncKind::Incremental,
        Some("full") => SyncKind::Full,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "kind must be full or incremental, not “{}”.",
                clip(other)
            )));
        }
    };
    let syncer = state.syncer(partner.id());
    let mut progress = syncer.subscribe();
    sync::spawn(state.clone(), partner.0.clone(), kind);
    // Answer once the run has started, so the caller sees its ID.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), progress.changed()).await;
    Ok((StatusCode::ACCEPTED, Json(syncer.current())))
}

/// The latest sync, from memory while this process runs one, else from the store.
async fn sync_status(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<SyncProgress>, ApiError> {
    // Progress is shown during onboarding too, before the data routes open.
    let partner = who.session.partner;
    let live = state.syncer(partner).current();
    if live.run_id.is_some() {
        return Ok(Json(live));
    }
    Ok(Json(match state.store.latest_sync(partner).await? {
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
    }))
}

/// Server-sent events: the sync's progress each time it changes.
async fn sync_events(
    State(state): State<AppState>,
    who: SignedIn,
) -> Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let receiver = state.syncer(who.session.partner).subscribe();
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
    Sse::new(stream).keep_alive(KeepAlive::default())
}
