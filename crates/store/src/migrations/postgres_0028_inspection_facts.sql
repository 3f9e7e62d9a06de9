-- 视频勘验 (issue 18 §6): one row per case whose latest inspection has a result — its item, when the inspection was
-- requested and resulted (RFC 3339, as in the case state) and whether by video. A projection written with the
-- case's row (only for cases with an inspection), so the dashboard's days from request to result read these rows
-- instead of scanning every case's state.
CREATE TABLE inspection_facts (
    case_no TEXT PRIMARY KEY,
    item TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    resulted_at TEXT NOT NULL,
    by_video INTEGER NOT NULL
);
INSERT INTO inspection_facts (case_no, item, requested_at, resulted_at, by_video)
SELECT case_no, subject_code, state::jsonb -> 'inspection' ->> 'requested_at',
       state::jsonb -> 'inspection' ->> 'resulted_at',
       CASE WHEN (state::jsonb -> 'inspection' ->> 'by_video') = 'true' THEN 1 ELSE 0 END
FROM cases
WHERE state::jsonb -> 'inspection' ->> 'resulted_at' IS NOT NULL
  AND state::jsonb -> 'inspection' ->> 'requested_at' IS NOT NULL;
