//! Working time: the bureau's hours on working days (09:00–12:00 and 13:30–17:30 Beijing time, 7 hours a
//! working day). Used where a rule counts hours rather than days (a stalled case; the "1230" targets).

use time::{OffsetDateTime, Time};

use crate::calendar::{Calendar, CalendarError};
use crate::clock::CHINA;

/// Working periods of a working day, local time.
pub const WORKING_PERIODS: [((u8, u8), (u8, u8)); 2] = [((9, 0), (12, 0)), ((13, 30), (17, 30))];
/// Minutes in a working day (7 hours).
pub const WORKING_DAY_MINUTES: i64 = 420;

/// Working minutes between two instants (zero when `to` is not after `from`).
pub fn working_minutes(cal: &Calendar, from: OffsetDateTime, to: OffsetDateTime) -> Result<i64, CalendarError> {
    if to <= from {
        return Ok(0);
    }
    let (from, to) = (from.to_offset(CHINA), to.to_offset(CHINA));
    let mut total = 0i64;
    let mut day = from.date();
    while day <= to.date() {
        if cal.is_workday(day)? {
            for ((h1, m1), (h2, m2)) in WORKING_PERIODS {
                let start = day.with_time(Time::from_hms(h1, m1, 0).unwrap_or(Time::MIDNIGHT)).assume_offset(CHINA);
                let end = day.with_time(Time::from_hms(h2, m2, 0).unwrap_or(Time::MIDNIGHT)).assume_offset(CHINA);
                let (s, e) = (start.max(from), end.min(to));
                if e > s {
                    total += (e - s).whole_minutes();
                }
            }
        }
        day = match day.next_day() {
            Some(d) => d,
            None => break,
        };
    }
    Ok(total)
}

/// The instant at which `minutes` working minutes have passed after `from` (the start of the next working period
/// when `minutes` is 0 and `from` is outside working hours).
pub fn add_working_minutes(
    cal: &Calendar,
    from: OffsetDateTime,
    minutes: i64,
) -> Result<OffsetDateTime, CalendarError> {
    let from = from.to_offset(CHINA);
    let mut left = minutes.max(0);
    let mut day = from.date();
    // A year of calendar days is far more than any limit; the calendar errors on years it does not know.
    for _ in 0..800 {
        if cal.is_workday(day)? {
            for ((h1, m1), (h2, m2)) in WORKING_PERIODS {
                let start = day.with_time(Time::from_hms(h1, m1, 0).unwrap_or(Time::MIDNIGHT)).assume_offset(CHINA);
                let end = day.with_time(Time::from_hms(h2, m2, 0).unwrap_or(Time::MIDNIGHT)).assume_offset(CHINA);
                let s = start.max(from);
                if end <= s {
                    continue;
                }
                let avail = (end - s).whole_minutes();
                if left <= avail {
                    return Ok(s + time::Duration::minutes(left));
                }
                left -= avail;
            }
        }
        day = day.next_day().ok_or(CalendarError::YearNotCovered(day.year()))?;
    }
    Err(CalendarError::YearNotCovered(day.year()))
}
