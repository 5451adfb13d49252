//! The Partner Center proxy. It is the only component that holds secrets and
//! talks to Partner Center, Entra ID and Microsoft Graph; the SPA talks only
//! to its `/api`.
//!
//! Modules by responsibility: `api/` (the HTTP layer, one file per
//! resource), `identity` (sign-in and sessions), `onboarding` (the
//! connection and its trial), `pc` (the Partner Center client),
//! `graph_billing` (Graph's billing export on the same client), `sync` (the
//! sync engine), `reports` (the summaries), `store/` (every query), `crypto`
//! and `secret` (keys at rest and in memory), `web` (the web policy), `spa`
//! (serving the app), `config` and `cli` (flags and operator tasks).

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub mod alerts;
pub mod api;
pub mod cli;
pub mod config;
pub mod connections;
pub mod crypto;
pub mod error;
pub mod forwarded;
pub mod graph_billing;
pub mod identity;
pub mod onboarding;
pub mod pc;
pub mod reports;
pub mod secret;
pub mod serve;
pub mod spa;
pub mod state;
pub mod store;
pub mod sync;
pub mod web;

pub use config::Config;
pub use connections::Connection;
pub use state::AppState;

/// The whole HTTP surface: `/api` and the SPA. Kept apart from `main` so
/// tests run it on a real socket.
pub fn app(state: AppState, dist: PathBuf) -> Router {
    // Deep links (`/customers`) are the SPA's routes: unknown paths get index.html.
    // The build writes .br and .gz copies of the scripts, wasm and styles:
    // the wasm goes out at a third of its size, with no work per request.
    let files = ServeDir::new(&dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(axum::routing::get(spa::deep_link).with_state(Arc::new(dist.clone())));
    let files = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(dist.clone()),
            spa::only_inside,
        ))
        .service(files);
    let csp = state.web.content_security_policy(&dist);
    let cors = state.web.cors();
    let header = |name: &'static str, value: &str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("a valid header value"),
        )
    };
    let framing = if state.web.frame_ancestors.is_empty() {
        Some(header("x-frame-options", "DENY"))
    } else {
        None
    };
    Router::new()
        .nest("/api", api::routes(state.clone()))
        .route("/config.json", axum::routing::get(spa::app_config))
        .merge(own_view(&dist))
        .fallback_service(files)
        .with_state(state)
        // Layers wrap what is above them: headers apply to every response.
        .layer(cors)
        .layer(header("content-security-policy", &csp))
        .layer(tower::util::option_layer(framing))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "no-referrer"))
        .layer(header("cross-origin-opener-policy", "same-origin"))
        .layer(header(
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
        .layer(TraceLayer::new_for_http())
}

/// `/my` and every path below it: the customer's own entry.
fn own_view<S: Clone + Send + Sync + 'static>(dist: &std::path::Path) -> Router<S> {
    let page = axum::routing::get(spa::own_view).with_state(Arc::new(dist.to_path_buf()));
    Router::new()
        .route("/my", page.clone())
        .route("/my/", page.clone())
        .route("/my/{*rest}", page)
}

/// Installs the TLS crypto provider (ring) once per process.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
