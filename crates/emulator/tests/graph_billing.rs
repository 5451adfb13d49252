//! Contract tests of Graph's billing export (API v2) as the emulator plays
//! it, against `shared/reference/graph-billing-v2.md`: the v2 token, the
//! four routes' documented examples (202 + `Location`, the three operation
//! states, the manifest), the blob files (gzip in several members, JSON
//! Lines with a byte-order mark, the 55 attributes), Graph's error
//! envelope, storage's SAS check, and v1 after the cutover. The last test
//! checks the emulator's answer key (`/emulator/truth`) against what its
//! files and pages hold.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Value, json};

mod common;

use common::assert_shape;
use common::documented::{Beside, assert_documented, assert_same_fields};

struct Graph {
    base: String,
    graph_token: String,
    pc_token: String,
    http: reqwest::Client,
    emulator: emulator::Emulator,
}

async fn graph(today: &str) -> Graph {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (addr, emulator) = emulator::spawn(emulator::Config {
        customers: 10,
        months: 2,
        today: Some(today.parse().unwrap()),
        ..Default::default()
    })
    .await
    .unwrap();
    let base = format!("http://{addr}");
    let demo = emulator.demo();
    let p = demo.partners.iter().find(|p| !p.apps.is_empty()).unwrap();
    let http = reqwest::Client::new();
    let token = |scope: (&'static str, &'static str), path: &'static str| {
        let http = http.clone();
        let url = format!("{base}/{}/oauth2/{path}", p.tenant_id);
        let form = [
            ("grant_type", "client_credentials".to_string()),
            ("client_id", p.apps[0].app_id.clone()),
            ("client_secret", p.apps[0].keys[0].secret.clone()),
            (scope.0, scope.1.to_string()),
        ];
        async move {
            http.post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let v2 = token(
        ("scope", "https://graph.microsoft.com/.default"),
        "v2.0/token",
    )
    .await;
    // The v2 endpoint's shape: `expires_in` a number, no v1-only fields.
    assert!(v2["expires_in"].is_number(), "{v2}");
    assert_eq!(v2["token_type"], "Bearer");
    assert!(v2.get("resource").is_none());
    let v1 = token(
        ("resource", "https://api.partnercenter.microsoft.com"),
        "token",
    )
    .await;
    Graph {
        base,
        graph_token: v2["access_token"].as_str().unwrap().into(),
        pc_token: v1["access_token"].as_str().unwrap().into(),
        http,
        emulator,
    }
}

impl Graph {
    async fn post(&self, route: &str, body: Value, token: &str) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/v1.0/reports/partners/billing/{route}",
                self.base
            ))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let res = self
            .http
            .get(url)
            .bearer_auth(&self.graph_token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.json().await.unwrap_or(Value::Null))
    }

    async fn pc(&self, path: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}/v1{path}", self.base))
            .bearer_auth(&self.pc_token)
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    /// Starts an export and polls it to its end: the final operation.
    async fn run(&self, route: &str, body: Value) -> Value {
        let res = self.post(route, body, &self.graph_token.clone()).await;
        assert_eq!(res.status(), 202);
        let location = res.headers()["location"].to_str().unwrap().to_string();
        for _ in 0..50 {
            let (status, _, op) = self.get(&location).await;
            assert_eq!(status, 200, "{op}");
            if op["status"] != "running" {
                return op;
            }
        }
        panic!("the export never ended");
    }

    /// Every row of a succeeded export's files.
    async fn rows(&self, op: &Value) -> Vec<Value> {
        let link = op["resourceLocation@odata.navigationLink"]
            .as_str()
            .unwrap();
        let (_, _, manifest) = self.get(link).await;
        let mut rows = Vec::new();
        for blob in manifest["blobs"].as_array().unwrap() {
            let url = format!(
                "{}/{}?{}",
                manifest["rootDirectory"].as_str().unwrap(),
                blob["name"].as_str().unwrap(),
                manifest["sasToken"].as_str().unwrap()
            );
            let bytes = self
                .http
                .get(url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .unwrap();
            for line in text.trim_start_matches('\u{feff}').lines() {
                rows.push(serde_json::from_str(line).unwrap());
            }
        }
        rows
    }

    fn quick(&self) {
        let mut f = self.emulator.faults();
        f.export_retry_after_secs = 0;
        self.emulator.set_faults(f);
    }
}

/// §4.2: the example line's attributes (values aside).
const EXAMPLE_ATTRIBUTES: &str = "PartnerId PartnerName CustomerId CustomerName CustomerDomainName CustomerCountry MpnId Tier2MpnId InvoiceNumber ProductId SkuId AvailabilityId SkuName ProductName PublisherName PublisherId SubscriptionDescription SubscriptionId ChargeStartDate ChargeEndDate UsageDate MeterType MeterCategory MeterId MeterSubCategory MeterName MeterRegion Unit ResourceLocation ConsumedService ResourceGroup ResourceURI ChargeType UnitPrice Quantity UnitType BillingPreTaxTotal BillingCurrency PricingPreTaxTotal PricingCurrency ServiceInfo1 ServiceInfo2 Tags AdditionalInfo EffectiveUnitPrice PCToBCExchangeRate PCToBCExchangeRateDate EntitlementId EntitlementDescription PartnerEarnedCreditPercentage CreditPercentage CreditType BenefitOrderId BenefitId BenefitType";

