//! The store: every query the proxy makes lives here, so another database
//! (PostgreSQL for scale-out) can be added without touching the callers.

use std::path::Path;
use std::str::FromStr;

use chrono::{SecondsFormat, Utc};
use model::api::CustomerRow;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// A partner's row ID in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartnerId(pub i64);

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Opens (creating if needed) the SQLite file in `data_dir` and migrates it.
    pub async fn open(data_dir: &Path) -> Result<Store, sqlx::Error> {
        std::fs::create_dir_all(data_dir).map_err(sqlx::Error::Io)?;
        let url = format!("sqlite://{}", data_dir.join("proxy.sqlite3").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            // WAL lets readers proceed while the sync writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// The partner with this tenant, created on first sight.
    pub async fn partner(&self, tenant_id: &str) -> Result<PartnerId, sqlx::Error> {
        sqlx::query("INSERT INTO partners (tenant_id, created_at) VALUES (?, ?) ON CONFLICT (tenant_id) DO NOTHING")
            .bind(tenant_id)
            .bind(now())
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT id FROM partners WHERE tenant_id = ?")
            .bind(tenant_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(PartnerId(row.get(0)))
    }

    /// Replaces a partner's customers with the list just read, in one
    /// transaction, so readers see the old list or the new one, never half.
    pub async fn replace_customers(
        &self,
        partner: PartnerId,
        customers: &[CustomerRow],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let stamp = now();
        for c in customers {
            sqlx::query(
                "INSERT INTO customers (partner_id, id, name, domain, relationship, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (partner_id, id) DO UPDATE SET
                   name = excluded.name, domain = excluded.domain,
                   relationship = excluded.relationship, updated_at = excluded.updated_at",
            )
            .bind(partner.0)
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.domain)
            .bind(&c.relationship)
            .bind(&stamp)
            .execute(&mut *tx)
            .await?;
        }
        // Customers no longer in Partner Center are gone from the list.
        sqlx::query("DELETE FROM customers WHERE partner_id = ? AND updated_at <> ?")
            .bind(partner.0)
            .bind(&stamp)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub async fn customers(&self, partner: PartnerId) -> Result<Vec<CustomerRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, name, domain, relationship FROM customers WHERE partner_id = ? ORDER BY name COLLATE NOCASE, id",
        )
        .bind(partner.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CustomerRow {
                id: r.get(0),
                name: r.get(1),
                domain: r.get(2),
                relationship: r.get(3),
            })
            .collect())
    }

    pub async fn start_sync(&self, partner: PartnerId) -> Result<i64, sqlx::Error> {
        let row = sqlx::query("INSERT INTO sync_runs (partner_id, started_at, status) VALUES (?, ?, 'running') RETURNING id")
            .bind(partner.0)
            .bind(now())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    pub async fn finish_sync(
        &self,
        run: i64,
        customers: usize,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sync_runs SET finished_at = ?, status = ?, customers_done = ?, customers_total = ?, error = ? WHERE id = ?",
        )
        .bind(now())
        .bind(if error.is_some() { "failed" } else { "succeeded" })
        .bind(customers as i64)
        .bind(customers as i64)
        .bind(error)
        .bind(run)
        .execute(&self.pool)
        .await
        .map(|_| ())
    }

    /// When the partner's last successful sync finished.
    pub async fn last_synced(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT MAX(finished_at) FROM sync_runs WHERE partner_id = ? AND status = 'succeeded'",
        )
        .bind(partner.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get(0))
    }
}
