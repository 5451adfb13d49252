//! Price and margin: margin per customer and per meter, partner-earned
//! credit (PEC) applied or lost per line, and customers whose margin fell
//! against the previous period.
//!
//! PEC lost is judged per (customer, subscription, resource, meter): a line
//! with no credit is *lost* when the same resource and meter earned credit on
//! another day of the period or the previous one (the usual cause is the
//! partner's admin rights lapsing for some days). The credit it would have
//! earned is its list cost at the highest rate seen for that key. A meter that
//! never earned credit is *not eligible*, not lost.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::export::decimal;
use crate::report::CostPrice;
use crate::usage::LineItem;
use crate::views::table_csv;

mod rank;
mod report;
pub use report::{MarginBuilder, PecRates, line_credit, margin_report, pec_rates};

/// A margin that fell by this many basis points or more is flagged.
pub const MARGIN_FALL_BASIS_POINTS: i64 = 100;

/// Whether a margin (basis points of price) fell by a point or more.
pub fn margin_fell(now: Option<i64>, before: Option<i64>) -> bool {
    matches!((now, before), (Some(n), Some(b)) if n <= b - MARGIN_FALL_BASIS_POINTS)
}

/// The period a range is compared with: whole months with as many whole
/// months before them (November with all of October), the same days of the
/// previous month when the range starts on the 1st and stays in one month
/// (month to date is compared like for like), otherwise as many days just
/// before it.
pub fn previous_period(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let whole_months = from.day() == 1
        && to >= from
        && to
            .checked_add_days(Days::new(1))
            .is_some_and(|d| d.day() == 1);
    if whole_months {
        let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
        if let Some(start) = from.checked_sub_months(Months::new(months as u32)) {
            return (start, from - Days::new(1));
        }
    }
    let one_month = from.day() == 1 && from.year() == to.year() && from.month() == to.month();
    if one_month && let Some(start) = from.checked_sub_months(Months::new(1)) {
        // Clamped: 31 March compares with the last day of February.
        let end = to
            .checked_sub_months(Months::new(1))
            .unwrap_or(from - Days::new(1));
        return (start, end);
    }
    // Checked: a day near chrono's ends has no day so far before it.
    let days = (to - from).num_days().unsigned_abs() + 1;
    let day_before = from.checked_sub_days(Days::new(1)).unwrap_or(from);
    (
        from.checked_sub_days(Days::new(days))
            .unwrap_or(NaiveDate::MIN),
        day_before,
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Pec {
    /// Credit earned on this line.
    Applied,
    /// No credit, though this resource and meter earned it on other days.
    Lost,
    /// The meter earned no credit in the period or the one before.
    NotEligible,
}

/// One line's credit: its status, the credit earned (list cost minus partner
/// cost) and the credit lost (an estimate), in the billing currency's millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCredit {
    pub pec: Pec,
    pub earned: i64,
    pub lost: i64,
}

pub(crate) fn round_div(n: i128, d: i128) -> i64 {
    let q = if n >= 0 {
        (n + d / 2) / d
    } else {
        (n - d / 2) / d
    };
    q as i64
}

/// Sums of a group of lines, in one billing currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarginFigures {
    pub partner_cost: i64,
    pub list_cost: i64,
    pub customer_price: i64,
    pub pec_earned: i64,
    pub pec_lost: i64,
    /// Lines that lost credit.
    pub lost_lines: u32,
}

impl MarginFigures {
    pub fn add(&mut self, l: &LineItem, customer_price: i64, credit: &LineCredit) {
        self.partner_cost += l.billing_total.micros();
        self.list_cost += l.list_total().micros();
        self.customer_price += customer_price;
        self.pec_earned += credit.earned;
        self.pec_lost += credit.lost;
        self.lost_lines += u32::from(credit.pec == Pec::Lost);
    }

    pub fn cost_price(&self) -> CostPrice {
        CostPrice {
            partner_cost: self.partner_cost,
            customer_price: self.customer_price,
        }
    }

    pub fn margin(&self) -> i64 {
        self.customer_price - self.partner_cost
    }

    pub fn margin_basis_points(&self) -> Option<i64> {
        self.cost_price().margin_basis_points()
    }
}

/// Margin of one customer in one currency, with the previous period's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerMargin {
    pub customer_id: String,
    pub customer_name: String,
    pub currency: String,
    pub figures: MarginFigures,
    pub margin_basis_points: Option<i64>,
    pub previous_margin_basis_points: Option<i64>,
    pub margin_fell: bool,
}

/// Margin of one meter in one currency (across the customers in scope).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterMargin {
    pub meter_id: String,
    pub meter_name: String,
    pub meter_category: String,
    pub unit: String,
    pub currency: String,
    pub quantity_micros: i64,
    pub figures: MarginFigures,
    pub margin_basis_points: Option<i64>,
}