#[tokio::test]
async fn an_export_runs_as_documented_from_202_to_its_files() {
    let g = graph("2026-11-05").await;
    let res = g
        .post(
            "usage/unbilled/export",
            json!({"currencyCode": "USD", "attributeSet": "full", "billingPeriod": "current"}),
            &g.graph_token,
        )
        .await;
    assert_eq!(res.status(), 202);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!(
            "{}/v1.0/reports/partners/billing/operations/",
            g.base
        )),
        "an absolute Location: {location}"
    );
    // §3.3 running, then succeeded, each with the example's fields.
    let (status, headers, running) = g.get(&location).await;
    assert_eq!(status, 200);
    // The whole documented examples (tests/documented/), field by field.
    assert_documented(&running, "operation_running", Beside::default());
    assert_eq!(running["status"], "running");
    assert!(!running["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(headers.contains_key("retry-after"));
    let (_, _, done) = g.get(&location).await;
    assert_documented(&done, "operation_succeeded", Beside::default());
    let link = done["resourceLocation@odata.navigationLink"]
        .as_str()
        .unwrap();
    // §3.4 the manifest.
    let (_, _, manifest) = g.get(link).await;
    // The documented example has schema 1 and "Default"; 2024's live
    // manifests, which the emulator plays, have 2 and "default" (§3.4).
    let today = Beside {
        data: &["schemaVersion", "partitionType"],
        ..Beside::default()
    };
    assert_documented(&manifest, "manifest", today);
    assert_eq!(
        (&manifest["schemaVersion"], &manifest["partitionType"]),
        (&json!("2"), &json!("default"))
    );
    let blob = &manifest["blobs"][0];
    let url = format!(
        "{}/{}?{}",
        manifest["rootDirectory"].as_str().unwrap(),
        blob["name"].as_str().unwrap(),
        manifest["sasToken"].as_str().unwrap()
    );
    // §4: no bearer token, gzip in more than one member, JSON Lines with a BOM.
    let bytes = g
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    let mut one = String::new();
    let _ = flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut one);
    let mut all = String::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_string(&mut all)
        .unwrap();
    assert!(all.len() > one.len(), "more than one gzip member");
    assert!(all.starts_with('\u{feff}'));
    let rows: Vec<Value> = all
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for name in EXAMPLE_ATTRIBUTES.split(' ') {
        assert!(rows[0].get(name).is_some(), "{name}");
    }
    for row in &rows {
        assert_same_fields(row, "export_row");
    }
    assert!(rows.iter().all(|r| r["InvoiceNumber"] == ""), "unbilled");
    // The forms the documents leave open all occur.
    assert!(rows.iter().any(|r| r["Quantity"].is_string()));
    assert!(rows.iter().any(|r| r["Quantity"].is_number()));
    assert!(
        rows.iter()
            .any(|r| r["UsageDate"].as_str().unwrap().contains('/'))
    );
    assert!(
        rows.iter()
            .any(|r| !r["UsageDate"].as_str().unwrap().ends_with('Z'))
    );
    // A SAS whose signature does not match is storage's refusal, in XML.
    let forged = url.replace("sig=", "sig=0");
    let res = g.http.get(&forged).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("<Code>AuthenticationFailed</Code>")
    );
}

#[tokio::test]
async fn no_data_fails_with_5000_and_errors_use_graphs_envelope() {
    // After the 8th last month is invoiced: its unbilled export has no rows.
    let g = graph("2026-11-20").await;
    g.quick();
    let failed = g
        .run(
            "usage/unbilled/export",
            json!({"currencyCode": "USD", "billingPeriod": "last"}),
        )
        .await;
    assert_shape(
        &failed,
        &json!({"@odata.type": "#microsoft.graph.partners.billing.failedOperation", "id": "6f",
                "status": "failed", "createdDateTime": "2023-03-09T08:12:53",
                "lastActionDateTime": "2023-03-09T08:37:48.5046691Z",
                "error": {"message": "No data available", "code": "5000"}}),
        "failed",
    );
    assert_eq!(failed["error"]["code"], "5000");
    // v1's `previous` is not a Graph period.
    let res = g
        .post(
            "usage/unbilled/export",
            json!({"currencyCode": "USD", "billingPeriod": "previous"}),
            &g.graph_token,
        )
        .await;
    assert_eq!(res.status(), 400);
    let e: Value = res.json().await.unwrap();
    assert!(e["error"]["code"].is_string() && e["error"]["message"].is_string());
    // A Partner Center token is not a Graph token.
    let res = g
        .post(
            "usage/billed/export",
            json!({"invoiceId": "G1"}),
            &g.pc_token.clone(),
        )
        .await;
    assert_eq!(res.status(), 401);
    let e: Value = res.json().await.unwrap();
    assert!(e["error"]["code"].is_string());
}

