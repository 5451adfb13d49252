//! Alert rules as the Settings page and `/api/alerts` speak of them: which
//! events go where, checked before they are kept.

use serde::{Deserialize, Serialize};

use super::message::WebhookShape;
use super::{Event, EventKind};
use crate::i18n::Locale;

/// Where a rule sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Email,
    Webhook,
    /// E-mail to each invited user of the event's customer, the only
    /// channel of the events meant for them.
    CustomerUsers,
}

/// A rule as asked for (`POST /api/alerts/rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRule {
    pub events: Vec<EventKind>,
    /// One customer's events only; none: every customer's.
    #[serde(default)]
    pub customer_id: Option<String>,
    pub channel: Channel,
    /// An e-mail address, or the webhook's `https://` address (none for
    /// a customer's users: each message goes to its own user).
    #[serde(default)]
    pub target: String,
    #[serde(default = "generic")]
    pub shape: WebhookShape,
    /// `en` or `zh-TW`.
    #[serde(default = "english")]
    pub language: String,
}

fn generic() -> WebhookShape {
    WebhookShape::Generic
}

fn english() -> String {
    "en".into()
}

/// A kept rule (`GET /api/alerts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: i64,
    pub events: Vec<EventKind>,
    pub customer_id: Option<String>,
    pub channel: Channel,
    pub target: String,
    pub shape: WebhookShape,
    pub language: String,
    pub created_by: String,
    pub created_at: String,
}

/// A rule just made: a generic webhook's signing secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MadeRule {
    pub rule: Rule,
    pub signing_secret: Option<String>,
}

impl Rule {
    /// Whether the rule asks for `event`.
    pub fn wants(&self, event: &Event) -> bool {
        let kind = event.kind();
        if kind == EventKind::Test {
            return false;
        }
        if !self.events.contains(&kind)
            || kind.to_customer_users() != (self.channel == Channel::CustomerUsers)
        {
            return false;
        }
        match (&self.customer_id, event.customer()) {
            (None, _) => true,
            (Some(one), Some(about)) => *one == about.id,
            // A rule for one customer hears only of that customer.
            (Some(_), None) => false,
        }
    }

    pub fn locale(&self) -> Locale {
        Locale::parse(&self.language).unwrap_or_default()
    }
}

/// Whether an address looks like one a mail server takes: one `@`, a local
/// part, a domain with a dot, nothing (spaces, brackets, commas) that would
/// let a header name more than this one mailbox.
fn mail_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\'
                )
        })
        && text.len() <= 254
}

