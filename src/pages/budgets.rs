//! Every customer's monthly budget (Partner Center's usage budget), how much
//! of it is used, and who is over or trending over; set per customer on its
//! page, or for several at once here (one amount, or a percent of each
//! one's last month).

use leptos::prelude::*;
use leptos_router::components::A;
use model::api::{BudgetUpdate, CustomerList, CustomerSummary};
use model::budgets::{BudgetPlanError, BudgetRule, Skipped, plan};
use model::overview::Rates;
use model::report::BudgetState;
use model::views::{CustomerColumn, customer_rows, table_csv};

use crate::components::{Loader, ManagersOnly, RatesUsed, Saving};
use crate::i18n::t;
use crate::{api, download, format};

#[component]
pub fn Budgets() -> impl IntoView {
    let customers = LocalResource::new(|| async {
        let (list, reporting) = futures::join!(api::customers(), api::reporting());
        Ok::<_, api::ApiError>((list?, Rates::from_settings(&reporting?)))
    });
    // What the last save of several budgets did outlives the table it
    // reloads.
    let outcome = Outcome {
        status: RwSignal::new(None),
        problems: RwSignal::new(Vec::new()),
    };
    view! {
        <h1>{t().nav_budgets}</h1>
        <p class="notice">{t().budgets_notice}</p>
        <Loader resource=customers return_to="/budgets" let:loaded>
            <BudgetTable list=loaded.0 rates=loaded.1 outcome refetch=move || customers.refetch() />
        </Loader>
    }
}

/// The last save of several budgets: its sentence, and each customer it failed for.
#[derive(Clone, Copy)]
struct Outcome {
    status: RwSignal<Option<(bool, String)>>,
    problems: RwSignal<Vec<String>>,
}

