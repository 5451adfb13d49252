//! Partner Center REST JSON, field for field as the reference documents it
//! (`shared/reference/partner-center-api.md`), as the proxy's client reads
//! it. The emulator writes its answers with its own templates, never these
//! types; `proxy/tests/reading.rs` checks these read every field it sends.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::money::Amount;

/// `{ "objectType": "...", "etag"?: "..." }` on every resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attributes {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_string"
    )]
    pub etag: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::string")]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHeader {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub key: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub value: String,
}

/// A link to follow; `uri` is relative to `/v1` and `headers` must be sent
/// with the request (the continuation token travels there).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub uri: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub method: String,
    #[serde(default, deserialize_with = "crate::lenient::list")]
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
/// Read as leniently as its items: only `items` must be a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection<T> {
    #[serde(default, deserialize_with = "crate::lenient::integer")]
    pub total_count: i64,
    #[serde(bound(deserialize = "T: Deserialize<'de>"))]
    pub items: Vec<T>,
    #[serde(default)]
    pub links: Links,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_string"
    )]
    pub continuation_token: Option<String>,
    #[serde(default)]
    pub attributes: Attributes,
}

impl<T> Collection<T> {
    pub fn page(items: Vec<T>, self_link: Link, next: Option<Link>) -> Self {
        Collection {
            total_count: items.len() as i64,
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerCompanyProfile {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub tenant_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub domain: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub company_name: String,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Customer {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_string"
    )]
    pub commerce_id: Option<String>,
    pub company_profile: CustomerCompanyProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_profile: Option<Value>,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub relationship_to_partner: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_bool"
    )]
    pub allow_delegated_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_domains: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// The customers list `filter` parameter: URL-encoded JSON such as
/// `{"Field":"CompanyName","Value":"cont","Operator":"starts_with"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomerFilter {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub field: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub value: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub operator: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subscription {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_string"
    )]
    pub entitlement_id: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub offer_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub offer_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub friendly_name: String,
    #[serde(default, deserialize_with = "crate::lenient::integer")]
    pub quantity: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub unit_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub creation_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub effective_start_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub commitment_end_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub status: String,
    #[serde(default, deserialize_with = "crate::lenient::boolean")]
    pub auto_renew_enabled: bool,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub contract_type: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_string"
    )]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// An Azure subscription under an Azure plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AzureEntitlement {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub friendly_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub status: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub subscription_id: String,
}

/// One day of one meter on one resource: the primary cost record. Fields
/// vary between Partner Center's examples, so missing ones read as empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DailyRatedUsageLineItem {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub partner_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub partner_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub customer_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub customer_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub customer_domain_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub customer_country: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub invoice_number: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub mpn_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub reseller_mpn_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub product_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub sku_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub availability_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub sku_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub product_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub publisher_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub publisher_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub subscription_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub subscription_description: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub charge_start_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub charge_end_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub usage_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_category: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_sub_category: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_region: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub unit_of_measure: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub resource_location: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub consumed_service: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub resource_group: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub resource_uri: String,
    /// JSON text, not an object, on this route.
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub tags: String,
    /// JSON text, not an object, on this route.
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub additional_info: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub service_info1: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub service_info2: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub charge_type: String,
    /// Exact, as written (see [`crate::exact`]).
    #[serde(default, deserialize_with = "crate::lenient::exact")]
    pub unit_price: crate::exact::Decimal,
    #[serde(default, deserialize_with = "crate::lenient::number")]
    pub quantity: f64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub unit_type: String,
    #[serde(default, deserialize_with = "crate::lenient::amount")]
    pub billing_pre_tax_total: Amount,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_currency: String,
    #[serde(default, deserialize_with = "crate::lenient::amount")]
    pub pricing_pre_tax_total: Amount,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub pricing_currency: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub entitlement_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub entitlement_description: String,
    #[serde(
        rename = "pcToBCExchangeRate",
        deserialize_with = "crate::lenient::number"
    )]
    pub pc_to_bc_exchange_rate: f64,
    #[serde(
        rename = "pcToBCExchangeRateDate",
        deserialize_with = "crate::lenient::string"
    )]
    pub pc_to_bc_exchange_rate_date: String,
    /// Exact, as written (see [`crate::exact`]).
    #[serde(default, deserialize_with = "crate::lenient::exact")]
    pub effective_unit_price: crate::exact::Decimal,
    #[serde(default, deserialize_with = "crate::lenient::number")]
    pub rate_of_partner_earned_credit: f64,
    #[serde(default, deserialize_with = "crate::lenient::number")]
    pub rate_of_credit: f64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub credit_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub invoice_line_item_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_provider: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_bool"
    )]
    pub has_partner_earned_credit: Option<bool>,
    /// Savings plan and reservation benefits (in v1 since October 2022).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string"
    )]
    pub benefit_order_id: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string"
    )]
    pub benefit_id: String,
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "crate::lenient::string"
    )]
    pub benefit_type: String,
    pub attributes: Attributes,
}