/// Whether a webhook address is one the proxy posts to: `https://`, or
/// `http://` to this machine only (a receiver under test, a local relay).
/// Read by hand: the browser shares this crate, and a URL parser would add
/// its weight to the first load.
fn webhook_address(text: &str) -> bool {
    let (secure, rest) = match (text.strip_prefix("https://"), text.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // No user or password in the address, and a host.
    if authority.contains('@') || authority.is_empty() || text.chars().any(|c| c.is_whitespace()) {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    !host.is_empty() && (secure || loopback) && text.len() <= 2000
}

/// A rule's target as the app and the log show it. A webhook's address is
/// its credential (Slack's and Teams' carry their token in the path or the
/// query): once kept, only its scheme, host and last four characters are
/// shown, enough to tell rules apart. An e-mail address is shown whole.
pub fn shown_target(channel: Channel, target: &str) -> String {
    if channel != Channel::Webhook {
        return target.to_string();
    }
    let Some(after) = target.find("://").map(|i| i + 3) else {
        return "…".into();
    };
    let host_end = target[after..]
        .find(['/', '?', '#'])
        .map_or(target.len(), |i| after + i);
    let rest: Vec<char> = target[host_end..].chars().collect();
    if rest.len() <= 1 {
        return target.to_string();
    }
    let tail: String = rest[rest.len().saturating_sub(4)..].iter().collect();
    format!("{}/…{tail}", &target[..host_end])
}

impl NewRule {
    /// The rule as kept, trimmed; or why it cannot be (in the words shown).
    pub fn checked(mut self) -> Result<NewRule, String> {
        self.target = self.target.trim().to_string();
        self.events.sort();
        self.events.dedup();
        if self.events.is_empty() {
            return Err("Choose at least one event.".into());
        }
        if self.events.contains(&EventKind::Test) {
            return Err("A test message is sent from its rule, not chosen as an event.".into());
        }
        if Locale::parse(&self.language).is_none() {
            return Err(format!(
                "The language must be en or zh-TW, not \u{201c}{}\u{201d}.",
                self.language.chars().take(20).collect::<String>()
            ));
        }
        self.language = Locale::parse(&self.language)
            .unwrap_or_default()
            .tag()
            .into();
        if let Some(c) = &self.customer_id {
            if c.trim().is_empty() {
                self.customer_id = None;
            } else if !self.events.iter().any(|e| e.of_customer()) {
                return Err(
                    "A rule for one customer needs an event about customers (budget, anomaly or margin)."
                        .into(),
                );
            }
        }
        let for_users = self.events.iter().filter(|e| e.to_customer_users()).count();
        if self.channel == Channel::CustomerUsers {
            if for_users < self.events.len() {
                return Err(
                    "A customer's users can be sent their own budget and monthly report only."
                        .into(),
                );
            }
            self.target.clear();
        } else if for_users > 0 {
            return Err(
                "A customer's own budget and report go to the customer's invited users only."
                    .into(),
            );
        }
        match self.channel {
            Channel::Email if !mail_address(&self.target) => Err(format!(
                "\u{201c}{}\u{201d} is not an e-mail address.",
                self.target.chars().take(80).collect::<String>()
            )),
            Channel::Webhook if !webhook_address(&self.target) => Err(format!(
                "A webhook address must start with https:// (http:// only to this machine), not \u{201c}{}\u{201d}.",
                self.target.chars().take(80).collect::<String>()
            )),
            _ => Ok(self),
        }
    }
}

/// One try at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub at: String,
    pub ok: bool,
    /// `250 OK`, `HTTP 500`, `connection refused`.
    pub result: String,
}

/// A message in the delivery log (`GET /api/alerts/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: i64,
    pub rule_id: i64,
    pub event: EventKind,
    pub channel: Channel,
    pub target: String,
    pub subject: String,
    /// `pending`, `sent` or `failed` (given up).
    pub status: String,
    pub created_at: String,
    pub attempts: Vec<Attempt>,
}

/// `GET /api/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSettings {
    pub rules: Vec<Rule>,
    /// Whether the proxy has an SMTP server to send e-mail through.
    pub email: bool,
    /// Hours of failed syncs before `sync-failing` (default 6).
    pub sync_failing_hours: u32,
}

