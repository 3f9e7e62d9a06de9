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
//! 3. wait until the oldest transaction still running is at or above `X` (`pg_snapshot_xmin`): then every
//!    transaction holding a number ≤ `L` has committed (its events are visible) or rolled back (its numbers are
//!    gone for good). `L` is safe.
//!
//! This is the "read below the oldest in-flight transaction" technique of PostgreSQL event stores, turned into a
//! position so that a subscriber's cursor stays one number and the order stays the global sequence (which is
//! consistent with every stream: a stream's next version is inserted after its previous one was committed).
//!
//! The horizon is kept per store (every connection shares it) and only grows. `Store::settle` advances it on a
//! reader connection; a write job never waits for it (its own transaction would be among those waited for).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::{Backend, Db, StoreError};

/// The longest a settle waits for older transactions to end.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

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
            let rows = self.sql.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[])?;
            let xmin = xid(rows.first().ok_or_else(|| StoreError::Decode("no snapshot".into()))?)?;
            if xmin >= x {
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
