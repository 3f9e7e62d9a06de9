//! Supervision watch dates, alerts and urgings.

use super::*;

impl Db {
    /// Insert or replace a case's watch row.
    pub fn put_watch(&mut self, w: &WatchRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO supervision_watch ({WATCH_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (case_no) DO UPDATE SET department = excluded.department, title = excluded.title, \
                 step_name = excluded.step_name, assignee = excluded.assignee, deadline = excluded.deadline, \
                 yellow_on = excluded.yellow_on, red_on = excluded.red_on, stall_on = excluded.stall_on, \
                 pledge_due = excluded.pledge_due"
            ),
            &[
                w.case_no.as_str().into(),
                w.department.as_str().into(),
                w.title.as_str().into(),
                w.step_name.clone().into(),
                w.assignee.clone().into(),
                w.deadline.clone().into(),
                w.yellow_on.clone().into(),
                w.red_on.clone().into(),
                w.stall_on.clone().into(),
                w.pledge_due.clone().into(),
            ],
        )?;
        Ok(())
    }

    pub fn watch(&mut self, case_no: &str) -> Result<Option<WatchRow>, StoreError> {
        let rows = self
            .sql
            .query(&format!("SELECT {WATCH_COLS} FROM supervision_watch WHERE case_no = $1"), &[case_no.into()])?;
        rows.first().map(watch_from).transpose()
    }

    /// Watch rows whose `column` date (yellow_on, red_on, stall_on or pledge_due) is on or before `day`, oldest
    /// first, through that column's index.
    pub fn watch_due(&mut self, column: &str, day: &str, limit: i64) -> Result<Vec<WatchRow>, StoreError> {
        if !["yellow_on", "red_on", "stall_on", "pledge_due"].contains(&column) {
            return Err(StoreError::Constraint(format!("no watch column {column}")));
        }
        let rows = self.sql.query(
            &format!(
                "SELECT {WATCH_COLS} FROM supervision_watch WHERE {column} <= $1 ORDER BY {column}, case_no LIMIT $2"
            ),
            &[day.into(), Val::Int(limit)],
        )?;
        rows.iter().map(watch_from).collect()
    }

    /// Clear a watch date once its alert is raised.
    pub fn clear_watch(&mut self, case_no: &str, column: &str) -> Result<(), StoreError> {
        if !["yellow_on", "red_on", "stall_on", "pledge_due"].contains(&column) {
            return Err(StoreError::Constraint(format!("no watch column {column}")));
        }
        self.sql
            .exec(&format!("UPDATE supervision_watch SET {column} = NULL WHERE case_no = $1"), &[case_no.into()])?;
        Ok(())
    }

    pub fn put_alert(&mut self, a: &AlertRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO alerts ({ALERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_at_ms = excluded.closed_at_ms, \
                 closed_by = excluded.closed_by, note = excluded.note"
            ),
            &alert_params(a),
        )?;
        Ok(())
    }

    /// Write many new alerts (multi-row statements).
    pub fn put_alerts(&mut self, alerts: &[AlertRow]) -> Result<(), StoreError> {
        if self.backend() == Backend::Sqlite {
            for a in alerts {
                self.put_alert(a)?;
            }
            return Ok(());
        }
        for chunk in alerts.chunks(1000) {
            let mut params: Vec<Val> = Vec::with_capacity(chunk.len() * ALERT_WIDTH);
            let mut rows = Vec::with_capacity(chunk.len());
            for a in chunk {
                let n = params.len();
                rows.push(format!(
                    "({})",
                    (1..=ALERT_WIDTH).map(|i| format!("${}", n + i)).collect::<Vec<_>>().join(", ")
                ));
                params.extend(alert_params(a));
            }
            self.sql.exec(
                &format!("INSERT INTO alerts ({ALERT_COLS}) VALUES {} ON CONFLICT (id) DO NOTHING", rows.join(", ")),
                &params,
            )?;
        }
        Ok(())
    }

