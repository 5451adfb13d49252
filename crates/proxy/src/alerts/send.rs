//! Sending the outbox: e-mail through the configured SMTP server, webhooks
//! by POST (a generic one signed with HMAC-SHA256). Each attempt is
//! recorded; a failed one is tried again after a backoff, eight times.
//!
//! A message is marked sent once its server or receiver took it. A proxy
//! killed in between sends it again after its restart: at least once, and
//! each delivery carries its own ID (`Message-ID`, `X-Csp-Costs-Delivery`)
//! for a receiver to recognise a repeat.

use std::time::Duration;

use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use ring::hmac;

use super::{AlertError, seal_context};
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::alerts::Due;
use model::alerts::Facts;
use model::alerts::message::escape_html;
use model::alerts::reports::attachment_note;
use model::alerts::rules::Channel;
use model::i18n::Locale;

/// An e-mail as sent: the outbox's text, and a report's line items.
struct Outgoing {
    text: String,
    html: String,
    /// The file's name and its CSV.
    file: Option<(String, String)>,
}

/// How the sender looks for due messages when there are none.
const IDLE: Duration = Duration::from_secs(1);
/// One webhook or SMTP exchange at most.
const EXCHANGE: Duration = Duration::from_secs(20);

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain, then `STARTTLS` before anything else (required).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: a relay on this machine, or a test server.
    None,
}

impl SmtpSecurity {
    pub fn parse(text: &str) -> Option<SmtpSecurity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" => Some(SmtpSecurity::Tls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }
}

/// The SMTP server and the sender.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain message IDs are made in.
    domain: String,
}

impl Smtp {
    pub fn new(
        host: &str,
        port: u16,
        security: SmtpSecurity,
        from: &str,
        ca_file: Option<&std::path::Path>,
        user: Option<String>,
        password: Option<Secret>,
    ) -> Result<Smtp, AlertError> {
        let bad = |e: lettre::transport::smtp::Error| {
            AlertError::Settings(format!("SMTP server {host}: {e}"))
        };
        // The system's roots, and the operator's CA when there is one.
        let mut tls = TlsParameters::builder(host.to_string());
        if let Some(path) = ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                AlertError::Settings(format!("--smtp-ca-file {}: {e}", path.display()))
            })?;
            let ca = Certificate::from_pem(&pem).map_err(|e| {
                AlertError::Settings(format!(
                    "--smtp-ca-file {} holds no PEM certificate: {e}",
                    path.display()
                ))
            })?;
            tls = tls.add_root_certificate(ca);
        }
        // "Dangerous": no TLS unless set, which it is just below.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
        let builder = match security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls.build_rustls().map_err(bad)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls.build_rustls().map_err(bad)?)),
            SmtpSecurity::None => builder,
        };
        let mut builder = builder.port(port).timeout(Some(EXCHANGE));
        if let Some(user) = user {
            let password = password.map(|p| p.expose().to_string()).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user, password));
        }
        let from: Mailbox = from.parse().map_err(|e| {
            AlertError::Settings(format!("--smtp-from '{from}' is not a mailbox: {e}"))
        })?;
        let domain = from.email.domain().to_string();
        Ok(Smtp {
            transport: builder.build(),
            from,
            domain,
        })
    }

    async fn send(&self, due: &Due, outgoing: Outgoing) -> Result<String, String> {
        let to: Mailbox = due
            .target
            .parse()
            .map_err(|e| format!("the address does not read: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(due.subject.clone())
            .message_id(Some(format!(
                "<alert-{}-{}@{}>",
                due.partner.0, due.id, self.domain
            )))
            .multipart({
                let parts = MultiPart::alternative_plain_html(outgoing.text, outgoing.html);
                match outgoing.file {
                    Some((name, csv)) => MultiPart::mixed().multipart(parts).singlepart(
                        Attachment::new(name).body(
                            csv,
                            ContentType::parse("text/csv; charset=utf-8")
                                .unwrap_or(ContentType::TEXT_PLAIN),
                        ),
                    ),
                    None => parts,
                }
            })
            .map_err(|e| format!("the message could not be written: {e}"))?;
        let response = self
            .transport
            .send(message)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "{} {}",
            response.code(),
            response.first_line().unwrap_or("")
        )
        .trim()
        .to_string())
    }
}

