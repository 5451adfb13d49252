-- The line items' sums per day, customer, charge type and currency, kept
-- beside them: the Explorer's first view of a large partner (by customer)
-- reads a month's sums here instead of a month's million lines. One row per
-- scope and version as the lines are (the same condition keeps both), with
-- the tag keys the lines' resources carry (`{"env":""}`; `json_patch`
-- unites two): the keys the view offers to group by. Written when a
-- scope's snapshot is kept, deleted with its lines; repricing writes them
-- again. STRICT: a sum past 64 bits would become a REAL, and is refused.
CREATE TABLE line_sums (
    partner_id INTEGER NOT NULL,
    usage_date TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    charge_type TEXT NOT NULL,
    billing_currency TEXT NOT NULL,
    scope TEXT NOT NULL,
    version INTEGER NOT NULL,
    tag_keys TEXT NOT NULL,
    billing_total_micros INTEGER NOT NULL,
    customer_price_micros INTEGER NOT NULL,
    list_cost_micros INTEGER NOT NULL,
    quantity_micros INTEGER NOT NULL,
    line_items INTEGER NOT NULL,
    PRIMARY KEY (partner_id, usage_date, customer_id, charge_type, billing_currency, scope, version)
) STRICT, WITHOUT ROWID;

-- Replacing a scope deletes its sums by scope.
CREATE INDEX line_sums_by_scope ON line_sums (partner_id, scope);
