//! The Explorer's chart: stacked bars, the line of the total, or the
//! accumulated cost with its forecast to the period's end and, for one
//! customer's month, its budget. All currencies together in the reporting
//! currency when every one has a rate; otherwise one currency, named.

use chrono::{Datelike, Days, NaiveDate};
use leptos::prelude::*;
use model::analysis::{accumulated, chart_end};
use model::cube::{Bucket, Dim, Measure, Pivot, PivotQuery};
use model::overview::Rates;

use super::{Shown, measure_label};
use crate::api;
use crate::components::{AccumulatedChart, StackedBars, TrendChart};
use crate::i18n::{dim_label, t};

/// Days before a month to date the forecast's weekday means read.
const HISTORY_DAYS: u64 = 28;

/// The currency a chart of `p` draws without rates: the one of most line
/// items (amounts of different currencies cannot be compared).
fn main_currency(p: &Pivot) -> String {
    p.totals
        .iter()
        .max_by(|a, b| a.1.lines.cmp(&b.1.lines).then(b.0.cmp(&a.0)))
        .map(|(c, _)| c.clone())
        .unwrap_or_default()
}

/// The one customer the filters name, if they name exactly one.
fn one_customer(filters: &[(Dim, Vec<String>)]) -> Option<String> {
    match filters
        .iter()
        .filter(|(d, _)| *d == Dim::Customer)
        .collect::<Vec<_>>()[..]
    {
        [(_, values)] if values.len() == 1 => Some(values[0].clone()),
        _ => None,
    }
}

#[component]
pub(super) fn Chart(
    shown: Shown,
    kind: Memo<String>,
    of: (NaiveDate, NaiveDate),
    as_of: NaiveDate,
    rates: Rates,
) -> impl IntoView {
    let rates = StoredValue::new(rates);
    let Shown {
        pivot,
        converted,
        measure,
        filters,
        keep,
    } = shown;
    // What the chart draws: the converted pivot (`true`), or one currency
    // of the pivot (named when there are others). The pivots are read in
    // place: a copy of a large one cost more than drawing it.
    let drawn = Memo::new(move |_| {
        if converted.with(Option::is_some) {
            (true, rates.with_value(|r| r.currency.clone()), false)
        } else {
            pivot.with(|p| (false, main_currency(p), p.totals.len() > 1))
        }
    });
    fn with_drawn<T>(
        (pivot, converted): (Memo<Pivot>, Memo<Option<Pivot>>),
        from_converted: bool,
        f: impl FnOnce(&Pivot) -> Option<T>,
    ) -> Option<T> {
        if from_converted {
            converted.with(|c| c.as_ref().and_then(f))
        } else {
            pivot.with(|p| f(p))
        }
    }
    let end = chart_end(of.0, of.1, as_of);
    let forecasting = end > as_of && of.0 <= as_of;
    // The weeks before a month to date, for the forecast's weekday means.
    let history = LocalResource::new(move || {
        let on = kind.get() == "running" && forecasting;
        let keep = keep.get();
        async move {
            if !on {
                return None;
            }
            let to = of.0 - Days::new(1);
            let from = of.0 - Days::new(HISTORY_DAYS);
            Some(api::usage("", &from.to_string(), &to.to_string(), &keep).await)
        }
    });
    // One customer's month: its budget, for the level line.
    let one_month = (of.0.year(), of.0.month()) == (of.1.year(), of.1.month());
    let customer = Memo::new(move |_| one_customer(&filters.get()));
    let budget = LocalResource::new(move || {
        let name = customer.get();
        let on = kind.get() == "running" && one_month && measure.get() == Measure::PartnerCost;
        async move {
            let name = name.filter(|_| on)?;
            let list = api::customers().await.ok()?;
            let mut named = list.customers.into_iter().filter(|c| c.name == name);
            let c = named.next().filter(|_| named.next().is_none())?;
            Some((c.budget?, c.currency.unwrap_or_else(|| "USD".into())))
        }
    });
    move || {
        let m = measure.get();
        let (from_converted, currency, alone) = drawn.get();
        let stacked = !matches!(kind.get().as_str(), "line" | "running");
        // What is drawn, worked out from the pivot in place.
        let Some((group, stack, totals)) = with_drawn((pivot, converted), from_converted, |p| {
            if p.buckets.is_empty() || m == Measure::Quantity {
                return None;
            }
            let group = p.group_by.first().cloned()?;
            let stack = stacked.then(|| p.stack(m, &currency, 7));
            let totals = if stacked {
                Vec::new()
            } else {
                p.bucket_totals(m, &currency)
            };
            Some((group, stack, totals))
        }) else {
            return ().into_any();
        };
        let note = alone.then(
            || view! { <p class="notice chart-currency">{(t().chart_one_currency)(&currency)}</p> },
        );
        let chart = match kind.get().as_str() {
            "line" => {
                let points = totals;
                view! { <TrendChart points currency=currency.clone() label=(t().measure_in)(measure_label(m), &currency) /> }.into_any()
            }
            "running" => {
                let daily = totals;
                let read = history.get().flatten();
                let history_pending = history.get().is_none();
                // Without the weeks before, no forecast: said, not guessed.
                let unread = read.as_ref().and_then(|r| r.as_ref().err()).map(|e| {
                    view! { <p class="error" role="alert">{e.to_string()}</p> }
                });
                let before: Vec<(NaiveDate, i64)> = read
                    .and_then(Result::ok)
                    .map(|cube| {
                        let h = cube.pivot(&PivotQuery {
                            filters: filters.get(),
                            bucket: Bucket::Day,
                            ..Default::default()
                        });
                        match converted.with(Option::is_some) {
                            true => rates
                                .with_value(|r| h.in_currency(r))
                                .map(|h| h.bucket_totals(m, &currency))
                                .unwrap_or_default(),
                            false => h.bucket_totals(m, &currency),
                        }
                    })
                    .unwrap_or_default();
                let mut a = accumulated(&daily, &before, of.0, of.1, as_of);
                // No forecast from this month alone while the weeks before
                // load (it would be drawn, then moved), nor without them.
                if unread.is_some() || (forecasting && history_pending) {
                    a.forecast.clear();
                }
                let budget = budget.get().flatten().and_then(|(amount, c)| {
                    rates.with_value(|r| {
                        if c == currency {
                            Some(amount)
                        } else if r.currency == currency {
                            r.convert(amount, &c)
                        } else {
                            None
                        }
                    })
                });
                let label = (t().measure_in)(t().accumulated_cost, &currency);
                view! { <AccumulatedChart actual=a.actual forecast=a.forecast budget end currency=currency.clone() label />{unread} }.into_any()
            }
            _ => {
                let stack = stack.unwrap_or_default();
                let label = (t().measure_in_by)(measure_label(m), &currency, &dim_label(&group));
                view! { <StackedBars stack currency=currency.clone() label /> }.into_any()
            }
        };
        // For the benchmark of the first chart: the frame after one is
        // drawn with data.
        request_animation_frame(|| {
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark("explorer-chart");
            }
        });
        view! { {chart}{note} }.into_any()
    }
}
