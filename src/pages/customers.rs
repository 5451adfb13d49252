use leptos::prelude::*;
use leptos_router::components::A;
use model::api::{CustomerList as CustomerListData, CustomerSummary};
use model::overview::Rates;
use model::report::BudgetState;
use model::views::{CustomerColumn, customer_rows, customers_csv};

use crate::components::{Loader, RatesUsed, use_url_query};
use crate::i18n::t;
use crate::{api, download, format};

/// Rows shown per page: thousands of customers stay quick to draw.
const PAGE: usize = 100;

/// Every customer with this month's figures: searchable, sortable, paged,
/// all of it in the URL so a link or a reload shows the same view.
#[component]
pub fn Customers() -> impl IntoView {
    // The rates, to sort customers of different currencies in one order.
    let customers = LocalResource::new(|| async {
        let (list, reporting) = futures::join!(api::customers(), api::reporting());
        Ok::<_, api::ApiError>((list?, Rates::from_settings(&reporting?)))
    });
    view! {
        <h1>{t().nav_customers}</h1>
        <Loader resource=customers return_to="/customers" loading=t().loading_customers let:loaded>
            <CustomerList rows=loaded.0 rates=loaded.1 />
        </Loader>
    }
}

#[component]
fn CustomerList(rows: CustomerListData, rates: Rates) -> impl IntoView {
    let rows = rows.customers;
    let rates = StoredValue::new(rates);
    let query = use_url_query();
    let rows = StoredValue::new(rows);
    let search = Memo::new(move |_| query.get("q").unwrap_or_default());
    let column = Memo::new(move |_| {
        query
            .get("sort")
            .and_then(|k| CustomerColumn::from_key(&k))
            .unwrap_or(CustomerColumn::MonthToDate)
    });
    let descending = Memo::new(move |_| query.get("dir").as_deref() != Some("asc"));
    let page = Memo::new(move |_| {
        query
            .get("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1)
    });
    // Every change is a new URL: back and forward walk through them.
    let go = StoredValue::new(
        move |q: &str, sort: CustomerColumn, desc: bool, page: usize| {
            let page = if page > 1 {
                page.to_string()
            } else {
                String::new()
            };
            query.change(
                &[
                    ("sort", sort.key()),
                    ("dir", if desc { "desc" } else { "asc" }),
                    ("q", q),
                    ("page", &page),
                ],
                None,
            );
        },
    );
    let shown = Memo::new(move |_| {
        rows.with_value(|rows| {
            rates.with_value(|rates| {
                customer_rows(
                    rows,
                    &search.get(),
                    column.get(),
                    descending.get(),
                    Some(rates),
                )
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
            })
        })
    });
    let pages = move || shown.with(|s| s.len().div_ceil(PAGE).max(1));
    let export = move |_| {
        let text = shown.with(|s| customers_csv(&s.iter().collect::<Vec<_>>()));
        download::csv("customers.csv", &text);
    };
    let total = rows.with_value(Vec::len);
    let count = move || {
        let n = shown.with(Vec::len);
        if search.with(String::is_empty) {
            (t().customers_count)(total)
        } else {
            (t().customers_matching)(n, total)
        }
    };
    let currencies = rows.with_value(|rows| {
        let mut c: Vec<String> = rows.iter().filter_map(|r| r.currency.clone()).collect();
        c.sort();
        c.dedup();
        c
    });
    let within_currency = currencies.len() > 1
        && !rates.with_value(|r| r.converts_all(currencies.iter().map(String::as_str)));
    // With every rate, each month to date also in the reporting currency.
    let converts = rates.with_value(|r| r.converts_beside(&currencies));
    let converted = move |c: &CustomerSummary| {
        let cur = c.currency.as_deref().unwrap_or("USD");
        rates.with_value(|r| {
            (converts && cur != r.currency)
                .then(|| r.convert(c.month_to_date.partner_cost, cur))
                .flatten()
                .map(|v| format::money(v, &r.currency))
        })
    };
    view! {
        <p class="summary" aria-live="polite">{count}</p>
        {within_currency.then(|| view! { <p class="notice ranked-within">{t().ranked_within_currency}</p> })}
        <div class="toolbar">
            <label for="customer-search">{t().search}</label>
            <input id="customer-search" type="search" placeholder=t().name_or_domain
                prop:value=move || search.get()
                on:input=move |ev| go.with_value(|go| go(&event_target_value(&ev), column.get(), descending.get(), 1)) />
            <button type="button" on:click=export>{t().export_csv}</button>
        </div>
        <table class="data customers">
            <thead>
                <tr>
                    {CustomerColumn::ALL.into_iter().map(|c| {
                        let sort = move || if column.get() == c { if descending.get() { "descending" } else { "ascending" } } else { "none" };
                        view! {
                            <th scope="col" aria-sort=sort class:num=c != CustomerColumn::Name && c != CustomerColumn::Currency>
                                <button type="button" class="sort" on:click=move |_| {
                                    let desc = if column.get() == c { !descending.get() } else { c != CustomerColumn::Name && c != CustomerColumn::Currency };
                                    go.with_value(|go| go(&search.get(), c, desc, 1));
                                }>{crate::i18n::column_label(c)}</button>
                            </th>
                        }
                    }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {move || {
                    let start = (page.get() - 1) * PAGE;
                    shown.with(|s| s.iter().skip(start).take(PAGE).cloned().collect::<Vec<_>>())
                        .into_iter()
                        .map(|c| view! { <CustomerRowView converted=converted(&c) c=c /> })
                        .collect_view()
                }}
            </tbody>
        </table>
        {move || shown.with(Vec::is_empty).then(|| view! { <p class="notice no-match">{t().no_customer_matches}</p> })}
        {converts.then(|| view! { <RatesUsed rates=rates.get_value() currencies=currencies.clone() /> })}
        <nav class="pager" aria-label=t().pages>
            <button type="button" disabled=move || { page.get() <= 1 }
                on:click=move |_| go.with_value(|go| go(&search.get(), column.get(), descending.get(), page.get() - 1))>{t().previous}</button>
            <span>{move || (t().page_of)(page.get().min(pages()), pages())}</span>
            <button type="button" disabled=move || { page.get() >= pages() }
                on:click=move |_| go.with_value(|go| go(&search.get(), column.get(), descending.get(), page.get() + 1))>{t().next}</button>
        </nav>
    }
}

#[component]
fn CustomerRowView(
    c: CustomerSummary,
    /// The month to date in the reporting currency, for another currency.
    converted: Option<String>,
) -> impl IntoView {
    let currency = c.currency.clone().unwrap_or_else(|| "USD".into());
    let money = move |v: i64| format::money(v, &currency);
    let budget = match (c.budget_used, c.budget_state) {
        (Some(used), state) => {
            let flag = match state {
                BudgetState::Over => t().over_flag,
                BudgetState::TrendingOver => t().trending_over_flag,
                _ => "",
            };
            // The state may wrap under the percent; the percent never breaks.
            view! { {format::percent(used)}<span class="note">{flag}</span> }.into_any()
        }
        (None, _) => "–".into_any(),
    };
    view! {
        <tr data-customer-id=c.id.clone() class:over=matches!(c.budget_state, BudgetState::Over | BudgetState::TrendingOver)>
            <td translate="no"><A href=crate::host::path(format!("/customers/{}", c.id))>{c.name.clone()}</A><br /><span class="muted">{c.domain.clone()}</span></td>
            <td translate="no">{c.currency.clone().unwrap_or_default()}</td>
            <td class="num mtd">{money(c.month_to_date.partner_cost)}
                {converted.map(|v| view! { <br /><span class="converted muted">{format!("≈ {v}")}</span> })}</td>
            <td class="num">{money(c.month_to_date.customer_price)}</td>
            <td class="num">{money(c.month_to_date.margin())}{c.margin_fell.then_some(" ↓")}</td>
            <td class="num">{money(c.forecast.partner_cost)}</td>
            <td class="num">{money(c.last_month.partner_cost)}</td>
            <td class="num">{budget}</td>
        </tr>
    }
}

/// The customers as a plain table; kept for tests and simple embeds.
#[component]
pub fn CustomerTable(rows: Vec<CustomerSummary>) -> impl IntoView {
    view! {
        <table class="data customers">
            <thead>
                <tr>
                    <th scope="col">{t().dim_customer}</th>
                    <th scope="col">{t().domain}</th>
                    <th scope="col">{t().currency}</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|c| view! {
                        <tr data-customer-id=c.id>
                            <td>{c.name}</td>
                            <td>{c.domain}</td>
                            <td>{c.currency.unwrap_or_default()}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
