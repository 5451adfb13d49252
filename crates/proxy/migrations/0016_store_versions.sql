-- How far the store has moved, for every process that keeps figures read
-- from it (replicas sharing one store): each write moves `everything` in
-- its own transaction, a write to the line items `lines` too, a markup's
-- repricing of the lines `repricings` (a scope being read meanwhile works
-- its sums out again); a session ended before its time (a sign-out, a
-- customer user removed) moves `sessions` alone; a partner's connection
-- stored or sealed again moves `connections` too. A process keeps a figure,
-- a session or a row while the counter it was read at still stands.
CREATE TABLE store_versions (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    everything INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    repricings INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    connections INTEGER NOT NULL
);
INSERT INTO store_versions (id, everything, lines, repricings, sessions, connections)
VALUES (1, 0, 0, 0, 0, 0);
