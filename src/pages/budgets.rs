//! Every customer's monthly budget (Partner Center's usage budget), how much
//! of it is used, and who is over or trending over; edited per customer.

use leptos::prelude::*;
use leptos_router::components::A;
use model::api::CustomerList;
use model::report::BudgetState;
use model::views::{CustomerColumn, customer_rows, table_csv};

use crate::components::Loader;
use crate::i18n::t;
use crate::{api, download, format};

#[component]
pub fn Budgets() -> impl IntoView {
    let customers = LocalResource::new(api::customers);
    view! {
        <h1>{t().nav_budgets}</h1>
        <p class="notice">{t().budgets_notice}</p>
        <Loader resource=customers return_to="/budgets" let:list>
            <BudgetTable list />
        </Loader>
    }
}

/// Each customer's budget, use and state, the most used first.
#[component]
fn BudgetTable(list: CustomerList) -> impl IntoView {
    let rows: Vec<_> = customer_rows(&list.customers, "", CustomerColumn::BudgetUsed, true, None)
        .into_iter()
        .cloned()
        .collect();
    let csv: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.currency.clone().unwrap_or_default(),
                c.budget.map(model::export::decimal).unwrap_or_default(),
                model::export::decimal(c.month_to_date.partner_cost),
                model::export::decimal(c.forecast.partner_cost),
                format!("{:?}", c.budget_state),
                c.budget_thresholds
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    view! {
        <table class="data budgets">
            <thead><tr>
                <th scope="col">{t().dim_customer}</th><th scope="col" class="num">{t().budget}</th>
                <th scope="col" class="num">{t().month_to_date}</th><th scope="col" class="num">{t().used}</th>
                <th scope="col" class="num">{t().forecast}</th><th scope="col">{t().state}</th><th scope="col">{t().alerts_at}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|c| {
                    let cur = c.currency.clone().unwrap_or_else(|| "USD".into());
                    let crossed: Vec<String> = c.budget_used
                        .map(|u| c.budget_thresholds.iter().filter(|t| u >= **t as i64 * 100).map(|t| format!("{t} %")).collect())
                        .unwrap_or_default();
                    view! {
                        <tr class:over=matches!(c.budget_state, BudgetState::Over | BudgetState::TrendingOver)>
                            <td translate="no"><A href=crate::host::path(format!("/customers/{}", c.id))>{c.name.clone()}</A></td>
                            <td class="num">{c.budget.map(|b| format::money(b, &cur)).unwrap_or_else(|| "–".into())}</td>
                            <td class="num">{format::money(c.month_to_date.partner_cost, &cur)}</td>
                            <td class="num">{c.budget_used.map(format::percent).unwrap_or_else(|| "–".into())}</td>
                            <td class="num">{format::money(c.forecast.partner_cost, &cur)}</td>
                            <td>{match c.budget_state {
                                BudgetState::Over => t().over_budget,
                                BudgetState::TrendingOver => t().trending_over,
                                BudgetState::Within => t().within_budget,
                                BudgetState::NoBudget => t().no_budget,
                            }}</td>
                            <td>{c.budget_thresholds.iter().map(|t| format!("{t} %")).collect::<Vec<_>>().join(", ")}
                                {(!crossed.is_empty()).then(|| view! { <span class="flag">{(t().crossed)(&crossed.join(", "))}</span> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <button type="button" class="link" on:click=move |_| download::csv("budgets.csv", &table_csv(
            &["Customer", "Currency", "Budget", "Month to date", "Forecast", "State", "Alerts at %"], &csv))>{t().export_csv}</button>
    }
}
