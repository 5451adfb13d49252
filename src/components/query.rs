//! Where a view keeps its state: the URL's query, so that deep links, a
//! reload and the back button show the same view. One way for every page.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

/// The current route's query: read a parameter (tracked), or change some
/// and go there. Each change is a new history entry, so back and forward
/// walk through them.
#[derive(Clone, Copy)]
pub struct UrlQuery {
    query: Memo<ParamsMap>,
    go: StoredValue<Box<dyn Fn(String) + Send + Sync>>,
}

pub fn use_url_query() -> UrlQuery {
    let navigate = use_navigate();
    let location = use_location();
    UrlQuery {
        query: use_query_map(),
        go: StoredValue::new(Box::new(move |query: String| {
            let path = crate::host::route_of(&location.pathname.get_untracked());
            let url = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            navigate(&url, Default::default());
        })),
    }
}

fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value)
        .as_string()
        .unwrap_or_default()
}

impl UrlQuery {
    /// A parameter's value (tracked).
    pub fn get(&self, key: &str) -> Option<String> {
        self.query.read().get(key)
    }

    /// A parameter's value now, without tracking it.
    pub fn get_untracked(&self, key: &str) -> Option<String> {
        self.query.read_untracked().get(key)
    }

    /// Every parameter whose name starts with `prefix`, without it (tracked).
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.query
            .get()
            .into_iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
            .collect()
    }

    /// Sets these parameters (an empty value removes one) and drops those
    /// whose names start with `drop_prefix`, keeping the others.
    pub fn change(&self, changes: &[(&str, &str)], drop_prefix: Option<&str>) {
        let mut pairs: Vec<(String, String)> = self
            .query
            .get_untracked()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .filter(|(k, _)| !drop_prefix.is_some_and(|p| k.starts_with(p)))
            .collect();
        for (key, value) in changes {
            pairs.retain(|(k, _)| k != key);
            if !value.is_empty() {
                pairs.push((key.to_string(), value.to_string()));
            }
        }
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.go.with_value(|go| go(query));
    }

    /// The whole query as the URL writes it now, without `?`: what a saved
    /// view keeps (read when it is saved, so not tracked).
    pub fn text(&self) -> String {
        self.query
            .get_untracked()
            .into_iter()
            .map(|(k, v)| format!("{}={}", encode(&k), encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Sets one parameter (empty removes it), keeping the others.
    pub fn set(&self, key: &str, value: &str) {
        self.change(&[(key, value)], None);
    }
}
