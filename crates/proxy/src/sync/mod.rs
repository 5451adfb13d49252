//! The sync engine: reads a partner's customers, subscriptions, budgets and
//! daily rated usage from Partner Center and Microsoft Graph into the store.
//!
//! Usage arrives in scopes: per billing currency, the unbilled current and
//! last periods, and each invoice's billed lines, each from Graph's billing
//! export (new commerce from the cutover) or Partner Center's v1 routes
//! (legacy commerce, older periods). A scope's lines are staged while it is
//! read and replace what it held in one transaction when it ends, so a sync
//! that dies midway leaves the previous snapshot whole and the next one ends
//! with the same rows: nothing lost, nothing twice.
//!
//! One bad answer costs only its own item: the customer list, each
//! customer's details (subscriptions, budget), the invoice list, each feed
//! and each line succeed or fail alone. What could not be read is a
//! `SyncProblem` of the run; the run fails only when nothing could be read
//! (or the store failed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{SecondsFormat, Utc};
use model::api::{SyncCounts, SyncPhase, SyncProblem, SyncProblemKind, SyncProgress, SyncStatus};
use tokio::sync::watch;

mod customers;
mod exports;
pub mod lease;
#[cfg(test)]
mod tests;
mod usage;

use customers::{sync_customer_details, sync_customers};
use lease::{Holder, LeaseTiming};
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
    /// Every read failed: nothing of the partner's could be kept.
    #[error("nothing could be read from Partner Center: {0}")]
    NothingRead(String),
    /// Another replica runs the partner's sync (and holds its lease).
    #[error("another replica is running this partner's sync")]
    Elsewhere,
    /// The run's lease ran out (the store answered none of its renewals)
    /// and another replica took the partner's sync over: this run stopped.
    #[error("this replica lost the sync's lease to another")]
    LeaseLost,
}

/// Problems kept with a run and shown; the count says how many there were.
const PROBLEMS_SHOWN: usize = 200;

/// What the sync reads besides the partner's invoices.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Billing currencies read besides the invoices' (upper case).
    pub currencies: Vec<String>,
    /// Months of billed usage kept.
    pub history_months: u32,
    /// The first billing month whose new-commerce usage comes only from
    /// Graph's billing export (Microsoft's cutover: April 2025).
    pub v2_from: chrono::NaiveDate,
    pub export_timing: crate::graph_billing::ExportTiming,
    pub lease: LeaseTiming,
}

/// Runs the partners' syncs: one at a time per partner, in the background
/// or awaited.
pub struct Engine {
    store: Store,
    pc: Arc<PartnerCenter>,
    settings: SyncSettings,
    syncers: Mutex<HashMap<PartnerId, Arc<Syncer>>>,
    /// This process, as the holder of the runs it starts.
    holder: Holder,
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
    problems: Mutex<Vec<SyncProblem>>,
    /// Something was read from the upstream: a run with problems still
    /// succeeded with what it read.
    read_something: AtomicBool,
    /// A signed-in person's delegated token was refused: said once per run.
    user_token_refused: AtomicBool,
}

/// Whether a failure was retried before it was reported: throttling,
/// unavailability and cut bodies are; refusals and unreadable answers are not.
fn was_retried(e: &PcError) -> bool {
    matches!(e, PcError::Throttled { .. } | PcError::Unavailable(_))
}

impl Run {
    /// An upstream answer was read.
    fn read(&self) {
        self.read_something.store(true, Ordering::Relaxed);
    }

    /// Something could not be read; the run goes on without it.
    fn problem(&self, problem: SyncProblem) {
        tracing::warn!(
            kind = ?problem.kind,
            subject = problem.subject.as_deref().unwrap_or(""),
            call = %problem.call,
            reason = %problem.reason,
            "not synced"
        );
        self.bump(|c| c.errors += 1);
        let mut problems = self.problems.lock().expect("problems poisoned");
        if problems.len() < PROBLEMS_SHOWN {
            problems.push(problem);
        }
    }

