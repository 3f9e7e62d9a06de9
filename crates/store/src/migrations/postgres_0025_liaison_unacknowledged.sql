-- A regulator's unacknowledged messages (its inbox and their count) through an index of only those: with every
-- message ever sent in `liaison_inbox`, the count read a row per message the regulator ever got (growth, issue
-- 16 §5: ~10 ms at 11,000 messages, linear). Numbered 24: 23 is taken on main by the hall.
CREATE INDEX liaison_unacknowledged ON liaison_messages (regulator, pushed_at_ms) WHERE acknowledged_at_ms IS NULL;
