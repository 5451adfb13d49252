//! One statement for either database. The store's SQL is written once, in
//! SQLite's words with a `?` for each value in order; PostgreSQL gets the
//! same text with `$1`, `$2`, ... (numbered once per statement, on first
//! use), or a text of its own where the two differ. The values are bound
//! and the rows read by the same code for both.

/// A connection of either database, for [`sql!`].
pub(crate) enum On<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Postgres(&'c mut sqlx::PgConnection),
}

/// Runs a statement on an [`On`]: `sql!(query_as, on, "SELECT ... ?";
/// .bind(x).fetch_all)`, with `postgres: "..."` after the text where
/// PostgreSQL needs other words; `sql!(execute, on, "UPDATE ..."; .bind(x))`
/// for the number of rows changed. Evaluates to the awaited result. The
/// texts are literals: PostgreSQL's is numbered once per call site.
macro_rules! sql {
    // A statement run for its effect: the rows it changed.
    (execute, $on:expr, $sqlite:literal $(, postgres: $postgres:literal)?; $($chain:tt)*) => {
        match $on {
            $crate::store::sql::On::Sqlite(c) => sqlx::query($sqlite) $($chain)* .execute(c).await.map(|r| r.rows_affected()),
            $crate::store::sql::On::Postgres(c) => {
                static NUMBERED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let text: &'static str = NUMBERED
                    .get_or_init(|| $crate::store::sql::numbered(sql!(@text $sqlite $(, $postgres)?)));
                sqlx::query(text) $($chain)* .execute(c).await.map(|r| r.rows_affected())
            }
        }
    };
    ($kind:ident, $on:expr, $sqlite:literal $(, postgres: $postgres:literal)?; $($chain:tt)*) => {
        match $on {
            $crate::store::sql::On::Sqlite(c) => sqlx::$kind($sqlite) $($chain)* (c).await,
            $crate::store::sql::On::Postgres(c) => {
                static NUMBERED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let text: &'static str = NUMBERED
                    .get_or_init(|| $crate::store::sql::numbered(sql!(@text $sqlite $(, $postgres)?)));
                sqlx::$kind(text) $($chain)* (c).await
            }
        }
    };
    (@text $sqlite:literal) => { $sqlite };
    (@text $sqlite:literal, $postgres:literal) => { $postgres };
}

/// `text` with each `?` outside quotes as `$1`, `$2`, ... in order.
pub(crate) fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let (mut n, mut quoted) = (0, None);
    for c in text.chars() {
        match (c, quoted) {
            ('\'' | '"', None) => quoted = Some(c),
            (q, Some(open)) if q == open => quoted = None,
            ('?', None) => {
                n += 1;
                out.push_str(&format!("${n}"));
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// What SQLite's own path (the C API's bulk reads and writes, a store
/// from before the sums) answers when asked of a PostgreSQL store: each
/// caller takes PostgreSQL's way first, so this is a bug, said plainly.
pub(crate) fn sqlite_only() -> sqlx::Error {
    sqlx::Error::Configuration("SQLite's own path was asked of a PostgreSQL store".into())
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn values_are_numbered_in_order_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = '?' AND \"d?\" = ? LIMIT ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND \"d?\" = $2 LIMIT $3"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }
}
