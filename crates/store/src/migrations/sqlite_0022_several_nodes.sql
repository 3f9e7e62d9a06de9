-- Several nodes on one database (issue 16 §4); on SQLite there is one node, but the tables are the same.
-- Leases on work that one node at a time does outside a transaction (the mail subscriber sends, then moves its
-- cursor): the holder renews before `until_ms`; after it, any node may take the lease over.
CREATE TABLE work_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
-- Sign-in throttles, registration and failed-lookup windows: one row per counted event under a key
-- (`u:` account, `p:` account and address, `a:` address, `r:` registrations, `q:` failed lookups).
CREATE TABLE throttle_hits (
    key TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX throttle_hits_key ON throttle_hits (key, at_ms);
CREATE INDEX throttle_hits_at ON throttle_hits (at_ms);
-- Pending single sign-on (OIDC) sign-ins: started on one node, completed on any.
CREATE TABLE oidc_pending (
    state TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX oidc_pending_created ON oidc_pending (created_ms);
