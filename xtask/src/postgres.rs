//! A PostgreSQL server of the run's own, for the tests of the PostgreSQL
//! store and the try-out with replicas: Debian's server (installed when
//! missing), a cluster made by `initdb` in a temporary directory, listening
//! on loopback at a free port, run by an unprivileged user (PostgreSQL
//! refuses to run as root; as root, the `postgres` user Debian's package
//! makes), stopped and removed when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::Result;
use crate::process::{output, run};

/// The database, its owner and the password the store connects with.
const DATABASE: &str = "csp_costs";
const USER: &str = "csp_costs";

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Who runs the server: `None` for the current user.
    runner: Option<String>,
    port: u16,
    password: String,
}

impl Postgres {
    /// Starts a fresh server; `label` names its directory (for a person
    /// who looks while it runs).
    pub fn start(label: &str) -> Result<Postgres> {
        let bin = match server_bin() {
            Some(bin) => bin,
            None => {
                crate::tools::apt_install(&["postgresql"])?;
                server_bin().ok_or("PostgreSQL was installed but no initdb was found")?
            }
        };
        let root = output(Command::new("id").arg("-u")).as_deref() == Some("0");
        let runner = root.then(|| "postgres".to_string());
        let dir = std::env::temp_dir().join(format!(
            "csp-costs-{label}-pg-{}-{:08x}",
            std::process::id(),
            random_u64() as u32
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let password = format!("{:016x}{:016x}", random_u64(), random_u64());
        let mut pg = Postgres {
            dir,
            bin,
            runner,
            port: 0,
            password,
        };
        if let Some(user) = &pg.runner {
            run(Command::new("chown").args([user.as_str(), &pg.dir.display().to_string()]))?;
        }
        // The server's socket is in this directory and trusts whoever
        // reaches it: only the server's user may.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&pg.dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("{}: {e}", pg.dir.display()))?;
        }
        pg.private_write("password", &pg.password.clone())?;
        let data = pg.dir.join("data");
        pg.as_runner("initdb")
            .args(["--no-sync", "--encoding=UTF8", "--locale=C.UTF-8"])
            .args(["--username", USER, "--auth-local=trust"])
            .args(["--auth-host=scram-sha-256", "--pwfile"])
            .arg(pg.dir.join("password"))
            .arg("-D")
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("initdb: {e}"))?
            .success()
            .then_some(())
            .ok_or("initdb failed")?;
        // A port another process takes between here and the start is tried
        // again with another.
        let mut last = String::new();
        for _ in 0..5 {
            pg.port = free_port()?;
            let started = pg
                .as_runner("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-l"])
                .arg(pg.dir.join("server.log"))
                .args(["-w", "-t", "30", "-o"])
                .arg(format!(
                    "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
                    pg.port,
                    pg.dir.display()
                ))
                .arg("start")
                .stdout(Stdio::null())
                .status()
                .map_err(|e| format!("pg_ctl: {e}"))?;
            if started.success() {
                run(pg.as_runner("createdb").args(["-h"]).arg(&pg.dir).args([
                    "-p",
                    &pg.port.to_string(),
                    "-U",
                    USER,
                    DATABASE,
                ]))?;
                return Ok(pg);
            }
            last = std::fs::read_to_string(pg.dir.join("server.log")).unwrap_or_default();
        }
        Err(format!("PostgreSQL did not start:\n{last}"))
    }

    /// The store's URL: the password in it, so never printed.
    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{DATABASE}",
            self.password, self.port
        )
    }

    /// Where the server listens, without the password: what may be shown.
    pub fn shown(&self) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    fn as_runner(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.runner {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"])
                    .arg(path)
                    .current_dir(&self.dir);
                cmd
            }
            None => {
                let mut cmd = Command::new(path);
                cmd.current_dir(&self.dir);
                cmd
            }
        }
    }

    /// A file only the server's user reads.
    fn private_write(&self, name: &str, text: &str) -> Result {
        let path = self.dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| e.to_string())?;
        }
        if let Some(user) = &self.runner {
            run(Command::new("chown").args([user.as_str(), &path.display().to_string()]))?;
        }
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self
                .as_runner("pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed server's programs (Debian keeps each major
/// version in its own directory).
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Randomness for the password and the directory's name, from the kernel.
fn random_u64() -> u64 {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // Without the kernel's randomness: the time, for a throwaway
        // loopback server's name and password.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        return now.as_nanos() as u64 ^ u64::from(std::process::id());
    }
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psql(pg: &Postgres, password: &str) -> Option<String> {
        output(
            Command::new(pg.bin.join("psql"))
                .args(["-h", "127.0.0.1", "-p", &pg.port.to_string(), "-U", USER])
                .args([
                    "-d",
                    DATABASE,
                    "-tAc",
                    "SELECT current_user || ' ' || 6 * 7",
                ])
                .env("PGPASSWORD", password)
                .env("PGCONNECT_TIMEOUT", "5"),
        )
    }

    #[test]
    fn a_server_of_its_own_answers_with_its_password_only_and_goes_away() {
        let pg = Postgres::start("xtask-test").expect("PostgreSQL starts");
        assert!(pg.url().contains(&pg.password));
        assert!(!pg.shown().contains(&pg.password));
        assert_eq!(
            psql(&pg, &pg.password).as_deref(),
            Some("csp_costs 42"),
            "the store's user signs in over TCP with the password"
        );
        assert_eq!(psql(&pg, "wrong"), None, "loopback is not trusted");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&pg.dir).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o700,
                "the socket's directory is the server's alone"
            );
        }
        let (dir, port) = (pg.dir.clone(), pg.port);
        drop(pg);
        assert!(!dir.exists(), "{} is removed", dir.display());
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
