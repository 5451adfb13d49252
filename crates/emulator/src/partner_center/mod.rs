//! Partner Center routes under `/v1`, one file per resource: customers and
//! their subscriptions, budgets and usage records, invoices and their line
//! items, and the legacy utilization records with the rate card. What they
//! share (errors, authentication, queries, seek paging) is here.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use model::{Amount, Currency};
use serde_json::{Value, json};

use crate::Emulator;
use crate::billing::first_of_month;
use crate::shapes::{CONTINUATION_HEADER, attributes, collection, etag, link, self_links};
use crate::usage::{date_of, day_number};
use crate::world::{self, World};

mod customers;
mod invoices;
mod subscriptions;
mod usage_records;
mod utilization;

use customers::*;
use invoices::*;
use subscriptions::*;
use usage_records::*;
use utilization::*;

pub use subscriptions::legacy_subscription;

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/v1/customers", get(list_customers))
        .route("/v1/customers/{customer}", get(get_customer))
        .route(
            "/v1/customers/{customer}/subscriptions",
            get(list_subscriptions),
        )
        .route(
            "/v1/customers/{customer}/subscriptions/{subscription}",
            get(get_subscription),
        )
        .route(
            "/v1/customers/{customer}/subscriptions/{subscription}/azureEntitlements",
            get(list_entitlements),
        )
        .route(
            "/v1/customers/{customer}/subscriptions/{subscription}/meterusagerecords",
            get(meter_usage_records),
        )
        .route("/v1/customers/{customer}/usagesummary", get(usage_summary))
        .route(
            "/v1/customers/{customer}/usagebudget",
            get(get_budget).patch(patch_budget),
        )
        .route(
            "/v1/customers/{customer}/subscriptions/{subscription}/utilizations/azure",
            get(utilization_records),
        )
        .route("/v1/ratecards/azure", get(rate_card))
        .route("/v1/invoices", get(list_invoices))
        .route("/v1/invoices/unbilled/lineitems", get(unbilled_line_items))
        .route("/v1/invoices/{invoice}/lineitems", get(billed_line_items))
}

/// Default and largest page sizes of the customers list.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 500;

/// A Partner Center error: the documented body with a status.
pub struct Fault {
    status: StatusCode,
    code: u32,
    description: String,
}

impl Fault {
    fn new(status: StatusCode, code: u32, description: impl Into<String>) -> Self {
        Fault {
            status,
            code,
            description: description.into(),
        }
    }

    fn invalid_input(description: impl Into<String>) -> Self {
        Fault::new(StatusCode::BAD_REQUEST, 800002, description)
    }

    fn not_found(description: impl Into<String>) -> Self {
        Fault::new(StatusCode::NOT_FOUND, 1000, description)
    }
}

impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        // The reference's examples send the code as a number.
        let body = json!({
            "code": self.code,
            "description": self.description,
            "data": [],
            "source": "PartnerFD",
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("OAuth realm=urn:cpsvc:cpid"),
            );
        }
        response
    }
}

/// The partner a request's bearer token was issued to.
pub struct PartnerAuth(pub usize);

impl FromRequestParts<Emulator> for PartnerAuth {
    type Rejection = Fault;

    async fn from_request_parts(
        parts: &mut Parts,
        emulator: &Emulator,
    ) -> Result<Self, Self::Rejection> {
        let token = world::bearer_of(&parts.headers).ok_or_else(|| {
            Fault::new(
                StatusCode::UNAUTHORIZED,
                800001,
                "Partner token is missing.",
            )
        })?;
        emulator
            .world
            .authenticate(token)
            .map(PartnerAuth)
            .ok_or_else(|| {
                Fault::new(
                    StatusCode::UNAUTHORIZED,
                    400,
                    "Access denied: the token is invalid or expired.",
                )
            })
    }
}

/// A signed-in person's delegated Partner Center token, which the routes the
/// reference marks App+User only require. An app's token is refused (and
/// counted); without MFA, Partner Center refuses with 900421.
pub struct AppUser(pub usize);

