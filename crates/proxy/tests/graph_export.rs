//! Usage as the service serves it today: new commerce from Graph's billing
//! export (API v2) since the cutover, legacy commerce from Partner Center's
//! v1 routes, against the emulator playing both, with the export's quirks
//! and failures. The oracle is the emulator's own answer key.

mod common;

use std::time::Duration;

use common::{as_map, config, emulator_config, state, stored, upstream_totals, upstream_with};
use emulator::Faults;
use proxy::AppState;
use proxy::graph_billing::{BillingPeriod, ExportRequest, ExportTiming};
use proxy::sync::SyncKind;

async fn full_sync(state: &AppState) -> model::api::SyncCounts {
    state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap()
}

async fn problems(state: &AppState) -> Vec<model::api::SyncProblem> {
    let partner = state.connection.as_ref().unwrap().partner;
    state.sync.progress(partner).await.unwrap().problems
}

#[tokio::test]
async fn a_full_sync_equals_the_emulators_files_exactly_both_rows_of_a_benefit_pair_included() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let counts = full_sync(&state).await;
    assert_eq!(counts.errors, 0, "{:?}", problems(&state).await);
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);

    let partner = state.connection.as_ref().unwrap().partner;
    let scopes = state.store.snapshots(partner).await.unwrap();
    let has = |prefix: &str| scopes.iter().any(|(s, _, _)| s.starts_with(prefix));
    assert!(
        has("v2:invoice:G"),
        "new-commerce invoices from the export: {scopes:?}"
    );
    assert!(
        has("v2:unbilled:"),
        "this month's new commerce from the export"
    );
    assert!(has("v1:invoice:D"), "legacy invoices from v1: {scopes:?}");
    assert!(
        !has("v1:invoice:G"),
        "no new-commerce invoice after the cutover from v1"
    );
    // Rows that share every identity field but the benefit are both kept.
    let scope = proxy::store::Scope {
        customer: None,
        from: "2026-01-01".parse().unwrap(),
        to: "2026-12-31".parse().unwrap(),
    };
    let mut by_key: std::collections::HashMap<i64, Vec<String>> = Default::default();
    state
        .store
        .for_each_line(partner, &scope, |l, _| {
            by_key.entry(l.key).or_default().push(l.benefit_id)
        })
        .await
        .unwrap();
    let pairs = by_key
        .values()
        .filter(|b| {
            b.len() == 2 && b.contains(&"sp-benefit-a".into()) && b.contains(&"sp-benefit-b".into())
        })
        .count();
    assert!(pairs > 0, "benefit pairs kept as two rows");
    assert_eq!(state.store.staged_count(partner).await.unwrap(), 0);
}

