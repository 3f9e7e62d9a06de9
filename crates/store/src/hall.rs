//! Reads and writes of the hall: the service network document, appointments with the places taken per slot, and
//! queue numbers. All are projections (`PROJECTIONS`); the app's `hall` module writes them from events.

use crate::ops::Db;
use crate::sql::{Row, Val};
use crate::{Backend, StoreError};

/// An appointment's projection row. `name` and `phone` are sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentRow {
    pub code: String,
    pub point: String,
    pub item: String,
    pub date: String,
    pub slot: String,
    pub status: String,
    pub channel: String,
    pub account: Option<String>,
    pub holder_index: String,
    pub name: String,
    pub phone: String,
    pub booked_at_ms: i64,
    pub booked_by: String,
    pub reminded: bool,
    pub number: Option<String>,
    pub changed_at_ms: i64,
}

const APPT_COLS: &str = "code, point, item, date, slot, status, channel, account, holder_index, name, phone, \
                         booked_at_ms, booked_by, reminded, number, changed_at_ms";

fn appt(r: &Row) -> Result<AppointmentRow, StoreError> {
    Ok(AppointmentRow {
        code: r.text(0)?,
        point: r.text(1)?,
        item: r.text(2)?,
        date: r.text(3)?,
        slot: r.text(4)?,
        status: r.text(5)?,
        channel: r.text(6)?,
        account: r.opt_text(7)?,
        holder_index: r.text(8)?,
        name: r.text(9)?,
        phone: r.text(10)?,
        booked_at_ms: r.int(11)?,
        booked_by: r.text(12)?,
        reminded: r.int(13)? != 0,
        number: r.opt_text(14)?,
        changed_at_ms: r.int(15)?,
    })
}

/// A queue number's projection row; `state` is the JSON of `oneseal_domain::hall::QueueState`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub stream_id: String,
    pub point: String,
    pub date: String,
    pub number: String,
    pub status: String,
    pub window_no: Option<String>,
    pub changed_at_ms: i64,
    pub state: String,
}

const QUEUE_COLS: &str = "stream_id, point, date, number, status, window_no, changed_at_ms, state";

fn queue(r: &Row) -> Result<QueueRow, StoreError> {
    Ok(QueueRow {
        stream_id: r.text(0)?,
        point: r.text(1)?,
        date: r.text(2)?,
        number: r.text(3)?,
        status: r.text(4)?,
        window_no: r.opt_text(5)?,
        changed_at_ms: r.int(6)?,
        state: r.text(7)?,
    })
}

