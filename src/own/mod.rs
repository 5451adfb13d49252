//! The customer's own view (`/my`) as an entry of its own, drawn without
//! Leptos: a customer's user opens one page once a month, and Leptos'
//! runtime alone is half of that page's 150 KB budget (issue 23). It shows
//! what the partner's app shows at `/my` (`pages::own`), from the same
//! words, figures and chart layout (`model`), with the same markup and
//! styles; its state is a plain struct drawn again on each change.

mod dom;
mod view;

use std::cell::RefCell;

use chrono::NaiveDate;
use model::api::{ErrorCode, OwnCosts, SessionInfo};
use model::cube::{Cube, Dim};
use model::host::{AppConfig, Theme, ToHost};
use model::i18n::Locale;
use model::views::preset_range;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::api::{self, ApiError};
use crate::{format, host, i18n};

/// The ways a customer can split its cost (the first is the default).
pub const BY: [Dim; 5] = [
    Dim::Subscription,
    Dim::MeterCategory,
    Dim::ResourceGroup,
    Dim::Resource,
    Dim::Region,
];

/// An answer on its way, arrived, or refused.
enum Load<T> {
    Waiting,
    Ready(T),
    Failed(ApiError),
}

impl<T> From<Result<T, ApiError>> for Load<T> {
    fn from(answer: Result<T, ApiError>) -> Self {
        match answer {
            Ok(v) => Load::Ready(v),
            Err(e) => Load::Failed(e),
        }
    }
}

/// Everything the page shows.
struct Own {
    config: AppConfig,
    session: Load<SessionInfo>,
    costs: Load<OwnCosts>,
    cube: Load<Cube>,
    /// The period whose cube was asked for last: an older answer arriving
    /// later is dropped.
    asked: Option<(NaiveDate, NaiveDate)>,
    /// A new period's cube is on its way; the last one stays, marked.
    reloading: bool,
}

thread_local! {
    static OWN: RefCell<Option<Own>> = const { RefCell::new(None) };
}

/// Starts the page with its configuration (`run` has read it).
pub fn start(config: AppConfig) {
    let base = host::base_path(&config);
    host::restore_route(&base);
    api::set_base(config.api_base.clone());
    host::set_base(&base);
    let theme = host::remembered_theme()
        .or(config.theme)
        .unwrap_or_default();
    restyle(theme, config.accent.clone());
    host::connect(
        &config,
        // A portal may send it to one of the partner's pages: another entry.
        |path| {
            if host::route_of(path) != "/my" {
                go(&host::path(path));
            }
        },
        |locale| switch(locale, false),
        restyle,
    );
    host::tell(&config, &ToHost::Navigate { path: "/my".into() });
    OWN.with(|own| {
        *own.borrow_mut() = Some(Own {
            config,
            session: Load::Waiting,
            costs: Load::Waiting,
            cube: Load::Waiting,
            asked: None,
            reloading: false,
        })
    });
    listen();
    wasm_bindgen_futures::spawn_local(async {
        i18n::set(i18n::ready(i18n::initial()).await);
        draw();
        load_session().await;
    });
    // Intl's first format costs 15-25 ms: spent while the data is on its way.
    later(format::warm);
}

/// When `config.json` is wrong, says why on the page.
pub fn show_problem(problem: String) {
    i18n::set(i18n::spoken(i18n::initial()));
    let t = i18n::t();
    if let Some(body) = body() {
        dom::replace(
            &body,
            vec![
                dom::el("main").attr("id", "main").children([
                    dom::el("h1").text(t.could_not_start),
                    dom::el("p")
                        .class("error")
                        .attr("role", "alert")
                        .text(&problem),
                ]),
            ],
        );
    }
}

fn body() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.body().map(Into::into)
}

/// Changes the state and draws the page again.
fn update(change: impl FnOnce(&mut Own)) {
    OWN.with(|own| {
        if let Some(own) = own.borrow_mut().as_mut() {
            change(own);
        }
    });
    draw();
}

fn draw() {
    let Some(body) = body() else {
        return;
    };
    OWN.with(|own| {
        if let Some(own) = own.borrow().as_ref() {
            dom::replace(&body, view::page(own));
        }
    });
}

/// Runs `f` in a task of its own, after this one.
fn later(f: fn()) {
    if let Some(window) = web_sys::window() {
        let f = Closure::once_into_js(f);
        let _ = window.set_timeout_with_callback(f.unchecked_ref());
    }
}

fn go(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
}

fn restyle(theme: Theme, accent: Option<String>) {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(root) = root {
        host::apply_theme(&root, theme, accent.as_deref());
    }
}

/// Speaks `locale` once its words are ready, remembered if `keep`.
fn switch(locale: Locale, keep: bool) {
    wasm_bindgen_futures::spawn_local(async move {
        let spoken = i18n::ready(locale).await;
        if keep && spoken == locale {
            i18n::remember(spoken);
        }
        i18n::set(spoken);
        draw();
    });
}

async fn load_session() {
    let session = api::own::session().await;
    // The customer's figures for a customer's user; for a session the proxy
    // could not describe, the figures' own answer says what is wrong.
    let costs = match &session {
        Ok(s) => s.customer.is_some(),
        Err(e) => e.code() != Some(ErrorCode::NotSignedIn),
    };
    update(|own| own.session = session.into());
    if costs {
        load_costs().await;
    }
}

