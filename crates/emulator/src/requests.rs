//! What the proxy asked: every request to Partner Center's `/v1`, to
//! Graph's `/v1.0` and to the token endpoints, kept (the last 20,000) so
//! that tests can check the requests against the reference's documented
//! forms (route, query, headers, body casing), not only the answers.
//! Secrets are never kept: of `Authorization` only its scheme, and no
//! token request's body.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::Emulator;

const KEPT: usize = 20_000;
/// Bodies larger than this are not kept (none the proxy sends is).
const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names in lower case; `authorization` as its scheme alone.
    pub headers: BTreeMap<String, String>,
    /// The body of a write to `/v1` or `/v1.0`, as text.
    pub body: Option<String>,
}

#[derive(Default)]
pub struct Log(Mutex<VecDeque<Recorded>>);

impl Log {
    pub fn all(&self) -> Vec<Recorded> {
        self.0
            .lock()
            .expect("log poisoned")
            .iter()
            .cloned()
            .collect()
    }
}

pub async fn middleware(
    State(emulator): State<Emulator>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let token = crate::faults::is_token_path(&path);
    let api = path.starts_with("/v1/") || path.starts_with("/v1.0/");
    // Storage downloads too, without their query: the SAS is a secret.
    let blob = path.starts_with("/emulator/blobs/");
    if !token && !api && !blob {
        return next.run(request).await;
    }
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or_default();
            let value = if *name == axum::http::header::AUTHORIZATION {
                value.split(' ').next().unwrap_or_default()
            } else {
                value
            };
            (name.as_str().to_string(), value.to_string())
        })
        .collect();
    let mut recorded = Recorded {
        method: request.method().to_string(),
        path,
        query: if blob {
            String::new()
        } else {
            request.uri().query().unwrap_or_default().to_string()
        },
        headers,
        body: None,
    };
    let writes = matches!(request.method().as_str(), "POST" | "PATCH" | "PUT");
    let request = if api && writes {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .unwrap_or_default();
        recorded.body = Some(String::from_utf8_lossy(&bytes).into_owned());
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    {
        let mut log = emulator.requests.0.lock().expect("log poisoned");
        if log.len() == KEPT {
            log.pop_front();
        }
        log.push_back(recorded);
    }
    next.run(request).await
}
