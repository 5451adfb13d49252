//! `proxy migrate-store`: everything a SQLite store holds, copied into an
//! empty PostgreSQL store, table by table in the order their references
//! need, each streamed from SQLite and written a few thousand rows at a
//! time; then checked: every table's row count, and every money and
//! quantity column's sum, equal on both sides.

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, PgPool, Row as _, SqlitePool};

use super::{Db, Store};

/// Tables in an order that writes a row's references before it.
const TABLES: [&str; 27] = [
    "partners",
    "store_versions",
    "agent_groups",
    "settings",
    "exchange_rates",
    "markups",
    "budgets",
    "budget_thresholds",
    "customers",
    "subscriptions",
    "entitlements",
    "usage_summaries",
    "onboarding",
    "connections",
    "app_keys",
    "sessions",
    "customer_users",
    "saved_views",
    "sync_runs",
    "meters",
    "resources",
    "line_versions",
    "snapshots",
    "line_items",
    "line_sums",
    "alert_rules",
    "alert_settings",
];

/// Tables written after [`TABLES`]: they refer to rows of those.
const LATER: [&str; 3] = ["alert_events", "deliveries", "delivery_attempts"];

/// Rows written in one statement.
const BATCH: usize = 5_000;

/// What a copy did, table by table: (table, rows).
#[derive(Debug, Default)]
pub struct Copied(pub Vec<(String, i64)>);

impl std::fmt::Display for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: i64 = self.0.iter().map(|(_, n)| n).sum();
        writeln!(
            f,
            "copied {rows} rows in {} tables; every count and sum checked equal",
            self.0.len()
        )?;
        for (table, n) in &self.0 {
            writeln!(f, "  {table}: {n}")?;
        }
        Ok(())
    }
}

/// Copies the store `from` (SQLite) into `to` (PostgreSQL), which must be
/// empty: a store is never merged into another.
pub async fn copy(from: &Store, to: &Store) -> Result<Copied, String> {
    let (Db::Sqlite(lite), Db::Postgres(pg)) = (&from.db, &to.db) else {
        return Err("a copy goes from a SQLite store to a PostgreSQL one".into());
    };
    let partners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM partners")
        .fetch_one(&pg.pool)
        .await
        .map_err(|e| e.to_string())?;
    if partners > 0 {
        return Err(format!(
            "the PostgreSQL store already holds {partners} partner(s): copy into an empty one"
        ));
    }
    let mut copied = Copied::default();
    for table in TABLES.iter().chain(LATER.iter()) {
        let n = copy_table(&lite.pool, &pg.pool, table)
            .await
            .map_err(|e| format!("{table}: {e}"))?;
        copied.0.push((table.to_string(), n));
    }
    check(&lite.pool, &pg.pool).await?;
    Ok(copied)
}

/// A table's columns in PostgreSQL, each with whether it is an integer.
async fn columns(pg: &PgPool, table: &str) -> Result<Vec<(String, bool)>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pg)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, kind)| (name, kind == "bigint"))
        .collect())
}

/// One table's rows, streamed from SQLite into PostgreSQL.
async fn copy_table(lite: &SqlitePool, pg: &PgPool, table: &str) -> Result<i64, sqlx::Error> {
    let columns = columns(pg, table).await?;
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let list = names.join(", ");
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, int))| format!("${}::{}[]", i + 1, if *int { "bigint" } else { "text" }))
        .collect();
    // Names from PostgreSQL's own catalogue of the store's schema.
    let insert = format!(
        "INSERT INTO {table} ({list}) SELECT * FROM UNNEST({})",
        arrays.join(", ")
    );
    let mut tx = pg.begin().await?;
    // The migration's own row, replaced by the copied one.
    if table == "store_versions" {
        sqlx::query("DELETE FROM store_versions")
            .execute(&mut *tx)
            .await?;
    }
    let select = format!("SELECT {list} FROM {table}");
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(lite);
    let mut ints: Vec<Vec<Option<i64>>> = vec![Vec::new(); columns.len()];
    let mut texts: Vec<Vec<Option<String>>> = vec![Vec::new(); columns.len()];
    let mut held = 0usize;
    let mut total = 0i64;
    while let Some(row) = rows.try_next().await? {
        for (i, (_, int)) in columns.iter().enumerate() {
            if *int {
                ints[i].push(row.try_get(i)?);
            } else {
                texts[i].push(row.try_get(i)?);
            }
        }
        held += 1;
        if held == BATCH {
            write(&mut tx, &insert, &columns, &mut ints, &mut texts).await?;
            total += held as i64;
            held = 0;
        }
    }
    if held > 0 {
        write(&mut tx, &insert, &columns, &mut ints, &mut texts).await?;
        total += held as i64;
    }
    // Row IDs go on from the copied ones.
    if columns.iter().any(|(n, int)| n == "id" && *int) && table != "store_versions" {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), m, true)
             FROM (SELECT MAX(id) AS m FROM {table}) AS top WHERE m IS NOT NULL"
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(total)
}

