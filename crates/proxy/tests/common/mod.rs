//! Test helpers: a real emulator on loopback, and proxy state on a temp store.
#![allow(dead_code)] // each test file uses its own subset

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use model::Amount;
use proxy::pc::Credentials;
use proxy::secret::Secret;
use proxy::store::CustomerTotal;
use proxy::{AppState, Config};
use serde_json::Value;

mod process;
#[allow(unused_imports)] // each test file uses its own subset
pub use process::{Proxy, free_port, proxy_env, start_proxy, start_proxy_with};
mod store;
#[allow(unused_imports)] // each test file uses its own subset
pub use store::{execute_on_store, open_store, rows_on_store, store_bytes, test_database};

pub fn emulator_config(today: &str) -> emulator::Config {
    emulator::Config {
        seed: 7,
        customers: 6,
        months: 2,
        today: Some(today.parse::<NaiveDate>().unwrap()),
        gap_days: Vec::new(),
        v2_from: emulator::v2_cutover(),
        legacy_commerce: true,
        cache_blobs: false,
        faults: Default::default(),
    }
}

pub struct Upstream {
    pub url: String,
    pub credentials: Credentials,
    pub emulator: emulator::Emulator,
}

impl Upstream {
    /// The configured partner as the emulator's demo lists it: its people
    /// and its customers' users, with their passwords.
    pub fn demo_partner(&self) -> emulator::DemoPartner {
        self.emulator
            .demo()
            .partners
            .into_iter()
            .find(|p| p.tenant_id == self.credentials.tenant)
            .expect("the configured partner is in the demo")
    }
}

pub async fn upstream(today: &str) -> Upstream {
    upstream_with(emulator_config(today)).await
}

pub async fn upstream_with(config: emulator::Config) -> Upstream {
    proxy::init_tls();
    let (addr, emu) = emulator::spawn(config).await.unwrap();
    let demo = emu.demo();
    let p = demo.partners.iter().find(|p| !p.apps.is_empty()).unwrap();
    Upstream {
        url: format!("http://{addr}"),
        credentials: Credentials {
            tenant: p.tenant_id.clone(),
            app_id: p.apps[0].app_id.clone(),
            secret: Secret::new(p.apps[0].keys[0].secret.clone()),
        },
        emulator: emu.clone(),
    }
}

pub fn config(up: &Upstream, data: &Path) -> Config {
    let mut c = Config::with_data_dir(data.to_path_buf());
    if let Some((url, schema)) = test_database(data) {
        c.database_url = Some(url.parse().expect("a PostgreSQL address"));
        c.database_schema = Some(schema);
    }
    c.port = 0;
    c.upstream_url = up.url.clone();
    c.login_url = up.url.clone();
    c.graph_url = up.url.clone();
    c.partner_tenant = Some(up.credentials.tenant.clone());
    c.app_id = Some(up.credentials.app_id.clone());
    c.app_secret = Some(up.credentials.secret.expose().to_string());
    c.sync_minutes = 0;
    c
}

pub async fn state(up: &Upstream, data: &Path) -> AppState {
    AppState::new(&config(up, data)).await.unwrap()
}

pub async fn stored(state: &AppState) -> Vec<CustomerTotal> {
    let partner = state.connection.as_ref().unwrap().partner;
    state
        .store
        .totals_by_customer(partner, "0000-00-00", "9999-99-99")
        .await
        .unwrap()
}

/// What the emulator serves of the partner's usage over a full sync, per
/// customer and currency: rows and billing totals, from its own answer key
/// (`GET /emulator/truth`, computed by its generator; its contract tests
/// check it against the files and pages it serves), independently of the
/// proxy.
/// The configured partner in the emulator's `/emulator/truth`, with its
/// lines (by customer, day and meter) when `lines`.
pub async fn partner_truth(up: &Upstream, lines: bool) -> Value {
    let query = if lines {
        format!("?lines={}", up.credentials.tenant)
    } else {
        String::new()
    };
    let truth: Value = reqwest::get(format!("{}/emulator/truth{query}", up.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    truth["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["tenantId"].as_str() == Some(up.credentials.tenant.as_str()))
        .expect("the partner is in the emulator's truth")
        .clone()
}

pub async fn upstream_totals(up: &Upstream) -> BTreeMap<(String, String), (usize, Amount)> {
    let partner = partner_truth(up, false).await;
    partner["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                (
                    c["customerId"].as_str().unwrap().to_ascii_lowercase(),
                    c["currency"].as_str().unwrap().to_string(),
                ),
                (
                    c["rows"].as_u64().unwrap() as usize,
                    Amount::from_micros(c["billingTotalMicros"].as_i64().unwrap()),
                ),
            )
        })
        .collect()
}

pub fn as_map(rows: &[CustomerTotal]) -> BTreeMap<(String, String), (usize, Amount)> {
    rows.iter()
        .map(|r| {
            (
                (r.customer_id.clone(), r.currency.clone()),
                (r.line_items, r.billing_total),
            )
        })
        .collect()
}

