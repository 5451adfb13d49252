//! One row per sync, so progress survives restarts and failures are visible,
//! and every replica sharing the store sees it. The process running a sync
//! holds it under a lease that it renews; a run left `running` past its
//! lease was left by a process that died.

use chrono::{DateTime, Utc};
use model::api::{SyncCounts, SyncKind, SyncPhase, SyncProblem, SyncStatus};

use super::{PartnerId, Store, now, stamp};

/// A sync as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub kind: SyncKind,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: SyncStatus,
    pub phase: SyncPhase,
    pub counts: SyncCounts,
    pub error: Option<String>,
    /// What it could not read.
    pub problems: Vec<SyncProblem>,
}

#[derive(sqlx::FromRow)]
struct SyncRunRow {
    id: i64,
    kind: String,
    started_at: String,
    finished_at: Option<String>,
    status: String,
    phase: String,
    customers_done: i64,
    customers_total: Option<i64>,
    line_items: i64,
    feeds_done: i64,
    feeds_total: Option<i64>,
    errors: i64,
    error: Option<String>,
    problems: String,
}

impl From<SyncRunRow> for SyncRun {
    fn from(r: SyncRunRow) -> Self {
        SyncRun {
            id: r.id,
            kind: SyncKind::parse(&r.kind).unwrap_or_default(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            status: SyncStatus::parse(&r.status),
            phase: SyncPhase::parse(&r.phase),
            counts: SyncCounts {
                customers_done: r.customers_done as usize,
                customers_total: r.customers_total.map(|n| n as usize),
                line_items: r.line_items as usize,
                feeds_done: r.feeds_done as usize,
                feeds_total: r.feeds_total.map(|n| n as usize),
                errors: r.errors as usize,
            },
            error: r.error,
            // Written by this code from the same type; unreadable only if edited by hand.
            problems: serde_json::from_str(&r.problems).unwrap_or_default(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct RunningRow {
    id: i64,
    partner_id: PartnerId,
    kind: String,
    holder: Option<String>,
    lease_expires_at: Option<String>,
}

impl RunningRow {
    /// Whether the run was left by a process that died: its lease ran out
    /// (times are written by `stamp`, so text order is time order), or its
    /// holder is known dead.
    fn left_behind(&self, now: &str, dead: &(dyn Fn(&str) -> bool + Sync)) -> bool {
        self.lease_expires_at
            .as_deref()
            .is_none_or(|until| until <= now)
            || self.holder.as_deref().is_some_and(dead)
    }
}

/// A run left `running` past its lease: its process died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbandonedRun {
    pub id: i64,
    pub partner: PartnerId,
    pub kind: SyncKind,
    pub holder: Option<String>,
}

impl Store {
    /// Starts a run of the partner's sync held by `holder` until
    /// `lease_until`, unless another process holds a running one whose lease
    /// has not expired (then `None`). Runs of the partner left running past
    /// their lease, or by `dead` holders, are interrupted in the same
    /// transaction: one run of a partner is running at a time.
    pub async fn start_sync(
        &self,
        partner: PartnerId,
        kind: SyncKind,
        holder: &str,
        lease_until: DateTime<Utc>,
        dead: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.write().await?;
        let running: Vec<RunningRow> = sql!(
            query_as,
            tx.on(),
            "SELECT id, partner_id, kind, holder, lease_expires_at FROM sync_runs
             WHERE partner_id = ? AND status = ?";
            .bind(partner)
            .bind(SyncStatus::Running.as_str())
            .fetch_all
        )?;
        let now_text = now();
        for run in running {
            if run.holder.as_deref() != Some(holder) && !run.left_behind(&now_text, dead) {
                return Ok(None);
            }
            sql!(
                execute,
                tx.on(),
                "UPDATE sync_runs SET status = ?, phase = ?, finished_at = ? WHERE id = ?";
                .bind(SyncStatus::Interrupted.as_str())
                .bind(SyncPhase::Done.as_str())
                .bind(&now_text)
                .bind(run.id)
            )?;
        }
        let id = sql!(
            query_scalar,
            tx.on(),
            "INSERT INTO sync_runs (partner_id, started_at, status, kind, phase, holder, lease_expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id";
            .bind(partner)
            .bind(&now_text)
            .bind(SyncStatus::Running.as_str())
            .bind(kind.as_str())
            .bind(SyncPhase::Customers.as_str())
            .bind(holder)
            .bind(stamp(lease_until))
            .fetch_one
        )?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Extends the lease of a run `holder` holds; false when the run is no
    /// longer its own (taken over after its lease ran out) or over.
    pub async fn renew_sync(
        &self,
        run: i64,
        holder: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        // Not a write any kept figure depends on.
        let renewed = sql!(
            execute,
            self.quiet_writer().await?.on(),
            "UPDATE sync_runs SET lease_expires_at = ? WHERE id = ? AND holder = ? AND status = ?";
            .bind(stamp(lease_until))
            .bind(run)
            .bind(holder)
            .bind(SyncStatus::Running.as_str())
        )?;
        Ok(renewed == 1)
    }

    /// Runs still `running` past their lease, or held by `dead` holders.
    pub async fn abandoned_syncs(
        &self,
        dead: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<AbandonedRun>, sqlx::Error> {
        let rows: Vec<RunningRow> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, partner_id, kind, holder, lease_expires_at FROM sync_runs WHERE status = ?";
            .bind(SyncStatus::Running.as_str())
            .fetch_all
        )?;
        let now = now();
        Ok(rows
            .into_iter()
            .filter(|r| r.left_behind(&now, dead))
            .map(|r| AbandonedRun {
                id: r.id,
                partner: r.partner_id,
                kind: SyncKind::parse(&r.kind).unwrap_or_default(),
                holder: r.holder,
            })
            .collect())
    }

    /// Marks runs as interrupted (left running by processes that died).
    pub async fn interrupt_syncs(&self, runs: &[i64]) -> Result<(), sqlx::Error> {
        if runs.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        let now = now();
        for run in runs {
            sql!(
                execute,
                tx.on(),
                "UPDATE sync_runs SET status = ?, phase = ?, finished_at = ? WHERE id = ? AND status = ?";
                .bind(SyncStatus::Interrupted.as_str())
                .bind(SyncPhase::Done.as_str())
                .bind(&now)
                .bind(run)
                .bind(SyncStatus::Running.as_str())
            )?;
        }
        tx.commit().await
    }

    /// Records a sync's progress, so it can be shown after a restart and by
    /// every replica.
    pub async fn update_sync(
        &self,
        run: i64,
        phase: SyncPhase,
        p: &SyncCounts,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "UPDATE sync_runs SET phase = ?, customers_done = ?, customers_total = ?, line_items = ?,
                    feeds_done = ?, feeds_total = ?, errors = ? WHERE id = ?";
            .bind(phase.as_str())
            .bind(p.customers_done as i64)
            .bind(p.customers_total.map(|n| n as i64))
            .bind(p.line_items as i64)
            .bind(p.feeds_done as i64)
            .bind(p.feeds_total.map(|n| n as i64))
            .bind(p.errors as i64)
            .bind(run)
        )?;
        tx.commit().await
    }

    pub async fn finish_sync(
        &self,
        run: i64,
        p: &SyncCounts,
        status: SyncStatus,
        error: Option<&str>,
        problems: &[SyncProblem],
    ) -> Result<(), sqlx::Error> {
        self.update_sync(run, SyncPhase::Done, p).await?;
        let problems = serde_json::to_string(problems).unwrap_or_else(|_| "[]".into());
        let mut tx = self.write().await?;
        // A run another replica took over (and marked interrupted) stays so.
        sql!(
            execute,
            tx.on(),
            "UPDATE sync_runs SET finished_at = ?, status = ?, error = ?, problems = ?
             WHERE id = ? AND status = ?";
            .bind(now())
            .bind(status.as_str())
            .bind(error)
            .bind(problems)
            .bind(run)
            .bind(SyncStatus::Running.as_str())
        )?;
        tx.commit().await
    }

    /// The partner's latest sync, whatever its state.
    pub async fn latest_sync(&self, partner: PartnerId) -> Result<Option<SyncRun>, sqlx::Error> {
        let row: Option<SyncRunRow> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, kind, started_at, finished_at, status, phase, customers_done, customers_total,
                    line_items, feeds_done, feeds_total, errors, error, problems
             FROM sync_runs WHERE partner_id = ? ORDER BY id DESC LIMIT 1";
            .bind(partner)
            .fetch_optional
        )?;
        Ok(row.map(SyncRun::from))
    }

    /// When the partner's last successful sync finished.
    /// When the customers and their details were last read by a sync that
    /// succeeded (a full or incremental one).
    pub async fn last_details_read(
        &self,
        partner: PartnerId,
    ) -> Result<Option<String>, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT MAX(finished_at) FROM sync_runs WHERE partner_id = ? AND status = ? AND kind <> ?";
            .bind(partner)
            .bind(SyncStatus::Succeeded.as_str())
            .bind(SyncKind::Usage.as_str())
            .fetch_one
        )
    }

    pub async fn last_synced(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT MAX(finished_at) FROM sync_runs WHERE partner_id = ? AND status = ?";
            .bind(partner)
            .bind(SyncStatus::Succeeded.as_str())
            .fetch_one
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(_: &str) -> bool {
        false
    }

    fn in_seconds(s: i64) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(s)
    }

    /// Every run's ID and status, as stored.
    async fn statuses(store: &Store) -> Vec<(i64, String)> {
        let mut reader = store.reader().await.unwrap();
        sql!(query_as, reader.on(), "SELECT id, status FROM sync_runs ORDER BY id"; .fetch_all)
            .unwrap()
    }

    on_both_stores! {
        async fn a_run_keeps_its_progress_and_outcome(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            assert_eq!(store.latest_sync(p).await.unwrap(), None);
            let id = store
                .start_sync(p, SyncKind::Incremental, "a", in_seconds(30), &alive)
                .await
                .unwrap()
                .unwrap();
            let counts = SyncCounts {
                customers_done: 3,
                customers_total: Some(5),
                line_items: 1234,
                feeds_done: 1,
                feeds_total: Some(4),
                errors: 0,
            };
            store
                .update_sync(id, SyncPhase::Usage, &counts)
                .await
                .unwrap();
            let run = store.latest_sync(p).await.unwrap().unwrap();
            assert_eq!(
                (run.id, run.kind, run.status, run.phase),
                (
                    id,
                    SyncKind::Incremental,
                    SyncStatus::Running,
                    SyncPhase::Usage
                )
            );
            assert_eq!(run.counts, counts);
            assert_eq!(store.last_synced(p).await.unwrap(), None);
            store
                .finish_sync(id, &counts, SyncStatus::Succeeded, None, &[])
                .await
                .unwrap();
            let run = store.latest_sync(p).await.unwrap().unwrap();
            assert_eq!(
                (run.status, run.phase),
                (SyncStatus::Succeeded, SyncPhase::Done)
            );
            assert_eq!(store.last_synced(p).await.unwrap(), run.finished_at);
        }

        async fn one_run_of_a_partner_at_a_time_among_replicas(store: Store, other: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            let q = store.partner("tenant-b").await.unwrap();
            let first = store
                .start_sync(p, SyncKind::Full, "a", in_seconds(30), &alive)
                .await
                .unwrap()
                .unwrap();
            // The other replica may not start one of this partner, but of another.
            let refused = other.start_sync(p, SyncKind::Full, "b", in_seconds(30), &alive);
            assert_eq!(refused.await.unwrap(), None);
            let elsewhere = other.start_sync(q, SyncKind::Full, "b", in_seconds(30), &alive);
            assert!(elsewhere.await.unwrap().is_some());
            assert!(store.abandoned_syncs(&alive).await.unwrap().is_empty());
            // The holder renews; another cannot.
            assert!(store.renew_sync(first, "a", in_seconds(-1)).await.unwrap());
            assert!(!other.renew_sync(first, "b", in_seconds(30)).await.unwrap());
            // Its lease ran out: abandoned, and the other replica takes it over.
            let abandoned = other.abandoned_syncs(&alive).await.unwrap();
            assert_eq!(
                abandoned,
                [AbandonedRun {
                    id: first,
                    partner: p,
                    kind: SyncKind::Full,
                    holder: Some("a".into()),
                }]
            );
            let second = other
                .start_sync(p, SyncKind::Full, "b", in_seconds(30), &alive)
                .await
                .unwrap()
                .unwrap();
            let first_run = |runs: Vec<(i64, String)>| runs.into_iter().find(|r| r.0 == first);
            let runs = statuses(&store).await;
            assert_eq!(first_run(runs).unwrap().1, "interrupted");
            assert!(
                !store.renew_sync(first, "a", in_seconds(30)).await.unwrap(),
                "the first holder learns it lost the run"
            );
            // Finishing it anyway (a holder stalled past its lease) leaves it so.
            let counts = SyncCounts::default();
            let finish = store.finish_sync(first, &counts, SyncStatus::Succeeded, None, &[]);
            finish.await.unwrap();
            let runs = statuses(&store).await;
            assert_eq!(first_run(runs).unwrap().1, "interrupted");
            // A holder known dead (a process of this host that is gone) holds
            // nothing, lease or not.
            let dead = |holder: &str| holder == "b";
            assert_eq!(store.abandoned_syncs(&dead).await.unwrap().len(), 2);
            let third = store.start_sync(p, SyncKind::Usage, "a", in_seconds(30), &dead);
            assert!(third.await.unwrap().is_some());
            assert_eq!(
                store.latest_sync(p).await.unwrap().unwrap().status,
                SyncStatus::Running
            );
            let second_status = statuses(&store).await.into_iter().find(|r| r.0 == second);
            assert_eq!(second_status.unwrap().1, "interrupted");
        }

        async fn runs_left_running_by_a_dead_process_are_interrupted(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            store
                .start_sync(p, SyncKind::Full, "gone", in_seconds(30), &alive)
                .await
                .unwrap();
            let dead = |holder: &str| holder == "gone";
            let abandoned = store.abandoned_syncs(&dead).await.unwrap();
            assert_eq!(abandoned.len(), 1);
            store.interrupt_syncs(&[abandoned[0].id]).await.unwrap();
            let run = store.latest_sync(p).await.unwrap().unwrap();
            assert_eq!(run.status, SyncStatus::Interrupted);
            assert!(run.finished_at.is_some());
            assert!(store.abandoned_syncs(&dead).await.unwrap().is_empty());
        }
    }
}
