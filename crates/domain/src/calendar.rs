//! Working-day calendar: official rest days and make-up working days per year (国务院办公厅 annual notices).
//!
//! A date is a working day iff it is a make-up working day, or it is Monday–Friday and not a rest day.
//!
//! A year without an official notice is **provisional**: its rest days are derived from the statutory rules
//! (`provisional.rs`: 全国年节及纪念日放假办法 as amended in 2024) with no make-up working days guessed, so the bureau
//! never stops at a year boundary because next year's notice has not been typed in yet. Every answer that counted a
//! provisional day says so (`Calendar::is_provisional`, `Calendar::provisional_between`); publishing the official
//! year later recomputes the deadlines that depended on it. Years before the amended rules (before 2025) and after
//! the lunar table (after 2100) without data are an error, never a guess.

mod provisional;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Weekday};

/// One year's official data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearData {
    pub year: i32,
    pub rest_days: BTreeSet<Date>,
    pub makeup_workdays: BTreeSet<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("no calendar data for year {0}: add the year's official holiday notice first")]
    YearNotCovered(i32),
    #[error("calendar year {year}: {problem}")]
    Invalid { year: i32, problem: String },
}

impl CalendarError {
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::YearNotCovered(_) => "calendar_year_not_covered",
            CalendarError::Invalid { .. } => "calendar_invalid",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    rest_days: Vec<String>,
    makeup_workdays: Vec<String>,
}

/// Parse an ISO `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).map_err(|e| format!("invalid date {s:?}: {e}"))
}

/// Format a date as ISO `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

impl YearData {
    /// Parse and check a year file (`data/calendar/YYYY.toml`).
    pub fn from_toml(text: &str) -> Result<YearData, CalendarError> {
        let f: YearFile =
            toml::from_str(text).map_err(|e| CalendarError::Invalid { year: 0, problem: e.to_string() })?;
        let parse_all = |v: &[String]| -> Result<BTreeSet<Date>, CalendarError> {
            v.iter().map(|s| parse_date(s).map_err(|p| CalendarError::Invalid { year: f.year, problem: p })).collect()
        };
        let y = YearData {
            year: f.year,
            rest_days: parse_all(&f.rest_days)?,
            makeup_workdays: parse_all(&f.makeup_workdays)?,
        };
        y.check()?;
        Ok(y)
    }

    /// The rules a year's data keeps: dates inside the year, make-up days on weekends, no date in both lists.
    pub fn check(&self) -> Result<(), CalendarError> {
        let bad = |problem: String| Err(CalendarError::Invalid { year: self.year, problem });
        if !(1949..=2200).contains(&self.year) {
            return bad("year out of range".into());
        }
        for d in self.rest_days.iter().chain(&self.makeup_workdays) {
            if d.year() != self.year {
                return bad(format!("{} is not in {}", format_date(*d), self.year));
            }
        }
        for d in &self.makeup_workdays {
            if !is_weekend(*d) {
                return bad(format!("make-up working day {} is not a Saturday or Sunday", format_date(*d)));
            }
            if self.rest_days.contains(d) {
                return bad(format!("{} is both a rest day and a make-up working day", format_date(*d)));
            }
        }
        Ok(())
    }

    /// Render as the data-file format.
    pub fn to_toml(&self) -> String {
        let list =
            |s: &BTreeSet<Date>| s.iter().map(|d| format!("\"{}\"", format_date(*d))).collect::<Vec<_>>().join(", ");
        format!(
            "year = {}\nrest_days = [{}]\nmakeup_workdays = [{}]\n",
            self.year,
            list(&self.rest_days),
            list(&self.makeup_workdays)
        )
    }
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The calendar: the years for which official data exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, YearData>,
}

impl Calendar {
    pub fn new(years: impl IntoIterator<Item = YearData>) -> Calendar {
        Calendar { years: years.into_iter().map(|y| (y.year, y)).collect() }
    }

    /// Add or replace one year.
    pub fn insert(&mut self, y: YearData) {
        self.years.insert(y.year, y);
    }

    pub fn years(&self) -> impl Iterator<Item = &YearData> {
        self.years.values()
    }

    pub fn year(&self, year: i32) -> Option<&YearData> {
        self.years.get(&year)
    }

    /// The data a date is counted with: the official year, else the provisional one.
    fn data_for(&self, year: i32) -> Result<&YearData, CalendarError> {
        self.years.get(&year).or_else(|| provisional::year(year)).ok_or(CalendarError::YearNotCovered(year))
    }

    pub fn is_workday(&self, d: Date) -> Result<bool, CalendarError> {
        let y = self.data_for(d.year())?;
        Ok(y.makeup_workdays.contains(&d) || (!is_weekend(d) && !y.rest_days.contains(&d)))
    }

