//! Urging notices (督办): a supervisor tells a section (or one person in it) to act on a case by a date; the
//! section replies; the supervisor closes it; an urging still open after its date escalates once — an event, a
//! red alert, and a notification to every supervisor. Each urging is its own event stream (`urging-…`) of
//! `oneseal_domain::urging::UrgingEvent`s; `project` writes the urgings projection from each of them, for the
//! commands here and for `rebuild` alike.

use oneseal_domain::calendar::format_date;
use oneseal_domain::clock::local_date;
use oneseal_domain::ids::CaseNo;
use oneseal_domain::roles::{Actor, Role};
use oneseal_domain::urging::{UrgingEvent, UrgingStatus};
use oneseal_store::{Db, StoredEvent, UrgingRow};

use crate::streams::{decode, notify, record, text_ok};

use crate::{ms, App, AppError};

/// The status of an urgings row.
fn status_of(u: &UrgingRow) -> Result<UrgingStatus, AppError> {
    UrgingStatus::parse(&u.status).ok_or_else(|| AppError::Internal(format!("urging {}: status {}", u.id, u.status)))
}

/// The urgings projection after one event of an urging's stream (the commands and `rebuild` both call it).
/// Returns the row, unless the event is on an urging the projection does not hold.
pub(crate) fn project(db: &mut Db, e: &StoredEvent) -> Result<Option<UrgingRow>, AppError> {
    let ev: UrgingEvent = decode(e)?;
    let row = match ev {
        UrgingEvent::Issued { case_no, alert_id, department, person, message, due } => Some(UrgingRow {
            id: e.stream_id.clone(),
            case_no,
            alert_id,
            department,
            person,
            message,
            due,
            status: UrgingStatus::Open.as_str().into(),
            escalated: false,
            issued_by: e.actor.clone(),
            issued_at_ms: e.at_ms,
            reply: None,
            replied_by: None,
            replied_at_ms: None,
            closed_note: None,
        }),
        ev => match db.urging(&e.stream_id)? {
            None => None,
            Some(mut u) => {
                u.status = status_of(&u)?.apply(&ev).as_str().into();
                match ev {
                    UrgingEvent::Replied { reply } => {
                        u.reply = Some(reply);
                        u.replied_by = Some(e.actor.clone());
                        u.replied_at_ms = Some(e.at_ms);
                    }
                    UrgingEvent::Closed { note } => u.closed_note = Some(note),
                    UrgingEvent::Escalated { .. } => u.escalated = true,
                    UrgingEvent::Issued { .. } => {}
                }
                Some(u)
            }
        },
    };
    if let Some(u) = &row {
        db.put_urging(u)?;
    }
    Ok(row)
}

/// Record an event on an urging's stream and project it.
pub(crate) fn record_urging(
    db: &mut Db,
    id: &str,
    ev: &UrgingEvent,
    actor: &str,
    at: i64,
) -> Result<(i64, UrgingRow), AppError> {
    let e = record(db, id, ev, actor, at)?;
    let row = project(db, &e)?.ok_or_else(|| AppError::Internal(format!("urging {id}: no row")))?;
    Ok((e.seq, row))
}

impl App {
    /// Issue an urging on a case to its department (or a person in it), due in `days` working days.
    pub async fn issue_urging(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        alert_id: Option<&str>,
        person: Option<&str>,
        message: &str,
        days: u32,
    ) -> Result<UrgingRow, AppError> {
        if !actor.has(Role::Supervisor) {
            return Err(AppError::Forbidden("urgings are issued by supervisors".into()));
        }
        let message = text_ok(message, "the message", 1000)?;
        if !(1..=30).contains(&days) {
            return Err(AppError::invalid("invalid_days", "an urging is due in 1–30 working days"));
        }
        let now = self.now();
        let due = format_date(self.calendar().add_working_days(local_date(now), days)?);
        let id = format!("urging-{}", crate::random_hex(8)?);
        let (actor, case_no, alert_id, person) =
            (actor.id.clone(), case_no.to_string(), alert_id.map(str::to_string), person.map(str::to_string));
        self.store
            .write(move |db| -> Result<UrgingRow, AppError> {
                let case = db.get_case(&case_no)?.ok_or_else(|| AppError::NotFound(format!("case {case_no}")))?;
                if let Some(p) = &person {
                    let a = db
                        .get_account(p)?
                        .filter(|a| a.active && a.department.as_deref() == Some(case.department.as_str()));
                    if a.is_none() {
                        return Err(AppError::invalid(
                            "unknown_person",
                            format!("{p} is not active staff of {}", case.department),
                        ));
                    }
                }
                let ev = UrgingEvent::Issued {
                    case_no: case_no.clone(),
                    alert_id,
                    department: case.department.clone(),
                    person: person.clone(),
                    message: message.clone(),
                    due: due.clone(),
                };
                let (seq, row) = record_urging(db, &id, &ev, &actor, ms(now))?;
                let to = match &person {
                    Some(p) => vec![p.clone()],
                    None => {
                        let mut v = db.accounts_with_role(Role::Approver.as_str(), Some(&case.department))?;
                        v.extend(db.accounts_with_role(Role::Reviewer.as_str(), Some(&case.department))?);
                        v.sort();
                        v.dedup();
                        v
                    }
                };
                notify(
                    db,
                    seq,
                    &to,
                    &case_no,
                    "urging_issued",
                    &format!("督办 urging: {message}（{due}前 by {due}）"),
                    row.issued_at_ms,
                )?;
                Ok(row)
            })
            .await
    }

