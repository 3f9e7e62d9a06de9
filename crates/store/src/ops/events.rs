//! The event log: appending with optimistic concurrency, reading, counters, idempotency keys, subscriber cursors, statistics.

use super::*;

impl Db {
    /// The current version of a stream (0 when it has no events).
    pub fn stream_version(&mut self, stream: &str) -> Result<i64, StoreError> {
        let rows = self.sql.query("SELECT MAX(version) FROM events WHERE stream_id = $1", &[stream.into()])?;
        Ok(rows.first().map(|r| r.opt_int(0)).transpose()?.flatten().unwrap_or(0))
    }

    /// Append events to a stream that must be at `expected` version; refused whole otherwise.
    pub fn append(&mut self, stream: &str, expected: i64, events: &[NewEvent]) -> Result<Vec<i64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if self.backend() == Backend::Sqlite {
            return self.append_row_by_row(stream, expected, events);
        }
        // One statement: the rows go in only if the stream is still at `expected` (one round trip on PostgreSQL,
        // where round trips dominate; on SQLite, in-process, plain statements are cheaper).
        let mut params: Vec<Val> = vec![stream.into()];
        let mut rows = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let n = params.len();
            params.extend([
                Val::Int(expected + 1 + i as i64),
                e.event_type.as_str().into(),
                Val::Int(e.schema_version),
                e.actor.as_str().into(),
                Val::Int(e.at_ms),
                e.payload.as_str().into(),
            ]);
            rows.push(format!(
                "($1, CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
        }
        params.push(Val::Int(expected));
        let sql = format!(
            "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7 FROM (VALUES {}) AS v \
             WHERE (SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $1) = ${} RETURNING seq",
            rows.join(", "),
            params.len()
        );
        let inserted = self.sql.query(&sql, &params).map_err(|err| match err {
            StoreError::Constraint(_) => {
                StoreError::Conflict { stream: stream.to_string(), expected, actual: expected + 1 }
            }
            other => other,
        })?;
        if inserted.is_empty() {
            let actual = self.stream_version(stream)?;
            return Err(StoreError::Conflict { stream: stream.to_string(), expected, actual });
        }
        let mut seqs = inserted.iter().map(|r| r.int(0)).collect::<Result<Vec<_>, _>>()?;
        seqs.sort_unstable();
        // No leaf here: on PostgreSQL leaves are folded in position order below the safe horizon (`fold_tree`),
        // since concurrent transactions commit out of position order.
        Ok(seqs)
    }

    /// Start each stream of `items` with its event, skipping streams that exist already; returns the streams
    /// created with their event's sequence. Idempotent by stream id — the way alerts are raised once — and, on
    /// PostgreSQL, a few round trips per thousand streams instead of several per stream.
    pub fn create_streams(&mut self, items: &[(String, NewEvent)]) -> Result<Vec<(String, i64)>, StoreError> {
        let mut created: Vec<(String, i64)> = Vec::new();
        if self.backend() == Backend::Sqlite {
            for (stream, e) in items {
                if self.stream_version(stream)? == 0 && !created.iter().any(|(s, _)| s == stream) {
                    let seqs = self.append(stream, 0, std::slice::from_ref(e))?;
                    created.push((stream.clone(), seqs.first().copied().unwrap_or_default()));
                }
            }
            return Ok(created);
        }
        for chunk in items.chunks(1000) {
            let mut params: Vec<Val> = Vec::with_capacity(chunk.len() * 6);
            let mut rows = Vec::with_capacity(chunk.len());
            for (stream, e) in chunk {
                let n = params.len();
                params.extend([
                    stream.as_str().into(),
                    e.event_type.as_str().into(),
                    Val::Int(e.schema_version),
                    e.actor.as_str().into(),
                    Val::Int(e.at_ms),
                    e.payload.as_str().into(),
                ]);
                rows.push(format!(
                    "(CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6
                ));
            }
            let sql = format!(
                "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) \
                 SELECT DISTINCT ON (v.column1) v.column1, 1, v.column2, v.column3, v.column4, v.column5, v.column6 FROM (VALUES {}) AS v \
                 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = v.column1) ORDER BY v.column1 RETURNING seq, stream_id",
                rows.join(", ")
            );
            let inserted = self.sql.query(&sql, &params)?;
            let mut got =
                inserted.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect::<Result<Vec<_>, StoreError>>()?;
            got.sort_unstable();
            // Their leaves are folded later, below the safe horizon (as for `append` on PostgreSQL).
            created.extend(got.into_iter().map(|(seq, stream)| (stream, seq)));
        }
        Ok(created)
    }

