//! The client and the sync against an emulator that misbehaves on purpose:
//! they retry within bounds, never loop, report clear errors, keep the rate
//! limit, and lose nothing already stored.

mod common;

use std::time::{Duration, Instant};

use common::{as_map, config, emulator_config, stored, upstream_totals, upstream_with};
use emulator::Faults;
use model::pc::{Collection, Customer, Link};
use proxy::pc::{PartnerCenter, PcError};
use proxy::sync::SyncKind;
use proxy::{AppState, Config};

fn quick(mut c: Config) -> Config {
    c.upstream_retry_ms = 20;
    c
}

#[tokio::test]
async fn flaky_answers_are_retried_and_nothing_is_lost() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let expected = upstream_totals(&up).await;
    up.emulator.set_faults(Faults {
        // Three in ten answers fail: six attempts all failing (0.3^6, under
        // one call in a thousand) would be a problem reported, not a bug.
        error_rate: 0.1,
        truncate_rate: 0.1,
        not_ready_rate: 0.1,
        ..Faults::default()
    });
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&quick(config(&up, data.path())))
        .await
        .unwrap();
    // Retry-After of 1 s on "not ready" answers makes this take a few seconds.
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let connection = state.connection.as_ref().unwrap();
    assert_eq!(
        counts.errors,
        0,
        "{:?}",
        state
            .sync
            .progress(connection.partner)
            .await
            .unwrap()
            .problems
    );
    assert!(
        up.emulator.stats().faults > 5,
        "faults were injected: {:?}",
        up.emulator.stats()
    );
    assert_eq!(as_map(&stored(&state).await), expected);
}

#[tokio::test]
async fn hanging_requests_time_out_and_are_retried() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    up.emulator.set_faults(Faults {
        timeout_rate: 0.3,
        hang_ms: 5_000,
        ..Faults::default()
    });
    let data = tempfile::tempdir().unwrap();
    let mut c = quick(config(&up, data.path()));
    c.upstream_timeout_secs = 1;
    let state = AppState::new(&c).await.unwrap();
    let pc = &state.pc;
    let creds = &state.connection.as_ref().unwrap().credentials;
    let started = Instant::now();
    let customers: Vec<Customer> = pc
        .get_all(creds, Link::get("/customers?size=2"))
        .await
        .unwrap()
        .items;
    assert_eq!(customers.len(), 6);
    assert!(started.elapsed() < Duration::from_secs(30));
    // Only hangs were asked for: each fault is one, and a request that hung
    // for 5 s was given up after the 1 s timeout.
    let hung = up.emulator.stats().faults;
    assert!(hung > 0, "no request hung: {:?}", up.emulator.stats());
    assert!(
        started.elapsed() >= Duration::from_secs(hung),
        "each hang cost the timeout"
    );
}

#[tokio::test]
async fn a_client_rate_limit_keeps_under_the_upstream_throttle() {
    let mut emu = emulator_config("2026-11-20");
    emu.faults = Faults {
        throttle_requests: Some(10),
        throttle_interval_ms: 1_000,
        ..Faults::default()
    };
    let up = upstream_with(emu).await;
    let data = tempfile::tempdir().unwrap();
    let mut c = config(&up, data.path());
    c.upstream_requests_per_minute = Some(600);
    let state = AppState::new(&c).await.unwrap();
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    assert_eq!(counts.errors, 0);
    let stats = up.emulator.stats();
    assert_eq!(stats.throttled, 0, "no request over the limit: {stats:?}");
    assert!(stats.requests > 20, "{stats:?}");
}

#[tokio::test]
async fn throttling_without_a_configured_rate_is_survived_by_honouring_retry_after() {
    let mut emu = emulator_config("2026-11-20");
    emu.faults = Faults {
        throttle_requests: Some(15),
        throttle_interval_ms: 1_000,
        ..Faults::default()
    };
    let up = upstream_with(emu).await;
    let expected = upstream_totals(&up).await;
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&config(&up, data.path())).await.unwrap();
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    assert_eq!(counts.errors, 0);
    assert!(
        up.emulator.stats().throttled > 0,
        "{:?}",
        up.emulator.stats()
    );
    assert_eq!(as_map(&stored(&state).await), expected);
}

#[tokio::test]
async fn paging_that_loops_is_an_error_not_a_hang() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    up.emulator.set_faults(Faults {
        loop_next_links: true,
        ..Faults::default()
    });
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&config(&up, data.path())).await.unwrap();
    let creds = &state.connection.as_ref().unwrap().credentials;
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        state
            .pc
            .get_all::<Customer>(creds, Link::get("/customers?size=2")),
    )
    .await
    .expect("bounded")
    .unwrap_err();
    assert!(
        matches!(&err, PcError::BadResponse(m) if m.contains("loops")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failing_token_endpoint_is_reported_after_bounded_retries() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    up.emulator.set_faults(Faults {
        token_error_rate: 1.0,
        ..Faults::default()
    });
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&quick(config(&up, data.path())))
        .await
        .unwrap();
    let creds = &state.connection.as_ref().unwrap().credentials;
    let pc: &PartnerCenter = &state.pc;
    let err = pc
        .get::<Collection<Customer>>(creds, &Link::get("/customers?size=1"))
        .await
        .unwrap_err();
    assert!(matches!(err, PcError::Unavailable(_)), "{err:?}");
    let requests = up.emulator.stats().requests;
    assert!((2..=6).contains(&requests), "bounded retries: {requests}");
}

#[tokio::test]
async fn an_upstream_outage_fails_the_sync_and_keeps_what_was_stored() {
    let up = upstream_with(emulator_config("2026-11-20")).await;
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&quick(config(&up, data.path())))
        .await
        .unwrap();
    let connection = state.connection.clone().unwrap();
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let before = stored(&state).await;

    up.emulator.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let err = state
        .sync
        .run(&connection, SyncKind::Full)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 5"), "{err}");
    assert_eq!(
        state
            .syncer(state.connection.as_ref().unwrap().partner)
            .current()
            .status,
        model::api::SyncStatus::Failed
    );
    assert_eq!(stored(&state).await, before);
}
