//! Two proxy processes on one store, as replicas behind a load balancer: a
//! session made through one is good on the other and a sign-out through
//! either ends it on both; a budget or markup set through one is in the
//! other's next answer; one sync of the partner runs at a time (the
//! other shows it, in `/api/sync` and its event stream), and when
//! its replica is killed (SIGKILL) mid-sync the other takes it over and
//! ends with the upstream's totals, no line twice.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    Person, as_map, emulator_config, free_port, state, stored, upstream_totals, upstream_with,
};
use model::api::{CustomerList, SyncProgress, SyncStatus};
use model::pricing::{Markup, MarkupBasis};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A proxy process with its log kept for the test to read.
struct Replica {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Replica {
    /// Starts the proxy binary on the store in `data`; `sync_minutes` 0
    /// leaves syncing (and taking syncs over) to the others.
    async fn start(up: &common::Upstream, data: &std::path::Path, sync_minutes: u32) -> Replica {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_proxy"))
            .envs(common::proxy_env(up, data, port))
            .env("PROXY_HISTORY_MONTHS", "3")
            .env("PROXY_SYNC_MINUTES", sync_minutes.to_string())
            // Short, so that the test waits seconds for a takeover.
            .env("PROXY_SYNC_LEASE_SECONDS", "3")
            .env("RUST_LOG", "proxy=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the proxy binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        let replica = Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = reqwest::get(format!("{}/api/health", replica.base)).await
                && res.status() == 200
            {
                return replica;
            }
            assert!(Instant::now() < deadline, "the proxy did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the log has (or gets within `limit`) a line with `needle`.
    async fn logged(&self, needle: &str, limit: Duration) -> bool {
        let started = Instant::now();
        loop {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            if started.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn kill(mut self) {
        self.child.start_kill().unwrap(); // SIGKILL on Unix
        self.child.wait().await.unwrap();
    }

    /// `person`'s session, through this replica.
    fn as_(&self, person: &Person) -> Person {
        Person {
            http: person.http.clone(),
            base: self.base.clone(),
            cookie: person.cookie.clone(),
        }
    }
}

/// The first two events of `person`'s sync event stream.
async fn two_events(person: &Person) -> Vec<SyncProgress> {
    let mut res = person
        .http
        .get(format!("{}/api/sync/events", person.base))
        .header("cookie", &person.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) {
                events.push(serde_json::from_str(data.trim()).unwrap());
            }
        }
    }
    events
}

async fn status(person: &Person, path: &str) -> u16 {
    person.call(Method::GET, path, None).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_sessions_figures_and_the_partners_sync() {
    // Some latency stretches the sync over seconds, so the kill lands in it.
    let mut config = emulator_config("2026-11-20");
    config.customers = 40;
    config.faults.latency_ms = 100;
    let up = upstream_with(config).await;
    let expected = upstream_totals(&up).await;
    let admin = up.demo_partner().users[0].clone();
    let data = tempfile::tempdir().unwrap();

    let a = Replica::start(&up, data.path(), 600).await;
    assert!(a.logged("sync started", Duration::from_secs(30)).await);
    let b = Replica::start(&up, data.path(), 600).await;
    assert!(
        b.logged(
            "sync left to the replica running it",
            Duration::from_secs(15)
        )
        .await,
        "the second replica's scheduled sync left the partner to the first"
    );

    // Signed in through A, served by B; B shows A's run from the store.
    let on_a = common::sign_in(&a.base, &admin.user_name, &admin.password).await;
    let on_b = b.as_(&on_a);
    assert_eq!(status(&on_b, "/api/session").await, 200);
    let seen_on_a: SyncProgress = on_a.json(Method::GET, "/api/sync", None).await;
    let seen_on_b: SyncProgress = on_b.json(Method::GET, "/api/sync", None).await;
    assert_eq!(seen_on_a.status, SyncStatus::Running);
    assert_eq!(
        (seen_on_b.run_id, seen_on_b.status),
        (seen_on_a.run_id, SyncStatus::Running)
    );
    // B's event stream follows A's run as A stores its progress.
    let events = two_events(&on_b).await;
    assert!(
        events.iter().all(|e| e.run_id == seen_on_a.run_id),
        "{events:?}"
    );
    assert_ne!(events[0], events[1]);

    // A dies mid-sync: once its lease has run out, B takes the sync over.
    a.kill().await;
    assert!(
        b.logged("taking over a sync", Duration::from_secs(20))
            .await,
        "the second replica took the sync over"
    );
    assert!(
        b.logged("sync finished", Duration::from_secs(180)).await,
        "the second replica finished the partner's sync"
    );
    let done: SyncProgress = on_b.json(Method::GET, "/api/sync", None).await;
    assert_eq!(done.status, SyncStatus::Succeeded);
    assert_ne!(done.run_id, seen_on_a.run_id, "a run of its own");

    // A replica again: its scheduled sync at start is skipped, since B's
    // just succeeded; what one writes, the other answers.
    let a = Replica::start(&up, data.path(), 600).await;
    assert!(
        a.logged(
            "scheduled sync skipped: synced recently",
            Duration::from_secs(10)
        )
        .await
    );
    assert!(!a.logged("sync started", Duration::ZERO).await);
    let on_a = a.as_(&on_a);
    let list: CustomerList = on_b.json(Method::GET, "/api/customers", None).await;
    let id = list.customers[0].id.clone();
    assert_ne!(list.customers[0].budget, Some(1_234_500_000));
    let res = on_a
        .call(
            Method::PUT,
            &format!("/api/customers/{id}/budget"),
            Some(json!({ "amount": "1234.50", "thresholds": [50, 80, 100] })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let list: CustomerList = on_b.json(Method::GET, "/api/customers", None).await;
    let row = list.customers.iter().find(|c| c.id == id).unwrap();
    assert_eq!(
        row.budget,
        Some(1_234_500_000),
        "B's next answer has A's budget"
    );
    let res = on_b
        .call(
            Method::PUT,
            &format!("/api/customers/{id}/markup"),
            Some(json!({ "basis": "partnerCost", "percent": "12.5" })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let list: CustomerList = on_a.json(Method::GET, "/api/customers", None).await;
    let row = list.customers.iter().find(|c| c.id == id).unwrap();
    assert_eq!(
        row.markup,
        Markup::new(MarkupBasis::PartnerCost, 1_250).unwrap(),
        "A's next answer has B's markup"
    );

    // Signed out through B: the session ends on A at once.
    assert_eq!(status(&on_a, "/api/customers").await, 200);
    let res = on_b.call(Method::POST, "/api/auth/logout", None).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(status(&on_a, "/api/customers").await, 401);
    assert_eq!(status(&on_b, "/api/customers").await, 401);

    a.kill().await;
    b.kill().await;
    let after = state(&up, data.path()).await;
    assert_eq!(
        as_map(&stored(&after).await),
        expected,
        "no line lost, none twice"
    );
    // On PostgreSQL (runner `postgres`) the replicas wrote nothing here.
    assert_eq!(
        data.path().join("proxy.sqlite3").exists(),
        common::test_database(data.path()).is_none()
    );
}