/// Each customer's budget, use and state, the most used first.
#[component]
fn BudgetTable(
    list: CustomerList,
    rates: Rates,
    outcome: Outcome,
    refetch: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let rows: Vec<CustomerSummary> =
        customer_rows(&list.customers, "", CustomerColumn::BudgetUsed, true, None)
            .into_iter()
            .cloned()
            .collect();
    let mut currencies: Vec<String> = rows
        .iter()
        .map(|c| c.currency.clone().unwrap_or_else(|| "USD".into()))
        .collect();
    currencies.sort();
    currencies.dedup();
    // The month to date in the reporting currency, beside each customer's own.
    let converts = rates.converts_beside(&currencies);
    let chosen: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
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
    let all_ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let count = all_ids.len();
    let rows = StoredValue::new(rows);
    let reporting = rates.currency.clone();
    view! {
        <SeveralBudgets rows chosen outcome refetch />
        <table class="data budgets">
            <thead><tr>
                <th scope="col"><input type="checkbox" aria-label=t().choose_all
                    prop:checked=move || chosen.with(|c| c.len() == count && count > 0)
                    on:change={
                        let all = all_ids.clone();
                        move |ev| chosen.set(if event_target_checked(&ev) { all.clone() } else { Vec::new() })
                    } /></th>
                <th scope="col">{t().dim_customer}</th><th scope="col" class="num">{t().budget}</th>
                <th scope="col" class="num">{t().month_to_date}</th>
                {converts.then(|| view! { <th scope="col" class="num converted">{(t().in_currency)(&reporting)}</th> })}
                <th scope="col" class="num">{t().used}</th>
                <th scope="col" class="num">{t().forecast}</th><th scope="col">{t().state}</th><th scope="col">{t().alerts_at}</th>
            </tr></thead>
            <tbody>
                {rows.get_value().into_iter().map(|c| {
                    let cur = c.currency.clone().unwrap_or_else(|| "USD".into());
                    let crossed: Vec<String> = c.budget_used
                        .map(|u| c.budget_thresholds.iter().filter(|t| u >= **t as i64 * 100).map(|t| format!("{t} %")).collect())
                        .unwrap_or_default();
                    let id = c.id.clone();
                    let id2 = c.id.clone();
                    let converted = converts.then(|| {
                        let v = rates.convert(c.month_to_date.partner_cost, &cur).unwrap_or_default();
                        view! { <td class="num converted">{format::money(v, &rates.currency)}</td> }
                    });
                    view! {
                        <tr data-customer-id=c.id.clone() class:over=matches!(c.budget_state, BudgetState::Over | BudgetState::TrendingOver)>
                            <td><input type="checkbox" class="choose" aria-label=(t().choose_customer)(&c.name)
                                prop:checked=move || chosen.with(|v| v.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|v| {
                                        v.retain(|x| *x != id2);
                                        if on { v.push(id2.clone()); }
                                    });
                                } /></td>
                            <td translate="no"><A href=crate::host::path(format!("/customers/{}", c.id))>{c.name.clone()}</A></td>
                            <td class="num budget">{c.budget.map(|b| format::money(b, &cur)).unwrap_or_else(|| "–".into())}</td>
                            <td class="num">{format::money(c.month_to_date.partner_cost, &cur)}</td>
                            {converted}
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
        {converts.then(|| view! { <RatesUsed rates=rates.clone() currencies=currencies.clone() /> })}
        <button type="button" class="link" on:click=move |_| download::csv("budgets.csv", &table_csv(
            &["Customer", "Currency", "Budget", "Month to date", "Forecast", "State", "Alerts at %"], &csv))>{t().export_csv}</button>
    }
}

/// One amount or a percent of last month for the chosen customers, each
/// written to Partner Center in turn; what failed says why, per customer.
#[component]
fn SeveralBudgets(
    rows: StoredValue<Vec<CustomerSummary>>,
    chosen: RwSignal<Vec<String>>,
    outcome: Outcome,
    refetch: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let (percent, set_percent) = signal(false);
    let (value, set_value) = signal(String::new());
    let Outcome { status, problems } = outcome;
    let (set_status, set_problems) = (status.write_only(), problems.write_only());
    let apply = Action::new_local(move |planned: &Vec<model::budgets::PlannedBudget>| {
        let planned = planned.clone();
        async move {
            let mut done = 0;
            let mut failed = Vec::new();
            for p in &planned {
                match &p.amount {
                    Ok(amount) => {
                        let update = BudgetUpdate {
                            amount: Some(amount.clone()),
                            thresholds: None,
                        };
                        match api::set_budget(&p.customer_id, &update).await {
                            Ok(_) => done += 1,
                            Err(e) => failed.push(format!("{}: {e}", p.name)),
                        }
                    }
                    Err(Skipped::NoCostLastMonth) => {
                        failed.push(format!("{}: {}", p.name, t().no_cost_last_month))
                    }
                }
            }
            set_status.set(Some((
                failed.is_empty(),
                (t().budgets_set)(done, planned.len()),
            )));
            set_problems.set(failed);
            if done > 0 {
                refetch();
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_problems.set(Vec::new());
        let ids = chosen.get_untracked();
        let planned = rows.with_value(|rows| {
            let picked: Vec<&CustomerSummary> =
                rows.iter().filter(|c| ids.contains(&c.id)).collect();
            BudgetRule::parse(&value.get_untracked(), percent.get_untracked())
                .and_then(|rule| plan(rule, &picked))
        });
        match planned {
            Ok(p) => {
                apply.dispatch(p);
            }
            Err(e) => set_status.set(Some((
                false,
                match e {
                    BudgetPlanError::NoneChosen => t().choose_customers_first.to_string(),
                    BudgetPlanError::BadNumber(text) => (t().not_a_number)(&text),
                    BudgetPlanError::MixedCurrencies(c) => (t().one_currency_only)(&c.join(", ")),
                },
            ))),
        }
    };
    view! {
        <form class="card several-budgets" on:submit=submit>
            <h2>{t().set_several_budgets}</h2>
            <p class="notice">{t().set_several_notice}</p>
            <ManagersOnly>
                <p class="chosen" aria-live="polite">{move || (t().chosen_count)(chosen.with(Vec::len))}</p>
                <div class="toolbar">
                    <label class="check"><input type="radio" name="budget-rule" id="rule-amount" prop:checked=move || !percent.get()
                        on:change=move |_| set_percent.set(false) />{t().same_amount}</label>
                    <label class="check"><input type="radio" name="budget-rule" id="rule-percent" prop:checked=move || percent.get()
                        on:change=move |_| set_percent.set(true) />{t().percent_of_last_month}</label>
                    <label for="several-value" class="visually-hidden">{move || if percent.get() { t().percent_of_last_month } else { t().same_amount }}</label>
                    <input id="several-value" inputmode="decimal" prop:value=move || value.get() on:input=move |ev| set_value.set(event_target_value(&ev)) />
                    <button type="submit" disabled=move || apply.pending().get()>{t().set_budgets}</button>
                </div>
            </ManagersOnly>
            <Saving pending=apply.pending() />
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
            {move || (!problems.get().is_empty()).then(|| view! {
                <ul class="problems">{problems.get().into_iter().map(|p| view! { <li translate="no">{p}</li> }).collect_view()}</ul>
            })}
        </form>
    }
}
