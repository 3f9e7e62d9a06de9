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
ALTER TABLE alerts ALTER COLUMN case_no DROP NOT NULL;
ALTER TABLE alerts ADD COLUMN project_code TEXT;
CREATE INDEX alerts_project ON alerts (project_code);
