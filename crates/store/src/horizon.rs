//! The safe horizon of the event log on PostgreSQL: the highest global position `h` such that every event at or
//! below `h` that will ever exist is committed and visible. Readers by position (subscribers, the transparency
//! folder) read only up to it, so a position that an in-flight transaction will still fill is never skipped —
//! without a global write lock.
//!
//! Why it is safe. Every write transaction takes its transaction id first (`BEGIN; SELECT pg_current_xact_id()` in
//! `run_batch`), before any of its events takes a sequence number; and the identity sequence hands numbers out in
//! time order across sessions (CACHE 1). To settle:
//!
//! 1. read `L`, the last sequence number handed out;
//! 2. in a later statement, take a fresh transaction id `X` (committed at once): every transaction that holds a
//!    number ≤ `L` took it before step 1, so it took its id before that, so its id is below `X`;
//! 3. wait until no transaction of this database older than `X` is still running (`OLDER_WRITERS`): then every
//!    transaction holding a number ≤ `L` has committed (its events are visible) or rolled back (its numbers are
//!    gone for good). `L` is safe. Transactions in other databases of the cluster are not waited for.
//!
//! This is the "read below the oldest in-flight transaction" technique of PostgreSQL event stores, turned into a
//! position so that a subscriber's cursor stays one number and the order stays the global sequence (which is
//! consistent with every stream: a stream's next version is inserted after its previous one was committed).
//!
//! The horizon is kept per store (every connection shares it) and only grows. `Store::settle` advances it on a
//! reader connection; a write job never waits for it (its own transaction would be among those waited for).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::sql::Val;
use crate::{Backend, Db, StoreError};

/// The longest a settle waits for older transactions to end.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many write transactions older than `$1` (an `xid8`, as text) may still hold positions: 0 when the wait is
/// over.
///
/// Positions are taken only by transactions in this database, so only this database's transactions are waited
/// for: `pg_stat_activity` lists each session's transaction id (`backend_xid`, assigned when a transaction first
/// writes — a writer takes it in its first statement), and a session in another database of the cluster, or a
/// read-only transaction here (no transaction id), never holds the horizon back. `age(backend_xid) > age(xid($1))`
/// compares the 32-bit ids by their distance from the next one, which is exact for running transactions (they are
/// less than 2³¹ old: PostgreSQL stops assigning ids before that). Readers run in autocommit, so each query sees
/// the sessions as they are now (`pg_stat_activity` is cached only within a transaction).
///
/// `pg_stat_activity` hides another role's `backend_xid` from a role that is neither superuser nor a member of
/// `pg_read_all_stats`. Then a session of another role (another node configured with its own role) could hold a
/// position unseen, so the wait falls back to the cluster-wide oldest running transaction
/// (`pg_snapshot_xmin(pg_current_snapshot())`): always safe, but held back by any long transaction anywhere in
/// the cluster.
const OLDER_WRITERS: &str = "SELECT CASE \
    WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role('pg_read_all_stats', 'MEMBER') \
    OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND usename <> current_user) \
    THEN (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL \
          AND age(backend_xid) > age(xid($1::text::xid8))) \
    ELSE (CASE WHEN pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8 THEN 0 ELSE 1 END) END::bigint";

fn xid(r: &crate::sql::Row) -> Result<u64, StoreError> {
    r.text(0)?.parse::<u64>().map_err(|e| StoreError::Decode(format!("transaction id: {e}")))
}

impl Db {
    /// The safe horizon this store knows (PostgreSQL); on SQLite every committed event is safe: `i64::MAX`.
    pub fn safe_horizon(&self) -> i64 {
        match self.backend() {
            Backend::Sqlite => i64::MAX,
            Backend::Postgres => self.horizon.load(Ordering::Acquire),
        }
    }

    /// Advance the safe horizon past every event committed before this call; returns it. Waits for the write
    /// transactions that were running to end. Must not run inside a write job (it would wait for itself).
    pub fn settle_horizon(&mut self) -> Result<i64, StoreError> {
        if self.backend() == Backend::Sqlite {
            return Ok(i64::MAX);
        }
        if self.writer {
            return Err(StoreError::Db("settle_horizon inside a write job would wait for itself".into()));
        }
        let last = self
            .sql
            .query(
                "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass), 0)",
                &[],
            )?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        if last <= self.horizon.load(Ordering::Acquire) {
            return Ok(self.horizon.load(Ordering::Acquire));
        }
        let x = self.sql.query("SELECT pg_current_xact_id()::text", &[])?;
        let x = xid(x.first().ok_or_else(|| StoreError::Decode("no transaction id".into()))?)?;
        let started = Instant::now();
        let mut pause = Duration::from_micros(200);
        loop {
            let rows = self.sql.query(OLDER_WRITERS, &[Val::Text(x.to_string())])?;
            let waiting = rows.first().ok_or_else(|| StoreError::Decode("no answer".into()))?.int(0)?;
            if waiting == 0 {
                break;
            }
            if started.elapsed() > SETTLE_TIMEOUT {
                return Err(StoreError::Db(format!(
                    "a transaction older than {x} has been running for over {}s; the log's horizon cannot advance",
                    SETTLE_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(5));
        }
        Ok(self.horizon.fetch_max(last, Ordering::AcqRel).max(last))
    }
}
