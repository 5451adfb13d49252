//! The sync engine: reads a partner's customers, subscriptions, budgets and
//! daily rated usage from Partner Center into the store.
//!
//! Usage arrives in feeds: per billing currency, the unbilled current and
//! previous periods, and each invoice's billed lines. Every line is upserted
//! by its stable identity, page by page, so a sync that dies midway and runs
//! again ends with the same rows: nothing lost, nothing twice. A feed read to
//! its end removes the lines of its billing months that it no longer lists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use model::api::{SyncCounts, SyncPhase, SyncProgress, SyncStatus};
use tokio::sync::watch;

mod customers;
mod usage;

use customers::{sync_customer_details, sync_customers};
use usage::sync_usage;

pub use model::api::SyncKind;

use crate::connections::{Connection, Connections};
use crate::pc::{PartnerCenter, PcError};
use crate::store::{PartnerId, Store};

/// Why a sync stopped: the upstream refused or failed past its retries,
/// the store failed, or a task crashed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Upstream(#[from] PcError),
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

/// What the sync reads besides the partner's invoices.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Billing currencies read besides the invoices' (upper case).
    pub currencies: Vec<String>,
    /// Months of billed usage kept.
    pub history_months: u32,
}

/// Runs the partners' syncs: one at a time per partner, in the background
/// or awaited.
pub struct Engine {
    store: Store,
    pc: Arc<PartnerCenter>,
    settings: SyncSettings,
    syncers: Mutex<HashMap<PartnerId, Arc<Syncer>>>,
}

/// The sync of one partner: at most one runs at a time, and its progress is
/// published to any number of watchers.
pub struct Syncer {
    running: tokio::sync::Mutex<()>,
    progress: watch::Sender<SyncProgress>,
}

impl Default for Syncer {
    fn default() -> Self {
        Syncer {
            running: tokio::sync::Mutex::new(()),
            progress: watch::Sender::new(SyncProgress::default()),
        }
    }
}

impl Syncer {
    pub fn subscribe(&self) -> watch::Receiver<SyncProgress> {
        self.progress.subscribe()
    }

    pub fn current(&self) -> SyncProgress {
        self.progress.borrow().clone()
    }

    pub fn is_running(&self) -> bool {
        self.running.try_lock().is_err()
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Shared by the tasks of one run.
struct Run {
    id: i64,
    store: Store,
    pc: Arc<PartnerCenter>,
    settings: SyncSettings,
    syncer: Arc<Syncer>,
    connection: Connection,
    counts: Mutex<SyncCounts>,
    progress: SyncProgress,
    started: Instant,
}

impl Run {
    fn bump(&self, f: impl FnOnce(&mut SyncCounts)) -> SyncCounts {
        let mut counts = self.counts.lock().expect("counts poisoned");
        f(&mut counts);
        counts.clone()
    }

    /// Publishes the counters and an estimate of the time left, and keeps
    /// them in the store so a reload or a restart shows them.
    async fn report(&self, phase: SyncPhase) -> Result<(), SyncError> {
        let counts = self.counts.lock().expect("counts poisoned").clone();
        let done = fraction_done(&counts, phase);
        let elapsed = self.started.elapsed().as_secs_f64();
        let seconds_left = (done > 0.02).then(|| (elapsed / done * (1.0 - done)).round() as u64);
        self.syncer.progress.send_replace(SyncProgress {
            phase,
            counts: counts.clone(),
            seconds_left,
            ..self.progress.clone()
        });
        self.store.update_sync(self.id, &counts).await?;
        Ok(())
    }
}

/// Customers weigh a third of a sync, usage two thirds.
fn fraction_done(c: &SyncCounts, phase: SyncPhase) -> f64 {
    let customers = match c.customers_total {
        Some(0) => 1.0,
        Some(t) => c.customers_done as f64 / t as f64,
        None => 0.0,
    };
    let feeds = match (phase, c.feeds_total) {
        (_, Some(0)) => 1.0,
        (_, Some(t)) => c.feeds_done as f64 / t as f64,
        _ => 0.0,
    };
    customers / 3.0 + feeds * 2.0 / 3.0
}

impl Engine {
    pub fn new(store: Store, pc: Arc<PartnerCenter>, settings: SyncSettings) -> Engine {
        Engine {
            store,
            pc,
            settings,
            syncers: Mutex::default(),
        }
    }

    /// The partner's sync (one at a time per partner).
    pub fn syncer(&self, partner: PartnerId) -> Arc<Syncer> {
        self.syncers
            .lock()
            .expect("syncers poisoned")
            .entry(partner)
            .or_default()
            .clone()
    }

    /// Starts a sync of the partner in the background unless one is running.
    pub fn spawn(self: &Arc<Self>, connection: Connection, kind: SyncKind) {
        if self.syncer(connection.partner).is_running() {
            return;
        }
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.run(&connection, kind).await {
                tracing::warn!(error = %e, "sync failed");
            }
        });
    }

