-- no-transaction
-- A resource is what a line says it is: its Azure subscription and resource
-- group are part of its key (they were not, so a later line with the same
-- resource URI rewrote where earlier lines were shown). SQLite cannot change
-- a table's key in place: the table is rebuilt (with foreign keys off for the
-- swap), and every feed is marked unread so the next sync writes each line
-- again with the resource it names.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE resources_keyed (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    uri TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    region TEXT NOT NULL,
    tags TEXT NOT NULL,
    entitlement_id TEXT NOT NULL,
    entitlement_name TEXT NOT NULL,
    UNIQUE (partner_id, entitlement_id, uri, resource_group, region, tags, entitlement_name)
);
INSERT INTO resources_keyed (id, partner_id, uri, resource_group, region, tags, entitlement_id, entitlement_name)
    SELECT id, partner_id, uri, resource_group, region, tags, entitlement_id, entitlement_name FROM resources;
DROP TABLE resources;
ALTER TABLE resources_keyed RENAME TO resources;
DELETE FROM feeds;
COMMIT;
PRAGMA foreign_keys = ON;
