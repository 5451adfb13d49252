//! The browser app: a Leptos client-side-rendered SPA that talks only to the
//! proxy's `/api`. Numbers come from the `model` crate; components stay thin.

pub mod api;
mod app;
mod components;
pub mod download;
pub mod format;
pub mod host;
pub mod i18n;
pub mod pages;

pub use app::App;
use leptos::prelude::*;
use model::host::AppConfig;

/// Starts the app with its configuration, on the page's body or, mounted by
/// a host page, in `root`.
pub fn start(config: AppConfig, root: Option<web_sys::HtmlElement>) {
    let base = host::base_path(&config);
    if root.is_none() {
        host::restore_route(&base);
    }
    api::set_base(config.api_base.clone());
    host::set_base(&base);
    i18n::set(i18n::initial());
    let mount_root = root.clone();
    let mount = move || {
        let host = host::Host {
            root: mount_root,
            // The person's own pick wins over the host's default.
            theme: RwSignal::new(
                host::remembered_theme()
                    .or(config.theme)
                    .unwrap_or_default(),
            ),
            accent: RwSignal::new(config.accent.clone()),
            config,
            base,
        };
        view! { <App host /> }
    };
    match root {
        Some(root) => leptos::mount::mount_to(root, mount).forget(),
        None => leptos::mount::mount_to_body(mount),
    }
    leptos::prelude::set_timeout(format::warm, std::time::Duration::ZERO);
}

/// The JavaScript entry for host pages (`embed.js` calls it): mounts the
/// app into `root` (an element inside the host's shadow root, so that
/// neither page's styles reach the other) with `config` as JSON, the same
/// fields as `config.json`. A wrong config throws an error saying which.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = mountApp)]
pub fn mount_app(root: web_sys::HtmlElement, config: &str) -> Result<(), wasm_bindgen::JsError> {
    let config =
        AppConfig::parse(config).map_err(|e| wasm_bindgen::JsError::new(&e.to_string()))?;
    start(config, Some(root));
    Ok(())
}

/// When the app cannot start (a wrong `config.json`), says why on the page.
pub fn show_problem(problem: String) {
    i18n::set(i18n::initial());
    leptos::mount::mount_to_body(move || {
        view! {
            <main id="main">
                <h1>{i18n::t().could_not_start}</h1>
                <p class="error" role="alert">{problem}</p>
            </main>
        }
    });
}
