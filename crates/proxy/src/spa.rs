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

/// The customer's own view (`/my` and below): `my/index.html`, the build's
/// small entry that holds that view alone, its base made absolute as for
/// any deep link. A build without it (an older `dist/`) gets the whole app,
/// which has the same route.
pub async fn own_view(
    axum::extract::State(dist): axum::extract::State<std::sync::Arc<std::path::PathBuf>>,
) -> Response {
    match tokio::fs::read_to_string(dist.join("my/index.html")).await {
        Ok(html) => axum::response::Html(rooted(&html)).into_response(),
        Err(_) => deep_link(axum::extract::State(dist)).await,
    }
}

/// Middleware for the static files: a path that leads out of `dist/`
/// through a symbolic link is not served (a link left there by a build
/// tool must not expose the rest of the machine).
pub async fn only_inside(
    State(dist): State<std::sync::Arc<std::path::PathBuf>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let relative = req.uri().path().trim_start_matches('/');
    let candidate = dist.join(percent_decoded(relative).as_deref().unwrap_or(relative));
    let root = std::fs::canonicalize(dist.as_path()).unwrap_or_else(|_| dist.to_path_buf());
    let escapes = ["", ".br", ".gz"].iter().any(|suffix| {
        let mut path = candidate.clone().into_os_string();
        path.push(suffix);
        std::fs::canonicalize(&path).is_ok_and(|real| !real.starts_with(&root))
    });
    if escapes {
        tracing::warn!(path = %req.uri().path(), "a static path leads out of dist/: not served");
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(req).await
}

fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(text.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
