-- The PostgreSQL store's schema: the tables, columns and indexes of the
-- SQLite store (crates/proxy/migrations) as they stand after its 18
-- migrations, one migration here since this store starts from them. Every
-- integer is BIGINT (SQLite's INTEGER is 64 bits; money is in millionths),
-- times and days stay RFC 3339 and YYYY-MM-DD text, as the store writes
-- them. store::postgres's tests check that both stores have the same
-- tables and columns, so a migration added to one is added to the other.

CREATE TABLE partners (
    id BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    name TEXT,
    commerce_id TEXT
);

CREATE TABLE agent_groups (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    role TEXT NOT NULL,
    group_id TEXT NOT NULL,
    found_at TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, role)
);

CREATE TABLE alert_events (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    facts TEXT NOT NULL,
    found_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, key)
);

CREATE TABLE alert_rules (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    -- Event kinds, comma-separated (`budget-threshold,key-expiry`).
    events TEXT NOT NULL,
    customer_id TEXT,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    shape TEXT NOT NULL,
    language TEXT NOT NULL,
    -- A generic webhook's HMAC key, sealed as app keys are.
    sealed_secret TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE alert_settings (
    partner_id BIGINT PRIMARY KEY REFERENCES partners (id),
    sync_failing_hours BIGINT NOT NULL
);

CREATE TABLE app_keys (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    app_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    value_hash TEXT,
    revoked_at TEXT,
    PRIMARY KEY (partner_id, key_id)
);

CREATE TABLE budget_thresholds (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    percents TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);

CREATE TABLE budgets (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    amount_micros BIGINT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);

CREATE TABLE connections (
    partner_id BIGINT PRIMARY KEY REFERENCES partners (id),
    app_id TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE customer_users (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    -- Lower case, as compared at sign-in.
    user_name TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    invited_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id, user_name)
);
CREATE INDEX customer_users_by_tenant ON customer_users (customer_id, user_name);

CREATE TABLE customers (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    domain TEXT NOT NULL,
    relationship TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);

CREATE TABLE deliveries (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    event_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule_id BIGINT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- The mail's plain text, or the webhook's JSON body.
    body TEXT NOT NULL,
    html TEXT NOT NULL,
    -- pending, sent or failed (given up after the last attempt).
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (partner_id, event_key, rule_id)
);
CREATE INDEX deliveries_by_partner ON deliveries (partner_id, id);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

CREATE TABLE delivery_attempts (
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
    at TEXT NOT NULL,
    ok BIGINT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id);

CREATE TABLE entitlements (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    id TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);

CREATE TABLE exchange_rates (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    currency TEXT NOT NULL,
    rate_micros BIGINT NOT NULL CHECK (rate_micros > 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, currency)
);

CREATE TABLE line_items (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL,
    -- The line's identity (model::usage), not unique.
    key BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    usage_date TEXT NOT NULL,
    meter BIGINT NOT NULL,
    resource BIGINT NOT NULL,
    charge_type TEXT NOT NULL,
    quantity_micros BIGINT NOT NULL,
    pricing_total_micros BIGINT NOT NULL,
    pricing_currency TEXT NOT NULL,
    billing_total_micros BIGINT NOT NULL,
    billing_currency TEXT NOT NULL,
    list_cost_micros BIGINT NOT NULL,
    customer_price_micros BIGINT NOT NULL,
    fx_micros BIGINT NOT NULL,
    pec_basis_points BIGINT NOT NULL,
    credit_type TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    benefit_order_id TEXT NOT NULL,
    benefit_id TEXT NOT NULL,
    benefit_type TEXT NOT NULL,
    -- The snapshot the line belongs to: `v2:unbilled:USD:2026-11`, `v1:invoice:D2026100001`.
    scope TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    -- Exact decimals as text, as Partner Center and Graph write them.
    unit_price TEXT NOT NULL DEFAULT '0',
    effective_unit_price TEXT NOT NULL DEFAULT '0'
);
-- Lines land day by day: the index by day takes them at its end (SQLite's
-- migration 0018 says why there is no index by customer).
CREATE INDEX line_items_by_date ON line_items (partner_id, usage_date);
CREATE INDEX line_items_by_scope ON line_items (partner_id, scope);

CREATE TABLE line_sums (
    partner_id BIGINT NOT NULL,
    usage_date TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    charge_type TEXT NOT NULL,
    billing_currency TEXT NOT NULL,
    scope TEXT NOT NULL,
    version BIGINT NOT NULL,
    tag_keys TEXT NOT NULL,
    billing_total_micros BIGINT NOT NULL,
    customer_price_micros BIGINT NOT NULL,
    list_cost_micros BIGINT NOT NULL,
    quantity_micros BIGINT NOT NULL,
    line_items BIGINT NOT NULL,
    PRIMARY KEY (partner_id, usage_date, customer_id, charge_type, billing_currency, scope, version)
);
CREATE INDEX line_sums_by_scope ON line_sums (partner_id, scope);

CREATE TABLE line_versions (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL,
    scope TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    started_at TEXT NOT NULL
);

CREATE TABLE markups (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    basis TEXT NOT NULL CHECK (basis IN ('partnerCost', 'listPrice')),
    basis_points BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);

CREATE TABLE meters (
    id BIGSERIAL PRIMARY KEY,
    meter_id TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    subcategory TEXT NOT NULL,
    unit TEXT NOT NULL,
    publisher TEXT NOT NULL,
    UNIQUE (meter_id, name, category, subcategory, unit, publisher)
);

CREATE TABLE onboarding (
    partner_id BIGINT PRIMARY KEY REFERENCES partners (id),
    step TEXT NOT NULL,
    app_object_id TEXT,
    app_id TEXT,
    app_name TEXT,
    trial_started_at TEXT,
    trial_ends_at TEXT,
    activated BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE resources (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    uri TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    region TEXT NOT NULL,
    tags TEXT NOT NULL,
    entitlement_id TEXT NOT NULL,
    entitlement_name TEXT NOT NULL,
    UNIQUE (partner_id, entitlement_id, uri, resource_group, region, tags, entitlement_name)
);

CREATE TABLE saved_views (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    user_name TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (partner_id, user_name, name)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    user_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    customer_id TEXT
);

CREATE TABLE settings (
    partner_id BIGINT PRIMARY KEY REFERENCES partners (id),
    reporting_currency TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rates_of TEXT
);

CREATE TABLE snapshots (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    scope TEXT NOT NULL,
    api TEXT NOT NULL,
    billed BIGINT NOT NULL,
    currency TEXT NOT NULL,
    month TEXT NOT NULL,
    etag TEXT NOT NULL,
    line_items BIGINT NOT NULL,
    billing_total_micros BIGINT NOT NULL,
    unreadable BIGINT NOT NULL,
    run_id BIGINT NOT NULL,
    completed_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, scope)
);

CREATE TABLE store_versions (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    everything BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    repricings BIGINT NOT NULL,
    sessions BIGINT NOT NULL,
    connections BIGINT NOT NULL
);
INSERT INTO store_versions (id, everything, lines, repricings, sessions, connections)
VALUES (1, 0, 0, 0, 0, 0);

CREATE TABLE subscriptions (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    id TEXT NOT NULL,
    offer_name TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);

CREATE TABLE sync_runs (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    customers_done BIGINT NOT NULL DEFAULT 0,
    customers_total BIGINT,
    error TEXT,
    kind TEXT NOT NULL DEFAULT 'full',
    line_items BIGINT NOT NULL DEFAULT 0,
    feeds_done BIGINT NOT NULL DEFAULT 0,
    feeds_total BIGINT,
    errors BIGINT NOT NULL DEFAULT 0,
    problems TEXT NOT NULL DEFAULT '[]',
    holder TEXT,
    lease_expires_at TEXT,
    phase TEXT NOT NULL DEFAULT 'done'
);
CREATE INDEX sync_runs_running ON sync_runs (status) WHERE status = 'running';

CREATE TABLE usage_summaries (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    total_micros BIGINT NOT NULL,
    currency TEXT NOT NULL,
    billing_start TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);
