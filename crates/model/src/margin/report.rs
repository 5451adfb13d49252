//! The margin report built from lines one at a time, so that a long range
//! of a large partner needs memory for its groups, not for its lines: a
//! first pass over both periods finds the PEC rates ([`PecRates`]), a
//! second adds each line to its customer and meter ([`MarginBuilder`]).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    CustomerMargin, LOST_LINES_SHOWN, LineCredit, LostCreditLine, MarginReport, MeterMargin, Pec,
    margin_fell, previous_period, round_div,
};
use crate::report::CostPrice;
use crate::usage::LineItem;

/// A key of the map groups, fields joined by a separator no ID contains.
fn key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

/// PEC lost is judged per (customer, subscription, resource, meter).
fn credit_key(l: &LineItem) -> String {
    key(&[
        &l.customer_id,
        &l.entitlement_id,
        &l.resource_uri,
        &l.meter_id,
    ])
}

/// The highest PEC rate seen per (customer, subscription, resource, meter).
#[derive(Debug, Default, Clone)]
pub struct PecRates(HashMap<String, i32>);

impl PecRates {
    pub fn see(&mut self, l: &LineItem) {
        let r = self.0.entry(credit_key(l)).or_default();
        *r = (*r).max(l.pec_basis_points);
    }

    fn rate(&self, l: &LineItem) -> i32 {
        self.0.get(&credit_key(l)).copied().unwrap_or(0)
    }
}

/// The rates over `reference` (both periods' lines).
pub fn pec_rates<'a>(reference: impl IntoIterator<Item = &'a LineItem>) -> PecRates {
    let mut rates = PecRates::default();
    for l in reference {
        rates.see(l);
    }
    rates
}

/// The credit of one line, given the rates of both periods.
pub fn line_credit(l: &LineItem, rates: &PecRates) -> LineCredit {
    let list = l.list_total().micros();
    let cost = l.billing_total.micros();
    if l.pec_basis_points > 0 {
        return LineCredit {
            pec: Pec::Applied,
            earned: list - cost,
            lost: 0,
        };
    }
    match rates.rate(l) {
        0 => LineCredit {
            pec: Pec::NotEligible,
            earned: 0,
            lost: 0,
        },
        rate => LineCredit {
            pec: Pec::Lost,
            earned: 0,
            lost: round_div(list as i128 * rate as i128, 10_000),
        },
    }
}

fn by_lost_credit(a: &LostCreditLine, b: &LostCreditLine) -> std::cmp::Ordering {
    b.lost
        .cmp(&a.lost)
        .then(a.usage_date.cmp(&b.usage_date))
        .then(a.customer_id.cmp(&b.customer_id))
}

/// The report's groups, filled a line at a time once the rates are known.
#[derive(Debug)]
pub struct MarginBuilder {
    rates: PecRates,
    customers: HashMap<String, CustomerMargin>,
    meters: HashMap<String, MeterMargin>,
    /// The largest lost credits so far: at most twice what is shown, cut
    /// back to what is shown (a stable sort keeps the order a sort of all
    /// of them would give).
    lost_lines: Vec<LostCreditLine>,
    lost_lines_total: usize,
    before: HashMap<String, CostPrice>,
}

impl MarginBuilder {
    pub fn new(rates: PecRates) -> MarginBuilder {
        MarginBuilder {
            rates,
            customers: HashMap::new(),
            meters: HashMap::new(),
            lost_lines: Vec::new(),
            lost_lines_total: 0,
            before: HashMap::new(),
        }
    }

