//! Where a [`Stack`]'s bars go in a chart: positives up and negatives down
//! from zero, the tallest stack setting the scale. Both of the browser's
//! renderings (the partner's app and the customer's own page) draw this.

use super::{OTHER, Stack};

/// The chart's drawing area, in SVG user units.
pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 220.0;
/// Room for the axis' labels around the bars.
pub const PAD: f64 = 32.0;
/// Series colours come from the stylesheet (`s0` … `s7`, `other`).
const PALETTE: usize = 8;

/// One series' part of one bucket's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub bucket: usize,
    pub series: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The bars of a stack, the highest stack's amount and where zero is.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub segments: Vec<Segment>,
    /// The tallest positive stack (at least 1, so an empty scale has a size).
    pub top: i64,
    /// The zero line's height in the chart.
    pub zero: f64,
}

impl Stack {
    /// The bars in a [`WIDTH`] × [`HEIGHT`] chart; a zero amount has no
    /// segment, any other at least half a unit tall so that it can be seen.
    pub fn bars(&self) -> Bars {
        let n = self.buckets.len();
        let (mut top, mut bottom) = (1i64, 0i64);
        for i in 0..n {
            let up: i64 = self.series.iter().map(|s| s.values[i].max(0)).sum();
            let down: i64 = self.series.iter().map(|s| s.values[i].min(0)).sum();
            top = top.max(up);
            bottom = bottom.min(down);
        }
        let span = (top - bottom) as f64;
        let y = |v: i64| PAD + (HEIGHT - 2.0 * PAD) * ((top - v) as f64 / span);
        let slot = (WIDTH - 2.0 * PAD) / n.max(1) as f64;
        let width = (slot * 0.8).max(1.0);
        let mut segments = Vec::new();
        for i in 0..n {
            let (mut up, mut down) = (0i64, 0i64);
            for (k, s) in self.series.iter().enumerate() {
                let v = s.values[i];
                if v == 0 {
                    continue;
                }
                let (from, to) = if v > 0 {
                    up += v;
                    (up - v, up)
                } else {
                    down += v;
                    (down - v, down)
                };
                let (y1, y2) = (y(from.max(to)), y(from.min(to)));
                segments.push(Segment {
                    bucket: i,
                    series: k,
                    x: PAD + slot * i as f64 + (slot - width) / 2.0,
                    y: y1,
                    width,
                    height: (y2 - y1).max(0.5),
                });
            }
        }
        Bars {
            segments,
            top,
            zero: y(0),
        }
    }

    /// The stylesheet's class of a series: its place in the palette, or
    /// `other` for the one that gathers the rest.
    pub fn series_class(&self, series: usize) -> String {
        if self.series[series].label == OTHER {
            "other".into()
        } else {
            format!("s{}", series % PALETTE)
        }
    }
}

/// A coordinate with one decimal, `12.3`, written from whole tenths: the
/// browser's wasm then carries no float formatting (issue 23).
pub fn tenths(v: f64) -> String {
    let t = (v * 10.0).round() as i64;
    let sign = if t < 0 { "-" } else { "" };
    let t = t.unsigned_abs();
    format!("{sign}{}.{}", t / 10, t % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cube::StackSeries;
    use chrono::NaiveDate;

    fn stack(series: &[(&str, &[i64])]) -> Stack {
        let days = series[0].1.len();
        Stack {
            buckets: (0..days)
                .map(|d| NaiveDate::from_ymd_opt(2026, 11, 1 + d as u32).unwrap())
                .collect(),
            series: series
                .iter()
                .map(|(label, values)| StackSeries {
                    label: label.to_string(),
                    values: values.to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn positives_stack_up_from_zero_and_negatives_down() {
        let s = stack(&[("a", &[3, -1]), ("b", &[1, 0])]);
        let bars = s.bars();
        assert_eq!(bars.top, 4);
        // Zero sits a fifth of the way up from the bottom (4 up, 1 down).
        let inner = HEIGHT - 2.0 * PAD;
        assert!((bars.zero - (PAD + inner * 0.8)).abs() < 1e-9);
        // Day 1: a from 0 to 3, b from 3 to 4; day 2: a from 0 to -1; b's 0 is not drawn.
        assert_eq!(bars.segments.len(), 3);
        let [a1, b1, a2] = [&bars.segments[0], &bars.segments[1], &bars.segments[2]];
        assert_eq!((a1.bucket, a1.series, b1.series, a2.bucket), (0, 0, 1, 1));
        assert!((a1.y + a1.height - bars.zero).abs() < 1e-9);
        assert!((b1.y + b1.height - a1.y).abs() < 1e-9);
        assert!((a2.y - bars.zero).abs() < 1e-9);
        assert!((a1.height - 3.0 * b1.height).abs() < 1e-9);
        assert!(a2.x > a1.x && (a1.x - b1.x).abs() < 1e-9);
    }

    #[test]
    fn a_coordinate_has_one_decimal_and_is_off_by_half_a_tenth_at_most() {
        for v in [
            0.0,
            32.0,
            0.04,
            0.06,
            12.34,
            687.96,
            -0.4,
            -3.25,
            -12.0,
            219.99,
            1e6 / 3.0,
        ] {
            let ours = tenths(v);
            let (_, decimals) = ours.split_once('.').expect("a point");
            assert_eq!(decimals.len(), 1, "{ours}");
            assert!(
                (ours.parse::<f64>().unwrap() - v).abs() <= 0.05 + 1e-9,
                "{v}: {ours}"
            );
        }
        assert_eq!(tenths(12.34), "12.3");
        assert_eq!(tenths(-0.04), "0.0");
        assert_eq!(tenths(-0.4), "-0.4");
    }

    #[test]
    fn a_tiny_amount_is_still_seen_and_the_rest_is_grey() {
        let s = stack(&[("a", &[1_000_000]), (OTHER, &[1])]);
        let bars = s.bars();
        assert_eq!(bars.segments[1].height, 0.5);
        assert_eq!(s.series_class(0), "s0");
        assert_eq!(s.series_class(1), "other");
    }
}
