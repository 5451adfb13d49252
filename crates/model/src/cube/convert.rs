//! A pivot across currencies: ranked by converted amounts when the
//! partner's rates convert every currency in it, and within each currency
//! when they do not (¥101,575 is not more than $4,038); and the whole pivot
//! in the reporting currency, for one chart of all currencies.

use std::sync::Arc;

use chrono::NaiveDate;

use super::{Measure, Measures, Pivot, PivotRow};
use crate::rates::Rates;
use crate::report::checked_convert;

impl Measures {
    /// Money at `rate` (millionths); quantities and line counts as they are.
    fn converted(&self, rate: i64) -> Option<Measures> {
        Some(Measures {
            partner_cost: checked_convert(self.partner_cost, rate)?,
            customer_price: checked_convert(self.customer_price, rate)?,
            list_cost: checked_convert(self.list_cost, rate)?,
            quantity: self.quantity,
            lines: self.lines,
        })
    }

    fn checked_add(&mut self, other: &Measures) -> Option<()> {
        self.partner_cost = self.partner_cost.checked_add(other.partner_cost)?;
        self.customer_price = self.customer_price.checked_add(other.customer_price)?;
        self.list_cost = self.list_cost.checked_add(other.list_cost)?;
        self.quantity = self.quantity.checked_add(other.quantity)?;
        self.lines += other.lines;
        Some(())
    }
}

impl Pivot {
    /// Whether `rates` convert every currency of the pivot.
    pub fn converts_with(&self, rates: &Rates) -> bool {
        rates.converts_all(self.totals.iter().map(|(c, _)| c.as_str()))
    }

    /// Ranks the rows costliest first (by price where there is no cost):
    /// compared in the reporting currency when every currency converts,
    /// otherwise currency by currency.
    pub fn rank(&mut self, rates: &Rates) {
        let converts = self.converts_with(rates);
        // Each row's key once, not twice per comparison.
        let key = |r: &PivotRow| {
            let m = &r.total;
            if converts {
                let at = |v: i64| rates.convert(v, &r.currency).unwrap_or(v);
                (at(m.partner_cost), at(m.customer_price))
            } else {
                (m.partner_cost, m.customer_price)
            }
        };
        let order = |(ka, a): &((i64, i64), &PivotRow), (kb, b): &((i64, i64), &PivotRow)| {
            let currency_first = if converts {
                std::cmp::Ordering::Equal
            } else {
                a.currency.cmp(&b.currency)
            };
            currency_first
                .then(kb.0.cmp(&ka.0))
                .then(kb.1.cmp(&ka.1))
                .then_with(|| a.keys.cmp(&b.keys))
                .then_with(|| a.currency.cmp(&b.currency))
        };
        // Most often the pivot's own order already is the ranking (one
        // currency): checked in one pass, the rows are not moved at all.
        let keys: Vec<((i64, i64), &PivotRow)> = self.rows.iter().map(|r| (key(r), r)).collect();
        if keys.is_sorted_by(|a, b| order(a, b).is_le()) {
            return;
        }
        let mut ranked: Vec<usize> = (0..keys.len()).collect();
        ranked.sort_by(|a, b| order(&keys[*a], &keys[*b]));
        drop(keys);
        let mut rows: Vec<Option<PivotRow>> = std::mem::take(&mut self.rows)
            .into_iter()
            .map(Some)
            .collect();
        self.rows = ranked.into_iter().filter_map(|i| rows[i].take()).collect();
    }

    /// The pivot in the reporting currency: each row's total and buckets
    /// converted at its currency's rate, rows with the same keys merged.
    /// `None` when a currency has no rate or a sum would not fit.
    pub fn in_currency(&self, rates: &Rates) -> Option<Pivot> {
        let mut rows: Vec<PivotRow> = Vec::new();
        // The row of each keys, so that merging stays linear.
        let mut row_of: std::collections::HashMap<&[Arc<str>], usize> = Default::default();
        for r in &self.rows {
            let rate = rates.rate(&r.currency)?;
            let total = r.total.converted(rate)?;
            let series = r
                .series
                .iter()
                .map(|m| m.converted(rate))
                .collect::<Option<Vec<_>>>()?;
            match row_of.get(r.keys.as_slice()).map(|i| &mut rows[*i]) {
                Some(o) => {
                    o.total.checked_add(&total)?;
                    for (a, b) in o.series.iter_mut().zip(&series) {
                        a.checked_add(b)?;
                    }
                }
                None => {
                    row_of.insert(&r.keys, rows.len());
                    rows.push(PivotRow {
                        keys: r.keys.clone(),
                        currency: rates.currency.as_str().into(),
                        total,
                        series,
                    });
                }
            }
        }
        let mut sum = Measures::default();
        for (currency, m) in &self.totals {
            sum.checked_add(&m.converted(rates.rate(currency)?)?)?;
        }
        let mut pivot = Pivot {
            group_by: self.group_by.clone(),
            buckets: self.buckets.clone(),
            rows,
            totals: if self.totals.is_empty() {
                Vec::new()
            } else {
                vec![(rates.currency.clone(), sum)]
            },
        };
        pivot.rank(rates);
        Some(pivot)
    }

