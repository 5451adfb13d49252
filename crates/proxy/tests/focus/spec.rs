//! FOCUS 1.2's tables, copied from the specification (tag `v1.2`): each
//! column's feature level, nullability, data type and allowed values, and
//! the Unit Format attribute's terms. `rules.rs` checks a file with them.

/// The Mandatory columns ("Feature level: Mandatory" in each column's
/// content constraints).
pub const MANDATORY: &[&str] = &[
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
];

/// The Conditional columns whose condition Azure sold through CSP meets,
/// each with the condition as the specification states it.
pub const CONDITIONAL_MET: &[(&str, &str)] = &[
    (
        "BillingAccountType",
        "more than one billing account type (customers, the partner's own)",
    ),
    (
        "CommitmentDiscountCategory",
        "supports commitment discounts (reservations, savings plans)",
    ),
    ("CommitmentDiscountId", "supports commitment discounts"),
    ("CommitmentDiscountName", "supports commitment discounts"),
    (
        "CommitmentDiscountQuantity",
        "supports commitment discounts",
    ),
    ("CommitmentDiscountStatus", "supports commitment discounts"),
    ("CommitmentDiscountType", "supports commitment discounts"),
    ("CommitmentDiscountUnit", "supports commitment discounts"),
    ("ConsumedQuantity", "supports the measurement of usage"),
    ("ConsumedUnit", "supports the measurement of usage"),
    (
        "ContractedUnitPrice",
        "supports negotiated pricing concepts",
    ),
    (
        "ListUnitPrice",
        "publishes unit prices exclusive of discounts",
    ),
    (
        "PricingCategory",
        "more than one pricing category across all SKUs",
    ),
    (
        "PricingCurrency",
        "supports pricing and billing in different currencies",
    ),
    ("RegionId", "supports deploying resources within a region"),
    ("RegionName", "supports deploying resources within a region"),
    (
        "ResourceId",
        "supports billing based on provisioned resources",
    ),
    (
        "ResourceName",
        "supports billing based on provisioned resources",
    ),
    ("ResourceType", "provisioned resources with types"),
    (
        "SkuId",
        "supports unit pricing concepts and publishes price lists",
    ),
    (
        "SkuMeter",
        "supports unit pricing concepts and publishes price lists",
    ),
    (
        "SkuPriceDetails",
        "supports unit pricing concepts and publishes price lists",
    ),
    (
        "SkuPriceId",
        "supports unit pricing concepts and publishes price lists",
    ),
    (
        "SubAccountId",
        "supports a sub account construct (subscriptions)",
    ),
    ("SubAccountName", "supports a sub account construct"),
    ("SubAccountType", "more than one sub account type"),
    ("Tags", "supports setting user-defined tags"),
];

/// Every column FOCUS 1.2 defines.
pub const FOCUS_COLUMNS: &[&str] = &[
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
];

/// "Allows nulls: False".
pub const NOT_NULL: &[&str] = &[
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    // "PricingCurrency MUST NOT be null", "PricingCurrencyEffectiveCost
    // MUST NOT be null" (Conditional columns that are present).
    "PricingCurrency",
    "PricingCurrencyEffectiveCost",
];

/// "Data type: Decimal".
pub const DECIMALS: &[&str] = &[
    "BilledCost",
    "CommitmentDiscountQuantity",
    "ConsumedQuantity",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "ListCost",
    "ListUnitPrice",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
];

/// "MUST be a non-negative decimal value".
pub const NON_NEGATIVE: &[&str] = &[
    "ContractedUnitPrice",
    "ListUnitPrice",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyListUnitPrice",
];

pub const DATES: &[&str] = &[
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargePeriodEnd",
    "ChargePeriodStart",
];

/// Columns with "Value format: Allowed values", and their values.
pub const ALLOWED: &[(&str, &[&str])] = &[
    (
        "ChargeCategory",
        &["Usage", "Purchase", "Tax", "Credit", "Adjustment"],
    ),
    ("ChargeClass", &["Correction"]),
    ("ChargeFrequency", &["One-Time", "Recurring", "Usage-Based"]),
    (
        "PricingCategory",
        &["Standard", "Dynamic", "Committed", "Other"],
    ),
    ("CommitmentDiscountCategory", &["Spend", "Usage"]),
    ("CommitmentDiscountStatus", &["Used", "Unused"]),
    ("CapacityReservationStatus", &["Used", "Unused"]),
    (
        "ServiceCategory",
        &[
            "AI and Machine Learning",
            "Analytics",
            "Business Applications",
            "Compute",
            "Databases",
            "Developer Tools",
            "Multicloud",
            "Identity",
            "Integration",
            "Internet of Things",
            "Management and Governance",
            "Media",
            "Migration",
            "Mobile",
            "Networking",
            "Security",
            "Storage",
            "Web",
            "Other",
        ],
    ),
];

