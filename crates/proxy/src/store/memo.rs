//! Figures kept between writes: summaries of millions of lines are read
//! far more often than the lines change (a sync an hour).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{PartnerId, Store};

type Memo = (u64, Arc<dyn std::any::Any + Send + Sync>);

/// Kept values by partner and name, each with the version it was computed at.
#[derive(Default)]
pub(super) struct Memos(Mutex<HashMap<(PartnerId, &'static str), Memo>>);

impl Store {
    /// Called after a write to the line items commits (after, so that no
    /// figure is kept under the new version from the old lines).
    pub(super) fn lines_changed(&self) {
        self.lines_version.fetch_add(1, Ordering::SeqCst);
    }

    /// The version of the store as a whole: it moves with every write.
    pub(super) fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// `compute`'s answer for a partner, kept until the next write to the
    /// store. Another process's writes (an operator command) are not seen,
    /// and touch no figure.
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
        self.memo_at(&self.version, partner, name, compute).await
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
        self.memo_at(&self.lines_version, partner, name, compute)
            .await
    }

    async fn memo_at<T, E, F, Fut>(
        &self,
        counter: &AtomicU64,
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
        let version = counter.load(Ordering::SeqCst);
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

    use crate::store::tests::temporary;

    #[tokio::test]
    async fn a_kept_value_lasts_until_the_next_write() {
        let (_dir, store) = temporary().await;
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

    #[tokio::test]
    async fn figures_of_the_lines_outlast_other_writes() {
        let (_dir, store) = temporary().await;
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
        store.lines_changed();
        store.memo_lines(partner, "y", compute).await.unwrap();
        assert_eq!(computed.load(Ordering::SeqCst), 2);
        let err = store
            .memo_lines(partner, "z", || async { Err::<u8, _>("no") })
            .await;
        assert_eq!(err.unwrap_err(), "no", "a failure is not kept");
    }
}
