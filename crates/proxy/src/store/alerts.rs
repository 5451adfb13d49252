//! Alert rules, the events found (each occurrence once, by its key) and the
//! outbox of messages with every attempt at sending them.

use chrono::{DateTime, Utc};
use model::alerts::message::WebhookShape;
use model::alerts::rules::{Attempt, Channel, Delivery, NewRule, Rule};
use model::alerts::{Event, EventKind, RunOutcome};

use super::{PartnerId, Store, now, stamp, time};

/// Hours of failed syncs before the alert, until a manager sets otherwise.
pub const SYNC_FAILING_HOURS: u32 = 6;

/// A message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub event_key: String,
    pub kind: EventKind,
    pub rule_id: i64,
    pub channel: Channel,
    pub target: String,
    pub subject: String,
    pub body: String,
    pub html: String,
}

/// A message due to be sent.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub partner: PartnerId,
    pub event_key: String,
    pub kind: Option<EventKind>,
    pub rule_id: i64,
    pub channel: Channel,
    pub target: String,
    pub subject: String,
    pub body: String,
    pub html: String,
    pub attempts: u32,
    /// When it was due, as stored: the sender claims it at that value.
    pub due_at: String,
}

/// A rule with its sealed signing key, for the sender.
#[derive(Debug, Clone)]
pub struct RuleSecret {
    pub sealed: Option<String>,
    pub language: String,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    events: String,
    customer_id: Option<String>,
    channel: String,
    target: String,
    shape: String,
    language: String,
    created_by: String,
    created_at: String,
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Email => "email",
        Channel::Webhook => "webhook",
        Channel::CustomerUsers => "customer-users",
    }
}

fn channel_of(name: &str) -> Channel {
    match name {
        "email" => Channel::Email,
        "customer-users" => Channel::CustomerUsers,
        _ => Channel::Webhook,
    }
}

fn shape_name(s: WebhookShape) -> &'static str {
    match s {
        WebhookShape::Generic => "generic",
        WebhookShape::Teams => "teams",
        WebhookShape::Slack => "slack",
    }
}

fn shape_of(name: &str) -> WebhookShape {
    match name {
        "teams" => WebhookShape::Teams,
        "slack" => WebhookShape::Slack,
        _ => WebhookShape::Generic,
    }
}