/// Serves the proxy's whole app on a free loopback port; returns its base URL.
pub async fn serve(state: AppState, dist: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = proxy::app(state, dist.to_path_buf());
    tokio::spawn(proxy::serve::serve(
        listener,
        router,
        proxy::serve::Limits::default(),
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// The proxy after a full sync of the emulator's partner on `today`,
/// served, with a signed-in Global admin.
pub struct Synced {
    pub base: String,
    pub http: reqwest::Client,
    pub up: Upstream,
    pub _data: tempfile::TempDir,
}

impl Synced {
    /// A GET that must answer 200, read as `T`.
    pub async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.json().await.unwrap()
    }

    /// Every line item of a scope, through the paged route.
    pub async fn all_lines(&self, query: &str) -> Vec<model::api::LineItemRow> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page: model::api::LineItemPage = self
                .get(&format!(
                    "/api/line-items?{query}&offset={offset}&limit=700"
                ))
                .await;
            out.extend(page.items);
            match page.next_offset {
                Some(n) => offset = n,
                None => return out,
            }
        }
    }
}

pub async fn synced(today: &str) -> Synced {
    let up = upstream(today).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    state
        .sync
        .run(
            state.connection.as_ref().unwrap(),
            proxy::sync::SyncKind::Full,
        )
        .await
        .unwrap();
    let http = admin_client(&state).await;
    let base = serve(state, data.path()).await;
    Synced {
        base,
        http,
        up,
        _data: data,
    }
}

/// A unit price times a quantity as an export writes them (decimal text),
/// rounded half away from zero to the millionth: what the cost beside
/// them must be.
pub fn product_micros(unit_price: &str, quantity: &str) -> i64 {
    use rust_decimal::{Decimal, RoundingStrategy};
    let d = |t: &str| t.parse::<Decimal>().unwrap_or_else(|_| panic!("{t:?}"));
    let product = (d(unit_price) * d(quantity))
        .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
    (product * Decimal::from(1_000_000)).try_into().unwrap()
}

/// A signed-in Global admin of the configured partner: a client sending its cookie.
pub async fn admin_client(state: &AppState) -> reqwest::Client {
    client_as(state, &[model::onboarding::Role::GlobalAdmin]).await
}

pub async fn client_as(state: &AppState, roles: &[model::onboarding::Role]) -> reqwest::Client {
    let tenant = state
        .connection
        .as_ref()
        .unwrap()
        .credentials
        .tenant
        .clone();
    client_of(state, &tenant, roles).await
}

