//! Cost analysis as partners know it from Azure Cost Management: the
//! accumulated cost of a period with its forecast to the period's end, and
//! a period compared with the one before it, row by row.

use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate};

use crate::cube::{Keys, Measure, Pivot};
use crate::forecast::{last_day_of_month, rest_of_month};
use crate::views::change_basis_points;

/// The running total of a period, day by day, and its forecast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accumulated {
    /// The total up to and including each day from the period's start to
    /// its last day with data; a day without usage keeps the total.
    pub actual: Vec<(NaiveDate, i64)>,
    /// From the last actual day to the period's end: the total with each
    /// day's predicted cost added ([`crate::forecast`]'s method). Empty
    /// when the period has no day after the last day with data.
    pub forecast: Vec<(NaiveDate, i64)>,
}

impl Accumulated {
    /// The period's total as far as it goes: the forecast's end, else the actual one.
    pub fn end_total(&self) -> i64 {
        self.forecast
            .last()
            .or(self.actual.last())
            .map_or(0, |(_, v)| *v)
    }
}

/// The day an accumulated chart of `from`–`to` runs to: a month to date
/// runs to the month's end (its forecast), any other period to its own end.
pub fn chart_end(from: NaiveDate, to: NaiveDate, as_of: NaiveDate) -> NaiveDate {
    let month_to_date =
        from.day() == 1 && (from.year(), from.month()) == (as_of.year(), as_of.month());
    if month_to_date && to == as_of {
        last_day_of_month(as_of)
    } else {
        to
    }
}

/// `daily` are the period's daily amounts, `history` the days before it
/// (for the forecast's weekday means; days outside both cost nothing). A
/// day of nothing still counts as history, as in the customer's own
/// forecast, whose days are dense from well before the month.
/// The forecast covers the days after `as_of` up to [`chart_end`], when
/// they fall in `as_of`'s month: beyond it there is no method to predict.
pub fn accumulated(
    daily: &[(NaiveDate, i64)],
    history: &[(NaiveDate, i64)],
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> Accumulated {
    let end = chart_end(from, to, as_of);
    let mut actual = Vec::new();
    let mut total = 0i64;
    let mut day = from;
    while day <= to.min(as_of) {
        total = daily
            .iter()
            .filter(|(d, _)| *d == day)
            .fold(total, |t, (_, v)| t.saturating_add(*v));
        actual.push((day, total));
        let Some(next) = day.checked_add_days(Days::new(1)) else {
            break;
        };
        day = next;
    }
    let mut forecast = Vec::new();
    if end > as_of && from <= as_of {
        let known: Vec<(NaiveDate, i64)> = history
            .iter()
            .filter(|(d, _)| *d < from)
            .chain(daily.iter().filter(|(d, _)| *d >= from && *d <= as_of))
            .copied()
            .collect();
        forecast.push((as_of, total));
        for (d, v) in rest_of_month(&known, as_of) {
            if d > end {
                break;
            }
            total = total.saturating_add(v);
            forecast.push((d, total));
        }
        if forecast.len() == 1 {
            forecast.clear();
        }
    }
    Accumulated { actual, forecast }
}

/// A row of a period beside the period before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    pub keys: Keys,
    pub currency: Arc<str>,
    pub now: i64,
    pub before: i64,
}

impl Compared {
    /// The change in basis points; `None` from nothing.
    pub fn change(&self) -> Option<i64> {
        change_basis_points(self.now, self.before)
    }
}

