//! The emulated world: partners, their users, apps and customers, generated
//! deterministically from a seed. Apps, keys and tokens change at run time.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use model::guid_mix;
use model::{Amount, Currency, Guid};

use crate::usage;
use serde::Serialize;

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
    pub user_name: String,
    pub password: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

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
    pub expires_at: SystemTime,
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
    /// Refresh tokens from sign-ins: (partner, user).
    pub refresh_tokens: Mutex<HashMap<String, (usize, usize)>>,
}

/// Every emulated customer user's password (a test fixture).
pub const CUSTOMER_USER_PASSWORD: &str = "it-demo-2026";

/// How long tokens live, as Entra's default.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

const COMPANIES: &[&str] = &[
    "Adatum Corporation",
    "Alpine Ski House",
    "Bellows College",
    "Best For You Organics",
    "Blue Yonder Airlines",
    "City Power & Light",
    "Coho Winery",
    "Consolidated Messenger",
    "Contoso Pharmaceuticals",
    "Fabrikam Residences",
    "First Up Consultants",
    "Fourth Coffee",
    "Graphic Design Institute",
    "Humongous Insurance",
    "Lamna Healthcare",
    "Litware",
    "Lucerne Publishing",
    "Margie's Travel",
    "Munson's Pickles and Preserves",
    "Nod Publishers",
    "Northwind Health",
    "Proseware",
    "Relecloud",
    "School of Fine Art",
    "Southridge Video",
    "Tailspin Toys",
    "Tailwind Traders",
    "The Phone Company",
    "Trey Research",
    "VanArsdel",
    "Wide World Importers",
    "Wingtip Toys",
    "Woodgrove Bank",
    "Datum Corporation",
    "Olympia Hotels",
    "Contoso Electronics",
    "Fabrikam Fiber",
    "Woodgrove Pharmacy",
    "Bright Lights Studio",
    "Dunn Engineering",
];

/// Billing country and currency, weighted towards US dollars.
const MARKETS: &[(&str, Currency)] = &[
    ("US", Currency::USD),
    ("US", Currency::USD),
    ("DE", Currency::EUR),
    ("US", Currency::USD),
    ("GB", Currency::GBP),
    ("TW", Currency::TWD),
    ("US", Currency::USD),
    ("JP", Currency::JPY),
    ("FR", Currency::EUR),
    ("AU", Currency::AUD),
];

