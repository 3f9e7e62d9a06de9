//! The rows the leaders' dashboard reads.

use crate::ops::Db;
use crate::sql::{Row, Val};
use crate::StoreError;

impl Db {
    /// The dashboard's rows: cases submitted or finished since `since_ms`, and every open case (through the
    /// submitted, finished and status indexes).
    pub fn dashboard_rows(&mut self, since_ms: i64) -> Result<Vec<DashboardRow>, StoreError> {
        let cols = "case_no, subject_code, department, channel, service_point, status, submitted_at_ms, finished_at_ms, deadline";
        let mut out: std::collections::BTreeMap<String, DashboardRow> = std::collections::BTreeMap::new();
        for sql in [
            format!("SELECT {cols} FROM cases WHERE submitted_at_ms >= $1"),
            format!("SELECT {cols} FROM cases WHERE finished_at_ms >= $1"),
        ] {
            for r in self.sql.query(&sql, &[Val::Int(since_ms)])? {
                let row = dashboard_from(&r)?;
                out.insert(row.case_no.clone(), row);
            }
        }
        for status in ["submitted", "awaiting_correction", "in_progress", "suspended"] {
            for r in self.sql.query(&format!("SELECT {cols} FROM cases WHERE status = $1"), &[status.into()])? {
                let row = dashboard_from(&r)?;
                out.insert(row.case_no.clone(), row);
            }
        }
        Ok(out.into_values().collect())
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
