//! `cargo xtask mutants`: mutation testing with cargo-mutants: small changes
//! made to the code one at a time (a `+` for a `-`, a function returning a
//! default), each one built and tested; a change no test notices "survives"
//! and points at a test to write. Over `crates/model` by default; `--proxy`
//! takes the proxy's sync and pricing code instead (hours: each mutant runs
//! the proxy's integration tests). Not part of `cargo xtask test` or CI.

use crate::tools::command;
use crate::{Result, root};

pub const CARGO_MUTANTS_VERSION: &str = "27.1.0";

#[derive(clap::Args)]
pub struct MutantsArgs {
    /// The proxy's sync and pricing code instead of crates/model.
    #[arg(long)]
    proxy: bool,
    /// Only these files (globs, as cargo-mutants' --file takes them).
    #[arg(long = "file")]
    files: Vec<String>,
    /// Only every n-th mutant, as `k/n` (round-robin, k from 0): a sample
    /// when the whole run would take hours.
    #[arg(long)]
    shard: Option<String>,
    /// Mutants built and tested at once.
    #[arg(long, default_value_t = 2)]
    jobs: u32,
}

pub fn run(args: MutantsArgs) -> Result {
    crate::tools::ensure_cargo_mutants()?;
    let out = root().join("target/mutants");
    let mut cmd = command("cargo");
    cmd.args(["mutants", "--no-shuffle", "--jobs"])
        .arg(args.jobs.to_string())
        .arg("--output")
        .arg(&out)
        .current_dir(root());
    if args.proxy {
        cmd.args(["--package", "proxy"]);
        for file in ["crates/proxy/src/sync/**", "crates/proxy/src/reports.rs"] {
            cmd.args(["--file", file]);
        }
    } else {
        cmd.args(["--package", "model"]);
    }
    for file in &args.files {
        cmd.args(["--file", file]);
    }
    if let Some(shard) = &args.shard {
        cmd.args(["--shard", shard, "--sharding", "round-robin"]);
    }
    if args.proxy {
        // The tests that drive a sync and price its lines: linking every
        // other test binary of the proxy for each mutant doubles the time.
        cmd.args(["--", "--lib"]);
        for test in [
            "sync",
            "faults",
            "graph_export",
            "upstream",
            "tolerance",
            "api",
        ] {
            cmd.args(["--test", test]);
        }
    }
    // cargo-mutants exits non-zero when any mutant survives: the summary
    // below is the result either way.
    let _ = crate::process::run(&mut cmd);
    let outcomes = std::fs::read_to_string(out.join("mutants.out/outcomes.json"))
        .map_err(|e| format!("cargo-mutants wrote no outcomes: {e}"))?;
    let outcomes: serde_json::Value = serde_json::from_str(&outcomes).map_err(|e| e.to_string())?;
    let count = |key: &str| outcomes[key].as_u64().unwrap_or(0);
    let (caught, missed, timeout, unviable) = (
        count("caught"),
        count("missed"),
        count("timeout"),
        count("unviable"),
    );
    let viable = caught + missed + timeout;
    println!(
        "xtask: {viable} viable mutants: {caught} caught, {timeout} timed out, {missed} missed \
         ({:.1} % caught or timed out); {unviable} did not build. Survivors: {}",
        if viable == 0 {
            0.0
        } else {
            (caught + timeout) as f64 * 100.0 / viable as f64
        },
        out.join("mutants.out/missed.txt").display()
    );
    Ok(())
}
