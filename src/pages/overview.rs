use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::components::A;
use model::api::{CurrencyTotals, Overview as OverviewData, Ranked, SyncProblem, SyncProblemKind};
use model::report::BudgetState;
use model::views::{change_basis_points, table_csv};

use crate::components::{Loader, RatesUsed, SyncBar, TrendChart};
use crate::i18n::t;
use crate::{api, download, format};

/// All customers at once: this month, the forecast, the trend, who costs
/// most and on what, who is over budget, and what looks unusual.
#[component]
pub fn Overview() -> impl IntoView {
    let overview = LocalResource::new(api::overview);
    view! {
        <h1>{t().nav_overview}</h1>
        <Loader resource=overview return_to="/" let:o>
            <SyncBar />
            <OverviewBody o />
        </Loader>
    }
}

#[component]
fn Totals(totals: CurrencyTotals, caption: String, as_of: NaiveDate) -> impl IntoView {
    let c = totals.currency.clone();
    let change = change_basis_points(
        totals.month_to_date.partner_cost,
        totals.last_month_to_same_day.partner_cost,
    );
    view! {
        <section class="card totals" data-currency=c.clone()>
            <h2>{caption}</h2>
            <p class="period muted">{format::month_to(as_of)}</p>
            <dl>
                <dt>{t().partner_cost_month_to_date}</dt><dd class="mtd">{format::money(totals.month_to_date.partner_cost, &c)}</dd>
                <dt>{t().customer_price}</dt><dd>{format::money(totals.month_to_date.customer_price, &c)}</dd>
                <dt>{t().margin}</dt><dd>{format::money(totals.month_to_date.margin(), &c)}</dd>
                <dt>{t().forecast_to_month_end}</dt><dd class="forecast">{format::money(totals.forecast.partner_cost, &c)}</dd>
                <dt class="last-month">{(t().partner_cost_of)(&format::month_before(as_of))}</dt><dd>{format::money(totals.last_month.partner_cost, &c)}</dd>
                <dt>{t().change_same_days}</dt><dd>{change.map(format::percent).unwrap_or_else(|| "–".into())}</dd>
            </dl>
        </section>
    }
}

fn ranked_rows(items: &[Ranked]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.currency.clone(),
                model::export::decimal(r.month_to_date.partner_cost),
                model::export::decimal(r.month_to_date.customer_price),
            ]
        })
        .collect()
}