impl FromRequestParts<Emulator> for AppUser {
    type Rejection = Fault;

    async fn from_request_parts(
        parts: &mut Parts,
        emulator: &Emulator,
    ) -> Result<Self, Self::Rejection> {
        let token = emulator
            .world
            .bearer(&parts.headers)
            .filter(|t| t.audience == world::Audience::PartnerCenter);
        match token {
            Some(t) if t.user.is_some() => {
                if emulator.faults.read().expect("faults poisoned").mfa_missing {
                    return Err(Fault::new(
                        StatusCode::UNAUTHORIZED,
                        900421,
                        "Multi-factor authentication is required for App+User calls to Partner Center.",
                    ));
                }
                Ok(AppUser(t.partner))
            }
            Some(_) => {
                emulator
                    .stats
                    .app_only_refusals
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err(Fault::new(
                    StatusCode::UNAUTHORIZED,
                    400,
                    "This route takes App+User authentication: an application's token is not accepted.",
                ))
            }
            None => Err(Fault::new(
                StatusCode::UNAUTHORIZED,
                800001,
                "Partner token is missing, invalid or expired.",
            )),
        }
    }
}

/// Query parameters by lower-cased name: the reference's examples mix case.
pub struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<String>) -> Self {
        let raw = raw.unwrap_or_default();
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (k.to_ascii_lowercase(), percent_decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn size(&self, default: usize, max: usize) -> Result<usize, Fault> {
        match self.get("size") {
            None => Ok(default),
            Some(s) => match s.parse::<usize>() {
                Ok(0) | Err(_) => Err(Fault::invalid_input(format!(
                    "size must be a positive integer, not '{s}'."
                ))),
                Ok(n) => Ok(n.min(max)),
            },
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Seek paging: the continuation token carries the next offset, bound to the
/// partner and the query so a token cannot be replayed elsewhere.
fn continuation_token(partner: usize, scope: &str, offset: usize) -> String {
    let check = model::guid_mix(partner as u64 ^ fnv(scope) ^ offset as u64);
    format!("{offset:x}.{check:016x}")
}

fn read_continuation(partner: usize, scope: &str, token: &str) -> Result<usize, Fault> {
    let bad = || {
        Fault::invalid_input("The continuation token is invalid or was issued for another query.")
    };
    let (offset, _) = token.split_once('.').ok_or_else(bad)?;
    let offset = usize::from_str_radix(offset, 16).map_err(|_| bad())?;
    if continuation_token(partner, scope, offset) == token {
        Ok(offset)
    } else {
        Err(bad())
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One page of a collection of `total` items, from the offset the request's
/// continuation token names; `render` makes the items of that range.
fn page(
    partner: usize,
    query: &Query,
    headers: &HeaderMap,
    base_uri: &str,
    total: usize,
    size: usize,
    render: impl FnOnce(std::ops::Range<usize>) -> Vec<Value>,
) -> Result<Value, Fault> {
    let scope = base_uri;
    let offset = match query.get("seekoperation") {
        Some(op) if op.eq_ignore_ascii_case("next") => {
            let token = headers
                .get(CONTINUATION_HEADER)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    Fault::invalid_input(
                        "seekOperation=Next needs the MS-ContinuationToken header.",
                    )
                })?;
            read_continuation(partner, scope, token)?
        }
        Some(op) => {
            return Err(Fault::invalid_input(format!(
                "Unknown seekOperation '{op}'."
            )));
        }
        None => 0,
    };
    let start = offset.min(total);
    let end = (start + size).min(total);
    let next = (end < total).then(|| {
        link(
            &format!("{base_uri}&seekOperation=Next"),
            &[(
                CONTINUATION_HEADER,
                &continuation_token(partner, scope, end),
            )],
        )
    });
    Ok(collection(render(start..end), base_uri, next))
}
