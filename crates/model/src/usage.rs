//! A daily rated usage line item as the product keeps it: exact amounts,
//! parsed dates and currencies, and a stable identity so that reading the
//! same line again (a re-sync, or the line moving from unbilled to billed)
//! updates it instead of adding a duplicate.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::exact::{self, Decimal};
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
    /// List price per unit, in the pricing currency, exactly as sent.
    pub unit_price: Decimal,
    /// Price per unit after credits (PEC), in the pricing currency, exactly.
    pub effective_unit_price: Decimal,
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
    /// A savings plan or reservation that covered the line, where one did:
    /// two rows of one resource, meter and day may differ only in these.
    #[serde(default)]
    pub benefit_id: String,
    #[serde(default)]
    pub benefit_order_id: String,
    #[serde(default)]
    pub benefit_type: String,
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

/// [`stable_hash`] of the parts in ASCII lower case, without copying them.
pub fn stable_hash_lower(parts: &[&str]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0x1f)) {
            h ^= b.to_ascii_lowercase() as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h as i64
}

/// A line's identity from its fields (see [`LineItem::identity`]).
pub fn line_identity(
    customer: &str,
    subscription: &str,
    entitlement: &str,
    resource: &str,
    meter: &str,
    day: NaiveDate,
    charge_type: &str,
) -> i64 {
    use chrono::Datelike;
    let (y, m, d) = (day.year().clamp(0, 9999) as u32, day.month(), day.day());
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let text = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(d / 10),
        digit(d),
    ];
    let day = std::str::from_utf8(&text).unwrap_or_default();
    stable_hash_lower(&[
        customer,
        subscription,
        entitlement,
        resource,
        meter,
        day,
        charge_type,
    ])
}

impl LineItem {
    /// What makes a line the same line: who, which resource, which meter,
    /// which day and which kind of charge. Prices and the invoice number are
    /// left out, since a rerate or the invoice changes them in place. The day
    /// is the parsed UTC day, so that two feeds writing it in different forms
    /// (`…T00:00:00Z`, `…T00:00:00`) name the same line.
    pub fn identity(raw: &DailyRatedUsageLineItem, day: NaiveDate) -> i64 {
        line_identity(
            &raw.customer_id,
            &raw.subscription_id,
            &raw.entitlement_id,
            &raw.resource_uri,
            &raw.meter_id,
            day,
            &raw.charge_type,
        )
    }

    /// The list price per unit in the billing currency, exactly: the unit
    /// price times the exchange rate.
    pub fn list_unit_price(&self) -> Decimal {
        exact::times(self.unit_price, exact::from_micros(self.fx_micros))
    }

    /// What the usage costs at list price, in the billing currency: the
    /// exact product of price, quantity and rate, rounded once.
    pub fn list_total(&self) -> Amount {
        Amount::from_micros(exact::product_micros(
            self.list_unit_price(),
            exact::from_micros(self.quantity_micros),
        ))
    }

    pub fn resource_name(&self) -> &str {
        resource_name(&self.resource_uri)
    }
}

/// A resource's name: the last segment of its Azure resource ID.
pub fn resource_name(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or_default()
}

impl TryFrom<&DailyRatedUsageLineItem> for LineItem {
    type Error = LineItemError;

    fn try_from(raw: &DailyRatedUsageLineItem) -> Result<Self, Self::Error> {
        let err = |problem: String| LineItemError {
            customer: raw.customer_id.clone(),
            date: raw.usage_date.clone(),
            problem,
        };
        let usage_date = crate::lenient::day(&raw.usage_date)
            .ok_or_else(|| err(format!("usageDate “{}” is not a date", raw.usage_date)))?;
        if raw.customer_id.trim().is_empty() {
            return Err(err("the line names no customer".into()));
        }
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
            key: LineItem::identity(raw, usage_date),
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
            benefit_id: raw.benefit_id.clone(),
            benefit_order_id: raw.benefit_order_id.clone(),
            benefit_type: raw.benefit_type.clone(),
        })
    }
}
