//! Rebuild support: emptying and dumping projections.

use super::*;

impl Db {
    /// Empty every projection table (events stay).
    pub fn clear_projections(&mut self) -> Result<(), StoreError> {
        for p in PROJECTIONS {
            self.sql.exec(&format!("DELETE FROM {}", p.table), &[])?;
        }
        Ok(())
    }

    /// During a rebuild, after its `batch`-th batch (1, 2, …): on PostgreSQL refresh the planner's statistics of the
    /// projection tables after batches 1, 2, 4, 8, … (the tables grow inside the rebuild's one transaction, which
    /// autovacuum cannot see; `ANALYZE` in the transaction counts its own rows). Without it the planner, which saw
    /// `tasks` empty after the clear, planned each case's `DELETE FROM tasks WHERE case_no = $1` on `tasks_pick`
    /// (where `case_no` is the fifth column) and every delete walked the whole index: quadratic in the cases.
    /// Doubling keeps the count of `ANALYZE`s logarithmic. SQLite needs nothing (its planner takes the primary
    /// key's leading column without statistics).
    pub fn rebuild_batch_done(&mut self, batch: u64) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres && batch.is_power_of_two() {
            self.sql.batch("ANALYZE tasks; ANALYZE cases")?;
        }
        Ok(())
    }

    /// Every row of a projection table as text, in its key's order: for comparing a rebuild with the original.
    pub fn dump_table(&mut self, table: &str) -> Result<Vec<String>, StoreError> {
        let Some(order) = PROJECTIONS.iter().find(|p| p.table == table).map(|p| p.key) else {
            return Err(StoreError::Config(format!("{table} is not a projection table")));
        };
        let rows = self.sql.query(&format!("SELECT * FROM {table} ORDER BY {order}"), &[])?;
        Ok(rows.iter().map(|r| format!("{:?}", r.0)).collect())
    }

    /// Try to change an event; used by tests to prove the log refuses it.
    /// Only with the `testing` feature: never in a production build.
    #[cfg(feature = "testing")]
    pub fn try_tamper(&mut self, seq: i64) -> Result<(), StoreError> {
        self.sql.exec("UPDATE events SET payload = '{}' WHERE seq = $1", &[Val::Int(seq)])?;
        self.sql.exec("DELETE FROM events WHERE seq = $1", &[Val::Int(seq)])?;
        Ok(())
    }

    /// The single integer a raw query answers (`SELECT COUNT(*) …`); for benchmarks' reference timings.
    pub fn exec_count(&mut self, sql: &str) -> Result<i64, StoreError> {
        self.sql.query(sql, &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    /// Execute raw statements; for bulk loading in benchmarks.
    pub fn exec_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.sql.batch(sql)
    }
}
