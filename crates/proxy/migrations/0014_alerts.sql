-- Alerts: the rules a manager sets, every event found (once per
-- occurrence, by its key, so a restart never finds it new again), and the
-- outbox of messages to send. An event's deliveries are written in the
-- transaction that records it: a proxy that dies between finding and
-- sending sends after its restart, and a delivery's row says it was sent.
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
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

CREATE TABLE alert_events (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    facts TEXT NOT NULL,
    found_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, key)
);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    event_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- The mail's plain text, or the webhook's JSON body.
    body TEXT NOT NULL,
    html TEXT NOT NULL,
    -- pending, sent or failed (given up after the last attempt).
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (partner_id, event_key, rule_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_partner ON deliveries (partner_id, id);

CREATE TABLE delivery_attempts (
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id);

CREATE TABLE alert_settings (
    partner_id INTEGER PRIMARY KEY REFERENCES partners (id),
    sync_failing_hours INTEGER NOT NULL
);
