//! The cost explorer: a pivot over every daily line item of a period,
//! regrouped in the browser on each change with no round trip. Grouping,
//! filters, period, buckets and measure live in the URL.

use chrono::NaiveDate;
use leptos::prelude::*;
use model::cube::{Bucket, Cube, Dim, Measure, PivotQuery};
use model::views::table_csv;

use crate::components::{
    Loader, PeriodPicker, StackedBars, TrendChart, WithAsOf, use_period, use_url_query,
};
use crate::i18n::{dim_label as label, t};
use crate::{api, download, format};

fn measure_of(key: &str) -> Measure {
    match key {
        "customerPrice" => Measure::CustomerPrice,
        "margin" => Measure::Margin,
        "quantity" => Measure::Quantity,
        _ => Measure::PartnerCost,
    }
}

fn measure_label(m: Measure) -> &'static str {
    let t = t();
    match m {
        Measure::PartnerCost => t.partner_cost,
        Measure::CustomerPrice => t.customer_price,
        Measure::Margin => t.margin,
        Measure::ListCost => t.list_cost,
        Measure::Quantity => t.quantity,
    }
}

fn bucket_of(key: &str) -> Bucket {
    match key {
        "day" => Bucket::Day,
        "week" => Bucket::Week,
        "month" => Bucket::Month,
        _ => Bucket::None,
    }
}

#[component]
pub fn Explorer() -> impl IntoView {
    view! {
        <h1>{t().cost_explorer}</h1>
        <WithAsOf let:as_of>
            <ExplorerOf as_of />
        </WithAsOf>
    }
}

/// The explorer once the last day with data is known.
#[component]
fn ExplorerOf(as_of: NaiveDate) -> impl IntoView {
    let range = use_period(as_of);
    // The cube comes with the period it is of: while the next one loads,
    // the figures on screen keep naming their own period.
    let cube = LocalResource::new(move || {
        let (from, to) = range.get();
        async move {
            let cube = api::usage("", &from.to_string(), &to.to_string()).await?;
            Ok::<_, api::ApiError>((cube, (from, to)))
        }
    });
    view! {
        <Loader resource=cube return_to="/explorer" loading=t().loading_line_items let:loaded>
            <Pivot cube=loaded.0 of=loaded.1 range />
        </Loader>
    }
}

