//! Daily rated usage, generated deterministically: a meter catalog with
//! real units and list prices, resources on Azure subscriptions, and a
//! quantity per resource, meter and day with weekly seasonality, growth,
//! spikes, idle resources and days where partner-earned credit is lost.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use model::money::MICROS;
use model::{Amount, Currency, guid_mix};

mod catalog;

use catalog::CATALOG;
pub use catalog::{Meter, Pattern, catalog};

/// A kind of resource and the meters it bills (indices into the catalog).
struct Archetype {
    provider: &'static str,
    prefix: &'static str,
    meters: &'static [usize],
}

const ARCHETYPES: &[Archetype] = &[
    Archetype {
        provider: "Microsoft.Compute/virtualMachines",
        prefix: "vm",
        meters: &[0, 3, 6],
    },
    Archetype {
        provider: "Microsoft.Compute/virtualMachines",
        prefix: "vm",
        meters: &[1, 4],
    },
    Archetype {
        provider: "Microsoft.Compute/virtualMachines",
        prefix: "db",
        meters: &[2, 3],
    },
    Archetype {
        provider: "Microsoft.Storage/storageAccounts",
        prefix: "st",
        meters: &[5, 6],
    },
    Archetype {
        provider: "Microsoft.Sql/servers/databases",
        prefix: "sqldb",
        meters: &[7, 8],
    },
    Archetype {
        provider: "Microsoft.Web/serverFarms",
        prefix: "plan",
        meters: &[9],
    },
    Archetype {
        provider: "Microsoft.Web/serverFarms",
        prefix: "plan",
        meters: &[10],
    },
    Archetype {
        provider: "Microsoft.ContainerService/managedClusters",
        prefix: "aks",
        meters: &[11],
    },
    Archetype {
        provider: "Microsoft.DocumentDB/databaseAccounts",
        prefix: "cosmos",
        meters: &[12, 13],
    },
    Archetype {
        provider: "Microsoft.OperationalInsights/workspaces",
        prefix: "log",
        meters: &[14],
    },
    Archetype {
        provider: "Microsoft.KeyVault/vaults",
        prefix: "kv",
        meters: &[16],
    },
    Archetype {
        provider: "Microsoft.Web/sites",
        prefix: "func",
        meters: &[17],
    },
    Archetype {
        provider: "Microsoft.Compute/virtualMachines",
        prefix: "fw",
        meters: &[18, 6],
    },
];

/// Idle resources: an unattached disk and a public IP nothing uses.
const IDLE: &[Archetype] = &[
    Archetype {
        provider: "Microsoft.Compute/disks",
        prefix: "disk-orphan",
        meters: &[4],
    },
    Archetype {
        provider: "Microsoft.Network/publicIPAddresses",
        prefix: "pip-unused",
        meters: &[15],
    },
];

const ENVIRONMENTS: &[&str] = &["prod", "dev", "test", "shared"];
const APPS: &[&str] = &["web", "erp", "crm", "data", "backup", "intranet"];

/// Azure regions as (resource location, meter region) by market.
pub fn regions_for(country: &str) -> &'static [(&'static str, &'static str)] {
    match country {
        "DE" | "FR" => &[("westeurope", "EU West"), ("northeurope", "EU North")],
        "GB" => &[("uksouth", "UK South"), ("westeurope", "EU West")],
        "TW" => &[("eastasia", "AP East"), ("southeastasia", "AP Southeast")],
        "JP" => &[("japaneast", "JA East"), ("japanwest", "JA West")],
        "AU" => &[
            ("australiaeast", "AU East"),
            ("australiasoutheast", "AU Southeast"),
        ],
        _ => &[
            ("eastus", "US East"),
            ("westus2", "US West 2"),
            ("centralus", "US Central"),
        ],
    }
}

/// US dollars to the billing currency, in millionths (the partner's
/// pricing-to-billing exchange rate of the month; fixed here).
pub fn usd_to(currency: Currency) -> i64 {
    match currency.code() {
        "EUR" => 920_000,
        "GBP" => 790_000,
        "JPY" => 151_000_000,
        "TWD" => 32_200_000,
        "AUD" => 1_520_000,
        _ => MICROS,
    }
}

/// One resource's use of one meter over time: one line item per day.
pub struct Series {
    pub entitlement: usize,
    pub resource_group: String,
    pub resource_name: String,
    pub provider: &'static str,
    pub meter: usize,
    pub location: &'static str,
    pub meter_region: &'static str,
    pub tags: String,
    /// Days (since the Unix epoch) it exists: created and deleted.
    pub first_day: i64,
    pub last_day: i64,
    /// Instances, or a scale of the meter's typical volume.
    pub scale: f64,
    pub idle: bool,
    /// Dev and test machines are switched off at weekends.
    pub weekday_only: bool,
}

