//! `oneseal`: the one binary. Serve the platform, migrate, import the catalog, answer calendar questions, rebuild
//! projections, check identifiers and run the lifecycle benchmark.

/// mimalloc instead of glibc's malloc: the request path allocates many small, short-lived values (JSON trees,
/// rows, strings) across threads, and glibc's allocator was ~15 % of a lifecycle's CPU (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod bench_hall;
mod config;
mod growth;
mod secrets;
mod simulate;
mod tools;
mod workers;

use secrets::getrandom_fill;
pub use secrets::{master_key, seal_passphrase};
use tools::{crypto, license_cmd, seal_cmd, CryptoCmd, LicenseCmd, SealCmd};

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use oneseal_app::{App, AppError, SystemClock};
use oneseal_domain::calendar::{format_date, parse_date, Calendar, YearData};
use oneseal_domain::ids::{ResidentId, Uscc};
use oneseal_seal::pd::MasterKey;
use oneseal_store::{DatabaseUrl, Store, StoreOptions};

const DEFAULT_DB: &str = "sqlite://oneseal-data/oneseal.db";

#[derive(Parser)]
#[command(name = "oneseal", version, about = "OneSeal: one bureau, one window, one form, one seal")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the HTTP server.
    Serve {
        /// sqlite://path (default) or postgres://user:pass@host/db
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        #[arg(long, env = "ONESEAL_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Load the demo catalog and demo accounts into an empty database.
        #[arg(long)]
        demo: bool,
        /// The address the public reaches this deployment at, printed on licences (the QR's URL form).
        #[arg(long, env = "ONESEAL_PUBLIC_URL")]
        public_url: Option<String>,
        /// With --demo only: the clock starts at this instant (RFC 3339) and runs on from there, to show or test
        /// what happens on a known working day and hour (a scheduled inspection's slot); never for a deployment.
        #[arg(long, requires = "demo")]
        clock_start: Option<String>,
    },
    /// Print every setting (environment variable, default, meaning) as the Markdown table README.md shows.
    Settings,
    /// Create or upgrade the database schema.
    Migrate {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
    },
    /// The service catalog.
    #[command(subcommand)]
    Catalog(CatalogCmd),
    /// Working days and deadlines.
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Rebuild every projection from the events.
    Rebuild {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        /// Rebuild and report whether the result equals the projections before.
        #[arg(long)]
        check: bool,
    },
    /// Exports for analysis.
    #[command(subcommand)]
    Export(ExportCmd),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// What-if simulations (the hall's windows).
    #[command(subcommand)]
    Simulate(simulate::SimulateCmd),
    /// Identifier checks (USCC, resident ID).
    #[command(subcommand)]
    Id(IdCmd),
    /// Personal-data keys.
    #[command(subcommand)]
    Pd(PdCmd),
    /// The bureau's seal (SM2).
    #[command(subcommand)]
    Seal(SealCmd),
    /// Electronic licences.
    #[command(subcommand)]
    License(LicenseCmd),
    /// The transparency log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// National-cryptography primitives, for interoperability checks against other implementations.
    #[command(subcommand)]
    Crypto(CryptoCmd),
}

