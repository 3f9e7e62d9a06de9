//! The growth loader (`oneseal bench load`, and `oneseal bench lifecycle --preload N`): fill a database with
//! completed cases through the real write path — the `App` API in-process, the same calls the HTTP handlers make
//! (submit, accept, complete, decide, issue licences with the seal, deliver), with concurrent workers, the
//! subscribers (notifications, electronic supervision, liaison to regulators) running beside them, every liaison
//! message acknowledged by its regulator, the transparency tree folded and checkpoints signed. Every event has its
//! leaf, every licence its row and signatures, every projection is what `rebuild` makes: `oneseal rebuild --check`
//! and `oneseal audit verify` accept the result.
//!
//! Time comes from a fixed clock: it starts at `start` and moves forward by one step at each lifecycle started
//! (the step spreads `per_year` cases over a year), so the result never depends on today's date and two loads with
//! the same settings give the same timeline.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oneseal_app::cases::SubmitRequest;
use oneseal_app::rows::LiaisonFilter;
use oneseal_app::{App, Clock};
use oneseal_domain::case::{CaseCommand, CaseState, Delivery, Outcome, Status, TaskStatus};
use oneseal_domain::catalog::StepKind;
use oneseal_domain::ids::{CaseNo, ResidentId, Username};
use oneseal_domain::roles::{Actor, Role};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::app_err;

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Completed cases to add.
    pub cases: u64,
    /// Concurrent lifecycles.
    pub concurrency: usize,
    /// Name (or part) of the catalog item.
    pub item: String,
    /// The clock's start (UTC).
    pub start: OffsetDateTime,
    /// Cases per simulated year: the clock moves a year / `per_year` at each lifecycle.
    pub per_year: u64,
    /// Print progress (done, rate, CPU, time left) on stderr every this many seconds; 0 = never.
    pub progress_secs: u64,
    /// Of `cases`, the last this many stop after acceptance: open cases waiting in the work queues.
    pub open: u64,
}

/// What a load did.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub cases: u64,
    pub seconds: f64,
    /// CPU (user + system of this process) per lifecycle, ms; None where /proc is not available.
    pub cpu_ms_per_case: Option<f64>,
    pub liaison_acknowledged: u64,
    /// The log's last global position after the load.
    pub last_seq: i64,
    /// The simulated time of the last lifecycle.
    pub clock_end: OffsetDateTime,
}

/// The loader's clock: `start` plus one step per lifecycle started. Monotonic whatever the workers' order.
pub struct LoadClock {
    /// Milliseconds since the epoch (moved past the stored log when loading into a database that has one).
    start_ms: std::sync::atomic::AtomicI64,
    step_ms: i64,
    started: AtomicU64,
}

impl LoadClock {
    pub fn new(start: OffsetDateTime, per_year: u64) -> LoadClock {
        let step_ms = (365 * 86_400_000i64) / per_year.max(1) as i64;
        LoadClock {
            start_ms: std::sync::atomic::AtomicI64::new(oneseal_app::ms(start)),
            step_ms: step_ms.max(1),
            started: AtomicU64::new(0),
        }
    }

    /// Start no earlier than `at_ms` (a second load continues the first one's timeline).
    fn start_after(&self, at_ms: i64) {
        self.start_ms.fetch_max(at_ms + self.step_ms, Ordering::SeqCst);
    }

    /// Claim the next lifecycle's number (moving the clock one step).
    fn claim(&self) -> u64 {
        self.started.fetch_add(1, Ordering::SeqCst)
    }
}

impl Clock for LoadClock {
    fn now(&self) -> OffsetDateTime {
        let n = self.started.load(Ordering::SeqCst) as i64;
        oneseal_app::from_ms(self.start_ms.load(Ordering::SeqCst).saturating_add(self.step_ms.saturating_mul(n)))
    }
}

/// Parse `--start` (RFC 3339, e.g. 2025-01-02T01:00:00Z).
pub fn parse_start(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("--start {s:?}: {e} (give RFC 3339, e.g. 2025-01-02T01:00:00Z)"))
}

/// The staff who work each task: the demo accounts (`{dept}-chief` approves, `{dept}-reviewer` reviews and
/// inspects, `{dept}-clerk` issues and delivers, `clerk` takes applications at the general window) and one
/// regulator account per regulating department (the demo's `regulator`, or `growth-regulator-{dept}`).
struct Staff {
    clerk: Actor,
    by_key: BTreeMap<(String, String), Actor>,
    regulators: Vec<Actor>,
}

