//! Contract tests: each route's JSON has the shape of the reference's
//! example (`shared/reference/partner-center-api.md`): every field the
//! example shows is there, with the same JSON type, nested objects and
//! array items included. The emulator may add fields, never drop or retype;
//! `documented.rs` holds the answers the reference shows whole to exactly
//! the example's fields and constants.

// The reference line item is one large `json!` literal.
#![recursion_limit = "256"]

use serde_json::{Value, json};

mod common;

use common::{assert_shape, client};

fn collection(item: Value) -> Value {
    json!({ "totalCount": 1, "items": [item],
            "links": { "self": { "uri": "/customers?size=40", "method": "GET", "headers": [] } },
            "attributes": { "objectType": "Collection" } })
}

fn customer_ref() -> Value {
    json!({ "id": "b44bb1fb-c595-45b0-9e09-d657365580bf",
      "companyProfile": { "tenantId": "<guid>", "domain": "domain", "companyName": "companyName",
                          "attributes": { "objectType": "CustomerCompanyProfile" } },
      "relationshipToPartner": "reseller", "attributes": { "objectType": "Customer" } })
}

fn line_item_ref() -> Value {
    json!({ "partnerId": "00083575-bbd0-54de-b2ad-0f5b0e927d71", "partnerName": "MTBC",
      "customerId": "", "customerName": "", "customerDomainName": "", "customerCountry": "", "invoiceNumber": "",
      "mpnId": "1234567", "resellerMpnId": "", "productId": "", "skuId": "", "availabilityId": "",
      "skuName": "x", "productName": "x", "publisherName": "x", "publisherId": "",
      "subscriptionId": "x", "subscriptionDescription": "Pay-As-You-Go",
      "chargeStartDate": "2019-01-01T00:00:00Z", "chargeEndDate": "2019-02-01T00:00:00Z", "usageDate": "2019-01-01T00:00:00Z",
      "meterType": "x", "meterCategory": "x", "meterId": "4core",
      "meterSubCategory": "x", "meterName": "x", "meterRegion": "",
      "unitOfMeasure": "1 Hour", "resourceLocation": "EASTUS", "consumedService": "Microsoft.Compute",
      "resourceGroup": "ECH-PAN-RG", "resourceUri": "/subscriptions/x", "tags": "",
      "additionalInfo": "{}", "serviceInfo1": "", "serviceInfo2": "", "chargeType": "", "unitPrice": 1.2799888920023, "quantity": 24.0, "unitType": "",
      "billingPreTaxTotal": 30.7197334080551, "billingCurrency": "USD",
      "pricingPreTaxTotal": 30.7197334080551, "pricingCurrency": "USD",
      "entitlementId": "x", "entitlementDescription": "Partner Subscription",
      "pcToBCExchangeRate": 1, "pcToBCExchangeRateDate": "2019-08-01T00:00:00Z", "effectiveUnitPrice": 0,
      "rateOfPartnerEarnedCredit": 0, "rateOfCredit": 0, "creditType": "Credit Not Applied",
      "invoiceLineItemType": "usage_line_items", "billingProvider": "marketplace",
      "attributes": { "objectType": "DailyRatedUsageLineItem" } })
}

#[tokio::test]
async fn customers_list_and_one_customer() {
    let c = client().await;
    let (status, list) = c.get("/customers?size=2").await;
    assert_eq!(status, 200);
    assert_shape(&list, &collection(customer_ref()), "customers");
    // More than one page: the next link carries the continuation header.
    assert_shape(
        &list["links"]["next"],
        &json!({ "uri": "/customers?size=2&seekOperation=Next", "method": "GET",
                 "headers": [ { "key": "MS-ContinuationToken", "value": "x" } ] }),
        "customers.links.next",
    );
    let id = list["items"][0]["id"].as_str().unwrap();
    let (status, one) = c.get(&format!("/customers/{id}")).await;
    assert_eq!(status, 200);
    assert_shape(
        &one,
        &json!({ "id": "x", "commerceId": "x", "companyProfile": customer_ref()["companyProfile"],
                 "billingProfile": { "culture": "en-US", "language": "en", "companyName": "x",
                                     "defaultAddress": {}, "attributes": { "objectType": "CustomerBillingProfile" } },
                 "relationshipToPartner": "reseller", "allowDelegatedAccess": true,
                 "links": { "self": { "uri": "/customers/x", "method": "GET", "headers": [] } },
                 "attributes": { "objectType": "Customer" } }),
        "customer",
    );
    let (status, filtered) = c
        .get("/customers?size=10&filter=%7B%22Field%22%3A%22CompanyName%22%2C%22Value%22%3A%22ad%22%2C%22Operator%22%3A%22starts_with%22%7D")
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = filtered["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["companyProfile"]["companyName"].as_str().unwrap())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| n.to_lowercase().starts_with("ad")),
        "{names:?}"
    );
}

