-- Partner Center's agent groups (AdminAgents, SalesAgents) in the partner's
-- tenant, by object id: found once by name when someone signs in with the
-- right to read groups, re-checked by id after. Only these ids grant the
-- agent roles; a group's name never does.
CREATE TABLE agent_groups (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    role TEXT NOT NULL,
    group_id TEXT NOT NULL,
    found_at TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, role)
);
