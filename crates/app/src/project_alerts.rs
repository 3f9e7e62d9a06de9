//! Electronic supervision of construction projects (issue 19 §5): a project's stages and its two spans from the
//! filing (to the construction permit, the whole process) raise yellow and red alerts through the same machinery
//! as cases.
//!
//! The supervision subscriber keeps one watch row per project (`project_watch`): the dates its running clocks
//! reach yellow and red (`project::alert_dates`: working days from the calendar, the §45 time excluded so far
//! pushing them out, the green channel's limits where it is on), less the alerts already raised, and the earliest
//! of them. It recomputes the row when the project's events or its cases' events arrive (found through
//! `project_cases`, one read per batch), and when a calendar year is published. The sweep reads only the rows
//! whose date has come, recomputes each from the current state (a stage completed since raises nothing), raises
//! what is due and writes the row again. Every alert is the stream `alert-project_{level}-{code}-{span}`, so it
//! is raised once, by one node or several. `oneseal rebuild` computes every row again with the same function.

use std::collections::BTreeMap;

use oneseal_domain::calendar::format_date;
use oneseal_domain::case::CaseState;
use oneseal_domain::project::{self, AlertLevel, AlertSpan, DueAlert, ProjectCode, ProjectEvent, ProjectState};
use oneseal_store::{Db, ProjectWatchRow};
use serde_json::json;
use time::Date;

use crate::streams::decode;
use crate::supervision::{raise_many, Raise};
use crate::{App, AppError};

/// The alert kind of a project clock's level.
pub fn kind_of(level: AlertLevel) -> &'static str {
    match level {
        AlertLevel::Yellow => "project_yellow",
        AlertLevel::Red => "project_red",
    }
}

/// The stream id of a project alert: it names the level (by its kind), the project and the stage or span.
pub fn alert_id(code: &str, span: AlertSpan, level: AlertLevel) -> String {
    format!("alert-{}-{code}-{}", kind_of(level), span.as_str())
}

/// A project with its cases and the alerts of its clocks not raised yet.
struct Watched {
    st: ProjectState,
    cases: Vec<(CaseState, BTreeMap<String, u32>)>,
    dues: Vec<DueAlert>,
}

fn watched(app: &App, db: &mut Db, code: &str) -> Result<Option<Watched>, AppError> {
    let Ok(code) = ProjectCode::parse(code) else { return Ok(None) };
    if db.project(code.as_str())?.is_none() {
        return Ok(None);
    }
    let (st, _, cases) = crate::projects::load(db, &code)?;
    let mut dues = Vec::new();
    for d in project::alert_dates(&st, &crate::projects::times_of(&cases), &app.calendar())? {
        if db.stream_version(&alert_id(code.as_str(), d.span, d.level))? == 0 {
            dues.push(d);
        }
    }
    dues.sort_by_key(|d| (d.on, d.span, d.level));
    Ok(Some(Watched { st, cases, dues }))
}

/// The department an alert goes to: that of the case the clock waits for (the stage's critical case — for the
/// spans, that of the stage running last); before any case, the department of the project's first item.
fn department_of(app: &App, w: &Watched, d: &DueAlert) -> String {
    let critical = d.critical_case.as_deref().and_then(|no| w.cases.iter().find(|(c, _)| c.case_no.as_str() == no));
    match critical {
        Some((c, _)) => c.department.as_str().to_string(),
        None => {
            let first = w.st.project_type.items().next().unwrap_or_default();
            app.catalog().latest_item(first).map(|p| p.body.department.as_str().to_string()).unwrap_or_default()
        }
    }
}

/// Compute a project's watch row from its current state and write it (the subscriber, the sweep and `rebuild`).
pub(crate) fn watch_project(app: &App, db: &mut Db, code: &str) -> Result<(), AppError> {
    let Some(w) = watched(app, db, code)? else { return Ok(()) };
    let next = w.dues.first();
    let dues: Vec<_> = w
        .dues
        .iter()
        .map(|d| json!({ "span": d.span.as_str(), "level": d.level.as_str(), "on": format_date(d.on) }))
        .collect();
    db.put_project_watch(&ProjectWatchRow {
        code: w.st.code.to_string(),
        department: next.map(|d| department_of(app, &w, d)).unwrap_or_default(),
        title: w.st.name.clone(),
        next_due: next.map(|d| format_date(d.on)),
        dues: serde_json::to_string(&dues).map_err(|e| AppError::Internal(e.to_string()))?,
    })?;
    Ok(())
}