impl Staff {
    fn for_task(&self, role: Role, dept: Option<&str>) -> Result<&Actor, String> {
        let Some(d) = dept else {
            return Ok(&self.clerk);
        };
        self.by_key
            .get(&(role.as_str().to_string(), d.to_string()))
            .ok_or_else(|| format!("no loader account for {role} in {d}"))
    }
}

async fn staff(app: &App) -> Result<Staff, String> {
    let get = |name: String| {
        let app = app.clone();
        async move {
            let u = Username::parse(&name).map_err(|e| format!("{name}: {e}"))?;
            app.staff(&u).await.map_err(|e| format!("{name}: {}", app_err(e)))
        }
    };
    let clerk = get("clerk".into()).await?;
    let mut by_key = BTreeMap::new();
    let mut regulators = Vec::new();
    for d in app.catalog().departments.clone() {
        let id = d.id.as_str().to_string();
        for (role, account) in [
            (Role::Approver, format!("{id}-chief")),
            (Role::Reviewer, format!("{id}-reviewer")),
            (Role::Inspector, format!("{id}-reviewer")),
            (Role::WindowClerk, format!("{id}-clerk")),
        ] {
            by_key.insert((role.as_str().to_string(), id.clone()), get(account).await?);
        }
        if !d.bureau_section {
            let demo = get("regulator".into()).await.ok().filter(|a| a.department.as_ref() == Some(&d.id));
            let actor = match demo {
                Some(a) => a,
                None => {
                    let name = format!("growth-regulator-{id}");
                    let u = Username::parse(&name).map_err(|e| format!("{name}: {e}"))?;
                    if app.staff(&u).await.is_err() {
                        app.put_account(
                            &u,
                            &format!("{} 监管", d.name),
                            "growth-password",
                            &[Role::Regulator],
                            Some(&id),
                        )
                        .await
                        .map_err(app_err)?;
                    }
                    get(name).await?
                }
            };
            regulators.push(actor);
        }
    }
    Ok(Staff { clerk, by_key, regulators })
}

/// The `i`-th applicant: a walk-in person at the general window with their own valid resident ID number (birth
/// dates from 1950 on, a thousand per day), name and phone.
fn applicant(i: u64) -> Result<(String, String, String), String> {
    const SURNAMES: [&str; 20] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高",
        "林", "罗",
    ];
    const GIVEN: [&str; 25] = [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
        "霞", "平", "刚", "桂英", "建华", "文", "晨",
    ];
    let birth = time::macros::date!(1950 - 01 - 01) + time::Duration::days((i / 1000) as i64 % 20_000);
    let body = format!("640104{:04}{:02}{:02}{:03}", birth.year(), birth.month() as u8, birth.day(), i % 1000);
    let check = ResidentId::check_char(&body).map_err(|e| e.to_string())?;
    let name = format!("{}{}", SURNAMES[(i % 20) as usize], GIVEN[((i / 20) % 25) as usize]);
    Ok((format!("{body}{check}"), name, format!("139{:08}", i % 100_000_000)))
}

/// The submission of lifecycle `i`: the item's form filled with valid values, this applicant's own.
fn submission(template: &Value, i: u64) -> Result<SubmitRequest, String> {
    let (id, name, phone) = applicant(i)?;
    let mut v = template.clone();
    v["applicant"] = json!({"kind": "person", "name": name, "id_number": id, "phone": phone});
    if let Some(form) = v["form"].as_object_mut() {
        for (k, val) in form.iter_mut() {
            match k.as_str() {
                "enterprise_name" => *val = json!(format!("银川{name}{i}商贸有限公司")),
                "legal_representative" => *val = json!(name),
                "legal_representative_id" => *val = json!(id),
                "contact_phone" => *val = json!(phone),
                _ => {}
            }
        }
    }
    serde_json::from_value(v).map_err(|e| format!("submission: {e}"))
}

