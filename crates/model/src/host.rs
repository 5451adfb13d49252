//! How the app fits the page that hosts it: the runtime `config.json` read
//! beside `index.html`, the path it is served under, the deep link a static
//! host's `404.html` hands back, and the `postMessage` protocol with a
//! portal that frames it. Plain data and checks; the browser glue is in the
//! SPA's `host` module.

use serde::{Deserialize, Serialize};

/// `config.json` beside `index.html`: what a partner sets when hosting the
/// files themselves or embedding the app. Every field is optional; unknown
/// fields are refused so that a typo does not pass silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AppConfig {
    /// The proxy's address, e.g. `https://costs-api.example.com/`, when it
    /// does not serve the app itself. Absent: the page's own origin.
    pub api_base: Option<String>,
    /// Origins of portals allowed to frame the app and exchange messages
    /// with it (`https://portal.example.com`).
    pub host_origins: Vec<String>,
    /// The accent colour, `#rgb` or `#rrggbb`.
    pub accent: Option<String>,
    /// A logo shown before the product name: a URL the page may load.
    pub logo: Option<String>,
    pub theme: Option<Theme>,
    /// Where the app's routes start when mounted into a host page's own
    /// URL space (`/portal/costs`); hosted files find it from `<base>`.
    pub base_path: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follows the browser's `prefers-color-scheme`.
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(text: &str) -> Option<Theme> {
        match text {
            "auto" => Some(Theme::Auto),
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("config.json is not valid: {0}")]
    Json(String),
    #[error(
        "config.json: apiBase must be an http(s) address ending in '/', like https://costs-api.example.com/ (got {0:?})"
    )]
    ApiBase(String),
    #[error("config.json: {0:?} in hostOrigins is not an origin like https://portal.example.com")]
    Origin(String),
    #[error("config.json: accent must be a colour like #0b5cad (got {0:?})")]
    Accent(String),
    #[error("config.json: logo must be an https:, relative or data:image address (got {0:?})")]
    Logo(String),
    #[error("config.json: basePath must be a path like /portal/costs (got {0:?})")]
    BasePath(String),
}

impl AppConfig {
    /// Reads and checks `config.json`; an empty file is the default.
    pub fn parse(text: &str) -> Result<AppConfig, ConfigError> {
        if text.trim().is_empty() {
            return Ok(AppConfig::default());
        }
        let config: AppConfig =
            serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
        config.check()
    }

    /// Every field checked, as for a host's `mount(element, config)`.
    pub fn check(self) -> Result<AppConfig, ConfigError> {
        if let Some(base) = &self.api_base
            && !(is_http_url(base) && base.ends_with('/'))
        {
            return Err(ConfigError::ApiBase(base.clone()));
        }
        if let Some(bad) = self.host_origins.iter().find(|o| !is_origin(o)) {
            return Err(ConfigError::Origin(bad.clone()));
        }
        if let Some(accent) = &self.accent
            && !is_colour(accent)
        {
            return Err(ConfigError::Accent(accent.clone()));
        }
        if let Some(logo) = &self.logo
            && !is_logo_url(logo)
        {
            return Err(ConfigError::Logo(logo.clone()));
        }
        if let Some(path) = &self.base_path
            && normalise_base(path).is_none()
        {
            return Err(ConfigError::BasePath(path.clone()));
        }
        Ok(self)
    }

    /// Whether a message from `origin` may steer the app.
    pub fn trusts(&self, origin: &str) -> bool {
        self.host_origins.iter().any(|o| o == origin)
    }
}

fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or_default();
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    }) && !text.chars().any(|c| c.is_whitespace() || c == '\\')
}

/// `scheme://host[:port]` and nothing more: what `MessageEvent.origin` is.
pub fn is_origin(text: &str) -> bool {
    is_http_url(text) && text.matches('/').count() == 2
}

/// `#rgb` or `#rrggbb`: nothing that could close the CSS declaration.
pub fn is_colour(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_logo_url(text: &str) -> bool {
    let relative = !text.contains(':') && !text.starts_with("//");
    let bad = text
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\'));
    !bad && (relative
        || text.starts_with("https://")
        || text.starts_with("data:image/png")
        || text.starts_with("data:image/svg+xml"))
}

/// A router base from a path: `/tools/costs/` -> `/tools/costs`, `/` -> ``.
/// `None` for anything that is not a plain absolute path.
pub fn normalise_base(path: &str) -> Option<String> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '?' | '#' | '\\' | '"' | '<' | '>'))
        && !path.split('/').any(|seg| seg == "..");
    ok.then(|| path.trim_end_matches('/').to_string())
}