/// `PUT /api/alerts/settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSettingsUpdate {
    pub sync_failing_hours: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(channel: Channel, target: &str) -> NewRule {
        NewRule {
            events: vec![EventKind::BudgetThreshold],
            customer_id: None,
            channel,
            target: target.into(),
            shape: WebhookShape::Generic,
            language: "en".into(),
        }
    }

    #[test]
    fn addresses_are_checked_before_a_rule_is_kept() {
        for ok in ["ann@contoso.com", " ops+costs@fabrikam.onmicrosoft.com "] {
            assert!(rule(Channel::Email, ok).checked().is_ok(), "{ok}");
        }
        for bad in [
            "ann",
            "ann@localhost",
            "a@b@c.com",
            "ann@contoso.com\r\nBcc: x@y.com",
            "Ann <ann@contoso.com>",
            "ann@contoso.com, bob@contoso.com",
        ] {
            assert!(rule(Channel::Email, bad).checked().is_err(), "{bad}");
        }
        for ok in [
            "https://prod-00.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=x",
            "https://hooks.slack.com/services/T0/B0/x",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
        ] {
            assert!(rule(Channel::Webhook, ok).checked().is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example/x",
            "ftp://x.example/",
            "https://user:pw@x.example/",
            "hooks.slack.com",
        ] {
            assert!(rule(Channel::Webhook, bad).checked().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rule_without_events_or_with_an_unknown_language_is_refused() {
        let mut r = rule(Channel::Email, "ann@contoso.com");
        r.events.clear();
        assert_eq!(r.checked().unwrap_err(), "Choose at least one event.");
        let mut r = rule(Channel::Email, "ann@contoso.com");
        r.language = "fr".into();
        assert!(r.checked().unwrap_err().contains("en or zh-TW"));
        let mut r = rule(Channel::Email, "ann@contoso.com");
        r.language = "zh-Hant".into();
        assert_eq!(r.checked().unwrap().language, "zh-TW");
    }

    #[test]
    fn a_kept_webhooks_address_is_shown_without_its_token() {
        let slack = "https://hooks.slack.com/services/T0AAA/B0BBB/XyZsecretToken9";
        assert_eq!(
            shown_target(Channel::Webhook, slack),
            "https://hooks.slack.com/…ken9"
        );
        let teams = "https://prod-00.westus.logic.azure.com:443/workflows/1/triggers/manual/paths/invoke?api-version=2016-06-01&sig=AbCdEfSecret";
        let shown = shown_target(Channel::Webhook, teams);
        assert_eq!(shown, "https://prod-00.westus.logic.azure.com:443/…cret");
        assert!(!shown.contains("AbCdEf"));
        assert_eq!(
            shown_target(Channel::Webhook, "https://hooks.example"),
            "https://hooks.example"
        );
        assert_eq!(
            shown_target(Channel::Email, "ann@contoso.com"),
            "ann@contoso.com"
        );
    }

    #[test]
    fn a_customers_own_events_go_to_its_users_and_nothing_else_does() {
        let mut own = rule(Channel::CustomerUsers, "ignored@x.example");
        own.events = vec![EventKind::CustomerBudget, EventKind::CustomerReport];
        let kept = own.clone().checked().unwrap();
        assert_eq!(kept.target, "", "each message goes to its own user");
        own.events.push(EventKind::KeyExpiry);
        assert!(
            own.checked()
                .unwrap_err()
                .contains("own budget and monthly report only")
        );
        let mut by_mail = rule(Channel::Email, "ann@contoso.com");
        by_mail.events = vec![EventKind::CustomerReport];
        assert!(
            by_mail
                .checked()
                .unwrap_err()
                .contains("invited users only")
        );
    }

    #[test]
    fn a_rule_for_one_customer_hears_of_that_customer_only() {
        use crate::alerts::{AboutCustomer, Facts};
        let budget = |id: &str| Event {
            key: format!("budget:{id}:2026-11:80"),
            facts: Facts::BudgetThreshold {
                customer: AboutCustomer {
                    id: id.into(),
                    name: id.into(),
                    currency: "USD".into(),
                },
                month: "2026-11".into(),
                threshold: 80,
                budget: 1,
                month_to_date: 1,
            },
        };
        let key = Event {
            key: "key:k:7".into(),
            facts: Facts::KeyExpiry {
                key_name: "k".into(),
                expires: "2026-12-10".parse().unwrap(),
                days: 7,
            },
        };
        let r = Rule {
            id: 1,
            events: vec![EventKind::BudgetThreshold, EventKind::KeyExpiry],
            customer_id: Some("a".into()),
            channel: Channel::Email,
            target: "ann@contoso.com".into(),
            shape: WebhookShape::Generic,
            language: "en".into(),
            created_by: "ann".into(),
            created_at: "".into(),
        };
        assert!(r.wants(&budget("a")));
        assert!(!r.wants(&budget("b")));
        assert!(!r.wants(&key));
        let every = Rule {
            customer_id: None,
            ..r
        };
        assert!(every.wants(&budget("b")) && every.wants(&key));
    }
}
