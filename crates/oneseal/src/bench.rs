//! `oneseal bench lifecycle`: start a server on a fresh database, drive complete case lifecycles through HTTP with
//! concurrent clients, and measure the raw reference (single-row committed inserts on the same disk with the same
//! durability) in the same run, so the two numbers can be compared on a noisy machine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use oneseal_app::App;
use oneseal_domain::roles::Role;
use oneseal_store::{Backend, DatabaseUrl};
use serde_json::{json, Map, Value};

#[derive(Subcommand)]
pub enum BenchCmd {
    /// The seal's SM2 signing and verification per second on one core, beside `openssl speed sm2` in the same run.
    Seal {
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Complete lifecycles (submit → accept → review → … → complete) through HTTP.
    Lifecycle {
        /// Lifecycles to run.
        #[arg(long, default_value_t = 2000)]
        n: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Database; default a fresh SQLite file under --dir.
        #[arg(long)]
        database: Option<String>,
        /// Directory for the fresh SQLite files (on the disk being measured).
        #[arg(long, default_value = "target/bench")]
        dir: std::path::PathBuf,
        /// Completed cases to store before measuring, through the real write path (as `oneseal bench load`).
        #[arg(long, default_value_t = 0)]
        preload: u64,
        /// Name (or part) of the catalog item to run.
        #[arg(long, default_value = "食品经营许可")]
        item: String,
        /// Single-row committed inserts for the raw reference.
        #[arg(long, default_value_t = 2000)]
        raw: i64,
        /// Fail when the CPU time per lifecycle (this process: server and clients) exceeds this many ms — the
        /// guard `scripts/test` runs against the budget in bench/cpu-budget.txt.
        #[arg(long)]
        max_cpu_ms: Option<f64>,
        /// The answers the clients ask for: `full` case views, or `minimal` (`Prefer: return=minimal`: number,
        /// version, status and current step — what a client needs to take the next step).
        #[arg(long, value_enum, default_value_t = Answers::Full)]
        answers: Answers,
    },
    /// The hall at peak: one point with many windows, a morning rush of arrivals taking numbers, every window
    /// calling, serving and finishing, and hall screens subscribed to the live feed: call-next latency.
    Hall {
        #[arg(long, default_value_t = 400)]
        windows: usize,
        /// Numbers taken (the morning rush: 2,000 arrivals in an hour at one point).
        #[arg(long, default_value_t = 2000)]
        arrivals: usize,
        /// Hall screens subscribed to `/hall/{point}/events` during the run.
        #[arg(long, default_value_t = 500)]
        screens: usize,
        /// Client threads working the windows (each works windows in turn).
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Arrivals per hour, paced (open loop); 0: as fast as the server answers (closed loop, saturation).
        #[arg(long, default_value_t = 0)]
        per_hour: u64,
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value = "target/bench")]
        dir: std::path::PathBuf,
    },
    /// Grow a database through the real write path: complete lifecycles through the application in-process
    /// (concurrent workers, every subscriber, liaison acknowledged, transparency leaves folded, checkpoints), with
    /// a fixed clock; progress and the time left on stderr. `rebuild --check` and `audit verify` accept the result.
    Load {
        /// Completed cases to add.
        #[arg(long, default_value_t = 10_000)]
        cases: u64,
        /// Concurrent lifecycles.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Database to add to (created if new); default a fresh SQLite file growth.db under --dir.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value = "target/bench")]
        dir: std::path::PathBuf,
        /// Name (or part) of the catalog item.
        #[arg(long, default_value = "公司设立登记")]
        item: String,
        /// The loader's clock starts here (RFC 3339) …
        #[arg(long, default_value = GROWTH_START)]
        start: String,
        /// … and moves a year / per-year at each lifecycle (Yinchuan's hall: about 4 million cases a year).
        #[arg(long, default_value_t = 4_000_000)]
        per_year: u64,
        /// Seconds between progress reports on stderr (0: none).
        #[arg(long, default_value_t = 5)]
        progress: u64,
        /// Of --cases, the last this many stop after acceptance (open cases in the work queues).
        #[arg(long, default_value_t = 0)]
        open: u64,
    },
    /// Electronic supervision's sweep with many open cases of which some are due: finding them, and raising
    /// their alerts.
    Sweep {
        /// Open cases watched.
        #[arg(long, default_value_t = 1_000_000)]
        cases: u64,
        /// Of which due today.
        #[arg(long, default_value_t = 1000)]
        due: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Database; default a fresh SQLite file under --dir. A PostgreSQL database must be empty.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value = "target/bench")]
        dir: std::path::PathBuf,
    },
    /// The leaders' dashboard over many cases spread across the past days: the whole computation, timed beside a
    /// plain indexed count of the same month's rows.
    Dashboard {
        /// Cases stored (90 % completed, 10 % open), spread evenly over `days` days up to now.
        #[arg(long, default_value_t = 1_000_000)]
        cases: u64,
        #[arg(long, default_value_t = 365)]
        days: u64,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Database; default a fresh SQLite file under --dir. A PostgreSQL database must be empty.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value = "target/bench")]
        dir: std::path::PathBuf,
    },
    /// The workbench with many open cases: each inbox view through HTTP (page and API), timed.
    Inbox {
        /// Open cases (each with an open review task) to store before measuring.
        #[arg(long, default_value_t = 100_000)]
        cases: u64,
        /// Requests per view.
        #[arg(long, default_value_t = 30)]
        n: usize,
        #[arg(long, default_value = "target/bench")]
        dir: std::path::PathBuf,
    },
}

