-- Usage is kept as snapshots of what the upstream served, not merged by a
-- key: a scope (one period's unbilled usage in one currency, or one
-- invoice, from Partner Center's v1 routes or Graph's export) is replaced
-- whole once it has been read to its end. Two real lines that share every
-- identity field (two savings-plan benefits of one resource-day) are both
-- kept, so the table has a row ID and no unique key. What was stored before
-- is read again by the next sync. The lines name their partner, meter and
-- resource without foreign keys: millions of lines are written per sync,
-- the dictionaries' IDs come from the same transaction, and three lookups
-- per line would cost a third of the time it takes to keep it.
DROP TABLE line_items;
DROP TABLE feeds;

CREATE TABLE line_items (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL,
    -- The line's identity (model::usage), not unique.
    key INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    usage_date TEXT NOT NULL,
    meter INTEGER NOT NULL,
    resource INTEGER NOT NULL,
    charge_type TEXT NOT NULL,
    quantity_micros INTEGER NOT NULL,
    unit_price_micros INTEGER NOT NULL,
    effective_unit_price_micros INTEGER NOT NULL,
    pricing_total_micros INTEGER NOT NULL,
    pricing_currency TEXT NOT NULL,
    billing_total_micros INTEGER NOT NULL,
    billing_currency TEXT NOT NULL,
    list_cost_micros INTEGER NOT NULL,
    customer_price_micros INTEGER NOT NULL,
    fx_micros INTEGER NOT NULL,
    pec_basis_points INTEGER NOT NULL,
    credit_type TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    benefit_order_id TEXT NOT NULL,
    benefit_id TEXT NOT NULL,
    benefit_type TEXT NOT NULL,
    -- The snapshot the line belongs to: `v2:unbilled:USD:2026-11`, `v1:invoice:D2026100001`.
    scope TEXT NOT NULL,
    run_id INTEGER NOT NULL
);

CREATE INDEX line_items_by_customer ON line_items (partner_id, customer_id, usage_date);
CREATE INDEX line_items_by_date ON line_items (partner_id, usage_date);
CREATE INDEX line_items_by_scope ON line_items (partner_id, scope);

-- A scope being read: its lines wait here until the whole export or feed is
-- read, then replace the scope's lines in one transaction. A sync that dies
-- half way leaves the previous snapshot whole (the next one clears this).
-- The kept lines' columns, without an index: it holds only the scopes
-- being read, each read whole.
CREATE TABLE staged_lines AS SELECT partner_id, key, customer_id, subscription_id, usage_date,
    meter, resource, charge_type, quantity_micros, unit_price_micros, effective_unit_price_micros,
    pricing_total_micros, pricing_currency, billing_total_micros, billing_currency,
    list_cost_micros, customer_price_micros, fx_micros, pec_basis_points, credit_type,
    invoice_number, benefit_order_id, benefit_id, benefit_type, scope, run_id
    FROM line_items WHERE 0;

-- The snapshot each scope holds: where it came from (`v1` or `v2`), whether
-- billed, its currency and billing month, the export's eTag (a new one is a
-- new data version), and the lines it could not read (a billed scope with
-- none is complete and never read again by an incremental sync).
CREATE TABLE snapshots (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    scope TEXT NOT NULL,
    api TEXT NOT NULL,
    billed INTEGER NOT NULL,
    currency TEXT NOT NULL,
    month TEXT NOT NULL,
    etag TEXT NOT NULL,
    line_items INTEGER NOT NULL,
    billing_total_micros INTEGER NOT NULL,
    unreadable INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, scope)
);
