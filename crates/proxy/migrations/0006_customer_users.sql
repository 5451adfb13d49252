-- People of a customer whom the partner let see that customer's own costs,
-- at the customer's price. They sign in from the customer's own tenant.
CREATE TABLE customer_users (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    customer_id TEXT NOT NULL,
    -- Lower case, as compared at sign-in.
    user_name TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    invited_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id, user_name)
);

CREATE INDEX customer_users_by_tenant ON customer_users (customer_id, user_name);

-- The one customer a customer user's session may see; NULL for the partner's people.
ALTER TABLE sessions ADD COLUMN customer_id TEXT;
