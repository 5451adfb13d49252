//! Each answer that the reference gives a whole example for
//! (`shared/reference/partner-center-api.md`, copied verbatim into
//! `tests/documented/`), checked against the emulator field by field: the
//! same fields and no others at every level, the same JSON types, and the
//! same value wherever the value is a constant of the service rather than
//! data (object types, link methods, header names, providers, casing of
//! enumerations), in the example's order: byte for byte but for the data. Where an example elides (`"..."`, `"<id>"`, `{ }`), only
//! what it shows is required. `contract.rs` checks the shapes of answers the
//! reference shows only in part.

mod common;

use common::client;
use common::documented::{Beside, assert_documented, assert_documented_items, compare, documented};

/// The Customer resource's fields (§3), beside those the examples show.
const CUSTOMER_FIELDS: &[&str] = &[
    "commerceId",
    "billingProfile",
    "allowDelegatedAccess",
    "userCredentials",
    "customDomains",
    "associatedPartnerId",
    "links",
    "organizationRegistrationNumber",
    // In the company profile of the by-ID example.
    "address",
    "email",
];

#[tokio::test]
async fn customers_as_documented() {
    let c = client().await;
    let (status, page) = c.get("/customers?size=2").await;
    assert_eq!(status, 200);
    // A page with more after it carries `links.next` (§0, the collection).
    let with_next = [CUSTOMER_FIELDS, &["next"]].concat().leak();
    let beside = Beside {
        extra: with_next,
        ..Beside::default()
    };
    assert_documented(&page, "customers", beside);
    assert_documented(&page["links"]["next"], "next_link", Beside::default());
    let id = page["items"][0]["id"].as_str().unwrap();
    let (status, one) = c.get(&format!("/customers/{id}")).await;
    assert_eq!(status, 200);
    let beside = Beside {
        extra: CUSTOMER_FIELDS,
        ..Beside::default()
    };
    assert_documented(&one, "customer", beside);
}

#[tokio::test]
async fn subscriptions_as_documented() {
    let c = client().await;
    let (_, list) = c.get("/customers?size=50").await;
    let mut checked = 0;
    for customer in list["items"].as_array().unwrap() {
        let id = customer["id"].as_str().unwrap();
        let (status, subs) = c.get(&format!("/customers/{id}/subscriptions")).await;
        assert_eq!(status, 200);
        // The fields §4 lists beside the example.
        let beside = Beside {
            extra: &[
                "parentSubscriptionId",
                "billingCycle",
                "hasPurchasableAddons",
                "isTrial",
                "isMicrosoftProduct",
                "publisherName",
                "actions",
                "partnerId",
                "suspensionReasons",
                "refundOptions",
                "termDuration",
                "renewalTermDuration",
            ],
            ..Beside::default()
        };
        assert_documented_items(&subs, "subscription", "subscriptions", beside);
        checked += subs["items"].as_array().unwrap().len();
    }
    assert!(checked > 12, "{checked}");
}

