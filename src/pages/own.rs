//! A customer's own view (`/my`): the one customer its invited user may see,
//! at the customer's price. The proxy sends nothing else (no partner cost,
//! no margin), so nothing here could show it.

use leptos::prelude::*;
use model::api::OwnCosts;
use model::cube::{Bucket, Cube, Dim, Measure, PivotQuery};

use crate::components::{Loader, PeriodPicker, Problem, StackedBars, use_period, use_url_query};
use crate::i18n::{dim_label, t};
use crate::own::BY;
use crate::{api, format};

#[component]
pub fn Own() -> impl IntoView {
    let costs = LocalResource::new(api::own_costs);
    view! {
        <Transition fallback=|| view! { <p aria-busy="true">{t().loading}</p> }>
            {move || Suspend::new(async move {
                match costs.await {
                    Ok(c) => view! { <OwnBody c=c /> }.into_any(),
                    Err(e) => view! { <h1>{t().own_heading}</h1><Problem error=e return_to="/my" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OwnBody(c: OwnCosts) -> impl IntoView {
    let t = t();
    let currency = c.currency.clone().unwrap_or_else(|| "USD".into());
    let money = {
        let currency = currency.clone();
        move |v: i64| format::money(v, &currency)
    };
    // The customer's own last day with data, from its figures.
    let range = use_period(c.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive()));
    let cube = LocalResource::new(move || {
        let (from, to) = range.get();
        async move { api::own_usage(&from.to_string(), &to.to_string()).await }
    });
    let subscriptions = c
        .azure_subscriptions
        .iter()
        .map(|s| {
            let status = match crate::i18n::status_label(&s.status) {
                Some(known) => view! { <span class="status">{known}</span> }.into_any(),
                None => view! { <span class="status" translate="no">{s.status.clone()}</span> }
                    .into_any(),
            };
            view! { <li><span translate="no">{s.name.clone()}</span>" · "{status}</li> }
        })
        .collect_view();
    view! {
        <h1 translate="no">{c.name.clone()}</h1>
        <p class="summary">{t.own_intro}</p>
        <dl class="facts">
            <dt>{t.billed_by}</dt><dd translate="no">{c.partner_name.clone().unwrap_or_default()}</dd>
            <dt>{t.currency}</dt><dd translate="no">{currency.clone()}</dd>
            <dt>{t.figures_up_to}</dt><dd>{c.as_of.map(format::day).unwrap_or_default()}" (UTC)"</dd>
        </dl>
        <div class="cards">
            <section class="card totals own">
                <h2>{t.your_price}</h2>
                <dl>
                    <dt>{c.as_of.map(format::month_to).unwrap_or_else(|| t.this_month.into())}</dt><dd class="mtd">{money(c.month_to_date)}</dd>
                    <dt>{t.forecast_to_month_end}</dt><dd class="forecast">{money(c.forecast)}</dd>
                    <dt>{c.as_of.map(format::month_before).unwrap_or_else(|| t.last_month.into())}</dt><dd>{money(c.last_month)}</dd>
                </dl>
            </section>
            <section class="card">
                <h2>{t.azure_subscriptions}</h2>
                <ul class="plain">{subscriptions}</ul>
            </section>
        </div>
        <div class="toolbar"><PeriodPicker range=range /></div>
        <Loader resource=cube return_to="/my" let:cube>
            <OwnBreakdown cube />
        </Loader>
        <p>
            <a href=move || { let (f, to) = range.get(); api::own_export_url(&f.to_string(), &to.to_string()) } download="">{t.own_line_items_csv}</a>
        </p>
    }
}

/// The period's price by the chosen split: daily bars and a table.
#[component]
fn OwnBreakdown(cube: Cube) -> impl IntoView {
    let query = use_url_query();
    let by = Memo::new(move |_| {
        query
            .get("by")
            .and_then(|b| Dim::parse(&b))
            .filter(|d| BY.contains(d))
            .unwrap_or(Dim::Subscription)
    });
    let cube = StoredValue::new(cube);
    let pivot = Memo::new(move |_| {
        cube.with_value(|c| {
            c.pivot(&PivotQuery {
                group_by: vec![by.get()],
                ..Default::default()
            })
        })
    });
    let daily = Memo::new(move |_| {
        cube.with_value(|c| {
            c.pivot(&PivotQuery {
                group_by: vec![by.get()],
                bucket: Bucket::Day,
                ..Default::default()
            })
        })
    });
    let t = t();
    view! {
        <section class="card">
            <h2>{t.where_the_cost_comes_from}</h2>
            <div class="toolbar">
                <label for="own-by">{t.break_down_by}</label>
                <select id="own-by" on:change=move |ev| query.set("by", &event_target_value(&ev))>
                    {BY.iter().map(|d| {
                        let name = d.name();
                        let selected = move || by.get().name() == name;
                        view! { <option value=d.name() selected=selected>{dim_label(d)}</option> }
                    }).collect_view()}
                </select>
            </div>
            {move || {
                let d = daily.get();
                let currency = d.totals.first().map(|(c, _)| c.clone()).unwrap_or_else(|| "USD".into());
                let stack = d.stack(Measure::CustomerPrice, &currency, 7);
                let label = (t.daily_price_by)(&dim_label(&by.get()));
                view! { <StackedBars stack currency label /> }
            }}
            <table class="data breakdown">
                <thead><tr>
                    <th scope="col">{move || dim_label(&by.get())}</th>
                    <th scope="col" class="num">{t.price}</th>
                </tr></thead>
                <tbody>
                    {move || pivot.get().rows.into_iter().map(|r| view! {
                        <tr>
                            <td translate="no">{r.keys[0].clone()}</td>
                            <td class="num">{format::money(r.total.customer_price, &r.currency)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
