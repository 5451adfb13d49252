//! The store: every query the proxy makes lives here, one file per group
//! of tables, behind the methods of [`Store`]. Callers never see SQL or
//! rows. Two databases sit behind the same methods: the SQLite file in the
//! data directory (the default), and PostgreSQL for replicas that share one
//! store (`--database-url`). A statement is written once for both where it
//! can be (`sql!`); the bulk paths take each database's own way (SQLite's
//! C API, PostgreSQL's arrays).
//!
//! - `memo`: figures kept between writes
//! - `partners`: partners, their names and Commerce IDs
//! - `customers`: customers, subscriptions, Azure subscriptions, budgets,
//!   Partner Center's usage estimates
//! - `sync_runs`: one row per sync, with its progress
//! - `line_items`: writing daily rated usage and its dictionaries
//! - `reads`: reading usage back (totals, pages of lines, the cube)
//! - `pricing`: markups, the reporting currency and rates
//! - `saved_views`: each person's named Explorer views
//! - `sessions`: sign-ins and customers' users
//! - `onboarding`: the wizard's state, the partner's connection, app keys

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

// `sql!`, and the tests' `on_both_stores!`, for the modules below.
#[macro_use]
mod sql;
#[cfg(test)]
#[macro_use]
pub(crate) mod tests;
pub mod alerts;
mod codes;
mod cube;
mod customers;
pub mod holders;
mod line_items;
mod memo;
pub mod migrate;
mod onboarding;
mod partners;
mod postgres;
mod pricing;
mod reads;
mod saved_views;
mod sessions;
mod sync_runs;
// SQLite's C API for the one read every request makes.
#[allow(unsafe_code)]
mod versions;

pub use customers::{AzureSubscriptionRow, Budget, SubscriptionRow, UsageEstimate};
pub use line_items::{CustomerTotal, Replaced, Snapshot, StoredSnapshot};
pub use onboarding::{ConnectionRow, KeyRow, OnboardingRow};
pub use pricing::Markups;
pub use reads::{Pages, cube_row};
pub use saved_views::SaveView;
pub use sessions::{CustomerUserRow, NewSession, SessionRow};
pub use sync_runs::SyncRun;
pub use versions::one_reading;

use line_items::Dictionaries;
use memo::Memos;
use sessions::KeptSessions;
use sql::On;
use versions::VersionsReader;

/// A partner's row ID in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct PartnerId(pub i64);

/// Which line items: one customer or all, between two days (inclusive).
#[derive(Debug, Clone)]
pub struct Scope {
    pub customer: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Clone)]
pub struct Store {
    /// The database, and what this process keeps of it.
    db: Db,
    /// Dictionary IDs already known, so a page of line items rarely queries them.
    dictionaries: Arc<Dictionaries>,
    /// The scopes being read and the versions they write.
    readings: Arc<line_items::Readings>,
    /// Figures derived from the store.
    memos: Arc<Memos>,
    /// Sessions already read, by token hash: every request names one.
    sessions: Arc<KeptSessions>,
    /// Onboarding rows read for the trial check on every request.
    onboarding: Arc<Mutex<HashMap<PartnerId, onboarding::KeptOnboarding>>>,
}

/// The PostgreSQL advisory lock every write transaction takes (an
/// arbitrary number: "CSPCOSTS" in ASCII).
const WRITER_LOCK: i64 = 0x4353_5043_4f53_5453;

/// Which database holds the store.
#[derive(Clone)]
enum Db {
    Sqlite(Lite),
    Postgres(Pg),
}

/// A PostgreSQL database, shared by every replica.
#[derive(Clone)]
struct Pg {
    pool: PgPool,
    /// Tells this store apart in a request's one reading of the versions.
    me: Arc<()>,
}