#[component]
fn RankedTable(
    title: &'static str,
    items: Vec<Ranked>,
    link: bool,
    file: &'static str,
) -> impl IntoView {
    let csv_rows = ranked_rows(&items);
    view! {
        <section class="card">
            <h2>{title}</h2>
            <table class="data ranked">
                <thead><tr><th scope="col">{t().name}</th><th scope="col" class="num">{t().partner_cost}</th><th scope="col" class="num">{t().customer_price}</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|r| view! {
                        <tr>
                            <td translate="no">{if link { view! { <A href=crate::host::path(format!("/customers/{}", r.id))>{r.name.clone()}</A> }.into_any() } else { r.name.clone().into_any() }}</td>
                            <td class="num">{format::money(r.month_to_date.partner_cost, &r.currency)}</td>
                            <td class="num">{format::money(r.month_to_date.customer_price, &r.currency)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <button type="button" class="link" on:click=move |_| download::csv(file, &table_csv(&["Name", "Currency", "Partner cost", "Customer price"], &csv_rows))>
                {t().export_csv}
            </button>
        </section>
    }
}

/// What the last sync could not read, so that nobody takes an incomplete
/// figure for a whole one.
#[component]
fn Incomplete(problems: Vec<SyncProblem>) -> impl IntoView {
    let t = t();
    (!problems.is_empty()).then(|| {
        let items = problems
            .into_iter()
            .map(|p| {
                let subject = p.subject.clone().unwrap_or_default();
                let what = match p.kind {
                    SyncProblemKind::Customers => view! { {t.problem_customers} }.into_any(),
                    SyncProblemKind::Customer => {
                        let name = p.name.clone().unwrap_or(subject);
                        view! { <span translate="no">{(t.problem_customer)(&name)}</span> }
                            .into_any()
                    }
                    SyncProblemKind::Invoices => view! { {t.problem_invoices} }.into_any(),
                    SyncProblemKind::Feed => {
                        view! { {t.problem_feed}" "<span translate="no">{subject}</span> }
                            .into_any()
                    }
                    SyncProblemKind::LineItem => {
                        view! { {t.problem_line_items}" "<span translate="no">{subject}</span> }
                            .into_any()
                    }
                };
                // A reason the app knows is said in the reader's language;
                // any other is the upstream's own words.
                let reason = match p.code {
                    Some(code) => view! { <span class="muted">{t.error(code)}</span> }.into_any(),
                    None => {
                        view! { <span class="muted" translate="no">{p.reason}</span> }.into_any()
                    }
                };
                view! { <li data-kind=format!("{:?}", p.kind)>{what}": "{reason}</li> }
            })
            .collect_view();
        view! {
            <section class="card incomplete" role="status">
                <h2>{t.figures_incomplete}</h2>
                <p class="notice">{t.figures_incomplete_notice}</p>
                <ul class="plain">{items}</ul>
            </section>
        }
    })
}

#[component]
fn OverviewBody(o: OverviewData) -> impl IntoView {
    if o.customers == 0 || o.as_of.is_none() {
        return view! {
            <p class="summary">{(t().synced_customers)(o.customers)}<A href=crate::host::path("/customers")>{t().see_them_all}</A></p>
            <p class="notice">{t().no_usage_sync}</p>
            <Incomplete problems=o.incomplete.clone() />
        }
        .into_any();
    }
    let Some(as_of_day) = o.as_of else {
        return ().into_any();
    };
    let as_of = format::day(as_of_day);
    // The trend in the reporting currency when customers are billed in it,
    // else the first: amounts of different currencies are not comparable.
    let main_currency = o
        .by_currency
        .iter()
        .find(|t| t.currency == o.reporting.currency)
        .or(o.by_currency.first())
        .map(|t| t.currency.clone())
        .unwrap_or_default();
    let trend: Vec<(NaiveDate, i64)> = o
        .daily
        .iter()
        .filter(|p| p.currency == main_currency)
        .map(|p| (p.day, p.partner_cost))
        .collect();
    let rates = o
        .reporting
        .rates
        .iter()
        .map(|r| format!("1 {} = {} {}", r.currency, r.rate, o.reporting.currency))
        .collect::<Vec<_>>()
        .join(", ");
    let trend_rows: Vec<Vec<String>> = trend
        .iter()
        .map(|(d, v)| {
            vec![
                d.to_string(),
                main_currency.clone(),
                model::export::decimal(*v),
            ]
        })
        .collect();
    let trend_for_table = trend.clone();
    let currency_for_table = main_currency.clone();
    view! {
        <p class="summary">
            {(t().synced_customers)(o.customers)}
            <A href=crate::host::path("/customers")>{t().see_them_all}</A>
            {(t().figures_up_to_utc)(&as_of)}
        </p>
        <div class="cards">
            {o.converted.clone().map(|totals| view! {
                <Totals totals=totals caption=(t().all_customers_in)(&o.reporting.currency, &rates) as_of=as_of_day />
            })}
            {o.by_currency.iter().cloned().map(|t| {
                let caption = (crate::i18n::t().customers_billed_in)(&t.currency);
                view! { <Totals totals=t caption=caption as_of=as_of_day /> }
            }).collect_view()}
        </div>
        {o.converted.is_some().then(|| view! {
            <RatesUsed rates=model::overview::Rates::from_settings(&o.reporting)
                currencies=o.by_currency.iter().map(|t| t.currency.clone()).collect() />
        })}
        <Incomplete problems=o.incomplete.clone() />
        {(!o.missing_rates.is_empty()).then(|| view! {
            <p class="notice">{(t().missing_rates)(&o.missing_rates.join(", "))}<A href=crate::host::path("/settings")>{t().nav_settings}</A>{t().missing_rates_after}</p>
        })}
        {
            // For the benchmark of time to an interactive Overview: the frame
            // after the trend is drawn with data.
            request_animation_frame(|| {
                if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                    let _ = p.mark("overview-interactive");
                }
            });
        }
        <section class="card trend">
            <h2>{(t().daily_partner_cost)(&main_currency)}</h2>
            <TrendChart points=trend currency=main_currency.clone() label=(t().daily_partner_cost_60)(&main_currency) />
            <details>
                <summary>{t().same_numbers_table}</summary>
                <table class="data daily">
                    <thead><tr><th scope="col">{t().day_utc}</th><th scope="col" class="num">{t().partner_cost}</th></tr></thead>
                    <tbody>
                        {trend_for_table.into_iter().map(|(d, v)| view! {
                            <tr data-day=d.to_string()><td>{format::day(d)}</td><td class="num">{format::money(v, &currency_for_table)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
            <button type="button" class="link" on:click=move |_| download::csv("daily-cost.csv", &table_csv(&["Day (UTC)", "Currency", "Partner cost"], &trend_rows))>
                {t().export_csv}
            </button>
        </section>
        {(o.by_currency.len() > 1 && !o.missing_rates.is_empty()).then(|| view! {
            <p class="notice ranked-within">{t().ranked_within_currency}</p>
        })}
        <div class="cards">
            <RankedTable title=t().top_customers items=o.top_customers.clone() link=true file="top-customers.csv" />
            <RankedTable title=t().top_services items=o.top_services.clone() link=false file="top-services.csv" />
        </div>
        <section class="card">
            <h2>{t().over_or_trending}</h2>
            {if o.budget_alerts.is_empty() {
                view! { <p class="notice">{t().none_over_budget}</p> }.into_any()
            } else {
                view! {
                    <table class="data budget-alerts">
                        <thead><tr><th scope="col">{t().dim_customer}</th><th scope="col">{t().state}</th><th scope="col" class="num">{t().budget}</th><th scope="col" class="num">{t().month_to_date}</th><th scope="col" class="num">{t().forecast}</th></tr></thead>
                        <tbody>
                            {o.budget_alerts.clone().into_iter().map(|b| view! {
                                <tr>
                                    <td translate="no"><A href=crate::host::path(format!("/customers/{}", b.customer_id))>{b.name.clone()}</A></td>
                                    <td>{match b.state { BudgetState::Over => t().over_budget, _ => t().trending_over }}</td>
                                    <td class="num">{format::money(b.budget, &b.currency)}</td>
                                    <td class="num">{format::money(b.month_to_date, &b.currency)}</td>
                                    <td class="num">{format::money(b.forecast, &b.currency)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>{t().margin_fell}</h2>
            <p class="notice">{t().margin_fell_notice}
                <A href=crate::host::path("/margin")>{t().nav_margin}</A>{t().margin_fell_why}</p>
            {if o.history_pending {
                view! { <p class="pending">{t().after_first_sync}</p> }.into_any()
            } else if o.margin_falls.is_empty() {
                view! { <p>{t().none}</p> }.into_any()
            } else {
                view! {
                    <ul class="margin-falls">
                        {o.margin_falls.clone().into_iter().map(|m| view! {
                            <li>
                                <span translate="no"><A href=crate::host::path(format!("/margin?customer={}", m.customer_id))>{m.name.clone()}</A></span>
                                {(t().margin_from)(&format::percent(m.now), &format::percent(m.before))}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>{t().anomalies_this_month}</h2>
            <p class="notice">{t().anomalies_notice}</p>
            {if o.history_pending {
                view! { <p class="pending">{t().after_first_sync}</p> }.into_any()
            } else if o.anomalies.is_empty() {
                view! { <p>{t().none}</p> }.into_any()
            } else {
                view! {
                    <ul class="anomalies">
                        {o.anomalies.clone().into_iter().map(|a| view! {
                            <li>
                                <span translate="no"><A href=crate::host::path(format!("/customers/{}", a.customer_id))>{a.name.clone()}</A></span>
                                {(t().anomaly_line)(
                                    &format::money(a.anomaly.cost, &a.currency),
                                    &format::day(a.anomaly.day),
                                    &format::money(a.anomaly.expected, &a.currency),
                                )}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
