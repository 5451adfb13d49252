//! `cargo xtask test`: every runner, each one's summary, and a failure if
//! any runner fails, skips a test, or runs no test at all.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::lanes::TestBinary;

use crate::process::run_capturing;
use crate::tools::{self, CHROMEDRIVER, CHROMIUM, Needs, command};
use crate::{Result, root, spa};

#[derive(clap::Args)]
pub struct TestArgs {
    /// Run only these runners (native, postgres, browser, e2e); all by default.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Skip the formatting and clippy checks that run first.
    #[arg(long)]
    pub no_lint: bool,
    /// Only these end-to-end test files (`tests/e2e/languages.test.mjs`).
    #[arg(long = "e2e-file")]
    pub e2e_files: Vec<String>,
}

struct Summary {
    runner: &'static str,
    passed: usize,
    failed: usize,
    /// Ignored (cargo) or skipped, todo and cancelled (node): none may be.
    skipped: usize,
    ok: bool,
    /// Wall time, its build included.
    seconds: f64,
}

/// How the workspace's own crates are compiled for the tests: with clippy's
/// lints as errors in that same compile, or plain. Linting while building
/// replaces two `cargo clippy` passes, which checked every dependency before
/// the test builds compiled it again.
#[derive(Clone, Copy)]
enum Lints {
    Denied,
    Off,
}

pub fn run(args: TestArgs) -> Result {
    tools::ensure(Needs::Everything)?;
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let lints = if args.no_lint {
        Lints::Off
    } else {
        format_check()?;
        Lints::Denied
    };
    let mut summaries = Vec::new();
    if wanted("native") || wanted("postgres") {
        summaries.extend(native(lints, wanted("native"), wanted("postgres"))?);
    }
    if wanted("browser") {
        summaries.push(browser(lints)?);
    }
    if wanted("e2e") {
        summaries.push(end_to_end(lints, &args.e2e_files)?);
    }

    println!();
    println!("xtask test summary");
    let mut all_ok = true;
    for s in &summaries {
        let verdict = if !s.ok {
            "FAILED"
        } else if s.passed == 0 {
            "FAILED (ran no test)"
        } else if s.skipped > 0 {
            "FAILED (skipped tests)"
        } else {
            "ok"
        };
        all_ok &= s.ok && s.passed > 0 && s.skipped == 0;
        println!(
            "  {:<8} {:>4} passed, {:>3} failed, {:>3} skipped  {:>6.0} s   {verdict}",
            s.runner, s.passed, s.failed, s.skipped, s.seconds
        );
    }
    let passed: usize = summaries.iter().map(|s| s.passed).sum();
    let failed: usize = summaries.iter().map(|s| s.failed).sum();
    println!("{passed} passed, {failed} failed");
    if all_ok {
        Ok(())
    } else {
        Err("some tests failed or were skipped, or a runner ran none".into())
    }
}

