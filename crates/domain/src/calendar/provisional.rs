//! Provisional years: the statutory holidays of 全国年节及纪念日放假办法 (as amended by State Council Decree No. 795,
//! in force from 2025) for a year whose official notice has not been published.
//!
//! The statutory rest days are New Year's Day (1 Jan), the Spring Festival (the eve and the 1st–3rd of the first
//! lunar month), Qingming (the day of the solar term), Labour Day (1–2 May), the Dragon Boat Festival (5th of the
//! fifth lunar month), Mid-Autumn (15th of the eighth lunar month) and National Day (1–3 Oct). Weekends are rest
//! days by the ordinary rule. No make-up working day (调休) is guessed: those exist only in a notice.
//!
//! The lunar dates and the Qingming term come from `data/calendar/lunar-festivals.tsv`, generated once by
//! `tools/gen_lunar_table.py` from one Python implementation and cross-checked there against another; the oracle
//! test `tests/oracle/provisional_oracle.py` checks the derived working days against two more. A table rather than
//! an astronomical computation here: the dates are fixed facts, 200 lines of data are easier to review than an
//! ephemeris, and no well-kept Rust crate covers both the lunisolar calendar and the solar terms.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use time::{Date, Month};

use super::{parse_date, YearData};

/// The first year the amended rules (with the Spring Festival eve and 2 May) apply to.
pub const FIRST_YEAR: i32 = 2025;
/// The last year of the lunar table.
pub const LAST_YEAR: i32 = 2100;

const TABLE: &str = include_str!("../../../../data/calendar/lunar-festivals.tsv");

/// One year's festival dates from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Festivals {
    pub spring_festival: Date,
    pub qingming: Date,
    pub dragon_boat: Date,
    pub mid_autumn: Date,
}

/// Parse the table: `year<TAB>spring_festival<TAB>qingming<TAB>dragon_boat<TAB>mid_autumn`, `#` comments. A line
/// that does not parse, or whose dates are not in its year, is left out (and the year is then not covered, which
/// the unit tests would catch: every year of the range must be there).
fn parse_table(text: &str) -> BTreeMap<i32, Festivals> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [y, sf, qm, db, ma] = cols[..] else { continue };
        let Ok(year) = y.parse::<i32>() else { continue };
        let (Ok(spring_festival), Ok(qingming), Ok(dragon_boat), Ok(mid_autumn)) =
            (parse_date(sf), parse_date(qm), parse_date(db), parse_date(ma))
        else {
            continue;
        };
        let f = Festivals { spring_festival, qingming, dragon_boat, mid_autumn };
        if [spring_festival, qingming, dragon_boat, mid_autumn].iter().all(|d| d.year() == year) {
            out.insert(year, f);
        }
    }
    out
}

fn festivals() -> &'static BTreeMap<i32, Festivals> {
    static T: OnceLock<BTreeMap<i32, Festivals>> = OnceLock::new();
    T.get_or_init(|| parse_table(TABLE))
}

/// The festival dates of a year, if the table has it.
pub fn festivals_of(year: i32) -> Option<Festivals> {
    festivals().get(&year).copied()
}

fn ymd(year: i32, month: Month, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, month, day).ok()
}

/// The statutory rest days of a year under the amended rules.
pub fn statutory_rest_days(year: i32) -> Option<BTreeSet<Date>> {
    let f = festivals_of(year)?;
    let mut days = BTreeSet::new();
    for (m, d) in [(Month::January, 1), (Month::May, 1), (Month::May, 2)] {
        days.insert(ymd(year, m, d)?);
    }
    for d in 1..=3 {
        days.insert(ymd(year, Month::October, d)?);
    }
    // The eve is the day before the first of the first month, whatever the length of the twelfth month.
    days.insert(f.spring_festival.previous_day()?);
    let mut d = f.spring_festival;
    for _ in 0..3 {
        days.insert(d);
        d = d.next_day()?;
    }
    days.extend([f.qingming, f.dragon_boat, f.mid_autumn]);
    // The eve of a Spring Festival on 1 January would fall in the year before; the table never has one (the
    // festival is between 21 January and 20 February), but keep the year's data inside its year regardless.
    days.retain(|d| d.year() == year);
    Some(days)
}

