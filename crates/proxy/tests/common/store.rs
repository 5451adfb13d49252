//! The store of the tests' proxies: the SQLite file in their data
//! directory, or with `PROXY_TEST_STORE=postgres` the run's PostgreSQL
//! server, and a way past the proxy into either.

use std::path::Path;

/// The PostgreSQL store the tests' proxies use when the run asks for it
/// (`PROXY_TEST_STORE=postgres`, the server at `PROXY_TEST_DATABASE_URL`,
/// which `cargo xtask test` starts): its URL and a schema of its own per
/// data directory, so that the replicas of one test share one store.
/// `None`: the SQLite file in the data directory.
pub fn test_database(data: &Path) -> Option<(String, String)> {
    if std::env::var("PROXY_TEST_STORE").as_deref() != Ok("postgres") {
        return None;
    }
    let url = std::env::var("PROXY_TEST_DATABASE_URL")
        .expect("PROXY_TEST_STORE=postgres needs PROXY_TEST_DATABASE_URL: run `cargo xtask test`");
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut hasher);
    Some((url, format!("t{:016x}", hasher.finish())))
}

/// The store of the tests' proxies serving from `data`, as an operator's
/// command opens it.
pub async fn open_store(data: &Path) -> proxy::store::Store {
    match test_database(data) {
        Some((url, schema)) => proxy::store::Store::open_postgres(&url, Some(&schema)).await,
        None => proxy::store::Store::open(data).await,
    }
    .expect("the store opens")
}

/// A connection to the tests' store in `data`, past the proxy.
enum Db {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

async fn connect(data: &Path) -> Db {
    use sqlx::Connection as _;
    match test_database(data) {
        Some((url, schema)) => Db::Postgres(postgres(&url, &schema).await),
        None => {
            let file = data.join("proxy.sqlite3");
            Db::Sqlite(
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                    .await
                    .unwrap(),
            )
        }
    }
}

/// A connection to the PostgreSQL server at `url`, in `schema`.
async fn postgres(url: &str, schema: &str) -> sqlx::PgConnection {
    use sqlx::Connection as _;
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let options = options.options([("search_path", schema)]);
    sqlx::PgConnection::connect_with(&options).await.unwrap()
}

/// Runs one statement on the tests' store in `data` directly, past the
/// proxy (a test moving the store's clock, or filling it fast): `sqlite`
/// on the SQLite file, or `postgres` on the PostgreSQL schema.
pub async fn execute_on_store(data: &Path, sqlite: String, postgres: String) {
    match connect(data).await {
        Db::Postgres(mut db) => {
            sqlx::query(sqlx::AssertSqlSafe(postgres))
                .execute(&mut db)
                .await
                .unwrap();
        }
        Db::Sqlite(mut db) => {
            sqlx::query(sqlx::AssertSqlSafe(sqlite))
                .execute(&mut db)
                .await
                .unwrap();
        }
    }
}

/// The rows of a table of the tests' store in `data`, counted past the
/// proxy: what a test of what is left behind compares.
pub async fn rows_on_store(data: &Path, table: &str) -> i64 {
    let count = format!("SELECT COUNT(*) FROM {table}");
    match connect(data).await {
        Db::Postgres(mut db) => sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .fetch_one(&mut db)
            .await
            .unwrap(),
        Db::Sqlite(mut db) => sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .fetch_one(&mut db)
            .await
            .unwrap(),
    }
}

/// Everything the tests' store in `data` holds where a secret could be
/// written: the SQLite file and its log, or PostgreSQL's rows of every
/// table that takes text from a person or a partner, as text.
pub async fn store_bytes(data: &Path) -> Vec<u8> {
    match test_database(data) {
        Some((url, schema)) => {
            let mut db = postgres(&url, &schema).await;
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT t::text FROM connections t UNION ALL SELECT t::text FROM app_keys t
                 UNION ALL SELECT t::text FROM onboarding t UNION ALL SELECT t::text FROM sessions t
                 UNION ALL SELECT t::text FROM partners t UNION ALL SELECT t::text FROM settings t
                 UNION ALL SELECT t::text FROM alert_rules t",
            )
            .fetch_all(&mut db)
            .await
            .unwrap();
            rows.join("\n").into_bytes()
        }
        None => {
            let mut bytes = std::fs::read(data.join("proxy.sqlite3")).unwrap();
            bytes.extend(std::fs::read(data.join("proxy.sqlite3-wal")).unwrap_or_default());
            bytes
        }
    }
}
