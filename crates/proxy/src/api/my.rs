//! A customer's own view: the partner lets a customer's user in, and that
//! user sees that one customer at the customer's price. Partner cost, list
//! cost, credits and margin never leave the proxy on these routes, and the
//! partner's routes refuse these sessions (`SignedIn` does).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use model::api::{CustomerUser, CustomerUserInvite, OwnCosts};
use model::export::{decimal, usage_cells, write_record};
use model::focus::customer_unit_price;

use super::customers::one_customer;
use super::exports::{csv_stream, file_name};
use super::extract::{ApiJson, ApiQuery, CustomerViewer, Partner, ScopeQuery, own_customer, scope};
use crate::error::ApiError;
use crate::onboarding::partner_name;
use crate::state::AppState;
use crate::store::{CustomerUserRow, Markups, Scope};
use model::usage::LineItem;

/// `GET /api/my`: this month, last month and the forecast at the customer's price.
pub async fn own_costs(
    State(state): State<AppState>,
    viewer: CustomerViewer,
) -> Result<Json<OwnCosts>, ApiError> {
    let (summary, as_of, azure_subscriptions) =
        one_customer(&state, viewer.partner, &viewer.customer).await?;
    Ok(Json(OwnCosts {
        id: summary.id,
        name: summary.name,
        domain: summary.domain,
        partner_name: partner_name(&state.store, viewer.partner).await?,
        currency: summary.currency,
        month_to_date: summary.month_to_date.customer_price,
        last_month: summary.last_month.customer_price,
        forecast: summary.forecast.customer_price,
        as_of,
        azure_subscriptions,
    }))
}

/// The scope of a customer's request: always that customer, whatever was asked.
async fn own_scope(
    state: &AppState,
    viewer: &CustomerViewer,
    mut q: ScopeQuery,
) -> Result<Scope, ApiError> {
    q.customer = Some(viewer.customer.clone());
    scope(state, viewer.partner, &q).await
}

/// `GET /api/my/usage`: the customer's cube, its price only.
pub async fn own_usage(
    State(state): State<AppState>,
    viewer: CustomerViewer,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<axum::response::Response, ApiError> {
    let scope = own_scope(&state, &viewer, q).await?;
    let _turn = state.web.heavy_reads.turn(viewer.partner.0).await;
    // One customer's lines: sent as they are (its view groups by any of them).
    let cube = state
        .store
        .cube(viewer.partner, &scope, usize::MAX, &[])
        .await?;
    Ok(super::reports::cube_answer(
        &headers,
        cube.without_partner_figures(),
    ))
}

/// `GET /api/my/line-items.csv`: the customer's line items at its price.
pub async fn own_line_items(
    State(state): State<AppState>,
    viewer: CustomerViewer,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<axum::response::Response, ApiError> {
    let scope = own_scope(&state, &viewer, q).await?;
    let markups = state.store.markups(viewer.partner).await?;
    let turn = state.web.heavy_reads.turn(viewer.partner.0).await;
    let pages = state.store.pages(viewer.partner, &scope);
    Ok(csv_stream(
        file_name("costs", &scope),
        OWN_LINE_COLUMNS,
        pages,
        turn,
        move |l, price, out| write_record(out, &own_line_row(l, price, &markups)),
    ))
}

/// A customer's own line-items CSV columns: its price, nothing of the partner's.
pub const OWN_LINE_COLUMNS: &[&str] = &[
    "Date (UTC)",
    "Azure subscription",
    "Resource group",
    "Resource",
    "Service",
    "Meter subcategory",
    "Meter",
    "Region",
    "Unit",
    "Quantity",
    "Currency",
    "Unit price",
    "Price",
];

/// One line item as a row of [`OWN_LINE_COLUMNS`].
pub fn own_line_row(l: &LineItem, price: i64, markups: &Markups) -> Vec<String> {
    let mut row = vec![l.usage_date.to_string()];
    row.extend(usage_cells(l));
    // Exact: times the quantity, the price to the millionth.
    let unit = customer_unit_price(l, price, markups.for_customer(&l.customer_id));
    row.extend([
        l.billing_currency.code().to_string(),
        model::exact::text(unit),
        decimal(price),
    ]);
    row
}

fn customer_user(row: CustomerUserRow) -> CustomerUser {
    CustomerUser {
        user_name: row.user_name,
        invited_by: row.invited_by,
        invited_at: row
            .invited_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// `GET /api/customers/{id}/users`: who of the customer may see its own costs.
pub async fn customer_users(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
) -> Result<Json<Vec<CustomerUser>>, ApiError> {
    let id = own_customer(&state, partner.0.partner, &id).await?;
    let rows = state.store.customer_users(partner.0.partner, &id).await?;
    Ok(Json(rows.into_iter().map(customer_user).collect()))
}

/// `POST /api/customers/{id}/users`: lets a user of the customer's tenant in.
pub async fn invite_customer_user(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
    ApiJson(invite): ApiJson<CustomerUserInvite>,
) -> Result<(StatusCode, Json<Vec<CustomerUser>>), ApiError> {
    partner.1.require_manager()?;
    let who = partner.0.partner;
    let id = own_customer(&state, who, &id).await?;
    let user_name = model::onboarding::check_user_name(&model::i18n::EN, &invite.user_name)
        .map_err(ApiError::BadRequest)?;
    state
        .store
        .invite_customer_user(who, &id, &user_name, &partner.1.session.user_name)
        .await?;
    tracing::info!(customer = %id, by = %partner.1.session.user_name, "customer user invited");
    let rows = state.store.customer_users(who, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(rows.into_iter().map(customer_user).collect()),
    ))
}

/// `DELETE /api/customers/{id}/users/{user}`: takes the access away and
/// signs the user out at once.
pub async fn remove_customer_user(
    State(state): State<AppState>,
    partner: Partner,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    partner.1.require_manager()?;
    let who = partner.0.partner;
    let id = own_customer(&state, who, &id).await?;
    if state.store.remove_customer_user(who, &id, &user).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "{} has no access to this customer's costs.",
            user.chars().take(254).collect::<String>()
        )))
    }
}
