//! Queries for sign-in sessions, connections, onboarding and app keys.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{KeptSession, PartnerId, Store, now};

/// A session as stored: who, for which partner, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub partner: PartnerId,
    pub tenant_id: String,
    pub user_name: String,
    pub display_name: String,
    /// Comma-separated role names (`globalAdmin,adminAgent`).
    pub roles: String,
    /// A customer user's session sees this one customer and nothing else.
    pub customer: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A session to store.
pub struct NewSession<'a> {
    pub partner: PartnerId,
    pub user_name: &'a str,
    pub display_name: &'a str,
    pub roles: &'a str,
    pub customer: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

/// A customer user the partner let in: who, and who let them in when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerUserRow {
    pub user_name: String,
    pub invited_by: String,
    pub invited_at: DateTime<Utc>,
}

/// Where a partner is in the onboarding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnboardingRow {
    pub step: String,
    pub app_object_id: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub trial_started_at: Option<DateTime<Utc>>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub activated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub app_id: String,
    pub key_id: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn time(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Past this many kept sessions, expired ones are dropped before adding one.
const KEPT_SESSIONS: usize = 10_000;

/// A revocation's marker outlives any read that started before it.
const REVOKED_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// How long the trial check may trust an onboarding row another process
/// could have changed (`proxy partner end-trial` beside a running proxy).
const ONBOARDING_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(1);

impl Store {
    /// The onboarding row as the trial check on every request needs it: read
    /// at most once a second, and again at once after this process writes.
    pub async fn onboarding_for_check(
        &self,
        partner: PartnerId,
    ) -> Result<Option<OnboardingRow>, sqlx::Error> {
        use std::sync::atomic::Ordering;
        let version = self.version.load(Ordering::SeqCst);
        if let Some((read, v, row)) = self
            .onboarding
            .lock()
            .expect("onboarding poisoned")
            .get(&partner)
            && *v == version
            && read.elapsed() < ONBOARDING_KEPT_FOR
        {
            return Ok(row.clone());
        }
        let row = self.onboarding(partner).await?;
        self.onboarding
            .lock()
            .expect("onboarding poisoned")
            .insert(partner, (std::time::Instant::now(), version, row.clone()));
        Ok(row)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        s: &NewSession<'_>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, partner_id, user_name, display_name, roles, customer_id, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(s.partner.0)
        .bind(s.user_name)
        .bind(s.display_name)
        .bind(s.roles)
        .bind(s.customer)
        .bind(now())
        .bind(stamp(s.expires_at))
        .execute(&mut *self.quiet_writer().await?)
        .await
        .map(|_| ())
    }

    /// A live session: known, not revoked, not expired.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        match self
            .sessions
            .lock()
            .expect("sessions poisoned")
            .get(token_hash)
        {
            Some(KeptSession::Live(session)) if session.expires_at > Utc::now() => {
                return Ok(Some(session.clone()));
            }
            Some(_) => return Ok(None),
            None => {}
        }
        let row = sqlx::query(
            "SELECT s.partner_id, p.tenant_id, s.user_name, s.display_name, s.roles, s.expires_at, s.customer_id
             FROM sessions s JOIN partners p ON p.id = s.partner_id
             WHERE s.token_hash = ? AND s.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let session = row
            .map(|r| SessionRow {
                partner: PartnerId(r.get(0)),
                tenant_id: r.get(1),
                user_name: r.get(2),
                display_name: r.get(3),
                roles: r.get(4),
                customer: r.get(6),
                expires_at: time(r.get(5)).unwrap_or_default(),
            })
            .filter(|s| s.expires_at > Utc::now());
        if let Some(session) = &session {
            let mut kept = self.sessions.lock().expect("sessions poisoned");
            if kept.len() >= KEPT_SESSIONS {
                let now = Utc::now();
                kept.retain(|_, k| match k {
                    KeptSession::Live(s) => s.expires_at > now,
                    KeptSession::Revoked(at) => at.elapsed() < REVOKED_KEPT_FOR,
                });
            }
            // Never over a revocation made while this read was on its way.
            let entry = kept
                .entry(token_hash.to_string())
                .or_insert_with(|| KeptSession::Live(session.clone()));
            if let KeptSession::Revoked(_) = entry {
                return Ok(None);
            }
        }
        Ok(session)
    }

    pub async fn revoke_session(&self, token_hash: &str) -> Result<(), sqlx::Error> {
        // Marked before the store is written: a read on its way meanwhile
        // cannot keep the live row.
        self.sessions.lock().expect("sessions poisoned").insert(
            token_hash.to_string(),
            KeptSession::Revoked(std::time::Instant::now()),
        );
        sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(token_hash)
        .execute(&mut *self.quiet_writer().await?)
        .await
        .map(|_| ())
    }

    /// Lets a customer's user see that customer's own costs (again: the
    /// invitation is renewed).
    pub async fn invite_customer_user(
        &self,
        partner: PartnerId,
        customer: &str,
        user_name: &str,
        invited_by: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO customer_users (partner_id, customer_id, user_name, invited_by, invited_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, customer_id, user_name) DO UPDATE SET invited_by = excluded.invited_by,
             invited_at = excluded.invited_at",
        )
        .bind(partner.0)
        .bind(customer)
        .bind(user_name.to_lowercase())
        .bind(invited_by)
        .bind(now())
        .execute(&mut *self.quiet_writer().await?)
        .await
        .map(|_| ())
    }

    pub async fn customer_users(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Vec<CustomerUserRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT user_name, invited_by, invited_at FROM customer_users
             WHERE partner_id = ? AND customer_id = ? ORDER BY user_name",
        )
        .bind(partner.0)
        .bind(customer)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CustomerUserRow {
                user_name: r.get(0),
                invited_by: r.get(1),
                invited_at: time(r.get(2)).unwrap_or_default(),
            })
            .collect())
    }

    /// Takes the access away, and ends the user's open sessions with it.
    /// False when there was no such access.
    pub async fn remove_customer_user(
        &self,
        partner: PartnerId,
        customer: &str,
        user_name: &str,
    ) -> Result<bool, sqlx::Error> {
        let user_name = user_name.to_lowercase();
        let removed = sqlx::query(
            "DELETE FROM customer_users WHERE partner_id = ? AND customer_id = ? AND user_name = ?",
        )
        .bind(partner.0)
        .bind(customer)
        .bind(&user_name)
        .execute(&mut *self.quiet_writer().await?)
        .await?
        .rows_affected()
            > 0;
        let open = sqlx::query(
            "SELECT token_hash FROM sessions WHERE partner_id = ? AND customer_id = ?
             AND lower(user_name) = ? AND revoked_at IS NULL",
        )
        .bind(partner.0)
        .bind(customer)
        .bind(&user_name)
        .fetch_all(&self.pool)
        .await?;
        for row in open {
            self.revoke_session(row.get::<&str, _>(0)).await?;
        }
        Ok(removed)
    }

    /// The partners that let this user of this customer tenant in, the
    /// latest invitation first.
    pub async fn customer_access(
        &self,
        customer: &str,
        user_name: &str,
    ) -> Result<Vec<PartnerId>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT partner_id FROM customer_users WHERE customer_id = ? AND user_name = ?
             ORDER BY invited_at DESC",
        )
        .bind(customer)
        .bind(user_name.to_lowercase())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| PartnerId(r.get(0))).collect())
    }

    pub async fn tenant_of(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT tenant_id FROM partners WHERE id = ?")
            .bind(partner.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn set_commerce_id(
        &self,
        partner: PartnerId,
        commerce_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE partners SET commerce_id = ? WHERE id = ?")
            .bind(commerce_id)
            .bind(partner.0)
            .execute(&mut *self.writer().await?)
            .await
            .map(|_| ())
    }

    pub async fn commerce_id(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT commerce_id FROM partners WHERE id = ?")
            .bind(partner.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.get(0)))
    }

    pub async fn set_connection(
        &self,
        partner: PartnerId,
        app_id: &str,
        sealed: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO connections (partner_id, app_id, sealed_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET app_id = excluded.app_id,
             sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at",
        )
        .bind(partner.0)
        .bind(app_id)
        .bind(sealed)
        .bind(now())
        .bind(now())
        .execute(&mut *self.writer().await?)
        .await
        .map(|_| ())
    }

    /// Replaces sealed keys all at once (a key rotation): all or none.
    pub async fn reseal_connections(
        &self,
        sealed: &[(PartnerId, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        for (partner, value) in sealed {
            sqlx::query(
                "UPDATE connections SET sealed_secret = ?, updated_at = ? WHERE partner_id = ?",
            )
            .bind(value)
            .bind(now())
            .bind(partner.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Every stored connection: partner, tenant, app ID, sealed key.
    pub async fn connections(
        &self,
    ) -> Result<Vec<(PartnerId, String, String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT c.partner_id, p.tenant_id, c.app_id, c.sealed_secret
             FROM connections c JOIN partners p ON p.id = c.partner_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (PartnerId(r.get(0)), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    pub async fn onboarding(
        &self,
        partner: PartnerId,
    ) -> Result<Option<OnboardingRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT step, app_object_id, app_id, app_name, trial_started_at, trial_ends_at, activated
             FROM onboarding WHERE partner_id = ?",
        )
        .bind(partner.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| OnboardingRow {
            step: r.get(0),
            app_object_id: r.get(1),
            app_id: r.get(2),
            app_name: r.get(3),
            trial_started_at: time(r.get(4)),
            trial_ends_at: time(r.get(5)),
            activated: r.get::<i64, _>(6) != 0,
        }))
    }

    pub async fn set_onboarding(
        &self,
        partner: PartnerId,
        o: &OnboardingRow,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO onboarding (partner_id, step, app_object_id, app_id, app_name, trial_started_at,
                trial_ends_at, activated, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET step = excluded.step, app_object_id = excluded.app_object_id,
                app_id = excluded.app_id, app_name = excluded.app_name,
                trial_started_at = excluded.trial_started_at, trial_ends_at = excluded.trial_ends_at,
                activated = excluded.activated, updated_at = excluded.updated_at",
        )
        .bind(partner.0)
        .bind(&o.step)
        .bind(&o.app_object_id)
        .bind(&o.app_id)
        .bind(&o.app_name)
        .bind(o.trial_started_at.map(stamp))
        .bind(o.trial_ends_at.map(stamp))
        .bind(o.activated as i64)
        .bind(now())
        .execute(&mut *self.writer().await?)
        .await
        .map(|_| ())
    }

    /// The partner row for a tenant, if one exists (no creation).
    pub async fn find_partner(&self, tenant_id: &str) -> Result<Option<PartnerId>, sqlx::Error> {
        let row = sqlx::query("SELECT id FROM partners WHERE tenant_id = ?")
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| PartnerId(r.get(0))))
    }

    pub async fn add_key(
        &self,
        partner: PartnerId,
        k: &KeyRow,
        value_hash: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO app_keys (partner_id, app_id, key_id, display_name, created_at, expires_at, value_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, key_id) DO NOTHING",
        )
        .bind(partner.0)
        .bind(&k.app_id)
        .bind(&k.key_id)
        .bind(&k.display_name)
        .bind(stamp(k.created_at))
        .bind(stamp(k.expires_at))
        .bind(value_hash)
        .execute(&mut *self.writer().await?)
        .await
        .map(|_| ())
    }

    pub async fn revoke_key(&self, partner: PartnerId, key_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE app_keys SET revoked_at = ? WHERE partner_id = ? AND key_id = ? AND revoked_at IS NULL")
            .bind(now())
            .bind(partner.0)
            .bind(key_id)
            .execute(&mut *self.writer().await?)
            .await
            .map(|_| ())
    }

    /// A key made in the wizard whose value hashes to this, if any.
    pub async fn key_by_value_hash(
        &self,
        partner: PartnerId,
        value_hash: &str,
    ) -> Result<Option<KeyRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT app_id, key_id, display_name, created_at, expires_at, revoked_at FROM app_keys
             WHERE partner_id = ? AND value_hash = ?",
        )
        .bind(partner.0)
        .bind(value_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| KeyRow {
            app_id: r.get(0),
            key_id: r.get(1),
            display_name: r.get(2),
            created_at: time(r.get(3)).unwrap_or_default(),
            expires_at: time(r.get(4)).unwrap_or_default(),
            revoked_at: time(r.get(5)),
        }))
    }
}