    /// Whether a year is counted with a provisional calendar (no official notice published for it).
    pub fn is_provisional(&self, year: i32) -> bool {
        !self.years.contains_key(&year) && provisional::year(year).is_some()
    }

    /// Whether counting from `from` to `to` (either order) touches a provisional year: a deadline computed over
    /// such a span is a planned date (计划日期), subject to the State Council's notice.
    pub fn provisional_between(&self, from: Date, to: Date) -> bool {
        let (a, b) = if from <= to { (from.year(), to.year()) } else { (to.year(), from.year()) };
        (a..=b).any(|y| self.is_provisional(y))
    }

    /// The provisional data of a year that has no official notice (None when the year is official or uncovered).
    pub fn provisional_year(&self, year: i32) -> Option<&YearData> {
        if self.years.contains_key(&year) {
            None
        } else {
            provisional::year(year)
        }
    }

    /// The first year from `from` on that is provisional, if any up to the end of the rules' table.
    pub fn first_provisional_year(&self, from: i32) -> Option<i32> {
        (from..=provisional::LAST_YEAR).find(|y| self.is_provisional(*y))
    }

    /// The n-th working day strictly after `start` (the start day is never counted; 行政许可法 §82 practice).
    /// For n = 0, the first working day on or after `start`.
    pub fn add_working_days(&self, start: Date, n: u32) -> Result<Date, CalendarError> {
        let mut d = start;
        if n == 0 {
            while !self.is_workday(d)? {
                d = next(d)?;
            }
            return Ok(d);
        }
        let mut left = n;
        while left > 0 {
            d = next(d)?;
            if self.is_workday(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// Working days in the half-open range (from, to]: how many working days have passed since `from` by the end
    /// of `to`. Zero when `to <= from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = next(d)?;
            if self.is_workday(d)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

fn next(d: Date) -> Result<Date, CalendarError> {
    d.checked_add(Duration::days(1)).ok_or(CalendarError::YearNotCovered(d.year() + 1))
}

/// Calendar data for unit tests of this crate: 2025 and 2026 from the official notices.
/// The events of the calendar's stream (`calendar`); the stored `type` is the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CalendarEvent {
    /// An administrator published a year (its TOML text in `data`).
    #[serde(rename = "calendar_year_published")]
    YearPublished { year: i64, data: String },
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn cal() -> Calendar {
        let y2025 = YearData::from_toml(
            r#"year = 2025
rest_days = ["2025-01-01","2025-01-28","2025-01-29","2025-01-30","2025-01-31","2025-02-01","2025-02-02","2025-02-03","2025-02-04",
"2025-04-04","2025-04-05","2025-04-06","2025-05-01","2025-05-02","2025-05-03","2025-05-04","2025-05-05","2025-05-31","2025-06-01","2025-06-02",
"2025-10-01","2025-10-02","2025-10-03","2025-10-04","2025-10-05","2025-10-06","2025-10-07","2025-10-08"]
makeup_workdays = ["2025-01-26","2025-02-08","2025-04-27","2025-09-28","2025-10-11"]"#,
        )
        .unwrap();
        let y2026 = YearData::from_toml(
            r#"year = 2026
rest_days = ["2026-01-01","2026-01-02","2026-01-03","2026-02-15","2026-02-16","2026-02-17","2026-02-18","2026-02-19","2026-02-20","2026-02-21",
"2026-02-22","2026-02-23","2026-04-04","2026-04-05","2026-04-06","2026-05-01","2026-05-02","2026-05-03","2026-05-04","2026-05-05",
"2026-06-19","2026-06-20","2026-06-21","2026-09-25","2026-09-26","2026-09-27","2026-10-01","2026-10-02","2026-10-03","2026-10-04",
"2026-10-05","2026-10-06","2026-10-07"]
makeup_workdays = ["2026-01-04","2026-02-14","2026-02-28","2026-05-09","2026-09-20","2026-10-10"]"#,
        )
        .unwrap();
        Calendar::new([y2025, y2026])
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::cal as cal_2025_2026;
    use super::*;
    use time::macros::date;

    #[test]
    fn workdays_table() {
        let c = cal_2025_2026();
        let cases = [
            (date!(2026 - 02 - 14), true),  // Saturday, make-up working day
            (date!(2026 - 02 - 16), false), // Monday in the Spring Festival
            (date!(2025 - 09 - 28), true),  // Sunday make-up
            (date!(2025 - 10 - 08), false), // Wednesday, National Day
            (date!(2025 - 10 - 09), true),
            (date!(2025 - 10 - 12), false), // ordinary Sunday
            (date!(2026 - 01 - 02), false),
        ];
        for (d, want) in cases {
            assert_eq!(c.is_workday(d), Ok(want), "{d}");
        }
    }

    #[test]
    fn deadlines_table() {
        let c = cal_2025_2026();
        let cases = [
            // The worked example of STANDARDS.md: accepted Fri 2025-09-26, 20 working days.
            (date!(2025 - 09 - 26), 20, date!(2025 - 10 - 30)),
            (date!(2025 - 09 - 26), 1, date!(2025 - 09 - 28)), // Sunday make-up day counts
            (date!(2026 - 02 - 13), 1, date!(2026 - 02 - 14)),
            (date!(2026 - 02 - 14), 1, date!(2026 - 02 - 24)), // across the Spring Festival
            (date!(2025 - 12 - 31), 1, date!(2026 - 01 - 04)), // across the year end onto a make-up Sunday
            (date!(2026 - 10 - 03), 0, date!(2026 - 10 - 08)),
        ];
        for (start, n, want) in cases {
            assert_eq!(c.add_working_days(start, n), Ok(want), "{start} + {n}");
        }
    }

    #[test]
    fn years_without_a_notice_are_provisional_until_published() {
        let mut c = cal_2025_2026();
        // 2027: the Spring Festival is Saturday 02-06, eve Friday 02-05; statutory days 02-05…02-08.
        assert_eq!(c.is_workday(date!(2027 - 02 - 08)), Ok(false));
        assert_eq!(c.is_workday(date!(2027 - 02 - 09)), Ok(true));
        assert!(c.is_provisional(2027) && !c.is_provisional(2026));
        assert_eq!(c.add_working_days(date!(2026 - 12 - 07), 20), Ok(date!(2027 - 01 - 05)));
        assert!(c.provisional_between(date!(2026 - 12 - 07), date!(2027 - 01 - 05)));
        assert!(!c.provisional_between(date!(2026 - 12 - 07), date!(2026 - 12 - 31)));
        // Years before the amended rules are never guessed, nor years past the lunar table.
        assert_eq!(c.is_workday(date!(2024 - 05 - 06)), Err(CalendarError::YearNotCovered(2024)));
        assert_eq!(c.is_workday(date!(2101 - 01 - 03)), Err(CalendarError::YearNotCovered(2101)));
        // Publishing the official year replaces the provisional one.
        let official = YearData::from_toml(
            "year = 2027\nrest_days = [\"2027-02-05\", \"2027-02-10\"]\nmakeup_workdays = [\"2027-02-20\"]",
        )
        .unwrap();
        c.insert(official);
        assert!(!c.is_provisional(2027));
        assert_eq!(c.is_workday(date!(2027 - 02 - 08)), Ok(true));
        assert_eq!(c.is_workday(date!(2027 - 02 - 20)), Ok(true));
        assert_eq!(c.first_provisional_year(2027), Some(2028));
    }

    #[test]
    fn a_twenty_day_limit_ends_for_every_year_to_2099() {
        let c = cal_2025_2026();
        for y in 2026..=2099 {
            let start = Date::from_calendar_date(y, time::Month::December, 20).unwrap();
            let d = c.add_working_days(start, 20).unwrap();
            assert_eq!(c.working_days_between(start, d), Ok(20), "{start}");
            assert!(d.year() == y + 1 && d.month() == time::Month::January, "{start} → {d}");
        }
    }

    #[test]
    fn working_days_between_counts_after_start() {
        let c = cal_2025_2026();
        assert_eq!(c.working_days_between(date!(2025 - 09 - 26), date!(2025 - 10 - 30)), Ok(20));
        assert_eq!(c.working_days_between(date!(2025 - 09 - 26), date!(2025 - 09 - 26)), Ok(0));
        assert_eq!(c.working_days_between(date!(2025 - 10 - 30), date!(2025 - 09 - 26)), Ok(0));
    }

    #[test]
    fn bad_year_files_are_refused() {
        let e = YearData::from_toml("year = 2026\nrest_days = []\nmakeup_workdays = [\"2026-02-16\"]").unwrap_err();
        assert!(e.to_string().contains("not a Saturday or Sunday"), "{e}");
        let e = YearData::from_toml("year = 2026\nrest_days = [\"2025-01-01\"]\nmakeup_workdays = []").unwrap_err();
        assert!(e.to_string().contains("not in 2026"), "{e}");
        assert!(YearData::from_toml("year = 2026\nrest_days = [\"2026-02-30\"]\nmakeup_workdays = []").is_err());
    }
}