/// A line that lost its credit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LostCreditLine {
    pub usage_date: String,
    pub customer_id: String,
    pub customer_name: String,
    pub subscription: String,
    pub resource: String,
    pub meter_name: String,
    pub currency: String,
    pub partner_cost: i64,
    pub list_cost: i64,
    /// The credit the line would have earned at the resource's usual rate.
    pub lost: i64,
}

/// What the Price and margin view shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarginReport {
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    /// Highest margin fall first, then by customer price.
    pub customers: Vec<CustomerMargin>,
    /// Largest customer price first.
    pub meters: Vec<MeterMargin>,
    /// Largest lost credit first, at most [`LOST_LINES_SHOWN`].
    pub lost_lines: Vec<LostCreditLine>,
    /// All lines that lost credit, shown or not.
    pub lost_lines_total: usize,
}

pub const LOST_LINES_SHOWN: usize = 500;

fn percent(basis_points: Option<i64>) -> String {
    basis_points
        .map(|b| decimal(b * 10_000))
        .unwrap_or_default()
}

/// The customers table as CSV (money as decimals, margins in percent).
pub fn customers_csv(report: &MarginReport) -> String {
    let rows: Vec<Vec<String>> = report
        .customers
        .iter()
        .map(|c| {
            vec![
                c.customer_name.clone(),
                c.customer_id.clone(),
                c.currency.clone(),
                decimal(c.figures.partner_cost),
                decimal(c.figures.list_cost),
                decimal(c.figures.customer_price),
                decimal(c.figures.margin()),
                percent(c.margin_basis_points),
                percent(c.previous_margin_basis_points),
                if c.margin_fell { "yes" } else { "" }.into(),
                decimal(c.figures.pec_earned),
                decimal(c.figures.pec_lost),
                c.figures.lost_lines.to_string(),
            ]
        })
        .collect();
    table_csv(
        &[
            "Customer",
            "Customer ID",
            "Currency",
            "Partner cost",
            "List cost",
            "Customer price",
            "Margin",
            "Margin %",
            "Previous margin %",
            "Margin fell",
            "PEC earned",
            "PEC lost",
            "Lines without PEC",
        ],
        &rows,
    )
}

/// The meters table as CSV.
pub fn meters_csv(report: &MarginReport) -> String {
    let rows: Vec<Vec<String>> = report
        .meters
        .iter()
        .map(|m| {
            vec![
                m.meter_name.clone(),
                m.meter_id.clone(),
                m.meter_category.clone(),
                decimal(m.quantity_micros),
                m.unit.clone(),
                m.currency.clone(),
                decimal(m.figures.partner_cost),
                decimal(m.figures.customer_price),
                decimal(m.figures.margin()),
                percent(m.margin_basis_points),
                decimal(m.figures.pec_earned),
                decimal(m.figures.pec_lost),
            ]
        })
        .collect();
    table_csv(
        &[
            "Meter",
            "Meter ID",
            "Service",
            "Quantity",
            "Unit",
            "Currency",
            "Partner cost",
            "Customer price",
            "Margin",
            "Margin %",
            "PEC earned",
            "PEC lost",
        ],
        &rows,
    )
}

