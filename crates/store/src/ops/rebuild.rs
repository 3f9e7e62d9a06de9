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
