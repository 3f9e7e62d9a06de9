//! Case clocks: statutory and promised limits counted in working days (or minutes for on-the-spot items), with
//! suspensions (§45 excluded time) and extensions (延期).
//!
//! Counting starts the working day after acceptance. A suspension excludes the working days in
//! (suspension day, resume day]: the day the clock stops still counts, the day it restarts does not.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

use crate::calendar::{Calendar, CalendarError};

/// A time limit with its legal unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Working days (行政许可法 §82).
    WorkingDays(u32),
    /// Minutes, for on-the-spot (即办) items.
    Minutes(u32),
}

impl Limit {
    /// The limit expressed in minutes of working time, for comparing limits of the same unit.
    pub(crate) fn comparable(self) -> (u8, u32) {
        match self {
            Limit::Minutes(m) => (0, m),
            Limit::WorkingDays(d) => (1, d),
        }
    }
}

/// §45: time not counted in the limit (plus waiting for a correction during examination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspensionKind {
    Hearing,
    Tendering,
    Auction,
    Inspection,
    Testing,
    Quarantine,
    Appraisal,
    ExpertReview,
    AwaitingCorrection,
    /// 事前征询: waiting for a regulator's opinion, where the item says consultation pauses the clock.
    Consultation,
}

/// Beijing time, the legal time of every clock (no daylight saving).
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The local calendar date of an instant.
pub fn local_date(t: OffsetDateTime) -> Date {
    t.to_offset(CHINA).date()
}

/// The running state of a case's clock, kept inside the case state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    pub limit: Limit,
    pub statutory_limit: Limit,
    pub max_extension_days: u32,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub started_at: Option<OffsetDateTime>,
    /// Promised deadline (date for working-day limits), shifted by suspensions and extensions.
    pub deadline: Option<Date>,
    pub statutory_deadline: Option<Date>,
    /// For minute limits: the instant the limit runs out.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub deadline_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub suspended_since: Option<OffsetDateTime>,
    pub suspended_days: u32,
    pub extension_days: u32,
}

impl ClockState {
    pub fn new(limit: Limit, statutory_limit: Limit, max_extension_days: u32) -> ClockState {
        ClockState {
            limit,
            statutory_limit,
            max_extension_days,
            started_at: None,
            deadline: None,
            statutory_deadline: None,
            deadline_at: None,
            suspended_since: None,
            suspended_days: 0,
            extension_days: 0,
        }
    }
}

/// Deadlines at the start of the clock: (promised date, statutory date) for working days, or the instant for minutes.
pub fn start_deadlines(
    clock: &ClockState,
    at: OffsetDateTime,
    cal: &Calendar,
) -> Result<(Option<Date>, Option<Date>, Option<OffsetDateTime>), CalendarError> {
    let day = local_date(at);
    Ok(match (clock.limit, clock.statutory_limit) {
        (Limit::WorkingDays(p), Limit::WorkingDays(s)) => {
            (Some(cal.add_working_days(day, p)?), Some(cal.add_working_days(day, s)?), None)
        }
        (Limit::Minutes(m), _) => (None, None, Some(at + Duration::minutes(i64::from(m)))),
        (Limit::WorkingDays(p), Limit::Minutes(_)) => (Some(cal.add_working_days(day, p)?), None, None),
    })
}

/// What a person sees of a clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockView {
    /// `working_days` or `minutes`.
    pub unit: &'static str,
    pub limit: u32,
    pub extension_days: u32,
    pub elapsed: u32,
    /// Negative when overdue.
    pub remaining: i64,
    pub deadline: Option<Date>,
    pub statutory_deadline: Option<Date>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline_at: Option<OffsetDateTime>,
    pub running: bool,
    pub paused: bool,
    pub overdue: bool,
    /// The deadlines were counted over a year without an official holiday notice: planned dates
    /// (计划日期，以国务院放假通知为准) that publishing the notice may move.
    pub provisional: bool,
}

