//! The Partner Center client: tokens, request headers, paging, retries and
//! typed errors. The base URLs are configuration, so the same code talks to
//! the real services or to the emulator.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use model::pc::{ApiFault, Link};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use crate::secret::Secret;

mod pages;
mod tokens;

pub use pages::{Listing, Page, Unreadable, page_identity};
use pages::{decode, read_page};

/// Where the upstream services live.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Partner Center, e.g. `https://api.partnercenter.microsoft.com`.
    pub api: String,
    /// Entra ID, e.g. `https://login.microsoftonline.com`.
    pub login: String,
    /// Microsoft Graph, e.g. `https://graph.microsoft.com` (the billing export).
    pub graph: String,
}

/// Whom a token is for: the cache keeps one per app and audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Partner Center, through Entra's v1 endpoint (`resource=`).
    PartnerCenter,
    /// Microsoft Graph, through the v2 endpoint (`scope=…/.default`).
    Graph,
}

/// Which service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    PartnerCenter,
    Entra,
    Graph,
    Storage,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::PartnerCenter => "Partner Center",
            Service::Entra => "Entra ID",
            Service::Graph => "Microsoft Graph",
            Service::Storage => "Azure Storage",
        })
    }
}

/// An app registered for a partner: what a token is requested with.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The partner's tenant ID or domain.
    pub tenant: String,
    pub app_id: String,
    pub secret: Secret,
}

/// The most requests per partner the upstream allows (client side, so the
/// proxy never exceeds it), and how many may be in flight at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `Some((n, interval))`: at most `n` requests in any `interval`.
    pub rate: Option<(u32, Duration)>,
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate: None,
            concurrency: 8,
        }
    }
}

/// Per-partner pacing: requests spaced evenly at the allowed rate, a pause
/// for everyone when the upstream says "retry after", and a bound on
/// requests in flight.
struct Gate {
    next_slot: Mutex<Instant>,
    paused_until: Mutex<Instant>,
    in_flight: Arc<Semaphore>,
}

/// How hard to try before reporting a failure.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries in all, a throttled (429) answer not counted: that one is bounded by `budget`.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts after this much time has passed since the first try.
    pub budget: Duration,
    /// How long one attempt may take, answer included.
    pub request_timeout: Duration,
}

impl RetryPolicy {
    /// For checks a person waits on: two tries within ten seconds.
    pub fn quick() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(3),
            budget: Duration::from_secs(10),
            request_timeout: Duration::from_secs(20),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            budget: Duration::from_secs(120),
            request_timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PcError {
    /// Entra refused the credentials (wrong key, expired key, unknown app).
    #[error("sign-in refused ({code}): {description}")]
    Auth { code: String, description: String },
    /// Partner Center (or Graph, or storage) answered with its documented
    /// error body.
    #[error("{service} error {code} (HTTP {status}): {description}")]
    Fault {
        service: Service,
        status: u16,
        code: String,
        description: String,
    },
    /// Still throttled when the retry budget ran out.
    #[error("the upstream is throttling requests; retry after {} s", retry_after.as_secs())]
    Throttled { retry_after: Duration },
    /// Network failures, timeouts or 5xx answers after every retry.
    #[error("{0}")]
    Unavailable(String),
    /// An answer that is not the JSON the reference documents.
    #[error("unexpected answer: {0}")]
    BadResponse(String),
    /// The access token was refused (renewed once before this is reported).
    #[error("the upstream refused the access token")]
    Unauthorized,
}

/// What to do with an answer.
pub(crate) enum Verdict<T> {
    Done(T),
    /// Transient: try again (a body cut short, for example).
    Retry(PcError),
    Fail(PcError),
}

struct CachedToken {
    access_token: String,
    /// Renew after this instant, a margin before the real expiry.
    renew_at: Instant,
}

pub struct PartnerCenter {
    http: reqwest::Client,
    endpoints: Endpoints,
    retry: RetryPolicy,
    limits: Limits,
    tokens: Mutex<HashMap<(String, String, Audience), CachedToken>>,
    /// A signed-in partner person's delegated Partner Center token, by
    /// tenant, for the routes Partner Center serves App+User only: memory only.
    user_tokens: std::sync::Mutex<HashMap<String, (String, Instant)>>,
    gates: std::sync::Mutex<HashMap<String, Arc<Gate>>>,
    /// How the latest call to an upstream went, for `/api/health`, which
    /// asks the upstream nothing itself.
    last_call: std::sync::Mutex<Option<LastCall>>,
}

/// Whether the latest upstream call got an answer (any but a 5xx), and when.
#[derive(Debug, Clone)]
pub struct LastCall {
    pub at: chrono::DateTime<chrono::Utc>,
    pub answered: bool,
}

/// Longest list the client follows before it assumes a paging loop.
const MAX_PAGES: usize = 100_000;
/// Renew tokens this long before they expire.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

impl PartnerCenter {
    pub fn new(endpoints: Endpoints, retry: RetryPolicy) -> Self {
        Self::with_limits(endpoints, retry, Limits::default())
    }

