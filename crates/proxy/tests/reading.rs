//! Both directions against the reference, through the emulator: the proxy's
//! Partner Center types read every field of the emulator's answers (which
//! the emulator writes from the reference's examples with its own
//! templates, so a field renamed or retyped on the proxy's side shows here),
//! and every request the proxy sends takes the documented form.

mod common;

use std::collections::BTreeSet;

use common::{partner_center_get, upstream};
use model::pc::{
    Collection, Customer, DailyRatedUsageLineItem, Invoice, MeterUsageRecord, SpendingBudget,
    Subscription,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Every key path of a JSON value (`items[].companyProfile.domain`).
fn key_paths(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

/// Reads `raw` with `T` and writes it back: every key of `raw` must come
/// back but those in `unread` (fields the proxy has no use for).
fn reads_every_field<T: DeserializeOwned + Serialize>(what: &str, raw: &Value, unread: &[&str]) {
    let typed: T = serde_json::from_value(raw.clone())
        .unwrap_or_else(|e| panic!("{what}: the proxy's type cannot read the answer: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    let (mut sent, mut read) = (BTreeSet::new(), BTreeSet::new());
    key_paths(raw, "", &mut sent);
    key_paths(&back, "", &mut read);
    let lost: Vec<&String> = sent
        .iter()
        .filter(|k| !read.contains(*k) && !unread.iter().any(|u| k.starts_with(u)))
        .collect();
    assert!(
        lost.is_empty(),
        "{what}: fields the proxy does not read: {lost:?}"
    );
    assert!(sent.len() > 3, "{what}: {raw}");
}

#[tokio::test]
async fn the_proxys_types_read_every_field_of_every_answer() {
    let up = upstream("2026-11-20").await;
    let up = &up;
    let get = |path: String| async move {
        let (status, body) = partner_center_get(up, &up.credentials, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    };
    let customers = get("/customers?size=3".into()).await;
    reads_every_field::<Collection<Customer>>(
        "customers",
        &customers,
        // The company's address, e-mail and profile link: not the proxy's business.
        &[
            "items[].billingProfile.",
            "items[].companyProfile.address",
            "items[].companyProfile.email",
            "items[].companyProfile.links",
        ],
    );
    let id = customers["items"][0]["id"].as_str().unwrap().to_string();
    reads_every_field::<Customer>(
        "a customer",
        &get(format!("/customers/{id}")).await,
        &[
            "billingProfile.",
            "companyProfile.address",
            "companyProfile.email",
            "companyProfile.links",
        ],
    );
    let subscriptions = get(format!("/customers/{id}/subscriptions")).await;
    reads_every_field::<Collection<Subscription>>(
        "subscriptions",
        &subscriptions,
        &["items[].links.offer"],
    );
    let plan = subscriptions["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    reads_every_field::<SpendingBudget>(
        "budget",
        &get(format!("/customers/{id}/usagebudget")).await,
        &[],
    );
    reads_every_field::<Collection<MeterUsageRecord>>(
        "meter usage records",
        &get(format!(
            "/customers/{id}/subscriptions/{plan}/meterusagerecords"
        ))
        .await,
        &[],
    );
    let invoices = get("/invoices".into()).await;
    reads_every_field::<Collection<Invoice>>("invoices", &invoices, &[]);
    // A legacy-commerce invoice's line items come from v1.
    let lines = get(
        "/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode=usd&period=current&size=5"
            .into(),
    )
    .await;
    assert!(
        lines["items"].as_array().is_some_and(|i| !i.is_empty()),
        "legacy commerce has unbilled usage this month: {lines}"
    );
    reads_every_field::<Collection<DailyRatedUsageLineItem>>("line items", &lines, &[]);
}

fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The query's parameters by lower-cased name (Partner Center's are
/// case-insensitive).
fn query_of(query: &str) -> std::collections::BTreeMap<String, String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect()
}

/// Every request a sync (with failures retried) and a budget write send
/// takes the reference's documented form: headers, queries, body casing.
#[tokio::test]
async fn the_proxys_requests_take_the_documented_forms() {
    use proxy::sync::SyncKind;
    let up = upstream("2026-11-20").await;
    up.emulator.set_faults(emulator::Faults {
        error_rate: 0.15,
        ..Default::default()
    });
    let data = tempfile::tempdir().unwrap();
    let state = common::state(&up, data.path()).await;
    let connection = state.connection.clone().unwrap();
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    up.emulator.set_faults(emulator::Faults::default());
    let client = common::admin_client(&state).await;
    let base = common::serve(state, data.path()).await;
    let list: Value = common::get_json(&client, &format!("{base}/api/customers")).await;
    let id = list["customers"][0]["id"].as_str().unwrap();
    let res = client
        .put(format!("{base}/api/customers/{id}/budget"))
        .json(&serde_json::json!({ "amount": "250" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let requests = up.emulator.requests();
    let partner_center: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .collect();
    assert!(partner_center.len() > 20, "{}", partner_center.len());
    // Documented headers on every Partner Center call; one request ID per
    // call, repeated on its retries (idempotency), a new one per call.
    let mut ids_by_call: std::collections::BTreeMap<&str, BTreeSet<&str>> = Default::default();
    for r in &partner_center {
        let h = |name: &str| r.headers.get(name).map(String::as_str).unwrap_or_default();
        assert_eq!(h("authorization"), "Bearer", "{r:?}");
        assert!(h("accept").contains("application/json"), "{r:?}");
        assert!(
            is_guid(h("ms-requestid")) && is_guid(h("ms-correlationid")),
            "{r:?}"
        );
        ids_by_call
            .entry(h("ms-correlationid"))
            .or_default()
            .insert(h("ms-requestid"));
    }
    assert!(
        ids_by_call.values().all(|ids| ids.len() == 1),
        "a retry sent another MS-RequestId"
    );
    let distinct: BTreeSet<_> = ids_by_call.values().flatten().collect();
    assert_eq!(
        distinct.len(),
        ids_by_call.len(),
        "two calls shared an MS-RequestId"
    );
    assert!(
        partner_center.len() > ids_by_call.len(),
        "the faults made some call retry"
    );
    // Daily rated usage: the four documented parameters.
    let usage: Vec<_> = partner_center
        .iter()
        .filter(|r| r.path.ends_with("/lineitems"))
        .collect();
    assert!(!usage.is_empty());
    for r in usage {
        let q = query_of(&r.query);
        assert!(
            q.get("provider")
                .is_some_and(|v| v.eq_ignore_ascii_case("onetime")),
            "{r:?}"
        );
        assert!(
            q.get("invoicelineitemtype")
                .is_some_and(|v| v.eq_ignore_ascii_case("usagelineitems")),
            "{r:?}"
        );
        assert!(q.get("currencycode").is_some_and(|v| v.len() == 3), "{r:?}");
        if r.path == "/v1/invoices/unbilled/lineitems" {
            assert!(
                matches!(
                    q.get("period").map(String::as_str),
                    Some("current" | "previous")
                ),
                "{r:?}"
            );
        }
    }
    // The budget: PATCH with the documented PascalCase body.
    let patch = partner_center
        .iter()
        .find(|r| r.method == "PATCH" && r.path.ends_with("/usagebudget"))
        .expect("the budget was written");
    let body: Value = serde_json::from_str(patch.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["Amount"], serde_json::json!(250.0), "{body}");
    // Graph's export: POSTs with the documented camelCase bodies.
    let exports: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/v1.0/reports/partners/billing/"))
        .collect();
    assert!(!exports.is_empty());
    for r in exports {
        assert_eq!(
            r.headers.get("authorization").map(String::as_str),
            Some("Bearer")
        );
        let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["attributeSet"], "full", "{body}");
        if r.path.ends_with("/billed/export") {
            assert!(body["invoiceId"].is_string(), "{body}");
        } else {
            assert!(
                body["currencyCode"].as_str().is_some_and(|c| c.len() == 3),
                "{body}"
            );
            assert!(
                matches!(body["billingPeriod"].as_str(), Some("current" | "last")),
                "{body}"
            );
        }
    }
    // No token request's secret is kept, and every one names its tenant.
    for r in requests.iter().filter(|r| r.path.contains("/oauth2/")) {
        assert!(r.body.is_none());
        assert!(
            is_guid(r.path.trim_start_matches('/').split('/').next().unwrap()),
            "{r:?}"
        );
    }
}