/// The app's path to open after a static host's `404.html` sent the browser
/// to the app's folder with `?route=`: only a path of this app (no scheme, no
/// `//host`), so the parameter cannot send anyone elsewhere.
pub fn route_to_restore(query: &str) -> Option<String> {
    let value = query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("route="))?;
    let route = percent_decode(value)?;
    (route.starts_with('/') && !route.starts_with("//") && !route.contains('\\')).then_some(route)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// What the app tells the portal that frames it. Each message carries
/// `"source": "csp-costs"` so a host can tell them from other frames'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ToHost {
    /// The app has started and listens for messages.
    Ready { version: String },
    /// The page's height in CSS pixels, so the host can size the frame.
    Height { height: u32 },
    /// The app moved to another of its paths.
    Navigate { path: String },
    /// Something failed that the person was shown.
    Error { message: String },
}

pub const MESSAGE_SOURCE: &str = "csp-costs";

impl ToHost {
    /// The message as posted, JSON text: `source` and the variant's fields.
    /// Written out rather than through `serde_json::Value`, whose code the
    /// browser would otherwise load with the app for this alone.
    pub fn to_json(&self) -> String {
        let fields = serde_json::to_string(self).unwrap_or_default();
        // Tagged by `type`, a message is always an object with a field.
        let rest = fields.strip_prefix('{').unwrap_or("\"type\":\"\"}");
        format!("{{\"source\":\"{MESSAGE_SOURCE}\",{rest}")
    }
}

/// What a trusted portal may ask of the app: `{"type": "theme", …}`, read
/// by [`FromHost::read_value`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromHost {
    /// Light, dark or the browser's choice, and optionally the accent colour.
    Theme {
        theme: Theme,
        accent: Option<String>,
    },
    /// Open one of the app's paths (`/customers`).
    Navigate { path: String },
    /// Speak this language (`zh-TW`, `en`).
    Language { language: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("a message from {0}, which is not in hostOrigins, was ignored")]
    Untrusted(String),
    #[error("a message the app does not understand was ignored: {0}")]
    Unknown(String),
}

