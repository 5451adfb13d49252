//! The SPA's release build, its precompressed files, and its transfer size.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::size::{BUDGET_GZIP, OWN_BUDGET_GZIP};
use crate::tools::command;
use crate::{Result, root};

/// Builds `dist/` with trunk in release, offline, writes a `.gz` and a `.br`
/// beside each script, wasm and stylesheet (the proxy sends them to browsers
/// that accept them; most static hosts do too), and prints what a first visit
/// transfers.
pub fn build() -> Result<PathBuf> {
    build_measured().map(|(dist, _)| dist)
}

/// [`build`], with what a first visit to each entry transfers.
pub fn build_measured() -> Result<(PathBuf, FirstLoads)> {
    let root = root();
    crate::process::run(
        command("trunk")
            .args(["build", "--release", "--offline"])
            .current_dir(&root),
    )?;
    let dist = root.join("dist");
    crate::split::split_partner_app(&dist)?;
    build_own(&root, &dist)?;
    write_embed_js(&dist)?;
    let files = precompress(&dist)?;
    let loads = FirstLoads {
        partner: first_load(&dist, "index.html", &files)?,
        own: first_load(&dist, OWN_PAGE, &files)?,
    };
    for (what, page, size, budget) in [
        (
            "the partner's app",
            "dist/index.html",
            &loads.partner,
            BUDGET_GZIP,
        ),
        (
            "the customer's own view",
            "dist/my/index.html",
            &loads.own,
            OWN_BUDGET_GZIP,
        ),
    ] {
        println!(
            "xtask: {what} ({page}): {:.1} KB, {:.1} KB gzip, {:.1} KB brotli (html, js, wasm, css)",
            size.raw as f64 / 1024.0,
            size.gzip as f64 / 1024.0,
            size.brotli as f64 / 1024.0,
        );
        println!("{}", crate::size::against_budget(size.gzip, budget));
    }
    Ok((dist, loads))
}

/// Where the customer's own entry's page goes in `dist/`.
const OWN_PAGE: &str = "my/index.html";