    /// Runs one sync to its end; waits for a running one to finish first.
    pub async fn run(
        &self,
        connection: &Connection,
        kind: SyncKind,
    ) -> Result<SyncCounts, SyncError> {
        let syncer = self.syncer(connection.partner);
        let _running = syncer.running.lock().await;
        let id = self.store.start_sync(connection.partner, kind).await?;
        let progress = SyncProgress {
            run_id: Some(id),
            kind,
            status: SyncStatus::Running,
            phase: SyncPhase::Customers,
            started_at: Some(now()),
            ..Default::default()
        };
        syncer.progress.send_replace(progress.clone());
        let run = Arc::new(Run {
            id,
            store: self.store.clone(),
            pc: self.pc.clone(),
            settings: self.settings.clone(),
            syncer: syncer.clone(),
            connection: connection.clone(),
            counts: Mutex::new(SyncCounts::default()),
            progress,
            started: Instant::now(),
        });
        tracing::info!(run = id, kind = kind.as_str(), "sync started");
        let outcome = async {
            let customers = sync_customers(&run).await?;
            // Details and usage are independent: read together, the sync takes
            // about the longer of the two, not their sum.
            tokio::try_join!(
                sync_customer_details(&run, customers),
                sync_usage(&run, kind)
            )
            .map(|_| ())
        }
        .await;
        let counts = run.counts.lock().expect("counts poisoned").clone();
        let error = match (&outcome, counts.errors) {
            (Err(e), _) => Some(e.to_string()),
            (Ok(()), 0) => None,
            (Ok(()), n) => Some(format!(
                "{n} requests failed after retries; the rest was synced"
            )),
        };
        let status = if error.is_some() {
            SyncStatus::Failed
        } else {
            SyncStatus::Succeeded
        };
        self.store
            .finish_sync(id, &counts, status, error.as_deref())
            .await?;
        // The summaries people open first are computed now, not on their first
        // request after the sync.
        if outcome.is_ok() {
            let store = self.store.clone();
            let partner = connection.partner;
            tokio::spawn(async move {
                let _ = crate::reports::kept(&store, partner).await;
            });
        }
        syncer.progress.send_replace(SyncProgress {
            status,
            phase: SyncPhase::Done,
            counts: counts.clone(),
            finished_at: Some(now()),
            seconds_left: Some(0),
            error: error.clone(),
            ..run.progress.clone()
        });
        tracing::info!(
            run = id,
            customers = counts.customers_done,
            line_items = counts.line_items,
            errors = counts.errors,
            seconds = run.started.elapsed().as_secs_f64(),
            "sync finished"
        );
        outcome.map(|()| counts)
    }

    /// The latest sync, from memory while this process runs one, else from the store.
    pub async fn progress(&self, partner: PartnerId) -> Result<SyncProgress, SyncError> {
        let live = self.syncer(partner).current();
        if live.run_id.is_some() {
            return Ok(live);
        }
        Ok(match self.store.latest_sync(partner).await? {
            None => live,
            Some(run) => SyncProgress {
                run_id: Some(run.id),
                kind: run.kind,
                status: run.status,
                phase: SyncPhase::Done,
                counts: run.counts,
                started_at: Some(run.started_at),
                finished_at: run.finished_at,
                seconds_left: None,
                error: run.error,
            },
        })
    }

    /// Waits until the customers of a first sync are in the store, so the first
    /// page a new partner opens is not empty for want of a few seconds.
    pub async fn wait_for_customers(
        self: &Arc<Self>,
        connection: &Connection,
    ) -> Result<(), SyncError> {
        let syncer = self.syncer(connection.partner);
        if self.store.latest_sync(connection.partner).await?.is_none() && !syncer.is_running() {
            self.spawn(connection.clone(), SyncKind::Full);
        }
        let mut progress = syncer.subscribe();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(run) = self.store.latest_sync(connection.partner).await?
                && (run.counts.customers_total.is_some() || run.status != SyncStatus::Running)
            {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, progress.changed())
                .await
                .is_err()
            {
                return Ok(());
            }
        }
    }

    /// For every connected partner: a sync now (full the first time,
    /// incremental after), then one every `every`.
    pub fn schedule(self: Arc<Self>, connections: Arc<Connections>, every: std::time::Duration) {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                for connection in connections.all() {
                    let kind = match self.store.last_synced(connection.partner).await {
                        Ok(Some(_)) => SyncKind::Incremental,
                        _ => SyncKind::Full,
                    };
                    self.spawn(connection, kind);
                }
            }
        });
    }
}
