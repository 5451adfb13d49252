//! The proxy on a real loopback socket against a real emulator.

use std::net::SocketAddr;
use std::path::Path;

use model::api::{CustomerList, ErrorBody, Health};
use model::pc::{Collection, Customer, Link};
use proxy::pc::{Credentials, Endpoints, PartnerCenter, PcError, RetryPolicy};
use proxy::secret::Secret;
use proxy::{AppState, Config};

struct Running {
    proxy: SocketAddr,
    http: reqwest::Client,
    emulator: SocketAddr,
    demo: emulator::DemoWorld,
    _data: tempfile::TempDir,
}

fn config(data: &Path, dist: &Path, upstream: &str) -> Config {
    let mut c = Config::with_data_dir(data.to_path_buf());
    c.dist = dist.to_path_buf();
    c.upstream_url = upstream.into();
    c.login_url = upstream.into();
    c.graph_url = upstream.into();
    c.sync_minutes = 0;
    c
}

/// Emulator plus proxy, the proxy connected with the pre-registered app.
async fn start(emulator_up: bool) -> Running {
    proxy::init_tls();
    let (emulator, emu) = emulator::spawn(emulator::Config::default()).await.unwrap();
    let demo = emu.demo();
    let data = tempfile::tempdir().unwrap();
    let dist = data.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>CSP Costs</title>",
    )
    .unwrap();
    // A closed port stands for an upstream that does not answer.
    let upstream = if emulator_up {
        format!("http://{emulator}")
    } else {
        "http://127.0.0.1:9".to_string()
    };
    let partner = demo.partners.iter().find(|p| !p.apps.is_empty()).unwrap();
    let mut config = config(&data.path().join("store"), &dist, &upstream);
    config.partner_tenant = Some(partner.tenant_id.clone());
    config.app_id = Some(partner.apps[0].app_id.clone());
    config.app_secret = Some(partner.apps[0].keys[0].secret.clone());
    let state = AppState::new(&config).await.unwrap();
    let tenant = state
        .connection
        .as_ref()
        .unwrap()
        .credentials
        .tenant
        .clone();
    let token = proxy::identity::open_session(
        &state.identity,
        &state.store,
        &tenant,
        "admin@fabrikam.example",
        &[model::onboarding::Role::GlobalAdmin],
    )
    .await
    .unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        format!("csp_session={token}").parse().unwrap(),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let router = proxy::app(state, dist);
    tokio::spawn(proxy::serve::serve(
        listener,
        router,
        proxy::serve::Limits::default(),
        std::future::pending(),
    ));
    Running {
        proxy,
        http,
        emulator,
        demo,
        _data: data,
    }
}

fn client(emulator: SocketAddr) -> PartnerCenter {
    PartnerCenter::new(
        Endpoints {
            api: format!("http://{emulator}"),
            login: format!("http://{emulator}"),
            graph: format!("http://{emulator}"),
        },
        RetryPolicy::default(),
    )
}

fn credentials(r: &Running, secret: Option<&str>) -> Credentials {
    let p = r.demo.partners.iter().find(|p| !p.apps.is_empty()).unwrap();
    Credentials {
        tenant: p.tenant_id.clone(),
        app_id: p.apps[0].app_id.clone(),
        secret: Secret::new(secret.unwrap_or(&p.apps[0].keys[0].secret)),
    }
}

#[tokio::test]
async fn health_is_ok_when_store_and_upstream_answer() {
    let r = start(true).await;
    let res = reqwest::get(format!("http://{}/api/health", r.proxy))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let health: Health = res.json().await.unwrap();
    assert_eq!(health.status, "ok");
    assert!(health.checks.iter().all(|c| c.ok));
}