pub fn run(c: BenchCmd) -> Result<(), String> {
    match c {
        BenchCmd::Seal { seconds } => seal_bench(seconds),
        BenchCmd::Lifecycle { n, concurrency, database, dir, preload, item, raw, max_cpu_ms, answers } => {
            lifecycle(n, concurrency.max(1), database, &dir, preload, &item, raw, max_cpu_ms, answers)
        }
        BenchCmd::Load { cases, concurrency, database, dir, item, start, per_year, progress, open } => {
            let db = bench_database(database, &dir, "growth")?;
            let opts = crate::growth::LoadOptions {
                cases,
                concurrency: concurrency.max(1),
                item,
                start: crate::growth::parse_start(&start)?,
                per_year,
                progress_secs: progress,
                open: open.min(cases),
            };
            println!(
                "OneSeal growth loader: {cases} {} through the application ({} left open after acceptance), {} concurrent",
                opts.item, opts.open, opts.concurrency
            );
            println!("  database: {}", DatabaseUrl::parse(&db).map_err(|e| e.to_string())?.redacted());
            let r = crate::growth::load(&db, &opts)?;
            print_load(&r);
            Ok(())
        }
        BenchCmd::Inbox { cases, n, dir } => inbox(cases, n.max(1), &dir),
        BenchCmd::Sweep { cases, due, rounds, database, dir } => {
            sweep(cases, due.min(cases), rounds.max(1), database, &dir)
        }
        BenchCmd::Dashboard { cases, days, rounds, database, dir } => {
            dashboard(cases, days.max(1), rounds.max(1), database, &dir)
        }
        BenchCmd::Hall { windows, arrivals, screens, clients, per_hour, database, dir } => {
            crate::bench_hall::run(windows.max(1), arrivals.max(1), screens, clients.max(1), per_hour, database, &dir)
        }
    }
}

/// The answers a benchmark's clients ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Answers {
    /// The full case view after each command (the default answer).
    Full,
    /// `Prefer: return=minimal` on commands: the case summary only.
    Minimal,
}

pub(crate) struct Client {
    pub(crate) agent: ureq::Agent,
    pub(crate) base: String,
    /// Response body bytes received (what the clients parse: part of the CPU measured).
    pub(crate) received: std::sync::atomic::AtomicU64,
    /// Commands are sent with `Prefer: return=minimal`.
    pub(crate) minimal: bool,
}

impl Client {
    pub(crate) fn new(agent: ureq::Agent, base: String) -> Client {
        Client { agent, base, received: std::sync::atomic::AtomicU64::new(0), minimal: false }
    }
}

impl Client {
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let auth = token.map(|t| format!("Bearer {t}"));
        let resp = match method {
            "GET" => {
                let mut r = self.agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            _ => {
                let mut r = self.agent.post(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                if self.minimal {
                    r = r.header("Prefer", "return=minimal");
                }
                r.send_json(body.cloned().unwrap_or(json!({})))
            }
        };
        let mut resp = resp.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_vec().map_err(|e| format!("{method} {path}: {e}"))?;
        self.received.fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let v: Value = serde_json::from_slice(&body).map_err(|e| format!("{method} {path}: {e}"))?;
        Ok((status, v))
    }
}

/// The database a benchmark runs on: the one given, or a fresh SQLite file `{name}.db` under `dir` (on the disk
/// being measured).
pub(crate) fn bench_database(database: Option<String>, dir: &std::path::Path, name: &str) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if let Some(d) = database {
        return Ok(d);
    }
    let p = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    Ok(format!("sqlite://{}", p.display()))
}

/// Serve `app` on a free port of 127.0.0.1 from `rt`; the address.
pub(crate) fn start_server(rt: &tokio::runtime::Runtime, app: &App) -> Result<std::net::SocketAddr, String> {
    start_server_with(rt, app, oneseal_web::WebSettings::default())
}

