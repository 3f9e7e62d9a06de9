-- Personal data at rest: wrapped data keys, the applicant's blind index on the case list, and the access log.
CREATE TABLE data_keys (
    id TEXT PRIMARY KEY,
    wrapped TEXT NOT NULL,
    master_fingerprint TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    current INTEGER NOT NULL
);
ALTER TABLE cases ADD COLUMN applicant_index TEXT;
CREATE INDEX cases_applicant_index ON cases (applicant_index, submitted_at_ms);
CREATE TABLE pd_access (
    event_seq INTEGER PRIMARY KEY,
    subject_account TEXT,
    case_no TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX pd_access_subject ON pd_access (subject_account, at_ms);
CREATE INDEX pd_access_case ON pd_access (case_no, at_ms);
