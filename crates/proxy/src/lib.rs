//! The Partner Center proxy. It is the only component that holds secrets and
//! talks to Partner Center and Entra ID; the SPA talks only to its `/api`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub mod api;
pub mod crypto;
pub mod customer_view;
pub mod error;
pub mod identity;
pub mod onboarding;
pub mod pc;
pub mod reports;
pub mod secret;
pub mod store;
pub mod sync;
pub mod web;

use pc::{Credentials, Endpoints, Limits, PartnerCenter, RetryPolicy};
use secret::Secret;
use store::{PartnerId, Store};

/// The proxy's settings; every flag can also come from the environment.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "proxy",
    about = "Partner Center proxy: serves the SPA and /api"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PROXY_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, env = "PROXY_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Directory of the SQLite store (and, later, the encryption key file).
    #[arg(long, env = "PROXY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The built SPA (trunk's `dist/`), served with an index.html fallback.
    #[arg(long, env = "PROXY_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// Partner Center's base URL: the emulator, or https://api.partnercenter.microsoft.com.
    #[arg(
        long,
        env = "PROXY_UPSTREAM_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub upstream_url: String,
    /// Entra ID's base URL: the emulator, or https://login.microsoftonline.com.
    #[arg(long, env = "PROXY_LOGIN_URL", default_value = "http://127.0.0.1:8081")]
    pub login_url: String,
    /// The partner's tenant ID or domain, for the configured connection.
    #[arg(long, env = "PROXY_PARTNER_TENANT")]
    pub partner_tenant: Option<String>,
    /// The registered web app's App ID, for the configured connection.
    #[arg(long, env = "PROXY_APP_ID")]
    pub app_id: Option<String>,
    /// The app's secret key. Environment only, so it is not visible in `ps`.
    #[arg(skip)]
    pub app_secret: Option<String>,
    /// Billing currencies to read usage in, besides those of the partner's invoices.
    #[arg(
        long,
        env = "PROXY_CURRENCIES",
        value_delimiter = ',',
        default_value = "USD"
    )]
    pub currencies: Vec<String>,
    /// Months of billed usage to keep reading back.
    #[arg(long, env = "PROXY_HISTORY_MONTHS", default_value_t = 13)]
    pub history_months: u32,
    /// Most upstream requests per minute per partner (none: as fast as allowed by 429s).
    #[arg(long, env = "PROXY_UPSTREAM_RPM")]
    pub upstream_requests_per_minute: Option<u32>,
    /// Upstream requests in flight at once per partner.
    #[arg(long, env = "PROXY_UPSTREAM_CONCURRENCY", default_value_t = 8)]
    pub upstream_concurrency: usize,
    /// First wait before retrying a failed upstream request, in milliseconds (it doubles).
    #[arg(long, env = "PROXY_UPSTREAM_RETRY_MS", default_value_t = 200)]
    pub upstream_retry_ms: u64,
    /// How long one upstream request may take, in seconds.
    #[arg(long, env = "PROXY_UPSTREAM_TIMEOUT_SECS", default_value_t = 60)]
    pub upstream_timeout_secs: u64,
    /// Entra ID app that signs users in (the product's own registration).
    #[arg(
        long,
        env = "PROXY_SIGNIN_CLIENT_ID",
        default_value = "csp-cost-tracker"
    )]
    pub signin_client_id: String,
    /// Microsoft Graph's base URL: the emulator, or https://graph.microsoft.com.
    #[arg(long, env = "PROXY_GRAPH_URL", default_value = "http://127.0.0.1:8081")]
    pub graph_url: String,
    /// Partner Center's App management page, where the one portal step is done.
    #[arg(
        long,
        env = "PROXY_APP_MANAGEMENT_URL",
        default_value = "http://127.0.0.1:8081/emulator/portal/app-management"
    )]
    pub app_management_url: String,
    /// The address people reach the proxy at, for the sign-in redirect; by
    /// default the Host of the request.
    #[arg(long, env = "PROXY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long a sign-in lasts, in hours.
    #[arg(long, env = "PROXY_SESSION_HOURS", default_value_t = 8)]
    pub session_hours: i64,
    /// The AES-256 key sealing app keys at rest; by default `secret.key` in the
    /// data directory, created on first start and readable only by its user.
    #[arg(long, env = "PROXY_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// An operator task instead of serving (see `proxy partner --help`).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Origins of SPAs hosted elsewhere that may call `/api` (CORS), comma-separated,
    /// e.g. `https://portal.contoso.example`.
    #[arg(long, env = "PROXY_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Origins that may embed the app in a frame (CSP `frame-ancestors`),
    /// comma-separated; by default none.
    #[arg(long, env = "PROXY_FRAME_ANCESTORS", value_delimiter = ',')]
    pub frame_ancestors: Vec<String>,
    /// Sign-in requests allowed per client address and minute.
    #[arg(long, env = "PROXY_SIGN_INS_PER_MINUTE", default_value_t = 30)]
    pub sign_ins_per_minute: u32,
    /// Start a sync when the proxy starts and then every this many minutes (0: never).
    #[arg(long, env = "PROXY_SYNC_MINUTES", default_value_t = 60)]
    pub sync_minutes: u64,
}

