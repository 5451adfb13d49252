//! Microsoft Graph's partner billing export (API v2), beside the Partner
//! Center client and sharing its pacing, retries, token cache and typed
//! errors: start an export (`202` + `Location`), poll its operation
//! honouring `Retry-After` within a deadline, read its manifest (linked or
//! inline), and stream its files: gzip (several members) JSON Lines, read
//! and parsed as the bytes arrive, never a whole file in memory.

use std::time::{Duration, Instant};

use async_compression::tokio::bufread::GzipDecoder;
use futures_util::TryStreamExt;
use model::graph::{
    BilledExport, ErrorEnvelope, Manifest, Operation, OperationState, UnbilledExport,
};
use model::usage::LineItem;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::mpsc;

use crate::pc::{
    Audience, Credentials, PartnerCenter, PcError, Service, Verdict, describe, retry_after,
};

/// Where the billing routes live under Graph's base URL.
const BILLING: &str = "/v1.0/reports/partners/billing";
/// Lines handed over at a time while a file is read.
const BATCH: usize = 4_000;
/// A file whose bytes stop arriving for this long is read again.
const STALLED: Duration = Duration::from_secs(60);

/// What an export covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportRequest {
    /// A period's unbilled usage in one billing currency.
    Unbilled {
        currency: String,
        period: BillingPeriod,
    },
    /// One invoice's billed usage.
    Billed { invoice_id: String },
}

/// Graph's unbilled periods: `current` and `last` (not v1's `previous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingPeriod {
    Current,
    Last,
}

impl BillingPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingPeriod::Current => "current",
            BillingPeriod::Last => "last",
        }
    }
}

impl ExportRequest {
    fn route(&self) -> &'static str {
        match self {
            ExportRequest::Unbilled { .. } => "usage/unbilled/export",
            ExportRequest::Billed { .. } => "usage/billed/export",
        }
    }

    fn body(&self) -> serde_json::Value {
        let body = match self {
            ExportRequest::Unbilled { currency, period } => serde_json::to_value(UnbilledExport {
                currency_code: currency.clone(),
                billing_period: period.as_str().into(),
                attribute_set: "full".into(),
            }),
            ExportRequest::Billed { invoice_id } => serde_json::to_value(BilledExport {
                invoice_id: invoice_id.clone(),
                attribute_set: "full".into(),
            }),
        };
        body.unwrap_or_default()
    }

    /// The call, as a sync problem names it.
    pub fn call(&self) -> String {
        format!("POST {BILLING}/{}", self.route())
    }
}

/// How long an export may run, and the wait between polls when the
/// service does not say (`Retry-After`).
#[derive(Debug, Clone)]
pub struct ExportTiming {
    pub deadline: Duration,
    pub poll: Duration,
}

impl Default for ExportTiming {
    fn default() -> Self {
        ExportTiming {
            deadline: Duration::from_secs(30 * 60),
            poll: Duration::from_secs(10),
        }
    }
}

/// Lines of a file, numbered from 1 in the file, each read or not.
#[derive(Debug, Default)]
pub struct LineBatch {
    pub lines: Vec<(usize, Result<LineItem, String>)>,
    /// The number of the last line this batch went through (blank lines
    /// included), where a resumed read starts.
    pub through: usize,
}

/// Why a file could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobError {
    /// Storage refused the SAS (expired, or `403`): a fresh manifest has one.
    Refused(String),
    /// The network, a `5xx`, or a body that broke off: read it again.
    Broken(String),
    /// Anything else (`404`, not gzip JSON Lines): it will not get better.
    Failed(String),
}

impl std::fmt::Display for BlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobError::Refused(why) | BlobError::Broken(why) | BlobError::Failed(why) => {
                f.write_str(why)
            }
        }
    }
}

/// Graph's error envelope as a typed error; its `code` decides, never the
/// message.
fn graph_fault(status: StatusCode, bytes: &[u8]) -> PcError {
    match serde_json::from_slice::<ErrorEnvelope>(bytes) {
        Ok(e) if !e.error.code.is_empty() => PcError::Fault {
            service: Service::Graph,
            status: status.as_u16(),
            code: e.error.code,
            description: e.error.message,
        },
        _ => PcError::BadResponse(format!(
            "Microsoft Graph answered HTTP {status} without an error body"
        )),
    }
}