#[tokio::test]
async fn after_the_cutover_v1_serves_legacy_commerce_only() {
    let g = graph("2026-11-20").await;
    let (_, invoices) = g.pc("/invoices").await;
    let invoices = invoices["items"].as_array().unwrap();
    let new = invoices
        .iter()
        .find(|i| i["id"].as_str().unwrap().starts_with('G'))
        .unwrap();
    let legacy = invoices
        .iter()
        .find(|i| i["id"].as_str().unwrap().starts_with('D'))
        .expect("a legacy invoice");
    let q = "provider=onetime&invoicelineitemtype=usagelineitems&size=2000&currencycode=";
    let lines = |i: &Value| {
        format!(
            "/invoices/{}/lineitems?{q}{}",
            i["id"].as_str().unwrap(),
            i["currencyCode"].as_str().unwrap()
        )
    };
    let (status, refused) = g.pc(&lines(new)).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["description"].as_str().unwrap().contains("v2"));
    let (status, page) = g.pc(&lines(legacy)).await;
    assert_eq!(status, 200);
    assert!(!page["items"].as_array().unwrap().is_empty());
}

/// Sums rows and billing totals (to the millionth) per customer and currency.
fn add(
    totals: &mut BTreeMap<(String, String), (u64, i64)>,
    customer: &str,
    currency: &str,
    total: &Value,
) {
    let text = match total {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let micros = model::Amount::parse_decimal(&text)
        .unwrap_or_else(|| panic!("{text} is a decimal"))
        .micros();
    let e = totals
        .entry((customer.to_ascii_lowercase(), currency.to_string()))
        .or_default();
    e.0 += 1;
    e.1 += micros;
}

#[tokio::test]
async fn the_answer_key_equals_what_the_files_and_pages_hold() {
    let g = graph("2026-11-20").await;
    g.quick();
    let mut served = BTreeMap::new();
    let (_, invoices) = g.pc("/invoices").await;
    let invoices = invoices["items"].as_array().unwrap().clone();
    let mut currencies: Vec<String> = invoices
        .iter()
        .map(|i| i["currencyCode"].as_str().unwrap().to_string())
        .collect();
    currencies.sort();
    currencies.dedup();
    let q = "provider=onetime&invoicelineitemtype=usagelineitems&size=2000&currencycode=";
    let mut v1 = Vec::new();
    for c in &currencies {
        for (graph_period, v1_period) in [("current", "current"), ("last", "previous")] {
            let op = g
                .run(
                    "usage/unbilled/export",
                    json!({"currencyCode": c, "billingPeriod": graph_period}),
                )
                .await;
            if op["status"] == "succeeded" {
                for r in g.rows(&op).await {
                    add(
                        &mut served,
                        r["CustomerId"].as_str().unwrap(),
                        c,
                        &r["BillingPreTaxTotal"],
                    );
                }
            }
            v1.push(format!(
                "/invoices/unbilled/lineitems?{q}{c}&period={v1_period}"
            ));
        }
    }
    for i in &invoices {
        let id = i["id"].as_str().unwrap();
        let currency = i["currencyCode"].as_str().unwrap();
        if id.starts_with('G') {
            let op = g.run("usage/billed/export", json!({"invoiceId": id})).await;
            assert_eq!(op["status"], "succeeded", "{op}");
            for r in g.rows(&op).await {
                assert_eq!(r["InvoiceNumber"], id);
                add(
                    &mut served,
                    r["CustomerId"].as_str().unwrap(),
                    currency,
                    &r["BillingPreTaxTotal"],
                );
            }
        } else {
            v1.push(format!("/invoices/{id}/lineitems?{q}{currency}"));
        }
    }
    for mut path in v1 {
        loop {
            let (status, page) = g.pc(&path).await;
            assert_eq!(status, 200, "{path}: {page}");
            for item in page["items"].as_array().unwrap() {
                add(
                    &mut served,
                    item["customerId"].as_str().unwrap(),
                    item["billingCurrency"].as_str().unwrap(),
                    &item["billingPreTaxTotal"],
                );
            }
            match page["links"]["next"]["uri"].as_str() {
                Some(next) => path = next.trim_start_matches("/v1").to_string(),
                None => break,
            }
        }
    }
    let truth: Value = reqwest::get(format!("{}/emulator/truth", g.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tenant = g
        .emulator
        .demo()
        .partners
        .iter()
        .find(|p| !p.apps.is_empty())
        .unwrap()
        .tenant_id
        .clone();
    let partner = truth["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["tenantId"] == tenant.as_str())
        .unwrap();
    let key: BTreeMap<(String, String), (u64, i64)> = partner["customers"]
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
                    c["rows"].as_u64().unwrap(),
                    c["billingTotalMicros"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert!(!served.is_empty());
    assert_eq!(served, key);
}
