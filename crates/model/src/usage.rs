//! A daily rated usage line item as the product keeps it: exact amounts,
//! parsed dates and currencies, and a stable identity so that reading the
//! same line again (a re-sync, or the line moving from unbilled to billed)
//! updates it instead of adding a duplicate.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::{Amount, Currency, MICROS};
use crate::pc::DailyRatedUsageLineItem;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Stable identity: see [`LineItem::identity`].
    pub key: i64,
    pub customer_id: String,
    pub customer_name: String,
    pub subscription_id: String,
    pub entitlement_id: String,
    pub entitlement_name: String,
    /// The UTC day Partner Center reports the usage for.
    pub usage_date: NaiveDate,
    pub meter_id: String,
    pub meter_name: String,
    pub meter_category: String,
    pub meter_subcategory: String,
    pub unit: String,
    pub publisher: String,
    pub region: String,
    pub resource_group: String,
    pub resource_uri: String,
    /// JSON text as Partner Center sends it.
    pub tags: String,
    pub charge_type: String,
    /// In millionths of the unit of measure.
    pub quantity_micros: i64,
    /// List price per unit, in the pricing currency.
    #[serde(with = "crate::money::as_micros")]
    pub unit_price: Amount,
    /// Price per unit after credits (PEC), in the pricing currency.
    #[serde(with = "crate::money::as_micros")]
    pub effective_unit_price: Amount,
    #[serde(with = "crate::money::as_micros")]
    pub pricing_total: Amount,
    pub pricing_currency: Currency,
    /// What the partner pays, in the customer's billing currency.
    #[serde(with = "crate::money::as_micros")]
    pub billing_total: Amount,
    pub billing_currency: Currency,
    /// Pricing-to-billing exchange rate, in millionths.
    pub fx_micros: i64,
    /// Partner-earned credit rate in basis points (1500 = 15 %).
    pub pec_basis_points: i32,
    pub credit_type: String,
    /// Empty while unbilled.
    pub invoice_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line item for customer {customer} on {date}: {problem}")]
pub struct LineItemError {
    pub customer: String,
    pub date: String,
    pub problem: String,
}

/// FNV-1a, 64 bits: stable across versions and platforms, unlike std's hasher.
pub fn stable_hash(parts: &[&str]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0x1f)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h as i64
}

impl LineItem {
    /// What makes a line the same line: who, which resource, which meter,
    /// which day and which kind of charge. Prices and the invoice number are
    /// left out, since a rerate or the invoice changes them in place.
    pub fn identity(raw: &DailyRatedUsageLineItem) -> i64 {
        stable_hash(&[
            &raw.customer_id.to_ascii_lowercase(),
            &raw.subscription_id.to_ascii_lowercase(),
            &raw.entitlement_id.to_ascii_lowercase(),
            &raw.resource_uri.to_ascii_lowercase(),
            &raw.meter_id.to_ascii_lowercase(),
            &raw.usage_date,
            &raw.charge_type.to_ascii_lowercase(),
        ])
    }

    /// What the usage costs at list price, in the billing currency.
    pub fn list_total(&self) -> Amount {
        self.unit_price
            .times_micros(self.quantity_micros)
            .times_micros(self.fx_micros)
    }

    pub fn resource_name(&self) -> &str {
        self.resource_uri.rsplit('/').next().unwrap_or_default()
    }
}

fn date_part(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

impl TryFrom<&DailyRatedUsageLineItem> for LineItem {
    type Error = LineItemError;

    fn try_from(raw: &DailyRatedUsageLineItem) -> Result<Self, Self::Error> {
        let err = |problem: String| LineItemError {
            customer: raw.customer_id.clone(),
            date: raw.usage_date.clone(),
            problem,
        };
        let usage_date = date_part(&raw.usage_date)
            .ok_or_else(|| err(format!("usageDate “{}” is not a date", raw.usage_date)))?;
        let billing_currency =
            Currency::parse(&raw.billing_currency).map_err(|e| err(e.to_string()))?;
        let pricing_currency = if raw.pricing_currency.is_empty() {
            billing_currency
        } else {
            Currency::parse(&raw.pricing_currency).map_err(|e| err(e.to_string()))?
        };
        if !raw.quantity.is_finite() {
            return Err(err("quantity is not a number".into()));
        }
        let fx = if raw.pc_to_bc_exchange_rate > 0.0 {
            raw.pc_to_bc_exchange_rate
        } else {
            1.0
        };
        Ok(LineItem {
            key: LineItem::identity(raw),
            customer_id: raw.customer_id.to_ascii_lowercase(),
            customer_name: raw.customer_name.clone(),
            subscription_id: raw.subscription_id.to_ascii_lowercase(),
            entitlement_id: raw.entitlement_id.to_ascii_lowercase(),
            entitlement_name: raw.entitlement_description.clone(),
            usage_date,
            meter_id: raw.meter_id.clone(),
            meter_name: raw.meter_name.clone(),
            meter_category: raw.meter_category.clone(),
            meter_subcategory: raw.meter_sub_category.clone(),
            unit: raw.unit_of_measure.clone(),
            publisher: raw.publisher_name.clone(),
            region: raw.resource_location.to_ascii_lowercase(),
            resource_group: raw.resource_group.clone(),
            resource_uri: raw.resource_uri.clone(),
            tags: raw.tags.clone(),
            charge_type: raw.charge_type.clone(),
            quantity_micros: (raw.quantity * MICROS as f64).round() as i64,
            unit_price: raw.unit_price,
            effective_unit_price: raw.effective_unit_price,
            pricing_total: raw.pricing_pre_tax_total,
            pricing_currency,
            billing_total: raw.billing_pre_tax_total,
            billing_currency,
            fx_micros: (fx * MICROS as f64).round() as i64,
            pec_basis_points: (raw.rate_of_partner_earned_credit * 10_000.0).round() as i32,
            credit_type: raw.credit_type.clone(),
            invoice_number: raw.invoice_number.clone(),
        })
    }
}
