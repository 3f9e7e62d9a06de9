-- Uploaded materials (申请材料附件): immutable, content-addressed by SHA-256, sealed (SM4-GCM) because scans of
-- identity documents are personal data. Events reference them by id and digest, so the transparency log covers
-- what was submitted; the bytes live here, outside the event log.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX attachments_owner ON attachments (owner, created_at_ms);

-- Application drafts (草稿): working data of the apply wizard, one per account and service, sealed as a whole.
-- Not events: nothing is decided by a draft; submitting it makes the case's first event.
CREATE TABLE drafts (
    account TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account, subject_code)
);
