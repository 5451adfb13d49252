//! A line of a usage export file (`attributeSet: full`, PascalCase keys in
//! any casing) read to a [`LineItem`]: borrowed from the file where it can
//! be, millions of lines a sync.

use std::borrow::Cow;

use serde::Deserialize;

use crate::lenient;
use crate::money::{Amount, Currency, MICROS};
use crate::usage::{LineItem, LineItemError};

/// A decimal quantity to millionths of its unit, as text or number.
fn quantity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    lenient::amount(d).map(Amount::micros)
}

/// The export line's struct, and a reader that matches its keys in any
/// casing (Microsoft's pages write `BenefitID` and `BenefitId`, `MPNID` and
/// `MpnId`) without allocating for each key.
macro_rules! usage_line {
    ($( $(#[$doc:meta])* $field:ident: $ty:ty = $read:path, $name:literal; )*) => {
        /// One line of a usage export file: every attribute of
        /// `attributeSet: full`, any of which may be missing or `null`.
        /// Unknown attributes are skipped. Text is borrowed from the file
        /// where it can be: only what a line item keeps is copied.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct UsageLine<'de> {
            $( $(#[$doc])* pub $field: $ty, )*
        }

        /// The attributes as the reference's example names and orders them.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy)]
        enum Attribute { $( $field, )* }

        const ATTRIBUTES: &[(&str, Attribute)] = &[ $( ($name, Attribute::$field), )* ];

        impl<'de> UsageLine<'de> {
            /// Reads `value` into the attribute `at`, by the attribute's reader.
            fn set<D: serde::Deserializer<'de>>(
                &mut self,
                at: Attribute,
                value: D,
            ) -> Result<(), D::Error> {
                match at {
                    $( Attribute::$field => self.$field = $read(value)?, )*
                }
                Ok(())
            }
        }
    };
}

/// Where `key` is among the attributes, in any casing. A file writes its
/// attributes in one order (the reference's, in the emulator's files), so
/// the one after the last one read (`next`) is tried first, as written
/// and then in any casing, and only a key out of that order is looked for
/// among them all.
fn attribute(key: &str, next: usize) -> Option<usize> {
    let is = |name: &str| key == name || key.eq_ignore_ascii_case(name);
    match ATTRIBUTES.get(next) {
        Some((name, _)) if is(name) => Some(next),
        _ => ATTRIBUTES.iter().position(|(name, _)| is(name)),
    }
}

/// One attribute's value, read into the line as serde's map hands it over.
struct Set<'a, 'de> {
    line: &'a mut UsageLine<'de>,
    at: Attribute,
}

impl<'de> serde::de::DeserializeSeed<'de> for Set<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.line.set(self.at, d)
    }
}

impl<'de> Deserialize<'de> for UsageLine<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Lines;
        impl<'de> serde::de::Visitor<'de> for Lines {
            type Value = UsageLine<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a usage line (a JSON object)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UsageLine<'de>, A::Error> {
                let mut line = UsageLine::default();
                let mut next = 0;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match attribute(key.as_str(), next) {
                        Some(at) => {
                            next = at + 1;
                            let at = ATTRIBUTES[at].1;
                            map.next_value_seed(Set {
                                line: &mut line,
                                at,
                            })?;
                        }
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(line)
            }
        }
        d.deserialize_map(Lines)
    }
}

/// An attribute's text, borrowed from the file unless it had to be unescaped.
pub type Text<'de> = Cow<'de, str>;

/// A key as the parser has it: borrowed from the input when it can be.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an attribute name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
        }
        d.deserialize_str(Keys)
    }
}