    pub fn with_limits(endpoints: Endpoints, retry: RetryPolicy, limits: Limits) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("csp-costs-proxy/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client's settings are valid");
        PartnerCenter {
            http,
            endpoints,
            retry,
            limits,
            tokens: Mutex::new(HashMap::new()),
            user_tokens: std::sync::Mutex::new(HashMap::new()),
            gates: std::sync::Mutex::new(HashMap::new()),
            last_call: std::sync::Mutex::new(None),
        }
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// How the latest upstream call went; none before the first.
    pub fn last_call(&self) -> Option<LastCall> {
        self.last_call.lock().expect("last call poisoned").clone()
    }

    fn note_call(&self, answered: bool) {
        *self.last_call.lock().expect("last call poisoned") = Some(LastCall {
            at: chrono::Utc::now(),
            answered,
        });
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// GET a Partner Center link (relative to `/v1`) and decode its JSON.
    pub async fn get<T: DeserializeOwned>(
        &self,
        creds: &Credentials,
        link: &Link,
    ) -> Result<T, PcError> {
        self.call(creds, reqwest::Method::GET, link, None).await
    }

    /// PATCH a Partner Center path with a JSON body and decode the answer.
    pub async fn patch<T: DeserializeOwned>(
        &self,
        creds: &Credentials,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, PcError> {
        self.call(creds, reqwest::Method::PATCH, &Link::get(path), Some(body))
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        creds: &Credentials,
        method: reqwest::Method,
        link: &Link,
        body: Option<&serde_json::Value>,
    ) -> Result<T, PcError> {
        self.call_with(&self.retry, creds, method, link, body).await
    }

    /// Checks credentials someone just typed: a fresh token (not one cached
    /// for an earlier key) and one read, retried briefly, since a person is
    /// waiting for the answer.
    pub async fn check<T: DeserializeOwned>(
        &self,
        creds: &Credentials,
        link: &Link,
    ) -> Result<T, PcError> {
        self.drop_token(creds, Audience::PartnerCenter).await;
        self.call_with(
            &RetryPolicy::quick(),
            creds,
            reqwest::Method::GET,
            link,
            None,
        )
        .await
    }

    async fn call_with<T: DeserializeOwned>(
        &self,
        policy: &RetryPolicy,
        creds: &Credentials,
        method: reqwest::Method,
        link: &Link,
        body: Option<&serde_json::Value>,
    ) -> Result<T, PcError> {
        self.call_reading(policy, creds, method, link, body, |bytes| {
            decode(bytes, &link.uri)
        })
        .await
    }

    /// One page of a collection, read leniently (see [`read_page`]).
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        creds: &Credentials,
        link: &Link,
    ) -> Result<Page<T>, PcError> {
        self.call_reading(
            &self.retry,
            creds,
            reqwest::Method::GET,
            link,
            None,
            |bytes| read_page(bytes, &link.uri),
        )
        .await
    }

    async fn call_reading<T>(
        &self,
        policy: &RetryPolicy,
        creds: &Credentials,
        method: reqwest::Method,
        link: &Link,
        body: Option<&serde_json::Value>,
        read: impl Fn(&[u8]) -> Verdict<T>,
    ) -> Result<T, PcError> {
        let url = self.url_of(&link.uri)?;
        // One correlation ID and one request ID for the call and its retries:
        // Partner Center reads a repeated MS-RequestId as the same call
        // (idempotency), so a retried write is not done twice.
        let correlation = uuid::Uuid::new_v4().to_string();
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut renewed = false;
        loop {
            let token = self
                .token_with(creds, policy, Audience::PartnerCenter)
                .await?;
            let outcome = self
                .execute(
                    policy,
                    &creds.tenant,
                    Service::PartnerCenter,
                    || {
                        let mut req = self
                            .http
                            .request(method.clone(), &url)
                            .bearer_auth(&token)
                            .header("Accept", "application/json")
                            .header("MS-RequestId", &request_id)
                            .header("MS-CorrelationId", &correlation);
                        for h in &link.headers {
                            req = req.header(h.key.as_str(), h.value.as_str());
                        }
                        if let Some(body) = body {
                            req = req.json(body);
                        }
                        req
                    },
                    |status, _, bytes| {
                        if status.is_success() {
                            read(bytes)
                        } else if status == StatusCode::UNAUTHORIZED {
                            Verdict::Fail(PcError::Unauthorized)
                        } else {
                            Verdict::Fail(match serde_json::from_slice::<ApiFault>(bytes) {
                                Ok(f) => PcError::Fault {
                                    service: Service::PartnerCenter,
                                    status: status.as_u16(),
                                    code: f.code,
                                    description: model::lenient::decode_entities(&f.description),
                                },
                                Err(_) => PcError::BadResponse(format!(
                                    "HTTP {status} without an error body"
                                )),
                            })
                        }
                    },
                )
                .await;
            match outcome {
                // The token may have been revoked or expired early: get a new one once.
                Err(PcError::Unauthorized) if !renewed => {
                    self.drop_token(creds, Audience::PartnerCenter).await;
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    /// Every item of a collection, following `links.next` with its headers;
    /// items that cannot be read are listed apart, each costing only itself.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        creds: &Credentials,
        first: Link,
    ) -> Result<Listing<T>, PcError> {
        let mut listing = Listing {
            items: Vec::new(),
            unreadable: Vec::new(),
        };
        let mut link = first;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let page: Page<T> = self.get_page(creds, &link).await?;
            let offset = listing.items.len() + listing.unreadable.len();
            listing.items.extend(page.items);
            listing
                .unreadable
                .extend(page.unreadable.into_iter().map(|u| Unreadable {
                    index: offset + u.index,
                    ..u
                }));
            match page.next {
                None => return Ok(listing),
                Some(next) => {
                    if !seen.insert(page_identity(&next)) {
                        return Err(PcError::BadResponse(format!(
                            "paging loops at {}",
                            next.uri
                        )));
                    }
                    link = next;
                }
            }
        }
        Err(PcError::BadResponse(format!("more than {MAX_PAGES} pages")))
    }

    /// Whether Partner Center answers at all (any HTTP status), without
    /// credentials: for health checks before any partner is connected.
    pub async fn ping(&self) -> Result<(), PcError> {
        self.http
            .get(format!(
                "{}/v1/customers?size=1",
                self.endpoints.api.trim_end_matches('/')
            ))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| PcError::Unavailable(describe(Service::PartnerCenter, e)))
    }

    /// Links are relative to `/v1` and come as `/v1/x`, `/x` or `x`; an
    /// absolute link is followed only to Partner Center itself (the access
    /// token goes with it).
    fn url_of(&self, uri: &str) -> Result<String, PcError> {
        let base = self.endpoints.api.trim_end_matches('/');
        if uri.starts_with("http://") || uri.starts_with("https://") {
            let origin = |u: &str| {
                reqwest::Url::parse(u).ok().map(|u| {
                    (
                        u.scheme().to_string(),
                        u.host_str().map(str::to_string),
                        u.port_or_known_default(),
                    )
                })
            };
            return if origin(uri).is_some() && origin(uri) == origin(base) {
                Ok(uri.to_string())
            } else {
                Err(PcError::BadResponse(format!(
                    "a link leads away from Partner Center: {}",
                    uri.chars().take(120).collect::<String>()
                )))
            };
        }
        let path = uri.trim_start_matches('/');
        Ok(if path.starts_with("v1/") {
            format!("{base}/{path}")
        } else {
            format!("{base}/v1/{path}")
        })
    }

    /// Sends a request until `judge` accepts or refuses its answer. Throttling
    /// (429), "not ready" (204), 5xx, network failures, timeouts and bodies
    /// that end early are retried with exponential backoff and jitter,
    /// honouring `Retry-After`, within the policy's attempts and time
    /// (throttling within its time only).
    pub(crate) async fn execute<T>(
        &self,
        policy: &RetryPolicy,
        gate: &str,
        service: Service,
        build: impl Fn() -> reqwest::RequestBuilder,
        judge: impl Fn(StatusCode, &reqwest::header::HeaderMap, &[u8]) -> Verdict<T>,
    ) -> Result<T, PcError> {
        let gate = self.gate(gate);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let permit = self.admit(&gate).await;
            let sent = build().timeout(policy.request_timeout).send().await;
            self.note_call(sent.as_ref().is_ok_and(|r| !r.status().is_server_error()));
            let (failure, retry_after) = match sent {
                Err(e) => (PcError::Unavailable(describe(service, e)), None),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(response.headers());
                    let headers = response.headers().clone();
                    let body = response.bytes().await;
                    match (status, body) {
                        (StatusCode::TOO_MANY_REQUESTS, _) => {
                            // Everyone waits, not only this request: the limit is the partner's.
                            let until = Instant::now() + retry_after.unwrap_or(policy.base_delay);
                            let mut paused = gate.paused_until.lock().await;
                            *paused = (*paused).max(until);
                            (
                                PcError::Throttled {
                                    retry_after: retry_after.unwrap_or(policy.base_delay),
                                },
                                retry_after,
                            )
                        }
                        (StatusCode::NO_CONTENT, _) => (
                            PcError::Unavailable(format!(
                                "{service} has not prepared the data yet"
                            )),
                            retry_after,
                        ),
                        (s, _) if s.is_server_error() => (
                            PcError::Unavailable(format!("{service} answered HTTP {s}")),
                            retry_after,
                        ),
                        (_, Err(e)) => (
                            PcError::Unavailable(format!("the answer broke off: {e}")),
                            None,
                        ),
                        (s, Ok(bytes)) => match judge(s, &headers, &bytes) {
                            Verdict::Done(value) => return Ok(value),
                            Verdict::Fail(e) => return Err(e),
                            Verdict::Retry(e) => (e, None),
                        },
                    }
                }
            };
            drop(permit);
            let throttled = matches!(failure, PcError::Throttled { .. });
            if throttled {
                // The service said when to come back: a 429 costs time, not an
                // attempt, so requests that keep losing the race for the
                // partner's quota are not given up while time remains.
                attempt -= 1;
            }
            let wait = retry_after.unwrap_or_else(|| backoff(policy, attempt.max(1)));
            if attempt >= policy.max_attempts || started.elapsed() + wait > policy.budget {
                return Err(failure);
            }
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %failure, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    fn gate(&self, tenant: &str) -> Arc<Gate> {
        let mut gates = self.gates.lock().expect("gates poisoned");
        gates
            .entry(tenant.to_ascii_lowercase())
            .or_insert_with(|| {
                Arc::new(Gate {
                    next_slot: Mutex::new(Instant::now()),
                    paused_until: Mutex::new(Instant::now()),
                    in_flight: Arc::new(Semaphore::new(self.limits.concurrency.max(1))),
                })
            })
            .clone()
    }

    /// Waits for a place in flight, the end of any pause, and the next slot
    /// of the allowed rate.
    async fn admit(&self, gate: &Gate) -> OwnedSemaphorePermit {
        let permit = gate
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let paused_until = *gate.paused_until.lock().await;
        tokio::time::sleep_until(paused_until.into()).await;
        if let Some((n, interval)) = self.limits.rate {
            // Evenly spaced slots: never more than n in any window of `interval`,
            // with 10 % to spare for requests that arrive later than they leave
            // (tens of milliseconds on a busy network or a busy upstream).
            let spacing = (interval / n.max(1)).mul_f64(1.10);
            let slot = {
                let mut next = gate.next_slot.lock().await;
                let slot = (*next).max(Instant::now());
                *next = slot + spacing;
                slot
            };
            tokio::time::sleep_until(slot.into()).await;
            // A busy runtime wakes this late: the next request keeps its
            // spacing from when this one really leaves, not from its slot,
            // or two would leave back to back.
            let mut next = gate.next_slot.lock().await;
            *next = (*next).max(Instant::now() + spacing);
        }
        permit
    }
}

/// `Retry-After` in seconds or as an HTTP date (both are allowed).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at
        .signed_duration_since(chrono::Utc::now())
        .num_milliseconds();
    Some(Duration::from_millis(wait.max(0) as u64))
}

pub(crate) fn describe(service: Service, e: reqwest::Error) -> String {
    if e.is_timeout() {
        format!("{service} did not answer in time")
    } else if e.is_connect() {
        format!("{service} could not be reached")
    } else {
        format!("request to {service} failed: {}", e.without_url())
    }
}

/// `base × 2^(attempt-1)`, capped, with "full jitter" so that many
/// clients retrying together spread out.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << (attempt - 1).min(16));
    let cap = exp.min(policy.max_delay);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1_000) as u32;
    cap / 2 + cap / 2 * jitter / 1_000
}

#[cfg(test)]
mod tests;