/// `amount` null means no budget is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SpendingBudget {
    /// `ammount` in the legacy usage summary's documented example.
    #[serde(
        default,
        alias = "ammount",
        alias = "Amount",
        deserialize_with = "crate::lenient::opt_amount"
    )]
    pub amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// The Entra v1 token endpoint's answer; the numbers are strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub token_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub expires_in: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub ext_expires_in: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub expires_on: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub not_before: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub resource: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub access_token: String,
}

/// Entra's error answer on the token endpoint (`invalid_client`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub error: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub error_description: String,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub error_codes: Vec<i64>,
}

/// The resource (audience) the proxy asks tokens for.
pub const PARTNER_CENTER_RESOURCE: &str = "https://api.partnercenter.microsoft.com";
/// The historic audience; still accepted by the emulator, as the reference says.
pub const LEGACY_GRAPH_RESOURCE: &str = "https://graph.windows.net";

/// The error body on any 4xx/5xx. `code` is a number in examples and a string
/// in the table, so both are accepted and kept as text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiFault {
    #[serde(deserialize_with = "string_or_number")]
    pub code: String,
    #[serde(
        default,
        alias = "message",
        deserialize_with = "crate::lenient::string"
    )]
    pub description: String,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub data: Vec<Value>,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub source: String,
}

/// The throttling body: `{ "statusCode": 429, "message": "..." }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThrottleBody {
    pub status_code: u16,
    #[serde(default, deserialize_with = "crate::lenient::string")]
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

    #[test]
    fn one_token_type_reads_the_v2_endpoints_numbers_too() {
        // Entra's v2 endpoint (Graph's app-only token): numbers, no v1 fields.
        let t: TokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#,
        )
        .unwrap();
        assert_eq!(
            (t.expires_in.as_str(), t.access_token.as_str()),
            ("3599", "eyJ0")
        );
        assert!(t.resource.is_empty() && t.expires_on.is_empty());
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InvoiceDetail {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub invoice_line_item_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// A partner invoice; billed daily rated usage is read per invoice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Invoice {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub invoice_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_period_start_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_period_end_date: String,
    #[serde(default, deserialize_with = "crate::lenient::amount")]
    pub total_charges: Amount,
    #[serde(default, deserialize_with = "crate::lenient::amount")]
    pub paid_amount: Amount,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub currency_code: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub currency_symbol: String,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub invoice_details: Vec<InvoiceDetail>,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub document_type: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub invoice_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    pub attributes: Attributes,
}

/// `GET /v1/customers/{id}/usagesummary`, in both of its documented
/// shapes: an Azure plan customer's (`resourceId`, `currencyCode`,
/// `usdTotalCost`) and a legacy one's (`id`, `name`, `currencyLocale`, and
/// a budget whose amount is spelt `ammount`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerUsageSummary {
    pub budget: SpendingBudget,
    #[serde(default, alias = "id", deserialize_with = "crate::lenient::string")]
    pub resource_id: String,
    #[serde(default, alias = "name", deserialize_with = "crate::lenient::string")]
    pub resource_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_start_date: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub billing_end_date: String,
    #[serde(default, deserialize_with = "crate::lenient::opt_amount")]
    pub total_cost: Option<Amount>,
    /// The Azure plan shape names the currency…
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_string"
    )]
    pub currency_code: Option<String>,
    /// …the legacy one only a locale (`fr-FR`), which does not say it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_string"
    )]
    pub currency_locale: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::opt_amount"
    )]
    pub usd_total_cost: Option<Amount>,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub last_modified_date: String,
    pub attributes: Attributes,
}

/// One meter's use in the current period of a subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MeterUsageRecord {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub subscription_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub meter_name: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub category: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub subcategory: String,
    #[serde(default, deserialize_with = "crate::lenient::number")]
    pub quantity_used: f64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub unit: String,
    #[serde(default, deserialize_with = "crate::lenient::amount")]
    pub total_cost: Amount,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub currency_code: String,
    #[serde(default, deserialize_with = "crate::lenient::amount")]
    pub usd_total_cost: Amount,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub last_modified_date: String,
    pub attributes: Attributes,
}
