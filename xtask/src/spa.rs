//! The SPA's release build, its precompressed files, and its transfer size.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::tools::command;
use crate::{Result, root};

/// Builds `dist/` with trunk in release, offline, writes a `.gz` and a `.br`
/// beside each script, wasm and stylesheet (the proxy sends them to browsers
/// that accept them; most static hosts do too), and prints what a first visit
/// transfers.
pub fn build() -> Result<PathBuf> {
    build_measured().map(|(dist, _)| dist)
}

/// [`build`], with what a first visit transfers (measured while compressing).
pub fn build_measured() -> Result<(PathBuf, Transfer)> {
    let root = root();
    crate::process::run(
        command("trunk")
            .args(["build", "--release", "--offline"])
            .current_dir(&root),
    )?;
    let dist = root.join("dist");
    write_embed_js(&dist)?;
    let size = precompress(&dist)?;
    println!(
        "xtask: SPA built in dist/: {:.1} KB, {:.1} KB gzip, {:.1} KB brotli (html, js, wasm, css)",
        size.raw as f64 / 1024.0,
        size.gzip as f64 / 1024.0,
        size.brotli as f64 / 1024.0,
    );
    println!("{}", crate::size::against_budget(size.gzip));
    Ok((dist, size))
}

/// `embed.js`: the stable entry a host page imports to mount the app into
/// one of its elements (trunk's file names carry content hashes).
fn write_embed_js(dist: &Path) -> Result {
    let html = std::fs::read_to_string(dist.join("index.html")).map_err(|e| e.to_string())?;
    let find = |prefix: &str, suffix: &str| -> Result<String> {
        html.split(['"', '\''])
            .find(|s| s.starts_with(prefix) && s.ends_with(suffix))
            .map(|s| s.trim_start_matches("./").to_string())
            .ok_or_else(|| format!("dist/index.html names no {prefix}*{suffix}"))
    };
    let js = find("./csp-costs-", ".js")?;
    let wasm = find("./csp-costs-", "_bg.wasm")?;
    let css = find("./main-", ".css")?;
    let template = std::fs::read_to_string(root().join("public/embed.js"))
        .map_err(|e| format!("public/embed.js: {e}"))?;
    let script = template
        .replace("./APP.js", &format!("./{js}"))
        .replace("APP_bg.wasm", &wasm)
        .replace("APP.css", &css);
    std::fs::write(dist.join("embed.js"), script).map_err(|e| e.to_string())
}

/// What to do with `dist/` to host it as static files.
pub fn hosting_notes(dist: &Path) -> String {
    format!(
        "xtask: {dist} is ready for any static host, under any path (e.g. /tools/costs/):\n\
         \x20 1. Copy its files to the folder the host serves.\n\
         \x20 2. In config.json beside index.html, set the proxy's address:\n\
         \x20    {{\"apiBase\": \"https://costs-api.example.com/\"}}\n\
         \x20 3. Start the proxy with --cors-origins set to the static site's origin\n\
         \x20    (same site, e.g. a sibling subdomain, so the session cookie goes along).\n\
         \x20 Deep links: the host must answer unknown paths with 404.html (GitHub Pages,\n\
         \x20 Netlify, Cloudflare Pages and S3 websites do); it finds the app's folder and\n\
         \x20 reopens the link there.",
        dist = dist.display()
    )
}

/// Bytes of the files a browser fetches on first load: as built, and as
/// sent with gzip and with brotli.
#[derive(Default)]
pub struct Transfer {
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

fn first_load_files(dist: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let first_load = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("html" | "js" | "wasm" | "css" | "json")
        );
        // 404.html (deep links on static hosts) and embed.js (host pages'
        // entry) are not part of the app's own first load.
        let other = path
            .file_name()
            .is_some_and(|n| n == "404.html" || n == "embed.js");
        if first_load && !other {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Compresses each first-load file both ways, writes the compressed copies
/// of all but the HTML (the proxy reads index.html itself), and sums them.
fn precompress(dist: &Path) -> Result<Transfer> {
    let mut size = Transfer::default();
    for path in first_load_files(dist)? {
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        let gz = gzip(&bytes)?;
        let br = brotli(&bytes)?;
        size.raw += bytes.len() as u64;
        size.gzip += gz.len() as u64;
        size.brotli += br.len() as u64;
        if path.extension().is_some_and(|e| e != "html") {
            let name = path.to_string_lossy();
            std::fs::write(format!("{name}.gz"), &gz).map_err(|e| e.to_string())?;
            std::fs::write(format!("{name}.br"), &br).map_err(|e| e.to_string())?;
        }
    }
    Ok(size)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out)
}
