//! The emulated world: partners, their users, apps and customers, generated
//! deterministically from a seed. Apps, keys and tokens change at run time.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use model::{Amount, Currency, Guid};

use crate::usage;
use serde::Serialize;

mod demo;
mod tenants;

pub use demo::{DemoApp, DemoKey, DemoPartner, DemoUser, DemoWorld};
use tenants::{big_tenant, customers, directory, user};

/// Partner Center roles a user can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    #[serde(rename = "Global admin")]
    GlobalAdmin,
    #[serde(rename = "Admin agent")]
    AdminAgent,
    #[serde(rename = "Billing admin")]
    BillingAdmin,
    #[serde(rename = "Sales agent")]
    SalesAgent,
}

pub struct User {
    /// The user's object ID (`oid`).
    pub id: Guid,
    pub user_name: String,
    pub password: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

/// A group of a partner's directory. Partner Center's agent roles are the
/// `AdminAgents` and `SalesAgents` groups; any user may make other groups,
/// named as they like.
pub struct Group {
    pub id: Guid,
    pub display_name: String,
    /// Users who are direct members, by index.
    pub members: Vec<usize>,
    /// Groups this one is a member of (nesting), by index.
    pub parents: Vec<usize>,
}

impl Role {
    /// The directory role's template id (the same in every tenant), for the
    /// roles that are Entra directory roles.
    pub fn template_id(self) -> Option<&'static str> {
        match self {
            Role::GlobalAdmin => Some(model::onboarding::GLOBAL_ADMIN_TEMPLATE),
            Role::BillingAdmin => Some(model::onboarding::BILLING_ADMIN_TEMPLATE),
            _ => None,
        }
    }

    /// The Partner Center group that holds an agent role.
    pub fn group_name(self) -> Option<&'static str> {
        match self {
            Role::AdminAgent => Some("AdminAgents"),
            Role::SalesAgent => Some("SalesAgents"),
            _ => None,
        }
    }
}

/// Entra's template for every member user: in `wids`, never a role here.
pub const USER_TEMPLATE: &str = "b79fbf4d-3ef9-4689-8143-76b194e85509";

pub struct Key {
    pub key_id: Guid,
    pub display_name: String,
    pub secret: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

pub struct App {
    /// The application's object ID in Entra (Graph addresses it by this).
    pub object_id: Guid,
    pub app_id: Guid,
    pub display_name: String,
    pub keys: Vec<Key>,
    /// Registered in Partner Center's App management: only then do its
    /// tokens open Partner Center's API.
    pub partner_center: bool,
    /// The user who registered it (its owner), if one of the partner's.
    pub owner: Option<usize>,
    /// Its `requiredResourceAccess`, as Graph keeps it (declares, grants nothing).
    pub required_resource_access: serde_json::Value,
    /// Its `web.redirectUris`: the only places Entra sends an admin back to.
    pub redirect_uris: Vec<String>,
    /// Its service principal in the tenant; `POST /applications` makes none.
    pub service_principal: Option<Guid>,
    /// Graph's `PartnerBilling.Read.All` assigned to it (an admin consented).
    pub billing_granted: bool,
}

impl App {
    /// A new registration: no service principal, no permission, no consent.
    pub fn new(object_id: Guid, app_id: Guid, display_name: String, keys: Vec<Key>) -> App {
        App {
            object_id,
            app_id,
            display_name,
            keys,
            partner_center: false,
            owner: None,
            required_resource_access: serde_json::json!([]),
            redirect_uris: Vec::new(),
            service_principal: None,
            billing_granted: false,
        }
    }

    /// One set up before, as a connected partner's is: in Partner Center,
    /// with a service principal and the billing permission consented.
    pub fn connected(mut self, principal: Guid) -> App {
        self.partner_center = true;
        self.service_principal = Some(principal);
        self.required_resource_access = serde_json::json!([{
            "resourceAppId": model::onboarding::GRAPH_APP_ID,
            "resourceAccess": [{ "id": model::onboarding::PARTNER_BILLING_READ_ALL, "type": "Role" }]
        }]);
        self.billing_granted = true;
        self
    }

