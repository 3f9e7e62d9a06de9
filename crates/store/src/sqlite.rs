//! The SQLite backend: one file, WAL journal, `synchronous=FULL` so that a committed transaction survives power loss.

use std::path::Path;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::sql::{Row, Sql, Val};
use crate::{Backend, StoreError};

pub struct SqliteConn {
    conn: Connection,
}

impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        if f.code == rusqlite::ErrorCode::ConstraintViolation {
            return StoreError::Constraint(msg.clone().unwrap_or_default());
        }
    }
    StoreError::Db(e.to_string())
}

impl SqliteConn {
    pub fn open(path: &Path) -> Result<SqliteConn, StoreError> {
        let conn = Connection::open(path).map_err(map_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(map_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
        )
        .map_err(map_err)?;
        // The query planner stability guarantee: a plan never depends on the values bound to it. Without it SQLite
        // marks statements such as `SELECT MAX(version) FROM events WHERE stream_id = $1` to be prepared again
        // whenever a new value is bound (`sqlite3VdbeReprepareOnBind`), so the statement cache saved nothing for
        // them: 5 % of a lifecycle's CPU went to re-preparing (perf, issue 16). Our statements bind values, not
        // shapes, so the plan chosen once serves every value.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(SqliteConn { conn })
    }

    /// The journal mode and synchronous level actually in force, for tests and `oneseal doctor`.
    pub fn durability(&self) -> Result<(String, i64), StoreError> {
        let mode: String = self.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(map_err)?;
        let sync: i64 = self.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).map_err(map_err)?;
        Ok((mode, sync))
    }
}

impl Sql for SqliteConn {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        let n = st.execute(rusqlite::params_from_iter(params.iter())).map_err(map_err)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        let cols = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter())).map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(map_err)? {
            let mut v = Vec::with_capacity(cols);
            for i in 0..cols {
                v.push(match r.get_ref(i).map_err(map_err)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(i) => Val::Int(i),
                    ValueRef::Real(f) => Val::Int(f as i64),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Text(String::from_utf8_lossy(b).into_owned()),
                });
            }
            out.push(Row(v));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        // The writer's transaction control (BEGIN, SAVEPOINT, RELEASE, COMMIT) runs for every job: short
        // statements without literals are prepared once and cached instead of parsed on each call.
        const CONTROL: [&str; 5] = ["BEGIN", "SAVEPOINT ", "RELEASE ", "COMMIT", "ROLLBACK"];
        let parts = || sql.split(';').map(str::trim).filter(|p| !p.is_empty());
        if sql.len() <= 64
            && !sql.contains(['\'', '"', '-', '/'])
            && parts().all(|p| CONTROL.iter().any(|c| p.starts_with(c)))
        {
            for part in parts() {
                let mut st = self.conn.prepare_cached(part).map_err(map_err)?;
                st.raw_execute().map_err(map_err)?;
            }
            return Ok(());
        }
        self.conn.execute_batch(sql).map_err(map_err)
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}
