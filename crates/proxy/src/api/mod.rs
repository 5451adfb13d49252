//! `/api`: the JSON the SPA reads, one file per resource. Routes are
//! listed in `docs/api.md`; what they take from a request is checked in
//! `extract.rs`.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};

use crate::error::ApiError;
use crate::state::AppState;

mod alerts;
mod auth;
mod customers;
pub(crate) mod exports;
pub mod extract;
mod health;
mod middleware;
pub(crate) mod my;
mod onboarding;
mod reports;
mod settings;
mod sync;
mod views;

pub use extract::SESSION_COOKIE;
pub use sync::SESSION_CHECK;

pub fn routes(state: AppState) -> Router<AppState> {
    let sign_in = Router::new()
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::limit_sign_in,
        ));
    let bounded = Router::new()
        .route("/health", get(health::health))
        .route("/health/ready", get(health::ready))
        .route("/session", get(auth::session))
        .route("/auth/logout", post(auth::logout))
        .route("/customers", get(customers::list))
        .route("/customers/{id}", get(customers::detail))
        .route("/customers/{id}/budget", put(customers::set_budget))
        .route(
            "/customers/{id}/markup",
            put(customers::set_markup).delete(customers::remove_markup),
        )
        .route(
            "/customers/{id}/users",
            get(my::customer_users).post(my::invite_customer_user),
        )
        .route(
            "/customers/{id}/users/{user}",
            delete(my::remove_customer_user),
        )
        .route("/overview", get(reports::overview))
        .route("/usage", get(reports::usage))
        .route("/line-items", get(reports::line_items))
        .route("/margin", get(reports::margin))
        .route(
            "/markup",
            get(settings::default_markup).put(settings::set_default_markup),
        )
        .route(
            "/settings/reporting",
            get(settings::reporting).put(settings::set_reporting),
        )
        .route("/exports/line-items.csv", get(exports::line_items_csv))
        .route("/exports/focus.csv", get(exports::focus_csv))
        .route("/sync", post(sync::start).get(sync::status))
        .route("/onboarding", get(onboarding::state_of))
        .route("/onboarding/app", post(onboarding::choose_app))
        .route("/onboarding/keys", post(onboarding::add_key))
        .route("/onboarding/keys/{key}", delete(onboarding::revoke_key))
        .route("/onboarding/continue", post(onboarding::continue_to_trial))
        .route("/onboarding/billing", post(onboarding::grant_billing))
        .route(
            "/onboarding/billing/verify",
            post(onboarding::verify_billing),
        )
        .route("/onboarding/consent", get(onboarding::consent_returned))
        .route("/onboarding/trial", post(onboarding::start_trial))
        .route("/connection", get(onboarding::connection_info))
        .route("/connection/key", put(onboarding::switch_key))
        .route("/views", get(views::list).post(views::save))
        .route("/views/{id}", delete(views::delete))
        .route("/alerts", get(alerts::settings))
        .route("/alerts/settings", put(alerts::set_settings))
        .route("/alerts/rules", post(alerts::add_rule))
        .route("/alerts/rules/{id}", delete(alerts::remove_rule))
        .route("/alerts/rules/{id}/test", post(alerts::test_rule))
        .route("/alerts/deliveries", get(alerts::deliveries))
        .route("/my", get(my::own_costs))
        .route("/my/usage", get(my::own_usage))
        .route("/my/line-items.csv", get(my::own_line_items))
        .merge(sign_in)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            crate::web::REQUEST_TIMEOUT,
        ));
    // The event stream stays open as long as the page does.
    Router::new()
        .route("/sync/events", get(sync::events))
        .merge(bounded)
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(crate::web::BODY_LIMIT))
        // Costs, sessions and CSV files are for the one signed-in person:
        // no browser or shared cache keeps a copy.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::same_origin_writes,
        ))
        // Each request reads the store's versions once for all it asks.
        .layer(axum::middleware::from_fn(
            |req: axum::extract::Request, next: axum::middleware::Next| {
                crate::store::one_reading(next.run(req))
            },
        ))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        // Outermost, so it sees the final body; the event stream is left
        // alone (tower-http's default predicate). The Explorer's cube of a
        // month is megabytes of JSON and a fifth of that compressed.
        .layer(tower_http::compression::CompressionLayer::new())
}

/// JSON 404 for unknown `/api` routes, so API clients never get the SPA.
async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("There is no API route {}.", uri.path()))
}

/// The latest day with usage: the "as of" every view counts from.
pub(crate) async fn as_of(
    state: &AppState,
    partner: crate::store::PartnerId,
) -> Result<Option<chrono::NaiveDate>, ApiError> {
    Ok(crate::reports::usage_figures(&state.store, partner)
        .await?
        .as_of)
}
