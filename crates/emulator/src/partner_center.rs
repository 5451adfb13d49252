//! Partner Center routes under `/v1`.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use model::pc::{
    ApiFault, Attributes, CONTINUATION_HEADER, Collection, Customer, CustomerCompanyProfile,
    CustomerFilter, Link, LinkHeader, Links,
};

use crate::Emulator;
use crate::world;

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/v1/customers", get(list_customers))
        .route("/v1/customers/{customer}", get(get_customer))
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
        let body = ApiFault {
            code: self.code.to_string(),
            description: self.description,
            data: Vec::new(),
            source: "PartnerFD".into(),
        };
        // The reference's examples send the code as a number.
        let mut json = serde_json::to_value(body).unwrap_or_default();
        json["code"] = serde_json::json!(self.code);
        let mut response = (self.status, Json(json)).into_response();
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
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Fault::new(
                    StatusCode::UNAUTHORIZED,
                    800001,
                    "Partner token is missing.",
                )
            })?;
        emulator
            .world
            .authenticate(token.trim())
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

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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

/// One page of `items` from the offset the request's continuation names.
fn page<T: Clone>(
    partner: usize,
    query: &Query,
    headers: &HeaderMap,
    base_uri: &str,
    items: &[T],
    size: usize,
) -> Result<Collection<T>, Fault> {
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
    let end = (offset + size).min(items.len());
    let slice = items.get(offset..end).unwrap_or_default().to_vec();
    let next = (end < items.len()).then(|| Link {
        uri: format!("{base_uri}&seekOperation=Next"),
        method: "GET".into(),
        headers: vec![LinkHeader {
            key: CONTINUATION_HEADER.into(),
            value: continuation_token(partner, scope, end),
        }],
    });
    Ok(Collection::page(
        slice,
        Link::get(base_uri.to_string()),
        next,
    ))
}

fn customer_json(c: &world::Customer) -> Customer {
    let id = c.id.to_string();
    Customer {
        id: id.clone(),
        commerce_id: Some(c.commerce_id.to_string()),
        company_profile: CustomerCompanyProfile {
            tenant_id: id.clone(),
            domain: c.domain.clone(),
            company_name: c.company_name.clone(),
            attributes: Attributes::of("CustomerCompanyProfile"),
        },
        billing_profile: Some(serde_json::json!({
            "culture": "en-US",
            "language": "en",
            "companyName": c.company_name,
            "defaultAddress": { "country": c.country },
            "attributes": { "objectType": "CustomerBillingProfile" }
        })),
        relationship_to_partner: "reseller".into(),
        allow_delegated_access: Some(true),
        custom_domains: None,
        links: Some(Links {
            self_link: Some(Link::get(format!("/customers/{id}"))),
            next: None,
            previous: None,
        }),
        attributes: Attributes::of("Customer"),
    }
}

async fn list_customers(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Collection<Customer>>, Fault> {
    let query = Query::parse(raw);
    let size = query.size(DEFAULT_PAGE, MAX_PAGE)?;
    let filter = match query.get("filter") {
        None => None,
        Some(text) => {
            let f: CustomerFilter = serde_json::from_str(text)
                .map_err(|e| Fault::invalid_input(format!("filter is not valid JSON: {e}")))?;
            if !f.operator.eq_ignore_ascii_case("starts_with") {
                return Err(Fault::invalid_input(format!(
                    "Unsupported filter operator '{}'.",
                    f.operator
                )));
            }
            Some(f)
        }
    };
    let all = &emulator.world.partners[partner].customers;
    let matching: Vec<Customer> = all
        .iter()
        .filter(|c| match &filter {
            None => true,
            Some(f) => {
                let field = match f.field.to_ascii_lowercase().as_str() {
                    "companyname" => &c.company_name,
                    "domain" => &c.domain,
                    _ => return false,
                };
                field.to_lowercase().starts_with(&f.value.to_lowercase())
            }
        })
        .map(customer_json)
        .collect();
    let mut base = format!("/customers?size={size}");
    if let Some(f) = query.get("filter") {
        base.push_str("&filter=");
        base.push_str(&percent_encode(f));
    }
    page(partner, &query, &headers, &base, &matching, size).map(Json)
}

async fn get_customer(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<Customer>, Fault> {
    emulator.world.partners[partner]
        .customers
        .iter()
        .find(|c| c.id.to_string().eq_ignore_ascii_case(&customer))
        .map(|c| Json(customer_json(c)))
        .ok_or_else(|| Fault::not_found(format!("Customer {customer} was not found.")))
}
