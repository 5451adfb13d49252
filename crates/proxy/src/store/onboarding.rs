//! Where a partner is in the onboarding and its trial, its connection (the
//! registered app with its key sealed), and the keys made in the wizard.

use chrono::{DateTime, Utc};
use model::onboarding::Step;

use super::{PartnerId, Store, now, stamp, time};

/// Where a partner is in the onboarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingRow {
    pub step: Step,
    pub app_object_id: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub trial_started_at: Option<DateTime<Utc>>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub activated: bool,
}

/// A partner that has not started: the wizard opens at registering the app.
impl Default for OnboardingRow {
    fn default() -> Self {
        OnboardingRow {
            step: Step::RegisterApp,
            app_object_id: None,
            app_id: None,
            app_name: None,
            trial_started_at: None,
            trial_ends_at: None,
            activated: false,
        }
    }
}

#[derive(sqlx::FromRow)]
struct StoredOnboarding {
    step: String,
    app_object_id: Option<String>,
    app_id: Option<String>,
    app_name: Option<String>,
    trial_started_at: Option<String>,
    trial_ends_at: Option<String>,
    /// 0 or 1: an integer in both stores.
    activated: i64,
}

impl From<StoredOnboarding> for OnboardingRow {
    fn from(o: StoredOnboarding) -> Self {
        OnboardingRow {
            // Rows written before the steps had names read as the first step.
            step: Step::parse(&o.step).unwrap_or(Step::RegisterApp),
            app_object_id: o.app_object_id,
            app_id: o.app_id,
            app_name: o.app_name,
            trial_started_at: time(o.trial_started_at.as_deref()),
            trial_ends_at: time(o.trial_ends_at.as_deref()),
            activated: o.activated != 0,
        }
    }
}

/// An onboarding row as read, with the store's version it was read at.
pub(super) type KeptOnboarding = (i64, Option<OnboardingRow>);

/// A partner's stored connection: its app and the key, sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectionRow {
    pub partner_id: PartnerId,
    pub tenant_id: String,
    pub app_id: String,
    pub sealed_secret: String,
}

/// A key made in the wizard: its dates, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub app_id: String,
    pub key_id: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct StoredKey {
    app_id: String,
    key_id: String,
    display_name: String,
    created_at: String,
    expires_at: String,
    revoked_at: Option<String>,
}

impl From<StoredKey> for KeyRow {
    fn from(k: StoredKey) -> Self {
        KeyRow {
            app_id: k.app_id,
            key_id: k.key_id,
            display_name: k.display_name,
            created_at: time(Some(&k.created_at)).unwrap_or_default(),
            expires_at: time(Some(&k.expires_at)).unwrap_or_default(),
            revoked_at: time(k.revoked_at.as_deref()),
        }
    }
}

