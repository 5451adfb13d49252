//! The proxy's Partner Center types read every field the emulator's answers
//! carry under the name and type the emulator gives it. The emulator writes
//! its answers from the reference's examples with its own templates, so a
//! field renamed or retyped on the proxy's side shows here as a field the
//! proxy no longer reads (or cannot read), route by route.

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
        &["items[].billingProfile."],
    );
    let id = customers["items"][0]["id"].as_str().unwrap().to_string();
    reads_every_field::<Customer>(
        "a customer",
        &get(format!("/customers/{id}")).await,
        &["billingProfile."],
    );
    let subscriptions = get(format!("/customers/{id}/subscriptions")).await;
    reads_every_field::<Collection<Subscription>>("subscriptions", &subscriptions, &[]);
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
