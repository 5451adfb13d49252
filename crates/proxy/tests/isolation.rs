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

    // Every route that names a customer: B's customer through A's session.
    let mut tried = 0;
    let scoped = [
        ("GET", format!("/api/customers/{b_id}"), None),
        (
            "PUT",
            format!("/api/customers/{b_id}/budget"),
            Some(json!({ "amount": "5" })),
        ),
        (
            "PUT",
            format!("/api/customers/{b_id}/markup"),
            Some(json!({ "basis": "listPrice", "percent": "5" })),
        ),
        ("DELETE", format!("/api/customers/{b_id}/markup"), None),
        ("GET", format!("/api/line-items?customer={b_id}"), None),
        ("GET", format!("/api/usage?customer={b_id}"), None),
        ("GET", format!("/api/margin?customer={b_id}"), None),
        (
            "GET",
            format!("/api/exports/line-items.csv?customer={b_id}"),
            None,
        ),
        (
            "GET",
            format!("/api/exports/focus.csv?customer={b_id}"),
            None,
        ),
        (
            "DELETE",
            "/api/onboarding/keys/00000000-0000-0000-0000-000000000970".to_string(),
            None,
        ),
    ];
    for (method, path, body) in &scoped {
        let mut req = as_a.request(method.parse().unwrap(), format!("{base}{path}"));
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert!(
            matches!(status, 400 | 403 | 404 | 409),
            "{method} {path}: {status} {text}"
        );
        let e: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: {text}"));
        assert_ne!(e.error.code, model::api::ErrorCode::Unknown);
        for name in &b_only_names {
            assert!(!text.contains(name), "{path} names B's customer {name}");
        }
        tried += 1;
    }
    // B's budget is unchanged in Partner Center by A's attempt.
    let b_detail: serde_json::Value =
        common::get_json(&as_b, &format!("{base}/api/customers/{b_id}")).await;
    assert_ne!(b_detail["summary"]["budget"], json!(5_000_000));

    // Every route that lists: A's answers carry none of B's customers.
    for path in [
        "/api/customers",
        "/api/overview",
        "/api/line-items?from=2026-09-01&to=2026-11-19&limit=5000",
        "/api/usage?from=2026-09-01&to=2026-11-19",
        "/api/margin?from=2026-09-01&to=2026-11-19",
        "/api/exports/line-items.csv?from=2026-09-01&to=2026-11-19",
        "/api/exports/focus.csv?from=2026-09-01&to=2026-11-19",
        "/api/sync",
        "/api/session",
        "/api/onboarding",
        "/api/settings/reporting",
        &format!("/api/customers/{a_id}"),
    ] {
        let res = as_a.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.unwrap();
        for c in &b_customers {
            assert!(
                !text.contains(&c.id),
                "{path} carries B's customer {}",
                c.id
            );
        }
        for name in &b_only_names {
            assert!(!text.contains(name), "{path} carries B's customer {name}");
        }
        assert!(!text.contains(&b_tenant), "{path} carries B's tenant");
        tried += 1;
    }
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
    assert!(tried >= 22, "{tried} routes tried");
}
