//! A value to copy: a read-only field with a copy button.

use leptos::prelude::*;

use crate::i18n::t;

/// A value with a copy button: the Clipboard API, with a visible
/// confirmation, and a selected field to copy by hand when it is refused.
#[component]
pub fn CopyField(
    label: &'static str,
    value: String,
    #[prop(optional, into)] id: String,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let (status, set_status) = signal(String::new());
    let text = value.clone();
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            let navigator = web_sys::window().map(|w| w.navigator());
            let copied = match navigator {
                Some(n) => wasm_bindgen_futures::JsFuture::from(n.clipboard().write_text(&text))
                    .await
                    .is_ok(),
                None => false,
            };
            // `try_`: the page may have been left while the browser copied.
            if copied {
                let _ = set_status.try_set(t().copied.into());
            } else {
                if let Some(i) = input.try_get().flatten() {
                    i.select();
                }
                let _ = set_status.try_set(t().copy_refused.into());
            }
        });
    };
    let field_id = if id.is_empty() { label.to_string() } else { id };
    view! {
        <div class="copy-field">
            <label for=field_id.clone()>{label}</label>
            <div class="copy-row">
                <input id=field_id type="text" readonly value=value node_ref=input class="mono" translate="no" />
                <button type="button" on:click=copy>{(t().copy_label)(label)}</button>
            </div>
            <p class="copy-status" aria-live="polite">{move || status.get()}</p>
        </div>
    }
}
