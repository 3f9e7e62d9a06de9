-- Second factor: a sealed TOTP secret per account, and sessions limited to enrolling it.
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT;
ALTER TABLE sessions ADD COLUMN limited BIGINT NOT NULL DEFAULT 0;