    /// Urgings the actor may see: supervisors all; other staff their department's.
    pub async fn urgings(&self, actor: &Actor) -> Result<Vec<UrgingRow>, AppError> {
        if !actor.is_staff() {
            return Err(AppError::Forbidden("urgings are for staff".into()));
        }
        let dept = if actor.has(Role::Supervisor) || actor.has(Role::Administrator) {
            None
        } else {
            Some(actor.department.as_ref().map(|d| d.as_str().to_string()).unwrap_or_else(|| "-".into()))
        };
        self.store.read(move |db| db.urgings(dept.as_deref(), 200).map_err(AppError::from)).await
    }

    /// The section replies (staff of the urged department, or the urged person).
    pub async fn reply_urging(&self, actor: &Actor, id: &str, reply: &str) -> Result<UrgingRow, AppError> {
        let reply = text_ok(reply, "the reply", 1000)?;
        let (id, actor, at) = (id.to_string(), actor.clone(), ms(self.now()));
        self.store
            .write(move |db| -> Result<UrgingRow, AppError> {
                let u = db.urging(&id)?.ok_or_else(|| AppError::NotFound(format!("urging {id}")))?;
                let mine = actor.department.as_ref().is_some_and(|d| d.as_str() == u.department)
                    && u.person.as_deref().is_none_or(|p| p == actor.id);
                if !mine {
                    return Err(AppError::NotFound(format!("urging {id}")));
                }
                let ev = UrgingEvent::Replied { reply };
                status_of(&u)?.check(&ev)?;
                let (seq, u) = record_urging(db, &id, &ev, &actor.id, at)?;
                notify(
                    db,
                    seq,
                    std::slice::from_ref(&u.issued_by),
                    &u.case_no,
                    "urging_replied",
                    "督办已回复 urging answered",
                    at,
                )?;
                Ok(u)
            })
            .await
    }

    /// The supervisor closes an urging (after a reply, or without one).
    pub async fn close_urging(&self, actor: &Actor, id: &str, note: &str) -> Result<UrgingRow, AppError> {
        if !actor.has(Role::Supervisor) {
            return Err(AppError::Forbidden("urgings are closed by supervisors".into()));
        }
        let note = text_ok(note, "the note", 1000)?;
        let (id, actor, at) = (id.to_string(), actor.id.clone(), ms(self.now()));
        self.store
            .write(move |db| -> Result<UrgingRow, AppError> {
                let u = db.urging(&id)?.ok_or_else(|| AppError::NotFound(format!("urging {id}")))?;
                let ev = UrgingEvent::Closed { note };
                status_of(&u)?.check(&ev)?;
                Ok(record_urging(db, &id, &ev, &actor, at)?.1)
            })
            .await
    }

    /// Escalate the open urgings past their date (once each): an event, a red alert, every supervisor notified.
    pub async fn escalate_urgings(&self, limit: i64) -> Result<usize, AppError> {
        let now = self.now();
        let today = format_date(local_date(now));
        self.store
            .write(move |db| -> Result<usize, AppError> {
                // Once across nodes: the same sweep elsewhere waits, then finds nothing left due.
                db.claim_work("escalate_urgings")?;
                let due = db.urgings_overdue(&today, limit)?;
                let supervisors = db.accounts_with_role(Role::Supervisor.as_str(), None)?;
                let at = ms(now);
                for u in &due {
                    let ev = UrgingEvent::Escalated { due: u.due.clone() };
                    let (seq, u) = record_urging(db, &u.id, &ev, "supervision", at)?;
                    crate::supervision::raise_alert(
                        db,
                        "urging_overdue",
                        &u.id,
                        &u.case_no,
                        &u.department,
                        u.person.as_deref(),
                        &u.message,
                        format!("urging due {} not answered", u.due),
                        vec![seq],
                        at,
                    )?;
                    notify(
                        db,
                        seq,
                        &supervisors,
                        &u.case_no,
                        "urging_escalated",
                        &format!("督办逾期未回复 urging overdue: {}", u.message),
                        at,
                    )?;
                }
                Ok(due.len())
            })
            .await
    }
}
