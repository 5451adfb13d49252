//! What FOCUS names differently from Azure: services' categories and
//! subcategories, regions' display names, resource types as a person reads
//! them, and units in the specification's unit format.

/// FOCUS's (ServiceCategory, ServiceSubcategory) for an Azure meter
/// category (the ServiceName). A service FOCUS has no place for is
/// `("Other", "Other (Other)")`, as the specification asks.
pub fn service(meter_category: &str) -> (&'static str, &'static str) {
    SERVICES
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(meter_category))
        .map(|(_, category, subcategory)| (*category, *subcategory))
        .unwrap_or(("Other", "Other (Other)"))
}

/// Azure meter categories, each with its FOCUS category and subcategory.
pub const SERVICES: &[(&str, &str, &str)] = &[
    ("Virtual Machines", "Compute", "Virtual Machines"),
    ("Virtual Machine Licenses", "Compute", "Virtual Machines"),
    ("Cloud Services", "Compute", "Other (Compute)"),
    ("Azure Functions", "Compute", "Serverless Compute"),
    ("Azure Kubernetes Service", "Compute", "Containers"),
    ("Container Instances", "Compute", "Containers"),
    ("Azure Virtual Desktop", "Compute", "End User Computing"),
    ("Azure App Service", "Web", "Application Platforms"),
    ("Storage", "Storage", "Storage Platforms"),
    ("Backup", "Storage", "Backup Storage"),
    ("Bandwidth", "Networking", "Network Connectivity"),
    ("Virtual Network", "Networking", "Network Infrastructure"),
    ("Load Balancer", "Networking", "Application Networking"),
    (
        "Application Gateway",
        "Networking",
        "Application Networking",
    ),
    ("VPN Gateway", "Networking", "Network Connectivity"),
    ("ExpressRoute", "Networking", "Network Connectivity"),
    ("Content Delivery Network", "Networking", "Content Delivery"),
    ("Azure DNS", "Networking", "Network Routing"),
    ("Azure Firewall", "Networking", "Network Security"),
    ("SQL Database", "Databases", "Relational Databases"),
    ("SQL Managed Instance", "Databases", "Relational Databases"),
    (
        "Azure Database for PostgreSQL",
        "Databases",
        "Relational Databases",
    ),
    (
        "Azure Database for MySQL",
        "Databases",
        "Relational Databases",
    ),
    ("Azure Cosmos DB", "Databases", "NoSQL Databases"),
    ("Redis Cache", "Databases", "Caching"),
    ("Azure Synapse Analytics", "Databases", "Data Warehouses"),
    ("Azure Data Factory v2", "Analytics", "Data Processing"),
    ("Azure Databricks", "Analytics", "Analytics Platforms"),
    ("Event Hubs", "Analytics", "Streaming Analytics"),
    ("Azure Cognitive Search", "Analytics", "Search"),
    ("Power BI Embedded", "Analytics", "Business Intelligence"),
    ("Service Bus", "Integration", "Messaging"),
    ("Event Grid", "Integration", "Messaging"),
    ("API Management", "Integration", "API Management"),
    ("Logic Apps", "Integration", "Workflow Orchestration"),
    (
        "Cognitive Services",
        "AI and Machine Learning",
        "AI Platforms",
    ),
    (
        "Azure OpenAI Service",
        "AI and Machine Learning",
        "Generative AI",
    ),
    (
        "Azure Machine Learning",
        "AI and Machine Learning",
        "Machine Learning",
    ),
    ("IoT Hub", "Internet of Things", "IoT Platforms"),
    (
        "Log Analytics",
        "Management and Governance",
        "Observability",
    ),
    (
        "Azure Monitor",
        "Management and Governance",
        "Observability",
    ),
    (
        "Application Insights",
        "Management and Governance",
        "Observability",
    ),
    (
        "Azure Site Recovery",
        "Management and Governance",
        "Disaster Recovery",
    ),
    ("Key Vault", "Security", "Secret Management"),
    (
        "Microsoft Defender for Cloud",
        "Security",
        "Security Posture Management",
    ),
    ("Sentinel", "Security", "Threat Detection and Response"),
    (
        "Microsoft Entra ID",
        "Identity",
        "Identity and Access Management",
    ),
];

/// An Azure region's display name for its ID (`westeurope` → `West
/// Europe`); an ID not in the table is its own name.
pub fn region_name(id: &str) -> &str {
    REGIONS
        .iter()
        .find(|(region, _)| region.eq_ignore_ascii_case(id))
        .map(|(_, name)| *name)
        .unwrap_or(id)
}

