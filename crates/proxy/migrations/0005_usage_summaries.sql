-- Partner Center's own estimate of each customer's open period (usage summary),
-- kept beside the line items as a cross-check.
CREATE TABLE usage_summaries (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    total_micros INTEGER NOT NULL,
    currency TEXT NOT NULL,
    billing_start TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);
