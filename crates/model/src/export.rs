//! Files people take away: CSV of any table, and FOCUS rows (the FinOps
//! Open Cost and Usage Specification, v1.2) for a customer or the partner.

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::money::Amount;
use crate::usage::LineItem;

/// Whether a spreadsheet could run this cell as a formula (OWASP's CSV
/// injection rule): `=`, `+`, `-`, `@`, a tab or a carriage return first,
/// in their full-width forms too, and after any leading white space (which
/// spreadsheets skip). A negative number is a number.
pub fn formula_like(field: &str) -> bool {
    if field.starts_with(['\t', '\r']) {
        return true;
    }
    let rest = field.trim_start();
    let first = rest.chars().next();
    matches!(
        first,
        Some('=' | '+' | '@' | '\t' | '\r' | '＝' | '＋' | '＠' | '－')
    ) || (first == Some('-') && rest.parse::<f64>().is_err())
}

/// Appends one CSV record (RFC 4180). Formula-like text ([`formula_like`])
/// is prefixed with `'` so that a customer-controlled name or tag cannot
/// become a formula.
pub fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = field.as_ref();
        let risky = formula_like(field);
        let needs_quotes = risky || field.contains([',', '"', '\n', '\r']) || field.trim() != field;
        if needs_quotes {
            out.push('"');
            if risky {
                out.push('\'');
            }
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// A line's usage cells, from its Azure subscription to its quantity, as
/// both line-item CSVs (the partner's and a customer's own) write them.
pub fn usage_cells(l: &LineItem) -> [String; 9] {
    [
        l.entitlement_name.clone(),
        l.resource_group.clone(),
        l.resource_name().to_string(),
        l.meter_category.clone(),
        l.meter_subcategory.clone(),
        l.meter_name.clone(),
        l.region.clone(),
        l.unit.clone(),
        decimal(l.quantity_micros),
    ]
}

/// Exact decimal text of an amount in millionths.
pub fn decimal(micros: i64) -> String {
    let text = Amount::from_micros(micros).to_decimal_string(6);
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() || trimmed == "-" {
        "0".into()
    } else {
        trimmed.into()
    }
}

/// The FOCUS columns this export fills, in order.
pub const FOCUS_COLUMNS: &[&str] = &[
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
    "SkuId",
    "SkuMeter",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
];

/// FOCUS's service categories for Azure's meter categories.
pub fn service_category(meter_category: &str) -> &'static str {
    match meter_category {
        "Virtual Machines"
        | "Azure App Service"
        | "Azure Functions"
        | "Azure Kubernetes Service"
        | "Virtual Machine Licenses"
        | "Cloud Services" => "Compute",
        "Storage" | "Backup" => "Storage",
        "Bandwidth" | "Virtual Network" | "Load Balancer" | "VPN Gateway" => "Networking",
        "SQL Database" | "Azure Cosmos DB" | "Azure Database for PostgreSQL" | "Redis Cache" => {
            "Databases"
        }
        "Log Analytics" | "Azure Monitor" => "Management and Governance",
        "Key Vault" | "Microsoft Defender for Cloud" => "Security",
        _ => "Other",
    }
}

fn midnight(d: NaiveDate) -> String {
    format!("{}T00:00:00Z", d.format("%Y-%m-%d"))
}

/// `Microsoft.Compute/virtualMachines` from a resource URI.
pub fn resource_type(uri: &str) -> String {
    let parts: Vec<&str> = uri.split('/').collect();
    match parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("providers"))
    {
        Some(i) if i + 2 < parts.len() => format!("{}/{}", parts[i + 1], parts[i + 2]),
        _ => String::new(),
    }
}

/// Who sells: the partner is the provider and the invoice issuer; the
/// customer is the billing account; Microsoft (or a marketplace vendor)
/// is the publisher.
pub struct FocusParty<'a> {
    pub partner_name: &'a str,
}