/// Azure's public regions: the ID is the name in lower case without spaces.
pub const REGIONS: &[(&str, &str)] = &[
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("westus", "West US"),
    ("westus2", "West US 2"),
    ("westus3", "West US 3"),
    ("centralus", "Central US"),
    ("northcentralus", "North Central US"),
    ("southcentralus", "South Central US"),
    ("westcentralus", "West Central US"),
    ("canadacentral", "Canada Central"),
    ("canadaeast", "Canada East"),
    ("brazilsouth", "Brazil South"),
    ("mexicocentral", "Mexico Central"),
    ("northeurope", "North Europe"),
    ("westeurope", "West Europe"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("francecentral", "France Central"),
    ("germanywestcentral", "Germany West Central"),
    ("switzerlandnorth", "Switzerland North"),
    ("norwayeast", "Norway East"),
    ("swedencentral", "Sweden Central"),
    ("italynorth", "Italy North"),
    ("polandcentral", "Poland Central"),
    ("spaincentral", "Spain Central"),
    ("eastasia", "East Asia"),
    ("southeastasia", "Southeast Asia"),
    ("japaneast", "Japan East"),
    ("japanwest", "Japan West"),
    ("koreacentral", "Korea Central"),
    ("koreasouth", "Korea South"),
    ("centralindia", "Central India"),
    ("southindia", "South India"),
    ("westindia", "West India"),
    ("australiaeast", "Australia East"),
    ("australiasoutheast", "Australia Southeast"),
    ("australiacentral", "Australia Central"),
    ("newzealandnorth", "New Zealand North"),
    ("uaenorth", "UAE North"),
    ("qatarcentral", "Qatar Central"),
    ("israelcentral", "Israel Central"),
    ("southafricanorth", "South Africa North"),
];

/// The Azure resource type of a resource ID, whole: a SQL database
/// (`…/providers/Microsoft.Sql/servers/s1/databases/db1`) is
/// `Microsoft.Sql/servers/databases`. Resource groups and subscriptions,
/// which have no provider segment, are named as such; anything else is
/// empty.
pub fn azure_resource_type(uri: &str) -> String {
    let parts: Vec<&str> = uri.split('/').filter(|p| !p.is_empty()).collect();
    // The last provider segment names the type (an extension resource
    // sits under another resource's ID).
    if let Some(at) = parts
        .iter()
        .rposition(|p| p.eq_ignore_ascii_case("providers"))
    {
        let rest = &parts[at + 1..];
        if rest.len() >= 2 {
            let mut kind = rest[0].to_string();
            // Namespace, then type/name pairs: keep the types.
            for t in rest[1..].iter().step_by(2) {
                kind.push('/');
                kind.push_str(t);
            }
            return kind;
        }
        return String::new();
    }
    match parts.len() {
        2 if parts[0].eq_ignore_ascii_case("subscriptions") => {
            "Microsoft.Resources/subscriptions".into()
        }
        4 if parts[2].eq_ignore_ascii_case("resourceGroups") => {
            "Microsoft.Resources/resourceGroups".into()
        }
        _ => String::new(),
    }
}

/// A resource type as a person reads it (`Virtual Machine`), or the Azure
/// type itself where the table has no name for it.
pub fn resource_type_name(azure_type: &str) -> String {
    RESOURCE_TYPES
        .iter()
        .find(|(kind, _)| kind.eq_ignore_ascii_case(azure_type))
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| azure_type.to_string())
}

/// Azure resource types with the names Azure's portal gives them.
pub const RESOURCE_TYPES: &[(&str, &str)] = &[
    ("Microsoft.Compute/virtualMachines", "Virtual Machine"),
    (
        "Microsoft.Compute/virtualMachineScaleSets",
        "Virtual Machine Scale Set",
    ),
    ("Microsoft.Compute/disks", "Disk"),
    ("Microsoft.Compute/snapshots", "Snapshot"),
    ("Microsoft.Storage/storageAccounts", "Storage Account"),
    ("Microsoft.Sql/servers", "SQL Server"),
    ("Microsoft.Sql/servers/databases", "SQL Database"),
    ("Microsoft.Sql/servers/elasticPools", "SQL Elastic Pool"),
    ("Microsoft.Sql/managedInstances", "SQL Managed Instance"),
    ("Microsoft.Web/sites", "App Service"),
    ("Microsoft.Web/serverFarms", "App Service Plan"),
    (
        "Microsoft.ContainerService/managedClusters",
        "Kubernetes Service",
    ),
    (
        "Microsoft.DocumentDB/databaseAccounts",
        "Azure Cosmos DB Account",
    ),
    (
        "Microsoft.OperationalInsights/workspaces",
        "Log Analytics Workspace",
    ),
    ("Microsoft.KeyVault/vaults", "Key Vault"),
    ("Microsoft.Network/publicIPAddresses", "Public IP Address"),
    ("Microsoft.Network/virtualNetworks", "Virtual Network"),
    ("Microsoft.Network/loadBalancers", "Load Balancer"),
    (
        "Microsoft.Network/virtualNetworkGateways",
        "Virtual Network Gateway",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "Application Gateway",
    ),
    (
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Azure Database for PostgreSQL Flexible Server",
    ),
    ("Microsoft.Cache/redis", "Azure Cache for Redis"),
    (
        "Microsoft.RecoveryServices/vaults",
        "Recovery Services Vault",
    ),
    ("Microsoft.Insights/components", "Application Insights"),
    ("Microsoft.Resources/subscriptions", "Subscription"),
    ("Microsoft.Resources/resourceGroups", "Resource Group"),
];

