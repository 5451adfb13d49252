//! The sync against a real emulator: totals equal the upstream's to the
//! micro-unit, a second sync changes nothing, and a sync killed midway then
//! run again ends where a clean one does.

mod common;

use common::{as_map, rows_on_store, state, stored, upstream, upstream_totals};
use proxy::sync::SyncKind;

#[tokio::test]
async fn stored_totals_equal_the_upstream_line_items_exactly() {
    // After the 8th: last month is invoiced and read as billed usage.
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
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

/// Decimal text (`-12.345`) to millionths, by this test's own rule: no
/// proxy code on the oracle's side.
fn micros_of(text: &str) -> i64 {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(frac.len() <= 6, "{text}");
    sign * (whole.parse::<i64>().unwrap() * 1_000_000
        + format!("{frac:0<6}").parse::<i64>().unwrap())
}

#[tokio::test]
async fn every_customer_day_and_meter_holds_the_emulators_rows_and_total_through_the_api() {
    use std::collections::BTreeMap;
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    assert_eq!(counts.errors, 0);
    // The counts a finished sync shows: every customer and every feed done.
    let customers = up
        .emulator
        .demo()
        .partners
        .iter()
        .find(|p| p.tenant_id == up.credentials.tenant)
        .unwrap()
        .customers;
    assert_eq!(counts.customers_total, Some(customers));
    assert_eq!(counts.customers_done, customers);
    assert!(counts.feeds_total.is_some_and(|t| t > 0), "{counts:?}");
    assert_eq!(Some(counts.feeds_done), counts.feeds_total);
    let truth: serde_json::Value = reqwest::get(format!(
        "{}/emulator/truth?lines={}",
        up.url, up.credentials.tenant
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let window = (
        truth["window"][0].as_str().unwrap().to_string(),
        truth["window"][1].as_str().unwrap().to_string(),
    );
    let partner = truth["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["tenantId"] == up.credentials.tenant.as_str())
        .unwrap();
    // Rows, billing total, quantity and list unit price (millionths: the
    // emulator's list prices have six decimals at most).
    type Line = (u64, i64, i64, i64);
    let expected: BTreeMap<(String, String, String), Line> = partner["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                (
                    l["customerId"].as_str().unwrap().to_ascii_lowercase(),
                    l["day"].as_str().unwrap().to_string(),
                    l["meterId"].as_str().unwrap().to_ascii_lowercase(),
                ),
                (
                    l["rows"].as_u64().unwrap(),
                    micros_of(l["billingTotal"].as_str().unwrap()),
                    micros_of(l["quantity"].as_str().unwrap()),
                    micros_of(l["unitPrice"].as_str().unwrap()),
                ),
            )
        })
        .collect();
    assert!(expected.len() > 500, "{}", expected.len());

    // Every line the API serves, read as plain JSON.
    let client = common::admin_client(&state).await;
    let base = common::serve(state, data.path()).await;
    let mut got: BTreeMap<(String, String, String), Line> = BTreeMap::new();
    let mut offset = 0;
    loop {
        let page: serde_json::Value = common::get_json(
            &client,
            &format!(
                "{base}/api/line-items?from={}&to={}&limit=5000&offset={offset}",
                window.0, window.1
            ),
        )
        .await;
        for l in page["items"].as_array().unwrap() {
            let e = got
                .entry((
                    l["customerId"].as_str().unwrap().to_ascii_lowercase(),
                    l["usageDate"].as_str().unwrap().to_string(),
                    l["meterId"].as_str().unwrap().to_ascii_lowercase(),
                ))
                .or_default();
            e.0 += 1;
            e.1 += l["billingTotal"].as_i64().unwrap();
            e.2 += l["quantityMicros"].as_i64().unwrap();
            // Exact decimal text (`model::exact`).
            e.3 = micros_of(l["unitPrice"].as_str().unwrap());
        }
        match page["nextOffset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    let differing: Vec<_> = expected
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .take(5)
        .map(|(k, v)| (k, v, got.get(k)))
        .collect();
    assert!(differing.is_empty(), "{differing:?}");
    assert_eq!(
        got.len(),
        expected.len(),
        "no line the emulator did not serve"
    );
}

#[tokio::test]
async fn before_the_invoice_day_last_month_comes_from_the_unbilled_previous_period() {
    let up = upstream("2026-11-05").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
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
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let first = stored(&state).await;

    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    assert_eq!(
        stored(&state).await,
        first,
        "a full sync again: the same rows"
    );

    let full_feeds = state
        .syncer(state.connection.as_ref().unwrap().partner)
        .current()
        .counts
        .feeds_total
        .unwrap();
    state
        .sync
        .run(&connection, SyncKind::Incremental)
        .await
        .unwrap();
    let incremental = state
        .syncer(state.connection.as_ref().unwrap().partner)
        .current();
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

    // Export files of a few hundred lines: a kill between two files of a
    // scope leaves lines staged that its next read must clear.
    let faults = emulator::Faults {
        export_rows_per_blob: 400,
        ..up.emulator.faults()
    };
    up.emulator.set_faults(faults.clone());
    let clean_dir = tempfile::tempdir().unwrap();
    let clean = state(&up, clean_dir.path()).await;
    let before = up.emulator.stats().requests;
    clean
        .sync
        .run(clean.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let expected = stored(&clean).await;
    let requests = up.emulator.stats().requests - before;

    // The upstream stops answering at a known request, so the kill lands
    // before the sync's end however the machine schedules it: a kill on
    // seeing a line count once came after a busy machine had let the sync
    // run on to its end (CI, 2026-12-05).
    let dir = tempfile::tempdir().unwrap();
    let mut staged_at_kills = Vec::new();
    for tenths in [2, 5, 8] {
        let from = up.emulator.stats().requests + requests * tenths / 10;
        up.emulator.set_faults(emulator::Faults {
            hang_from_request: Some(from),
            hang_ms: 600_000,
            ..faults.clone()
        });
        let killed = state(&up, dir.path()).await;
        let progress = killed
            .syncer(killed.connection.as_ref().unwrap().partner)
            .subscribe();
        let task = {
            let killed = killed.clone();
            tokio::spawn(async move {
                let connection = killed.connection.clone().unwrap();
                let _ = killed.sync.run(&connection, SyncKind::Full).await;
            })
        };
        // Killed once the upstream has stopped, and what was read before is
        // staged (the progress stands still).
        let mut last = None;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            assert!(!task.is_finished(), "the sync ended before request {from}");
            let now = progress.borrow().counts.clone();
            if up.emulator.stats().requests > from && last.as_ref() == Some(&now) {
                break;
            }
            last = Some(now);
        }
        staged_at_kills.push(last.unwrap());
        task.abort();
        let _ = task.await;
    }
    up.emulator.set_faults(faults);
    assert!(
        staged_at_kills
            .iter()
            .any(|c| c.line_items > 0 && c.feeds_total.is_some_and(|t| c.feeds_done < t)),
        "a kill midway through the usage: {staged_at_kills:?}"
    );
    // A restart: a new process state on the same store, then a sync.
    let restarted = state(&up, dir.path()).await;
    let interrupted = restarted
        .store
        .latest_sync(restarted.connection.as_ref().unwrap().partner)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(interrupted.status, model::api::SyncStatus::Interrupted);
    restarted
        .sync
        .run(restarted.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    assert_eq!(stored(&restarted).await, expected);
    // Nothing the killed runs staged and never kept is left behind.
    for table in ["line_items", "line_sums"] {
        assert_eq!(
            rows_on_store(dir.path(), table).await,
            rows_on_store(clean_dir.path(), table).await,
            "rows of {table}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_run_beside_a_syncing_proxy() {
    // A second store on the same file stands for the operator's process:
    // SQLite locks are per connection, so this is the same contention.
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let connection = state.connection.clone().unwrap();
    let tenant = up.credentials.tenant.clone();
    let syncing = {
        let state = state.clone();
        tokio::spawn(async move { state.sync.run(&connection, SyncKind::Full).await })
    };
    let reading = {
        let state = state.clone();
        let partner = state.connection.as_ref().unwrap().partner;
        tokio::spawn(async move {
            let mut reads = 0;
            // Reads until the sync ends (or a bound, should it hang).
            while reads < 2000 {
                proxy::reports::overview(&state.store, partner)
                    .await
                    .unwrap();
                reads += 1;
                if reads > 5 && !state.syncer(partner).is_running() {
                    break;
                }
            }
            reads
        })
    };
    let mut commands = 0;
    while !syncing.is_finished() {
        for action in [
            proxy::cli::PartnerAction::EndTrial {
                tenant: tenant.clone(),
            },
            proxy::cli::PartnerAction::Extend {
                tenant: tenant.clone(),
                days: 30,
            },
        ] {
            let started = std::time::Instant::now();
            // Opened for each command, as each operator process does.
            let operator = common::open_store(data.path()).await;
            proxy::cli::operator(&operator, &action).await.unwrap();
            assert!(
                started.elapsed().as_secs() < 3,
                "an operator command waited {:?}",
                started.elapsed()
            );
            commands += 1;
        }
    }
    let counts = syncing.await.unwrap().unwrap();
    assert_eq!(counts.errors, 0);
    assert!(reading.await.unwrap() > 0);
    assert!(
        commands >= 4,
        "the commands ran while the sync did: {commands}"
    );
    assert_eq!(as_map(&stored(&state).await), upstream_totals(&up).await);
}

#[tokio::test]
async fn figures_from_the_lines_are_kept_across_other_writes_and_redone_when_the_lines_change() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let connection = state.connection.as_ref().unwrap();
    state.sync.run(connection, SyncKind::Full).await.unwrap();
    let store = &state.store;
    let partner = connection.partner;
    let (from_lines, from_all) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let ask = || async {
        store
            .memo_lines(partner, "test lines", || async {
                from_lines.fetch_add(1, Ordering::SeqCst);
                Ok::<_, sqlx::Error>(())
            })
            .await
            .unwrap();
        store
            .memo(partner, "test all", || async {
                from_all.fetch_add(1, Ordering::SeqCst);
                Ok::<_, sqlx::Error>(())
            })
            .await
            .unwrap();
        (
            from_lines.load(Ordering::SeqCst),
            from_all.load(Ordering::SeqCst),
        )
    };
    assert_eq!(ask().await, (1, 1));
    assert_eq!(ask().await, (1, 1), "kept while nothing is written");

    // A session signs in: nothing computed is touched.
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    store
        .create_session(
            "hash",
            &proxy::store::NewSession {
                partner,
                user_name: "a@b.c",
                display_name: "A",
                roles: "globalAdmin",
                customer: None,
                expires_at: expires,
            },
        )
        .await
        .unwrap();
    assert_eq!(ask().await, (1, 1));

    // The reporting settings change: what depends on the lines alone is kept.
    let reporting = model::overview::Rates {
        of: None,
        currency: "EUR".into(),
        rates: vec![("USD".into(), 920_000)],
    };
    store.set_reporting(partner, &reporting).await.unwrap();
    assert_eq!(ask().await, (1, 2));

    // A markup reprices the customer's lines: both are computed again.
    let customer = store.customers(partner).await.unwrap()[0].id.clone();
    let markup = model::pricing::Markup {
        basis: model::pricing::MarkupBasis::PartnerCost,
        basis_points: 1_500,
    };
    store
        .set_markup(partner, Some(&customer), Some(markup))
        .await
        .unwrap();
    assert_eq!(ask().await, (2, 3));

    // And the customer list shows the new price (nothing stale is kept).
    let kept = proxy::reports::kept(store, partner).await.unwrap();
    let row = kept
        .summaries
        .customers
        .customers
        .iter()
        .find(|c| c.id == customer)
        .unwrap();
    // (Each line is rounded to the micro-unit on its own.)
    let expected = row.month_to_date.partner_cost * 115 / 100;
    assert!(
        (row.month_to_date.customer_price - expected).abs() < 1_000,
        "{} against {expected}",
        row.month_to_date.customer_price
    );
}
