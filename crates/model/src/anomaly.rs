//! Cost anomalies in a daily series.
//!
//! Method: a robust z-score over the trailing 28 days, after removing the
//! weekly rhythm. Each weekday's factor is the median of that weekday over
//! the window divided by the window's median; a day's cost is divided by its
//! weekday's factor, then compared with the median of the window's adjusted
//! costs, scaled by the median absolute deviation (MAD):
//! `z = 0.6745 × (x − median) / MAD` (Iglewicz and Hoaglin). A day is an
//! anomaly when `|z| > 3.5` and it differs from the median by at least 20 %
//! of it (so steady series with little spread do not flag small wobbles),
//! and by at least 2 % of the window's whole cost (so a small customer's
//! cents do not either).
//! At least 14 prior days are needed.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

pub const WINDOW: usize = 28;
pub const MIN_HISTORY: usize = 14;
pub const THRESHOLD: f64 = 3.5;
/// Smallest change, as a share of the usual cost, worth flagging.
pub const MIN_CHANGE: f64 = 0.2;
/// Smallest change in money worth flagging, as a share of the window's
/// whole cost (about half a usual day): "€0.93 where €1.18 was usual" is a
/// 21 % change of a steady series, and not worth a partner's look.
pub const MIN_SHARE_OF_WINDOW: f64 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anomaly {
    pub day: NaiveDate,
    pub cost: i64,
    /// What the window made of a normal day like this one.
    pub expected: i64,
    pub z: f64,
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Flags the days of `daily` (consecutive days, oldest first) that stand out
/// from their trailing window.
pub fn detect(daily: &[(NaiveDate, i64)]) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for t in MIN_HISTORY..daily.len() {
        let window = &daily[t.saturating_sub(WINDOW)..t];
        let mut all: Vec<f64> = window.iter().map(|(_, c)| *c as f64).collect();
        let overall = median(&mut all);
        let factor = |weekday: u32| -> f64 {
            let mut same: Vec<f64> = window
                .iter()
                .filter(|(d, _)| d.weekday().num_days_from_monday() == weekday)
                .map(|(_, c)| *c as f64)
                .collect();
            let m = median(&mut same);
            if overall > 0.0 && m > 0.0 {
                m / overall
            } else {
                1.0
            }
        };
        let factors: Vec<f64> = (0..7).map(factor).collect();
        let adjust = |(d, c): &(NaiveDate, i64)| {
            *c as f64 / factors[d.weekday().num_days_from_monday() as usize]
        };
        let mut adjusted: Vec<f64> = window.iter().map(adjust).collect();
        let center = median(&mut adjusted);
        let mut deviations: Vec<f64> = adjusted.iter().map(|x| (x - center).abs()).collect();
        let mad = median(&mut deviations).max(center.abs() * 0.001).max(1.0);
        let (day, cost) = daily[t];
        let x = adjust(&(day, cost));
        let z = 0.6745 * (x - center) / mad;
        let big_enough = (x - center).abs() >= center.abs() * MIN_CHANGE;
        let expected = center * factors[day.weekday().num_days_from_monday() as usize];
        let window_cost: f64 = window.iter().map(|(_, c)| (*c as f64).abs()).sum();
        let material = (cost as f64 - expected).abs() >= window_cost * MIN_SHARE_OF_WINDOW;
        if z.abs() > THRESHOLD && big_enough && material {
            out.push(Anomaly {
                day,
                cost,
                expected: expected.round() as i64,
                z,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;

    fn series(days: u64, f: impl Fn(u64, NaiveDate) -> i64) -> Vec<(NaiveDate, i64)> {
        let start: NaiveDate = "2026-09-01".parse().unwrap();
        (0..days)
            .map(|k| (start + Days::new(k), f(k, start + Days::new(k))))
            .collect()
    }

    /// Deterministic noise of ±5 %.
    fn noise(k: u64) -> i64 {
        ((k * 7919) % 11) as i64 - 5
    }

    #[test]
    fn a_spike_is_flagged_and_nothing_else() {
        let daily = series(60, |k, _| if k == 45 { 1_000 } else { 100 + noise(k) });
        let found = detect(&daily);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].day, daily[45].0);
        assert!(found[0].z > THRESHOLD);
    }

    #[test]
    fn weekends_are_not_anomalies_but_a_busy_sunday_is() {
        let rhythm = |k: u64, d: NaiveDate| {
            // Noise is proportional, as real costs' is.
            let base = if d.weekday().number_from_monday() >= 6 {
                300
            } else {
                1_000
            };
            base + base * noise(k) / 100
        };
        assert!(detect(&series(70, rhythm)).is_empty());
        let daily = series(70, |k, d| if k == 61 { 1_000 } else { rhythm(k, d) });
        assert_eq!(daily[61].0.weekday(), chrono::Weekday::Sun);
        let found = detect(&daily);
        assert_eq!(
            found.iter().map(|a| a.day).collect::<Vec<_>>(),
            [daily[61].0]
        );
    }

    #[test]
    fn a_small_change_of_a_small_steady_cost_is_not_worth_a_look() {
        // €1.18 a day, then €0.93: over 20 % and far outside a spread of
        // nothing, but a quarter of a euro against €33 in four weeks.
        let daily = series(40, |k, _| if k == 35 { 930_000 } else { 1_180_000 });
        assert!(detect(&daily).is_empty());
        // The same customer's day at five times its usual is still flagged.
        let daily = series(40, |k, _| if k == 35 { 5_900_000 } else { 1_180_000 });
        assert_eq!(detect(&daily).len(), 1);
    }

    #[test]
    fn a_drop_to_zero_is_flagged() {
        let daily = series(40, |k, _| if k == 35 { 0 } else { 500 + noise(k) });
        let found = detect(&daily);
        assert_eq!(found.len(), 1);
        assert!(found[0].z < -THRESHOLD);
    }

    #[test]
    fn a_small_wobble_in_a_steady_series_is_not_an_anomaly() {
        // ±5 % noise with one day 12 % up: unusual in z terms, not worth an alert.
        let daily = series(60, |k, _| {
            if k == 50 {
                1_120
            } else {
                1_000 + 10 * noise(k)
            }
        });
        assert!(detect(&daily).is_empty());
    }

    #[test]
    fn short_or_flat_series_flag_nothing() {
        assert!(detect(&series(10, |_, _| 1)).is_empty());
        assert!(detect(&series(60, |_, _| 1_000_000)).is_empty());
    }
}
