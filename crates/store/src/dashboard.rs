//! The rows the leaders' dashboard reads.

use crate::ops::Db;
use crate::sql::{Row, Val};
use crate::StoreError;

impl Db {
    /// The dashboard's rows: cases submitted or finished since `since_ms` (through the submitted and finished
    /// indexes; open cases older than that are counted by [`Db::overdue_by_department`] without being read).
    pub fn dashboard_rows(&mut self, since_ms: i64) -> Result<Vec<DashboardRow>, StoreError> {
        let cols = "case_no, subject_code, department, channel, service_point, status, submitted_at_ms, finished_at_ms, deadline";
        // One statement; both backends answer the OR through the two indexes (SQLite's OR optimisation, a
        // PostgreSQL BitmapOr), so each row is read once.
        let rows = self.sql.query(
            &format!("SELECT {cols} FROM cases WHERE submitted_at_ms >= $1 OR finished_at_ms >= $1"),
            &[Val::Int(since_ms)],
        )?;
        rows.iter().map(dashboard_from).collect()
    }

    /// Open cases whose deadline day is before `today`, per department (through the status/deadline index).
    pub fn overdue_by_department(&mut self, today: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT department, COUNT(*) FROM cases WHERE status IN ('submitted', 'awaiting_correction', 'in_progress', 'suspended') \
             AND deadline < $1 GROUP BY department ORDER BY department",
            &[today.into()],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }
}

/// One case as the dashboard reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardRow {
    pub case_no: String,
    pub subject_code: String,
    pub department: String,
    pub channel: String,
    pub service_point: String,
    pub status: String,
    pub submitted_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub deadline: Option<String>,
}

fn dashboard_from(r: &Row) -> Result<DashboardRow, StoreError> {
    Ok(DashboardRow {
        case_no: r.text(0)?,
        subject_code: r.text(1)?,
        department: r.text(2)?,
        channel: r.text(3)?,
        service_point: r.text(4)?,
        status: r.text(5)?,
        submitted_at_ms: r.int(6)?,
        finished_at_ms: r.opt_int(7)?,
        deadline: r.opt_text(8)?,
    })
}
