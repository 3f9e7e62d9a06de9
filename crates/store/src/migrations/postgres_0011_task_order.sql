-- Work queues list a section's tasks by due date (no due date last) and stop after a page: an index in exactly
-- that order per role and department lets each part of the query walk it and stop, instead of sorting every
-- matching task (100,000 open cases).
CREATE INDEX tasks_pick ON tasks (role, department, (COALESCE(due, '9999-12-31')), created_at_ms, case_no, task_id);