usage_line! {
    /// The partner's tenant ID.
    partner_id: Text<'de> = lenient::text, "PartnerId";
    partner_name: Text<'de> = lenient::text, "PartnerName";
    /// The customer's tenant ID.
    customer_id: Text<'de> = lenient::text, "CustomerId";
    customer_name: Text<'de> = lenient::text, "CustomerName";
    customer_domain_name: Text<'de> = lenient::text, "CustomerDomainName";
    customer_country: Text<'de> = lenient::text, "CustomerCountry";
    mpn_id: Text<'de> = lenient::text, "MpnId";
    /// The reseller of record; optional in unbilled usage.
    tier2_mpn_id: Text<'de> = lenient::text, "Tier2MpnId";
    /// Empty while unbilled.
    invoice_number: Text<'de> = lenient::text, "InvoiceNumber";
    product_id: Text<'de> = lenient::text, "ProductId";
    sku_id: Text<'de> = lenient::text, "SkuId";
    availability_id: Text<'de> = lenient::text, "AvailabilityId";
    sku_name: Text<'de> = lenient::text, "SkuName";
    product_name: Text<'de> = lenient::text, "ProductName";
    publisher_name: Text<'de> = lenient::text, "PublisherName";
    publisher_id: Text<'de> = lenient::text, "PublisherId";
    subscription_description: Text<'de> = lenient::text, "SubscriptionDescription";
    /// The Azure plan (billing platform) subscription.
    subscription_id: Text<'de> = lenient::text, "SubscriptionId";
    /// The billing cycle (charges follow the usage date, not this one).
    charge_start_date: Text<'de> = lenient::text, "ChargeStartDate";
    charge_end_date: Text<'de> = lenient::text, "ChargeEndDate";
    /// The day of the consumption: the cost's date.
    usage_date: Text<'de> = lenient::text, "UsageDate";
    meter_type: Text<'de> = lenient::text, "MeterType";
    meter_category: Text<'de> = lenient::text, "MeterCategory";
    meter_id: Text<'de> = lenient::text, "MeterId";
    meter_sub_category: Text<'de> = lenient::text, "MeterSubCategory";
    meter_name: Text<'de> = lenient::text, "MeterName";
    meter_region: Text<'de> = lenient::text, "MeterRegion";
    unit: Text<'de> = lenient::text, "Unit";
    resource_location: Text<'de> = lenient::text, "ResourceLocation";
    consumed_service: Text<'de> = lenient::text, "ConsumedService";
    resource_group: Text<'de> = lenient::text, "ResourceGroup";
    resource_uri: Text<'de> = lenient::text, "ResourceURI";
    charge_type: Text<'de> = lenient::text, "ChargeType";
    /// The price-list price per unit (pricing currency).
    unit_price: crate::exact::Decimal = lenient::exact, "UnitPrice";
    /// Units consumed, to the millionth.
    quantity_micros: i64 = quantity, "Quantity";
    unit_type: Text<'de> = lenient::text, "UnitType";
    /// Pre-tax, in the billing currency, after partner-earned credit.
    billing_pre_tax_total: Amount = lenient::amount, "BillingPreTaxTotal";
    billing_currency: Text<'de> = lenient::text, "BillingCurrency";
    pricing_pre_tax_total: Amount = lenient::amount, "PricingPreTaxTotal";
    pricing_currency: Text<'de> = lenient::text, "PricingCurrency";
    service_info1: Text<'de> = lenient::text, "ServiceInfo1";
    service_info2: Text<'de> = lenient::text, "ServiceInfo2";
    tags: Text<'de> = lenient::text, "Tags";
    /// JSON as text.
    additional_info: Text<'de> = lenient::text, "AdditionalInfo";
    /// What was charged per unit after discounts and credits.
    effective_unit_price: crate::exact::Decimal = lenient::exact, "EffectiveUnitPrice";
    /// Pricing to billing currency.
    pc_to_bc_exchange_rate: Amount = lenient::amount, "PCToBCExchangeRate";
    pc_to_bc_exchange_rate_date: Text<'de> = lenient::text, "PCToBCExchangeRateDate";
    /// The Azure subscription.
    entitlement_id: Text<'de> = lenient::text, "EntitlementId";
    entitlement_description: Text<'de> = lenient::text, "EntitlementDescription";
    /// 0 or 15 (percent).
    partner_earned_credit_percentage: f64 = lenient::number, "PartnerEarnedCreditPercentage";
    credit_percentage: f64 = lenient::number, "CreditPercentage";
    credit_type: Text<'de> = lenient::text, "CreditType";
    /// The savings-plan order and plan a row's benefit comes from.
    benefit_order_id: Text<'de> = lenient::text, "BenefitOrderId";
    benefit_id: Text<'de> = lenient::text, "BenefitId";
    benefit_type: Text<'de> = lenient::text, "BenefitType";
}

