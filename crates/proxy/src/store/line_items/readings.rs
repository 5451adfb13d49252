//! The scopes being read: the version each writes its lines under, and
//! what it has written so far, its lines' sums among it. In memory: the
//! versions of a process that died are simply never kept, and the next
//! read of their scope clears them.

use std::collections::HashMap;
use std::sync::Mutex;

use super::sums::LineSums;
use crate::store::PartnerId;

/// A scope being read: the version its lines are written under, and what
/// has been written so far (the snapshot's figures and the lines' sums,
/// kept with it without reading the lines again).
pub(super) struct Reading {
    pub run: i64,
    pub version: i64,
    pub line_items: usize,
    pub billing_total: i64,
    /// The lines' sums, written to `line_sums` when the scope is kept: a
    /// sum written per batch cost an upsert for most lines of an export
    /// (its batches rarely repeat a customer's day), a third of the ingest.
    pub sums: LineSums,
    /// The repricings counted when the read began (`store_versions`):
    /// after another one the sums are worked out again from the repriced
    /// lines.
    pub priced: i64,
}

/// The scopes being read, by partner and scope. A scope's batches come one
/// at a time (a feed's pages, an export's files in order): a batch takes
/// its reading out and puts it back.
#[derive(Default)]
pub(in crate::store) struct Readings {
    reading: Mutex<HashMap<(PartnerId, String), Reading>>,
}

impl Readings {
    pub(super) fn new_reading(&self, run: i64, version: i64, priced: i64) -> Reading {
        Reading {
            run,
            version,
            line_items: 0,
            billing_total: 0,
            sums: LineSums::default(),
            priced,
        }
    }

    pub(super) fn set(&self, partner: PartnerId, scope: &str, reading: Reading) {
        self.reading
            .lock()
            .expect("readings poisoned")
            .insert((partner, scope.to_string()), reading);
    }

    /// The reading of `scope`, taken out (of any run).
    pub(super) fn take(&self, partner: PartnerId, scope: &str) -> Option<Reading> {
        self.reading
            .lock()
            .expect("readings poisoned")
            .remove(&(partner, scope.to_string()))
    }
}
