//! Partner Center routes under `/v1`.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use model::pc::{
    ApiFault, Attributes, AzureEntitlement, CONTINUATION_HEADER, Collection, Customer,
    CustomerCompanyProfile, CustomerFilter, CustomerUsageSummary, DailyRatedUsageLineItem, Invoice,
    InvoiceDetail, Link, LinkHeader, Links, MeterUsageRecord, SpendingBudget, Subscription,
};
use model::{Amount, Currency};

use crate::Emulator;
use crate::billing::first_of_month;
use crate::usage::{date_of, day_number};
use crate::world::{self, World};

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

/// One page of a collection of `total` items, from the offset the request's
/// continuation token names; `render` makes the items of that range.
fn page<T>(
    partner: usize,
    query: &Query,
    headers: &HeaderMap,
    base_uri: &str,
    total: usize,
    size: usize,
    render: impl FnOnce(std::ops::Range<usize>) -> Vec<T>,
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
    let start = offset.min(total);
    let end = (start + size).min(total);
    let next = (end < total).then(|| Link {
        uri: format!("{base_uri}&seekOperation=Next"),
        method: "GET".into(),
        headers: vec![LinkHeader {
            key: CONTINUATION_HEADER.into(),
            value: continuation_token(partner, scope, end),
        }],
    });
    Ok(Collection::page(
        render(start..end),
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
        links: Some(Links::to_self(format!("/customers/{id}"))),
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
    page(
        partner,
        &query,
        &headers,
        &base,
        matching.len(),
        size,
        |r| matching[r].to_vec(),
    )
    .map(Json)
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

/// Largest and default page of line items, as Partner Center's.
const LINE_ITEM_PAGE: usize = 2000;

fn find_customer<'w>(
    world: &'w World,
    partner: usize,
    id: &str,
) -> Result<(usize, &'w world::Customer), Fault> {
    world.partners[partner]
        .customers
        .iter()
        .enumerate()
        .find(|(_, c)| c.id.to_string().eq_ignore_ascii_case(id))
        .ok_or_else(|| Fault::not_found(format!("Customer {id} was not found.")))
}

/// About one customer in five still has a legacy Azure subscription
/// (MS-AZR-0145P) beside its Azure plan: usage for it comes as utilization
/// records priced with the rate card, not as daily rated line items.
pub fn legacy_subscription(world: &World, customer: &world::Customer) -> Option<model::Guid> {
    (crate::usage::unit(world.seed, customer.key, 99) < 0.2)
        .then(|| model::Guid::from_seed(customer.key, 13))
}

fn subscription_json(customer: &world::Customer) -> Subscription {
    plan_json(
        customer,
        customer.plan,
        "DZH318Z0BPS6:0001:DZH318Z0BML6",
        "Azure plan",
    )
}

fn plan_json(
    customer: &world::Customer,
    plan: model::Guid,
    offer_id: &str,
    offer_name: &str,
) -> Subscription {
    let id = plan.to_string();
    Subscription {
        id: id.clone(),
        entitlement_id: Some(
            model::Guid::from_seed(plan.as_bytes()[0] as u64 ^ customer.key, 11).to_string(),
        ),
        offer_id: offer_id.into(),
        offer_name: offer_name.into(),
        friendly_name: offer_name.into(),
        quantity: 1,
        unit_type: "Usage-based".into(),
        creation_date: "2021-03-01T10:14:22.427Z".into(),
        effective_start_date: "2021-03-01T00:00:00Z".into(),
        commitment_end_date: "9999-12-31T00:00:00Z".into(),
        status: "active".into(),
        auto_renew_enabled: false,
        billing_type: "usage".into(),
        contract_type: "subscription".into(),
        order_id: Some(model::Guid::from_seed(customer.key, 12).to_string()),
        links: Some(Links::to_self(format!(
            "/customers/{}/subscriptions/{id}",
            customer.id
        ))),
        attributes: Attributes::of("Subscription"),
    }
}

async fn list_subscriptions(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<Collection<Subscription>>, Fault> {
    let (_, c) = find_customer(&emulator.world, partner, &customer)?;
    let mut items = vec![subscription_json(c)];
    if let Some(legacy) = legacy_subscription(&emulator.world, c) {
        items.push(plan_json(c, legacy, "MS-AZR-0145P", "Microsoft Azure"));
    }
    Ok(Json(Collection::page(
        items,
        Link::get(format!("/customers/{}/subscriptions", c.id)),
        None,
    )))
}

fn find_plan<'w>(
    world: &'w World,
    partner: usize,
    customer: &str,
    subscription: &str,
) -> Result<&'w world::Customer, Fault> {
    let (_, c) = find_customer(world, partner, customer)?;
    if c.plan.to_string().eq_ignore_ascii_case(subscription) {
        Ok(c)
    } else {
        Err(Fault::new(
            StatusCode::NOT_FOUND,
            20003,
            format!("Subscription {subscription} was not found."),
        ))
    }
}

async fn get_subscription(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
) -> Result<Json<Subscription>, Fault> {
    find_plan(&emulator.world, partner, &customer, &subscription)
        .map(|c| Json(subscription_json(c)))
}

async fn list_entitlements(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
) -> Result<Json<Collection<AzureEntitlement>>, Fault> {
    let c = find_plan(&emulator.world, partner, &customer, &subscription)?;
    let items = c
        .entitlements
        .iter()
        .map(|(id, name)| AzureEntitlement {
            id: id.to_string(),
            friendly_name: name.clone(),
            status: "active".into(),
            subscription_id: c.plan.to_string(),
        })
        .collect();
    Ok(Json(Collection::page(
        items,
        Link::get(format!(
            "/customers/{}/subscriptions/{}/azureEntitlements",
            c.id, c.plan
        )),
        None,
    )))
}

fn budget_json(customer: &world::Customer) -> SpendingBudget {
    SpendingBudget {
        amount: *customer.budget.lock().expect("budget poisoned"),
        links: Some(Links::to_self(format!(
            "/v1/customers/{}/usagebudget",
            customer.id
        ))),
        attributes: Attributes::of("SpendingBudget"),
    }
}

async fn get_budget(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<SpendingBudget>, Fault> {
    let (_, c) = find_customer(&emulator.world, partner, &customer)?;
    Ok(Json(budget_json(c)))
}

/// The documented body is PascalCase (`{"Amount": 100}`); any case is accepted.
async fn patch_budget(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<SpendingBudget>, Fault> {
    let (_, c) = find_customer(&emulator.world, partner, &customer)?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| Fault::invalid_input(format!("The body is not valid JSON: {e}")))?;
    let amount = value
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("amount")))
        .map(|(_, v)| v)
        .ok_or_else(|| Fault::invalid_input("The body needs an Amount."))?;
    let amount = match amount {
        serde_json::Value::Null => None,
        serde_json::Value::Number(n) => {
            let a = n
                .as_f64()
                .and_then(Amount::from_f64)
                .filter(|a| *a >= Amount::ZERO)
                .ok_or_else(|| Fault::invalid_input(format!("Amount {n} must be zero or more.")))?;
            Some(a)
        }
        other => {
            return Err(Fault::invalid_input(format!(
                "Amount must be a number or null, not {other}."
            )));
        }
    };
    *c.budget.lock().expect("budget poisoned") = amount;
    Ok(Json(budget_json(c)))
}