/// The lines that lost credit, as CSV.
pub fn lost_lines_csv(report: &MarginReport) -> String {
    let rows: Vec<Vec<String>> = report
        .lost_lines
        .iter()
        .map(|l| {
            vec![
                l.usage_date.clone(),
                l.customer_name.clone(),
                l.subscription.clone(),
                l.resource.clone(),
                l.meter_name.clone(),
                l.currency.clone(),
                decimal(l.list_cost),
                decimal(l.partner_cost),
                decimal(l.lost),
            ]
        })
        .collect();
    table_csv(
        &[
            "Day (UTC)",
            "Customer",
            "Subscription",
            "Resource",
            "Meter",
            "Currency",
            "List cost",
            "Partner cost",
            "PEC lost",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Amount, Currency};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A line of `units` at 1.00 list; `pec` in basis points lowers the cost.
    fn line(customer: &str, meter: &str, date: &str, units: i64, pec: i32) -> LineItem {
        let list = units * 1_000_000;
        let cost = list - list * pec as i64 / 10_000;
        LineItem {
            key: 0,
            customer_id: customer.into(),
            customer_name: format!("{customer} Ltd"),
            subscription_id: "plan".into(),
            entitlement_id: "sub".into(),
            entitlement_name: "Sub".into(),
            usage_date: day(date),
            meter_id: meter.into(),
            meter_name: format!("{meter} meter"),
            meter_category: "Compute".into(),
            meter_subcategory: String::new(),
            unit: "1 Hour".into(),
            publisher: "Microsoft".into(),
            region: "westeurope".into(),
            resource_group: "rg".into(),
            resource_uri: format!("/r/{meter}"),
            tags: String::new(),
            charge_type: "new".into(),
            quantity_micros: units * 1_000_000,
            unit_price: crate::exact::from_micros(1_000_000),
            effective_unit_price: crate::exact::from_micros(1_000_000 - 100 * pec as i64),
            pricing_total: Amount::from_micros(cost),
            pricing_currency: Currency::EUR,
            billing_total: Amount::from_micros(cost),
            billing_currency: Currency::EUR,
            fx_micros: 1_000_000,
            pec_basis_points: pec,
            credit_type: String::new(),
            invoice_number: String::new(),
            benefit_id: String::new(),
            benefit_order_id: String::new(),
            benefit_type: String::new(),
        }
    }

    #[test]
    fn the_previous_period_is_like_for_like() {
        assert_eq!(
            previous_period(day("2026-11-01"), day("2026-11-26")),
            (day("2026-10-01"), day("2026-10-26"))
        );
        assert_eq!(
            previous_period(day("2026-03-01"), day("2026-03-31")),
            (day("2026-02-01"), day("2026-02-28"))
        );
        // A whole month with the whole month before it, not its first 30 days.
        assert_eq!(
            previous_period(day("2026-11-01"), day("2026-11-30")),
            (day("2026-10-01"), day("2026-10-31"))
        );
        assert_eq!(
            previous_period(day("2026-09-01"), day("2026-11-30")),
            (day("2026-06-01"), day("2026-08-31"))
        );
        assert_eq!(
            previous_period(day("2026-10-15"), day("2026-11-14")),
            (day("2026-09-14"), day("2026-10-14"))
        );
    }

    /// Found by mutation testing, values worked out by hand: a range inside
    /// one month that does not start on the 1st compares with the days just
    /// before it; a refund's lost credit rounds half away from zero; sums add.
    #[test]
    fn mid_month_ranges_refunds_and_sums() {
        assert_eq!(
            previous_period(day("2026-11-10"), day("2026-11-20")),
            (day("2026-10-30"), day("2026-11-09"))
        );
        assert_eq!(round_div(15_000, 10_000), 2);
        assert_eq!(round_div(-15_000, 10_000), -2);
        assert_eq!(round_div(-14_999, 10_000), -1);
        // A refunded day (-4 units) of a meter that earns 15 % elsewhere:
        // 15 % of -4.00 lost is -0.60.
        let lines = [
            line("a", "vm", "2026-11-01", 10, 1_500),
            line("a", "vm", "2026-11-02", -4, 0),
        ];
        let rates = pec_rates(&lines);
        assert_eq!(line_credit(&lines[1], &rates).lost, -600_000);
        let mut sums = MarginFigures::default();
        sums.add(&lines[0], 11_000_000, &line_credit(&lines[0], &rates));
        sums.add(&lines[1], -4_400_000, &line_credit(&lines[1], &rates));
        assert_eq!(sums.list_cost, 6_000_000);
        assert_eq!(sums.partner_cost, 8_500_000 - 4_000_000);
        assert_eq!(sums.customer_price, 6_600_000);
        assert_eq!(
            (sums.pec_earned, sums.pec_lost, sums.lost_lines),
            (1_500_000, -600_000, 1)
        );
    }

    #[test]
    fn credit_is_applied_lost_or_not_eligible() {
        let lines = [
            line("a", "vm", "2026-11-01", 10, 1_500),
            line("a", "vm", "2026-11-02", 10, 0),
            line("a", "disk", "2026-11-02", 4, 0),
        ];
        let rates = pec_rates(&lines);
        assert_eq!(
            line_credit(&lines[0], &rates),
            LineCredit {
                pec: Pec::Applied,
                earned: 1_500_000,
                lost: 0
            }
        );
        assert_eq!(
            line_credit(&lines[1], &rates),
            LineCredit {
                pec: Pec::Lost,
                earned: 0,
                lost: 1_500_000
            }
        );
        assert_eq!(line_credit(&lines[2], &rates).pec, Pec::NotEligible);
    }

    #[test]
    fn the_report_sums_margins_and_flags_a_fall() {
        // List-price customers: price 1.00 per unit. "a" earned 15 % PEC last
        // month and lost it for a day this month; "b" never had it.
        let at_list = |l: LineItem| {
            let price = l.list_total().micros();
            (l, price)
        };
        let current = vec![
            at_list(line("a", "vm", "2026-11-01", 10, 1_500)),
            at_list(line("a", "vm", "2026-11-02", 10, 0)),
            at_list(line("b", "disk", "2026-11-01", 3, 0)),
        ];
        let previous = vec![
            at_list(line("a", "vm", "2026-10-01", 10, 1_500)),
            at_list(line("a", "vm", "2026-10-02", 10, 1_500)),
            at_list(line("b", "disk", "2026-10-01", 3, 0)),
        ];
        let r = margin_report((day("2026-11-01"), day("2026-11-02")), &current, &previous);
        assert_eq!(
            (r.previous_from.as_str(), r.previous_to.as_str()),
            ("2026-10-01", "2026-10-02")
        );
        let a = &r.customers[0];
        assert_eq!(a.customer_id, "a");
        assert_eq!(a.figures.partner_cost, 18_500_000);
        assert_eq!(a.figures.customer_price, 20_000_000);
        assert_eq!(a.figures.pec_earned, 1_500_000);
        assert_eq!(a.figures.pec_lost, 1_500_000);
        assert_eq!(a.figures.lost_lines, 1);
        assert_eq!(a.margin_basis_points, Some(750));
        assert_eq!(a.previous_margin_basis_points, Some(1_500));
        assert!(a.margin_fell);
        let b = &r.customers[1];
        assert_eq!((b.margin_basis_points, b.margin_fell), (Some(0), false));
        assert_eq!(r.meters[0].meter_id, "vm");
        assert_eq!(r.meters[0].quantity_micros, 20_000_000);
        assert_eq!(r.meters[0].margin_basis_points, Some(750));
        assert_eq!(r.lost_lines_total, 1);
        assert_eq!(r.lost_lines[0].usage_date, "2026-11-02");
        assert_eq!(r.lost_lines[0].lost, 1_500_000);
        // Totals equal the lines'.
        let cost: i64 = r.customers.iter().map(|c| c.figures.partner_cost).sum();
        let lines: i64 = current.iter().map(|(l, _)| l.billing_total.micros()).sum();
        assert_eq!(cost, lines);
    }

    #[test]
    fn the_csv_carries_the_report() {
        let mut r = MarginReport::default();
        r.customers.push(CustomerMargin {
            customer_id: "a".into(),
            customer_name: "=Adatum".into(),
            currency: "EUR".into(),
            figures: MarginFigures {
                partner_cost: 18_500_000,
                list_cost: 20_000_000,
                customer_price: 20_000_000,
                pec_earned: 1_500_000,
                pec_lost: 1_500_000,
                lost_lines: 1,
            },
            margin_basis_points: Some(750),
            previous_margin_basis_points: Some(1_500),
            margin_fell: true,
        });
        let csv = customers_csv(&r);
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("Customer,Customer ID,Currency")
        );
        // Formula-safe: a leading '=' is neutralised by the CSV writer.
        assert_eq!(
            lines.next().unwrap(),
            "\"'=Adatum\",a,EUR,18.5,20,20,1.5,7.5,15,yes,1.5,1.5,1"
        );
    }

    #[test]
    fn a_fall_is_a_point_or_more() {
        assert!(margin_fell(Some(1_400), Some(1_500)));
        assert!(!margin_fell(Some(1_401), Some(1_500)));
        assert!(!margin_fell(None, Some(1_500)));
        assert!(!margin_fell(Some(0), None));
    }

    /// More lost lines than are shown, many tied: the builder keeps at most
    /// twice the shown number at any time, and shows what sorting every
    /// lost line would.
    #[test]
    fn lost_lines_are_cut_to_the_largest_as_a_sort_of_all_would() {
        let mut current = Vec::new();
        let mut previous = Vec::new();
        for i in 0..1_700i64 {
            let meter = format!("m{}", i % 40);
            previous.push((
                line(&format!("c{}", i % 3), &meter, "2026-09-03", 1, 1_500),
                0,
            ));
            let date = format!("2026-10-{:02}", 1 + i % 28);
            // Ties: the same loss on many lines and days.
            current.push((line(&format!("c{}", i % 3), &meter, &date, 1 + i % 7, 0), 0));
        }
        let report = margin_report((day("2026-10-01"), day("2026-10-31")), &current, &previous);
        let rates = pec_rates(current.iter().chain(&previous).map(|(l, _)| l));
        let mut all: Vec<(i64, String, String)> = current
            .iter()
            .map(|(l, _)| (line_credit(l, &rates), l))
            .filter(|(c, _)| c.pec == Pec::Lost)
            .map(|(c, l)| (c.lost, l.usage_date.to_string(), l.customer_id.clone()))
            .collect();
        let total = all.len();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        all.truncate(LOST_LINES_SHOWN);
        let shown: Vec<(i64, String, String)> = report
            .lost_lines
            .iter()
            .map(|l| (l.lost, l.usage_date.clone(), l.customer_id.clone()))
            .collect();
        assert!(total > 2 * LOST_LINES_SHOWN, "{total}");
        assert_eq!(report.lost_lines_total, total);
        assert_eq!(shown, all);
    }
}
