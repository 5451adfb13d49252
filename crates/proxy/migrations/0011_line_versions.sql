-- Lines are written once, straight into line_items, under the version of
-- the read that brings them; a scope's kept version is the one its
-- snapshot names. Lines of any other version are being read (or were left
-- by a sync that died) and no query sees them: a snapshot still replaces
-- its scope in one transaction, without copying a million lines from a
-- staging table. Version 0 is kept without a snapshot: lines kept before
-- versions, or added outside a sync (tools, tests).
CREATE TABLE line_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    started_at TEXT NOT NULL
);
ALTER TABLE line_items ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
-- Half-read scopes of an older proxy: the next sync reads them again.
DROP TABLE staged_lines;
