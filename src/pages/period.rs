//! The period a view covers and the URL parameters that hold it, shared by
//! the views that pick one (explorer, price and margin).

use chrono::{Datelike, Days, NaiveDate};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Named periods, from the last day with data (`as_of`).
pub fn preset(name: &str, as_of: NaiveDate) -> (NaiveDate, NaiveDate) {
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    match name {
        "last-month" => {
            let end = month_start - Days::new(1);
            (end.with_day(1).unwrap_or(end), end)
        }
        "7d" => (as_of - Days::new(6), as_of),
        "30d" => (as_of - Days::new(29), as_of),
        "90d" => (as_of - Days::new(89), as_of),
        _ => (month_start, as_of),
    }
}

/// The period in the URL: `period` (a preset), overridden by `from`/`to`.
pub fn use_period() -> Memo<(NaiveDate, NaiveDate)> {
    let query = use_query_map();
    // Partner Center's usage lags a day: yesterday is the last full UTC day.
    let yesterday = chrono::Utc::now().date_naive() - Days::new(1);
    Memo::new(move |_| {
        let q = query.read();
        let (f, t) = preset(&q.get("period").unwrap_or_default(), yesterday);
        let from = q.get("from").and_then(|d| d.parse().ok()).unwrap_or(f);
        let to = q.get("to").and_then(|d| d.parse().ok()).unwrap_or(t);
        (from, to)
    })
}

/// A function that sets one URL parameter of `path` (or removes it when the
/// value is empty), keeping the others: each change is a new history entry,
/// so back and forward walk through them. Picking a preset drops from/to.
pub fn use_query_setter(path: &'static str) -> StoredValue<impl Fn(&str, &str) + Send + Sync> {
    let query = use_query_map();
    let navigate = use_navigate();
    StoredValue::new(move |key: &str, value: &str| {
        let mut pairs: Vec<(String, String)> = query
            .get_untracked()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        pairs.retain(|(k, _)| k != key);
        if !value.is_empty() {
            pairs.push((key.to_string(), value.to_string()));
        }
        if key == "period" {
            pairs.retain(|(k, _)| k != "from" && k != "to");
        }
        let qs = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    js_sys::encode_uri_component(v)
                        .as_string()
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        navigate(&format!("{path}?{qs}"), Default::default());
    })
}

/// Preset, from and to, written to the URL of `path`.
#[component]
pub fn PeriodPicker(path: &'static str, range: Memo<(NaiveDate, NaiveDate)>) -> impl IntoView {
    let query = use_query_map();
    let set = use_query_setter(path);
    let t = crate::i18n::t();
    view! {
        <label for="period">{t.period}</label>
        <select id="period" on:change=move |ev| set.with_value(|s| s("period", &event_target_value(&ev)))>
            {[("", t.this_month), ("last-month", t.last_month), ("7d", t.last_7_days), ("30d", t.last_30_days), ("90d", t.last_90_days)]
                .into_iter().map(|(v, l)| view! { <option value=v selected=move || query.read().get("period").unwrap_or_default() == v>{l}</option> }).collect_view()}
        </select>
        <label for="from">{t.from}</label>
        <input id="from" type="date" prop:value=move || range.get().0.to_string() on:change=move |ev| set.with_value(|s| s("from", &event_target_value(&ev))) />
        <label for="to">{t.to}</label>
        <input id="to" type="date" prop:value=move || range.get().1.to_string() on:change=move |ev| set.with_value(|s| s("to", &event_target_value(&ev))) />
    }
}
