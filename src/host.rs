//! The page around the app: `config.json`, the path it is served under,
//! the theme, and the `postMessage` link with a portal that frames it. The
//! rules (what is valid, what is trusted) are `model::host`'s; this is the
//! browser glue.

use leptos::prelude::*;
use model::host::{
    AppConfig, ConfigError, FromHost, Theme, ToHost, normalise_base, route_to_restore,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::parsed::Js;

/// What the app was started with, for components that need it.
#[derive(Clone, Debug, Default)]
pub struct Host {
    pub config: AppConfig,
    /// Where the routes start: `` at the root, `/tools/costs` under a sub-path.
    pub base: String,
    pub theme: RwSignal<Theme>,
    pub accent: RwSignal<Option<String>>,
    /// The element the app is mounted in by a host page's `mount()`; none
    /// when the app is the page.
    pub root: Option<web_sys::HtmlElement>,
}

impl Host {
    /// Where the theme goes: the app's own element when mounted in a host
    /// page, so the host page keeps its look; otherwise the document.
    pub fn theme_root(&self) -> Option<web_sys::HtmlElement> {
        self.root.clone().or_else(|| {
            web_sys::window()?
                .document()?
                .document_element()?
                .dyn_into::<web_sys::HtmlElement>()
                .ok()
        })
    }
}

/// `config.json` beside `index.html`: missing is the default (the proxy
/// serves the app), present and wrong is an error the page shows.
pub async fn load_config() -> Result<AppConfig, String> {
    let response = gloo_net::http::Request::get("config.json")
        .send()
        .await
        .map_err(|e| format!("config.json could not be read: {e}"))?;
    if response.status() == 404 {
        return Ok(AppConfig::default());
    }
    let text = response
        .text()
        .await
        .map_err(|e| format!("config.json could not be read: {e}"))?;
    parse_config(&text).map_err(|e| e.to_string())
}

/// `config.json`'s text (or a host page's `mount()` config) read and
/// checked; an empty file is the default.
pub fn parse_config(text: &str) -> Result<AppConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(AppConfig::default());
    }
    AppConfig::read(&Js::parse(text).map_err(ConfigError::Json)?)
}

/// The router's base: the host's `basePath` when mounted into its page,
/// otherwise the folder of the document's `<base>` (`./` resolved).
pub fn base_path(config: &AppConfig) -> String {
    if let Some(base) = config.base_path.as_deref().and_then(normalise_base) {
        return base;
    }
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .and_then(|uri| web_sys::Url::new(&uri).ok())
        .and_then(|url| normalise_base(&url.pathname()))
        .unwrap_or_default()
}

/// After a static host's `404.html` sent a deep link to the app's folder as
/// `?route=/customers/42`, puts that path back in the address bar.
pub fn restore_route(base: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let search = window.location().search().unwrap_or_default();
    if let Some(route) = route_to_restore(&search)
        && let Ok(history) = window.history()
    {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{base}{route}")),
        );
    }
}

/// The router's base, once started (for addresses built outside components).
static BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn set_base(base: &str) {
    let _ = BASE.set(base.to_string());
}

/// An address of this app that the proxy may send the browser back to after
/// signing in: absolute, since the proxy may be on another origin.
pub fn app_url(route: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let base = BASE.get().map(String::as_str).unwrap_or_default();
    format!("{origin}{base}{route}")
}

/// The app's route of a full path: `/tools/costs/customers` -> `/customers`.
pub fn route_of(pathname: &str) -> String {
    let base = BASE.get().map(String::as_str).unwrap_or_default();
    let route = pathname.strip_prefix(base).unwrap_or(pathname);
    if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    }
}

/// The theme and accent on `root` (the document's element, or the mount
/// point's): `data-theme` picks the palette, the accent is a custom property.
pub fn apply_theme(root: &web_sys::HtmlElement, theme: Theme, accent: Option<&str>) {
    let _ = root.set_attribute("data-theme", theme.as_str());
    let style = root.style();
    match accent.filter(|a| model::host::is_colour(a)) {
        Some(a) => {
            let _ = style.set_property("--color-accent", a);
        }
        None => {
            let _ = style.remove_property("--color-accent");
        }
    }
}

/// The frame's parent when the app runs in an iframe.
fn parent() -> Option<web_sys::Window> {
    let window = web_sys::window()?;
    let parent = window.parent().ok().flatten()?;
    (parent != window).then_some(parent)
}

