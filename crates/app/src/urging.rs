//! Urging notices (督办): a supervisor tells a section (or one person in it) to act on a case by a date; the
//! section replies; the supervisor closes it; an urging still open after its date escalates once — an event, a
//! red alert, and a notification to every supervisor. Each urging is its own event stream.

use oneseal_domain::calendar::format_date;
use oneseal_domain::clock::local_date;
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::UrgingRow;

use crate::streams::{append, notify, text_ok};
use serde_json::json;

use crate::{ms, App, AppError};

impl App {
    /// Issue an urging on a case to its department (or a person in it), due in `days` working days.
    pub async fn issue_urging(
        &self,
        actor: &Actor,
        case_no: &str,
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
                    let a = db.get_account(p)?.filter(|a| a.active && a.department.as_deref() == Some(case.department.as_str()));
                    if a.is_none() {
                        return Err(AppError::invalid("unknown_person", format!("{p} is not active staff of {}", case.department)));
                    }
                }
                let at = ms(now);
                let row = UrgingRow {
                    id: id.clone(),
                    case_no: case_no.clone(),
                    alert_id,
                    department: case.department.clone(),
                    person: person.clone(),
                    message: message.clone(),
                    due: due.clone(),
                    status: "open".into(),
                    escalated: false,
                    issued_by: actor.clone(),
                    issued_at_ms: at,
                    reply: None,
                    replied_by: None,
                    replied_at_ms: None,
                    closed_note: None,
                };
                let seq = append(
                    db,
                    &id,
                    "urging_issued",
                    &actor,
                    at,
                    json!({ "case_no": row.case_no, "alert_id": row.alert_id, "department": row.department, "person": row.person, "message": row.message, "due": row.due }),
                )?;
                db.put_urging(&row)?;
                let to = match &person {
                    Some(p) => vec![p.clone()],
                    None => {
                        let mut v = db.accounts_with_role("approver", Some(&case.department))?;
                        v.extend(db.accounts_with_role("reviewer", Some(&case.department))?);
                        v.sort();
                        v.dedup();
                        v
                    }
                };
                notify(db, seq, &to, &case_no, "urging_issued", &format!("督办 urging: {message}（{due}前 by {due}）"), at)?;
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
                let mut u = db.urging(&id)?.ok_or_else(|| AppError::NotFound(format!("urging {id}")))?;
                let mine = actor.department.as_ref().is_some_and(|d| d.as_str() == u.department)
                    && u.person.as_deref().is_none_or(|p| p == actor.id);
                if !mine {
                    return Err(AppError::NotFound(format!("urging {id}")));
                }
                if u.status != "open" {
                    return Err(AppError::invalid("urging_not_open", format!("the urging is {}", u.status)));
                }
                let seq = append(db, &id, "urging_replied", &actor.id, at, json!({ "reply": reply }))?;
                u.status = "replied".into();
                u.reply = Some(reply);
                u.replied_by = Some(actor.id.clone());
                u.replied_at_ms = Some(at);
                db.put_urging(&u)?;
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
                let mut u = db.urging(&id)?.ok_or_else(|| AppError::NotFound(format!("urging {id}")))?;
                if u.status == "closed" {
                    return Err(AppError::invalid("urging_not_open", "the urging is closed"));
                }
                append(db, &id, "urging_closed", &actor, at, json!({ "note": note }))?;
                u.status = "closed".into();
                u.closed_note = Some(note);
                db.put_urging(&u)?;
                Ok(u)
            })
            .await
    }

    /// Escalate the open urgings past their date (once each): an event, a red alert, every supervisor notified.
    pub async fn escalate_urgings(&self, limit: i64) -> Result<usize, AppError> {
        let now = self.now();
        let today = format_date(local_date(now));
        self.store
            .write(move |db| -> Result<usize, AppError> {
                let due = db.urgings_overdue(&today, limit)?;
                let supervisors = db.accounts_with_role("supervisor", None)?;
                let at = ms(now);
                for mut u in due.clone() {
                    let seq = append(db, &u.id, "urging_escalated", "supervision", at, json!({ "due": u.due }))?;
                    u.escalated = true;
                    db.put_urging(&u)?;
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
