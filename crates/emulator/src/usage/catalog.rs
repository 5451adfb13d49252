//! The meter catalog: real units and public US pay-as-you-go list prices
//! (rounded), one row per meter.

use model::Guid;
use model::money::MICROS;

/// How a meter's daily quantity behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Hours of a running thing: up to 24 a day per instance.
    Hours,
    /// A monthly charge spread over the days of the month.
    Monthly,
    /// A volume (GB, operations) that moves with load and can spike.
    Volume,
}

pub struct Meter {
    pub id: Guid,
    pub category: &'static str,
    pub subcategory: &'static str,
    pub name: &'static str,
    pub sku: &'static str,
    pub unit: &'static str,
    /// List (pay-as-you-go) price per unit in US dollars, in millionths.
    pub list_price_usd_micros: i64,
    pub consumed_service: &'static str,
    pub publisher: &'static str,
    pub pattern: Pattern,
    /// Typical quantity per day of one instance.
    pub base: f64,
    /// Whether partner-earned credit applies (first-party Azure services).
    pub pec_eligible: bool,
}

macro_rules! meter {
    ($n:expr, $cat:expr, $sub:expr, $name:expr, $sku:expr, $unit:expr, $price:expr, $svc:expr, $pattern:expr, $base:expr) => {
        (
            $n,
            $cat,
            $sub,
            $name,
            $sku,
            $unit,
            $price,
            $svc,
            "Microsoft",
            $pattern,
            $base,
            true,
        )
    };
}

pub(super) type MeterRow = (
    u64,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static str,
    &'static str,
    Pattern,
    f64,
    bool,
);

/// The catalog: list prices are public US pay-as-you-go prices, rounded.
pub(super) const CATALOG: &[MeterRow] = &[
    meter!(
        0,
        "Virtual Machines",
        "Dv5 Series",
        "D4s v5",
        "D4s v5",
        "1 Hour",
        0.192,
        "Microsoft.Compute",
        Pattern::Hours,
        24.0
    ),
    meter!(
        1,
        "Virtual Machines",
        "Bsv2 Series",
        "B2s v2",
        "B2s v2",
        "1 Hour",
        0.0416,
        "Microsoft.Compute",
        Pattern::Hours,
        24.0
    ),
    meter!(
        2,
        "Virtual Machines",
        "Ev5 Series",
        "E8s v5",
        "E8s v5",
        "1 Hour",
        0.504,
        "Microsoft.Compute",
        Pattern::Hours,
        24.0
    ),
    meter!(
        3,
        "Storage",
        "Premium SSD Managed Disks",
        "P10 LRS Disk",
        "P10 LRS",
        "1/Month",
        19.71,
        "Microsoft.Compute",
        Pattern::Monthly,
        1.0
    ),
    meter!(
        4,
        "Storage",
        "Standard HDD Managed Disks",
        "S10 LRS Disk",
        "S10 LRS",
        "1/Month",
        5.89,
        "Microsoft.Compute",
        Pattern::Monthly,
        1.0
    ),
    meter!(
        5,
        "Storage",
        "Blob Storage",
        "Hot LRS Data Stored",
        "Hot LRS",
        "1 GB/Month",
        0.0184,
        "Microsoft.Storage",
        Pattern::Volume,
        40.0
    ),
    meter!(
        6,
        "Bandwidth",
        "Rtn Preference: MGN",
        "Standard Data Transfer Out",
        "Standard",
        "1 GB",
        0.087,
        "Microsoft.Compute",
        Pattern::Volume,
        12.0
    ),
    meter!(
        7,
        "SQL Database",
        "General Purpose - Compute Gen5",
        "vCore",
        "GP Gen5",
        "1 Hour",
        0.2522,
        "Microsoft.Sql",
        Pattern::Hours,
        48.0
    ),
    meter!(
        8,
        "SQL Database",
        "General Purpose - Storage",
        "Data Stored",
        "GP Storage",
        "1 GB/Month",
        0.115,
        "Microsoft.Sql",
        Pattern::Volume,
        8.0
    ),
    meter!(
        9,
        "Azure App Service",
        "Premium v3 Plan",
        "P1 v3 App",
        "P1 v3",
        "1 Hour",
        0.2,
        "Microsoft.Web",
        Pattern::Hours,
        24.0
    ),
    meter!(
        10,
        "Azure App Service",
        "Basic Plan",
        "B1 App",
        "B1",
        "1 Hour",
        0.075,
        "Microsoft.Web",
        Pattern::Hours,
        24.0
    ),
    meter!(
        11,
        "Azure Kubernetes Service",
        "Standard",
        "Uptime SLA",
        "Standard",
        "1 Hour",
        0.1,
        "Microsoft.ContainerService",
        Pattern::Hours,
        24.0
    ),
    meter!(
        12,
        "Azure Cosmos DB",
        "Azure Cosmos DB",
        "100 RU/s",
        "Provisioned",
        "1 Hour",
        0.008,
        "Microsoft.DocumentDB",
        Pattern::Hours,
        96.0
    ),
    meter!(
        13,
        "Azure Cosmos DB",
        "Azure Cosmos DB",
        "Data Stored",
        "Data Stored",
        "1 GB/Month",
        0.25,
        "Microsoft.DocumentDB",
        Pattern::Volume,
        3.0
    ),
    meter!(
        14,
        "Log Analytics",
        "Analytics Logs",
        "Data Ingestion",
        "Pay-as-you-go",
        "1 GB",
        2.3,
        "Microsoft.OperationalInsights",
        Pattern::Volume,
        1.5
    ),
    meter!(
        15,
        "Virtual Network",
        "IP Addresses",
        "Standard IPv4 Static Public IP",
        "Standard",
        "1 Hour",
        0.005,
        "Microsoft.Network",
        Pattern::Hours,
        24.0
    ),
    meter!(
        16,
        "Key Vault",
        "Key Vault",
        "Operations",
        "Standard",
        "10K",
        0.03,
        "Microsoft.KeyVault",
        Pattern::Volume,
        4.0
    ),
    meter!(
        17,
        "Azure Functions",
        "Functions",
        "Execution Time",
        "Consumption",
        "1 GB Second",
        0.000016,
        "Microsoft.Web",
        Pattern::Volume,
        90000.0
    ),
    (
        18,
        "Virtual Machine Licenses",
        "VM-Series Next Generation Firewall",
        "VM-Series Next Generation Firewall - 4 Core Hours",
        "VM-Series Next-Generation Firewall (Bundle 2 PAYG)",
        "1 Hour",
        1.28,
        "Microsoft.Compute",
        "Palo Alto Networks, Inc.",
        Pattern::Hours,
        24.0,
        false,
    ),
];

pub fn catalog(seed: u64) -> Vec<Meter> {
    CATALOG
        .iter()
        .map(
            |&(
                n,
                category,
                subcategory,
                name,
                sku,
                unit,
                price,
                svc,
                publisher,
                pattern,
                base,
                pec,
            )| Meter {
                id: Guid::from_seed(seed, 50_000 + n),
                category,
                subcategory,
                name,
                sku,
                unit,
                list_price_usd_micros: (price * MICROS as f64).round() as i64,
                consumed_service: svc,
                publisher,
                pattern,
                base,
                pec_eligible: pec,
            },
        )
        .collect()
}
