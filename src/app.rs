//! The router and the app shell: header, navigation, who is signed in, the
//! trial, and the footer.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use leptos_router::{Lazy, LazyRoute};
use model::api::{ErrorCode, SessionInfo};

use crate::api::{self, ApiError};
use crate::host::{self, Host};
use crate::i18n;
use crate::pages::{
    Budgets, Connection, Customer, Customers, Explorer, Margin, NotFound, Onboarding, Overview,
    Own, Settings,
};
use model::i18n::Locale;

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
    frame(host.unwrap_or_default(), || {
        view! {
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Overview />
                <Route path=path!("/customers") view={Lazy::<CustomersPage>::new()} />
                <Route path=path!("/customers/:id") view={Lazy::<CustomerPage>::new()} />
                <Route path=path!("/explorer") view={Lazy::<ExplorerPage>::new()} />
                <Route path=path!("/budgets") view={Lazy::<BudgetsPage>::new()} />
                <Route path=path!("/margin") view={Lazy::<MarginPage>::new()} />
                <Route path=path!("/onboarding") view={Lazy::<OnboardingPage>::new()} />
                <Route path=path!("/connection") view={Lazy::<ConnectionPage>::new()} />
                <Route path=path!("/settings") view={Lazy::<SettingsPage>::new()} />
                <Route path=path!("/my") view={Lazy::<OwnPage>::new()} />
            </Routes>
        }
        .into_any()
    })
}

/// A page the partner's app loads when it is first opened, not with the
/// app: the release build (`--features split`, `cargo xtask build`) cuts
/// the code of all such pages into one wasm file of their own, so that the
/// first load carries the shell and the Overview only (issue 23). One file
/// for them all, rather than one per page: a page per file shared its code
/// with the others through a hundred small files, and a deep link to the
/// Explorer waited on forty of them. Other builds (`trunk serve`, the
/// browser tests) keep one wasm, the pages ready at once.
macro_rules! page_loaded_when_opened {
    ($($route:ident => $page:ident by $view:ident;)*) => {$(
        struct $route;

        #[cfg_attr(
            feature = "split",
            leptos::wasm_split::wasm_split(pages, wasm_split_path = ::leptos::wasm_split, fallible)
        )]
        fn $view() -> Result<AnyView, PageNotLoaded> {
            Ok(view! { <$page /> }.into_any())
        }

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                #[cfg(feature = "split")]
                let view = $view().await;
                #[cfg(not(feature = "split"))]
                let view = $view();
                view.unwrap_or_else(|_| page_not_loaded())
            }
        }
    )*};
}

/// The pages' wasm file could not be fetched (the connection dropped, or a
/// new release replaced the files of the one this page started with).
struct PageNotLoaded;

impl From<leptos::wasm_split::SplitLoaderError> for PageNotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        PageNotLoaded
    }
}

/// Says so, instead of a blank page; trying again reloads the app, which
/// fetches the files anew.
fn page_not_loaded() -> AnyView {
    let t = i18n::t();
    host::report_error(t.page_not_loaded);
    let reload = |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <div class="notice-box">
            <p class="error" role="alert">{t.page_not_loaded}</p>
            <button type="button" on:click=reload>{t.try_again}</button>
        </div>
    }
    .into_any()
}

page_loaded_when_opened! {
    CustomersPage => Customers by customers_view;
    CustomerPage => Customer by customer_view;
    ExplorerPage => Explorer by explorer_view;
    BudgetsPage => Budgets by budgets_view;
    MarginPage => Margin by margin_view;
    OnboardingPage => Onboarding by onboarding_view;
    ConnectionPage => Connection by connection_view;
    SettingsPage => Settings by settings_view;
    OwnPage => Own by own_view;
}

/// The router, the shell and the gate around the app's routes.
fn frame(host: Host, routes: fn() -> AnyView) -> impl IntoView {
    provide_context(host.clone());
    let session: SessionResource = LocalResource::new(api::session);
    provide_context(session);
    let base = host.base.clone();
    // A new language renders everything again, in it.
    let locale = RwSignal::new(i18n::current());
    provide_context(locale);
    view! {
        <Router base>
            <HostLink host=host.clone() />
            {move || {
                i18n::set(locale.get());
                view! {
                    <Shell>
                        <Gate>{routes()}</Gate>
                    </Shell>
                }
            }}
        </Router>
    }
}

/// Which pages the session may open, decided before a page asks the proxy
/// for anything (each refusal would be a console error and a wasted request).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The session is on its way.
    Waiting,
    SignedOut,
    Partner {
        connected: bool,
        /// The trial ended without a subscription: data routes refuse (402).
        paused: bool,
    },
    Customer,
    /// The proxy could not say: pages ask and show the problem themselves.
    Unknown,
}

