-- Writers commit concurrently (no global advisory lock). Readers of the log by position read only below the safe
-- horizon (crates/store/src/horizon.rs), which relies on every write transaction taking its id before any event
-- takes a sequence number, and on sequence numbers being handed out in time order across sessions: no per-session
-- cache of the identity sequence.
ALTER TABLE events ALTER COLUMN seq SET CACHE 1;
COMMENT ON COLUMN events.seq IS 'global position, handed out in time order (CACHE 1); read by position only below the safe horizon';
-- Transparency-log leaves are no longer written by the event's transaction but folded in position order below
-- the horizon; `size` counts the leaves written, `tree_size` those folded into merkle_nodes.
