//! Price and margin ranked as a partner compares them: the proxy orders by
//! customer price (and lost credit) as plain numbers, which puts ¥648,064
//! above $4,038. With
//! a rate for every currency shown, prices compare in the reporting
//! currency; without, each currency is ranked on its own.

use super::{CustomerMargin, MarginReport};
use crate::rates::Rates;

/// How far a customer's margin fell, in basis points; 0 when it did not.
fn fall(c: &CustomerMargin) -> i64 {
    match (c.margin_basis_points, c.previous_margin_basis_points) {
        (Some(n), Some(b)) if c.margin_fell => b - n,
        _ => 0,
    }
}

impl MarginReport {
    /// Customers by margin fall (a percent compares across currencies),
    /// then price; meters by price.
    pub fn rank(&mut self, rates: &Rates) {
        let converts = rates.converts_all(
            self.customers
                .iter()
                .map(|c| c.currency.as_str())
                .chain(self.meters.iter().map(|m| m.currency.as_str()))
                .chain(self.lost_lines.iter().map(|l| l.currency.as_str())),
        );
        // (currency group, price): one group when prices convert.
        let key = |price: i64, currency: &str| {
            if converts {
                (
                    String::new(),
                    rates.convert(price, currency).unwrap_or(price),
                )
            } else {
                (currency.to_string(), price)
            }
        };
        self.customers.sort_by(|a, b| {
            let (ga, pa) = key(a.figures.customer_price, &a.currency);
            let (gb, pb) = key(b.figures.customer_price, &b.currency);
            fall(b)
                .cmp(&fall(a))
                .then(ga.cmp(&gb))
                .then(pb.cmp(&pa))
                .then_with(|| a.customer_id.cmp(&b.customer_id))
        });
        self.meters.sort_by(|a, b| {
            let (ga, pa) = key(a.figures.customer_price, &a.currency);
            let (gb, pb) = key(b.figures.customer_price, &b.currency);
            ga.cmp(&gb)
                .then(pb.cmp(&pa))
                .then_with(|| a.meter_id.cmp(&b.meter_id))
        });
        // The lines shown (the proxy keeps the largest by plain amount).
        self.lost_lines.sort_by(|a, b| {
            let (ga, la) = key(a.lost, &a.currency);
            let (gb, lb) = key(b.lost, &b.currency);
            ga.cmp(&gb)
                .then(lb.cmp(&la))
                .then_with(|| a.usage_date.cmp(&b.usage_date))
                .then_with(|| a.customer_id.cmp(&b.customer_id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::margin::{LostCreditLine, MarginFigures, MeterMargin};

    fn customer(id: &str, currency: &str, price: i64, fell: Option<(i64, i64)>) -> CustomerMargin {
        CustomerMargin {
            customer_id: id.into(),
            customer_name: id.into(),
            currency: currency.into(),
            figures: MarginFigures {
                customer_price: price,
                ..MarginFigures::default()
            },
            margin_basis_points: fell.map(|f| f.0),
            previous_margin_basis_points: fell.map(|f| f.1),
            margin_fell: fell.is_some(),
        }
    }

    fn report() -> MarginReport {
        MarginReport {
            customers: vec![
                customer("yen", "JPY", 648_064_000_000, None),
                customer("usd", "USD", 4_038_000_000, None),
                customer("eur", "EUR", 5_000_000_000, None),
                customer("fell", "USD", 10_000_000, Some((1_000, 1_500))),
            ],
            meters: vec![
                MeterMargin {
                    meter_id: "m-yen".into(),
                    currency: "JPY".into(),
                    figures: MarginFigures {
                        customer_price: 648_064_000_000,
                        ..MarginFigures::default()
                    },
                    ..MeterMargin::default()
                },
                MeterMargin {
                    meter_id: "m-usd".into(),
                    currency: "USD".into(),
                    figures: MarginFigures {
                        customer_price: 4_038_000_000,
                        ..MarginFigures::default()
                    },
                    ..MeterMargin::default()
                },
            ],
            lost_lines: vec![
                LostCreditLine {
                    customer_id: "yen".into(),
                    currency: "JPY".into(),
                    lost: 150_000_000,
                    ..LostCreditLine::default()
                },
                LostCreditLine {
                    customer_id: "usd".into(),
                    currency: "USD".into(),
                    lost: 5_000_000,
                    ..LostCreditLine::default()
                },
            ],
            ..MarginReport::default()
        }
    }

    fn ids(r: &MarginReport) -> (Vec<&str>, Vec<&str>) {
        (
            r.customers.iter().map(|c| c.customer_id.as_str()).collect(),
            r.meters.iter().map(|m| m.meter_id.as_str()).collect(),
        )
    }

    #[test]
    fn without_every_rate_each_currency_is_ranked_on_its_own() {
        let mut r = report();
        r.rank(&Rates {
            currency: "USD".into(),
            ..Rates::default()
        });
        assert_eq!(ids(&r).0, ["fell", "eur", "yen", "usd"]);
        assert_eq!(ids(&r).1, ["m-yen", "m-usd"]);
    }

    #[test]
    fn with_every_rate_prices_compare_in_the_reporting_currency() {
        let mut r = report();
        r.rank(&Rates {
            currency: "USD".into(),
            rates: vec![("EUR".into(), 1_080_000), ("JPY".into(), 6_700)],
            of: None,
        });
        // ¥648,064 is $4,342.03: above $4,038, below €5,000 ($5,400).
        assert_eq!(ids(&r).0, ["fell", "eur", "yen", "usd"]);
        assert_eq!(ids(&r).1, ["m-yen", "m-usd"]);
        let mut cheap = report();
        cheap.rank(&Rates {
            currency: "USD".into(),
            rates: vec![("EUR".into(), 1_080_000), ("JPY".into(), 6_000)],
            of: None,
        });
        // At 0.006 it is $3,888.38: below $4,038.
        assert_eq!(ids(&cheap).0, ["fell", "eur", "usd", "yen"]);
        assert_eq!(ids(&cheap).1, ["m-usd", "m-yen"]);
        // ¥150 of lost credit is $0.90: below $5.
        let lost: Vec<&str> = cheap
            .lost_lines
            .iter()
            .map(|l| l.customer_id.as_str())
            .collect();
        assert_eq!(lost, ["usd", "yen"]);
    }
}
