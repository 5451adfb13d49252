//! The proxy's web surface: security headers on everything it serves, CORS
//! only for configured origins, framing only for configured ancestors, body
//! limits, sign-in attempts limited, and hostile input on every `/api`
//! route answered with a 4xx and the JSON error body, never a 500.

mod common;

use common::{admin_client, config, serve, upstream};
use model::api::ErrorBody;
use proxy::AppState;
use proxy::sync::SyncKind;
use serde_json::{Value, json};

/// trunk's page starts the wasm with an inline module script, as here.
const INDEX: &str = r#"<!doctype html><html><head><link rel="modulepreload" href="/app.js">
<script type="module">import init, * as bindings from '/app.js'; init('/app_bg.wasm');</script></head><body></body></html>"#;

/// The customer's own entry, as `cargo xtask build` writes it into `my/`.
const OWN: &str = r#"<!doctype html><html><head><base href="../" /><link rel="modulepreload" href="./own.js">
<script type="module">import init, * as bindings from './own.js'; init('./own_bg.wasm');</script></head><body></body></html>"#;

async fn proxy_with(
    cors: &[&str],
    frame_ancestors: &[&str],
) -> (String, reqwest::Client, common::Upstream, tempfile::TempDir) {
    proxy_with_pages(cors, frame_ancestors, &[("index.html", INDEX)]).await
}

