//! Benchmarks of the proxy that need its insides: `cargo run --profile
//! server -p proxy --example bench -- <sync|scale|export>` (the build `cargo
//! xtask serve` ships). Each prints one `BENCH {json}`
//! line that `cargo xtask bench` reads into BENCHMARKS.md.
//!
//! - `sync`: 500 customers behind a throttle of RATE requests a second per
//!   route family, the client paced at RATE a second: wall time against the
//!   lower bound (requests / RATE), requests refused (429), and the stored
//!   totals against the upstream's.
//! - `scale`: 5,000 customers and 13 months of daily line items in the store;
//!   latency of the Overview's and the Customers' routes (median, p99).
//! - `export`: a usage sync of Graph billing exports of millions of rows
//!   (download, gunzip, parse, store) in rows a second, beside the floor of
//!   `gzip -dc` of the same files to `/dev/null`, and the sync's peak memory.

use std::time::Instant;

use chrono::{Days, NaiveDate};
use model::Amount;
use model::usage::LineItem;
use proxy::AppState;
use proxy::sync::SyncKind;

// The tests' helpers: an emulator on loopback, configuration, a signed-in client.
#[path = "../tests/common/mod.rs"]
mod common;

const RATE: u32 = 100;

#[tokio::main]
async fn main() {
    proxy::init_tls();
    if std::env::var("RUST_LOG").is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    match std::env::args().nth(1).as_deref() {
        Some("sync") => sync_bench().await,
        Some("scale") => scale_bench().await,
        Some("export") => export_bench().await,
        _ => eprintln!("usage: bench <sync|scale|export>"),
    }
}