    /// A line of the period, with its customer price.
    pub fn add_current(&mut self, l: &LineItem, price: i64) {
        let credit = line_credit(l, &self.rates);
        let currency = l.billing_currency.code();
        let c = self
            .customers
            .entry(key(&[&l.customer_id, currency]))
            .or_insert_with(|| CustomerMargin {
                customer_id: l.customer_id.clone(),
                customer_name: l.customer_name.clone(),
                currency: currency.to_string(),
                ..Default::default()
            });
        c.figures.add(l, price, &credit);
        let m = self
            .meters
            .entry(key(&[&l.meter_id, currency]))
            .or_insert_with(|| MeterMargin {
                meter_id: l.meter_id.clone(),
                meter_name: l.meter_name.clone(),
                meter_category: l.meter_category.clone(),
                unit: l.unit.clone(),
                currency: currency.to_string(),
                ..Default::default()
            });
        m.quantity_micros += l.quantity_micros;
        m.figures.add(l, price, &credit);
        if credit.pec == Pec::Lost {
            self.lost_lines_total += 1;
            self.lost_lines.push(LostCreditLine {
                usage_date: l.usage_date.to_string(),
                customer_id: l.customer_id.clone(),
                customer_name: l.customer_name.clone(),
                subscription: l.entitlement_name.clone(),
                resource: l.resource_name().to_string(),
                meter_name: l.meter_name.clone(),
                currency: currency.to_string(),
                partner_cost: l.billing_total.micros(),
                list_cost: l.list_total().micros(),
                lost: credit.lost,
            });
            if self.lost_lines.len() >= 2 * LOST_LINES_SHOWN {
                self.lost_lines.sort_by(by_lost_credit);
                self.lost_lines.truncate(LOST_LINES_SHOWN);
            }
        }
    }

    /// A line of the previous period, with its customer price.
    pub fn add_previous(&mut self, l: &LineItem, price: i64) {
        let b = self
            .before
            .entry(key(&[&l.customer_id, l.billing_currency.code()]))
            .or_default();
        b.partner_cost += l.billing_total.micros();
        b.customer_price += price;
    }

    /// The report of the range `from..=to`.
    pub fn finish(self, (from, to): (NaiveDate, NaiveDate)) -> MarginReport {
        let (previous_from, previous_to) = previous_period(from, to);
        let before = self.before;
        let mut customers: Vec<CustomerMargin> = self
            .customers
            .into_iter()
            .map(|(key, mut c)| {
                c.margin_basis_points = c.figures.margin_basis_points();
                c.previous_margin_basis_points =
                    before.get(&key).and_then(|b| b.margin_basis_points());
                c.margin_fell = margin_fell(c.margin_basis_points, c.previous_margin_basis_points);
                c
            })
            .collect();
        let fall =
            |c: &CustomerMargin| match (c.margin_basis_points, c.previous_margin_basis_points) {
                (Some(n), Some(b)) if c.margin_fell => b - n,
                _ => 0,
            };
        customers.sort_by(|a, b| {
            fall(b)
                .cmp(&fall(a))
                .then(b.figures.customer_price.cmp(&a.figures.customer_price))
                .then(a.customer_id.cmp(&b.customer_id))
                .then(a.currency.cmp(&b.currency))
        });
        let mut meters: Vec<MeterMargin> = self
            .meters
            .into_values()
            .map(|mut m| {
                m.margin_basis_points = m.figures.margin_basis_points();
                m
            })
            .collect();
        meters.sort_by(|a, b| {
            b.figures
                .customer_price
                .cmp(&a.figures.customer_price)
                .then(a.meter_id.cmp(&b.meter_id))
                .then(a.currency.cmp(&b.currency))
        });
        let mut lost_lines = self.lost_lines;
        lost_lines.sort_by(by_lost_credit);
        lost_lines.truncate(LOST_LINES_SHOWN);
        MarginReport {
            from: from.to_string(),
            to: to.to_string(),
            previous_from: previous_from.to_string(),
            previous_to: previous_to.to_string(),
            customers,
            meters,
            lost_lines,
            lost_lines_total: self.lost_lines_total,
        }
    }
}

/// Builds the report from the period's lines and the previous period's,
/// each with its customer price (millionths of the billing currency).
pub fn margin_report(
    range: (NaiveDate, NaiveDate),
    current: &[(LineItem, i64)],
    previous: &[(LineItem, i64)],
) -> MarginReport {
    let rates = pec_rates(current.iter().chain(previous).map(|(l, _)| l));
    let mut builder = MarginBuilder::new(rates);
    for (l, price) in current {
        builder.add_current(l, *price);
    }
    for (l, price) in previous {
        builder.add_previous(l, *price);
    }
    builder.finish(range)
}
