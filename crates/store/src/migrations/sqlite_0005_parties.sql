-- Applicants: natural persons (ID number and phone sealed, found by blind index), organisations, and the agents an
-- organisation authorises (scope, expiry).
CREATE TABLE persons (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    id_sealed TEXT NOT NULL,
    id_index TEXT NOT NULL UNIQUE,
    phone_sealed TEXT,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE organisations (
    uscc TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    legal_representative TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE org_agents (
    uscc TEXT NOT NULL,
    username TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    PRIMARY KEY (uscc, username)
);
CREATE INDEX org_agents_username ON org_agents (username);
