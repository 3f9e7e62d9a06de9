-- The transparency log (全程留痕): every event is a leaf of an RFC 6962 Merkle tree (SM3); complete subtrees are
-- stored so appends and proofs are O(log n); signed checkpoints. `size` counts leaves (written with their events);
-- `tree_size` counts leaves already folded into the node table (done after the write, off the hot path).
CREATE TABLE log_head (id BIGINT PRIMARY KEY, size BIGINT NOT NULL, tree_size BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO log_head (id, size, tree_size, hash) VALUES (1, 0, 0, 'sm3');
CREATE TABLE event_leaves (seq BIGINT PRIMARY KEY, leaf_index BIGINT NOT NULL UNIQUE, leaf_hash TEXT NOT NULL);
CREATE TABLE merkle_nodes (level BIGINT NOT NULL, idx BIGINT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (level, idx));
CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, root TEXT NOT NULL, note TEXT NOT NULL, created_at_ms BIGINT NOT NULL);
