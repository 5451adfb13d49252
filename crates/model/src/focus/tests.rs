use super::*;
use crate::money::{Amount, Currency};

fn line() -> LineItem {
    LineItem {
        key: 1,
        customer_id: "c1".into(),
        customer_name: "Adatum".into(),
        subscription_id: "p1".into(),
        entitlement_id: "e1".into(),
        entitlement_name: "Production".into(),
        usage_date: "2026-11-03".parse().unwrap(),
        meter_id: "m1".into(),
        meter_name: "D4s v5".into(),
        meter_category: "Virtual Machines".into(),
        meter_subcategory: "Dv5 Series".into(),
        unit: "1 Hour".into(),
        publisher: "Microsoft".into(),
        region: "westeurope".into(),
        resource_group: "rg".into(),
        resource_uri:
            "/subscriptions/e1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
                .into(),
        tags: r#"{"env":"prod"}"#.into(),
        charge_type: "new".into(),
        quantity_micros: 24_000_000,
        unit_price: exact::parse("0.192").unwrap(),
        effective_unit_price: exact::parse("0.1632").unwrap(),
        pricing_total: Amount::from_micros(3_916_800),
        pricing_currency: Currency::USD,
        billing_total: Amount::from_micros(3_603_456),
        billing_currency: Currency::EUR,
        fx_micros: 920_000,
        pec_basis_points: 1500,
        credit_type: "Partner Earned Credit Applied".into(),
        invoice_number: "G002297372".into(),
        benefit_id: String::new(),
        benefit_order_id: String::new(),
        benefit_type: String::new(),
    }
}

fn cell<'a>(row: &'a [String], name: &str) -> &'a str {
    row[COLUMNS.iter().position(|c| *c == name).unwrap()].as_str()
}

const PARTY: Party<'static> = Party {
    partner_name: "Contoso Cloud Partners",
};

#[test]
fn every_cell_sits_under_its_column() {
    let names: Vec<&str> = cells(&line(), 0, Markup::default(), &PARTY)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, COLUMNS);
}

