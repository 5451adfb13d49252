//! One row per sync, so progress survives restarts and failures are visible.

use model::api::{SyncCounts, SyncKind, SyncProblem, SyncStatus};

use super::{PartnerId, Store, now};

/// A sync as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub kind: SyncKind,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: SyncStatus,
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

impl Store {
    pub async fn start_sync(&self, partner: PartnerId, kind: SyncKind) -> Result<i64, sqlx::Error> {
        let mut tx = self.write().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO sync_runs (partner_id, started_at, status, kind) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(partner)
        .bind(now())
        .bind(SyncStatus::Running.as_str())
        .bind(kind.as_str())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a sync's progress, so it can be shown after a restart.
    pub async fn update_sync(&self, run: i64, p: &SyncCounts) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE sync_runs SET customers_done = ?, customers_total = ?, line_items = ?,
                    feeds_done = ?, feeds_total = ?, errors = ? WHERE id = ?",
        )
        .bind(p.customers_done as i64)
        .bind(p.customers_total.map(|n| n as i64))
        .bind(p.line_items as i64)
        .bind(p.feeds_done as i64)
        .bind(p.feeds_total.map(|n| n as i64))
        .bind(p.errors as i64)
        .bind(run)
        .execute(&mut *tx)
        .await?;
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
        self.update_sync(run, p).await?;
        let problems = serde_json::to_string(problems).unwrap_or_else(|_| "[]".into());
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE sync_runs SET finished_at = ?, status = ?, error = ?, problems = ? WHERE id = ?",
        )
            .bind(now())
            .bind(status.as_str())
            .bind(error)
            .bind(problems)
            .bind(run)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Runs left `running` by a process that died: they are over.
    pub async fn abandon_running_syncs(&self) -> Result<u64, sqlx::Error> {
        let mut tx = self.write().await?;
        let affected =
            sqlx::query("UPDATE sync_runs SET status = ?, finished_at = ? WHERE status = ?")
                .bind(SyncStatus::Interrupted.as_str())
                .bind(now())
                .bind(SyncStatus::Running.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(affected)
    }

    /// The partner's latest sync, whatever its state.
    pub async fn latest_sync(&self, partner: PartnerId) -> Result<Option<SyncRun>, sqlx::Error> {
        let row: Option<SyncRunRow> = sqlx::query_as(
            "SELECT id, kind, started_at, finished_at, status, customers_done, customers_total,
                    line_items, feeds_done, feeds_total, errors, error, problems
             FROM sync_runs WHERE partner_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(partner)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(SyncRun::from))
    }

    /// When the partner's last successful sync finished.
    /// When the customers and their details were last read by a sync that
    /// succeeded (a full or incremental one).
    pub async fn last_details_read(
        &self,
        partner: PartnerId,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MAX(finished_at) FROM sync_runs WHERE partner_id = ? AND status = ? AND kind <> ?",
        )
        .bind(partner)
        .bind(SyncStatus::Succeeded.as_str())
        .bind(SyncKind::Usage.as_str())
        .fetch_one(&self.pool)
        .await
    }

    pub async fn last_synced(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MAX(finished_at) FROM sync_runs WHERE partner_id = ? AND status = ?",
        )
        .bind(partner)
        .bind(SyncStatus::Succeeded.as_str())
        .fetch_one(&self.pool)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::temporary;

    #[tokio::test]
    async fn a_run_keeps_its_progress_and_outcome() {
        let (_dir, store) = temporary().await;
        let p = store.partner("tenant-a").await.unwrap();
        assert_eq!(store.latest_sync(p).await.unwrap(), None);
        let id = store.start_sync(p, SyncKind::Incremental).await.unwrap();
        let counts = SyncCounts {
            customers_done: 3,
            customers_total: Some(5),
            line_items: 1234,
            feeds_done: 1,
            feeds_total: Some(4),
            errors: 0,
        };
        store.update_sync(id, &counts).await.unwrap();
        let run = store.latest_sync(p).await.unwrap().unwrap();
        assert_eq!(
            (run.id, run.kind, run.status),
            (id, SyncKind::Incremental, SyncStatus::Running)
        );
        assert_eq!(run.counts, counts);
        assert_eq!(store.last_synced(p).await.unwrap(), None);
        store
            .finish_sync(id, &counts, SyncStatus::Succeeded, None, &[])
            .await
            .unwrap();
        let run = store.latest_sync(p).await.unwrap().unwrap();
        assert_eq!(run.status, SyncStatus::Succeeded);
        assert_eq!(store.last_synced(p).await.unwrap(), run.finished_at);
    }

    #[tokio::test]
    async fn runs_left_running_by_a_dead_process_are_interrupted() {
        let (_dir, store) = temporary().await;
        let p = store.partner("tenant-a").await.unwrap();
        store.start_sync(p, SyncKind::Full).await.unwrap();
        assert_eq!(store.abandon_running_syncs().await.unwrap(), 1);
        let run = store.latest_sync(p).await.unwrap().unwrap();
        assert_eq!(run.status, SyncStatus::Interrupted);
        assert!(run.finished_at.is_some());
        assert_eq!(store.abandon_running_syncs().await.unwrap(), 0);
    }
}
