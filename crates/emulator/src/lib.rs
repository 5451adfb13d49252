//! A stand-in for Partner Center, Entra ID's token endpoint and the Microsoft
//! Graph routes the onboarding uses. It speaks the routes and JSON of
//! `shared/reference/partner-center-api.md`, with data generated from a seed,
//! so the proxy's real client can be run and tested with no Microsoft account.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

mod billing;
mod entra;
mod partner_center;
mod usage;
mod world;

pub use world::{DemoApp, DemoKey, DemoPartner, DemoUser, DemoWorld, Role};

/// Command-line settings of the emulator program.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "emulator",
    about = "Partner Center emulator for development and tests"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "EMULATOR_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, env = "EMULATOR_PORT", default_value_t = 8081)]
    pub port: u16,
    /// Seed of the generated data; the same seed gives the same data.
    #[arg(long, env = "EMULATOR_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Customers of the demo partner.
    #[arg(long, env = "EMULATOR_CUSTOMERS", default_value_t = 40)]
    pub customers: usize,
    /// Months of usage history before the current month.
    #[arg(long, env = "EMULATOR_MONTHS", default_value_t = 13)]
    pub months: u32,
    /// The emulator's today (YYYY-MM-DD), for fully repeatable data; the real date by default.
    #[arg(long, env = "EMULATOR_TODAY")]
    pub today: Option<chrono::NaiveDate>,
}

impl Args {
    pub fn into_config(self) -> Config {
        Config {
            seed: self.seed,
            customers: self.customers,
            months: self.months,
            today: self.today,
        }
    }
}

/// What the emulator generates.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub customers: usize,
    pub months: u32,
    pub today: Option<chrono::NaiveDate>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 42,
            customers: 40,
            months: 13,
            today: None,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct Emulator {
    world: Arc<world::World>,
}

impl Emulator {
    pub fn new(config: Config) -> Self {
        Emulator {
            world: Arc::new(world::World::generate(&config)),
        }
    }

    /// The seeded partners, users and apps, as `GET /emulator/demo` shows them.
    pub fn demo(&self) -> DemoWorld {
        self.world.demo()
    }
}

/// The emulator's routes: Entra under `/{tenant}/oauth2`, Partner Center under
/// `/v1`, and `/emulator` for what a test double may show about itself.
pub fn app(emulator: Emulator) -> Router {
    Router::new()
        .merge(entra::routes())
        .merge(partner_center::routes())
        .route("/emulator/demo", axum::routing::get(demo))
        .with_state(emulator)
}

async fn demo(
    axum::extract::State(emulator): axum::extract::State<Emulator>,
) -> axum::Json<DemoWorld> {
    axum::Json(emulator.demo())
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(Emulator::new(config)))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts an emulator on a free loopback port, for tests; it stops when the
/// runtime does.
pub async fn spawn(config: Config) -> std::io::Result<(std::net::SocketAddr, Emulator)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let emulator = Emulator::new(config);
    let router = app(emulator.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((addr, emulator))
}
