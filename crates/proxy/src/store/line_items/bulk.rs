//! Writing and reading many lines through SQLite's C API: one prepared
//! statement, bound and stepped once per line (or read row by row), on a
//! connection locked out of sqlx's worker. Through sqlx every statement is
//! a round trip to the connection's thread and every value is boxed on the
//! way; a sync writes millions of lines and a large partner's Explorer sums
//! hundreds of thousands, and this is the one place that pays for that
//! with `unsafe`.

use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

use libsqlite3_sys as ffi;

/// Runs `work`, which holds this thread for tens of milliseconds or more:
/// on a multi-threaded runtime the thread's other tasks move to another
/// worker meanwhile (the page requests of a sync under way among them).
pub(in crate::store) fn holding_the_thread<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// A value bound to one parameter.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) enum Value<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

/// A connection locked out of sqlx's worker, on which statements are
/// prepared: several at once, each borrowing it.
pub(in crate::store) struct Connection<'db> {
    db: NonNull<ffi::sqlite3>,
    /// Ties the connection to the lock on it.
    _lock: std::marker::PhantomData<&'db mut ()>,
}

impl<'db> Connection<'db> {
    pub(in crate::store) fn of(
        handle: &'db mut sqlx::sqlite::LockedSqliteHandle<'_>,
    ) -> Connection<'db> {
        Connection {
            db: handle.as_raw_handle(),
            _lock: std::marker::PhantomData,
        }
    }
}

/// A prepared statement, finalized when dropped.
pub(in crate::store) struct Statement<'db> {
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

impl<'db> Statement<'db> {
    /// Prepares `sql` on `conn`.
    pub(in crate::store) fn prepare(
        conn: &'db Connection<'_>,
        sql: &str,
    ) -> Result<Statement<'db>, sqlx::Error> {
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
            Some(stmt) if code == ffi::SQLITE_OK => Ok(Statement {
                db,
                stmt,
                _lock: std::marker::PhantomData,
            }),
            _ => Err(failure(db, "preparing a statement")),
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
                    Value::Null => ffi::sqlite3_bind_null(stmt, at),
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

impl Statement<'_> {
    /// Binds `values` and hands each row the statement answers to `each`,
    /// in order; the statement is reset after, whatever happened.
    pub(in crate::store) fn rows(
        &mut self,
        values: &[Value<'_>],
        mut each: impl FnMut(&Row<'_>),
    ) -> Result<(), sqlx::Error> {
        self.bind(values)?;
        let stmt = self.stmt;
        let code = loop {
            // SAFETY: as in `run`; the row handed on borrows the statement
            // only until the next step.
            match unsafe { ffi::sqlite3_step(stmt.as_ptr()) } {
                ffi::SQLITE_ROW => each(&Row {
                    stmt,
                    _step: std::marker::PhantomData,
                }),
                code => break code,
            }
        };
        // SAFETY: as above.
        unsafe { ffi::sqlite3_reset(stmt.as_ptr()) };
        if code == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(failure(self.db, "reading lines"))
        }
    }
}

/// The row a statement stands on, valid until its next step.
pub(in crate::store) struct Row<'step> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    _step: std::marker::PhantomData<&'step ()>,
}

impl Row<'_> {
    /// Column `i` as an integer (0 for NULL, text as SQLite converts it).
    pub(in crate::store) fn int(&self, i: usize) -> i64 {
        // SAFETY: the statement stands on a row for as long as `self` lives.
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), i as c_int) }
    }

    /// Column `i` as text bytes, borrowed until the next step (empty for
    /// NULL).
    pub(in crate::store) fn text(&self, i: usize) -> &[u8] {
        // SAFETY: as above; SQLite's text pointer stays valid until the
        // next step, reset or type conversion of this column, and `self`
        // (borrowing the step) outlives the slice. The length is asked
        // after the text, as SQLite's documentation says to.
        unsafe {
            let text = ffi::sqlite3_column_text(self.stmt.as_ptr(), i as c_int);
            if text.is_null() {
                return &[];
            }
            let len = ffi::sqlite3_column_bytes(self.stmt.as_ptr(), i as c_int);
            std::slice::from_raw_parts(text, usize::try_from(len).unwrap_or(0))
        }
    }
}

impl Drop for Statement<'_> {
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
            assert!(Statement::prepare(&db, "INSERT INTO nowhere VALUES (?)").is_err());
            let mut insert = Statement::prepare(&db, "INSERT INTO t VALUES (?, ?)").unwrap();
            insert.run(&[Value::Int(7), Value::Text("é ✓")]).unwrap();
            insert.run(&[Value::Int(8), Value::Text("")]).unwrap();
            // A parameter that is not there, then a NULL where none may be.
            let e = insert
                .run(&[Value::Int(9), Value::Text("x"), Value::Int(1)])
                .unwrap_err();
            assert!(e.to_string().contains("binding"), "{e}");
            drop(insert);
            let mut unbound = Statement::prepare(&db, "INSERT INTO t VALUES (?, NULL)").unwrap();
            let e = unbound.run(&[Value::Int(10)]).unwrap_err();
            assert!(e.to_string().contains("NOT NULL"), "{e}");
            drop(unbound);
            let mut returning =
                Statement::prepare(&db, "INSERT INTO t VALUES (?, ?) RETURNING n * 2").unwrap();
            assert_eq!(
                returning.id(&[Value::Int(11), Value::Text("y")]).unwrap(),
                22
            );
            drop(returning);
            let mut refused =
                Statement::prepare(&db, "INSERT INTO t VALUES (?, NULL) RETURNING n").unwrap();
            let e = refused.id(&[Value::Int(12)]).unwrap_err();
            assert!(e.to_string().contains("NOT NULL"), "{e}");
            drop(refused);
            // Rows read in place, with a NULL bound and then a number.
            let mut select = Statement::prepare(
                &db,
                "SELECT n, s FROM t WHERE ? IS NULL OR n = ? ORDER BY n",
            )
            .unwrap();
            let mut read = Vec::new();
            let mut each = |row: &Row<'_>| read.push((row.int(0), row.text(1).to_vec()));
            select.rows(&[Value::Null, Value::Null], &mut each).unwrap();
            select
                .rows(&[Value::Int(8), Value::Int(8)], &mut each)
                .unwrap();
            let expected: [(i64, &[u8]); 4] =
                [(7, "é ✓".as_bytes()), (8, b""), (11, b"y"), (8, b"")];
            assert_eq!(read, expected.map(|(n, s)| (n, s.to_vec())));
            // A step that fails (here abs() of the smallest integer, which
            // SQLite refuses as an overflow) is an error.
            let mut failing =
                Statement::prepare(&db, "SELECT abs(-9223372036854775807 - ?)").unwrap();
            let e = failing.rows(&[Value::Int(1)], |_| {}).unwrap_err();
            assert!(e.to_string().contains("reading"), "{e}");
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