    /// An upstream call failed: its item is a problem of the run.
    fn failed(&self, kind: SyncProblemKind, subject: Option<&str>, call: String, error: &PcError) {
        self.problem(SyncProblem {
            kind,
            subject: subject.map(str::to_string),
            name: None,
            call,
            reason: error.to_string(),
            retried: was_retried(error),
            next_sync: true,
            code: None,
        });
    }

    fn bump(&self, f: impl FnOnce(&mut SyncCounts)) -> SyncCounts {
        let mut counts = self.counts.lock().expect("counts poisoned");
        f(&mut counts);
        counts.clone()
    }

    /// Publishes the counters and an estimate of the time left, and keeps
    /// them in the store so a reload or a restart shows them.
    async fn report(&self, phase: SyncPhase) -> Result<(), SyncError> {
        let counts = self.counts.lock().expect("counts poisoned").clone();
        let done = model::progress::fraction_done(&counts);
        let elapsed = self.started.elapsed().as_secs_f64();
        // Customers read much faster than usage files: an estimate before
        // the first file is in promised half the time it took.
        let seconds_left = (done > 0.02 && counts.feeds_done > 0)
            .then(|| (elapsed / done * (1.0 - done)).round() as u64);
        self.syncer.progress.send_replace(SyncProgress {
            phase,
            counts: counts.clone(),
            seconds_left,
            ..self.progress.clone()
        });
        self.store.update_sync(self.id, phase, &counts).await?;
        Ok(())
    }
}

impl Engine {
    pub fn new(store: Store, pc: Arc<PartnerCenter>, settings: SyncSettings) -> Engine {
        Engine {
            store,
            pc,
            settings,
            syncers: Mutex::default(),
            holder: Holder::of_this_process(),
        }
    }

