//! Where the first load's bytes are: the wasm rustc writes (before
//! wasm-bindgen and wasm-opt strip its names), its functions' code summed
//! by the crate their names start with, and its data. wasm-opt shrinks
//! every crate's code, so the shares are what to judge a change by; the
//! first-load row has the bytes actually sent.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

use crate::Result;

/// The partner's app's main module as wasm-split cuts it from what rustc
/// writes (names kept): what its first load carries; each other page's
/// code is in a module of its own (xtask/src/split.rs).
pub const RUSTC_WASM: &str = "target/split/cut/csp-costs.wasm";
/// The same for the customer's own entry (`/my`).
pub const RUSTC_OWN_WASM: &str = "target/wasm32-unknown-unknown/release/own.wasm";
/// Each entry's wasm as rustc writes it, with what to call it.
pub const ENTRIES: [(&str, &str); 2] = [
    ("The partner's app", RUSTC_WASM),
    ("The customer's own view (/my)", RUSTC_OWN_WASM),
];

/// The first load's budget, gzip.
pub const BUDGET_GZIP: u64 = 300 * 1024;
/// The customer's own view (`/my`), a page of its own (issue 23).
pub const OWN_BUDGET_GZIP: u64 = 150 * 1024;

/// The wasm's code by crate and its largest functions.
pub struct Breakdown {
    pub code: u64,
    pub data: u64,
    /// Largest first.
    pub crates: Vec<(String, u64)>,
    /// Largest first, at most [`TOP_FUNCTIONS`].
    pub functions: Vec<(String, u64)>,
}

const TOP_FUNCTIONS: usize = 15;

/// The crate a demangled function name belongs to: `serde_json` for
/// `serde_json::de::…` and for `<serde_json::Value as …>::fmt`; the
/// trait's for a generic `<F as tachys::…::ReactiveFunction>::invoke`.
fn crate_of(name: &str) -> String {
    let name = name.trim_start_matches(['<', '&', '*', '(', '[']);
    let name = match name.split_once(" as ") {
        Some((self_type, trait_path)) if !self_type.contains("::") => trait_path,
        _ => name,
    };
    let name = name
        .trim_start_matches("mut ")
        .trim_start_matches("const ")
        .trim_start_matches("dyn ");
    match name.split_once("::") {
        Some((first, _)) if first.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            first.to_string()
        }
        _ => "(no crate path: runtime, shims)".to_string(),
    }
}

pub fn breakdown(wasm: &Path) -> Result<Breakdown> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let bad = |e: wasmparser::BinaryReaderError| format!("{}: {e}", wasm.display());
    let mut imported = 0u32;
    let mut bodies: Vec<u64> = Vec::new();
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    let mut data = 0u64;
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.map_err(bad)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(
                        import.map_err(bad)?.ty,
                        TypeRef::Func(_) | TypeRef::FuncExact(_)
                    ) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body.range().len() as u64),
            Payload::DataSection(reader) => {
                for segment in reader {
                    data += segment.map_err(bad)?.data.len() as u64;
                }
            }
            Payload::CustomSection(section) => {
                if let KnownCustom::Name(reader) = section.as_known() {
                    for name in reader {
                        if let Name::Function(map) = name.map_err(bad)? {
                            for naming in map {
                                let naming = naming.map_err(bad)?;
                                let readable =
                                    format!("{:#}", rustc_demangle::demangle(naming.name));
                                names.insert(naming.index, readable);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if names.is_empty() {
        return Err(format!(
            "{} has no function names to attribute its code by",
            wasm.display()
        ));
    }
    let mut crates: BTreeMap<String, u64> = BTreeMap::new();
    let mut functions = Vec::with_capacity(bodies.len());
    for (i, size) in bodies.iter().enumerate() {
        let name = names
            .get(&(imported + i as u32))
            .cloned()
            .unwrap_or_else(|| format!("(function {})", imported + i as u32));
        *crates.entry(crate_of(&name)).or_default() += size;
        functions.push((name, *size));
    }
    let mut crates: Vec<(String, u64)> = crates.into_iter().collect();
    crates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    functions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    functions.truncate(TOP_FUNCTIONS);
    Ok(Breakdown {
        code: bodies.iter().sum(),
        data,
        crates,
        functions,
    })
}

/// The breakdown as Markdown: the crates down to 1 % of the code, the rest
/// summed, then the largest functions.
pub fn markdown(b: &Breakdown) -> String {
    let kb = |n: u64| format!("{:.1} KB", n as f64 / 1024.0);
    let share = |n: u64| format!("{:.1} %", n as f64 * 100.0 / b.code.max(1) as f64);
    let mut out = format!(
        "Code {} and data {} in the wasm rustc writes, the first load's module of it where the app is split (names kept; wasm-opt then shrinks it). By crate:\n\n| crate | code | share |\n|---|---|---|\n",
        kb(b.code),
        kb(b.data)
    );
    let (mut rest, mut rest_crates) = (0, 0);
    for (name, size) in &b.crates {
        if *size * 100 >= b.code {
            let _ = writeln!(out, "| `{name}` | {} | {} |", kb(*size), share(*size));
        } else {
            rest += size;
            rest_crates += 1;
        }
    }
    if rest_crates > 0 {
        let _ = writeln!(
            out,
            "| {rest_crates} crates under 1 % each | {} | {} |",
            kb(rest),
            share(rest)
        );
    }
    out.push_str("\nLargest functions:\n\n| function | code |\n|---|---|\n");
    for (name, size) in &b.functions {
        // Long generic names are cut: the table stays readable.
        let shown: String = name.chars().take(110).collect();
        let cut = if shown.len() < name.len() { "…" } else { "" };
        let _ = writeln!(
            out,
            "| `{}{cut}` | {} |",
            shown.replace('|', "\\|"),
            kb(*size)
        );
    }
    out
}

/// The sentence `cargo xtask build` ends each entry's size with.
pub fn against_budget(gzip: u64, budget: u64) -> String {
    let kb = |n: u64| n as f64 / 1024.0;
    if gzip <= budget {
        format!(
            "xtask: first load {:.1} KB gzip, within the {:.0} KB budget",
            kb(gzip),
            kb(budget)
        )
    } else {
        format!(
            "xtask: first load {:.1} KB gzip, {:.1} KB over the {:.0} KB budget ({:.2}×)",
            kb(gzip),
            kb(gzip - budget),
            kb(budget),
            gzip as f64 / budget as f64
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_belongs_to_the_crate_its_path_starts_with() {
        assert_eq!(
            crate_of("serde_json::de::Deserializer<R>::parse"),
            "serde_json"
        );
        assert_eq!(
            crate_of("<model::cube::Cube as serde::de::Deserialize>::deserialize"),
            "model"
        );
        assert_eq!(crate_of("<&T as core::fmt::Debug>::fmt"), "core");
        assert_eq!(
            crate_of("<F as tachys::reactive_graph::ReactiveFunction>::invoke"),
            "tachys"
        );
        assert_eq!(crate_of("<&mut alloc::vec::Vec<u8> as x::Y>::f"), "alloc");
        assert_eq!(crate_of("memcpy"), "(no crate path: runtime, shims)");
    }

    #[test]
    fn the_budget_sentence_says_how_far_over() {
        assert_eq!(
            against_budget(450 * 1024, BUDGET_GZIP),
            "xtask: first load 450.0 KB gzip, 150.0 KB over the 300 KB budget (1.50×)"
        );
        assert_eq!(
            against_budget(200 * 1024, BUDGET_GZIP),
            "xtask: first load 200.0 KB gzip, within the 300 KB budget"
        );
    }
}
