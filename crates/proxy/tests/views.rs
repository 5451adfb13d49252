//! Saved views and dated rates over HTTP: a Billing admin keeps views of
//! their own (views are personal, not the partner's settings) but cannot
//! change rates; what a view may not hold is refused with why; rates carry
//! the day they are of.

mod common;

use common::{serve, state, upstream};
use model::api::{ErrorBody, ReportingSettings};
use model::onboarding::Role;
use model::saved_view::SavedView;
use serde_json::json;

#[tokio::test]
async fn a_person_keeps_their_own_views_whatever_their_role() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let viewer = common::client_as(&state, &[Role::BillingAdmin]).await;
    let admin = common::client_as(&state, &[Role::GlobalAdmin]).await;
    let base = serve(state, data.path()).await;
    let query = "g1=meterCategory&f.customer=Contoso%20Ltd&chart=running&compare=1";
    let res = viewer
        .post(format!("{base}/api/views"))
        .json(&json!({ "name": " Contoso, running ", "path": "/explorer", "query": format!("?{query}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let saved: SavedView = res.json().await.unwrap();
    assert_eq!(
        (saved.name.as_str(), saved.query.as_str()),
        ("Contoso, running", query)
    );
    assert_eq!(saved.link(), format!("/explorer?{query}"));
    let mine: Vec<SavedView> = common::get_json(&viewer, &format!("{base}/api/views")).await;
    assert_eq!(mine, vec![saved.clone()]);
    // Both clients sign in as the same demo user here, so the admin sees it;
    // isolation.rs shows another partner's person does not.
    for (body, says) in [
        (
            json!({ "name": "", "path": "/explorer", "query": "" }),
            "name",
        ),
        (
            json!({ "name": "x", "path": "/settings", "query": "" }),
            "/explorer",
        ),
        (
            json!({ "name": "x", "path": "/explorer", "query": "a=<b>" }),
            "percent-encoded",
        ),
        (
            json!({ "name": "x", "path": "/explorer", "query": "", "owner": "eve" }),
            "",
        ),
    ] {
        let res = viewer
            .post(format!("{base}/api/views"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{body}");
        let e: ErrorBody = res.json().await.unwrap();
        assert!(e.error.message.contains(says), "{}", e.error.message);
    }
    let gone = viewer
        .delete(format!("{base}/api/views/{}", saved.id))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let again = admin
        .delete(format!("{base}/api/views/{}", saved.id))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let e: ErrorBody = again.json().await.unwrap();
    assert_eq!(e.error.code, "not_found");
}

#[tokio::test]
async fn rates_carry_the_day_they_are_of() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let admin = common::client_as(&state, &[Role::GlobalAdmin]).await;
    let base = serve(state, data.path()).await;
    let url = format!("{base}/api/settings/reporting");
    let put = |body: serde_json::Value| admin.put(&url).json(&body).send();
    let res = put(json!({ "currency": "USD", "rates": [{ "currency": "EUR", "rate": "1.08" }], "ratesOf": "2026-11-30" }))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let back: ReportingSettings = common::get_json(&admin, &url).await;
    assert_eq!(back.rates_of, "2026-11-30".parse().ok());
    assert_eq!(back.rates[0].rate, "1.08");
    // Left out: today.
    put(json!({ "currency": "USD", "rates": [] }))
        .await
        .unwrap();
    let back: ReportingSettings = common::get_json(&admin, &url).await;
    assert_eq!(back.rates_of, Some(chrono::Utc::now().date_naive()));
    // Rates of a day to come are no one's rates.
    let later = chrono::Utc::now().date_naive() + chrono::Days::new(5);
    let res = put(json!({ "currency": "USD", "rates": [], "ratesOf": later }))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let e: ErrorBody = res.json().await.unwrap();
    assert!(
        e.error.message.contains("today or an earlier day"),
        "{}",
        e.error.message
    );
    let back: ReportingSettings = common::get_json(&admin, &url).await;
    assert_eq!(
        back.rates_of,
        Some(chrono::Utc::now().date_naive()),
        "unchanged"
    );
}
