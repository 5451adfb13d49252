-- The day the partner's exchange rates are of; null for rates saved before.
ALTER TABLE settings ADD COLUMN rates_of TEXT;

-- A person's named Explorer views: the page and its URL query, so opening
-- one (or sharing its link) shows the same grouping, filters and period.
CREATE TABLE saved_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    user_name TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (partner_id, user_name, name)
);