fn slug(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `tag` keeps each partner's customer domains apart: a domain names one
/// tenant, and a customer's user signs in by it.
fn customers(
    seed: u64,
    count: usize,
    window: (i64, i64),
    tag: &str,
    legacy: bool,
) -> Vec<Customer> {
    (0..count)
        .map(|i| {
            let key = guid_mix(seed ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
            let base = COMPANIES[i % COMPANIES.len()];
            // Past the list, names repeat with a branch number, as big CSPs' do.
            let company_name = match i / COMPANIES.len() {
                0 => base.to_string(),
                n => format!("{base} {}", n + 1),
            };
            let (country, currency) =
                MARKETS[(guid_mix(seed ^ i as u64) % MARKETS.len() as u64) as usize];
            let entitlement_count = 1 + (usage::unit(seed, key, 1) * 3.0) as usize;
            let entitlements = (0..entitlement_count)
                .map(|e| {
                    let name = ["Production", "Development", "Shared services"][e];
                    (Guid::from_seed(key, 20 + e as u64), name.to_string())
                })
                .collect();
            let series = usage::series_for_customer(seed, key, country, entitlement_count, window);
            let trend = usage::trend_for_customer(seed, key, window);
            Customer {
                id: Guid::from_seed(seed, 1_000 + i as u64),
                commerce_id: Guid::from_seed(seed, 900_000 + i as u64),
                domain: format!("{}{tag}.onmicrosoft.com", slug(&company_name)),
                company_name,
                country,
                currency,
                plan: Guid::from_seed(key, 10),
                entitlements,
                series,
                trend,
                budget: Mutex::new(None),
                // One customer in five, from the fourth on.
                legacy_commerce: legacy && i % 5 == 3,
                key,
            }
        })
        .collect()
}

fn user(domain: &str, name: &str, display: &str, roles: Vec<Role>) -> User {
    User {
        user_name: format!("{name}@{domain}"),
        // The emulator's users are test fixtures, listed by /emulator/demo.
        password: format!("{name}-demo-2026"),
        display_name: display.to_string(),
        roles,
    }
}

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
            users: vec![user(
                "fabrikamms.onmicrosoft.com",
                "admin",
                "Frankie Admin",
                vec![Role::GlobalAdmin],
            )],
            customers: customers(
                fabrikam_seed,
                config.customers,
                window,
                "fm",
                config.legacy_commerce,
            ),
            // Registered before: scripts and the "reuse" path start from here.
            apps: RwLock::new(vec![App {
                object_id: Guid::from_seed(seed, 8),
                app_id: Guid::from_seed(seed, 5),
                display_name: "Fabrikam cost tracker".into(),
                partner_center: true,
                keys: vec![Key {
                    key_id: Guid::from_seed(seed, 6),
                    display_name: "Cost tracker key".into(),
                    secret: format!(
                        "fab~{}",
                        Guid::from_seed(seed, 7).to_string().replace('-', "")
                    ),
                    start: now - chrono::Duration::days(30),
                    end: now.checked_add_months(Months::new(24)).unwrap_or(now),
                }],
            }]),
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
            customers: customers(
                seed.wrapping_add(104_729),
                config.customers.min(8),
                window,
                "nw",
                config.legacy_commerce,
            ),
            apps: RwLock::new(Vec::new()),
        };
        let world = World {
            partners: vec![contoso, fabrikam, northwind],
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

    pub fn issue_token(
        &self,
        partner: usize,
        app: Option<Guid>,
        user: Option<usize>,
        audience: Audience,
    ) -> (String, IssuedToken) {
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
            expires_at: SystemTime::now() + TOKEN_LIFETIME,
        };
        self.tokens
            .lock()
            .expect("token map poisoned")
            .insert(token.clone(), issued.clone());
        (token, issued)
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

    pub fn demo(&self) -> DemoWorld {
        DemoWorld {
            partners: self
                .partners
                .iter()
                .map(|p| DemoPartner {
                    name: p.name.clone(),
                    tenant_id: p.tenant_id.to_string(),
                    domain: p.domain.clone(),
                    commerce_id: p.commerce_id.to_string(),
                    mpn_id: p.mpn_id.clone(),
                    customers: p.customers.len(),
                    customer_users: p
                        .customers
                        .iter()
                        .take(3)
                        .map(|c| DemoCustomerUser {
                            user_name: format!("it@{}", c.domain),
                            password: CUSTOMER_USER_PASSWORD.into(),
                            display_name: format!("{} IT", c.company_name),
                            customer_id: c.id.to_string(),
                            company_name: c.company_name.clone(),
                        })
                        .collect(),
                    users: p
                        .users
                        .iter()
                        .map(|u| DemoUser {
                            user_name: u.user_name.clone(),
                            password: u.password.clone(),
                            display_name: u.display_name.clone(),
                            roles: u.roles.clone(),
                        })
                        .collect(),
                    apps: p
                        .apps
                        .read()
                        .expect("apps poisoned")
                        .iter()
                        .map(|a| DemoApp {
                            object_id: a.object_id.to_string(),
                            partner_center_registered: a.partner_center,
                            app_id: a.app_id.to_string(),
                            display_name: a.display_name.clone(),
                            keys: a
                                .keys
                                .iter()
                                .map(|k| DemoKey {
                                    key_id: k.key_id.to_string(),
                                    display_name: k.display_name.clone(),
                                    secret: k.secret.clone(),
                                    start_date_time: k.start.to_rfc3339(),
                                    end_date_time: k.end.to_rfc3339(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            months_of_history: self.months,
        }
    }
}

pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `GET /emulator/demo`: everything a script or a person needs to sign in.
/// The emulator is a test double; none of this is a real secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoWorld {
    pub partners: Vec<DemoPartner>,
    pub months_of_history: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoPartner {
    pub name: String,
    pub tenant_id: String,
    pub domain: String,
    pub commerce_id: String,
    pub mpn_id: String,
    pub customers: usize,
    /// Users of the first customers' own tenants, for the customer's view.
    pub customer_users: Vec<DemoCustomerUser>,
    pub users: Vec<DemoUser>,
    pub apps: Vec<DemoApp>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCustomerUser {
    pub user_name: String,
    pub password: String,
    pub display_name: String,
    pub customer_id: String,
    pub company_name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoUser {
    pub user_name: String,
    pub password: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoApp {
    pub object_id: String,
    pub partner_center_registered: bool,
    pub app_id: String,
    pub display_name: String,
    pub keys: Vec<DemoKey>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoKey {
    pub key_id: String,
    pub display_name: String,
    pub secret: String,
    pub start_date_time: String,
    pub end_date_time: String,
}