    /// Whether it declares Graph's billing permission as an application one.
    pub fn declares_billing(&self) -> bool {
        model::onboarding::with_billing_permission(&self.required_resource_access).is_none()
    }
}

pub struct Customer {
    pub id: Guid,
    pub commerce_id: Guid,
    pub company_name: String,
    pub domain: String,
    pub country: &'static str,
    /// The customer's billing currency, which its usage is invoiced in.
    pub currency: Currency,
    /// The Azure plan subscription, and the Azure subscriptions under it.
    pub plan: Guid,
    pub entitlements: Vec<(Guid, String)>,
    pub series: Vec<usage::Series>,
    pub trend: usage::Trend,
    /// The customer usage budget, which PATCH changes.
    pub budget: Mutex<Option<Amount>>,
    /// Billed the old way (legacy commerce): its usage stays on Partner
    /// Center's v1 routes for every period; the others' (new commerce)
    /// moved to Graph's billing export for periods from April 2025.
    pub legacy_commerce: bool,
    /// A key of this customer for the generator's hashes.
    pub key: u64,
}

pub struct Partner {
    pub tenant_id: Guid,
    pub commerce_id: Guid,
    pub name: String,
    pub domain: String,
    pub mpn_id: String,
    pub users: Vec<User>,
    /// The directory's groups, in the order Graph lists them.
    pub groups: Vec<Group>,
    /// Whether an admin consented, for the whole tenant, to the scopes the
    /// sign-in app asks that only an admin may grant.
    pub signin_consent: Mutex<bool>,
    pub customers: Vec<Customer>,
    /// Registered web apps; Graph calls add and change them.
    pub apps: RwLock<Vec<App>>,
}

/// An access token the token endpoint issued: an app's (client
/// credentials, for Partner Center) or a signed-in user's (for Graph).
#[derive(Clone)]
pub struct IssuedToken {
    pub partner: usize,
    /// The app a client-credentials token was issued to.
    pub app: Option<Guid>,
    /// The user a delegated token was issued to.
    pub user: Option<usize>,
    /// The API the token opens: a Graph token is refused by Partner Center
    /// and the reverse, as the real services do.
    pub audience: Audience,
    /// The delegated scopes the user granted (`User.Read`, ...), short form.
    pub scopes: Vec<String>,
    /// An app-only token's application permissions (its `roles` claim).
    pub roles: Vec<String>,
    pub expires_at: SystemTime,
}

impl IssuedToken {
    pub fn has_scope(&self, any_of: &[&str]) -> bool {
        self.scopes
            .iter()
            .any(|s| any_of.iter().any(|a| s.eq_ignore_ascii_case(a)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Audience {
    Graph,
    PartnerCenter,
}

/// A sign-in code waiting to be redeemed at the token endpoint.
#[derive(Clone)]
pub struct PendingCode {
    pub partner: usize,
    pub user: usize,
    /// A customer's user signed in (from the customer's tenant): `user` is unused.
    pub customer: Option<usize>,
    pub client_id: String,
    pub redirect_uri: String,
    /// The delegated scopes granted, short form.
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub expires_at: SystemTime,
}

pub struct World {
    pub partners: Vec<Partner>,
    pub months: u32,
    pub seed: u64,
    /// The emulator's today (UTC); usage is reported up to yesterday.
    pub today: NaiveDate,
    /// First and last day (days since the epoch) with usage.
    pub window: (i64, i64),
    /// Days on which no usage is reported at all (an outage upstream).
    pub gap_days: Vec<i64>,
    /// The first billing month whose new-commerce usage is served only by
    /// Graph's billing export (April 2025, as Microsoft's pages say).
    pub v2_from: NaiveDate,
    /// Exports started on Graph, by operation ID.
    pub exports: Mutex<HashMap<String, crate::graph_billing::Export>>,
    /// Export files already written, by what they hold (when kept).
    pub blob_cache: Option<Mutex<HashMap<String, axum::body::Bytes>>>,
    pub catalog: Vec<usage::Meter>,
    /// Line-item feeds already indexed, by partner, currency and first day.
    pub feeds: crate::billing::FeedCache,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    pub codes: Mutex<HashMap<String, PendingCode>>,
    /// Refresh tokens from sign-ins.
    pub refresh_tokens: Mutex<HashMap<String, Grant>>,
}

/// What a refresh token stands for: (partner, user, the scopes granted).
pub type Grant = (usize, usize, Vec<String>);

/// Every emulated customer user's password (a test fixture).
pub const CUSTOMER_USER_PASSWORD: &str = "it-demo-2026";

/// How long tokens live, as Entra's default.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

impl World {
    pub fn generate(config: &super::Config) -> World {
        let seed = config.seed;
        let now = Utc::now();
        let today = config.today.unwrap_or_else(|| now.date_naive());
        let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("valid");
        let first = this_month
            .checked_sub_months(Months::new(config.months))
            .expect("history in range");
        let window = (usage::day_number(first), usage::day_number(today) - 1);
        let contoso = Partner {
            tenant_id: Guid::from_seed(seed, 1),
            commerce_id: Guid::from_seed(seed, 2),
            name: "Contoso Cloud Partners".into(),
            domain: "contosocloud.onmicrosoft.com".into(),
            mpn_id: "4812345".into(),
            users: vec![
                user(
                    "contosocloud.onmicrosoft.com",
                    "admin",
                    "Avery Admin",
                    vec![Role::GlobalAdmin],
                ),
                user(
                    "contosocloud.onmicrosoft.com",
                    "agent",
                    "Alex Agent",
                    vec![Role::AdminAgent],
                ),
                user(
                    "contosocloud.onmicrosoft.com",
                    "billing",
                    "Blake Billing",
                    vec![Role::BillingAdmin],
                ),
                user(
                    "contosocloud.onmicrosoft.com",
                    "sales",
                    "Sam Sales",
                    vec![Role::SalesAgent],
                ),
            ],
            groups: Vec::new(),
            signin_consent: Mutex::new(false),
            customers: customers(seed, config.customers, window, "", config.legacy_commerce),
            // The demo partner starts without a web app: onboarding registers one.
            apps: RwLock::new(Vec::new()),
        };
        let fabrikam_seed = seed.wrapping_add(7_919);
        let fabrikam = Partner {
            tenant_id: Guid::from_seed(seed, 3),
            commerce_id: Guid::from_seed(seed, 4),
            name: "Fabrikam Managed Services".into(),
            domain: "fabrikamms.onmicrosoft.com".into(),
            mpn_id: "4867890".into(),
            users: vec![
                user(
                    "fabrikamms.onmicrosoft.com",
                    "admin",
                    "Frankie Admin",
                    vec![Role::GlobalAdmin],
                ),
                // Sees the costs, may change nothing.
                user(
                    "fabrikamms.onmicrosoft.com",
                    "billing",
                    "Billie Billing",
                    vec![Role::BillingAdmin],
                ),
            ],
            groups: Vec::new(),
            signin_consent: Mutex::new(true),
            customers: customers(
                fabrikam_seed,
                config.customers,
                window,
                "fm",
                config.legacy_commerce,
            ),
            // Registered before: scripts and the "reuse" path start from here.
            apps: RwLock::new(vec![
                App::new(
                    Guid::from_seed(seed, 8),
                    Guid::from_seed(seed, 5),
                    "Fabrikam cost tracker".into(),
                    vec![Key {
                        key_id: Guid::from_seed(seed, 6),
                        display_name: "Cost tracker key".into(),
                        secret: format!(
                            "fab~{}",
                            Guid::from_seed(seed, 7).to_string().replace('-', "")
                        ),
                        start: now - chrono::Duration::days(30),
                        end: now.checked_add_months(Months::new(24)).unwrap_or(now),
                    }],
                )
                .connected(Guid::from_seed(seed, 9)),
            ]),
        };
        // A small third partner with no app: for keyboard and isolation tests.
        let northwind = Partner {
            tenant_id: Guid::from_seed(seed, 30),
            commerce_id: Guid::from_seed(seed, 31),
            name: "Northwind Cloud Services".into(),
            domain: "northwindcsp.onmicrosoft.com".into(),
            mpn_id: "4855555".into(),
            users: vec![user(
                "northwindcsp.onmicrosoft.com",
                "admin",
                "Noor Admin",
                vec![Role::GlobalAdmin],
            )],
            groups: Vec::new(),
            signin_consent: Mutex::new(false),
            customers: customers(
                seed.wrapping_add(104_729),
                config.customers.min(8),
                window,
                "nw",
                config.legacy_commerce,
            ),
            apps: RwLock::new(Vec::new()),
        };
        let mut partners = vec![
            contoso,
            fabrikam,
            northwind,
            big_tenant(seed, window, config),
        ];
        for (i, p) in partners.iter_mut().enumerate().take(3) {
            p.groups = directory(seed.wrapping_add(i as u64 * 101), &p.users, Vec::new());
        }
        let world = World {
            partners,
            months: config.months,
            seed,
            today,
            window,
            gap_days: config
                .gap_days
                .iter()
                .map(|d| usage::day_number(*d))
                .collect(),
            v2_from: config.v2_from,
            exports: Mutex::new(HashMap::new()),
            blob_cache: config.cache_blobs.then(|| Mutex::new(HashMap::new())),
            catalog: usage::catalog(seed),
            feeds: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
        };
        crate::billing::seed_budgets(&world);
        world
    }

    /// The partner a tenant ID or domain names (the token URL takes either).
    pub fn partner_by_tenant(&self, tenant: &str) -> Option<usize> {
        self.partners.iter().position(|p| {
            p.domain.eq_ignore_ascii_case(tenant)
                || p.tenant_id.to_string().eq_ignore_ascii_case(tenant)
        })
    }

    /// An app-only token: for Graph, a JWT whose `roles` claim lists the
    /// application permissions consented to, as Entra's are.
    pub fn issue_app_token(
        &self,
        partner: usize,
        app: Guid,
        audience: Audience,
        roles: Vec<String>,
    ) -> (String, IssuedToken) {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = serde_json::json!({
            "aud": if audience == Audience::Graph { "https://graph.microsoft.com" } else { crate::shapes::PARTNER_CENTER_RESOURCE },
            "iss": format!("https://sts.windows.net/{}/", self.partners[partner].tenant_id),
            "tid": self.partners[partner].tenant_id.to_string(),
            "appid": app.to_string(),
            "idtyp": "app",
            "roles": roles,
            "uti": uuid::Uuid::new_v4().simple().to_string()
        });
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
        );
        let issued = IssuedToken {
            partner,
            app: Some(app),
            user: None,
            audience,
            scopes: Vec::new(),
            roles,
            expires_at: SystemTime::now() + TOKEN_LIFETIME,
        };
        self.tokens
            .lock()
            .expect("token map poisoned")
            .insert(token.clone(), issued.clone());
        (token, issued)
    }

    /// A token with the delegated scopes a user granted.
    pub fn issue_token_with(
        &self,
        partner: usize,
        app: Option<Guid>,
        user: Option<usize>,
        audience: Audience,
        scopes: Vec<String>,
    ) -> (String, IssuedToken) {
        let roles = Vec::new();
        let token = format!(
            "emu.{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let issued = IssuedToken {
            partner,
            app,
            user,
            audience,
            scopes,
            roles,
            expires_at: SystemTime::now() + TOKEN_LIFETIME,
        };
        self.tokens
            .lock()
            .expect("token map poisoned")
            .insert(token.clone(), issued.clone());
        (token, issued)
    }

    /// The bearer token a request carries, if it is known and not expired.
    pub fn bearer(&self, headers: &axum::http::HeaderMap) -> Option<IssuedToken> {
        self.token(bearer_of(headers)?)
    }

    /// The token, if it is known and not expired.
    pub fn token(&self, token: &str) -> Option<IssuedToken> {
        let tokens = self.tokens.lock().expect("token map poisoned");
        let t = tokens.get(token)?;
        (t.expires_at > SystemTime::now()).then(|| t.clone())
    }

    /// The partner an app token belongs to, if it opens Partner Center.
    pub fn authenticate(&self, token: &str) -> Option<usize> {
        let t = self.token(token)?;
        if t.audience != Audience::PartnerCenter {
            return None;
        }
        let app = t.app?;
        let apps = self.partners[t.partner].apps.read().expect("apps poisoned");
        // A revoked key's tokens stop working too, as a rotated secret's would.
        apps.iter()
            .any(|a| a.app_id == app && a.partner_center && !a.keys.is_empty())
            .then_some(t.partner)
    }

    /// The customer whose user this is, as (partner, customer): each
    /// customer tenant has one user, `it@` its domain, a test fixture.
    pub fn customer_user(&self, login: &str, password: &str) -> Option<(usize, usize)> {
        let domain = login.trim().strip_prefix("it@")?;
        if password != CUSTOMER_USER_PASSWORD {
            return None;
        }
        self.partners.iter().enumerate().find_map(|(pi, p)| {
            p.customers
                .iter()
                .position(|c| c.domain.eq_ignore_ascii_case(domain))
                .map(|ci| (pi, ci))
        })
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
