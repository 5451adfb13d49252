//! FOCUS 1.2 rows (the FinOps Open Cost and Usage Specification) for a
//! partner's customers: the partner is the provider and the invoice
//! issuer, each customer a billing account, each Azure subscription a sub
//! account, Microsoft (or a marketplace vendor) the publisher.
//!
//! Every unit price is exact ([`crate::exact`]) and every cost is its unit
//! price times the pricing quantity, rounded once to the millionth, so a
//! FinOps tool that multiplies them gets the file's figure. Billed and
//! effective cost are what the customer is billed (the app's customer
//! price, markup applied). A null is an empty CSV field.

pub mod tables;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde_json::Value;

use crate::exact::{self, Decimal};
use crate::export::decimal;
use crate::pricing::{Markup, MarkupBasis};
use crate::usage::LineItem;

/// Every column the export writes, in order: FOCUS's own in alphabetical
/// order, then this product's `x_` columns.
pub const COLUMNS: &[&str] = &[
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    // Microsoft's invoice number to the partner (the partner issues its
    // own invoices, so InvoiceId is null).
    "x_MicrosoftInvoiceNumber",
    "x_AzureResourceType",
    "x_AzureUnitOfMeasure",
    "x_PricingToBillingExchangeRate",
];

/// Who sells: the partner, named as Partner Center names it.
pub struct Party<'a> {
    pub partner_name: &'a str,
}

fn midnight(d: NaiveDate) -> String {
    format!("{}T00:00:00Z", d.format("%Y-%m-%d"))
}

/// A product rounded once to the millionth, as text.
fn cost(unit_price: Decimal, quantity: Decimal) -> String {
    decimal(exact::product_micros(unit_price, quantity))
}

/// What the customer pays per unit in the pricing currency, by its
/// markup: over the list price or over what the partner pays per unit.
pub fn contracted_unit_price(line: &LineItem, markup: Markup) -> Decimal {
    let base = match markup.basis {
        MarkupBasis::ListPrice => line.unit_price,
        MarkupBasis::PartnerCost => line.effective_unit_price,
    };
    let factor = Decimal::new(10_000 + i64::from(markup.basis_points), 4);
    exact::times(base, factor).normalize()
}

/// What the customer pays per unit in the billing currency, such that
/// times the quantity it is the customer's price (`customer_price`, in
/// millionths) to the millionth. The markup's own unit price where it is
/// (at list price, the list unit price); where the price was rounded as a
/// total (a markup over Microsoft's billed total), the price over the
/// quantity, to 28 digits. A line without a quantity has the markup's.
pub fn customer_unit_price(line: &LineItem, customer_price: i64, markup: Markup) -> Decimal {
    let by_markup = exact::times(
        contracted_unit_price(line, markup),
        exact::from_micros(line.fx_micros),
    )
    .normalize();
    let quantity = exact::from_micros(line.quantity_micros);
    let reproduces = |unit: Decimal| exact::product_micros(unit, quantity) == customer_price;
    if line.quantity_micros == 0 || reproduces(by_markup) {
        return by_markup;
    }
    exact::from_micros(customer_price)
        .checked_div(quantity)
        .map(|u| u.normalize())
        .filter(|u| reproduces(*u))
        .unwrap_or(by_markup)
}

/// A savings plan or reservation that priced the line, in FOCUS's terms.
struct Commitment {
    id: String,
    /// "Spend" (savings plan) or "Usage" (reservation).
    category: &'static str,
    kind: String,
}

fn commitment(line: &LineItem) -> Option<Commitment> {
    let (order, id) = (line.benefit_order_id.trim(), line.benefit_id.trim());
    if order.is_empty() && id.is_empty() {
        return None;
    }
    let kind = line.benefit_type.trim();
    let savings_plan = kind
        .to_ascii_lowercase()
        .replace(' ', "")
        .contains("savingsplan");
    let reservation = kind.to_ascii_lowercase().contains("reservation");
    // Azure's resource IDs of the benefit, fully qualified as FOCUS asks.
    let (provider, orders, items) = if savings_plan {
        (
            "Microsoft.BillingBenefits",
            "savingsPlanOrders",
            "savingsPlans",
        )
    } else {
        ("Microsoft.Capacity", "reservationOrders", "reservations")
    };
    let mut full = format!("/providers/{provider}");
    if !order.is_empty() {
        full.push_str(&format!("/{orders}/{order}"));
    }
    if !id.is_empty() {
        full.push_str(&format!("/{items}/{id}"));
    }
    Some(Commitment {
        id: full,
        category: if savings_plan { "Spend" } else { "Usage" },
        kind: if savings_plan {
            "Savings Plan".into()
        } else if reservation || kind.is_empty() {
            "Reservation".into()
        } else {
            kind.to_string()
        },
    })
}

