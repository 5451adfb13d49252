//! `cargo xtask fuzz`: the fuzz targets (property tests over arbitrary input
//! in `crates/model/tests/fuzz.rs`) with many more cases than `cargo test`.

use std::time::Instant;

use crate::tools::command;
use crate::{Result, root};

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Cases per target.
    #[arg(long, default_value_t = 200_000)]
    cases: u64,
}

pub fn run(args: FuzzArgs) -> Result {
    let started = Instant::now();
    crate::process::run(
        command("cargo")
            .args(["test", "--release", "-p", "model", "--test", "fuzz"])
            .env("PROPTEST_CASES", args.cases.to_string())
            .current_dir(root()),
    )?;
    println!(
        "xtask: fuzz targets ran {} cases each in {:.0} s; no input made them panic",
        args.cases,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
