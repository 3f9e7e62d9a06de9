-- The dashboard reads the cases finished in the last month through this index.
CREATE INDEX cases_finished ON cases (finished_at_ms);
