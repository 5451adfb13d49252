//! The real parts the alert tests send to, and their common set-up.
// Shared by the alerts and the reports tests; each uses a part.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use model::alerts::rules::{Delivery, MadeRule};
use proxy::AppState;
use proxy::store::PartnerId;
use serde_json::{Value, json};

use crate::common;

/// aiosmtpd writing what it accepts to a folder as JSON.
pub struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    out: PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    pub fn start(dir: &Path) -> SmtpSink {
        SmtpSink::start_with(dir, &[])
    }

    /// With `smtp_sink.py`'s options: `--tls starttls`, `--login`, ….
    pub fn start_with(dir: &Path, options: &[&str]) -> SmtpSink {
        let port = common::free_port();
        let out = dir.join("mail");
        let child = std::process::Command::new("/usr/bin/python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/alerts/smtp_sink.py"
            ))
            .arg(port.to_string())
            .arg(&out)
            .args(options)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("Debian's python3 with aiosmtpd (cargo xtask test installs it)");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the SMTP server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink { child, port, out }
    }

    /// Every message received, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

/// A private CA and a certificate it signed for `localhost` and 127.0.0.1,
/// made by openssl in `dir`: (CA, certificate, key) as PEM files.
pub fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (cargo xtask test installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &["-subj", "/CN=CSP Costs test CA"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign"],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        p("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (p("ca.pem"), p("server.pem"), p("server.key"))
}

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub answered: u16,
}

/// A webhook receiver answering the given statuses in turn, then 200.
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(answers: &[u16]) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers = Arc::new(Mutex::new(answers.iter().copied().collect::<VecDeque<_>>()));
        let app = {
            let got = got.clone();
            axum::Router::new().route(
                "/hook",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                    let (got, answers) = (got.clone(), answers.clone());
                    async move {
                        let answered = answers.lock().unwrap().pop_front().unwrap_or(200);
                        got.lock().unwrap().push(Received {
                            headers,
                            body,
                            answered,
                        });
                        axum::http::StatusCode::from_u16(answered).unwrap()
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, got }
    }

    pub fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

pub fn alert_config(up: &common::Upstream, data: &Path, smtp_port: u16) -> proxy::Config {
    let mut c = common::config(up, data);
    c.smtp_host = Some("127.0.0.1".into());
    c.smtp_port = smtp_port;
    c.smtp_security = "none".into();
    c.smtp_from = "CSP Costs <alerts@fabrikam.example>".into();
    // The address messages link to (the tests serve on ports of their own).
    c.port = 8080;
    // The receivers are on loopback.
    c.alert_local_webhooks = true;
    // A failed attempt is due again at once: the test sends in passes.
    c.alert_retry_seconds = 0;
    // Upstream failures are retried quickly.
    c.upstream_retry_ms = 20;
    c
}

/// Sends what is due until nothing is (failed attempts are due at once).
pub async fn send_all(state: &AppState) -> usize {
    let mut tried = 0;
    for _ in 0..20 {
        let n = proxy::alerts::send_due(state).await.unwrap();
        if n == 0 {
            return tried;
        }
        tried += n;
    }
    panic!("the outbox never emptied")
}

pub async fn add_rule(http: &reqwest::Client, base: &str, rule: Value) -> MadeRule {
    let res = http
        .post(format!("{base}/api/alerts/rules"))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// The key the configured connection signs in with, as the wizard records
/// it, ending at `expires_at`.
pub async fn key_in_use_expires(state: &AppState, expires_at: chrono::DateTime<Utc>) {
    let c = state.connection.as_ref().unwrap();
    state
        .store
        .add_key(
            c.partner,
            &proxy::store::KeyRow {
                app_id: c.credentials.app_id.clone(),
                key_id: "6f1c0e4b-key-in-use".into(),
                display_name: "CSP Costs sync".into(),
                created_at: Utc::now() - chrono::Duration::days(358),
                expires_at,
                revoked_at: None,
            },
            &proxy::crypto::digest(c.credentials.secret.expose()),
        )
        .await
        .unwrap();
}

pub fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().replace("\r\n", "\n")
}

/// A full sync through the API, waited for.
pub async fn sync_now(me: &common::Person) {
    let res = me
        .call(reqwest::Method::POST, "/api/sync", Some(json!({})))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let p: model::api::SyncProgress = me.json(reqwest::Method::GET, "/api/sync", None).await;
        match p.status {
            model::api::SyncStatus::Succeeded => return,
            model::api::SyncStatus::Failed => panic!("the sync failed: {:?}", p.error),
            _ => {}
        }
        assert!(std::time::Instant::now() < deadline, "the sync did not end");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn log_of(me: &common::Person) -> Vec<Delivery> {
    me.json(reqwest::Method::GET, "/api/alerts/deliveries", None)
        .await
}

/// Waits until `done` holds of the log.
pub async fn log_until(me: &common::Person, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = log_of(me).await;
        if done(&log) {
            return log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log never got there: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An emulator, the proxy on a fresh store with an SMTP server and a
/// webhook receiver (answering `answers` first, then 200), served, with a
/// signed-in Global admin.
pub struct Alerting {
    pub up: common::Upstream,
    pub smtp: SmtpSink,
    pub hook: Receiver,
    pub config: proxy::Config,
    pub state: AppState,
    pub http: reqwest::Client,
    pub base: String,
    // Last: the mail server writes into it until it is stopped.
    pub data: tempfile::TempDir,
}

impl Alerting {
    pub async fn start(emulated: emulator::Config, answers: &[u16]) -> Alerting {
        let up = common::upstream_with(emulated).await;
        let data = tempfile::tempdir().unwrap();
        let smtp = SmtpSink::start(data.path());
        let hook = Receiver::start(answers).await;
        let config = alert_config(&up, data.path(), smtp.port);
        let state = AppState::new(&config).await.unwrap();
        let http = common::admin_client(&state).await;
        let base = common::serve(state.clone(), data.path()).await;
        Alerting {
            up,
            smtp,
            hook,
            config,
            state,
            http,
            base,
            data,
        }
    }

    pub fn partner(&self) -> PartnerId {
        self.state.connection.as_ref().unwrap().partner
    }

    pub async fn add_rule(&self, rule: Value) -> MadeRule {
        add_rule(&self.http, &self.base, rule).await
    }

    /// A restart: a new process's state on the same store finds no event
    /// new and has nothing to send.
    pub async fn restart_finds_nothing(&self) {
        let again = AppState::new(&self.config).await.unwrap();
        assert!(
            proxy::alerts::detect(&again, self.partner())
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(send_all(&again).await, 0);
    }
}
