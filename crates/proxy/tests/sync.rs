//! The sync against a real emulator: totals equal the upstream's to the
//! micro-unit, a second sync changes nothing, and a sync killed midway then
//! run again ends where a clean one does.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use model::Amount;
use model::pc::{DailyRatedUsageLineItem, Invoice, Link};
use proxy::pc::{Credentials, Endpoints, PartnerCenter, RetryPolicy};
use proxy::secret::Secret;
use proxy::store::CustomerTotal;
use proxy::sync::{self, SyncKind};
use proxy::{AppState, Config};

fn emulator_config(today: &str) -> emulator::Config {
    emulator::Config {
        seed: 7,
        customers: 6,
        months: 2,
        today: Some(today.parse::<NaiveDate>().unwrap()),
    }
}

struct Upstream {
    url: String,
    credentials: Credentials,
}

async fn upstream(today: &str) -> Upstream {
    proxy::init_tls();
    let (addr, emu) = emulator::spawn(emulator_config(today)).await.unwrap();
    let demo = emu.demo();
    let p = demo.partners.iter().find(|p| !p.apps.is_empty()).unwrap();
    Upstream {
        url: format!("http://{addr}"),
        credentials: Credentials {
            tenant: p.tenant_id.clone(),
            app_id: p.apps[0].app_id.clone(),
            secret: Secret::new(p.apps[0].keys[0].secret.clone()),
        },
    }
}

async fn state(up: &Upstream, data: &Path) -> AppState {
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        data_dir: data.to_path_buf(),
        dist: data.join("dist"),
        upstream_url: up.url.clone(),
        login_url: up.url.clone(),
        partner_tenant: Some(up.credentials.tenant.clone()),
        app_id: Some(up.credentials.app_id.clone()),
        app_secret: Some(up.credentials.secret.expose().to_string()),
        currencies: vec!["USD".into()],
        history_months: 13,
        upstream_requests_per_minute: None,
        upstream_concurrency: 8,
        sync_minutes: 0,
    };
    AppState::new(&config).await.unwrap()
}

async fn stored(state: &AppState) -> Vec<CustomerTotal> {
    let partner = state.connection.as_ref().unwrap().partner;
    state
        .store
        .totals_by_customer(partner, "0000-00-00", "9999-99-99")
        .await
        .unwrap()
}

/// Reads every feed straight from the emulator and sums per customer and
/// currency: lines and billing totals, independently of the sync.
async fn upstream_totals(up: &Upstream) -> BTreeMap<(String, String), (usize, Amount)> {
    let pc = PartnerCenter::new(
        Endpoints {
            api: up.url.clone(),
            login: up.url.clone(),
        },
        RetryPolicy::default(),
    );
    let creds = &up.credentials;
    let invoices: Vec<Invoice> = pc.get_all(creds, Link::get("/invoices")).await.unwrap();
    let mut currencies: Vec<String> = invoices.iter().map(|i| i.currency_code.clone()).collect();
    currencies.sort();
    currencies.dedup();
    let q = |c: &str| {
        format!("provider=onetime&invoicelineitemtype=usagelineitems&currencycode={c}&size=500")
    };
    let mut links = Vec::new();
    for c in &currencies {
        for period in ["current", "previous"] {
            links.push(Link::get(format!(
                "/invoices/unbilled/lineitems?{}&period={period}",
                q(c)
            )));
        }
    }
    for i in &invoices {
        links.push(Link::get(format!(
            "/invoices/{}/lineitems?{}",
            i.id,
            q(&i.currency_code)
        )));
    }
    let mut totals: BTreeMap<(String, String), (usize, Amount)> = BTreeMap::new();
    for link in links {
        let items: Vec<DailyRatedUsageLineItem> = pc.get_all(creds, link).await.unwrap();
        for item in items {
            let e = totals
                .entry((
                    item.customer_id.to_ascii_lowercase(),
                    item.billing_currency.clone(),
                ))
                .or_default();
            e.0 += 1;
            e.1 += item.billing_pre_tax_total;
        }
    }
    totals
}