pub fn cargo() -> Command {
    command(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn format_check() -> Result {
    println!("xtask: cargo fmt --check (clippy's lints are denied in the builds below)");
    crate::process::run(
        cargo()
            .args(["fmt", "--all", "--", "--check"])
            .current_dir(root()),
    )
}

/// Cargo, with clippy-driver compiling the workspace's crates when lints
/// are denied (what `cargo clippy -- -D warnings` does, in a real build).
/// Every build of one run must use the same, or cargo compiles it again.
fn cargo_with(lints: Lints) -> Result<Command> {
    let mut cmd = cargo();
    if let Lints::Denied = lints {
        let sysroot = crate::process::output(command("rustc").args(["--print", "sysroot"]))
            .ok_or("`rustc --print sysroot` failed")?;
        let driver = PathBuf::from(sysroot).join("bin/clippy-driver");
        if !driver.exists() {
            return Err(format!(
                "{} is missing: `rustup component add clippy`",
                driver.display()
            ));
        }
        cmd.env("RUSTC_WORKSPACE_WRAPPER", driver).env(
            "CLIPPY_ARGS",
            "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
        );
    }
    cmd.current_dir(root());
    Ok(cmd)
}

/// Sums cargo's `test result: ok. N passed; M failed; K ignored; ...`
/// lines: (passed, failed, ignored).
fn cargo_counts(lines: &[String]) -> (usize, usize, usize) {
    let mut passed = 0;
    let mut failed = 0;
    let mut ignored = 0;
    for line in lines {
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            for part in rest.split(';') {
                let words: Vec<&str> = part.split_whitespace().collect();
                let n = |i: usize| {
                    words
                        .get(i)
                        .and_then(|w| w.parse::<usize>().ok())
                        .unwrap_or(0)
                };
                match words.as_slice() {
                    [_, _, "passed"] => passed += n(1),
                    [_, "passed"] => passed += n(0),
                    [_, "failed"] => failed += n(0),
                    [_, "ignored"] => ignored += n(0),
                    _ => {}
                }
            }
        }
    }
    (passed, failed, ignored)
}

/// Unit tests of every crate and the proxy's integration tests against the
/// emulator, natively (the SPA package is built for the browser instead);
/// then the proxy's tests again with its store in PostgreSQL (`postgres`):
/// one suite holds both stores to the same answers.
fn native(lints: Lints, sqlite: bool, postgres: bool) -> Result<Vec<Summary>> {
    println!("xtask: native tests");
    let mut started = Instant::now();
    let built = cargo_with(lints)?
        .args(NATIVE_TESTS)
        .args(["--no-run", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped())
        // `output()` captures both by default: the build's progress and its
        // errors (a denied lint among them) must reach the terminal.
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !built.status.success() {
        return Err("the native tests did not build".into());
    }
    let mut binaries = crate::lanes::from_cargo_messages(&String::from_utf8_lossy(&built.stdout))?;
    // The PostgreSQL store's tests get a server of the run's own, stopped
    // and removed when the tests end (dropped at the end of this function).
    let server = crate::postgres::Postgres::start("test")?;
    println!("xtask: PostgreSQL for the tests at {}", server.shown());
    for binary in &mut binaries {
        binary.env.push(("PROXY_TEST_DATABASE_URL", server.url()));
    }
    let mut summaries = Vec::new();
    // The proxy's integration tests, run again on PostgreSQL below (its
    // unit tests, named after the crate, hold both stores already).
    let proxy_tests: Vec<TestBinary> = binaries
        .iter()
        .filter(|b| b.package_dir.ends_with("crates/proxy") && b.name != "proxy")
        .map(|b| {
            let mut b = b.clone();
            b.env.push(("PROXY_TEST_STORE", "postgres".into()));
            b
        })
        .collect();
    if sqlite {
        let (doc_ok, mut lines) =
            run_capturing(cargo_with(lints)?.args(NATIVE_TESTS).arg("--doc"))?;
        let (ok, more) = crate::lanes::run(binaries, 2);
        lines.extend(more);
        summaries.push(summary("native", &lines, ok && doc_ok, started));
        started = Instant::now();
    }
    if postgres {
        println!("xtask: the proxy's tests with its store in PostgreSQL");
        let (ok, lines) = crate::lanes::run(proxy_tests, 2);
        summaries.push(summary("postgres", &lines, ok, started));
    }
    Ok(summaries)
}

fn summary(runner: &'static str, lines: &[String], ok: bool, started: Instant) -> Summary {
    let (passed, failed, skipped) = cargo_counts(lines);
    Summary {
        runner,
        passed,
        failed,
        skipped,
        ok,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Every native crate's tests: the SPA's are built for the browser instead.
const NATIVE_TESTS: [&str; 4] = ["test", "--workspace", "--exclude", "csp-costs"];

/// The SPA's wasm-bindgen tests in headless Chromium.
fn browser(lints: Lints) -> Result<Summary> {
    println!("xtask: browser tests (wasm-bindgen-test in headless Chromium)");
    let started = Instant::now();
    if let Some(file) = unit_tests_in(&root().join("src")) {
        return Err(format!(
            "{} has unit tests, which would never run: the app's library is built with `test = false` \
             (Cargo.toml), so put them in tests/ or set it to true",
            file.display()
        ));
    }
    // Every target built and linted, as `clippy --all-targets` did: the
    // library as the tests' dependency, the binary, every file in tests/.
    crate::process::run(
        cargo_with(lints)?
            .args(SPA_TESTS)
            .args(["--tests", "--no-run"]),
    )?;
    let (ok, lines) = run_capturing(
        cargo_with(lints)?
            .args(SPA_TESTS)
            // tests/pivot_speed.rs is a benchmark: `cargo xtask bench` runs it.
            .args(["--test", "web"])
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
            .env(
                "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                root().join("tests/webdriver.json"),
            ),
    )?;
    let (passed, failed, skipped) = cargo_counts(&lines);
    Ok(Summary {
        runner: "browser",
        passed,
        failed,
        skipped,
        ok,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The first file under `dir` with a test module or a wasm-bindgen test.
fn unit_tests_in(dir: &std::path::Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = unit_tests_in(&path) {
                return Some(found);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && std::fs::read_to_string(&path).is_ok_and(|text| {
                text.contains("#[cfg(test)]") || text.contains("wasm_bindgen_test")
            })
        {
            return Some(path);
        }
    }
    None
}

const SPA_TESTS: [&str; 5] = [
    "test",
    "-p",
    "csp-costs",
    "--target",
    "wasm32-unknown-unknown",
];

/// The proxy and emulator binaries the native tests' build leaves in
/// `target/debug` (their integration tests need them). Built the same way
/// here, so after the native runner this is a no-op: `cargo build -p proxy`
/// would unify other features and compile much of the tree again.
fn test_servers(lints: Lints) -> Result<(PathBuf, PathBuf)> {
    crate::process::run(cargo_with(lints)?.args(NATIVE_TESTS).arg("--no-run"))?;
    let dir = crate::serve::target_dir().join("debug");
    Ok((dir.join("proxy"), dir.join("emulator")))
}

/// Playwright (playwright-core driving Debian's Chromium) against the real
/// proxy and emulator, which the tests start themselves.
fn end_to_end(lints: Lints, files: &[String]) -> Result<Summary> {
    println!("xtask: end-to-end tests (Playwright)");
    let started = Instant::now();
    let dist = spa::build()?;
    let (proxy, emulator) = test_servers(lints)?;
    let (ok, lines) = run_capturing(
        command("node")
            // No test may hang the run: each gets ten minutes at most.
            .args(["--test", "--test-concurrency=1", "--test-timeout=600000"])
            .args(if files.is_empty() {
                vec!["tests/e2e/".to_string()]
            } else {
                files.to_vec()
            })
            .env("PROXY_BIN", proxy)
            .env("EMULATOR_BIN", emulator)
            .env("DIST_DIR", dist)
            .env("CHROMIUM", CHROMIUM)
            .current_dir(root()),
    )?;
    let count = |label: &str| {
        lines
            .iter()
            .rev()
            .filter_map(|l| l.trim().strip_prefix(label))
            .find_map(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0)
    };
    Ok(Summary {
        runner: "e2e",
        passed: count("# pass"),
        failed: count("# fail"),
        skipped: count("# skipped") + count("# todo") + count("# cancelled"),
        ok,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::cargo_counts;

    #[test]
    fn counts_cargo_result_lines() {
        let lines = vec![
            "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s".to_string(),
            "noise".to_string(),
            "test result: FAILED. 3 passed; 2 failed; 0 ignored".to_string(),
        ];
        assert_eq!(cargo_counts(&lines), (15, 2, 0));
        assert_eq!(cargo_counts(&[]), (0, 0, 0));
        let ignored = ["test result: ok. 4 passed; 0 failed; 2 ignored; 0 measured".to_string()];
        assert_eq!(cargo_counts(&ignored), (4, 0, 2));
    }
}