async fn proxy_with_pages(
    cors: &[&str],
    frame_ancestors: &[&str],
    pages: &[(&str, &str)],
) -> (String, reqwest::Client, common::Upstream, tempfile::TempDir) {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let mut c = config(&up, data.path());
    c.cors_origins = cors.iter().map(|s| s.to_string()).collect();
    c.frame_ancestors = frame_ancestors.iter().map(|s| s.to_string()).collect();
    // `serve` hands the data directory to the proxy as its `dist/`.
    for (path, html) in pages {
        let path = data.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, html).unwrap();
    }
    let state = AppState::new(&c).await.unwrap();
    state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let client = admin_client(&state).await;
    let base = serve(state, data.path()).await;
    (base, client, up, data)
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (base, client, _up, _data) = proxy_with(&[], &[]).await;
    let inline = proxy::web::inline_scripts(INDEX)[0];
    let hash = proxy::web::script_hash(inline);
    for path in [
        "/",
        "/customers/deep/link",
        "/api/customers",
        "/api/nothing-here",
        "/api/health",
    ] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains(&format!("'{hash}'")), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h.get("access-control-allow-origin").is_none());
        // Answers of /api, CSV files included, are kept by no cache.
        if path.starts_with("/api/") {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
    let csv = client
        .get(format!("{base}/api/exports/line-items.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn my_is_the_customers_own_entry_with_its_script_allowed() {
    let (base, client, _up, _data) =
        proxy_with_pages(&[], &[], &[("index.html", INDEX), ("my/index.html", OWN)]).await;
    let own_hash = proxy::web::script_hash(proxy::web::inline_scripts(OWN)[0]);
    let app_hash = proxy::web::script_hash(proxy::web::inline_scripts(INDEX)[0]);
    for (path, page) in [
        ("/my", "own.js"),
        ("/my/", "own.js"),
        ("/my/anything?by=region", "own.js"),
        ("/customers", "/app.js"),
        ("/mystery", "/app.js"),
    ] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        // Either page may be the one a browser holds: both scripts are allowed.
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains(&format!("'{own_hash}'")), "{csp}");
        assert!(csp.contains(&format!("'{app_hash}'")), "{csp}");
        let html = res.text().await.unwrap();
        assert!(html.contains(page), "{path}: {html}");
        // The proxy serves the app at its root.
        assert!(!html.contains(r#"<base href="../""#), "{path}: {html}");
        if page == "own.js" {
            assert!(html.contains(r#"<base href="/" />"#), "{path}: {html}");
        }
    }
}

#[tokio::test]
async fn without_the_own_entry_my_is_the_whole_apps_route() {
    let (base, client, _up, _data) = proxy_with(&[], &[]).await;
    let html = client
        .get(format!("{base}/my"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/app.js"), "{html}");
}

#[tokio::test]
async fn the_wasm_and_json_go_out_compressed_to_browsers_that_accept_it() {
    let (base, client, _up, data) = proxy_with(&[], &[]).await;
    // What `cargo xtask build` writes beside each file.
    let wasm = vec![7u8; 4096];
    std::fs::write(data.path().join("app_bg.wasm"), &wasm).unwrap();
    std::fs::write(data.path().join("app_bg.wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(data.path().join("app_bg.wasm.gz"), b"gzip bytes").unwrap();
    for (accepts, encoding, body) in [
        ("gzip, deflate, br", Some("br"), &b"brotli bytes"[..]),
        ("gzip", Some("gzip"), &b"gzip bytes"[..]),
        ("identity", None, &wasm[..]),
    ] {
        let res = client
            .get(format!("{base}/app_bg.wasm"))
            .header("accept-encoding", accepts)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accepts}"
        );
        assert_eq!(&res.bytes().await.unwrap()[..], body, "{accepts}");
    }

    // JSON is compressed on the way out and reads back the same.
    let plain = client
        .get(format!("{base}/api/overview"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: Value = plain.json().await.unwrap();
    let res = client
        .get(format!("{base}/api/overview"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let packed = res.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut text)
        .unwrap();
    assert!(packed.len() < text.len());
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), plain);
    assert!(
        plain["byCurrency"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
}

#[tokio::test]
async fn cors_and_framing_follow_the_configuration() {
    let portal = "https://portal.contoso.example";
    let (base, client, _up, _data) = proxy_with(&[portal], &[portal]).await;
    // A configured origin may call with the session cookie.
    let res = client
        .get(format!("{base}/api/customers"))
        .header("origin", portal)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], portal);
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{base}/api/customers/x/budget"),
        )
        .header("origin", portal)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(
        preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PUT")
    );
    // Any other origin is not allowed.
    let res = client
        .get(format!("{base}/api/customers"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // The portal may frame the app; X-Frame-Options steps aside for the CSP.
    let res = client.get(format!("{base}/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains(&format!("frame-ancestors {portal}")), "{csp}");
    assert!(res.headers().get("x-frame-options").is_none());
}

#[tokio::test]
async fn sign_in_attempts_are_limited() {
    let (base, _client, _up, _data) = proxy_with(&[], &[]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let res = http
            .get(format!("{base}/api/auth/login?returnTo=/"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            let e: ErrorBody = res.json().await.unwrap();
            assert_eq!(e.error.code, "too_many_sign_ins");
            break;
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        30,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429));
}

/// Sends one request; returns status and body text.
async fn send(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&Body>,
) -> (u16, String) {
    let mut req = client.request(method.parse().unwrap(), url);
    match body {
        Some(Body::Json(v)) => req = req.json(v),
        Some(Body::Raw(content_type, text)) => {
            req = req.header("content-type", *content_type).body(text.clone())
        }
        None => {}
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

enum Body {
    Json(Value),
    Raw(&'static str, String),
}

#[tokio::test]
async fn hostile_input_gets_a_4xx_with_a_json_error_on_every_route() {
    let (base, client, _up, _data) = proxy_with(&[], &[]).await;
    let long = "a".repeat(5_000);
    let bad_ids = [
        "not-a-guid",
        "%00",
        "'%20OR%201=1%20--",
        "..%2F..%2Fetc%2Fpasswd",
        "%E5%AE%A2%E6%88%B7",
        "00000000-0000-0000-0000-000000000000",
        long.as_str(),
    ];
    let bad_queries = [
        // Days at chrono's ends: the margin report once panicked on them.
        "from=-262143-01-01&to=-262143-01-05",
        "from=+262142-12-25&to=+262142-12-31",
        "from=9999-12-25&to=9999-12-31",
        "from=2026-02-30",
        "from=yesterday",
        "to=99999-01-01",
        "from=2026-11-20&to=2026-01-01",
        "from=2020-01-01&to=2026-11-01",
        "customer=%00",
        "from=%F0%9F%92%B8",
    ];
    let bodies = || {
        vec![
            Body::Raw("application/json", "{".into()),
            Body::Raw("application/json", "[]".into()),
            Body::Raw("application/json", "null".into()),
            Body::Raw("text/plain", "amount=5".into()),
            Body::Raw(
                "application/json",
                format!("{{\"x\": \"{}\"}}", "y".repeat(100_000)),
            ),
            Body::Json(json!({})),
            Body::Json(
                json!({ "amount": 5, "percent": true, "basis": 7, "currency": [], "rates": "x", "mode": null }),
            ),
            Body::Json(
                json!({ "amount": "1e400", "percent": "99999999999999999999", "basis": "listPrice" }),
            ),
            Body::Json(json!({ "amount": "-5", "thresholds": [0, 101, 4294967296u64] })),
            Body::Json(
                json!({ "amount": "客户", "percent": "١٢", "basis": "partnerCost", "currency": "€€€", "rates": [{ "currency": "EUR", "rate": "-1" }] }),
            ),
            Body::Json(
                json!({ "mode": "reuse", "appId": "not-a-guid", "years": 99, "commerceId": "x", "key": "" }),
            ),
        ]
    };
    let mut tried = 0;
    let mut check = |what: String, (status, text): (u16, String)| {
        assert!((400..500).contains(&status), "{what}: {status} {text}");
        let e: ErrorBody = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{what}: not a JSON error: {text}"));
        assert!(
            e.error.code != model::api::ErrorCode::Unknown && !e.error.message.is_empty(),
            "{what}"
        );
        tried += 1;
    };
    // Every route with an id in its path, from the router, with each bad id.
    let routes = common::api_routes();
    let with_ids: Vec<_> = routes.iter().filter(|(_, p)| p.contains('{')).collect();
    assert!(with_ids.len() >= 7, "{with_ids:?}");
    for id in bad_ids {
        for (method, template) in &with_ids {
            let path = template
                .replace("{id}", id)
                .replace("{key}", id)
                .replace("{user}", id);
            let body =
                matches!(*method, "PUT" | "POST").then(|| Body::Json(json!({ "amount": "5" })));
            let url = format!("{base}{path}");
            check(
                format!("{method} {path}"),
                send(&client, method, &url, body.as_ref()).await,
            );
        }
    }
    for q in bad_queries {
        for path in [
            "/api/line-items",
            "/api/usage",
            "/api/margin",
            "/api/exports/line-items.csv",
            "/api/exports/focus.csv",
        ] {
            let url = format!("{base}{path}?{q}");
            check(
                format!("GET {path}?{q}"),
                send(&client, "GET", &url, None).await,
            );
        }
    }
    // Paging only applies to the line items.
    for q in [
        "offset=-1",
        "limit=1e9",
        "limit=abc",
        "offset=99999999999999999999999",
        "limit=0x10",
    ] {
        let url = format!("{base}/api/line-items?{q}");
        check(
            format!("GET /api/line-items?{q}"),
            send(&client, "GET", &url, None).await,
        );
    }
    let customers: Value = common::get_json(&client, &format!("{base}/api/customers")).await;
    let id = customers["customers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Every route that reads a body, from the router, with each hostile body.
    let mut with_bodies = 0;
    for (method, template) in routes.iter().filter(|(m, _)| matches!(*m, "PUT" | "POST")) {
        if let Some((_, _, why)) = NO_BODY
            .iter()
            .find(|(m, p, _)| (*m, *p) == (*method, template.as_str()))
        {
            assert!(!why.is_empty());
            continue;
        }
        let path = template.replace("{id}", &id);
        with_bodies += 1;
        for body in bodies() {
            // An empty object asks for an incremental sync: valid there.
            if path == "/api/sync" && matches!(&body, Body::Json(v) if v == &json!({})) {
                continue;
            }
            let url = format!("{base}{path}");
            check(
                format!("{method} {path}"),
                send(&client, method, &url, Some(&body)).await,
            );
        }
    }
    assert!(with_bodies >= 10, "{with_bodies} routes with bodies");
    // Methods a route does not take, and routes that do not exist.
    for (method, path) in [
        ("DELETE", "/api/overview"),
        ("POST", "/api/customers"),
        ("PATCH", "/api/settings/reporting"),
        ("GET", "/api/does-not-exist"),
    ] {
        let url = format!("{base}{path}");
        check(
            format!("{method} {path}"),
            send(&client, method, &url, None).await,
        );
    }
    // Nothing hostile changed the data: the list reads as before.
    let after: Value = common::get_json(&client, &format!("{base}/api/customers")).await;
    assert_eq!(after["customers"], customers["customers"]);
    // 246 with today's routes; more routes, more tried.
    assert!(tried >= 246, "{tried} requests tried");
}

/// Routes that take a PUT or POST but read no body, and why.
const NO_BODY: [(&str, &str, &str); 1] = [(
    "POST",
    "/api/auth/logout",
    "ends the caller's session whatever is sent",
)];

/// Login CSRF: a callback address captured from one's own sign-in and opened
/// in another browser signs nobody in there; the binding cookie it lacks is
/// what only the starting browser has.
#[tokio::test]
async fn a_sign_in_finishes_only_in_the_browser_that_started_it() {
    let (base, _client, up, _data) = proxy_with(&[], &[]).await;
    let admin = up
        .emulator
        .demo()
        .partners
        .iter()
        .find(|p| !p.apps.is_empty())
        .unwrap()
        .users[0]
        .clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The attacker signs in as themself, up to the callback, and keeps it.
    let callback = async || {
        let res = http
            .get(format!("{base}/api/auth/login?returnTo=/"))
            .send()
            .await
            .unwrap();
        let binding = common::set_cookie_named(&res, "csp_signin").expect("a binding cookie");
        let set = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            set.contains("HttpOnly")
                && set.contains("SameSite=Lax")
                && set.contains("Path=/api/auth"),
            "{set}"
        );
        let authorize = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        form.push(("login".into(), admin.user_name.clone()));
        form.push(("passwd".into(), admin.password.clone()));
        let mut post_to = authorize.clone();
        post_to.set_query(None);
        let res = http.post(post_to).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 302);
        (
            res.headers()["location"].to_str().unwrap().to_string(),
            binding,
        )
    };
    for victim_cookie in [None, Some("csp_signin=someone-elses-value".to_string())] {
        let (url, _binding) = callback().await;
        let mut req = http.get(&url);
        if let Some(c) = &victim_cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert!(
            common::set_cookie_named(&res, proxy::api::SESSION_COOKIE).is_none(),
            "no session for {victim_cookie:?}"
        );
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .contains("signInError=")
        );
    }
    // The browser that started it finishes it.
    let (url, binding) = callback().await;
    let res = http
        .get(&url)
        .header("cookie", &binding)
        .send()
        .await
        .unwrap();
    assert!(common::set_cookie_named(&res, proxy::api::SESSION_COOKIE).is_some());
}

/// Every route that changes something, from the router: a page of another
/// site (a sibling subdomain or another port, which CORS does not stop from
/// sending a form or a text/plain fetch) is refused before the handler; the
/// proxy's own pages and allowed origins are not.
#[tokio::test]
async fn writes_from_another_origin_are_refused_on_every_route() {
    let (base, client, _up, _data) = proxy_with(&["http://portal.example"], &[]).await;
    let writes: Vec<_> = common::api_routes()
        .into_iter()
        .filter(|(m, _)| !matches!(*m, "GET" | "HEAD"))
        .collect();
    assert!(writes.len() >= 15, "{writes:?}");
    let own = base.clone();
    let send = |method: &str, template: &str, origin: &str| {
        let path = template
            .replace("{id}", "00000000-0000-0000-0000-000000000001")
            .replace("{key}", "00000000-0000-0000-0000-000000000002")
            .replace("{user}", "someone@example.com");
        client
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .header("origin", origin)
            .header("content-type", "text/plain")
            .body("{}")
            .send()
    };
    for (method, template) in &writes {
        for foreign in ["http://evil.example", "http://127.0.0.1:1", "null"] {
            let res = send(method, template, foreign).await.unwrap();
            assert_eq!(res.status(), 403, "{method} {template} from {foreign}");
            let e: ErrorBody = res.json().await.unwrap();
            assert_eq!(e.error.code, "forbidden");
        }
    }
    // Nothing changed: the session still works (the logout was refused).
    let session = client
        .get(format!("{base}/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
    // The proxy's own pages and an allowed origin get past the check (the
    // logout last, as it ends the session).
    let mut ordered = writes.clone();
    ordered.sort_by_key(|(_, p)| p.ends_with("/logout"));
    for (method, template) in &ordered {
        for allowed in [own.as_str(), "http://portal.example"] {
            let text = send(method, template, allowed)
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                !text.contains("another site"),
                "{method} {template} from {allowed}: {text}"
            );
        }
    }
}

/// One session holds a few sync event streams, not thousands, and its
/// streams end when it does.
#[tokio::test]
async fn a_session_holds_a_few_event_streams_and_they_end_with_it() {
    let (base, client, _up, _data) = proxy_with(&[], &[]).await;
    let url = format!("{base}/api/sync/events");
    let mut open = Vec::new();
    for _ in 0..proxy::web::STREAMS_PER_SESSION {
        let res = client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    let refused = client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let e: ErrorBody = refused.json().await.unwrap();
    assert_eq!(e.error.code, "too_many_streams");
    // Closing one frees its place.
    drop(open.pop());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let again = loop {
        let res = client.get(&url).send().await.unwrap();
        if res.status() == 200 || std::time::Instant::now() > deadline {
            break res;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(again.status(), 200);
    open.push(again);
    // Signed out: every stream of the session ends soon after.
    let res = client
        .post(format!("{base}/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    for res in open {
        let ended = tokio::time::timeout(proxy::api::SESSION_CHECK * 3, res.bytes()).await;
        assert!(ended.is_ok(), "a stream outlived its session");
    }
}

/// A symbolic link in dist/ that leads out of it serves nothing; the files
/// inside are served as ever.
#[cfg(unix)]
#[tokio::test]
async fn static_files_never_lead_out_of_dist() {
    let (base, client, _up, data) = proxy_with(&[], &[]).await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "not for the web").unwrap();
    std::fs::write(data.path().join("inside.txt"), "for the web").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        data.path().join("link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), data.path().join("linked-dir")).unwrap();
    let get = |path: &str| client.get(format!("{base}{path}")).send();
    let inside = get("/inside.txt").await.unwrap();
    assert_eq!(inside.status(), 200);
    assert_eq!(inside.text().await.unwrap(), "for the web");
    for path in [
        "/link.txt",
        "/linked-dir/secret.txt",
        "/linked%2Ddir/secret.txt",
    ] {
        let res = get(path).await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(!text.contains("not for the web"), "{path}: {status} {text}");
    }
}
