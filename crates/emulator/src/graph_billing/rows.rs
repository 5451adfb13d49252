//! The export files' rows: each usage line of the scope as Graph's
//! attributes, in the forms the documents leave open.

use std::io::Write;

use model::Amount;
use serde_json::json;

use super::{Export, Scope};
use crate::billing::{LineRef, first_of_month};
use crate::usage::date_of;
use crate::world::World;

pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Whether a line is covered by two savings-plan benefits (one resource-
/// day in about eleven of virtual machines' hours): two rows of it.
/// Where a number goes in a row, replaced by its digits once written.
const NUMBER: &str = "#number#";

pub(super) fn split(world: &World, partner: usize, line: &LineRef) -> bool {
    let c = &world.partners[partner].customers[line.customer as usize];
    let meter = &world.catalog[c.series[line.series as usize].meter];
    meter.category == "Virtual Machines"
        && (line.day as u64 + line.series as u64 * 7 + c.key).is_multiple_of(11)
}

/// The rows `from..to` of an export, in order (only those are written);
/// every `unreadable_every`th row (if any) with a usage date that is none.
pub(super) fn render_rows(
    world: &World,
    export: &Export,
    lines: &[LineRef],
    range: std::ops::Range<usize>,
    unreadable_every: usize,
) -> Vec<String> {
    let (from, to) = (range.start, range.end);
    let invoice = match &export.scope {
        Scope::Billed(i) => Some(i.id.as_str()),
        Scope::Unbilled { .. } => None,
    };
    let mut rows = Vec::new();
    let mut index = 0;
    for line in lines {
        if index >= to {
            break;
        }
        let two = split(world, export.partner, line);
        let next = index + if two { 2 } else { 1 };
        if next > from {
            let base = Row::of(world, export.partner, line, invoice);
            let pieces = if two {
                let (a, b) = base.split();
                vec![a, b]
            } else {
                vec![base]
            };
            for (k, row) in pieces.into_iter().enumerate() {
                let at = index + k;
                if (from..to).contains(&at) {
                    let mut text = row.json(at);
                    if unreadable_every > 0 && (at + 1).is_multiple_of(unreadable_every) {
                        text = text.replacen("\"UsageDate\":\"", "\"UsageDate\":\"day ", 1);
                    }
                    rows.push(text);
                }
            }
        }
        index = next;
    }
    rows
}

/// The values of one row, before it is written.
struct Row<'a> {
    world: &'a World,
    partner: usize,
    line: LineRef,
    invoice: Option<&'a str>,
    quantity_micros: i64,
    billing_total: Amount,
    pricing_total: Amount,
    benefit: Option<(&'static str, &'static str)>,
}

