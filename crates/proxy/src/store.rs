//! The store: every query the proxy makes lives here, so another database
//! (PostgreSQL for scale-out) can be added without touching the callers.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, SecondsFormat, Utc};
use model::Amount;
use model::api::{CustomerRow, SyncCounts};
use model::pricing::{Markup, MarkupBasis};
use model::report::DayCost;
use model::usage::LineItem;
use model::{Currency, cube};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

mod identity;

pub use identity::{CustomerUserRow, KeyRow, NewSession, OnboardingRow, SessionRow};

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Dictionary IDs already known, so a page of line items rarely queries them.
    meters: Arc<Mutex<HashMap<MeterKey, i64>>>,
    resources: Arc<Mutex<HashMap<(i64, ResourceKey), i64>>>,
    /// Writers take turns here: SQLite allows one writer, and connections
    /// that meet its lock poll with sleeps, which under a busy sync cost
    /// more time than the writes themselves. Queued here, the next writer
    /// starts the moment the last one commits.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Counts committed writes: figures derived from the store are kept
    /// while it has not moved (see [`Store::memo`]).
    version: Arc<std::sync::atomic::AtomicU64>,
    /// Counts committed writes to the line items alone (a sync's pages, a
    /// markup's repricing): what is computed from the lines is kept across
    /// other writes (budgets, rates, the wizard).
    lines_version: Arc<std::sync::atomic::AtomicU64>,
    memos: Arc<Mutex<HashMap<(PartnerId, &'static str), Memo>>>,
    /// Sessions already read, by token hash: every request names one, and
    /// only this process creates or revokes them (revoking drops the entry).
    sessions: Arc<Mutex<HashMap<String, KeptSession>>>,
    /// Onboarding rows read for the trial check on every request, with when
    /// and at which version: kept a second at most, since an operator
    /// command in another process may end or extend a trial.
    onboarding: Arc<Mutex<HashMap<PartnerId, KeptOnboarding>>>,
}

type Memo = (u64, Arc<dyn std::any::Any + Send + Sync>);

/// A write transaction with the process's writing turn.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
    version: Arc<std::sync::atomic::AtomicU64>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// A connection for one write statement, with the process's writing turn.
pub(crate) struct WriteConn {
    conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
    /// None for writes no kept figure depends on (sessions).
    version: Option<Arc<std::sync::atomic::AtomicU64>>,
}

/// The statement has run by the time its connection is let go.
impl Drop for WriteConn {
    fn drop(&mut self) {
        if let Some(version) = &self.version {
            version.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

impl std::ops::Deref for WriteConn {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

type MeterKey = (String, String, String, String, String, String);
type ResourceKey = (String, String, String, String, String, String);

fn meter_key(l: &LineItem) -> MeterKey {
    (
        l.meter_id.clone(),
        l.meter_name.clone(),
        l.meter_category.clone(),
        l.meter_subcategory.clone(),
        l.unit.clone(),
        l.publisher.clone(),
    )
}

fn resource_key(l: &LineItem) -> ResourceKey {
    (
        l.resource_uri.clone(),
        l.resource_group.clone(),
        l.region.clone(),
        l.tags.clone(),
        l.entitlement_id.clone(),
        l.entitlement_name.clone(),
    )
}

/// A budget as the store keeps it: `None` is "no budget set".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget(pub Option<Amount>);

/// Line items per INSERT statement (23 values each, well under SQLite's
/// limit on parameters).
const LINES_PER_INSERT: usize = 200;

/// The upsert of `rows` line items: inserted, or updated in place when the
/// identity (partner, key) is already stored.
fn upsert_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; 23].join(", "));
    format!(
        "INSERT INTO line_items (partner_id, key, customer_id, subscription_id, usage_date, meter, resource,
            charge_type, quantity_micros, unit_price_micros, effective_unit_price_micros,
            pricing_total_micros, pricing_currency, billing_total_micros, billing_currency,
            list_cost_micros, customer_price_micros, fx_micros,
            pec_basis_points, credit_type, invoice_number, source, run_id)
         VALUES {}
         ON CONFLICT (partner_id, key) DO UPDATE SET
            customer_id = excluded.customer_id, subscription_id = excluded.subscription_id,
            usage_date = excluded.usage_date, meter = excluded.meter, resource = excluded.resource,
            charge_type = excluded.charge_type, quantity_micros = excluded.quantity_micros,
            unit_price_micros = excluded.unit_price_micros,
            effective_unit_price_micros = excluded.effective_unit_price_micros,
            pricing_total_micros = excluded.pricing_total_micros,
            pricing_currency = excluded.pricing_currency,
            billing_total_micros = excluded.billing_total_micros,
            billing_currency = excluded.billing_currency, fx_micros = excluded.fx_micros,
            list_cost_micros = excluded.list_cost_micros,
            customer_price_micros = excluded.customer_price_micros,
            pec_basis_points = excluded.pec_basis_points, credit_type = excluded.credit_type,
            invoice_number = excluded.invoice_number, source = excluded.source, run_id = excluded.run_id",
        vec![one; rows].join(", ")
    )
}

