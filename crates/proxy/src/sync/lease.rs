//! Who runs a partner's sync among the replicas sharing the store: the
//! process that starts a run holds a lease on it (in the run's row) and
//! renews it while it runs. A replica that dies stops renewing; once the
//! lease has run out another replica takes the partner's sync over.

use std::time::Duration;

use chrono::Utc;

/// This process as a holder of runs: its host, process ID and start time.
#[derive(Debug, Clone)]
pub struct Holder {
    pub name: String,
    host: String,
    pid: u32,
}

/// The host's name as the kernel has it, with the process ID namespace
/// (`pid:[4026531836]`) on Linux: process IDs are compared only among
/// processes that see the same ones (two containers of one name, each with
/// its own namespace, never take each other for dead).
fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    match std::fs::read_link("/proc/self/ns/pid") {
        Ok(namespace) => format!("{name}@{}", namespace.display()),
        Err(_) => name,
    }
}

impl Holder {
    pub fn of_this_process() -> Holder {
        let (host, pid) = (host_name(), std::process::id());
        Holder {
            name: format!("{host}/{pid}/{}", Utc::now().timestamp_millis()),
            host,
            pid,
        }
    }

    /// Whether the holder named `other` is known to be gone without
    /// waiting out its lease: an earlier process of this host with this
    /// process's ID (a container restarted), or, on Linux, one whose process
    /// no longer exists (a proxy restarted after a crash). Another host's
    /// holder is never known dead: its lease tells.
    pub fn knows_dead(&self, other: &str) -> bool {
        let mut parts = other.rsplitn(3, '/');
        let (Some(_started), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            return false;
        };
        if host != self.host || other == self.name {
            return false;
        }
        pid == self.pid || (cfg!(target_os = "linux") && !process_exists(pid))
    }
}

fn process_exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// How long a run's lease lasts, and how often its holder renews it.
#[derive(Debug, Clone, Copy)]
pub struct LeaseTiming {
    pub lease: Duration,
}

impl LeaseTiming {
    /// Renewed three times a lease: two renewals may fail (the store busy)
    /// before another replica may take the run over.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }
}

impl Default for LeaseTiming {
    fn default() -> Self {
        LeaseTiming {
            lease: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_hosts_gone_processes_are_known_dead() {
        let me = Holder::of_this_process();
        assert!(!me.knows_dead(&me.name), "itself");
        let host = &me.host;
        // The same process ID with another start time: an earlier life.
        assert!(me.knows_dead(&format!("{host}/{}/1", me.pid)));
        // A process ID no process has (above Linux's pid_max).
        if cfg!(target_os = "linux") {
            assert!(me.knows_dead(&format!("{host}/99999999/1")));
        }
        // A live process of this host (PID 1 always is).
        assert!(!me.knows_dead(&format!("{host}/1/1")) || me.pid == 1);
        assert!(!me.knows_dead("other-host/99999999/1"), "another host");
        // This host's name in another process namespace (a container).
        if let Some((name, _)) = me.host.split_once('@') {
            assert!(!me.knows_dead(&format!("{name}@pid:[1]/99999999/1")));
        }
        assert!(!me.knows_dead("not a holder"));
        assert!(!me.knows_dead(&format!("{host}/x/1")));
    }
}