/// An Azure unit of measure in FOCUS's unit format: `1 Hour` → `Hours`,
/// `1 GB/Month` → `GB-Months`, `10K` → `10000 Units`, `1 GB Second` →
/// `GB-Seconds`. A unit this does not know is kept as Azure wrote it.
pub fn unit(azure: &str) -> String {
    let t = azure.trim();
    // The block: leading digits, with Azure's K and M for thousands and millions.
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (mut block, mut rest) = match t[..digits_end].parse::<u64>() {
        Ok(n) => (n, &t[digits_end..]),
        Err(_) => (1, t),
    };
    if digits_end > 0 {
        for (suffix, times) in [("K", 1_000), ("M", 1_000_000)] {
            if let Some(after) = rest.strip_prefix(suffix)
                && (after.is_empty() || after.starts_with(' '))
            {
                block *= times;
                rest = after;
            }
        }
    }
    let Some(name) = unit_name(rest.trim()) else {
        return t.to_string();
    };
    if block == 1 {
        name
    } else {
        format!("{block} {name}")
    }
}

/// Data sizes FOCUS writes as abbreviations (its unit-format table).
const DATA_SIZES: &[&str] = &[
    "b", "B", "Kb", "KB", "Mb", "MB", "Gb", "GB", "Tb", "TB", "Pb", "PB", "Eb", "EB", "Kib", "KiB",
    "Mib", "MiB", "Gib", "GiB", "Tib", "TiB", "Pib", "PiB", "Eib", "EiB",
];

/// FOCUS's time units, singular.
const TIMES: &[&str] = &["Year", "Month", "Day", "Hour", "Minute", "Second"];

fn time(word: &str) -> Option<&'static str> {
    let w = word.trim_end_matches('s');
    TIMES.iter().copied().find(|t| t.eq_ignore_ascii_case(w))
}

fn data_size(word: &str) -> Option<&'static str> {
    DATA_SIZES.iter().copied().find(|d| *d == word).or_else(|| {
        // Azure writes `GB`, sometimes `Gb` meaning bytes: only the upper
        // case abbreviations are read case-insensitively.
        DATA_SIZES
            .iter()
            .copied()
            .filter(|d| d.ends_with('B'))
            .find(|d| d.eq_ignore_ascii_case(word))
    })
}

