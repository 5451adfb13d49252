//! A customer's own view: the partner lets a customer's user in, and that
//! user sees that one customer at the customer's price. Partner cost, list
//! cost, credits and margin never leave the proxy on these routes, and the
//! partner's routes refuse these sessions (`SignedIn` does).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get};
use axum::{Json, Router};
use model::api::{
    AzureSubscription, CustomerUser, CustomerUserInvite, OwnCosts, SessionCustomer, SessionInfo,
};
use model::cube::Cube;
use model::export::{decimal, usage_cells, write_record};

use crate::api::{ApiJson, ApiQuery, Partner, ScopeQuery};
use crate::error::ApiError;
use crate::identity::{AnySession, SignedIn};
use crate::store::PartnerId;
use crate::{AppState, api, reports};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/my", get(own_costs))
        .route("/my/usage", get(own_usage))
        .route("/my/line-items.csv", get(own_line_items))
        .route(
            "/customers/{id}/users",
            get(customer_users).post(invite_customer_user),
        )
        .route("/customers/{id}/users/{user}", delete(remove_customer_user))
}

/// A customer's user, for the partner whose customer they are.
pub struct CustomerViewer {
    partner: PartnerId,
    customer: String,
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
        if state.connection_of(partner).is_none()
            || crate::onboarding::check_trial(&state.store, partner)
                .await
                .is_err()
        {
            return Err(ApiError::Refused {
                status: StatusCode::PAYMENT_REQUIRED,
                code: "view_closed",
                message: "This view is closed for now. Ask your Microsoft partner.".into(),
            });
        }
        Ok(CustomerViewer { partner, customer })
    }
}

/// `GET /api/session` for a customer's user: no roles, no trial, no IDs
/// of the partner beyond its name.
pub async fn session_info(state: &AppState, who: &SignedIn) -> Result<SessionInfo, ApiError> {
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
        partner_name: crate::onboarding::partner_names(state, partner).await?.0,
        commerce_id: None,
        connected: state.connection_of(partner).is_some(),
        trial: None,
        customer: Some(SessionCustomer { id: customer, name }),
    })
}

/// `GET /api/my`: this month, last month and the forecast at the customer's price.
async fn own_costs(
    State(state): State<AppState>,
    viewer: CustomerViewer,
) -> Result<Json<OwnCosts>, ApiError> {
    let figures = reports::customers(&state.store, viewer.partner).await?;
    let summary = figures
        .customers
        .into_iter()
        .find(|c| c.id == viewer.customer)
        .ok_or_else(|| ApiError::NotFound("The customer is no longer listed.".into()))?;
    let azure_subscriptions = state
        .store
        .entitlements(viewer.partner, &viewer.customer)
        .await?
        .into_iter()
        .map(|(id, name, _, status)| AzureSubscription { id, name, status })
        .collect();
    Ok(Json(OwnCosts {
        id: summary.id,
        name: summary.name,
        domain: summary.domain,
        partner_name: crate::onboarding::partner_names(&state, viewer.partner)
            .await?
            .0,
        currency: summary.currency,
        month_to_date: summary.month_to_date.customer_price,
        last_month: summary.last_month.customer_price,
        forecast: summary.forecast.customer_price,
        as_of: figures.as_of,
        azure_subscriptions,
    }))
}

/// The scope of a customer's request: always that customer, whatever was asked.
async fn own_scope(
    state: &AppState,
    viewer: &CustomerViewer,
    mut q: ScopeQuery,
) -> Result<crate::store::Scope, ApiError> {
    q.customer = Some(viewer.customer.clone());
    api::scope(state, viewer.partner, &q).await
}

/// `GET /api/my/usage`: the customer's cube, its price only.
async fn own_usage(
    State(state): State<AppState>,
    viewer: CustomerViewer,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<Cube>, ApiError> {
    let scope = own_scope(&state, &viewer, q).await?;
    let cube = state.store.cube(viewer.partner, &scope).await?;
    Ok(Json(cube.without_partner_figures()))
}

/// `GET /api/my/line-items.csv`: the customer's line items at its price.
async fn own_line_items(
    State(state): State<AppState>,
    viewer: CustomerViewer,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<axum::response::Response, ApiError> {
    let scope = own_scope(&state, &viewer, q).await?;
    let mut out = String::new();
    write_record(
        &mut out,
        &[
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
            "Price",
        ],
    );
    for (l, price) in api::scope_lines(&state, viewer.partner, &scope).await? {
        let mut row = vec![l.usage_date.to_string()];
        row.extend(usage_cells(&l));
        row.extend([l.billing_currency.code().to_string(), decimal(price)]);
        write_record(&mut out, &row);
    }
    Ok(api::csv_file(api::file_name("costs", &scope), out))
}

fn customer_user(row: crate::store::CustomerUserRow) -> CustomerUser {
    CustomerUser {
        user_name: row.user_name,
        invited_by: row.invited_by,
        invited_at: row
            .invited_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// `GET /api/customers/{id}/users`: who of the customer may see its own costs.
async fn customer_users(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
) -> Result<Json<Vec<CustomerUser>>, ApiError> {
    let id = api::own_customer(&state, partner.0.partner, &id).await?;
    let rows = state.store.customer_users(partner.0.partner, &id).await?;
    Ok(Json(rows.into_iter().map(customer_user).collect()))
}

/// `POST /api/customers/{id}/users`: lets a user of the customer's tenant in.
async fn invite_customer_user(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
    ApiJson(invite): ApiJson<CustomerUserInvite>,
) -> Result<(StatusCode, Json<Vec<CustomerUser>>), ApiError> {
    partner.1.require_manager()?;
    let who = partner.0.partner;
    let id = api::own_customer(&state, who, &id).await?;
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
async fn remove_customer_user(
    State(state): State<AppState>,
    partner: Partner,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    partner.1.require_manager()?;
    let who = partner.0.partner;
    let id = api::own_customer(&state, who, &id).await?;
    if state.store.remove_customer_user(who, &id, &user).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "{} has no access to this customer's costs.",
            user.chars().take(254).collect::<String>()
        )))
    }
}
