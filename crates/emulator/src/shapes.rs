//! The JSON shapes of Partner Center's answers, written here from the
//! reference's documented examples (`partner-center-api.md`) with `json!`.
//! The emulator never renders an answer with the proxy's own types: a field
//! the proxy names or types wrongly must show up as a failing test, not be
//! agreed to by construction.

use serde_json::{Value, json};

/// The header Partner Center's seek paging carries its token in.
pub const CONTINUATION_HEADER: &str = "MS-ContinuationToken";

/// The audience of Partner Center's tokens, and Azure AD Graph's (which
/// Partner Center's app-only flow also accepts).
pub const PARTNER_CENTER_RESOURCE: &str = "https://api.partnercenter.microsoft.com";
pub const LEGACY_GRAPH_RESOURCE: &str = "https://graph.windows.net";

/// `{"objectType": ...}`, on every resource.
pub fn attributes(object_type: &str) -> Value {
    json!({ "objectType": object_type })
}

/// A link to follow, relative to `/v1`, with the headers to send.
pub fn link(uri: &str, headers: &[(&str, &str)]) -> Value {
    let headers: Vec<Value> = headers
        .iter()
        .map(|(key, value)| json!({ "key": key, "value": value }))
        .collect();
    json!({ "uri": uri, "method": "GET", "headers": headers })
}

/// `{"self": link}`, as single resources carry.
pub fn self_links(uri: &str) -> Value {
    json!({ "self": link(uri, &[]) })
}

/// The collection envelope: `totalCount` counts this page's items.
pub fn collection(items: Vec<Value>, self_uri: &str, next: Option<Value>) -> Value {
    let mut links = json!({ "self": link(self_uri, &[]) });
    if let Some(next) = next {
        links["next"] = next;
    }
    json!({
        "totalCount": items.len(),
        "items": items,
        "links": links,
        "attributes": attributes("Collection"),
    })
}

/// An entity's `etag`: opaque, as the documented examples' (`eyJpZCI6...`,
/// base64 of a small JSON object), and stable for one entity.
pub fn etag(id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"id\":\"{id}\",\"version\":1}}"))
}
