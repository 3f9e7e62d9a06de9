//! Electronic supervision (电子监察) on the event log.
//!
//! A subscriber keeps one watch row per case (the dates its yellow, red, stalled and pledge alerts fall due) and
//! checks each case's history against the supervision rules as events arrive (cursor in the same transaction as
//! its effect). A sweep raises the alerts whose date has come: it reads only those rows through one index per
//! date and clears the date it acted on. Every alert is an event stream of its own whose id names the alert
//! (`alert-{kind}-{case}-{key}`), so the same alert is never raised twice, by one node or several.

use oneseal_domain::calendar::format_date;
use oneseal_domain::case::{CaseState, Status};
use oneseal_domain::catalog::Limit;
use oneseal_domain::clock::local_date;
use oneseal_domain::roles::{Actor, Role};
use oneseal_domain::supervision::{self, AlertEvent, AlertStatus, Thresholds};
use oneseal_store::{AlertFilter, AlertRow, Db, NewEvent, StoredEvent, WatchRow};
use serde::Serialize;

use crate::cases::recorded;
use crate::streams::{decode, encode, record};
use crate::{ms, App, AppError};

/// The supervision subscriber's cursor name.
pub const SUPERVISION: &str = "supervision";

/// What one sweep raised.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SweepReport {
    pub yellow: usize,
    pub red: usize,
    pub stalled: usize,
    pub pledge_overdue: usize,
    /// A construction project's stage or span turned yellow (a fifth or less of its limit left) or red.
    pub project_yellow: usize,
    pub project_red: usize,
}

impl SweepReport {
    pub fn total(&self) -> usize {
        self.yellow + self.red + self.stalled + self.pledge_overdue + self.project_yellow + self.project_red
    }
}

/// Alert kinds and their levels.
pub fn level_of(kind: &str) -> &'static str {
    match kind {
        "yellow" | "project_yellow" => "yellow",
        _ => "red",
    }
}

/// An alert to raise. Its stream id is `alert-{kind}-{subject}-{key}`; the subject is the case (or ticket) or
/// the project it is about.
pub(crate) struct Raise<'a> {
    pub(crate) kind: &'a str,
    pub(crate) key: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) case_no: Option<&'a str>,
    pub(crate) project_code: Option<&'a str>,
    pub(crate) department: &'a str,
    pub(crate) person: Option<&'a str>,
    pub(crate) title: &'a str,
    pub(crate) detail: String,
    pub(crate) evidence: Vec<i64>,
    pub(crate) at_ms: i64,
}

/// An alert's stream id and first event.
fn alert_of(r: Raise<'_>) -> (String, AlertEvent) {
    let id = format!("alert-{}-{}-{}", r.kind, r.subject, r.key);
    let event = AlertEvent::Raised {
        kind: r.kind.to_string(),
        level: level_of(r.kind).to_string(),
        case_no: r.case_no.map(str::to_string),
        project_code: r.project_code.map(str::to_string),
        department: r.department.to_string(),
        person: r.person.map(str::to_string),
        title: r.title.to_string(),
        detail: r.detail,
        evidence: r.evidence,
    };
    (id, event)
}

/// The status of an alerts row.
fn status_of(a: &AlertRow) -> Result<AlertStatus, AppError> {
    AlertStatus::parse(&a.status).ok_or_else(|| AppError::Internal(format!("alert {}: status {}", a.id, a.status)))
}

