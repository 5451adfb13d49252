//! One customer: this month's figures, budget and markup, and a drill-down
//! from Azure subscription to resource group, resource and meter (or by
//! service, region, tag), computed in the browser from the usage cube.

use chrono::Datelike;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use model::api::{BudgetUpdate, CustomerDetail};
use model::cube::{Bucket, Cube, Dim, Measure, PivotQuery};
use model::report::BudgetState;
use model::views::table_csv;

use crate::components::{Loader, ManagersOnly, MarkupForm, Saving, StackedBars, use_url_query};
use crate::i18n::{dim_label, t};
use crate::{api, download, format};

/// The drill-down path: each level narrows to the row chosen in the one before.
const DRILL: [Dim; 4] = [
    Dim::Subscription,
    Dim::ResourceGroup,
    Dim::Resource,
    Dim::Meter,
];

/// What the last budget and markup saves said: kept above the page's body,
/// which a save refetches and draws again (the confirmation stays in view).
#[derive(Clone, Copy)]
struct SaveStatus {
    budget: RwSignal<Option<(bool, String)>>,
    markup: RwSignal<Option<(bool, String)>>,
}

#[component]
pub fn Customer() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move { api::customer(&id).await }
    });
    // Outlives the page body, which is drawn again with the saved figures.
    provide_context(SaveStatus {
        budget: RwSignal::new(None),
        markup: RwSignal::new(None),
    });
    view! {
        <Loader resource=detail return_to="/customers" error_heading=t().dim_customer let:d>
            <CustomerBody d on_change=move || detail.refetch() />
        </Loader>
    }
}

#[component]
fn CustomerBody(
    d: CustomerDetail,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let markup_status = expect_context::<SaveStatus>().markup;
    let c = d.summary.clone();
    let currency = c.currency.clone().unwrap_or_else(|| "USD".into());
    let as_of = d.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    let query = use_url_query();
    let from = Memo::new(move |_| query.get("from").unwrap_or_else(|| month_start.to_string()));
    let to = Memo::new(move |_| query.get("to").unwrap_or_else(|| as_of.to_string()));
    let id = c.id.clone();
    let cube = LocalResource::new(move || {
        let (id, from, to) = (id.clone(), from.get(), to.get());
        async move { api::usage(&id, &from, &to, &[]).await }
    });
    let budget_state = match c.budget_state {
        BudgetState::Over => t().over_budget_lower,
        BudgetState::TrendingOver => t().trending_over_budget_lower,
        BudgetState::Within => t().within_budget_lower,
        BudgetState::NoBudget => t().no_budget_set,
    };
    let m = c.month_to_date;
    let money = {
        let currency = currency.clone();
        move |v: i64| format::money(v, &currency)
    };
    view! {
        <p><A href=crate::host::path("/customers")>{t().back_to_customers}</A></p>
        <h1 translate="no">{c.name.clone()}</h1>
        <p class="summary"><span translate="no">{format!("{} · {}", c.domain, currency)}</span>" · "{(t().customer_summary)(c.azure_subscriptions as usize, &format::day(as_of))}</p>
        <div class="cards">
            <section class="card totals">
                <h2 class="period">{format::month_to(as_of)}</h2>
                <dl>
                    <dt>{t().partner_cost}</dt><dd class="mtd">{money(m.partner_cost)}</dd>
                    <dt>{t().customer_price}</dt><dd>{money(m.customer_price)}</dd>
                    <dt>{t().margin}</dt><dd>{money(m.margin())}{c.margin_fell.then(|| view! { <span class="note">{t().fell_against_last_month}</span> })}</dd>
                    <dt>{t().forecast_to_month_end}</dt><dd>{money(c.forecast.partner_cost)}</dd>
                    <dt class="last-month">{(t().partner_cost_of)(&format::month_before(as_of))}</dt><dd>{money(c.last_month.partner_cost)}</dd>
                    <dt>{t().budget}</dt><dd>{c.budget.map(&money).unwrap_or_else(|| t().none_set.into())}<span class="note">{format!(" ({budget_state})")}</span></dd>
                </dl>
                {d.partner_center_estimate.clone().map(|(v, cur)| view! {
                    <p class="notice estimate">{(t().partner_center_estimate)(&format::month(as_of), &format::money(v, &cur))}</p>
                })}
                {(!c.anomalies.is_empty()).then(|| view! {
                    <p class="warning">{(t().unusual_cost_on)(&c.anomalies.iter().map(|a| format::day(a.day)).collect::<Vec<_>>().join(", "))}</p>
                })}
            </section>
            <BudgetForm id=c.id.clone() budget=c.budget thresholds=c.budget_thresholds.clone() on_change=on_change />
            <MarkupForm customer=Some(c.id.clone()) basis=c.markup.basis basis_points=c.markup.basis_points on_change=on_change status=markup_status />
            <CustomerAccess id=c.id.clone() />
        </div>
        <Loader resource=cube return_to="/customers" loading=t().loading_usage let:cube>
            <Breakdown cube />
        </Loader>
        <p>
            <a href=move || api::export_url("line-items", &c.id, &from.get(), &to.get()) download="">{t().line_items_csv}</a>
            " · "
            <a href=move || api::export_url("focus", &d.summary.id, &from.get(), &to.get()) download="">{t().focus_csv}</a>
        </p>
    }
}