fn as_map(rows: &[CustomerTotal]) -> BTreeMap<(String, String), (usize, Amount)> {
    rows.iter()
        .map(|r| {
            (
                (r.customer_id.clone(), r.currency.clone()),
                (r.line_items, r.billing_total),
            )
        })
        .collect()
}

#[tokio::test]
async fn stored_totals_equal_the_upstream_line_items_exactly() {
    // After the 8th: last month is invoiced and read as billed usage.
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let counts = sync::run(&state, state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    assert_eq!(counts.errors, 0);
    assert!(counts.line_items > 1000, "{counts:?}");

    let expected = upstream_totals(&up).await;
    let got = as_map(&stored(&state).await);
    assert!(
        expected.len() >= 6,
        "every customer has usage: {expected:?}"
    );
    assert_eq!(got, expected);
    let lines: usize = got.values().map(|(n, _)| n).sum();
    assert_eq!(
        lines, counts.line_items,
        "each line read once in a full sync"
    );
}

#[tokio::test]
async fn before_the_invoice_day_last_month_comes_from_the_unbilled_previous_period() {
    let up = upstream("2026-11-05").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    sync::run(&state, state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let partner = state.connection.as_ref().unwrap().partner;
    let october = state
        .store
        .totals_by_customer(partner, "2026-10-01", "2026-10-31")
        .await
        .unwrap();
    assert!(!october.is_empty());
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
}

#[tokio::test]
async fn a_second_sync_changes_nothing_and_incremental_skips_billed_invoices() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let connection = state.connection.clone().unwrap();
    sync::run(&state, &connection, SyncKind::Full)
        .await
        .unwrap();
    let first = stored(&state).await;

    sync::run(&state, &connection, SyncKind::Full)
        .await
        .unwrap();
    assert_eq!(
        stored(&state).await,
        first,
        "a full sync again: the same rows"
    );

    let full_feeds = state.syncer.current().counts.feeds_total.unwrap();
    sync::run(&state, &connection, SyncKind::Incremental)
        .await
        .unwrap();
    let incremental = state.syncer.current();
    assert!(
        incremental.counts.feeds_total.unwrap() < full_feeds,
        "{incremental:?}"
    );
    assert_eq!(
        stored(&state).await,
        first,
        "an incremental sync: the same rows"
    );
}

#[tokio::test]
async fn a_sync_killed_midway_and_run_again_ends_as_a_clean_one() {
    let up = upstream("2026-11-20").await;

    let clean_dir = tempfile::tempdir().unwrap();
    let clean = state(&up, clean_dir.path()).await;
    sync::run(&clean, clean.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let expected = stored(&clean).await;

    let dir = tempfile::tempdir().unwrap();
    for cut_after in [1, 2_500, 6_000] {
        let killed = state(&up, dir.path()).await;
        let mut progress = killed.syncer.subscribe();
        let task = {
            let killed = killed.clone();
            tokio::spawn(async move {
                let connection = killed.connection.clone().unwrap();
                let _ = sync::run(&killed, &connection, SyncKind::Full).await;
            })
        };
        // Kill it once it has stored some line items (or customers, for 1).
        while progress.changed().await.is_ok() {
            let p = progress.borrow().clone();
            if p.counts.line_items >= cut_after || p.status != "running" && p.run_id.is_some() {
                break;
            }
        }
        task.abort();
        let _ = task.await;
    }
    // A restart: a new process state on the same store, then a sync.
    let restarted = state(&up, dir.path()).await;
    let interrupted = restarted
        .store
        .latest_sync(restarted.connection.as_ref().unwrap().partner)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(interrupted.status, "interrupted");
    sync::run(
        &restarted,
        restarted.connection.as_ref().unwrap(),
        SyncKind::Full,
    )
    .await
    .unwrap();
    assert_eq!(stored(&restarted).await, expected);
}
