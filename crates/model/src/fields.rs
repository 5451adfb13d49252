//! Reading the settings and the few `/api` answers the customer's own page
//! needs from a value the browser has already parsed (`JSON.parse`), field
//! by field. serde's decoders of these types were a fifth of that page's
//! wasm (issue 23). The rules are serde's for the same types, and a test
//! holds every reader to `serde_json`'s answer for the same text.

use chrono::NaiveDate;

use crate::api::{
    AzureSubscription, ErrorBody, ErrorCode, ErrorDetail, OwnCosts, SessionCustomer, SessionInfo,
    TrialInfo,
};
use crate::host::{AppConfig, ConfigError, FromHost, MessageError, Theme};
use crate::onboarding::Role;

/// A parsed JSON value, as the readers see it.
pub trait Value: Sized {
    /// An object's own member `key`; `None` when absent or not an object.
    fn member(&self, key: &str) -> Option<Self>;
    fn is_null(&self) -> bool;
    fn text(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    fn flag(&self) -> Option<bool>;
    /// An array's items; `None` when not an array.
    fn items(&self) -> Option<Vec<Self>>;
    /// An object's keys; `None` when not an object.
    fn keys(&self) -> Option<Vec<String>>;
}

/// Why a value could not be read, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The largest integer a double holds exactly: an amount beyond it would
/// be read wrong, so it is refused rather than rounded.
const EXACT: f64 = 9_007_199_254_740_991.0;

/// A `YYYY-MM-DD` day, as the proxy writes them.
pub fn day(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r.clone()]
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| text[r].parse::<u32>().ok())?
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

/// An object's fields, each read or refused by name.
struct Object<'a, V>(&'a V);

fn object<'a, V: Value>(value: &'a V, what: &str) -> Result<Object<'a, V>, Unreadable> {
    match value.keys() {
        Some(_) => Ok(Object(value)),
        None => Err(Unreadable(format!("{what}: expected an object"))),
    }
}

impl<V: Value> Object<'_, V> {
    /// A field that may be absent or null.
    fn optional<T>(
        &self,
        key: &str,
        expected: &str,
        read: impl Fn(&V) -> Option<T>,
    ) -> Result<Option<T>, Unreadable> {
        match self.0.member(key) {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => read(&v).map(Some).ok_or_else(|| {
                Unreadable(match v.text() {
                    Some(t) => format!("`{key}`: expected {expected}, not {t:?}"),
                    None => format!("`{key}`: expected {expected}"),
                })
            }),
        }
    }

    fn required<T>(
        &self,
        key: &str,
        expected: &str,
        read: impl Fn(&V) -> Option<T>,
    ) -> Result<T, Unreadable> {
        self.optional(key, expected, read)?
            .ok_or_else(|| Unreadable(format!("missing field `{key}`")))
    }

    fn text(&self, key: &str) -> Result<String, Unreadable> {
        self.required(key, "text", V::text)
    }

    fn maybe_text(&self, key: &str) -> Result<Option<String>, Unreadable> {
        self.optional(key, "text", V::text)
    }

    fn integer(&self, key: &str) -> Result<i64, Unreadable> {
        self.required(key, "a whole number within ±2⁵³", |v| {
            v.number()
                .filter(|n| n.fract() == 0.0 && n.abs() <= EXACT)
                .map(|n| n as i64)
        })
    }

    fn flag(&self, key: &str) -> Result<bool, Unreadable> {
        self.required(key, "true or false", V::flag)
    }

    fn day(&self, key: &str) -> Result<Option<NaiveDate>, Unreadable> {
        self.optional(key, "a day (YYYY-MM-DD)", |v| {
            v.text().as_deref().and_then(day)
        })
    }

    /// A list, each item read by `item`; null is not a list.
    fn list<T>(
        &self,
        key: &str,
        item: impl Fn(&V) -> Result<T, Unreadable>,
    ) -> Result<Option<Vec<T>>, Unreadable> {
        let Some(v) = self.0.member(key) else {
            return Ok(None);
        };
        let items = v
            .items()
            .ok_or_else(|| Unreadable(format!("`{key}`: expected a list")))?;
        items
            .iter()
            .map(|i| item(i).map_err(|e| Unreadable(format!("`{key}`: {e}"))))
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
    }

    /// Refuses any member but `known` (serde's `deny_unknown_fields`).
    fn only(&self, known: &[&str]) -> Result<(), Unreadable> {
        match self
            .0
            .keys()
            .unwrap_or_default()
            .into_iter()
            .find(|k| !known.contains(&k.as_str()))
        {
            Some(k) => Err(Unreadable(format!("unknown field `{k}`"))),
            None => Ok(()),
        }
    }
}

fn text_item<V: Value>(v: &V) -> Result<String, Unreadable> {
    v.text().ok_or_else(|| Unreadable("expected text".into()))
}

impl AppConfig {
    /// `config.json` as the browser parsed it, checked as [`AppConfig::parse`] does.
    pub fn read(value: &impl Value) -> Result<AppConfig, ConfigError> {
        let json = |e: Unreadable| ConfigError::Json(e.0);
        let o = object(value, "config.json").map_err(json)?;
        o.only(&[
            "apiBase",
            "hostOrigins",
            "accent",
            "logo",
            "theme",
            "basePath",
        ])
        .map_err(json)?;
        let config = AppConfig {
            api_base: o.maybe_text("apiBase").map_err(json)?,
            host_origins: o
                .list("hostOrigins", text_item)
                .map_err(json)?
                .unwrap_or_default(),
            accent: o.maybe_text("accent").map_err(json)?,
            logo: o.maybe_text("logo").map_err(json)?,
            theme: o
                .optional("theme", "auto, light or dark", |v| {
                    v.text().as_deref().and_then(Theme::parse)
                })
                .map_err(json)?,
            base_path: o.maybe_text("basePath").map_err(json)?,
        };
        config.check()
    }
}