#[component]
fn Pivot(
    cube: Cube,
    /// The period `cube` is of.
    of: (NaiveDate, NaiveDate),
    range: Memo<(NaiveDate, NaiveDate)>,
) -> impl IntoView {
    let query = use_url_query();
    let lines = cube.len();
    let tag_dims: Vec<Dim> = cube.tag_keys().into_iter().map(Dim::Tag).collect();
    let all_dims: Vec<Dim> = model::cube::STORED
        .iter()
        .cloned()
        .chain(tag_dims)
        .collect();
    let cube = StoredValue::new(cube);
    let param = move |k: &str| query.get(k);
    let g1 = Memo::new(move |_| {
        param("g1")
            .and_then(|d| Dim::parse(&d))
            .unwrap_or(Dim::Customer)
    });
    let g2 = Memo::new(move |_| param("g2").and_then(|d| Dim::parse(&d)));
    let measure = Memo::new(move |_| measure_of(&param("measure").unwrap_or_default()));
    let bucket = Memo::new(move |_| bucket_of(&param("bucket").unwrap_or_else(|| "day".into())));
    let filters = Memo::new(move |_| {
        query
            .with_prefix("f.")
            .into_iter()
            .filter_map(|(k, v)| Dim::parse(&k).map(|d| (d, vec![v])))
            .collect::<Vec<_>>()
    });
    let stacked = Memo::new(move |_| param("chart").as_deref() != Some("line"));
    let pivot = Memo::new(move |_| {
        let mut group_by = vec![g1.get()];
        if let Some(g) = g2.get() {
            group_by.push(g);
        }
        // Quantities only add up within one unit.
        if measure.get() == Measure::Quantity && !group_by.contains(&Dim::Unit) {
            group_by.push(Dim::Unit);
        }
        cube.with_value(|c| {
            c.pivot(&PivotQuery {
                group_by,
                filters: filters.get(),
                bucket: bucket.get(),
                ..Default::default()
            })
        })
    });
    let value_text = move |v: i64, currency: &str| {
        if measure.get() == Measure::Quantity {
            format::number(v as f64 / 1e6, 3)
        } else {
            format::money(v, currency)
        }
    };
    let export = move |_| {
        let p = pivot.get();
        let m = measure.get();
        let mut header: Vec<String> = p.group_by.iter().map(label).collect();
        header.push(t().currency.into());
        header.push(measure_label(m).into());
        let rows: Vec<Vec<String>> = p
            .rows
            .iter()
            .map(|r| {
                let mut row = r.keys.clone();
                row.push(r.currency.clone());
                row.push(model::export::decimal(r.total.get(m)));
                row
            })
            .collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        download::csv("explorer.csv", &table_csv(&header, &rows));
    };
    let dim_select = move |id: &'static str,
                           key: &'static str,
                           current: Memo<Option<Dim>>,
                           none: bool| {
        let options = all_dims.clone();
        view! {
            <select id=id on:change=move |ev| query.set(key, &event_target_value(&ev))>
                {none.then(|| view! { <option value="" selected=move || current.get().is_none()>{t().none_option}</option> })}
                {options.into_iter().map(|d| {
                    let name = d.name();
                    let n2 = name.clone();
                    view! { <option value=name selected=move || current.get().map(|c| c.name()) == Some(n2.clone())>{label(&d)}</option> }
                }).collect_view()}
            </select>
        }
    };
    let g1_opt = Memo::new(move |_| Some(g1.get()));
    view! {
        <p class="summary">{(t().line_items_between)(&format::number(lines as f64, 0), &format::day(of.0), &format::day(of.1))}</p>
        <div class="toolbar">
            <PeriodPicker range />
        </div>
        <div class="toolbar">
            <label for="g1">{t().group_by}</label>
            {dim_select("g1", "g1", g1_opt, false)}
            <label for="g2">{t().then_by}</label>
            {dim_select("g2", "g2", g2, true)}
            <label for="measure">{t().measure}</label>
            <select id="measure" on:change=move |ev| query.set("measure", &event_target_value(&ev))>
                {[("partnerCost", t().partner_cost), ("customerPrice", t().customer_price), ("margin", t().margin), ("quantity", t().quantity)]
                    .into_iter().map(|(v, l)| view! { <option value=v selected=move || param("measure").unwrap_or_else(|| "partnerCost".into()) == v>{l}</option> }).collect_view()}
            </select>
            <label for="chart">{t().chart}</label>
            <select id="chart" on:change=move |ev| query.set("chart", &event_target_value(&ev))>
                {[("stacked", t().stacked_bars), ("line", t().line_of_total)]
                    .into_iter().map(|(v, l)| view! { <option value=v selected=move || stacked.get() == (v == "stacked")>{l}</option> }).collect_view()}
            </select>
            <label for="bucket">{t().days_as}</label>
            <select id="bucket" on:change=move |ev| query.set("bucket", &event_target_value(&ev))>
                {[("day", t().days), ("week", t().weeks), ("month", t().months), ("none", t().totals_only)]
                    .into_iter().map(|(v, l)| view! { <option value=v selected=move || param("bucket").unwrap_or_else(|| "day".into()) == v>{l}</option> }).collect_view()}
            </select>
        </div>
        {move || (!filters.get().is_empty()).then(|| view! {
            <p class="crumbs">{t().filtered_to}
                {filters.get().into_iter().map(|(d, v)| {
                    let key = format!("f.{}", d.name());
                    view! { <span class="chip">{format!("{}: ", label(&d))}<span translate="no">{v[0].clone()}</span>" "
                        <button type="button" class="link" aria-label=(t().remove_filter)(&label(&d)) on:click=move |_| query.set(&key, "")>"×"</button></span> }
                }).collect_view()}
            </p>
        })}
        {move || {
            let p = pivot.get();
            (measure.get() != Measure::Quantity && !p.buckets.is_empty()).then(|| {
                // The chart shows one currency: the largest.
                let currency = p.totals.first().map(|(c, _)| c.clone()).unwrap_or_default();
                let m = measure.get();
                if stacked.get() {
                    let stack = p.stack(m, &currency, 7);
                    let label = (t().measure_in_by)(measure_label(m), &currency, &label(&p.group_by[0]));
                    return view! { <StackedBars stack currency label /> }.into_any();
                }
                let mut sums = vec![0i64; p.buckets.len()];
                for r in p.rows.iter().filter(|r| r.currency == currency) {
                    for (i, s) in r.series.iter().enumerate() {
                        sums[i] += s.get(m);
                    }
                }
                let points: Vec<(NaiveDate, i64)> = p.buckets.iter().cloned().zip(sums).collect();
                view! { <TrendChart points=points currency=currency.clone() label=(t().measure_in)(measure_label(m), &currency) /> }.into_any()
            })
        }}
        <table class="data pivot">
            <thead><tr>
                {move || pivot.get().group_by.iter().map(|d| view! { <th scope="col">{label(d)}</th> }).collect_view()}
                <th scope="col">{t().currency}</th>
                <th scope="col" class="num">{move || measure_label(measure.get())}</th>
            </tr></thead>
            <tbody>
                {move || {
                    let p = pivot.get();
                    let dims = p.group_by.clone();
                    p.rows.into_iter().take(500).map(|r| {
                        let cells = r.keys.iter().zip(dims.iter()).map(|(k, d)| {
                            let key = format!("f.{}", d.name());
                            let value = k.clone();
                            view! { <td translate="no"><button type="button" class="link" title=t().filter_to_this on:click=move |_| query.set(&key, &value)>{k.clone()}</button></td> }
                        }).collect_view();
                        view! {
                            <tr>{cells}<td translate="no">{r.currency.clone()}</td><td class="num">{value_text(r.total.get(measure.get()), &r.currency)}</td></tr>
                        }
                    }).collect_view()
                }}
            </tbody>
            // Quantities of different units (hours, GB) do not add up.
            <tfoot>
                {move || if measure.get() == Measure::Quantity { Vec::new() } else { pivot.get().totals }.into_iter().map(|(c, m)| view! {
                    <tr><th scope="row" colspan=pivot.get().group_by.len()>{t().total}</th><td translate="no">{c.clone()}</td><td class="num">{value_text(m.get(measure.get()), &c)}</td></tr>
                }).collect_view()}
            </tfoot>
        </table>
        <p>
            <button type="button" class="link" on:click=export>{t().export_csv}</button>
            " · "
            // The lines shown: the period and the filters.
            <a class="focus-export" href=move || {
                let (f, t) = of;
                let kept: Vec<(String, String)> = filters.get().into_iter().map(|(d, v)| (d.name(), v[0].clone())).collect();
                api::filtered_export_url("focus", "", &f.to_string(), &t.to_string(), &kept)
            } download="">{move || if filters.get().is_empty() { t().focus_of_period } else { t().focus_of_shown }}</a>
        </p>
    }
}