/// One lifecycle through the application: submit at the window, accept, work every step to completion (an `open`
/// one stops after acceptance, its first task waiting in a work queue).
async fn one_lifecycle(app: &App, staff: &Staff, req: SubmitRequest, open: bool) -> Result<(), String> {
    let (receipt, _) = app.submit(&staff.clerk, req, None).await.map_err(app_err)?;
    let no: CaseNo = receipt.case_no;
    let mut st: CaseState = app
        .command(&staff.clerk, &no, CaseCommand::Accept { pledges: vec![] }, None)
        .await
        .map_err(|e| format!("accept {}: {}", no.as_str(), app_err(e)))?;
    let mut guard = 0;
    while st.status != Status::Completed && !open {
        guard += 1;
        if guard > 64 {
            return Err(format!("{}: no end after 64 commands ({:?})", no.as_str(), st.status));
        }
        let step = st.current_step.clone().ok_or_else(|| format!("{}: no current step", no.as_str()))?;
        let task = step
            .tasks
            .iter()
            .find(|t| t.status == TaskStatus::Open)
            .cloned()
            .ok_or_else(|| format!("{}: no open task at {}", no.as_str(), step.step_id))?;
        let actor = staff.for_task(task.role, task.department.as_ref().map(|d| d.as_str()))?;
        let cmd = match step.kind {
            StepKind::Review | StepKind::JointReview | StepKind::Inspection => {
                CaseCommand::CompleteTask { task_id: task.task_id.clone(), opinion: "同意".into() }
            }
            StepKind::Decision => CaseCommand::Decide { outcome: Outcome::Grant, reasons: vec![] },
            StepKind::LicenseIssuance => {
                // As the API's issue-licenses without a list: made, signed with the seal and recorded.
                st = app
                    .issue_case_licenses(actor, &no, None)
                    .await
                    .map_err(|e| format!("issue {}: {}", no.as_str(), app_err(e)))?;
                continue;
            }
            StepKind::Delivery => CaseCommand::Deliver { delivery: Delivery::Electronic },
            other => return Err(format!("{}: step kind {other:?} is not in a loader lifecycle", no.as_str())),
        };
        st = app.command(actor, &no, cmd, None).await.map_err(|e| format!("{}: {}", no.as_str(), app_err(e)))?;
    }
    Ok(())
}

/// One round of what `serve`'s workers do for the log: notifications, supervision, liaison (and each new message
/// acknowledged by its regulator), the tree folded. Returns how much it did.
async fn subscribers_once(app: &App, staff: &Staff, acknowledged: &AtomicU64, tree: &mut u64) -> Result<usize, String> {
    let mut did = 0;
    did += app.run_notifications_once(2000).await.map_err(app_err)?;
    did += app.run_supervision_once(2000).await.map_err(app_err)?;
    did += app.run_liaison_once(2000).await.map_err(app_err)?;
    for reg in &staff.regulators {
        let f = LiaisonFilter { unacknowledged: true, limit: 500, ..LiaisonFilter::default() };
        let (rows, _) = app.liaison_messages(reg, f).await.map_err(app_err)?;
        let mut acks = tokio::task::JoinSet::new();
        for m in rows {
            let (app, reg) = (app.clone(), reg.clone());
            acks.spawn(async move { app.acknowledge_liaison(&reg, &m.id).await.map(|_| ()) });
        }
        while let Some(r) = acks.join_next().await {
            r.map_err(|e| e.to_string())?.map_err(app_err)?;
            acknowledged.fetch_add(1, Ordering::Relaxed);
            did += 1;
        }
    }
    // fold_tree answers the tree's size: what it folded is the growth.
    let size = app.fold_tree(50_000).await.map_err(app_err)?;
    did += size.saturating_sub(*tree) as usize;
    *tree = size;
    Ok(did)
}

/// Load `opts.cases` completed cases into `database` (created if new; the demo catalog, seal and accounts added
/// when missing).
pub fn load(database: &str, opts: &LoadOptions) -> Result<LoadReport, String> {
    let config = crate::config::Config::from_env().map_err(|e| format!("configuration:\n{e}"))?;
    let clock = Arc::new(LoadClock::new(opts.start, opts.per_year));
    let app = crate::open_app_clocked(database, &config, clock.clone())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = rt.block_on(load_into(&app, database, &clock, opts));
    drop(app);
    rt.shutdown_timeout(Duration::from_secs(10));
    report
}

