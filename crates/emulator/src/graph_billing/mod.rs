//! Microsoft Graph's partner billing export (API v2), as
//! `shared/reference/graph-billing-v2.md` documents it: `POST …/usage/
//! unbilled/export` and `…/usage/billed/export` answer `202` with a
//! `Location`; the operation runs for some polls (with `Retry-After`), then
//! succeeds with a manifest (linked, or inline: a switch) or fails with
//! `5000` (no data); the manifest names gzip JSON Lines files on this
//! emulator's "blob storage", which checks the SAS expiry. The lines are
//! the new-commerce usage of the scope, written in the forms the documents
//! leave open (numbers as text, dates with and without a zone or as
//! `M/D/YYYY`, fields nobody documents, a byte-order mark), and some
//! resource-days covered by two savings-plan benefits come as two rows that
//! share every identity field but the benefit. The JSON is this emulator's
//! own text, not any type of the proxy's.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use model::Currency;
use serde_json::{Value, json};

use crate::Emulator;
use crate::billing::{Commerce, InvoiceRef, LineRef, first_of_month};
use crate::usage::{self, date_of};
use crate::world::{Audience, World};

mod rows;

use rows::{gzip, render_rows, split};

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route(
            "/v1.0/reports/partners/billing/usage/unbilled/export",
            post(unbilled_export),
        )
        .route(
            "/v1.0/reports/partners/billing/usage/billed/export",
            post(billed_export),
        )
        .route(
            "/v1.0/reports/partners/billing/operations/{id}",
            get(operation),
        )
        .route(
            "/v1.0/reports/partners/billing/manifests/{id}",
            get(manifest),
        )
        .route("/emulator/blobs/{export}/{name}", get(blob))
        .route("/emulator/truth", get(truth))
}

/// What an export covers.
#[derive(Debug, Clone)]
pub enum Scope {
    Unbilled { currency: Currency, last: bool },
    Billed(InvoiceRef),
}

/// An export started by a request: whose, of what, and how far along.
#[derive(Debug, Clone)]
pub struct Export {
    pub partner: usize,
    pub scope: Scope,
    pub polls: u32,
    /// Where the answers' links point (this emulator, as the request reached it).
    pub base: String,
    pub created: DateTime<Utc>,
}

/// Graph's error envelope.
struct GraphError(StatusCode, &'static str, String);

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({ "error": { "code": self.1, "message": self.2,
                "innerError": { "request-id": uuid::Uuid::new_v4().to_string(), "date": Utc::now().to_rfc3339() } } })),
        )
            .into_response()
    }
}

/// An app-only Graph token of a partner's app.
struct GraphApp(usize);

impl FromRequestParts<Emulator> for GraphApp {
    type Rejection = GraphError;

    async fn from_request_parts(
        parts: &mut Parts,
        emulator: &Emulator,
    ) -> Result<Self, Self::Rejection> {
        match emulator.world.bearer(&parts.headers) {
            Some(t)
                if t.audience == Audience::Graph
                    && t.app.is_some()
                    && t.roles
                        .iter()
                        .any(|r| r == model::onboarding::PARTNER_BILLING_READ_ALL_NAME) =>
            {
                Ok(GraphApp(t.partner))
            }
            Some(t) if t.audience == Audience::Graph && t.app.is_some() => Err(GraphError(
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                "Either the signed-in user does not have sufficient privileges, or you need to use one of the following application permissions: PartnerBilling.Read.All".into(),
            )),
            Some(t) if t.audience == Audience::Graph => Err(GraphError(
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                "The billing export takes an application's token (PartnerBilling.Read.All).".into(),
            )),
            _ => Err(GraphError(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token is empty, expired or not for Microsoft Graph.".into(),
            )),
        }
    }
}

fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError(StatusCode::BAD_REQUEST, "invalidRequest", message.into())
}

