//! The proxy binary as a process of the tests: its environment, started
//! on a free port, stopped when dropped.

use std::ffi::OsString;
use std::path::Path;

use super::{Upstream, test_database};

/// The proxy binary, stopped when dropped.
pub struct Proxy {
    child: std::process::Child,
    pub base: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The proxy binary `bin` (`env!("CARGO_BIN_EXE_proxy")`, which only
/// integration tests know) serving from `data` with `up` as every upstream,
/// under an open-file limit of `files` when given.
pub async fn start_proxy(bin: &str, up: &Upstream, data: &Path, files: Option<u32>) -> Proxy {
    start_proxy_with(bin, up, data, files, &[]).await
}

/// The environment of a proxy process of the tests: listening on `port`,
/// its store in `data`, `up` as every upstream, its partner configured.
pub fn proxy_env(up: &Upstream, data: &Path, port: u16) -> Vec<(&'static str, OsString)> {
    let database = test_database(data).map_or(Vec::new(), |(url, schema)| {
        vec![
            ("PROXY_DATABASE_URL", url.into()),
            ("PROXY_DATABASE_SCHEMA", schema.into()),
        ]
    });
    database
        .into_iter()
        .chain([
            ("PROXY_PORT", port.to_string().into()),
            ("PROXY_DATA_DIR", data.as_os_str().to_owned()),
            ("PROXY_DIST", data.join("dist").into_os_string()),
            ("PROXY_UPSTREAM_URL", up.url.clone().into()),
            ("PROXY_LOGIN_URL", up.url.clone().into()),
            ("PROXY_GRAPH_URL", up.url.clone().into()),
            ("PROXY_PARTNER_TENANT", up.credentials.tenant.clone().into()),
            ("PROXY_APP_ID", up.credentials.app_id.clone().into()),
            ("PROXY_APP_SECRET", up.credentials.secret.expose().into()),
        ])
        .collect()
}

/// [`start_proxy`] with more of the proxy's environment (`PROXY_SMTP_HOST`…).
pub async fn start_proxy_with(
    bin: &str,
    up: &Upstream,
    data: &Path,
    files: Option<u32>,
    env: &[(&str, String)],
) -> Proxy {
    let port = free_port();
    let limit = files.map_or(String::new(), |n| format!("ulimit -n {n} && "));
    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(r#"{limit}exec "$0""#))
        .arg(bin)
        .envs(proxy_env(up, data, port))
        .env("PROXY_SYNC_MINUTES", "0")
        .env("PROXY_HEADER_TIMEOUT_SECONDS", "10")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let proxy = Proxy {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(res) = reqwest::get(format!("{}/api/health", proxy.base)).await
            && res.status() == 200
        {
            return proxy;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