/// A session as kept in memory: live, or revoked by this process (a marker,
/// so that a read racing the revocation cannot put the live row back).
#[derive(Debug, Clone)]
enum KeptSession {
    Live(SessionRow),
    Revoked(std::time::Instant),
}

/// An onboarding row as read, when, and at which store version.
type KeptOnboarding = (std::time::Instant, u64, Option<OnboardingRow>);

/// A partner's row ID in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartnerId(pub i64);

pub(crate) fn now() -> String {
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
            // Another process (an operator command) may hold the write lock briefly.
            .busy_timeout(std::time::Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            meters: Arc::default(),
            resources: Arc::default(),
            turn: Arc::default(),
            version: Arc::default(),
            lines_version: Arc::default(),
            memos: Arc::default(),
            sessions: Arc::default(),
            onboarding: Arc::default(),
        })
    }

    /// A write transaction that takes the write lock at its start: a deferred
    /// one that reads first cannot upgrade while another process (an operator
    /// command) has written, and SQLite answers "database is locked" at once
    /// instead of waiting out the busy timeout.
    async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let turn = self.turn.clone().lock_owned().await;
        Ok(WriteTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _turn: turn,
            version: self.version.clone(),
        })
    }

    /// A connection for a single write statement, in turn with the others.
    async fn writer(&self) -> Result<WriteConn, sqlx::Error> {
        let turn = self.turn.clone().lock_owned().await;
        Ok(WriteConn {
            conn: self.pool.acquire().await?,
            _turn: turn,
            version: Some(self.version.clone()),
        })
    }

    /// A write no kept figure depends on (a session signed in or out): the
    /// summaries of 5,000 customers are not computed again for it.
    async fn quiet_writer(&self) -> Result<WriteConn, sqlx::Error> {
        let turn = self.turn.clone().lock_owned().await;
        Ok(WriteConn {
            conn: self.pool.acquire().await?,
            _turn: turn,
            version: None,
        })
    }

    /// Called after a write to the line items commits (after, so that no
    /// figure is kept under the new version from the old lines).
    fn lines_changed(&self) {
        self.lines_version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// `compute`'s answer for a partner, kept until the next write to the
    /// store: summaries of millions of lines are read far more often than
    /// the lines change (a sync an hour). Another process's writes (an
    /// operator command) are not seen, and touch no figure.
    pub async fn memo<T, E, F, Fut>(
        &self,
        partner: PartnerId,
        name: &'static str,
        compute: F,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
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
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        self.memo_at(&self.lines_version, partner, name, compute)
            .await
    }

    async fn memo_at<T, E, F, Fut>(
        &self,
        counter: &std::sync::atomic::AtomicU64,
        partner: PartnerId,
        name: &'static str,
        compute: F,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        use std::sync::atomic::Ordering;
        // Read before computing: a write that lands meanwhile leaves the
        // entry older than the store, so the next caller computes again.
        let version = counter.load(Ordering::SeqCst);
        let kept = self
            .memos
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
            .lock()
            .expect("memos poisoned")
            .insert((partner, name), (version, value.clone()));
        Ok(value)
    }

    pub async fn partner_name(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT name FROM partners WHERE id = ?")
            .bind(partner.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.get(0)))
    }

    pub async fn set_partner_name(
        &self,
        partner: PartnerId,
        name: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE partners SET name = ? WHERE id = ? AND (name IS NULL OR name <> ?)")
            .bind(name)
            .bind(partner.0)
            .bind(name)
            .execute(&mut *self.writer().await?)
            .await
            .map(|_| ())
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.writer().await?)
            .await
            .map(|_| ())
    }

    /// The partner with this tenant, created on first sight.
    pub async fn partner(&self, tenant_id: &str) -> Result<PartnerId, sqlx::Error> {
        sqlx::query("INSERT INTO partners (tenant_id, created_at) VALUES (?, ?) ON CONFLICT (tenant_id) DO NOTHING")
            .bind(tenant_id)
            .bind(now())
            .execute(&mut *self.writer().await?)
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
        let mut tx = self.write().await?;
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

    pub async fn start_sync(&self, partner: PartnerId, kind: &str) -> Result<i64, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO sync_runs (partner_id, started_at, status, kind) VALUES (?, ?, 'running', ?) RETURNING id",
        )
        .bind(partner.0)
        .bind(now())
        .bind(kind)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    /// Records a sync's progress, so it can be shown after a restart.
    pub async fn update_sync(&self, run: i64, p: &SyncCounts) -> Result<(), sqlx::Error> {
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
        .execute(&mut *self.writer().await?)
        .await
        .map(|_| ())
    }

    pub async fn finish_sync(
        &self,
        run: i64,
        p: &SyncCounts,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        self.update_sync(run, p).await?;
        sqlx::query("UPDATE sync_runs SET finished_at = ?, status = ?, error = ? WHERE id = ?")
            .bind(now())
            .bind(if error.is_some() {
                "failed"
            } else {
                "succeeded"
            })
            .bind(error)
            .bind(run)
            .execute(&mut *self.writer().await?)
            .await
            .map(|_| ())
    }

    /// Runs left `running` by a process that died: they are over.
    pub async fn abandon_running_syncs(&self) -> Result<u64, sqlx::Error> {
        sqlx::query(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
        )
        .bind(now())
        .execute(&mut *self.writer().await?)
        .await
        .map(|r| r.rows_affected())
    }

    /// The partner's latest sync, whatever its state.
    pub async fn latest_sync(&self, partner: PartnerId) -> Result<Option<SyncRun>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, kind, started_at, finished_at, status, customers_done, customers_total,
                    line_items, feeds_done, feeds_total, errors, error
             FROM sync_runs WHERE partner_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(partner.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| SyncRun {
            id: r.get(0),
            kind: r.get(1),
            started_at: r.get(2),
            finished_at: r.get(3),
            status: r.get(4),
            counts: SyncCounts {
                customers_done: r.get::<i64, _>(5) as usize,
                customers_total: r.get::<Option<i64>, _>(6).map(|n| n as usize),
                line_items: r.get::<i64, _>(7) as usize,
                feeds_done: r.get::<i64, _>(8) as usize,
                feeds_total: r.get::<Option<i64>, _>(9).map(|n| n as usize),
                errors: r.get::<i64, _>(10) as usize,
            },
            error: r.get(11),
        }))
    }

    pub async fn replace_subscriptions(
        &self,
        partner: PartnerId,
        customer: &str,
        subscriptions: &[(String, String, String, String)],
        entitlements: &[(String, String, String, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM subscriptions WHERE partner_id = ? AND customer_id = ?")
            .bind(partner.0)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM entitlements WHERE partner_id = ? AND customer_id = ?")
            .bind(partner.0)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        for (id, offer, name, status) in subscriptions {
            sqlx::query(
                "INSERT INTO subscriptions (partner_id, customer_id, id, offer_name, friendly_name, status)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, id) DO UPDATE SET
                 customer_id = excluded.customer_id, offer_name = excluded.offer_name,
                 friendly_name = excluded.friendly_name, status = excluded.status",
            )
            .bind(partner.0)
            .bind(customer)
            .bind(id)
            .bind(offer)
            .bind(name)
            .bind(status)
            .execute(&mut *tx)
            .await?;
        }
        for (id, subscription, name, status) in entitlements {
            sqlx::query(
                "INSERT INTO entitlements (partner_id, customer_id, subscription_id, id, friendly_name, status)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, id) DO UPDATE SET
                 customer_id = excluded.customer_id, subscription_id = excluded.subscription_id,
                 friendly_name = excluded.friendly_name, status = excluded.status",
            )
            .bind(partner.0)
            .bind(customer)
            .bind(subscription)
            .bind(id)
            .bind(name)
            .bind(status)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    pub async fn set_budget(
        &self,
        partner: PartnerId,
        customer: &str,
        budget: Budget,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO budgets (partner_id, customer_id, amount_micros, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (partner_id, customer_id) DO UPDATE SET
             amount_micros = excluded.amount_micros, updated_at = excluded.updated_at",
        )
        .bind(partner.0)
        .bind(customer)
        .bind(budget.0.map(|a| a.micros()))
        .bind(now())
        .execute(&mut *self.writer().await?)
        .await
        .map(|_| ())
    }

    pub async fn set_usage_summary(
        &self,
        partner: PartnerId,
        customer: &str,
        total: Amount,
        currency: &str,
        billing_start: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO usage_summaries (partner_id, customer_id, total_micros, currency, billing_start, updated_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, customer_id) DO UPDATE SET
             total_micros = excluded.total_micros, currency = excluded.currency,
             billing_start = excluded.billing_start, updated_at = excluded.updated_at",
        )
        .bind(partner.0)
        .bind(customer)
        .bind(total.micros())
        .bind(currency)
        .bind(billing_start)
        .bind(now())
        .execute(&mut *self.writer().await?)
        .await
        .map(|_| ())
    }

    /// Partner Center's estimate of a customer's open period: amount and currency.
    pub async fn usage_summary(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Option<(Amount, String)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT total_micros, currency FROM usage_summaries WHERE partner_id = ? AND customer_id = ?",
        )
        .bind(partner.0)
        .bind(customer)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (Amount::from_micros(r.get(0)), r.get(1))))
    }

    pub async fn budget(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Option<Budget>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT amount_micros FROM budgets WHERE partner_id = ? AND customer_id = ?",
        )
        .bind(partner.0)
        .bind(customer)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Budget(r.get::<Option<i64>, _>(0).map(Amount::from_micros))))
    }

    async fn meter_id(
        &self,
        tx: &mut sqlx::SqliteConnection,
        l: &LineItem,
    ) -> Result<i64, sqlx::Error> {
        let key = meter_key(l);
        if let Some(id) = self.meters.lock().expect("cache poisoned").get(&key) {
            return Ok(*id);
        }
        let row = sqlx::query(
            "INSERT INTO meters (meter_id, name, category, subcategory, unit, publisher) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (meter_id, name, category, subcategory, unit, publisher) DO UPDATE SET name = excluded.name
             RETURNING id",
        )
        .bind(&key.0)
        .bind(&key.1)
        .bind(&key.2)
        .bind(&key.3)
        .bind(&key.4)
        .bind(&key.5)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.get(0);
        self.meters.lock().expect("cache poisoned").insert(key, id);
        Ok(id)
    }

    async fn resource_id(
        &self,
        tx: &mut sqlx::SqliteConnection,
        partner: PartnerId,
        l: &LineItem,
    ) -> Result<i64, sqlx::Error> {
        let key = (partner.0, resource_key(l));
        if let Some(id) = self.resources.lock().expect("cache poisoned").get(&key) {
            return Ok(*id);
        }
        let r = &key.1;
        let row = sqlx::query(
            "INSERT INTO resources (partner_id, uri, resource_group, region, tags, entitlement_id, entitlement_name)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, uri, region, tags, entitlement_name) DO UPDATE SET
             resource_group = excluded.resource_group, entitlement_id = excluded.entitlement_id
             RETURNING id",
        )
        .bind(partner.0)
        .bind(&r.0)
        .bind(&r.1)
        .bind(&r.2)
        .bind(&r.3)
        .bind(&r.4)
        .bind(&r.5)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.get(0);
        self.resources
            .lock()
            .expect("cache poisoned")
            .insert(key, id);
        Ok(id)
    }

    /// Writes a page of line items in one transaction: each one inserted,
    /// or updated in place when its identity is already stored.
    pub async fn upsert_line_items(
        &self,
        partner: PartnerId,
        source: &str,
        run: i64,
        items: &[LineItem],
    ) -> Result<(), sqlx::Error> {
        let markups = self.markups(partner).await?;
        let mut tx = self.write().await?;
        let mut ids = Vec::with_capacity(items.len());
        for l in items {
            ids.push((
                self.meter_id(&mut tx, l).await?,
                self.resource_id(&mut tx, partner, l).await?,
            ));
        }
        // Many rows per statement: each statement is a round trip to the
        // connection's thread, which costs more than the row itself.
        for (chunk, ids) in items
            .chunks(LINES_PER_INSERT)
            .zip(ids.chunks(LINES_PER_INSERT))
        {
            let sql = sqlx::AssertSqlSafe(upsert_sql(chunk.len()));
            let mut q = sqlx::query(sql);
            for (l, (meter, resource)) in chunk.iter().zip(ids) {
                let list_cost = l.list_total().micros();
                let price = markups
                    .for_customer(&l.customer_id)
                    .price(l.billing_total.micros(), list_cost);
                q = q
                    .bind(partner.0)
                    .bind(l.key)
                    .bind(l.customer_id.clone())
                    .bind(l.subscription_id.clone())
                    .bind(l.usage_date.format("%Y-%m-%d").to_string())
                    .bind(*meter)
                    .bind(*resource)
                    .bind(l.charge_type.clone())
                    .bind(l.quantity_micros)
                    .bind(l.unit_price.micros())
                    .bind(l.effective_unit_price.micros())
                    .bind(l.pricing_total.micros())
                    .bind(l.pricing_currency.code().to_string())
                    .bind(l.billing_total.micros())
                    .bind(l.billing_currency.code().to_string())
                    .bind(list_cost)
                    .bind(price)
                    .bind(l.fx_micros)
                    .bind(l.pec_basis_points)
                    .bind(l.credit_type.clone())
                    .bind(l.invoice_number.clone())
                    .bind(source.to_string())
                    .bind(run);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.lines_changed();
        Ok(())
    }

    /// A feed was read to its end in `run`. Lines of the billing months it
    /// covers (`sources`) that this run did not see are gone upstream, so
    /// they go here too; then the feed is recorded as complete.
    pub async fn complete_feed(
        &self,
        partner: PartnerId,
        feed: &str,
        sources: &[String],
        run: i64,
        currency: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        let mut line_items = 0i64;
        let mut total = 0i64;
        for source in sources {
            sqlx::query(
                "DELETE FROM line_items WHERE partner_id = ? AND source = ? AND run_id <> ?",
            )
            .bind(partner.0)
            .bind(source)
            .bind(run)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query(
                "SELECT COUNT(*), COALESCE(SUM(billing_total_micros), 0) FROM line_items
                 WHERE partner_id = ? AND source = ?",
            )
            .bind(partner.0)
            .bind(source)
            .fetch_one(&mut *tx)
            .await?;
            line_items += row.get::<i64, _>(0);
            total += row.get::<i64, _>(1);
        }
        sqlx::query(
            "INSERT INTO feeds (partner_id, source, run_id, line_items, billing_total_micros, currency, completed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, source) DO UPDATE SET
             run_id = excluded.run_id, line_items = excluded.line_items,
             billing_total_micros = excluded.billing_total_micros, completed_at = excluded.completed_at",
        )
        .bind(partner.0)
        .bind(feed)
        .bind(run)
        .bind(line_items)
        .bind(total)
        .bind(currency)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.lines_changed();
        Ok(())
    }

    /// Feeds read to the end before, by source.
    pub async fn completed_feeds(
        &self,
        partner: PartnerId,
    ) -> Result<HashSet<String>, sqlx::Error> {
        let rows = sqlx::query("SELECT source FROM feeds WHERE partner_id = ?")
            .bind(partner.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Line items and their billing total per customer and currency, for
    /// checks against the upstream and for the customer list.
    pub async fn totals_by_customer(
        &self,
        partner: PartnerId,
        from: &str,
        to: &str,
    ) -> Result<Vec<CustomerTotal>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT customer_id, billing_currency, COUNT(*), SUM(billing_total_micros), SUM(key % 1000000007)
             FROM line_items WHERE partner_id = ? AND usage_date >= ? AND usage_date <= ?
             GROUP BY customer_id, billing_currency ORDER BY customer_id, billing_currency",
        )
        .bind(partner.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CustomerTotal {
                customer_id: r.get(0),
                currency: r.get(1),
                line_items: r.get::<i64, _>(2) as usize,
                billing_total: Amount::from_micros(r.get(3)),
                key_checksum: r.get(4),
            })
            .collect())
    }

    /// When the partner's customer list was last read from Partner Center.
    pub async fn customers_read_at(
        &self,
        partner: PartnerId,
    ) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT MAX(updated_at) FROM customers WHERE partner_id = ?")
            .bind(partner.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub kind: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub counts: SyncCounts,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTotal {
    pub customer_id: String,
    pub currency: String,
    pub line_items: usize,
    pub billing_total: Amount,
    /// A sum over the lines' identities: equal sets give equal sums.
    pub key_checksum: i64,
}

/// A partner's markups: its default and each customer's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markups {
    pub default: Markup,
    pub customers: HashMap<String, Markup>,
}

impl Markups {
    pub fn for_customer(&self, customer: &str) -> Markup {
        self.customers
            .get(customer)
            .copied()
            .unwrap_or(self.default)
    }
}

fn basis_name(b: MarkupBasis) -> &'static str {
    match b {
        MarkupBasis::PartnerCost => "partnerCost",
        MarkupBasis::ListPrice => "listPrice",
    }
}

