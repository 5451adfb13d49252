//! Alerts: every few minutes each connected partner's events are looked for
//! (`model::alerts` says which the store's figures make), recorded once per
//! occurrence, and turned into messages in the outbox in the same
//! transaction; a sender sends what is due, retrying with backoff.

use std::time::Duration;

use chrono::{DateTime, Utc};
use model::alerts::message::{WebhookShape, mail, webhook_body};
use model::alerts::rules::{Channel, Rule};
use model::alerts::{self as found, Event, KeyInUse};

use crate::config::Config;
use crate::crypto;
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::PartnerId;
use crate::store::alerts::NewDelivery;

mod reports;
mod send;

pub use send::{Smtp, SmtpSecurity, send_due, signature};

/// Attempts at one message before it is given up.
pub const ATTEMPTS: u32 = 8;
/// Syncs looked at for failing stretches.
const SYNC_HISTORY_DAYS: i64 = 30;

/// How the proxy sends alerts.
pub struct Alerts {
    pub smtp: Option<Smtp>,
    /// Where messages send people to see more.
    pub app_url: String,
    pub check_every: Duration,
    pub retry_after: Duration,
    /// Whether webhooks may go to this machine or a private network.
    pub local_webhooks: bool,
    webhooks: reqwest::Client,
}

/// Why alerts could not be set up or an event not recorded.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("{0}")]
    Settings(String),
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("figures: {0}")]
    Report(#[from] crate::reports::ReportError),
}

impl Alerts {
    pub fn new(config: &Config) -> Result<Alerts, AlertError> {
        let smtp = match &config.smtp_host {
            Some(host) if !host.trim().is_empty() => Some(Smtp::new(
                host.trim(),
                config.smtp_port,
                SmtpSecurity::parse(&config.smtp_security).ok_or_else(|| {
                    AlertError::Settings(format!(
                        "--smtp-security must be starttls, tls or none, not {}",
                        config.smtp_security
                    ))
                })?,
                &config.smtp_from,
                config.smtp_ca_file.as_deref(),
                std::env::var("PROXY_SMTP_USER")
                    .ok()
                    .filter(|u| !u.is_empty()),
                std::env::var("PROXY_SMTP_PASSWORD")
                    .ok()
                    .filter(|p| !p.is_empty())
                    .map(Secret::new),
            )?),
            _ => None,
        };
        let app_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{}", config.host, config.port));
        Ok(Alerts {
            smtp,
            app_url,
            check_every: Duration::from_secs(config.alert_check_seconds.max(1)),
            retry_after: Duration::from_secs(config.alert_retry_seconds),
            local_webhooks: config.alert_local_webhooks,
            webhooks: send::webhook_client(),
        })
    }

    /// The wait before attempt `n + 1` after `n` failed ones, or none once
    /// they are all spent.
    pub fn backoff(&self, failed: u32) -> Option<Duration> {
        (failed < ATTEMPTS).then(|| {
            let doubled = self
                .retry_after
                .saturating_mul(1 << failed.saturating_sub(1).min(16));
            doubled.min(Duration::from_secs(3600))
        })
    }
}

/// The message `rule` gets for `event`.
pub fn message_for(event: &Event, rule: &Rule, app_url: &str) -> NewDelivery {
    let locale = rule.locale();
    // A customer's user is sent to its own view, and only its own message.
    let (target, link) = match (rule.channel, event.customer_user()) {
        (Channel::CustomerUsers, Some(user)) => (
            user.to_string(),
            format!("{}/my", app_url.trim_end_matches('/')),
        ),
        _ => (rule.target.clone(), app_url.to_string()),
    };
    let m = mail(event, locale, &link);
    let (body, html) = match rule.channel {
        Channel::Email | Channel::CustomerUsers => (m.text, m.html),
        Channel::Webhook => (
            webhook_body(event, rule.shape, locale, app_url).to_string(),
            String::new(),
        ),
    };
    NewDelivery {
        event_key: event.key.clone(),
        kind: event.kind(),
        rule_id: rule.id,
        channel: rule.channel,
        target,
        subject: m.subject,
        body,
        html,
    }
}

/// The messages new events make with the partner's rules.
pub fn plan(new: &[Event], rules: &[Rule], app_url: &str) -> Vec<NewDelivery> {
    found::worth_sending(new)
        .into_iter()
        .flat_map(|e| {
            rules
                .iter()
                .filter(|r| r.wants(e))
                .map(move |r| message_for(e, r, app_url))
        })
        .collect()
}

/// Looks for the partner's events now; returns the new ones.
pub async fn detect(state: &AppState, partner: PartnerId) -> Result<Vec<Event>, AlertError> {
    detect_at(state, partner, Utc::now()).await
}

