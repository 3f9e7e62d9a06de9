//! Approval–regulation liaison (审管互动).
//!
//! - **Notify after (审后告知)**: a subscriber of the event log sends every regulator of an item a message for each
//!   approval (granted case), filing, amendment, cancellation and revocation of it — in the regulator's inbox and,
//!   through the delivery outbox written in the same transaction, to its registered webhook endpoints.
//! - **Acknowledge (认领)**: the regulator acknowledges each message within a limit (default 5 working days); the
//!   sweep raises a supervision alert for each message still unacknowledged after its last day, and a late
//!   acknowledgement raises it too.
//! - **Consult before (事前征询) / take part during (事中参与)**: a reviewer asks a regulator for an opinion (the
//!   clock pauses where the item says so, and runs again when the last pausing opinion arrives), or invites it to
//!   an inspection.
//!
//! Every message and consultation is its own event stream; the tables are projections `rebuild` refills.

use oneseal_domain::calendar::format_date;
use oneseal_domain::case::{CaseCommand, CaseState, Outcome, Status, Subject, SuspensionKind, TaskStatus};
use oneseal_domain::catalog::{ItemKind, StepKind};
use oneseal_domain::clock::local_date;
use oneseal_domain::ids::CaseNo;
use oneseal_domain::liaison::{self, ConsultationEvent, ConsultationKind, ConsultationStatus, LiaisonEvent};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{ConsultationRow, Db, LiaisonCounter, LiaisonFilter, LiaisonRow, StoredEvent};
use serde_json::{json, Value};

use crate::{ms, App, AppError};

/// The liaison subscriber's cursor name.
pub const LIAISON: &str = "liaison";

/// Default working days a regulator has to acknowledge a message.
pub const DEFAULT_ACK_DAYS: u32 = 5;

/// Settings of the liaison (from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiaisonSettings {
    /// Working days to acknowledge (认领) a message.
    pub ack_days: u32,
    /// Seconds to wait before each retry of a failed webhook delivery; when they run out the delivery is dead.
    pub retry_seconds: Vec<u64>,
    /// Seconds a worker holds a claimed delivery before another worker (any node) may attempt it again.
    pub lease_seconds: u64,
}

impl Default for LiaisonSettings {
    fn default() -> Self {
        LiaisonSettings {
            ack_days: DEFAULT_ACK_DAYS,
            // Standard Webhooks' suggested schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
            // 14 h, 20 h, 24 h.
            retry_seconds: vec![5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
            lease_seconds: (crate::webhooks::LEASE_MS / 1000) as u64,
        }
    }
}

/// Which message a case or licence event becomes, if any.
fn message_kind(event_type: &str, st: Option<&CaseState>, filing: bool) -> Option<&'static str> {
    match event_type {
        "completed" => match st.and_then(|s| s.outcome) {
            Some(Outcome::Grant) if filing => Some("filing"),
            Some(Outcome::Grant) => Some("approval"),
            _ => None,
        },
        "license_amended" => Some("amendment"),
        "license_cancelled" => Some("cancellation"),
        "license_revoked" => Some("revocation"),
        _ => None,
    }
}

use crate::streams::{decode, notify, record, text_ok};

/// The JSON form of a message (API, webhook payload `data`).
pub fn liaison_json(m: &LiaisonRow) -> Value {
    json!({
        "id": m.id, "regulator": m.regulator, "kind": m.kind, "case_no": m.case_no,
        "license_identifier": m.license_identifier, "item_code": m.item_code, "title": m.title,
        "summary": serde_json::from_str::<Value>(&m.summary).unwrap_or(Value::Null),
        "pushed_at_ms": m.pushed_at_ms, "ack_due": m.ack_due, "acknowledged_at_ms": m.acknowledged_at_ms,
        "acknowledged_by": m.acknowledged_by, "late": m.alerted,
    })
}

