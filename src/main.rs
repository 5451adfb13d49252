//! Starts the app once its `config.json` is read; everything else is in the
//! library so tests can reach it.

fn main() {
    console_error_panic_hook::set_once();
    // A host page that mounts the app itself (embed.js) says so first.
    let embedded = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"cspCostsEmbedded".into()).ok())
        .is_some_and(|v| v.is_truthy());
    if embedded {
        return;
    }
    // Leptos sets up its executor when it mounts; until then, plain futures.
    wasm_bindgen_futures::spawn_local(async {
        match csp_costs::host::load_config().await {
            Ok(config) => csp_costs::start(config, None),
            Err(problem) => csp_costs::show_problem(problem),
        }
    });
}