/// The alerts projection after events of alert streams, in order (the commands, the sweeps and `rebuild` all
/// call it): the rows of raised alerts are written together, in a few statements whatever their number.
pub(crate) fn project_many(db: &mut Db, events: &[StoredEvent]) -> Result<(), AppError> {
    let mut raised = Vec::new();
    for e in events {
        match decode::<AlertEvent>(e)? {
            AlertEvent::Raised { kind, level, case_no, project_code, department, person, title, detail, evidence } => {
                raised.push(AlertRow {
                    id: e.stream_id.clone(),
                    kind,
                    level,
                    case_no,
                    project_code,
                    department,
                    person,
                    title,
                    detail,
                    evidence: serde_json::to_string(&evidence).map_err(|x| AppError::Internal(x.to_string()))?,
                    raised_at_ms: e.at_ms,
                    status: AlertStatus::Open.as_str().into(),
                    closed_at_ms: None,
                    closed_by: None,
                    note: None,
                });
            }
            ev @ AlertEvent::Closed { .. } => {
                db.put_alerts(&std::mem::take(&mut raised))?;
                let Some(mut a) = db.alert(&e.stream_id)? else { continue };
                a.status = status_of(&a)?.apply(&ev).as_str().into();
                if let AlertEvent::Closed { note } = ev {
                    a.closed_at_ms = Some(e.at_ms);
                    a.closed_by = Some(e.actor.clone());
                    a.note = Some(note);
                }
                db.put_alert(&a)?;
            }
        }
    }
    db.put_alerts(&raised)?;
    Ok(())
}

/// The alerts projection after one event of an alert's stream (`rebuild`).
pub(crate) fn project(db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
    project_many(db, std::slice::from_ref(e))
}

/// Raise alerts unless they exist (each stream is created once), in a few statements whatever their number.
/// Returns the ids of those that were new.
pub(crate) fn raise_many(db: &mut Db, raises: Vec<Raise<'_>>) -> Result<Vec<String>, AppError> {
    let mut items = Vec::with_capacity(raises.len());
    for r in raises {
        let at_ms = r.at_ms;
        let (id, event) = alert_of(r);
        let (event_type, payload) = encode(&event)?;
        items.push((id, NewEvent { event_type, schema_version: 1, actor: SUPERVISION.into(), at_ms, payload }));
    }
    let created = db.create_streams(&items)?;
    let mut stored = Vec::with_capacity(created.len());
    for (id, seq) in &created {
        let Some((_, e)) = items.iter().find(|(i, _)| i == id) else { continue };
        stored.push(StoredEvent {
            seq: *seq,
            stream_id: id.clone(),
            version: 1,
            event_type: e.event_type.clone(),
            schema_version: e.schema_version,
            actor: e.actor.clone(),
            at_ms: e.at_ms,
            payload: e.payload.clone(),
        });
    }
    project_many(db, &stored)?;
    Ok(created.into_iter().map(|(id, _)| id).collect())
}

/// Raise an alert unless it exists: its stream is created once. Returns whether it was new.
fn raise(db: &mut Db, r: Raise<'_>) -> Result<bool, AppError> {
    Ok(!raise_many(db, vec![r])?.is_empty())
}

/// Raise an alert from elsewhere in the application (urgings, tickets, ratings, liaison): the same once-only rule.
/// `reference` is what the alert is about: a case number, or a ticket's for the hotline's alerts.
#[allow(clippy::too_many_arguments)]
pub(crate) fn raise_alert(
    db: &mut Db,
    kind: &str,
    key: &str,
    reference: &str,
    department: &str,
    person: Option<&str>,
    title: &str,
    detail: String,
    evidence: Vec<i64>,
    at_ms: i64,
) -> Result<bool, AppError> {
    raise(
        db,
        Raise {
            kind,
            key,
            subject: reference,
            case_no: Some(reference),
            project_code: None,
            department,
            person,
            title,
            detail,
            evidence,
            at_ms,
        },
    )
}

/// Event types after which the history is checked against the rules.
const RULE_TRIGGERS: &[&str] = &["correction_requested", "accepted", "decided", "completed"];