impl FromHost {
    /// Only colours, app paths and languages the app speaks.
    pub(crate) fn checked(self) -> Result<FromHost, MessageError> {
        match &self {
            FromHost::Theme {
                accent: Some(a), ..
            } if !is_colour(a) => Err(MessageError::Unknown(format!("accent {a:?}"))),
            FromHost::Navigate { path }
                if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') =>
            {
                Err(MessageError::Unknown(format!("path {path:?}")))
            }
            FromHost::Language { language } if crate::i18n::Locale::parse(language).is_none() => {
                Err(MessageError::Unknown(format!("language {language:?}")))
            }
            _ => Ok(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_config_is_read_and_each_field_checked() {
        assert_eq!(AppConfig::parse("").unwrap(), AppConfig::default());
        assert_eq!(AppConfig::parse("{}").unwrap(), AppConfig::default());
        let c = AppConfig::parse(
            r##"{"apiBase":"https://api.example.com/","hostOrigins":["https://portal.example.com"],
                "accent":"#0a7","logo":"logo.svg","theme":"dark","basePath":"/portal/costs/"}"##,
        )
        .unwrap();
        assert_eq!(c.api_base.as_deref(), Some("https://api.example.com/"));
        assert_eq!(c.theme, Some(Theme::Dark));
        assert!(c.trusts("https://portal.example.com"));
        assert!(!c.trusts("https://portal.example.com.evil.test"));

        for (bad, field) in [
            (r#"{"apiBase":"javascript:alert(1)//"}"#, "apiBase"),
            (r#"{"apiBase":"https://api.example.com"}"#, "apiBase"),
            (
                r#"{"hostOrigins":["https://portal.example.com/"]}"#,
                "hostOrigins",
            ),
            (r#"{"hostOrigins":["*"]}"#, "hostOrigins"),
            (r#"{"accent":"red;background:url(x)"}"#, "accent"),
            (r##"{"accent":"#12345"}"##, "accent"),
            (r#"{"logo":"javascript:alert(1)"}"#, "logo"),
            (r#"{"logo":"http://insecure.example.com/l.png"}"#, "logo"),
            (r#"{"basePath":"//evil.example.com"}"#, "basePath"),
            (r#"{"basePath":"/a/../b"}"#, "basePath"),
            (r#"{"apiBsae":"https://api.example.com/"}"#, "apiBsae"),
            (r#"{"theme":"sepia"}"#, "sepia"),
            ("not json", "valid"),
        ] {
            let e = AppConfig::parse(bad).unwrap_err().to_string();
            assert!(e.contains(field), "{bad}: {e}");
        }
    }

    #[test]
    fn the_router_base_comes_from_a_plain_path() {
        assert_eq!(normalise_base("/").as_deref(), Some(""));
        assert_eq!(
            normalise_base("/tools/costs/").as_deref(),
            Some("/tools/costs")
        );
        assert_eq!(
            normalise_base("/tools/costs").as_deref(),
            Some("/tools/costs")
        );
        assert_eq!(normalise_base("tools"), None);
        assert_eq!(normalise_base("//host/x"), None);
    }

    #[test]
    fn only_an_app_path_is_restored_after_a_404_redirect() {
        assert_eq!(
            route_to_restore("?route=%2Fcustomers%2F42%3Ffrom%3D2026-11-01").as_deref(),
            Some("/customers/42?from=2026-11-01")
        );
        assert_eq!(
            route_to_restore("a=1&route=/explorer").as_deref(),
            Some("/explorer")
        );
        assert_eq!(route_to_restore("?route=%2F%2Fevil.example.com"), None);
        assert_eq!(
            route_to_restore("?route=https%3A%2F%2Fevil.example.com"),
            None
        );
        assert_eq!(route_to_restore("?route=%ZZ"), None);
        assert_eq!(route_to_restore("?other=1"), None);
    }

    #[test]
    fn messages_out_say_where_they_come_from() {
        let parsed = |message: ToHost| {
            serde_json::from_str::<serde_json::Value>(&message.to_json()).expect("JSON")
        };
        assert_eq!(
            parsed(ToHost::Height { height: 812 }),
            json!({"type": "height", "height": 812, "source": "csp-costs"})
        );
        assert_eq!(
            parsed(ToHost::Navigate {
                path: "/customers".into()
            }),
            json!({"type": "navigate", "path": "/customers", "source": "csp-costs"})
        );
        assert_eq!(
            parsed(ToHost::Error {
                message: "a \"quoted\" {brace}".into()
            }),
            json!({"type": "error", "message": "a \"quoted\" {brace}", "source": "csp-costs"})
        );
    }

    #[test]
    fn messages_in_are_taken_only_from_trusted_hosts_and_only_when_sound() {
        let config = AppConfig {
            host_origins: vec!["https://portal.example.com".into()],
            ..AppConfig::default()
        };
        let ok = "https://portal.example.com";
        assert_eq!(
            FromHost::read_value(
                &config,
                ok,
                &json!({"type": "theme", "theme": "dark", "accent": "#c2255c"})
            ),
            Ok(FromHost::Theme {
                theme: Theme::Dark,
                accent: Some("#c2255c".into())
            })
        );
        assert_eq!(
            FromHost::read_value(
                &config,
                ok,
                &json!({"type": "navigate", "path": "/explorer"})
            ),
            Ok(FromHost::Navigate {
                path: "/explorer".into()
            })
        );
        assert_eq!(
            FromHost::read_value(
                &config,
                ok,
                &json!({"type": "language", "language": "zh-TW"})
            ),
            Ok(FromHost::Language {
                language: "zh-TW".into()
            })
        );
        assert!(matches!(
            FromHost::read_value(
                &config,
                "https://evil.example.com",
                &json!({"type": "navigate", "path": "/"})
            ),
            Err(MessageError::Untrusted(_))
        ));
        for bad in [
            json!({"type": "theme", "theme": "dark", "accent": "red;x:y"}),
            json!({"type": "navigate", "path": "https://evil.example.com"}),
            json!({"type": "navigate", "path": "//evil.example.com"}),
            json!({"type": "eval", "code": "alert(1)"}),
            json!({"type": "navigate", "path": "/", "then": "/x"}),
            json!({"type": "theme"}),
            json!({"theme": "dark"}),
            json!({"type": "language", "language": "klingon"}),
            json!("a string"),
            json!(null),
        ] {
            assert!(
                matches!(
                    FromHost::read_value(&config, ok, &bad),
                    Err(MessageError::Unknown(_))
                ),
                "{bad}"
            );
        }
    }
}
