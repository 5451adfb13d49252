//! The router and the app shell: header, navigation, who is signed in, the
//! trial, and the footer.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use model::api::SessionInfo;

use crate::api::{self, ApiError};
use crate::host::{self, Host};
use crate::pages::{
    Budgets, Customer, Customers, Explorer, Margin, NotFound, Onboarding, Overview, Settings,
};

/// The product's name, as the header and the title show it.
pub const PRODUCT_NAME: &str = "CSP Cost Tracker";

/// Who is signed in; pages refetch it after signing in, out, or starting the trial.
pub type SessionResource = LocalResource<Result<SessionInfo, ApiError>>;

#[component]
pub fn App(
    /// The page around the app; the default is the proxy serving it at `/`.
    #[prop(optional)]
    host: Option<Host>,
) -> impl IntoView {
    let host = host.unwrap_or_default();
    provide_context(host.clone());
    let session: SessionResource = LocalResource::new(api::session);
    provide_context(session);
    let base = host.base.clone();
    view! {
        <Router base>
            <HostLink host=host.clone() />
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

/// The theme on the page, and the link with a portal that frames the app.
#[component]
fn HostLink(host: Host) -> impl IntoView {
    let (theme, accent) = (host.theme, host.accent);
    let root = host.theme_root();
    Effect::new(move |_| {
        if let Some(root) = &root {
            host::apply_theme(root, theme.get(), accent.get().as_deref());
        }
    });
    let navigate = use_navigate();
    host::connect(&host, move |path| navigate(path, Default::default()));
    let location = use_location();
    let route = Memo::new(move |_| host::route_of(&location.pathname.get()));
    host::report_navigation(&host, route);
}

/// Header with the product name, navigation and the account; the page; the footer.
#[component]
fn Shell(children: Children) -> impl IntoView {
    let logo = expect_context::<Host>().config.logo.clone();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="shell-header">
            <span class="brand">
                {logo.map(|src| view! { <img class="logo" src=src alt="" /> })}
                {PRODUCT_NAME}
            </span>
            <nav aria-label="Main">
                <A href=crate::host::path("/") exact=true>"Overview"</A>
                <A href=crate::host::path("/customers")>"Customers"</A>
                <A href=crate::host::path("/explorer")>"Explorer"</A>
                <A href=crate::host::path("/budgets")>"Budgets"</A>
                <A href=crate::host::path("/margin")>"Price and margin"</A>
                <A href=crate::host::path("/onboarding")>"Onboarding"</A>
                <A href=crate::host::path("/settings")>"Settings"</A>
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
                                    <A attr:class="trial-chip" href=crate::host::path("/onboarding") attr:title="After the trial, the data views pause until the subscription is activated; your data is kept.">
                                        {format!("Trial: {} days left", t.days_left)}
                                    </A>
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
                            let here = host::route_of(&location.pathname.get_untracked());
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
