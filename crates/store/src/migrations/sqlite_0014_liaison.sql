-- Approval–regulation liaison (审管互动). Each message to a regulator is its own event stream (pushed,
-- acknowledged); this is its projection. `alerted` is set once the late-acknowledgement alert was raised.
CREATE TABLE liaison_messages (
    id TEXT PRIMARY KEY,
    regulator TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_no TEXT,
    license_identifier TEXT,
    item_code TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    pushed_at_ms INTEGER NOT NULL,
    ack_due TEXT NOT NULL,
    acknowledged_at_ms INTEGER,
    acknowledged_by TEXT,
    alerted INTEGER NOT NULL
);
CREATE INDEX liaison_inbox ON liaison_messages (regulator, pushed_at_ms);
CREATE INDEX liaison_ack_due ON liaison_messages (ack_due) WHERE acknowledged_at_ms IS NULL AND alerted = 0;

-- Consult before (事前征询) and take part during (事中参与): a reviewer asks a regulator; the regulator answers.
CREATE TABLE consultations (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL,
    kind TEXT NOT NULL,
    regulator TEXT NOT NULL,
    step_id TEXT NOT NULL,
    question TEXT NOT NULL,
    asked_by TEXT NOT NULL,
    asked_at_ms INTEGER NOT NULL,
    due TEXT NOT NULL,
    pauses_clock INTEGER NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    answered_by TEXT,
    answered_at_ms INTEGER
);
CREATE INDEX consultations_case ON consultations (case_no, asked_at_ms);
CREATE INDEX consultations_regulator ON consultations (regulator, status, asked_at_ms);

-- Webhook endpoints registered by departments (Standard Webhooks); the secret is sealed like personal data.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_department ON webhook_endpoints (department);

-- The delivery outbox: written in the same transaction as the message, sent by a worker, retried with backoff;
-- `dead` rows are the dead letters, re-sendable.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, status, created_at_ms);
