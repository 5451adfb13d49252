//! `cargo xtask <command>`: the only place that knows about tools.
//!
//! - `serve`: install what is missing, build the SPA, start the emulator and
//!   the proxy, print the URL and a demo sign-in.
//! - `test`: install what is missing and run every test (native, browser,
//!   end to end), printing each runner's summary.
//! - `build`: the release SPA in `dist/`, with its transfer size.
//! - `dist`: the same `dist/`, with how to host it as static files.
//! - `bench`: the benchmarks, written to BENCHMARKS.md.
//! - `fuzz`: the fuzz targets with many cases.
//! - `mutants`: mutation testing (cargo-mutants), not part of the tests.
//! - `setup`: only the installs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod fuzz;
mod lanes;
mod mutants;
mod postgres;
mod process;
mod serve;
mod size;
mod spa;
mod split;
mod test;
mod tools;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Set-up, build, serve and test the CSP cost tracker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Installs every tool the build and the tests need (skips what is there).
    Setup,
    /// Builds the SPA in release into dist/ and prints its transfer size
    /// against the 300 KB budget.
    Build,
    /// Where the last release build's wasm code is, by crate and function.
    Size,
    /// Builds dist/ for any static host under any sub-path, and says how to host it.
    Dist,
    /// Builds everything and runs the emulator and the proxy until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Runs every test: native, browser (wasm-bindgen-test) and end to end (Playwright).
    Test(test::TestArgs),
    /// Runs the fuzz targets (parsers and writers) with many more cases than the tests.
    Fuzz(fuzz::FuzzArgs),
    /// Runs the benchmarks and writes BENCHMARKS.md.
    Bench,
    /// Mutation testing with cargo-mutants: which code changes no test notices.
    Mutants(mutants::MutantsArgs),
}

/// The repository root (the workspace), whatever the current directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Setup => tools::ensure(tools::Needs::Everything),
        Command::Build => {
            tools::ensure(tools::Needs::Build).and_then(|()| spa::build().map(|_| ()))
        }
        Command::Dist => tools::ensure(tools::Needs::Build).and_then(|()| {
            let dist = spa::build()?;
            println!("{}", spa::hosting_notes(&dist));
            Ok(())
        }),
        Command::Size => size::ENTRIES.iter().try_for_each(|(entry, wasm)| {
            let b = size::breakdown(&root().join(wasm))?;
            println!("{entry}:\n\n{}", size::markdown(&b));
            Ok(())
        }),
        Command::Serve(args) => serve::run(args),
        Command::Test(args) => test::run(args),
        Command::Fuzz(args) => fuzz::run(args),
        Command::Bench => bench::run(),
        Command::Mutants(args) => mutants::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
