//! Graph's billing exports of a sync: every export goes out at once and is
//! polled together (the service prepares them side by side); their files
//! are then read a few at a time, streamed into the scope's staging, and
//! each export replaces its scope once every file is read. A file whose SAS
//! expired is read on with a fresh manifest; one that broke off is read
//! again from the line after the last one kept.

use std::sync::Arc;
use std::time::Duration;

use model::api::{SyncPhase, SyncProblem, SyncProblemKind};
use model::graph::Manifest;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::usage::{UsageScope, keep, stage};
use super::{Run, SyncError};
use crate::graph_billing::{BlobError, ExportRequest};
use crate::pc::{PcError, Service};

/// Lines kept in one transaction (two of the reader's batches). Each held
/// line is memory, and a commit now costs little (the lines' indexes take
/// new entries at their ends): at 16,000 a sync of a million-row export
/// peaked at 143-318 MB over its start in six runs, at 8,000 at 108-215 MB,
/// 160,000 rows/s against 166,000 (`cargo xtask bench`'s ingest row,
/// 2026-12-04).
const STAGED: usize = 8_000;
/// Exports whose files are read at once.
const DOWNLOADS: usize = 2;
/// Fresh manifests asked for one export (expired SAS) before giving up.
const REFRESHES: usize = 3;
/// Reads of one file that broke off, before giving up.
const ATTEMPTS: usize = 4;
/// Times an export starts over because its data version changed while read.
const RESTARTS: usize = 2;

/// One export of a sync.
#[derive(Debug, Clone)]
pub(super) struct Export {
    pub scope: UsageScope,
    pub request: ExportRequest,
}

pub(super) async fn read_exports(run: &Arc<Run>, exports: Vec<Export>) -> Result<(), SyncError> {
    let downloads = Arc::new(Semaphore::new(DOWNLOADS));
    let mut tasks = JoinSet::new();
    for export in exports {
        let run = run.clone();
        let downloads = downloads.clone();
        tasks.spawn(async move {
            let result = read_export(&run, &export, &downloads).await;
            (export, result)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (export, result) = joined.map_err(|e| SyncError::Internal(e.to_string()))?;
        match result {
            Ok(()) => {}
            // The export's scope keeps its previous snapshot.
            Err(SyncError::Upstream(e)) => run.failed(
                SyncProblemKind::Feed,
                Some(&export.scope.id()),
                export.request.call(),
                &e,
            ),
            Err(e) => return Err(e),
        }
        run.bump(|c| c.feeds_done += 1);
        run.report(SyncPhase::Usage).await?;
    }
    Ok(())
}

async fn read_export(run: &Run, export: &Export, downloads: &Semaphore) -> Result<(), SyncError> {
    let creds = &run.connection.credentials;
    let partner = run.connection.partner;
    let timing = &run.settings.export_timing;
    let scope = export.scope.id();
    let operation = run.pc.start_export(creds, &export.request).await?;
    run.read();
    let Some(mut manifest) = run.pc.finish_export(creds, &operation, timing).await? else {
        // "No data available": the scope has no usage.
        run.store.clear_staged(partner, &scope).await?;
        return keep(run, &export.scope, "", 0).await;
    };
    // The same data version as the one kept, read whole: nothing to read.
    if let Some(kept) = run.store.snapshot(partner, &scope).await?
        && !manifest.etag.is_empty()
        && kept.etag == manifest.etag
        && kept.unreadable == 0
    {
        return Ok(());
    }
    let _download = downloads
        .acquire()
        .await
        .map_err(|e| SyncError::Internal(e.to_string()))?;
    let mut restarts = 0;
    'export: loop {
        run.store.clear_staged(partner, &scope).await?;
        let mut unreadable = 0;
        let mut refreshes = 0;
        for index in 0..manifest.blobs.len() {
            let mut through = 0;
            let mut attempts = 0;
            loop {
                let blob = manifest.blobs[index].clone();
                let mut lines =
                    run.pc
                        .stream_blob(manifest.blob_url(&blob), blob.name.clone(), through);
                let mut failure = None;
                // Lines are kept in transactions of a few batches: each commit
                // writes every index page it touched, however few lines did.
                let mut items = Vec::new();
                let mut read = through;
                loop {
                    let batch = match lines.recv().await {
                        Some(Ok(batch)) => batch,
                        Some(Err(e)) => {
                            failure = Some(e);
                            break;
                        }
                        None => break,
                    };
                    for (number, line) in batch.lines {
                        match line {
                            Ok(item) => items.push(item),
                            Err(reason) => {
                                unreadable += 1;
                                run.problem(SyncProblem {
                                    kind: SyncProblemKind::LineItem,
                                    subject: Some(scope.clone()),
                                    name: None,
                                    call: format!("GET {}", blob.name),
                                    reason: format!("{}, line {number}: {reason}", blob.name),
                                    retried: false,
                                    next_sync: true,
                                    code: None,
                                });
                            }
                        }
                    }
                    read = batch.through;
                    if items.len() >= STAGED {
                        stage(run, &scope, std::mem::take(&mut items)).await?;
                    }
                }
                // What was read before a failure is kept too: the next read
                // of the file starts after it.
                if !items.is_empty() {
                    stage(run, &scope, items).await?;
                }
                through = read;
                match failure {
                    None => break,
                    Some(BlobError::Refused(why)) if refreshes < REFRESHES => {
                        refreshes += 1;
                        tracing::debug!(scope = %scope, %why, "storage refused the SAS: a fresh manifest");
                        let fresh = run.pc.finish_export(creds, &operation, timing).await?;
                        match fresh {
                            Some(fresh) if same_version(&fresh, &manifest) => manifest = fresh,
                            // A new data version: what was read is of the old one.
                            Some(fresh) if restarts < RESTARTS => {
                                restarts += 1;
                                manifest = fresh;
                                continue 'export;
                            }
                            _ => {
                                return Err(PcError::Unavailable(format!(
                                    "the export's data changed while it was read: {why}"
                                ))
                                .into());
                            }
                        }
                    }
                    Some(BlobError::Broken(why)) if attempts + 1 < ATTEMPTS => {
                        attempts += 1;
                        tracing::debug!(scope = %scope, %why, through, "a file broke off: read on");
                        tokio::time::sleep(Duration::from_millis(200 << attempts)).await;
                    }
                    Some(BlobError::Refused(why)) => {
                        return Err(PcError::Fault {
                            service: Service::Storage,
                            status: 403,
                            code: "AuthenticationFailed".into(),
                            description: why,
                        }
                        .into());
                    }
                    Some(BlobError::Broken(why)) => return Err(PcError::Unavailable(why).into()),
                    Some(BlobError::Failed(why)) => return Err(PcError::BadResponse(why).into()),
                }
            }
        }
        return keep(run, &export.scope, &manifest.etag, unreadable).await;
    }
}

/// Whether a fresh manifest is of the same data (`eTag`, files).
fn same_version(fresh: &Manifest, read: &Manifest) -> bool {
    fresh.etag == read.etag
        && fresh.blobs.len() == read.blobs.len()
        && fresh
            .blobs
            .iter()
            .zip(&read.blobs)
            .all(|(a, b)| a.name == b.name)
}