    /// Clear one watch date of many cases.
    pub fn clear_watch_many(&mut self, case_nos: &[String], column: &str) -> Result<(), StoreError> {
        if !["yellow_on", "red_on", "stall_on", "pledge_due"].contains(&column) {
            return Err(StoreError::Constraint(format!("no watch column {column}")));
        }
        for chunk in case_nos.chunks(1000) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let params: Vec<Val> = chunk.iter().map(|c| c.as_str().into()).collect();
            self.sql.exec(
                &format!("UPDATE supervision_watch SET {column} = NULL WHERE case_no IN ({})", marks.join(", ")),
                &params,
            )?;
        }
        Ok(())
    }

    pub fn alert(&mut self, id: &str) -> Result<Option<AlertRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1"), &[id.into()])?;
        rows.first().map(alert_from).transpose()
    }

    /// Alerts, newest first, and how many match.
    pub fn alerts(&mut self, f: &AlertFilter) -> Result<(Vec<AlertRow>, i64), StoreError> {
        let mut wh = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        for (col, v) in [
            ("status", &f.status),
            ("department", &f.department),
            ("kind", &f.kind),
            ("case_no", &f.case_no),
            ("project_code", &f.project_code),
        ] {
            if let Some(v) = v {
                params.push(v.into());
                wh.push(format!("{col} = ${}", params.len()));
            }
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM alerts{where_sql}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(f.limit));
        params.push(Val::Int(f.offset));
        let rows = self.sql.query(
            &format!(
                "SELECT {ALERT_COLS} FROM alerts{where_sql} ORDER BY raised_at_ms DESC, id LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params,
        )?;
        Ok((rows.iter().map(alert_from).collect::<Result<_, _>>()?, total))
    }

    /// Open alerts per department and kind: (department, kind, count).
    pub fn alert_counts(&mut self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT department, kind, COUNT(*) FROM alerts WHERE status = 'open' GROUP BY department, kind ORDER BY department, kind",
            &[],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.int(2)?))).collect()
    }

    pub fn put_urging(&mut self, u: &UrgingRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO urgings ({URGING_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, escalated = excluded.escalated, reply = excluded.reply, \
                 replied_by = excluded.replied_by, replied_at_ms = excluded.replied_at_ms, closed_note = excluded.closed_note"
            ),
            &[
                u.id.as_str().into(),
                u.case_no.as_str().into(),
                u.alert_id.clone().into(),
                u.department.as_str().into(),
                u.person.clone().into(),
                u.message.as_str().into(),
                u.due.as_str().into(),
                u.status.as_str().into(),
                Val::Int(i64::from(u.escalated)),
                u.issued_by.as_str().into(),
                Val::Int(u.issued_at_ms),
                u.reply.clone().into(),
                u.replied_by.clone().into(),
                u.replied_at_ms.into(),
                u.closed_note.clone().into(),
            ],
        )?;
        Ok(())
    }

    pub fn urging(&mut self, id: &str) -> Result<Option<UrgingRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {URGING_COLS} FROM urgings WHERE id = $1"), &[id.into()])?;
        rows.first().map(urging_from).transpose()
    }

    /// Urgings, newest first: all, or one department's.
    pub fn urgings(&mut self, department: Option<&str>, limit: i64) -> Result<Vec<UrgingRow>, StoreError> {
        let rows = match department {
            Some(d) => self.sql.query(
                &format!(
                    "SELECT {URGING_COLS} FROM urgings WHERE department = $1 ORDER BY issued_at_ms DESC, id LIMIT $2"
                ),
                &[d.into(), Val::Int(limit)],
            )?,
            None => self.sql.query(
                &format!("SELECT {URGING_COLS} FROM urgings ORDER BY issued_at_ms DESC, id LIMIT $1"),
                &[Val::Int(limit)],
            )?,
        };
        rows.iter().map(urging_from).collect()
    }

    /// Open urgings past their date that have not been escalated yet (through the status/due index).
    pub fn urgings_overdue(&mut self, today: &str, limit: i64) -> Result<Vec<UrgingRow>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {URGING_COLS} FROM urgings WHERE status = 'open' AND escalated = 0 AND due < $1 ORDER BY due, id LIMIT $2"
            ),
            &[today.into(), Val::Int(limit)],
        )?;
        rows.iter().map(urging_from).collect()
    }

    /// Active accounts with a role (and, if given, of a department).
    pub fn accounts_with_role(&mut self, role: &str, department: Option<&str>) -> Result<Vec<String>, StoreError> {
        let rows = self
            .sql
            .query("SELECT username, roles, department FROM accounts WHERE active <> 0 ORDER BY username", &[])?;
        let mut out = Vec::new();
        for r in &rows {
            let (u, roles, d) = (r.text(0)?, r.text(1)?, r.opt_text(2)?);
            if roles.split(',').any(|x| x == role) && department.is_none_or(|want| d.as_deref() == Some(want)) {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// The active accounts holding a role that are posted to a service point (their staff post), by name.
    pub fn accounts_posted_at(&mut self, role: &str, service_point: &str) -> Result<Vec<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, roles FROM accounts WHERE active <> 0 AND service_point = $1 ORDER BY username",
            &[service_point.into()],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            let (u, roles) = (r.text(0)?, r.text(1)?);
            if roles.split(',').any(|x| x == role) {
                out.push(u);
            }
        }
        Ok(out)
    }
}
