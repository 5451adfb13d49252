//! Billing periods, invoices and line-item feeds over the generated usage.

use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate};
use model::{Amount, Currency};
use serde_json::{Value, json};

use crate::usage::{self, date_of, day_number};
use crate::world::World;

/// One line item of a feed: which customer's which series on which day.
#[derive(Debug, Clone, Copy)]
pub struct LineRef {
    pub day: i64,
    pub customer: u32,
    pub series: u32,
    pub quantity: f64,
}

/// Indexed feeds by partner, currency, first day and commerce.
pub type FeedCache = std::sync::Mutex<
    std::collections::HashMap<(usize, Currency, i64, Commerce), Arc<Vec<LineRef>>>,
>;

/// Which customers' usage: billed the old way, the new way, or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Commerce {
    New,
    Legacy,
    All,
}

/// A partner's invoice: the usage of one month in one currency, of new
/// commerce (`G…`) or of legacy commerce (`D…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRef {
    pub id: String,
    pub month: NaiveDate,
    pub currency: Currency,
    pub commerce: Commerce,
}

/// Partner Center closes a month's usage into an invoice around the 8th.
const INVOICE_DAY: u32 = 8;

pub fn first_of_month(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid")
}

fn midnight(d: NaiveDate) -> String {
    format!("{}T00:00:00Z", d.format("%Y-%m-%d"))
}

impl World {
    /// `[first, last]` days of the open (current) billing period.
    pub fn current_period(&self) -> (i64, i64) {
        (day_number(first_of_month(self.today)), self.window.1)
    }

    /// `[first, last]` of last month, if its invoice is not issued yet.
    pub fn previous_period(&self) -> Option<(i64, i64)> {
        if self.today.day() >= INVOICE_DAY {
            return None;
        }
        let this = first_of_month(self.today);
        let prev = this.checked_sub_months(Months::new(1)).expect("in range");
        (day_number(prev) >= self.window.0).then(|| (day_number(prev), day_number(this) - 1))
    }

    /// First days of the months already invoiced, oldest first.
    pub fn invoiced_months(&self) -> Vec<NaiveDate> {
        let this = first_of_month(self.today);
        let last = this
            .checked_sub_months(Months::new(if self.today.day() >= INVOICE_DAY {
                1
            } else {
                2
            }))
            .expect("in range");
        let mut month = first_of_month(date_of(self.window.0));
        let mut out = Vec::new();
        while month <= last {
            out.push(month);
            month = month.checked_add_months(Months::new(1)).expect("in range");
        }
        out
    }

