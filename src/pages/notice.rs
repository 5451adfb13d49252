use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{self, ApiError};

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no page at this address. "<A href=crate::host::path("/")>"Go to the overview"</A>"."</p>
    }
}

/// What a data page shows when it cannot show data, with the way forward.
#[component]
pub fn Problem(error: ApiError, return_to: &'static str) -> impl IntoView {
    match error.code() {
        Some("not_signed_in") => view! {
            <div class="notice-box">
                <p>"Sign in with your Partner Center account to see your customers' costs."</p>
                <a class="button" rel="external" href=api::sign_in_url(return_to)>"Sign in"</a>
            </div>
        }
        .into_any(),
        Some("not_connected") => view! {
            <div class="notice-box">
                <p>"Your partner organization is not connected yet."</p>
                <A href=crate::host::path("/onboarding") attr:class="button">"Set up the connection"</A>
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