/// One FOCUS row for a line item; `customer_price` is what the customer is
/// billed for it (markup applied), in the billing currency.
pub fn focus_row(line: &LineItem, customer_price: i64, party: &FocusParty<'_>) -> Vec<String> {
    let day = line.usage_date;
    let period_start = NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("valid");
    let period_end = period_start
        .checked_add_months(Months::new(1))
        .expect("in range");
    let list_cost = line.list_total().micros();
    let list_unit = line.unit_price.times_micros(line.fx_micros).micros();
    let contracted_unit = if line.quantity_micros != 0 {
        (customer_price as i128 * 1_000_000 / line.quantity_micros as i128) as i64
    } else {
        0
    };
    let quantity = decimal(line.quantity_micros);
    let currency = line.billing_currency.code().to_string();
    vec![
        decimal(customer_price),
        line.customer_id.clone(),
        line.customer_name.clone(),
        "Customer".into(),
        currency.clone(),
        midnight(period_end),
        midnight(period_start),
        "Usage".into(),
        String::new(),
        format!("{} ({})", line.meter_name, line.meter_subcategory),
        "Usage-Based".into(),
        midnight(day + Days::new(1)),
        midnight(day),
        quantity.clone(),
        line.unit.clone(),
        decimal(customer_price),
        decimal(contracted_unit),
        decimal(customer_price),
        line.invoice_number.clone(),
        party.partner_name.into(),
        decimal(list_cost),
        decimal(list_unit),
        "Standard".into(),
        currency,
        quantity,
        line.unit.clone(),
        party.partner_name.into(),
        line.publisher.clone(),
        line.region.clone(),
        line.region.clone(),
        line.resource_uri.clone(),
        line.resource_name().into(),
        resource_type(&line.resource_uri),
        service_category(&line.meter_category).into(),
        line.meter_category.clone(),
        line.meter_id.clone(),
        line.meter_name.clone(),
        line.meter_id.clone(),
        line.entitlement_id.clone(),
        line.entitlement_name.clone(),
        "Subscription".into(),
        if line.tags.trim().is_empty() {
            "{}".into()
        } else {
            line.tags.clone()
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let mut out = String::new();
        write_record(
            &mut out,
            &[
                "plain",
                "a,b",
                "say \"hi\"",
                "=HYPERLINK(\"x\")",
                "-12.5",
                "-x",
                " pad",
            ],
        );
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",-12.5,\"'-x\",\" pad\"\r\n"
        );
    }

    #[test]
    fn decimals_are_exact_and_short() {
        assert_eq!(decimal(30_719_733), "30.719733");
        assert_eq!(decimal(1_500_000), "1.5");
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(-2_000_000), "-2");
    }

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
            region: "eastus".into(),
            resource_group: "rg".into(),
            resource_uri: "/subscriptions/e1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1".into(),
            tags: r#"{"env":"prod"}"#.into(),
            charge_type: "new".into(),
            quantity_micros: 24_000_000,
            unit_price: Amount::from_micros(192_000),
            effective_unit_price: Amount::from_micros(163_200),
            pricing_total: Amount::from_micros(3_916_800),
            pricing_currency: Currency::USD,
            billing_total: Amount::from_micros(3_603_456),
            billing_currency: Currency::EUR,
            fx_micros: 920_000,
            pec_basis_points: 1500,
            credit_type: "Partner Earned Credit Applied".into(),
            invoice_number: String::new(),
            benefit_id: String::new(),
            benefit_order_id: String::new(),
            benefit_type: String::new(),
        }
    }

    #[test]
    fn a_focus_row_names_the_partner_as_provider_and_microsoft_as_publisher() {
        let row = focus_row(
            &line(),
            4_239_360,
            &FocusParty {
                partner_name: "Contoso Cloud Partners",
            },
        );
        assert_eq!(row.len(), FOCUS_COLUMNS.len());
        let get = |name: &str| row[FOCUS_COLUMNS.iter().position(|c| *c == name).unwrap()].as_str();
        assert_eq!(get("ProviderName"), "Contoso Cloud Partners");
        assert_eq!(get("InvoiceIssuerName"), "Contoso Cloud Partners");
        assert_eq!(get("PublisherName"), "Microsoft");
        assert_eq!(get("BilledCost"), "4.23936");
        // List: 0.192 USD × 24 h × 0.92 EUR/USD.
        assert_eq!(get("ListCost"), "4.23936");
        assert_eq!(get("BillingCurrency"), "EUR");
        assert_eq!(get("ChargePeriodStart"), "2026-11-03T00:00:00Z");
        assert_eq!(get("ChargePeriodEnd"), "2026-11-04T00:00:00Z");
        assert_eq!(get("BillingPeriodStart"), "2026-11-01T00:00:00Z");
        assert_eq!(get("ServiceCategory"), "Compute");
        assert_eq!(get("ResourceType"), "Microsoft.Compute/virtualMachines");
        assert_eq!(get("ResourceName"), "vm1");
        assert_eq!(get("SubAccountName"), "Production");
        assert_eq!(get("ContractedUnitPrice"), "0.17664");
    }
}
