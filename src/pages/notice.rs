use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{self, ApiError};

#[component]
pub fn NotFound() -> impl IntoView {
    let t = crate::i18n::t();
    view! {
        <h1>{t.page_not_found}</h1>
        <p>{t.no_page_here}" "<A href=crate::host::path("/")>{t.go_to_overview}</A></p>
    }
}

/// What a data page shows when it cannot show data, with the way forward.
#[component]
pub fn Problem(error: ApiError, return_to: &'static str) -> impl IntoView {
    let t = crate::i18n::t();
    match error.code() {
        Some("not_signed_in") => view! {
            <div class="notice-box">
                <p>{t.sign_in_to_see}</p>
                <a class="button" rel="external" href=api::sign_in_url(return_to)>{t.sign_in}</a>
            </div>
        }
        .into_any(),
        Some("not_connected") => view! {
            <div class="notice-box">
                <p>{t.not_connected}</p>
                <A href=crate::host::path("/onboarding") attr:class="button">{t.set_up_connection}</A>
            </div>
        }
        .into_any(),
        Some("partner_only") => view! {
            <div class="notice-box">
                <p>{t.partner_only}</p>
                <A href=crate::host::path("/my") attr:class="button">{t.go_to_own}</A>
            </div>
        }
        .into_any(),
        _ => {
            // A portal that frames the app hears about it too.
            crate::host::report_error(&error.to_string());
            view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
        }
    }
}
