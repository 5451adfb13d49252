//! The router and the app shell: header, navigation, who is signed in, the
//! trial, and the footer.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;
use model::api::SessionInfo;

use crate::api::{self, ApiError};
use crate::pages::{
    Budgets, Customer, Customers, Explorer, Margin, NotFound, Onboarding, Overview, Settings,
};

/// The product's name, as the header and the title show it.
pub const PRODUCT_NAME: &str = "CSP Cost Tracker";

/// Who is signed in; pages refetch it after signing in, out, or starting the trial.
pub type SessionResource = LocalResource<Result<SessionInfo, ApiError>>;

#[component]
pub fn App() -> impl IntoView {
    let session: SessionResource = LocalResource::new(api::session);
    provide_context(session);
    view! {
        <Router>
            <Shell>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Overview />
                    <Route path=path!("/customers") view=Customers />
                    <Route path=path!("/customers/:id") view=Customer />
                    <Route path=path!("/explorer") view=Explorer />
                    <Route path=path!("/budgets") view=Budgets />
                    <Route path=path!("/margin") view=Margin />
                    <Route path=path!("/onboarding") view=Onboarding />
                    <Route path=path!("/settings") view=Settings />
                </Routes>
            </Shell>
        </Router>
    }
}

/// Header with the product name, navigation and the account; the page; the footer.
#[component]
fn Shell(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="shell-header">
            <span class="brand">{PRODUCT_NAME}</span>
            <nav aria-label="Main">
                <A href="/" exact=true>"Overview"</A>
                <A href="/customers">"Customers"</A>
                <A href="/explorer">"Explorer"</A>
                <A href="/budgets">"Budgets"</A>
                <A href="/margin">"Price and margin"</A>
                <A href="/onboarding">"Onboarding"</A>
                <A href="/settings">"Settings"</A>
            </nav>
            <Account />
        </header>
        <TrialBanner />
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="shell-footer">
            <span>{PRODUCT_NAME}" "<span class="version">{concat!("v", env!("CARGO_PKG_VERSION"))}</span></span>
            <span>"Days are UTC days, as Partner Center reports them."</span>
        </footer>
    }
}

/// The signed-in person and partner, the trial's days left, sign in or out.
#[component]
fn Account() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    let location = use_location();
    let sign_out = Action::new_local(move |_: &()| async move {
        let _ = api::sign_out().await;
        session.refetch();
    });
    view! {
        <div class="account">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.await {
                        Ok(s) => {
                            let trial = s.trial.clone().filter(|t| !t.activated && !t.ended).map(|t| {
                                view! {
                                    <a class="trial-chip" href="/onboarding" title="After the trial, the data views pause until the subscription is activated; your data is kept.">
                                        {format!("Trial: {} days left", t.days_left)}
                                    </a>
                                }
                            });
                            view! {
                                {trial}
                                <span class="who">
                                    {s.display_name.clone()}
                                    {s.partner_name.clone().map(|p| format!(" · {p}"))}
                                </span>
                                <button type="button" class="link" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
                            }.into_any()
                        }
                        Err(_) => {
                            let here = location.pathname.get_untracked();
                            view! { <a class="button" rel="external" href=api::sign_in_url(&here)>"Sign in"</a> }.into_any()
                        }
                    }
                })}
            </Transition>
        </div>
    }
}

/// Says plainly when the trial has ended and what happens next.
#[component]
fn TrialBanner() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                session.await.ok().and_then(|s| s.trial).filter(|t| t.ended && !t.activated).map(|t| view! {
                    <div class="banner" role="alert">
                        {format!(
                            "Your 30-day trial ended on {}. The cost views are paused until the subscription is activated; \
                             your data and settings are kept. Contact the product's operator to activate it.",
                            t.ends_at.get(..10).unwrap_or_default()
                        )}
                    </div>
                })
            })}
        </Transition>
    }
}
