//! Middleware of `/api`: the sign-in limit per client address, and a JSON
//! error body for every error, axum's own rejections included.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use model::api::ErrorCode;

use crate::error::error_response;
use crate::state::AppState;

/// Middleware for the sign-in routes: too many attempts from one client
/// address (behind trusted proxies, the one they forwarded) get a 429 with
/// Retry-After.
pub async fn limit_sign_in(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let from = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| {
        crate::forwarded::client_address(c.0.ip(), req.headers(), &state.web.trusted_proxies)
    });
    match state.web.sign_in.attempt(from) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::warn!(client = ?from, "sign-in attempts over the limit");
            let mut res = error_response(
                ErrorCode::TooManySignIns,
                "Too many sign-in attempts from this address; wait a minute and try again.",
            );
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            res
        }
    }
}

/// Middleware for `/api`: a request that changes something (any method but
/// GET, HEAD, OPTIONS) sent by a page of another origin is refused, unless
/// that origin is allowed by CORS. Browsers send `Origin` with such
/// requests; a form or a `text/plain` fetch from a sibling subdomain or
/// another port (which CORS does not stop from being sent) gets no further.
pub async fn same_origin_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let public_url = state.identity.public_url();
    if safe || origin.is_none_or(|o| state.web.may_write_from(o, host, public_url)) {
        return next.run(req).await;
    }
    tracing::warn!(origin = ?origin, path = %req.uri().path(), "a write from another origin refused");
    error_response(
        ErrorCode::Forbidden,
        "This request came from a page of another site, which may not change anything here.",
    )
}

/// Middleware for `/api`: an error without a JSON body (axum's own
/// rejections of a bad path, query or body, a timeout, a wrong method)
/// gets one, with a stable code, so clients handle every error one way.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, fallback) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            (ErrorCode::BodyTooLarge, "The request body is too large.")
        }
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "This route does not take that method.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "Send the body as application/json.",
        ),
        StatusCode::REQUEST_TIMEOUT => (ErrorCode::Timeout, "The request took too long."),
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "Nothing here."),
        s if s.is_client_error() => (ErrorCode::BadRequest, "The request is not valid."),
        _ => (
            ErrorCode::InternalError,
            "Something went wrong in the proxy; the details are in its log.",
        ),
    };
    let message = if status.is_client_error() && !text.is_empty() {
        format!("{fallback} {text}")
    } else {
        fallback.to_string()
    };
    let mut out = error_response(code, message);
    // The status stays the one the layer chose (a 422 from axum's JSON
    // rejection is still a 422).
    *out.status_mut() = status;
    // Keep what the layers added (CORS, Retry-After, Allow).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