impl App {
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::default()
    }

    /// A case's watch row from its current state.
    fn watch_of(&self, st: &CaseState, last_action_ms: i64) -> WatchRow {
        let t = self.thresholds();
        let cal = self.calendar();
        let open = matches!(
            st.status,
            Status::Submitted | Status::AwaitingCorrection | Status::InProgress | Status::Suspended
        );
        let running = st.status == Status::InProgress;
        let limit_days = match st.clock.limit {
            Limit::WorkingDays(n) => Some(n),
            Limit::Minutes(_) => None,
        };
        let deadline = st.clock.deadline.filter(|_| running);
        let yellow = match (deadline, st.accepted_at, limit_days) {
            (Some(d), Some(acc), Some(n)) => supervision::yellow_on(local_date(acc), d, n, &t, &cal).ok(),
            _ => None,
        };
        let stall = if open && st.status != Status::Suspended && st.status != Status::AwaitingCorrection {
            supervision::stalled_at(crate::from_ms(last_action_ms), &t, &cal).ok()
        } else {
            None
        };
        let step = st.current_step.as_ref();
        WatchRow {
            case_no: st.case_no.as_str().to_string(),
            department: st.department.as_str().to_string(),
            title: st.title.clone(),
            step_name: step.map(|s| s.name.clone()),
            assignee: step.and_then(|s| s.tasks.iter().find_map(|t| t.assignee.clone())),
            deadline: deadline.map(format_date),
            yellow_on: yellow.map(format_date),
            red_on: deadline.and_then(supervision::red_on).map(format_date),
            stall_on: stall.map(supervision::watch_instant),
            pledge_due: if open {
                st.pledges
                    .iter()
                    .filter(|p| !p.fulfilled)
                    .map(|p| p.due)
                    .min()
                    .and_then(|d| d.next_day())
                    .map(format_date)
            } else {
                None
            },
        }
    }

    /// Process up to `limit` events for the supervision subscriber: watch rows and rule checks.
    pub async fn run_supervision_once(&self, limit: i64) -> Result<usize, AppError> {
        let app = self.clone();
        self.store.settle().await?;
        self.store
            .write(move |db| -> Result<usize, AppError> {
                let cursor = db.cursor(SUPERVISION)?;
                let events = db.read_from(cursor, limit)?;
                let Some(last) = events.last().map(|e| e.seq) else {
                    return Ok(0);
                };
                let t = app.thresholds();
                let cal = app.calendar();
                let view = app.catalog();
                // One read for the batch's case rows, each case's state parsed once, its stream read once and its
                // watch written once, after its last event of the batch (the watch is of the current state; only
                // the last event's time of the last action survives): per event these were round trips on
                // PostgreSQL, and the subscriber fell behind the write path.
                let mut nos: Vec<&str> = events.iter().filter_map(|e| e.stream_id.strip_prefix("case-")).collect();
                nos.sort_unstable();
                nos.dedup();
                let rows = db.get_cases(&nos)?;
                let mut last_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
                for (i, e) in events.iter().enumerate() {
                    if let Some(c) = e.stream_id.strip_prefix("case-") {
                        last_of.insert(c, i);
                    }
                }
                let mut states: std::collections::HashMap<&str, CaseState> = std::collections::HashMap::new();
                let mut streams: std::collections::HashMap<&str, Vec<StoredEvent>> = std::collections::HashMap::new();
                for (i, e) in events.iter().enumerate() {
                    let Some(case_no) = e.stream_id.strip_prefix("case-") else { continue };
                    let Some(row) = rows.get(case_no) else { continue };
                    if !states.contains_key(case_no) {
                        let st: CaseState =
                            serde_json::from_str(&row.state).map_err(|x| AppError::Internal(x.to_string()))?;
                        states.insert(case_no, st);
                    }
                    let Some(st) = states.get(case_no) else { continue };
                    let needs_stream = (e.event_type == "dates_recomputed" && last_of.get(case_no) == Some(&i))
                        || RULE_TRIGGERS.contains(&e.event_type.as_str())
                        || st.finished_at.is_some_and(|f| ms(f) < e.at_ms);
                    if needs_stream && !streams.contains_key(case_no) {
                        streams.insert(case_no, db.read_stream(&e.stream_id)?);
                    }
                    if last_of.get(case_no) == Some(&i) {
                        // A recomputation by the calendar is not an action on the case: the stall timer keeps
                        // running from the last real event.
                        let last_action_ms = if e.event_type == "dates_recomputed" {
                            streams
                                .get(case_no)
                                .into_iter()
                                .flatten()
                                .filter(|x| x.seq <= e.seq && x.event_type != "dates_recomputed")
                                .map(|x| x.at_ms)
                                .last()
                                .unwrap_or(e.at_ms)
                        } else {
                            e.at_ms
                        };
                        db.put_watch(&app.watch_of(st, last_action_ms))?;
                    }
                    let finished_before = st.finished_at.is_some_and(|f| ms(f) < e.at_ms);
                    if !RULE_TRIGGERS.contains(&e.event_type.as_str()) && !finished_before {
                        continue;
                    }
                    let Some(stream) = streams.get(case_no) else { continue };
                    let upto: Vec<_> = stream.iter().filter(|x| x.seq <= e.seq).collect();
                    let history = upto.iter().map(|x| recorded(x)).collect::<Result<Vec<_>, _>>()?;
                    let Ok(def) = view.definition(&st.subject) else { continue };
                    let mut roles_cache = std::collections::BTreeMap::new();
                    for r in &history {
                        if let oneseal_domain::case::CaseEvent::Decided { by, .. } = &r.event {
                            let roles =
                                db.get_account(by)?.map(|a| crate::auth::parse_roles(&a.roles)).unwrap_or_default();
                            roles_cache.insert(by.clone(), roles);
                        }
                    }
                    let roles_of = |id: &str| roles_cache.get(id).cloned().unwrap_or_default();
                    for f in supervision::check_rules(&history, &def, &t, &cal, &roles_of) {
                        let evidence: Vec<i64> =
                            f.evidence.iter().filter_map(|i| upto.get(*i).map(|x| x.seq)).collect();
                        let key = evidence.first().map(|s| s.to_string()).unwrap_or_default();
                        let person = f.evidence.first().and_then(|i| history.get(*i)).map(|r| r.actor.clone());
                        raise(
                            db,
                            Raise {
                                kind: f.kind,
                                key: &key,
                                subject: case_no,
                                case_no: Some(case_no),
                                project_code: None,
                                department: &row.department,
                                person: person.as_deref(),
                                title: &row.title,
                                detail: f.detail,
                                evidence,
                                at_ms: e.at_ms,
                            },
                        )?;
                    }
                }
                // Construction projects: the watch row of every project whose events, or whose cases' events, the
                // batch holds (one read for the cases a project started), and of every watched project when a
                // calendar year is published.
                let mut touched: std::collections::BTreeSet<String> =
                    events.iter().filter_map(|e| e.stream_id.strip_prefix("project-")).map(str::to_string).collect();
                if !nos.is_empty() {
                    touched.extend(db.projects_of_cases(&nos)?.into_values());
                }
                if events.iter().any(|e| e.stream_id == "calendar" || e.stream_id.starts_with("calendar-")) {
                    touched.extend(db.project_watch_open()?);
                }
                for code in &touched {
                    crate::project_alerts::watch_project(&app, db, code)?;
                }
                db.set_cursor(SUPERVISION, last)?;
                Ok(events.len())
            })
            .await
    }

    /// Raise the alerts whose date has come (today, Beijing): up to `limit` of each kind per call.
    pub async fn sweep_supervision(&self, limit: i64) -> Result<SweepReport, AppError> {
        let now = self.now();
        let today = format_date(local_date(now));
        let now_text = supervision::watch_instant(now);
        let app_t = self.thresholds();
        let app = self.clone();
        self.store
            .write(move |db| -> Result<SweepReport, AppError> {
                // Once across nodes: the same sweep elsewhere waits, then finds nothing left due.
                db.claim_work("sweep_supervision")?;
                let mut rep = SweepReport::default();
                for (column, kind) in [
                    ("yellow_on", "yellow"),
                    ("red_on", "red"),
                    ("stall_on", "stalled"),
                    ("pledge_due", "pledge_overdue"),
                ] {
                    // Stalled cases are due by the minute (bureau hours); the others by the day.
                    let due_by = if column == "stall_on" { now_text.as_str() } else { today.as_str() };
                    let due = db.watch_due(column, due_by, limit)?;
                    let mut raises = Vec::with_capacity(due.len());
                    for w in &due {
                        let date = match column {
                            "yellow_on" => w.yellow_on.clone(),
                            "red_on" => w.red_on.clone(),
                            "stall_on" => w.stall_on.clone(),
                            _ => w.pledge_due.clone(),
                        }
                        .unwrap_or_default();
                        let detail = match kind {
                            "yellow" => format!("deadline {} is near", w.deadline.clone().unwrap_or_default()),
                            "red" => {
                                format!("overdue since {date} (deadline {})", w.deadline.clone().unwrap_or_default())
                            }
                            "stalled" => {
                                format!("no action for {} working hours (due {date})", app_t.stall_working_hours)
                            }
                            _ => format!("a pledged material is overdue since {date}"),
                        };
                        raises.push((date, detail, w));
                    }
                    let batch: Vec<Raise<'_>> = raises
                        .iter()
                        .map(|(date, detail, w)| Raise {
                            kind,
                            key: date,
                            subject: &w.case_no,
                            case_no: Some(&w.case_no),
                            project_code: None,
                            department: &w.department,
                            person: w.assignee.as_deref(),
                            title: &w.title,
                            detail: format!("{}: {detail}", w.step_name.clone().unwrap_or_default()),
                            evidence: vec![],
                            at_ms: ms(now),
                        })
                        .collect();
                    let new = raise_many(db, batch)?.len();
                    db.clear_watch_many(&due.iter().map(|w| w.case_no.clone()).collect::<Vec<_>>(), column)?;
                    match kind {
                        "yellow" => rep.yellow += new,
                        "red" => rep.red += new,
                        "stalled" => rep.stalled += new,
                        _ => rep.pledge_overdue += new,
                    }
                }
                (rep.project_yellow, rep.project_red) =
                    crate::project_alerts::sweep(&app, db, local_date(now), limit, ms(now))?;
                Ok(rep)
            })
            .await
    }

    /// Alerts the actor may see: supervisors and administrators all; other staff their own department's.
    pub async fn alerts(&self, actor: &Actor, mut f: AlertFilter) -> Result<(Vec<AlertRow>, i64), AppError> {
        if !actor.is_staff() {
            return Err(AppError::Forbidden("alerts are for staff".into()));
        }
        if !(actor.has(Role::Supervisor) || actor.has(Role::Administrator)) {
            f.department =
                Some(actor.department.as_ref().map(|d| d.as_str().to_string()).unwrap_or_else(|| "-".into()));
        }
        f.limit = f.limit.clamp(1, 500);
        self.store.read(move |db| db.alerts(&f).map_err(AppError::from)).await
    }

    /// Close an alert with a note (supervisors): an event on the alert's stream.
    pub async fn close_alert(&self, actor: &Actor, id: &str, note: &str) -> Result<AlertRow, AppError> {
        if !actor.has(Role::Supervisor) {
            return Err(AppError::Forbidden("closing alerts is for supervisors".into()));
        }
        let note = note.trim().to_string();
        if note.is_empty() || note.chars().count() > 500 {
            return Err(AppError::invalid("note_required", "a note (1–500 characters) is required to close an alert"));
        }
        let (id, actor, at) = (id.to_string(), actor.id.clone(), ms(self.now()));
        self.store
            .write(move |db| -> Result<AlertRow, AppError> {
                let a = db.alert(&id)?.ok_or_else(|| AppError::NotFound(format!("alert {id}")))?;
                let ev = AlertEvent::Closed { note };
                status_of(&a)?.check(&ev)?;
                let e = record(db, &id, &ev, &actor, at)?;
                project(db, &e)?;
                db.alert(&id)?.ok_or_else(|| AppError::NotFound(format!("alert {id}")))
            })
            .await
    }

    /// Open alerts per department and kind.
    pub async fn alert_counts(&self) -> Result<Vec<(String, String, i64)>, AppError> {
        self.store.read(|db| db.alert_counts().map_err(AppError::from)).await
    }
}
