//! Figures kept between writes: summaries of millions of lines are read
//! far more often than the lines change (a sync an hour).
//!
//! Every process that shares the store (replicas behind a load balancer,
//! an operator command) moves its versions in each write's transaction
//! (`store_versions`), and each kept figure is checked against them when
//! asked for: a budget set through one replica is in the next answer of
//! every other.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use super::versions::Versions;
use super::{Db, PartnerId, Store};

type Memo = (i64, Arc<dyn std::any::Any + Send + Sync>);

/// Kept values by partner and name, each with the version it was computed at.
#[derive(Default)]
pub(super) struct Memos(Mutex<HashMap<(PartnerId, &'static str), Memo>>);

impl Store {
    /// The store's versions now (every process's committed writes).
    pub(super) async fn versions(&self) -> Result<Versions, sqlx::Error> {
        match &self.db {
            Db::Sqlite(lite) => lite.versions.read(),
            Db::Postgres(pg) => {
                super::versions::read_postgres(Arc::as_ptr(&pg.me) as usize, &pg.pool).await
            }
        }
    }

    /// `compute`'s answer for a partner, kept until the next write to the
    /// store by any process.
    pub async fn memo<T, E, F, Fut>(
        &self,
        partner: PartnerId,
        name: &'static str,
        compute: F,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.memo_at(|v| v.everything, partner, name, compute).await
    }

    /// Like [`Store::memo`] for what depends on the line items alone: kept
    /// until the next write to them, whatever else is written meanwhile.
    pub async fn memo_lines<T, E, F, Fut>(
        &self,
        partner: PartnerId,
        name: &'static str,
        compute: F,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.memo_at(|v| v.lines, partner, name, compute).await
    }

    async fn memo_at<T, E, F, Fut>(
        &self,
        counter: fn(&Versions) -> i64,
        partner: PartnerId,
        name: &'static str,
        compute: F,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // Read before computing: a write that lands meanwhile leaves the
        // entry older than the store, so the next caller computes again.
        // Unknown (the store did not answer), nothing is kept or trusted.
        let Ok(version) = self.versions().await.map(|v| counter(&v)) else {
            return compute().await.map(Arc::new);
        };
        let kept = self
            .memos
            .0
            .lock()
            .expect("memos poisoned")
            .get(&(partner, name))
            .filter(|(v, _)| *v == version)
            .and_then(|(_, value)| value.clone().downcast::<T>().ok());
        if let Some(value) = kept {
            return Ok(value);
        }
        let value = Arc::new(compute().await?);
        self.memos
            .0
            .lock()
            .expect("memos poisoned")
            .insert((partner, name), (version, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    on_both_stores! {
        async fn a_kept_value_lasts_until_the_next_write(store: Store) {
            let partner = store.partner("tenant-a").await.unwrap();
            let computed = AtomicUsize::new(0);
            let compute = || async {
                computed.fetch_add(1, Ordering::SeqCst);
                Ok::<_, sqlx::Error>(42)
            };
            assert_eq!(*store.memo(partner, "x", compute).await.unwrap(), 42);
            assert_eq!(*store.memo(partner, "x", compute).await.unwrap(), 42);
            assert_eq!(computed.load(Ordering::SeqCst), 1, "kept between writes");
            store.set_partner_name(partner, "Contoso").await.unwrap();
            store.memo(partner, "x", compute).await.unwrap();
            assert_eq!(computed.load(Ordering::SeqCst), 2, "computed after a write");
        }

        async fn figures_of_the_lines_outlast_other_writes(store: Store) {
            let partner = store.partner("tenant-a").await.unwrap();
            let computed = AtomicUsize::new(0);
            let compute = || async {
                computed.fetch_add(1, Ordering::SeqCst);
                Ok::<_, sqlx::Error>("figures")
            };
            store.memo_lines(partner, "y", compute).await.unwrap();
            store.set_partner_name(partner, "Contoso").await.unwrap();
            store.memo_lines(partner, "y", compute).await.unwrap();
            assert_eq!(computed.load(Ordering::SeqCst), 1);
            let mut tx = store.write().await.unwrap();
            tx.lines_changed();
            tx.commit().await.unwrap();
            store.memo_lines(partner, "y", compute).await.unwrap();
            assert_eq!(computed.load(Ordering::SeqCst), 2);
            let err = store
                .memo_lines(partner, "z", || async { Err::<u8, _>("no") })
                .await;
            assert_eq!(err.unwrap_err(), "no", "a failure is not kept");
        }

        // A second process on the same store, as a replica is.
        async fn a_write_through_another_replica_is_seen_at_once(store: Store, other: Store) {
            let partner = store.partner("tenant-a").await.unwrap();
            let computed = AtomicUsize::new(0);
            let compute = || async {
                computed.fetch_add(1, Ordering::SeqCst);
                Ok::<_, sqlx::Error>(7)
            };
            store.memo(partner, "x", compute).await.unwrap();
            store.memo_lines(partner, "y", compute).await.unwrap();
            store.memo(partner, "x", compute).await.unwrap();
            assert_eq!(computed.load(Ordering::SeqCst), 2, "kept");
            other.set_partner_name(partner, "Contoso").await.unwrap();
            store.memo(partner, "x", compute).await.unwrap();
            assert_eq!(computed.load(Ordering::SeqCst), 3, "the other's write seen");
            store.memo_lines(partner, "y", compute).await.unwrap();
            assert_eq!(
                computed.load(Ordering::SeqCst),
                3,
                "not a write to the lines"
            );
            let mut tx = other.write().await.unwrap();
            tx.lines_changed();
            tx.commit().await.unwrap();
            store.memo_lines(partner, "y", compute).await.unwrap();
            assert_eq!(computed.load(Ordering::SeqCst), 4, "the other's lines seen");
        }
    }
}