/// [`start_server`] with the web edge's settings.
pub(crate) fn start_server_with(
    rt: &tokio::runtime::Runtime,
    app: &App,
    settings: oneseal_web::WebSettings,
) -> Result<std::net::SocketAddr, String> {
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let router = oneseal_web::router_with(app.clone(), settings);
    rt.spawn(async move {
        let _ = oneseal_web::serve_router(router, listener, std::future::pending()).await;
    });
    Ok(addr)
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Tokens {
    applicant: String,
    clerk: String,
    by_dept: BTreeMap<String, String>,
}

/// Fill a form with valid values.
pub(crate) fn fill(form: &oneseal_domain::catalog::FormSchema) -> Map<String, Value> {
    use oneseal_domain::catalog::FieldType as F;
    let mut m = Map::new();
    for f in &form.fields {
        let v = match f.field_type {
            F::Text | F::LongText => json!("银川基准测试"),
            F::Number | F::Integer => {
                json!(f.min.unwrap_or(0.0).max(100.0).min(f.max.unwrap_or(1e12)))
            }
            F::Date => json!("2026-03-01"),
            F::Boolean => json!(false),
            F::Choice => json!(f.options.first().cloned().unwrap_or_default()),
            F::Phone => json!("13800000000"),
            F::Uscc => json!("91110000600037341L"),
            F::ResidentId => json!("64010420050101001X"),
            F::RegionCode => json!("640104"),
        };
        m.insert(f.key.clone(), v);
    }
    m
}

/// One lifecycle; returns the number of HTTP requests it took and the case number.
fn one_lifecycle(c: &Client, tk: &Tokens, submit: &Value, lat: &mut Vec<Duration>) -> Result<(usize, String), String> {
    let mut timed = |method: &str, path: &str, token: &str, body: Option<&Value>| -> Result<(u16, Value), String> {
        let t = Instant::now();
        let r = c.call(method, path, Some(token), body)?;
        lat.push(t.elapsed());
        Ok(r)
    };
    let (s, r) = timed("POST", "/api/v1/cases", &tk.applicant, Some(submit))?;
    if s != 201 {
        return Err(format!("submit: {s} {r}"));
    }
    let no = r["case_no"].as_str().unwrap_or_default().to_string();
    let (s, mut v) = timed("POST", &format!("/api/v1/cases/{no}/accept"), &tk.clerk, Some(&json!({})))?;
    if s != 200 {
        return Err(format!("accept: {s} {v}"));
    }
    let mut requests = 2;
    while v["status"] != "completed" {
        let step = &v["current_step"];
        let task = step["tasks"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["status"] == "open"))
            .cloned()
            .ok_or_else(|| format!("no open task: {v}"))?;
        let dept = task["department"].as_str().unwrap_or_default();
        let token = tk.by_dept.get(dept).ok_or_else(|| format!("no bench account for {dept}"))?;
        let (action, body) = match step["kind"].as_str().unwrap_or_default() {
            "review" | "joint_review" | "inspection" => {
                ("complete", json!({"task_id": task["task_id"], "opinion": "同意"}))
            }
            "decision" => ("decide", json!({"outcome": "grant"})),
            "license_issuance" => ("issue-licenses", json!({})),
            "delivery" => ("deliver", json!({"delivery": {"method": "electronic"}})),
            other => return Err(format!("step kind {other}")),
        };
        let (s, nv) = timed("POST", &format!("/api/v1/cases/{no}/{action}"), token, Some(&body))?;
        if s != 200 {
            return Err(format!("{action}: {s} {nv}"));
        }
        v = nv;
        requests += 1;
    }
    Ok((requests, no))
}