fn start(emulator: &Emulator, partner: usize, scope: Scope, headers: &HeaderMap) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let base = base_of(headers);
    emulator
        .world
        .exports
        .lock()
        .expect("exports poisoned")
        .insert(
            id.clone(),
            Export {
                partner,
                scope,
                polls: 0,
                base: base.clone(),
                created: Utc::now(),
            },
        );
    let mut response = StatusCode::ACCEPTED.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!(
        "{base}/v1.0/reports/partners/billing/operations/{id}"
    )) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn attribute_set(body: &Value) -> Result<(), GraphError> {
    match body["attributeSet"].as_str() {
        None | Some("full") | Some("basic") => Ok(()),
        Some(other) => Err(bad(format!(
            "attributeSet must be full or basic, not '{other}'."
        ))),
    }
}

async fn unbilled_export(
    State(emulator): State<Emulator>,
    GraphApp(partner): GraphApp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let body: Value = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    attribute_set(&body)?;
    let currency = body["currencyCode"]
        .as_str()
        .ok_or_else(|| bad("currencyCode is required."))
        .and_then(|c| Currency::parse(c).map_err(|e| bad(e.to_string())))?;
    let last = match body["billingPeriod"].as_str() {
        Some("current") => false,
        Some("last") => true,
        other => {
            return Err(bad(format!(
                "billingPeriod must be current or last, not '{}'.",
                other.unwrap_or_default()
            )));
        }
    };
    Ok(start(
        &emulator,
        partner,
        Scope::Unbilled { currency, last },
        &headers,
    ))
}

async fn billed_export(
    State(emulator): State<Emulator>,
    GraphApp(partner): GraphApp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let body: Value = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    attribute_set(&body)?;
    let id = body["invoiceId"]
        .as_str()
        .ok_or_else(|| bad("invoiceId is required."))?;
    let invoice = emulator.world.invoice(partner, id).ok_or_else(|| {
        GraphError(
            StatusCode::NOT_FOUND,
            "notFound",
            format!("Invoice {id} was not found."),
        )
    })?;
    Ok(start(&emulator, partner, Scope::Billed(invoice), &headers))
}

impl World {
    /// The new-commerce lines an export covers.
    fn export_lines(&self, export: &Export) -> std::sync::Arc<Vec<LineRef>> {
        match &export.scope {
            Scope::Unbilled { currency, last } => {
                let range = if *last {
                    self.previous_period()
                } else {
                    Some(self.current_period())
                };
                match range {
                    Some((from, to)) => {
                        self.feed_of(export.partner, *currency, from, to, Commerce::New)
                    }
                    None => Default::default(),
                }
            }
            // Legacy invoices stay on v1: their export has no rows.
            Scope::Billed(invoice) if invoice.commerce == Commerce::Legacy => Default::default(),
            Scope::Billed(invoice) => self.invoice_lines(export.partner, invoice),
        }
    }
}

async fn operation(
    State(emulator): State<Emulator>,
    GraphApp(partner): GraphApp,
    Path(id): Path<String>,
) -> Result<Response, GraphError> {
    let faults = emulator.faults();
    let export = {
        let mut exports = emulator.world.exports.lock().expect("exports poisoned");
        let export = exports
            .get_mut(&id)
            .filter(|e| e.partner == partner)
            .ok_or_else(|| {
                GraphError(
                    StatusCode::NOT_FOUND,
                    "notFound",
                    format!("Operation {id} was not found."),
                )
            })?;
        export.polls += 1;
        export.clone()
    };
    emulator.stats.export_polls.fetch_add(1, Ordering::Relaxed);
    let created = export.created.format("%Y-%m-%dT%H:%M:%S").to_string();
    if export.polls <= faults.export_polls {
        let mut response = Json(json!({
            "@odata.type": "#microsoft.graph.partners.billing.runningOperation",
            "id": id, "status": "running",
            "createdDateTime": created, "lastActionDateTime": Utc::now().to_rfc3339(),
        }))
        .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(faults.export_retry_after_secs),
        );
        return Ok(response);
    }
    let lines = emulator.world.export_lines(&export);
    if lines.is_empty() {
        return Ok(Json(json!({
            "@odata.type": "#microsoft.graph.partners.billing.failedOperation",
            "id": id, "status": "failed",
            "createdDateTime": created, "lastActionDateTime": Utc::now().to_rfc3339(),
            "error": { "message": "No data available", "code": "5000" }
        }))
        .into_response());
    }
    let mut body = json!({
        "@odata.type": "#microsoft.graph.partners.billing.exportSuccessOperation",
        "id": id, "status": "succeeded",
        "createdDateTime": created, "lastActionDateTime": Utc::now().to_rfc3339(),
    });
    if faults.inline_manifest {
        body["resourceLocation"] = manifest_json(&emulator, &id, &export, lines.len());
    } else {
        body["resourceLocation@odata.navigationLink"] = json!(format!(
            "{}/v1.0/reports/partners/billing/manifests/{id}",
            export.base
        ));
    }
    Ok(Json(body).into_response())
}