/// `now`'s rows in their order, each with the same row of `before` (keys
/// and currency), then the rows only `before` has: what stopped costing.
pub fn compare(now: &Pivot, before: &Pivot, measure: Measure) -> Vec<Compared> {
    // Rows found by their keys and currency, not by a search of the other
    // period's rows for each (thousands of customers made that quadratic).
    fn index(p: &Pivot, measure: Measure) -> std::collections::HashMap<(&[Arc<str>], &str), i64> {
        let mut index = std::collections::HashMap::new();
        for r in &p.rows {
            // The first row of the same keys, as a search would find.
            index
                .entry((r.keys.as_slice(), &*r.currency))
                .or_insert(r.total.get(measure));
        }
        index
    }
    let (now_of, before_of) = (index(now, measure), index(before, measure));
    let mut out: Vec<Compared> = now
        .rows
        .iter()
        .map(|r| Compared {
            keys: r.keys.clone(),
            currency: r.currency.clone(),
            now: r.total.get(measure),
            before: before_of
                .get(&(r.keys.as_slice(), &*r.currency))
                .copied()
                .unwrap_or(0),
        })
        .collect();
    for b in &before.rows {
        let seen = now_of.contains_key(&(b.keys.as_slice(), &*b.currency));
        if !seen {
            out.push(Compared {
                keys: b.keys.clone(),
                currency: b.currency.clone(),
                now: 0,
                before: b.total.get(measure),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cube::{Bucket, CubeBuilder, CubeRow, Dim, PivotQuery};
    use crate::forecast::month_end;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_month_to_date_runs_to_the_month_end_with_the_forecast() {
        // Five a day through October, seven a day in November up to the 20th.
        let history: Vec<(NaiveDate, i64)> = (0..31)
            .map(|k| (d("2026-10-01") + Days::new(k), 5))
            .collect();
        let daily: Vec<(NaiveDate, i64)> = (0..20)
            .filter(|k| k % 5 != 0)
            .map(|k| (d("2026-11-01") + Days::new(k), 7))
            .collect();
        let a = accumulated(
            &daily,
            &history,
            d("2026-11-01"),
            d("2026-11-20"),
            d("2026-11-20"),
        );
        assert_eq!(a.actual.len(), 20, "every day, those without usage too");
        assert_eq!(a.actual[0], (d("2026-11-01"), 0));
        assert_eq!(a.actual[1], (d("2026-11-02"), 7));
        assert_eq!(a.actual[19], (d("2026-11-20"), 16 * 7));
        assert_eq!(a.forecast.first(), Some(&(d("2026-11-20"), 112)));
        assert_eq!(a.forecast.last().unwrap().0, d("2026-11-30"));
        // The same total as the month-end forecast of the same days.
        let all: Vec<_> = history.iter().chain(&daily).copied().collect();
        assert_eq!(a.end_total(), month_end(&all, d("2026-11-20")).total);
    }

    #[test]
    fn a_past_or_rolling_period_has_no_forecast() {
        let daily = vec![(d("2026-10-03"), 4), (d("2026-10-31"), 6)];
        let a = accumulated(
            &daily,
            &[],
            d("2026-10-01"),
            d("2026-10-31"),
            d("2026-11-20"),
        );
        assert!(a.forecast.is_empty());
        assert_eq!(a.end_total(), 10);
        let a = accumulated(
            &daily,
            &[],
            d("2026-10-22"),
            d("2026-11-20"),
            d("2026-11-20"),
        );
        assert!(a.forecast.is_empty(), "30 days to the last day with data");
        assert_eq!(
            chart_end(d("2026-11-01"), d("2026-11-30"), d("2026-11-30")),
            d("2026-11-30")
        );
        assert_eq!(
            chart_end(d("2026-12-01"), d("2026-12-02"), d("2026-12-02")),
            d("2026-12-31")
        );
    }

    #[test]
    fn rows_meet_their_previous_selves_and_what_stopped_is_listed() {
        let cube = |rows: &[(&str, &str, i64)]| {
            let mut b = CubeBuilder::new();
            for (customer, currency, cost) in rows {
                b.push(&CubeRow {
                    customer,
                    currency,
                    day: d("2026-11-01"),
                    partner_cost: *cost,
                    ..CubeRow::default()
                });
            }
            b.finish().pivot(&PivotQuery {
                group_by: vec![Dim::Customer],
                bucket: Bucket::None,
                ..Default::default()
            })
        };
        let now = cube(&[("A", "USD", 150), ("B", "EUR", 80), ("C", "USD", 5)]);
        let before = cube(&[("A", "USD", 100), ("B", "USD", 70), ("D", "USD", 40)]);
        let c = compare(&now, &before, Measure::PartnerCost);
        let seen: Vec<(&str, &str, i64, i64, Option<i64>)> = c
            .iter()
            .map(|r| (&*r.keys[0], &*r.currency, r.now, r.before, r.change()))
            .collect();
        assert_eq!(
            seen,
            [
                ("A", "USD", 150, 100, Some(5_000)),
                // Euros are not compared with dollars.
                ("B", "EUR", 80, 0, None),
                ("C", "USD", 5, 0, None),
                ("B", "USD", 0, 70, Some(-10_000)),
                ("D", "USD", 0, 40, Some(-10_000)),
            ]
        );
    }
}