impl From<RuleRow> for Rule {
    fn from(r: RuleRow) -> Rule {
        Rule {
            id: r.id,
            events: r.events.split(',').filter_map(EventKind::parse).collect(),
            customer_id: r.customer_id,
            channel: channel_of(&r.channel),
            target: r.target,
            shape: shape_of(&r.shape),
            language: r.language,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

impl Store {
    pub async fn alert_rules(&self, partner: PartnerId) -> Result<Vec<Rule>, sqlx::Error> {
        let rows: Vec<RuleRow> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, events, customer_id, channel, target, shape, language, created_by, created_at
             FROM alert_rules WHERE partner_id = ? ORDER BY id";
            .bind(partner)
            .fetch_all
        )?;
        Ok(rows.into_iter().map(Rule::from).collect())
    }

    /// Keeps a checked rule; `sealed_secret` signs a generic webhook's bodies.
    pub async fn add_alert_rule(
        &self,
        partner: PartnerId,
        rule: &NewRule,
        sealed_secret: Option<&str>,
        by: &str,
    ) -> Result<Rule, sqlx::Error> {
        let events: Vec<&str> = rule.events.iter().map(|e| e.name()).collect();
        let mut tx = self.write().await?;
        let row: RuleRow = sql!(
            query_as,
            tx.on(),
            "INSERT INTO alert_rules (partner_id, events, customer_id, channel, target, shape,
                 language, sealed_secret, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING id, events, customer_id, channel, target, shape, language, created_by, created_at";
            .bind(partner)
            .bind(events.join(","))
            .bind(&rule.customer_id)
            .bind(channel_name(rule.channel))
            .bind(&rule.target)
            .bind(shape_name(rule.shape))
            .bind(&rule.language)
            .bind(sealed_secret)
            .bind(by)
            .bind(now())
            .fetch_one
        )?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Removes a rule; its messages not yet sent are not sent.
    pub async fn remove_alert_rule(
        &self,
        partner: PartnerId,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.write().await?;
        let removed = sql!(
            execute,
            tx.on(),
            "DELETE FROM alert_rules WHERE partner_id = ? AND id = ?";
            .bind(partner)
            .bind(id)
        )?;
        sql!(
            execute,
            tx.on(),
            "UPDATE deliveries SET status = 'failed' WHERE partner_id = ? AND rule_id = ? AND status = 'pending'";
            .bind(partner)
            .bind(id)
        )?;
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// A rule's sealed signing key (none for e-mail, Teams and Slack).
    pub async fn alert_rule_secret(
        &self,
        partner: PartnerId,
        id: i64,
    ) -> Result<Option<RuleSecret>, sqlx::Error> {
        let row: Option<(Option<String>, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT sealed_secret, language FROM alert_rules WHERE partner_id = ? AND id = ?";
            .bind(partner)
            .bind(id)
            .fetch_optional
        )?;
        Ok(row.map(|(sealed, language)| RuleSecret { sealed, language }))
    }

    /// Whether an event's occurrence was recorded (a report made already).
    pub async fn event_recorded(&self, partner: PartnerId, key: &str) -> Result<bool, sqlx::Error> {
        // A literal 1 is a 32-bit integer in PostgreSQL.
        let row: Option<(i32,)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT 1 FROM alert_events WHERE partner_id = ? AND key = ?";
            .bind(partner)
            .bind(key)
            .fetch_optional
        )?;
        Ok(row.is_some())
    }

    /// A recorded event's facts (what a report's attachment is made for).
    pub async fn event_facts(
        &self,
        partner: PartnerId,
        key: &str,
    ) -> Result<Option<model::alerts::Facts>, sqlx::Error> {
        let row: Option<(String,)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT facts FROM alert_events WHERE partner_id = ? AND key = ?";
            .bind(partner)
            .bind(key)
            .fetch_optional
        )?;
        Ok(row.and_then(|(facts,)| serde_json::from_str(&facts).ok()))
    }

    /// Every customer's invited users: (customer ID, user name).
    pub async fn all_customer_users(
        &self,
        partner: PartnerId,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT customer_id, user_name FROM customer_users WHERE partner_id = ?
             ORDER BY customer_id, user_name";
            .bind(partner)
            .fetch_all
        )
    }

    /// Records the events not recorded before and, in the same transaction,
    /// the messages `plan` makes of the new ones with the partner's rules.
    /// Returns the new events.
    pub async fn record_events(
        &self,
        partner: PartnerId,
        events: &[Event],
        plan: impl FnOnce(&[Event], &[Rule]) -> Vec<NewDelivery>,
    ) -> Result<Vec<Event>, sqlx::Error> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let rules = self.alert_rules(partner).await?;
        let mut tx = self.write().await?;
        let found_at = now();
        let mut new = Vec::new();
        for e in events {
            let facts = serde_json::to_string(&e.facts).unwrap_or_default();
            let added = sql!(
                execute,
                tx.on(),
                "INSERT INTO alert_events (partner_id, key, kind, facts, found_at)
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (partner_id, key) DO NOTHING";
                .bind(partner)
                .bind(&e.key)
                .bind(e.kind().name())
                .bind(facts)
                .bind(&found_at)
            )?;
            if added > 0 {
                new.push(e.clone());
            }
        }
        let deliveries = plan(&new, &rules);
        insert_deliveries(&mut tx, partner, &deliveries, &found_at).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Puts messages in the outbox outside any event (a test message).
    pub async fn enqueue(
        &self,
        partner: PartnerId,
        deliveries: &[NewDelivery],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        insert_deliveries(&mut tx, partner, deliveries, &now()).await?;
        tx.commit().await
    }

    /// Messages whose next attempt is due, oldest first, every partner's.
    pub async fn due_deliveries(
        &self,
        at: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Due>, sqlx::Error> {
        type Row = (
            i64,
            i64,
            String,
            String,
            i64,
            String,
            String,
            String,
            String,
            String,
            i64,
            String,
        );
        let rows: Vec<Row> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, partner_id, event_key, kind, rule_id, channel, target, subject, body, html,
                 attempts, next_attempt_at
             FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
             ORDER BY next_attempt_at, id LIMIT ?";
            .bind(stamp(at))
            .bind(limit)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    partner,
                    event_key,
                    kind,
                    rule_id,
                    channel,
                    target,
                    subject,
                    body,
                    html,
                    attempts,
                    due_at,
                )| Due {
                    id,
                    partner: PartnerId(partner),
                    event_key,
                    kind: EventKind::parse(&kind),
                    rule_id,
                    channel: channel_of(&channel),
                    target,
                    subject,
                    body,
                    html,
                    attempts: attempts as u32,
                    due_at,
                },
            )
            .collect())
    }

    /// Takes a due message for this process to send, until `until`: false
    /// when another replica took it first (its due time moved on). A sender
    /// that dies mid-attempt leaves it due again at `until`.
    pub async fn claim_delivery(
        &self,
        due: &Due,
        until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        // No kept figure depends on the outbox.
        let claimed = sql!(
            execute,
            self.quiet_writer().await?.on(),
            "UPDATE deliveries SET next_attempt_at = ?
             WHERE id = ? AND status = 'pending' AND next_attempt_at = ?";
            .bind(stamp(until))
            .bind(due.id)
            .bind(&due.due_at)
        )?;
        Ok(claimed == 1)
    }

    /// Records an attempt: sent, tried again at `retry`, or given up.
    pub async fn attempted(
        &self,
        delivery: i64,
        ok: bool,
        result: &str,
        retry: Option<DateTime<Utc>>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        let at = now();
        sql!(
            execute,
            tx.on(),
            "INSERT INTO delivery_attempts (delivery_id, at, ok, result) VALUES (?, ?, ?, ?)";
            .bind(delivery)
            .bind(&at)
            .bind(i64::from(ok))
            .bind(result)
        )?;
        let (status, next) = match (ok, retry) {
            (true, _) => ("sent", at.clone()),
            (false, Some(retry)) => ("pending", stamp(retry)),
            (false, None) => ("failed", at.clone()),
        };
        sql!(
            execute,
            tx.on(),
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
                 sent_at = CASE WHEN ? = 1 THEN ? ELSE sent_at END
             WHERE id = ?";
            .bind(status)
            .bind(next)
            .bind(i64::from(ok))
            .bind(&at)
            .bind(delivery)
        )?;
        tx.commit().await
    }

    /// The partner's latest messages, newest first, with their attempts.
    pub async fn deliveries(
        &self,
        partner: PartnerId,
        limit: i64,
    ) -> Result<Vec<Delivery>, sqlx::Error> {
        type Row = (i64, i64, String, String, String, String, String, String);
        let rows: Vec<Row> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, rule_id, kind, channel, target, subject, status, created_at
             FROM deliveries WHERE partner_id = ? ORDER BY id DESC LIMIT ?";
            .bind(partner)
            .bind(limit)
            .fetch_all
        )?;
        // Every listed message's attempts in one read, not one read each.
        let attempts: Vec<(i64, String, i64, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT delivery_id, at, ok, result FROM delivery_attempts
             WHERE delivery_id IN (SELECT id FROM deliveries WHERE partner_id = ?
                                   ORDER BY id DESC LIMIT ?)
             ORDER BY rowid",
            // No row IDs: attempts are never updated, so in the order of
            // their times, and of their places in the table for a tie.
            postgres: "SELECT delivery_id, at, ok, result FROM delivery_attempts
             WHERE delivery_id IN (SELECT id FROM deliveries WHERE partner_id = $1
                                   ORDER BY id DESC LIMIT $2)
             ORDER BY at, ctid";
            .bind(partner)
            .bind(limit)
            .fetch_all
        )?;
        let mut by_delivery: std::collections::HashMap<i64, Vec<Attempt>> = Default::default();
        for (delivery, at, ok, result) in attempts {
            by_delivery.entry(delivery).or_default().push(Attempt {
                at,
                ok: ok != 0,
                result,
            });
        }
        let out = rows
            .into_iter()
            .map(
                |(id, rule_id, kind, channel, target, subject, status, created_at)| Delivery {
                    id,
                    rule_id,
                    event: EventKind::parse(&kind).unwrap_or(EventKind::Test),
                    channel: channel_of(&channel),
                    target,
                    subject,
                    status,
                    created_at,
                    attempts: by_delivery.remove(&id).unwrap_or_default(),
                },
            )
            .collect();
        Ok(out)
    }

    pub async fn sync_failing_hours(&self, partner: PartnerId) -> Result<u32, sqlx::Error> {
        let hours: Option<i64> = sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT sync_failing_hours FROM alert_settings WHERE partner_id = ?";
            .bind(partner)
            .fetch_optional
        )?;
        Ok(hours.map_or(SYNC_FAILING_HOURS, |h| h as u32))
    }

    pub async fn set_sync_failing_hours(
        &self,
        partner: PartnerId,
        hours: u32,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO alert_settings (partner_id, sync_failing_hours) VALUES (?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET sync_failing_hours = excluded.sync_failing_hours";
            .bind(partner)
            .bind(i64::from(hours))
        )?;
        tx.commit().await
    }

    /// The partner's finished syncs started since `since`, in order.
    pub async fn sync_outcomes(
        &self,
        partner: PartnerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<RunOutcome>, sqlx::Error> {
        let rows: Vec<(String, Option<String>, String, Option<String>)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT started_at, finished_at, status, error FROM sync_runs
             WHERE partner_id = ? AND started_at >= ? AND status IN ('succeeded', 'failed')
             ORDER BY id";
            .bind(partner)
            .bind(stamp(since))
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(started, finished, status, error)| {
                let started_at = time(Some(&started))?;
                Some(RunOutcome {
                    started_at,
                    finished_at: time(finished.as_deref()).unwrap_or(started_at),
                    failure: (status == "failed")
                        .then(|| error.unwrap_or_else(|| "the sync failed".into())),
                })
            })
            .collect())
    }
}

