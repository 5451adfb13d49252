//! How far the store has moved (`store_versions`): every write moves it in
//! its own transaction, whichever process makes it (replicas sharing the
//! store, an operator command), and every process checks what it keeps
//! against it: the figures, the sessions, the trial's onboarding rows.
//!
//! It is read on every request, so it is read through SQLite's C API on a
//! connection of its own, in two microseconds on the request's thread, and
//! once per request ([`one_reading`]): through sqlx's pool, three reads a
//! request (the session, the trial, a kept figure) took the proxy under
//! load from 35,000-40,000 requests a second to 9,800, and through the C API one
//! each to 27,000 (BENCHMARKS.md).

use std::cell::Cell;
use std::ffi::{CStr, CString, c_int};
use std::future::Future;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Mutex;

use libsqlite3_sys as ffi;

/// The counters of `store_versions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Versions {
    /// Moved by every write but sessions'.
    pub everything: i64,
    /// Moved by writes to the line items and their prices.
    pub lines: i64,
    /// Moved by markups' repricings of the lines.
    pub repricings: i64,
    /// Moved when sessions end before their time (a sign-out, a customer
    /// user removed).
    pub sessions: i64,
    /// Moved when a partner's key is stored or sealed again.
    pub connections: i64,
}

tokio::task_local! {
    /// The versions a request has read, with the reader they came from.
    static SEEN: Cell<Option<(usize, Versions)>>;
}

/// Runs a request's handler with one reading of the versions for all it
/// asks: read at its first check, so everything committed before the
/// request came is seen; dropped when the request itself writes.
pub async fn one_reading<F: Future>(handler: F) -> F::Output {
    SEEN.scope(Cell::new(None), handler).await
}

/// The request's own write committed: its next check reads again.
pub(super) fn forget_reading() {
    let _ = SEEN.try_with(|seen| seen.set(None));
}

/// What this request read of the store `me` names, if it did.
fn seen(me: usize) -> Option<Versions> {
    match SEEN.try_with(Cell::get) {
        Ok(Some((from, versions))) if from == me => Some(versions),
        _ => None,
    }
}

fn remember(me: usize, versions: Versions) {
    let _ = SEEN.try_with(|seen| seen.set(Some((me, versions))));
}

/// The versions in a PostgreSQL store, once per request as in SQLite's:
/// `me` tells the store apart from another a task may use (the tests').
pub(super) async fn read_postgres(me: usize, pool: &sqlx::PgPool) -> Result<Versions, sqlx::Error> {
    if let Some(versions) = seen(me) {
        return Ok(versions);
    }
    let (everything, lines, repricings, sessions, connections) =
        sqlx::query_as(READ).fetch_one(pool).await?;
    let versions = Versions {
        everything,
        lines,
        repricings,
        sessions,
        connections,
    };
    remember(me, versions);
    Ok(versions)
}

const READ: &str =
    "SELECT everything, lines, repricings, sessions, connections FROM store_versions WHERE id = 1";

/// The reading connection and its one prepared statement.
struct Reader {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

// SAFETY: the connection is opened without SQLite's own mutex and used by
// one thread at a time, under the mutex of `VersionsReader`.
unsafe impl Send for Reader {}

pub(super) struct VersionsReader(Mutex<Reader>);

fn failure(db: *mut ffi::sqlite3, what: &str) -> sqlx::Error {
    // SAFETY: `db` is a handle sqlite3_open_v2 gave (open or failed to
    // open); the message is copied before any other call on it.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
    sqlx::Error::Protocol(format!("{what}: {}", message.to_string_lossy()))
}

impl VersionsReader {
    /// Opens its own connection to the (migrated) store file.
    pub(super) fn open(file: &Path) -> Result<VersionsReader, sqlx::Error> {
        let path = CString::new(file.as_os_str().as_encoded_bytes())
            .map_err(|_| sqlx::Error::Protocol("the store's path has a NUL".into()))?;
        let mut db = std::ptr::null_mut();
        // SAFETY: `path` is a C string that outlives the call; the handle is
        // closed below if anything fails, or when the reader is dropped.
        let code = unsafe {
            ffi::sqlite3_open_v2(
                path.as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX,
                std::ptr::null(),
            )
        };
        let Some(db) = NonNull::new(db) else {
            return Err(sqlx::Error::Protocol(
                "SQLite could not allocate a connection".into(),
            ));
        };
        let close = |e: sqlx::Error| {
            // SAFETY: the handle is open, has no statement, and is not used again.
            unsafe { ffi::sqlite3_close(db.as_ptr()) };
            e
        };
        if code != ffi::SQLITE_OK {
            return Err(close(failure(db.as_ptr(), "opening the store")));
        }
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `db` is open and this thread's alone; a writer holding the
        // lock past a second is waited for no longer (the read then fails
        // and nothing kept is trusted).
        let code = unsafe {
            ffi::sqlite3_busy_timeout(db.as_ptr(), 1000);
            ffi::sqlite3_prepare_v2(
                db.as_ptr(),
                READ.as_ptr().cast(),
                READ.len() as c_int,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if code == ffi::SQLITE_OK => {
                Ok(VersionsReader(Mutex::new(Reader { db, stmt })))
            }
            _ => Err(close(failure(db.as_ptr(), "preparing the versions' read"))),
        }
    }

    /// The versions as committed now, by every process, or as this
    /// request read them first (see [`one_reading`]).
    pub(super) fn read(&self) -> Result<Versions, sqlx::Error> {
        let me = std::ptr::from_ref(self) as usize;
        if let Some(versions) = seen(me) {
            return Ok(versions);
        }
        let versions = self.read_now()?;
        remember(me, versions);
        Ok(versions)
    }

    fn read_now(&self) -> Result<Versions, sqlx::Error> {
        let reader = self.0.lock().expect("versions reader poisoned");
        let stmt = reader.stmt.as_ptr();
        // SAFETY: the statement is live and used by this thread alone under
        // the lock; the columns are read while the row is current, and the
        // reset ends the read transaction (which would otherwise hold back
        // checkpoints) whatever the step's outcome.
        let versions = unsafe {
            let row = ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW;
            let versions = row.then(|| Versions {
                everything: ffi::sqlite3_column_int64(stmt, 0),
                lines: ffi::sqlite3_column_int64(stmt, 1),
                repricings: ffi::sqlite3_column_int64(stmt, 2),
                sessions: ffi::sqlite3_column_int64(stmt, 3),
                connections: ffi::sqlite3_column_int64(stmt, 4),
            });
            ffi::sqlite3_reset(stmt);
            versions
        };
        versions.ok_or_else(|| failure(reader.db.as_ptr(), "reading the store's versions"))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: the statement and the connection are live and released
        // once, here, the statement first.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
            ffi::sqlite3_close(self.db.as_ptr());
        }
    }
}