    pub(super) fn append_row_by_row(
        &mut self,
        stream: &str,
        expected: i64,
        events: &[NewEvent],
    ) -> Result<Vec<i64>, StoreError> {
        let actual = self.stream_version(stream)?;
        if actual != expected {
            return Err(StoreError::Conflict { stream: stream.to_string(), expected, actual });
        }
        let mut seqs = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let rows = self
                .sql
                .query(
                    "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
                    &[
                        stream.into(),
                        Val::Int(expected + 1 + i as i64),
                        e.event_type.as_str().into(),
                        Val::Int(e.schema_version),
                        e.actor.as_str().into(),
                        Val::Int(e.at_ms),
                        e.payload.as_str().into(),
                    ],
                )
                .map_err(|err| match err {
                    StoreError::Constraint(_) => StoreError::Conflict { stream: stream.to_string(), expected, actual: expected + 1 },
                    other => other,
                })?;
            let seq = rows.first().ok_or_else(|| StoreError::Decode("no seq returned".into()))?.int(0)?;
            seqs.push(seq);
        }
        let items: Vec<(i64, i64, &NewEvent)> =
            seqs.iter().zip(events).enumerate().map(|(i, (seq, e))| (*seq, expected + 1 + i as i64, e)).collect();
        self.add_leaves(stream, &items)?;
        Ok(seqs)
    }

    /// Make each event a leaf of the transparency log, in the same transaction (no event without a leaf) — on
    /// SQLite, whose single writer commits in position order. The tree's inner nodes are folded in later by
    /// [`Db::sync_tree`], off the hot path.
    pub(super) fn add_leaves(&mut self, stream: &str, items: &[(i64, i64, &NewEvent)]) -> Result<(), StoreError> {
        let all: Vec<(i64, &str, i64, &NewEvent)> = items.iter().map(|(seq, v, e)| (*seq, stream, *v, *e)).collect();
        self.add_leaves_of(&all)
    }

    /// The leaves of events of several streams, given in sequence order.
    fn add_leaves_of(&mut self, items: &[(i64, &str, i64, &NewEvent)]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        // Two statements whatever the number of events (each is a round trip on PostgreSQL): take the leaf indexes
        // by moving the head, then insert every leaf at once. A rolled-back job takes both back.
        let n = items.len() as i64;
        let head =
            self.sql.query("UPDATE log_head SET size = size + $1 WHERE id = 1 RETURNING size, hash", &[Val::Int(n)])?;
        let head = head.first().ok_or_else(|| StoreError::Decode("no log head".into()))?;
        let (first, kind) = (head.int(0)? - n, crate::merkle::kind(&head.text(1)?)?);
        let mut params = Vec::with_capacity(items.len() * 3);
        let mut rows = Vec::with_capacity(items.len());
        for (i, (seq, stream, version, e)) in items.iter().enumerate() {
            let leaf = kind.leaf(&crate::merkle::leaf_bytes(
                *seq,
                stream,
                *version,
                &e.event_type,
                e.schema_version,
                &e.actor,
                e.at_ms,
                &e.payload,
            ));
            rows.push(format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
            params.extend([Val::Int(*seq), Val::Int(first + i as i64), crate::merkle::hex(&leaf).into()]);
        }
        let sql = format!("INSERT INTO event_leaves (seq, leaf_index, leaf_hash) VALUES {}", rows.join(", "));
        self.sql.exec(&sql, &params)?;
        Ok(())
    }

    /// Fold the leaves written since the last call into the Merkle node table (O(log n) per leaf). Run in a write
    /// job before checkpoints and proofs; returns the tree size.
    pub fn sync_tree(&mut self) -> Result<u64, StoreError> {
        self.fold_tree(u64::MAX)
    }

    /// Fold at most `max` new leaves into the tree (keeps each write transaction short); returns the tree size.
    pub fn fold_tree(&mut self, max: u64) -> Result<u64, StoreError> {
        if self.backend() == Backend::Postgres {
            // One folder at a time across writers and nodes (no WAL when there is nothing to fold).
            self.sql.batch("SELECT pg_advisory_xact_lock(7240023)")?;
        }
        let rows = self.sql.query("SELECT size, tree_size, hash FROM log_head WHERE id = 1", &[])?;
        let r = rows.first().ok_or_else(|| StoreError::Decode("no log head".into()))?;
        let (mut size, mut tree, kind) = (r.int(0)?, r.int(1)? as u64, crate::merkle::kind(&r.text(2)?)?);
        if self.backend() == Backend::Postgres {
            size = self.write_leaves_below_horizon(
                size,
                kind,
                max.saturating_sub(size.saturating_sub(tree as i64) as u64),
            )?;
        }
        let size = size.min(tree.saturating_add(max).min(i64::MAX as u64) as i64);
        let before = tree;
        while (tree as i64) < size {
            let leaves = self.event_leaves_from(tree as i64 - 1, (size - tree as i64).min(5000))?;
            if leaves.is_empty() {
                break;
            }
            for (_, index, hash) in leaves {
                if index != tree {
                    return Err(StoreError::Decode(format!("transparency log: leaf {tree} is missing")));
                }
                tree = oneseal_seal::merkle::append(&mut crate::merkle::SqlNodes(self), kind, tree, hash)
                    .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))?;
            }
        }
        if tree != before {
            // Only when something was folded: an idle server's once-a-second fold writes nothing.
            self.sql.exec("UPDATE log_head SET tree_size = $1 WHERE id = 1", &[Val::Int(tree as i64)])?;
        }
        Ok(tree)
    }

    /// PostgreSQL: write the leaves of the events after the last leaf and at or below the safe horizon, in position
    /// order, at most `max`; `size` is the number of leaves so far. Returns the new number of leaves. Every event
    /// below the horizon is committed or gone for good, so the leaf order is final and no event is skipped.
    fn write_leaves_below_horizon(
        &mut self,
        mut size: i64,
        kind: oneseal_seal::merkle::TreeHash,
        max: u64,
    ) -> Result<i64, StoreError> {
        let horizon = self.safe_horizon();
        let mut after = self
            .sql
            .query("SELECT COALESCE(MAX(seq), 0) FROM event_leaves", &[])?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let before = size;
        let mut left = max;
        while left > 0 && after < horizon {
            let sql = format!("SELECT {EVENT_COLS} FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3");
            let page = self
                .sql
                .query(&sql, &[Val::Int(after), Val::Int(horizon), Val::Int(left.min(5000) as i64)])?
                .iter()
                .map(event_from)
                .collect::<Result<Vec<_>, _>>()?;
            let Some(last) = page.last().map(|e| e.seq) else { break };
            let mut params = Vec::with_capacity(page.len() * 3);
            let mut rows = Vec::with_capacity(page.len());
            for (i, e) in page.iter().enumerate() {
                let leaf = kind.leaf(&crate::merkle::leaf_bytes(
                    e.seq,
                    &e.stream_id,
                    e.version,
                    &e.event_type,
                    e.schema_version,
                    &e.actor,
                    e.at_ms,
                    &e.payload,
                ));
                rows.push(format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
                params.extend([Val::Int(e.seq), Val::Int(size + i as i64), crate::merkle::hex(&leaf).into()]);
            }
            let sql = format!("INSERT INTO event_leaves (seq, leaf_index, leaf_hash) VALUES {}", rows.join(", "));
            self.sql.exec(&sql, &params)?;
            size += page.len() as i64;
            left -= page.len() as u64;
            after = last;
        }
        if size != before {
            self.sql.exec("UPDATE log_head SET size = $1 WHERE id = 1", &[Val::Int(size)])?;
        }
        Ok(size)
    }

    pub fn read_stream(&mut self, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE stream_id = $1 ORDER BY version");
        self.sql.query(&sql, &[stream.into()])?.iter().map(event_from).collect()
    }

    /// Events after a global sequence number, in order, without gaps: on PostgreSQL only those at or below the
    /// safe horizon (`horizon.rs`), so a position an in-flight transaction will still fill is never passed. On a
    /// reader connection the horizon is settled first (every event committed before the call is returned); in a
    /// write job it is the horizon last settled (call `Store::settle` before the job to be current).
    pub fn read_from(&mut self, after_seq: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        if self.backend() == Backend::Sqlite {
            let sql = format!("SELECT {EVENT_COLS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2");
            return self.sql.query(&sql, &[Val::Int(after_seq), Val::Int(limit)])?.iter().map(event_from).collect();
        }
        let horizon = if self.writer { self.safe_horizon() } else { self.settle_horizon()? };
        if horizon <= after_seq {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3");
        self.sql
            .query(&sql, &[Val::Int(after_seq), Val::Int(horizon), Val::Int(limit)])?
            .iter()
            .map(event_from)
            .collect()
    }

    pub fn last_seq(&mut self) -> Result<i64, StoreError> {
        let rows = self.sql.query("SELECT MAX(seq) FROM events", &[])?;
        Ok(rows.first().map(|r| r.opt_int(0)).transpose()?.flatten().unwrap_or(0))
    }

    pub fn count_events(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM events", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    /// The number of events at or below a position.
    pub fn count_events_upto(&mut self, seq: i64) -> Result<i64, StoreError> {
        self.sql
            .query("SELECT COUNT(*) FROM events WHERE seq <= $1", &[Val::Int(seq)])?
            .first()
            .map_or(Ok(0), |r| r.int(0))
    }

    /// The connection counters run on: on a PostgreSQL writer its side connection, where each increment commits
    /// at once (values are unique and increasing, and a rolled-back job leaves a gap), so no write transaction
    /// holds a counter's row and concurrent writers never queue or deadlock on it. On SQLite (one writer) the
    /// transaction's own connection: a rolled-back job gives its values back.
    fn counter_sql(&mut self) -> &mut dyn Sql {
        match self.side.as_mut() {
            Some(side) => side.as_mut(),
            None => self.sql.as_mut(),
        }
    }

    /// Increment and return a named counter (e.g. the daily case-number sequence). Values are unique; see
    /// [`Db::counter_sql`] for what a rolled-back job does to them on each backend.
    pub fn next_counter(&mut self, name: &str) -> Result<i64, StoreError> {
        let rows = self.counter_sql().query(
            "INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
            &[name.into()],
        )?;
        rows.first().ok_or_else(|| StoreError::Decode("no counter value".into()))?.int(0)
    }

    /// Reserve `n` consecutive values of a counter at once; returns the last (the block is `last - n + 1 ..= last`).
    pub fn reserve_counter(&mut self, name: &str, n: i64) -> Result<i64, StoreError> {
        if n < 1 {
            return Err(StoreError::Decode(format!("counter {name}: a block of {n} values")));
        }
        let rows = self.counter_sql().query(
            "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = counters.value + $2 RETURNING value",
            &[name.into(), Val::Int(n)],
        )?;
        rows.first().ok_or_else(|| StoreError::Decode("no counter value".into()))?.int(0)
    }

    pub fn idempotency_get(&mut self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        let rows = self
            .sql
            .query("SELECT result FROM idempotency WHERE scope = $1 AND key = $2", &[scope.into(), key.into()])?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    pub fn idempotency_put(&mut self, scope: &str, key: &str, result: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO idempotency (scope, key, result, created_at_ms) VALUES ($1, $2, $3, $4)",
            &[scope.into(), key.into(), result.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    /// A subscriber's cursor. In a write job on PostgreSQL it also claims the subscriber until the transaction
    /// ends (a transaction-scoped advisory lock on the name), so writers of other threads or nodes running the same
    /// subscriber wait, then read the cursor it moved: each event's effect happens once.
    pub fn cursor(&mut self, name: &str) -> Result<i64, StoreError> {
        if self.writer && self.backend() == Backend::Postgres {
            self.sql.query("SELECT pg_advisory_xact_lock(7240022, hashtext($1))::text", &[name.into()])?;
        }
        let rows = self.sql.query("SELECT seq FROM cursors WHERE name = $1", &[name.into()])?;
        Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0))
    }

    pub fn set_cursor(&mut self, name: &str, seq: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
            &[name.into(), Val::Int(seq)],
        )?;
        Ok(())
    }

    /// Refresh the query planner's statistics (sampled, so it stays quick on big databases). `serve` runs it at
    /// start and hourly; PostgreSQL's autovacuum does the same on its own, this only makes it timely.
    pub fn refresh_statistics(&mut self) -> Result<(), StoreError> {
        match self.sql.backend() {
            Backend::Sqlite => self.sql.batch("PRAGMA analysis_limit = 1000; ANALYZE"),
            Backend::Postgres => self.sql.batch("ANALYZE tasks; ANALYZE cases"),
        }
    }
}
