-- 12345 hotline tickets (工单): each ticket is its own event stream; this is its projection. The caller's name and
-- phone are sealed inside `state`.
CREATE TABLE tickets (
    ticket_no TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    urgent INTEGER NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    lead_unit TEXT,
    caller_account TEXT,
    content TEXT NOT NULL,
    location TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    sign_due_ms BIGINT,
    reply_due_ms BIGINT,
    replied_at_ms BIGINT,
    replied_on_time INTEGER,
    answered_directly INTEGER NOT NULL,
    followed_up INTEGER NOT NULL,
    satisfaction TEXT,
    reopen_count INTEGER NOT NULL,
    merged_into TEXT,
    closed_at_ms BIGINT,
    version BIGINT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX tickets_received ON tickets (received_at_ms);
CREATE INDEX tickets_status ON tickets (status, received_at_ms);
CREATE INDEX tickets_unit ON tickets (lead_unit, status, received_at_ms);
CREATE INDEX tickets_sign_due ON tickets (sign_due_ms) WHERE status = 'dispatched';
CREATE INDEX tickets_reply_due ON tickets (reply_due_ms) WHERE status IN ('dispatched', 'signed');
CREATE INDEX tickets_follow_up ON tickets (replied_at_ms) WHERE status = 'replied' AND followed_up = 0;

-- The dispatch directory (派单目录), one row per published version; the newest is in force.
CREATE TABLE hotline_directory (
    version BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    published_at_ms BIGINT NOT NULL,
    published_by TEXT NOT NULL
);

-- The knowledge base (知识库): every version of every article.
CREATE TABLE kb_articles (
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at_ms BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

-- Ratings (好差评) with their remediation (差评整改) and appeal (申诉复核); each rating is its own stream.
CREATE TABLE ratings (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    rater TEXT NOT NULL,
    named INTEGER NOT NULL,
    department TEXT NOT NULL,
    service_point TEXT NOT NULL,
    staff TEXT NOT NULL,
    item_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    level TEXT NOT NULL,
    comment TEXT NOT NULL,
    tags TEXT NOT NULL,
    rated_at_ms BIGINT NOT NULL,
    changeable_until_ms BIGINT NOT NULL,
    counted INTEGER NOT NULL,
    remediation TEXT,
    remediation_due TEXT,
    remediation_notes TEXT NOT NULL,
    appeal TEXT,
    alerted INTEGER NOT NULL
);
CREATE UNIQUE INDEX ratings_one_per_rater ON ratings (kind, target, rater);
CREATE INDEX ratings_department ON ratings (department, rated_at_ms);
CREATE INDEX ratings_remediation_due ON ratings (remediation_due) WHERE remediation IN ('open', 'verified', 'rectified') AND alerted = 0;