#[test]
fn a_row_names_the_partner_as_provider_and_microsoft_as_publisher() {
    let row = row(&line(), 4_239_360, Markup::default(), &PARTY);
    assert_eq!(row.len(), COLUMNS.len());
    let get = |name| cell(&row, name);
    assert_eq!(get("ProviderName"), "Contoso Cloud Partners");
    assert_eq!(get("InvoiceIssuerName"), "Contoso Cloud Partners");
    assert_eq!(get("PublisherName"), "Microsoft");
    assert_eq!(get("BilledCost"), "4.23936");
    // List: 0.192 USD × 24 h × 0.92 EUR/USD.
    assert_eq!(get("ListUnitPrice"), "0.17664");
    assert_eq!(get("ListCost"), "4.23936");
    // At list price the customer's unit price is the list price.
    assert_eq!(get("ContractedUnitPrice"), "0.17664");
    assert_eq!(get("ContractedCost"), "4.23936");
    assert_eq!(get("PricingCurrency"), "USD");
    assert_eq!(get("PricingCurrencyListUnitPrice"), "0.192");
    assert_eq!(get("PricingCurrencyContractedUnitPrice"), "0.192");
    assert_eq!(get("PricingCurrencyEffectiveCost"), "4.608");
    assert_eq!(get("BillingCurrency"), "EUR");
    assert_eq!(get("ChargePeriodStart"), "2026-11-03T00:00:00Z");
    assert_eq!(get("ChargePeriodEnd"), "2026-11-04T00:00:00Z");
    assert_eq!(get("BillingPeriodStart"), "2026-11-01T00:00:00Z");
    assert_eq!(get("BillingPeriodEnd"), "2026-12-01T00:00:00Z");
    assert_eq!(get("ServiceCategory"), "Compute");
    assert_eq!(get("ServiceSubcategory"), "Virtual Machines");
    assert_eq!(get("RegionId"), "westeurope");
    assert_eq!(get("RegionName"), "West Europe");
    assert_eq!(get("ResourceType"), "Virtual Machine");
    assert_eq!(
        get("x_AzureResourceType"),
        "Microsoft.Compute/virtualMachines"
    );
    assert_eq!(get("ResourceName"), "vm1");
    assert_eq!(get("SubAccountName"), "Production");
    assert_eq!(get("PricingUnit"), "Hours");
    assert_eq!(get("x_AzureUnitOfMeasure"), "1 Hour");
    assert_eq!(
        get("SkuPriceDetails"),
        r#"{"x_AzureUnitOfMeasure":"1 Hour"}"#
    );
    // The partner's invoice to its customer is not Microsoft's to the partner.
    assert_eq!(get("InvoiceId"), "");
    assert_eq!(get("x_MicrosoftInvoiceNumber"), "G002297372");
    assert_eq!(get("CommitmentDiscountId"), "");
    assert_eq!(get("PricingCategory"), "Standard");
    assert_eq!(get("Tags"), r#"{"env":"prod"}"#);
}

/// The issue's case: an Azure Functions GB-second at 0.000016 USD, 15 %
/// partner-earned credit, 10 % over the partner's cost, in euros. Every
/// unit price times the quantity is the cost the row writes.
#[test]
fn a_tiny_price_keeps_every_product_exact() {
    let mut l = line();
    l.meter_category = "Azure Functions".into();
    l.unit = "1 GB Second".into();
    l.quantity_micros = 93_017_250_000;
    l.unit_price = exact::parse("0.000016").unwrap();
    l.effective_unit_price = exact::parse("0.0000136").unwrap();
    let markup = Markup::new(MarkupBasis::PartnerCost, 1_000).unwrap();
    let row = row(&l, 1_280_215, markup, &PARTY);
    let get = |name| cell(&row, name);
    assert_eq!(get("PricingCurrencyListUnitPrice"), "0.000016");
    assert_eq!(get("ListUnitPrice"), "0.00001472");
    // 93,017.25 × 0.00001472 = 1.36921392
    assert_eq!(get("ListCost"), "1.369214");
    // 0.0000136 × 1.1 = 0.00001496 USD; × 0.92 = 0.0000137632 EUR.
    assert_eq!(get("PricingCurrencyContractedUnitPrice"), "0.00001496");
    assert_eq!(get("ContractedUnitPrice"), "0.0000137632");
    // 93,017.25 × 0.0000137632 = 1.2802150152
    assert_eq!(get("ContractedCost"), "1.280215");
    assert_eq!(get("BilledCost"), "1.280215");
    assert_eq!(get("PricingUnit"), "GB-Seconds");
    assert_eq!(get("ServiceSubcategory"), "Serverless Compute");

    // A markup over Microsoft's billed total rounds as a total: the unit
    // price is then the customer's price over the quantity, whose product
    // is the price again.
    let row = super::row(&l, 1_280_216, markup, &PARTY);
    let get = |name| cell(&row, name);
    let unit = exact::parse(get("ContractedUnitPrice")).unwrap();
    assert_ne!(unit, exact::parse("0.0000137632").unwrap());
    assert_eq!(
        exact::product_micros(unit, exact::from_micros(l.quantity_micros)),
        1_280_216
    );
    assert_eq!(get("ContractedCost"), "1.280216");
}

#[test]
fn a_savings_plan_is_a_spend_commitment_the_line_used() {
    let mut l = line();
    l.benefit_order_id = "order-1".into();
    l.benefit_id = "plan-a".into();
    l.benefit_type = "SavingsPlan".into();
    let row = row(&l, 4_239_360, Markup::default(), &PARTY);
    let get = |name| cell(&row, name);
    assert_eq!(
        get("CommitmentDiscountId"),
        "/providers/Microsoft.BillingBenefits/savingsPlanOrders/order-1/savingsPlans/plan-a"
    );
    assert_eq!(get("CommitmentDiscountCategory"), "Spend");
    assert_eq!(get("CommitmentDiscountType"), "Savings Plan");
    assert_eq!(get("CommitmentDiscountStatus"), "Used");
    assert_eq!(get("CommitmentDiscountQuantity"), "3.9168");
    assert_eq!(get("CommitmentDiscountUnit"), "USD");
    assert_eq!(get("PricingCategory"), "Committed");

    l.benefit_type = "Reservation".into();
    let row = super::row(&l, 4_239_360, Markup::default(), &PARTY);
    let get = |name| cell(&row, name);
    assert_eq!(
        get("CommitmentDiscountId"),
        "/providers/Microsoft.Capacity/reservationOrders/order-1/reservations/plan-a"
    );
    assert_eq!(get("CommitmentDiscountCategory"), "Usage");
    assert_eq!(get("CommitmentDiscountQuantity"), "24");
    assert_eq!(get("CommitmentDiscountUnit"), "Hours");
}

#[test]
fn tags_become_one_flat_json_object() {
    assert_eq!(tags(""), "");
    assert_eq!(tags("{}"), "");
    assert_eq!(tags(r#""env": "prod", "n": 2"#), r#"{"env":"prod","n":2}"#);
    assert_eq!(
        tags(r#"{"env":"prod","owners":["a","b"],"x":{"y":1}}"#),
        r#"{"env":"prod","owners":"[\"a\",\"b\"]","x":"{\"y\":1}"}"#
    );
    assert_eq!(tags("env=prod"), r#"{"x_UnparsedTags":"env=prod"}"#);
}