fn rfc3339(day: i64) -> String {
    format!("{}T00:00:00+00:00", date_of(day).format("%Y-%m-%d"))
}

fn usd(amount: Amount, currency: Currency) -> Amount {
    let fx = crate::usage::usd_to(currency) as i128;
    Amount::from_micros((amount.micros() as i128 * 1_000_000 / fx) as i64)
}

async fn usage_summary(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<CustomerUsageSummary>, Fault> {
    let world = &emulator.world;
    let (index, c) = find_customer(world, partner, &customer)?;
    let (from, to) = world.current_period();
    let total = world.customer_period_cost(partner, index);
    let budget = budget_json(c);
    Ok(Json(CustomerUsageSummary {
        budget: SpendingBudget {
            links: None,
            ..budget
        },
        resource_id: c.id.to_string(),
        resource_name: c.company_name.clone(),
        billing_start_date: rfc3339(from),
        billing_end_date: rfc3339(day_number(
            first_of_month(date_of(from))
                .checked_add_months(chrono::Months::new(1))
                .expect("in range"),
        )),
        total_cost: total,
        currency_code: c.currency.code().into(),
        usd_total_cost: usd(total, c.currency),
        last_modified_date: rfc3339(to + 1),
        attributes: Attributes::of("CustomerUsageSummary"),
    }))
}

async fn meter_usage_records(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
) -> Result<Json<Collection<MeterUsageRecord>>, Fault> {
    let world = &emulator.world;
    let c = find_plan(world, partner, &customer, &subscription)?;
    let index = world.partners[partner]
        .customers
        .iter()
        .position(|x| x.id == c.id)
        .unwrap_or(0);
    let (from, to) = world.current_period();
    let feed = world.feed(partner, c.currency, from, to);
    // Meter by meter, in catalog order.
    let mut by_meter: Vec<(f64, Amount)> = vec![(0.0, Amount::ZERO); world.catalog.len()];
    for line in feed.iter().filter(|l| l.customer as usize == index) {
        let meter = c.series[line.series as usize].meter;
        by_meter[meter].0 += line.quantity;
        by_meter[meter].1 += world.line_cost(partner, line);
    }
    let items = by_meter
        .iter()
        .enumerate()
        .filter(|(_, (q, _))| *q > 0.0)
        .map(|(m, (q, cost))| {
            let meter = &world.catalog[m];
            MeterUsageRecord {
                subscription_id: c.plan.to_string(),
                meter_id: meter.id.to_string(),
                meter_name: meter.name.into(),
                category: meter.category.into(),
                subcategory: meter.subcategory.into(),
                quantity_used: (q * 1e6).round() / 1e6,
                unit: meter.unit.into(),
                total_cost: *cost,
                currency_code: c.currency.code().into(),
                usd_total_cost: usd(*cost, c.currency),
                last_modified_date: rfc3339(to + 1),
                attributes: Attributes::of("MeterUsageRecord"),
            }
        })
        .collect();
    Ok(Json(Collection::page(
        items,
        Link::get(format!(
            "/customers/{}/subscriptions/{}/meterusagerecords",
            c.id, c.plan
        )),
        None,
    )))
}

fn currency_symbol(c: Currency) -> &'static str {
    match c.code() {
        "USD" | "AUD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "TWD" => "NT$",
        _ => "",
    }
}

