//! `cargo xtask serve`: the embedded default on one machine.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::process::{self, wait_for};
use crate::tools::{self, Needs};
use crate::{Result, root, spa};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The proxy's port (the URL to open).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The emulator's port.
    #[arg(long, default_value_t = 8081)]
    pub emulator_port: u16,
    /// Where the proxy keeps its SQLite store.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Customers per emulated partner.
    #[arg(long, default_value_t = 40)]
    pub customers: usize,
    /// Months of emulated usage history.
    #[arg(long, default_value_t = 13)]
    pub months: u32,
    /// Proxies serving from the one store, on `port` and the ports after it
    /// (the emulator's skipped): the replicas a load balancer would spread
    /// people over (README, "Replicas").
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=8))]
    pub replicas: u16,
    /// The store in a PostgreSQL server of the try-out's own (made in a
    /// temporary directory, removed when it stops), with two replicas at
    /// least (README, "Replicas").
    #[arg(long)]
    pub postgres: bool,
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Builds the proxy and the emulator with `profile`; returns their paths.
pub fn build_servers(profile: &str) -> Result<(PathBuf, PathBuf)> {
    process::run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--profile",
                profile,
                "-p",
                "proxy",
                "-p",
                "emulator",
            ])
            .current_dir(root()),
    )?;
    let dir = target_dir().join(if profile == "dev" { "debug" } else { profile });
    Ok((dir.join("proxy"), dir.join("emulator")))
}

pub fn run(args: ServeArgs) -> Result {
    tools::ensure(Needs::Build)?;
    let dist = spa::build()?;
    let (proxy_bin, emulator_bin) = build_servers("server")?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .map_err(|e| e.to_string())?;
    }

    let emulator_addr = format!("127.0.0.1:{}", args.emulator_port);
    let mut emulator = Command::new(&emulator_bin)
        .args(["--port", &args.emulator_port.to_string()])
        .args(["--customers", &args.customers.to_string()])
        .args(["--months", &args.months.to_string()])
        .spawn()
        .map_err(|e| format!("could not start the emulator: {e}"))?;
    let demo = match wait_for(
        &emulator_addr,
        "/emulator/demo",
        200,
        Duration::from_secs(30),
    ) {
        Ok(body) => {
            serde_json::from_str::<Value>(&body).map_err(|e| format!("/emulator/demo: {e}"))?
        }
        Err(e) => {
            stop_child(&mut emulator);
            return Err(e);
        }
    };

    // The embedded default connects the proxy with the partner whose app is
    // already registered in the emulator.
    let partners = demo["partners"].as_array().cloned().unwrap_or_default();
    let connected = partners
        .iter()
        .find(|p| p["apps"].as_array().is_some_and(|a| !a.is_empty()))
        .ok_or("the emulator lists no partner with a registered app")?;
    let app = &connected["apps"][0];
    let upstream = format!("http://{emulator_addr}");
    // Stopped and removed when the try-out ends (dropped with `run`).
    let postgres = match args.postgres {
        true => match crate::postgres::Postgres::start("serve") {
            Ok(server) => Some(server),
            Err(e) => {
                stop_child(&mut emulator);
                return Err(e);
            }
        },
        false => None,
    };
    let database: Vec<(&str, String)> = postgres
        .iter()
        .map(|server| ("PROXY_DATABASE_URL", server.url()))
        .collect();
    let replicas = if args.postgres {
        args.replicas.max(2)
    } else {
        args.replicas
    };
    let start_proxy = |port: u16| {
        Command::new(&proxy_bin)
            .envs(database.iter().cloned())
            .args(["--port", &port.to_string()])
            .arg("--data-dir")
            .arg(root().join(&args.data_dir))
            .arg("--dist")
            .arg(&dist)
            .args([
                "--upstream-url",
                &upstream,
                "--login-url",
                &upstream,
                "--graph-url",
                &upstream,
            ])
            .args([
                "--app-management-url",
                &format!("{upstream}/emulator/portal/app-management"),
            ])
            // `trunk serve` (the README's fast loop) serves the SPA from here
            // and forwards /api: its pages may write.
            .args(["--cors-origins", "http://127.0.0.1:8090"])
            .env(
                "PROXY_PARTNER_TENANT",
                connected["tenantId"].as_str().unwrap_or_default(),
            )
            .env("PROXY_APP_ID", app["appId"].as_str().unwrap_or_default())
            .env(
                "PROXY_APP_SECRET",
                app["keys"][0]["secret"].as_str().unwrap_or_default(),
            )
            .spawn()
            .map_err(|e| format!("could not start the proxy: {e}"))
    };
    // The next ports up, past the emulator's.
    let ports: Vec<u16> = (args.port..=u16::MAX)
        .filter(|&p| p != args.emulator_port)
        .take(replicas.into())
        .collect();
    let mut proxies = Vec::new();
    for &port in &ports {
        let started = start_proxy(port).and_then(|mut proxy| {
            match wait_for(
                &format!("127.0.0.1:{port}"),
                "/api/health",
                200,
                Duration::from_secs(60),
            ) {
                Ok(_) => Ok(proxy),
                Err(e) => {
                    stop_child(&mut proxy);
                    Err(e)
                }
            }
        });
        match started {
            Ok(proxy) => proxies.push(proxy),
            Err(e) => {
                proxies.iter_mut().for_each(stop_child);
                stop_child(&mut emulator);
                return Err(e);
            }
        }
    }
    let proxy_addr = format!("127.0.0.1:{}", args.port);

    println!();
    println!("  CSP Cost Tracker is running: http://{proxy_addr}/");
    for port in &ports[1..] {
        println!("  Another replica, same store: http://127.0.0.1:{port}/");
    }
    if let Some(server) = &postgres {
        println!("  The store, PostgreSQL:       {}", server.shown());
    }
    println!(
        "  Partner Center emulator:     http://{emulator_addr}/  (seeded partners: /emulator/demo)"
    );
    let first_user = |p: &Value| {
        let u = &p["users"][0];
        format!(
            "{} / {}",
            u["userName"].as_str().unwrap_or_default(),
            u["password"].as_str().unwrap_or_default()
        )
    };
    for p in &partners {
        let name = p["name"].as_str().unwrap_or_default();
        if p["tenantId"] == connected["tenantId"] {
            println!(
                "  Demo sign-in, connected:     {}  ({name}: data from the start)",
                first_user(p)
            );
        } else {
            println!(
                "  Demo sign-in, onboarding:    {}  ({name}: no web app yet; open /onboarding)",
                first_user(p)
            );
        }
    }
    if let Some(u) = connected["customerUsers"].get(0) {
        println!(
            "  A customer's own view:       http://{proxy_addr}/my  as {} / {}  (invite it first on {}'s page)",
            u["userName"].as_str().unwrap_or_default(),
            u["password"].as_str().unwrap_or_default(),
            u["companyName"].as_str().unwrap_or_default()
        );
    }
    println!("  Other users and roles:       http://{emulator_addr}/emulator/demo");
    println!("  Stop with Ctrl-C.");
    println!();

    let outcome = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(());
        }
        if let Some(status) = proxies.iter_mut().find_map(|p| p.try_wait().ok().flatten()) {
            break Err(format!("a proxy stopped ({status})"));
        }
        if let Ok(Some(status)) = emulator.try_wait() {
            break Err(format!("the emulator stopped ({status})"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    proxies.iter_mut().for_each(stop_child);
    stop_child(&mut emulator);
    outcome
}

/// Asks a child to stop (SIGTERM, so it shuts down cleanly) and waits for it.
pub fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..50 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}
