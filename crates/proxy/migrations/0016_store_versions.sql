-- How far the store has moved, for every process that keeps figures read
-- from it (replicas sharing one store): each write moves `everything` in
-- its own transaction, a write to the line items `lines` too, a markup's
-- repricing of the lines `repricings` (a scope being read meanwhile works
-- its sums out again). A process keeps a figure while the counter it was
-- computed at still stands.
CREATE TABLE store_versions (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    everything INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    repricings INTEGER NOT NULL
);
INSERT INTO store_versions (id, everything, lines, repricings) VALUES (1, 0, 0, 0);
