//! The partners whose app credentials the proxy holds, in memory (their
//! keys opened from the store at start, or added by the onboarding).

use std::collections::HashMap;
use std::sync::RwLock;

use crate::pc::Credentials;
use crate::store::PartnerId;

/// A partner whose app credentials the proxy holds.
#[derive(Clone)]
pub struct Connection {
    pub partner: PartnerId,
    pub credentials: Credentials,
}

#[derive(Default)]
pub struct Connections(RwLock<HashMap<PartnerId, Connection>>);

impl Connections {
    pub fn new(all: impl IntoIterator<Item = Connection>) -> Connections {
        Connections(RwLock::new(
            all.into_iter().map(|c| (c.partner, c)).collect(),
        ))
    }

    /// The partner's connection, if onboarding (or configuration) made one.
    pub fn of(&self, partner: PartnerId) -> Option<Connection> {
        self.0
            .read()
            .expect("connections poisoned")
            .get(&partner)
            .cloned()
    }

    pub fn all(&self) -> Vec<Connection> {
        self.0
            .read()
            .expect("connections poisoned")
            .values()
            .cloned()
            .collect()
    }

    pub fn add(&self, connection: Connection) {
        self.0
            .write()
            .expect("connections poisoned")
            .insert(connection.partner, connection);
    }
}
