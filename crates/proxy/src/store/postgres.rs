//! The PostgreSQL store's connection and schema: the same tables, columns
//! and indexes as the SQLite store, from its own migrations
//! (`migrations_pg/`).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};

/// Connects to the database at `url` and brings its schema up to date;
/// `schema`, when given, is the PostgreSQL schema the store's tables live
/// in, made if missing (one per test, so tests share a server; or an
/// operator's choice), its name checked as `--database-schema`'s is.
pub(crate) async fn open(url: &str, schema: Option<&str>) -> Result<PgPool, sqlx::Error> {
    let mut options = PgConnectOptions::from_str(url)?;
    if let Some(schema) = schema {
        crate::config::schema_name(schema)
            .map_err(|e| sqlx::Error::Configuration(format!("'{schema}': {e}").into()))?;
        let mut admin = sqlx::PgConnection::connect_with(&options).await?;
        // Checked above: lower-case letters, digits and underscores.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&mut admin)
        .await?;
        admin.close().await?;
        options = options.options([("search_path", schema)]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations_pg").run(&pool).await?;
    Ok(pool)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::store::tests::temporary;

    /// The server `cargo xtask test` starts for the run.
    pub(crate) fn server_url() -> String {
        std::env::var("PROXY_TEST_DATABASE_URL").expect(
            "the PostgreSQL store's tests need a server: run them with `cargo xtask test`, \
             which starts one, or set PROXY_TEST_DATABASE_URL to an empty database's URL",
        )
    }

    /// The test server's URL and a new schema on it, for one test: the
    /// whole cluster is temporary, so nothing drops it.
    pub(crate) async fn fresh_schema() -> (String, String) {
        let url = server_url();
        let name = format!("t{}", uuid::Uuid::new_v4().simple());
        let admin = PgPool::connect(&url)
            .await
            .expect("the test server answers");
        // The name is ours: `t` and 32 hexadecimal digits.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .expect("a schema");
        admin.close().await;
        (url, name)
    }

    /// A migrated schema of its own: its name and a pool on it.
    pub(crate) async fn fresh() -> (String, PgPool) {
        let (url, name) = fresh_schema().await;
        let pool = open(&url, Some(&name)).await.expect("the store migrates");
        (name, pool)
    }

    /// Each table's columns in order: (name, type, not null).
    type Tables = BTreeMap<String, Vec<(String, &'static str, bool)>>;

    fn kind(declared: &str) -> &'static str {
        match declared.to_ascii_lowercase().as_str() {
            "integer" | "bigint" => "integer",
            "text" => "text",
            _ => "other",
        }
    }

    #[tokio::test]
    async fn both_stores_have_the_same_tables_columns_and_indexes() {
        let (_dir, sqlite) = temporary().await;
        let mut lite = Tables::new();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        )
        .fetch_all(&sqlite.lite().unwrap().pool)
        .await
        .unwrap();
        for table in names {
            let columns: Vec<(String, String, bool)> = sqlx::query_as(
                "SELECT name, type, \"notnull\" OR pk FROM pragma_table_info(?) ORDER BY cid",
            )
            .bind(&table)
            .fetch_all(&sqlite.lite().unwrap().pool)
            .await
            .unwrap();
            lite.insert(
                table,
                columns
                    .into_iter()
                    .map(|(n, t, not_null)| (n, kind(&t), not_null))
                    .collect(),
            );
        }
        let lite_indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index'
             AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY name",
        )
        .fetch_all(&sqlite.lite().unwrap().pool)
        .await
        .unwrap();

        let (schema, pg) = fresh().await;
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
             FROM information_schema.columns WHERE table_schema = $1
             AND table_name <> '_sqlx_migrations' ORDER BY table_name, ordinal_position",
        )
        .bind(&schema)
        .fetch_all(&pg)
        .await
        .unwrap();
        let mut postgres = Tables::new();
        for (table, column, data_type, nullable) in rows {
            postgres
                .entry(table)
                .or_default()
                .push((column, kind(&data_type), nullable == "NO"));
        }
        // An INTEGER PRIMARY KEY in SQLite may hold NULL by its rules but
        // never does (it is the row ID); PostgreSQL's key is NOT NULL.
        let tables: std::collections::BTreeSet<&String> =
            lite.keys().chain(postgres.keys()).collect();
        let differences: Vec<String> = tables
            .into_iter()
            .filter(|t| lite.get(*t) != postgres.get(*t))
            .map(|t| {
                format!(
                    "{t}:\n  SQLite     {:?}\n  PostgreSQL {:?}",
                    lite.get(t),
                    postgres.get(t)
                )
            })
            .collect();
        assert!(
            differences.is_empty(),
            "the two schemas differ:\n{}",
            differences.join("\n")
        );
        let pg_indexes: Vec<String> = sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = $1
             AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'
             AND tablename <> '_sqlx_migrations' ORDER BY indexname",
        )
        .bind(&schema)
        .fetch_all(&pg)
        .await
        .unwrap();
        assert_eq!(pg_indexes, lite_indexes);
        let versions: (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(everything), 0)::bigint FROM store_versions",
        )
        .fetch_one(&pg)
        .await
        .unwrap();
        assert_eq!(
            versions,
            (1, 0),
            "one row of versions, as SQLite's migration writes"
        );
    }

    #[tokio::test]
    async fn opening_again_migrates_nothing_twice_and_money_is_exact() {
        let (schema, pg) = fresh().await;
        let again = open(&server_url(), Some(&schema))
            .await
            .expect("opens again");
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&again)
            .await
            .unwrap();
        assert_eq!(applied, 1);
        sqlx::query("INSERT INTO partners (tenant_id, created_at) VALUES ('t', 'now')")
            .execute(&pg)
            .await
            .unwrap();
        // The largest amount a BIGINT of millionths holds, back to the unit.
        sqlx::query(
            "INSERT INTO budgets (partner_id, customer_id, amount_micros, updated_at)
             SELECT id, 'c', $1, 'now' FROM partners",
        )
        .bind(i64::MAX)
        .execute(&again)
        .await
        .unwrap();
        let back: i64 = sqlx::query_scalar("SELECT amount_micros FROM budgets")
            .fetch_one(&pg)
            .await
            .unwrap();
        assert_eq!(back, i64::MAX);
    }
}
