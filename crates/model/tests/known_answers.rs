//! Known answers for the upstream-to-stored mapping, from the reference's
//! own v1 example (`partner-center-api.md` §8, unbilled example 1), with
//! every expected value worked out by hand from the documented text.

use model::pc::DailyRatedUsageLineItem;
use model::usage::LineItem;

/// The documented item, verbatim but for `customerId`, which the trimmed
/// example leaves empty (that case has its own test below).
const DOCUMENTED: &str = r#"{ "partnerId": "00083575-bbd0-54de-b2ad-0f5b0e927d71", "partnerName": "MTBC",
  "customerId": "", "customerName": "", "customerDomainName": "", "customerCountry": "", "invoiceNumber": "",
  "mpnId": "1234567", "resellerMpnId": "", "productId": "", "skuId": "", "availabilityId": "",
  "skuName": "VM-Series Next-Generation Firewall (Bundle 2 PAYG)", "productName": "VM-Series Next Generation Firewall",
  "publisherName": "Test Alto Networks, Inc.", "publisherId": "",
  "subscriptionId": "12345678-04d9-421c-baf8-e3b8dd62ddba", "subscriptionDescription": "Pay-As-You-Go",
  "chargeStartDate": "2019-01-01T00:00:00Z", "chargeEndDate": "2019-02-01T00:00:00Z", "usageDate": "2019-01-01T00:00:00Z",
  "meterType": "1 Compute Hour - 4core", "meterCategory": "Virtual Machine Licenses", "meterId": "4core",
  "meterSubCategory": "VM-Series Next Generation Firewall", "meterName": "VM-Series ... - 4 Core Hours", "meterRegion": "",
  "unitOfMeasure": "1 Hour", "resourceLocation": "EASTUS", "consumedService": "Microsoft.Compute",
  "resourceGroup": "ECH-PAN-RG", "resourceUri": "/subscriptions/.../virtualMachines/echpanfw", "tags": "",
  "additionalInfo": "{  \"ImageType\": null,  \"ServiceType\": \"Standard_D3_v2\" }",
  "serviceInfo1": "", "serviceInfo2": "", "chargeType": "", "unitPrice": 1.2799888920023, "quantity": 24.0, "unitType": "",
  "billingPreTaxTotal": 30.7197334080551, "billingCurrency": "USD",
  "pricingPreTaxTotal": 30.7197334080551, "pricingCurrency": "USD",
  "entitlementId": "1234547f-b249-4edd-9319-637862d8c0b4", "entitlementDescription": "Partner Subscription",
  "pcToBCExchangeRate": 1, "pcToBCExchangeRateDate": "2019-08-01T00:00:00Z", "effectiveUnitPrice": 0,
  "rateOfPartnerEarnedCredit": 0, "rateOfCredit": 0, "creditType": "Credit Not Applied",
  "invoiceLineItemType": "usage_line_items", "billingProvider": "marketplace",
  "attributes": { "objectType": "DailyRatedUsageLineItem" } }"#;

fn read(text: &str) -> Result<LineItem, model::usage::LineItemError> {
    let raw: DailyRatedUsageLineItem = serde_json::from_str(text).unwrap();
    LineItem::try_from(&raw)
}

#[test]
fn the_documented_v1_line_reads_to_known_values() {
    let text = DOCUMENTED.replace(
        r#""customerId": """#,
        r#""customerId": "0A1B2C3D-0000-4000-8000-00000000000A""#,
    );
    let l = read(&text).unwrap();
    // Ids are kept in lower case, as every other source writes them.
    assert_eq!(l.customer_id, "0a1b2c3d-0000-4000-8000-00000000000a");
    assert_eq!(l.subscription_id, "12345678-04d9-421c-baf8-e3b8dd62ddba");
    assert_eq!(l.entitlement_id, "1234547f-b249-4edd-9319-637862d8c0b4");
    assert_eq!(l.entitlement_name, "Partner Subscription");
    assert_eq!(l.usage_date.to_string(), "2019-01-01");
    assert_eq!(l.meter_id, "4core");
    assert_eq!(l.meter_category, "Virtual Machine Licenses");
    assert_eq!(l.meter_subcategory, "VM-Series Next Generation Firewall");
    assert_eq!(l.unit, "1 Hour");
    assert_eq!(l.publisher, "Test Alto Networks, Inc.");
    assert_eq!(l.region, "eastus");
    assert_eq!(l.resource_group, "ECH-PAN-RG");
    // 24.0 hours; the unit price exactly as written (1.2799888920023 a
    // hour); totals to the millionth: 30.7197334080551 is 30.719733 (…33 40
    // rounds down).
    assert_eq!(l.quantity_micros, 24_000_000);
    assert_eq!(l.unit_price.to_string(), "1.2799888920023");
    assert_eq!(l.billing_total.micros(), 30_719_733);
    assert_eq!(l.pricing_total.micros(), 30_719_733);
    assert!(l.effective_unit_price.is_zero());
    assert_eq!(
        (l.billing_currency.code(), l.pricing_currency.code()),
        ("USD", "USD")
    );
    assert_eq!(l.fx_micros, 1_000_000);
    assert_eq!(l.pec_basis_points, 0);
    assert_eq!(l.credit_type, "Credit Not Applied");
    assert_eq!(l.invoice_number, "");
}

#[test]
fn the_documented_line_as_trimmed_names_no_customer_and_is_refused_with_that_reason() {
    let e = read(DOCUMENTED).unwrap_err();
    assert_eq!(e.date, "2019-01-01T00:00:00Z");
    assert!(e.problem.contains("no customer"), "{}", e.problem);
}

#[test]
fn numbers_as_strings_and_a_day_in_month_day_year_read_to_the_same_values() {
    let text = DOCUMENTED
        .replace(r#""customerId": """#, r#""customerId": "c""#)
        .replace(
            r#""billingPreTaxTotal": 30.7197334080551"#,
            r#""billingPreTaxTotal": "30.7197334080551""#,
        )
        .replace(r#""quantity": 24.0"#, r#""quantity": "24""#)
        .replace(
            r#""usageDate": "2019-01-01T00:00:00Z""#,
            r#""usageDate": "1/1/2019""#,
        );
    let l = read(&text).unwrap();
    assert_eq!(l.billing_total.micros(), 30_719_733);
    assert_eq!(l.quantity_micros, 24_000_000);
    assert_eq!(l.usage_date.to_string(), "2019-01-01");
}
