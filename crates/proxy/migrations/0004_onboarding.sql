-- The partner's Commerce ID, as its organization profile gives it.
ALTER TABLE partners ADD COLUMN commerce_id TEXT;

-- Signed-in users' sessions. The token is never stored, only its SHA-256.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    user_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The partner's connection: its registered app and key, the key sealed
-- with AES-256-GCM (see crypto.rs).
CREATE TABLE connections (
    partner_id INTEGER PRIMARY KEY REFERENCES partners (id),
    app_id TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Where the partner is in the onboarding, and its trial.
CREATE TABLE onboarding (
    partner_id INTEGER PRIMARY KEY REFERENCES partners (id),
    step TEXT NOT NULL,
    app_object_id TEXT,
    app_id TEXT,
    app_name TEXT,
    trial_started_at TEXT,
    trial_ends_at TEXT,
    activated INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

-- Keys made in the wizard: their dates and a SHA-256 of the value (to
-- recognise a revoked key if someone enters it), never the value.
CREATE TABLE app_keys (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    app_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    value_hash TEXT,
    revoked_at TEXT,
    PRIMARY KEY (partner_id, key_id)
);
