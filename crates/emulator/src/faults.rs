//! What makes the emulator a hard upstream on purpose: throttling per
//! partner and route family, latency, server errors, hangs, bodies cut
//! short, "not ready" answers, paging that loops. Set from the command line
//! or at run time with `POST /emulator/faults`; counted at `/emulator/stats`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::shapes::CONTINUATION_HEADER;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::Emulator;
use crate::usage::unit;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Requests allowed per partner and route family in any `throttleIntervalMs`.
    pub throttle_requests: Option<u32>,
    pub throttle_interval_ms: u64,
    /// Added to every Partner Center answer.
    pub latency_ms: u64,
    /// Share of requests answered 500 or 503.
    pub error_rate: f64,
    /// Share of requests that hang for `hangMs` before answering.
    pub timeout_rate: f64,
    pub hang_ms: u64,
    /// From this request on (numbered from 0 as `/emulator/stats` counts
    /// them, token requests included), every answer but a token's hangs for
    /// `hangMs`: an upstream that stops at a known point, for a test that
    /// must stop a sync before its end.
    pub hang_from_request: Option<u64>,
    /// Share of 200 answers whose body is cut in half.
    pub truncate_rate: f64,
    /// Share of usage requests answered 204 with `Retry-After` (data not ready).
    pub not_ready_rate: f64,
    /// Share of token requests answered 503.
    pub token_error_rate: f64,
    /// Every `links.next` points back at the page it is on.
    pub loop_next_links: bool,
    /// Answers in the documentation's sparse shapes (see `sparse.rs`).
    pub sparse: bool,
    /// Paths refused outright, whatever the method: Partner Center's
    /// (`/v1/invoices`) with a 400 and its error body, Graph's
    /// (`/v1.0/applications`) with a 503 and Graph's error envelope.
    pub refuse_paths: Vec<String>,
    /// After the cutover, v1's unbilled feeds refuse (instead of leaving
    /// new commerce out): what v1 does there is not documented.
    pub v1_refuses_after_cutover: bool,
    /// Polls a billing export answers `running` before it is done.
    pub export_polls: u32,
    /// The `Retry-After` of a running export, in seconds.
    pub export_retry_after_secs: u32,
    /// The manifest inline in the operation (`resourceLocation`), as 2024
    /// clients read it, rather than linked as the documents show.
    pub inline_manifest: bool,
    /// How long a manifest's SAS lasts, in seconds.
    pub sas_seconds: u64,
    /// Rows per export file.
    pub export_rows_per_blob: usize,
    /// The next this many blob downloads are refused as an expired SAS.
    pub expire_sas: u32,
    /// Every this many rows of an export file, one whose `UsageDate` is no
    /// date (0: none).
    pub unreadable_export_rows: usize,
    /// App+User calls are refused with 401 and code 900421, as Partner
    /// Center does (since 1 April 2026) for a sign-in without MFA.
    pub mfa_missing: bool,
    /// ID tokens carry no `wids`: the sign-in app's manifest leaves
    /// `groupMembershipClaims` unset, which Entra's default is.
    pub no_wids: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            throttle_requests: None,
            throttle_interval_ms: 1_000,
            latency_ms: 0,
            error_rate: 0.0,
            timeout_rate: 0.0,
            hang_ms: 30_000,
            hang_from_request: None,
            truncate_rate: 0.0,
            not_ready_rate: 0.0,
            token_error_rate: 0.0,
            loop_next_links: false,
            sparse: false,
            refuse_paths: Vec::new(),
            v1_refuses_after_cutover: false,
            export_polls: 1,
            export_retry_after_secs: 1,
            inline_manifest: false,
            sas_seconds: 3_600,
            export_rows_per_blob: 20_000,
            expire_sas: 0,
            unreadable_export_rows: 0,
            mfa_missing: false,
            no_wids: false,
        }
    }
}

/// Counters since the start, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub faults: AtomicU64,
    /// Polls of billing export operations, and export files served.
    pub export_polls: AtomicU64,
    pub blobs: AtomicU64,
    /// App+User-only routes called with an app's token (and refused).
    pub app_only_refusals: AtomicU64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    pub requests: u64,
    pub throttled: u64,
    pub faults: u64,
    pub export_polls: u64,
    pub blobs: u64,
    pub app_only_refusals: u64,
}

impl Stats {
    pub fn view(&self) -> StatsView {
        StatsView {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            faults: self.faults.load(Ordering::Relaxed),
            export_polls: self.export_polls.load(Ordering::Relaxed),
            blobs: self.blobs.load(Ordering::Relaxed),
            app_only_refusals: self.app_only_refusals.load(Ordering::Relaxed),
        }
    }
}