impl Config {
    /// The file of the key sealing app keys at rest.
    pub fn key_file(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    /// Reads the flags, then the secret from `PROXY_APP_SECRET`.
    pub fn from_env_and_args() -> Config {
        let mut config = <Config as clap::Parser>::parse();
        config.app_secret = std::env::var("PROXY_APP_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
        config
    }

    /// Defaults with this data directory, for tests and tools.
    pub fn with_data_dir(data_dir: PathBuf) -> Config {
        let mut config = <Config as clap::Parser>::parse_from(["proxy"]);
        config.dist = data_dir.join("dist");
        config.data_dir = data_dir;
        config
    }
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Operator tasks on a partner, named by its tenant ID (a GUID).
    Partner {
        #[command(subcommand)]
        action: PartnerAction,
    },
    /// The key that seals partners' app keys at rest.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum KeyAction {
    /// Seals every stored app key with a new key, then swaps the key file
    /// (the old one is kept as `<file>.old`). Run it with the proxy stopped.
    Rotate,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum PartnerAction {
    /// Shows the partner's onboarding step and trial.
    Show {
        #[arg(long)]
        tenant: String,
    },
    /// Activates the partner's subscription: the trial no longer limits it.
    Activate {
        #[arg(long)]
        tenant: String,
    },
    /// Ends the partner's trial now (and any subscription): the data views pause.
    EndTrial {
        #[arg(long)]
        tenant: String,
    },
    /// Extends the partner's trial by some days (counted from today if it ended).
    Extend {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
}

/// A partner whose app credentials the proxy holds.
#[derive(Clone)]
pub struct Connection {
    pub partner: PartnerId,
    pub credentials: Credentials,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub pc: Arc<PartnerCenter>,
    pub identity: Arc<identity::Identity>,
    pub sealer: Arc<crypto::Sealer>,
    /// The connection configured from the environment, if any (scripts and
    /// the embedded default); onboarding adds the others.
    pub connection: Option<Connection>,
    connections: Arc<RwLock<HashMap<PartnerId, Connection>>>,
    syncers: Arc<std::sync::Mutex<HashMap<PartnerId, Arc<sync::Syncer>>>>,
    /// Billing currencies read besides the invoices' (upper case).
    pub currencies: Vec<String>,
    pub history_months: u32,
    pub web: Arc<web::Policy>,
}

impl AppState {
    /// The partner's connection, if onboarding (or configuration) made one.
    pub fn connection_of(&self, partner: PartnerId) -> Option<Connection> {
        self.connections
            .read()
            .expect("connections poisoned")
            .get(&partner)
            .cloned()
    }

    pub fn all_connections(&self) -> Vec<Connection> {
        self.connections
            .read()
            .expect("connections poisoned")
            .values()
            .cloned()
            .collect()
    }

    pub fn add_connection(&self, connection: Connection) {
        self.connections
            .write()
            .expect("connections poisoned")
            .insert(connection.partner, connection);
    }

    /// The partner's sync (one at a time per partner).
    pub fn syncer(&self, partner: PartnerId) -> Arc<sync::Syncer> {
        self.syncers
            .lock()
            .expect("syncers poisoned")
            .entry(partner)
            .or_default()
            .clone()
    }
}

impl AppState {
    /// Opens the store and sets up the Partner Center client from `config`.
    pub async fn new(config: &Config) -> Result<AppState, StartError> {
        let sealer = match std::env::var("PROXY_SECRET_KEY")
            .ok()
            .filter(|k| !k.is_empty())
        {
            Some(key) => crypto::Sealer::from_base64(&key)?,
            None => crypto::Sealer::from_file(&config.key_file())?,
        };
        let store = Store::open(&config.data_dir).await?;
        store.abandon_running_syncs().await?;
        let pc = Arc::new(PartnerCenter::with_limits(
            Endpoints {
                api: config.upstream_url.clone(),
                login: config.login_url.clone(),
            },
            RetryPolicy {
                base_delay: std::time::Duration::from_millis(config.upstream_retry_ms),
                request_timeout: std::time::Duration::from_secs(config.upstream_timeout_secs),
                ..RetryPolicy::default()
            },
            Limits {
                rate: config
                    .upstream_requests_per_minute
                    .map(|n| (n, std::time::Duration::from_secs(60))),
                concurrency: config.upstream_concurrency,
            },
        ));
        let connection = match (&config.partner_tenant, &config.app_id, &config.app_secret) {
            (Some(tenant), Some(app_id), Some(secret)) => Some(Connection {
                partner: store.partner(tenant).await?,
                credentials: Credentials {
                    tenant: tenant.clone(),
                    app_id: app_id.clone(),
                    secret: Secret::new(secret.clone()),
                },
            }),
            _ => None,
        };
        let mut connections = HashMap::new();
        for (partner, tenant, app_id, sealed) in store.connections().await? {
            let secret = sealer.open(&sealed, &onboarding::seal_context(&tenant, &app_id))?;
            connections.insert(
                partner,
                Connection {
                    partner,
                    credentials: Credentials {
                        tenant,
                        app_id,
                        secret,
                    },
                },
            );
        }
        if let Some(c) = &connection {
            // Configured partners are connected and not on a trial.
            connections.insert(c.partner, c.clone());
            onboarding::mark_configured(&store, c.partner).await?;
        }
        let identity = Arc::new(identity::Identity::new(config));
        Ok(AppState {
            store,
            pc,
            identity,
            sealer: Arc::new(sealer),
            connection,
            connections: Arc::new(RwLock::new(connections)),
            syncers: Arc::default(),
            currencies: config
                .currencies
                .iter()
                .map(|c| c.trim().to_ascii_uppercase())
                .collect(),
            history_months: config.history_months,
            web: Arc::new(web::Policy::new(
                &config.cors_origins,
                &config.frame_ancestors,
                config.sign_ins_per_minute.max(1),
            )),
        })
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("secrets: {0}")]
    Crypto(#[from] crypto::CryptoError),
}

/// The whole HTTP surface: `/api` and the SPA. Kept apart from `main` so
/// tests run it on a real socket.
pub fn app(state: AppState, dist: PathBuf) -> Router {
    // Deep links (`/customers`) are the SPA's routes: unknown paths get index.html.
    // The build writes .br and .gz copies of the scripts, wasm and styles:
    // the wasm goes out at a third of its size, with no work per request.
    let spa = ServeDir::new(&dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(axum::routing::get(web::deep_link).with_state(Arc::new(dist.clone())));
    let csp = state.web.content_security_policy(&dist);
    let cors = state.web.cors();
    let header = |name: &'static str, value: &str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("a valid header value"),
        )
    };
    let framing = if state.web.frame_ancestors.is_empty() {
        Some(header("x-frame-options", "DENY"))
    } else {
        None
    };
    Router::new()
        .nest("/api", api::routes(state.clone()))
        .route("/config.json", axum::routing::get(web::app_config))
        .fallback_service(spa)
        .with_state(state)
        // Layers wrap what is above them: headers apply to every response.
        .layer(cors)
        .layer(header("content-security-policy", &csp))
        .layer(tower::util::option_layer(framing))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "no-referrer"))
        .layer(header("cross-origin-opener-policy", "same-origin"))
        .layer(header(
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
        .layer(TraceLayer::new_for_http())
}

/// Installs the TLS crypto provider (ring) once per process.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