/// The partner-earned credit as a share: the export writes a percent (0 or
/// 15); a value of one or less is read as a fraction, as v1's rates are.
fn credit_basis_points(value: f64) -> i32 {
    let percent = if value > 1.0 { value } else { value * 100.0 };
    (percent * 100.0).round() as i32
}

/// `text` in ASCII lower case, copied once (GUIDs mostly are already).
fn lower(text: Text<'_>) -> String {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        text.to_ascii_lowercase()
    } else {
        text.into_owned()
    }
}

impl TryFrom<UsageLine<'_>> for LineItem {
    type Error = LineItemError;

    /// Copies into the line item only the text it keeps: millions of lines a sync.
    fn try_from(raw: UsageLine<'_>) -> Result<Self, Self::Error> {
        let err = |problem: String| LineItemError {
            customer: raw.customer_id.to_string(),
            date: raw.usage_date.to_string(),
            problem,
        };
        let usage_date = lenient::day(&raw.usage_date)
            .ok_or_else(|| err(format!("UsageDate “{}” is not a date", raw.usage_date)))?;
        if raw.customer_id.trim().is_empty() {
            return Err(err("the line names no customer".into()));
        }
        let billing_currency =
            Currency::parse(&raw.billing_currency).map_err(|e| err(e.to_string()))?;
        let pricing_currency = if raw.pricing_currency.trim().is_empty() {
            billing_currency
        } else {
            Currency::parse(&raw.pricing_currency).map_err(|e| err(e.to_string()))?
        };
        let fx_micros = match raw.pc_to_bc_exchange_rate.micros() {
            0 => MICROS,
            fx => fx,
        };
        let key = crate::usage::line_identity(
            &raw.customer_id,
            &raw.subscription_id,
            &raw.entitlement_id,
            &raw.resource_uri,
            &raw.meter_id,
            usage_date,
            &raw.charge_type,
        );
        let customer_id = if raw.customer_id.trim().len() == raw.customer_id.len() {
            lower(raw.customer_id)
        } else {
            raw.customer_id.trim().to_ascii_lowercase()
        };
        Ok(LineItem {
            key,
            customer_id,
            customer_name: raw.customer_name.into_owned(),
            subscription_id: lower(raw.subscription_id),
            entitlement_id: lower(raw.entitlement_id),
            entitlement_name: raw.entitlement_description.into_owned(),
            usage_date,
            meter_id: raw.meter_id.into_owned(),
            meter_name: raw.meter_name.into_owned(),
            meter_category: raw.meter_category.into_owned(),
            meter_subcategory: raw.meter_sub_category.into_owned(),
            unit: raw.unit.into_owned(),
            publisher: raw.publisher_name.into_owned(),
            region: lower(raw.resource_location),
            resource_group: raw.resource_group.into_owned(),
            resource_uri: raw.resource_uri.into_owned(),
            tags: raw.tags.into_owned(),
            charge_type: raw.charge_type.into_owned(),
            quantity_micros: raw.quantity_micros,
            unit_price: raw.unit_price,
            effective_unit_price: raw.effective_unit_price,
            pricing_total: raw.pricing_pre_tax_total,
            pricing_currency,
            billing_total: raw.billing_pre_tax_total,
            billing_currency,
            fx_micros,
            pec_basis_points: credit_basis_points(raw.partner_earned_credit_percentage),
            credit_type: raw.credit_type.into_owned(),
            invoice_number: raw.invoice_number.into_owned(),
            benefit_id: raw.benefit_id.into_owned(),
            benefit_order_id: raw.benefit_order_id.into_owned(),
            benefit_type: raw.benefit_type.into_owned(),
        })
    }
}