impl Db {
    pub fn put_network(&mut self, version: i64, body: &str, at_ms: i64, by: &str) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO service_network (version, body, published_at_ms, published_by) VALUES ($1, $2, $3, $4)",
            &[Val::Int(version), body.into(), Val::Int(at_ms), by.into()],
        )?;
        Ok(())
    }

    /// The newest network document: (version, body).
    pub fn network(&mut self) -> Result<Option<(i64, String)>, StoreError> {
        let rows = self.sql.query("SELECT version, body FROM service_network ORDER BY version DESC LIMIT 1", &[])?;
        rows.first().map(|r| Ok((r.int(0)?, r.text(1)?))).transpose()
    }

    pub fn put_appointment(&mut self, a: &AppointmentRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO appointments ({APPT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (code) DO UPDATE SET date = excluded.date, slot = excluded.slot, status = excluded.status, \
             reminded = excluded.reminded, number = excluded.number, changed_at_ms = excluded.changed_at_ms"
        );
        self.sql.exec(
            &sql,
            &[
                a.code.as_str().into(),
                a.point.as_str().into(),
                a.item.as_str().into(),
                a.date.as_str().into(),
                a.slot.as_str().into(),
                a.status.as_str().into(),
                a.channel.as_str().into(),
                a.account.clone().into(),
                a.holder_index.as_str().into(),
                a.name.as_str().into(),
                a.phone.as_str().into(),
                Val::Int(a.booked_at_ms),
                a.booked_by.as_str().into(),
                Val::Int(i64::from(a.reminded)),
                a.number.clone().into(),
                Val::Int(a.changed_at_ms),
            ],
        )?;
        Ok(())
    }

    pub fn appointment(&mut self, code: &str) -> Result<Option<AppointmentRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {APPT_COLS} FROM appointments WHERE code = $1"), &[code.into()])?;
        rows.first().map(appt).transpose()
    }

    /// An account's appointments from a date on, soonest first.
    pub fn appointments_of_account(&mut self, account: &str, from: &str) -> Result<Vec<AppointmentRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE account = $1 AND date >= $2 ORDER BY date, slot, code LIMIT 200"),
            &[account.into(), from.into()],
        )?;
        rows.iter().map(appt).collect()
    }

    /// The dates of a person's no-shows and the number of their open bookings.
    pub fn holder_record(&mut self, holder_index: &str) -> Result<(Vec<String>, i64), StoreError> {
        let rows = self.sql.query(
            "SELECT date, status FROM appointments WHERE holder_index = $1 AND status IN ('no_show', 'booked')",
            &[holder_index.into()],
        )?;
        let mut no_shows = Vec::new();
        let mut open = 0;
        for r in &rows {
            if r.text(1)? == "no_show" {
                no_shows.push(r.text(0)?);
            } else {
                open += 1;
            }
        }
        Ok((no_shows, open))
    }

    /// Booked appointments on or before a date (the no-show sweep filters by slot end), or on one date.
    pub fn booked_appointments(&mut self, until: &str, only_that_day: bool) -> Result<Vec<AppointmentRow>, StoreError> {
        let op = if only_that_day { "=" } else { "<=" };
        let rows = self.sql.query(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE status = 'booked' AND date {op} $1 ORDER BY date, slot, code LIMIT 5000"),
            &[until.into()],
        )?;
        rows.iter().map(appt).collect()
    }

    /// A point's appointments of a day, by slot.
    pub fn appointments_at(&mut self, point: &str, date: &str) -> Result<Vec<AppointmentRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE point = $1 AND date = $2 ORDER BY slot, code"),
            &[point.into(), date.into()],
        )?;
        rows.iter().map(appt).collect()
    }

    /// Appointments of a period (for the hall's numbers).
    pub fn appointments_between(&mut self, from: &str, to: &str) -> Result<Vec<AppointmentRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE date >= $1 AND date <= $2 ORDER BY date, slot, code"),
            &[from.into(), to.into()],
        )?;
        rows.iter().map(appt).collect()
    }

    /// The places taken in a slot for an item, locking the count until the transaction ends (PostgreSQL: the row
    /// lock serialises two bookings of the same slot across writers and nodes; SQLite has one writer).
    pub fn lock_slot(&mut self, point: &str, date: &str, slot: &str, item: &str) -> Result<i64, StoreError> {
        self.sql.exec(
            "INSERT INTO appointment_slots (point, date, slot, item, taken) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (point, date, slot, item) DO NOTHING",
            &[point.into(), date.into(), slot.into(), item.into()],
        )?;
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let rows = self.sql.query(
            &format!(
                "SELECT taken FROM appointment_slots WHERE point = $1 AND date = $2 AND slot = $3 AND item = $4{lock}"
            ),
            &[point.into(), date.into(), slot.into(), item.into()],
        )?;
        rows.first().map(|r| r.int(0)).transpose().map(|t| t.unwrap_or(0))
    }

    /// Add `delta` places taken to a slot's count.
    pub fn add_to_slot(
        &mut self,
        point: &str,
        date: &str,
        slot: &str,
        item: &str,
        delta: i64,
    ) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO appointment_slots (point, date, slot, item, taken) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (point, date, slot, item) DO UPDATE SET taken = appointment_slots.taken + excluded.taken",
            &[point.into(), date.into(), slot.into(), item.into(), Val::Int(delta)],
        )?;
        Ok(())
    }

    /// Places taken per slot of a day for an item.
    pub fn slots_taken(&mut self, point: &str, date: &str, item: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT slot, taken FROM appointment_slots WHERE point = $1 AND date = $2 AND item = $3 ORDER BY slot",
            &[point.into(), date.into(), item.into()],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }

    pub fn put_queue_number(&mut self, q: &QueueRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO queue_numbers ({QUEUE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (stream_id) DO UPDATE SET status = excluded.status, window_no = excluded.window_no, \
             changed_at_ms = excluded.changed_at_ms, state = excluded.state"
        );
        self.sql.exec(
            &sql,
            &[
                q.stream_id.as_str().into(),
                q.point.as_str().into(),
                q.date.as_str().into(),
                q.number.as_str().into(),
                q.status.as_str().into(),
                q.window_no.clone().into(),
                Val::Int(q.changed_at_ms),
                q.state.as_str().into(),
            ],
        )?;
        Ok(())
    }

    pub fn queue_number(&mut self, stream_id: &str) -> Result<Option<QueueRow>, StoreError> {
        let rows = self
            .sql
            .query(&format!("SELECT {QUEUE_COLS} FROM queue_numbers WHERE stream_id = $1"), &[stream_id.into()])?;
        rows.first().map(queue).transpose()
    }

    /// A point's numbers of a day; only the open ones (waiting, called, serving, skipped) unless `all`.
    pub fn queue_of(&mut self, point: &str, date: &str, all: bool) -> Result<Vec<QueueRow>, StoreError> {
        let open = if all { "" } else { " AND status <> 'done'" };
        let rows = self.sql.query(
            &format!("SELECT {QUEUE_COLS} FROM queue_numbers WHERE point = $1 AND date = $2{open} ORDER BY stream_id"),
            &[point.into(), date.into()],
        )?;
        rows.iter().map(queue).collect()
    }

    /// The newest change at a point (what a hall screen polls for).
    pub fn queue_changed(&mut self, point: &str) -> Result<i64, StoreError> {
        let rows = self
            .sql
            .query("SELECT COALESCE(MAX(changed_at_ms), 0) FROM queue_numbers WHERE point = $1", &[point.into()])?;
        rows.first().map(|r| r.int(0)).transpose().map(|t| t.unwrap_or(0))
    }

    /// Every number of a period (for the hall's numbers).
    pub fn queue_between(&mut self, from: &str, to: &str) -> Result<Vec<QueueRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {QUEUE_COLS} FROM queue_numbers WHERE date >= $1 AND date <= $2 ORDER BY stream_id"),
            &[from.into(), to.into()],
        )?;
        rows.iter().map(queue).collect()
    }
}

impl StoreError {
    /// A deadlock or serialisation failure (PostgreSQL 40P01, 40001): the job may be run again.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Db(m) if m.starts_with("40P01") || m.starts_with("40001"))
    }
}