async fn write(
    tx: &mut sqlx::PgConnection,
    insert: &str,
    columns: &[(String, bool)],
    ints: &mut [Vec<Option<i64>>],
    texts: &mut [Vec<Option<String>>],
) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query(AssertSqlSafe(insert));
    for (i, (_, int)) in columns.iter().enumerate() {
        query = if *int {
            query.bind(std::mem::take(&mut ints[i]))
        } else {
            query.bind(std::mem::take(&mut texts[i]))
        };
    }
    query.execute(tx).await?;
    Ok(())
}

/// Every table's row count and every integer column's sum, equal in both.
async fn check(lite: &SqlitePool, pg: &PgPool) -> Result<(), String> {
    for table in TABLES.iter().chain(LATER.iter()) {
        let columns = columns(pg, table).await.map_err(|e| e.to_string())?;
        let sums: Vec<String> = columns
            .iter()
            .filter(|(_, int)| *int)
            // A line's identity is a 63-bit hash: summed modulo a prime,
            // as the sync's checks sum it, or the sum would overflow.
            .map(|(n, _)| match n.as_str() {
                "key" => format!("CAST(COALESCE(SUM({n} % 1000000007), 0) AS TEXT)"),
                _ => format!("CAST(COALESCE(SUM({n}), 0) AS TEXT)"),
            })
            .collect();
        let select = format!(
            "SELECT CAST(COUNT(*) AS TEXT){}{} FROM {table}",
            if sums.is_empty() { "" } else { ", " },
            sums.join(", ")
        );
        let read = |row: sqlx::Result<Vec<String>>| row.map_err(|e| format!("{table}: {e}"));
        let here = read(
            sqlx::query(AssertSqlSafe(select.clone()))
                .fetch_one(lite)
                .await
                .and_then(|r| (0..r.len()).map(|i| r.try_get::<String, _>(i)).collect()),
        )?;
        let there = read(
            sqlx::query(AssertSqlSafe(select))
                .fetch_one(pg)
                .await
                .and_then(|r| (0..r.len()).map(|i| r.try_get::<String, _>(i)).collect()),
        )?;
        if here != there {
            return Err(format!(
                "{table}: the copy differs (counts and sums: SQLite {here:?}, PostgreSQL {there:?})"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{line, postgres, temporary};

    #[tokio::test]
    async fn every_table_is_copied() {
        let (schema, pg) = crate::store::postgres::tests::fresh().await;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1
             AND table_name <> '_sqlx_migrations' ORDER BY 1",
        )
        .bind(&schema)
        .fetch_all(&pg)
        .await
        .unwrap();
        let mut copied: Vec<&str> = TABLES.iter().chain(LATER.iter()).copied().collect();
        copied.sort();
        assert_eq!(tables, copied);
    }

    #[tokio::test]
    async fn a_store_is_copied_whole_and_reads_the_same() {
        let (_dir, from) = temporary().await;
        let p = from.partner("tenant-a").await.unwrap();
        from.set_partner_name(p, "Fabrikam").await.unwrap();
        let lines = [
            line("c1", "2026-11-03", 1_250_000),
            line("c2", "2026-11-04", -300_000),
            line("c1", "2026-11-04", 9_007_199_254_740_993),
        ];
        from.add_line_items(p, "tools", 1, &lines).await.unwrap();
        let rule = model::alerts::rules::NewRule {
            events: vec![model::alerts::EventKind::BudgetThreshold],
            customer_id: None,
            channel: model::alerts::rules::Channel::Email,
            target: "ops@fabrikam.example".into(),
            shape: model::alerts::message::WebhookShape::Generic,
            language: "en".into(),
        };
        from.add_alert_rule(p, &rule, None, "ada").await.unwrap();
        let to = postgres().await;
        let report = copy(&from, &to).await.unwrap();
        assert!(
            report.0.iter().any(|(t, n)| t == "line_items" && *n == 3),
            "{report}"
        );
        let totals = |s: Store| async move {
            s.totals_by_customer(p, "2026-11-01", "2026-11-30")
                .await
                .unwrap()
        };
        assert_eq!(totals(to.clone()).await, totals(from.clone()).await);
        assert_eq!(
            to.partner_name(p).await.unwrap().as_deref(),
            Some("Fabrikam")
        );
        assert_eq!(
            to.alert_rules(p).await.unwrap(),
            from.alert_rules(p).await.unwrap()
        );
        // IDs go on after the copied ones.
        let q = to.partner("tenant-b").await.unwrap();
        assert!(q.0 > p.0);
        // Never into a store that holds something.
        assert!(
            copy(&from, &to)
                .await
                .unwrap_err()
                .contains("already holds")
        );
    }
}