/// The JSON form of a consultation.
pub fn consultation_json(c: &ConsultationRow) -> Value {
    json!({
        "id": c.id, "case_no": c.case_no, "kind": c.kind, "regulator": c.regulator, "step_id": c.step_id,
        "question": c.question, "asked_by": c.asked_by, "asked_at_ms": c.asked_at_ms, "due": c.due,
        "pauses_clock": c.pauses_clock, "status": c.status, "answer": c.answer, "answered_by": c.answered_by,
        "answered_at_ms": c.answered_at_ms,
    })
}

/// The liaison messages projection after one event of a message's stream (the subscriber, the commands and
/// `rebuild` all call it). Returns the row, unless the event is on a message the projection does not hold.
pub(crate) fn project_message(db: &mut Db, e: &StoredEvent) -> Result<Option<LiaisonRow>, AppError> {
    let row = match decode(e)? {
        LiaisonEvent::Pushed {
            regulator,
            kind,
            case_no,
            license_identifier,
            item_code,
            title,
            summary,
            event_seq,
            ack_due,
        } => Some(LiaisonRow {
            id: e.stream_id.clone(),
            regulator,
            kind,
            case_no,
            license_identifier,
            item_code,
            title,
            summary: summary.to_string(),
            event_seq,
            pushed_at_ms: e.at_ms,
            ack_due,
            acknowledged_at_ms: None,
            acknowledged_by: None,
            alerted: false,
        }),
        LiaisonEvent::Acknowledged { .. } => db.liaison(&e.stream_id)?.map(|mut m| {
            m.acknowledged_at_ms = Some(e.at_ms);
            m.acknowledged_by = Some(e.actor.clone());
            m
        }),
        LiaisonEvent::Alerted => db.liaison(&e.stream_id)?.map(|mut m| {
            m.alerted = true;
            m
        }),
    };
    if let Some(m) = &row {
        db.put_liaison(m)?;
    }
    Ok(row)
}

/// The status of a consultations row.
fn consultation_status(c: &ConsultationRow) -> Result<ConsultationStatus, AppError> {
    ConsultationStatus::parse(&c.status)
        .ok_or_else(|| AppError::Internal(format!("consultation {}: status {}", c.id, c.status)))
}

/// The consultations projection after one event of a consultation's stream (the commands and `rebuild` both call
/// it). Returns the row, unless the event is on a consultation the projection does not hold.
pub(crate) fn project_consultation(db: &mut Db, e: &StoredEvent) -> Result<Option<ConsultationRow>, AppError> {
    let row = match decode(e)? {
        ConsultationEvent::Requested { case_no, kind, regulator, step_id, question, due, pauses_clock } => {
            Some(ConsultationRow {
                id: e.stream_id.clone(),
                case_no,
                kind: kind.as_str().to_string(),
                regulator,
                step_id,
                question,
                asked_by: e.actor.clone(),
                asked_at_ms: e.at_ms,
                due,
                pauses_clock,
                status: ConsultationStatus::Open.as_str().into(),
                answer: None,
                answered_by: None,
                answered_at_ms: None,
            })
        }
        ev @ ConsultationEvent::Answered { .. } => match db.consultation(&e.stream_id)? {
            None => None,
            Some(mut c) => {
                c.status = consultation_status(&c)?.apply(&ev).as_str().into();
                if let ConsultationEvent::Answered { answer } = ev {
                    c.answer = Some(answer);
                    c.answered_by = Some(e.actor.clone());
                    c.answered_at_ms = Some(e.at_ms);
                }
                Some(c)
            }
        },
    };
    if let Some(c) = &row {
        db.put_consultation(c)?;
    }
    Ok(row)
}

/// Record an event on a message's stream and project it.
fn record_message(
    db: &mut Db,
    id: &str,
    ev: &LiaisonEvent,
    actor: &str,
    at: i64,
) -> Result<(i64, LiaisonRow), AppError> {
    let e = record(db, id, ev, actor, at)?;
    let m = project_message(db, &e)?.ok_or_else(|| AppError::Internal(format!("message {id}: no row")))?;
    Ok((e.seq, m))
}