async fn load_costs() {
    let costs = api::own::costs().await;
    let loaded = costs.is_ok();
    report(&costs);
    update(|own| own.costs = costs.into());
    if loaded {
        load_cube().await;
    }
}

/// The cube of the period the address names, unless it is the one shown.
async fn load_cube() {
    let Some((from, to)) = OWN.with(|own| own.borrow().as_ref().and_then(Own::period)) else {
        return;
    };
    let mut shown = false;
    update(|own| {
        shown = own.asked == Some((from, to)) && !matches!(own.cube, Load::Failed(_));
        if !shown {
            own.asked = Some((from, to));
            own.reloading = matches!(own.cube, Load::Ready(_));
        }
    });
    if shown {
        return;
    }
    let cube = api::own::usage(&from.to_string(), &to.to_string()).await;
    report(&cube);
    update(|own| {
        if own.asked == Some((from, to)) {
            own.cube = cube.into();
            own.reloading = false;
        }
    });
}

/// A portal that frames the page hears of a failure shown (once, as it
/// arrives: the page is drawn again many times).
fn report<T>(answer: &Result<T, ApiError>) {
    if let Err(e) = answer
        && !matches!(
            e.code(),
            Some(ErrorCode::NotSignedIn | ErrorCode::NotConnected | ErrorCode::PartnerOnly)
        )
    {
        OWN.with(|own| {
            if let Some(own) = own.borrow().as_ref() {
                host::tell(
                    &own.config,
                    &ToHost::Error {
                        message: e.to_string(),
                    },
                );
            }
        });
    }
}

impl Own {
    /// The last day with data: the customer's own, or today (UTC).
    fn as_of(&self) -> NaiveDate {
        match &self.costs {
            Load::Ready(c) => c.as_of,
            _ => None,
        }
        .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }

    /// The days the address asks for (`period`, `from`, `to`), once the
    /// customer's figures have said where its data ends.
    fn period(&self) -> Option<(NaiveDate, NaiveDate)> {
        matches!(self.costs, Load::Ready(_)).then(|| period(self.as_of()))
    }
}

/// The days the address asks for, counted from `as_of`.
fn period(as_of: NaiveDate) -> (NaiveDate, NaiveDate) {
    let (f, t) = preset_range(&query("period").unwrap_or_default(), as_of);
    let day = |key: &str| query(key).as_deref().and_then(model::fields::day);
    (day("from").unwrap_or(f), day("to").unwrap_or(t))
}

fn url() -> Option<web_sys::Url> {
    let href = web_sys::window()?.location().href().ok()?;
    web_sys::Url::new(&href).ok()
}

/// A parameter of the page's address.
fn query(key: &str) -> Option<String> {
    url()?.search_params().get(key)
}

/// The split the address asks for.
fn by() -> Dim {
    query("by")
        .and_then(|b| Dim::parse(&b))
        .filter(|d| BY.contains(d))
        .unwrap_or(Dim::Subscription)
}

/// Sets these parameters of the address (an empty value removes one) as a
/// new history entry, so that back and forward walk through the choices.
fn change_query(changes: &[(&str, &str)]) {
    let (Some(url), Some(window)) = (url(), web_sys::window()) else {
        return;
    };
    let params = url.search_params();
    for (key, value) in changes {
        if value.is_empty() {
            params.delete(key);
        } else {
            params.set(key, value);
        }
    }
    url.set_search(&params.to_string().as_string().unwrap_or_default());
    if let Ok(history) = window.history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
    address_changed();
}

/// The address says another split or period (a choice, back or forward).
fn address_changed() {
    draw();
    wasm_bindgen_futures::spawn_local(load_cube());
}

/// One listener for each kind of event, on the document: the page's
/// elements are drawn again on each change, their handlers would be too.
fn listen() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_change = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let value = js_sys::Reflect::get(&target, &"value".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        match target.id().as_str() {
            "own-by" => change_query(&[("by", &value)]),
            // Picking a preset drops a custom from/to.
            "period" => change_query(&[("period", &value), ("from", ""), ("to", "")]),
            id @ ("from" | "to") => change_query(&[(id, &value)]),
            "language" => {
                if let Some(locale) = Locale::parse(&value) {
                    switch(locale, true);
                }
            }
            _ => {}
        }
    });
    let on_click = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let action = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("button[data-do]").ok().flatten())
            .and_then(|b| b.get_attribute("data-do"));
        match action.as_deref() {
            Some("sign-out") => wasm_bindgen_futures::spawn_local(async {
                let _ = api::own::sign_out().await;
                update(|own| {
                    own.costs = Load::Waiting;
                    own.cube = Load::Waiting;
                    own.asked = None;
                });
                load_session().await;
            }),
            Some("retry") => wasm_bindgen_futures::spawn_local(async {
                update(|own| {
                    own.cube = Load::Waiting;
                    own.asked = None;
                });
                load_cube().await;
            }),
            _ => {}
        }
    });
    let on_history = Closure::<dyn Fn()>::new(address_changed);
    if let Some(document) = window.document() {
        let _ =
            document.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        let _ =
            document.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    }
    let _ =
        window.add_event_listener_with_callback("popstate", on_history.as_ref().unchecked_ref());
    // For the page's life.
    on_change.forget();
    on_click.forget();
    on_history.forget();
}
