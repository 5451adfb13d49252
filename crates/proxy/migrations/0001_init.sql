-- Partners this proxy serves, keyed by their Entra tenant.
CREATE TABLE partners (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Customers as last read from Partner Center.
CREATE TABLE customers (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    domain TEXT NOT NULL,
    relationship TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);

-- One row per sync, so progress survives restarts and failures are visible.
CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    customers_done INTEGER NOT NULL DEFAULT 0,
    customers_total INTEGER,
    error TEXT
);