/// Record an event on a consultation's stream and project it.
fn record_consultation(
    db: &mut Db,
    id: &str,
    ev: &ConsultationEvent,
    actor: &str,
    at: i64,
) -> Result<(i64, ConsultationRow), AppError> {
    let e = record(db, id, ev, actor, at)?;
    let c = project_consultation(db, &e)?.ok_or_else(|| AppError::Internal(format!("consultation {id}: no row")))?;
    Ok((e.seq, c))
}

/// The actor's regulating department, if the actor is a regulator.
fn regulator_of(actor: &Actor) -> Option<&str> {
    if actor.has(Role::Regulator) {
        actor.department.as_ref().map(|d| d.as_str())
    } else {
        None
    }
}

impl App {
    pub fn liaison_settings(&self) -> LiaisonSettings {
        self.liaison.read().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn set_liaison_settings(&self, s: LiaisonSettings) -> Result<(), AppError> {
        if !(1..=30).contains(&s.ack_days) {
            return Err(AppError::invalid("invalid_ack_days", "the acknowledgement limit is 1–30 working days"));
        }
        // Longer than one attempt may take (15 s), so a live worker never loses its lease while it sends.
        if !(20..=86_400).contains(&s.lease_seconds) {
            return Err(AppError::invalid("invalid_lease", "the webhook lease is 20–86400 seconds"));
        }
        if let Ok(mut g) = self.liaison.write() {
            *g = s;
        }
        Ok(())
    }

    /// The (item code, regulator) pairs of a case's subject.
    fn regulators_of(&self, subject: &Subject) -> Vec<(String, String, bool)> {
        let view = self.catalog();
        let items: Vec<(String, u32)> = match subject {
            Subject::Item { code, version } => vec![(code.clone(), *version)],
            Subject::Bundle { code, .. } => view
                .latest_bundle(code)
                .map(|b| b.body.items.iter().map(|c| (c.as_str().to_string(), 0)).collect())
                .unwrap_or_default(),
        };
        let mut out = Vec::new();
        for (code, version) in items {
            let item = if version > 0 { view.item_version(&code, version) } else { view.latest_item(&code) };
            if let Some(p) = item {
                for r in &p.body.regulators {
                    out.push((code.clone(), r.as_str().to_string(), p.body.kind == ItemKind::Filing));
                }
            }
        }
        out
    }

    /// Process up to `limit` events for the liaison subscriber; returns how many events it read.
    pub async fn run_liaison_once(&self, limit: i64) -> Result<usize, AppError> {
        let app = self.clone();
        self.store.settle().await?;
        self.store
            .write(move |db| -> Result<usize, AppError> {
                let cursor = db.cursor(LIAISON)?;
                let events = db.read_from(cursor, limit)?;
                let Some(last) = events.last().map(|e| e.seq) else {
                    return Ok(0);
                };
                for e in &events {
                    app.liaison_event(db, e)?;
                }
                db.set_cursor(LIAISON, last)?;
                Ok(events.len())
            })
            .await
    }

    fn liaison_event(&self, db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
        if !matches!(e.event_type.as_str(), "completed" | "license_amended" | "license_cancelled" | "license_revoked") {
            return Ok(());
        }
        let (case_no, licence) = if let Some(c) = e.stream_id.strip_prefix("case-") {
            (c.to_string(), None)
        } else if e.stream_id.starts_with("license-") {
            let p: Value = serde_json::from_str(&e.payload).map_err(|x| AppError::Internal(x.to_string()))?;
            let Some(id) = p["identifier"].as_str() else { return Ok(()) };
            let Some(l) = db.license(id)? else { return Ok(()) };
            let Some(c) = l.case_no.clone() else { return Ok(()) };
            (c, Some(l))
        } else {
            return Ok(());
        };
        let Some(row) = db.get_case(&case_no)? else { return Ok(()) };
        let st: CaseState = serde_json::from_str(&row.state).map_err(|x| AppError::Internal(x.to_string()))?;
        let settings = self.liaison_settings();
        let due =
            format_date(self.calendar().add_working_days(local_date(crate::from_ms(e.at_ms)), settings.ack_days)?);
        for (item_code, regulator, filing) in self.regulators_of(&st.subject) {
            let Some(kind) = message_kind(&e.event_type, Some(&st), filing) else { continue };
            let reference = match &licence {
                Some(l) => format!("{}-{}", l.identifier, e.seq),
                None => case_no.clone(),
            };
            let id = format!("liaison-{kind}-{reference}-{regulator}");
            if db.stream_version(&id)? > 0 {
                continue;
            }
            // What the regulator needs to start supervising: who (the organisation's name; a natural person's
            // name masked), what, where the case is; never ID numbers or contact details.
            let holder = match st.applicant.kind {
                oneseal_domain::case::ApplicantKind::Organisation => st.applicant.name.clone(),
                oneseal_domain::case::ApplicantKind::Person => crate::pd::mask_name(&st.applicant.name),
            };
            let mut summary = json!({
                "holder": holder, "department": row.department, "decided_at_ms": st.finished_at.map(ms),
                "licenses": st.licenses,
            });
            if let Some(l) = &licence {
                summary["license"] = json!({ "identifier": l.identifier, "number": l.number, "license_type": l.license_type, "status": l.status, "reason": l.reason });
            }
            let ev = LiaisonEvent::Pushed {
                regulator: regulator.clone(),
                kind: kind.to_string(),
                case_no: Some(case_no.clone()),
                license_identifier: licence.as_ref().map(|l| l.identifier.clone()),
                item_code,
                title: row.title.clone(),
                summary,
                event_seq: e.seq,
                ack_due: due.clone(),
            };
            let (_, m) = record_message(db, &id, &ev, "liaison", e.at_ms)?;
            for ep in db.webhook_endpoints(Some(&regulator))?.into_iter().filter(|x| x.enabled) {
                db.put_webhook_delivery(&delivery_for(&ep, &m, e.at_ms)?)?;
            }
        }
        Ok(())
    }

    /// Messages the actor may see: regulators their department's; supervisors and administrators all.
    pub async fn liaison_messages(
        &self,
        actor: &Actor,
        mut f: LiaisonFilter,
    ) -> Result<(Vec<LiaisonRow>, i64), AppError> {
        if let Some(d) = regulator_of(actor) {
            f.regulator = Some(d.to_string());
        } else if !(actor.has(Role::Supervisor) || actor.has(Role::Administrator)) {
            return Err(AppError::Forbidden("liaison messages are for regulators and supervisors".into()));
        }
        f.limit = f.limit.clamp(1, 500);
        f.offset = f.offset.max(0);
        self.store.read(move |db| db.liaisons(&f).map_err(AppError::from)).await
    }

    /// Acknowledge (认领) a message: staff of the regulator it was sent to. Late → a supervision alert.
    pub async fn acknowledge_liaison(&self, actor: &Actor, id: &str) -> Result<LiaisonRow, AppError> {
        let Some(dept) = regulator_of(actor).map(str::to_string) else {
            return Err(AppError::Forbidden("messages are acknowledged by the regulator's staff".into()));
        };
        let now = self.now();
        let today = format_date(local_date(now));
        let (id, who) = (id.to_string(), actor.id.clone());
        self.store
            .write(move |db| -> Result<LiaisonRow, AppError> {
                let m = db
                    .liaison(&id)?
                    .filter(|m| m.regulator == dept)
                    .ok_or_else(|| AppError::NotFound(format!("message {id}")))?;
                liaison::check_acknowledge(m.acknowledged_at_ms.is_some())?;
                let at = ms(now);
                let late = today > m.ack_due;
                let (seq, m) = record_message(db, &id, &LiaisonEvent::Acknowledged { late }, &who, at)?;
                if late && !m.alerted {
                    return late_alert(db, &m, seq, at);
                }
                Ok(m)
            })
            .await
    }

    /// Raise the late-acknowledgement alerts of messages whose last day has passed; returns how many.
    pub async fn sweep_liaison(&self, limit: i64) -> Result<usize, AppError> {
        let now = self.now();
        let today = format_date(local_date(now));
        self.store
            .write(move |db| -> Result<usize, AppError> {
                // Once across nodes: the same sweep elsewhere waits, then finds nothing left due.
                db.claim_work("sweep_liaison")?;
                let due = db.liaisons_overdue(&today, limit)?;
                let n = due.len();
                for m in due {
                    let seq = db.read_stream(&m.id)?.first().map(|e| e.seq).unwrap_or_default();
                    late_alert(db, &m, seq, ms(now))?;
                }
                Ok(n)
            })
            .await
    }

    /// Counters per regulator: a regulator sees its own; supervisors, administrators all.
    pub async fn liaison_counters(&self, actor: &Actor) -> Result<Vec<LiaisonCounter>, AppError> {
        let mine = regulator_of(actor).map(str::to_string);
        if mine.is_none() && !(actor.has(Role::Supervisor) || actor.has(Role::Administrator)) {
            return Err(AppError::Forbidden("liaison counters are for regulators and supervisors".into()));
        }
        let today = format_date(local_date(self.now()));
        let all = self.store.read(move |db| db.liaison_counters(&today).map_err(AppError::from)).await?;
        Ok(all.into_iter().filter(|c| mine.as_ref().is_none_or(|m| *m == c.regulator)).collect())
    }

    /// Ask a regulator for an opinion (consult) or to take part in the current inspection (join).
    pub async fn ask_regulator(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        kind: &str,
        regulator: &str,
        question: &str,
        days: u32,
    ) -> Result<ConsultationRow, AppError> {
        let Some(kind) = ConsultationKind::parse(kind) else {
            return Err(AppError::invalid("invalid_kind", "kind is consult (事前征询) or join (事中参与)"));
        };
        let question = text_ok(question, "the question", 2000)?;
        if !(1..=20).contains(&days) {
            return Err(AppError::invalid("invalid_days", "an answer is due in 1–20 working days"));
        }
        let view = self.catalog();
        if !view.departments.iter().any(|d| d.id.as_str() == regulator && !d.bureau_section) {
            return Err(AppError::invalid("unknown_regulator", format!("{regulator} is not a regulating department")));
        }
        let now = self.now();
        let due = format_date(self.calendar().add_working_days(local_date(now), days)?);
        let id = format!("consult-{}", crate::random_hex(8)?);
        let (app, actor, case_no, kind, regulator) =
            (self.clone(), actor.clone(), case_no.clone(), kind, regulator.to_string());
        self.store
            .write(move |db| -> Result<ConsultationRow, AppError> {
                let row =
                    db.get_case(case_no.as_str())?.ok_or_else(|| AppError::NotFound(format!("case {case_no}")))?;
                let st: CaseState = serde_json::from_str(&row.state).map_err(|x| AppError::Internal(x.to_string()))?;
                if !crate::cases::may_see(&actor, &st) {
                    return Err(AppError::NotFound(format!("case {case_no}")));
                }
                let step = st
                    .current_step
                    .as_ref()
                    .filter(|_| matches!(st.status, Status::InProgress | Status::Suspended))
                    .ok_or_else(|| {
                        AppError::invalid("case_not_in_progress", "only a case being examined can ask a regulator")
                    })?;
                let works = step
                    .tasks
                    .iter()
                    .any(|t| t.status == TaskStatus::Open && actor.can_work(t.role, t.department.as_ref()))
                    || actor.can_work(Role::Approver, Some(&st.department));
                if !works {
                    return Err(AppError::Forbidden("those who work the current step ask regulators".into()));
                }
                if kind == ConsultationKind::Join && step.kind != StepKind::Inspection {
                    return Err(AppError::invalid(
                        "not_an_inspection",
                        "a regulator joins the case at an inspection step",
                    ));
                }
                let pauses = kind == ConsultationKind::Consult
                    && st.status == Status::InProgress
                    && app.item_consult_pauses(&st.subject)
                    && matches!(st.clock.limit, oneseal_domain::catalog::Limit::WorkingDays(_));
                let at = ms(now);
                let ev = ConsultationEvent::Requested {
                    case_no: case_no.to_string(),
                    kind,
                    regulator: regulator.clone(),
                    step_id: step.step_id.clone(),
                    question: question.clone(),
                    due: due.clone(),
                    pauses_clock: pauses,
                };
                let (seq, c) = record_consultation(db, &id, &ev, &actor.id, at)?;
                if pauses {
                    crate::cases::command_in(
                        &app,
                        db,
                        &actor,
                        &case_no,
                        CaseCommand::Suspend {
                            kind: SuspensionKind::Consultation,
                            reason: format!("事前征询 {}: {question}", app.catalog().department_name(&regulator)),
                            expected_days: days,
                        },
                        None,
                        now,
                    )?;
                }
                let to = db.accounts_with_role(Role::Regulator.as_str(), Some(&regulator))?;
                let what = if kind == ConsultationKind::Join {
                    "事中参与 please join the inspection"
                } else {
                    "事前征询 your opinion is asked"
                };
                notify(
                    db,
                    seq,
                    &to,
                    case_no.as_str(),
                    &format!("consultation_{}", kind.as_str()),
                    &format!("{}: {what}（{due}前 by {due}）", row.title),
                    at,
                )?;
                Ok(c)
            })
            .await
    }

    fn item_consult_pauses(&self, subject: &Subject) -> bool {
        let view = self.catalog();
        match subject {
            Subject::Item { code, version } => {
                view.item_version(code, *version).is_some_and(|p| p.body.consult_pauses_clock)
            }
            Subject::Bundle { code, .. } => view.latest_bundle(code).is_some_and(|b| {
                b.body.items.iter().any(|c| view.latest_item(c.as_str()).is_some_and(|p| p.body.consult_pauses_clock))
            }),
        }
    }

    /// A regulator answers a consultation (opinion, or what it found at the inspection). When it paused the
    /// clock and no other pausing consultation of the case is open, the clock runs again.
    pub async fn answer_consultation(
        &self,
        actor: &Actor,
        id: &str,
        answer: &str,
    ) -> Result<ConsultationRow, AppError> {
        let Some(dept) = regulator_of(actor).map(str::to_string) else {
            return Err(AppError::Forbidden("consultations are answered by the regulator's staff".into()));
        };
        let answer = text_ok(answer, "the answer", 2000)?;
        let now = self.now();
        let (app, id, who) = (self.clone(), id.to_string(), actor.id.clone());
        self.store
            .write(move |db| -> Result<ConsultationRow, AppError> {
                let c = db
                    .consultation(&id)?
                    .filter(|c| c.regulator == dept)
                    .ok_or_else(|| AppError::NotFound(format!("consultation {id}")))?;
                consultation_status(&c)?.check_answer()?;
                let at = ms(now);
                let (seq, c) = record_consultation(db, &id, &ConsultationEvent::Answered { answer }, &who, at)?;
                let others_open = db
                    .consultations_of_case(&c.case_no)?
                    .iter()
                    .any(|o| o.id != c.id && o.status == ConsultationStatus::Open.as_str() && o.pauses_clock);
                if c.pauses_clock && !others_open {
                    if let Some(row) = db.get_case(&c.case_no)? {
                        let st: CaseState =
                            serde_json::from_str(&row.state).map_err(|x| AppError::Internal(x.to_string()))?;
                        let case_no = crate::cases::stored_case_no(&c.case_no)?;
                        let paused_for_us = st.status == Status::Suspended
                            && last_suspension(db, &case_no)? == Some(SuspensionKind::Consultation);
                        if paused_for_us {
                            // The system resumes on the opinion's arrival, with the authority of the case's department.
                            let system = Actor::system("liaison", Role::Approver, Some(st.department.clone()));
                            crate::cases::command_in(&app, db, &system, &case_no, CaseCommand::Resume, None, now)?;
                        }
                    }
                }
                notify(
                    db,
                    seq,
                    std::slice::from_ref(&c.asked_by),
                    &c.case_no,
                    "consultation_answered",
                    "监管部门已答复 the regulator answered",
                    at,
                )?;
                Ok(c)
            })
            .await
    }

    /// Consultations of a case (staff who may see it).
    pub async fn consultations_of_case(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
    ) -> Result<Vec<ConsultationRow>, AppError> {
        if !actor.is_staff() {
            return Err(AppError::NotFound(format!("case {case_no}")));
        }
        self.case_view_unrecorded(actor, case_no).await?;
        let c = case_no.to_string();
        self.store.read(move |db| db.consultations_of_case(&c).map_err(AppError::from)).await
    }

    /// A regulator's consultations (supervisors and administrators: all).
    pub async fn consultations_for(&self, actor: &Actor) -> Result<Vec<ConsultationRow>, AppError> {
        let mine = regulator_of(actor).map(str::to_string);
        if mine.is_none() && !(actor.has(Role::Supervisor) || actor.has(Role::Administrator)) {
            return Err(AppError::Forbidden("consultations are for regulators and supervisors".into()));
        }
        self.store.read(move |db| db.consultations_of_regulator(mine.as_deref(), 200).map_err(AppError::from)).await
    }
}

/// The kind of a case's latest suspension.
fn last_suspension(db: &mut Db, case_no: &CaseNo) -> Result<Option<SuspensionKind>, AppError> {
    let events = db.read_stream(&crate::cases::stream_of(case_no))?;
    for e in events.iter().rev() {
        if e.event_type == "suspended" {
            if let oneseal_domain::case::CaseEvent::Suspended { kind, .. } = crate::cases::recorded(e)?.event {
                return Ok(Some(kind));
            }
        }
    }
    Ok(None)
}

/// Raise the late-acknowledgement alert of a message and mark it (event on the message's stream); returns the
/// message as it is then.
fn late_alert(db: &mut Db, m: &LiaisonRow, evidence: i64, at: i64) -> Result<LiaisonRow, AppError> {
    let reference = m.case_no.clone().unwrap_or_default();
    crate::supervision::raise_alert(
        db,
        "liaison_ack_overdue",
        m.id.trim_start_matches("liaison-"),
        &reference,
        &m.regulator,
        None,
        &m.title,
        format!("{} message not acknowledged by {} (due {})", m.kind, m.regulator, m.ack_due),
        vec![evidence],
        at,
    )?;
    Ok(record_message(db, &m.id, &LiaisonEvent::Alerted, "supervision", at)?.1)
}

/// The webhook outbox row of one message to one endpoint (the payload is the message as the API shows it; the
/// delivery itself is `webhooks.rs`'s, which knows nothing of liaison).
fn delivery_for(
    ep: &oneseal_store::WebhookEndpoint,
    m: &LiaisonRow,
    at_ms: i64,
) -> Result<oneseal_store::WebhookDelivery, AppError> {
    let event_type = format!("liaison.{}", m.kind);
    let timestamp = crate::from_ms(at_ms)
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let payload = json!({ "type": event_type, "timestamp": timestamp, "data": liaison_json(m) });
    let id = format!("msg_{}", &crate::sha256_hex(&format!("{}\n{}", ep.id, m.id))[..32]);
    Ok(oneseal_store::WebhookDelivery {
        id,
        endpoint_id: ep.id.clone(),
        message_id: m.id.clone(),
        event_type,
        payload: payload.to_string(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_ms: at_ms,
        last_status: None,
        last_error: None,
        created_at_ms: at_ms,
        finished_at_ms: None,
    })
}
