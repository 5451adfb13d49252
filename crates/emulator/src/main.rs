//! The Partner Center emulator as a program.
//!
//! Run with `cargo run -p emulator -- --port 8081`; `GET /emulator/demo`
//! lists the seeded partners, their users and registered apps.

use clap::Parser;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "emulator=info".into()),
        )
        .init();
    let args = emulator::Args::parse();
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        customers = args.customers,
        months = args.months,
        seed = args.seed,
        "Partner Center emulator listening"
    );
    emulator::serve(listener, args.into_config(), shutdown_signal()).await
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
    tracing::info!("emulator stopping");
}