/// The unit after the block, in FOCUS's words; `None` when not known.
fn unit_name(rest: &str) -> Option<String> {
    if rest.is_empty() {
        return Some("Units".into());
    }
    // `/Month` alone: a count of something per month, as unit-months.
    if let Some(per) = rest.strip_prefix('/') {
        return time(per).map(|t| format!("Unit-{t}s"));
    }
    if rest.eq_ignore_ascii_case("RU/s") {
        return Some("Request Units/Second".into());
    }
    // A size over or times a time: `GB/Month`, `GB Second`, `GB Hour`.
    if let Some((size, over)) = rest.split_once(['/', ' '])
        && let (Some(size), Some(t)) = (data_size(size.trim()), time(over.trim()))
    {
        return Some(format!("{size}-{t}s"));
    }
    if let Some(t) = time(rest) {
        return Some(format!("{t}s"));
    }
    if let Some(size) = data_size(rest) {
        return Some(size.into());
    }
    // A count of things, capitalised and plural as FOCUS writes counts.
    let word = rest.trim();
    if word.chars().all(|c| c.is_ascii_alphabetic()) && word.len() > 1 {
        let mut name: String = word[..1].to_ascii_uppercase() + &word[1..];
        if !name.ends_with('s') {
            name.push('s');
        }
        return Some(name);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FOCUS 1.2's allowed (ServiceCategory, ServiceSubcategory) pairs that
    /// the table uses, copied from the specification's
    /// `columns/servicesubcategory.md`.
    const FOCUS_SUBCATEGORIES: &[(&str, &str)] = &[
        ("AI and Machine Learning", "AI Platforms"),
        ("AI and Machine Learning", "Generative AI"),
        ("AI and Machine Learning", "Machine Learning"),
        ("Analytics", "Analytics Platforms"),
        ("Analytics", "Business Intelligence"),
        ("Analytics", "Data Processing"),
        ("Analytics", "Search"),
        ("Analytics", "Streaming Analytics"),
        ("Compute", "Containers"),
        ("Compute", "End User Computing"),
        ("Compute", "Serverless Compute"),
        ("Compute", "Virtual Machines"),
        ("Compute", "Other (Compute)"),
        ("Databases", "Caching"),
        ("Databases", "Data Warehouses"),
        ("Databases", "NoSQL Databases"),
        ("Databases", "Relational Databases"),
        ("Identity", "Identity and Access Management"),
        ("Integration", "API Management"),
        ("Integration", "Messaging"),
        ("Integration", "Workflow Orchestration"),
        ("Internet of Things", "IoT Platforms"),
        ("Management and Governance", "Disaster Recovery"),
        ("Management and Governance", "Observability"),
        ("Networking", "Application Networking"),
        ("Networking", "Content Delivery"),
        ("Networking", "Network Connectivity"),
        ("Networking", "Network Infrastructure"),
        ("Networking", "Network Routing"),
        ("Networking", "Network Security"),
        ("Security", "Secret Management"),
        ("Security", "Security Posture Management"),
        ("Security", "Threat Detection and Response"),
        ("Storage", "Backup Storage"),
        ("Storage", "Storage Platforms"),
        ("Web", "Application Platforms"),
        ("Other", "Other (Other)"),
    ];

    #[test]
    fn every_service_has_a_subcategory_under_its_category() {
        for (name, category, subcategory) in SERVICES {
            assert!(
                FOCUS_SUBCATEGORIES.contains(&(*category, *subcategory)),
                "{name}: {category} / {subcategory} is not a FOCUS pair"
            );
            assert_eq!(service(name), (*category, *subcategory));
            assert_eq!(service(&name.to_uppercase()), (*category, *subcategory));
        }
        assert_eq!(service("Quantum Widgets"), ("Other", "Other (Other)"));
    }

    #[test]
    fn every_region_name_is_its_id_spelled_out() {
        for (id, name) in REGIONS {
            assert_eq!(name.to_lowercase().replace(' ', ""), *id, "{name}");
            assert_eq!(region_name(id), *name);
            assert_eq!(region_name(&id.to_uppercase()), *name);
        }
        assert_eq!(region_name("marsnorth"), "marsnorth");
    }

    #[test]
    fn every_resource_type_reads_back_from_a_resource_id() {
        for (kind, name) in RESOURCE_TYPES {
            let (namespace, types) = kind.split_once('/').unwrap();
            if namespace == "Microsoft.Resources" {
                continue;
            }
            let mut uri = format!("/subscriptions/s1/resourceGroups/rg/providers/{namespace}");
            for (i, t) in types.split('/').enumerate() {
                uri.push_str(&format!("/{t}/n{i}"));
            }
            assert_eq!(azure_resource_type(&uri), *kind, "{uri}");
            assert_eq!(resource_type_name(kind), *name);
        }
        assert_eq!(
            azure_resource_type("/subscriptions/s1/resourceGroups/rg"),
            "Microsoft.Resources/resourceGroups"
        );
        assert_eq!(
            azure_resource_type("/subscriptions/s1"),
            "Microsoft.Resources/subscriptions"
        );
        assert_eq!(azure_resource_type(""), "");
        assert_eq!(azure_resource_type("/providers/Microsoft.Foo"), "");
        assert_eq!(
            resource_type_name("Microsoft.Foo/bars"),
            "Microsoft.Foo/bars"
        );
    }

    #[test]
    fn azure_units_in_the_focus_unit_format() {
        for (azure, focus) in [
            ("1 Hour", "Hours"),
            ("100 Hours", "100 Hours"),
            ("1 GB", "GB"),
            ("1 GB/Month", "GB-Months"),
            ("1 GB Second", "GB-Seconds"),
            ("1 GiB Hour", "GiB-Hours"),
            ("1/Month", "Unit-Months"),
            ("1/Day", "Unit-Days"),
            ("10K", "10000 Units"),
            ("1M", "1000000 Units"),
            ("10K Transactions", "10000 Transactions"),
            ("1 Day", "Days"),
            ("100 RU/s", "100 Request Units/Second"),
            ("1 Request", "Requests"),
            ("Hours", "Hours"),
            ("1 Widget-ish", "1 Widget-ish"),
        ] {
            assert_eq!(unit(azure), focus, "{azure}");
        }
    }
}