fn lifecycle(
    n: usize,
    conc: usize,
    database: Option<String>,
    dir: &std::path::Path,
    preload: u64,
    item: &str,
    raw: i64,
    max_cpu_ms: Option<f64>,
    answers: Answers,
) -> Result<(), String> {
    let db = bench_database(database, dir, "lifecycle")?;
    // Completed cases stored before measuring, through the real write path (its own application with the
    // loader's fixed clock, closed before the measured one opens).
    let preloaded = if preload > 0 {
        let opts = crate::growth::LoadOptions {
            cases: preload,
            concurrency: conc,
            item: item.to_string(),
            start: crate::growth::parse_start(GROWTH_START)?,
            per_year: 4_000_000,
            progress_secs: 5,
            open: 0,
        };
        Some(crate::growth::load(&db, &opts)?)
    } else {
        None
    };
    let app = crate::open_app(&db)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let backend = app.store.backend();
    println!("OneSeal lifecycle benchmark");
    println!(
        "  database: {} ({backend:?}, WAL + synchronous=FULL on SQLite, synchronous_commit=on on PostgreSQL)",
        DatabaseUrl::parse(&db).map_err(|e| e.to_string())?.redacted()
    );
    println!(
        "  machine: {} cores; lifecycles: {n}; concurrent clients: {conc}",
        std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1)
    );

    // Catalog and one staff account per department with every staff role.
    rt.block_on(async {
        crate::load_demo(&app, &db).await?;
        let roles = [Role::WindowClerk, Role::Reviewer, Role::Approver, Role::Inspector];
        // (A database given with --database may hold them from an earlier run.)
        for d in app.catalog().departments.clone() {
            let name = oneseal_domain::ids::Username::parse(&format!("bench-{}", d.id)).map_err(|e| e.to_string())?;
            if app.staff(&name).await.is_err() {
                app.put_account(&name, "bench", "bench-password", &roles, Some(d.id.as_str()))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        // A registered person: an applicant applies only as themself.
        let applicant = oneseal_domain::ids::Username::parse("bench-applicant").map_err(|e| e.to_string())?;
        if app.staff(&applicant).await.is_err() {
            app.register_person("bench-applicant", "bench-password", "基准测试", BENCH_ID, None, None)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })?;
    let view = app.catalog();
    let (code, it) = view
        .items
        .iter()
        .filter_map(|(c, v)| v.last().map(|p| (c.clone(), p.body.clone())))
        .find(|(_, i)| i.name.contains(item))
        .ok_or_else(|| format!("no item named {item}"))?;
    let materials: Vec<Value> = it
        .materials
        .iter()
        .filter(|m| m.required)
        .map(|m| json!({"material_id": m.id, "file_name": format!("{}.pdf", m.id)}))
        .collect();
    let submit = json!({"item_code": code, "channel": "online", "applicant": {"kind": "person", "name": "基准测试", "id_number": BENCH_ID}, "form": fill(&it.form), "materials": materials});
    let steps: Vec<&str> = it.process.steps.iter().map(|s| s.name.as_str()).collect();
    println!("  item: {} ({code}); steps: {}", it.name, steps.join(" → "));

    let addr = start_server(&rt, &app)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(conc * 2)
        .build()
        .into();
    let mut client = Client::new(agent, format!("http://{addr}"));
    client.minimal = answers == Answers::Minimal;
    let client = Arc::new(client);
    let login = |u: &str| -> Result<String, String> {
        let (s, v) = client.call(
            "POST",
            "/api/v1/sessions",
            None,
            Some(&json!({"username": u, "password": "bench-password"})),
        )?;
        if s != 201 {
            return Err(format!("login {u}: {s} {v}"));
        }
        Ok(v["token"].as_str().unwrap_or_default().to_string())
    };
    let mut by_dept = BTreeMap::new();
    for d in &view.departments {
        by_dept.insert(d.id.as_str().to_string(), login(&format!("bench-{}", d.id))?);
    }
    let tokens =
        Arc::new(Tokens { applicant: login("bench-applicant")?, clerk: login("bench-bureau-general")?, by_dept });

    // Warm up with one lifecycle.
    let mut warm = Vec::new();
    let (per, _) = one_lifecycle(&client, &tokens, &submit, &mut warm)?;
    if let Some(r) = &preloaded {
        let total = app.store.read_blocking(|db| db.count_cases()).map_err(|e| e.to_string())?;
        println!(
            "  preloaded {} completed cases in {:.1} s through the write path (cases stored: {total})",
            r.cases, r.seconds
        );
        print_load(r);
    }

    let before = app.store.writer_stats();
    let received_before = client.received.load(std::sync::atomic::Ordering::Relaxed);
    let cpu_before = process_cpu_ms();
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..conc {
        let client = client.clone();
        let tokens = tokens.clone();
        let submit = submit.clone();
        let count = n / conc + usize::from(w < n % conc);
        type Done = (Vec<Duration>, Vec<Duration>, usize, Option<f64>);
        handles.push(std::thread::spawn(move || -> Result<Done, String> {
            let mut req = Vec::new();
            let mut life = Vec::new();
            let mut requests = 0;
            for _ in 0..count {
                let t = Instant::now();
                let (r, _) = one_lifecycle(&client, &tokens, &submit, &mut req)?;
                life.push(t.elapsed());
                requests += r;
            }
            Ok((req, life, requests, cpu_ms_of("/proc/thread-self/stat")))
        }));
    }
    let mut req = Vec::new();
    let mut life = Vec::new();
    let mut requests = 0;
    let mut client_cpu = Some(0.0);
    for h in handles {
        let (r, l, q, c) = h.join().map_err(|_| "client thread panicked".to_string())??;
        req.extend(r);
        life.extend(l);
        requests += q;
        client_cpu = client_cpu.zip(c).map(|(a, b)| a + b);
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = process_cpu_ms().zip(cpu_before).map(|(a, b)| (a - b) / n.max(1) as f64);
    let after = app.store.writer_stats();
    req.sort();
    life.sort();
    let jobs = after.jobs - before.jobs;
    let txs = (after.transactions - before.transactions).max(1);
    println!("results");
    println!("  lifecycles/s: {:.0}  ({n} lifecycles of {per} requests in {secs:.2} s)", n as f64 / secs);
    println!("  requests/s: {:.0}", requests as f64 / secs);
    println!("  lifecycle latency ms: p50 {:.1}  p99 {:.1}", percentile(&life, 0.5), percentile(&life, 0.99));
    println!("  request latency ms: p50 {:.2}  p99 {:.2}", percentile(&req, 0.5), percentile(&req, 0.99));
    println!("  group commit: {jobs} writes in {txs} transactions ({:.1} per commit)", jobs as f64 / txs as f64);
    let received = client.received.load(std::sync::atomic::Ordering::Relaxed) - received_before;
    println!("  response bytes per lifecycle: {:.0}", received as f64 / n.max(1) as f64);
    if let Some(c) = cpu {
        println!("  CPU per lifecycle: {c:.2} ms (user + system of this process: server and clients together)");
        if let Some(cl) = client_cpu.map(|t| t / n.max(1) as f64) {
            println!("    of which the {conc} client threads: {cl:.2} ms; the server: {:.2} ms", c - cl);
        }
    }

    // The raw reference on the same disk and durability.
    let raw_url = match backend {
        Backend::Sqlite => bench_database(None, dir, "raw-reference")?,
        Backend::Postgres => db.clone(),
    };
    let raw_secs = oneseal_store::raw_commit_reference(&DatabaseUrl::parse(&raw_url).map_err(|e| e.to_string())?, raw)
        .map_err(|e| e.to_string())?
        .as_secs_f64();
    println!("reference");
    println!(
        "  raw single-row committed inserts/s (same disk, same durability): {:.0}  ({raw} in {raw_secs:.2} s)",
        raw as f64 / raw_secs
    );
    println!("  writes per lifecycle: {per}; lifecycles/s ÷ (raw commits/s ÷ writes per lifecycle) = {:.1}× the one-commit-per-write ceiling", (n as f64 / secs) / ((raw as f64 / raw_secs) / per as f64));
    drop(app);
    match (cpu, max_cpu_ms) {
        (Some(c), Some(max)) if c > max => {
            Err(format!("CPU per lifecycle {c:.2} ms exceeds the budget of {max:.2} ms (bench/cpu-budget.txt)"))
        }
        (None, Some(_)) => Err("CPU time is not available on this system (/proc/self/stat)".into()),
        _ => Ok(()),
    }
}

/// This process's CPU time so far (user + system, ms), from /proc/self/stat (clock ticks of 1/100 s: Linux's
/// USER_HZ). Steadier than wall time on a shared machine.
pub(crate) fn process_cpu_ms() -> Option<f64> {
    cpu_ms_of("/proc/self/stat")
}

/// User + system CPU ms from a `/proc/…/stat` file (the process's, or `/proc/thread-self/stat` for the calling
/// thread's own).
fn cpu_ms_of(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // After the command name in parentheses: state, ppid, … utime (14th field) and stime (15th).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

/// The benchmark applicant's resident ID number (valid check digit, not a demo person's).
const BENCH_ID: &str = "11010519491231002X";

/// Where the growth loader's clock starts by default (a Thursday in an officially published calendar year).
const GROWTH_START: &str = "2025-01-02T01:00:00Z";

/// What a growth load reports.
fn print_load(r: &crate::growth::LoadReport) {
    let cpu = r.cpu_ms_per_case.map_or_else(|| "?".to_string(), |c| format!("{c:.2}"));
    println!(
        "  growth load: {} lifecycles in {:.1} s ({:.0}/s), CPU {cpu} ms per lifecycle (user + system, this process); {} liaison messages acknowledged; log position {}; loader clock ended at {}",
        r.cases,
        r.seconds,
        r.cases as f64 / r.seconds.max(1e-9),
        r.liaison_acknowledged,
        r.last_seq,
        r.clock_end
    );
}

fn seal_bench(seconds: u64) -> Result<(), String> {
    use oneseal_seal::seal::{verify, SealKey};
    let key = SealKey::from_random([0x42; 32]).map_err(|e| e.to_string())?;
    let public = key.public_key();
    // A licence's signed payload is a few hundred bytes of JSON.
    let msg = vec![b'x'; 600];
    let window = Duration::from_secs(seconds);
    let t = Instant::now();
    let mut signs = 0u64;
    let mut sig = key.sign(&msg);
    while t.elapsed() < window {
        sig = key.sign(&msg);
        signs += 1;
    }
    let sign_rate = signs as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut verifies = 0u64;
    while t.elapsed() < window {
        if !verify(&public, &msg, &sig) {
            return Err("a signature did not verify".into());
        }
        verifies += 1;
    }
    let verify_rate = verifies as f64 / t.elapsed().as_secs_f64();
    println!("OneSeal seal (RustCrypto sm2, SM3, distinguishing ID), one thread, 600-byte messages:");
    println!("  signs/s: {sign_rate:.0}   verifies/s: {verify_rate:.0}");
    let out = std::process::Command::new("openssl").args(["speed", "-seconds", &seconds.to_string(), "sm2"]).output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let line = text
                .lines()
                .find(|l| l.contains("SM2") && l.contains("bits"))
                .or_else(|| text.lines().rev().find(|l| l.contains("sm2") || l.contains("SM2")));
            println!("openssl speed sm2 (same machine, same run):");
            println!("  {}", line.unwrap_or("(no SM2 line in openssl's output)").trim());
            if let Some(l) = line {
                let nums: Vec<f64> = l.split_whitespace().filter_map(|w| w.parse::<f64>().ok()).collect();
                if nums.len() >= 2 {
                    let (os_sign, os_verify) = (nums[nums.len() - 2], nums[nums.len() - 1]);
                    println!(
                        "  ratio OneSeal/OpenSSL: signing {:.2}×, verification {:.2}× (target ≥ 0.5×)",
                        sign_rate / os_sign,
                        verify_rate / os_verify
                    );
                }
            }
        }
        _ => println!("openssl speed sm2 is not available here"),
    }
    Ok(())
}

/// The workbench inboxes with `cases` open cases, each with an open review task of one section: the page
/// (`/work?view=…`, rendered HTML) and the API (`/api/v1/work-queue?view=…`), `n` requests each, timed.
fn inbox(cases: u64, n: usize, dir: &std::path::Path) -> Result<(), String> {
    let db = bench_database(None, dir, "inbox")?;
    let app = crate::open_app(&db)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(crate::load_demo(&app, &db))?;
    let addr = start_server(&rt, &app)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let client = Client::new(agent.clone(), format!("http://{addr}"));
    let login = |u: &str| -> Result<String, String> {
        let (s, v) =
            client.call("POST", "/api/v1/sessions", None, Some(&json!({"username": u, "password": "oneseal-demo"})))?;
        if s != 201 {
            return Err(format!("login {u}: {s} {v}"));
        }
        Ok(v["token"].as_str().unwrap_or_default().to_string())
    };
    // One real case at its review step, then copies of its case row and task.
    let view = app.catalog();
    let (code, it) = view
        .items
        .iter()
        .filter_map(|(c, v)| v.last().map(|p| (c.clone(), p.body.clone())))
        .find(|(_, i)| i.name == "食品经营许可")
        .ok_or("no 食品经营许可 in the demo catalog")?;
    let materials: Vec<Value> = it
        .materials
        .iter()
        .filter(|m| m.required)
        .map(|m| json!({"material_id": m.id, "file_name": "x.pdf"}))
        .collect();
    let submit = json!({"item_code": code, "channel": "online", "applicant": {"kind": "person", "name": "张三", "id_number": "64010420050101001X"}, "form": fill(&it.form), "materials": materials});
    let (s, r) = client.call("POST", "/api/v1/cases", Some(&login("citizen")?), Some(&submit))?;
    if s != 201 {
        return Err(format!("submit: {s} {r}"));
    }
    let tpl = r["case_no"].as_str().unwrap_or_default().to_string();
    let (s, v) =
        client.call("POST", &format!("/api/v1/cases/{tpl}/accept"), Some(&login("clerk")?), Some(&json!({})))?;
    if s != 200 {
        return Err(format!("accept: {s} {v}"));
    }
    let dept = v["current_step"]["tasks"][0]["department"].as_str().unwrap_or_default().to_string();
    let t0 = Instant::now();
    let chunk = 50_000u64;
    let mut done = 0u64;
    while done < cases {
        let (from, to, tpl) = (done + 1, (done + chunk).min(cases), tpl.clone());
        app.store
            .write_blocking(move |db| {
                // Dues spread over 90 days around today, so due-soon and overdue are a fraction of the whole.
                db.exec_batch(&format!(
                    "WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) \
                     INSERT INTO cases (case_no, subject_kind, subject_code, subject_version, title, department, channel, service_point, status, applicant_account, submitted_at_ms, accepted_at_ms, finished_at_ms, deadline, version, state, applicant_index) \
                     SELECT printf('YC19990101%07d', n.i), subject_kind, subject_code, subject_version, title, department, channel, service_point, status, applicant_account, submitted_at_ms, accepted_at_ms, finished_at_ms, date('now', printf('%+d days', (n.i % 90) - 45)), version, replace(state, '{tpl}', printf('YC19990101%07d', n.i)), applicant_index FROM n, (SELECT * FROM cases WHERE case_no = '{tpl}') c; \
                     WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) \
                     INSERT INTO tasks (case_no, task_id, step_id, step_name, title, role, department, assignee, due, created_at_ms) \
                     SELECT printf('YC19990101%07d', n.i), task_id, step_id, step_name, title, role, department, assignee, date('now', printf('%+d days', (n.i % 90) - 45)), created_at_ms + n.i FROM n, (SELECT * FROM tasks WHERE case_no = '{tpl}') t;"
                ))
            })
            .map_err(|e| e.to_string())?;
        done = to;
    }
    // What `serve` does at start and hourly: refresh the planner's statistics.
    app.store.write_blocking(|db| db.refresh_statistics()).map_err(|e| e.to_string())?;
    println!("OneSeal inbox benchmark");
    println!("  machine: {} cores; {db}", std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1),);
    println!("  {cases} open cases with an open review task of {dept}, stored in {:.1} s", t0.elapsed().as_secs_f64());
    let reviewer = login(&format!("{dept}-reviewer"))?;
    println!("  {:<34} {:>8} {:>8} {:>8}", "request (as the section's reviewer)", "p50 ms", "p99 ms", "bytes");
    for path in [
        "/work?view=to_claim",
        "/work?view=due_soon",
        "/work?view=overdue",
        "/work?view=mine",
        "/api/v1/work-queue?view=to_claim",
        "/api/v1/work-queue?view=due_soon",
        "/api/v1/work-queue?view=overdue",
    ] {
        let mut lat = Vec::with_capacity(n);
        let mut bytes = 0usize;
        for _ in 0..n {
            let t = Instant::now();
            let mut resp = agent
                .get(&format!("http://{addr}{path}"))
                .header("Authorization", &format!("Bearer {reviewer}"))
                .call()
                .map_err(|e| format!("{path}: {e}"))?;
            if resp.status().as_u16() != 200 {
                return Err(format!("{path}: {}", resp.status()));
            }
            bytes = resp.body_mut().read_to_vec().map_err(|e| e.to_string())?.len();
            lat.push(t.elapsed());
        }
        lat.sort();
        println!("  {path:<34} {:>8.1} {:>8.1} {:>8}", percentile(&lat, 0.5), percentile(&lat, 0.99), bytes);
    }
    Ok(())
}

/// `cases` watch rows, `due` of them yellow today; each round re-arms the due rows, then times the find (the
/// indexed query alone) and the sweep (find, raise each alert as an event with its projection, clear the date).
fn sweep(cases: u64, due: u64, rounds: usize, database: Option<String>, dir: &std::path::Path) -> Result<(), String> {
    let db = bench_database(database, dir, "sweep")?;
    let app = crate::open_app(&db)?;
    let pg = app.store.backend() == Backend::Postgres;
    let today = oneseal_domain::calendar::format_date(oneseal_domain::clock::local_date(app.now()));
    let t0 = Instant::now();
    let chunk = 100_000u64;
    let mut done = 0u64;
    while done < cases {
        let (from, to) = (done + 1, (done + chunk).min(cases));
        let rows = if pg {
            format!(
                "SELECT 'YC19990101' || lpad(i::text, 7, '0') AS case_no FROM generate_series({from}, {to}) AS n(i)"
            )
        } else {
            format!("WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) SELECT printf('YC19990101%07d', i) AS case_no FROM n")
        };
        app.store
            .write_blocking(move |db| {
                db.exec_batch(&format!(
                    "INSERT INTO supervision_watch (case_no, department, title, step_name, assignee, deadline, yellow_on, red_on, stall_on, pledge_due) \
                     SELECT case_no, 'bureau-economy', '食品经营许可', '审查', NULL, '2099-01-10', '2099-01-08', '2099-01-11', '2099-01-05', NULL FROM ({rows}) seq"
                ))
            })
            .map_err(|e| e.to_string())?;
        done = to;
    }
    app.store.write_blocking(|db| db.refresh_statistics()).map_err(|e| e.to_string())?;
    println!("OneSeal supervision sweep benchmark");
    println!(
        "  machine: {} cores; database {} ({})",
        std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1),
        DatabaseUrl::parse(&db).map_err(|e| e.to_string())?.redacted(),
        if pg { "PostgreSQL, synchronous_commit=on" } else { "SQLite WAL, synchronous=FULL" }
    );
    println!(
        "  {cases} open cases watched, stored in {:.1} s; {due} due (yellow) today each round",
        t0.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    for round in 1..=rounds {
        // Re-arm `due` rows (a different set each round, so each raises new alerts).
        let (start, today2) = ((round as u64 - 1) * due, today.clone());
        let picked = if pg {
            format!("SELECT 'YC19990101' || lpad(({start} + i)::text, 7, '0') FROM generate_series(1, {due}) AS n(i)")
        } else {
            format!("SELECT printf('YC19990101%07d', {start} + i) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {due}) SELECT i FROM n)")
        };
        app.store
            .write_blocking(move |db| {
                db.exec_batch(&format!(
                    "UPDATE supervision_watch SET yellow_on = '{today2}' WHERE case_no IN ({picked})"
                ))
            })
            .map_err(|e| e.to_string())?;
        let (d2, t2) = (due as i64, today.clone());
        let tf = Instant::now();
        let found = app
            .store
            .read_blocking(move |db| db.watch_due("yellow_on", &t2, d2 + 10))
            .map_err(|e| e.to_string())?
            .len();
        let find_ms = tf.elapsed().as_secs_f64() * 1000.0;
        let ts = Instant::now();
        let rep = rt.block_on(app.sweep_supervision(due as i64 + 10)).map_err(|e| app_err_text(&e))?;
        let sweep_ms = ts.elapsed().as_secs_f64() * 1000.0;
        println!(
            "  round {round}: find {found} due in {find_ms:.1} ms; sweep raised {} alerts (find + append events + projection + clear) in {sweep_ms:.1} ms",
            rep.total()
        );
    }
    Ok(())
}

/// `cases` case rows over `days` days; each round times `App::dashboard` (read the month's rows through the
/// indexes, compute every number, count overdue and alerts) and, as the reference in the same run, a plain
/// `COUNT(*)` of the rows submitted in the same window.
fn dashboard(
    cases: u64,
    days: u64,
    rounds: usize,
    database: Option<String>,
    dir: &std::path::Path,
) -> Result<(), String> {
    let db = bench_database(database, dir, "dashboard")?;
    let app = crate::open_app(&db)?;
    let pg = app.store.backend() == Backend::Postgres;
    let now_ms = oneseal_app::ms(app.now());
    let t0 = Instant::now();
    let chunk = 100_000u64;
    let mut done = 0u64;
    while done < cases {
        let (from, to) = (done + 1, (done + chunk).min(cases));
        let (seq, no) = if pg {
            (
                format!("SELECT i FROM generate_series({from}::bigint, {to}::bigint) AS n(i)"),
                "'YC19990101' || lpad(i::text, 7, '0')",
            )
        } else {
            (
                format!("WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) SELECT i FROM n"),
                "printf('YC19990101%07d', i)",
            )
        };
        let sql = format!(
            "INSERT INTO cases (case_no, subject_kind, subject_code, subject_version, title, department, channel, service_point, status, \
             applicant_account, submitted_at_ms, accepted_at_ms, finished_at_ms, deadline, version, state) \
             SELECT {no}, 'item', 'bench-item-' || (i % 50), 1, '食品经营许可', \
             CASE i % 5 WHEN 0 THEN 'bureau-economy' WHEN 1 THEN 'bureau-market' WHEN 2 THEN 'bureau-social' WHEN 3 THEN 'bureau-construction' ELSE 'bureau-transport' END, \
             CASE i % 4 WHEN 0 THEN 'online' WHEN 1 THEN 'window' WHEN 2 THEN 'mobile' ELSE 'bank' END, 'A0' || (i % 8), \
             CASE WHEN i % 10 = 0 THEN 'in_progress' ELSE 'completed' END, NULL, \
             {now_ms} - (i % {days}) * 86400000 - (i % 480) * 60000, NULL, \
             CASE WHEN i % 10 = 0 THEN NULL ELSE {now_ms} - (i % {days}) * 86400000 - (i % 480) * 60000 + (i % 5) * 3600000 + 60000 END, \
             CASE WHEN i % 10 = 0 THEN '2026-01-05' ELSE '2099-01-01' END, 1, '{{}}' FROM ({seq}) seq"
        );
        app.store.write_blocking(move |db| db.exec_batch(&sql)).map_err(|e| e.to_string())?;
        done = to;
    }
    app.store.write_blocking(|db| db.refresh_statistics()).map_err(|e| e.to_string())?;
    println!("OneSeal dashboard benchmark");
    println!(
        "  machine: {} cores; database {} ({})",
        std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1),
        DatabaseUrl::parse(&db).map_err(|e| e.to_string())?.redacted(),
        if pg { "PostgreSQL" } else { "SQLite WAL" }
    );
    println!("  {cases} cases over {days} days stored in {:.1} s", t0.elapsed().as_secs_f64());
    let admin = oneseal_domain::roles::Actor::system("bench-admin", oneseal_domain::roles::Role::Administrator, None);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let since = now_ms - 32 * 86_400_000;
    let (mut full, mut reference, mut read) = (Vec::new(), Vec::new(), Vec::new());
    let mut rows = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        app.store.read_blocking(move |db| db.dashboard_rows(since)).map_err(|e| e.to_string())?;
        read.push(t.elapsed());
        let t = Instant::now();
        let n = app
            .store
            .read_blocking(move |db| {
                db.exec_count(&format!("SELECT COUNT(*) FROM cases WHERE submitted_at_ms >= {since}"))
            })
            .map_err(|e| e.to_string())?;
        reference.push(t.elapsed());
        rows = n;
        let t = Instant::now();
        let d = rt.block_on(app.dashboard(&admin)).map_err(|e| app_err_text(&e))?;
        full.push(t.elapsed());
        if d.numbers.month_total < 0 {
            return Err("impossible".into());
        }
    }
    full.sort();
    reference.sort();
    read.sort();
    println!(
        "  dashboard (read {rows}+ rows of the last 32 days, compute, overdue, alerts): p50 {:.1} ms, max {:.1} ms",
        percentile(&full, 0.5),
        percentile(&full, 1.0)
    );
    println!("  of which reading the rows (one OR query, both indexes): p50 {:.1} ms", percentile(&read, 0.5));
    println!(
        "  reference, same run: COUNT(*) of those rows through the index: p50 {:.1} ms",
        percentile(&reference, 0.5)
    );
    Ok(())
}

fn app_err_text(e: &oneseal_app::AppError) -> String {
    e.to_string()
}
