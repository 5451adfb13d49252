//! Small SVG charts: a trend line of daily amounts, and stacked bars of a
//! grouping per bucket with a legend; each mark has its value as a tooltip.
//! Hand-made rather than leptos-chartistry: see the README's choices.

use chrono::NaiveDate;
use leptos::prelude::*;
use model::cube::{
    CHART_HEIGHT as HEIGHT, CHART_PAD as PAD, CHART_WIDTH as WIDTH, OTHER, Stack, tenths,
};

use crate::format;
use crate::i18n::{key_label, t};

/// Daily amounts (millionths of `currency`) as a line, each point placed
/// by its date: a day missing from `points` leaves its place on the axis.
#[component]
pub fn TrendChart(points: Vec<(NaiveDate, i64)>, currency: String, label: String) -> impl IntoView {
    let (Some(first_day), Some(last_day)) = (
        points.iter().map(|(d, _)| *d).min(),
        points.iter().map(|(d, _)| *d).max(),
    ) else {
        return view! { <p class="notice">{t().no_usage_yet}</p> }.into_any();
    };
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let span = ((last_day - first_day).num_days() as f64).max(1.0);
    let x =
        move |d: NaiveDate| PAD + (WIDTH - 2.0 * PAD) * (d - first_day).num_days() as f64 / span;
    let y = move |v: i64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (v as f64 / max);
    let line: String = points
        .iter()
        .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    let area = format!(
        "{:.1},{:.1} {line} {:.1},{:.1}",
        x(first_day),
        HEIGHT - PAD,
        x(last_day),
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
                {points.iter().map(|(d, v)| view! {
                    <circle cx=format!("{:.1}", x(*d)) cy=format!("{:.1}", y(*v)) r="3" class="point" data-day=d.to_string()>
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

/// Stacked bars per bucket, positives up and negatives down from zero, with
/// a legend, a tooltip per segment and the same numbers in a table.
#[component]
pub fn StackedBars(stack: Stack, currency: String, label: String) -> impl IntoView {
    if stack.buckets.is_empty() || stack.series.is_empty() {
        return view! { <p class="notice">{t().no_usage_yet}</p> }.into_any();
    }
    let n = stack.buckets.len();
    let bars = stack.bars();
    let (top, zero) = (bars.top, bars.zero);
    let format::StackTexts {
        days,
        amounts,
        names,
    } = format::stack_texts(&stack, &currency);
    let rects = bars
        .segments
        .iter()
        .map(|g| {
            view! {
                <rect x=tenths(g.x) y=tenths(g.y)
                    width=tenths(g.width) height=tenths(g.height) class=stack.series_class(g.series)>
                    <title>{format!("{} · {}: {}", days[g.bucket], names[g.series], amounts[g.series][g.bucket])}</title>
                </rect>
            }
        })
        .collect_view();
    let first = days.first().cloned().unwrap_or_default();
    let last = days.last().cloned().unwrap_or_default();
    // The table's rows (in a closed <details>) are drawn in a task after
    // the bars': the two in one task held a large partner's page over 50 ms.
    let table_drawn = RwSignal::new(false);
    // `try_`: the chart may be gone by then (its page drawn again).
    set_timeout(
        move || {
            let _ = table_drawn.try_set(true);
        },
        std::time::Duration::ZERO,
    );
    let buckets = stack.buckets.clone();
    let rows = move || {
        table_drawn.get().then(|| {
            buckets
                .iter()
                .zip(&days)
                .enumerate()
                .map(|(i, (d, day))| {
                    let cells = amounts
                        .iter()
                        .map(|a| view! { <td class="num">{a[i].clone()}</td> })
                        .collect_view();
                    view! { <tr data-day=d.to_string()><th scope="row">{day.clone()}</th>{cells}</tr> }
                })
                .collect_view()
        })
    };
    view! {
        <figure class="chart stacked" data-buckets=n data-series=stack.series.len()>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label.clone() preserveAspectRatio="none">
                <title>{label.clone()}</title>
                {rects}
                <line x1=PAD y1=zero x2=WIDTH - PAD y2=zero class="axis" />
                <text x=PAD y=PAD - 8.0 class="tick">{format::money(top, &currency)}</text>
                <text x=PAD y=HEIGHT - 8.0 class="tick">{first}</text>
                <text x=WIDTH - PAD y=HEIGHT - 8.0 class="tick end">{last}</text>
            </svg>
            <figcaption>{label}</figcaption>
            <ul class="legend">
                {stack.series.iter().enumerate().map(|(k, s)| view! {
                    <li><span class=format!("swatch {}", stack.series_class(k)) aria-hidden="true"></span><span translate=if s.label == OTHER { "yes" } else { "no" }>{key_label(&s.label)}</span></li>
                }).collect_view()}
            </ul>
            <details>
                <summary>{t().same_numbers_table}</summary>
                <table class="data stacked-table">
                    <thead><tr><th scope="col">{t().day}</th>
                        {stack.series.iter().map(|s| view! { <th scope="col" class="num" translate=if s.label == OTHER { "yes" } else { "no" }>{key_label(&s.label)}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

/// The running total of a period: the actual days as a line, the forecast
/// to the period's end dashed, the budget as a level line. `end` is the
/// axis' last day (the month's end for a month to date).
#[component]
pub fn AccumulatedChart(
    actual: Vec<(NaiveDate, i64)>,
    forecast: Vec<(NaiveDate, i64)>,
    budget: Option<i64>,
    end: NaiveDate,
    currency: String,
    label: String,
) -> impl IntoView {
    let Some(first_day) = actual.first().map(|(d, _)| *d) else {
        return view! { <p class="notice">{t().no_usage_yet}</p> }.into_any();
    };
    let values = actual.iter().chain(&forecast).map(|(_, v)| *v);
    let max = values.chain(budget).max().unwrap_or(0).max(1) as f64;
    let span = ((end - first_day).num_days() as f64).max(1.0);
    let x =
        move |d: NaiveDate| PAD + (WIDTH - 2.0 * PAD) * (d - first_day).num_days() as f64 / span;
    let y = move |v: i64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (v.max(0) as f64 / max);
    let line = |points: &[(NaiveDate, i64)]| {
        points
            .iter()
            .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let actual_end = actual.last().map_or(0, |(_, v)| *v);
    let forecast_end = forecast.last().copied();
    let money = |v: i64| format::money(v, &currency);
    view! {
        <figure class="chart accumulated" data-actual-end=actual_end
            data-forecast-end=forecast_end.map(|(_, v)| v) data-budget=budget data-end=end.to_string()>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label.clone() preserveAspectRatio="none">
                <title>{label.clone()}</title>
                <line x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD class="axis" />
                {budget.map(|b| view! {
                    <line x1=PAD y1=format!("{:.1}", y(b)) x2=WIDTH - PAD y2=format!("{:.1}", y(b)) class="budget">
                        <title>{format!("{}: {}", t().budget_line, money(b))}</title>
                    </line>
                })}
                <polyline points=line(&actual) class="line" />
                {(!forecast.is_empty()).then(|| view! { <polyline points=line(&forecast) class="forecast" /> })}
                {actual.iter().map(|(d, v)| view! {
                    <circle cx=format!("{:.1}", x(*d)) cy=format!("{:.1}", y(*v)) r="2.5" class="point" data-day=d.to_string()>
                        <title>{format!("{}: {}", format::day(*d), money(*v))}</title>
                    </circle>
                }).collect_view()}
                <text x=PAD y=PAD - 8.0 class="tick">{money(max as i64)}</text>
                <text x=PAD y=HEIGHT - 8.0 class="tick">{format::day(first_day)}</text>
                <text x=WIDTH - PAD y=HEIGHT - 8.0 class="tick end">{format::day(end)}</text>
            </svg>
            <figcaption>{label}</figcaption>
            <ul class="legend">
                <li><span class="swatch s0" aria-hidden="true"></span>{format!("{}: {}", t().actual, money(actual_end))}</li>
                {forecast_end.map(|(d, v)| view! {
                    <li class="forecast-end"><span class="swatch forecast" aria-hidden="true"></span>{(t().forecast_to)(&format::day(d), &money(v))}</li>
                })}
                {budget.map(|b| view! {
                    <li class="budget-level"><span class="swatch budget" aria-hidden="true"></span>{format!("{}: {}", t().budget_line, money(b))}</li>
                })}
            </ul>
        </figure>
    }
    .into_any()
}
