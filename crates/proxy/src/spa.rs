//! Serving the built SPA: its files (precompressed where the build wrote
//! copies), deep links to its routes, and `config.json`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
use crate::web::rooted;

/// The app's `config.json` when the proxy serves it: the portals allowed to
/// frame it (`--frame-ancestors`) are the ones it talks to by `postMessage`.
/// A static host has its own file instead.
pub async fn app_config(State(state): State<AppState>) -> axum::Json<model::host::AppConfig> {
    axum::Json(model::host::AppConfig {
        host_origins: state
            .web
            .frame_ancestors
            .iter()
            .filter(|o| model::host::is_origin(o))
            .cloned()
            .collect(),
        ..Default::default()
    })
}

/// A deep link (`/customers/42`) is one of the SPA's routes: index.html,
/// with its relative `<base href="./">` (there so that the same files work
/// under any sub-path of a static host) made absolute, since the proxy
/// serves the app at `/`.
pub async fn deep_link(
    axum::extract::State(dist): axum::extract::State<std::sync::Arc<std::path::PathBuf>>,
) -> Response {
    match tokio::fs::read_to_string(dist.join("index.html")).await {
        Ok(html) => axum::response::Html(rooted(&html)).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
