//! The partner's app cut up (issue 23): the first load carries the shell
//! and the Overview; the other pages' code is one more wasm file, fetched
//! when one of them first opens, and Traditional Chinese's words another,
//! fetched by those who read it. trunk 0.21 cannot split (the cut
//! must happen between the link and wasm-bindgen), so after trunk's build
//! this replaces its script and wasm with the split ones:
//!
//! 1. the app again with `--features split` (the pages' views behind
//!    `wasm_split(pages)`, the Chinese words behind `wasm_split(zh_tw)`),
//!    the link keeping its relocations for the cut;
//! 2. `wasm-split-cli` cuts it into the main module, a module for each of
//!    those (and chunks of code two of them share, were there any) and
//!    `__wasm_split.js`, their loader;
//! 3. wasm-bindgen on the main module, keeping the exports the pages link
//!    to; wasm-opt -Oz on every module;
//! 4. the files named by one hash of them all: the main script and wasm
//!    where trunk's were (index.html names them), the rest in
//!    `split-<hash>/`, which the loader resolves against its own address,
//!    so the app still works from any folder of a static host or embedded.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::process::run;
use crate::test::cargo;
use crate::tools::command;
use crate::{Result, root};

/// What wasm-split-cli names the loader and how the main script imports it.
const LOADER: &str = "__wasm_split.js";
/// The wasm features rustc 1.95 emits for wasm32 by default, for wasm-opt.
const FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Replaces trunk's `csp-costs-*.js` and `*_bg.wasm` in `dist/` with the
/// split build, and index.html's names for them.
pub fn split_partner_app(dist: &Path) -> Result {
    let root = root();
    let work = root.join("target/split");
    let (cut, bound) = (work.join("cut"), work.join("bound"));
    for dir in [&cut, &bound] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // Extra flags to `cargo rustc` reach this crate's link only, so the
    // dependencies trunk built are reused.
    run(cargo()
        .args([
            "rustc",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--bin",
            "csp-costs",
            "--features",
            "split",
            "--",
            "-C",
            "link-args=--emit-relocs",
        ])
        .current_dir(&root))?;
    let linked = root.join("target/wasm32-unknown-unknown/release/csp-costs.wasm");
    run(command("wasm-split-cli")
        .args(["--target", "web", "--out-name", "csp-costs"])
        .arg(&linked)
        .arg(&cut))?;
    run(command("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--keep-lld-exports",
            "--no-demangle",
            "--out-name",
            "csp-costs",
            "--out-dir",
        ])
        .arg(&bound)
        .arg(cut.join("csp-costs.wasm")))?;

    // Every module optimised; the pages' modules keep no names (wasm-bindgen
    // already dropped the main module's).
    let main_wasm = bound.join("csp-costs_bg.wasm");
    wasm_opt(&main_wasm)?;
    let mut pages: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(&cut).map_err(|e| format!("{}: {e}", cut.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = file_name(&path);
        if name.ends_with(".wasm") && name != "csp-costs.wasm" {
            wasm_opt(&path)?;
            pages.push(path);
        }
    }
    if pages.is_empty() {
        return Err("wasm-split-cli cut no page out of the app: is `split` on?".into());
    }
    pages.sort();

    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let main_js = String::from_utf8(read(&bound.join("csp-costs.js"))?)
        .map_err(|e| format!("csp-costs.js: {e}"))?;
    let loader =
        String::from_utf8(read(&cut.join(LOADER))?).map_err(|e| format!("{LOADER}: {e}"))?;
    let mut hash = Sha256::new();
    hash.update(read(&main_wasm)?);
    hash.update(&main_js);
    hash.update(&loader);
    for page in &pages {
        hash.update(file_name(page));
        hash.update(read(page)?);
    }
    let hash: String = hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let stem = format!("csp-costs-{hash}");
    let folder = format!("split-{hash}");

    // The main script imports the loader by a fixed name, and the loader
    // the main script: both now named by the hash. Only the `import`
    // statements change: the same text also keys the wasm's imports, which
    // name the module as the wasm does.
    let import = format!("from \"./{LOADER}\"");
    if !main_js.contains(&import) {
        return Err(format!("csp-costs.js has no `{import}`"));
    }
    let main_js = main_js.replace(&import, &format!("from \"./{folder}/{LOADER}\""));
    let back = "from \"./csp-costs.js\"";
    if !loader.contains(back) {
        return Err(format!("{LOADER} has no `{back}`"));
    }
    let loader = loader.replace(back, &format!("from \"../{stem}.js\""));

    let html_path = dist.join("index.html");
    let html = std::fs::read_to_string(&html_path).map_err(|e| format!("dist/index.html: {e}"))?;
    let trunk_stem = html
        .split(['"', '\''])
        .find_map(|s| {
            s.strip_prefix("./")?
                .strip_suffix("_bg.wasm")
                .filter(|s| s.starts_with("csp-costs-"))
        })
        .ok_or("dist/index.html names no ./csp-costs-*_bg.wasm")?
        .to_string();
    for old in [format!("{trunk_stem}.js"), format!("{trunk_stem}_bg.wasm")] {
        std::fs::remove_file(dist.join(&old)).map_err(|e| format!("dist/{old}: {e}"))?;
    }
    for entry in std::fs::read_dir(dist).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() && file_name(&path).starts_with("split-") {
            std::fs::remove_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let write = |p: PathBuf, bytes: &[u8]| {
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))
    };
    write(dist.join(format!("{stem}.js")), main_js.as_bytes())?;
    std::fs::copy(&main_wasm, dist.join(format!("{stem}_bg.wasm"))).map_err(|e| e.to_string())?;
    let pages_dir = dist.join(&folder);
    std::fs::create_dir_all(&pages_dir).map_err(|e| e.to_string())?;
    write(pages_dir.join(LOADER), loader.as_bytes())?;
    for page in &pages {
        std::fs::copy(page, pages_dir.join(file_name(page))).map_err(|e| e.to_string())?;
    }
    write(html_path, html.replace(&trunk_stem, &stem).as_bytes())?;
    println!(
        "xtask: the partner's app split: {stem}_bg.wasm, and {} more in {folder}/",
        pages.len()
    );
    Ok(())
}

/// wasm-opt, quiet unless it fails: it warns about every module's name
/// subsection it does not know, which it then strips.
fn wasm_opt(wasm: &Path) -> Result {
    let out = command("wasm-opt")
        .args(["-Oz", "--strip-debug", "--strip-producers"])
        .args(FEATURES)
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .output()
        .map_err(|e| format!("could not start wasm-opt: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "wasm-opt {}: {}",
            wasm.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