    /// The currencies a partner's customers are billed in, in a fixed order.
    pub fn currencies(&self, partner: usize) -> Vec<Currency> {
        let mut out: Vec<Currency> = self.partners[partner]
            .customers
            .iter()
            .map(|c| c.currency)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Invoice IDs name the kind, the month and the currency: `G2025100002`
    /// for new commerce, `D2025100002` for legacy commerce.
    pub fn invoice_id(
        &self,
        partner: usize,
        month: NaiveDate,
        currency: Currency,
        commerce: Commerce,
    ) -> String {
        let index = self
            .currencies(partner)
            .iter()
            .position(|c| *c == currency)
            .unwrap_or(0);
        let kind = if commerce == Commerce::Legacy {
            'D'
        } else {
            'G'
        };
        format!("{kind}{}{:02}{:04}", month.year(), month.month(), index + 1)
    }

    /// Every invoice of a partner, oldest month first: per month and
    /// currency one of new commerce, and one of legacy commerce where a
    /// customer billed in that currency is a legacy one.
    pub fn invoices(&self, partner: usize) -> Vec<InvoiceRef> {
        let mut out = Vec::new();
        for month in self.invoiced_months() {
            for currency in self.currencies(partner) {
                for commerce in [Commerce::New, Commerce::Legacy] {
                    let any = self.partners[partner].customers.iter().any(|c| {
                        c.currency == currency
                            && (c.legacy_commerce == (commerce == Commerce::Legacy))
                    });
                    if any {
                        out.push(InvoiceRef {
                            id: self.invoice_id(partner, month, currency, commerce),
                            month,
                            currency,
                            commerce,
                        });
                    }
                }
            }
        }
        out
    }

    /// One of this partner's invoices.
    pub fn invoice(&self, partner: usize, id: &str) -> Option<InvoiceRef> {
        self.invoices(partner)
            .into_iter()
            .find(|i| i.id.eq_ignore_ascii_case(id))
    }

    /// Whether new-commerce usage of this billing month is served only by
    /// Graph's billing export.
    pub fn after_cutover(&self, month: NaiveDate) -> bool {
        first_of_month(month) >= self.v2_from
    }

    /// The lines of an invoice.
    pub fn invoice_lines(&self, partner: usize, invoice: &InvoiceRef) -> Arc<Vec<LineRef>> {
        let next = invoice
            .month
            .checked_add_months(Months::new(1))
            .expect("in range");
        self.feed_of(
            partner,
            invoice.currency,
            day_number(invoice.month),
            day_number(next) - 1,
            invoice.commerce,
        )
    }

    /// Every line item of a partner in a currency between two days,
    /// ordered by day, customer and series; indexed once, then cached.
    pub fn feed(
        &self,
        partner: usize,
        currency: Currency,
        from: i64,
        to: i64,
    ) -> Arc<Vec<LineRef>> {
        self.feed_of(partner, currency, from, to, Commerce::All)
    }

    /// Like [`World::feed`], of new- or legacy-commerce customers only.
    pub fn feed_of(
        &self,
        partner: usize,
        currency: Currency,
        from: i64,
        to: i64,
        commerce: Commerce,
    ) -> Arc<Vec<LineRef>> {
        let key = (partner, currency, from, commerce);
        if let Some(feed) = self.feeds.lock().expect("feeds poisoned").get(&key) {
            return feed.clone();
        }
        let mut lines = Vec::new();
        let customers = &self.partners[partner].customers;
        for day in from..=to.min(self.window.1) {
            for (ci, c) in customers.iter().enumerate() {
                let wanted = match commerce {
                    Commerce::All => true,
                    Commerce::Legacy => c.legacy_commerce,
                    Commerce::New => !c.legacy_commerce,
                };
                if c.currency == currency && wanted {
                    lines.extend(self.customer_day(partner, ci, day));
                }
            }
        }
        let feed = Arc::new(lines);
        self.feeds
            .lock()
            .expect("feeds poisoned")
            .insert(key, feed.clone());
        feed
    }

    /// The line items of one customer on one day: a series with use that day.
    fn customer_day(
        &self,
        partner: usize,
        customer: usize,
        day: i64,
    ) -> impl Iterator<Item = LineRef> + '_ {
        let c = &self.partners[partner].customers[customer];
        let gap = self.gap_days.contains(&day);
        c.series.iter().enumerate().filter_map(move |(si, s)| {
            if gap {
                return None;
            }
            let meter = &self.catalog[s.meter];
            usage::quantity(
                self.seed,
                meter,
                s,
                c.key ^ si as u64,
                &c.trend,
                self.window.0,
                day,
            )
            .map(|quantity| LineRef {
                day,
                customer: customer as u32,
                series: si as u32,
                quantity,
            })
        })
    }

    pub(crate) fn pec_applied(&self, partner: usize, line: &LineRef) -> bool {
        let c = &self.partners[partner].customers[line.customer as usize];
        !c.trend
            .pec_lost
            .iter()
            .any(|&(a, b)| (a..=b).contains(&line.day))
    }

    /// What the partner pays for one line, in the customer's billing currency.
    pub fn line_cost(&self, partner: usize, line: &LineRef) -> Amount {
        let c = &self.partners[partner].customers[line.customer as usize];
        let meter = &self.catalog[c.series[line.series as usize].meter];
        usage::price(
            meter,
            line.quantity,
            c.currency,
            self.pec_applied(partner, line),
        )
        .billing_total
    }

    /// The sum of a feed's line items, as an invoice or a summary totals them.
    pub fn total(&self, partner: usize, lines: &[LineRef]) -> Amount {
        lines.iter().map(|l| self.line_cost(partner, l)).sum()
    }