#[tokio::test]
async fn subscriptions_entitlements_budget_and_summaries() {
    let c = client().await;
    let (_, list) = c.get("/customers?size=1").await;
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let (status, subs) = c.get(&format!("/customers/{id}/subscriptions")).await;
    assert_eq!(status, 200);
    assert_shape(
        &subs,
        &collection(
            json!({ "id": "A356AC8C", "entitlementId": "42226ED6", "offerId": "MS-AZR-0145P",
            "offerName": "Microsoft Azure", "friendlyName": "Microsoft Azure", "quantity": 1,
            "unitType": "Usage-based", "creationDate": "2016-05-10T07:30:05.427Z", "effectiveStartDate": "2016-05-10T00:00:00Z",
            "commitmentEndDate": "9999-12-10T00:00:00Z", "status": "active", "autoRenewEnabled": false, "billingType": "usage",
            "contractType": "subscription", "orderId": "B23FDEDD",
            "links": { "self": { "uri": "/customers/x/subscriptions/y", "method": "GET", "headers": [] } },
            "attributes": { "objectType": "Subscription" } }),
        ),
        "subscriptions",
    );
    let sub = subs["items"][0]["id"].as_str().unwrap();
    let (_, ents) = c
        .get(&format!(
            "/customers/{id}/subscriptions/{sub}/azureEntitlements"
        ))
        .await;
    assert_shape(
        &ents,
        &collection(
            json!({ "id": "x", "friendlyName": "Microsoft Azure", "status": "active", "subscriptionId": "y" }),
        ),
        "azureEntitlements",
    );
    let (_, budget) = c.get(&format!("/customers/{id}/usagebudget")).await;
    assert_shape(
        &budget,
        &json!({ "amount": 100, "attributes": { "objectType": "SpendingBudget" },
                 "links": { "self": { "uri": "/v1/customers/x/usagebudget", "method": "GET", "headers": [] } } }),
        "usagebudget",
    );
    // App+User only: an app's token is refused, and counted.
    let (status, refusal) = c.get(&format!("/customers/{id}/usagesummary")).await;
    assert_eq!(status, 401, "{refusal}");
    assert_eq!(c.emulator.stats().app_only_refusals, 1);
    let (_, summary) = c.user_get(&format!("/customers/{id}/usagesummary")).await;
    assert_shape(
        &summary,
        &json!({ "budget": { "amount": 97, "attributes": { "objectType": "SpendingBudget" } },
          "resourceId": "x", "resourceName": "x", "billingStartDate": "2019-09-01T00:00:00+00:00",
          "billingEndDate": "2019-10-01T00:00:00+00:00", "totalCost": 28.8286, "currencyCode": "GBP",
          "usdTotalCost": 35.23, "lastModifiedDate": "2019-09-18T17:09:26.16+00:00",
          "attributes": { "objectType": "CustomerUsageSummary" } }),
        "usagesummary",
    );
    let (_, meters) = c
        .get(&format!(
            "/customers/{id}/subscriptions/{sub}/meterusagerecords"
        ))
        .await;
    assert_shape(
        &meters,
        &collection(
            json!({"subscriptionId":"x","meterId":"x","meterName":"Data Transfer In","category":"Bandwidth",
            "subcategory":"Bandwidth","quantityUsed":0.01129,"unit":"1 GB","totalCost":0,"currencyCode":"GBP",
            "usdTotalCost":0,"lastModifiedDate":"2019-09-17T21:08:44.2566667+00:00",
            "attributes":{"objectType":"MeterUsageRecord"}}),
        ),
        "meterusagerecords",
    );
}

