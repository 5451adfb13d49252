//! Settings' alerts: the rules (which events go where), a test message per
//! rule, the hours of failed syncs before an alert, and the delivery log.
//! A manager's alone: nothing is asked of the proxy for anyone else.

use leptos::prelude::*;
use model::alerts::EventKind;
use model::alerts::message::WebhookShape;
use model::alerts::rules::{AlertSettingsUpdate, Channel, Delivery, NewRule, Rule};
use model::i18n::Locale;

use crate::api;
use crate::app::SessionResource;
use crate::components::{CopyField, Loader};
use crate::i18n::t;

/// The alerts card: its content for a manager, the roles needed otherwise.
#[component]
pub fn AlertsCard(customers: Vec<(String, String)>) -> impl IntoView {
    let session = expect_context::<SessionResource>();
    view! {
        <section class="card alerts">
            <h2>{t().alerts_heading}</h2>
            <p class="notice">{t().alerts_notice}</p>
            {move || match session.get() {
                Some(Ok(s)) if s.can_manage => view! { <AlertRules customers=customers.clone() /> }.into_any(),
                Some(Ok(s)) => view! {
                    <p class="notice managers-only" role="note">{t().roles_needed_for(&s.roles)}</p>
                }.into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
}

#[component]
fn AlertRules(customers: Vec<(String, String)>) -> impl IntoView {
    let settings = LocalResource::new(api::alerts);
    let log = LocalResource::new(api::alert_deliveries);
    let customers = StoredValue::new(customers);
    view! {
        <Loader resource=settings return_to="/settings" let:loaded>
            {
                let rules = RwSignal::new(loaded.rules.clone());
                view! {
                    {(!loaded.email).then(|| view! { <p class="notice" role="note">{t().email_not_set_up}</p> })}
                    <RuleList rules customers log />
                    <NewRuleForm rules customers email=loaded.email />
                    <FailingHours hours=loaded.sync_failing_hours />
                }
            }
        </Loader>
        <h3>{t().delivery_log}</h3>
        <button type="button" class="secondary" on:click=move |_| log.refetch()>{t().refresh}</button>
        <Loader resource=log return_to="/settings" let:entries>
            <DeliveryLog entries />
        </Loader>
    }
}

fn customer_name(customers: StoredValue<Vec<(String, String)>>, id: &Option<String>) -> String {
    match id {
        None => t().all_customers.to_string(),
        Some(id) => customers.with_value(|c| {
            c.iter()
                .find(|(cid, _)| cid == id)
                .map_or_else(|| id.clone(), |(_, name)| name.clone())
        }),
    }
}

#[component]
fn RuleList(
    rules: RwSignal<Vec<Rule>>,
    customers: StoredValue<Vec<(String, String)>>,
    log: LocalResource<Result<Vec<Delivery>, api::ApiError>>,
) -> impl IntoView {
    let (status, set_status) = signal(None::<(bool, String)>);
    let test = Action::new_local(move |id: &i64| {
        let id = *id;
        async move {
            match api::test_alert_rule(id).await {
                Ok(()) => {
                    set_status.set(Some((true, t().test_queued.into())));
                    log.refetch();
                }
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let remove = Action::new_local(move |id: &i64| {
        let id = *id;
        async move {
            match api::remove_alert_rule(id).await {
                Ok(()) => rules.update(|r| r.retain(|r| r.id != id)),
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    view! {
        <h3>{t().alert_rules}</h3>
        {move || if rules.with(Vec::is_empty) {
            view! { <p>{t().no_rules}</p> }.into_any()
        } else {
            view! {
                <table class="data rules">
                    <thead><tr>
                        <th scope="col">{t().alert_events}</th>
                        <th scope="col">{t().about_customer}</th>
                        <th scope="col">{t().send_to}</th>
                        <th scope="col"><span class="visually-hidden">{t().send_test}</span></th>
                    </tr></thead>
                    <tbody>
                        {rules.get().into_iter().map(|r| {
                            let events = r.events.iter().map(|e| t().event(*e)).collect::<Vec<_>>().join(", ");
                            let via = match (r.channel, r.shape) {
                                (Channel::Email, _) => t().channel_email,
                                (Channel::CustomerUsers, _) => t().channel_customer_users,
                                (Channel::Webhook, WebhookShape::Teams) => t().shape_teams,
                                (Channel::Webhook, WebhookShape::Slack) => t().shape_slack,
                                (Channel::Webhook, WebhookShape::Generic) => t().channel_webhook,
                            };
                            let id = r.id;
                            view! {
                                <tr>
                                    <td>{events}</td>
                                    <td>{customer_name(customers, &r.customer_id)}</td>
                                    <td class="target">{if r.target.is_empty() { via.to_string() } else { format!("{via}: {}", r.target) }}</td>
                                    <td class="actions">
                                        <button type="button" class="secondary" on:click=move |_| { test.dispatch(id); }>{t().send_test}</button>
                                        " "
                                        <button type="button" class="secondary" on:click=move |_| { remove.dispatch(id); }>{t().remove}</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
    }
}

#[component]
fn NewRuleForm(
    rules: RwSignal<Vec<Rule>>,
    customers: StoredValue<Vec<(String, String)>>,
    email: bool,
) -> impl IntoView {
    let chosen: Vec<(EventKind, RwSignal<bool>)> = EventKind::CHOSEN
        .iter()
        .map(|k| (*k, RwSignal::new(false)))
        .collect();
    let chosen = StoredValue::new(chosen);
    let customer = RwSignal::new(String::new());
    let channel = RwSignal::new(if email { "email" } else { "webhook" }.to_string());
    let target = RwSignal::new(String::new());
    let shape = RwSignal::new("generic".to_string());
    let language = RwSignal::new(crate::i18n::current().tag().to_string());
    let (status, set_status) = signal(None::<(bool, String)>);
    let (signing, set_signing) = signal(None::<String>);
    let add = Action::new_local(move |rule: &NewRule| {
        let rule = rule.clone();
        async move {
            match api::add_alert_rule(&rule).await {
                Ok(made) => {
                    rules.update(|r| r.push(made.rule));
                    set_signing.set(made.signing_secret);
                    set_status.set(Some((true, t().rule_added.into())));
                    target.set(String::new());
                }
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_signing.set(None);
        // Only the events the chosen channel can carry (those shown).
        let to_users = channel.get_untracked() == "customer-users";
        let events: Vec<EventKind> = chosen.with_value(|c| {
            c.iter()
                .filter(|(k, on)| on.get_untracked() && k.to_customer_users() == to_users)
                .map(|(k, _)| *k)
                .collect()
        });
        if events.is_empty() {
            set_status.set(Some((false, t().choose_an_event.into())));
            return;
        }
        let c = customer.get_untracked();
        add.dispatch(NewRule {
            events,
            customer_id: (!c.is_empty()).then_some(c),
            channel: match channel.get_untracked().as_str() {
                "email" => Channel::Email,
                "customer-users" => Channel::CustomerUsers,
                _ => Channel::Webhook,
            },
            target: target.get_untracked(),
            shape: match shape.get_untracked().as_str() {
                "teams" => WebhookShape::Teams,
                "slack" => WebhookShape::Slack,
                _ => WebhookShape::Generic,
            },
            language: language.get_untracked(),
        });
    };
    view! {
        <form class="new-rule" on:submit=submit>
            <h3>{t().add_rule}</h3>
            <fieldset class="events">
                <legend>{t().alert_events}</legend>
                {chosen.with_value(|c| c.iter().map(|(k, on)| {
                    let on = *on;
                    let id = format!("event-{}", k.name());
                    let for_id = id.clone();
                    let to_users = k.to_customer_users();
                    view! {
                        <label class="check" for=for_id class:hidden=move || to_users != (channel.get() == "customer-users")>
                            <input type="checkbox" id=id prop:checked=move || on.get() on:change=move |ev| on.set(event_target_checked(&ev)) />
                            " "{t().event(*k)}
                        </label>
                    }
                }).collect_view())}
            </fieldset>
            <div class="field">
                <label for="rule-customer">{t().about_customer}</label>
                <select id="rule-customer" on:change=move |ev| customer.set(event_target_value(&ev))>
                    <option value="" selected=true>{t().all_customers}</option>
                    {customers.with_value(|c| c.iter().map(|(id, name)| view! { <option value=id.clone()>{name.clone()}</option> }).collect_view())}
                </select>
            </div>
            <div class="field">
                <label for="rule-channel">{t().send_by}</label>
                <select id="rule-channel" on:change=move |ev| channel.set(event_target_value(&ev))>
                    {email.then(|| view! { <option value="email" selected=true>{t().channel_email}</option> })}
                    <option value="webhook" selected=!email>{t().channel_webhook}</option>
                    {email.then(|| view! { <option value="customer-users">{t().channel_customer_users}</option> })}
                </select>
                <p class="hint" class:hidden=move || channel.get() != "customer-users">{t().customer_users_hint}</p>
            </div>
            <div class="field" class:hidden=move || channel.get() != "webhook">
                <label for="rule-shape">{t().webhook_format}</label>
                <select id="rule-shape" on:change=move |ev| shape.set(event_target_value(&ev))>
                    <option value="generic" selected=true>{t().shape_generic}</option>
                    <option value="teams">{t().shape_teams}</option>
                    <option value="slack">{t().shape_slack}</option>
                </select>
            </div>
            <div class="field" class:hidden=move || channel.get() == "customer-users">
                <label for="rule-target">{t().send_to}</label>
                <input id="rule-target" type="text" autocomplete="off" spellcheck="false" aria-describedby="rule-target-hint"
                    prop:value=move || target.get() on:input=move |ev| target.set(event_target_value(&ev)) />
                <p class="hint" id="rule-target-hint">{t().send_to_hint}</p>
            </div>
            <div class="field">
                <label for="rule-language">{t().message_language}</label>
                <select id="rule-language" on:change=move |ev| language.set(event_target_value(&ev))>
                    {Locale::ALL.iter().map(|l| {
                        let tag = l.tag();
                        view! { <option value=tag selected=move || language.get() == tag>{l.name()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" disabled=move || add.pending().get()>{t().add_rule}</button>
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
            {move || signing.get().map(|key| view! {
                <div class="signing-key">
                    <CopyField label=t().signing_key value=key id="signing-key" />
                    <p class="notice">{t().signing_key_once}</p>
                </div>
            })}
        </form>
    }
}

#[component]
fn FailingHours(hours: u32) -> impl IntoView {
    let value = RwSignal::new(hours.to_string());
    let (status, set_status) = signal(None::<(bool, String)>);
    let save = Action::new_local(move |hours: &u32| {
        let update = AlertSettingsUpdate {
            sync_failing_hours: *hours,
        };
        async move {
            match api::set_alert_settings(&update).await {
                Ok(_) => set_status.set(Some((true, t().hours_saved.into()))),
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // An unreadable number is sent as 0 for the proxy's own sentence.
        save.dispatch(value.get_untracked().trim().parse().unwrap_or(0));
    };
    view! {
        <form class="field failing-hours" on:submit=submit>
            <label for="failing-hours">{t().sync_failing_after}</label>
            <input id="failing-hours" inputmode="numeric" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            " "
            <button type="submit" class="secondary" disabled=move || save.pending().get()>{t().save_hours}</button>
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
        </form>
    }
}

/// `2026-12-03T07:40:12.345Z` as `2026-12-03 07:40 UTC`.
fn stamp(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => at.to_string(),
    }
}

#[component]
fn DeliveryLog(entries: Vec<Delivery>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p>{t().no_deliveries}</p> }.into_any();
    }
    view! {
        <table class="data deliveries">
            <thead><tr>
                <th scope="col">{t().when_created}</th>
                <th scope="col">{t().alert_events}</th>
                <th scope="col">{t().send_to}</th>
                <th scope="col">{t().message_subject}</th>
                <th scope="col">{t().delivery_status}</th>
            </tr></thead>
            <tbody>
                {entries.into_iter().map(|d| {
                    let state = match d.status.as_str() {
                        "sent" => t().delivery_sent,
                        "failed" => t().delivery_failed,
                        _ => t().delivery_pending,
                    };
                    let last = d.attempts.last().map(|a| a.result.clone()).unwrap_or_default();
                    view! {
                        <tr class=format!("delivery {}", d.status)>
                            <td class="nowrap">{stamp(&d.created_at)}</td>
                            <td>{t().event(d.event)}</td>
                            <td class="target">{d.target}</td>
                            <td>{d.subject}</td>
                            <td>{state}" · "{(t().attempts_summary)(d.attempts.len(), &last)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
