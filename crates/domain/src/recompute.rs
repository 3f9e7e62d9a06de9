//! Recomputing dates when a year's official calendar is published (or corrected).
//!
//! A case's dates are derived from facts that do not depend on the calendar — when the clock started, the limits,
//! each step's share, each suspension's start and end, each extension's days — plus the calendar they were counted
//! with. Replaying those facts with the new calendar gives the dates the law asks for now. Only what changed is
//! recorded, as one `DatesRecomputed` event naming the old and new dates.
//!
//! Two rules keep the change honest:
//! - a date that has already passed is left as it is (a deadline that ran out is history, not re-opened);
//! - a date that would move into the past is held at today and named in the event, never a silent breach.
//!
//! Tickets keep their dates as instants; their counts are recovered with the calendar they were computed with
//! (`old`), which is exact because every publication recomputes every open ticket.

use time::{Date, OffsetDateTime};

use crate::calendar::{Calendar, CalendarError};
use crate::case::{CaseDefinition, CaseEvent, CaseState, PreviousDates, Recorded};
use crate::clock::{self, local_date, CHINA};
use crate::hotline::{TicketEvent, TicketState, TicketStatus};

/// The dates a case has when its history is replayed with `cal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dates {
    deadline: Option<Date>,
    statutory_deadline: Option<Date>,
    step_due: Option<Date>,
    suspended_days: u32,
}

fn replay(history: &[Recorded], st: &CaseState, def: &CaseDefinition, cal: &Calendar) -> Result<Dates, CalendarError> {
    let mut d = Dates { deadline: None, statutory_deadline: None, step_due: None, suspended_days: 0 };
    let mut since: Option<Date> = None;
    let shift = |x: Option<Date>, n: u32| -> Result<Option<Date>, CalendarError> {
        x.map(|x| cal.add_working_days(x, n)).transpose()
    };
    for r in history {
        match &r.event {
            CaseEvent::Accepted { deemed_from, .. } => {
                let (dl, sd, _) = clock::start_deadlines(&st.clock, deemed_from.unwrap_or(r.at), cal)?;
                d.deadline = dl;
                d.statutory_deadline = sd;
            }
            CaseEvent::StepStarted { step_id, due, .. } => {
                let share = def.process.steps.iter().find(|s| s.id == *step_id).map(|s| s.share_days);
                d.step_due = match (due, share) {
                    (None, _) => None,
                    (Some(_), Some(n)) if n > 0 => Some(cal.add_working_days(local_date(r.at), n)?),
                    // A definition without the step's share (never for a published version): keep the date.
                    (Some(x), _) => Some(*x),
                };
            }
            CaseEvent::Suspended { .. } => since = Some(local_date(r.at)),
            CaseEvent::Resumed { .. } => {
                let k = match since.take() {
                    Some(s) => cal.working_days_between(s, local_date(r.at))?,
                    None => 0,
                };
                d.deadline = shift(d.deadline, k)?;
                d.statutory_deadline = shift(d.statutory_deadline, k)?;
                d.step_due = shift(d.step_due, k)?;
                d.suspended_days += k;
            }
            CaseEvent::Extended { days, .. } => d.deadline = shift(d.deadline, *days)?,
            _ => {}
        }
    }
    Ok(d)
}

/// The `DatesRecomputed` event for an open case after `year`'s calendar changed to `cal`, if any date moves.
pub fn case_dates(
    history: &[Recorded],
    st: &CaseState,
    def: &CaseDefinition,
    cal: &Calendar,
    year: i32,
    today: Date,
) -> Result<Option<CaseEvent>, CalendarError> {
    if st.status.is_final() || st.clock.started_at.is_none() {
        return Ok(None);
    }
    let new = replay(history, st, def, cal)?;
    let old = Dates {
        deadline: st.clock.deadline,
        statutory_deadline: st.clock.statutory_deadline,
        step_due: st.current_step.as_ref().and_then(|s| s.due),
        suspended_days: st.clock.suspended_days,
    };
    let mut held = Vec::new();
    let mut settle = |name: &str, old: Option<Date>, new: Option<Date>| -> Option<Date> {
        match (old, new) {
            (Some(o), _) if o < today => Some(o),
            (_, Some(n)) if n < today => {
                held.push(name.to_string());
                Some(today)
            }
            (_, n) => n,
        }
    };
    let moved = Dates {
        deadline: settle("deadline", old.deadline, new.deadline),
        statutory_deadline: settle("statutory_deadline", old.statutory_deadline, new.statutory_deadline),
        step_due: settle("step_due", old.step_due, new.step_due),
        suspended_days: new.suspended_days,
    };
    if moved == old {
        return Ok(None);
    }
    Ok(Some(CaseEvent::DatesRecomputed {
        year,
        deadline: moved.deadline,
        statutory_deadline: moved.statutory_deadline,
        step_due: moved.step_due,
        suspended_days: moved.suspended_days,
        previous: PreviousDates {
            deadline: old.deadline,
            statutory_deadline: old.statutory_deadline,
            step_due: old.step_due,
            suspended_days: old.suspended_days,
        },
        held_at_today: held,
    }))
}

/// The reply and sign-for deadlines of an open ticket moved from `old` to `new` calendar, if any changes. The
/// anchor is the last dispatch; a deadline at the end of a working day keeps its day count, one in working
/// minutes (signing, urgent replies) keeps its minute count.
pub fn ticket_dates(
    history: &[(OffsetDateTime, TicketEvent)],
    st: &TicketState,
    old: &Calendar,
    new: &Calendar,
    now: OffsetDateTime,
) -> Result<Option<TicketEvent>, CalendarError> {
    if matches!(st.status, TicketStatus::Closed | TicketStatus::Merged | TicketStatus::Replied) {
        return Ok(None);
    }
    let Some(dispatched_at) =
        history.iter().rev().find(|(_, e)| matches!(e, TicketEvent::Dispatched { .. })).map(|(at, _)| *at)
    else {
        return Ok(None);
    };
    let moved = |due: Option<OffsetDateTime>| -> Result<Option<OffsetDateTime>, CalendarError> {
        let Some(due) = due else { return Ok(None) };
        if due < now {
            return Ok(Some(due));
        }
        let local = due.to_offset(CHINA);
        let n = if local.time() == end_of_day() {
            let days = old.working_days_between(local_date(dispatched_at), local.date())?;
            let d = new.add_working_days(local_date(dispatched_at), days)?;
            d.with_time(end_of_day()).assume_offset(CHINA)
        } else {
            let mins = crate::worktime::working_minutes(old, dispatched_at, due)?;
            crate::worktime::add_working_minutes(new, dispatched_at, mins)?
        };
        Ok(Some(n.max(now).to_offset(time::UtcOffset::UTC)))
    };
    let sign_due = if st.status == TicketStatus::Dispatched { moved(st.sign_due)? } else { st.sign_due };
    let reply_due = moved(st.reply_due)?;
    if sign_due == st.sign_due && reply_due == st.reply_due {
        return Ok(None);
    }
    Ok(Some(TicketEvent::DatesRecomputed {
        sign_due,
        reply_due,
        previous_sign_due: st.sign_due,
        previous_reply_due: st.reply_due,
    }))
}

fn end_of_day() -> time::Time {
    time::Time::from_hms(17, 30, 0).unwrap_or(time::Time::MIDNIGHT)
}