async fn insert_deliveries(
    tx: &mut super::WriteTx,
    partner: PartnerId,
    deliveries: &[NewDelivery],
    at: &str,
) -> Result<(), sqlx::Error> {
    for d in deliveries {
        sql!(
            execute,
            tx.on(),
            "INSERT INTO deliveries (partner_id, event_key, kind, rule_id, channel, target, subject,
                 body, html, status, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
             ON CONFLICT (partner_id, event_key, rule_id) DO NOTHING";
            .bind(partner)
            .bind(&d.event_key)
            .bind(d.kind.name())
            .bind(d.rule_id)
            .bind(channel_name(d.channel))
            .bind(&d.target)
            .bind(&d.subject)
            .bind(&d.body)
            .bind(&d.html)
            .bind(at)
            .bind(at)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    on_both_stores! {
        async fn a_due_message_is_sent_by_one_replica(store: Store, other: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            let message = NewDelivery {
                event_key: "budget:c1:2026-11:80".into(),
                kind: EventKind::BudgetThreshold,
                rule_id: 1,
                channel: Channel::Webhook,
                target: "https://hooks.example/costs".into(),
                subject: "Budget".into(),
                body: "{}".into(),
                html: String::new(),
            };
            store.enqueue(p, &[message]).await.unwrap();
            let soon = Utc::now() + chrono::Duration::seconds(1);
            // Both replicas see it due; one takes it.
            let seen_here = store.due_deliveries(soon, 10).await.unwrap();
            let seen_there = other.due_deliveries(soon, 10).await.unwrap();
            assert_eq!((seen_here.len(), seen_there.len()), (1, 1));
            let until = Utc::now() + chrono::Duration::minutes(5);
            assert!(other.claim_delivery(&seen_there[0], until).await.unwrap());
            assert!(!store.claim_delivery(&seen_here[0], until).await.unwrap());
            assert!(store.due_deliveries(soon, 10).await.unwrap().is_empty());
            // A sender that died: due again once its claim runs out.
            let later = until + chrono::Duration::seconds(1);
            let again = store.due_deliveries(later, 10).await.unwrap();
            assert_eq!(again.len(), 1);
            assert!(store.claim_delivery(&again[0], later).await.unwrap());
        }
    }
}