async fn list_invoices(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
) -> Json<Collection<Invoice>> {
    let world = &emulator.world;
    let mut items = Vec::new();
    // Newest first, as Partner Center lists them.
    for month in world.invoiced_months().into_iter().rev() {
        let next = month
            .checked_add_months(chrono::Months::new(1))
            .expect("in range");
        for currency in world.currencies(partner) {
            let id = world.invoice_id(partner, month, currency);
            let feed = world.feed(partner, currency, day_number(month), day_number(next) - 1);
            items.push(Invoice {
                id: id.clone(),
                invoice_date: format!("{}-{:02}-08T06:12:40Z", next.format("%Y"), next.format("%m")),
                billing_period_start_date: format!("{}T00:00:00Z", month.format("%Y-%m-%d")),
                billing_period_end_date: format!("{}T00:00:00Z", (next - chrono::Days::new(1)).format("%Y-%m-%d")),
                total_charges: world.total(partner, &feed),
                paid_amount: Amount::ZERO,
                currency_code: currency.code().into(),
                currency_symbol: currency_symbol(currency).into(),
                invoice_details: vec![InvoiceDetail {
                    invoice_line_item_type: "usage_line_items".into(),
                    billing_provider: "one_time".into(),
                    links: Some(Links::to_self(format!(
                            "/invoices/{id}/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode={}",
                            currency.code().to_ascii_lowercase()
                        ))),
                    attributes: Attributes::of("InvoiceDetail"),
                }],
                document_type: "invoice".into(),
                invoice_type: "OneTime".into(),
                links: Some(Links::to_self(format!("/invoices/{id}"))),
                attributes: Attributes::of("Invoice"),
            });
        }
    }
    Json(Collection::page(items, Link::get("/invoices"), None))
}

