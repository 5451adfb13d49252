//! Writing many lines through SQLite's C API: one prepared INSERT, bound and
//! stepped once per line, on a connection locked out of sqlx's worker.
//! Through sqlx every statement is a round trip to the connection's thread
//! and every value is boxed on the way; a sync writes millions of lines,
//! and this is the one place that pays for that with `unsafe`.

use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

use libsqlite3_sys as ffi;

/// A value bound to one parameter.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    Int(i64),
    Text(&'a str),
}

/// A prepared statement, finalized when dropped.
pub(super) struct Insert<'db> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    /// Ties the statement to the lock on its connection.
    _lock: std::marker::PhantomData<&'db mut ()>,
}

fn failure(db: NonNull<ffi::sqlite3>, what: &str) -> sqlx::Error {
    // SAFETY: the handle is open and locked for this thread; the message is
    // copied before any other call on it.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) };
    sqlx::Error::Protocol(format!("{what}: {}", message.to_string_lossy()))
}

impl<'db> Insert<'db> {
    /// Prepares `sql` on the connection behind `handle`.
    pub(super) fn prepare(
        handle: &'db mut sqlx::sqlite::LockedSqliteHandle<'_>,
        sql: &str,
    ) -> Result<Insert<'db>, sqlx::Error> {
        let db = handle.as_raw_handle();
        let mut stmt = std::ptr::null_mut();
        let len =
            c_int::try_from(sql.len()).map_err(|_| sqlx::Error::Protocol("SQL too long".into()))?;
        // SAFETY: `db` is open and locked out of sqlx's worker for as long as
        // `handle` is borrowed, which outlives the statement (`'db`).
        let code = unsafe {
            ffi::sqlite3_prepare_v2(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if code == ffi::SQLITE_OK => Ok(Insert {
                db,
                stmt,
                _lock: std::marker::PhantomData,
            }),
            _ => Err(failure(db, "preparing the insert")),
        }
    }

    /// Binds `values` to the parameters in order and runs the statement once.
    pub(super) fn run(&mut self, values: &[Value<'_>]) -> Result<(), sqlx::Error> {
        let stmt = self.stmt.as_ptr();
        for (i, value) in values.iter().enumerate() {
            let at = i as c_int + 1;
            // SAFETY: `stmt` is a live statement of a locked connection; text
            // is copied by SQLite (SQLITE_TRANSIENT) before the call returns.
            let code = unsafe {
                match *value {
                    Value::Int(n) => ffi::sqlite3_bind_int64(stmt, at, n),
                    Value::Text(t) => ffi::sqlite3_bind_text(
                        stmt,
                        at,
                        t.as_ptr().cast(),
                        c_int::try_from(t.len()).unwrap_or(c_int::MAX),
                        ffi::SQLITE_TRANSIENT(),
                    ),
                }
            };
            if code != ffi::SQLITE_OK {
                return Err(failure(self.db, "binding a line"));
            }
        }
        // SAFETY: as above; a reset after every step leaves the statement
        // ready for the next line whatever the step's outcome.
        let (stepped, _) = unsafe { (ffi::sqlite3_step(stmt), ffi::sqlite3_reset(stmt)) };
        if stepped == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(failure(self.db, "writing a line"))
        }
    }
}

impl Drop for Insert<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is live and finalized once, here.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[tokio::test]
    async fn lines_are_written_and_a_refused_one_is_an_error_not_a_crash() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL, s TEXT NOT NULL)")
            .execute(&mut conn)
            .await
            .unwrap();
        {
            let mut handle = conn.lock_handle().await.unwrap();
            assert!(Insert::prepare(&mut handle, "INSERT INTO nowhere VALUES (?)").is_err());
            let mut insert = Insert::prepare(&mut handle, "INSERT INTO t VALUES (?, ?)").unwrap();
            insert.run(&[Value::Int(7), Value::Text("é ✓")]).unwrap();
            insert.run(&[Value::Int(8), Value::Text("")]).unwrap();
            // A parameter that is not there, then a NULL where none may be.
            let e = insert
                .run(&[Value::Int(9), Value::Text("x"), Value::Int(1)])
                .unwrap_err();
            assert!(e.to_string().contains("binding"), "{e}");
            drop(insert);
            let mut unbound =
                Insert::prepare(&mut handle, "INSERT INTO t VALUES (?, NULL)").unwrap();
            let e = unbound.run(&[Value::Int(10)]).unwrap_err();
            assert!(e.to_string().contains("NOT NULL"), "{e}");
        }
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT n, s FROM t ORDER BY n")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(rows, vec![(7, "é ✓".into()), (8, String::new())]);
    }
}