async fn load_into(
    app: &App,
    database: &str,
    clock: &Arc<LoadClock>,
    opts: &LoadOptions,
) -> Result<LoadReport, String> {
    // Into a database with a log already: carry on after its last event.
    let last = app
        .store
        .read(|db| db.exec_count("SELECT COALESCE((SELECT at_ms FROM events ORDER BY seq DESC LIMIT 1), 0)"))
        .await
        .map_err(|e| e.to_string())?;
    clock.start_after(last);
    crate::load_demo(app, database).await?;
    let staff = Arc::new(staff(app).await?);
    let view = app.catalog();
    let (code, it) = view
        .items
        .iter()
        .filter_map(|(c, v)| v.last().map(|p| (c.clone(), p.body.clone())))
        .find(|(_, i)| i.name.contains(opts.item.as_str()))
        .ok_or_else(|| format!("no item named {}", opts.item))?;
    let materials: Vec<Value> = it
        .materials
        .iter()
        .filter(|m| m.required)
        .map(|m| json!({"material_id": m.id, "file_name": format!("{}.pdf", m.id)}))
        .collect();
    let template = Arc::new(
        json!({"item_code": code, "channel": "window", "applicant": {}, "form": crate::bench::fill(&it.form), "materials": materials}),
    );
    // The applicants' numbering continues after the cases already stored, so a second load adds new people.
    let offset = app.store.read(|db| db.count_cases()).await.map_err(|e| e.to_string())? as u64;
    let total = opts.cases;
    let open_from = total.saturating_sub(opts.open);
    let base = clock.started.load(Ordering::SeqCst);
    let done = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu0 = crate::bench::process_cpu_ms();
    let t0 = Instant::now();

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency.max(1) {
        let (app, staff, template, clock, done) =
            (app.clone(), staff.clone(), template.clone(), clock.clone(), done.clone());
        workers.spawn(async move {
            loop {
                let n = clock.claim() - base;
                if n >= total {
                    // Give back the step not taken, so the clock ends at the last lifecycle.
                    clock.started.fetch_sub(1, Ordering::SeqCst);
                    return Ok::<(), String>(());
                }
                one_lifecycle(&app, &staff, submission(&template, offset + n)?, n >= open_from).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    // The subscribers and the tree, as serve's workers run them, and a checkpoint a minute.
    let subs = {
        let (app, staff, acknowledged, stop) = (app.clone(), staff.clone(), acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut last_checkpoint, mut tree) = (Instant::now(), 0);
            loop {
                let did = subscribers_once(&app, &staff, &acknowledged, &mut tree).await?;
                if last_checkpoint.elapsed() >= Duration::from_secs(60) {
                    last_checkpoint = Instant::now();
                    app.sign_checkpoint().await.map_err(app_err)?;
                }
                if did == 0 {
                    if stop.load(Ordering::SeqCst) {
                        return Ok::<(), String>(());
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        })
    };
    // Progress on stderr: done of all, the rate, CPU per lifecycle and the time left.
    let report_progress = move |d: u64| {
        let secs = t0.elapsed().as_secs_f64();
        let rate = d as f64 / secs.max(1e-9);
        let cpu = crate::bench::process_cpu_ms()
            .zip(cpu0)
            .filter(|_| d > 0)
            .map_or_else(|| "?".to_string(), |(a, b)| format!("{:.2}", (a - b) / d as f64));
        let eta = if d > 0 { format!("{:.0} s", (total - d.min(total)) as f64 / rate) } else { "?".into() };
        eprintln!(
            "load: {d} of {total} lifecycles ({:.1} %) in {secs:.0} s, {rate:.0}/s, CPU {cpu} ms per lifecycle, about {eta} left",
            100.0 * d as f64 / total.max(1) as f64
        );
    };
    let progress = {
        let (done, every) = (done.clone(), opts.progress_secs);
        tokio::spawn(async move {
            if every == 0 {
                return;
            }
            loop {
                tokio::time::sleep(Duration::from_secs(every)).await;
                report_progress(done.load(Ordering::Relaxed));
            }
        })
    };
    let mut failure = None;
    while let Some(r) = workers.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failure.get_or_insert(e);
                workers.abort_all();
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                failure.get_or_insert(e.to_string());
            }
        }
    }
    progress.abort();
    if opts.progress_secs > 0 {
        report_progress(done.load(Ordering::Relaxed));
        eprintln!(
            "load: the lifecycles are done; the subscribers catch up, then the tree is folded and a checkpoint signed"
        );
    }
    stop.store(true, Ordering::SeqCst);
    let subs_result = subs.await.map_err(|e| e.to_string()).and_then(|r| r);
    if let Some(e) = failure {
        return Err(format!("load failed after {} lifecycles: {e}", done.load(Ordering::Relaxed)));
    }
    subs_result?;
    // Everything the subscribers had left, the whole tree, a checkpoint, and the planner's statistics.
    let mut tree = 0;
    while subscribers_once(app, &staff, &acknowledged, &mut tree).await? > 0 {}
    app.sign_checkpoint().await.map_err(app_err)?;
    app.store.write(|db| db.refresh_statistics()).await.map_err(|e| e.to_string())?;
    let seconds = t0.elapsed().as_secs_f64();
    let cases = done.load(Ordering::Relaxed);
    let cpu_ms_per_case = crate::bench::process_cpu_ms().zip(cpu0).map(|(a, b)| (a - b) / cases.max(1) as f64);
    let facts = app.log_facts().await.map_err(app_err)?;
    Ok(LoadReport {
        cases,
        seconds,
        cpu_ms_per_case,
        liaison_acknowledged: acknowledged.load(Ordering::Relaxed),
        last_seq: facts.last_seq,
        clock_end: clock.now(),
    })
}
