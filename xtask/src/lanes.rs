//! The native test binaries, run two at a time. Each binary keeps about one
//! core busy (its tests mostly wait on one sync at a time), so on these
//! two-core machines running them one after another left a core idle.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use crate::Result;

/// A test executable cargo built, and the package directory cargo would run
/// it from.
#[derive(Clone)]
pub struct TestBinary {
    pub name: String,
    pub path: PathBuf,
    pub package_dir: PathBuf,
    /// Environment it runs with, beside what it inherits.
    pub env: Vec<(&'static str, String)>,
}

/// Run after the others, alone: `memory` reads 400,000 lines twice in one
/// request of a debug build, which beside another binary once came back
/// without its figures (the proxy's request deadline is 60 s).
const ALONE: &[&str] = &["memory"];

/// Started first so the lanes end together: the longest binaries as last
/// measured (a name missing here only starts later).
const LONGEST_FIRST: &[&str] = &[
    "focus",
    "graph_export",
    "alerts",
    "load",
    "api",
    "web",
    "sync",
    "crash",
];

/// The test executables of `cargo test --no-run --message-format=json`'s
/// standard output.
pub fn from_cargo_messages(json_lines: &str) -> Result<Vec<TestBinary>> {
    let mut found = Vec::new();
    for line in json_lines.lines().filter(|l| l.starts_with('{')) {
        let message: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("cargo's message {line}: {e}"))?;
        let is_test = message["profile"]["test"].as_bool() == Some(true);
        let (Some(path), Some(manifest)) = (
            message["executable"].as_str(),
            message["manifest_path"].as_str(),
        ) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" || !is_test {
            continue;
        }
        let package_dir = PathBuf::from(manifest)
            .parent()
            .map(PathBuf::from)
            .ok_or_else(|| format!("no directory above {manifest}"))?;
        found.push(TestBinary {
            name: message["target"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_string(),
            path: PathBuf::from(path),
            package_dir,
            env: Vec::new(),
        });
    }
    found.sort_by_key(|b| {
        LONGEST_FIRST
            .iter()
            .position(|n| *n == b.name)
            .unwrap_or(LONGEST_FIRST.len())
    });
    Ok(found)
}

/// Runs every binary, `lanes` at a time, then those that run alone,
/// printing each one's whole output when it ends (never interleaved).
/// Returns whether all passed and every line they printed.
pub fn run(binaries: Vec<TestBinary>, lanes: usize) -> (bool, Vec<String>) {
    let (alone, shared): (Vec<_>, Vec<_>) = binaries
        .into_iter()
        .partition(|b| ALONE.contains(&b.name.as_str()));
    let (mut ok, mut lines) = run_in_lanes(shared, lanes);
    for binary in alone {
        let (passed, more) = run_one(&binary);
        more.iter().for_each(|line| println!("{line}"));
        ok &= passed;
        lines.extend(more);
    }
    (ok, lines)
}

fn run_in_lanes(binaries: Vec<TestBinary>, lanes: usize) -> (bool, Vec<String>) {
    let queue = Mutex::new(VecDeque::from(binaries));
    let done = Mutex::new((true, Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..lanes.max(1) {
            scope.spawn(|| {
                loop {
                    let Some(binary) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let (ok, lines) = run_one(&binary);
                    let mut done = done.lock().unwrap();
                    for line in &lines {
                        println!("{line}");
                    }
                    done.0 &= ok;
                    done.1.extend(lines);
                }
            });
        }
    });
    done.into_inner().unwrap()
}

fn run_one(binary: &TestBinary) -> (bool, Vec<String>) {
    let started = Instant::now();
    let mut lines = vec![format!(
        "     Running {} ({})",
        binary.name,
        binary.path.display()
    )];
    let output = Command::new(&binary.path)
        .current_dir(&binary.package_dir)
        // As `cargo test` sets it for the tests it runs.
        .env("CARGO_MANIFEST_DIR", &binary.package_dir)
        .envs(binary.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(out) => {
            for stream in [&out.stdout, &out.stderr] {
                lines.extend(String::from_utf8_lossy(stream).lines().map(String::from));
            }
            lines.push(format!(
                "     ({} took {:.1} s)",
                binary.name,
                started.elapsed().as_secs_f64()
            ));
            (out.status.success(), lines)
        }
        Err(e) => {
            lines.push(format!("could not start {}: {e}", binary.path.display()));
            (false, lines)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::from_cargo_messages;

    #[test]
    fn reads_test_executables_from_cargos_messages_longest_first() {
        let messages = r#"{"reason":"compiler-artifact","manifest_path":"/w/crates/proxy/Cargo.toml","target":{"name":"api"},"profile":{"test":true},"executable":"/w/target/debug/deps/api-1"}
{"reason":"compiler-artifact","manifest_path":"/w/crates/proxy/Cargo.toml","target":{"name":"proxy"},"profile":{"test":false},"executable":"/w/target/debug/proxy"}
{"reason":"compiler-artifact","manifest_path":"/w/crates/model/Cargo.toml","target":{"name":"model"},"profile":{"test":false},"executable":null}
{"reason":"build-finished","success":true}
{"reason":"compiler-artifact","manifest_path":"/w/crates/proxy/Cargo.toml","target":{"name":"focus"},"profile":{"test":true},"executable":"/w/target/debug/deps/focus-2"}"#;
        let found = from_cargo_messages(messages).unwrap();
        let names: Vec<_> = found.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["focus", "api"]);
        assert_eq!(
            found[1].package_dir,
            std::path::Path::new("/w/crates/proxy")
        );
    }
}
