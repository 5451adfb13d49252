//! `cargo xtask bench`: runs the benchmarks and writes BENCHMARKS.md with
//! the command, the machine, the date, each figure, its baseline and the
//! ratio. Machines here are shared and noisy: each figure is a median of
//! several runs, and each baseline is measured in the same run.

use std::fmt::Write as _;
use std::process::Command;

use serde_json::Value;

use crate::test::cargo;
use crate::tools::{self, CHROMEDRIVER, Needs};
use crate::{Result, root, spa};

/// One row of BENCHMARKS.md.
struct Row {
    name: &'static str,
    command: String,
    figure: String,
    baseline: String,
    ratio: String,
    target: &'static str,
    met: Option<bool>,
}

impl Row {
    fn failed(name: &'static str, command: String, target: &'static str, why: String) -> Row {
        Row {
            name,
            command,
            figure: format!("failed: {why}"),
            baseline: "–".into(),
            ratio: "–".into(),
            target,
            met: Some(false),
        }
    }
}

pub fn run() -> Result {
    tools::ensure(Needs::Everything)?;
    tools::ensure_bench_tools()?;
    // The SPA and the servers are built once, for every row that runs them.
    let built = spa::build_measured().and_then(|(dist, size)| {
        let (proxy, emulator) = crate::serve::build_servers("server")?;
        Ok(Built {
            dist,
            size,
            proxy,
            emulator,
        })
    });
    let mut rows = Vec::new();
    rows.push(first_load(&built));
    rows.extend(pivot_native());
    rows.extend(pivot_wasm());
    rows.push(sync());
    rows.push(export());
    rows.extend(scale());
    rows.push(interactive(&built));
    rows.push(explorer_first_chart(&built));
    rows.push(under_load(&built));
    rows.push(lighthouse(&built));
    let mut report = markdown(&rows);
    // Where the first load's bytes are, for judging the next change by.
    let _ = writeln!(report, "\n## The first load by crate");
    for (entry, wasm) in crate::size::ENTRIES {
        let _ = writeln!(report, "\n### {entry}\n");
        match crate::size::breakdown(&root().join(wasm)) {
            Ok(b) => report.push_str(&crate::size::markdown(&b)),
            Err(e) => {
                let _ = writeln!(report, "Not measured: {e}");
            }
        }
    }
    std::fs::write(root().join("BENCHMARKS.md"), &report)
        .map_err(|e| format!("BENCHMARKS.md: {e}"))?;
    println!("{report}");
    println!("xtask: wrote BENCHMARKS.md");
    Ok(())
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// The release SPA and the server build of the proxy and emulator.
struct Built {
    dist: std::path::PathBuf,
    size: spa::FirstLoads,
    proxy: std::path::PathBuf,
    emulator: std::path::PathBuf,
}

fn first_load(built: &Result<Built>) -> Row {
    let command =
        "cargo xtask build (trunk build --release, the partner's app split in two, wasm-opt -Oz)"
            .to_string();
    let target = "≤ 300 KB gzip for the partner's app, ≤ 150 KB for the customer's own view";
    let (partner_budget, own_budget) = (crate::size::BUDGET_GZIP, crate::size::OWN_BUDGET_GZIP);
    match built.as_ref().map(|b| &b.size) {
        Ok(size) => Row {
            name: "First-load transfer (html, js, wasm, css)",
            command,
            figure: format!(
                "the partner's app {} gzip ({} raw; {} as the proxy sends it to a browser that \
                 accepts brotli): its shell and Overview in English, the other pages' code one more file \
                 fetched when one of them first opens; the customer's own view (/my) {} gzip ({} raw; {} brotli)",
                kb(size.partner.gzip),
                kb(size.partner.raw),
                kb(size.partner.brotli),
                kb(size.own.gzip),
                kb(size.own.raw),
                kb(size.own.brotli),
            ),
            baseline: "the 300 KB and 150 KB budgets".into(),
            ratio: format!(
                "{:.2}× and {:.2}× the budgets",
                size.partner.gzip as f64 / partner_budget as f64,
                size.own.gzip as f64 / own_budget as f64
            ),
            target,
            met: Some(size.partner.gzip <= partner_budget && size.own.gzip <= own_budget),
        },
        Err(e) => Row::failed("First-load transfer", command, target, e.clone()),
    }
}

/// Runs a command and returns the JSON of the `BENCH {...}` line it prints.
fn bench_line(cmd: &mut Command) -> Result<Value> {
    let (ok, lines) = crate::process::run_capturing(cmd)?;
    if !ok {
        return Err("the benchmark failed (its output is above)".into());
    }
    let line = lines
        .iter()
        .find_map(|l| l.split_once("BENCH ").map(|(_, json)| json.to_string()))
        .ok_or("the benchmark printed no BENCH line")?;
    serde_json::from_str(&line).map_err(|e| format!("BENCH line: {e}"))
}

fn median_ms(name: &str) -> Result<f64> {
    let path = root().join(format!("target/criterion/pivot/{name}/new/estimates.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    v["median"]["point_estimate"]
        .as_f64()
        .map(|ns| ns / 1e6)
        .ok_or_else(|| format!("{}: no median", path.display()))
}

fn pivot_native() -> Vec<Row> {
    let command = "cargo bench -p model --bench pivot (criterion)".to_string();
    let target = "faster than the baseline";
    if let Err(e) = crate::process::run(
        cargo()
            .args(["bench", "-p", "model", "--bench", "pivot"])
            .current_dir(root()),
    ) {
        return vec![Row::failed("Pivot, native", command, target, e)];
    }
    [("one", "by one dimension"), ("two", "by two dimensions")]
        .into_iter()
        .map(|(key, label)| {
            let name: &'static str = if key == "one" {
                "Pivot of 1,000,000 line items, native, by one dimension"
            } else {
                "Pivot of 1,000,000 line items, native, by two dimensions"
            };
            match (
                median_ms(&format!("cube-{key}")),
                median_ms(&format!("baseline-{key}")),
            ) {
                (Ok(cube), Ok(base)) => Row {
                    name,
                    command: command.clone(),
                    figure: format!("{cube:.1} ms (median)"),
                    baseline: format!(
                        "{base:.1} ms: rows of strings grouped in a HashMap, {label}"
                    ),
                    ratio: format!("{:.1}× faster", base / cube),
                    target,
                    met: Some(cube < base),
                },
                (Err(e), _) | (_, Err(e)) => Row::failed(name, command.clone(), target, e),
            }
        })
        .collect()
}

/// The wasm pivot against each JavaScript baseline of tests/pivot_speed.rs,
/// a row each, from one run in one page.
fn pivot_wasm() -> Vec<Row> {
    let name = "Pivot of 1,000,000 line items in the browser (wasm)";
    let command = "cargo test --release --target wasm32-unknown-unknown --test pivot_speed -- --nocapture (headless Chromium)".to_string();
    let target = "≤ 50 ms per regroup, ≥ 3× faster than each JavaScript baseline";
    let result = bench_line(
        cargo()
            .args([
                "test",
                "--release",
                "-p",
                "csp-costs",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                "pivot_speed",
                "--",
                "--nocapture",
            ])
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "600")
            .env(
                "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                root().join("tests/webdriver.json"),
            )
            .current_dir(root()),
    );
    let v = match result {
        Ok(v) => v,
        Err(e) => return vec![Row::failed(name, command, target, e)],
    };
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let (w1, w2) = (f("wasmOne"), f("wasmTwo"));
    [
        ("js", "row objects grouped in a Map by a string key"),
        ("map", "typed-array columns, groups in a Map by a packed key"),
        (
            "dense",
            "typed-array columns, a dense table of groups (the wasm's own method)",
        ),
    ]
    .into_iter()
    .map(|(key, how)| {
        let (j1, j2) = (f(&format!("{key}One")), f(&format!("{key}Two")));
        Row {
            name,
            command: command.clone(),
            figure: format!(
                "{w1:.1} ms by one dimension, {w2:.1} ms by two (medians of 7); the four measure columns only read and summed, no grouping: {:.1} ms in wasm, {:.1} ms in JavaScript",
                f("wasmFloor"),
                f("jsFloor")
            ),
            baseline: format!(
                "JavaScript, {how}; the same four sums and line count, same page and data: {j1:.1} ms and {j2:.1} ms"
            ),
            ratio: format!("{:.1}× and {:.1}× faster", j1 / w1, j2 / w2),
            target,
            met: Some(w1 <= 50.0 && w2 <= 50.0 && j1 / w1 >= 3.0 && j2 / w2 >= 3.0),
        }
    })
    .collect()
}

/// The proxy's benches run its `server` build, the one `cargo xtask serve`
/// ships (opt-level 3), not `release`, which is sized for the wasm.
fn example(which: &str) -> Command {
    let mut c = cargo();
    c.args([
        "run",
        "--profile",
        "server",
        "-p",
        "proxy",
        "--example",
        "bench",
        "--",
        which,
    ])
    .current_dir(root());
    c
}

fn sync() -> Row {
    let name = "Sync of 500 customers against a throttle";
    let command = "cargo run --profile server -p proxy --example bench -- sync".to_string();
    let target = "within 10 % of the bound, no 429, no lost line";
    match bench_line(&mut example("sync")) {
        Ok(v) => {
            let wall = v["wallSeconds"].as_f64().unwrap_or(f64::NAN);
            let bound = v["boundSeconds"].as_f64().unwrap_or(f64::NAN);
            let throttled = v["throttled"].as_u64().unwrap_or(u64::MAX);
            let same = v["lineItems"] == v["storedLineItems"];
            Row {
                name,
                command,
                figure: format!(
                    "{wall:.1} s for {} requests and {} line items; {throttled} refused (429); {} errors",
                    v["requests"], v["lineItems"], v["errors"]
                ),
                baseline: format!(
                    "lower bound {bound:.1} s = requests / {} per second",
                    v["rate"]
                ),
                ratio: format!("{:.2}× the bound", wall / bound),
                target,
                met: Some(wall <= bound * 1.1 && throttled == 0 && same),
            }
        }
        Err(e) => Row::failed(name, command, target, e),
    }
}

fn export() -> Row {
    let name = "Ingest of Graph billing exports (millions of rows)";
    let command = "cargo run --profile server -p proxy --example bench -- export".to_string();
    let target = "≥ 150,000 rows/s; a sync's peak memory < 300 MB with a 1-million-row export";
    match bench_line(&mut example("export")) {
        Ok(v) => {
            let rate = v["rowsPerSecond"].as_f64().unwrap_or(0.0);
            let floor = v["floorRowsPerSecond"].as_f64().unwrap_or(f64::NAN);
            let peak = v["syncPeakMb"].as_f64().unwrap_or(f64::MAX);
            let largest = v["largestExportRows"].as_u64().unwrap_or(0);
            let same = v["rows"] == v["storedRows"] && v["errors"] == 0;
            Row {
                name,
                command,
                figure: format!(
                    "{rate:.0} rows/s: {} rows of {} exports ({} files, {} MB gzip; the largest {largest} rows) \
                     downloaded, gunzipped, parsed and stored in {} s ({} s of CPU, the emulator serving the files \
                     included); the sync's peak memory {peak:.0} MB \
                     (growth of the process's peak RSS during the sync; the emulator's files were already in memory)",
                    v["rows"],
                    v["exports"],
                    v["files"],
                    v["compressedMb"],
                    v["seconds"],
                    v["cpuSeconds"]
                ),
                baseline: format!(
                    "floor: gzip -dc of the same files to /dev/null, {floor:.0} rows/s ({} s)",
                    v["floorSeconds"]
                ),
                ratio: format!("{:.2}× the floor", rate / floor),
                target,
                met: Some(rate >= 150_000.0 && peak < 300.0 && largest >= 1_000_000 && same),
            }
        }
        Err(e) => Row::failed(name, command, target, e),
    }
}

fn scale() -> Vec<Row> {
    let name = "Scale: 5,000 customers, 13 months in the store";
    let command = "cargo run --profile server -p proxy --example bench -- scale".to_string();
    let target = "p99 ≤ 200 ms";
    let mut rows = match bench_line(&mut example("scale")) {
        Ok(v) => vec![
            scale_row(name, command.clone(), target, &v),
            explorer_row(command, &v),
        ],
        Err(e) => vec![Row::failed(name, command, target, e)],
    };
    // The same on PostgreSQL, in the same run: a server of the bench's own.
    let name = "Scale: 5,000 customers, 13 months in the store, on PostgreSQL";
    let command = "PROXY_TEST_STORE=postgres cargo run --profile server -p proxy --example bench -- scale (a PostgreSQL server of the run's own)".to_string();
    let result = crate::postgres::Postgres::start("bench").and_then(|server| {
        bench_line(
            example("scale")
                .env("PROXY_TEST_STORE", "postgres")
                .env("PROXY_TEST_DATABASE_URL", server.url()),
        )
    });
    rows.push(match result {
        Ok(v) => {
            let mut row = scale_row(name, command, target, &v);
            let (lines, fill) = (
                v["lineItems"].as_f64().unwrap_or(0.0),
                v["fillSeconds"].as_f64().unwrap_or(f64::NAN),
            );
            row.figure = format!(
                "{}; filled with {} line items in {fill:.1} s ({:.0} rows/s, a day of every customer's lines a batch)",
                row.figure,
                v["lineItems"],
                lines / fill
            );
            row
        }
        Err(e) => Row::failed(name, command, target, e),
    });
    rows
}

/// The Explorer's month of every customer, from the scale row's store.
fn explorer_row(command: String, v: &Value) -> Row {
    let name = "Explorer: every customer's last 30 days at the scale row's size";
    let target = "≤ 10 MB transferred";
    let answers = v["explorer"].as_array().cloned().unwrap_or_default();
    let Some(largest) = answers.iter().filter_map(|a| a["wireBytes"].as_u64()).max() else {
        return Row::failed(name, command, target, "no explorer figures".into());
    };
    let each: Vec<String> = answers
        .iter()
        .map(|a| {
            format!(
                "by {}: {} on the wire ({} unzipped) in {} ms, {} rows for {} line items{}",
                a["keep"].as_str().unwrap_or("?"),
                kb(a["wireBytes"].as_u64().unwrap_or(0)),
                kb(a["bytes"].as_u64().unwrap_or(0)),
                a["ms"],
                a["rows"],
                a["lines"],
                if a["summed"].as_bool() == Some(true) {
                    ", summed by the proxy"
                } else {
                    ""
                }
            )
        })
        .collect();
    Row {
        name,
        command,
        figure: format!(
            "{} (2 meters a customer a day: fewer lines a month than a real partner's 1.4 million)",
            each.join("; ")
        ),
        baseline: "the 10 MB target".into(),
        ratio: format!("{:.2}× the target", largest as f64 / 10_000_000.0),
        target,
        met: Some(largest <= 10_000_000),
    }
}

fn scale_row(name: &'static str, command: String, target: &'static str, v: &Value) -> Row {
    let o = &v["overview"];
    let c = &v["customers"];
    let worst = |k: &str| {
        o[k].as_f64()
            .unwrap_or(f64::MAX)
            .max(c[k].as_f64().unwrap_or(f64::MAX))
    };
    // Requests between writes are served from the memo; after a
    // person's write (rates, a budget) each request must hold too.
    // After the lines change the sync computes the figures itself.
    let (p99, after_write) = (worst("p99Ms"), worst("afterWriteMaxMs"));
    Row {
        name,
        command,
        figure: format!(
            "/api/overview median {} ms, p99 {} ms; /api/customers median {} ms, p99 {} ms; \
                     the first request after a settings write, 20 times: median {} and {} ms, worst {} and {} ms; \
                     after the line items change (a sync, which computes them before anyone asks): {} ms and {} ms ({} line items)",
            o["medianMs"],
            o["p99Ms"],
            c["medianMs"],
            c["p99Ms"],
            o["afterWriteMedianMs"],
            c["afterWriteMedianMs"],
            o["afterWriteMaxMs"],
            c["afterWriteMaxMs"],
            o["coldMs"],
            c["coldMs"],
            v["lineItems"]
        ),
        baseline: "the 200 ms target".into(),
        ratio: format!(
            "{:.2}× the target between writes, {:.2}× after a write",
            p99 / 200.0,
            after_write / 200.0
        ),
        target,
        met: Some(p99 <= 200.0 && after_write <= 200.0),
    }
}

fn interactive(built: &Result<Built>) -> Row {
    let name = "Time to an interactive Overview (200 customers)";
    let command = "node tests/bench/tti.mjs (headless Chromium, server build)".to_string();
    let target = "median < 1 s";
    let result = node_bench(built, "tests/bench/tti.mjs");
    match result {
        Ok(v) => {
            let ms = v["medianMs"].as_f64().unwrap_or(f64::NAN);
            let shell = v["shellMedianMs"].as_f64().unwrap_or(f64::NAN);
            Row {
                name,
                command,
                figure: format!(
                    "{ms:.0} ms median of {} fresh loads ({})",
                    v["runs"], v["allMs"]
                ),
                baseline: format!("{shell:.0} ms: the same page's load with JavaScript off"),
                ratio: format!("{:.1}× the static load", ms / shell),
                target,
                met: Some(ms < 1000.0),
            }
        }
        Err(e) => Row::failed(name, command, target, e),
    }
}

/// The Explorer opened in a browser at a large partner's scale.
fn explorer_first_chart(built: &Result<Built>) -> Row {
    let name = "Explorer's first chart in a browser, 5,000 customers";
    let command = "node tests/bench/explorer.mjs (headless Chromium, server build)".to_string();
    let target = "first chart ≤ 1.5 s, ≤ 10 MB, regroup ≤ 100 ms, no task over 50 ms from the cube's request on";
    match node_bench(built, "tests/bench/explorer.mjs") {
        Ok(v) => {
            let n = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            let (chart, bytes, regroup, from_cube) = (
                n("chartMedianMs"),
                n("transferredMedianBytes"),
                n("regroupMedianMs"),
                n("longestTaskFromCubeMs"),
            );
            Row {
                name,
                command,
                figure: format!(
                    "first chart {chart:.0} ms from navigation, {} transferred, regroup by currency {regroup:.0} ms, longest main-thread task {:.0} ms (start-up included), from the cube's request on at most {from_cube:.0} ms in any load (medians of {} fresh loads; the first sync of {} s before)",
                    kb(bytes as u64),
                    n("longestTaskMedianMs"),
                    v["runs"],
                    v["syncSeconds"],
                ),
                baseline: "the targets".into(),
                ratio: format!("{:.2}× the 1.5 s target", chart / 1500.0),
                target,
                met: Some(
                    chart <= 1500.0
                        && bytes <= 10_000_000.0
                        && regroup <= 100.0
                        && from_cube <= 50.0,
                ),
            }
        }
        Err(e) => Row::failed(name, command, target, e),
    }
}

/// A Node benchmark of the running app (tests/bench/*.mjs) against the
/// server build of the proxy and emulator and the SPA's release build.
fn node_bench(built: &Result<Built>, script: &str) -> Result<Value> {
    let built = built.as_ref().map_err(Clone::clone)?;
    bench_line(
        crate::tools::command("node")
            .arg(script)
            .env("PROXY_BIN", &built.proxy)
            .env("EMULATOR_BIN", &built.emulator)
            .env("DIST_DIR", &built.dist)
            .env("CHROMIUM", crate::tools::CHROMIUM)
            .current_dir(root()),
    )
}

fn under_load(built: &Result<Built>) -> Row {
    let name = "Proxy under load: 500 connections on the Overview's routes";
    let command =
        "node tests/bench/load.mjs (wrk -t2 -c500 -d10s, 3 runs, server build)".to_string();
    let target = "p99 ≤ 20 ms, no errors";
    match node_bench(built, "tests/bench/load.mjs") {
        Ok(v) => {
            let p = &v["proxy"];
            let b = &v["static"];
            let ms = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            let errors = p["errors"].as_u64().unwrap_or(u64::MAX);
            Row {
                name,
                command,
                figure: format!(
                    "p50 {:.1} ms, p99 {:.1} ms, {:.0} requests/s, {} errors (/api/session, /api/overview, /api/sync in turn, signed in); proxy peak RSS {:.0} MB",
                    ms(p, "p50Ms"),
                    ms(p, "p99Ms"),
                    ms(p, "rps"),
                    errors,
                    ms(&v, "proxyPeakRssMb"),
                ),
                baseline: format!(
                    "static files of the same bodies (the proxy binary's ServeDir): p50 {:.1} ms, p99 {:.1} ms, {:.0} requests/s",
                    ms(b, "p50Ms"),
                    ms(b, "p99Ms"),
                    ms(b, "rps"),
                ),
                ratio: format!(
                    "{:.2}× the baseline's throughput, p99 {:.2}× its",
                    ms(p, "rps") / ms(b, "rps"),
                    ms(p, "p99Ms") / ms(b, "p99Ms"),
                ),
                target,
                met: Some(ms(p, "p99Ms") <= 20.0 && errors == 0),
            }
        }
        Err(e) => Row::failed(name, command, target, e),
    }
}

fn lighthouse(built: &Result<Built>) -> Row {
    let name = "Lighthouse 12.2.3 (Overview, Explorer)";
    let command = "node tests/bench/lighthouse.mjs (desktop preset, Debian Chromium, 3 runs each)"
        .to_string();
    let target = "≥ 0.95 in each category";
    match node_bench(built, "tests/bench/lighthouse.mjs") {
        Ok(v) => {
            let mut lowest = f64::INFINITY;
            let mut figure = Vec::new();
            if let Some(pages) = v["scores"].as_object() {
                for (page, scores) in pages {
                    let mut parts = Vec::new();
                    for category in ["performance", "accessibility", "best-practices"] {
                        let score = scores[category].as_f64().unwrap_or(0.0);
                        lowest = lowest.min(score);
                        parts.push(format!("{category} {score:.2}"));
                    }
                    figure.push(format!("{page}: {}", parts.join(", ")));
                }
            }
            let lost: Vec<String> = v["failures"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect())
                .unwrap_or_default();
            if !lost.is_empty() {
                figure.push(format!("points lost to: {}", lost.join("; ")));
            }
            Row {
                name,
                command,
                figure: figure.join("; "),
                baseline: "the 0.95 target".into(),
                ratio: format!("lowest score {lowest:.2}"),
                target,
                met: Some(lowest >= 0.95),
            }
        }
        Err(e) => Row::failed(name, command, target, e),
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| format!("{:.0} GiB", k / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown memory".into());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores ({cpu}), {memory}")
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench` on {}, on {}. Figures are medians; each baseline was measured in the same run.\n",
        today(),
        machine()
    );
    let _ = writeln!(
        out,
        "| Benchmark | Command | Figure | Baseline | Ratio | Target | Met |\n|---|---|---|---|---|---|---|"
    );
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {met} |",
            r.name, r.command, r.figure, r.baseline, r.ratio, r.target
        );
    }
    out
}