#[tokio::test]
async fn budget_patch_takes_the_documented_pascal_case_body() {
    let c = client().await;
    let (_, list) = c.get("/customers?size=1").await;
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let res = c
        .http
        .patch(format!("{}/v1/customers/{id}/usagebudget", c.base))
        .bearer_auth(&c.token)
        .json(&json!({ "Amount": 250, "Attributes": { "ObjectType": "SpendingBudget" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, budget) = c.get(&format!("/customers/{id}/usagebudget")).await;
    assert_eq!(budget["amount"], json!(250.0));
    let bad = c
        .http
        .patch(format!("{}/v1/customers/{id}/usagebudget", c.base))
        .bearer_auth(&c.token)
        .json(&json!({ "Amount": "lots" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let fault: Value = bad.json().await.unwrap();
    assert_shape(
        &fault,
        &json!({ "code": 3000, "description": "x", "data": [], "source": "PartnerFD" }),
        "error",
    );
}

#[tokio::test]
async fn daily_rated_usage_unbilled_and_billed() {
    let c = client().await;
    let q = "provider=onetime&invoicelineitemtype=usagelineitems&currencycode=USD&size=3";
    for period in ["current", "previous"] {
        let (status, page) = c
            .get(&format!("/invoices/unbilled/lineitems?{q}&period={period}"))
            .await;
        assert_eq!(status, 200, "{period}");
        assert_shape(&page, &collection(line_item_ref()), period);
        assert!(
            page["items"].as_array().unwrap().len() == 3,
            "{period} has usage"
        );
        assert!(
            page["links"]["next"]["uri"]
                .as_str()
                .unwrap()
                .contains("seekOperation=Next")
        );
    }
    let (_, invoices) = c.get("/invoices").await;
    assert_shape(
        &invoices,
        &collection(
            json!({ "id": "G000024135", "invoiceDate": "2018-02-08T22:40:37.5897767Z",
            "billingPeriodStartDate": "2018-02-01T22:40:37.5897767Z", "billingPeriodEndDate": "2018-02-28T22:40:37.5897767Z",
            "totalCharges": 2076.63, "paidAmount": 0, "currencyCode": "USD", "currencySymbol": "$",
            "invoiceDetails": [ { "invoiceLineItemType": "billing_line_items", "billingProvider": "one_time",
                "links": { "self": { "uri": "/invoices/x/lineitems", "method": "GET", "headers": [] } },
                "attributes": { "objectType": "InvoiceDetail" } } ],
            "documentType": "invoice", "invoiceType": "OneTime",
            "links": { "self": { "uri": "/invoices/x", "method": "GET", "headers": [] } },
            "attributes": { "objectType": "Invoice" } }),
        ),
        "invoices",
    );
    let usd = invoices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["currencyCode"] == "USD")
        .unwrap();
    let (status, billed) = c
        .get(&format!(
            "/invoices/{}/lineitems?{q}",
            usd["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert_shape(&billed, &collection(line_item_ref()), "billed");
    assert_eq!(billed["items"][0]["invoiceNumber"], usd["id"]);
}

#[tokio::test]
async fn errors_use_the_documented_body_and_status() {
    let c = client().await;
    let reference = json!({ "code": 3000, "description": "x", "data": [], "source": "PartnerFD" });
    let (status, body) = c
        .get("/customers/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 404);
    assert_shape(&body, &reference, "404");
    let (status, body) = c.get("/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode=USD&period=someday").await;
    assert_eq!(status, 400);
    assert_shape(&body, &reference, "400");
    let res = c
        .http
        .get(format!("{}/v1/customers", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after() {
    let c = client().await;
    c.emulator.set_faults(emulator::Faults {
        throttle_requests: Some(2),
        throttle_interval_ms: 60_000,
        ..Default::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(c.get("/customers?size=1").await);
    }
    assert_eq!(
        statuses.iter().map(|s| s.0).collect::<Vec<_>>(),
        [200, 200, 429]
    );
    assert_shape(
        &statuses[2].1,
        &json!({ "statusCode": 429, "message": "Rate limit is exceeded." }),
        "429",
    );
    let res = c
        .http
        .get(format!("{}/v1/customers?size=1", c.base))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    // Another route family has its own allowance.
    assert_eq!(c.get("/invoices").await.0, 200);
}

#[tokio::test]
async fn legacy_utilization_records_and_the_rate_card() {
    let c = client().await;
    let (customer, subscription) = c
        .legacy_subscription()
        .await
        .expect("some customer has a legacy subscription");
    let path = format!(
        "/customers/{customer}/subscriptions/{subscription}/utilizations/azure?start_time=2026-10-01T00:00:00Z&end_time=2026-10-03T00:00:00Z&granularity=daily&show_details=true&size=2"
    );
    let (status, page) = c.get(&path).await;
    assert_eq!(status, 200);
    assert_shape(
        &page,
        &collection(
            json!({ "usageStartTime": "2017-06-07T17:00:00-07:00", "usageEndTime": "2017-06-08T17:00:00-07:00",
            "resource": { "id": "x", "name": "Storage Admin", "category": "Storage", "subcategory": "Block Blob", "region": "Azure Stack" },
            "quantity": 0.217790327034891, "unit": "1 GB/Hr", "infoFields": {},
            "instanceData": { "resourceUri": "/subscriptions/x", "location": "azurestack", "partNumber": "", "orderNumber": "",
                              "additionalInfo": {} },
            "attributes": { "objectType": "AzureUtilizationRecord" } }),
        ),
        "utilizations",
    );
    assert!(
        page["links"]["next"]["uri"]
            .as_str()
            .unwrap()
            .contains("seek_operation=Next")
    );
    let (_, list) = c.get("/customers?size=1").await;
    let plan_customer = list["items"][0]["id"].as_str().unwrap();
    let (_, subs) = c
        .get(&format!("/customers/{plan_customer}/subscriptions"))
        .await;
    let plan = subs["items"][0]["id"].as_str().unwrap();
    let (status, _) = c
        .get(&format!(
            "/customers/{plan_customer}/subscriptions/{plan}/utilizations/azure?start_time=2026-10-01T00:00:00Z&end_time=2026-10-02T00:00:00Z"
        ))
        .await;
    assert_eq!(status, 400, "Azure plans have no utilization records");

    let (status, card) = c.get("/ratecards/azure?currency=EUR&region=DE").await;
    assert_eq!(status, 200);
    assert_shape(
        &card,
        &json!({ "locale": "en", "currency": "USD", "isTaxIncluded": false,
          "meters": [ { "id": "x", "name": "Compute Hours", "rates": { "0": 3.9729 }, "tags": [], "category": "Cloud Services",
              "subcategory": "x", "region": "AU East", "unit": "1 Hour", "includedQuantity": 0.0, "effectiveDate": "2016-09-01T00:00:00Z" } ],
          "offerTerms": [], "attributes": { "objectType": "AzureRateCard" } }),
        "ratecard",
    );
    assert_eq!(card["currency"], "EUR");
}

/// The sparse switch answers in the documents' own shapes: the fields of
/// their examples and no more, numbers as text where the examples have
/// text, the legacy usage summary, escaped links, invoices without usage.
#[tokio::test]
async fn sparse_answers_take_the_shapes_of_the_documented_examples() {
    let c = client().await;
    let mut faults = c.emulator.faults();
    faults.sparse = true;
    c.emulator.set_faults(faults);

    let (_, list) = c.get("/customers?size=2").await;
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let item = &list["items"][1];
    assert_eq!(
        keys(item),
        keys(&customer_ref()),
        "the list example's fields, no more"
    );
    assert_eq!(
        keys(&item["companyProfile"]),
        keys(&customer_ref()["companyProfile"])
    );
    let next = list["links"]["next"]["uri"].as_str().unwrap();
    assert!(next.contains("&amp;"), "{next}");

    let (_, invoices) = c.get("/invoices").await;
    let items = invoices["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|i| i.get("billingPeriodStartDate").is_none())
    );
    assert!(items.iter().any(|i| i["invoiceType"] == "Recurring"));
    assert!(items.iter().all(|i| i["totalCharges"].is_string()));

    let (_, lines) = c
        .get("/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode=usd&period=current&size=3")
        .await;
    let lines = lines["items"].as_array().unwrap();
    assert!(lines[0]["unitPrice"].is_string() && lines[0]["quantity"].is_string());
    assert!(!lines[1]["usageDate"].as_str().unwrap().ends_with('Z'));
    assert!(lines[1]["chargeStartDate"].as_str().unwrap().contains('/'));
    assert!(lines[2]["tags"].is_null());

    // A customer with a legacy subscription gets the legacy summary.
    let (_, all) = c.get("/customers?size=100").await;
    let mut legacy = None;
    for customer in all["items"].as_array().unwrap() {
        let id = customer["id"].as_str().unwrap();
        let (_, summary) = c.user_get(&format!("/customers/{id}/usagesummary")).await;
        if summary.get("currencyLocale").is_some() {
            legacy = Some(summary);
            break;
        }
    }
    let legacy = legacy.expect("one customer in five has a legacy subscription");
    assert!(legacy.get("resourceId").is_none() && legacy.get("id").is_some());
    assert!(
        legacy["budget"].get("ammount").is_some(),
        "the example's spelling"
    );
}

/// The emulator speaks in its own voice: none of its answers is rendered
/// with the proxy's Partner Center types, so a field the proxy names or
/// types wrongly cannot be agreed to by construction.
#[test]
fn the_emulator_does_not_use_the_proxys_partner_center_types() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for banned in ["model::pc", "model::graph", "model::api"] {
            assert!(!text.contains(banned), "{} uses {banned}", file.display());
        }
    }
}
