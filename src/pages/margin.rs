//! Price and margin: what each customer pays against what the partner pays,
//! per customer and per meter; partner-earned credit earned and lost; who
//! lost margin against the previous period. Period and customer in the URL.

use leptos::prelude::*;
use leptos_router::components::A;
use model::margin::{CustomerMargin, MarginReport, customers_csv, lost_lines_csv, meters_csv};
use model::overview::Rates;

use crate::components::{Loader, PeriodPicker, RatesUsed, WithAsOf, use_period, use_url_query};
use crate::i18n::t;
use crate::{api, download, format};

fn percent(basis_points: Option<i64>) -> String {
    basis_points
        .map(format::percent)
        .unwrap_or_else(|| "–".into())
}

#[component]
pub fn Margin() -> impl IntoView {
    view! {
        <h1>{t().nav_margin}</h1>
        <p class="notice">{t().margin_notice}</p>
        <WithAsOf let:as_of>
            <MarginOf as_of />
        </WithAsOf>
    }
}

/// Price and margin once the last day with data is known.
#[component]
fn MarginOf(as_of: chrono::NaiveDate) -> impl IntoView {
    let query = use_url_query();
    let range = use_period(as_of);
    let customer = Memo::new(move |_| query.get("customer").unwrap_or_default());
    let report = LocalResource::new(move || {
        let ((from, to), customer) = (range.get(), customer.get());
        async move {
            let (f, t) = (from.to_string(), to.to_string());
            let (report, reporting) =
                futures::join!(api::margin(&customer, &f, &t), api::reporting());
            Ok::<_, api::ApiError>((report?, Rates::from_settings(&reporting?)))
        }
    });
    view! {
        <div class="toolbar"><PeriodPicker range /></div>
        <Loader resource=report return_to="/margin" let:loaded>
            <MarginTables report=loaded.0 rates=loaded.1 />
        </Loader>
    }
}

