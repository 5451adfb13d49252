//! What every request and background task shares: the store, the upstream
//! client, the sign-in, the sealing key, the partners' connections and the
//! sync engine, set up once from the configuration.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::connections::{Connection, Connections};
use crate::crypto::{self, Sealer};
use crate::identity::Identity;
use crate::onboarding;
use crate::pc::{Credentials, Endpoints, Limits, PartnerCenter, RetryPolicy};
use crate::secret::Secret;
use crate::store::{PartnerId, Store};
use crate::sync::{self, Engine, SyncSettings, Syncer};
use crate::web::Policy;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub pc: Arc<PartnerCenter>,
    pub identity: Arc<Identity>,
    pub sealer: Arc<Sealer>,
    /// The connection configured from the environment, if any (scripts and
    /// the embedded default); onboarding adds the others.
    pub connection: Option<Connection>,
    pub connections: Arc<Connections>,
    pub sync: Arc<Engine>,
    pub web: Arc<Policy>,
    pub alerts: Arc<crate::alerts::Alerts>,
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("secrets: {0}")]
    Crypto(#[from] crypto::CryptoError),
    #[error("settings: {0}")]
    Settings(String),
    #[error("alerts: {0}")]
    Alerts(#[from] crate::alerts::AlertError),
}

impl AppState {
    /// Opens the store and sets up the upstream clients from `config`.
    pub async fn new(config: &Config) -> Result<AppState, StartError> {
        let sealer = match std::env::var("PROXY_SECRET_KEY")
            .ok()
            .filter(|k| !k.is_empty())
        {
            Some(key) => Sealer::from_base64(&key)?,
            None => Sealer::from_file(&config.key_file())?,
        };
        let store = Store::open_configured(config).await?;
        let pc = Arc::new(PartnerCenter::with_limits(
            Endpoints {
                api: config.upstream_url.clone(),
                login: config.login_url.clone(),
                graph: config.graph_url.clone(),
            },
            RetryPolicy {
                base_delay: Duration::from_millis(config.upstream_retry_ms),
                request_timeout: Duration::from_secs(config.upstream_timeout_secs),
                ..RetryPolicy::default()
            },
            Limits {
                rate: config
                    .upstream_requests_per_minute
                    .map(|n| (n, Duration::from_secs(60))),
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
        let sealer = Arc::new(sealer);
        if let Some(c) = &connection {
            // Configured partners are connected and not on a trial.
            onboarding::mark_configured(&store, c.partner).await?;
        }
        let connections = Arc::new(Connections::new(sealer.clone(), connection.clone()));
        let sync = Arc::new(Engine::new(
            store.clone(),
            pc.clone(),
            SyncSettings {
                currencies: config
                    .currencies
                    .iter()
                    .map(|c| c.trim().to_ascii_uppercase())
                    .collect(),
                history_months: config.history_months,
                v2_from: chrono::Datelike::with_day(&config.v2_from, 1).unwrap_or(config.v2_from),
                export_timing: crate::graph_billing::ExportTiming {
                    deadline: Duration::from_secs(config.export_deadline_minutes * 60),
                    ..Default::default()
                },
                lease: sync::lease::LeaseTiming {
                    lease: Duration::from_secs(config.sync_lease_seconds.max(3)),
                },
            },
        ));
        let interrupted = sync.interrupt_abandoned().await.map_err(|e| match e {
            sync::SyncError::Store(e) => StartError::Store(e),
            other => StartError::Settings(other.to_string()),
        })?;
        if interrupted > 0 {
            tracing::info!(
                runs = interrupted,
                "syncs left running by a stopped proxy marked interrupted"
            );
        }
        let alerts = Arc::new(crate::alerts::Alerts::new(config)?);
        Ok(AppState {
            alerts,
            identity: Arc::new(Identity::new(config)),
            sealer,
            connection,
            connections,
            sync,
            web: Arc::new(Policy {
                trusted_proxies: crate::forwarded::parse_list(&config.trusted_proxies)
                    .map_err(StartError::Settings)?,
                cube_line_items: config.cube_line_items,
                ..Policy::new(
                    &config.cors_origins,
                    &config.frame_ancestors,
                    config.sign_ins_per_minute.max(1),
                )
            }),
            store,
            pc,
        })
    }

    /// The partner's connection, if onboarding (or configuration) made one
    /// (through any replica).
    pub async fn connection_of(&self, partner: PartnerId) -> Option<Connection> {
        self.connections.of(&self.store, partner).await
    }

    /// The partner's sync (one at a time per partner).
    pub fn syncer(&self, partner: PartnerId) -> Arc<Syncer> {
        self.sync.syncer(partner)
    }

    /// Syncs every connected partner now, then its usage every `usage`,
    /// and its customers' details when they are `details` old.
    pub fn schedule_syncs(&self, usage: Duration, details: Duration) {
        sync::Engine::schedule(self.sync.clone(), self.connections.clone(), usage, details);
    }

    /// Takes over the syncs of replicas that stopped mid-run.
    pub fn take_over_abandoned_syncs(&self) {
        self.sync
            .clone()
            .take_over_abandoned(self.connections.clone());
    }
}
