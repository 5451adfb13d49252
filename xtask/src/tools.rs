//! Installs what the build and the tests need, skipping what is there, so
//! the README's two commands work on a fresh machine and cost nothing after.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{output, run};
use crate::{Result, root};

pub const TRUNK_VERSION: &str = "0.21.14";
/// Must equal the `wasm-bindgen` pin in Cargo.toml: the CLI refuses any other.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// Cuts the partner's app into its first load, its other pages and its
/// Chinese words (xtask/src/split.rs); the version that reads the
/// `wasm_split` markers of leptos 0.8's `wasm_split_helpers` 0.2.
pub const WASM_SPLIT_VERSION: &str = "0.2.4";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The SPA's release build.
    Build,
    /// The build plus the browsers for the tests.
    Everything,
}

pub fn ensure(needs: Needs) -> Result {
    ensure_wasm_target()?;
    ensure_cargo_tool(
        "trunk",
        &["--version"],
        &format!("trunk {TRUNK_VERSION}"),
        || {
            // trunk 0.22 needs a newer Rust than this project's 1.95.
            cargo_install(&["trunk", "--version", TRUNK_VERSION, "--locked"])
        },
    )?;
    ensure_cargo_tool(
        "wasm-bindgen",
        &["--version"],
        &format!("wasm-bindgen {WASM_BINDGEN_VERSION}"),
        || {
            // Not --locked: one of its locked dependencies is missing from the registry.
            cargo_install(&["wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION])
        },
    )?;
    ensure_wasm_split()?;
    ensure_node_packages()?;
    if needs == Needs::Everything {
        ensure_chromium()?;
        ensure_smtp_server()?;
    }
    Ok(())
}

/// PATH with cargo's and the project's Node tools first, for child processes
/// (trunk looks for `wasm-opt` there and must not download one).
pub fn path_env() -> String {
    let mut dirs = vec![root().join("node_modules/.bin"), cargo_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
        .join("bin")
}

/// A command with PATH set as [`path_env`] says.
pub fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("PATH", path_env());
    cmd
}

fn ensure_wasm_target() -> Result {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    println!("xtask: adding the wasm32-unknown-unknown target");
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn ensure_cargo_tool(
    program: &str,
    args: &[&str],
    expect: &str,
    install: impl Fn() -> Result,
) -> Result {
    let version = output(command(program).args(args)).unwrap_or_default();
    if version.starts_with(expect) {
        return Ok(());
    }
    println!(
        "xtask: installing {expect} (found: {})",
        if version.is_empty() { "none" } else { &version }
    );
    install()?;
    let version = output(command(program).args(args)).unwrap_or_default();
    if version.starts_with(expect) {
        Ok(())
    } else {
        Err(format!(
            "{program} reports “{version}” after the install, expected {expect}"
        ))
    }
}

/// wasm-split-cli has no `--version`: cargo's list of what it installed says.
fn ensure_wasm_split() -> Result {
    let installed = || {
        let list =
            output(Command::new(cargo_program()).args(["install", "--list"])).unwrap_or_default();
        list.contains(&format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}:"))
            && cargo_bin().join("wasm-split-cli").exists()
    };
    if installed() {
        return Ok(());
    }
    println!("xtask: installing wasm-split-cli {WASM_SPLIT_VERSION}");
    cargo_install(&[
        "wasm_split_cli_support",
        "--version",
        WASM_SPLIT_VERSION,
        "--features",
        "build-binary",
        "--locked",
    ])?;
    if installed() {
        Ok(())
    } else {
        Err("wasm-split-cli is not where cargo installs after its install".into())
    }
}

/// cargo-mutants, for `cargo xtask mutants` only.
pub fn ensure_cargo_mutants() -> Result {
    let version = crate::mutants::CARGO_MUTANTS_VERSION;
    ensure_cargo_tool(
        "cargo-mutants",
        &["mutants", "--version"],
        &format!("cargo-mutants {version}"),
        || cargo_install(&["cargo-mutants", "--version", version, "--locked"]),
    )
}

fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo_install(args: &[&str]) -> Result {
    let mut cmd = Command::new(cargo_program());
    cmd.arg("install").args(args);
    run(&mut cmd)
}

pub fn apt_install(packages: &[&str]) -> Result {
    println!("xtask: installing {} with apt-get", packages.join(" "));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// `npm ci` from the committed lock file, again only when the lock changed.
fn ensure_node_packages() -> Result {
    if output(Command::new("npm").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    npm_ci(&root())
}

fn npm_ci(dir: &Path) -> Result {
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("{}: {e}", dir.join("package-lock.json").display()))?;
    let stamp = dir.join("node_modules/.xtask-package-lock.json");
    if std::fs::read(&stamp).ok().as_deref() == Some(lock.as_slice()) {
        return Ok(());
    }
    println!(
        "xtask: installing Node packages in {} (npm ci)",
        dir.display()
    );
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir))?;
    std::fs::write(&stamp, lock).map_err(|e| e.to_string())
}

/// What only `cargo xtask bench` uses, so tests and CI do not install it:
/// `wrk` (Debian) and Lighthouse (npm, pinned in tests/bench).
pub fn ensure_bench_tools() -> Result {
    if !Path::new("/usr/bin/wrk").exists() {
        apt_install(&["wrk"])?;
    }
    npm_ci(&root().join("tests/bench"))
}

/// The SMTP server the alert tests send to: Debian's aiosmtpd, run by
/// Debian's own Python (another `python3` on PATH would not see it).
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

fn ensure_smtp_server() -> Result {
    let present = Command::new(SYSTEM_PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut missing = Vec::new();
    if !present {
        missing.push("python3-aiosmtpd");
    }
    // openssl makes the certificates of the tests' TLS mail servers.
    if !Path::new("/usr/bin/openssl").exists() {
        missing.push("openssl");
    }
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

fn ensure_chromium() -> Result {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    // Debian's Chromium: test tools cannot download their own browser here.
    apt_install(&["chromium", "chromium-driver"])
}