/// A number in [0, 1) from a hash of its inputs: the generator's only
/// source of variety, so the same seed always gives the same data.
pub fn unit(seed: u64, a: u64, b: u64) -> f64 {
    let h = guid_mix(guid_mix(seed ^ a.wrapping_mul(0x9e37_79b9_7f4a_7c15)) ^ b);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

pub fn day_number(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid"))
        .num_days()
}

pub fn date_of(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .expect("valid")
        .checked_add_days(Days::new(day.max(0) as u64))
        .expect("in range")
}

/// A customer's resources: mostly a handful, sometimes dozens, as real
/// customer bases are skewed.
pub fn series_for_customer(
    seed: u64,
    customer: u64,
    country: &str,
    entitlements: usize,
    window: (i64, i64),
) -> Vec<Series> {
    let r = |k: u64| unit(seed, customer, k);
    let size = r(1);
    let resources = if size < 0.6 {
        2 + (r(2) * 4.0) as usize
    } else if size < 0.92 {
        6 + (r(2) * 8.0) as usize
    } else {
        18 + (r(2) * 20.0) as usize
    };
    let regions = regions_for(country);
    let (start, end) = window;
    let span = (end - start).max(1);
    let mut out = Vec::new();
    let mut push_resource = |i: usize, archetype: &Archetype, idle: bool| {
        let k = 100 + i as u64 * 16;
        let env = ENVIRONMENTS[(r(k) * ENVIRONMENTS.len() as f64) as usize];
        let app = APPS[(r(k + 1) * APPS.len() as f64) as usize];
        let (location, meter_region) = regions[(r(k + 2) * regions.len() as f64) as usize];
        let entitlement = (r(k + 3) * entitlements as f64) as usize;
        // Most resources exist for the whole window; some arrive, some leave.
        let first_day = if r(k + 4) < 0.3 {
            start + (r(k + 5) * span as f64 * 0.8) as i64
        } else {
            start
        };
        let last_day = if r(k + 6) < 0.1 {
            first_day + ((end - first_day) as f64 * (0.3 + 0.6 * r(k + 7))) as i64
        } else {
            end
        };
        let scale = if idle {
            1.0
        } else {
            1.0 + (r(k + 8) * 3.0).floor()
        };
        let tags = format!(
            r#"{{"env":"{env}","app":"{app}","costcenter":"cc-{:03}"}}"#,
            100 + (r(k + 9) * 40.0) as u32
        );
        for &meter in archetype.meters {
            out.push(Series {
                entitlement,
                resource_group: format!("rg-{app}-{env}"),
                resource_name: format!("{}-{app}-{env}-{i:02}", archetype.prefix),
                provider: archetype.provider,
                meter,
                location,
                meter_region,
                tags: tags.clone(),
                first_day,
                last_day,
                scale,
                idle,
                weekday_only: !idle
                    && matches!(env, "dev" | "test")
                    && CATALOG[meter].9 == Pattern::Hours,
            });
        }
    };
    for i in 0..resources {
        let archetype = &ARCHETYPES[(r(10 + i as u64) * ARCHETYPES.len() as f64) as usize];
        push_resource(i, archetype, false);
    }
    // About one customer in three pays for something nobody uses.
    if r(3) < 0.35 {
        push_resource(resources, &IDLE[(r(4) * IDLE.len() as f64) as usize], true);
    }
    out
}

/// Per-customer behaviour over time.
pub struct Trend {
    /// Growth per year, -0.1 to +0.4.
    pub growth: f64,
    /// Days with a spike in volume meters.
    pub spikes: Vec<i64>,
    /// Day ranges (inclusive) when partner-earned credit was lost.
    pub pec_lost: Vec<(i64, i64)>,
}

pub fn trend_for_customer(seed: u64, customer: u64, window: (i64, i64)) -> Trend {
    let r = |k: u64| unit(seed, customer ^ 0x5eed, k);
    let (start, end) = window;
    let span = (end - start).max(1) as f64;
    let spikes = (0..1 + (r(1) * 3.0) as u64)
        .map(|k| start + (r(10 + k) * span) as i64)
        .collect();
    // One customer in five loses PEC for a few days at some point.
    let pec_lost = if r(2) < 0.2 {
        let from = start + (r(3) * span) as i64;
        vec![(from, from + 2 + (r(4) * 6.0) as i64)]
    } else {
        Vec::new()
    };
    Trend {
        growth: -0.1 + 0.5 * r(5),
        spikes,
        pec_lost,
    }
}

/// Quantity of a series on a day, to six decimals; None when it has no use.
pub fn quantity(
    seed: u64,
    meter: &Meter,
    series: &Series,
    series_key: u64,
    trend: &Trend,
    window_start: i64,
    day: i64,
) -> Option<f64> {
    if day < series.first_day || day > series.last_day {
        return None;
    }
    let date = date_of(day);
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let q = match meter.pattern {
        Pattern::Hours => {
            let hours = if series.weekday_only && weekend {
                0.0
            } else {
                meter.base
            };
            hours * series.scale
        }
        Pattern::Monthly => {
            let days = days_in_month(date) as f64;
            series.scale / days
        }
        Pattern::Volume => {
            if series.idle {
                meter.base
            } else {
                let growth = 1.0 + trend.growth * (day - window_start) as f64 / 365.0;
                let seasonal = if weekend { 0.7 } else { 1.08 };
                let noise = 0.75 + 0.5 * unit(seed, series_key, day as u64);
                let spike = if trend.spikes.contains(&day) {
                    4.0 + 4.0 * unit(seed, series_key, 7)
                } else {
                    1.0
                };
                meter.base * series.scale * growth.max(0.2) * seasonal * noise * spike
            }
        }
    };
    let q = (q * 1e6).round() / 1e6;
    (q > 0.0).then_some(q)
}

pub fn days_in_month(d: NaiveDate) -> u32 {
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid");
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("in range");
    next.signed_duration_since(first).num_days() as u32
}

/// The money of one line item: totals in millionths, exact.
pub struct Priced {
    pub unit_price: Amount,
    /// Exact, as the service writes it: 15 % off 0.000016 is 0.0000136,
    /// more decimals than millionths hold.
    pub effective_unit_price: model::exact::Decimal,
    pub pricing_total: Amount,
    pub billing_total: Amount,
    pub pec_rate: f64,
    pub fx_micros: i64,
}

pub fn price(meter: &Meter, quantity: f64, currency: Currency, pec_applied: bool) -> Priced {
    let unit_price = Amount::from_micros(meter.list_price_usd_micros);
    let pec_basis_points: i64 = if pec_applied && meter.pec_eligible {
        1_500
    } else {
        0
    };
    let pec_rate = pec_basis_points as f64 / 10_000.0;
    // The list price less the credit, in ten-billionths: exact.
    let effective = model::exact::Decimal::new(
        meter.list_price_usd_micros * (10_000 - pec_basis_points),
        10,
    )
    .normalize();
    let q_micros = (quantity * MICROS as f64).round() as i64;
    // Price times quantity, rounded once.
    let pricing_total = Amount::from_micros(model::exact::product_micros(
        effective,
        model::exact::from_micros(q_micros),
    ));
    let fx_micros = usd_to(currency);
    Priced {
        unit_price,
        effective_unit_price: effective,
        pricing_total,
        billing_total: pricing_total.times_micros(fx_micros),
        pec_rate,
        fx_micros,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_series_other_seed_other_series() {
        let w = (
            day_number(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap()),
            day_number(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        );
        let a = series_for_customer(42, 7, "US", 2, w);
        let b = series_for_customer(42, 7, "US", 2, w);
        let c = series_for_customer(43, 7, "US", 2, w);
        let names = |s: &[Series]| {
            s.iter()
                .map(|x| (x.resource_name.clone(), x.meter))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
        assert_ne!(names(&a), names(&c));
        assert!(!a.is_empty());
    }

    #[test]
    fn dev_machines_are_off_at_weekends() {
        let cat = catalog(1);
        let series = Series {
            entitlement: 0,
            resource_group: "rg".into(),
            resource_name: "vm".into(),
            provider: "Microsoft.Compute/virtualMachines",
            meter: 0,
            location: "eastus",
            meter_region: "US East",
            tags: String::new(),
            first_day: 0,
            last_day: 100_000,
            scale: 1.0,
            idle: false,
            weekday_only: true,
        };
        let trend = Trend {
            growth: 0.0,
            spikes: vec![],
            pec_lost: vec![],
        };
        let saturday = day_number(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(quantity(1, &cat[0], &series, 1, &trend, 0, saturday), None);
        assert_eq!(
            quantity(1, &cat[0], &series, 1, &trend, 0, saturday + 2),
            Some(24.0)
        );
    }

    #[test]
    fn pec_lowers_the_partner_price_by_fifteen_percent() {
        let cat = catalog(1);
        let with = price(&cat[0], 24.0, Currency::USD, true);
        let without = price(&cat[0], 24.0, Currency::USD, false);
        assert_eq!(
            without.billing_total,
            Amount::parse_decimal("4.608").unwrap()
        );
        assert_eq!(with.billing_total, Amount::parse_decimal("3.9168").unwrap());
        let eur = price(&cat[0], 24.0, Currency::EUR, false);
        assert_eq!(eur.billing_total, Amount::parse_decimal("4.23936").unwrap());
    }
}