#[tokio::test]
async fn a_second_sync_of_unchanged_exports_reads_no_file_and_keeps_the_same_rows() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    full_sync(&state).await;
    let first = as_map(&stored(&state).await);
    let blobs = up.emulator.stats().blobs;
    assert!(blobs > 0);
    let counts = full_sync(&state).await;
    assert_eq!(counts.errors, 0);
    assert_eq!(
        up.emulator.stats().blobs,
        blobs,
        "the same eTag: no file read again"
    );
    assert_eq!(as_map(&stored(&state).await), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_during_a_file_download_then_run_again_equals_a_clean_sync() {
    let mut emu = emulator_config("2026-11-20");
    // Small files, each a little slow: the download takes a while.
    emu.faults = Faults {
        export_rows_per_blob: 40,
        latency_ms: 15,
        ..Faults::default()
    };
    let up = upstream_with(emu).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let partner = state.connection.as_ref().unwrap().partner;
    let running = {
        let state = state.clone();
        tokio::spawn(async move { full_sync(&state).await })
    };
    let started = std::time::Instant::now();
    // Killed once a few files of an export are read, before its last one.
    while up.emulator.stats().blobs < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "a download started"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    running.abort();
    let _ = running.await;
    assert!(
        state.store.staged_count(partner).await.unwrap() > 0,
        "killed while files were read"
    );
    // What was staged is not kept: nothing of a half-read export is seen.
    let kept: usize = stored(&state).await.iter().map(|t| t.line_items).sum();
    let scopes = state.store.snapshots(partner).await.unwrap();
    let v2_kept = scopes.iter().filter(|(_, api, _)| api == "v2").count();
    if v2_kept == 0 {
        let v1: usize = upstream_totals(&up).await.values().map(|v| v.0).sum();
        assert!(kept < v1, "no export's rows without its snapshot");
    }
    up.emulator.set_faults(Faults::default());
    let counts = full_sync(&state).await;
    assert_eq!(counts.errors, 0, "{:?}", problems(&state).await);
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
    assert_eq!(state.store.staged_count(partner).await.unwrap(), 0);
}

#[tokio::test]
async fn an_expired_sas_mid_export_is_read_on_with_a_fresh_manifest() {
    let mut emu = emulator_config("2026-11-20");
    emu.faults = Faults {
        export_rows_per_blob: 200,
        // The next two file downloads are refused as an expired SAS.
        expire_sas: 2,
        ..Faults::default()
    };
    let up = upstream_with(emu).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let polls = up.emulator.stats().export_polls;
    let counts = full_sync(&state).await;
    assert_eq!(counts.errors, 0, "{:?}", problems(&state).await);
    assert!(up.emulator.stats().faults >= 2, "{:?}", up.emulator.stats());
    // The same data version: each refused file is asked again, and nothing
    // read before it is read twice (no start over).
    let downloads: Vec<String> = up
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/emulator/blobs/"))
        .map(|r| r.path)
        .collect();
    let files: std::collections::BTreeSet<&String> = downloads.iter().collect();
    assert_eq!(downloads.len(), files.len() + 2, "{downloads:?}");
    assert!(up.emulator.stats().export_polls > polls);
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
}

#[tokio::test]
async fn a_sas_that_is_always_expired_costs_only_its_exports_and_says_so() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    full_sync(&state).await;
    let before = as_map(&stored(&state).await);
    // Every SAS handed out has already expired; the exports' data changed
    // (a new eTag makes the sync read them again).
    up.emulator.set_faults(Faults {
        sas_seconds: 0,
        export_rows_per_blob: 999,
        ..Faults::default()
    });
    let downloads = || {
        let mut n: std::collections::BTreeMap<String, usize> = Default::default();
        for r in up.emulator.requests() {
            if r.path.starts_with("/emulator/blobs/") {
                assert!(r.query.is_empty(), "no SAS in the log");
                *n.entry(r.path).or_default() += 1;
            }
        }
        n
    };
    let before_sync = downloads();
    let counts = full_sync(&state).await;
    assert!(counts.errors > 0);
    // Each export's first file: the first download, then one with each of
    // three fresh manifests, and no more.
    let tried: Vec<usize> = downloads()
        .into_iter()
        .map(|(path, n)| n - before_sync.get(&path).copied().unwrap_or(0))
        .filter(|n| *n > 0)
        .collect();
    assert!(!tried.is_empty());
    assert!(tried.iter().all(|n| *n == 4), "{tried:?}");
    let seen = problems(&state).await;
    assert!(
        seen.iter().any(|p| p.reason.contains("Azure Storage")
            && p.call
                .starts_with("POST /v1.0/reports/partners/billing/usage/")
            && !p.reason.contains("sig=")),
        "{seen:?}"
    );
    assert_eq!(
        as_map(&stored(&state).await),
        before,
        "the previous snapshots stay whole"
    );
}

#[tokio::test]
async fn an_export_polled_many_times_is_waited_for_and_both_manifest_shapes_read() {
    for inline in [false, true] {
        let mut emu = emulator_config("2026-11-20");
        emu.faults = Faults {
            export_polls: 12,
            export_retry_after_secs: 0,
            inline_manifest: inline,
            ..Faults::default()
        };
        let up = upstream_with(emu).await;
        let data = tempfile::tempdir().unwrap();
        let state = state(&up, data.path()).await;
        let counts = full_sync(&state).await;
        assert_eq!(counts.errors, 0, "{:?}", problems(&state).await);
        assert!(
            up.emulator.stats().export_polls >= 13,
            "{:?}",
            up.emulator.stats()
        );
        assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
    }
}

#[tokio::test]
async fn exports_throttled_with_429_are_retried_after_the_wait() {
    let mut emu = emulator_config("2026-11-20");
    emu.faults = Faults {
        throttle_requests: Some(4),
        throttle_interval_ms: 1_000,
        ..Faults::default()
    };
    let up = upstream_with(emu).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let counts = full_sync(&state).await;
    assert_eq!(counts.errors, 0, "{:?}", problems(&state).await);
    assert!(up.emulator.stats().throttled > 0);
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
}

