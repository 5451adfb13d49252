// The billing export writes a usage row as one large `json!` literal.
#![recursion_limit = "256"]

//! A stand-in for Partner Center, Entra ID's token endpoint and the Microsoft
//! Graph routes the onboarding uses. It speaks the routes and JSON of
//! `shared/reference/partner-center-api.md`, with data generated from a seed,
//! so the proxy's real client can be run and tested with no Microsoft account.

use std::future::Future;
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

mod billing;
mod entra;
mod faults;
mod graph;
pub mod graph_billing;
mod partner_center;
mod portal;
mod requests;
mod shapes;
mod signin;
mod sparse;
mod usage;
mod world;

pub use faults::{Faults, StatsView};
pub use requests::Recorded;
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
    /// Partner Center requests allowed per partner and route family in each interval.
    #[arg(long, env = "EMULATOR_THROTTLE_REQUESTS")]
    pub throttle_requests: Option<u32>,
    /// The throttling interval, in milliseconds.
    #[arg(long, env = "EMULATOR_THROTTLE_INTERVAL_MS", default_value_t = 1000)]
    pub throttle_interval_ms: u64,
    /// Latency added to every Partner Center answer, in milliseconds.
    #[arg(long, env = "EMULATOR_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of requests answered with a 5xx (0 to 1).
    #[arg(long, env = "EMULATOR_ERROR_RATE", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Share of requests that hang before answering (0 to 1).
    #[arg(long, env = "EMULATOR_TIMEOUT_RATE", default_value_t = 0.0)]
    pub timeout_rate: f64,
    /// Share of answers whose body is cut short (0 to 1).
    #[arg(long, env = "EMULATOR_TRUNCATE_RATE", default_value_t = 0.0)]
    pub truncate_rate: f64,
    /// Days (YYYY-MM-DD) on which no usage is reported, as in an outage.
    #[arg(long, value_delimiter = ',')]
    pub gap_day: Vec<chrono::NaiveDate>,
    /// Answers in the sparse shapes of Partner Center's documented examples.
    #[arg(long, env = "EMULATOR_SPARSE")]
    pub sparse: bool,
    /// The first billing month (YYYY-MM-DD, a first of the month) whose
    /// new-commerce usage only Graph's billing export serves; 2025-04-01 by default.
    #[arg(long)]
    pub v2_from: Option<chrono::NaiveDate>,
}

impl Args {
    pub fn into_config(self) -> Config {
        Config {
            seed: self.seed,
            customers: self.customers,
            months: self.months,
            today: self.today,
            gap_days: self.gap_day,
            v2_from: self.v2_from.unwrap_or_else(v2_cutover),
            legacy_commerce: true,
            cache_blobs: false,
            faults: Faults {
                throttle_requests: self.throttle_requests,
                throttle_interval_ms: self.throttle_interval_ms,
                latency_ms: self.latency_ms,
                error_rate: self.error_rate,
                timeout_rate: self.timeout_rate,
                truncate_rate: self.truncate_rate,
                sparse: self.sparse,
                ..Faults::default()
            },
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
    /// Days on which no usage is reported at all.
    pub gap_days: Vec<chrono::NaiveDate>,
    /// The first billing month served only by Graph's billing export for
    /// new commerce (Microsoft's cutover: April 2025).
    pub v2_from: chrono::NaiveDate,
    /// One customer in five billed by legacy commerce (its usage on v1).
    pub legacy_commerce: bool,
    /// Export files rendered once and kept in memory (for benchmarks that
    /// measure the reader, not this emulator's writer).
    pub cache_blobs: bool,
    pub faults: Faults,
}

/// Microsoft's cutover: billing periods from April 2025.
pub fn v2_cutover() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 4, 1).expect("a date")
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 42,
            customers: 40,
            months: 13,
            today: None,
            gap_days: Vec::new(),
            v2_from: v2_cutover(),
            legacy_commerce: true,
            cache_blobs: false,
            faults: Faults::default(),
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct Emulator {
    world: Arc<world::World>,
    /// Blob downloads still to refuse as an expired SAS (`expireSas`).
    sas_refusals: Arc<std::sync::atomic::AtomicU32>,
    faults: Arc<RwLock<Faults>>,
    stats: Arc<faults::Stats>,
    throttle: Arc<faults::Throttle>,
    requests: Arc<requests::Log>,
}

impl Emulator {
    pub fn new(config: Config) -> Self {
        Emulator {
            sas_refusals: Arc::new(config.faults.expire_sas.into()),
            world: Arc::new(world::World::generate(&config)),
            faults: Arc::new(RwLock::new(config.faults)),
            stats: Arc::default(),
            throttle: Arc::default(),
            requests: Arc::default(),
        }
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.faults.read().expect("faults poisoned").clone()
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        self.sas_refusals
            .store(faults.expire_sas, std::sync::atomic::Ordering::SeqCst);
        *self.faults.write().expect("faults poisoned") = faults;
    }

