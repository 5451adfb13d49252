//! The seeded partners' tenants: customers with their markets and usage,
//! users, Partner Center's agent groups, and a tenant past Graph's first
//! pages.

use std::sync::{Mutex, RwLock};

use chrono::Utc;
use model::guid_mix;
use model::{Currency, Guid};

use super::{App, Customer, Group, Key, Partner, Role, User};
use crate::usage;

pub(super) const COMPANIES: &[&str] = &[
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
pub(super) const MARKETS: &[(&str, Currency)] = &[
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

pub(super) fn slug(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `tag` keeps each partner's customer domains apart: a domain names one
/// tenant, and a customer's user signs in by it.
pub(super) fn customers(
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

pub(super) fn user(domain: &str, name: &str, display: &str, roles: Vec<Role>) -> User {
    User {
        id: Guid::from_seed(fnv(domain) ^ fnv(name), 70_000),
        user_name: format!("{name}@{domain}"),
        // The emulator's users are test fixtures, listed by /emulator/demo.
        password: format!("{name}-demo-2026"),
        display_name: display.to_string(),
        roles,
    }
}

pub(super) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Partner Center's agent groups, with the users whose roles they hold,
/// then `more` (groups people made themselves).
pub(super) fn directory(seed: u64, users: &[User], more: Vec<Group>) -> Vec<Group> {
    let mut groups = more;
    for (n, role) in [Role::AdminAgent, Role::SalesAgent].into_iter().enumerate() {
        groups.push(Group {
            id: Guid::from_seed(seed, 60_000 + n as u64),
            display_name: role.group_name().unwrap_or_default().into(),
            members: users
                .iter()
                .enumerate()
                .filter(|(_, u)| u.roles.contains(&role))
                .map(|(i, _)| i)
                .collect(),
            parents: Vec::new(),
        });
    }
    groups
}

/// A tenant past Graph's first pages: 130 groups before Partner Center's
/// (its Admin agent is in every one, so AdminAgents is on the second page of
/// the agent's memberships), 120 web apps, and a user in groups they made
/// themselves, named like roles.
pub(super) fn big_tenant(seed: u64, window: (i64, i64), config: &crate::Config) -> Partner {
    let domain = "tailspincsp.onmicrosoft.com";
    let users = vec![
        user(domain, "admin", "Taylor Admin", vec![Role::GlobalAdmin]),
        user(domain, "agent", "Toni Agent", vec![Role::AdminAgent]),
        user(domain, "eve", "Eve Everyone", Vec::new()),
    ];
    let mut made: Vec<Group> = (0..130)
        .map(|i| Group {
            id: Guid::from_seed(seed, 61_000 + i),
            display_name: format!("Project team {:03}", i + 1),
            members: vec![1],
            parents: Vec::new(),
        })
        .collect();
    // Any user may make a group and call it anything.
    for (i, name) in [
        "Global Administrator",
        "Company Administrator",
        "Billing Administrator",
    ]
    .into_iter()
    .enumerate()
    {
        made.push(Group {
            id: Guid::from_seed(seed, 62_000 + i as u64),
            display_name: name.into(),
            members: vec![2],
            parents: Vec::new(),
        });
    }
    let now = Utc::now();
    Partner {
        tenant_id: Guid::from_seed(seed, 40),
        commerce_id: Guid::from_seed(seed, 41),
        name: "Tailspin Cloud Solutions".into(),
        domain: domain.into(),
        mpn_id: "4877777".into(),
        groups: directory(seed.wrapping_add(40), &users, made),
        users,
        // Its Global admin consented to the sign-in app for everyone before.
        signin_consent: Mutex::new(true),
        customers: customers(
            seed.wrapping_add(15_485_863),
            config.customers.min(6),
            window,
            "ts",
            config.legacy_commerce,
        ),
        apps: RwLock::new(
            (0..120)
                .map(|i| {
                    App::new(
                        Guid::from_seed(seed, 63_000 + i),
                        Guid::from_seed(seed, 64_000 + i),
                        format!("Line-of-business app {:03}", i + 1),
                        vec![Key {
                            key_id: Guid::from_seed(seed, 65_000 + i),
                            display_name: "Key".into(),
                            secret: format!(
                                "tsp~{}",
                                Guid::from_seed(seed, 66_000 + i)
                                    .to_string()
                                    .replace('-', "")
                            ),
                            start: now - chrono::Duration::days(90),
                            end: now + chrono::Duration::days(275),
                        }],
                    )
                })
                .collect(),
        ),
    }
}
