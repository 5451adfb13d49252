//! Two connected partners on one proxy: with a session of one, every
//! resource of the other answers 404 (or 403) and never data, on every
//! route; and no answer of one carries the other's customers.

mod common;

use common::{client_of, serve, two_partners, upstream};
use model::api::{CustomerList, ErrorBody};
use model::onboarding::Role;
use proxy::sync::SyncKind;
use serde_json::json;

#[tokio::test]
async fn a_partner_never_reaches_another_partners_data() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let (state, a, b) = two_partners(&up, data.path()).await;
    let b_tenant = b.credentials.tenant.clone();
    for c in [&a, &b] {
        let counts = state.sync.run(c, SyncKind::Full).await.unwrap();
        assert_eq!(counts.errors, 0);
    }
    let as_a = client_of(&state, &a.credentials.tenant, &[Role::GlobalAdmin]).await;
    let as_b = client_of(&state, &b_tenant, &[Role::GlobalAdmin]).await;
    let base = serve(state, data.path()).await;

    let url = format!("{base}/api/customers");
    let a_customers = common::get_json::<CustomerList>(&as_a, &url)
        .await
        .customers;
    let b_customers = common::get_json::<CustomerList>(&as_b, &url)
        .await
        .customers;
    assert!(!a_customers.is_empty() && !b_customers.is_empty());
    let b_id = b_customers[0].id.clone();
    let a_id = a_customers[0].id.clone();
    assert!(a_customers.iter().all(|c| c.id != b_id));
    // The emulator draws company names from one list: only B's own names tell.
    let b_only_names: Vec<&str> = b_customers
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| a_customers.iter().all(|a| a.name != *n))
        .collect();

    // B's state in Partner Center itself, read without the proxy, and B's
    // own app key, which A will try to delete.
    let budget_path = format!("/customers/{b_id}/usagebudget");
    let b_budget = common::partner_center_get(&up, &b.credentials, &budget_path).await;
    assert_eq!(b_budget.0, 200, "{b_budget:?}");
    let b_key = b_key_of(&up, &b.credentials.app_id).expect("B's key in the emulator");
    let b_user = format!("it@{}", b_customers[0].domain);
    // A view B saved, naming B's customer: A can neither list nor delete it.
    let b_view: model::saved_view::SavedView = as_b
        .post(format!("{base}/api/views"))
        .json(&json!({ "name": "B's view", "path": "/explorer", "query": format!("f.customer={b_id}") }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b_view = b_view.id.to_string();
    // An alert rule B keeps, about B's customer: A can neither list, try
    // nor remove it.
    let b_rule: model::alerts::rules::MadeRule = as_b
        .post(format!("{base}/api/alerts/rules"))
        .json(
            &json!({ "events": ["anomaly"], "customerId": b_id, "channel": "webhook",
                       "target": "https://hooks.example/b-only-hook" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b_rule = b_rule.rule.id.to_string();

    // Every route of the router, through A's session: a route naming a
    // resource names B's; a route that lists lists only A's.
    let mut tried = std::collections::BTreeSet::new();
    for (method, template) in common::api_routes() {
        if NOT_TRIED
            .iter()
            .any(|(m, p, _)| (*m, *p) == (method, template.as_str()))
        {
            continue;
        }
        let id = if template.starts_with("/api/views/") {
            &b_view
        } else if template.starts_with("/api/alerts/rules/") {
            &b_rule
        } else {
            &b_id
        };
        let path = template
            .replace("{id}", id)
            .replace("{user}", &b_user)
            .replace("{key}", &b_key);
        let named = path != template;
        let query = match template.as_str() {
            "/api/line-items" => "?from=2026-09-01&to=2026-11-19&limit=5000",
            "/api/usage"
            | "/api/margin"
            | "/api/exports/line-items.csv"
            | "/api/exports/focus.csv" => "?from=2026-09-01&to=2026-11-19",
            _ => "",
        };
        let body = match (method, template.as_str()) {
            ("PUT", "/api/customers/{id}/budget") => Some(json!({ "amount": "5" })),
            ("PUT", "/api/customers/{id}/markup") => {
                Some(json!({ "basis": "listPrice", "percent": "5" }))
            }
            ("POST", "/api/customers/{id}/users") => Some(json!({ "userName": b_user })),
            ("POST" | "PUT", _) => Some(json!({})),
            _ => None,
        };
        let mut req = as_a.request(method.parse().unwrap(), format!("{base}{path}{query}"));
        if let Some(b) = &body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        if named {
            let e: ErrorBody =
                serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: {text}"));
            // A key route asks first for the directory sign-in this session
            // lacks (A's session is good: `not_signed_in` would fail here).
            let directory = status == 401 && e.error.code == model::api::ErrorCode::SignInAgain;
            assert!(
                matches!(status, 400 | 403 | 404 | 409) || directory,
                "{method} {path}: {status} {text}"
            );
            assert_ne!(e.error.code, model::api::ErrorCode::Unknown);
        } else if method == "GET" && !template.starts_with("/api/my") {
            assert_eq!(status, 200, "{method} {path}: {text}");
        }
        for c in &b_customers {
            assert!(
                !text.contains(&c.id) || named,
                "{method} {path} carries B's customer {}",
                c.id
            );
        }
        for name in &b_only_names {
            assert!(
                !text.contains(name),
                "{method} {path} carries B's customer {name}"
            );
        }
        assert!(
            !text.contains(&b_tenant) && !text.contains("b-only-hook"),
            "{method} {path} carries B's tenant or alert rule"
        );
        tried.insert((method, template));
    }
    let b_views =
        common::get_json::<Vec<model::saved_view::SavedView>>(&as_b, &format!("{base}/api/views"))
            .await;
    assert_eq!(b_views.len(), 1, "B's view outlived A's tries");
    let b_alerts = common::get_json::<model::alerts::rules::AlertSettings>(
        &as_b,
        &format!("{base}/api/alerts"),
    )
    .await;
    assert_eq!(b_alerts.rules.len(), 1, "B's alert rule outlived A's tries");
    let b_log = common::get_json::<Vec<model::alerts::rules::Delivery>>(
        &as_b,
        &format!("{base}/api/alerts/deliveries"),
    )
    .await;
    assert!(
        b_log.is_empty(),
        "A's test message went nowhere of B's: {b_log:?}"
    );
    // A's own customer's page carries nothing of B's.
    let text = as_a
        .get(format!("{base}/api/customers/{a_id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(b_customers.iter().all(|c| !text.contains(&c.id)) && !text.contains(&b_tenant));
    // The customer filter of the reports, with B's customer.
    for path in [
        format!("/api/line-items?customer={b_id}"),
        format!("/api/usage?customer={b_id}"),
        format!("/api/margin?customer={b_id}"),
        format!("/api/exports/line-items.csv?customer={b_id}"),
        format!("/api/exports/focus.csv?customer={b_id}"),
    ] {
        let res = as_a.get(format!("{base}{path}")).send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert!(matches!(status, 400 | 403 | 404), "{path}: {status} {text}");
        for name in &b_only_names {
            assert!(!text.contains(name), "{path} names B's customer {name}");
        }
    }
    // Nothing of B's changed: its budget in Partner Center, its key.
    assert_eq!(
        common::partner_center_get(&up, &b.credentials, &budget_path).await,
        b_budget
    );
    assert_eq!(
        b_key_of(&up, &b.credentials.app_id).as_deref(),
        Some(b_key.as_str())
    );
    // Every route of the router was tried or is listed with a reason.
    let routes = common::api_routes();
    for (method, path, _) in NOT_TRIED {
        assert!(
            routes
                .iter()
                .any(|(m, p)| (*m, p.as_str()) == (method, path)),
            "{method} {path} is no longer a route"
        );
    }
    assert_eq!(tried.len() + NOT_TRIED.len(), routes.len(), "{tried:?}");
    assert!(tried.contains(&("DELETE", "/api/onboarding/keys/{key}".to_string())));

    // ...and the other way round, for one route that lists everything.
    let text = as_b
        .get(format!(
            "{base}/api/line-items?from=2026-09-01&to=2026-11-19&limit=5000"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(a_customers.iter().all(|c| !text.contains(&c.id)));
}

/// Routes not asked about with A's session, and why.
const NOT_TRIED: [(&str, &str, &str); 5] = [
    (
        "GET",
        "/api/auth/login",
        "starts a sign-in: a redirect to Entra, no data",
    ),
    (
        "GET",
        "/api/auth/callback",
        "finishes a sign-in started by this browser (identity.rs)",
    ),
    ("POST", "/api/auth/logout", "ends the caller's own session"),
    (
        "GET",
        "/api/onboarding/consent",
        "Entra's redirect back to the wizard: no data",
    ),
    (
        "GET",
        "/api/sync/events",
        "a stream that stays open: the caller's own sync (sync tests)",
    ),
];

/// The id of the one key of the app `app_id`, as the emulator holds it.
fn b_key_of(up: &common::Upstream, app_id: &str) -> Option<String> {
    up.emulator
        .demo()
        .partners
        .iter()
        .flat_map(|p| &p.apps)
        .find(|a| a.app_id == app_id)
        .and_then(|a| a.keys.first())
        .map(|k| k.key_id.clone())
}

#[test]
fn the_routes_are_read_from_the_router() {
    let routes = common::api_routes();
    for expected in [
        ("GET", "/api/customers/{id}"),
        ("PUT", "/api/customers/{id}/markup"),
        ("DELETE", "/api/customers/{id}/markup"),
        ("POST", "/api/sync"),
        ("GET", "/api/sync"),
        ("GET", "/api/sync/events"),
        ("DELETE", "/api/onboarding/keys/{key}"),
        ("GET", "/api/auth/login"),
    ] {
        assert!(
            routes.iter().any(|(m, p)| (*m, p.as_str()) == expected),
            "{expected:?} not in {routes:?}"
        );
    }
    assert!(!routes.iter().any(|(m, _)| *m == "PATCH"));
}
