-- 多评合一 (combined assessments): one row per part of a project's combined evaluation — its assessment, the
-- department that reviews it and where it stands — projected from the project's stream (`project-{code}`) with the
-- project's row, so a reviewing department finds the projects whose parts wait for it.
CREATE TABLE project_assessment_parts (
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    department TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (code, kind)
);
CREATE INDEX project_assessment_parts_department ON project_assessment_parts (department, status, code);