/// The pivot over the customer's usage: by the chosen dimension, narrowed
/// by the rows chosen so far, all in the URL.
#[component]
fn Breakdown(cube: Cube) -> impl IntoView {
    let query = use_url_query();
    let cube = StoredValue::new(cube);
    let by = Memo::new(move |_| {
        query
            .get("by")
            .and_then(|b| Dim::parse(&b))
            .unwrap_or(Dim::Subscription)
    });
    // Filters come as `f.subscription=Production` etc.
    let filters = Memo::new(move |_| {
        DRILL
            .iter()
            .chain([Dim::MeterCategory, Dim::Region].iter())
            .filter_map(|d| {
                query
                    .get(&format!("f.{}", d.name()))
                    .map(|v| (d.clone(), vec![v]))
            })
            .collect::<Vec<_>>()
    });
    // A meter's quantity is shown with its unit: meters are grouped by unit
    // too (a meter has one).
    let pivot = Memo::new(move |_| {
        let mut group_by = vec![by.get()];
        if by.get() == Dim::Meter {
            group_by.push(Dim::Unit);
        }
        cube.with_value(|c| {
            c.pivot(&PivotQuery {
                group_by,
                filters: filters.get(),
                ..Default::default()
            })
        })
    });
    // The daily trend, split by the chosen grouping.
    let daily = Memo::new(move |_| {
        cube.with_value(|c| {
            c.pivot(&PivotQuery {
                group_by: vec![by.get()],
                filters: filters.get(),
                bucket: Bucket::Day,
                ..Default::default()
            })
        })
    });
    let tag_keys = cube.with_value(|c| c.tag_keys());
    // A level chosen: its grouping, and the rows chosen on the way to it.
    let set_query = StoredValue::new(move |by: &Dim, filters: &[(Dim, Vec<String>)]| {
        let keys: Vec<(String, String)> = filters
            .iter()
            .map(|(d, v)| (format!("f.{}", d.name()), v[0].clone()))
            .collect();
        let by = by.name();
        let mut changes: Vec<(&str, &str)> = vec![("by", &by)];
        changes.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        query.change(&changes, Some("f."));
    });
    let options: Vec<Dim> = DRILL
        .iter()
        .cloned()
        .chain([Dim::MeterCategory, Dim::Region])
        .chain(tag_keys.into_iter().map(Dim::Tag))
        .collect();
    view! {
        <section class="card">
            <h2>{t().where_the_cost_comes_from}</h2>
            <div class="toolbar">
                <label for="breakdown-by">{t().break_down_by}</label>
                <select id="breakdown-by" on:change=move |ev| {
                    if let Some(d) = Dim::parse(&event_target_value(&ev)) {
                        set_query.with_value(|f| f(&d, &filters.get()));
                    }
                }>
                    {options.into_iter().map(|d| {
                        let name = d.name();
                        let selected = move || by.get().name() == name;
                        view! { <option value=d.name() selected=selected>{dim_label(&d)}</option> }
                    }).collect_view()}
                </select>
                {move || (!filters.get().is_empty()).then(|| view! {
                    // Each step back up the drill-down is a click away.
                    <nav class="crumbs" aria-label=t().break_down_by>
                        <button type="button" class="link" on:click=move |_| set_query.with_value(|f| f(&DRILL[0], &[]))>{t().clear}</button>
                        {filters.get().into_iter().enumerate().map(|(i, (d, v))| {
                            let upto: Vec<(Dim, Vec<String>)> = filters.get().into_iter().take(i + 1).collect();
                            let level = DRILL.iter().position(|x| *x == d).and_then(|p| DRILL.get(p + 1)).cloned().unwrap_or_else(|| by.get());
                            view! {
                                " › "
                                <button type="button" class="link crumb" translate="no" on:click=move |_| set_query.with_value(|f| f(&level, &upto))>
                                    {format!("{}: {}", dim_label(&d), v[0])}
                                </button>
                            }
                        }).collect_view()}
                    </nav>
                })}
            </div>
            {move || {
                let d = daily.get();
                let currency = d.totals.first().map(|(c, _)| c.clone()).unwrap_or_else(|| "USD".into());
                let stack = d.stack(Measure::PartnerCost, &currency, 7);
                let label = (t().daily_partner_cost_by)(&dim_label(&by.get()));
                view! { <StackedBars stack currency label /> }
            }}
            <table class="data breakdown">
                <thead><tr>
                    <th scope="col">{move || dim_label(&by.get())}</th>
                    <th scope="col" class="num">{t().partner_cost}</th>
                    <th scope="col" class="num">{t().customer_price}</th>
                    <th scope="col" class="num">{t().margin}</th>
                    <th scope="col" class="num">{t().quantity}</th>
                </tr></thead>
                <tbody>
                    {move || {
                        let p = pivot.get();
                        let next = DRILL.iter().position(|d| *d == by.get()).and_then(|i| DRILL.get(i + 1)).cloned();
                        p.rows.into_iter().map(|r| {
                            let key = r.keys[0].clone();
                            let unit_quantity = match r.keys.get(1) {
                                Some(unit) if by.get() == Dim::Meter => format!("{} {unit}", format::number(r.total.quantity as f64 / 1e6, 3)),
                                _ => "–".into(),
                            };
                            let drill = next.clone().map(|n| {
                                let key = key.clone();
                                let mut f = filters.get();
                                f.push((by.get(), vec![key.to_string()]));
                                view! { <button type="button" class="link" on:click=move |_| set_query.with_value(|s| s(&n, &f))>{key.clone()}</button> }.into_any()
                            }).unwrap_or_else(|| key.clone().into_any());
                            view! {
                                <tr>
                                    <td translate="no">{drill}</td>
                                    <td class="num">{format::money(r.total.partner_cost, &r.currency)}</td>
                                    <td class="num">{format::money(r.total.customer_price, &r.currency)}</td>
                                    <td class="num">{format::money(r.total.margin(), &r.currency)}</td>
                                    <td class="num">{unit_quantity}</td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
            <button type="button" class="link" on:click=move |_| {
                let p = pivot.get();
                let rows: Vec<Vec<String>> = p.rows.iter().map(|r| vec![
                    r.keys[0].to_string(), r.currency.to_string(),
                    model::export::decimal(r.total.partner_cost), model::export::decimal(r.total.customer_price),
                    model::export::decimal(r.total.margin()),
                ]).collect();
                download::csv("breakdown.csv", &table_csv(&[&dim_label(&by.get()), "Currency", "Partner cost", "Customer price", "Margin"], &rows));
            }>{t().export_csv}</button>
        </section>
    }
}

#[component]
fn BudgetForm(
    id: String,
    budget: Option<i64>,
    thresholds: Vec<u32>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let (amount, set_amount) = signal(budget.map(model::export::decimal).unwrap_or_default());
    let (alerts, set_alerts) = signal(
        thresholds
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    let status = expect_context::<SaveStatus>().budget;
    let set_status = status.write_only();
    let save = Action::new_local(move |update: &BudgetUpdate| {
        let (id, update) = (id.clone(), update.clone());
        async move {
            match api::set_budget(&id, &update).await {
                Ok(_) => {
                    set_status.set(Some((true, t().saved_in_partner_center.into())));
                    on_change();
                }
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let a = amount.get();
        let thresholds: Result<Vec<u32>, _> = alerts
            .get()
            .split(',')
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|t| t.trim_end_matches('%').trim().parse::<u32>())
            .collect();
        match thresholds {
            Err(_) => set_status.set(Some((false, t().thresholds_invalid.into()))),
            Ok(t) => {
                save.dispatch(BudgetUpdate {
                    amount: (!a.trim().is_empty()).then(|| a.trim().to_string()),
                    thresholds: Some(t),
                });
            }
        }
    };
    view! {
        <form class="card" on:submit=submit>
            <h2>{t().monthly_budget}</h2>
            <p class="notice">{t().budget_notice}</p>
            <ManagersOnly>
                <div class="field">
                    <label for="budget-amount">{t().budget_amount}</label>
                    <input id="budget-amount" inputmode="decimal" prop:value=move || amount.get() on:input=move |ev| set_amount.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="budget-alerts">{t().budget_alerts}</label>
                    <input id="budget-alerts" prop:value=move || alerts.get() on:input=move |ev| set_alerts.set(event_target_value(&ev)) />
                </div>
                <button type="submit" disabled=move || save.pending().get()>{t().save_budget}</button>
            </ManagersOnly>
            <Saving pending=save.pending() />
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
        </form>
    }
}

/// Who of the customer may see its own costs (at its price, at `/my`):
/// invite by sign-in address, or take the access away.
#[component]
fn CustomerAccess(id: String) -> impl IntoView {
    let t = crate::i18n::t();
    let users = {
        let id = id.clone();
        LocalResource::new(move || {
            let id = id.clone();
            async move { api::customer_users(&id).await }
        })
    };
    let (address, set_address) = signal(String::new());
    let (status, set_status) = signal(None::<(bool, String)>);
    let invite = {
        let id = id.clone();
        Action::new_local(move |user: &String| {
            let (id, user) = (id.clone(), user.clone());
            async move {
                match api::invite_customer_user(&id, &user).await {
                    Ok(_) => {
                        set_status.set(Some((true, (crate::i18n::t().invited)(&user))));
                        set_address.set(String::new());
                        users.refetch();
                    }
                    Err(e) => set_status.set(Some((false, e.to_string()))),
                }
            }
        })
    };
    let remove = Action::new_local(move |user: &String| {
        let (id, user) = (id.clone(), user.clone());
        async move {
            match api::remove_customer_user(&id, &user).await {
                Ok(()) => {
                    set_status.set(Some((true, (crate::i18n::t().access_removed)(&user))));
                    users.refetch();
                }
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match model::onboarding::check_user_name(crate::i18n::t(), &address.get()) {
            Ok(user) => {
                invite.dispatch(user);
            }
            Err(why) => set_status.set(Some((false, why))),
        }
    };
    view! {
        <form class="card access" novalidate=true on:submit=submit>
            <h2>{t.customer_access}</h2>
            <p class="notice">{t.customer_access_hint}</p>
            <p>{t.send_them_this_address}" "<code translate="no">{crate::host::app_url("/my")}</code></p>
            <ManagersOnly>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match users.await {
                            Ok(list) if list.is_empty() => view! { <p class="muted">{crate::i18n::t().nobody_invited}</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="plain invited">
                                    {list.into_iter().map(|u| {
                                        let name = u.user_name.clone();
                                        view! {
                                            <li>
                                                <span translate="no">{u.user_name.clone()}</span>" "
                                                <button type="button" class="link" on:click=move |_| { remove.dispatch(name.clone()); }>
                                                    {crate::i18n::t().remove}
                                                </button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
                <div class="field">
                    <label for="invite-user">{t.sign_in_address}</label>
                    <input id="invite-user" type="email" autocomplete="off" placeholder="name@customer.com"
                        prop:value=move || address.get() on:input=move |ev| set_address.set(event_target_value(&ev)) />
                </div>
                <button type="submit" disabled=move || invite.pending().get()>{t.invite}</button>
            </ManagersOnly>
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
        </form>
    }
}
