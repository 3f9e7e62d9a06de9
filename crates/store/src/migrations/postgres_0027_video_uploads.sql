-- 视频勘验 (issue 18): resumable uploads (tus 1.0) of inspection recordings. A row is work in progress until the
-- upload completes, then the record of a sealed video file (the bytes live in the file store, sealed in segments;
-- the case event carries the hashes). Not a projection: like uploaded materials, files are not events.
CREATE TABLE video_uploads (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL,
    task_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    file_name TEXT NOT NULL,
    length BIGINT NOT NULL,
    upload_offset BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    video TEXT
);
-- The sweep of expired uploads reads only open ones, by expiry.
CREATE INDEX video_uploads_open ON video_uploads (expires_at_ms) WHERE status = 'open';
CREATE INDEX video_uploads_case ON video_uploads (case_no, created_at_ms);