/// Shows the page the route names, or what this session needs instead:
/// signing in, setting up the connection, or the customer's own view.
#[component]
fn Gate(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<SessionResource>();
    // Only a change of access renders the page again: a session refetched
    // after a sync keeps the page (and what is typed in it).
    let access = Memo::new(move |before: Option<&Access>| match session.get() {
        None => before.copied().unwrap_or(Access::Waiting),
        Some(Ok(s)) if s.customer.is_some() => Access::Customer,
        Some(Ok(s)) => Access::Partner {
            connected: s.connected,
            paused: s.trial.as_ref().is_some_and(|t| t.ended && !t.activated),
        },
        Some(Err(e)) if e.code() == Some(ErrorCode::NotSignedIn) => Access::SignedOut,
        Some(Err(_)) => Access::Unknown,
    });
    let location = use_location();
    let route = Memo::new(move |_| host::route_of(&location.pathname.get()));
    // What to show changes rarely; the page is rendered again only then, not
    // on every navigation (the routes do that themselves).
    let shown = Memo::new(move |_| {
        let route = route.get();
        let own = route == "/my" || route.starts_with("/my/");
        match (access.get(), own) {
            (Access::Waiting, _) | (Access::Customer, false) => Shown::Waiting,
            (Access::SignedOut, true) => Shown::OwnSignIn,
            // The wizard's first steps are for people not signed in yet.
            (Access::SignedOut, false) if route == "/onboarding" => Shown::Page,
            (Access::SignedOut, false) => Shown::SignIn,
            (Access::Partner { .. }, true) => Shown::OwnForCustomers,
            (
                Access::Partner {
                    connected: false, ..
                },
                false,
            ) if route != "/onboarding" => Shown::NotConnected,
            // The banner says why; the page would only be refused.
            (Access::Partner { paused: true, .. }, false) if route != "/onboarding" => {
                Shown::Paused
            }
            _ => Shown::Page,
        }
    });
    let navigate = use_navigate();
    // A customer's user has one page.
    Effect::new(move |_| {
        if access.get() == Access::Customer && shown.get() == Shown::Waiting {
            navigate(&host::path("/my"), Default::default());
        }
    });
    move || {
        let t = i18n::t();
        match shown.get() {
            Shown::Waiting => view! { <p aria-busy="true">{t.loading}</p> }.into_any(),
            Shown::OwnSignIn => view! {
                <h1>{t.own_heading}</h1>
                <div class="notice-box">
                    <p>{t.own_sign_in}</p>
                    <a class="button" rel="external" href=api::customer_sign_in_url("/my")>{t.sign_in}</a>
                </div>
            }
            .into_any(),
            Shown::SignIn => view! {
                <div class="notice-box">
                    <p>{t.sign_in_to_see}</p>
                    <a class="button" rel="external" href=move || api::sign_in_url(&route.get())>{t.sign_in}</a>
                </div>
            }
            .into_any(),
            Shown::OwnForCustomers => view! {
                <h1>{t.own_heading}</h1>
                <p class="notice">{t.own_for_customers}</p>
            }
            .into_any(),
            Shown::NotConnected => view! {
                <div class="notice-box">
                    <p>{t.not_connected}</p>
                    <A href=host::path("/onboarding") attr:class="button">{t.set_up_connection}</A>
                </div>
            }
            .into_any(),
            Shown::Paused => view! { <p class="notice paused">{t.err_trial_ended}</p> }.into_any(),
            Shown::Page => children().into_any(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Waiting,
    Page,
    SignIn,
    OwnSignIn,
    OwnForCustomers,
    NotConnected,
    Paused,
}

/// The language switcher: the languages by their own names, the choice
/// remembered in this browser.
#[component]
fn LanguagePicker() -> impl IntoView {
    let locale = expect_context::<RwSignal<Locale>>();
    view! {
        <label class="language">
            <span class="visually-hidden">{i18n::t().language}</span>
            <select on:change=move |ev| {
                if let Some(l) = Locale::parse(&event_target_value(&ev)) {
                    i18n::switch(locale, l, true);
                }
            }>
                {Locale::ALL
                    .into_iter()
                    .map(|l| {
                        view! {
                            <option value=l.tag() lang=l.tag() selected=l == locale.get_untracked()>
                                {l.name()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
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
    let locale = expect_context::<RwSignal<Locale>>();
    host::connect(
        &host.config,
        move |path| navigate(path, Default::default()),
        move |l| i18n::switch(locale, l, false),
        move |t, a| {
            theme.set(t);
            accent.set(a);
        },
    );
    let location = use_location();
    let route = Memo::new(move |_| host::route_of(&location.pathname.get()));
    host::report_navigation(&host, route);
}

/// Header with the product name, navigation and the account; the page; the footer.
#[component]
fn Shell(children: Children) -> impl IntoView {
    let logo = expect_context::<Host>().config.logo.clone();
    let t = i18n::t();
    // A customer's user sees its own costs and none of the partner's pages.
    let session = expect_context::<SessionResource>();
    let customer_view = move || matches!(session.get(), Some(Ok(s)) if s.customer.is_some());
    // Unknown until the session arrives: neither the wizard nor the
    // connection is offered, so the link does not change under the cursor.
    let connected = move || match session.get() {
        Some(Ok(s)) => Some(s.connected),
        Some(Err(_)) => Some(false),
        None => None,
    };
    view! {
        <a class="skip-link" href="#main">{t.skip_to_content}</a>
        <header class="shell-header">
            <span class="brand" translate="no">
                {logo.map(|src| view! { <img class="logo" src=src alt="" /> })}
                {PRODUCT_NAME}
            </span>
            <nav aria-label=t.nav_label>
                {move || if customer_view() {
                    view! { <A href=crate::host::path("/my")>{t.nav_own}</A> }.into_any()
                } else {
                    view! {
                        <A href=crate::host::path("/") exact=true>{t.nav_overview}</A>
                        <A href=crate::host::path("/customers")>{t.nav_customers}</A>
                        <A href=crate::host::path("/explorer")>{t.nav_explorer}</A>
                        <A href=crate::host::path("/budgets")>{t.nav_budgets}</A>
                        <A href=crate::host::path("/margin")>{t.nav_margin}</A>
                        // Once connected, the wizard's place is the connection's page.
                        {move || match connected() {
                            Some(true) => view! { <A href=crate::host::path("/connection")>{t.nav_connection}</A> }.into_any(),
                            Some(false) => view! { <A href=crate::host::path("/onboarding")>{t.nav_onboarding}</A> }.into_any(),
                            None => ().into_any(),
                        }}
                        <A href=crate::host::path("/settings")>{t.nav_settings}</A>
                    }.into_any()
                }}
            </nav>
            <LanguagePicker />
            <Account />
        </header>
        <TrialBanner />
        <SignInProblem />
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="shell-footer">
            <span translate="no">{PRODUCT_NAME}" "<span class="version">{concat!("v", env!("CARGO_PKG_VERSION"))}</span></span>
            <span>{t.footer_days}</span>
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
                                    <A attr:class="trial-chip" href=crate::host::path("/onboarding") attr:title=i18n::t().trial_hint>
                                        {(i18n::t().trial_days_left)(t.days_left)}
                                    </A>
                                }
                            });
                            view! {
                                {trial}
                                <span class="who" translate="no">
                                    {s.display_name.clone()}
                                    {s.customer.clone().map(|c| c.name).or(s.partner_name.clone()).map(|p| format!(" · {p}"))}
                                </span>
                                <button type="button" class="link" on:click=move |_| { sign_out.dispatch(()); }>{i18n::t().sign_out}</button>
                            }.into_any()
                        }
                        Err(_) => {
                            let here = host::route_of(&location.pathname.get_untracked());
                            // A customer's people sign in from the customer's own view.
                            let url = if here.starts_with("/my") {
                                api::customer_sign_in_url(&here)
                            } else {
                                api::sign_in_url(&here)
                            };
                            view! { <a class="button" rel="external" href=url>{i18n::t().sign_in}</a> }.into_any()
                        }
                    }
                })}
            </Transition>
        </div>
    }
}

/// That a sign-in or a consent did not finish, as the proxy sent the browser
/// back. Anyone can write a link with any `signInError` or `consentError`,
/// so only a fixed sentence and Entra's code (`AADSTS90094`) found in it are
/// shown; the proxy's log has the rest.
#[component]
fn SignInProblem() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        let query = query.read();
        let t = i18n::t();
        let (sentence, why) = match (query.get("consentError"), query.get("signInError")) {
            (Some(why), _) => (t.consent_refused, why),
            (None, Some(why)) => (t.sign_in_problem, why),
            (None, None) => return None,
        };
        // Entra's code is the same in every language.
        let code = model::onboarding::entra_code(&why)
            .map(|c| view! { " "<span translate="no">"("{c.to_string()}")"</span> });
        Some(view! {
            <div class="banner" role="alert" id="sign-in-error">
                {sentence}{code}
            </div>
        })
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
                        {(i18n::t().trial_ended)(t.ends_at.get(..10).unwrap_or_default())}
                    </div>
                })
            })}
        </Transition>
    }
}
