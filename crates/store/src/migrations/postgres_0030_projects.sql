-- 工程建设项目 (construction projects): a project is an event stream (`project-{code}`) of its registration, the
-- stages it started (the cases of each) and the assistants (代办员) its owner authorised. These are its projections:
-- one row per project with its folded state, and one row per authorised assistant (whose projects they may see).
CREATE TABLE projects (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    project_type TEXT NOT NULL,
    owner_account TEXT NOT NULL,
    owner_uscc TEXT NOT NULL,
    registered_at_ms BIGINT NOT NULL,
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX projects_owner ON projects (owner_uscc, registered_at_ms);
CREATE INDEX projects_registered ON projects (registered_at_ms);
CREATE TABLE project_assistants (
    code TEXT NOT NULL,
    assistant TEXT NOT NULL,
    PRIMARY KEY (code, assistant)
);
CREATE INDEX project_assistants_assistant ON project_assistants (assistant, code);
