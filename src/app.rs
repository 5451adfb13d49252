//! The router and the app shell: header, navigation, footer.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{Coming, Customers, NotFound, Overview};

/// The product's name, as the header and the title show it.
pub const PRODUCT_NAME: &str = "CSP Cost Tracker";

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Shell>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Overview />
                    <Route path=path!("/customers") view=Customers />
                    <Route path=path!("/explorer") view=|| view! { <Coming title="Cost explorer" /> } />
                    <Route path=path!("/budgets") view=|| view! { <Coming title="Budgets" /> } />
                    <Route path=path!("/onboarding") view=|| view! { <Coming title="Onboarding" /> } />
                    <Route path=path!("/settings") view=|| view! { <Coming title="Settings" /> } />
                </Routes>
            </Shell>
        </Router>
    }
}

/// Header with the product name and navigation, the page, and the footer.
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
                <A href="/onboarding">"Onboarding"</A>
                <A href="/settings">"Settings"</A>
            </nav>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="shell-footer">
            <span>{PRODUCT_NAME}" "<span class="version">{concat!("v", env!("CARGO_PKG_VERSION"))}</span></span>
            <span>"Days are UTC days, as Partner Center reports them."</span>
        </footer>
    }
}
