//! A value the browser parsed (`JSON.parse`), for `model::fields`' readers:
//! the settings, portal messages and the customer's own answers are read
//! without serde's decoders in the wasm (issue 23).

use js_sys::{Array, Object, Reflect};
use model::fields::Value;
use wasm_bindgen::{JsCast, JsValue};

pub struct Js(pub JsValue);

impl Js {
    /// JSON text, parsed by the browser; its reason when it is not JSON.
    pub fn parse(text: &str) -> Result<Js, String> {
        js_sys::JSON::parse(text).map(Js).map_err(|e| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "not JSON".into())
        })
    }

    fn object(&self) -> Option<&Object> {
        (self.0.is_object() && !Array::is_array(&self.0)).then(|| self.0.unchecked_ref())
    }
}

impl Value for Js {
    fn member(&self, key: &str) -> Option<Self> {
        let object = self.object()?;
        // Own members only: `constructor` and the like are not fields.
        let key = JsValue::from_str(key);
        Object::has_own(object, &key).then(|| Reflect::get(object, &key).ok().map(Js))?
    }

    fn is_null(&self) -> bool {
        self.0.is_null()
    }

    fn text(&self) -> Option<String> {
        self.0.as_string()
    }

    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }

    fn flag(&self) -> Option<bool> {
        self.0.as_bool()
    }

    fn items(&self) -> Option<Vec<Self>> {
        Array::is_array(&self.0).then(|| self.0.unchecked_ref::<Array>().iter().map(Js).collect())
    }

    fn keys(&self) -> Option<Vec<String>> {
        let object = self.object()?;
        Some(
            Object::keys(object)
                .iter()
                .filter_map(|k| k.as_string())
                .collect(),
        )
    }
}
