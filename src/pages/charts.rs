//! A small SVG trend chart: a line of daily amounts, each point with its
//! value as a tooltip, and the same numbers in a table beside it.

use chrono::NaiveDate;
use leptos::prelude::*;

use crate::format;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const PAD: f64 = 32.0;

/// Daily amounts (millionths of `currency`) as a line.
#[component]
pub fn TrendChart(points: Vec<(NaiveDate, i64)>, currency: String, label: String) -> impl IntoView {
    if points.is_empty() {
        return view! { <p class="notice">"No usage in this period yet."</p> }.into_any();
    }
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let n = points.len().max(2) as f64 - 1.0;
    let x = move |i: usize| PAD + (WIDTH - 2.0 * PAD) * i as f64 / n;
    let y = move |v: i64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (v as f64 / max);
    let line: String = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    let area = format!(
        "{:.1},{:.1} {line} {:.1},{:.1}",
        x(0),
        HEIGHT - PAD,
        x(points.len() - 1),
        HEIGHT - PAD
    );
    let first = points
        .first()
        .map(|(d, _)| format::day(*d))
        .unwrap_or_default();
    let last = points
        .last()
        .map(|(d, _)| format::day(*d))
        .unwrap_or_default();
    let top = format::money(max as i64, &currency);
    view! {
        <figure class="chart" data-points=points.len()>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label.clone() preserveAspectRatio="none">
                <title>{label.clone()}</title>
                <line x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD class="axis" />
                <polygon points=area class="area" />
                <polyline points=line class="line" />
                {points.iter().enumerate().map(|(i, (d, v))| view! {
                    <circle cx=format!("{:.1}", x(i)) cy=format!("{:.1}", y(*v)) r="3" class="point">
                        <title>{format!("{}: {}", format::day(*d), format::money(*v, &currency))}</title>
                    </circle>
                }).collect_view()}
                <text x=PAD y=PAD - 8.0 class="tick">{top}</text>
                <text x=PAD y=HEIGHT - 8.0 class="tick">{first}</text>
                <text x=WIDTH - PAD y=HEIGHT - 8.0 class="tick end">{last}</text>
            </svg>
            <figcaption>{label}</figcaption>
        </figure>
    }
    .into_any()
}
