//! Who holds the data directory: a running proxy holds it shared (replicas
//! of one store may run side by side); an operator task that rewrites what
//! a running proxy reads (the sealing key's rotation) needs it alone, and
//! is refused while a proxy serves. The operating system's file lock goes
//! with the process, so a proxy that died holds nothing.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

const LOCK_FILE: &str = "proxy.lock";

/// A hold on the data directory, released when dropped.
#[derive(Debug)]
pub struct Hold(#[allow(dead_code)] File);

fn lock_file(data_dir: &Path) -> std::io::Result<File> {
    super::create_private_dir(data_dir)?;
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join(LOCK_FILE))
}

/// The hold of a serving proxy; refused only while a task holds it alone.
pub fn serving(data_dir: &Path) -> Result<Hold, String> {
    let file = lock_file(data_dir).map_err(|e| e.to_string())?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Hold(file)),
        Err(TryLockError::WouldBlock) => Err(format!(
            "an operator task (the sealing key's rotation) holds {}: start the proxy when it is done",
            data_dir.display()
        )),
        Err(TryLockError::Error(e)) => Err(e.to_string()),
    }
}

/// The hold of a task that must have the store to itself.
pub fn alone(data_dir: &Path) -> Result<Hold, String> {
    let file = lock_file(data_dir).map_err(|e| e.to_string())?;
    match file.try_lock() {
        Ok(()) => Ok(Hold(file)),
        Err(TryLockError::WouldBlock) => Err(format!(
            "a proxy is serving from {}: stop it (every replica on this store) first",
            data_dir.display()
        )),
        Err(TryLockError::Error(e)) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_alone_waits_for_serving_proxies_and_they_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = serving(dir.path()).unwrap();
        let second = serving(dir.path()).unwrap();
        assert!(
            alone(dir.path())
                .unwrap_err()
                .contains("a proxy is serving")
        );
        drop(first);
        assert!(alone(dir.path()).is_err(), "one replica still serves");
        drop(second);
        let task = alone(dir.path()).unwrap();
        assert!(serving(dir.path()).unwrap_err().contains("rotation"));
        drop(task);
        serving(dir.path()).unwrap();
    }
}
