//! The partner's app: starts once its `config.json` is read, unless a host
//! page mounts it itself (`embed.js`). Everything else is in the library so
//! tests can reach it.

fn main() {
    console_error_panic_hook::set_once();
    // A host page that mounts the app itself (embed.js) says so first.
    let embedded = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"cspCostsEmbedded".into()).ok())
        .is_some_and(|v| v.is_truthy());
    if !embedded {
        csp_costs::run(
            |config| csp_costs::start(config, None),
            csp_costs::show_problem,
        );
    }
}

/// The JavaScript entry for host pages (`embed.js` calls it): mounts the
/// app into `root` (an element inside the host's shadow root, so that
/// neither page's styles reach the other) with `config` as JSON, the same
/// fields as `config.json`. A wrong config throws an error saying which.
/// Here rather than in the library: an export there would be kept in the
/// customer's own entry too, and with it the whole app.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = mountApp)]
pub fn mount_app(root: web_sys::HtmlElement, config: &str) -> Result<(), wasm_bindgen::JsError> {
    let config = csp_costs::host::parse_config(config)
        .map_err(|e| wasm_bindgen::JsError::new(&e.to_string()))?;
    csp_costs::start(config, Some(root));
    Ok(())
}
