-- The Azure plan subscriptions and the Azure subscriptions (entitlements) under them.
CREATE TABLE subscriptions (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    id TEXT NOT NULL,
    offer_name TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);

CREATE TABLE entitlements (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    id TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);

-- Each customer's monthly usage budget as Partner Center holds it (NULL: none).
CREATE TABLE budgets (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    amount_micros INTEGER,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);

-- Dictionaries keep the line items narrow: a meter or a resource is written once.
CREATE TABLE meters (
    id INTEGER PRIMARY KEY,
    meter_id TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    subcategory TEXT NOT NULL,
    unit TEXT NOT NULL,
    publisher TEXT NOT NULL,
    UNIQUE (meter_id, name, category, subcategory, unit, publisher)
);

CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    uri TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    region TEXT NOT NULL,
    tags TEXT NOT NULL,
    entitlement_id TEXT NOT NULL,
    entitlement_name TEXT NOT NULL,
    UNIQUE (partner_id, uri, region, tags, entitlement_name)
);

-- Daily rated usage. `key` is the line's stable identity (see model::usage),
-- so re-reading a line updates it; `source` is the feed it was last read
-- from and `run_id` the sync that read it.
CREATE TABLE line_items (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    key INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    usage_date TEXT NOT NULL,
    meter INTEGER NOT NULL REFERENCES meters (id),
    resource INTEGER NOT NULL REFERENCES resources (id),
    charge_type TEXT NOT NULL,
    quantity_micros INTEGER NOT NULL,
    unit_price_micros INTEGER NOT NULL,
    effective_unit_price_micros INTEGER NOT NULL,
    pricing_total_micros INTEGER NOT NULL,
    pricing_currency TEXT NOT NULL,
    billing_total_micros INTEGER NOT NULL,
    billing_currency TEXT NOT NULL,
    -- At list price, in the billing currency.
    list_cost_micros INTEGER NOT NULL,
    -- What the customer is charged: the markup applied line by line, so
    -- every total is the exact sum of its lines (recomputed on a markup change).
    customer_price_micros INTEGER NOT NULL,
    fx_micros INTEGER NOT NULL,
    pec_basis_points INTEGER NOT NULL,
    credit_type TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    source TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (partner_id, key)
) WITHOUT ROWID;

CREATE INDEX line_items_by_customer ON line_items (partner_id, customer_id, usage_date);
CREATE INDEX line_items_by_date ON line_items (partner_id, usage_date);
CREATE INDEX line_items_by_source ON line_items (partner_id, source, run_id);

-- Feeds read to the end: a billed invoice never changes, so it is read once.
CREATE TABLE feeds (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    source TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    line_items INTEGER NOT NULL,
    billing_total_micros INTEGER NOT NULL,
    currency TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, source)
);

ALTER TABLE sync_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'full';
ALTER TABLE sync_runs ADD COLUMN line_items INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN feeds_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN feeds_total INTEGER;
ALTER TABLE sync_runs ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
