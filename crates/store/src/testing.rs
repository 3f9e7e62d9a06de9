//! Fresh databases for tests of every crate: a new SQLite file in a temporary directory, or a new database on the
//! PostgreSQL server named by `ONESEAL_TEST_PG` (which CI starts; see scripts/pg-test-cluster.sh).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{DatabaseUrl, StoreError};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), t % 1_000_000_000_000, n)
}

/// A new SQLite database file under the system temporary directory.
pub fn fresh_sqlite() -> DatabaseUrl {
    let dir: PathBuf = std::env::temp_dir().join(format!("oneseal-test-{}", unique()));
    let _ = std::fs::create_dir_all(&dir);
    DatabaseUrl::Sqlite(dir.join("oneseal.db"))
}

/// The PostgreSQL server for tests, if `ONESEAL_TEST_PG` is set.
pub fn pg_url() -> Option<String> {
    std::env::var("ONESEAL_TEST_PG").ok().filter(|s| !s.is_empty())
}

/// A new, empty PostgreSQL database on the test server.
pub fn fresh_postgres(admin_url: &str) -> Result<DatabaseUrl, StoreError> {
    let name = format!("oneseal_t_{}", unique());
    let mut c = postgres::Client::connect(admin_url, postgres::NoTls).map_err(|e| StoreError::Db(e.to_string()))?;
    c.batch_execute(&format!("CREATE DATABASE {name}")).map_err(|e| StoreError::Db(e.to_string()))?;
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin_url);
    Ok(DatabaseUrl::Postgres(format!("{base}/{name}")))
}

/// The backends to run a conformance test on: SQLite always, PostgreSQL when configured.
/// When `ONESEAL_REQUIRE_PG=1` (set by CI), a missing PostgreSQL server is a failure, not a skip.
pub fn backends() -> Vec<(&'static str, DatabaseUrl)> {
    let mut v = vec![("sqlite", fresh_sqlite())];
    match pg_url() {
        Some(u) => match fresh_postgres(&u) {
            Ok(url) => v.push(("postgres", url)),
            Err(e) => panic!("ONESEAL_TEST_PG is set but a test database cannot be created: {e}"),
        },
        None => {
            if std::env::var("ONESEAL_REQUIRE_PG").is_ok_and(|v| v == "1") {
                panic!("ONESEAL_REQUIRE_PG=1 but ONESEAL_TEST_PG is not set");
            }
        }
    }
    v
}
