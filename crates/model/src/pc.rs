//! Partner Center REST JSON, field for field as the reference documents it
//! (`shared/reference/partner-center-api.md`). The emulator writes these and
//! the proxy's client reads them, so both agree by construction; the contract
//! tests compare them with the reference's examples.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::money::Amount;

/// `{ "objectType": "...", "etag"?: "..." }` on every resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub object_type: String,
}

impl Attributes {
    pub fn of(object_type: &str) -> Self {
        Attributes {
            etag: None,
            object_type: object_type.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHeader {
    pub key: String,
    pub value: String,
}

/// A link to follow; `uri` is relative to `/v1` and `headers` must be sent
/// with the request (the continuation token travels there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub uri: String,
    pub method: String,
    #[serde(default)]
    pub headers: Vec<LinkHeader>,
}

impl Link {
    pub fn get(uri: impl Into<String>) -> Self {
        Link {
            uri: uri.into(),
            method: "GET".into(),
            headers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Link>,
}

impl Links {
    /// Only a `self` link to `uri`, as single resources carry.
    pub fn to_self(uri: impl Into<String>) -> Self {
        Links {
            self_link: Some(Link::get(uri)),
            next: None,
            previous: None,
        }
    }
}

/// The collection envelope; `totalCount` counts the items in this page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection<T> {
    pub total_count: usize,
    pub items: Vec<T>,
    #[serde(default)]
    pub links: Links,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    pub attributes: Attributes,
}

impl<T> Collection<T> {
    pub fn page(items: Vec<T>, self_link: Link, next: Option<Link>) -> Self {
        Collection {
            total_count: items.len(),
            items,
            links: Links {
                self_link: Some(self_link),
                next,
                previous: None,
            },
            continuation_token: None,
            attributes: Attributes::of("Collection"),
        }
    }
}

/// The continuation header name Partner Center uses for seek paging.
pub const CONTINUATION_HEADER: &str = "MS-ContinuationToken";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCompanyProfile {
    pub tenant_id: String,
    pub domain: String,
    pub company_name: String,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commerce_id: Option<String>,
    pub company_profile: CustomerCompanyProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_profile: Option<Value>,
    pub relationship_to_partner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_delegated_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_domains: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// The customers list `filter` parameter: URL-encoded JSON such as
/// `{"Field":"CompanyName","Value":"cont","Operator":"starts_with"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomerFilter {
    pub field: String,
    pub value: String,
    pub operator: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement_id: Option<String>,
    pub offer_id: String,
    pub offer_name: String,
    pub friendly_name: String,
    pub quantity: i64,
    pub unit_type: String,
    pub creation_date: String,
    pub effective_start_date: String,
    pub commitment_end_date: String,
    pub status: String,
    pub auto_renew_enabled: bool,
    pub billing_type: String,
    pub contract_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// An Azure subscription under an Azure plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureEntitlement {
    pub id: String,
    pub friendly_name: String,
    pub status: String,
    pub subscription_id: String,
}

/// One day of one meter on one resource: the primary cost record. Fields
/// vary between Partner Center's examples, so missing ones read as empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DailyRatedUsageLineItem {
    pub partner_id: String,
    pub partner_name: String,
    pub customer_id: String,
    pub customer_name: String,
    pub customer_domain_name: String,
    pub customer_country: String,
    pub invoice_number: String,
    pub mpn_id: String,
    pub reseller_mpn_id: String,
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub sku_name: String,
    pub product_name: String,
    pub publisher_name: String,
    pub publisher_id: String,
    pub subscription_id: String,
    pub subscription_description: String,
    pub charge_start_date: String,
    pub charge_end_date: String,
    pub usage_date: String,
    pub meter_type: String,
    pub meter_category: String,
    pub meter_id: String,
    pub meter_sub_category: String,
    pub meter_name: String,
    pub meter_region: String,
    pub unit_of_measure: String,
    pub resource_location: String,
    pub consumed_service: String,
    pub resource_group: String,
    pub resource_uri: String,
    /// JSON text, not an object, on this route.
    pub tags: String,
    /// JSON text, not an object, on this route.
    pub additional_info: String,
    pub service_info1: String,
    pub service_info2: String,
    pub charge_type: String,
    pub unit_price: Amount,
    pub quantity: f64,
    pub unit_type: String,
    pub billing_pre_tax_total: Amount,
    pub billing_currency: String,
    pub pricing_pre_tax_total: Amount,
    pub pricing_currency: String,
    pub entitlement_id: String,
    pub entitlement_description: String,
    #[serde(rename = "pcToBCExchangeRate")]
    pub pc_to_bc_exchange_rate: f64,
    #[serde(rename = "pcToBCExchangeRateDate")]
    pub pc_to_bc_exchange_rate_date: String,
    pub effective_unit_price: Amount,
    pub rate_of_partner_earned_credit: f64,
    pub rate_of_credit: f64,
    pub credit_type: String,
    pub invoice_line_item_type: String,
    pub billing_provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_partner_earned_credit: Option<bool>,
    pub attributes: Attributes,
}

/// `amount` null means no budget is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendingBudget {
    pub amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// The Entra v1 token endpoint's answer; the numbers are strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token_type: String,
    pub expires_in: String,
    pub ext_expires_in: String,
    pub expires_on: String,
    pub not_before: String,
    pub resource: String,
    pub access_token: String,
}

/// Entra's error answer on the token endpoint (`invalid_client`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    pub error: String,
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<i64>,
}

