//! What the store's tests share: a store in a temporary directory, and
//! line items made by hand.

use model::usage::LineItem;
use model::{Amount, Currency};

use super::Store;

/// A new, migrated store that lives as long as the directory it returns.
pub async fn temporary() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(dir.path()).await.expect("the store opens");
    (dir, store)
}

/// A line of `customer` on `day` (YYYY-MM-DD) costing the partner
/// `partner_cost` millionths of a US dollar: 10 hours of a D4s v5 at a list
/// price of 1.20 an hour, so its list cost is 12.00.
pub fn line(customer: &str, day: &str, partner_cost: i64) -> LineItem {
    let usage_date = day.parse().expect("a day");
    LineItem {
        key: model::usage::stable_hash(&[customer, day]),
        customer_id: customer.into(),
        customer_name: String::new(),
        subscription_id: "plan-1".into(),
        entitlement_id: "az-1".into(),
        entitlement_name: "Production".into(),
        usage_date,
        meter_id: "meter-d4s".into(),
        meter_name: "D4s v5".into(),
        meter_category: "Virtual Machines".into(),
        meter_subcategory: "Dv5 Series".into(),
        unit: "1 Hour".into(),
        publisher: "Microsoft".into(),
        region: "westeurope".into(),
        resource_group: "rg-prod".into(),
        resource_uri: "/subscriptions/az-1/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm1".into(),
        tags: String::new(),
        charge_type: "new".into(),
        quantity_micros: 10_000_000,
        unit_price: model::exact::from_micros(1_200_000),
        effective_unit_price: model::exact::from_micros(1_020_000),
        pricing_total: Amount::from_micros(partner_cost),
        pricing_currency: Currency::USD,
        billing_total: Amount::from_micros(partner_cost),
        billing_currency: Currency::USD,
        fx_micros: 1_000_000,
        pec_basis_points: 1500,
        credit_type: "Partner Earned Credit Applied".into(),
        invoice_number: String::new(),
        benefit_id: String::new(),
        benefit_order_id: String::new(),
        benefit_type: String::new(),
    }
}