    pub fn stats(&self) -> StatsView {
        self.stats.view()
    }

    /// The requests asked of it so far (the last 20,000), secrets left out.
    pub fn requests(&self) -> Vec<requests::Recorded> {
        self.requests.all()
    }

    /// The seeded partners, users and apps, as `GET /emulator/demo` shows them.
    pub fn demo(&self) -> DemoWorld {
        self.world.demo()
    }

    /// Registers a web app with a one-year key for partner `partner` (an
    /// index into the demo's partners), as onboarding would: for tests and
    /// benchmarks that need several connected partners. Returns the app ID
    /// and the key value.
    pub fn register_app(&self, partner: usize) -> (String, String) {
        let app_id = model::Guid::from_seed(self.world.seed, 900 + partner as u64);
        let secret = format!("emu-key-{}", uuid::Uuid::new_v4().simple());
        let now = chrono::Utc::now();
        self.world.partners[partner]
            .apps
            .write()
            .expect("apps poisoned")
            .push(
                world::App::new(
                    model::Guid::from_seed(self.world.seed, 950 + partner as u64),
                    app_id,
                    "Registered for a test".into(),
                    vec![world::Key {
                        key_id: model::Guid::from_seed(self.world.seed, 970 + partner as u64),
                        display_name: "Test key".into(),
                        secret: secret.clone(),
                        start: now,
                        end: now + chrono::Duration::days(365),
                    }],
                )
                .connected(model::Guid::from_seed(
                    self.world.seed,
                    990 + partner as u64,
                )),
            );
        (app_id.to_string(), secret)
    }
}

/// The emulator's routes: Entra under `/{tenant}/oauth2`, Partner Center under
/// `/v1`, and `/emulator` for what a test double may show about itself.
pub fn app(emulator: Emulator) -> Router {
    Router::new()
        .merge(entra::routes())
        .merge(partner_center::routes())
        .merge(signin::routes())
        .merge(graph::routes())
        .merge(graph_billing::routes())
        .merge(portal::routes())
        .route("/emulator/demo", get(demo))
        .route("/emulator/stats", get(stats))
        .route("/emulator/faults", get(get_faults).post(post_faults))
        .route("/emulator/expire-keys", axum::routing::post(expire_keys))
        .route("/emulator/requests", get(recorded))
        .layer(axum::middleware::from_fn_with_state(
            emulator.clone(),
            faults::middleware,
        ))
        // Outside the faults: a request refused by a fault was still asked.
        .layer(axum::middleware::from_fn_with_state(
            emulator.clone(),
            requests::middleware,
        ))
        .with_state(emulator)
}

async fn recorded(State(emulator): State<Emulator>) -> Json<Vec<requests::Recorded>> {
    Json(emulator.requests())
}

async fn stats(State(emulator): State<Emulator>) -> Json<StatsView> {
    Json(emulator.stats())
}

async fn get_faults(State(emulator): State<Emulator>) -> Json<Faults> {
    Json(emulator.faults.read().expect("faults poisoned").clone())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExpireKeys {
    app_id: String,
}

/// Makes every key of an app expired (yesterday), to test what expired keys do.
async fn expire_keys(
    State(emulator): State<Emulator>,
    Json(req): Json<ExpireKeys>,
) -> axum::http::StatusCode {
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    for p in &emulator.world.partners {
        for app in p.apps.write().expect("apps poisoned").iter_mut() {
            if app.app_id.to_string().eq_ignore_ascii_case(&req.app_id) {
                for k in &mut app.keys {
                    k.end = yesterday;
                }
                return axum::http::StatusCode::NO_CONTENT;
            }
        }
    }
    axum::http::StatusCode::NOT_FOUND
}

/// Replaces the faults; fields left out take their defaults (no fault).
async fn post_faults(State(emulator): State<Emulator>, Json(faults): Json<Faults>) -> Json<Faults> {
    emulator.set_faults(faults.clone());
    Json(faults)
}

async fn demo(State(emulator): State<Emulator>) -> Json<DemoWorld> {
    Json(emulator.demo())
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(without_nagle(listener), app(Emulator::new(config)))
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
    tokio::spawn(async move { axum::serve(without_nagle(listener), router).await });
    Ok((addr, emulator))
}

/// Responses go out at once: with Nagle's algorithm on, a response written in
/// two parts waits for the client's delayed ACK, about 40 ms per request.
fn without_nagle(listener: TcpListener) -> impl axum::serve::Listener<Addr = std::net::SocketAddr> {
    use axum::serve::ListenerExt;
    listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    })
}
