//! Signed-in users' sessions (only a SHA-256 of the token is stored) and
//! the customers' users a partner let in.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::{PartnerId, Store, now, stamp, time};

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

#[derive(sqlx::FromRow)]
struct StoredSession {
    partner_id: PartnerId,
    tenant_id: String,
    user_name: String,
    display_name: String,
    roles: String,
    expires_at: String,
    customer_id: Option<String>,
}

impl From<StoredSession> for SessionRow {
    fn from(s: StoredSession) -> Self {
        SessionRow {
            partner: s.partner_id,
            tenant_id: s.tenant_id,
            user_name: s.user_name,
            display_name: s.display_name,
            roles: s.roles,
            customer: s.customer_id,
            expires_at: time(Some(&s.expires_at)).unwrap_or_default(),
        }
    }
}

/// Sessions read, by token hash, each with the `sessions` version it was
/// read at: kept while no session has ended early, in any process.
#[derive(Default)]
pub(super) struct KeptSessions(Mutex<HashMap<String, (i64, SessionRow)>>);

/// Past this many kept sessions, expired ones are dropped before adding one.
const KEPT_SESSIONS: usize = 10_000;

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        s: &NewSession<'_>,
    ) -> Result<(), sqlx::Error> {
        sql!(
            execute,
            self.quiet_writer().await?.on(),
            "INSERT INTO sessions (token_hash, partner_id, user_name, display_name, roles, customer_id, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
            .bind(token_hash)
            .bind(s.partner)
            .bind(s.user_name)
            .bind(s.display_name)
            .bind(s.roles)
            .bind(s.customer)
            .bind(now())
            .bind(stamp(s.expires_at))
        )
        .map(|_| ())
    }

    /// A live session: known, not revoked, not expired. Kept in memory while
    /// the store's `sessions` version stands: a sign-out or a removed
    /// customer user through any replica moves it, and every replica reads
    /// its sessions again on their next request.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        let version = self.versions().await?.sessions;
        if let Some((at, session)) = self
            .sessions
            .0
            .lock()
            .expect("sessions poisoned")
            .get(token_hash)
            && *at == version
        {
            return Ok(Some(session.clone()).filter(|s| s.expires_at > Utc::now()));
        }
        let row: Option<StoredSession> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT s.partner_id, p.tenant_id, s.user_name, s.display_name, s.roles, s.expires_at, s.customer_id
             FROM sessions s JOIN partners p ON p.id = s.partner_id
             WHERE s.token_hash = ? AND s.revoked_at IS NULL";
            .bind(token_hash)
            .fetch_optional
        )?;
        let session = row
            .map(SessionRow::from)
            .filter(|s| s.expires_at > Utc::now());
        if let Some(session) = &session {
            let mut kept = self.sessions.0.lock().expect("sessions poisoned");
            if kept.len() >= KEPT_SESSIONS {
                let now = Utc::now();
                kept.retain(|_, (at, s)| *at == version && s.expires_at > now);
            }
            // Read at `version` (or later): a session ended meanwhile moved
            // the version past it, and the next request reads it again.
            kept.insert(token_hash.to_string(), (version, session.clone()));
        }
        Ok(session)
    }

    pub async fn revoke_session(&self, token_hash: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.quiet_write().await?;
        sql!(
            execute,
            tx.on(),
            "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL";
            .bind(now())
            .bind(token_hash)
        )?;
        tx.sessions_ended();
        tx.commit().await
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
        sql!(
            execute,
            self.quiet_writer().await?.on(),
            "INSERT INTO customer_users (partner_id, customer_id, user_name, invited_by, invited_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, customer_id, user_name) DO UPDATE SET invited_by = excluded.invited_by,
             invited_at = excluded.invited_at";
            .bind(partner)
            .bind(customer)
            .bind(user_name.to_lowercase())
            .bind(invited_by)
            .bind(now())
        )
        .map(|_| ())
    }

    pub async fn customer_users(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Vec<CustomerUserRow>, sqlx::Error> {
        let rows: Vec<(String, String, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT user_name, invited_by, invited_at FROM customer_users
             WHERE partner_id = ? AND customer_id = ? ORDER BY user_name";
            .bind(partner)
            .bind(customer)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|(user_name, invited_by, invited_at)| CustomerUserRow {
                user_name,
                invited_by,
                invited_at: time(Some(&invited_at)).unwrap_or_default(),
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
        let removed = sql!(
            execute,
            self.quiet_writer().await?.on(),
            "DELETE FROM customer_users WHERE partner_id = ? AND customer_id = ? AND user_name = ?";
            .bind(partner)
            .bind(customer)
            .bind(&user_name)
        )? > 0;
        let open: Vec<String> = sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT token_hash FROM sessions WHERE partner_id = ? AND customer_id = ?
             AND lower(user_name) = ? AND revoked_at IS NULL";
            .bind(partner)
            .bind(customer)
            .bind(&user_name)
            .fetch_all
        )?;
        for hash in open {
            self.revoke_session(&hash).await?;
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
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT partner_id FROM customer_users WHERE customer_id = ? AND user_name = ?
             ORDER BY invited_at DESC";
            .bind(customer)
            .bind(user_name.to_lowercase())
            .fetch_all
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_session(partner: PartnerId, hours: i64, customer: Option<&str>) -> NewSession<'_> {
        NewSession {
            partner,
            user_name: "ada@fabrikam.example",
            display_name: "Ada",
            roles: "globalAdmin",
            customer,
            expires_at: Utc::now() + chrono::Duration::hours(hours),
        }
    }

    on_both_stores! {
        async fn a_session_lives_until_it_expires_or_is_revoked(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            store
                .create_session("live", &new_session(p, 8, None))
                .await
                .unwrap();
            store
                .create_session("old", &new_session(p, -1, None))
                .await
                .unwrap();
            let s = store.session("live").await.unwrap().unwrap();
            assert_eq!(
                (s.partner, s.tenant_id.as_str(), s.roles.as_str()),
                (p, "tenant-a", "globalAdmin")
            );
            assert_eq!(store.session("old").await.unwrap(), None, "expired");
            assert_eq!(store.session("unknown").await.unwrap(), None);
            store.revoke_session("live").await.unwrap();
            assert_eq!(store.session("live").await.unwrap(), None, "revoked");
        }

        async fn a_sign_out_through_another_replica_ends_the_session_here(store: Store, other: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            store
                .create_session("live", &new_session(p, 8, None))
                .await
                .unwrap();
            assert!(store.session("live").await.unwrap().is_some());
            assert!(other.session("live").await.unwrap().is_some());
            other.revoke_session("live").await.unwrap();
            assert_eq!(store.session("live").await.unwrap(), None);
        }

        async fn removing_a_customer_user_ends_their_sessions(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            store
                .invite_customer_user(p, "c1", "IT@Contoso.example", "ada")
                .await
                .unwrap();
            let users = store.customer_users(p, "c1").await.unwrap();
            assert_eq!(users[0].user_name, "it@contoso.example", "kept lower-case");
            assert_eq!(
                store
                    .customer_access("c1", "it@CONTOSO.example")
                    .await
                    .unwrap(),
                [p]
            );
            let mut s = new_session(p, 8, Some("c1"));
            s.user_name = "it@contoso.example";
            store.create_session("theirs", &s).await.unwrap();
            assert!(store.session("theirs").await.unwrap().is_some());
            assert!(
                store
                    .remove_customer_user(p, "c1", "it@contoso.example")
                    .await
                    .unwrap()
            );
            assert_eq!(store.session("theirs").await.unwrap(), None);
            assert!(
                !store
                    .remove_customer_user(p, "c1", "it@contoso.example")
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .customer_access("c1", "it@contoso.example")
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }
}
