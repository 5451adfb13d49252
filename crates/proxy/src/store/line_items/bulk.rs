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

/// A connection locked out of sqlx's worker, on which statements are
/// prepared: several at once, each borrowing it.
pub(super) struct Connection<'db> {
    db: NonNull<ffi::sqlite3>,
    /// Ties the connection to the lock on it.
    _lock: std::marker::PhantomData<&'db mut ()>,
}

impl<'db> Connection<'db> {
    pub(super) fn of(handle: &'db mut sqlx::sqlite::LockedSqliteHandle<'_>) -> Connection<'db> {
        Connection {
            db: handle.as_raw_handle(),
            _lock: std::marker::PhantomData,
        }
    }
}

/// A prepared statement, finalized when dropped.
pub(super) struct Insert<'db> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    /// Ties the statement to its connection.
    _lock: std::marker::PhantomData<&'db ()>,
}

fn failure(db: NonNull<ffi::sqlite3>, what: &str) -> sqlx::Error {
    // SAFETY: the handle is open and locked for this thread; the message is
    // copied before any other call on it.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) };
    sqlx::Error::Protocol(format!("{what}: {}", message.to_string_lossy()))
}

impl<'db> Insert<'db> {
    /// Prepares `sql` on `conn`.
    pub(super) fn prepare(
        conn: &'db Connection<'_>,
        sql: &str,
    ) -> Result<Insert<'db>, sqlx::Error> {
        let db = conn.db;
        let mut stmt = std::ptr::null_mut();
        let len =
            c_int::try_from(sql.len()).map_err(|_| sqlx::Error::Protocol("SQL too long".into()))?;
        // SAFETY: `db` is open and locked out of sqlx's worker for as long as
        // `conn` is borrowed, which outlives the statement (`'db`).
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

    /// Binds `values` to the parameters in order.
    fn bind(&mut self, values: &[Value<'_>]) -> Result<(), sqlx::Error> {
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
        Ok(())
    }

    /// Binds `values` to the parameters in order and runs the statement once.
    pub(super) fn run(&mut self, values: &[Value<'_>]) -> Result<(), sqlx::Error> {
        self.bind(values)?;
        let stmt = self.stmt.as_ptr();
        // SAFETY: as above; a reset after every step leaves the statement
        // ready for the next line whatever the step's outcome.
        let (stepped, _) = unsafe { (ffi::sqlite3_step(stmt), ffi::sqlite3_reset(stmt)) };
        if stepped == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(failure(self.db, "writing a line"))
        }
    }

    /// Binds `values`, runs the statement once and reads the first column
    /// of the row it answers (`… RETURNING id`). SQLite makes a statement's
    /// changes in its first step, so the reset after it loses none.
    pub(super) fn id(&mut self, values: &[Value<'_>]) -> Result<i64, sqlx::Error> {
        self.bind(values)?;
        let stmt = self.stmt.as_ptr();
        // SAFETY: as above; the column is read while the row is current,
        // before the reset.
        let id = unsafe {
            let row = ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW;
            let id = row.then(|| ffi::sqlite3_column_int64(stmt, 0));
            ffi::sqlite3_reset(stmt);
            id
        };
        id.ok_or_else(|| failure(self.db, "writing a dictionary entry"))
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
    use sqlx::Connection as _;

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
            let db = Connection::of(&mut handle);
            assert!(Insert::prepare(&db, "INSERT INTO nowhere VALUES (?)").is_err());
            let mut insert = Insert::prepare(&db, "INSERT INTO t VALUES (?, ?)").unwrap();
            insert.run(&[Value::Int(7), Value::Text("é ✓")]).unwrap();
            insert.run(&[Value::Int(8), Value::Text("")]).unwrap();
            // A parameter that is not there, then a NULL where none may be.
            let e = insert
                .run(&[Value::Int(9), Value::Text("x"), Value::Int(1)])
                .unwrap_err();
            assert!(e.to_string().contains("binding"), "{e}");
            drop(insert);
            let mut unbound = Insert::prepare(&db, "INSERT INTO t VALUES (?, NULL)").unwrap();
            let e = unbound.run(&[Value::Int(10)]).unwrap_err();
            assert!(e.to_string().contains("NOT NULL"), "{e}");
            drop(unbound);
            let mut returning =
                Insert::prepare(&db, "INSERT INTO t VALUES (?, ?) RETURNING n * 2").unwrap();
            assert_eq!(
                returning.id(&[Value::Int(11), Value::Text("y")]).unwrap(),
                22
            );
            drop(returning);
            let mut refused =
                Insert::prepare(&db, "INSERT INTO t VALUES (?, NULL) RETURNING n").unwrap();
            let e = refused.id(&[Value::Int(12)]).unwrap_err();
            assert!(e.to_string().contains("NOT NULL"), "{e}");
        }
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT n, s FROM t ORDER BY n")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            rows,
            vec![(7, "é ✓".into()), (8, String::new()), (11, "y".into())]
        );
    }
}