/// Tags as a FOCUS key-value object: Partner Center's text, which is JSON
/// with or without its braces; values that are objects or arrays (which
/// FOCUS does not allow) as their JSON text. Text that is not JSON is kept
/// under `x_UnparsedTags`. No tags: null.
pub fn tags(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() || t == "{}" || t == "null" {
        return String::new();
    }
    let parsed = serde_json::from_str::<serde_json::Map<String, Value>>(t)
        .or_else(|_| serde_json::from_str(&format!("{{{t}}}")));
    let map = match parsed {
        Ok(map) => map,
        Err(_) => {
            let mut map = serde_json::Map::new();
            map.insert("x_UnparsedTags".into(), Value::String(t.to_string()));
            map
        }
    };
    if map.is_empty() {
        return String::new();
    }
    let flat: serde_json::Map<String, Value> = map
        .into_iter()
        .map(|(k, v)| match v {
            Value::Object(_) | Value::Array(_) => (k, Value::String(v.to_string())),
            v => (k, v),
        })
        .collect();
    Value::Object(flat).to_string()
}

/// One FOCUS row for a line item, in [`COLUMNS`]' order: `customer_price`
/// is what the customer is billed for it (in millionths of the billing
/// currency) and `markup` how that price was set.
pub fn row(line: &LineItem, customer_price: i64, markup: Markup, party: &Party<'_>) -> Vec<String> {
    cells(line, customer_price, markup, party)
        .into_iter()
        .map(|(_, value)| value)
        .collect()
}

