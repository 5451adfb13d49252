//! Month-end forecast from daily costs.
//!
//! Method: each remaining day of the month is predicted as the mean of the
//! same weekday over the trailing 28 days (four samples when history allows),
//! which carries the weekly rhythm of business workloads. With less than a
//! week of history, the mean of the days there are is used instead. The
//! forecast is the month's actual cost so far plus the predicted rest; all
//! sums are in integer millionths.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    /// Cost of the month's days up to and including `as_of`.
    pub actual: i64,
    /// Predicted cost of the month's remaining days.
    pub rest: i64,
    /// `actual + rest`.
    pub total: i64,
    pub as_of: NaiveDate,
    pub month_end: NaiveDate,
}

pub fn last_day_of_month(d: NaiveDate) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid");
    first.checked_add_months(Months::new(1)).expect("in range") - Days::new(1)
}

/// `daily` holds the cost of each day (missing days cost nothing); `as_of`
/// is the last complete day. Returns the forecast for `as_of`'s month.
pub fn month_end(daily: &[(NaiveDate, i64)], as_of: NaiveDate) -> Forecast {
    let month_start = NaiveDate::from_ymd_opt(as_of.year(), as_of.month(), 1).expect("valid");
    let actual: i64 = daily
        .iter()
        .filter(|(d, _)| *d >= month_start && *d <= as_of)
        .map(|(_, c)| *c)
        .sum();
    let rest: i64 = rest_of_month(daily, as_of).iter().map(|(_, c)| *c).sum();
    Forecast {
        actual,
        rest,
        total: actual + rest,
        as_of,
        month_end: last_day_of_month(as_of),
    }
}

/// Each day of `as_of`'s month after `as_of`, with its predicted cost: the
/// days [`month_end`] adds up, for a chart that draws them.
pub fn rest_of_month(daily: &[(NaiveDate, i64)], as_of: NaiveDate) -> Vec<(NaiveDate, i64)> {
    let cost =
        |d: NaiveDate| -> i64 { daily.iter().filter(|(x, _)| *x == d).map(|(_, c)| *c).sum() };
    let first_known = daily.iter().map(|(d, _)| *d).min();
    let history_days = first_known
        .map_or(0, |f| (as_of - f).num_days() + 1)
        .clamp(0, 28);
    let mut out = Vec::new();
    let mut day = as_of + Days::new(1);
    while day <= last_day_of_month(as_of) {
        let predicted: i128 = if history_days >= 7 {
            // The same weekday in each of the last four weeks that history
            // covers, counted back from `as_of`: a day four weeks or more
            // after it (the month's last days, seen from its first) still
            // has its weekday's four samples.
            let weeks_ahead = (day - as_of).num_days().saturating_sub(1) / 7;
            let samples: Vec<i64> = (1..=4)
                .map(|w| day - Days::new(7 * (w + weeks_ahead as u64)))
                .filter(|d| (as_of - *d).num_days() < history_days && *d <= as_of)
                .map(cost)
                .collect();
            samples.iter().map(|c| *c as i128).sum::<i128>() / samples.len().max(1) as i128
        } else if history_days > 0 {
            let days: Vec<i64> = (0..history_days)
                .map(|k| cost(as_of - Days::new(k as u64)))
                .collect();
            days.iter().map(|c| *c as i128).sum::<i128>() / days.len() as i128
        } else {
            0
        };
        out.push((day, predicted as i64));
        day = day + Days::new(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(from: &str, days: u64, f: impl Fn(NaiveDate) -> i64) -> Vec<(NaiveDate, i64)> {
        let start: NaiveDate = from.parse().unwrap();
        (0..days)
            .map(|k| start + Days::new(k))
            .map(|d| (d, f(d)))
            .collect()
    }

    #[test]
    fn a_flat_series_forecasts_exactly() {
        let daily = series("2026-10-01", 56, |_| 100_000_000);
        let f = month_end(&daily, "2026-11-25".parse().unwrap());
        assert_eq!(f.actual, 25 * 100_000_000);
        assert_eq!(f.total, 30 * 100_000_000);
        assert_eq!(f.month_end, "2026-11-30".parse().unwrap());
    }

    /// Weekdays cost 100, weekends 20.
    fn rhythm(d: NaiveDate) -> i64 {
        if d.weekday().number_from_monday() >= 6 {
            20
        } else {
            100
        }
    }

    #[test]
    fn a_weekly_rhythm_is_carried_forward() {
        let daily = series("2026-10-01", 46, rhythm);
        let as_of: NaiveDate = "2026-11-15".parse().unwrap();
        let f = month_end(&daily, as_of);
        let expected: i64 = (1..=30)
            .map(|d| rhythm(NaiveDate::from_ymd_opt(2026, 11, d).unwrap()))
            .sum();
        assert_eq!(f.total, expected);
    }

    /// Seen from the 1st, the month's last days are four weeks and more
    /// ahead: they too get their weekday's samples (they were forecast at
    /// nothing, so the 1st's forecast missed the 30th and 31st).
    #[test]
    fn the_last_days_seen_from_the_first_are_forecast_too() {
        let daily = series("2026-11-01", 31, rhythm);
        let as_of: NaiveDate = "2026-12-01".parse().unwrap();
        let f = month_end(&daily, as_of);
        let expected: i64 = (1..=31)
            .map(|d| rhythm(NaiveDate::from_ymd_opt(2026, 12, d).unwrap()))
            .sum();
        assert_eq!(f.total, expected);
        assert!(rest_of_month(&daily, as_of).iter().all(|(_, c)| *c > 0));
    }

    #[test]
    fn a_short_history_uses_its_mean() {
        let daily = series("2026-11-01", 3, |_| 30);
        let f = month_end(&daily, "2026-11-03".parse().unwrap());
        assert_eq!(f.total, 30 * 30);
    }

    #[test]
    fn no_history_forecasts_nothing_more() {
        let f = month_end(&[], "2026-11-03".parse().unwrap());
        assert_eq!((f.actual, f.rest), (0, 0));
    }

    #[test]
    fn the_last_day_of_the_month_has_nothing_left() {
        let daily = series("2026-10-01", 61, |_| 5);
        let f = month_end(&daily, "2026-11-30".parse().unwrap());
        assert_eq!((f.actual, f.rest), (150, 0));
    }
}
