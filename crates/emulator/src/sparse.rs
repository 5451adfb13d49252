//! Partner Center's answers in the shapes its own documentation shows,
//! rather than the complete ones this emulator writes by default: fields
//! the examples leave out, numbers as strings (the invoice line-item
//! example mixes `"unitPrice": "16"` and `820`), dates without a zone or in
//! the recon files' `M/D/YYYY`, fields nobody documents yet, links escaped
//! as for a web page (`&amp;`), the legacy customers' usage summary
//! (`currencyLocale`, a budget `ammount`), and invoices that carry no usage.
//! Switched on with `--sparse` or `{"sparse": true}` at `/emulator/faults`.

use serde_json::{Map, Value, json};

use crate::world::World;

/// Applies the documented sparse shape of `path`'s answer to `body`.
pub fn sparsify(world: &World, partner: Option<usize>, path: &str, body: &mut Value) {
    let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    match segments.as_slice() {
        ["customers"] => each_item(body, customer),
        ["customers", _, "subscriptions"] => each_item(body, subscription),
        ["customers", _, "subscriptions", _, "azureEntitlements"] => {
            each_item(body, |i, item| {
                // The documented example has no status.
                if i.is_multiple_of(2) {
                    remove(item, &["status"]);
                }
            })
        }
        ["customers", _, "usagebudget"] => stringify(body, &["amount"]),
        ["customers", customer, "usagesummary"] => usage_summary(world, partner, customer, body),
        ["invoices"] => invoices(body),
        ["invoices", _, "lineitems"] => each_item(body, line_item),
        _ => {}
    }
    escape_links(body);
}

fn each_item(body: &mut Value, mut f: impl FnMut(usize, &mut Map<String, Value>)) {
    if let Some(items) = body["items"].as_array_mut() {
        for (i, item) in items.iter_mut().enumerate() {
            if let Some(item) = item.as_object_mut() {
                f(i, item);
            }
        }
    }
}

fn remove(item: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        item.remove(*k);
    }
}

/// Numbers written as JSON strings, the same digits.
fn stringify(body: &mut Value, keys: &[&str]) {
    if let Some(item) = body.as_object_mut() {
        stringify_in(item, keys);
    }
}

fn stringify_in(item: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = item.get_mut(*k)
            && let Value::Number(n) = v
        {
            *v = Value::String(n.to_string());
        }
    }
}

/// Only the fields of the list's documented example, plus one nobody
/// documents yet.
fn customer(i: usize, item: &mut Map<String, Value>) {
    item.retain(|k, _| {
        matches!(
            k.as_str(),
            "id" | "companyProfile" | "relationshipToPartner" | "attributes"
        )
    });
    if let Some(profile) = item
        .get_mut("companyProfile")
        .and_then(Value::as_object_mut)
    {
        profile.retain(|k, _| {
            matches!(
                k.as_str(),
                "tenantId" | "domain" | "companyName" | "attributes"
            )
        });
    }
    if i.is_multiple_of(3) {
        item.insert(
            "partnerCenterFutureField".into(),
            json!({"nested": [1, 2, 3]}),
        );
    }
}

/// Subscriptions without their offer's name (and the legacy one without
/// its offer ID either), the quantity as text.
fn subscription(_: usize, item: &mut Map<String, Value>) {
    let legacy = item["offerId"]
        .as_str()
        .is_some_and(|o| o.starts_with("MS-AZR"));
    remove(item, &["offerName", "friendlyName", "links", "orderId"]);
    if legacy {
        remove(item, &["offerId"]);
    }
    stringify_in(item, &["quantity"]);
}

/// A legacy customer's usage summary (one with an MS-AZR-0145P
/// subscription), in the documented legacy shape.
fn usage_summary(world: &World, partner: Option<usize>, customer: &str, body: &mut Value) {
    let legacy = partner
        .and_then(|p| world.partners.get(p))
        .and_then(|p| {
            p.customers
                .iter()
                .find(|c| c.id.to_string().eq_ignore_ascii_case(customer))
        })
        .is_some_and(|c| crate::partner_center::legacy_subscription(world, c).is_some());
    if !legacy {
        stringify(body, &["totalCost"]);
        return;
    }
    let b = body.clone();
    *body = json!({
        "id": b["resourceId"],
        "name": b["resourceName"],
        "billingStartDate": b["billingStartDate"],
        "billingEndDate": b["billingEndDate"],
        "totalCost": b["totalCost"],
        "currencyLocale": "en-US",
        "budget": { "ammount": b["budget"]["amount"] },
        "links": { "self": { "uri": format!("/customers/{customer}/usagesummary"), "method": "GET", "headers": [] } },
        "attributes": { "objectType": "CustomerUsageSummary" },
    });
}

/// Invoices without their billing period (its month is the one before the
/// invoice date), totals as text, and two that carry no daily usage: a
/// recurring (licence) invoice and an Office one.
fn invoices(body: &mut Value) {
    let mut extra = Vec::new();
    each_item(body, |i, item| {
        remove(item, &["billingPeriodStartDate", "billingPeriodEndDate"]);
        stringify_in(item, &["totalCharges", "paidAmount"]);
        if i == 0 {
            let id = item["id"].as_str().unwrap_or("G0").to_string();
            let mut recurring = item.clone();
            recurring.insert("id".into(), json!(format!("{id}R")));
            recurring.insert("invoiceType".into(), json!("Recurring"));
            recurring.insert(
                "invoiceDetails".into(),
                json!([{ "invoiceLineItemType": "billing_line_items", "billingProvider": "office",
                         "attributes": { "objectType": "InvoiceDetail" } }]),
            );
            extra.push(Value::Object(recurring));
        }
    });
    if let Some(items) = body["items"].as_array_mut() {
        items.extend(extra);
        let n = items.len();
        body["totalCount"] = json!(n);
    }
}

/// A line in one of the documents' forms, by turns: numbers as text, the
/// day without its zone and the charge period as `M/D/YYYY`, text fields as
/// null, a field nobody documents yet.
fn line_item(i: usize, item: &mut Map<String, Value>) {
    match i % 3 {
        0 => stringify_in(
            item,
            &[
                "unitPrice",
                "quantity",
                "billingPreTaxTotal",
                "pricingPreTaxTotal",
                "pcToBCExchangeRate",
                "effectiveUnitPrice",
                "rateOfPartnerEarnedCredit",
            ],
        ),
        1 => {
            if let Some(day) = item["usageDate"]
                .as_str()
                .map(|d| d.trim_end_matches('Z').to_string())
            {
                item.insert("usageDate".into(), json!(day));
            }
            if let Some(start) = item["chargeStartDate"].as_str().and_then(|d| {
                let d = chrono::NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok()?;
                Some(d.format("%-m/%-d/%Y 0:00").to_string())
            }) {
                item.insert("chargeStartDate".into(), json!(start));
            }
        }
        _ => {
            for k in ["tags", "additionalInfo", "serviceInfo1", "publisherId"] {
                item.insert(k.into(), Value::Null);
            }
            item.insert("invoiceLineItemTypeV2".into(), json!("usage"));
        }
    }
}

/// Links as the service sometimes writes them: `&` escaped as `&amp;`.
fn escape_links(body: &mut Value) {
    for rel in ["next", "previous", "self"] {
        if let Some(uri) = body["links"][rel]["uri"].as_str() {
            let escaped = uri.replace('&', "&amp;");
            body["links"][rel]["uri"] = json!(escaped);
        }
    }
}
