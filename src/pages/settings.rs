//! The partner's settings: the currency totals are shown in, the exchange
//! rates to it, the default markup, and the alerts.

use leptos::prelude::*;
use model::api::{ExchangeRate, ReportingSettings};
use model::host::Theme;

use super::alerts::AlertsCard;
use crate::api;
use crate::components::{Loader, ManagersOnly, MarkupForm, Saving};
use crate::i18n::t;

#[component]
pub fn Settings() -> impl IntoView {
    // The rates, the currencies in use (from the overview) and the stored
    // default markup, read together.
    let settings = LocalResource::new(|| async {
        let (reporting, overview, markup, customers) = futures::join!(
            api::reporting(),
            api::overview(),
            api::default_markup(),
            api::customers()
        );
        Ok::<_, api::ApiError>((reporting?, overview?, markup?, customers?))
    });
    view! {
        <h1>{t().nav_settings}</h1>
        <Appearance />
        <Loader resource=settings return_to="/settings" let:loaded>
            {
                let (r, o, markup, list) = loaded;
                let mut customers: Vec<(String, String)> =
                    list.customers.into_iter().map(|c| (c.id, c.name)).collect();
                customers.sort_by_key(|c| c.1.to_lowercase());
                let mut currencies: Vec<String> = o.by_currency.iter().map(|t| t.currency.clone()).collect();
                for rate in &r.rates {
                    if !currencies.contains(&rate.currency) {
                        currencies.push(rate.currency.clone());
                    }
                }
                view! {
                    <Rates settings=r currencies=currencies />
                    <MarkupForm customer=None basis=markup.basis basis_points=markup.basis_points on_change=|| () />
                    <AlertsCard customers=customers />
                }
            }
        </Loader>
    }
}

/// Light, dark or the browser's choice, remembered in this browser.
#[component]
fn Appearance() -> impl IntoView {
    let theme = expect_context::<crate::host::Host>().theme;
    let t = crate::i18n::t();
    view! {
        <section class="card">
            <h2>{t.appearance}</h2>
            <label for="theme">{t.theme}</label>
            " "
            <select id="theme" on:change=move |ev| {
                if let Some(t) = Theme::parse(&event_target_value(&ev)) {
                    theme.set(t);
                    crate::host::remember_theme(t);
                }
            }>
                {[(Theme::Auto, t.theme_auto), (Theme::Light, t.theme_light), (Theme::Dark, t.theme_dark)]
                    .into_iter()
                    .map(|(t, label)| view! { <option value=t.as_str() selected=move || theme.get() == t>{label}</option> })
                    .collect_view()}
            </select>
        </section>
    }
}

#[component]
fn Rates(settings: ReportingSettings, currencies: Vec<String>) -> impl IntoView {
    let (target, set_target) = signal(settings.currency.clone());
    // The day the rates are of; a new set of rates is of today unless said.
    let (rates_of, set_rates_of) = signal(
        settings
            .rates_of
            .map(|d| d.to_string())
            .unwrap_or_else(|| chrono::Utc::now().date_naive().to_string()),
    );
    let mut choices = currencies.clone();
    if !choices.contains(&settings.currency) {
        choices.push(settings.currency.clone());
    }
    choices.sort();
    let rates: Vec<(String, RwSignal<String>)> = currencies
        .iter()
        .map(|c| {
            let current = settings
                .rates
                .iter()
                .find(|r| &r.currency == c)
                .map(|r| r.rate.clone())
                .unwrap_or_default();
            (c.clone(), RwSignal::new(current))
        })
        .collect();
    let rates = StoredValue::new(rates);
    let (status, set_status) = signal(None::<(bool, String)>);
    let save = Action::new_local(move |s: &ReportingSettings| {
        let s = s.clone();
        async move {
            match api::set_reporting(&s).await {
                Ok(_) => set_status.set(Some((true, t().rates_saved.into()))),
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let rates = rates.with_value(|r| {
            r.iter()
                .filter(|(c, v)| *c != target.get() && !v.get().trim().is_empty())
                .map(|(c, v)| ExchangeRate {
                    currency: c.clone(),
                    rate: v.get().trim().to_string(),
                })
                .collect()
        });
        save.dispatch(ReportingSettings {
            currency: target.get().trim().to_uppercase(),
            rates,
            rates_of: rates_of.get().parse().ok(),
        });
    };
    view! {
        <form class="card" on:submit=submit>
            <h2>{t().currency_and_rates}</h2>
            <p class="notice">{t().rates_notice}</p>
            <ManagersOnly>
                <div class="field">
                    <label for="reporting-currency">{t().show_totals_in}</label>
                    // One of the currencies in use: a code typed by hand could name none.
                    <select id="reporting-currency" on:change=move |ev| set_target.set(event_target_value(&ev))>
                        {choices.iter().map(|c| {
                            let c2 = c.clone();
                            view! { <option value=c.clone() selected=move || target.get() == c2 translate="no">{c.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                {rates.with_value(|r| r.iter().map(|(c, v)| {
                    let id = format!("rate-{c}");
                    let v = *v;
                    let c2 = c.clone();
                    let c3 = c.clone();
                    view! {
                        <div class="field" class:hidden=move || target.get().eq_ignore_ascii_case(&c3)>
                            <label for=id.clone()>{move || (t().rate_label)(&c2, &target.get())}</label>
                            <input id=id inputmode="decimal" prop:value=move || v.get() on:input=move |ev| v.set(event_target_value(&ev)) />
                        </div>
                    }
                }).collect_view())}
                <div class="field">
                    <label for="rates-of">{t().rates_of}</label>
                    <input id="rates-of" type="date" prop:value=move || rates_of.get() on:input=move |ev| set_rates_of.set(event_target_value(&ev)) />
                </div>
                <button type="submit" disabled=move || save.pending().get()>{t().save_rates}</button>
            </ManagersOnly>
            <Saving pending=save.pending() />
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
        </form>
    }
}
