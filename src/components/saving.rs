//! A save that takes more than a moment says so: the store has one writer,
//! and a running sync's batch makes a budget or markup save wait its turn
//! for seconds. Without a word the form looked stuck.

use std::time::Duration;

use leptos::prelude::*;

use crate::i18n::t;

/// After `pending` has held for a moment, a line saying the save is on its
/// way and why it may wait; gone when the save ends.
#[component]
pub fn Saving(#[prop(into)] pending: Signal<bool>) -> impl IntoView {
    let shown = RwSignal::new(false);
    Effect::new(move |_| {
        if pending.get() {
            // `try_`: the form may be gone by then (saved, its page drawn
            // again), and a panic would stop the app.
            set_timeout(
                move || {
                    if let Some(still) = pending.try_get_untracked() {
                        let _ = shown.try_set(still);
                    }
                },
                Duration::from_millis(800),
            );
        } else {
            shown.set(false);
        }
    });
    move || {
        shown
            .get()
            .then(|| view! { <p class="saving" role="status">{t().saving_waits}</p> })
    }
}
