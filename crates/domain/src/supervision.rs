//! Electronic supervision (电子监察), the pure part: when a case turns yellow or red, and which rules of the
//! source's supervision system a case's history breaks — each finding with its evidence (the events).

use time::{Date, OffsetDateTime};

use crate::calendar::{Calendar, CalendarError};
use crate::case::{CaseDefinition, CaseEvent, Recorded};
use crate::catalog::StepKind;
use crate::roles::Role;

/// When an alert is raised. Configurable; the defaults are the (80 % or 2 working days, 2 working days
/// without action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Yellow once this share (percent) of the working-day limit is used…
    pub used_percent: u32,
    /// …or when this many working days or fewer remain.
    pub days_left: u32,
    /// Stalled: no action for this many working hours (bureau hours) while it is the bureau's turn.
    pub stall_working_hours: u32,
    /// Acceptance later than this many working days after submission breaks the 5-day rule (§32).
    pub acceptance_days: u32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds { used_percent: 80, days_left: 2, stall_working_hours: 14, acceptance_days: 5 }
    }
}

/// The first date on which a case accepted on `accepted` with a limit of `limit_days` working days and the
/// deadline `deadline` is yellow: the earlier of "the used share reached" and "few days left".
pub fn yellow_on(
    accepted: Date,
    deadline: Date,
    limit_days: u32,
    t: &Thresholds,
    cal: &Calendar,
) -> Result<Date, CalendarError> {
    let used = (limit_days * t.used_percent).div_ceil(100);
    let by_share = cal.add_working_days(accepted, used.max(1))?;
    // The earliest day from which at most `days_left` working days remain until the deadline.
    let mut by_left = deadline;
    loop {
        let Some(prev) = by_left.previous_day() else { break };
        if cal.working_days_between(prev, deadline)? > t.days_left {
            break;
        }
        by_left = prev;
    }
    Ok(by_share.min(by_left))
}

/// The day a case with this deadline is overdue (red): the day after the deadline.
pub fn red_on(deadline: Date) -> Option<Date> {
    deadline.next_day()
}

/// The instant an open case is stalled when nothing happened since `last_action`: after the threshold's working
/// hours (default 14, two working days) of bureau time.
pub fn stalled_at(
    last_action: OffsetDateTime,
    t: &Thresholds,
    cal: &Calendar,
) -> Result<OffsetDateTime, CalendarError> {
    crate::worktime::add_working_minutes(cal, last_action, i64::from(t.stall_working_hours.max(1)) * 60)
}

/// The Beijing-time text `YYYY-MM-DDTHH:MM` of an instant: watch columns compare it with dates as text, so a
/// date-only value is due from the start of its day.
pub fn watch_instant(t: OffsetDateTime) -> String {
    let l = t.to_offset(crate::clock::CHINA);
    format!("{}T{:02}:{:02}", crate::calendar::format_date(l.date()), l.hour(), l.minute())
}

/// A rule the case's history breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `second_correction`, `late_acceptance`, `skipped_steps`, `unauthorised_decision`, `reopened`.
    pub kind: &'static str,
    /// Indexes into the history: the events that show it.
    pub evidence: Vec<usize>,
    pub detail: String,
}