/// ServiceSubcategory's allowed values under their one parent category.
pub const SUBCATEGORIES: &[(&str, &[&str])] = &[
    (
        "AI and Machine Learning",
        &[
            "AI Platforms",
            "Bots",
            "Generative AI",
            "Machine Learning",
            "Natural Language Processing",
            "Other (AI and Machine Learning)",
        ],
    ),
    (
        "Analytics",
        &[
            "Analytics Platforms",
            "Business Intelligence",
            "Data Processing",
            "Search",
            "Streaming Analytics",
            "Other (Analytics)",
        ],
    ),
    (
        "Business Applications",
        &[
            "Productivity and Collaboration",
            "Other (Business Applications)",
        ],
    ),
    (
        "Compute",
        &[
            "Containers",
            "End User Computing",
            "Quantum Compute",
            "Serverless Compute",
            "Virtual Machines",
            "Other (Compute)",
        ],
    ),
    (
        "Databases",
        &[
            "Caching",
            "Data Warehouses",
            "Ledger Databases",
            "NoSQL Databases",
            "Relational Databases",
            "Time Series Databases",
            "Other (Databases)",
        ],
    ),
    (
        "Developer Tools",
        &[
            "Developer Platforms",
            "Continuous Integration and Deployment",
            "Development Environments",
            "Source Code Management",
            "Quality Assurance",
            "Other (Developer Tools)",
        ],
    ),
    (
        "Identity",
        &["Identity and Access Management", "Other (Identity)"],
    ),
    (
        "Integration",
        &[
            "API Management",
            "Messaging",
            "Workflow Orchestration",
            "Other (Integration)",
        ],
    ),
    (
        "Internet of Things",
        &[
            "IoT Analytics",
            "IoT Platforms",
            "Other (Internet of Things)",
        ],
    ),
    (
        "Management and Governance",
        &[
            "Architecture",
            "Compliance",
            "Cost Management",
            "Data Governance",
            "Disaster Recovery",
            "Endpoint Management",
            "Observability",
            "Support",
            "Other (Management and Governance)",
        ],
    ),
    (
        "Media",
        &[
            "Content Creation",
            "Gaming",
            "Media Streaming",
            "Mixed Reality",
            "Other (Media)",
        ],
    ),
    (
        "Migration",
        &["Data Migration", "Resource Migration", "Other (Migration)"],
    ),
    ("Mobile", &["Other (Mobile)"]),
    (
        "Multicloud",
        &["Multicloud Integration", "Other (Multicloud)"],
    ),
    (
        "Networking",
        &[
            "Application Networking",
            "Content Delivery",
            "Network Connectivity",
            "Network Infrastructure",
            "Network Routing",
            "Network Security",
            "Other (Networking)",
        ],
    ),
    (
        "Security",
        &[
            "Secret Management",
            "Security Posture Management",
            "Threat Detection and Response",
            "Other (Security)",
        ],
    ),
    (
        "Storage",
        &[
            "Backup Storage",
            "Block Storage",
            "File Storage",
            "Object Storage",
            "Storage Platforms",
            "Other (Storage)",
        ],
    ),
    ("Web", &["Application Platforms", "Other (Web)"]),
    ("Other", &["Other (Other)"]),
];

/// SkuPriceDetails' FOCUS-defined property keys; any other key "MUST
/// begin with the string x_".
pub const SKU_PRICE_PROPERTIES: &[&str] = &[
    "CoreCount",
    "DiskMaxIops",
    "DiskSpace",
    "DiskType",
    "GpuCount",
    "InstanceType",
    "InstanceSeries",
    "MemorySize",
    "NetworkMaxIops",
    "NetworkMaxThroughput",
    "OperatingSystem",
    "Redundancy",
    "StorageClass",
];

/// Unit Format's terms whose capitalisation the attribute fixes.
pub const DATA_SIZES: &[&str] = &[
    "b", "B", "Kb", "KB", "Mb", "MB", "Gb", "GB", "Tb", "TB", "Pb", "PB", "Eb", "EB", "Kib", "KiB",
    "Mib", "MiB", "Gib", "GiB", "Tib", "TiB", "Pib", "PiB", "Eib", "EiB",
];

pub const TIMES: &[&str] = &["Year", "Month", "Day", "Hour", "Minute", "Second"];

pub const COUNTS: &[&str] = &[
    "Count",
    "Unit",
    "Request",
    "Token",
    "Connection",
    "Certificate",
    "Domain",
    "Core",
];