/// The parameters every daily-rated-usage request must carry.
fn usage_query(query: &Query) -> Result<(Currency, usize), Fault> {
    match query.get("provider") {
        Some(p) if p.eq_ignore_ascii_case("onetime") => {}
        other => {
            return Err(Fault::invalid_input(format!(
                "provider must be onetime for daily rated usage, not '{}'.",
                other.unwrap_or_default()
            )));
        }
    }
    match query.get("invoicelineitemtype") {
        Some(t) if t.eq_ignore_ascii_case("usagelineitems") => {}
        other => {
            return Err(Fault::invalid_input(format!(
                "invoicelineitemtype must be usagelineitems, not '{}'.",
                other.unwrap_or_default()
            )));
        }
    }
    let currency = query
        .get("currencycode")
        .ok_or_else(|| Fault::invalid_input("currencycode is required."))
        .and_then(|c| Currency::parse(c).map_err(|e| Fault::invalid_input(e.to_string())))?;
    Ok((currency, query.size(LINE_ITEM_PAGE, LINE_ITEM_PAGE)?))
}

async fn unbilled_line_items(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Collection<DailyRatedUsageLineItem>>, Fault> {
    let world = &emulator.world;
    let query = Query::parse(raw);
    let (currency, size) = usage_query(&query)?;
    let period = query.get("period").unwrap_or_default().to_ascii_lowercase();
    let range = match period.as_str() {
        "current" => Some(world.current_period()),
        "previous" => world.previous_period(),
        _ => {
            return Err(Fault::invalid_input(format!(
                "period must be current or previous, not '{period}'."
            )));
        }
    };
    let base = format!(
        "/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode={}&period={period}&size={size}",
        currency.code().to_ascii_lowercase()
    );
    // Once last month is invoiced, its usage is billed and "previous" is empty.
    let feed = match range {
        Some((from, to)) => world.feed(partner, currency, from, to),
        None => Default::default(),
    };
    page(partner, &query, &headers, &base, feed.len(), size, |r| {
        feed[r]
            .iter()
            .map(|l| world.line_item(partner, l, None))
            .collect()
    })
    .map(Json)
}

async fn billed_line_items(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(invoice): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Collection<DailyRatedUsageLineItem>>, Fault> {
    let world = &emulator.world;
    let query = Query::parse(raw);
    let (currency, size) = usage_query(&query)?;
    let (month, invoice_currency) = world
        .invoice(partner, &invoice)
        .ok_or_else(|| Fault::not_found(format!("Invoice {invoice} was not found.")))?;
    if invoice_currency != currency {
        return Err(Fault::invalid_input(format!(
            "Invoice {invoice} is in {invoice_currency}, not {currency}."
        )));
    }
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .expect("in range");
    let feed = world.feed(partner, currency, day_number(month), day_number(next) - 1);
    let id = world.invoice_id(partner, month, currency);
    let base = format!(
        "/invoices/{id}/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode={}&size={size}",
        currency.code().to_ascii_lowercase()
    );
    page(partner, &query, &headers, &base, feed.len(), size, |r| {
        feed[r]
            .iter()
            .map(|l| world.line_item(partner, l, Some(&id)))
            .collect()
    })
    .map(Json)
}

/// Utilization records are paged by `seek_operation` (snake case here).
async fn utilization_records(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<axum::response::Response, Fault> {
    let world = &emulator.world;
    let (_, c) = find_customer(world, partner, &customer)?;
    if c.plan.to_string().eq_ignore_ascii_case(&subscription) {
        return Err(Fault::new(
            StatusCode::BAD_REQUEST,
            2012,
            "Utilization records are not available for Azure plan subscriptions; use daily rated usage.",
        ));
    }
    let legacy = legacy_subscription(world, c)
        .filter(|l| l.to_string().eq_ignore_ascii_case(&subscription))
        .ok_or_else(|| {
            Fault::new(
                StatusCode::NOT_FOUND,
                20003,
                format!("Subscription {subscription} was not found."),
            )
        })?;
    let query = Query::parse(raw);
    let time = |name: &str| -> Result<chrono::DateTime<chrono::Utc>, Fault> {
        let text = query
            .get(name)
            .ok_or_else(|| Fault::invalid_input(format!("{name} is required.")))?;
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| {
                Fault::invalid_input(format!(
                    "{name} must be a date and time like 2026-10-01T00:00:00Z."
                ))
            })
    };
    let (start, end) = (time("start_time")?, time("end_time")?);
    if start >= end {
        return Err(Fault::invalid_input("start_time must be before end_time."));
    }
    let size = query.size(1000, 1000)?;
    let (first, last) = (
        day_number(start.date_naive()).max(world.window.0),
        (day_number(end.date_naive()) - 1).min(world.window.1),
    );
    // Yesterday's usage is still being rated: not ready, come back later.
    if last >= world.window.1 && first > world.window.1 - 1 {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(30));
        return Ok(response);
    }
    let mut lines: Vec<(i64, usize, f64)> = Vec::new();
    for day in first..=last {
        for (si, s) in c.series.iter().enumerate() {
            let meter = &world.catalog[s.meter];
            if let Some(q) = crate::usage::quantity(
                world.seed,
                meter,
                s,
                c.key ^ 0x1e6a ^ si as u64,
                &c.trend,
                world.window.0,
                day,
            ) {
                lines.push((day, si, q));
            }
        }
    }
    let base = format!(
        "/customers/{}/subscriptions/{legacy}/utilizations/azure?start_time={}&end_time={}&granularity=daily&show_details=true&size={size}",
        c.id,
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    );
    // The same seek paging as elsewhere, under the snake-case parameter.
    let mut q = Query(query.0.clone());
    if let Some(op) = q.get("seek_operation").map(str::to_string) {
        q.0.push(("seekoperation".into(), op));
    }
    let mut page = page(partner, &q, &headers, &base, lines.len(), size, |r| {
        lines[r]
            .iter()
            .map(|(day, si, quantity)| {
                let s = &c.series[*si];
                let meter = &world.catalog[s.meter];
                let tags: serde_json::Value = serde_json::from_str(&s.tags).unwrap_or_default();
                serde_json::json!({
                    "usageStartTime": format!("{}T00:00:00+00:00", date_of(*day).format("%Y-%m-%d")),
                    "usageEndTime": format!("{}T00:00:00+00:00", date_of(day + 1).format("%Y-%m-%d")),
                    "resource": { "id": meter.id.to_string(), "name": meter.name, "category": meter.category,
                                  "subcategory": meter.subcategory, "region": s.meter_region },
                    "quantity": quantity,
                    "unit": meter.unit,
                    "infoFields": {},
                    "instanceData": {
                        "resourceUri": format!("/subscriptions/{legacy}/resourceGroups/{}/providers/{}/{}", s.resource_group, s.provider, s.resource_name),
                        "location": s.location, "partNumber": "", "orderNumber": "",
                        "tags": tags, "additionalInfo": {}
                    },
                    "attributes": { "objectType": "AzureUtilizationRecord" }
                })
            })
            .collect::<Vec<_>>()
    })?;
    if let Some(next) = page.links.next.as_mut() {
        next.uri = next
            .uri
            .replace("&seekOperation=Next", "&seek_operation=Next");
    }
    Ok(Json(page).into_response())
}

/// The Azure rate card: list prices of the meter catalog in a currency.
async fn rate_card(
    State(emulator): State<Emulator>,
    PartnerAuth(_partner): PartnerAuth,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, Fault> {
    let query = Query::parse(raw);
    let currency = match query.get("currency") {
        None => Currency::USD,
        Some(c) => Currency::parse(c).map_err(|e| Fault::invalid_input(e.to_string()))?,
    };
    let fx = crate::usage::usd_to(currency) as i128;
    let meters: Vec<serde_json::Value> = emulator
        .world
        .catalog
        .iter()
        .map(|m| {
            let price =
                Amount::from_micros((m.list_price_usd_micros as i128 * fx / 1_000_000) as i64);
            serde_json::json!({
                "id": m.id.to_string(), "name": m.name, "rates": { "0": price },
                "tags": [], "category": m.category, "subcategory": m.subcategory, "region": "",
                "unit": m.unit, "includedQuantity": 0.0, "effectiveDate": "2026-01-01T00:00:00Z"
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "locale": "en", "currency": currency.code(), "isTaxIncluded": false,
        "meters": meters,
        "offerTerms": [],
        "attributes": { "objectType": "AzureRateCard" }
    })))
}
