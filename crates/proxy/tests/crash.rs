//! The proxy program killed with SIGKILL at random points of its start-up
//! sync, several times, then started again until a sync completes: the store
//! ends with the same rows and totals as a clean sync (and as Partner Center).

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{as_map, emulator_config, state, stored, upstream_totals, upstream_with};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts the proxy binary on the store in `data`, syncing at start.
fn start(up: &common::Upstream, data: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_proxy"))
        .envs(common::proxy_env(up, data, common::free_port()))
        .args(["--history-months", "3", "--sync-minutes", "600"])
        .env("RUST_LOG", "proxy=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the proxy binary starts")
}

/// Reads the proxy's log until `needle` (or the time runs out).
async fn wait_for(child: &mut Child, needle: &str, limit: Duration) -> bool {
    let out = child.stdout.as_mut().unwrap();
    let mut lines = BufReader::new(out).lines();
    let started = Instant::now();
    while started.elapsed() < limit {
        match tokio::time::timeout(Duration::from_millis(200), lines.next_line()).await {
            Ok(Ok(Some(line))) if line.contains(needle) => return true,
            Ok(Ok(None)) | Ok(Err(_)) => return false,
            _ => {}
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_syncs_then_a_restart_ends_as_a_clean_sync() {
    // Some latency stretches the sync over a few seconds, so kills land in it.
    let mut config = emulator_config("2026-11-20");
    config.customers = 40;
    config.faults.latency_ms = 50;
    let up = upstream_with(config).await;
    let expected = upstream_totals(&up).await;

    let data = tempfile::tempdir().unwrap();
    // A seed printed for reproduction: the kill points vary from run to run.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    println!("kill points seed: {seed}");
    let mut rng = seed | 1;
    let mut kills = 0;
    for _ in 0..4 {
        let mut proxy = start(&up, data.path());
        assert!(
            wait_for(&mut proxy, "sync started", Duration::from_secs(30)).await,
            "the proxy started a sync"
        );
        // xorshift: somewhere in the first 1.5 s of the sync.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(Duration::from_millis(50 + rng % 1_150)).await;
        proxy.start_kill().unwrap(); // SIGKILL on Unix
        proxy.wait().await.unwrap();
        kills += 1;
    }
    // The kills did land mid-sync: no run completed.
    {
        let store = common::open_store(data.path()).await;
        let partner = store.partner(&up.credentials.tenant).await.unwrap();
        assert_eq!(store.last_synced(partner).await.unwrap(), None);
    }
    // Started again, it finishes a sync (full again, since none completed,
    // or incremental over what the killed ones stored).
    let mut proxy = start(&up, data.path());
    assert!(
        wait_for(&mut proxy, "sync finished", Duration::from_secs(120)).await,
        "the restarted proxy finished its sync"
    );
    proxy.start_kill().unwrap();
    proxy.wait().await.unwrap();

    let after = state(&up, data.path()).await;
    let got = as_map(&stored(&after).await);
    assert_eq!(got, expected, "after {kills} kills");
    // And the same as a clean sync in a fresh store.
    let clean_dir = tempfile::tempdir().unwrap();
    let clean = state(&up, clean_dir.path()).await;
    clean
        .sync
        .run(
            clean.connection.as_ref().unwrap(),
            proxy::sync::SyncKind::Full,
        )
        .await
        .unwrap();
    assert_eq!(got, as_map(&stored(&clean).await));
}
