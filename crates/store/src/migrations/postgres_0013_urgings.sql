-- Urging notices (督办): a supervisor tells a section or a person to act on a case by a date; replies, closure
-- and escalation are events on the urging's stream; this is their projection.
CREATE TABLE urgings (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL,
    alert_id TEXT,
    department TEXT NOT NULL,
    person TEXT,
    message TEXT NOT NULL,
    due TEXT NOT NULL,
    status TEXT NOT NULL,
    escalated INTEGER NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at_ms BIGINT NOT NULL,
    reply TEXT,
    replied_by TEXT,
    replied_at_ms BIGINT,
    closed_note TEXT
);
CREATE INDEX urgings_due ON urgings (status, escalated, due);
CREATE INDEX urgings_department ON urgings (department, status);