#[tokio::test]
async fn no_data_is_an_empty_export_and_a_deadline_ends_a_slow_one() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let pc = proxy::pc::PartnerCenter::new(
        proxy::pc::Endpoints {
            api: up.url.clone(),
            login: up.url.clone(),
            graph: up.url.clone(),
        },
        Default::default(),
    );
    // After the 8th, last month is invoiced: its unbilled export has no data.
    let last = ExportRequest::Unbilled {
        currency: "USD".into(),
        period: BillingPeriod::Last,
    };
    let operation = pc.start_export(&up.credentials, &last).await.unwrap();
    assert!(operation.starts_with(&up.url), "{operation}");
    let timing = ExportTiming {
        deadline: Duration::from_secs(20),
        poll: Duration::from_millis(50),
    };
    assert_eq!(
        pc.finish_export(&up.credentials, &operation, &timing)
            .await
            .unwrap(),
        None
    );
    up.emulator.set_faults(Faults {
        export_polls: 1_000,
        ..Faults::default()
    });
    let operation = pc.start_export(&up.credentials, &last).await.unwrap();
    let quick = ExportTiming {
        deadline: Duration::from_secs(2),
        poll: Duration::from_millis(50),
    };
    let e = pc
        .finish_export(&up.credentials, &operation, &quick)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("did not finish"), "{e}");
    // An invoice Graph does not know is Graph's refusal, with its code.
    let e = pc
        .start_export(
            &up.credentials,
            &ExportRequest::Billed {
                invoice_id: "G999999999".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, proxy::pc::PcError::Fault { status: 404, code, .. } if code == "notFound"),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_unreadable_line_of_a_file_is_reported_with_its_file_and_number_and_the_rest_kept() {
    let mut emu = emulator_config("2026-11-20");
    emu.faults = Faults {
        unreadable_export_rows: 97,
        ..Faults::default()
    };
    let up = upstream_with(emu).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let counts = full_sync(&state).await;
    assert!(counts.errors > 0);
    let seen = problems(&state).await;
    let line_problems: Vec<_> = seen
        .iter()
        .filter(|p| p.kind == model::api::SyncProblemKind::LineItem)
        .collect();
    assert!(!line_problems.is_empty(), "{seen:?}");
    for p in &line_problems {
        assert!(
            p.reason.contains(".json.gz, line ") && p.reason.contains("UsageDate"),
            "{p:?}"
        );
    }
    let expected: usize = upstream_totals(&up).await.values().map(|v| v.0).sum();
    let kept: usize = stored(&state).await.iter().map(|t| t.line_items).sum();
    assert_eq!(kept + counts.errors, expected, "every other line kept");
    let status = state
        .sync
        .progress(state.connection.as_ref().unwrap().partner)
        .await
        .unwrap();
    assert_eq!(status.status, model::api::SyncStatus::Succeeded);
}

#[tokio::test]
async fn an_incremental_sync_does_not_export_invoices_read_whole() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let data = tempfile::tempdir().unwrap();
    let mut c = config(&up, data.path());
    c.history_months = 3;
    let state = AppState::new(&c).await.unwrap();
    full_sync(&state).await;
    let polls = up.emulator.stats().export_polls;
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Incremental)
        .await
        .unwrap();
    assert_eq!(counts.errors, 0);
    let exports = counts.feeds_total.unwrap();
    // Only the unbilled scopes are read again: two periods per currency.
    let partner = state.connection.as_ref().unwrap().partner;
    let currencies = state.store.feed_currencies(partner).await.unwrap().len();
    assert_eq!(exports, currencies * 2 * 2, "v1 and v2, current and last");
    assert!(up.emulator.stats().export_polls > polls);
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
}

#[tokio::test]
async fn the_schedule_reads_details_once_a_day_and_usage_in_between() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let partner = state.connection.as_ref().unwrap().partner;
    let day = Duration::from_secs(24 * 3600);
    assert_eq!(state.sync.due(partner, day).await.unwrap(), SyncKind::Full);
    full_sync(&state).await;
    assert_eq!(state.sync.due(partner, day).await.unwrap(), SyncKind::Usage);
    assert_eq!(
        state.sync.due(partner, Duration::ZERO).await.unwrap(),
        SyncKind::Incremental,
        "details a day old are read again"
    );
    let requests = up.emulator.stats().requests;
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Usage)
        .await
        .unwrap();
    assert_eq!(counts.errors, 0);
    assert_eq!(counts.customers_done, 0, "no customer read");
    assert!(up.emulator.stats().requests > requests);
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
    // A usage-only sync leaves the details' age as it was.
    assert_eq!(state.sync.due(partner, day).await.unwrap(), SyncKind::Usage);
}