/// Rows of an export file: a benefit split makes two rows of one line.
fn rows_of(world: &World, export: &Export, lines: &[LineRef]) -> usize {
    lines
        .iter()
        .map(|l| {
            if split(world, export.partner, l) {
                2
            } else {
                1
            }
        })
        .sum()
}

fn parts(rows: usize, per_blob: usize) -> usize {
    rows.div_ceil(per_blob.max(1)).max(1)
}

/// The SAS a manifest hands out: valid for `sas_seconds`, signed.
fn sas_for(export_id: &str, expiry: DateTime<Utc>) -> String {
    let se = expiry.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "skoid=emulator&sv=2021-08-06&se={}&sr=d&sp=rl&sdd=1&sig={}",
        se.replace(':', "%3A"),
        signature(export_id, &se)
    )
}

fn signature(export_id: &str, se: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{export_id}|{se}|emulator-storage-key"));
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn manifest_json(emulator: &Emulator, id: &str, export: &Export, lines: usize) -> Value {
    let faults = emulator.faults();
    let world = &emulator.world;
    let all = world.export_lines(export);
    let rows = rows_of(world, export, &all);
    let _ = lines;
    let n = parts(rows, faults.export_rows_per_blob);
    let expiry = Utc::now() + chrono::Duration::seconds(faults.sas_seconds as i64);
    let tenant = world.partners[export.partner].tenant_id;
    let directory = directory_of(world, export);
    // The data's version: the same rows in the same files give the same eTag.
    let etag = signature(
        &format!("{directory}|{rows}|{}", faults.export_rows_per_blob),
        "etag",
    );
    // As 2024's live manifests (the reference, §3.4): schema 2, "default".
    json!({
        "id": id,
        "schemaVersion": "2",
        "dataFormat": "compressedJSON",
        "createdDateTime": export.created.to_rfc3339(),
        "eTag": etag,
        "partnerTenantId": tenant.to_string(),
        "rootDirectory": format!("{}/emulator/blobs/{id}", export.base),
        "sasToken": sas_for(id, expiry),
        "partitionType": "default",
        "blobCount": n,
        "blobs": (0..n).map(|p| json!({
            "name": format!("part-{p:05}-{id}.c000.json.gz"),
            "partitionValue": "default",
        })).collect::<Vec<_>>(),
    })
}

/// The export's directory on storage, as Microsoft's roots name it.
fn directory_of(world: &World, export: &Export) -> String {
    let (month, currency) = match &export.scope {
        Scope::Unbilled { currency, last } => {
            let (from, _) = if *last {
                world.previous_period().unwrap_or(world.current_period())
            } else {
                world.current_period()
            };
            (first_of_month(date_of(from)), *currency)
        }
        Scope::Billed(i) => (i.month, i.currency),
    };
    let tenant = world.partners[export.partner].tenant_id;
    match &export.scope {
        Scope::Unbilled { .. } => format!(
            "unbilledusagefastpath/v1/PartnerTenantId={tenant}/BillingMonth={}/Currency={currency}/Fragment=full",
            month.format("%Y%m")
        ),
        Scope::Billed(i) => format!(
            "billedusagefastpath/v1/PartnerTenantId={tenant}/BillingMonth={}/InvoiceId={}/Fragment=full",
            month.format("%Y%m"),
            i.id
        ),
    }
}

async fn manifest(
    State(emulator): State<Emulator>,
    GraphApp(partner): GraphApp,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let export = emulator
        .world
        .exports
        .lock()
        .expect("exports poisoned")
        .get(&id)
        .filter(|e| e.partner == partner)
        .cloned()
        .ok_or_else(|| {
            GraphError(
                StatusCode::NOT_FOUND,
                "notFound",
                format!("Manifest {id} was not found."),
            )
        })?;
    let lines = emulator.world.export_lines(&export).len();
    Ok(Json(manifest_json(&emulator, &id, &export, lines)))
}

/// Azure Storage's refusal, in its own XML.
fn storage_refusal(code: &str, message: &str) -> Response {
    let mut response = (
        StatusCode::FORBIDDEN,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:{}\nTime:{}</Message></Error>",
            uuid::Uuid::new_v4(),
            Utc::now().to_rfc3339()
        ),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

fn query_value<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET {rootDirectory}/{name}?{sasToken}`: one part of an export, gzip JSON
/// Lines, in two gzip members (as a multi-member file is), whatever the
/// client's `Accept-Encoding`. No bearer token: the SAS is the key.
async fn blob(
    State(emulator): State<Emulator>,
    Path((export_id, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let se = query_value(&raw, "se")
        .unwrap_or_default()
        .replace("%3A", ":");
    let sig = query_value(&raw, "sig").unwrap_or_default();
    let expiry = DateTime::parse_from_rfc3339(&se).map(|d| d.with_timezone(&Utc));
    if sig != signature(&export_id, &se) || expiry.is_err() {
        return storage_refusal(
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        );
    }
    if expiry.is_ok_and(|e| e <= Utc::now())
        || emulator
            .sas_refusals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        emulator.stats.faults.fetch_add(1, Ordering::Relaxed);
        return storage_refusal(
            "AuthenticationFailed",
            "Signed expiry time must be after signed start time. The SAS has expired.",
        );
    }
    let Some(export) = emulator
        .world
        .exports
        .lock()
        .expect("exports poisoned")
        .get(&export_id)
        .cloned()
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(part) = name
        .strip_prefix("part-")
        .and_then(|n| n.get(..5))
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let faults = emulator.faults();
    let world = &emulator.world;
    let cache_key = format!(
        "{}|{part}|{}|{}",
        directory_of(world, &export),
        faults.export_rows_per_blob,
        faults.unreadable_export_rows
    );
    if let Some(cache) = &world.blob_cache
        && let Some(body) = cache.lock().expect("cache poisoned").get(&cache_key)
    {
        emulator.stats.blobs.fetch_add(1, Ordering::Relaxed);
        return blob_response(body.clone());
    }
    let lines = world.export_lines(&export);
    let per_blob = faults.export_rows_per_blob.max(1);
    let start = part * per_blob;
    let rows = render_rows(
        world,
        &export,
        &lines,
        start..start + per_blob,
        faults.unreadable_export_rows,
    );
    if rows.is_empty() && part > 0 {
        return StatusCode::NOT_FOUND.into_response();
    }
    emulator.stats.blobs.fetch_add(1, Ordering::Relaxed);
    let mut text = Vec::new();
    if part == 0 {
        // Files written by Windows tools often start with a byte-order mark.
        text.extend_from_slice(b"\xEF\xBB\xBF");
    }
    for row in &rows {
        text.extend_from_slice(row.as_bytes());
        text.push(b'\n');
    }
    // Two gzip members, cut at a line.
    let half = text[..text.len() / 2]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let mut body = gzip(&text[..half]);
    body.extend(gzip(&text[half..]));
    let body = Bytes::from(body);
    if let Some(cache) = &world.blob_cache {
        cache
            .lock()
            .expect("cache poisoned")
            .insert(cache_key, body.clone());
    }
    blob_response(body)
}

fn blob_response(body: Bytes) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

/// `GET /emulator/truth`: what this emulator serves of each partner's usage
/// over a full sync (every period, through v1 and through the export), per
/// customer and currency: rows and billing total in millionths. With
/// `?lines=<tenant>`, that partner's usage also per customer, day and meter:
/// rows, quantity, unit price and billing total as the decimal text the
/// upstream writes. A test
/// double's answer key, computed from the generator, not from any answer.
async fn truth(State(emulator): State<Emulator>, RawQuery(query): RawQuery) -> Json<Value> {
    let world = &emulator.world;
    let detail = query
        .as_deref()
        .and_then(|q| q.strip_prefix("lines="))
        .map(str::to_ascii_lowercase);
    let mut partners = Vec::new();
    for (pi, p) in world.partners.iter().enumerate() {
        type Key = (String, String);
        let mut totals: std::collections::BTreeMap<Key, (usize, i64)> = Default::default();
        // Rows, billing total, quantity (millionths), unit price.
        type Line = (usize, i64, i64, model::Amount);
        let mut lines: std::collections::BTreeMap<(String, String, String), Line> =
            Default::default();
        let detailed = detail.as_deref() == Some(p.tenant_id.to_string().as_str());
        for currency in world.currencies(pi) {
            let feed = world.feed(pi, currency, world.window.0, world.window.1);
            for line in feed.iter() {
                let c = &p.customers[line.customer as usize];
                let month = first_of_month(date_of(line.day));
                let via_export = !c.legacy_commerce && world.after_cutover(month);
                let rows = if via_export && split(world, pi, line) {
                    2
                } else {
                    1
                };
                let priced = world.price_line(pi, line);
                let billed = priced.billing_total.micros();
                let e = totals
                    .entry((c.id.to_string(), currency.code().to_string()))
                    .or_default();
                e.0 += rows;
                e.1 += billed;
                if detailed {
                    let meter = &world.catalog[c.series[line.series as usize].meter];
                    let key = (
                        c.id.to_string(),
                        date_of(line.day).to_string(),
                        meter.id.to_string(),
                    );
                    let e = lines.entry(key).or_default();
                    e.0 += rows;
                    e.1 += billed;
                    // Split rows share the line's quantity, which sums back.
                    e.2 += (line.quantity * 1e6).round() as i64;
                    e.3 = priced.unit_price;
                }
            }
        }
        let mut partner = json!({
            "tenantId": p.tenant_id.to_string(),
            "customers": totals.into_iter().map(|((customer, currency), (rows, micros))| json!({
                "customerId": customer, "currency": currency, "rows": rows, "billingTotalMicros": micros,
            })).collect::<Vec<_>>(),
        });
        if detailed {
            partner["lines"] = lines
                .into_iter()
                .map(
                    |((customer, day, meter), (rows, micros, quantity, unit_price))| {
                        json!({
                            "customerId": customer, "day": day, "meterId": meter, "rows": rows,
                            "quantity": model::Amount::from_micros(quantity).to_decimal_string(6),
                            "unitPrice": unit_price.to_decimal_string(6),
                            "billingTotal": model::Amount::from_micros(micros).to_decimal_string(6),
                        })
                    },
                )
                .collect();
        }
        partners.push(partner);
    }
    Json(
        json!({ "window": [date_of(world.window.0), date_of(world.window.1)], "partners": partners }),
    )
}

impl World {
    /// The prices of one line, as every answer writes them.
    pub fn price_line(&self, partner: usize, line: &LineRef) -> usage::Priced {
        let c = &self.partners[partner].customers[line.customer as usize];
        let meter = &self.catalog[c.series[line.series as usize].meter];
        usage::price(
            meter,
            line.quantity,
            c.currency,
            self.pec_applied(partner, line),
        )
    }
}