impl PartnerCenter {
    /// A link Graph handed out, followed only to Graph itself (the access
    /// token goes with it).
    fn graph_link(&self, link: &str) -> Result<String, PcError> {
        let base = self.endpoints().graph.trim_end_matches('/');
        if !(link.starts_with("http://") || link.starts_with("https://")) {
            return Ok(format!("{base}/{}", link.trim_start_matches('/')));
        }
        let origin = |u: &str| {
            reqwest::Url::parse(u).ok().map(|u| {
                (
                    u.scheme().to_string(),
                    u.host_str().map(str::to_ascii_lowercase),
                    u.port_or_known_default(),
                )
            })
        };
        match origin(link) {
            Some(o) if Some(&o) == origin(base).as_ref() => Ok(link.to_string()),
            _ => Err(PcError::BadResponse(format!(
                "a link leads away from Microsoft Graph: {}",
                link.chars().take(120).collect::<String>()
            ))),
        }
    }

    /// One Graph request with an app-only token, renewed once if refused.
    async fn graph<T>(
        &self,
        creds: &Credentials,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        read: impl Fn(StatusCode, &HeaderMap, &[u8]) -> Verdict<T>,
    ) -> Result<T, PcError> {
        let policy = self.retry_policy();
        // Graph's limits are not Partner Center's: its own pacing gate.
        let gate = format!("graph:{}", creds.tenant);
        let mut renewed = false;
        loop {
            let token = self.token_with(creds, policy, Audience::Graph).await?;
            let outcome = self
                .execute(
                    policy,
                    &gate,
                    Service::Graph,
                    || {
                        let mut req = self
                            .http()
                            .request(method.clone(), url)
                            .bearer_auth(&token)
                            .header("Accept", "application/json")
                            .header("client-request-id", uuid::Uuid::new_v4().to_string());
                        if let Some(body) = body {
                            req = req.json(body);
                        }
                        req
                    },
                    |status, headers, bytes| {
                        if status.is_success() {
                            read(status, headers, bytes)
                        } else if status == StatusCode::UNAUTHORIZED {
                            Verdict::Fail(PcError::Unauthorized)
                        } else {
                            Verdict::Fail(graph_fault(status, bytes))
                        }
                    },
                )
                .await;
            match outcome {
                Err(PcError::Unauthorized) if !renewed => {
                    self.drop_token(creds, Audience::Graph).await;
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    /// Starts an export; answers the operation's address (`Location`).
    pub async fn start_export(
        &self,
        creds: &Credentials,
        request: &ExportRequest,
    ) -> Result<String, PcError> {
        let url = format!(
            "{}{BILLING}/{}",
            self.endpoints().graph.trim_end_matches('/'),
            request.route()
        );
        let body = request.body();
        self.graph(
            creds,
            reqwest::Method::POST,
            &url,
            Some(&body),
            |status, headers, _| match headers
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
            {
                Some(location) => match self.graph_link(location.trim()) {
                    Ok(url) => Verdict::Done(url),
                    Err(e) => Verdict::Fail(e),
                },
                None => Verdict::Fail(PcError::BadResponse(format!(
                    "the export answered HTTP {status} without a Location"
                ))),
            },
        )
        .await
    }

    /// Polls an export's operation until it ends: its manifest, or none
    /// when the service has no data for the scope (`failed` with `5000`).
    /// Polling the operation again later answers a fresh manifest (a new
    /// SAS).
    pub async fn finish_export(
        &self,
        creds: &Credentials,
        operation: &str,
        timing: &ExportTiming,
    ) -> Result<Option<Manifest>, PcError> {
        let started = Instant::now();
        loop {
            let (op, wait): (Operation, Option<Duration>) = self
                .graph(
                    creds,
                    reqwest::Method::GET,
                    operation,
                    None,
                    |_, headers, bytes| match serde_json::from_slice::<Operation>(bytes) {
                        Ok(op) => Verdict::Done((op, retry_after(headers))),
                        Err(e) if e.is_eof() => Verdict::Retry(PcError::BadResponse(
                            "the export's operation: the body ends early".into(),
                        )),
                        Err(e) => Verdict::Fail(PcError::BadResponse(format!(
                            "the export's operation could not be read: {e}"
                        ))),
                    },
                )
                .await?;
            match op.state() {
                OperationState::Succeeded => {
                    return match (op.manifest, op.manifest_link) {
                        (Some(m), _) if !m.root_directory.is_empty() => Ok(Some(m)),
                        (_, Some(link)) if !link.trim().is_empty() => {
                            self.manifest(creds, link.trim()).await.map(Some)
                        }
                        _ => Err(PcError::BadResponse(
                            "the export succeeded without a manifest".into(),
                        )),
                    };
                }
                OperationState::Failed if op.no_data() => return Ok(None),
                OperationState::Failed => {
                    let e = op.error.unwrap_or_default();
                    return Err(PcError::Fault {
                        service: Service::Graph,
                        status: 200,
                        code: e.code,
                        description: format!("the export failed: {}", e.message),
                    });
                }
                OperationState::Running => {
                    let wait = wait.unwrap_or(timing.poll);
                    if started.elapsed() + wait > timing.deadline {
                        return Err(PcError::Unavailable(format!(
                            "Microsoft Graph's export did not finish within {} minutes",
                            timing.deadline.as_secs().div_ceil(60)
                        )));
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn manifest(&self, creds: &Credentials, link: &str) -> Result<Manifest, PcError> {
        let url = self.graph_link(link)?;
        self.graph(creds, reqwest::Method::GET, &url, None, |_, _, bytes| {
            match serde_json::from_slice::<Manifest>(bytes) {
                Ok(m) => Verdict::Done(m),
                Err(e) if e.is_eof() => Verdict::Retry(PcError::BadResponse(
                    "the export's manifest: the body ends early".into(),
                )),
                Err(e) => Verdict::Fail(PcError::BadResponse(format!(
                    "the export's manifest could not be read: {e}"
                ))),
            }
        })
        .await
    }

    /// Reads one file of an export in the background, from line `skip + 1`
    /// on, handing over its lines in batches as they arrive. The SAS in the
    /// URL is the key: no bearer token goes to storage, and the URL (a
    /// secret) is never logged; errors name the file only.
    pub fn stream_blob(
        &self,
        url: String,
        name: String,
        skip: usize,
    ) -> mpsc::Receiver<Result<LineBatch, BlobError>> {
        // One batch ahead of the writer: lines waiting to be kept are the
        // bulk of a sync's memory.
        let (tx, rx) = mpsc::channel(1);
        let http = self.http().clone();
        tokio::spawn(async move {
            if let Err(e) = read_blob(&http, &url, &name, skip, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }
}

/// Azure Storage's error code from its XML body (`AuthenticationFailed`).
fn storage_code(body: &str) -> &str {
    body.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or("", |(code, _)| code)
}

async fn read_blob(
    http: &reqwest::Client,
    url: &str,
    name: &str,
    skip: usize,
    tx: &mpsc::Sender<Result<LineBatch, BlobError>>,
) -> Result<(), BlobError> {
    let response = http.get(url).send().await.map_err(|e| {
        BlobError::Broken(format!(
            "{name}: {}",
            describe(Service::Storage, e.without_url())
        ))
    })?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let code = storage_code(&body);
        let why = format!("{name}: Azure Storage answered HTTP {status} {code}");
        return Err(match status {
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => BlobError::Refused(why),
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
                BlobError::Broken(why)
            }
            _ => BlobError::Failed(why),
        });
    }
    let body = response
        .bytes_stream()
        .map_err(|e| std::io::Error::other(e.without_url()));
    let mut raw = tokio_util::io::StreamReader::new(body);
    // Decoded whatever `Content-Encoding` says: gzip by its magic number.
    let head = tokio::time::timeout(STALLED, raw.fill_buf())
        .await
        .map_err(|_| BlobError::Broken(format!("{name}: no bytes arrived")))?
        .map_err(|e| BlobError::Broken(format!("{name}: {e}")))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn AsyncBufRead + Send + Unpin> = if gzip {
        let mut decoder = GzipDecoder::new(raw);
        decoder.multiple_members(true);
        Box::new(tokio::io::BufReader::with_capacity(1 << 16, decoder))
    } else {
        Box::new(raw)
    };
    let mut buffer = Vec::with_capacity(4096);
    let mut number = 0;
    let mut batch = LineBatch::default();
    loop {
        buffer.clear();
        let read = tokio::time::timeout(STALLED, reader.read_until(b'\n', &mut buffer))
            .await
            .map_err(|_| BlobError::Broken(format!("{name}: the download stalled")))?
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::InvalidData
                    || e.kind() == std::io::ErrorKind::InvalidInput
                {
                    BlobError::Failed(format!("{name}: not gzip JSON Lines ({e})"))
                } else {
                    BlobError::Broken(format!("{name}: the download broke off ({e})"))
                }
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        if number <= skip {
            continue;
        }
        batch.through = number;
        let line = buffer.trim_ascii();
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        batch.lines.push((number, model::graph::read_line(line)));
        if batch.lines.len() >= BATCH {
            let full = std::mem::take(&mut batch);
            batch.through = full.through;
            if tx.send(Ok(full)).await.is_err() {
                return Ok(());
            }
        }
    }
    if batch.through > skip {
        let _ = tx.send(Ok(batch)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pc::{Endpoints, RetryPolicy};

    fn client() -> PartnerCenter {
        crate::init_tls();
        PartnerCenter::new(
            Endpoints {
                api: "https://api.partnercenter.microsoft.com".into(),
                login: "https://login.microsoftonline.com".into(),
                graph: "https://graph.microsoft.com".into(),
            },
            RetryPolicy::default(),
        )
    }

    #[test]
    fn graph_links_stay_on_graph() {
        let pc = client();
        assert_eq!(
            pc.graph_link(
                "https://graph.microsoft.com/v1.0/reports/partners/billing/operations/9a"
            )
            .unwrap(),
            "https://graph.microsoft.com/v1.0/reports/partners/billing/operations/9a"
        );
        assert_eq!(
            pc.graph_link("/v1.0/reports/partners/billing/manifests/8f")
                .unwrap(),
            "https://graph.microsoft.com/v1.0/reports/partners/billing/manifests/8f"
        );
        for away in [
            "https://evil.example/v1.0/reports/partners/billing/operations/9a",
            "http://graph.microsoft.com/v1.0/x",
        ] {
            assert!(pc.graph_link(away).is_err(), "{away}");
        }
    }

    #[test]
    fn export_requests_take_the_documented_bodies() {
        let unbilled = ExportRequest::Unbilled {
            currency: "USD".into(),
            period: BillingPeriod::Last,
        };
        assert_eq!(
            unbilled.body(),
            serde_json::json!({"currencyCode": "USD", "billingPeriod": "last", "attributeSet": "full"})
        );
        let billed = ExportRequest::Billed {
            invoice_id: "G016907411".into(),
        };
        assert_eq!(
            billed.body(),
            serde_json::json!({"invoiceId": "G016907411", "attributeSet": "full"})
        );
        assert_eq!(
            billed.call(),
            "POST /v1.0/reports/partners/billing/usage/billed/export"
        );
    }

    #[test]
    fn graph_errors_keep_their_code() {
        let e = graph_fault(
            StatusCode::FORBIDDEN,
            br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges","innerError":{"request-id":"1"}}}"#,
        );
        assert!(matches!(
            e,
            PcError::Fault { service: Service::Graph, status: 403, ref code, .. } if code == "Authorization_RequestDenied"
        ));
        assert!(matches!(
            graph_fault(StatusCode::BAD_GATEWAY, b"<html>"),
            PcError::BadResponse(_)
        ));
    }

    #[test]
    fn storage_codes_are_read_from_its_xml() {
        assert_eq!(
            storage_code(
                "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>x</Message></Error>"
            ),
            "AuthenticationFailed"
        );
        assert_eq!(storage_code("nothing"), "");
    }
}
