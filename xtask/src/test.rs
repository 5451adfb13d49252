//! `cargo xtask test`: every runner, each one's summary, and a failure if
//! any runner fails, skips a test, or runs no test at all.

use std::path::PathBuf;
use std::process::Command;

use crate::process::run_capturing;
use crate::tools::{self, CHROMEDRIVER, CHROMIUM, Needs, command};
use crate::{Result, root, spa};

#[derive(clap::Args)]
pub struct TestArgs {
    /// Run only these runners (native, browser, e2e); all by default.
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
}

pub fn run(args: TestArgs) -> Result {
    tools::ensure(Needs::Everything)?;
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    if !args.no_lint {
        lint()?;
    }
    let mut summaries = Vec::new();
    if wanted("native") {
        summaries.push(native()?);
    }
    if wanted("browser") {
        summaries.push(browser()?);
    }
    if wanted("e2e") {
        summaries.push(end_to_end(&args.e2e_files)?);
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
            "  {:<8} {:>4} passed, {:>3} failed, {:>3} skipped   {verdict}",
            s.runner, s.passed, s.failed, s.skipped
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

/// `cargo fmt --check` and clippy with warnings as errors, for the native
/// crates and for the SPA as the browser builds it.
fn lint() -> Result {
    println!("xtask: cargo fmt --check and clippy -D warnings");
    crate::process::run(
        cargo()
            .args(["fmt", "--all", "--", "--check"])
            .current_dir(root()),
    )?;
    crate::process::run(
        cargo()
            .args([
                "clippy",
                "--workspace",
                "--exclude",
                "csp-costs",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root()),
    )?;
    crate::process::run(
        cargo()
            .args([
                "clippy",
                "-p",
                "csp-costs",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
            ])
            .args(["--", "-D", "warnings"])
            .current_dir(root()),
    )
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
/// emulator, natively (the SPA package is built for the browser instead).
fn native() -> Result<Summary> {
    println!("xtask: native tests");
    let (ok, lines) = run_capturing(
        cargo()
            .args(["test", "--workspace", "--exclude", "csp-costs"])
            .current_dir(root()),
    )?;
    let (passed, failed, skipped) = cargo_counts(&lines);
    Ok(Summary {
        runner: "native",
        passed,
        failed,
        skipped,
        ok,
    })
}

/// The SPA's wasm-bindgen tests in headless Chromium.
fn browser() -> Result<Summary> {
    println!("xtask: browser tests (wasm-bindgen-test in headless Chromium)");
    let (ok, lines) = run_capturing(
        cargo()
            .args([
                "test",
                "-p",
                "csp-costs",
                "--target",
                "wasm32-unknown-unknown",
                // tests/pivot_speed.rs is a benchmark: `cargo xtask bench` runs it.
                "--lib",
                "--test",
                "web",
            ])
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
            .env(
                "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                root().join("tests/webdriver.json"),
            )
            .current_dir(root()),
    )?;
    let (passed, failed, skipped) = cargo_counts(&lines);
    Ok(Summary {
        runner: "browser",
        passed,
        failed,
        skipped,
        ok,
    })
}

/// The proxy and emulator binaries the native tests' build leaves in
/// `target/debug` (their integration tests need them). Built the same way
/// here, so after the native runner this is a no-op: `cargo build -p proxy`
/// would unify other features and compile much of the tree again.
fn test_servers() -> Result<(PathBuf, PathBuf)> {
    crate::process::run(
        cargo()
            .args(["test", "--workspace", "--exclude", "csp-costs", "--no-run"])
            .current_dir(root()),
    )?;
    let dir = crate::serve::target_dir().join("debug");
    Ok((dir.join("proxy"), dir.join("emulator")))
}

/// Playwright (playwright-core driving Debian's Chromium) against the real
/// proxy and emulator, which the tests start themselves.
fn end_to_end(files: &[String]) -> Result<Summary> {
    println!("xtask: end-to-end tests (Playwright)");
    let dist = spa::build()?;
    let (proxy, emulator) = test_servers()?;
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