/// The SQLite file in the data directory.
#[derive(Clone)]
struct Lite {
    /// Connections for reads.
    pool: SqlitePool,
    /// The one connection every write goes through. A connection's page
    /// cache is dropped whenever another connection has written, so writes
    /// spread over the pool would each start cold and read their index
    /// pages back from the file; one writer keeps them warm.
    writes: SqlitePool,
    /// Writers take turns here: SQLite allows one writer, and connections
    /// that meet its lock poll with sleeps, which under a busy sync cost
    /// more time than the writes themselves. Queued here, the next writer
    /// starts the moment the last one commits.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Reads the store's versions (`store_versions`, moved by every
    /// process's writes), against which everything below is kept.
    versions: Arc<VersionsReader>,
    /// Asks for a checkpoint of the write-ahead log (see [`checkpoints`]).
    checkpoint: tokio::sync::mpsc::Sender<()>,
}

/// A write transaction (with the process's writing turn, on SQLite). Its
/// commit moves the store's versions in the same transaction, so that
/// every process sharing the store (replicas, an operator command) sees
/// the write and drops what it kept from before it.
pub(crate) struct WriteTx {
    tx: Tx,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// False for writes no kept figure depends on (sessions ended).
    everything: bool,
    lines: bool,
    repriced: bool,
    sessions: bool,
    connections: bool,
}

enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl WriteTx {
    /// The transaction writes line items (or their prices): what is
    /// computed from the lines alone is computed again after it.
    pub(crate) fn lines_changed(&mut self) {
        self.lines = true;
    }

    /// A markup repriced the kept lines: scopes being read meanwhile work
    /// their sums out again from the lines when they are kept.
    pub(crate) fn repriced(&mut self) {
        self.lines = true;
        self.repriced = true;
    }

    /// Sessions end in this transaction: every process reads them again.
    pub(crate) fn sessions_ended(&mut self) {
        self.sessions = true;
    }

    /// A partner's key is stored or sealed again: every process opens the
    /// keys again.
    pub(crate) fn connections_changed(&mut self) {
        self.connections = true;
    }

    /// The transaction's connection, for [`sql!`].
    pub(crate) fn on(&mut self) -> On<'_> {
        match &mut self.tx {
            Tx::Sqlite(tx) => On::Sqlite(tx),
            Tx::Postgres(tx) => On::Postgres(tx),
        }
    }

    /// The transaction's PostgreSQL connection, where a write takes its
    /// own way there (bulk writes).
    pub(crate) fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        match &mut self.tx {
            Tx::Sqlite(_) => None,
            Tx::Postgres(tx) => Some(tx),
        }
    }

    /// The transaction's SQLite connection, for SQLite's own way of a write
    /// (the C API's), after PostgreSQL's has been taken.
    pub(crate) fn lite(&mut self) -> Result<&mut sqlx::SqliteConnection, sqlx::Error> {
        match &mut self.tx {
            Tx::Sqlite(tx) => Ok(tx),
            Tx::Postgres(_) => Err(sql::sqlite_only()),
        }
    }

    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let moved = [
            self.everything,
            self.lines,
            self.repriced,
            self.sessions,
            self.connections,
        ]
        .map(i64::from);
        sql!(
            execute,
            self.on(),
            "UPDATE store_versions SET everything = everything + ?, lines = lines + ?,
                repricings = repricings + ?, sessions = sessions + ?,
                connections = connections + ? WHERE id = 1";
            .bind(moved[0])
            .bind(moved[1])
            .bind(moved[2])
            .bind(moved[3])
            .bind(moved[4])
        )?;
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        versions::forget_reading();
        Ok(())
    }
}

/// A connection for one write statement no kept figure depends on (a
/// session signed in or out), with the process's writing turn: the store's
/// versions stand, and the summaries of 5,000 customers are not computed
/// again for it.
pub(crate) struct WriteConn {
    conn: Connection,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteConn {
    pub(crate) fn on(&mut self) -> On<'_> {
        self.conn.on()
    }
}

/// A connection from either database's pool.
pub(crate) enum Connection {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Connection {
    /// For [`sql!`].
    pub(crate) fn on(&mut self) -> On<'_> {
        match self {
            Connection::Sqlite(c) => On::Sqlite(c),
            Connection::Postgres(c) => On::Postgres(c),
        }
    }
}

/// Now, as the store writes times: RFC 3339 in UTC with milliseconds, so
/// that text order is time order.
pub(crate) fn now() -> String {
    stamp(Utc::now())
}

pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored time back; `None` for NULL or text that is not one.
pub(crate) fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The store holds partners' costs and their sealed keys: a directory it
/// creates is the proxy's user's alone (0700), and the file, with the WAL
/// and shared-memory files SQLite makes beside it in the file's mode, 0600.
fn private_files(data_dir: &Path, file: &Path) -> std::io::Result<()> {
    create_private_dir(data_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(file)?;
        for path in [
            file.to_path_buf(),
            file.with_extension("sqlite3-wal"),
            file.with_extension("sqlite3-shm"),
        ] {
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

/// A directory the proxy creates for its data (the store, the sealing key):
/// 0700 on Unix. One that exists is left as it is.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Copies the write-ahead log into the database file whenever asked (after
/// a sync's lines are committed), on a reading connection: beside the
/// writer rather than in its way. Passive: it waits for nobody and copies
/// what no reader still needs. Ends with the store.
async fn checkpoints(pool: SqlitePool, mut asked: tokio::sync::mpsc::Receiver<()>) {
    while asked.recv().await.is_some() {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "checkpoint of the write-ahead log failed");
        }
    }
}

/// Days are stored as `YYYY-MM-DD` text, which sorts as the days do.
pub(crate) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A scope's lines as the reads filter them: the partner's, within the
/// days, of one customer when the scope names one. Written before
/// `line_items::KEPT`, and bound with [`scope_arguments`].
pub(crate) const IN_SCOPE: &str = "l.partner_id = ? AND l.usage_date >= ? AND l.usage_date <= ?
    AND (? IS NULL OR l.customer_id = ?)";

/// The values `{IN_SCOPE} AND {KEPT}` binds, in their order: one list for
/// sqlx's reads ([`scope_arguments`]) and the C-API reader of the cube.
pub(crate) struct ScopeBinds {
    partner: i64,
    from: String,
    to: String,
    customer: Option<String>,
}

impl ScopeBinds {
    pub(crate) fn of(partner: PartnerId, scope: &Scope) -> ScopeBinds {
        ScopeBinds {
            partner: partner.0,
            from: day_text(scope.from),
            to: day_text(scope.to),
            customer: scope.customer.clone(),
        }
    }

    pub(in crate::store) fn values(&self) -> [line_items::bulk::Value<'_>; 6] {
        use line_items::bulk::Value;
        let customer = self.customer.as_deref().map_or(Value::Null, Value::Text);
        [
            Value::Int(self.partner),
            Value::Text(&self.from),
            Value::Text(&self.to),
            customer,
            customer,
            // line_items::KEPT's own partner.
            Value::Int(self.partner),
        ]
    }
}

impl Store {
    fn on(db: Db) -> Store {
        Store {
            db,
            dictionaries: Arc::default(),
            readings: Arc::default(),
            memos: Arc::default(),
            sessions: Arc::default(),
            onboarding: Arc::default(),
        }
    }

    /// The store a proxy is configured with: the PostgreSQL database at
    /// `database_url`, or else the SQLite file in `data_dir`.
    pub async fn open_configured(config: &crate::Config) -> Result<Store, sqlx::Error> {
        match &config.database_url {
            Some(url) => {
                Store::open_postgres(url.expose(), config.database_schema.as_deref()).await
            }
            None => Store::open(&config.data_dir).await,
        }
    }

    /// A store in the PostgreSQL database at `url` (migrated first), its
    /// tables in `schema` when given (made if missing), else where the
    /// database's search path puts them.
    pub async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Store, sqlx::Error> {
        Ok(Store::on(Db::Postgres(Pg {
            pool: postgres::open(url, schema).await?,
            me: Arc::default(),
        })))
    }

    /// Opens (creating if needed) the SQLite file in `data_dir` and migrates it.
    pub async fn open(data_dir: &Path) -> Result<Store, sqlx::Error> {
        let file = data_dir.join("proxy.sqlite3");
        private_files(data_dir, &file).map_err(sqlx::Error::Io)?;
        let url = format!("sqlite://{}", file.display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            // WAL lets readers proceed while the sync writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            // Another process (an operator command) may hold the write lock briefly.
            .busy_timeout(std::time::Duration::from_secs(10))
            // Millions of lines land in indexes keyed by customer and day, in
            // no order those keys follow: the default 2 MB page cache would
            // read and write most pages again for each batch (32 MB a connection).
            .pragma("cache_size", "-32768")
            .foreign_keys(true);
        let writes = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // Idle is the usual state between syncs: keep the warm cache.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", "-65536")
                    // The log is copied into the file beside the writer, by
                    // `checkpoints`: copied by the writer itself (every 64 MB
                    // before) it held up every write after it, and a sync
                    // writes gigabytes. Past 256 MB the writer does it anyway,
                    // in case that task falls behind.
                    .pragma("wal_autocheckpoint", "65536")
                    // Once copied, a log grown that large is cut back.
                    .pragma("journal_size_limit", "67108864"),
            )
            .await?;
        sqlx::migrate!("./migrations").run(&writes).await?;
        let versions = Arc::new(VersionsReader::open(&file)?);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let (checkpoint, asked) = tokio::sync::mpsc::channel(1);
        tokio::spawn(checkpoints(pool.clone(), asked));
        let store = Store::on(Db::Sqlite(Lite {
            pool,
            writes,
            checkpoint,
            turn: Arc::default(),
            versions,
        }));
        store.sum_lines_kept_without_sums().await?;
        Ok(store)
    }

    /// A write transaction that takes the write lock at its start: a deferred
    /// one that reads first cannot upgrade while another process (an operator
    /// command) has written, and SQLite answers "database is locked" at once
    /// instead of waiting out the busy timeout.
    async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let (tx, turn) = match &self.db {
            Db::Sqlite(lite) => {
                let turn = lite.turn.clone().lock_owned().await;
                let tx = lite.writes.begin_with("BEGIN IMMEDIATE").await?;
                (Tx::Sqlite(tx), Some(turn))
            }
            Db::Postgres(pg) => {
                let mut tx = pg.pool.begin().await?;
                // One writer at a time across every replica, as SQLite's
                // BEGIN IMMEDIATE makes them: what a write reads before it
                // writes (a running sync, a person's views) stays true until
                // it commits. Released with the transaction.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITER_LOCK)
                    .execute(&mut *tx)
                    .await?;
                (Tx::Postgres(tx), None)
            }
        };
        Ok(WriteTx {
            tx,
            _turn: turn,
            everything: true,
            lines: false,
            repriced: false,
            sessions: false,
            connections: false,
        })
    }

    /// A write transaction no kept figure depends on (sessions ending).
    async fn quiet_write(&self) -> Result<WriteTx, sqlx::Error> {
        Ok(WriteTx {
            everything: false,
            ..self.write().await?
        })
    }

    /// A write no kept figure depends on (a session signed in or out).
    async fn quiet_writer(&self) -> Result<WriteConn, sqlx::Error> {
        Ok(match &self.db {
            Db::Sqlite(lite) => {
                let turn = lite.turn.clone().lock_owned().await;
                WriteConn {
                    conn: Connection::Sqlite(lite.writes.acquire().await?),
                    _turn: Some(turn),
                }
            }
            Db::Postgres(pg) => WriteConn {
                conn: Connection::Postgres(pg.pool.acquire().await?),
                _turn: None,
            },
        })
    }

    /// A connection for reads.
    pub(crate) async fn reader(&self) -> Result<Connection, sqlx::Error> {
        Ok(match &self.db {
            Db::Sqlite(lite) => Connection::Sqlite(lite.pool.acquire().await?),
            Db::Postgres(pg) => Connection::Postgres(pg.pool.acquire().await?),
        })
    }

    /// The SQLite store, for SQLite's own way of a read or a write.
    fn lite(&self) -> Result<&Lite, sqlx::Error> {
        match &self.db {
            Db::Sqlite(lite) => Ok(lite),
            Db::Postgres(_) => Err(sql::sqlite_only()),
        }
    }

    /// How often partners' connections were stored or sealed again, by any
    /// process: kept keys are opened again when it moves.
    pub async fn connections_version(&self) -> Result<i64, sqlx::Error> {
        Ok(self.versions().await?.connections)
    }

    /// Whether the store answers, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sql!(execute, self.reader().await?.on(), "SELECT 1";).map(|_| ())
    }
}
