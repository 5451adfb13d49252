//! What a page shows when it cannot show its data, with the way forward.

use leptos::prelude::*;
use leptos_router::components::A;
use model::api::ErrorCode;

use crate::api::{self, ApiError};

/// The way forward for each reason a page cannot show its data: sign in,
/// set up the connection, go to the customer's own view, or try again.
#[component]
pub fn Problem(
    error: ApiError,
    return_to: &'static str,
    /// Offered as "Try again" where trying again can help.
    #[prop(optional, into)]
    retry: Option<Callback<()>>,
) -> impl IntoView {
    let t = crate::i18n::t();
    match error.code() {
        Some(ErrorCode::NotSignedIn) => view! {
            <div class="notice-box">
                <p>{t.sign_in_to_see}</p>
                <a class="button" rel="external" href=api::sign_in_url(return_to)>{t.sign_in}</a>
            </div>
        }
        .into_any(),
        Some(ErrorCode::NotConnected) => view! {
            <div class="notice-box">
                <p>{t.not_connected}</p>
                <A href=crate::host::path("/onboarding") attr:class="button">{t.set_up_connection}</A>
            </div>
        }
        .into_any(),
        Some(ErrorCode::PartnerOnly) => view! {
            <div class="notice-box">
                <p>{t.partner_only}</p>
                <A href=crate::host::path("/my") attr:class="button">{t.go_to_own}</A>
            </div>
        }
        .into_any(),
        _ => {
            // A portal that frames the app hears about it too.
            crate::host::report_error(&error.to_string());
            view! {
                <div class="notice-box">
                    <p class="error" role="alert">{error.to_string()}</p>
                    {retry.map(|r| view! {
                        <button type="button" on:click=move |_| r.run(())>{t.try_again}</button>
                    })}
                </div>
            }
            .into_any()
        }
    }
}