fn derive(year: i32) -> Option<YearData> {
    let y = YearData { year, rest_days: statutory_rest_days(year)?, makeup_workdays: BTreeSet::new() };
    y.check().ok()?;
    Some(y)
}

/// The provisional data of a year in FIRST_YEAR..=LAST_YEAR, derived once.
pub fn year(year: i32) -> Option<&'static YearData> {
    static Y: OnceLock<BTreeMap<i32, YearData>> = OnceLock::new();
    Y.get_or_init(|| (FIRST_YEAR..=LAST_YEAR).filter_map(derive).map(|y| (y.year, y)).collect()).get(&year)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn every_year_of_the_range_is_in_the_table() {
        for y in 1901..=LAST_YEAR {
            let f = festivals_of(y).unwrap_or_else(|| panic!("{y} missing from the lunar table"));
            // The festivals' Gregorian windows (independent of any lunar computation).
            assert!((date!(2000 - 01 - 21).replace_year(y).unwrap()..=date!(2000 - 02 - 20).replace_year(y).unwrap())
                .contains(&f.spring_festival));
            assert!([4, 5, 6].contains(&f.qingming.day()) && f.qingming.month() == Month::April, "{y} {f:?}");
            assert!(f.dragon_boat.month() == Month::May || f.dragon_boat.month() == Month::June, "{y}");
            assert!(f.mid_autumn.month() == Month::September || f.mid_autumn.month() == Month::October, "{y}");
        }
        for y in FIRST_YEAR..=LAST_YEAR {
            assert!(year(y).is_some(), "{y}");
        }
        assert!(year(FIRST_YEAR - 1).is_none() && year(LAST_YEAR + 1).is_none());
    }

    #[test]
    fn statutory_days_agree_with_the_official_notices_of_2025_and_2026() {
        // Every statutory day must be inside the notice's rest days (the notices add bridging days around them).
        for text in
            [include_str!("../../../../data/calendar/2025.toml"), include_str!("../../../../data/calendar/2026.toml")]
        {
            let official = YearData::from_toml(text).unwrap();
            let derived = statutory_rest_days(official.year).unwrap();
            assert_eq!(derived.len(), 13, "{}", official.year);
            for d in derived {
                assert!(official.rest_days.contains(&d), "{d} is statutory but not in the {} notice", official.year);
            }
        }
    }

    #[test]
    fn year_2027_from_the_rules() {
        let y = year(2027).unwrap();
        let want = [
            date!(2027 - 01 - 01),
            date!(2027 - 02 - 05), // eve (Friday)
            date!(2027 - 02 - 06),
            date!(2027 - 02 - 07),
            date!(2027 - 02 - 08),
            date!(2027 - 04 - 05), // Qingming
            date!(2027 - 05 - 01),
            date!(2027 - 05 - 02),
            date!(2027 - 06 - 09), // Dragon Boat
            date!(2027 - 09 - 15), // Mid-Autumn
            date!(2027 - 10 - 01),
            date!(2027 - 10 - 02),
            date!(2027 - 10 - 03),
        ];
        assert_eq!(y.rest_days.iter().copied().collect::<Vec<_>>(), want);
        assert!(y.makeup_workdays.is_empty());
    }

    #[test]
    fn bad_lines_are_left_out() {
        let t = parse_table("# c\n2030\t2030-02-03\t2030-04-05\t2030-06-05\t2030-09-12\n2031\tx\t\t\t\n2032\t2031-02-11\t2032-04-04\t2032-06-03\t2032-09-19\n");
        assert_eq!(t.keys().copied().collect::<Vec<_>>(), vec![2030]);
    }
}
