//! The event store and projections, on SQLite (default) or PostgreSQL, behind one API.
//!
//! Architecture invariant: writes go through writer threads (one on SQLite, a small pool on PostgreSQL) that batch
//! concurrent jobs into one transaction (group commit) and answer each job only after its batch committed; a job
//! that fails is rolled back to its savepoint and changes nothing. Reads go to a small pool of reader threads. Events
//! are never updated or deleted: the schema refuses it with triggers. On PostgreSQL writers commit concurrently
//! (no global lock); readers of the log by position read only below the safe horizon (`horizon.rs`).

mod dashboard;
mod hall;
mod horizon;
mod hotline;
mod liaison;
mod merkle;
mod ops;
mod postgres;
mod projects;
mod shipments;
pub mod sql;
mod sqlite;
pub mod testing;

use std::path::PathBuf;
use std::sync::atomic::AtomicI64;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub use dashboard::*;
pub use hall::*;
pub use hotline::*;
pub use liaison::*;
pub use merkle::leaf_bytes;
pub use ops::*;
pub use projects::*;
pub use shipments::*;
use sql::Sql;
pub use sqlite::SqliteConn;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the data lives, parsed from `sqlite://path` or `postgres://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<DatabaseUrl, StoreError> {
        if let Some(p) = s.strip_prefix("sqlite://") {
            if p.is_empty() {
                return Err(StoreError::Config("sqlite:// needs a file path, e.g. sqlite://oneseal.db".into()));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(p)))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(s.to_string()))
        } else {
            Err(StoreError::Config(format!(
                "database URL must start with sqlite:// or postgres://, got {:?}",
                redact(s)
            )))
        }
    }

    /// The URL with any password hidden, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => redact(u),
        }
    }
}

fn redact(u: &str) -> String {
    match (u.find("://"), u.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &u[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &u[..s + 3], user, &u[at..])
        }
        _ => u.to_string(),
    }
}

/// Store errors. `Conflict` and `Constraint` are expected outcomes; the rest are failures of the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream} is at version {actual}, not {expected}")]
    Conflict { stream: String, expected: i64, actual: i64 },
    #[error("constraint violated: {0}")]
    Constraint(String),
    #[error("database error: {0}")]
    Db(String),
    #[error("cannot decode stored data: {0}")]
    Decode(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("the store is shut down")]
    Closed,
}

fn open_conn(url: &DatabaseUrl) -> Result<Box<dyn Sql>, StoreError> {
    Ok(match url {
        DatabaseUrl::Sqlite(p) => Box::new(SqliteConn::open(p)?),
        DatabaseUrl::Postgres(u) => Box::new(postgres::PgConn::connect(u)?),
    })
}

/// A writer's `Db`: on PostgreSQL with its side connection for counters (see [`Db::next_counter`]).
fn writer_db(url: &DatabaseUrl, conn: Box<dyn Sql>, horizon: &Arc<AtomicI64>) -> Result<Db, StoreError> {
    let side = match url {
        DatabaseUrl::Sqlite(_) => None,
        DatabaseUrl::Postgres(u) => Some(Box::new(postgres::PgConn::connect_side(u)?) as Box<dyn Sql>),
    };
    Ok(Db { sql: conn, side, horizon: horizon.clone(), writer: true })
}

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type WriteJob = Box<dyn FnOnce(&mut Db) -> (bool, Reply) + Send>;
type ReadJob = Box<dyn FnOnce(&mut Db) + Send>;

/// Tuning of the writer.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Most jobs in one transaction.
    pub max_batch: usize,
    pub readers: usize,
    /// Writer threads (each with its own connection and transactions) on PostgreSQL; SQLite always has one.
    pub pg_writers: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { max_batch: 512, readers: 4, pg_writers: 4 }
    }
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    writer: mpsc::Sender<WriteJob>,
    readers: mpsc::Sender<ReadJob>,
    backend: Backend,
    stats: Arc<Mutex<WriterStats>>,
}

/// How well group commit batches, for the benchmark report.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriterStats {
    pub transactions: u64,
    pub jobs: u64,
    /// Batches whose transaction failed as a whole (a connection or commit error; failed jobs alone don't count).
    pub failed_batches: u64,
    /// Seconds spent in write transactions (begin to commit), and their count per upper bound of
    /// [`TX_SECONDS_BUCKETS`] (the last counts everything slower).
    pub tx_seconds_sum: f64,
    pub tx_seconds_buckets: [u64; 11],
    /// Jobs per transaction (group commit), per upper bound of [`BATCH_SIZE_BUCKETS`] (the last: larger).
    pub batch_size_buckets: [u64; 10],
}

/// Upper bounds of the transaction-duration histogram (seconds).
pub const TX_SECONDS_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
/// Upper bounds of the batch-size histogram (jobs per transaction).
pub const BATCH_SIZE_BUCKETS: [u64; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// A job for the writer: run `f` in the batch's transaction; `answer` gets its result once the commit is known
/// (or at once with its error, after its savepoint was rolled back).
fn write_job<T, E, F>(f: F, answer: impl FnOnce(Result<T, E>) + Send + 'static) -> WriteJob
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce(&mut Db) -> Result<T, E> + Send + 'static,
{
    Box::new(move |db: &mut Db| match f(db) {
        Ok(v) => (true, Box::new(move |commit: Result<(), StoreError>| answer(commit.map(|_| v).map_err(E::from)))),
        Err(e) => (false, Box::new(move |_| answer(Err(e)))),
    })
}

impl Store {
    /// Open the database, apply migrations, start the writer and reader threads.
    pub fn open(url: &DatabaseUrl, opts: StoreOptions) -> Result<Store, StoreError> {
        let mut first = open_conn(url)?;
        let backend = first.backend();
        ops::migrate(first.as_mut())?;
        // The safe horizon of the log, shared by every connection of this store (PostgreSQL; see horizon.rs).
        let horizon = Arc::new(AtomicI64::new(0));
        let (wtx, wrx) = mpsc::channel::<WriteJob>();
        let wrx = Arc::new(Mutex::new(wrx));
        let stats = Arc::new(Mutex::new(WriterStats::default()));
        let writers = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => opts.pg_writers.max(1),
        };
        let mut conn = Some(first);
        for i in 0..writers {
            let c = match conn.take() {
                Some(c) => c,
                None => open_conn(url)?,
            };
            let db = writer_db(url, c, &horizon)?;
            let (st, wrx) = (stats.clone(), wrx.clone());
            thread::Builder::new()
                .name(format!("oneseal-writer-{i}"))
                .spawn(move || writer_loop(db, wrx, opts.max_batch, st))
                .map_err(|e| StoreError::Db(e.to_string()))?;
        }
        let (rtx, rrx) = mpsc::channel::<ReadJob>();
        let rrx = Arc::new(Mutex::new(rrx));
        for i in 0..opts.readers.max(1) {
            let db = Db { sql: open_conn(url)?, side: None, horizon: horizon.clone(), writer: false };
            let rrx = rrx.clone();
            thread::Builder::new()
                .name(format!("oneseal-reader-{i}"))
                .spawn(move || reader_loop(db, rrx))
                .map_err(|e| StoreError::Db(e.to_string()))?;
        }
        Ok(Store { writer: wtx, readers: rtx, backend, stats })
    }

    /// Wait until every event committed before this call is below the safe horizon, so that subscribers and the
    /// transparency folder (which read only below it) see it. Nothing to do on SQLite, whose single writer commits
    /// in sequence order. Runs on a reader connection: never call it from inside a write job.
    pub async fn settle(&self) -> Result<i64, StoreError> {
        self.read(|db| db.settle_horizon()).await
    }

    /// [`Store::settle`] outside an async runtime.
    pub fn settle_blocking(&self) -> Result<i64, StoreError> {
        self.read_blocking(|db| db.settle_horizon())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn writer_stats(&self) -> WriterStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Run `f` inside the next group-commit transaction; its result is returned only once the transaction is
    /// durable. If `f` returns an error, everything it wrote is rolled back and the error returned.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job = write_job(f, move |r| {
            let _ = tx.send(r);
        });
        self.writer.send(job).map_err(|_| E::from(StoreError::Closed))?;
        rx.await.map_err(|_| E::from(StoreError::Closed))?
    }

    /// Run `f` on a reader connection.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: ReadJob = Box::new(move |db: &mut Db| {
            let _ = tx.send(f(db));
        });
        self.readers.send(job).map_err(|_| E::from(StoreError::Closed))?;
        rx.await.map_err(|_| E::from(StoreError::Closed))?
    }

    /// Blocking variants for the command line and tests outside an async runtime.
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Result<T, E>>();
        let job = write_job(f, move |r| {
            let _ = tx.send(r);
        });
        self.writer.send(job).map_err(|_| E::from(StoreError::Closed))?;
        rx.recv().map_err(|_| E::from(StoreError::Closed))?
    }

    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Result<T, E>>();
        let job: ReadJob = Box::new(move |db: &mut Db| {
            let _ = tx.send(f(db));
        });
        self.readers.send(job).map_err(|_| E::from(StoreError::Closed))?;
        rx.recv().map_err(|_| E::from(StoreError::Closed))?
    }
}

/// The benchmark's reference figure: `n` single-row inserts, each its own committed transaction, on a connection of
/// its own with the store's durability settings. Returns the elapsed time.
pub fn raw_commit_reference(url: &DatabaseUrl, n: i64) -> Result<Duration, StoreError> {
    let mut c = open_conn(url)?;
    c.batch("CREATE TABLE IF NOT EXISTS bench_raw (id BIGINT PRIMARY KEY, body TEXT NOT NULL)")?;
    let base = c.query("SELECT COALESCE(MAX(id), 0) FROM bench_raw", &[])?.first().map_or(Ok(0), |r| r.int(0))?;
    let body = sql::Val::Text("x".repeat(200));
    let t = std::time::Instant::now();
    for i in 0..n {
        c.batch("BEGIN")?;
        c.exec("INSERT INTO bench_raw (id, body) VALUES ($1, $2)", &[sql::Val::Int(base + i + 1), body.clone()])?;
        c.batch("COMMIT")?;
    }
    Ok(t.elapsed())
}

fn reader_loop(mut db: Db, rx: Arc<Mutex<mpsc::Receiver<ReadJob>>>) {
    loop {
        let job = {
            let Ok(guard) = rx.lock() else { return };
            match guard.recv() {
                Ok(j) => j,
                Err(_) => return,
            }
        };
        // A panicking read (a bug) must not shrink the pool.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut db)));
    }
}

fn writer_loop(mut db: Db, rx: Arc<Mutex<mpsc::Receiver<WriteJob>>>, max_batch: usize, stats: Arc<Mutex<WriterStats>>) {
    loop {
        // Take the queued jobs (up to `max_batch`) under the lock, then run them without it, so the other writers
        // (PostgreSQL) can take the next batch meanwhile.
        let jobs = {
            let Ok(rx) = rx.lock() else { return };
            let Ok(first) = rx.recv() else { return };
            let mut jobs = vec![first];
            while jobs.len() < max_batch {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            jobs
        };
        let n = jobs.len() as u64;
        let started = std::time::Instant::now();
        let replies = run_batch(&mut db, jobs);
        let secs = started.elapsed().as_secs_f64();
        if let Ok(mut s) = stats.lock() {
            s.transactions += 1;
            s.jobs += n;
            s.failed_batches += u64::from(replies.is_err());
            s.tx_seconds_sum += secs;
            let i = TX_SECONDS_BUCKETS.iter().position(|b| secs <= *b).unwrap_or(TX_SECONDS_BUCKETS.len());
            s.tx_seconds_buckets[i] += 1;
            let j = BATCH_SIZE_BUCKETS.iter().position(|b| n <= *b).unwrap_or(BATCH_SIZE_BUCKETS.len());
            s.batch_size_buckets[j] += 1;
        }
        match replies {
            Ok(replies) => {
                for (r, _) in replies {
                    r(Ok(()));
                }
            }
            Err((replies, e)) => {
                for (r, _) in replies {
                    r(Err(e.clone()));
                }
                // The connection may be unusable; back off briefly before the next batch.
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

type Replies = Vec<(Reply, bool)>;

fn run_batch(db: &mut Db, jobs: Vec<WriteJob>) -> Result<Replies, (Replies, StoreError)> {
    let mut replies: Replies = Vec::with_capacity(jobs.len());
    let begin = match db.sql.backend() {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        // No global lock: writers commit concurrently. The transaction takes its id now, before any event takes a
        // sequence number, which is what lets readers compute a safe horizon (horizon.rs).
        Backend::Postgres => "BEGIN; SELECT pg_current_xact_id()",
    };
    if let Err(e) = db.sql.batch(begin) {
        let failed: Replies = jobs.into_iter().map(|j| (fail_reply(j), false)).collect();
        return Err((failed, e));
    }
    // Each job runs inside its own savepoint; the statement that closes one job's savepoint also opens the next
    // one, to save a round trip per job on PostgreSQL.
    if let Err(e) = db.sql.batch("SAVEPOINT job") {
        let _ = db.sql.batch("ROLLBACK");
        let failed: Replies = jobs.into_iter().map(|j| (fail_reply(j), false)).collect();
        return Err((failed, e));
    }
    let n = jobs.len();
    for (i, job) in jobs.into_iter().enumerate() {
        // A job that panics (a bug) is rolled back like a failed one; the writer thread lives on. Its caller sees
        // the store as closed for that request only.
        let (ok, reply) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(db))) {
            Ok(r) => r,
            Err(_) => (false, Box::new(|_| {}) as Reply),
        };
        let last = i + 1 == n;
        let end = match (ok, last) {
            (true, true) => "RELEASE job",
            (true, false) => "RELEASE job; SAVEPOINT job",
            (false, true) => "ROLLBACK TO job; RELEASE job",
            (false, false) => "ROLLBACK TO job; RELEASE job; SAVEPOINT job",
        };
        if let Err(e) = db.sql.batch(end) {
            let _ = db.sql.batch("ROLLBACK");
            replies.push((reply, ok));
            return Err((replies, e));
        }
        replies.push((reply, ok));
    }
    match db.sql.batch("COMMIT") {
        Ok(()) => Ok(replies),
        Err(e) => {
            let _ = db.sql.batch("ROLLBACK");
            Err((replies, e))
        }
    }
}

/// A job that could not run because the transaction did not start: answer it with the error.
fn fail_reply(job: WriteJob) -> Reply {
    // The job is dropped unrun; its sender is dropped with it, so the caller sees `Closed`. Give a clearer error by
    // running nothing and reporting the failure through a no-op reply.
    drop(job);
    Box::new(|_| {})
}
