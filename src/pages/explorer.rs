//! The cost explorer: a pivot over every daily line item of a period,
//! regrouped in the browser on each change with no round trip. Grouping,
//! filters, period, buckets, measure, chart and comparison live in the
//! URL, which is also what a saved view keeps.

use std::sync::Arc;

use chrono::NaiveDate;
use leptos::prelude::*;
use model::analysis::{Compared, compare};
use model::cube::{Bucket, Cube, Dim, Measure, Pivot, PivotQuery, dims_in_use, keep_next};
use model::overview::Rates;
use model::views::table_csv;

use crate::components::{Loader, PeriodPicker, RatesUsed, WithAsOf, use_period, use_url_query};
use crate::i18n::{dim_label as label, t};
use crate::{api, download, format};

mod chart;
mod saved;

/// Rows the table draws at first, and again with each "Show more rows": a
/// large partner's thousands of customers at once held the page for most
/// of a second, and the chart above already shows how they stack up.
const TABLE_ROWS: usize = 100;

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
        <saved::SavedViews />
        <WithAsOf let:as_of>
            <ExplorerOf as_of />
        </WithAsOf>
    }
}

/// How the view groups and filters, from the URL.
#[derive(Clone, Copy)]
struct ViewQuery {
    g1: Memo<Dim>,
    g2: Memo<Option<Dim>>,
    measure: Memo<Measure>,
    filters: Memo<Vec<(Dim, Vec<String>)>>,
    group_by: Memo<Vec<Dim>>,
    /// What the proxy is asked to keep when it sums a large period.
    keep: Memo<Vec<Dim>>,
}

impl ViewQuery {
    /// `kept`: what the cube on screen was summed to (`None`: line items).
    fn new(kept: RwSignal<Option<Vec<Dim>>>) -> ViewQuery {
        let query = use_url_query();
        let g1 = Memo::new(move |_| {
            query
                .get("g1")
                .and_then(|d| Dim::parse(&d))
                .unwrap_or(Dim::Customer)
        });
        let g2 = Memo::new(move |_| query.get("g2").and_then(|d| Dim::parse(&d)));
        let measure = Memo::new(move |_| measure_of(&query.get("measure").unwrap_or_default()));
        let filters = Memo::new(move |_| {
            query
                .with_prefix("f.")
                .into_iter()
                .filter_map(|(k, v)| Dim::parse(&k).map(|d| (d, vec![v])))
                .collect::<Vec<_>>()
        });
        let group_by = Memo::new(move |_| {
            let mut group_by = vec![g1.get()];
            if let Some(g) = g2.get() {
                group_by.push(g);
            }
            // Quantities only add up within one unit.
            if measure.get() == Measure::Quantity && !group_by.contains(&Dim::Unit) {
                group_by.push(Dim::Unit);
            }
            group_by
        });
        let keep = Memo::new(move |asked: Option<&Vec<Dim>>| {
            let in_use = group_by.with(|g| filters.with(|f| dims_in_use(g, f)));
            match asked {
                Some(asked) => kept.with(|k| keep_next(asked, k.as_deref(), &in_use)),
                None => keep_next(&[], Some(&[]), &in_use),
            }
        });
        ViewQuery {
            g1,
            g2,
            measure,
            filters,
            group_by,
            keep,
        }
    }

    fn in_use(&self) -> Vec<Dim> {
        self.group_by
            .with(|g| self.filters.with(|f| dims_in_use(g, f)))
    }
}

/// The explorer once the last day with data is known.
#[component]
fn ExplorerOf(as_of: NaiveDate) -> impl IntoView {
    let range = use_period(as_of);
    let kept = RwSignal::new(None);
    let view_query = ViewQuery::new(kept);
    // The rates, read once: amounts of several currencies are ranked and
    // charted with them, whatever the period.
    let reporting = LocalResource::new(api::reporting);
    // The cube comes with the period it is of: while the next one loads,
    // the figures on screen keep naming their own period. A summed cube
    // is asked for again when the view needs a dimension it did not keep.
    let cube = LocalResource::new(move || {
        let (from, to) = range.get();
        let keep = view_query.keep.get();
        async move {
            let cube = api::usage("", &from.to_string(), &to.to_string(), &keep).await?;
            kept.set(cube.summed.as_ref().map(|s| s.kept.clone()));
            let rates = Rates::from_settings(&reporting.await?);
            // Shared, not copied, each time the page reads it.
            Ok::<_, api::ApiError>((Arc::new(cube), (from, to), rates))
        }
    });
    view! {
        <Loader resource=cube return_to="/explorer" loading=t().loading_line_items let:loaded>
            <PivotView cube=loaded.0 of=loaded.1 rates=loaded.2 range as_of view_query />
        </Loader>
    }
}