    /// The JSON of one line item; `invoice` is set for billed usage.
    pub fn line_item(&self, partner: usize, line: &LineRef, invoice: Option<&str>) -> Value {
        let p = &self.partners[partner];
        let c = &p.customers[line.customer as usize];
        let s = &c.series[line.series as usize];
        let meter = &self.catalog[s.meter];
        let pec = self.pec_applied(partner, line);
        let priced = usage::price(meter, line.quantity, c.currency, pec);
        let date = date_of(line.day);
        let month = first_of_month(date);
        let (entitlement, entitlement_name) =
            &c.entitlements[s.entitlement.min(c.entitlements.len() - 1)];
        let credit_type = if priced.pec_rate > 0.0 {
            "Partner Earned Credit Applied"
        } else {
            "Credit Not Applied"
        };
        let product_name = if meter.category == meter.subcategory {
            meter.category.to_string()
        } else {
            format!("{} {}", meter.category, meter.subcategory)
        };
        // The reference's daily rated usage line item, field for field.
        json!({
            "partnerId": p.tenant_id.to_string(),
            "partnerName": p.name,
            "customerId": c.id.to_string(),
            "customerName": c.company_name,
            "customerDomainName": c.domain,
            "customerCountry": c.country,
            "invoiceNumber": invoice.unwrap_or_default(),
            "mpnId": p.mpn_id,
            "resellerMpnId": "",
            "productId": "DZH318Z0BQ3Q",
            "skuId": "0001",
            "availabilityId": "DZH318Z0BQ3Q0001",
            "skuName": meter.sku,
            "productName": product_name,
            "publisherName": meter.publisher,
            "publisherId": "",
            "subscriptionId": c.plan.to_string(),
            "subscriptionDescription": "Azure plan",
            "chargeStartDate": midnight(month),
            "chargeEndDate": midnight(month.checked_add_months(Months::new(1)).expect("in range")),
            "usageDate": midnight(date),
            "meterType": meter.unit,
            "meterCategory": meter.category,
            "meterId": meter.id.to_string(),
            "meterSubCategory": meter.subcategory,
            "meterName": meter.name,
            "meterRegion": s.meter_region,
            "unitOfMeasure": meter.unit,
            "resourceLocation": s.location.to_ascii_uppercase(),
            "consumedService": meter.consumed_service,
            "resourceGroup": s.resource_group,
            "resourceUri": format!(
                "/subscriptions/{entitlement}/resourceGroups/{}/providers/{}/{}",
                s.resource_group, s.provider, s.resource_name
            ),
            "tags": s.tags,
            "additionalInfo": "",
            "serviceInfo1": "",
            "serviceInfo2": "",
            "chargeType": "new",
            "unitPrice": priced.unit_price,
            "quantity": line.quantity,
            "unitType": "",
            "billingPreTaxTotal": priced.billing_total,
            "billingCurrency": c.currency.code(),
            "pricingPreTaxTotal": priced.pricing_total,
            "pricingCurrency": "USD",
            "entitlementId": entitlement.to_string(),
            "entitlementDescription": entitlement_name,
            "pcToBCExchangeRate": priced.fx_micros as f64 / 1e6,
            "pcToBCExchangeRateDate": midnight(month),
            // A JSON number, as the documented example has it.
            "effectiveUnitPrice": priced.effective_unit_price.to_string().parse::<f64>().unwrap_or_default(),
            "rateOfPartnerEarnedCredit": priced.pec_rate,
            "rateOfCredit": priced.pec_rate,
            "creditType": credit_type,
            "invoiceLineItemType": "usage_line_items",
            "billingProvider": if meter.publisher == "Microsoft" { "azure_data_market" } else { "marketplace" },
            "hasPartnerEarnedCredit": priced.pec_rate > 0.0,
            "attributes": { "objectType": "DailyRatedUsageLineItem" },
        })
    }

    /// A customer's cost in the open period, in its billing currency.
    pub fn customer_period_cost(&self, partner: usize, customer: usize) -> Amount {
        let (from, to) = self.current_period();
        self.customer_cost(partner, customer, from, to)
    }

    fn customer_cost(&self, partner: usize, customer: usize, from: i64, to: i64) -> Amount {
        (from..=to.min(self.window.1))
            .flat_map(|day| self.customer_day(partner, customer, day))
            .map(|line| self.line_cost(partner, &line))
            .sum()
    }
}

/// Gives about half the customers a monthly budget near their usual spend,
/// some of them below it, so some customers are over budget.
pub fn seed_budgets(world: &World) {
    let this = first_of_month(world.today);
    let Some(prev) = this.checked_sub_months(Months::new(1)) else {
        return;
    };
    let (from, to) = (day_number(prev), day_number(this) - 1);
    if from < world.window.0 {
        return;
    }
    for (pi, p) in world.partners.iter().enumerate() {
        for (ci, c) in p.customers.iter().enumerate() {
            let r = usage::unit(world.seed, c.key, 77);
            if r < 0.5 {
                let usual = world.customer_cost(pi, ci, from, to);
                let factor = 0.8 + r * 1.4;
                let budget =
                    Amount::from_micros((usual.micros() as f64 * factor) as i64).round_to(0);
                let budget = if budget == Amount::ZERO {
                    Amount::parse_decimal("100").expect("valid")
                } else {
                    budget
                };
                *c.budget.lock().expect("budget poisoned") = Some(budget);
            }
        }
    }
}
