//! A route the app does not have.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    let t = crate::i18n::t();
    view! {
        <h1>{t.page_not_found}</h1>
        <p>{t.no_page_here}" "<A href=crate::host::path("/")>{t.go_to_overview}</A></p>
    }
}
