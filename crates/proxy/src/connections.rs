//! The partners whose app credentials the proxy holds: their keys opened
//! from the store, kept in memory while the store's `connections` version
//! stands (a key entered or rotated through any replica moves it, and every
//! replica opens the keys again), and the one configured from the
//! environment.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::crypto::Sealer;
use crate::pc::Credentials;
use crate::store::{PartnerId, Store};

/// A partner whose app credentials the proxy holds.
#[derive(Clone)]
pub struct Connection {
    pub partner: PartnerId,
    pub credentials: Credentials,
}

pub struct Connections {
    sealer: Arc<Sealer>,
    /// Configured from the environment. A key stored for the same partner
    /// (switched to in the app, after the configuration) is used instead.
    configured: Option<Connection>,
    /// The stored ones opened, at the `connections` version they were read.
    opened: RwLock<(Option<i64>, HashMap<PartnerId, Connection>)>,
}

impl Connections {
    pub fn new(sealer: Arc<Sealer>, configured: Option<Connection>) -> Connections {
        Connections {
            sealer,
            configured,
            opened: RwLock::new((None, HashMap::new())),
        }
    }

    /// Opens every stored key again if the store's connections moved since
    /// they were opened. One key that does not open (the sealing key
    /// replaced, the row damaged) costs its own partner, not every
    /// partner's service.
    async fn fresh(&self, store: &Store) -> Result<(), sqlx::Error> {
        let version = store.connections_version().await?;
        if self.opened.read().expect("connections poisoned").0 == Some(version) {
            return Ok(());
        }
        let mut opened = HashMap::new();
        for c in store.connections().await? {
            let context = crate::onboarding::seal_context(&c.tenant_id, &c.app_id);
            let secret = match self.sealer.open(&c.sealed_secret, &context) {
                Ok(secret) => secret,
                Err(e) => {
                    tracing::error!(
                        tenant = %c.tenant_id,
                        error = %e,
                        "this partner's stored app key does not open with the sealing key: it is \
                         not synced until an admin enters the key again (onboarding, last step)"
                    );
                    continue;
                }
            };
            opened.insert(
                c.partner_id,
                Connection {
                    partner: c.partner_id,
                    credentials: Credentials {
                        tenant: c.tenant_id,
                        app_id: c.app_id,
                        secret,
                    },
                },
            );
        }
        *self.opened.write().expect("connections poisoned") = (Some(version), opened);
        Ok(())
    }

    /// The partner's connection, if onboarding (or configuration) made one.
    /// When the store cannot be read, the keys opened before answer.
    pub async fn of(&self, store: &Store, partner: PartnerId) -> Option<Connection> {
        if let Err(e) = self.fresh(store).await {
            tracing::warn!(error = %e, "stored connections not read again");
        }
        let opened = self.opened.read().expect("connections poisoned");
        opened.1.get(&partner).cloned().or_else(|| {
            self.configured
                .as_ref()
                .filter(|c| c.partner == partner)
                .cloned()
        })
    }

    pub async fn all(&self, store: &Store) -> Vec<Connection> {
        if let Err(e) = self.fresh(store).await {
            tracing::warn!(error = %e, "stored connections not read again");
        }
        let opened = self.opened.read().expect("connections poisoned");
        let configured = self
            .configured
            .iter()
            .filter(|c| !opened.1.contains_key(&c.partner));
        configured.chain(opened.1.values()).cloned().collect()
    }
}
