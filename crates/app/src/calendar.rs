//! The working-day calendar of the running system: the years shipped in data/calendar (compiled in) plus years
//! an administrator added (as `calendar_year_published` events, so no release is needed for next year's notice).

use std::sync::Arc;

use oneseal_domain::calendar::{Calendar, CalendarEvent, YearData};
use oneseal_domain::clock::local_date;

use crate::{ms, App, AppError};

/// The shipped years, 2004–2026, from data/calendar/*.toml.
pub const BUILTIN_YEARS: &[&str] = &[
    include_str!("../../../data/calendar/2004.toml"),
    include_str!("../../../data/calendar/2005.toml"),
    include_str!("../../../data/calendar/2006.toml"),
    include_str!("../../../data/calendar/2007.toml"),
    include_str!("../../../data/calendar/2008.toml"),
    include_str!("../../../data/calendar/2009.toml"),
    include_str!("../../../data/calendar/2010.toml"),
    include_str!("../../../data/calendar/2011.toml"),
    include_str!("../../../data/calendar/2012.toml"),
    include_str!("../../../data/calendar/2013.toml"),
    include_str!("../../../data/calendar/2014.toml"),
    include_str!("../../../data/calendar/2015.toml"),
    include_str!("../../../data/calendar/2016.toml"),
    include_str!("../../../data/calendar/2017.toml"),
    include_str!("../../../data/calendar/2018.toml"),
    include_str!("../../../data/calendar/2019.toml"),
    include_str!("../../../data/calendar/2020.toml"),
    include_str!("../../../data/calendar/2021.toml"),
    include_str!("../../../data/calendar/2022.toml"),
    include_str!("../../../data/calendar/2023.toml"),
    include_str!("../../../data/calendar/2024.toml"),
    include_str!("../../../data/calendar/2025.toml"),
    include_str!("../../../data/calendar/2026.toml"),
];

/// The stream that records calendar changes.
pub const CALENDAR_STREAM: &str = "calendar";

fn builtin() -> Result<Calendar, AppError> {
    let mut years = Vec::new();
    for text in BUILTIN_YEARS {
        years.push(YearData::from_toml(text)?);
    }
    Ok(Calendar::new(years))
}

impl App {
    /// Load the calendar: built-in years, then administrator-published years over them.
    pub fn reload_calendar_blocking(&self) -> Result<(), AppError> {
        let mut cal = builtin()?;
        let rows = self.store.read_blocking(|db| db.calendar_years())?;
        for (_, body) in rows {
            cal.insert(YearData::from_toml(&body)?);
        }
        self.set_calendar(cal);
        Ok(())
    }

    /// Publish (add or correct) one year's official data. The data is checked first; the change is an event, and
    /// in the same transaction every running case and open ticket whose dates were counted with the year's previous
    /// (provisional or official) calendar gets its dates recomputed as events (who, when, old → new).
    pub async fn publish_calendar_year(
        &self,
        actor: &str,
        text: &str,
        expected_year: Option<i32>,
    ) -> Result<Publication, AppError> {
        let y = YearData::from_toml(text)?;
        if let Some(e) = expected_year {
            if e != y.year {
                return Err(AppError::invalid(
                    "calendar_year_mismatch",
                    format!("the body is for {}, the address names {e}", y.year),
                ));
            }
        }
        let body = y.to_toml();
        let now = self.now();
        let actor = actor.to_string();
        let year = y.year;
        let event = CalendarEvent::YearPublished { year: i64::from(year), data: body };
        let old = self.calendar();
        let mut new = (*old).clone();
        new.insert(y.clone());
        let new = Arc::new(new);
        let app = self.clone();
        let (cal_new, cal_old) = (new.clone(), old.clone());
        let (cases_moved, tickets_moved) = self
            .store
            .write(move |db| -> Result<(Vec<String>, usize), AppError> {
                let e = crate::streams::record(db, CALENDAR_STREAM, &event, &actor, ms(now))?;
                project(db, &e)?;
                let cases = crate::cases::recompute_running_cases(&app, db, &cal_new, year, &actor, now)?;
                let tickets = crate::hotline::recompute_open_tickets(db, &cal_old, &cal_new, &actor, now)?;
                Ok((cases, tickets))
            })
            .await?;
        self.set_calendar((*new).clone());
        Ok(Publication { year: y, cases_recomputed: cases_moved, tickets_recomputed: tickets_moved })
    }

    /// From 1 November, the next year still without an official notice (a reminder for administrators and the
    /// dashboard), else None.
    pub fn provisional_reminder(&self) -> Option<i32> {
        let today = local_date(self.now());
        let next = today.year() + 1;
        (today.month() >= time::Month::November && self.calendar().is_provisional(next)).then_some(next)
    }
}

/// What publishing a year changed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Publication {
    #[serde(flatten)]
    pub year: YearData,
    /// Running cases whose dates moved (each got a `dates_recomputed` event).
    pub cases_recomputed: Vec<String>,
    /// Open tickets whose deadlines moved.
    pub tickets_recomputed: usize,
}

/// The calendar years projection after a published year (publishing and `rebuild` both call it).
pub(crate) fn project(db: &mut oneseal_store::Db, e: &oneseal_store::StoredEvent) -> Result<(), AppError> {
    let CalendarEvent::YearPublished { year, data } = crate::streams::decode(e)?;
    Ok(db.put_calendar_year(year, &data, e.at_ms, &e.actor)?)
}
