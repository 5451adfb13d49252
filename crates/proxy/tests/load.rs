//! Many concurrent sessions of two partners reading the summary routes while
//! one partner syncs, for a bounded time: no errors, every body its own
//! partner's, and the process's memory stays bounded. (Latency figures are
//! the benchmark's business, not this test's.) And one partner's heavy
//! reads do not hold up another partner's.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{client_of, serve, two_partners, upstream};
use model::api::CustomerList;
use model::onboarding::Role;
use proxy::sync::SyncKind;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_of_two_partners_while_one_syncs() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let (state, a, b) = two_partners(&up, data.path()).await;
    for c in [&a, &b] {
        state.sync.run(c, SyncKind::Full).await.unwrap();
    }
    let clients = [
        client_of(&state, &a.credentials.tenant, &[Role::GlobalAdmin]).await,
        client_of(&state, &b.credentials.tenant, &[Role::BillingAdmin]).await,
    ];
    let base = serve(state.clone(), data.path()).await;
    let mut ids: Vec<HashSet<String>> = Vec::new();
    for c in &clients {
        let l: CustomerList = common::get_json(c, &format!("{base}/api/customers")).await;
        ids.push(l.customers.into_iter().map(|c| c.id).collect());
    }
    let ids = Arc::new(ids);

    // Partner A syncs (a full one) while everybody reads.
    let syncing = {
        let state = state.clone();
        tokio::spawn(async move { state.sync.run(&a, SyncKind::Full).await })
    };
    let before = rss_kib();
    let requests = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(4);
    let mut readers = Vec::new();
    for i in 0..48 {
        let (me, other) = (i % 2, 1 - i % 2);
        let client = clients[me].clone();
        let ids = ids.clone();
        let base = base.clone();
        let requests = requests.clone();
        readers.push(tokio::spawn(async move {
            let paths = [
                "/api/overview",
                "/api/customers",
                "/api/sync",
                "/api/margin",
            ];
            let mut k = i;
            while Instant::now() < until {
                let path = paths[k % paths.len()];
                k += 1;
                let res = client.get(format!("{base}{path}")).send().await.unwrap();
                assert_eq!(res.status(), 200, "{path}");
                let body = res.text().await.unwrap();
                for id in &ids[other] {
                    assert!(
                        !body.contains(id.as_str()),
                        "{path} of partner {me} carries {id}"
                    );
                }
                requests.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for r in readers {
        r.await.unwrap();
    }
    let counts = syncing.await.unwrap().unwrap();
    assert_eq!(counts.errors, 0);
    let grown = rss_kib().saturating_sub(before);
    let n = requests.load(Ordering::Relaxed);
    println!("{n} requests in 4 s by 48 sessions, RSS grew {grown} KiB");
    assert!(n >= 48, "every session was answered: {n} requests");
    assert!(grown < 512 * 1024, "memory grew by {grown} KiB");
}

const FIRST_DAY: &str = "2025-10-01";

/// Two partners on one proxy: while one partner's people run eight large
/// exports at once, the other partner's line items answer at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_partners_heavy_reads_do_not_hold_up_another_partner() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let (state, a, b) = two_partners(&up, data.path()).await;
    let first_day: chrono::NaiveDate = FIRST_DAY.parse().unwrap();
    for (connection, first) in [(&a, 0), (&b, 1)] {
        let mut lines = Vec::new();
        for i in 0..20_000i64 {
            let mut l = common::line_on(first_day + chrono::Days::new((i / 200) as u64));
            l.key = i + first * 1_000_000;
            l.customer_id = format!("{:08}-0000-4000-8000-000000000000", i % 200);
            lines.push(l);
        }
        state
            .store
            .add_line_items(connection.partner, "seed", 0, &lines)
            .await
            .unwrap();
    }
    let a_client = common::client_of(
        &state,
        &a.credentials.tenant,
        &[model::onboarding::Role::GlobalAdmin],
    )
    .await;
    let b_client = common::client_of(
        &state,
        &b.credentials.tenant,
        &[model::onboarding::Role::GlobalAdmin],
    )
    .await;
    let base = common::serve(state.clone(), data.path()).await;
    let url = format!("{base}/api/exports/focus.csv?from={FIRST_DAY}&to=2026-01-08");
    let mut heavy = Vec::new();
    for _ in 0..8 {
        let (client, url) = (a_client.clone(), url.clone());
        heavy.push(tokio::spawn(async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .len()
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let res = b_client
        .get(format!(
            "{base}/api/line-items?from={FIRST_DAY}&to=2026-01-08&limit=100"
        ))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(res.status(), 200);
    assert!(took < Duration::from_secs(2), "B waited {took:?}");
    for h in heavy {
        assert!(h.await.unwrap() > 1_000_000);
    }
}