impl<'a> Row<'a> {
    fn of(world: &'a World, partner: usize, line: &LineRef, invoice: Option<&'a str>) -> Row<'a> {
        let priced = world.price_line(partner, line);
        Row {
            world,
            partner,
            line: *line,
            invoice,
            quantity_micros: (line.quantity * 1e6).round() as i64,
            billing_total: priced.billing_total,
            pricing_total: priced.pricing_total,
            benefit: None,
        }
    }

    /// Two rows of one line: three fifths and the rest, to the millionth.
    fn split(self) -> (Row<'a>, Row<'a>) {
        let part = |v: i64| v * 3 / 5;
        let a = Row {
            quantity_micros: part(self.quantity_micros),
            billing_total: Amount::from_micros(part(self.billing_total.micros())),
            pricing_total: Amount::from_micros(part(self.pricing_total.micros())),
            benefit: Some(("sp-order-1", "sp-benefit-a")),
            ..self
        };
        let b = Row {
            quantity_micros: self.quantity_micros - a.quantity_micros,
            billing_total: self.billing_total - a.billing_total,
            pricing_total: self.pricing_total - a.pricing_total,
            benefit: Some(("sp-order-1", "sp-benefit-b")),
            world: self.world,
            partner: self.partner,
            line: self.line,
            invoice: self.invoice,
        };
        (a, b)
    }

    /// The row as the export writes it: numbers as JSON numbers or, in
    /// every fourth row, as text; the usage date in one of three forms.
    fn json(&self, index: usize) -> String {
        let world = self.world;
        let p = &world.partners[self.partner];
        let c = &p.customers[self.line.customer as usize];
        let s = &c.series[self.line.series as usize];
        let meter = &world.catalog[s.meter];
        let priced = world.price_line(self.partner, &self.line);
        let day = date_of(self.line.day);
        let month = first_of_month(day);
        let month_end = month
            .checked_add_months(chrono::Months::new(1))
            .expect("in range")
            - chrono::Days::new(1);
        let (entitlement, entitlement_name) =
            &c.entitlements[s.entitlement.min(c.entitlements.len() - 1)];
        let decimal = |a: Amount| {
            let t = a.to_decimal_string(6);
            let t = t.trim_end_matches('0').trim_end_matches('.').to_string();
            if t.is_empty() || t == "-" {
                "0".into()
            } else {
                t
            }
        };
        let text_numbers = index % 4 == 1;
        let number = |v: String| if text_numbers { format!("\"{v}\"") } else { v };
        let usage_date = match index % 4 {
            2 => format!("{}T00:00:00", day.format("%Y-%m-%d")),
            3 => format!("{} 0:00", day.format("%-m/%-d/%Y")),
            _ => format!("{}T00:00:00Z", day.format("%Y-%m-%d")),
        };
        let (benefit_order, benefit_id, benefit_type) = match self.benefit {
            Some((order, id)) => (order, id, "SavingsPlan"),
            None => ("", "", ""),
        };
        let credit_type = if priced.pec_rate > 0.0 {
            "Partner Earned Credit Applied"
        } else {
            "Credit Not Applied"
        };
        let resource_uri = format!(
            "/subscriptions/{entitlement}/resourceGroups/{}/providers/{}/{}",
            s.resource_group, s.provider, s.resource_name
        );
        let mut row = json!({
            "PartnerId": p.tenant_id.to_string(),
            "PartnerName": p.name,
            "CustomerId": c.id.to_string(),
            "CustomerName": c.company_name,
            "CustomerDomainName": c.domain,
            "CustomerCountry": c.country,
            "MpnId": p.mpn_id,
            "Tier2MpnId": "",
            "InvoiceNumber": self.invoice.unwrap_or_default(),
            "ProductId": "DZH318Z0BQ3Q",
            "SkuId": "0001",
            "AvailabilityId": "DZH318Z0BQ3Q0001",
            "SkuName": meter.sku,
            "ProductName": meter.category,
            "PublisherName": meter.publisher,
            "PublisherId": "",
            "SubscriptionDescription": "Azure plan",
            "SubscriptionId": c.plan.to_string(),
            "ChargeStartDate": format!("{}T00:00:00Z", month.format("%Y-%m-%d")),
            "ChargeEndDate": format!("{}T00:00:00Z", month_end.format("%Y-%m-%d")),
            "UsageDate": usage_date,
            "MeterType": meter.unit,
            "MeterCategory": meter.category,
            "MeterId": meter.id.to_string(),
            "MeterSubCategory": meter.subcategory,
            "MeterName": meter.name,
            "MeterRegion": s.meter_region,
            "Unit": meter.unit,
            "ResourceLocation": s.location.to_ascii_uppercase(),
            "ConsumedService": meter.consumed_service,
            "ResourceGroup": s.resource_group,
            "ResourceURI": resource_uri,
            "ChargeType": "New",
            "UnitPrice": NUMBER,
            "Quantity": NUMBER,
            "UnitType": meter.unit,
            "BillingPreTaxTotal": NUMBER,
            "BillingCurrency": c.currency.code(),
            "PricingPreTaxTotal": NUMBER,
            "PricingCurrency": "USD",
            "ServiceInfo1": "",
            "ServiceInfo2": "",
            "Tags": s.tags,
            "AdditionalInfo": "",
            "EffectiveUnitPrice": NUMBER,
            "PCToBCExchangeRate": NUMBER,
            "PCToBCExchangeRateDate": format!("{}T00:00:00Z", month.format("%Y-%m-%d")),
            "EntitlementId": entitlement.to_string(),
            "EntitlementDescription": entitlement_name,
            "PartnerEarnedCreditPercentage": if priced.pec_rate > 0.0 { 15 } else { 0 },
            "CreditPercentage": 0,
            "CreditType": credit_type,
            "BenefitOrderId": benefit_order,
            "BenefitId": benefit_id,
            "BenefitType": benefit_type,
        });
        if index % 7 == 5 {
            // A field no page documents yet.
            row["x_SettlementCurrencyFuture"] = json!({"note": "not documented"});
        }
        // The numbers go in as written, so the JSON keeps their digits, in
        // the places the documented row has them.
        let fx = Amount::from_micros(priced.fx_micros);
        let mut text = row.to_string();
        for value in [
            decimal(priced.unit_price),
            decimal(Amount::from_micros(self.quantity_micros)),
            decimal(self.billing_total),
            decimal(self.pricing_total),
            model::exact::text(priced.effective_unit_price),
            decimal(fx),
        ] {
            text = text.replacen(&format!("\"{NUMBER}\""), &number(value), 1);
        }
        text
    }
}