/// Looks for the partner's events as of `now`.
pub async fn detect_at(
    state: &AppState,
    partner: PartnerId,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, AlertError> {
    let mut events = Vec::new();
    let kept = crate::reports::kept(&state.store, partner).await?;
    let list = &kept.summaries.customers;
    let users = state.store.all_customer_users(partner).await?;
    if let Some(as_of) = list.as_of {
        events.extend(found::customer_events(&list.customers, as_of));
        events.extend(found::reports::customer_budget_events(
            &list.customers,
            &users,
            as_of,
        ));
        events.extend(found::credit_events(
            &lost_credit(state, partner, as_of).await?.customers,
            as_of,
        ));
    }
    if let Some(connection) = state.connection_of(partner).await
        && let Some(key) = state
            .store
            .key_by_value_hash(
                partner,
                &crypto::digest(connection.credentials.secret.expose()),
            )
            .await?
        && key.revoked_at.is_none()
    {
        events.extend(found::key_events(
            &[KeyInUse {
                key_id: key.key_id,
                name: key.display_name,
                expires_at: key.expires_at,
            }],
            now,
        ));
    }
    let hours = state.store.sync_failing_hours(partner).await?;
    let runs = state
        .store
        .sync_outcomes(partner, now - chrono::Duration::days(SYNC_HISTORY_DAYS))
        .await?;
    events.extend(found::sync_events(
        &runs,
        now,
        chrono::Duration::hours(i64::from(hours)),
    ));
    let synced = runs.iter().any(|r| r.failure.is_none());
    events.extend(
        reports::due_reports(
            state,
            partner,
            now,
            synced,
            (&list.customers, list.as_of),
            &users,
        )
        .await?,
    );
    if let Some(o) = state.store.onboarding(partner).await?
        && !o.activated
    {
        events.extend(found::trial_events(
            o.trial_ends_at.map(|t| t.date_naive()),
            now.date_naive(),
        ));
    }
    let app_url = state.alerts.app_url.clone();
    Ok(state
        .store
        .record_events(partner, &events, |new, rules| plan(new, rules, &app_url))
        .await?)
}

/// This month's margin by customer, partner-earned credit lost included:
/// worked out again only after the lines change (a sync), not at each look.
async fn lost_credit(
    state: &AppState,
    partner: PartnerId,
    as_of: chrono::NaiveDate,
) -> Result<std::sync::Arc<model::margin::MarginReport>, sqlx::Error> {
    let scope = crate::store::Scope {
        customer: None,
        from: chrono::Datelike::with_day(&as_of, 1).unwrap_or(as_of),
        to: as_of,
    };
    state
        .store
        .memo_lines(partner, "alerts-lost-credit", || async {
            let _turn = state.web.heavy_reads.turn(partner.0).await;
            crate::reports::margin_report(&state.store, partner, &scope).await
        })
        .await
}

/// Looks for every connected partner's events every `check_every`, and
/// sends what is due meanwhile. Runs for the life of the process.
pub fn start(state: AppState) {
    let watcher = state.clone();
    tokio::spawn(async move {
        loop {
            for c in watcher.connections.all(&watcher.store).await {
                match detect(&watcher, c.partner).await {
                    Ok(new) if !new.is_empty() => {
                        tracing::info!(
                            partner = c.partner.0,
                            events = new.len(),
                            "alert events found"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(partner = c.partner.0, error = %e, "alert events not looked for")
                    }
                }
            }
            tokio::time::sleep(watcher.alerts.check_every).await;
        }
    });
    tokio::spawn(send::sender(state));
}

/// A fresh signing key for a generic webhook and its sealed form.
pub fn signing_key(state: &AppState, partner: PartnerId) -> (String, String) {
    let key = crypto::random_token();
    let sealed = state
        .sealer
        .seal(&Secret::new(key.clone()), &seal_context(partner));
    (key, sealed)
}

fn seal_context(partner: PartnerId) -> String {
    format!("alert-webhook:{}", partner.0)
}

/// Whether a webhook address names this machine or a private network by
/// its address (`localhost`, `127.0.0.1`, `10.…`, `192.168.…`, `fd…`). A
/// name that resolves to one is not caught here: that needs the resolver.
pub fn local_address(target: &str) -> bool {
    use std::net::IpAddr;
    let Some(host) = reqwest::Url::parse(target)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    else {
        return true;
    };
    let host = host.trim_end_matches('.');
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
        }
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_unique_local()
                || ip.is_unicast_link_local()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private())
        }
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// Whether a rule's messages are signed.
pub fn signed(shape: WebhookShape, channel: Channel) -> bool {
    channel == Channel::Webhook && shape == WebhookShape::Generic
}

impl Alerts {
    pub(crate) fn webhooks(&self) -> &reqwest::Client {
        &self.webhooks
    }
}