/// Elapsed and remaining time of a clock at `now`; `stopped_at` freezes the clock of a finished case.
pub fn view(
    clock: &ClockState,
    now: OffsetDateTime,
    stopped_at: Option<OffsetDateTime>,
    cal: &Calendar,
) -> Result<ClockView, CalendarError> {
    let end = stopped_at.unwrap_or(now);
    match clock.limit {
        Limit::Minutes(m) => {
            let elapsed = clock.started_at.map(|s| ((end - s).whole_minutes().max(0)) as u32).unwrap_or(0);
            Ok(ClockView {
                unit: "minutes",
                limit: m,
                extension_days: 0,
                elapsed,
                remaining: i64::from(m) - i64::from(elapsed),
                deadline: None,
                statutory_deadline: None,
                deadline_at: clock.deadline_at,
                running: clock.started_at.is_some() && stopped_at.is_none(),
                paused: false,
                overdue: elapsed > m,
                provisional: false,
            })
        }
        Limit::WorkingDays(d) => {
            let total = d + clock.extension_days;
            let (elapsed, paused) = match clock.started_at {
                None => (0, false),
                Some(s) => {
                    let start = local_date(s);
                    // While suspended, time stands still at the suspension day.
                    let until = clock.suspended_since.map(local_date).unwrap_or(local_date(end));
                    let gross = cal.working_days_between(start, until)?;
                    (gross.saturating_sub(clock.suspended_days), clock.suspended_since.is_some())
                }
            };
            let remaining = i64::from(total) - i64::from(elapsed);
            let provisional = match (clock.started_at, clock.deadline.max(clock.statutory_deadline)) {
                (Some(s), Some(last)) if !paused && stopped_at.is_none() => {
                    cal.provisional_between(local_date(s), last)
                }
                _ => false,
            };
            Ok(ClockView {
                unit: "working_days",
                limit: d,
                extension_days: clock.extension_days,
                elapsed,
                remaining,
                deadline: if paused { None } else { clock.deadline },
                statutory_deadline: if paused { None } else { clock.statutory_deadline },
                deadline_at: None,
                running: clock.started_at.is_some() && stopped_at.is_none() && !paused,
                paused,
                overdue: remaining < 0,
                provisional,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests_support::cal;
    use time::macros::{date, datetime};

    fn started(limit: u32, at: OffsetDateTime) -> ClockState {
        let mut c = ClockState::new(Limit::WorkingDays(limit), Limit::WorkingDays(20), 10);
        let (d, s, _) = start_deadlines(&c, at, &cal()).unwrap();
        c.started_at = Some(at);
        c.deadline = d;
        c.statutory_deadline = s;
        c
    }

    #[test]
    fn deadline_and_elapsed_across_national_day() {
        let c = started(20, datetime!(2025-09-26 10:00 +8));
        assert_eq!(c.deadline, Some(date!(2025 - 10 - 30)));
        let table = [
            (datetime!(2025-09-26 17:00 +8), 0, 20),
            (datetime!(2025-09-28 12:00 +8), 1, 19), // Sunday make-up working day
            (datetime!(2025-10-08 12:00 +8), 3, 17), // 9-28, 9-29, 9-30; the holiday counts nothing
            (datetime!(2025-10-30 12:00 +8), 20, 0),
            (datetime!(2025-10-31 12:00 +8), 21, -1),
        ];
        for (now, elapsed, remaining) in table {
            let v = view(&c, now, None, &cal()).unwrap();
            assert_eq!((v.elapsed, v.remaining), (elapsed, remaining), "{now}");
            assert_eq!(v.overdue, remaining < 0);
        }
    }

    #[test]
    fn late_evening_utc_is_next_day_in_beijing() {
        // 2025-09-25 17:00 UTC is 2025-09-26 01:00 in Beijing.
        let c = started(20, datetime!(2025-09-25 17:00 UTC));
        assert_eq!(c.deadline, Some(date!(2025 - 10 - 30)));
    }

    #[test]
    fn paused_clock_stands_still() {
        let mut c = started(20, datetime!(2025-09-26 10:00 +8));
        c.suspended_since = Some(datetime!(2025-10-09 09:00 +8));
        let v = view(&c, datetime!(2025-10-20 09:00 +8), None, &cal()).unwrap();
        assert!(v.paused);
        assert_eq!(v.elapsed, 4); // 9-28, 9-29, 9-30, and 10-09: the suspension day itself still counts
        assert_eq!(v.deadline, None);
    }

    #[test]
    fn minutes_clock() {
        let mut c = ClockState::new(Limit::Minutes(15), Limit::Minutes(30), 0);
        let at = datetime!(2026-03-02 09:00 +8);
        let (_, _, d) = start_deadlines(&c, at, &cal()).unwrap();
        c.started_at = Some(at);
        c.deadline_at = d;
        let v = view(&c, datetime!(2026-03-02 09:10 +8), None, &cal()).unwrap();
        assert_eq!((v.elapsed, v.remaining, v.overdue), (10, 5, false));
        let v = view(&c, datetime!(2026-03-02 09:20 +8), None, &cal()).unwrap();
        assert!(v.overdue);
    }
}
