-- An uploaded file is bound to the case that first references it. Files never bound are orphans: they count
-- against their uploader's quota and are deleted after a grace period (files uploaded before this column existed
-- are checked against the cases' state before deletion).
ALTER TABLE attachments ADD COLUMN bound_case TEXT;
CREATE INDEX attachments_unbound ON attachments (owner) WHERE bound_case IS NULL;
