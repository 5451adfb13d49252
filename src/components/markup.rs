//! A markup form, for one customer or for the partner's default.

use leptos::prelude::*;
use model::api::MarkupUpdate;
use model::pricing::MarkupBasis;

use crate::api;
use crate::components::{ManagersOnly, Saving};
use crate::i18n::t;

/// `customer: None` edits the default markup (for customers without their own).
#[component]
pub fn MarkupForm(
    customer: Option<String>,
    basis: MarkupBasis,
    basis_points: i32,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
    /// Where the last save's word is kept: above a page body that
    /// `on_change` draws again, so that it stays in view; the form's own
    /// otherwise.
    #[prop(optional)]
    status: Option<RwSignal<Option<(bool, String)>>>,
) -> impl IntoView {
    let (over_cost, set_over_cost) = signal(basis == MarkupBasis::PartnerCost);
    // Basis points to percent text: 1250 is "12.5".
    let (percent, set_percent) = signal(model::export::decimal(basis_points as i64 * 10_000));
    let status = status.unwrap_or_else(|| RwSignal::new(None));
    let set_status = status.write_only();
    let is_default = customer.is_none();
    let save = Action::new_local(move |update: &MarkupUpdate| {
        let (customer, update) = (customer.clone(), update.clone());
        async move {
            let saved = match &customer {
                Some(id) => api::set_markup(id, &update).await,
                None => api::set_default_markup(&update).await,
            };
            match saved {
                Ok(_) => {
                    set_status.set(Some((true, t().saved_prices_recomputed.into())));
                    on_change();
                }
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(MarkupUpdate {
            basis: if over_cost.get() {
                MarkupBasis::PartnerCost
            } else {
                MarkupBasis::ListPrice
            },
            percent: percent.get().trim().to_string(),
        });
    };
    view! {
        <form class="card" on:submit=submit>
            <h2>{if is_default { t().default_markup } else { t().price_and_markup }}</h2>
            {is_default.then(|| view! { <p class="notice">{t().default_markup_notice}</p> })}
            <ManagersOnly>
                <fieldset>
                    <legend>{t().markup_over}</legend>
                    <label><input type="radio" name="basis" prop:checked=move || !over_cost.get() on:change=move |_| set_over_cost.set(false) />" "{t().list_price}</label>
                    <label><input type="radio" name="basis" prop:checked=move || over_cost.get() on:change=move |_| set_over_cost.set(true) />" "{t().partner_cost_lower}</label>
                </fieldset>
                <div class="field">
                    <label for="markup-percent">{t().markup_percent}</label>
                    <input id="markup-percent" inputmode="decimal" prop:value=move || percent.get() on:input=move |ev| set_percent.set(event_target_value(&ev)) />
                </div>
                <button type="submit" disabled=move || save.pending().get()>{t().save_markup}</button>
            </ManagersOnly>
            <Saving pending=save.pending() />
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
        </form>
    }
}