/// The row's cells, each beside its column's name (a test holds the names
/// to [`COLUMNS`]).
fn cells(
    line: &LineItem,
    customer_price: i64,
    markup: Markup,
    party: &Party<'_>,
) -> Vec<(&'static str, String)> {
    let day = line.usage_date;
    let period_start = NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("valid");
    let period_end = period_start
        .checked_add_months(Months::new(1))
        .expect("in range");
    let quantity = exact::from_micros(line.quantity_micros);
    let rate = exact::from_micros(line.fx_micros);
    let list_unit = line.list_unit_price();
    let contracted_pricing = contracted_unit_price(line, markup);
    let contracted_unit = customer_unit_price(line, customer_price, markup);
    let unit = tables::unit(&line.unit);
    let (service_category, service_subcategory) = tables::service(&line.meter_category);
    let azure_type = tables::azure_resource_type(&line.resource_uri);
    let resource = !line.resource_uri.trim().is_empty();
    let region = line.region.trim();
    let commitment = commitment(line);
    let or_null = |present: bool, value: String| if present { value } else { String::new() };
    let (cd_quantity, cd_unit) = match &commitment {
        // A savings plan commits to spend: what this line used of it is its
        // cost to the partner in the plan's (pricing) currency.
        Some(c) if c.category == "Spend" => (
            decimal(line.pricing_total.micros()),
            line.pricing_currency.code().to_string(),
        ),
        Some(_) => (decimal(line.quantity_micros), unit.clone()),
        None => (String::new(), String::new()),
    };
    let text = |s: &str| s.trim().to_string();
    let sku = text(&line.meter_id);
    let sku_price_details = if sku.is_empty() || line.unit.trim().is_empty() {
        String::new()
    } else {
        serde_json::json!({ "x_AzureUnitOfMeasure": line.unit.trim() }).to_string()
    };
    let sub_account = text(&line.entitlement_id);
    let description = match (line.meter_name.trim(), line.meter_subcategory.trim()) {
        (name, "") => name.to_string(),
        ("", sub) => sub.to_string(),
        (name, sub) => format!("{name} ({sub})"),
    };
    vec![
        ("BilledCost", decimal(customer_price)),
        ("BillingAccountId", line.customer_id.clone()),
        ("BillingAccountName", text(&line.customer_name)),
        ("BillingAccountType", "Customer".into()),
        ("BillingCurrency", line.billing_currency.code().to_string()),
        ("BillingPeriodEnd", midnight(period_end)),
        ("BillingPeriodStart", midnight(period_start)),
        ("ChargeCategory", "Usage".into()),
        ("ChargeClass", String::new()),
        ("ChargeDescription", description),
        ("ChargeFrequency", "Usage-Based".into()),
        ("ChargePeriodEnd", midnight(day + Days::new(1))),
        ("ChargePeriodStart", midnight(day)),
        (
            "CommitmentDiscountCategory",
            commitment
                .as_ref()
                .map(|c| c.category.to_string())
                .unwrap_or_default(),
        ),
        (
            "CommitmentDiscountId",
            commitment
                .as_ref()
                .map(|c| c.id.clone())
                .unwrap_or_default(),
        ),
        // The export does not name savings plans or reservations.
        ("CommitmentDiscountName", String::new()),
        ("CommitmentDiscountQuantity", cd_quantity),
        (
            "CommitmentDiscountStatus",
            or_null(commitment.is_some(), "Used".into()),
        ),
        (
            "CommitmentDiscountType",
            commitment
                .as_ref()
                .map(|c| c.kind.clone())
                .unwrap_or_default(),
        ),
        ("CommitmentDiscountUnit", cd_unit),
        ("ConsumedQuantity", decimal(line.quantity_micros)),
        ("ConsumedUnit", unit.clone()),
        ("ContractedCost", cost(contracted_unit, quantity)),
        ("ContractedUnitPrice", exact::text(contracted_unit)),
        ("EffectiveCost", decimal(customer_price)),
        ("InvoiceId", String::new()),
        ("InvoiceIssuerName", party.partner_name.into()),
        ("ListCost", decimal(line.list_total().micros())),
        ("ListUnitPrice", exact::text(list_unit)),
        (
            "PricingCategory",
            if commitment.is_some() {
                "Committed"
            } else {
                "Standard"
            }
            .into(),
        ),
        ("PricingCurrency", line.pricing_currency.code().to_string()),
        (
            "PricingCurrencyContractedUnitPrice",
            exact::text(contracted_pricing),
        ),
        (
            "PricingCurrencyEffectiveCost",
            cost(contracted_pricing, quantity),
        ),
        ("PricingCurrencyListUnitPrice", exact::text(line.unit_price)),
        ("PricingQuantity", decimal(line.quantity_micros)),
        ("PricingUnit", unit),
        ("ProviderName", party.partner_name.into()),
        (
            "PublisherName",
            if line.publisher.trim().is_empty() {
                // Azure plan meters without a publisher are Microsoft's own.
                "Microsoft".into()
            } else {
                text(&line.publisher)
            },
        ),
        ("RegionId", region.to_string()),
        (
            "RegionName",
            or_null(!region.is_empty(), tables::region_name(region).to_string()),
        ),
        ("ResourceId", text(&line.resource_uri)),
        (
            "ResourceName",
            or_null(resource, line.resource_name().to_string()),
        ),
        (
            "ResourceType",
            or_null(
                resource,
                if azure_type.is_empty() {
                    "Azure Resource".into()
                } else {
                    tables::resource_type_name(&azure_type)
                },
            ),
        ),
        ("ServiceCategory", service_category.into()),
        (
            "ServiceName",
            if line.meter_category.trim().is_empty() {
                // A meter without a category is still Azure's.
                "Azure".into()
            } else {
                text(&line.meter_category)
            },
        ),
        ("ServiceSubcategory", service_subcategory.into()),
        ("SkuId", sku.clone()),
        ("SkuMeter", or_null(!sku.is_empty(), text(&line.meter_name))),
        ("SkuPriceDetails", sku_price_details),
        ("SkuPriceId", sku),
        ("SubAccountId", sub_account.clone()),
        (
            "SubAccountName",
            if line.entitlement_name.trim().is_empty() {
                sub_account.clone()
            } else {
                text(&line.entitlement_name)
            },
        ),
        (
            "SubAccountType",
            or_null(!sub_account.is_empty(), "Subscription".into()),
        ),
        ("Tags", tags(&line.tags)),
        ("x_MicrosoftInvoiceNumber", text(&line.invoice_number)),
        ("x_AzureResourceType", azure_type),
        ("x_AzureUnitOfMeasure", text(&line.unit)),
        ("x_PricingToBillingExchangeRate", exact::text(rate)),
    ]
}

#[cfg(test)]
mod tests;
