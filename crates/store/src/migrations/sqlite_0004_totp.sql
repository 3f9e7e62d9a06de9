-- Second factor: a sealed TOTP secret per account, and sessions limited to enrolling it.
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER;
ALTER TABLE sessions ADD COLUMN limited INTEGER NOT NULL DEFAULT 0;