    /// Each bucket's total of `measure` over the rows in `currency`.
    pub fn bucket_totals(&self, measure: Measure, currency: &str) -> Vec<(NaiveDate, i64)> {
        let mut sums = vec![0i64; self.buckets.len()];
        for r in self.rows.iter().filter(|r| &*r.currency == currency) {
            for (s, m) in sums.iter_mut().zip(&r.series) {
                *s = s.saturating_add(m.get(measure));
            }
        }
        self.buckets.iter().copied().zip(sums).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cube::{Bucket, CubeBuilder, CubeRow, Dim, PivotQuery};

    fn cube() -> crate::cube::Cube {
        let mut b = CubeBuilder::new();
        for (customer, currency, day, cost) in [
            ("Contoso", "JPY", "2026-11-01", 101_575_000_000i64),
            ("Contoso", "JPY", "2026-11-02", 1_000_000_000),
            ("Fabrikam", "USD", "2026-11-01", 4_038_000_000),
            ("Fabrikam", "EUR", "2026-11-02", 100_000_000),
            ("Tailspin", "EUR", "2026-11-02", 3_000_000_000),
        ] {
            b.push(&CubeRow {
                customer,
                currency,
                day: day.parse().unwrap(),
                partner_cost: cost,
                customer_price: cost,
                ..CubeRow::default()
            });
        }
        b.finish()
    }

    fn by_customer() -> Pivot {
        cube().pivot(&PivotQuery {
            group_by: vec![Dim::Customer],
            bucket: Bucket::Day,
            ..Default::default()
        })
    }

    fn usd() -> Rates {
        Rates {
            currency: "USD".into(),
            rates: vec![("EUR".into(), 1_100_000), ("JPY".into(), 6_700)],
            of: None,
        }
    }

    fn order(p: &Pivot) -> Vec<(String, String)> {
        p.rows
            .iter()
            .map(|r| (r.keys[0].to_string(), r.currency.to_string()))
            .collect()
    }

    #[test]
    fn without_every_rate_rows_rank_within_their_currency() {
        let mut p = by_customer();
        let mut some = usd();
        some.rates.pop();
        p.rank(&some);
        assert_eq!(
            order(&p),
            [
                ("Tailspin", "EUR"),
                ("Fabrikam", "EUR"),
                ("Contoso", "JPY"),
                ("Fabrikam", "USD")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert!(p.in_currency(&some).is_none());
    }

    #[test]
    fn with_every_rate_rows_rank_by_converted_cost() {
        let mut p = by_customer();
        p.rank(&usd());
        // ¥102,575 is $687.25: below $4,038 and €3,000 ($3,300).
        assert_eq!(
            order(&p),
            [
                ("Fabrikam", "USD"),
                ("Tailspin", "EUR"),
                ("Contoso", "JPY"),
                ("Fabrikam", "EUR")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn the_pivot_in_one_currency_merges_and_keeps_every_cent() {
        let p = by_customer().in_currency(&usd()).unwrap();
        assert_eq!(p.totals.len(), 1);
        let names: Vec<&str> = p.rows.iter().map(|r| &*r.keys[0]).collect();
        assert_eq!(names, ["Fabrikam", "Tailspin", "Contoso"]);
        // Fabrikam: $4,038 plus €100 at 1.1.
        assert_eq!(p.rows[0].total.partner_cost, 4_148_000_000);
        assert_eq!(&*p.rows[0].currency, "USD");
        // ¥102,575 at 0.0067.
        assert_eq!(p.rows[2].total.partner_cost, 687_252_500);
        let total: i64 = p.rows.iter().map(|r| r.total.partner_cost).sum();
        assert_eq!(p.totals[0].1.partner_cost, total);
        // Buckets add up to the totals, day by day.
        let days = p.bucket_totals(Measure::PartnerCost, "USD");
        assert_eq!(days.iter().map(|(_, v)| v).sum::<i64>(), total);
        assert_eq!(
            days[0],
            ("2026-11-01".parse().unwrap(), 4_038_000_000 + 680_552_500)
        );
    }
}
