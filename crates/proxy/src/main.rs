//! The proxy program. Run with `cargo run -p proxy -- --port 8080`; see
//! `--help` for the data directory, upstream URLs and connection settings.

use proxy::cli::{Command, KeyAction};
use proxy::{AppState, Config, app, init_tls};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "proxy=info,tower_http=info".into()),
        )
        .init();
    init_tls();
    let config = Config::from_env_and_args();
    // Operator tasks touch only the store: a running proxy keeps its syncs.
    match &config.command {
        Some(Command::Partner { action }) => {
            let store = proxy::store::Store::open_configured(&config).await?;
            println!("{}", proxy::cli::operator(&store, action).await?);
            return Ok(());
        }
        Some(Command::Key {
            action: KeyAction::Rotate,
        }) => {
            if std::env::var("PROXY_SECRET_KEY").is_ok_and(|k| !k.is_empty()) {
                return Err("the sealing key comes from PROXY_SECRET_KEY: rotate it with a key file (--secret-key-file) instead".into());
            }
            // Keys are resealed under a running proxy's feet otherwise.
            let _alone = proxy::store::holders::alone(&config.data_dir)?;
            let store = proxy::store::Store::open_configured(&config).await?;
            let report = proxy::cli::rotate_sealing_key(&store, &config.key_file()).await?;
            println!("{report}");
            return Ok(());
        }
        Some(Command::MigrateStore { from, to, schema }) => {
            let dir = proxy::cli::sqlite_dir(from)?;
            // Nothing may write the store while it is copied.
            let _alone = proxy::store::holders::alone(&dir)?;
            let from = proxy::store::Store::open(&dir).await?;
            let to = proxy::store::Store::open_postgres(to.expose(), schema.as_deref()).await?;
            print!("{}", proxy::store::migrate::copy(&from, &to).await?);
            return Ok(());
        }
        None => {}
    }
    config.check()?;
    let _serving = proxy::store::holders::serving(&config.data_dir)?;
    let state = AppState::new(&config).await?;
    if state.connection.is_none() {
        tracing::warn!(
            "no Partner Center connection configured: /api/customers answers not_connected"
        );
    }
    if config.sync_minutes > 0 {
        state.schedule_syncs(
            std::time::Duration::from_secs(config.sync_minutes * 60),
            std::time::Duration::from_secs(config.details_hours * 3600),
        );
        state.take_over_abandoned_syncs();
    }
    proxy::alerts::start(state.clone());
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        data_dir = %config.data_dir.display(),
        upstream = %config.upstream_url,
        "proxy listening"
    );
    let limits = proxy::serve::Limits::new(
        std::time::Duration::from_secs(config.header_timeout_seconds.max(1)),
        config.max_connections,
    );
    tracing::info!(connections = limits.connections, "connection cap");
    proxy::serve::serve(
        listener,
        app(state, config.dist.clone()),
        limits,
        shutdown_signal(),
    )
    .await;
    tracing::info!("proxy stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