async fn sync_bench() {
    let emulator_config = emulator::Config {
        customers: 500,
        months: 2,
        today: Some(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()),
        faults: emulator::Faults {
            // BENCH_UNTHROTTLED=1 measures the same sync with no limit, for profiling.
            throttle_requests: std::env::var("BENCH_UNTHROTTLED").is_err().then_some(RATE),
            throttle_interval_ms: 1_000,
            ..Default::default()
        },
        ..Default::default()
    };
    let up = common::upstream_with(emulator_config).await;
    let emu = up.emulator.clone();
    let data = tempfile::tempdir().unwrap();
    let mut c = common::config(&up, data.path());
    c.history_months = 2;
    c.upstream_requests_per_minute = std::env::var("BENCH_UNTHROTTLED")
        .is_err()
        .then_some(RATE * 60);
    let state = AppState::new(&c).await.unwrap();
    let before = emu.stats();
    let started = Instant::now();
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    let after = emu.stats();
    let requests = after.requests - before.requests;
    let bound = requests as f64 / RATE as f64;
    // Stored lines against the upstream's, per customer and currency.
    let partner = state.connection.as_ref().unwrap().partner;
    let stored: u64 = state
        .store
        .totals_by_customer(partner, "0000-00-00", "9999-99-99")
        .await
        .unwrap()
        .iter()
        .map(|t| t.line_items as u64)
        .sum();
    println!(
        "BENCH {{\"customers\":500,\"rate\":{RATE},\"requests\":{requests},\"throttled\":{},\"wallSeconds\":{wall:.2},\"boundSeconds\":{bound:.2},\"lineItems\":{},\"storedLineItems\":{stored},\"errors\":{}}}",
        after.throttled - before.throttled,
        counts.line_items,
        counts.errors
    );
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn scale_bench() {
    // The emulator only answers the connection check; the store is filled here.
    let up = common::upstream_with(emulator::Config {
        customers: 1,
        months: 1,
        ..Default::default()
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_path_buf();
    // BENCH_SCALE_KEEP keeps the filled store, to look at its queries after.
    if std::env::var_os("BENCH_SCALE_KEEP").is_some() {
        eprintln!("the store is kept in {}", data.keep().display());
    }
    let c = common::config(&up, &dir);
    let state = AppState::new(&c).await.unwrap();
    let partner = state.connection.as_ref().unwrap().partner;

    const CUSTOMERS: usize = 5_000;
    // BENCH_SCALE_METERS: lines per customer and day (the emulator's month
    // of 5,000 customers has about nine).
    let meters: usize = std::env::var("BENCH_SCALE_METERS")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(2);
    let last = chrono::Utc::now().date_naive() - Days::new(1);
    // BENCH_SCALE_DAYS shortens the history, to try the benchmark quickly.
    let days = std::env::var("BENCH_SCALE_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(395);
    let first = last - Days::new(days);
    let customers: Vec<model::api::CustomerRow> = (0..CUSTOMERS)
        .map(|i| model::api::CustomerRow {
            id: model::Guid::from_seed(7, i as u64).to_string(),
            name: format!("Customer {i:04}"),
            domain: format!("customer{i:04}.onmicrosoft.com"),
            relationship: "reseller".into(),
        })
        .collect();
    state
        .store
        .replace_customers(partner, &customers)
        .await
        .unwrap();
    let run = state
        .store
        .start_sync(
            partner,
            SyncKind::Full,
            "bench",
            chrono::Utc::now() + chrono::Duration::hours(1),
            &|_| false,
        )
        .await
        .unwrap()
        .unwrap();
    let filling = Instant::now();
    // Stored a day at a time, every customer's lines of the day together;
    // BENCH_SCALE_BY_CUSTOMER=1 stores a hundred customers' whole history
    // at a time instead, as an export grouped by customer would.
    let by_customer = std::env::var_os("BENCH_SCALE_BY_CUSTOMER").is_some();
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    // Each customer with its number, which its costs are drawn from.
    let numbered: Vec<(usize, &model::api::CustomerRow)> = customers.iter().enumerate().collect();
    type Batch<'a> = (&'a [(usize, &'a model::api::CustomerRow)], &'a [NaiveDate]);
    let batches: Vec<Batch<'_>> = if by_customer {
        numbered.chunks(100).map(|c| (c, &days[..])).collect()
    } else {
        days.chunks(1).map(|d| (&numbered[..], d)).collect()
    };
    let mut lines = 0usize;
    for (of, on) in batches {
        let mut batch = Vec::with_capacity(of.len() * on.len() * meters);
        for &(i, customer) in of {
            for day in on {
                for m in 0..meters {
                    let cost = 1_000_000 + ((i * 7_919 + m * 104_729) % 5_000_000) as i64;
                    batch.push(line(&customer.id, &customer.name, *day, m, cost));
                }
            }
        }
        lines += batch.len();
        state
            .store
            .add_line_items(partner, "v1:unbilled:USD:bench", run, &batch)
            .await
            .unwrap();
    }
    let fill_seconds = filling.elapsed().as_secs_f64();
    // The fill stands for a finished sync, or the customer list would wait for one.
    let counts = model::api::SyncCounts {
        customers_total: Some(CUSTOMERS),
        customers_done: CUSTOMERS,
        line_items: lines,
        ..Default::default()
    };
    state
        .store
        .finish_sync(run, &counts, model::api::SyncStatus::Succeeded, None, &[])
        .await
        .unwrap();

    let client = common::client_of(
        &state,
        &up.credentials.tenant,
        &[model::onboarding::Role::GlobalAdmin],
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = proxy::app(state.clone(), dir.clone());
    tokio::spawn(proxy::serve::serve(
        listener,
        app,
        proxy::serve::Limits::default(),
        std::future::pending(),
    ));

    // A write that is not to the line items, as a person makes one (the
    // reporting settings; budgets and markups of one customer are alike).
    let settings_write = || async {
        let res = client
            .put(format!("{base}/api/settings/reporting"))
            .json(&serde_json::json!({"currency": "USD", "rates": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    };
    let mut out = Vec::new();
    for route in ["/api/overview", "/api/customers"] {
        // The first request after the lines changed computes the figures (a
        // sync does it when it ends, before anyone asks); the next ones,
        // until the next write, are served from the store's memo.
        let t = Instant::now();
        let res = client.get(format!("{base}{route}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{route}");
        let _ = res.bytes().await.unwrap();
        let cold = t.elapsed().as_secs_f64() * 1000.0;
        let mut times = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            let res = client.get(format!("{base}{route}")).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let _ = res.bytes().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        // After a person's write, each of the next requests is the first
        // after it: the figures from the lines are kept, the rest is redone.
        let mut after_write = Vec::new();
        for _ in 0..20 {
            settings_write().await;
            let t = Instant::now();
            let res = client.get(format!("{base}{route}")).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let _ = res.bytes().await.unwrap();
            after_write.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        after_write.sort_by(|a, b| a.total_cmp(b));
        out.push(format!(
            "\"{}\":{{\"coldMs\":{cold:.1},\"medianMs\":{:.1},\"p99Ms\":{:.1},\"afterWriteMedianMs\":{:.1},\"afterWriteMaxMs\":{:.1}}}",
            route.trim_start_matches("/api/"),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&after_write, 0.5),
            after_write.last().copied().unwrap_or_default()
        ));
    }
    // The Explorer's last 30 days of every customer, as the app asks for
    // them (the cube's bytes, gzip on the wire): past the proxy's default
    // line-item limit, summed to the view's grouping.
    let month_from = last - Days::new(29);
    let mut explorer = Vec::new();
    for keep in ["customer", "meterCategory"] {
        let t = Instant::now();
        let res = client
            .get(format!(
                "{base}/api/usage?from={month_from}&to={last}&keep={keep}"
            ))
            .header("Accept", model::cube::CUBE_MEDIA_TYPE)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let gzipped = res
            .headers()
            .get("content-encoding")
            .is_some_and(|e| e == "gzip");
        let body = res.bytes().await.unwrap();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let raw = if gzipped {
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut raw)
                .unwrap();
            raw
        } else {
            body.to_vec()
        };
        let cube = model::cube::Cube::from_bytes(&raw).unwrap();
        explorer.push(format!(
            "{{\"keep\":\"{keep}\",\"ms\":{ms:.1},\"wireBytes\":{},\"bytes\":{},\"rows\":{},\"lines\":{},\"summed\":{}}}",
            body.len(),
            raw.len(),
            cube.len(),
            cube.line_count(),
            cube.summed.is_some()
        ));
    }
    // A markup for one customer reprices that customer's lines and writes
    // their sums again; with no index by customer, every line of the
    // partner is read to find them.
    let mut markup_ms = Vec::new();
    for percent in ["10", "12.5", "15"] {
        let t = Instant::now();
        let res = client
            .put(format!("{base}/api/customers/{}/markup", customers[42].id))
            .json(&serde_json::json!({"basis": "listPrice", "percent": percent}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        markup_ms.push(format!("{:.0}", t.elapsed().as_secs_f64() * 1000.0));
    }
    println!(
        "BENCH {{\"customers\":{CUSTOMERS},\"lineItems\":{lines},\"fillSeconds\":{fill_seconds:.1},{},\"explorer\":[{}],\"oneCustomerMarkupMs\":[{}]}}",
        out.join(","),
        explorer.join(","),
        markup_ms.join(",")
    );
}

fn line(customer: &str, name: &str, day: NaiveDate, meter: usize, cost: i64) -> LineItem {
    LineItem {
        key: model::usage::stable_hash(&[customer, &day.to_string(), &meter.to_string()]),
        customer_id: customer.into(),
        customer_name: name.into(),
        meter_id: format!("meter-{meter}"),
        meter_name: format!("Meter {meter}"),
        meter_category: if meter == 0 {
            "Virtual Machines"
        } else {
            "Storage"
        }
        .into(),
        resource_uri: format!("/subscriptions/sub/resourceGroups/rg/providers/p/r{meter}"),
        unit_price: model::exact::from_micros(cost / 24),
        effective_unit_price: model::exact::from_micros(cost / 24),
        pricing_total: Amount::from_micros(cost),
        billing_total: Amount::from_micros(cost),
        ..common::line_on(day)
    }
}

/// SQLite's own memory at its peak since the last reset, in MB (`reset`
/// starts a new peak from what it holds now).
#[allow(unsafe_code)]
fn sqlite_memory_mb(reset: bool) -> f64 {
    // SAFETY: a read of SQLite's global counter, safe from any thread.
    let bytes = unsafe { libsqlite3_sys::sqlite3_memory_highwater(i32::from(reset)) };
    bytes as f64 / (1024.0 * 1024.0)
}

/// This process's resident memory now and at its peak, in MB.
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Bytes this process has handed to `write` calls (files and sockets), in MB:
/// what a store's layout costs in log and checkpoint writes.
fn written_mb() -> f64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0.0, |b| b / 1e6)
}

/// Seconds of CPU the process has used, its threads' user and system time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command's name in parentheses: utime and stime are the
    // 12th and 13th fields, in clock ticks.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // Linux reports them in USER_HZ, 100 a second on every architecture.
    let ticks = 100.0;
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / ticks
}

async fn export_bench() {
    use proxy::graph_billing::{BillingPeriod, ExportRequest, ExportTiming};
    // About 280 rows per customer in a 30-day month, nearly half of them in
    // USD: 8,800 customers make 2.5 million rows, a million in the largest
    // export. BENCH_EXPORT_CUSTOMERS makes it smaller to try it quickly.
    let customers = std::env::var("BENCH_EXPORT_CUSTOMERS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(8_800);
    let up = common::upstream_with(emulator::Config {
        customers,
        months: 0,
        today: Some(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()),
        legacy_commerce: false,
        // The files are written once (for the floor) and then served from
        // memory: the figure is the reader's, not the emulator's writer's.
        cache_blobs: true,
        faults: emulator::Faults {
            export_polls: 0,
            export_retry_after_secs: 0,
            export_rows_per_blob: 250_000,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let pc = proxy::pc::PartnerCenter::new(
        proxy::pc::Endpoints {
            api: up.url.clone(),
            login: up.url.clone(),
            graph: up.url.clone(),
        },
        Default::default(),
    );
    // The floor: the same files, fetched once, gunzipped by gzip.
    let files = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut paths = Vec::new();
    // This month only: no invoice yet, so the billing currencies are named.
    let currencies: std::collections::BTreeSet<String> =
        ["USD", "EUR", "GBP", "AUD", "JPY", "CAD", "NZD", "TWD"]
            .iter()
            .map(|c| c.to_string())
            .collect();
    let mut exports = 0;
    for currency in &currencies {
        let request = ExportRequest::Unbilled {
            currency: currency.clone(),
            period: BillingPeriod::Current,
        };
        let operation = pc.start_export(&up.credentials, &request).await.unwrap();
        let Some(manifest) = pc
            .finish_export(&up.credentials, &operation, &ExportTiming::default())
            .await
            .unwrap()
        else {
            continue;
        };
        exports += 1;
        for blob in &manifest.blobs {
            let bytes = http
                .get(manifest.blob_url(blob))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let path = files.path().join(format!("{currency}-{}", blob.name));
            std::fs::write(&path, &bytes).unwrap();
            paths.push(path);
        }
    }
    let gzip_started = Instant::now();
    let status = std::process::Command::new("gzip")
        .arg("-dc")
        .args(&paths)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let floor_seconds = gzip_started.elapsed().as_secs_f64();
    let compressed: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();

    let data = tempfile::tempdir().unwrap();
    let mut c = common::config(&up, data.path());
    c.currencies = currencies.iter().cloned().collect();
    let state = AppState::new(&c).await.unwrap();
    if std::env::var("BENCH_EXPORT_PAUSE").is_ok() {
        // Time to attach a profiler to the sync alone.
        eprintln!("sync starts in 3 s (pid {})", std::process::id());
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    // Peak memory from here on: the emulator's files are already in memory.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let sqlite_before = sqlite_memory_mb(true);
    let (before, _) = memory_mb();
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let written_before = written_mb();
    let counts = state
        .sync
        .run(state.connection.as_ref().unwrap(), SyncKind::Usage)
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let written = written_mb() - written_before;
    let (_, peak) = memory_mb();
    // How much of the peak was SQLite's own (its page caches above all).
    let sqlite_peak = sqlite_memory_mb(false);
    let partner = state.connection.as_ref().unwrap().partner;
    let totals = state
        .store
        .totals_by_customer(partner, "0000-00-00", "9999-99-99")
        .await
        .unwrap();
    let stored: usize = totals.iter().map(|t| t.line_items).sum();
    // One export per currency (this month's): the largest one's rows.
    let mut per_currency: std::collections::BTreeMap<&str, usize> = Default::default();
    for t in &totals {
        *per_currency.entry(t.currency.as_str()).or_default() += t.line_items;
    }
    let largest = per_currency.values().max().copied().unwrap_or(0);
    let rows = counts.line_items;
    let store_mb =
        std::fs::metadata(data.path().join("proxy.sqlite3")).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "BENCH {{\"customers\":{customers},\"exports\":{exports},\"largestExportRows\":{largest},\"files\":{},\"compressedMb\":{:.1},\"rows\":{rows},\"storedRows\":{stored},\"seconds\":{seconds:.2},\"cpuSeconds\":{cpu:.2},\"writtenMb\":{written:.0},\"storeMb\":{store_mb:.0},\"rowsPerSecond\":{:.0},\"floorSeconds\":{floor_seconds:.2},\"floorRowsPerSecond\":{:.0},\"baselineMb\":{before:.0},\"peakMb\":{peak:.0},\"syncPeakMb\":{:.0},\"sqliteBeforeMb\":{sqlite_before:.0},\"sqlitePeakMb\":{sqlite_peak:.0},\"errors\":{}}}",
        paths.len(),
        compressed as f64 / 1e6,
        rows as f64 / seconds,
        rows as f64 / floor_seconds,
        (peak - before).max(0.0),
        counts.errors
    );
}