#[tokio::test]
async fn health_names_the_reason_when_the_upstream_is_down() {
    let r = start(false).await;
    let health_now = async || {
        let res = reqwest::get(format!("http://{}/api/health", r.proxy))
            .await
            .unwrap();
        (res.status().as_u16(), res.json::<Health>().await.unwrap())
    };
    // Nothing asked of the upstream yet: nothing known against it.
    assert_eq!(health_now().await.0, 200);
    // A sync finds it down; health then says so, without any detail of
    // the partner's credentials.
    let res = r
        .http
        .post(format!("http://{}/api/sync", r.proxy))
        .json(&serde_json::json!({ "kind": "full" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (status, health) = loop {
        let (status, health) = health_now().await;
        if status == 503 || std::time::Instant::now() > deadline {
            break (status, health);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(status, 503);
    assert_eq!(health.status, "degraded");
    let upstream = health.checks.iter().find(|c| c.name == "upstream").unwrap();
    let reason = upstream.reason.as_deref().unwrap();
    assert!(
        !upstream.ok && reason.contains("did not answer"),
        "{upstream:?}"
    );
    assert!(!reason.contains("AADSTS") && !reason.contains(&r.demo.partners[0].tenant_id));
    // A load balancer's check keeps the replica: it still serves what is stored.
    let res = reqwest::get(format!("http://{}/api/health/ready", r.proxy))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Anyone may ask for the health: it spends none of a partner's Partner
/// Center quota, however often it is asked.
#[tokio::test]
async fn health_asks_the_upstream_nothing() {
    let r = start(true).await;
    let emulator_requests = || async {
        let stats: serde_json::Value =
            reqwest::get(format!("http://{}/emulator/stats", r.emulator))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        stats["requests"].as_u64().unwrap()
    };
    let before = emulator_requests().await;
    for _ in 0..20 {
        let res = reqwest::get(format!("http://{}/api/health", r.proxy))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(emulator_requests().await, before);
}

#[tokio::test]
async fn customers_come_from_the_emulator_through_the_client() {
    let r = start(true).await;
    let res = r
        .http
        .get(format!("http://{}/api/customers", r.proxy))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: CustomerList = res.json().await.unwrap();
    assert!(list.synced_at.is_some());

    // An independent read of the emulator, page by page over plain HTTP.
    let creds = credentials(&r, None);
    let pc = client(r.emulator);
    let direct: Collection<Customer> = pc
        .get(&creds, &Link::get("/customers?size=500"))
        .await
        .unwrap();
    let mut expected: Vec<(String, String)> = direct
        .items
        .iter()
        .map(|c| (c.id.clone(), c.company_profile.company_name.clone()))
        .collect();
    let mut got: Vec<(String, String)> = list
        .customers
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    expected.sort();
    got.sort();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
}

#[tokio::test]
async fn paging_follows_next_links_with_the_continuation_header() {
    let r = start(true).await;
    let creds = credentials(&r, None);
    let pc = client(r.emulator);
    let first: Collection<Customer> = pc
        .get(&creds, &Link::get("/customers?size=5"))
        .await
        .unwrap();
    assert_eq!(first.total_count, 5);
    let next = first.links.next.expect("more than one page");
    assert!(next.uri.contains("seekOperation=Next"));
    assert_eq!(next.headers[0].key, "MS-ContinuationToken");

    let paged: Vec<Customer> = pc
        .get_all(&creds, Link::get("/customers?size=5"))
        .await
        .unwrap()
        .items;
    let whole: Vec<Customer> = pc
        .get_all(&creds, Link::get("/customers?size=500"))
        .await
        .unwrap()
        .items;
    assert!(whole.len() > 10, "enough customers for three pages");
    assert_eq!(paged, whole);
}

#[tokio::test]
async fn a_wrong_key_is_an_auth_error_with_entras_code() {
    let r = start(true).await;
    let creds = credentials(&r, Some("not-the-key"));
    let err = client(r.emulator)
        .get::<Collection<Customer>>(&creds, &Link::get("/customers?size=1"))
        .await
        .unwrap_err();
    match err {
        PcError::Auth { code, .. } => assert_eq!(code, "AADSTS7000215"),
        other => panic!("expected an auth error, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_api_routes_are_json_404s_and_deep_links_get_the_app() {
    let r = start(true).await;
    let res = reqwest::get(format!("http://{}/api/no-such-thing", r.proxy))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: ErrorBody = res.json().await.unwrap();
    assert_eq!(body.error.code, "not_found");

    for path in ["/", "/customers", "/explorer/deep/link"] {
        let res = reqwest::get(format!("http://{}{path}", r.proxy))
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<title>CSP Costs</title>"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn health_is_ok_before_any_partner_is_connected_when_the_upstream_answers() {
    proxy::init_tls();
    let (emulator, _) = emulator::spawn(emulator::Config::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let dist = data.path().join("dist");
    let state = AppState::new(&config(data.path(), &dist, &format!("http://{emulator}")))
        .await
        .unwrap();
    assert!(state.connection.is_none());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = proxy::app(state, dist);
    tokio::spawn(proxy::serve::serve(
        listener,
        router,
        proxy::serve::Limits::default(),
        std::future::pending(),
    ));
    let res = reqwest::get(format!("http://{addr}/api/health"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