/// Recent admitted requests per partner and route family (a sliding window).
#[derive(Default)]
pub struct Throttle {
    windows: Mutex<HashMap<(usize, &'static str), VecDeque<Instant>>>,
}

impl Throttle {
    /// `Ok` admits the request; `Err` says how long until one would be.
    fn admit(
        &self,
        key: (usize, &'static str),
        limit: u32,
        interval: Duration,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("throttle poisoned");
        let window = windows.entry(key).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= interval)
        {
            window.pop_front();
        }
        if window.len() < limit as usize {
            window.push_back(now);
            Ok(())
        } else {
            // A limit of zero admits nothing: wait a whole interval.
            Err(window
                .front()
                .map_or(interval, |oldest| interval - now.duration_since(*oldest)))
        }
    }
}

fn family(path: &str) -> &'static str {
    if path.starts_with("/v1/customers") {
        "customers"
    } else if path.starts_with("/v1/invoices") {
        "usage"
    } else if path.starts_with("/v1.0/reports/") {
        "billing"
    } else {
        "other"
    }
}

/// Entra's token endpoints, v1 and v2.
pub(crate) fn is_token_path(path: &str) -> bool {
    path.ends_with("/oauth2/token") || path.ends_with("/oauth2/v2.0/token")
}

/// Applies the configured faults to Partner Center and token requests.
pub async fn middleware(
    State(emulator): State<Emulator>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let is_token = is_token_path(&path);
    let billing = path.starts_with("/v1.0/reports/") || path.starts_with("/emulator/blobs/");
    if !path.starts_with("/v1/") && !is_token && !billing {
        let graph = path.starts_with("/v1.0/") || path.starts_with("/beta/");
        let refused = graph
            && emulator
                .faults
                .read()
                .expect("faults poisoned")
                .refuse_paths
                .iter()
                .any(|p| p == &path);
        if refused {
            emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
            // Graph's error envelope (concepts/errors.md): branch on the code.
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({
                    "error": {
                        "code": "serviceNotAvailable",
                        "message": "The service is temporarily unavailable. Please try again later.",
                        "innerError": { "request-id": "6c2b1b9e-0000-4000-8000-000000000503", "date": "2026-11-20T00:00:00" }
                    }
                })),
            )
                .into_response();
        }
        return next.run(request).await;
    }
    let faults = emulator.faults.read().expect("faults poisoned").clone();
    let n = emulator.stats.requests.fetch_add(1, Ordering::Relaxed);
    let draw = |kind: u64| unit(emulator.world.seed, n, kind);

    if is_token {
        if draw(1) < faults.token_error_rate {
            emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({
                    "error": "temporarily_unavailable",
                    "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
                    "error_codes": [90033]
                })),
            )
                .into_response();
        }
        return next.run(request).await;
    }

    let partner = emulator.world.bearer(request.headers()).map(|t| t.partner);
    if let (Some(partner), Some(limit)) = (partner, faults.throttle_requests) {
        let interval = Duration::from_millis(faults.throttle_interval_ms.max(1));
        if let Err(wait) = emulator
            .throttle
            .admit((partner, family(&path)), limit, interval)
        {
            emulator.stats.throttled.fetch_add(1, Ordering::Relaxed);
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(serde_json::json!({
                    "statusCode": 429,
                    "message": format!("Rate limit is exceeded. Try again in {seconds} seconds."),
                })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
    }
    if faults.refuse_paths.iter().any(|p| p == &path) {
        emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
        // Partner Center escapes its descriptions as for a web page.
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "code": 800002,
                "description": "The request isn&#39;t valid: this partner can&#39;t use this route now.",
                "data": [],
                "source": "PartnerFD"
            })),
        )
            .into_response();
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if draw(2) < faults.timeout_rate || faults.hang_from_request.is_some_and(|from| n >= from) {
        emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(faults.hang_ms)).await;
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    }
    if draw(3) < faults.error_rate {
        emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
        let status = if n % 2 == 0 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        return (
            status,
            axum::Json(serde_json::json!({
                "code": 800003, "description": "Unexpected error.", "data": [], "source": "PartnerFD"
            })),
        )
            .into_response();
    }
    if family(&path) == "usage" && draw(4) < faults.not_ready_rate {
        emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return response;
    }

    let own_uri = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().trim_start_matches("/v1").to_string())
        .unwrap_or_default();
    let own_token = request
        .headers()
        .get(CONTINUATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(request).await;
    let truncate = draw(5) < faults.truncate_rate;
    if response.status() != StatusCode::OK || !(truncate || faults.loop_next_links || faults.sparse)
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut bytes = bytes.to_vec();
    if faults.sparse
        && let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes)
    {
        crate::sparse::sparsify(&emulator.world, partner, &path, &mut json);
        bytes = serde_json::to_vec(&json).unwrap_or(bytes);
    }
    if faults.loop_next_links
        && let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && json["links"]["next"].is_object()
    {
        json["links"]["next"]["uri"] = own_uri.clone().into();
        if let Some(token) = &own_token {
            json["links"]["next"]["headers"] =
                serde_json::json!([{ "key": CONTINUATION_HEADER, "value": token }]);
        }
        bytes = serde_json::to_vec(&json).unwrap_or(bytes);
    }
    if truncate {
        emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
        bytes.truncate(bytes.len() / 2);
    }
    let mut response = Response::from_parts(parts, Body::from(bytes));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}