/// Which line items: one customer or all, between two days (inclusive).
#[derive(Debug, Clone)]
pub struct Scope {
    pub customer: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The currency totals are shown in and the partner's exchange rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporting {
    pub currency: String,
    /// Units of the reporting currency per unit of each currency, in millionths.
    pub rates: Vec<(String, i64)>,
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
}

impl Store {
    pub async fn markups(&self, partner: PartnerId) -> Result<Markups, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT customer_id, basis, basis_points FROM markups WHERE partner_id = ?",
        )
        .bind(partner.0)
        .fetch_all(&self.pool)
        .await?;
        let mut markups = Markups::default();
        for r in rows {
            let basis = if r.get::<String, _>(1) == "partnerCost" {
                MarkupBasis::PartnerCost
            } else {
                MarkupBasis::ListPrice
            };
            let markup = Markup {
                basis,
                basis_points: r.get(2),
            };
            let customer: String = r.get(0);
            if customer == "*" {
                markups.default = markup;
            } else {
                markups.customers.insert(customer, markup);
            }
        }
        Ok(markups)
    }

    /// Sets (or with `None` removes) a customer's markup, `*` for the
    /// default, and reprices the stored line items it applies to.
    pub async fn set_markup(
        &self,
        partner: PartnerId,
        customer: &str,
        markup: Option<Markup>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        match markup {
            Some(m) => {
                sqlx::query(
                    "INSERT INTO markups (partner_id, customer_id, basis, basis_points, updated_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (partner_id, customer_id) DO UPDATE SET
                     basis = excluded.basis, basis_points = excluded.basis_points, updated_at = excluded.updated_at",
                )
                .bind(partner.0)
                .bind(customer)
                .bind(basis_name(m.basis))
                .bind(m.basis_points)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM markups WHERE partner_id = ? AND customer_id = ?")
                    .bind(partner.0)
                    .bind(customer)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // The same rounding as Markup::price: half away from zero.
        let reprice = "UPDATE line_items SET customer_price_micros = (
                SELECT CASE WHEN base >= 0 THEN (base * (10000 + bp) + 5000) / 10000
                            ELSE (base * (10000 + bp) - 5000) / 10000 END
                FROM (SELECT CASE COALESCE(own.basis, def.basis, 'listPrice')
                                  WHEN 'partnerCost' THEN line_items.billing_total_micros
                                  ELSE line_items.list_cost_micros END AS base,
                             COALESCE(own.basis_points, def.basis_points, 0) AS bp
                      FROM (SELECT 1) LEFT JOIN markups own
                        ON own.partner_id = line_items.partner_id AND own.customer_id = line_items.customer_id
                      LEFT JOIN markups def ON def.partner_id = line_items.partner_id AND def.customer_id = '*'))
             WHERE partner_id = ? AND (? = '*' OR customer_id = ?)";
        sqlx::query(reprice)
            .bind(partner.0)
            .bind(customer)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.lines_changed();
        Ok(())
    }

    pub async fn reporting(&self, partner: PartnerId) -> Result<Reporting, sqlx::Error> {
        let currency: Option<String> =
            sqlx::query("SELECT reporting_currency FROM settings WHERE partner_id = ?")
                .bind(partner.0)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get(0));
        let rates = sqlx::query("SELECT currency, rate_micros FROM exchange_rates WHERE partner_id = ? ORDER BY currency")
            .bind(partner.0)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(Reporting {
            currency: currency.unwrap_or_else(|| Currency::USD.code().to_string()),
            rates,
        })
    }

    pub async fn set_reporting(
        &self,
        partner: PartnerId,
        reporting: &Reporting,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO settings (partner_id, reporting_currency, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET reporting_currency = excluded.reporting_currency,
             updated_at = excluded.updated_at",
        )
        .bind(partner.0)
        .bind(&reporting.currency)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM exchange_rates WHERE partner_id = ?")
            .bind(partner.0)
            .execute(&mut *tx)
            .await?;
        for (currency, rate) in &reporting.rates {
            sqlx::query("INSERT INTO exchange_rates (partner_id, currency, rate_micros, updated_at) VALUES (?, ?, ?, ?)")
                .bind(partner.0)
                .bind(currency)
                .bind(rate)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    pub async fn thresholds(
        &self,
        partner: PartnerId,
    ) -> Result<HashMap<String, Vec<u32>>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT customer_id, percents FROM budget_thresholds WHERE partner_id = ?")
                .bind(partner.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let text: String = r.get(1);
                (
                    r.get(0),
                    text.split(',')
                        .filter_map(|p| p.trim().parse().ok())
                        .collect(),
                )
            })
            .collect())
    }

    pub async fn set_thresholds(
        &self,
        partner: PartnerId,
        customer: &str,
        percents: &[u32],
    ) -> Result<(), sqlx::Error> {
        let text = percents
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(
            "INSERT INTO budget_thresholds (partner_id, customer_id, percents) VALUES (?, ?, ?)
             ON CONFLICT (partner_id, customer_id) DO UPDATE SET percents = excluded.percents",
        )
        .bind(partner.0)
        .bind(customer)
        .bind(text)
        .execute(&mut *self.writer().await?)
        .await
        .map(|_| ())
    }

    pub async fn budgets(
        &self,
        partner: PartnerId,
    ) -> Result<HashMap<String, Option<Amount>>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT customer_id, amount_micros FROM budgets WHERE partner_id = ?")
                .bind(partner.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get::<Option<i64>, _>(1).map(Amount::from_micros),
                )
            })
            .collect())
    }

    /// Azure plan subscriptions and Azure subscriptions per customer.
    pub async fn subscription_counts(
        &self,
        partner: PartnerId,
    ) -> Result<HashMap<String, (u32, u32)>, sqlx::Error> {
        let mut out: HashMap<String, (u32, u32)> = HashMap::new();
        for r in sqlx::query("SELECT customer_id, COUNT(*) FROM subscriptions WHERE partner_id = ? GROUP BY customer_id")
            .bind(partner.0)
            .fetch_all(&self.pool)
            .await?
        {
            out.entry(r.get(0)).or_default().0 = r.get::<i64, _>(1) as u32;
        }
        for r in sqlx::query("SELECT customer_id, COUNT(*) FROM entitlements WHERE partner_id = ? GROUP BY customer_id")
            .bind(partner.0)
            .fetch_all(&self.pool)
            .await?
        {
            out.entry(r.get(0)).or_default().1 = r.get::<i64, _>(1) as u32;
        }
        Ok(out)
    }

    /// The Azure subscriptions of a customer: (id, name, plan subscription, status).
    pub async fn entitlements(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, friendly_name, subscription_id, status FROM entitlements
             WHERE partner_id = ? AND customer_id = ? ORDER BY friendly_name, id",
        )
        .bind(partner.0)
        .bind(customer)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    /// The last day with usage: the "today" of the data, in UTC days.
    pub async fn last_usage_day(
        &self,
        partner: PartnerId,
    ) -> Result<Option<NaiveDate>, sqlx::Error> {
        let row = sqlx::query("SELECT MAX(usage_date) FROM line_items WHERE partner_id = ?")
            .bind(partner.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<String>, _>(0).map(|d| parse_day(&d)))
    }

    /// Costs per customer, currency and day.
    pub async fn daily_totals(
        &self,
        partner: PartnerId,
        scope: &Scope,
    ) -> Result<Vec<DayCost>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT customer_id, billing_currency, usage_date, SUM(billing_total_micros),
                    SUM(customer_price_micros), SUM(list_cost_micros)
             FROM line_items WHERE partner_id = ? AND usage_date >= ? AND usage_date <= ?
               AND (? IS NULL OR customer_id = ?)
             GROUP BY customer_id, billing_currency, usage_date",
        )
        .bind(partner.0)
        .bind(day_text(scope.from))
        .bind(day_text(scope.to))
        .bind(&scope.customer)
        .bind(&scope.customer)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DayCost {
                customer_id: r.get(0),
                currency: r.get(1),
                day: parse_day(&r.get::<String, _>(2)),
                partner_cost: r.get(3),
                customer_price: r.get(4),
                list_cost: r.get(5),
            })
            .collect())
    }

    /// Line items of a scope, with what the customer pays for each, in a
    /// stable order; `limit` and `offset` page through them.
    pub async fn line_items(
        &self,
        partner: PartnerId,
        scope: &Scope,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<(LineItem, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT l.key, l.customer_id, COALESCE(c.name, ''), l.subscription_id, r.entitlement_id,
                    r.entitlement_name, l.usage_date, m.meter_id, m.name, m.category, m.subcategory, m.unit,
                    m.publisher, r.region, r.resource_group, r.uri, r.tags, l.charge_type, l.quantity_micros,
                    l.unit_price_micros, l.effective_unit_price_micros, l.pricing_total_micros,
                    l.pricing_currency, l.billing_total_micros, l.billing_currency, l.fx_micros,
                    l.pec_basis_points, l.credit_type, l.invoice_number, l.customer_price_micros
             FROM line_items l
             JOIN meters m ON m.id = l.meter
             JOIN resources r ON r.id = l.resource
             LEFT JOIN customers c ON c.partner_id = l.partner_id AND c.id = l.customer_id
             WHERE l.partner_id = ? AND l.usage_date >= ? AND l.usage_date <= ?
               AND (? IS NULL OR l.customer_id = ?)
             ORDER BY l.usage_date, l.customer_id, l.key
             LIMIT ? OFFSET ?",
        )
        .bind(partner.0)
        .bind(day_text(scope.from))
        .bind(day_text(scope.to))
        .bind(&scope.customer)
        .bind(&scope.customer)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let currency = |text: String| Currency::parse(&text).unwrap_or(Currency::USD);
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    LineItem {
                        key: r.get(0),
                        customer_id: r.get(1),
                        customer_name: r.get(2),
                        subscription_id: r.get(3),
                        entitlement_id: r.get(4),
                        entitlement_name: r.get(5),
                        usage_date: parse_day(&r.get::<String, _>(6)),
                        meter_id: r.get(7),
                        meter_name: r.get(8),
                        meter_category: r.get(9),
                        meter_subcategory: r.get(10),
                        unit: r.get(11),
                        publisher: r.get(12),
                        region: r.get(13),
                        resource_group: r.get(14),
                        resource_uri: r.get(15),
                        tags: r.get(16),
                        charge_type: r.get(17),
                        quantity_micros: r.get(18),
                        unit_price: Amount::from_micros(r.get(19)),
                        effective_unit_price: Amount::from_micros(r.get(20)),
                        pricing_total: Amount::from_micros(r.get(21)),
                        pricing_currency: currency(r.get(22)),
                        billing_total: Amount::from_micros(r.get(23)),
                        billing_currency: currency(r.get(24)),
                        fx_micros: r.get(25),
                        pec_basis_points: r.get(26),
                        credit_type: r.get(27),
                        invoice_number: r.get(28),
                    },
                    r.get::<i64, _>(29),
                )
            })
            .collect())
    }

    /// Cost per meter category and currency in a scope, largest first.
    pub async fn category_totals(
        &self,
        partner: PartnerId,
        scope: &Scope,
    ) -> Result<Vec<(String, String, i64, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT m.category, l.billing_currency, SUM(l.billing_total_micros), SUM(l.customer_price_micros)
             FROM line_items l JOIN meters m ON m.id = l.meter
             WHERE l.partner_id = ? AND l.usage_date >= ? AND l.usage_date <= ? AND (? IS NULL OR l.customer_id = ?)
             GROUP BY m.category, l.billing_currency ORDER BY 3 DESC",
        )
        .bind(partner.0)
        .bind(day_text(scope.from))
        .bind(day_text(scope.to))
        .bind(&scope.customer)
        .bind(&scope.customer)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    pub async fn customer_name(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT name FROM customers WHERE partner_id = ? AND id = ?")
            .bind(partner.0)
            .bind(customer)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn has_customer(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<bool, sqlx::Error> {
        let row = sqlx::query("SELECT COUNT(*) FROM customers WHERE partner_id = ? AND id = ?")
            .bind(partner.0)
            .bind(customer)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<i64, _>(0) > 0)
    }

    /// The scope's line items as a cube for the pivot.
    pub async fn cube(&self, partner: PartnerId, scope: &Scope) -> Result<cube::Cube, sqlx::Error> {
        let mut builder = cube::CubeBuilder::new();
        let mut offset = 0;
        loop {
            let page = self.line_items(partner, scope, 50_000, offset).await?;
            for (l, price) in &page {
                let customer = if l.customer_name.is_empty() {
                    &l.customer_id
                } else {
                    &l.customer_name
                };
                builder.push(&cube::CubeRow {
                    customer,
                    subscription: &l.entitlement_name,
                    meter_category: &l.meter_category,
                    meter_subcategory: &l.meter_subcategory,
                    meter: &l.meter_name,
                    region: &l.region,
                    resource_group: &l.resource_group,
                    resource: l.resource_name(),
                    tags: &l.tags,
                    publisher: &l.publisher,
                    charge_type: &l.charge_type,
                    currency: l.billing_currency.code(),
                    unit: &l.unit,
                    day: l.usage_date,
                    partner_cost: l.billing_total.micros(),
                    customer_price: *price,
                    list_cost: l.list_total().micros(),
                    quantity: l.quantity_micros,
                    pec_basis_points: l.pec_basis_points.clamp(0, u16::MAX as i32) as u16,
                });
            }
            if (page.len() as i64) < 50_000 {
                break;
            }
            offset += page.len() as i64;
        }
        Ok(builder.finish())
    }
}