/// Check a case's whole history against the supervision rules. `roles_of` tells the roles an account has.
pub fn check_rules(
    history: &[Recorded],
    def: &CaseDefinition,
    t: &Thresholds,
    cal: &Calendar,
    roles_of: &dyn Fn(&str) -> Vec<Role>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let local = |i: usize| crate::clock::local_date(history[i].at);
    // 一次性告知: a second correction notice.
    let corrections: Vec<usize> = history
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.event, CaseEvent::CorrectionRequested { .. }))
        .map(|(i, _)| i)
        .collect();
    if corrections.len() > 1 {
        out.push(Finding {
            kind: "second_correction",
            evidence: corrections.clone(),
            detail: format!("{} correction notices for one application", corrections.len()),
        });
    }
    // Acceptance more than 5 working days after submission (or after the last correction).
    let submitted = history.iter().position(|r| matches!(r.event, CaseEvent::Submitted { .. }));
    let accepted = history.iter().position(|r| matches!(r.event, CaseEvent::Accepted { .. }));
    if let (Some(s), Some(a)) = (submitted, accepted) {
        let from = history[..a].iter().rposition(|r| matches!(r.event, CaseEvent::Corrected { .. })).unwrap_or(s);
        if let Ok(days) = cal.working_days_between(local(from), local(a)) {
            if days > t.acceptance_days {
                out.push(Finding {
                    kind: "late_acceptance",
                    evidence: vec![from, a],
                    detail: format!("accepted {days} working days after receipt (limit {})", t.acceptance_days),
                });
            }
        }
    }
    // Completed without its required steps (体外循环): every unconditional examination step, and the decision,
    // must have been completed before completion.
    if let Some(done) = history.iter().position(|r| matches!(r.event, CaseEvent::Completed { .. })) {
        let form = history.iter().find_map(|r| match &r.event {
            CaseEvent::Submitted { form, .. } => Some(form.clone()),
            _ => None,
        });
        let completed: Vec<&str> = history[..done]
            .iter()
            .filter_map(|r| match &r.event {
                CaseEvent::StepCompleted { step_id } => Some(step_id.as_str()),
                _ => None,
            })
            .collect();
        let required: Vec<&str> = def
            .process
            .steps
            .iter()
            .filter(|s| !matches!(s.kind, StepKind::Accept))
            .filter(|s| s.condition.as_ref().is_none_or(|c| form.as_ref().is_some_and(|f| c.holds(f))))
            .map(|s| s.id.as_str())
            .collect();
        let missing: Vec<&str> = required.iter().copied().filter(|id| !completed.contains(id)).collect();
        let filing = history.iter().any(|r| matches!(r.event, CaseEvent::FilingRecorded { .. }));
        let on_the_spot = def.handling == crate::catalog::Handling::Immediate;
        if !missing.is_empty() && !filing && !on_the_spot {
            out.push(Finding {
                kind: "skipped_steps",
                evidence: vec![done],
                detail: format!("completed without the steps {}", missing.join(", ")),
            });
        }
    }
    // A decision by someone who is not an approver.
    for (i, r) in history.iter().enumerate() {
        if let CaseEvent::Decided { by, .. } = &r.event {
            if !roles_of(by).contains(&Role::Approver) {
                out.push(Finding {
                    kind: "unauthorised_decision",
                    evidence: vec![i],
                    detail: format!("decided by {by}, who is not an approver"),
                });
            }
        }
    }
    // Anything after completion (a reopened case).
    if let Some(done) = history.iter().position(|r| matches!(r.event, CaseEvent::Completed { .. })) {
        let after: Vec<usize> = (done + 1..history.len()).collect();
        if !after.is_empty() {
            out.push(Finding { kind: "reopened", evidence: after, detail: "events after completion".into() });
        }
    }
    out
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Closed,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<AlertStatus> {
        [AlertStatus::Open, AlertStatus::Closed].into_iter().find(|x| x.as_str() == s)
    }

    /// The status after a recorded event.
    pub fn apply(self, e: &AlertEvent) -> AlertStatus {
        match e {
            AlertEvent::Raised { .. } => AlertStatus::Open,
            AlertEvent::Closed { .. } => AlertStatus::Closed,
        }
    }

    /// Whether the event may be recorded now: an alert is raised once (its stream is created once) and closed
    /// while open.
    pub fn check(self, e: &AlertEvent) -> Result<(), AlertError> {
        match (self, e) {
            (AlertStatus::Open, AlertEvent::Closed { .. }) => Ok(()),
            (_, AlertEvent::Raised { .. }) => Err(AlertError::Exists),
            (AlertStatus::Closed, AlertEvent::Closed { .. }) => Err(AlertError::Closed),
        }
    }
}

/// The events of an alert's stream (`alert-{kind}-{case}-{key}`, or `alert-{kind}-{project}-{span}` for a
/// construction project's yellow and red alerts); the stored `type` is the tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type")]
pub enum AlertEvent {
    #[serde(rename = "alert_raised")]
    Raised {
        kind: String,
        level: String,
        /// The case the alert is about; absent for a project's alert.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_no: Option<String>,
        /// The construction project (its code) the alert is about: a stage or span of it went yellow or red.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        project_code: Option<String>,
        department: String,
        person: Option<String>,
        title: String,
        detail: String,
        /// The global sequence numbers of the events that show it.
        evidence: Vec<i64>,
    },
    #[serde(rename = "alert_closed")]
    Closed { note: String },
}

/// Why a command on an alert was refused. Stable codes for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("the alert is closed already")]
    Closed,
    #[error("the alert was raised already")]
    Exists,
}

impl AlertError {
    pub fn code(&self) -> &'static str {
        match self {
            AlertError::Closed => "alert_closed",
            AlertError::Exists => "alert_exists",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_is_closed_once_and_never_raised_again() {
        let close = AlertEvent::Closed { note: "handled".into() };
        assert_eq!(AlertStatus::Open.check(&close), Ok(()));
        let s = AlertStatus::Open.apply(&close);
        assert_eq!(s, AlertStatus::Closed);
        let e = s.check(&close).unwrap_err();
        assert_eq!((e.code(), e.to_string().as_str()), ("alert_closed", "the alert is closed already"));
        let raise = AlertEvent::Raised {
            kind: "red".into(),
            level: "red".into(),
            case_no: Some("YC1".into()),
            project_code: None,
            department: "market".into(),
            person: None,
            title: "t".into(),
            detail: "d".into(),
            evidence: vec![],
        };
        assert_eq!(AlertStatus::Open.check(&raise), Err(AlertError::Exists));
        assert_eq!(AlertStatus::parse("closed"), Some(AlertStatus::Closed));
        assert_eq!(AlertStatus::parse("dismissed"), None);
    }
}