#[component]
fn MarginTables(mut report: MarginReport, rates: Rates) -> impl IntoView {
    let query = use_url_query();
    // Prices of different currencies compare only through the rates.
    report.rank(&rates);
    let mut currencies: Vec<String> = report
        .customers
        .iter()
        .map(|c| c.currency.clone())
        .collect();
    currencies.sort();
    currencies.dedup();
    // Price and margin in the reporting currency too, when several currencies are shown.
    let converts = rates.converts_beside(&currencies);
    let rates = StoredValue::new(rates);
    let in_reporting = move |v: i64, currency: &str| {
        rates.with_value(|r| format::money(r.convert(v, currency).unwrap_or_default(), &r.currency))
    };
    let reporting = rates.with_value(|r| r.currency.clone());
    let within_currency = currencies.len() > 1 && !converts;
    let filtered = query.get_untracked("customer").filter(|c| !c.is_empty());
    let report = StoredValue::new(report);
    let fell: Vec<CustomerMargin> = report.with_value(|r| {
        r.customers
            .iter()
            .filter(|c| c.margin_fell)
            .cloned()
            .collect()
    });
    let (from, to, pfrom, pto) = report.with_value(|r| {
        (
            r.from.clone(),
            r.to.clone(),
            r.previous_from.clone(),
            r.previous_to.clone(),
        )
    });
    view! {
        <p class="summary" data-from=from.clone() data-to=to.clone() data-previous-from=pfrom.clone() data-previous-to=pto.clone()>{
            // The report's days (YYYY-MM-DD) as the current language writes them.
            let day = |d: &str| d.parse().map(format::day).unwrap_or_else(|_| d.to_string());
            (t().period_compared)(&day(&from), &day(&to), &day(&pfrom), &day(&pto))
        }</p>
        {filtered.map(|id| {
            let name = report.with_value(|r| r.customers.first().map(|c| c.customer_name.clone())).unwrap_or(id);
            view! {
                <p class="crumbs">{t().customer_colon}<span class="chip"><span translate="no">{name}</span>" "
                    <button type="button" class="link" aria-label=t().show_all_customers on:click=move |_| query.set("customer", "")>"×"</button></span>
                </p>
            }
        })}
        <section aria-labelledby="fell-h">
            <h2 id="fell-h">{t().margin_fell}</h2>
            {if fell.is_empty() {
                view! { <p>{t().no_margin_fell}</p> }.into_any()
            } else {
                view! {
                    <ul class="fell">
                        {fell.into_iter().map(|c| {
                            let why = if c.figures.pec_lost > 0 {
                                (t().lost_pec_on)(c.figures.lost_lines as usize, &format::money(c.figures.pec_lost, &c.currency))
                            } else {
                                String::new()
                            };
                            view! {
                                <li><span translate="no"><A href=crate::host::path(format!("/customers/{}", c.customer_id))>{c.customer_name.clone()}</A></span>
                                    {(t().margin_against)(&percent(c.margin_basis_points), &percent(c.previous_margin_basis_points))}{why}</li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="customers-h">
            <h2 id="customers-h">{t().by_customer}</h2>
            {within_currency.then(|| view! { <p class="notice ranked-within">{t().ranked_within_currency}</p> })}
            <table class="data margin-customers">
                <thead><tr>
                    <th scope="col">{t().dim_customer}</th><th scope="col" class="num">{t().partner_cost}</th><th scope="col" class="num">{t().list_cost}</th>
                    <th scope="col" class="num">{t().customer_price}</th><th scope="col" class="num">{t().margin}</th>
                    {converts.then(|| view! { <th scope="col" class="num converted">{format!("{} · {}", t().customer_price, (t().in_currency)(&reporting))}</th>
                        <th scope="col" class="num converted">{format!("{} · {}", t().margin, (t().in_currency)(&reporting))}</th> })}
                    <th scope="col" class="num">{t().margin_percent}</th>
                    <th scope="col" class="num">{t().before}</th><th scope="col" class="num">{t().pec_earned}</th><th scope="col" class="num">{t().pec_lost}</th>
                    <th scope="col"><span class="visually-hidden">{t().meters}</span></th>
                </tr></thead>
                <tbody>
                    {report.with_value(|r| r.customers.clone()).into_iter().map(|c| {
                        let cur = c.currency.clone();
                        let id = c.customer_id.clone();
                        let name = c.customer_name.clone();
                        view! {
                            <tr class:fell=c.margin_fell data-customer=c.customer_id.clone() data-currency=cur.clone()>
                                <td translate="no"><A href=crate::host::path(format!("/customers/{}", c.customer_id))>{c.customer_name.clone()}</A></td>
                                <td class="num">{format::money(c.figures.partner_cost, &cur)}</td>
                                <td class="num">{format::money(c.figures.list_cost, &cur)}</td>
                                <td class="num">{format::money(c.figures.customer_price, &cur)}</td>
                                <td class="num">{format::money(c.figures.margin(), &cur)}</td>
                                {converts.then(|| view! {
                                    <td class="num converted">{in_reporting(c.figures.customer_price, &cur)}</td>
                                    <td class="num converted">{in_reporting(c.figures.margin(), &cur)}</td>
                                })}
                                <td class="num">{percent(c.margin_basis_points)}</td>
                                <td class="num">{percent(c.previous_margin_basis_points)}</td>
                                <td class="num">{format::money(c.figures.pec_earned, &cur)}</td>
                                <td class="num" class:flag=c.figures.pec_lost != 0>{format::money(c.figures.pec_lost, &cur)}</td>
                                <td><button type="button" class="link" aria-label=(t().meters_of)(&name) on:click=move |_| query.set("customer", &id)>{t().meters}</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {converts.then(|| view! { <RatesUsed rates=rates.get_value() currencies=currencies.clone() /> })}
            <button type="button" class="link" on:click=move |_| report.with_value(|r| download::csv("margin-customers.csv", &customers_csv(r)))>{t().export_csv}</button>
        </section>
        <section aria-labelledby="meters-h">
            <h2 id="meters-h">{t().by_meter}</h2>
            <table class="data margin-meters">
                <thead><tr>
                    <th scope="col">{t().dim_meter}</th><th scope="col">{t().dim_service}</th><th scope="col" class="num">{t().quantity}</th>
                    <th scope="col" class="num">{t().partner_cost}</th><th scope="col" class="num">{t().customer_price}</th><th scope="col" class="num">{t().margin}</th>
                    <th scope="col" class="num">{t().margin_percent}</th><th scope="col" class="num">{t().pec_earned}</th><th scope="col" class="num">{t().pec_lost}</th>
                </tr></thead>
                <tbody>
                    {report.with_value(|r| r.meters.clone()).into_iter().map(|m| {
                        let cur = m.currency.clone();
                        view! {
                            <tr data-meter=m.meter_id.clone()>
                                <td translate="no">{m.meter_name.clone()}</td>
                                <td translate="no">{m.meter_category.clone()}</td>
                                <td class="num" translate="no">{format!("{} {}", format::number(m.quantity_micros as f64 / 1e6, 2), m.unit)}</td>
                                <td class="num">{format::money(m.figures.partner_cost, &cur)}</td>
                                <td class="num">{format::money(m.figures.customer_price, &cur)}</td>
                                <td class="num">{format::money(m.figures.margin(), &cur)}</td>
                                <td class="num">{percent(m.margin_basis_points)}</td>
                                <td class="num">{format::money(m.figures.pec_earned, &cur)}</td>
                                <td class="num" class:flag=m.figures.pec_lost != 0>{format::money(m.figures.pec_lost, &cur)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <button type="button" class="link" on:click=move |_| report.with_value(|r| download::csv("margin-meters.csv", &meters_csv(r)))>{t().export_csv}</button>
        </section>
        <section aria-labelledby="lost-h">
            <h2 id="lost-h">{t().lost_pec_lines}</h2>
            {report.with_value(|r| {
                let shown = r.lost_lines.len();
                let total = r.lost_lines_total;
                if total == 0 {
                    return view! { <p>{t().no_line_lost}</p> }.into_any();
                }
                view! {
                    <p>{if shown < total { (t().largest_of_lines)(&format::number(shown as f64, 0), &format::number(total as f64, 0)) } else { (t().lines_count)(&format::number(total as f64, 0)) }}</p>
                    <table class="data lost-lines">
                        <thead><tr>
                            <th scope="col">{t().day_utc}</th><th scope="col">{t().dim_customer}</th><th scope="col">{t().subscription}</th>
                            <th scope="col">{t().dim_resource}</th><th scope="col">{t().dim_meter}</th><th scope="col" class="num">{t().list_cost}</th>
                            <th scope="col" class="num">{t().partner_cost}</th><th scope="col" class="num">{t().pec_lost}</th>
                        </tr></thead>
                        <tbody>
                            {r.lost_lines.iter().map(|l| view! {
                                <tr>
                                    <td>{l.usage_date.clone()}</td>
                                    <td translate="no">{l.customer_name.clone()}</td>
                                    <td translate="no">{l.subscription.clone()}</td>
                                    <td translate="no">{l.resource.clone()}</td>
                                    <td translate="no">{l.meter_name.clone()}</td>
                                    <td class="num">{format::money(l.list_cost, &l.currency)}</td>
                                    <td class="num">{format::money(l.partner_cost, &l.currency)}</td>
                                    <td class="num flag">{format::money(l.lost, &l.currency)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <button type="button" class="link" on:click=move |_| report.with_value(|r| download::csv("pec-lost.csv", &lost_lines_csv(r)))>{t().export_csv}</button>
                }.into_any()
            })}
        </section>
    }
}
