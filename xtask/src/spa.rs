//! The SPA's release build and its transfer size.

use std::io::Write;
use std::path::PathBuf;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::tools::command;
use crate::{Result, root};

/// Builds `dist/` with trunk in release, offline, and prints what a first
/// visit transfers (gzip of html, js, wasm and css).
pub fn build() -> Result<PathBuf> {
    let root = root();
    crate::process::run(
        command("trunk")
            .args(["build", "--release", "--offline"])
            .current_dir(&root),
    )?;
    let dist = root.join("dist");
    let (raw, gz) = transfer_size(&dist)?;
    println!(
        "xtask: SPA built in dist/: {:.1} KB, {:.1} KB gzip (html, js, wasm, css)",
        raw as f64 / 1024.0,
        gz as f64 / 1024.0
    );
    Ok(dist)
}

/// Raw and gzip bytes of the files a browser fetches on first load.
pub fn transfer_size(dist: &std::path::Path) -> Result<(u64, u64)> {
    let mut raw = 0;
    let mut gz = 0;
    for entry in std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let first_load = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("html" | "js" | "wasm" | "css")
        );
        if !first_load || path.file_name().is_some_and(|n| n == "404.html") {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&bytes).map_err(|e| e.to_string())?;
        raw += bytes.len() as u64;
        gz += encoder.finish().map_err(|e| e.to_string())?.len() as u64;
    }
    Ok((raw, gz))
}