/// A line of an export file read to a line item, or why it could not be.
/// The UTF-8 byte-order mark a file may start with is skipped.
pub fn read_line(bytes: &[u8]) -> Result<LineItem, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Checked as UTF-8 once, as a whole: read from bytes, the parser would
    // check every string again on its own.
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let raw: UsageLine<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    LineItem::try_from(raw).map_err(|e| e.problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's example line (`attributeSet: full`), verbatim.
    const EXAMPLE: &str = r#"{"PartnerId":"0e195b37-4574-4539-bc42-0e539b9684c0","PartnerName":"Fabrikam","CustomerId":"196e2273-9651-43a3-ba7e-7cbcd918fc40","CustomerName":"Contoso","CustomerDomainName":"testcustomerdomain.onmicrosoft.com","CustomerCountry":"US","MpnId":"12345","Tier2MpnId":"67890","InvoiceNumber":"G002297372","ProductId":"DZH318Z0BNZ5","SkuId":"006G","AvailabilityId":"DZH318Z08B80","SkuName":"Tables","ProductName":"Tables","PublisherName":"Microsoft","PublisherId":"","SubscriptionDescription":"Azure plan","SubscriptionId":"5d1f3c2a-8b7e-4c55-9a10-2f6e0d9b7a41","ChargeStartDate":"2025-05-01T00:00:00Z","ChargeEndDate":"2025-05-31T00:00:00Z","UsageDate":"2025-05-14T00:00:00Z","MeterType":"1 GB/Month","MeterCategory":"Storage","MeterId":"a4f7e1c2-3b5d-4e6f-8a9b-0c1d2e3f4a5b","MeterSubCategory":"Tables","MeterName":"LRS Data Stored","MeterRegion":"US East","Unit":"1 GB/Month","ResourceLocation":"EASTUS","ConsumedService":"Microsoft.Storage","ResourceGroup":"rg-prod","ResourceURI":"/subscriptions/8c2b6e4d-1f3a-4b7c-9d0e-5a6b7c8d9e0f/resourceGroups/rg-prod/providers/Microsoft.Storage/storageAccounts/contosodata","ChargeType":"New","UnitPrice":0.0036,"Quantity":12.5,"UnitType":"1 GB/Month","BillingPreTaxTotal":0.03519,"BillingCurrency":"EUR","PricingPreTaxTotal":0.03825,"PricingCurrency":"USD","ServiceInfo1":"","ServiceInfo2":"","Tags":"{\"env\":\"prod\"}","AdditionalInfo":"","EffectiveUnitPrice":0.00306,"PCToBCExchangeRate":0.92,"PCToBCExchangeRateDate":"2025-05-01T00:00:00Z","EntitlementId":"8c2b6e4d-1f3a-4b7c-9d0e-5a6b7c8d9e0f","EntitlementDescription":"Contoso Production","PartnerEarnedCreditPercentage":15,"CreditPercentage":0,"CreditType":"Credit Not Applied","BenefitOrderId":"","BenefitId":"","BenefitType":""}"#;

    #[test]
    fn the_documented_example_line_reads_to_known_values() {
        let l = read_line(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(l.customer_id, "196e2273-9651-43a3-ba7e-7cbcd918fc40");
        assert_eq!(l.usage_date.to_string(), "2025-05-14");
        assert_eq!(l.entitlement_id, "8c2b6e4d-1f3a-4b7c-9d0e-5a6b7c8d9e0f");
        assert_eq!(l.entitlement_name, "Contoso Production");
        assert_eq!(
            (l.meter_category.as_str(), l.meter_name.as_str()),
            ("Storage", "LRS Data Stored")
        );
        assert_eq!(l.unit, "1 GB/Month");
        assert_eq!(l.region, "eastus");
        assert_eq!(l.resource_group, "rg-prod");
        assert_eq!(l.quantity_micros, 12_500_000);
        // 0.0036 USD an hour; 0.00306 after the credit; totals as written.
        assert_eq!(l.unit_price.to_string(), "0.0036");
        assert_eq!(l.effective_unit_price.to_string(), "0.00306");
        assert_eq!(l.pricing_total.micros(), 38_250);
        assert_eq!(l.billing_total.micros(), 35_190);
        assert_eq!(
            (l.pricing_currency.code(), l.billing_currency.code()),
            ("USD", "EUR")
        );
        assert_eq!(l.fx_micros, 920_000);
        assert_eq!(l.pec_basis_points, 1500, "15 percent");
        assert_eq!(l.invoice_number, "G002297372");
        assert_eq!(l.tags, r#"{"env":"prod"}"#);
    }

    #[test]
    fn every_attribute_of_the_full_set_is_read() {
        let raw: UsageLine<'_> = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(raw.partner_id, "0e195b37-4574-4539-bc42-0e539b9684c0");
        assert_eq!(
            raw.customer_domain_name,
            "testcustomerdomain.onmicrosoft.com"
        );
        assert_eq!(
            (
                raw.customer_country.as_ref(),
                raw.mpn_id.as_ref(),
                raw.tier2_mpn_id.as_ref()
            ),
            ("US", "12345", "67890")
        );
        assert_eq!(
            (
                raw.product_id.as_ref(),
                raw.sku_id.as_ref(),
                raw.availability_id.as_ref()
            ),
            ("DZH318Z0BNZ5", "006G", "DZH318Z08B80")
        );
        assert_eq!(raw.subscription_description, "Azure plan");
        assert_eq!(raw.charge_end_date, "2025-05-31T00:00:00Z");
        assert_eq!(raw.consumed_service, "Microsoft.Storage");
        assert_eq!(raw.unit_type, "1 GB/Month");
        assert_eq!(raw.pc_to_bc_exchange_rate_date, "2025-05-01T00:00:00Z");
        assert_eq!(raw.credit_percentage, 0.0);
        // The example names the 55 attributes; each one alone fills a field.
        let example: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(example.len(), 55);
        for name in example.keys() {
            let text = serde_json::json!({ name: "1" }).to_string();
            let alone: UsageLine<'_> = serde_json::from_str(&text).unwrap();
            assert_ne!(alone, UsageLine::default(), "{name} is read");
        }
    }

    #[test]
    fn a_lines_identity_is_the_hash_of_its_fields_in_lower_case() {
        let day = "2025-05-14".parse().unwrap();
        assert_eq!(
            crate::usage::line_identity("C1", "Sub", "Ent", "/R/x", "M", day, "New"),
            crate::usage::stable_hash(&["c1", "sub", "ent", "/r/x", "m", "2025-05-14", "new"])
        );
        let l = read_line(EXAMPLE.as_bytes()).unwrap();
        let again = read_line(
            EXAMPLE
                .to_ascii_uppercase()
                .replace("2025-05-14T00:00:00Z", "2025-05-14")
                .as_bytes(),
        );
        // Upper-case keys and values name the same line.
        assert_eq!(again.map(|a| a.key).ok(), Some(l.key));
    }

    #[test]
    fn attribute_names_match_in_any_casing() {
        let raw: UsageLine<'_> = serde_json::from_str(
            r#"{"CUSTOMERID":"C","BenefitID":"b1","benefitOrderID":"o1","MPNID":"9","ResourceUri":"/r","PcToBcExchangeRate":"0.5"}"#,
        )
        .unwrap();
        assert_eq!(
            (
                raw.customer_id.as_ref(),
                raw.benefit_id.as_ref(),
                raw.benefit_order_id.as_ref(),
                raw.mpn_id.as_ref(),
                raw.resource_uri.as_ref()
            ),
            ("C", "b1", "o1", "9", "/r")
        );
        assert_eq!(raw.pc_to_bc_exchange_rate.micros(), 500_000);
    }

    #[test]
    fn a_line_reads_in_every_documented_form() {
        let forms = [
            // numbers as text, the date without its zone, a byte-order mark
            "\u{feff}{\"CustomerId\":\"C\",\"UsageDate\":\"2025-05-14T00:00:00\",\"BillingCurrency\":\"EUR\",\"BillingPreTaxTotal\":\"0.03519\",\"Quantity\":\"12.5\"}",
            // the recon files' M/D/YYYY, null fields, a field nobody documents yet
            "{\"CustomerId\":\"C\",\"UsageDate\":\"5/14/2025 0:00\",\"BillingCurrency\":\"EUR\",\"BillingPreTaxTotal\":0.03519,\"Quantity\":12.5,\"Tags\":null,\"BrandNewAttribute\":{\"x\":1}}",
        ];
        for form in forms {
            let l = read_line(form.as_bytes()).unwrap();
            assert_eq!(
                (
                    l.usage_date.to_string(),
                    l.billing_total.micros(),
                    l.quantity_micros
                ),
                ("2025-05-14".to_string(), 35_190, 12_500_000),
                "{form}"
            );
        }
        assert!(
            read_line(
                b"{\"CustomerId\":\"C\",\"UsageDate\":\"14/5/2025\",\"BillingCurrency\":\"EUR\"}"
            )
            .is_err()
        );
        assert!(
            read_line(b"{\"CustomerId\":\"C\",\"UsageDate\":\"2025-05-14\"}").is_err(),
            "no currency"
        );
        assert!(read_line(b"not json").is_err());
    }
}
