-- Project alerts (issue 19 §5): a construction project's stages and its spans to the construction permit and of
-- the whole process go yellow and red through electronic supervision, as cases do.
--
-- The supervision subscriber keeps one watch row per project: the dates its running clocks reach yellow and red
-- (`dues`, JSON [{span, level, on}], the alerts already raised left out) and the earliest of them (`next_due`,
-- indexed), so a sweep reads only the projects whose date has come. Rebuilt by `oneseal rebuild`.
CREATE TABLE project_watch (
    code TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    next_due TEXT,
    dues TEXT NOT NULL
);
CREATE INDEX project_watch_due ON project_watch (next_due);

-- Which project started each case (a projection of the projects' `stage_started` events): the subscriber finds
-- the project of a case event in one indexed read per batch.
CREATE TABLE project_cases (
    case_no TEXT PRIMARY KEY,
    code TEXT NOT NULL
);

-- An alert is about a case or, now, a project: `case_no` may be empty and `project_code` names the project.
-- SQLite cannot drop a NOT NULL: the table is copied.
CREATE TABLE alerts_new (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    case_no TEXT,
    department TEXT NOT NULL,
    person TEXT,
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    closed_at_ms INTEGER,
    closed_by TEXT,
    note TEXT,
    project_code TEXT
);
INSERT INTO alerts_new (id, kind, level, case_no, department, person, title, detail, evidence, raised_at_ms, status,
    closed_at_ms, closed_by, note)
    SELECT id, kind, level, case_no, department, person, title, detail, evidence, raised_at_ms, status, closed_at_ms,
        closed_by, note FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_open ON alerts (status, department, raised_at_ms);
CREATE INDEX alerts_case ON alerts (case_no);
CREATE INDEX alerts_project ON alerts (project_code);