#[derive(Subcommand)]
enum PdCmd {
    /// Re-wrap every data key under a new master key (64 hex characters in the file), start a new data key and
    /// recompute the blind indexes. Afterwards run with the new key.
    Rotate {
        #[arg(long)]
        new_key_file: PathBuf,
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute every leaf from the events, the tree and the checkpoint signatures; name the first divergence.
    Verify {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
    },
    /// Sign a checkpoint of the log now.
    Checkpoint {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
    },
}

fn audit_cmd(c: AuditCmd) -> CliResult {
    match c {
        AuditCmd::Verify { database } => {
            let app = open_app(&database)?;
            let rep = runtime()?.block_on(app.audit()).map_err(app_err)?;
            if rep.problems.is_empty() {
                println!(
                    "log intact: {} events, {} leaves, {} checkpoints verified",
                    rep.events, rep.tree_size, rep.checkpoints
                );
                Ok(())
            } else {
                for p in &rep.problems {
                    println!("{p}");
                }
                Err(format!("the log diverges: {}", rep.problems[0]))
            }
        }
        AuditCmd::Checkpoint { database } => {
            let app = open_app(&database)?;
            match runtime()?.block_on(app.sign_checkpoint()).map_err(app_err)? {
                Some(note) => print!("{note}"),
                None => println!("no new events since the last checkpoint"),
            }
            Ok(())
        }
    }
}

#[derive(Subcommand)]
enum ExportCmd {
    /// The case event log as XES (IEEE 1849), for process mining.
    Xes {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The supervision alerts as CSV.
    AlertsCsv {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn export_cmd(c: ExportCmd) -> CliResult {
    let (database, out, xes) = match c {
        ExportCmd::Xes { database, out } => (database, out, true),
        ExportCmd::AlertsCsv { database, out } => (database, out, false),
    };
    let app = open_app(&database)?;
    let rt = runtime()?;
    let text =
        if xes { rt.block_on(app.export_xes()) } else { rt.block_on(app.export_alerts_csv()) }.map_err(app_err)?;
    match out {
        Some(p) => std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

#[derive(Subcommand)]
enum CatalogCmd {
    /// Validate catalog files and publish what changed as new versions.
    Import {
        #[arg(default_value = "catalog")]
        dir: PathBuf,
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        #[arg(long, default_value = "imported from catalog files")]
        reason: String,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Validate catalog files without touching a database.
    Check {
        #[arg(default_value = "catalog")]
        dir: PathBuf,
    },
    /// List the published items.
    List {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        /// Search text (Chinese works: 营业执照, 食品, 护士).
        #[arg(long)]
        search: Option<String>,
    },
    /// Show one item's published guide as JSON.
    Show {
        code: String,
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        #[arg(long)]
        version: Option<u32>,
    },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Print true or false, followed by "provisional" for a year without an official notice.
    IsWorkday {
        date: String,
        #[arg(long, env = "ONESEAL_DATABASE")]
        database: Option<String>,
    },
    /// The date of the N-th working day after DATE ("provisional" after it when the count reached a year without
    /// an official notice); with --stdin, read "DATE N" lines.
    Deadline {
        date: Option<String>,
        days: Option<u32>,
        #[arg(long)]
        stdin: bool,
        #[arg(long, env = "ONESEAL_DATABASE")]
        database: Option<String>,
    },
    /// Print "DATE true|false [provisional]" for every date in a range.
    Dump {
        from: String,
        to: String,
        #[arg(long, env = "ONESEAL_DATABASE")]
        database: Option<String>,
    },
    /// Publish a year's official data (a data/calendar/YYYY.toml file) without a release.
    AddYear {
        file: PathBuf,
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// List the years with data.
    Years {
        #[arg(long, env = "ONESEAL_DATABASE")]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum IdCmd {
    /// Say what a code is and whether it is valid.
    Check { code: String },
    /// Print the check character of bodies (one per line with --stdin): 17-character USCC or resident-ID bodies,
    /// or ISO 7064 MOD 37,36 over a licence identifier's body.
    CheckDigit {
        #[arg(value_parser = ["uscc", "resident-id", "mod37-36"])]
        kind: String,
        body: Option<String>,
        #[arg(long)]
        stdin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

type CliResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

pub(crate) fn app_err(e: AppError) -> String {
    match &e {
        AppError::Store(s) => format!("{e}: {s}"),
        AppError::Internal(s) => format!("{e}: {s}"),
        _ => e.to_string(),
    }
}

/// Open the store, creating the directory of a SQLite file.
pub fn open_store(database: &str) -> Result<Store, String> {
    open_store_with(database, StoreOptions::default())
}

/// [`open_store`] with explicit options (`serve` passes the configured writers).
pub fn open_store_with(database: &str, options: StoreOptions) -> Result<Store, String> {
    let url = DatabaseUrl::parse(database).map_err(err)?;
    if let DatabaseUrl::Sqlite(p) = &url {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    Store::open(&url, options).map_err(|e| format!("cannot open {}: {e}", url.redacted()))
}

/// The personal-data master key: `ONESEAL_PD_KEY` (64 hex characters), or the file named by

pub fn open_app(database: &str) -> Result<App, String> {
    let config = crate::config::Config::from_env().map_err(|e| format!("configuration:\n{e}"))?;
    open_app_with(database, &config)
}

/// Open the application on a database with these settings.
pub fn open_app_with(database: &str, config: &crate::config::Config) -> Result<App, String> {
    open_app_clocked(database, config, Arc::new(SystemClock))
}

/// [`open_app_with`] with the time taken from `clock` (the growth loader's fixed, moving clock).
pub fn open_app_clocked(
    database: &str,
    config: &crate::config::Config,
    clock: Arc<dyn oneseal_app::Clock>,
) -> Result<App, String> {
    let master = master_key(database)?;
    let store = open_store_with(database, StoreOptions { pg_writers: config.pg_writers, ..StoreOptions::default() })?;
    let app = App::new(store, clock, master).map_err(app_err)?;
    config.apply(&app)?;
    app.set_video_settings(config.video_settings(database));
    if let Some(pass) = seal_passphrase(database, false)? {
        runtime()?.block_on(app.load_seal(&pass)).map_err(app_err)?;
    }
    Ok(app)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(err)
}

/// Read catalog files laid out like catalog/.
pub fn read_catalog_dir(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    for sub in ["", "items", "bundles", "project-types"] {
        let d = dir.join(sub);
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<PathBuf> =
            rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
        paths.sort();
        for p in paths {
            let rel = if sub.is_empty() {
                p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
            } else {
                format!("{sub}/{}", p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
            };
            files.push((rel, std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?));
        }
    }
    if files.is_empty() {
        return Err(format!("no catalog files under {}", dir.display()));
    }
    Ok(files)
}

/// " provisional" when counting from `from` to `to` used a year without an official notice; nothing otherwise.
fn provisional_mark(cal: &Calendar, from: time::Date, to: time::Date) -> &'static str {
    if cal.provisional_between(from, to) {
        " provisional"
    } else {
        ""
    }
}

fn calendar_for(database: Option<&str>) -> Result<Calendar, String> {
    let db = match database {
        Some(d) => Some(d.to_string()),
        None if Path::new("oneseal-data/oneseal.db").exists() => Some(DEFAULT_DB.to_string()),
        None => None,
    };
    match db {
        Some(d) => Ok((*open_app(&d)?.calendar()).clone()),
        None => {
            let mut years = Vec::new();
            for t in oneseal_app::calendar::BUILTIN_YEARS {
                years.push(YearData::from_toml(t).map_err(err)?);
            }
            Ok(Calendar::new(years))
        }
    }
}

fn run(cli: Cli) -> CliResult {
    match cli.cmd {
        Cmd::Serve { database, listen, demo, public_url, clock_start } => {
            serve(&database, &listen, demo, public_url.as_deref(), clock_start.as_deref())
        }
        Cmd::Settings => {
            print!("{}", crate::config::markdown_table());
            Ok(())
        }
        Cmd::Migrate { database } => {
            open_store(&database)?;
            println!("schema up to date: {}", DatabaseUrl::parse(&database).map_err(err)?.redacted());
            Ok(())
        }
        Cmd::Catalog(c) => catalog(c),
        Cmd::Calendar(c) => calendar(c),
        Cmd::Rebuild { database, check } => {
            let app = open_app(&database)?;
            runtime()?.block_on(async {
                let before = app.dump_projections().await.map_err(app_err)?;
                // Progress on stderr at most every two seconds: events done of all, the rate, and the time left.
                let last = std::sync::Mutex::new(std::time::Instant::now());
                let progress: oneseal_app::rebuild::ProgressFn = Box::new(move |p| {
                    let Ok(mut at) = last.lock() else { return };
                    if at.elapsed() < std::time::Duration::from_secs(2) && p.done < p.total {
                        return;
                    }
                    *at = std::time::Instant::now();
                    let eta = p.eta_secs().map_or_else(|| "?".to_string(), |s| format!("{s:.0} s"));
                    eprintln!(
                        "rebuild: {} of {} events ({:.0} %), {:.0} events/s, about {eta} left",
                        p.done,
                        p.total,
                        100.0 * p.done as f64 / p.total.max(1) as f64,
                        p.rate()
                    );
                });
                let rep = app.rebuild_with_progress(Some(progress)).await.map_err(app_err)?;
                println!("rebuilt projections from {} events ({} cases)", rep.events, rep.cases);
                if check {
                    let after = app.dump_projections().await.map_err(app_err)?;
                    if before == after {
                        println!("identical: the rebuilt projections equal the ones before");
                    } else {
                        return Err("the rebuilt projections differ from the ones before".to_string());
                    }
                }
                Ok(())
            })
        }
        Cmd::Bench(b) => bench::run(b),
        Cmd::Simulate(c) => simulate::run(c),
        Cmd::Export(e) => export_cmd(e),
        Cmd::Id(c) => id(c),
        Cmd::Crypto(c) => crypto(c),
        Cmd::Seal(c) => seal_cmd(c),
        Cmd::License(c) => license_cmd(c),
        Cmd::Audit(c) => audit_cmd(c),
        Cmd::Pd(PdCmd::Rotate { new_key_file, database }) => {
            let text =
                std::fs::read_to_string(&new_key_file).map_err(|e| format!("{}: {e}", new_key_file.display()))?;
            let new = MasterKey::from_hex(&text).map_err(|e| format!("{}: {e}", new_key_file.display()))?;
            let app = open_app(&database)?;
            let n = runtime()?.block_on(app.rotate_master_key(&new)).map_err(app_err)?;
            println!(
                "re-wrapped {n} data keys under the new master key (fingerprint {}); run with the new key from now on",
                new.fingerprint()
            );
            Ok(())
        }
    }
}

/// A clock that runs at the system's pace from a chosen start (`serve --demo --clock-start`).
struct ShiftedClock {
    offset: time::Duration,
}

impl oneseal_app::Clock for ShiftedClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + self.offset
    }
}

fn serve(database: &str, listen: &str, demo: bool, public_url: Option<&str>, clock_start: Option<&str>) -> CliResult {
    let addr: std::net::SocketAddr = listen.parse().map_err(|e| format!("--listen {listen:?}: {e}"))?;
    // Every setting read once, every problem reported together, before anything starts.
    let config = crate::config::Config::from_env().map_err(|e| format!("configuration:\n{e}"))?;
    let clock: Arc<dyn oneseal_app::Clock> = match clock_start {
        Some(s) if demo => {
            let start = growth::parse_start(s).map_err(|e| format!("--clock-start: {e}"))?;
            Arc::new(ShiftedClock { offset: start - time::OffsetDateTime::now_utc() })
        }
        Some(_) => return Err("--clock-start is for a demo server only (--demo)".into()),
        None => Arc::new(SystemClock),
    };
    let app = open_app_clocked(database, &config, clock)?;
    if let Some(u) = public_url {
        app.set_public_url(u).map_err(|e| format!("ONESEAL_PUBLIC_URL: {}", app_err(e)))?;
    }
    let rt = runtime()?;
    rt.block_on(async move {
        if demo {
            load_demo(&app, database).await?;
        }
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(err)?;
        if public_url.is_none() {
            app.set_public_url(&format!("http://{local}")).map_err(app_err)?;
        }
        crate::workers::Workers::start(&app, config.mail.clone());
        println!(
            "OneSeal listening on http://{local} (database {})",
            DatabaseUrl::parse(database).map_err(err)?.redacted()
        );
        if let Some(c) = &config.web.oidc {
            println!("staff single sign-on through {}", c.issuer);
        }
        let _ = std::io::stdout().flush();
        let router = oneseal_web::router_with(app, config.web.clone());
        oneseal_web::serve_router(router, listener, shutdown_signal()).await.map_err(err)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Load the demo catalog and demo accounts into an empty database.
pub async fn load_demo(app: &App, database: &str) -> CliResult {
    if app.catalog().items.is_empty() {
        let set = oneseal_app::catalog::demo_catalog().map_err(app_err)?;
        let rep = app.import_catalog(set, "demo", "demo catalog (银川市审批服务局)").await.map_err(app_err)?;
        println!("demo catalog: published {} versions", rep.published.len());
    } else if app.catalog().project_types.is_empty() {
        // A demo database from before project types were catalog entries: publish the demo's types (they need
        // the construction items; if those are missing too, say how to bring the catalog up to date).
        let mut set = app.catalog().as_set();
        set.project_types = oneseal_app::catalog::demo_catalog().map_err(app_err)?.project_types;
        match app.import_catalog(set, "demo", "demo project types (工程建设项目类型)").await {
            Ok(rep) => println!("demo project types: published {} versions", rep.published.len()),
            Err(e) => eprintln!("demo project types not published ({e}); run `oneseal catalog import catalog`"),
        }
    }
    if app.published_keys().await.map_err(app_err)?.is_empty() {
        let pass = seal_passphrase(database, true)?
            .ok_or("a PostgreSQL demo needs ONESEAL_SEAL_PASSPHRASE (or ONESEAL_SEAL_PASSPHRASE_FILE) for its seal")?;
        let id = app.install_seal("demo", &pass, None).await.map_err(app_err)?;
        println!("demo seal created: key {id}");
    }
    if app.ensure_demo_accounts().await.map_err(app_err)? {
        println!("demo accounts created (password: {})", oneseal_app::auth::DEMO_PASSWORD);
    }
    Ok(())
}

fn catalog(c: CatalogCmd) -> CliResult {
    match c {
        CatalogCmd::Check { dir } => {
            let files = read_catalog_dir(&dir)?;
            let set = oneseal_app::catalog::parse_catalog_files(&files).map_err(app_err)?;
            println!(
                "valid: {} departments, {} items, {} bundles, {} project types",
                set.departments.len(),
                set.items.len(),
                set.bundles.len(),
                set.project_types.len()
            );
            Ok(())
        }
        CatalogCmd::Import { dir, database, reason, actor } => {
            let files = read_catalog_dir(&dir)?;
            let set = oneseal_app::catalog::parse_catalog_files(&files).map_err(app_err)?;
            let app = open_app(&database)?;
            let rep = runtime()?.block_on(app.import_catalog(set, &actor, &reason)).map_err(app_err)?;
            for p in &rep.published {
                println!("published {p}");
            }
            println!("{} published, {} unchanged", rep.published.len(), rep.unchanged);
            Ok(())
        }
        CatalogCmd::List { database, search } => {
            let app = open_app(&database)?;
            let view = app.catalog();
            let codes: Vec<String> = match search {
                Some(q) => view.search(&q).into_iter().map(|(_, c, _)| c).collect(),
                None => view.items.keys().cloned().chain(view.bundles.keys().cloned()).collect(),
            };
            for code in codes {
                if let Some(p) = view.latest_item(&code) {
                    println!(
                        "{code}\tv{}\t{}\t{}",
                        p.version,
                        view.department_name(p.body.department.as_str()),
                        p.body.name
                    );
                } else if let Some(p) = view.latest_bundle(&code) {
                    println!("{code}\tv{}\tbundle\t{}", p.version, p.body.name);
                }
            }
            Ok(())
        }
        CatalogCmd::Show { code, database, version } => {
            let app = open_app(&database)?;
            let view = app.catalog();
            let p = match version {
                Some(v) => view.item_version(&code, v),
                None => view.latest_item(&code),
            }
            .ok_or_else(|| format!("no item {code}"))?;
            println!("{}", serde_json::to_string_pretty(p).map_err(err)?);
            Ok(())
        }
    }
}

fn calendar(c: CalendarCmd) -> CliResult {
    match c {
        CalendarCmd::IsWorkday { date, database } => {
            let cal = calendar_for(database.as_deref())?;
            let d = parse_date(&date)?;
            println!("{}{}", cal.is_workday(d).map_err(err)?, provisional_mark(&cal, d, d));
            Ok(())
        }
        CalendarCmd::Deadline { date, days, stdin, database } => {
            let cal = calendar_for(database.as_deref())?;
            if stdin {
                let out = std::io::stdout();
                let mut out = out.lock();
                for line in std::io::stdin().lock().lines() {
                    let line = line.map_err(err)?;
                    let mut parts = line.split_whitespace();
                    let (Some(d), Some(n)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    let d = parse_date(d)?;
                    let n: u32 = n.parse().map_err(|e| format!("{line:?}: {e}"))?;
                    let dl = cal.add_working_days(d, n).map_err(err)?;
                    writeln!(out, "{}{}", format_date(dl), provisional_mark(&cal, d, dl)).map_err(err)?;
                }
                return Ok(());
            }
            let (Some(date), Some(days)) = (date, days) else {
                return Err("give DATE and N, or --stdin".into());
            };
            let start = parse_date(&date)?;
            let dl = cal.add_working_days(start, days).map_err(err)?;
            println!("{}{}", format_date(dl), provisional_mark(&cal, start, dl));
            Ok(())
        }
        CalendarCmd::Dump { from, to, database } => {
            let cal = calendar_for(database.as_deref())?;
            let (mut d, end) = (parse_date(&from)?, parse_date(&to)?);
            let out = std::io::stdout();
            let mut out = out.lock();
            while d <= end {
                writeln!(out, "{} {}{}", format_date(d), cal.is_workday(d).map_err(err)?, provisional_mark(&cal, d, d))
                    .map_err(err)?;
                d = d.next_day().ok_or("date out of range")?;
            }
            Ok(())
        }
        CalendarCmd::AddYear { file, database, actor } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let app = open_app(&database)?;
            let p = runtime()?.block_on(app.publish_calendar_year(&actor, &text, None)).map_err(app_err)?;
            println!(
                "published calendar {}: {} rest days, {} make-up working days; dates recomputed on {} cases and {} tickets",
                p.year.year,
                p.year.rest_days.len(),
                p.year.makeup_workdays.len(),
                p.cases_recomputed.len(),
                p.tickets_recomputed
            );
            Ok(())
        }
        CalendarCmd::Years { database } => {
            let cal = calendar_for(database.as_deref())?;
            let ys: Vec<String> = cal.years().map(|y| y.year.to_string()).collect();
            println!("{}", ys.join(" "));
            Ok(())
        }
    }
}

fn id(c: IdCmd) -> CliResult {
    match c {
        IdCmd::Check { code } => {
            let code = code.trim().to_string();
            let looks_rid = code.len() == 18
                && code[..17].bytes().all(|b| b.is_ascii_digit())
                && !code.ends_with(|c: char| c.is_ascii_alphabetic() && c != 'X' && c != 'x');
            if looks_rid {
                match ResidentId::parse(&code) {
                    Ok(_) => println!("resident-id valid"),
                    Err(e) => return Err(format!("resident-id invalid: {e}")),
                }
                return Ok(());
            }
            match Uscc::parse(&code) {
                Ok(_) => {
                    println!("uscc valid");
                    Ok(())
                }
                Err(e) => Err(format!("uscc invalid: {e}")),
            }
        }
        IdCmd::CheckDigit { kind, body, stdin } => {
            let calc = |b: &str| -> Result<char, String> {
                match kind.as_str() {
                    "uscc" => Uscc::check_char(b).map_err(err),
                    "mod37-36" => oneseal_domain::license::mod_37_36(b).map_err(err),
                    _ => ResidentId::check_char(b).map_err(err),
                }
            };
            if stdin {
                let out = std::io::stdout();
                let mut out = out.lock();
                for line in std::io::stdin().lock().lines() {
                    let line = line.map_err(err)?;
                    let b = line.trim();
                    if b.is_empty() {
                        continue;
                    }
                    writeln!(out, "{}", calc(b)?).map_err(err)?;
                }
                Ok(())
            } else {
                let b = body.ok_or("give a 17-character body or --stdin")?;
                println!("{}", calc(&b)?);
                Ok(())
            }
        }
    }
}