#[tokio::test]
async fn usage_summary_as_documented() {
    let c = client().await;
    let (_, list) = c.get("/customers?size=1").await;
    let id = list["items"][0]["id"].as_str().unwrap();
    // A budget is set: its amount is a number (null means none, §6).
    let res = c
        .http
        .patch(format!("{}/v1/customers/{id}/usagebudget", c.base))
        .bearer_auth(&c.token)
        .json(
            &serde_json::json!({ "Amount": 97, "Attributes": { "ObjectType": "SpendingBudget" } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, summary) = c.user_get(&format!("/customers/{id}/usagesummary")).await;
    assert_eq!(status, 200, "{summary}");
    assert_documented(&summary, "usage_summary", Beside::default());
}

#[tokio::test]
async fn invoices_and_line_items_as_documented() {
    let c = client().await;
    let (status, invoices) = c.get("/invoices").await;
    assert_eq!(status, 200);
    // "pdfDownloadLink only via by-ID", and amendments where there are some (§8).
    let beside = Beside {
        extra: &["amendments"],
        absent: &["pdfDownloadLink", "taxReceipts"],
        ..Beside::default()
    };
    assert_documented_items(&invoices, "invoice", "invoices", beside);
    let q = "provider=onetime&invoicelineitemtype=usagelineitems&currencycode=USD&size=50";
    let (status, page) = c
        .get(&format!("/invoices/unbilled/lineitems?{q}&period=current"))
        .await;
    assert_eq!(status, 200);
    // §8: `hasPartnerEarnedCredit` (table and SDK) and the benefit fields
    // (October 2022) beside the example. The example is a marketplace line
    // (`billingProvider` "marketplace"); the reference shows no first-party
    // line, so the provider is data here.
    let lines = Beside {
        extra: &[
            "hasPartnerEarnedCredit",
            "benefitOrderId",
            "benefitId",
            "benefitType",
        ],
        data: &["billingProvider"],
        ..Beside::default()
    };
    assert_documented(&page, "line_items", lines);
    let usd = invoices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["currencyCode"] == "USD")
        .unwrap();
    let id = usd["id"].as_str().unwrap();
    let (status, billed) = c.get(&format!("/invoices/{id}/lineitems?{q}")).await;
    assert_eq!(status, 200);
    assert_documented(&billed, "line_items", lines);
}

#[tokio::test]
async fn legacy_utilization_and_rate_card_as_documented() {
    let c = client().await;
    let (customer, subscription) = c
        .legacy_subscription()
        .await
        .expect("a legacy subscription");
    let (status, page) = c
        .get(&format!(
            "/customers/{customer}/subscriptions/{subscription}/utilizations/azure?start_time=2026-10-01T00:00:00Z&end_time=2026-10-03T00:00:00Z&granularity=daily&show_details=true&size=2"
        ))
        .await;
    assert_eq!(status, 200);
    // instanceData's `tags` and the keys of `additionalInfo` (§5's types).
    let beside = Beside {
        extra: &["tags"],
        maps: &["additionalInfo"],
        ..Beside::default()
    };
    assert_documented(&page, "utilizations", beside);
    let (status, card) = c.get("/ratecards/azure?currency=USD&region=US").await;
    assert_eq!(status, 200);
    assert_documented(&card, "rate_card", Beside::default());
}

#[tokio::test]
async fn errors_as_documented() {
    let c = client().await;
    let (status, body) = c
        .get("/customers/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 404);
    assert_documented(&body, "error", Beside::default());
}

/// The comparison itself: each kind of difference is found.
#[test]
fn a_difference_of_each_kind_is_found() {
    let example = documented("error");
    let mut out = Vec::new();
    compare(&example, &example, Beside::default(), "", "e", &mut out);
    assert!(out.is_empty(), "{out:?}");
    for (actual, expected) in [
        (
            r#"{"Code":3000,"description":"x","data":[],"source":"PartnerFD"}"#,
            "e.code is missing",
        ),
        (
            r#"{"code":"3000","description":"x","data":[],"source":"PartnerFD"}"#,
            "e.code: \"3000\" is a string",
        ),
        (
            r#"{"code":3000,"description":"x","data":[],"source":"PartnerFd"}"#,
            "e.source: \"PartnerFd\", documented as \"PartnerFD\"",
        ),
        (
            r#"{"code":3000,"description":"x","data":[1],"source":"PartnerFD"}"#,
            "e.data should be empty",
        ),
        (
            r#"{"code":3000,"description":"x","data":[],"source":"PartnerFD","extra":1}"#,
            "e.extra is not in the documented example",
        ),
    ] {
        let mut out = Vec::new();
        compare(
            &serde_json::from_str(actual).unwrap(),
            &example,
            Beside::default(),
            "",
            "e",
            &mut out,
        );
        assert!(
            out.iter().any(|o| o.starts_with(expected)),
            "{actual}: {out:?}"
        );
    }
}
