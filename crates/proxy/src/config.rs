//! The proxy's settings: flags, or the environment.

use std::path::PathBuf;

use crate::cli::Command;

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
    /// Seconds a client has to send a request's head (from its first byte,
    /// or from the last answer on a kept-alive connection).
    #[arg(long, env = "PROXY_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Connections open at once (default: what the open-file limit leaves room for).
    #[arg(long, env = "PROXY_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Directory of the SQLite store and the sealing key file.
    #[arg(long, env = "PROXY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// A PostgreSQL store (`postgres://user@host:5432/db`), shared by every
    /// replica, instead of the SQLite file in the data directory. Its
    /// password is best given in PGPASSWORD, out of the command line.
    // `--help` would show the environment's value, password and all.
    #[arg(long, env = "PROXY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,
    /// The PostgreSQL schema the store's tables live in, made if missing
    /// (default: the database's search path, normally `public`).
    #[arg(long, env = "PROXY_DATABASE_SCHEMA", value_parser = schema_name)]
    pub database_schema: Option<String>,
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
    /// The first billing month whose new-commerce usage is read from Graph's
    /// billing export (Microsoft's cutover); earlier months and legacy
    /// commerce come from Partner Center's v1 routes.
    #[arg(long, env = "PROXY_V2_FROM", default_value = "2025-04-01")]
    pub v2_from: chrono::NaiveDate,
    /// How long one Graph billing export may take to be prepared, in minutes.
    #[arg(long, env = "PROXY_EXPORT_DEADLINE_MINUTES", default_value_t = 30)]
    pub export_deadline_minutes: u64,
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
    /// Reverse proxies or load balancers in front of the proxy (addresses or
    /// blocks, comma-separated): the client's address is read from their
    /// `X-Forwarded-For`, and only theirs.
    #[arg(long, env = "PROXY_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// Sync when the proxy starts and then read usage every this many minutes
    /// (0: never). Microsoft's usage lands within about a day: hourly full
    /// rescans would only cost its quota.
    #[arg(long, env = "PROXY_SYNC_MINUTES", default_value_t = 240)]
    pub sync_minutes: u64,
    /// Replicas sharing one store run a partner's sync one at a time: the
    /// one running it renews a lease of this many seconds, and another takes
    /// the sync over once a stopped replica's lease has run out.
    #[arg(long, env = "PROXY_SYNC_LEASE_SECONDS", default_value_t = 30)]
    pub sync_lease_seconds: u64,
    /// Read customers, subscriptions, Azure subscriptions and budgets again
    /// when the last such read is this many hours old.
    #[arg(long, env = "PROXY_DETAILS_HOURS", default_value_t = 24)]
    pub details_hours: u64,
    /// The SMTP server alert e-mails go through (none: e-mail rules cannot
    /// be made). Its user and password come from `PROXY_SMTP_USER` and
    /// `PROXY_SMTP_PASSWORD` only.
    #[arg(long, env = "PROXY_SMTP_HOST")]
    pub smtp_host: Option<String>,
    #[arg(long, env = "PROXY_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// `starttls` (port 587), `tls` (implicit, port 465) or `none` (a relay
    /// on this machine or a test server only).
    #[arg(long, env = "PROXY_SMTP_SECURITY", default_value = "starttls")]
    pub smtp_security: String,
    /// PEM certificates trusted for the SMTP server besides the system's
    /// (a relay whose certificate a private CA signed).
    #[arg(long, env = "PROXY_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// The sender of alert e-mails, `CSP Costs <costs@fabrikam.example>`.
    #[arg(
        long,
        env = "PROXY_SMTP_FROM",
        default_value = "CSP Costs <costs@localhost.localdomain>"
    )]
    pub smtp_from: String,
    /// Look for new alert events every this many seconds.
    #[arg(long, env = "PROXY_ALERT_CHECK_SECONDS", default_value_t = 300)]
    pub alert_check_seconds: u64,
    /// A message that could not be sent is tried again after this many
    /// seconds, then twice as long each time (at most an hour), eight times.
    #[arg(long, env = "PROXY_ALERT_RETRY_SECONDS", default_value_t = 60)]
    pub alert_retry_seconds: u64,
    /// Above this many line items the Explorer's cube is summed on the proxy
    /// to a row per day and value of the dimensions the view uses (exact
    /// totals; another grouping asks again), so a large partner's month is
    /// not sent line by line.
    #[arg(long, env = "PROXY_CUBE_LINE_ITEMS", default_value_t = 250_000)]
    pub cube_line_items: usize,
    /// Let webhooks go to this machine or a private network (a relay beside
    /// the proxy, a receiver under test). Off, a manager cannot make the
    /// proxy post to services only it can reach.
    #[arg(long, env = "PROXY_ALERT_LOCAL_WEBHOOKS", default_value_t = false)]
    pub alert_local_webhooks: bool,
}

/// A schema's name as the store writes it unquoted: lower-case letters,
/// digits and underscores, not starting with a digit.
pub(crate) fn schema_name(s: &str) -> Result<String, String> {
    let valid = !s.is_empty()
        && s.len() <= 63
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(s.to_string())
    } else {
        Err("a schema name of lower-case letters, digits and underscores".into())
    }
}

/// A database's address, whose password never shows (`{:?}` hides it).
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let url = reqwest::Url::parse(s).map_err(|e| format!("not a database address: {e}"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "a PostgreSQL address (postgres://...) is expected, not {}://",
                url.scheme()
            ));
        }
        Ok(DatabaseUrl(s.to_string()))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match reqwest::Url::parse(&self.0) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("redacted"));
                }
                write!(f, "{url}")
            }
            Err(_) => f.write_str("(a database address)"),
        }
    }
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

    /// Refuses a setting that would serve people wrongly: off loopback, the
    /// sign-in's redirect and the allowed origins must not come from the
    /// `Host` a client sends, so the public address must be given.
    pub fn check(&self) -> Result<(), String> {
        let loopback = matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback && self.public_url.is_none() {
            return Err(format!(
                "--public-url (PROXY_PUBLIC_URL) is required when listening on {}: the address \
                 people reach the proxy at, e.g. https://costs.contoso.example",
                self.host
            ));
        }
        if let Some(url) = &self.public_url {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| format!("--public-url '{url}' is not an address: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(format!("--public-url '{url}' must be an http(s) address"));
            }
        }
        crate::forwarded::parse_list(&self.trusted_proxies)
            .map(|_| ())
            .map_err(|e| format!("--trusted-proxies: {e}"))
    }

    /// Defaults with this data directory, for tests and tools.
    pub fn with_data_dir(data_dir: PathBuf) -> Config {
        let mut config = <Config as clap::Parser>::parse_from(["proxy"]);
        config.dist = data_dir.join("dist");
        config.data_dir = data_dir;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_address_never_shows_its_password() {
        let url: DatabaseUrl = "postgres://costs:s3cret@db.example:5432/costs"
            .parse()
            .unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example:5432/costs"), "{shown}");
        let config = Config {
            database_url: Some(url),
            ..Config::with_data_dir("data".into())
        };
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!("sqlite:data".parse::<DatabaseUrl>().is_err());
        assert!(schema_name("costs_eu").is_ok());
        for bad in ["", "1st", "Costs", "a-b", "a;drop"] {
            assert!(schema_name(bad).is_err(), "{bad}");
        }
    }
}