/// The name of a stage or span, in Chinese.
fn span_name(st: &ProjectState, span: AlertSpan) -> String {
    match span {
        AlertSpan::Stage(s) => st.project_type.stage(s).map_or_else(|| s.as_str().to_string(), |d| d.name.clone()),
        AlertSpan::ToPermit => "立项至施工许可".into(),
        AlertSpan::Whole => "全流程".into(),
    }
}

/// An alert's title and detail, in Chinese.
fn texts(st: &ProjectState, d: &DueAlert) -> (String, String) {
    let name = span_name(st, d.span);
    let title = format!("{}（{}）{}", st.name, st.code, name);
    let green = if st.green_channel { "（绿色通道）" } else { "" };
    let state = match d.level {
        AlertLevel::Yellow => "剩余不足五分之一",
        AlertLevel::Red => "已超期",
    };
    let excluded = if d.excluded_days > 0 {
        format!("；不计时 {} 个工作日（行政许可法第四十五条）已顺延", d.excluded_days)
    } else {
        String::new()
    };
    let critical = d.critical_case.as_deref().map(|no| format!("；关键办件 {no}")).unwrap_or_default();
    let detail =
        format!("{name}时限{green} {} 个工作日，自 {} 起{state}{excluded}{critical}", d.limit_days, format_date(d.on));
    (title, detail)
}

/// The events that show an alert: the project's registration (a span) or the stage's submissions, the green
/// channel's setting, and the critical case's submission and resumptions (§45 time).
fn evidence_of(db: &mut Db, st: &ProjectState, d: &DueAlert) -> Result<Vec<i64>, AppError> {
    let mut seqs = Vec::new();
    for e in db.read_stream(&crate::projects::stream_of(&st.code))? {
        let shows = match (d.span, decode::<ProjectEvent>(&e)?) {
            (AlertSpan::Stage(s), ProjectEvent::StageStarted { stage, .. }) => stage == s,
            (AlertSpan::ToPermit | AlertSpan::Whole, ProjectEvent::ProjectRegistered { .. }) => true,
            (_, ProjectEvent::GreenChannelSet { .. }) => true,
            _ => false,
        };
        if shows {
            seqs.push(e.seq);
        }
    }
    if let Some(no) = &d.critical_case {
        let no = crate::cases::stored_case_no(no)?;
        for e in db.read_stream(&crate::cases::stream_of(&no))? {
            if e.version == 1 || e.event_type == "resumed" {
                seqs.push(e.seq);
            }
        }
    }
    Ok(seqs)
}

/// Raise the project alerts whose date has come (`today`, Beijing), for up to `limit` projects, and write their
/// watch rows again. Returns the new yellow and red alerts.
pub(crate) fn sweep(app: &App, db: &mut Db, today: Date, limit: i64, at_ms: i64) -> Result<(usize, usize), AppError> {
    let (mut yellow, mut red) = (0, 0);
    for row in db.project_watch_due(&format_date(today), limit)? {
        let Some(w) = watched(app, db, &row.code)? else { continue };
        let mut due = Vec::new();
        for d in w.dues.iter().filter(|d| d.on <= today) {
            let (title, detail) = texts(&w.st, d);
            due.push((d, department_of(app, &w, d), title, detail, evidence_of(db, &w.st, d)?));
        }
        let code = w.st.code.to_string();
        let raises = due
            .iter()
            .map(|(d, department, title, detail, evidence)| Raise {
                kind: kind_of(d.level),
                key: d.span.as_str(),
                subject: &code,
                case_no: None,
                project_code: Some(&code),
                department,
                person: None,
                title,
                detail: detail.clone(),
                evidence: evidence.clone(),
                at_ms,
            })
            .collect();
        for id in raise_many(db, raises)? {
            if id.starts_with("alert-project_yellow-") {
                yellow += 1;
            } else {
                red += 1;
            }
        }
        watch_project(app, db, &code)?;
    }
    Ok((yellow, red))
}

impl App {
    /// Every project's watch row, by code (operators and tests: a rebuild gives the same rows).
    pub async fn project_watches(&self) -> Result<Vec<ProjectWatchRow>, AppError> {
        self.store.read(|db| db.project_watches().map_err(AppError::from)).await
    }
}
