-- Electronic supervision (电子监察): one row per case with the dates its alerts fall due, kept by the supervision
-- subscriber from the event log. The sweep reads only the rows whose date has come (an index per date) and clears
-- the date it has acted on, so a sweep touches the due cases and nothing else.
CREATE TABLE supervision_watch (
    case_no TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    step_name TEXT,
    assignee TEXT,
    deadline TEXT,
    yellow_on TEXT,
    red_on TEXT,
    stall_on TEXT,
    pledge_due TEXT
);
CREATE INDEX watch_yellow ON supervision_watch (yellow_on);
CREATE INDEX watch_red ON supervision_watch (red_on);
CREATE INDEX watch_stall ON supervision_watch (stall_on);
CREATE INDEX watch_pledge ON supervision_watch (pledge_due);

-- Alerts: each is an event stream of its own (alert-{kind}-{case}-{key}, so the same alert is never raised twice,
-- even by two nodes); this is their projection.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    case_no TEXT NOT NULL,
    department TEXT NOT NULL,
    person TEXT,
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    closed_at_ms INTEGER,
    closed_by TEXT,
    note TEXT
);
CREATE INDEX alerts_open ON alerts (status, department, raised_at_ms);
CREATE INDEX alerts_case ON alerts (case_no);
