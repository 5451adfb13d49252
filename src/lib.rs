//! The browser app: a Leptos client-side-rendered SPA that talks only to the
//! proxy's `/api`. Numbers come from the `model` crate; components stay thin.

pub mod api;
mod app;
mod components;
pub mod download;
pub mod format;
pub mod host;
pub mod i18n;
pub mod own;
pub mod pages;
pub mod parsed;
pub mod timing;

pub use app::App;
use leptos::prelude::*;
use model::host::AppConfig;

/// Reads `config.json` and starts an entry with it (or says on the page why
/// it cannot start). Leptos sets up its executor when it mounts; until then,
/// plain futures. The entry is a function, not a choice made here, so that
/// each binary holds only the app it starts (and says a problem its way).
pub fn run(start: fn(AppConfig), problem: fn(String)) {
    wasm_bindgen_futures::spawn_local(async move {
        // The browser's language's words come beside the settings, not after.
        let (config, _) = futures::join!(host::load_config(), i18n::ready(i18n::initial()));
        match config {
            Ok(config) => start(config),
            Err(why) => problem(why),
        }
    });
}

/// Starts the partner's app with its configuration, on the page's body or,
/// mounted by a host page, in `root`.
pub fn start(config: AppConfig, root: Option<web_sys::HtmlElement>) {
    start_app(config, root, |host| view! { <App host /> });
}

fn start_app<V: IntoView + 'static>(
    config: AppConfig,
    root: Option<web_sys::HtmlElement>,
    app: fn(host::Host) -> V,
) {
    let base = host::base_path(&config);
    if root.is_none() {
        host::restore_route(&base);
    }
    api::set_base(config.api_base.clone());
    host::set_base(&base);
    wasm_bindgen_futures::spawn_local(async move {
        // Ready already when `run` started it (a mounting host page calls
        // `start` itself).
        i18n::set(i18n::ready(i18n::initial()).await);
        mount(config, root, base, app);
    });
}

fn mount<V: IntoView + 'static>(
    config: AppConfig,
    root: Option<web_sys::HtmlElement>,
    base: String,
    app: fn(host::Host) -> V,
) {
    let mount_root = root.clone();
    let mount = move || {
        app(host::Host {
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
        })
    };
    match root {
        Some(root) => leptos::mount::mount_to(root, mount).forget(),
        None => leptos::mount::mount_to_body(mount),
    }
    leptos::prelude::set_timeout(format::warm, std::time::Duration::ZERO);
}

/// When the app cannot start (a wrong `config.json`), says why on the page.
pub fn show_problem(problem: String) {
    i18n::set(i18n::spoken(i18n::initial()));
    leptos::mount::mount_to_body(move || {
        view! {
            <main id="main">
                <h1>{i18n::t().could_not_start}</h1>
                <p class="error" role="alert">{problem}</p>
            </main>
        }
    });
}
