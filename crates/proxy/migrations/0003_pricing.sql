-- The partner's name as Partner Center writes it on usage (the FOCUS provider).
ALTER TABLE partners ADD COLUMN name TEXT;

-- Markups per customer; customer_id '*' is the partner's default.
CREATE TABLE markups (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    basis TEXT NOT NULL CHECK (basis IN ('partnerCost', 'listPrice')),
    basis_points INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);

-- The currency cross-currency totals are shown in, and the partner's rates.
CREATE TABLE settings (
    partner_id INTEGER PRIMARY KEY REFERENCES partners (id),
    reporting_currency TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Units of the reporting currency per unit of `currency`, in millionths.
CREATE TABLE exchange_rates (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    currency TEXT NOT NULL,
    rate_micros INTEGER NOT NULL CHECK (rate_micros > 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, currency)
);

-- Budget alert thresholds per customer, in percent of the budget (e.g. 50,80,100).
CREATE TABLE budget_thresholds (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    percents TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);