/// How far a newly read period is drawn.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Frame,
    Chart,
    Table,
}

/// What the table and chart show, shared with the chart module.
#[derive(Clone, Copy)]
struct Shown {
    /// Ranked: by converted amounts with every rate, else within each currency.
    pivot: Memo<Pivot>,
    /// The same in the reporting currency, when every currency converts.
    converted: Memo<Option<Pivot>>,
    measure: Memo<Measure>,
    filters: Memo<Vec<(Dim, Vec<String>)>>,
    /// What a summed cube of another period is asked to keep.
    keep: Memo<Vec<Dim>>,
}

/// A step of drawing a period, with its name as `crate::timing` measures it.
type Step = (&'static str, Box<dyn FnOnce()>);

/// Runs each step in a browser task of its own (a zero timeout each), in
/// order, each measured by its name.
fn in_tasks(steps: Vec<Step>) {
    let mut steps = steps.into_iter();
    if let Some((name, step)) = steps.next() {
        set_timeout(
            move || {
                crate::timing::measured(name, step);
                in_tasks(steps.collect());
            },
            std::time::Duration::ZERO,
        );
    }
}

#[component]
fn PivotView(
    cube: Arc<Cube>,
    /// The period `cube` is of.
    of: (NaiveDate, NaiveDate),
    rates: Rates,
    range: Memo<(NaiveDate, NaiveDate)>,
    as_of: NaiveDate,
    view_query: ViewQuery,
) -> impl IntoView {
    let query = use_url_query();
    let lines = cube.line_count();
    // A summed cube: how many rows, by what.
    let summed = cube.summed.as_ref().map(|s| {
        let mut by: Vec<String> = s.kept.iter().map(label).collect();
        if by.is_empty() {
            by.push(label(&Dim::Currency));
        }
        (cube.len(), by.join(", "))
    });
    let tag_dims: Vec<Dim> = cube.tag_keys().into_iter().map(Dim::Tag).collect();
    let all_dims: Vec<Dim> = model::cube::STORED
        .iter()
        .cloned()
        .chain(tag_dims)
        .collect();
    let cube = StoredValue::new(cube);
    let rates = StoredValue::new(rates);
    let param = move |k: &str| query.get(k);
    let ViewQuery {
        g1,
        g2,
        measure,
        filters,
        group_by,
        keep,
    } = view_query;
    // While a summed cube is asked for again, it has no figures to show.
    let covered = Memo::new(move |_| cube.with_value(|c| c.covers(&view_query.in_use())));
    let chart_kind = Memo::new(move |_| param("chart").unwrap_or_else(|| "stacked".into()));
    let bucket = Memo::new(move |_| {
        // The running total is drawn day by day.
        if chart_kind.get() == "running" {
            return Bucket::Day;
        }
        bucket_of(&param("bucket").unwrap_or_else(|| "day".into()))
    });
    let pivot = Memo::new(move |_| {
        if !covered.get() {
            return Pivot::default();
        }
        let mut p = cube.with_value(|c| {
            c.pivot(&PivotQuery {
                group_by: group_by.get(),
                filters: filters.get(),
                bucket: bucket.get(),
                ..Default::default()
            })
        });
        rates.with_value(|r| p.rank(r));
        p
    });
    let converted = Memo::new(move |_| {
        (measure.get() != Measure::Quantity)
            .then(|| pivot.with(|p| rates.with_value(|r| p.in_currency(r))))
            .flatten()
    });
    let currencies = Memo::new(move |_| {
        pivot.with(|p| p.totals.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>())
    });
    // A converted column only says something when another currency is shown.
    let in_reporting = Memo::new(move |_| {
        converted.with(Option::is_some)
            && rates.with_value(|r| currencies.with(|c| r.converts_beside(c)))
    });
    let in_reporting = move || in_reporting.get();
    let comparing = Memo::new(move |_| param("compare").as_deref() == Some("1"));
    let previous_of = model::margin::previous_period(of.0, of.1);
    // The previous period's cube, asked for only while comparing.
    let previous = LocalResource::new(move || {
        let on = comparing.get();
        let keep = keep.get();
        async move {
            if !on {
                return None;
            }
            let (f, t) = previous_of;
            Some(api::usage("", &f.to_string(), &t.to_string(), &keep).await)
        }
    });
    let compared = Memo::new(move |_| {
        let before = previous.get().flatten()?.ok()?;
        if !before.covers(&view_query.in_use()) {
            return None;
        }
        let before = before.pivot(&PivotQuery {
            group_by: group_by.get(),
            filters: filters.get(),
            bucket: Bucket::None,
            ..Default::default()
        });
        Some(pivot.with(|p| compare(p, &before, measure.get())))
    });
    let value_text = move |v: i64, currency: &str| {
        if measure.get() == Measure::Quantity {
            format::number(v as f64 / 1e6, 3)
        } else {
            format::money(v, currency)
        }
    };
    let reporting_currency = StoredValue::new(rates.with_value(|r| r.currency.clone()));
    let converted_of = move |v: i64, currency: &str| {
        rates
            .with_value(|r| r.convert(v, currency))
            .unwrap_or_default()
    };
    let export = move |_| {
        let p = pivot.get();
        let m = measure.get();
        let cur = rates.with_value(|r| r.currency.clone());
        let mut header: Vec<String> = p.group_by.iter().map(label).collect();
        header.push(t().currency.into());
        header.push(measure_label(m).into());
        if in_reporting() {
            header.push((t().in_currency)(&cur));
        }
        let rows: Vec<Vec<String>> = p
            .rows
            .iter()
            .map(|r| {
                let mut row: Vec<String> = r.keys.iter().map(|k| k.to_string()).collect();
                row.push(r.currency.to_string());
                row.push(model::export::decimal(r.total.get(m)));
                if in_reporting() {
                    row.push(model::export::decimal(converted_of(
                        r.total.get(m),
                        &r.currency,
                    )));
                }
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
    let shown = Shown {
        pivot,
        converted,
        measure,
        filters,
        keep,
    };
    let day = |d: NaiveDate| format::day(d);
    let table_rows = RwSignal::new(TABLE_ROWS);
    // A large period is drawn in steps, a task each, so that none holds
    // the page long: the frame of the page, the pivot, its conversion to
    // the reporting currency, the chart, the table.
    let stage = RwSignal::new(Stage::Frame);
    in_tasks(vec![
        // Read here, the pivot is worked out in this task, not the chart's.
        // (`try_`: the page may have been left since, and the pivot with it.)
        (
            "csp-costs:pivot",
            Box::new(move || {
                let _ = pivot.try_with_untracked(|_| ());
            }),
        ),
        (
            "csp-costs:convert",
            Box::new(move || {
                let _ = converted.try_with_untracked(|_| ());
            }),
        ),
        (
            "csp-costs:chart",
            Box::new(move || {
                let _ = stage.try_set(Stage::Chart);
            }),
        ),
        (
            "csp-costs:table",
            Box::new(move || {
                let _ = stage.try_set(Stage::Table);
            }),
        ),
    ]);
    let chart_ready = Memo::new(move |_| stage.get() >= Stage::Chart);
    let table_ready = Memo::new(move |_| stage.get() >= Stage::Table);
    view! {
        <p class="summary">{(t().line_items_between)(&format::number(lines as f64, 0), &day(of.0), &day(of.1))}</p>
        {summed.map(|(rows, by)| view! { <p class="notice summed">{(t().summed_by_proxy)(&format::number(rows as f64, 0), &by)}</p> })}
        {move || (!covered.get()).then(|| view! { <p class="notice" aria-busy="true">{t().summing_again}</p> })}
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
                {[("stacked", t().stacked_bars), ("line", t().line_of_total), ("running", t().accumulated_cost)]
                    .into_iter().map(|(v, l)| view! { <option value=v selected=move || chart_kind.get() == v>{l}</option> }).collect_view()}
            </select>
            <label for="bucket">{t().days_as}</label>
            <select id="bucket" disabled=move || chart_kind.get() == "running" on:change=move |ev| query.set("bucket", &event_target_value(&ev))>
                {[("day", t().days), ("week", t().weeks), ("month", t().months), ("none", t().totals_only)]
                    .into_iter().map(|(v, l)| view! { <option value=v selected=move || param("bucket").unwrap_or_else(|| "day".into()) == v>{l}</option> }).collect_view()}
            </select>
            <label class="check">
                <input id="compare" type="checkbox" prop:checked=move || comparing.get()
                    on:change=move |ev| query.set("compare", if event_target_checked(&ev) { "1" } else { "" }) />
                {t().compare_previous}
            </label>
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
        {move || chart_ready.get().then(|| view! { <chart::Chart shown kind=chart_kind of as_of rates=rates.get_value() /> })}
        {move || in_reporting().then(|| view! { <RatesUsed rates=rates.get_value() currencies=currencies.get() /> })}
        {move || (currencies.with(Vec::len) > 1 && converted.with(Option::is_none) && measure.get() != Measure::Quantity)
            .then(|| view! { <p class="notice ranked-within">{t().ranked_within_currency}</p> })}
        {move || if !table_ready.get() { ().into_any() } else { match compared.get() {
            Some(rows) if comparing.get() => view! { <ComparedTable rows dims=pivot.with(|p| p.group_by.clone()) previous=previous_of value_text /> }.into_any(),
            _ => view! {
                // The period before is read apart: while it loads, or when it
                // cannot be read, this period's table stays, with a word why.
                {move || comparing.get().then(|| match previous.get() {
                    None => view! { <p aria-busy="true" class="notice">{t().loading}</p> }.into_any(),
                    Some(Some(Err(e))) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Some(_) => ().into_any(),
                })}
                <table class="data pivot">
                    <thead><tr>
                        {move || pivot.with(|p| p.group_by.iter().map(|d| view! { <th scope="col">{label(d)}</th> }).collect_view())}
                        <th scope="col">{t().currency}</th>
                        <th scope="col" class="num">{move || measure_label(measure.get())}</th>
                        {move || in_reporting().then(|| view! { <th scope="col" class="num converted">{reporting_currency.with_value(|c| (t().in_currency)(c))}</th> })}
                    </tr></thead>
                    <tbody>
                        {move || pivot.with(|p| {
                            let dims = &p.group_by;
                            p.rows.iter().take(table_rows.get()).map(|r| {
                                let cells = r.keys.iter().zip(dims.iter()).map(|(k, d)| {
                                    let key = format!("f.{}", d.name());
                                    let value = k.clone();
                                    view! { <td translate="no"><button type="button" class="link" title=t().filter_to_this on:click=move |_| query.set(&key, &value)>{k.clone()}</button></td> }
                                }).collect_view();
                                let v = r.total.get(measure.get());
                                let cur = r.currency.clone();
                                view! {
                                    <tr>{cells}<td translate="no">{r.currency.clone()}</td><td class="num">{value_text(v, &r.currency)}</td>
                                        {in_reporting().then(|| view! { <td class="num converted">{rates.with_value(|rt| format::money(converted_of(v, &cur), &rt.currency))}</td> })}</tr>
                                }
                            }).collect_view()
                        })}
                    </tbody>
                    // Quantities of different units (hours, GB) do not add up.
                    <tfoot>
                        {move || if measure.get() == Measure::Quantity { Vec::new() } else { pivot.with(|p| p.totals.clone()) }.into_iter().map(|(c, m)| {
                            let v = m.get(measure.get());
                            let c2 = c.clone();
                            view! {
                                <tr><th scope="row" colspan=pivot.with(|p| p.group_by.len())>{t().total}</th><td translate="no">{c.clone()}</td><td class="num">{value_text(v, &c)}</td>
                                    {in_reporting().then(|| view! { <td class="num converted">{rates.with_value(|rt| format::money(converted_of(v, &c2), &rt.currency))}</td> })}</tr>
                            }
                        }).collect_view()}
                        {move || in_reporting().then(|| converted.with(|p| p.as_ref().and_then(|p| p.totals.first().cloned()))).flatten().map(|(c, m)| view! {
                            <tr class="converted-total"><th scope="row" colspan=pivot.with(|p| p.group_by.len()) + 2>{(t().in_currency)(&c)}</th>
                                <td class="num converted">{format::money(m.get(measure.get()), &c)}</td></tr>
                        })}
                    </tfoot>
                </table>
                {move || {
                    let (shown, all) = (table_rows.get(), pivot.with(|p| p.rows.len()));
                    (all > shown).then(|| view! {
                        <p class="more-rows">{(t().rows_shown_of)(&format::number(shown as f64, 0), &format::number(all as f64, 0))}" "
                            <button type="button" class="link" on:click=move |_| table_rows.update(|n| *n += TABLE_ROWS)>{t().show_more_rows}</button></p>
                    })
                }}
            }.into_any(),
        }}}
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

/// The rows beside the previous period's: amount, before, change.
#[component]
fn ComparedTable(
    rows: Vec<Compared>,
    dims: Vec<Dim>,
    previous: (NaiveDate, NaiveDate),
    value_text: impl Fn(i64, &str) -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <table class="data pivot compared" data-previous-from=previous.0.to_string() data-previous-to=previous.1.to_string()>
            <thead><tr>
                {dims.iter().map(|d| view! { <th scope="col">{label(d)}</th> }).collect_view()}
                <th scope="col">{t().currency}</th>
                <th scope="col" class="num">{t().amount_now}</th>
                <th scope="col" class="num">{(t().previous_between)(&format::day(previous.0), &format::day(previous.1))}</th>
                <th scope="col" class="num">{t().change}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().take(500).map(|r| {
                    let keys = r.keys.iter().map(|k| view! { <td translate="no">{k.clone()}</td> }).collect_view();
                    let change = r.change().map(format::percent).unwrap_or_else(|| "–".into());
                    let rose = if r.now > r.before { "num rose" } else { "num" };
                    view! {
                        <tr data-now=r.now data-before=r.before>{keys}<td translate="no">{r.currency.clone()}</td>
                            <td class="num">{value_text(r.now, &r.currency)}</td>
                            <td class="num">{value_text(r.before, &r.currency)}</td>
                            <td class=rose>{change}</td></tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