impl Store {
    pub async fn onboarding(
        &self,
        partner: PartnerId,
    ) -> Result<Option<OnboardingRow>, sqlx::Error> {
        let row: Option<StoredOnboarding> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT step, app_object_id, app_id, app_name, trial_started_at, trial_ends_at, activated
             FROM onboarding WHERE partner_id = ?";
            .bind(partner)
            .fetch_optional
        )?;
        Ok(row.map(OnboardingRow::from))
    }

    /// The onboarding row as the trial check on every request needs it:
    /// kept while the store has not been written by any process (an
    /// operator's `proxy partner end-trial`, another replica's wizard).
    pub async fn onboarding_for_check(
        &self,
        partner: PartnerId,
    ) -> Result<Option<OnboardingRow>, sqlx::Error> {
        let version = self.versions().await?.everything;
        if let Some((v, row)) = self
            .onboarding
            .lock()
            .expect("onboarding poisoned")
            .get(&partner)
            && *v == version
        {
            return Ok(row.clone());
        }
        let row = self.onboarding(partner).await?;
        self.onboarding
            .lock()
            .expect("onboarding poisoned")
            .insert(partner, (version, row.clone()));
        Ok(row)
    }

    pub async fn set_onboarding(
        &self,
        partner: PartnerId,
        o: &OnboardingRow,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO onboarding (partner_id, step, app_object_id, app_id, app_name, trial_started_at,
                trial_ends_at, activated, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET step = excluded.step, app_object_id = excluded.app_object_id,
                app_id = excluded.app_id, app_name = excluded.app_name,
                trial_started_at = excluded.trial_started_at, trial_ends_at = excluded.trial_ends_at,
                activated = excluded.activated, updated_at = excluded.updated_at";
            .bind(partner)
            .bind(o.step.as_str())
            .bind(&o.app_object_id)
            .bind(&o.app_id)
            .bind(&o.app_name)
            .bind(o.trial_started_at.map(stamp))
            .bind(o.trial_ends_at.map(stamp))
            .bind(i64::from(o.activated))
            .bind(now())
        )?;
        tx.commit().await
    }

    pub async fn set_connection(
        &self,
        partner: PartnerId,
        app_id: &str,
        sealed: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO connections (partner_id, app_id, sealed_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET app_id = excluded.app_id,
             sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at";
            .bind(partner)
            .bind(app_id)
            .bind(sealed)
            .bind(now())
            .bind(now())
        )?;
        tx.connections_changed();
        tx.commit().await
    }

    /// Replaces sealed keys all at once (a key rotation): all or none.
    pub async fn reseal_connections(
        &self,
        sealed: &[(PartnerId, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        for (partner, value) in sealed {
            sql!(
                execute,
                tx.on(),
                "UPDATE connections SET sealed_secret = ?, updated_at = ? WHERE partner_id = ?";
                .bind(value)
                .bind(now())
                .bind(*partner)
            )?;
        }
        tx.connections_changed();
        tx.commit().await
    }

    /// Every stored connection.
    pub async fn connections(&self) -> Result<Vec<ConnectionRow>, sqlx::Error> {
        sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT c.partner_id, p.tenant_id, c.app_id, c.sealed_secret
             FROM connections c JOIN partners p ON p.id = c.partner_id ORDER BY c.partner_id";
            .fetch_all
        )
    }

    pub async fn add_key(
        &self,
        partner: PartnerId,
        k: &KeyRow,
        value_hash: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO app_keys (partner_id, app_id, key_id, display_name, created_at, expires_at, value_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, key_id) DO NOTHING";
            .bind(partner)
            .bind(&k.app_id)
            .bind(&k.key_id)
            .bind(&k.display_name)
            .bind(stamp(k.created_at))
            .bind(stamp(k.expires_at))
            .bind(value_hash)
        )?;
        tx.commit().await
    }

    pub async fn revoke_key(&self, partner: PartnerId, key_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "UPDATE app_keys SET revoked_at = ? WHERE partner_id = ? AND key_id = ? AND revoked_at IS NULL";
            .bind(now())
            .bind(partner)
            .bind(key_id)
        )?;
        tx.commit().await
    }

    /// A key made in the wizard whose value hashes to this, if any.
    pub async fn key_by_value_hash(
        &self,
        partner: PartnerId,
        value_hash: &str,
    ) -> Result<Option<KeyRow>, sqlx::Error> {
        let row: Option<StoredKey> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT app_id, key_id, display_name, created_at, expires_at, revoked_at FROM app_keys
             WHERE partner_id = ? AND value_hash = ?";
            .bind(partner)
            .bind(value_hash)
            .fetch_optional
        )?;
        Ok(row.map(KeyRow::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    on_both_stores! {
        async fn the_wizard_resumes_where_it_was_left(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            assert_eq!(store.onboarding(p).await.unwrap(), None);
            let row = OnboardingRow {
                step: Step::AddKey,
                app_object_id: Some("obj".into()),
                app_id: Some("app".into()),
                app_name: Some("CSP Cost Tracker".into()),
                trial_started_at: time(Some("2026-11-01T10:00:00.000Z")),
                trial_ends_at: time(Some("2026-12-01T10:00:00.000Z")),
                activated: false,
            };
            store.set_onboarding(p, &row).await.unwrap();
            assert_eq!(store.onboarding(p).await.unwrap(), Some(row.clone()));
            assert_eq!(store.onboarding_for_check(p).await.unwrap(), Some(row));
        }

        async fn connections_and_keys_belong_to_their_partner(store: Store) {
            let a = store.partner("tenant-a").await.unwrap();
            let b = store.partner("tenant-b").await.unwrap();
            store.set_connection(a, "app-a", "sealed-a").await.unwrap();
            store.set_connection(b, "app-b", "sealed-b").await.unwrap();
            store
                .reseal_connections(&[(a, "resealed-a".into())])
                .await
                .unwrap();
            let all = store.connections().await.unwrap();
            assert_eq!(
                all.iter()
                    .map(|c| (c.tenant_id.as_str(), c.sealed_secret.as_str()))
                    .collect::<Vec<_>>(),
                [("tenant-a", "resealed-a"), ("tenant-b", "sealed-b")]
            );
            let key = KeyRow {
                app_id: "app-a".into(),
                key_id: "k1".into(),
                display_name: "1 year".into(),
                created_at: Utc::now(),
                expires_at: Utc::now() + chrono::Duration::days(365),
                revoked_at: None,
            };
            store.add_key(a, &key, "hash-1").await.unwrap();
            assert_eq!(
                store.key_by_value_hash(b, "hash-1").await.unwrap(),
                None,
                "another partner's"
            );
            store.revoke_key(a, "k1").await.unwrap();
            let found = store.key_by_value_hash(a, "hash-1").await.unwrap().unwrap();
            assert!(found.revoked_at.is_some());
        }
    }
}