/// The customer's own entry (`my.html`, the `own` binary): built on its own,
/// its page put at `dist/my/index.html` and its files beside the partner's
/// app's. Its base is then `../`, the app's folder wherever that is hosted,
/// against which its `./` file names resolve (trunk's `--public-url ../`
/// would write `../` into both, one folder too far up).
fn build_own(root: &Path, dist: &Path) -> Result {
    let staging = root.join("target/own-dist");
    crate::process::run(
        command("trunk")
            .args(["build", "my.html", "--release", "--offline", "--dist"])
            .arg(&staging)
            .current_dir(root),
    )?;
    std::fs::create_dir_all(dist.join("my")).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(&staging).map_err(|e| format!("{}: {e}", staging.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().unwrap_or_default();
        if name == "index.html" {
            let html = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let base = r#"<base href="./""#;
            if html.matches(base).count() != 1 {
                return Err(format!("{}: no single {base} to move up", path.display()));
            }
            let html = html.replacen(base, r#"<base href="../""#, 1);
            std::fs::write(dist.join(OWN_PAGE), html).map_err(|e| e.to_string())?;
        } else {
            let to = dist.join(name);
            std::fs::copy(&path, &to).map_err(|e| format!("{}: {e}", to.display()))?;
        }
    }
    Ok(())
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
         \x20 1. Copy its files and folders to the folder the host serves.\n\
         \x20 2. In config.json beside index.html, set the proxy's address:\n\
         \x20    {{\"apiBase\": \"https://costs-api.example.com/\"}}\n\
         \x20 3. Start the proxy with --cors-origins set to the static site's origin\n\
         \x20    (same site, e.g. a sibling subdomain, so the session cookie goes along).\n\
         \x20 Deep links: the host must answer unknown paths with 404.html (GitHub Pages,\n\
         \x20 Netlify, Cloudflare Pages and S3 websites do); it finds the app's folder and\n\
         \x20 reopens the link there. The customer's own view is my/index.html: the host\n\
         \x20 must answer /my with a redirect to /my/ (nginx, Apache, GitHub Pages and S3\n\
         \x20 websites do).",
        dist = dist.display()
    )
}

/// Bytes of the files a browser fetches on first load: as built, and as
/// sent with gzip and with brotli.
#[derive(Default, Clone, Copy)]
pub struct Transfer {
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

impl std::ops::AddAssign for Transfer {
    fn add_assign(&mut self, other: Self) {
        self.raw += other.raw;
        self.gzip += other.gzip;
        self.brotli += other.brotli;
    }
}

/// What a first visit to each entry transfers.
pub struct FirstLoads {
    pub partner: Transfer,
    pub own: Transfer,
}

/// Each file of `dist/` a page may fetch, by name, with its sizes.
type Files = std::collections::BTreeMap<String, Transfer>;

/// What a first visit to `page` fetches: the page, the files it names (its
/// script, wasm and stylesheet), the files its scripts import as they start
/// (the split app's loader; not the pages' modules, which the loader
/// fetches when a page is opened) and `config.json`.
fn first_load(dist: &Path, page: &str, files: &Files) -> Result<Transfer> {
    let html = std::fs::read(dist.join(page)).map_err(|e| format!("dist/{page}: {e}"))?;
    let mut total = Transfer {
        raw: html.len() as u64,
        gzip: gzip(&html)?.len() as u64,
        brotli: brotli(&html)?.len() as u64,
    };
    let mut named = names_in(&String::from_utf8_lossy(&html), "", files);
    for script in named.clone().iter().filter(|n| n.ends_with(".js")) {
        let text = std::fs::read_to_string(dist.join(script)).map_err(|e| e.to_string())?;
        let folder = script.rsplit_once('/').map_or("", |(folder, _)| folder);
        named.extend(
            names_in(&text, folder, files)
                .into_iter()
                .filter(|n| n.ends_with(".js")),
        );
    }
    named.push("config.json".into());
    named.sort_unstable();
    named.dedup();
    for name in named {
        if let Some(size) = files.get(&name) {
            total += *size;
        }
    }
    Ok(total)
}

/// The files of `dist/` a text names by a quoted relative address, seen
/// from `folder` (`""` for `dist/` itself).
fn names_in(text: &str, folder: &str, files: &Files) -> Vec<String> {
    text.split(['"', '\''])
        .map(|s| s.trim_start_matches("../").trim_start_matches("./"))
        .map(|s| match folder {
            "" => s.to_string(),
            folder => format!("{folder}/{s}"),
        })
        .filter(|s| files.contains_key(s))
        .collect()
}

/// Compresses each script, wasm, stylesheet and JSON file of `dist/` both
/// ways, writes the compressed copies (but of the JSON: the proxy answers
/// `config.json` itself), and returns their sizes.
fn precompress(dist: &Path) -> Result<Files> {
    let mut files = Files::new();
    precompress_folder(dist, "", &mut files)?;
    Ok(files)
}

/// [`precompress`] for one folder of `dist/` (`prefix` its path there) and
/// its folders.
fn precompress_folder(folder: &Path, prefix: &str, files: &mut Files) -> Result {
    for entry in std::fs::read_dir(folder).map_err(|e| format!("{}: {e}", folder.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .map(|n| format!("{prefix}{}", n.to_string_lossy()))
            .unwrap_or_default();
        if path.is_dir() {
            precompress_folder(&path, &format!("{name}/"), files)?;
            continue;
        }
        let extension = path.extension().and_then(|e| e.to_str());
        let Some(extension @ ("js" | "wasm" | "css" | "json")) = extension else {
            continue;
        };
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        let gz = gzip(&bytes)?;
        let br = brotli(&bytes)?;
        if extension != "json" {
            let name = path.to_string_lossy();
            std::fs::write(format!("{name}.gz"), &gz).map_err(|e| e.to_string())?;
            std::fs::write(format!("{name}.br"), &br).map_err(|e| e.to_string())?;
        }
        let size = Transfer {
            raw: bytes.len() as u64,
            gzip: gz.len() as u64,
            brotli: br.len() as u64,
        };
        files.insert(name, size);
    }
    Ok(())
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