/// Posts to the portal that frames the app, to each trusted origin in turn:
/// the browser delivers only to the one the parent really has.
pub fn tell(config: &AppConfig, message: &ToHost) {
    let Some(parent) = parent() else {
        return;
    };
    let Ok(data) = js_sys::JSON::parse(&message.to_json()) else {
        return;
    };
    for origin in &config.host_origins {
        let _ = parent.post_message(&data, origin);
    }
}

/// In a frame with trusted host origins: says it is ready, reports its
/// height as it changes, and obeys theme, language and navigate messages
/// from those origins only. Route changes are reported by [`report_navigation`].
pub fn connect(
    config: &AppConfig,
    navigate: impl Fn(&str) + 'static,
    speak: impl Fn(model::i18n::Locale) + 'static,
    restyle: impl Fn(Theme, Option<String>) + 'static,
) {
    let config = config.clone();
    let Some(window) = web_sys::window() else {
        return;
    };
    if parent().is_none() {
        return;
    }
    // In a frame the page is as tall as its content: a page at least as
    // tall as the frame would grow the frame each time the host fits it.
    if let Some(root) = window.document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-embedded", "");
    }
    if config.host_origins.is_empty() {
        return;
    }
    let listening = config.clone();
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            // Only the frame's own parent, and only a trusted origin. (A window
            // of another origin is not `instanceof Window` here: compare as is.)
            let from_parent = ev
                .source()
                .map(wasm_bindgen::JsValue::from)
                .zip(parent().map(wasm_bindgen::JsValue::from))
                .is_some_and(|(s, p)| s == p);
            if !from_parent {
                return;
            }
            match FromHost::read_value(&listening, &ev.origin(), &Js(ev.data())) {
                Ok(FromHost::Theme { theme, accent }) => restyle(theme, accent),
                Ok(FromHost::Navigate { path }) => navigate(&path),
                Ok(FromHost::Language { language }) => {
                    if let Some(locale) = model::i18n::Locale::parse(&language) {
                        speak(locale);
                    }
                }
                Err(e) => web_sys::console::warn_1(&e.to_string().into()),
            }
        });
    let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    on_message.forget();

    // The height of the page, whenever it changes, so the frame can fit it.
    let sizing = config.clone();
    let last = std::cell::Cell::new(0u32);
    let on_resize = Closure::<dyn Fn()>::new(move || {
        let height = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .map(|e| e.scroll_height().max(0) as u32)
            .unwrap_or(0);
        if height != last.replace(height) {
            tell(&sizing, &ToHost::Height { height });
        }
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref())
        && let Some(body) = window.document().and_then(|d| d.body())
    {
        observer.observe(&body);
    }
    on_resize.forget();
    tell(
        &config,
        &ToHost::Ready {
            version: env!("CARGO_PKG_VERSION").into(),
        },
    );
}

/// Tells the portal each time the app moves to another of its paths.
pub fn report_navigation(host: &Host, path: Memo<String>) {
    let config = host.config.clone();
    Effect::new(move |_| {
        let path = path.get();
        tell(&config, &ToHost::Navigate { path });
    });
}

/// Tells the portal about a failure the person was shown.
pub fn report_error(message: &str) {
    if let Some(host) = use_context::<Host>() {
        tell(
            &host.config,
            &ToHost::Error {
                message: message.to_string(),
            },
        );
    }
}

/// An app path as a link's `href`: under the base the app is served from
/// (`/customers` -> `/tools/costs/customers`). The router prefixes its own
/// navigations; `<A>` takes an absolute `href` as it is.
pub fn path(route: impl AsRef<str>) -> String {
    let base = BASE.get().map(String::as_str).unwrap_or_default();
    format!("{base}{}", route.as_ref())
}

const THEME_KEY: &str = "csp-costs.theme";

/// What this browser keeps for the app under `key` (choices, never secrets).
pub fn stored(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

/// Keeps `value` under `key` in this browser, for the next visit.
pub fn store(key: &str, value: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(key, value);
    }
}

/// The theme this browser's person picked in Settings.
pub fn remembered_theme() -> Option<Theme> {
    stored(THEME_KEY).as_deref().and_then(Theme::parse)
}

pub fn remember_theme(theme: Theme) {
    store(THEME_KEY, theme.as_str());
}