    /// Whether a run's holder is known to be gone (see [`Holder::knows_dead`]).
    fn dead(&self) -> impl Fn(&str) -> bool + Sync + '_ {
        |holder| self.holder.knows_dead(holder)
    }

    /// Marks the runs left running by processes that died (their lease ran
    /// out, or they were this host's) as interrupted; at start-up.
    pub async fn interrupt_abandoned(&self) -> Result<usize, SyncError> {
        let abandoned = self.store.abandoned_syncs(&self.dead()).await?;
        let ids: Vec<i64> = abandoned.iter().map(|run| run.id).collect();
        self.store.interrupt_syncs(&ids).await?;
        Ok(ids.len())
    }

    /// Every `LeaseTiming::renew_every`: the partners whose run was left by a
    /// replica that died are synced here, the same kind of sync again.
    pub fn take_over_abandoned(self: Arc<Self>, connections: Arc<Connections>) {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.settings.lease.renew_every());
            loop {
                ticks.tick().await;
                let abandoned = match self.store.abandoned_syncs(&self.dead()).await {
                    Ok(abandoned) => abandoned,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not look for abandoned syncs");
                        continue;
                    }
                };
                for run in abandoned {
                    let Some(connection) = connections.of(&self.store, run.partner).await else {
                        continue;
                    };
                    tracing::info!(
                        run = run.id,
                        holder = run.holder.as_deref().unwrap_or(""),
                        "taking over a sync whose replica stopped"
                    );
                    self.spawn(connection, run.kind);
                }
            }
        });
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
            match engine.run(&connection, kind).await {
                Err(SyncError::Elsewhere) => {
                    tracing::info!(
                        partner = connection.partner.0,
                        "sync left to the replica running it"
                    )
                }
                Err(e) => tracing::warn!(error = %e, "sync failed"),
                Ok(_) => {}
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
        let lease = self.settings.lease;
        let until = || Utc::now() + lease.lease;
        let holder = self.holder.name.as_str();
        let id = self
            .store
            .start_sync(connection.partner, kind, holder, until(), &self.dead())
            .await?
            .ok_or(SyncError::Elsewhere)?;
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
            problems: Mutex::default(),
            read_something: AtomicBool::new(false),
            user_token_refused: AtomicBool::new(false),
        });
        tracing::info!(run = id, kind = kind.as_str(), "sync started");
        // Only the store's failures (and crashed tasks) end a run early: an
        // upstream failure is a problem of its own item. And a lease lost:
        // the run stops where it is (what it staged is cleared by the next
        // read of its scope) and leaves the partner to the replica that
        // took it over.
        let renewals = async {
            let mut ticks = tokio::time::interval(lease.renew_every());
            ticks.tick().await;
            let mut last_renewed = Instant::now();
            loop {
                ticks.tick().await;
                match self.store.renew_sync(id, holder, until()).await {
                    Ok(true) => last_renewed = Instant::now(),
                    Ok(false) => return,
                    Err(e) if last_renewed.elapsed() >= lease.lease => {
                        tracing::warn!(run = id, error = %e, "the sync's lease ran out");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(run = id, error = %e, "the sync's lease was not renewed")
                    }
                }
            }
        };
        let work = async {
            if kind == SyncKind::Usage {
                run.bump(|c| c.customers_total = Some(0));
                return sync_usage(&run, kind).await;
            }
            let customers = sync_customers(&run).await?;
            // Details and usage are independent: read together, the sync takes
            // about the longer of the two, not their sum. Neither cancels the other.
            let (details, usage) = tokio::join!(
                sync_customer_details(&run, customers),
                sync_usage(&run, kind)
            );
            details.and(usage)
        };
        let outcome = tokio::select! {
            outcome = work => outcome,
            () = renewals => Err(SyncError::LeaseLost),
        };
        if let Err(SyncError::LeaseLost) = outcome {
            tracing::warn!(run = id, "sync stopped: another replica took it over");
            syncer.progress.send_replace(SyncProgress {
                status: SyncStatus::Interrupted,
                phase: SyncPhase::Done,
                finished_at: Some(now()),
                ..run.progress.clone()
            });
            return Err(SyncError::LeaseLost);
        }
        let counts = run.counts.lock().expect("counts poisoned").clone();
        let problems = run.problems.lock().expect("problems poisoned").clone();
        let nothing_read = !run.read_something.load(Ordering::Relaxed);
        let (status, error) = match &outcome {
            Err(e) => (SyncStatus::Failed, Some(e.to_string())),
            Ok(()) if problems.is_empty() => (SyncStatus::Succeeded, None),
            Ok(()) if nothing_read => (
                SyncStatus::Failed,
                Some(format!(
                    "nothing could be read from Partner Center: {}",
                    problems[0].reason
                )),
            ),
            Ok(()) => (
                SyncStatus::Succeeded,
                Some(problems_summary(&counts, &problems)),
            ),
        };
        self.store
            .finish_sync(id, &counts, status, error.as_deref(), &problems)
            .await?;
        // The summaries people open first are computed now, not on their first
        // request after the sync.
        if status == SyncStatus::Succeeded {
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
            problems: problems.clone(),
            ..run.progress.clone()
        });
        tracing::info!(
            run = id,
            status = status.as_str(),
            customers = counts.customers_done,
            line_items = counts.line_items,
            problems = counts.errors,
            seconds = run.started.elapsed().as_secs_f64(),
            "sync finished"
        );
        outcome?;
        if status == SyncStatus::Failed {
            return Err(SyncError::NothingRead(
                problems
                    .first()
                    .map(|p| p.reason.clone())
                    .unwrap_or_default(),
            ));
        }
        Ok(counts)
    }

    /// The latest sync: from memory while this process runs it, else from
    /// the store (a run of another replica, or one that ended).
    pub async fn progress(&self, partner: PartnerId) -> Result<SyncProgress, SyncError> {
        let syncer = self.syncer(partner);
        let live = syncer.current();
        if syncer.is_running() && live.status == SyncStatus::Running {
            return Ok(live);
        }
        // Asked by every open page: kept until the store moves.
        let latest = self
            .store
            .memo(partner, "latest sync", || self.store.latest_sync(partner))
            .await?;
        Ok(match Option::clone(&latest) {
            None => live,
            // This process's own last run, with its estimate.
            Some(run) if live.run_id == Some(run.id) && run.status != SyncStatus::Running => live,
            Some(run) => SyncProgress {
                run_id: Some(run.id),
                kind: run.kind,
                status: run.status,
                phase: run.phase,
                counts: run.counts,
                started_at: Some(run.started_at),
                finished_at: run.finished_at,
                seconds_left: None,
                error: run.error,
                problems: run.problems,
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

    /// For every connected partner: a sync now, then one every `usage`
    /// (each skipped when one succeeded within half of it): full the first
    /// time, incremental (details and usage) when the details read last are
    /// `details` old, usage only otherwise.
    pub fn schedule(
        self: Arc<Self>,
        connections: Arc<Connections>,
        usage: std::time::Duration,
        details: std::time::Duration,
    ) {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(usage);
            loop {
                ticks.tick().await;
                for connection in connections.all(&self.store).await {
                    // Every replica schedules every partner: a sync that
                    // succeeded within half the interval (through another
                    // replica, or before a restart) is the one due now.
                    if let Ok(Some(ago)) = self.synced_ago(connection.partner).await
                        && ago < usage / 2
                    {
                        tracing::info!(
                            partner = connection.partner.0,
                            minutes_ago = ago.as_secs() / 60,
                            "scheduled sync skipped: synced recently"
                        );
                        continue;
                    }
                    let kind = self
                        .due(connection.partner, details)
                        .await
                        .unwrap_or(SyncKind::Incremental);
                    self.spawn(connection, kind);
                }
            }
        });
    }

    /// How long ago the partner's last successful sync finished.
    async fn synced_ago(
        &self,
        partner: PartnerId,
    ) -> Result<Option<std::time::Duration>, SyncError> {
        Ok(self
            .store
            .last_synced(partner)
            .await?
            .and_then(|at| age(&at)))
    }

    /// What a scheduled sync of the partner reads now.
    pub async fn due(
        &self,
        partner: PartnerId,
        details: std::time::Duration,
    ) -> Result<SyncKind, SyncError> {
        if self.store.last_synced(partner).await?.is_none() {
            return Ok(SyncKind::Full);
        }
        let fresh = self
            .store
            .last_details_read(partner)
            .await?
            .and_then(|at| age(&at))
            .is_some_and(|age| age < details);
        Ok(if fresh {
            SyncKind::Usage
        } else {
            SyncKind::Incremental
        })
    }
}

/// How long ago a stored time was (a time ahead of this clock, written by
/// another replica's: zero).
fn age(at: &str) -> Option<std::time::Duration> {
    let at = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some(
        Utc::now()
            .signed_duration_since(at)
            .to_std()
            .unwrap_or_default(),
    )
}

/// What a run could not read, in one sentence: how many customers, feeds
/// and lines, and that the rest was kept.
fn problems_summary(counts: &SyncCounts, problems: &[SyncProblem]) -> String {
    let of = |kind: SyncProblemKind| problems.iter().filter(|p| p.kind == kind).count();
    let mut parts = Vec::new();
    if of(SyncProblemKind::Customers) > 0 {
        parts.push("the customer list".to_string());
    }
    let customers: std::collections::BTreeSet<&str> = problems
        .iter()
        .filter(|p| p.kind == SyncProblemKind::Customer)
        .filter_map(|p| p.subject.as_deref())
        .collect();
    if !customers.is_empty() {
        parts.push(match counts.customers_total {
            Some(total) => format!("details of {} of {total} customers", customers.len()),
            None => format!("details of {} customers", customers.len()),
        });
    }
    if of(SyncProblemKind::Invoices) > 0 {
        parts.push("the invoice list".to_string());
    }
    let feeds = of(SyncProblemKind::Feed);
    if feeds > 0 {
        parts.push(match counts.feeds_total {
            Some(total) => format!("{feeds} of {total} usage feeds"),
            None => format!("{feeds} usage feeds"),
        });
    }
    let lines = of(SyncProblemKind::LineItem);
    match lines {
        0 => {}
        1 => parts.push("1 line item".to_string()),
        n => parts.push(format!("{n} line items")),
    }
    let shown = if counts.errors > problems.len() {
        match problems.len() {
            1 => format!(" ({} problems, the first listed)", counts.errors),
            n => format!(" ({} problems, the first {n} listed)", counts.errors),
        }
    } else {
        String::new()
    };
    format!(
        "Could not read {}{shown}; everything else was synced",
        parts.join(", ")
    )
}
