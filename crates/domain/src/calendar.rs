//! Working-day calendar: official rest days and make-up working days per year (国务院办公厅 annual notices).
//!
//! A date is a working day iff it is a make-up working day, or it is Monday–Friday and not a rest day.
//! A date in a year without data is an error, never a guess: the next year's notice arrives every November and an
//! administrator adds it as data.

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

    pub fn is_workday(&self, d: Date) -> Result<bool, CalendarError> {
        let y = self.years.get(&d.year()).ok_or(CalendarError::YearNotCovered(d.year()))?;
        Ok(y.makeup_workdays.contains(&d) || (!is_weekend(d) && !y.rest_days.contains(&d)))
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
    fn year_without_data_is_an_error() {
        let c = cal_2025_2026();
        assert_eq!(c.is_workday(date!(2027 - 01 - 04)), Err(CalendarError::YearNotCovered(2027)));
        assert_eq!(c.add_working_days(date!(2026 - 12 - 30), 5), Err(CalendarError::YearNotCovered(2027)));
        assert_eq!(c.is_workday(date!(2024 - 05 - 06)), Err(CalendarError::YearNotCovered(2024)));
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