impl FromHost {
    /// A message event's data as the browser has it, checked as
    /// [`FromHost::read`] checks its text.
    pub fn read_value(
        config: &AppConfig,
        origin: &str,
        value: &impl Value,
    ) -> Result<FromHost, MessageError> {
        if !config.trusts(origin) {
            return Err(MessageError::Untrusted(origin.to_string()));
        }
        let unknown = |e: Unreadable| MessageError::Unknown(e.0);
        let o = object(value, "message").map_err(unknown)?;
        let message = match o.text("type").map_err(unknown)?.as_str() {
            "theme" => {
                o.only(&["type", "theme", "accent"]).map_err(unknown)?;
                FromHost::Theme {
                    theme: o
                        .required("theme", "auto, light or dark", |v| {
                            v.text().as_deref().and_then(Theme::parse)
                        })
                        .map_err(unknown)?,
                    accent: o.maybe_text("accent").map_err(unknown)?,
                }
            }
            "navigate" => {
                o.only(&["type", "path"]).map_err(unknown)?;
                FromHost::Navigate {
                    path: o.text("path").map_err(unknown)?,
                }
            }
            "language" => {
                o.only(&["type", "language"]).map_err(unknown)?;
                FromHost::Language {
                    language: o.text("language").map_err(unknown)?,
                }
            }
            other => return Err(MessageError::Unknown(format!("unknown variant `{other}`"))),
        };
        message.checked()
    }
}

impl OwnCosts {
    /// `GET /api/my`.
    pub fn read(value: &impl Value) -> Result<OwnCosts, Unreadable> {
        let o = object(value, "the customer's costs")?;
        Ok(OwnCosts {
            id: o.text("id")?,
            name: o.text("name")?,
            domain: o.text("domain")?,
            partner_name: o.maybe_text("partnerName")?,
            currency: o.maybe_text("currency")?,
            month_to_date: o.integer("monthToDate")?,
            last_month: o.integer("lastMonth")?,
            forecast: o.integer("forecast")?,
            as_of: o.day("asOf")?,
            azure_subscriptions: o
                .list("azureSubscriptions", |v| {
                    let s = object(v, "a subscription")?;
                    Ok(AzureSubscription {
                        id: s.text("id")?,
                        name: s.text("name")?,
                        status: s.text("status")?,
                    })
                })?
                .ok_or_else(|| Unreadable("missing field `azureSubscriptions`".into()))?,
        })
    }
}

impl SessionInfo {
    /// `GET /api/session` when someone is signed in.
    pub fn read(value: &impl Value) -> Result<SessionInfo, Unreadable> {
        let o = object(value, "the session")?;
        let role = |v: &_| {
            match Value::text(v).as_deref() {
                Some("globalAdmin") => Some(Role::GlobalAdmin),
                Some("adminAgent") => Some(Role::AdminAgent),
                Some("billingAdmin") => Some(Role::BillingAdmin),
                Some("salesAgent") => Some(Role::SalesAgent),
                _ => None,
            }
            .ok_or_else(|| Unreadable("expected a role".into()))
        };
        Ok(SessionInfo {
            user_name: o.text("userName")?,
            display_name: o.text("displayName")?,
            roles: o
                .list("roles", role)?
                .ok_or_else(|| Unreadable("missing field `roles`".into()))?,
            can_manage: o.flag("canManage")?,
            roles_message: o.maybe_text("rolesMessage")?,
            tenant_id: o.text("tenantId")?,
            partner_name: o.maybe_text("partnerName")?,
            connected: o.flag("connected")?,
            trial: o.optional("trial", "the trial", |v| {
                let t = object(v, "the trial").ok()?;
                Some(TrialInfo {
                    started_at: t.text("startedAt").ok()?,
                    ends_at: t.text("endsAt").ok()?,
                    days_left: t.integer("daysLeft").ok()?,
                    ended: t.flag("ended").ok()?,
                    activated: t.flag("activated").ok()?,
                })
            })?,
            customer: o.optional("customer", "the customer", |v| {
                let c = object(v, "the customer").ok()?;
                Some(SessionCustomer {
                    id: c.text("id").ok()?,
                    name: c.text("name").ok()?,
                })
            })?,
            as_of: o.day("asOf")?,
        })
    }
}

impl ErrorBody {
    /// Any `/api` error.
    pub fn read(value: &impl Value) -> Result<ErrorBody, Unreadable> {
        let o = object(value, "the error")?;
        let detail = o.required("error", "the error", |v| {
            let d = object(v, "the error").ok()?;
            Some(ErrorDetail {
                code: ErrorCode::parse(&d.text("code").ok()?),
                message: d.text("message").ok()?,
            })
        })?;
        Ok(ErrorBody { error: detail })
    }
}

/// serde_json's values, for the tests that hold the readers to serde.
#[cfg(test)]
impl Value for serde_json::Value {
    fn member(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key).cloned()
    }
    fn is_null(&self) -> bool {
        serde_json::Value::is_null(self)
    }
    fn text(&self) -> Option<String> {
        self.as_str().map(str::to_string)
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn flag(&self) -> Option<bool> {
        self.as_bool()
    }
    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
    fn keys(&self) -> Option<Vec<String>> {
        Some(self.as_object()?.keys().cloned().collect())
    }
}

#[cfg(test)]
mod tests;