/// The client webhooks are posted with: no redirects (a receiver cannot
/// send the proxy elsewhere), a bounded exchange.
pub fn webhook_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(EXCHANGE)
        .build()
        .expect("a client with these settings builds")
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}`: what a
/// receiver computes with the rule's signing key to know the body is ours
/// and recent.
pub fn signature(key: &str, timestamp: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    let tag = hmac::sign(&key, format!("{timestamp}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

async fn post(state: &AppState, due: &Due) -> Result<String, String> {
    // A rule made while the operator allowed it, sent after they stopped.
    if !state.alerts.local_webhooks && super::local_address(&due.target) {
        return Err("webhooks to this machine or a private network are off".into());
    }
    let mut request = state
        .alerts
        .webhooks()
        .post(&due.target)
        .header("Content-Type", "application/json")
        .header("X-Csp-Costs-Delivery", due.id.to_string());
    // A rule removed after its message was written: never sent unsigned.
    let secret = state
        .store
        .alert_rule_secret(due.partner, due.rule_id)
        .await
        .map_err(|e| format!("store: {e}"))?
        .ok_or("the rule was removed")?;
    if let Some(sealed) = secret.sealed {
        let key = state
            .sealer
            .open(&sealed, &seal_context(due.partner))
            .map_err(|e| format!("the signing key does not open: {e}"))?;
        let timestamp = Utc::now().timestamp();
        request = request
            .header("X-Csp-Costs-Timestamp", timestamp.to_string())
            .header(
                "X-Csp-Costs-Signature",
                signature(key.expose(), timestamp, &due.body),
            );
    }
    let response = request.body(due.body.clone()).send().await.map_err(|e| {
        if e.is_timeout() {
            "the receiver did not answer in time".to_string()
        } else if e.is_connect() {
            "the receiver could not be reached".to_string()
        } else {
            format!("the request failed: {}", e.without_url())
        }
    })?;
    let status = response.status();
    if status.is_success() {
        Ok(format!("HTTP {}", status.as_u16()))
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

/// The e-mail of a delivery: a report's gets its line items attached, or
/// where to download them when they are too large to mail.
async fn outgoing(state: &AppState, due: &Due, facts: Option<&Facts>) -> Result<Outgoing, String> {
    let mut out = Outgoing {
        text: due.body.clone(),
        html: due.html.clone(),
        file: None,
    };
    let Some(facts) = facts.filter(|_| due.kind.is_some_and(|k| k.with_line_items())) else {
        return Ok(out);
    };
    let store = |e: sqlx::Error| format!("store: {e}");
    let Some(file) = super::reports::line_items_file(state, due.partner, facts)
        .await
        .map_err(store)?
    else {
        return Ok(out);
    };
    let locale = state
        .store
        .alert_rule_secret(due.partner, due.rule_id)
        .await
        .map_err(store)?
        .and_then(|r| Locale::parse(&r.language))
        .unwrap_or_default();
    let app = state.alerts.app_url.trim_end_matches('/');
    let link = match due.channel {
        Channel::CustomerUsers => format!("{app}/my"),
        _ => app.to_string(),
    };
    let note = attachment_note(locale, &file.name, file.csv.is_some(), &link);
    out.text = format!("{}\n{note}\n", out.text);
    out.html = out.html.replace(
        "</body>",
        &format!("<p>{}</p>\n</body>", escape_html(&note)),
    );
    out.file = file.csv.map(|csv| (file.name, csv));
    Ok(out)
}

async fn attempt(state: &AppState, due: &Due, facts: Option<&Facts>) -> Result<String, String> {
    match due.channel {
        Channel::Email | Channel::CustomerUsers => match &state.alerts.smtp {
            Some(smtp) => smtp.send(due, outgoing(state, due, facts).await?).await,
            None => Err("no SMTP server is configured (PROXY_SMTP_HOST)".into()),
        },
        Channel::Webhook => post(state, due).await,
    }
}

/// Why a customer's user may no longer be sent its message: the partner
/// took back the invitation after the message was written.
async fn withdrawn(
    state: &AppState,
    due: &Due,
    facts: Option<&Facts>,
) -> Result<Option<String>, sqlx::Error> {
    // A test message has no recorded event: it goes to the manager.
    let Some(facts) = facts.filter(|_| due.channel == Channel::CustomerUsers) else {
        return Ok(None);
    };
    let event = model::alerts::Event {
        key: due.event_key.clone(),
        facts: facts.clone(),
    };
    let (Some(customer), Some(user)) = (event.customer(), event.customer_user()) else {
        return Ok(None);
    };
    let invited = state
        .store
        .customer_users(due.partner, &customer.id)
        .await?;
    Ok((!invited.iter().any(|u| u.user_name == user))
        .then(|| "the user is no longer invited to the customer's view".to_string()))
}

/// How long a message taken for sending is left to its sender before it is
/// due again (the sender died): longer than an attempt can take.
const CLAIMED_FOR: chrono::Duration = chrono::Duration::minutes(5);

/// Sends what is due now, once each; returns how many were tried.
pub async fn send_due(state: &AppState) -> Result<usize, sqlx::Error> {
    let due = state.store.due_deliveries(Utc::now(), 20).await?;
    for d in &due {
        // Replicas share the outbox: each message goes out from one.
        if !state
            .store
            .claim_delivery(d, Utc::now() + CLAIMED_FOR)
            .await?
        {
            continue;
        }
        // The event's facts, read once when sending needs them: whether a
        // customer's user is still invited, a report's line items.
        let facts =
            if d.channel == Channel::CustomerUsers || d.kind.is_some_and(|k| k.with_line_items()) {
                state.store.event_facts(d.partner, &d.event_key).await?
            } else {
                None
            };
        let facts = facts.as_ref();
        if let Some(reason) = withdrawn(state, d, facts).await? {
            // Given up at once: no later attempt would be allowed either.
            state.store.attempted(d.id, false, &reason, None).await?;
            continue;
        }
        let (ok, result) = match attempt(state, d, facts).await {
            Ok(result) => (true, result),
            Err(result) => (false, result),
        };
        let retry = if ok {
            None
        } else {
            state
                .alerts
                .backoff(d.attempts + 1)
                .and_then(|wait| chrono::Duration::from_std(wait).ok())
                .map(|wait| Utc::now() + wait)
        };
        if !ok {
            tracing::info!(delivery = d.id, %result, will_retry = retry.is_some(), "an alert was not delivered");
        }
        state.store.attempted(d.id, ok, &result, retry).await?;
    }
    Ok(due.len())
}

/// Sends what is due, for the life of the process.
pub(super) async fn sender(state: AppState) {
    loop {
        match send_due(&state).await {
            Ok(0) => tokio::time::sleep(IDLE).await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the outbox could not be read or written");
                tokio::time::sleep(IDLE).await;
            }
        }
    }
}
