//! The sync's progress while it runs, and its failure when it fails, from
//! the proxy's event stream (`/api/sync/events`): the proxy says when
//! something changes, so an idle page sends nothing.

use leptos::prelude::*;
use model::api::{SyncProgress, SyncStatus};
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::i18n::t;
use crate::{api, format};

/// Opens the event stream; `each` sees every progress it sends. The stream
/// closes when the component that opened it goes away.
fn follow(each: impl Fn(SyncProgress) + 'static) {
    let init = web_sys::EventSourceInit::new();
    init.set_with_credentials(true);
    let Ok(source) =
        web_sys::EventSource::new_with_event_source_init_dict(&api::url("sync/events"), &init)
    else {
        return;
    };
    let listener =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(progress) = e
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<SyncProgress>(&text).ok())
            {
                each(progress);
            }
        });
    let _ = source.add_event_listener_with_callback("progress", listener.as_ref().unchecked_ref());
    // Closed with the page; the listener lives as long as the stream.
    let kept = SendWrapper::new((source, listener));
    on_cleanup(move || kept.0.close());
}

/// The progress bar of a running sync (customers done of all, line items
/// read, time left), or why the last sync failed. `on_customers` runs once
/// when the first customers and line items are in.
#[component]
pub fn SyncBar(#[prop(optional, into)] on_customers: Option<Callback<()>>) -> impl IntoView {
    let progress = RwSignal::new(None::<SyncProgress>);
    let told = StoredValue::new(false);
    let session = expect_context::<crate::app::SessionResource>();
    follow(move |p| {
        // A sync that ends moves the last day with data: the session says it.
        let was_running = progress
            .get_untracked()
            .is_some_and(|before| before.status == SyncStatus::Running);
        if was_running && p.status == SyncStatus::Succeeded {
            session.refetch();
        }
        if let Some(cb) = on_customers
            && !told.get_value()
            && p.counts.customers_total.is_some()
            && p.counts.line_items > 0
        {
            told.set_value(true);
            cb.run(());
        }
        progress.set(Some(p));
    });
    move || {
        let p = progress.get()?;
        if p.status != SyncStatus::Running {
            // A failed or partly failed sync says so; what was stored stays.
            // The proxy's sentence is English: in another language the
            // sentence is the app's own, and a failure's reason is shown as
            // the upstream's words.
            let english = crate::i18n::current() == model::i18n::Locale::En;
            let problems = p.problems.len();
            return p.error.clone().map(|e| {
                let e = e.trim_end_matches('.').to_string();
                let t = t();
                let text = match (p.status == SyncStatus::Failed, english) {
                    (true, true) => view! { {(t.sync_failed)(&e)} }.into_any(),
                    (true, false) => view! {
                        {t.sync_failed_plain}" "<span class="muted" translate="no">{e}</span>
                    }
                    .into_any(),
                    (false, true) => view! { {(t.sync_problems)(&e)} }.into_any(),
                    (false, false) => view! { {(t.sync_problems_count)(problems)} }.into_any(),
                };
                view! { <div class="sync failed" role="alert"><p>{text}</p></div> }.into_any()
            });
        }
        // Customers and usage files, as the proxy's time left counts them:
        // the bar is not full while line items are still coming in.
        let done = (model::progress::fraction_done(&p.counts) * 1000.0).round();
        Some(
            view! {
                <div class="sync" role="status">
                    <label for="sync-bar">{t().reading_from_pc}</label>
                    <progress id="sync-bar" max=1000 value=done></progress>
                    <p>{(t().sync_counts)(
                        &format::number(p.counts.customers_done as f64, 0),
                        &p.counts.customers_total.map(|t| format::number(t as f64, 0)).unwrap_or_else(|| "…".into()),
                        &format::number(p.counts.line_items as f64, 0),
                    )}{p.seconds_left.map(|s| (t().about_left)(&human_seconds(s))).unwrap_or_default()}</p>
                </div>
            }
            .into_any(),
        )
    }
}

fn human_seconds(s: u64) -> String {
    if s < 90 {
        (t().seconds_short)(s)
    } else {
        (t().minutes_short)(s.div_ceil(60))
    }
}
