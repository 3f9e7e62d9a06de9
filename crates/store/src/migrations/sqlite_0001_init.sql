-- OneSeal schema 1 (SQLite). Events are the truth; every other table is a projection or bookkeeping.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    actor TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    payload TEXT NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE cases (
    case_no TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    subject_version INTEGER NOT NULL,
    title TEXT NOT NULL,
    department TEXT NOT NULL,
    channel TEXT NOT NULL,
    service_point TEXT NOT NULL,
    status TEXT NOT NULL,
    applicant_account TEXT,
    submitted_at_ms INTEGER NOT NULL,
    accepted_at_ms INTEGER,
    finished_at_ms INTEGER,
    deadline TEXT,
    version INTEGER NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX cases_status_deadline ON cases (status, deadline);
CREATE INDEX cases_department ON cases (department, status, submitted_at_ms);
CREATE INDEX cases_subject ON cases (subject_code, status, submitted_at_ms);
CREATE INDEX cases_channel ON cases (channel, status, submitted_at_ms);
CREATE INDEX cases_applicant ON cases (applicant_account, submitted_at_ms);
CREATE INDEX cases_submitted ON cases (submitted_at_ms);

CREATE TABLE tasks (
    case_no TEXT NOT NULL,
    task_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    step_name TEXT NOT NULL,
    title TEXT NOT NULL,
    role TEXT NOT NULL,
    department TEXT,
    assignee TEXT,
    due TEXT,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (case_no, task_id)
);
CREATE INDEX tasks_queue ON tasks (role, department, assignee, due);
CREATE INDEX tasks_assignee ON tasks (assignee, due);
CREATE INDEX tasks_due ON tasks (due);

CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, result TEXT NOT NULL, created_at_ms INTEGER NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);

CREATE TABLE catalog_versions (
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    published_at_ms INTEGER NOT NULL,
    published_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (kind, code, version)
);
CREATE TABLE calendar_years (year INTEGER PRIMARY KEY, body TEXT NOT NULL, updated_at_ms INTEGER NOT NULL, updated_by TEXT NOT NULL);

CREATE TABLE accounts (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    department TEXT,
    active INTEGER NOT NULL
);
CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at_ms INTEGER NOT NULL);

CREATE TABLE notifications (
    event_seq INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    case_no TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (event_seq, recipient)
);
CREATE INDEX notifications_recipient ON notifications (recipient, event_seq);