/// A signed-in user of the partner with this tenant: a client sending its cookie.
pub async fn client_of(
    state: &AppState,
    tenant: &str,
    roles: &[model::onboarding::Role],
) -> reqwest::Client {
    let token = proxy::identity::open_session(
        &state.identity,
        &state.store,
        tenant,
        "someone@partner.example",
        roles,
    )
    .await
    .unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        format!("{}={token}", proxy::api::SESSION_COOKIE)
            .parse()
            .unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Two connected partners on one proxy state: A, the configured one, and B,
/// another tenant of the emulator with an app registered for the test.
pub async fn two_partners(
    up: &Upstream,
    data: &Path,
) -> (AppState, proxy::Connection, proxy::Connection) {
    let state = state(up, data).await;
    let a = state.connection.clone().unwrap();
    let demo = up.emulator.demo();
    let b_partner = demo
        .partners
        .iter()
        .position(|p| p.tenant_id != a.credentials.tenant)
        .unwrap();
    let (app_id, secret) = up.emulator.register_app(b_partner);
    let b_tenant = demo.partners[b_partner].tenant_id.clone();
    let b = proxy::Connection {
        partner: state.store.partner(&b_tenant).await.unwrap(),
        credentials: Credentials {
            tenant: b_tenant,
            app_id,
            secret: Secret::new(secret),
        },
    };
    proxy::onboarding::mark_configured(&state.store, b.partner)
        .await
        .unwrap();
    // Stored sealed, as onboarding stores a key: every replica's connection.
    let sealed = state.sealer.seal(
        &b.credentials.secret,
        &proxy::onboarding::seal_context(&b.credentials.tenant, &b.credentials.app_id),
    );
    state
        .store
        .set_connection(b.partner, &b.credentials.app_id, &sealed)
        .await
        .unwrap();
    (state, a, b)
}

/// GETs `url` and reads its JSON body.
pub async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> T {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

pub struct Person {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: String,
}

/// Signs in through `/api/auth/login`, the emulator's page and the callback.
pub async fn sign_in(base: &str, login: &str, password: &str) -> Person {
    sign_in_at(
        base,
        "/api/auth/login?returnTo=/onboarding",
        login,
        password,
    )
    .await
    .expect("signed in")
}

/// Signs an admin in with the directory access the wizard's app steps need.
pub async fn sign_in_directory(base: &str, login: &str, password: &str) -> Person {
    sign_in_at(
        base,
        "/api/auth/login?returnTo=/onboarding&as=directory",
        login,
        password,
    )
    .await
    .expect("signed in")
}

/// Signs in from `login_path`; the page the callback sent the browser
/// back to (with its sign-in error) when no session came of it.
pub async fn sign_in_at(
    base: &str,
    login_path: &str,
    login: &str,
    password: &str,
) -> Result<Person, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(format!("{base}{login_path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The cookie that binds the sign-in to this browser, for the callback.
    let binding = set_cookie_named(&res, "csp_signin").expect("a sign-in binding cookie");
    let authorize = res.headers()["location"].to_str().unwrap().to_string();
    let url = reqwest::Url::parse(&authorize).unwrap();
    let mut form: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    form.push(("login".into(), login.into()));
    form.push(("passwd".into(), password.into()));
    let post_to = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path();
    let res = http.post(post_to).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 302, "the sign-in page accepted the user");
    let callback = res.headers()["location"].to_str().unwrap().to_string();
    let res = http
        .get(&callback)
        .header("cookie", &binding)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cleared = set_cookie_named(&res, "csp_signin");
    assert!(
        cleared.is_none(),
        "the binding cookie is cleared at the callback"
    );
    let Some(cookie) = set_cookie_named(&res, proxy::api::SESSION_COOKIE) else {
        return Err(res.headers()["location"].to_str().unwrap().to_string());
    };
    let full = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(proxy::api::SESSION_COOKIE))
        .unwrap();
    assert!(full.contains("HttpOnly") && full.contains("SameSite=Lax"));
    Ok(Person {
        http,
        base: base.to_string(),
        cookie,
    })
}

/// `name=value` of the response's cookie `name`, when it sets one with a
/// value (a cleared cookie has none).
pub fn set_cookie_named(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
        .map(str::to_string)
}

impl Person {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> T {
        let res = self.call(method, path, body).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }

    pub async fn refused(&self, path: &str, body: Value) -> (u16, model::api::ErrorBody) {
        let res = self.call(reqwest::Method::POST, path, Some(body)).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }
}

/// Every route of the proxy's API as its router declares it, `(method,
/// "/api/...")`, read from the router's own source: a route added there and
/// left out of a test's matrix fails that test.
pub fn api_routes() -> Vec<(&'static str, String)> {
    const METHODS: [(&str, &str); 5] = [
        ("get(", "GET"),
        ("post(", "POST"),
        ("put(", "PUT"),
        ("delete(", "DELETE"),
        ("patch(", "PATCH"),
    ];
    let source = include_str!("../../src/api/mod.rs");
    let mut routes = Vec::new();
    for call in source.split(".route(").skip(1) {
        let Some(rest) = call.trim_start().strip_prefix('"') else {
            continue;
        };
        let end = rest.find('"').expect("a closed path literal");
        let path = format!("/api{}", &rest[..end]);
        // The handlers: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let close = rest[end..]
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(rest.len(), |(i, _)| end + i);
        let handlers = &rest[end + 1..close];
        for (call, method) in METHODS {
            let named = handlers.match_indices(call).any(|(i, _)| {
                handlers[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
            });
            if named {
                routes.push((method, path.clone()));
            }
        }
    }
    assert!(
        routes.len() > 30,
        "the router's routes were not found: {routes:?}"
    );
    routes
}

/// GETs `path` (under `/v1`) from the emulator's Partner Center with the
/// app's own token, as an oracle that does not go through the proxy.
pub async fn partner_center_get(
    up: &Upstream,
    credentials: &Credentials,
    path: &str,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/{}/oauth2/token", up.url, credentials.tenant))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", credentials.app_id.as_str()),
            ("client_secret", credentials.secret.expose()),
            ("resource", "https://api.partnercenter.microsoft.com"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = http
        .get(format!("{}/v1{path}", up.url))
        .bearer_auth(token["access_token"].as_str().expect("an access token"))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// One line of a day: 24 hours of a $0.125 meter, $3.00, for one
/// customer (the caller varies the key, customer and day it needs).
pub fn line_on(day: NaiveDate) -> model::usage::LineItem {
    use model::{Amount, Currency};

    model::usage::LineItem {
        key: 1,
        customer_id: "00000000-0000-4000-8000-000000000000".into(),
        customer_name: String::new(),
        subscription_id: "plan".into(),
        entitlement_id: "sub".into(),
        entitlement_name: "Production".into(),
        usage_date: day,
        meter_id: "meter-0".into(),
        meter_name: "Meter 0".into(),
        meter_category: "Virtual Machines".into(),
        meter_subcategory: String::new(),
        unit: "1 Hour".into(),
        publisher: "Microsoft".into(),
        region: "westeurope".into(),
        resource_group: "rg".into(),
        resource_uri: "/subscriptions/sub/resourceGroups/rg/providers/p/r0".into(),
        tags: String::new(),
        charge_type: "new".into(),
        quantity_micros: 24_000_000,
        unit_price: model::exact::from_micros(125_000),
        effective_unit_price: model::exact::from_micros(125_000),
        pricing_total: Amount::from_micros(3_000_000),
        pricing_currency: Currency::USD,
        billing_total: Amount::from_micros(3_000_000),
        billing_currency: Currency::USD,
        fx_micros: 1_000_000,
        pec_basis_points: 0,
        credit_type: String::new(),
        invoice_number: String::new(),
        benefit_id: String::new(),
        benefit_order_id: String::new(),
        benefit_type: String::new(),
    }
}