/// The resource (audience) the proxy asks tokens for.
pub const PARTNER_CENTER_RESOURCE: &str = "https://api.partnercenter.microsoft.com";
/// The historic audience; still accepted by the emulator, as the reference says.
pub const LEGACY_GRAPH_RESOURCE: &str = "https://graph.windows.net";

/// The error body on any 4xx/5xx. `code` is a number in examples and a string
/// in the table, so both are accepted and kept as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiFault {
    #[serde(deserialize_with = "string_or_number")]
    pub code: String,
    #[serde(default, alias = "message")]
    pub description: String,
    #[serde(default)]
    pub data: Vec<Value>,
    #[serde(default)]
    pub source: String,
}

/// The throttling body: `{ "statusCode": 429, "message": "..." }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleBody {
    pub status_code: u16,
    pub message: String,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "error code must be a string or number, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_customer_list() {
        let json = r#"{ "totalCount": 1,
          "items": [ { "id": "b44bb1fb-c595-45b0-9e09-d657365580bf",
              "companyProfile": { "tenantId": "b44bb1fb-c595-45b0-9e09-d657365580bf", "domain": "domain", "companyName": "companyName",
                                  "attributes": { "objectType": "CustomerCompanyProfile" } },
              "relationshipToPartner": "reseller", "attributes": { "objectType": "Customer" } } ],
          "links": { "self": { "uri": "/v1/customers?size=40", "method": "GET", "headers": [] } },
          "attributes": { "objectType": "Collection" } }"#;
        let c: Collection<Customer> = serde_json::from_str(json).unwrap();
        assert_eq!(c.items[0].company_profile.company_name, "companyName");
        assert!(c.links.next.is_none());
        let again = serde_json::to_value(&c).unwrap();
        assert_eq!(again["links"]["self"]["uri"], "/v1/customers?size=40");
        assert_eq!(again["items"][0]["relationshipToPartner"], "reseller");
    }

    #[test]
    fn fault_code_may_be_number_or_string() {
        let a: ApiFault = serde_json::from_str(
            r#"{ "code": 3000, "description": "not found", "data": [], "source": "PartnerFD" }"#,
        )
        .unwrap();
        assert_eq!(a.code, "3000");
        let b: ApiFault =
            serde_json::from_str(r#"{ "code": "800002", "message": "bad" }"#).unwrap();
        assert_eq!((b.code.as_str(), b.description.as_str()), ("800002", "bad"));
        assert!(serde_json::from_str::<ApiFault>(r#"{ "code": [1] }"#).is_err());
    }

    #[test]
    fn token_response_numbers_are_strings() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"3600","expires_on":"1546469802","not_before":"1546465902","resource":"https://api.partnercenter.microsoft.com","access_token":"x"}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, "3600");
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDetail {
    pub invoice_line_item_type: String,
    pub billing_provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// A partner invoice; billed daily rated usage is read per invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: String,
    pub invoice_date: String,
    pub billing_period_start_date: String,
    pub billing_period_end_date: String,
    pub total_charges: Amount,
    pub paid_amount: Amount,
    pub currency_code: String,
    pub currency_symbol: String,
    #[serde(default)]
    pub invoice_details: Vec<InvoiceDetail>,
    pub document_type: String,
    pub invoice_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// `GET /v1/customers/{id}/usagesummary` for an Azure plan customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUsageSummary {
    pub budget: SpendingBudget,
    pub resource_id: String,
    pub resource_name: String,
    pub billing_start_date: String,
    pub billing_end_date: String,
    pub total_cost: Amount,
    pub currency_code: String,
    pub usd_total_cost: Amount,
    pub last_modified_date: String,
    pub attributes: Attributes,
}

/// One meter's use in the current period of a subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterUsageRecord {
    pub subscription_id: String,
    pub meter_id: String,
    pub meter_name: String,
    pub category: String,
    pub subcategory: String,
    pub quantity_used: f64,
    pub unit: String,
    pub total_cost: Amount,
    pub currency_code: String,
    pub usd_total_cost: Amount,
    pub last_modified_date: String,
    pub attributes: Attributes,
}
