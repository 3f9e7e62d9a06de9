-- Accounts signed in through an identity provider are found by the provider's stable subject (`sub`) and its
-- issuer, never by a name claim the provider lets users change. The first sign-in links the account the name
-- claim names (if it has no link from this issuer yet); later sign-ins follow the link.
CREATE TABLE account_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    username TEXT NOT NULL,
    linked_at_ms BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE UNIQUE INDEX account_identities_username ON account_identities (issuer, username);
