//! `proxy migrate-store`: a SQLite store filled by a real sync (and a
//! person's budget, markup and reporting currency) is copied into
//! PostgreSQL; a proxy on the copy answers every summary exactly as the
//! proxy on the original does.

mod common;

use common::{admin_client, config, serve, upstream};
use proxy::AppState;
use proxy::sync::SyncKind;
use serde_json::Value;

#[tokio::test]
async fn a_copied_store_answers_every_summary_as_the_original() {
    let url = std::env::var("PROXY_TEST_DATABASE_URL")
        .expect("the copy goes to the run's PostgreSQL server: run `cargo xtask test`");
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    // The original is SQLite's, whichever store the run's other proxies use.
    let mut on_sqlite = config(&up, data.path());
    on_sqlite.database_url = None;
    on_sqlite.database_schema = None;
    let original = AppState::new(&on_sqlite).await.unwrap();
    let connection = original.connection.clone().unwrap();
    original
        .sync
        .run(&connection, SyncKind::Full)
        .await
        .unwrap();
    let (before, a) = (
        admin_client(&original).await,
        serve(original.clone(), data.path()).await,
    );
    let customers: Value = get(&before, &a, "/api/customers").await;
    let first = customers["customers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (path, body) in [
        (
            format!("/api/customers/{first}/budget"),
            r#"{"amount":"1250.50"}"#,
        ),
        (
            format!("/api/customers/{first}/markup"),
            r#"{"basis":"partnerCost","percent":"12.5"}"#,
        ),
        (
            "/api/settings/reporting".to_string(),
            r#"{"currency":"EUR","rates":[{"currency":"USD","rate":"0.92"}]}"#,
        ),
    ] {
        let res = before
            .put(format!("{a}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
    }

    let schema = format!("migrated_{}", uuid::Uuid::new_v4().simple());
    let to = proxy::store::Store::open_postgres(&url, Some(&schema))
        .await
        .unwrap();
    let copied = proxy::store::migrate::copy(&original.store, &to)
        .await
        .unwrap();
    assert!(copied.to_string().contains("line_items"), "{copied}");
    drop(to);
    let mut on_postgres = on_sqlite.clone();
    on_postgres.database_url = Some(url.parse().unwrap());
    on_postgres.database_schema = Some(schema);
    let migrated = AppState::new(&on_postgres).await.unwrap();
    let (after, b) = (
        admin_client(&migrated).await,
        serve(migrated.clone(), data.path()).await,
    );
    for path in [
        "/api/overview".to_string(),
        "/api/customers".to_string(),
        format!("/api/customers/{first}"),
        "/api/usage?from=2026-09-01&to=2026-11-30".to_string(),
        "/api/margin".to_string(),
        "/api/markup".to_string(),
        "/api/settings/reporting".to_string(),
        format!("/api/line-items?customer={first}&from=2026-11-01&to=2026-11-30"),
    ] {
        let (x, y): (Value, Value) = (get(&before, &a, &path).await, get(&after, &b, &path).await);
        assert_eq!(x, y, "{path}");
    }
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Value {
    let res = client.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}
