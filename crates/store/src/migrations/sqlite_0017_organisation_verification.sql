-- An organisation is claimed by its legal representative and acts only once verified: against a valid business
-- licence the bureau issued (holder USCC and legal representative's ID number), or by a window clerk who checked
-- the documents. Claims made before verification existed are pending until checked again.
ALTER TABLE organisations ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE organisations ADD COLUMN verified_by TEXT;
ALTER TABLE organisations ADD COLUMN verified_at_ms INTEGER;
