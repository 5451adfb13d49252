//! The period a view covers and the URL parameters that hold it (`period`
//! for a preset, overridden by `from` and `to`), counted from the last day
//! with usage that the proxy reports with the session.

use chrono::NaiveDate;
use leptos::prelude::*;
use model::views::preset_range;

use super::query::use_url_query;
use crate::app::SessionResource;

/// Draws `children` with the last day with data: the session's `as_of`,
/// or today (UTC) when there is no usage yet or no session (the page's own
/// request then says why). Nothing is drawn while the session loads, so no
/// period is ever computed from a guess.
#[component]
pub fn WithAsOf<F, V>(children: F) -> impl IntoView
where
    F: Fn(NaiveDate) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = expect_context::<SessionResource>();
    view! {
        <Transition fallback=|| view! { <p aria-busy="true">{crate::i18n::t().loading}</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let as_of = session
                        .await
                        .ok()
                        .and_then(|s| s.as_of)
                        .unwrap_or_else(|| chrono::Utc::now().date_naive());
                    children(as_of)
                })
            }}
        </Transition>
    }
}

/// The days the URL asks for, counted from `as_of`.
pub fn use_period(as_of: NaiveDate) -> Memo<(NaiveDate, NaiveDate)> {
    let query = use_url_query();
    Memo::new(move |_| {
        let (f, t) = preset_range(&query.get("period").unwrap_or_default(), as_of);
        let from = query.get("from").and_then(|d| d.parse().ok()).unwrap_or(f);
        let to = query.get("to").and_then(|d| d.parse().ok()).unwrap_or(t);
        (from, to)
    })
}

/// Preset, from and to, written to the URL.
#[component]
pub fn PeriodPicker(range: Memo<(NaiveDate, NaiveDate)>) -> impl IntoView {
    let query = use_url_query();
    let t = crate::i18n::t();
    view! {
        <label for="period">{t.period}</label>
        // Picking a preset drops a custom from/to.
        <select id="period" on:change=move |ev| query.change(&[("period", &event_target_value(&ev)), ("from", ""), ("to", "")], None)>
            {[("", t.this_month), ("last-month", t.last_month), ("7d", t.last_7_days), ("30d", t.last_30_days), ("90d", t.last_90_days)]
                .into_iter().map(|(v, l)| view! { <option value=v selected=move || query.get("period").unwrap_or_default() == v>{l}</option> }).collect_view()}
        </select>
        <label for="from">{t.from}</label>
        <input id="from" type="date" prop:value=move || range.get().0.to_string() on:change=move |ev| query.set("from", &event_target_value(&ev)) />
        <label for="to">{t.to}</label>
        <input id="to" type="date" prop:value=move || range.get().1.to_string() on:change=move |ev| query.set("to", &event_target_value(&ev)) />
    }
}
