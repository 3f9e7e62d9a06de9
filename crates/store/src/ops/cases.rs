//! Case and task projections, lists and inboxes; catalog versions and calendar years.

use super::*;

impl Db {
    /// Write the projection of one case: its row and its open tasks.
    pub fn put_case(&mut self, row: &CaseRow, tasks: &[TaskRow]) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO cases ({CASE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (case_no) DO UPDATE SET status = excluded.status, accepted_at_ms = excluded.accepted_at_ms, \
             finished_at_ms = excluded.finished_at_ms, deadline = excluded.deadline, version = excluded.version, state = excluded.state, \
             applicant_index = excluded.applicant_index"
        );
        self.sql.exec(
            &sql,
            &[
                row.case_no.as_str().into(),
                row.subject_kind.as_str().into(),
                row.subject_code.as_str().into(),
                Val::Int(row.subject_version),
                row.title.as_str().into(),
                row.department.as_str().into(),
                row.channel.as_str().into(),
                row.service_point.as_str().into(),
                row.status.as_str().into(),
                row.applicant_account.clone().into(),
                Val::Int(row.submitted_at_ms),
                row.accepted_at_ms.into(),
                row.finished_at_ms.into(),
                row.deadline.clone().into(),
                Val::Int(row.version),
                row.state.as_str().into(),
                row.applicant_index.clone().into(),
            ],
        )?;
        if self.backend() == Backend::Sqlite {
            return self.put_tasks_diff(&row.case_no, tasks);
        }
        // PostgreSQL: replace the case's open tasks in two statements whatever changed.
        self.sql.exec("DELETE FROM tasks WHERE case_no = $1", &[row.case_no.as_str().into()])?;
        if tasks.is_empty() {
            return Ok(());
        }
        let mut params: Vec<Val> = Vec::with_capacity(tasks.len() * 10);
        let mut values = Vec::with_capacity(tasks.len());
        for t in tasks {
            let n = params.len();
            values.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7,
                n + 8,
                n + 9,
                n + 10
            ));
            params.extend([
                t.case_no.as_str().into(),
                t.task_id.as_str().into(),
                t.step_id.as_str().into(),
                t.step_name.as_str().into(),
                t.title.as_str().into(),
                t.role.as_str().into(),
                t.department.clone().into(),
                t.assignee.clone().into(),
                t.due.clone().into(),
                Val::Int(t.created_at_ms),
            ]);
        }
        self.sql.exec(&format!("INSERT INTO tasks ({TASK_COLS}) VALUES {}", values.join(", ")), &params)?;
        Ok(())
    }

    /// SQLite: touch only the tasks that changed (statements are in-process and cheap; index churn is not).
    pub(super) fn put_tasks_diff(&mut self, case_no: &str, tasks: &[TaskRow]) -> Result<(), StoreError> {
        let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE case_no = $1");
        let existing: Vec<TaskRow> =
            self.sql.query(&sql, &[case_no.into()])?.iter().map(task_from).collect::<Result<_, _>>()?;
        for old in &existing {
            if !tasks.iter().any(|t| t.task_id == old.task_id) {
                self.sql.exec(
                    "DELETE FROM tasks WHERE case_no = $1 AND task_id = $2",
                    &[case_no.into(), old.task_id.as_str().into()],
                )?;
            }
        }
        for t in tasks {
            if existing.iter().any(|o| o == t) {
                continue;
            }
            let sql = format!(
                "INSERT INTO tasks ({TASK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (case_no, task_id) DO UPDATE SET assignee = excluded.assignee, due = excluded.due"
            );
            self.sql.exec(
                &sql,
                &[
                    t.case_no.as_str().into(),
                    t.task_id.as_str().into(),
                    t.step_id.as_str().into(),
                    t.step_name.as_str().into(),
                    t.title.as_str().into(),
                    t.role.as_str().into(),
                    t.department.clone().into(),
                    t.assignee.clone().into(),
                    t.due.clone().into(),
                    Val::Int(t.created_at_ms),
                ],
            )?;
        }
        Ok(())
    }

    pub fn get_case(&mut self, case_no: &str) -> Result<Option<CaseRow>, StoreError> {
        let sql = format!("SELECT {CASE_COLS} FROM cases WHERE case_no = $1");
        self.sql.query(&sql, &[case_no.into()])?.first().map(case_from).transpose()
    }

    /// The rows of several cases in one statement per 500 (a subscriber's batch: one round trip instead of one per
    /// event on PostgreSQL), by case number; the ones that do not exist are absent.
    pub fn get_cases(&mut self, case_nos: &[&str]) -> Result<std::collections::HashMap<String, CaseRow>, StoreError> {
        let mut found = std::collections::HashMap::with_capacity(case_nos.len());
        for chunk in case_nos.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT {CASE_COLS} FROM cases WHERE case_no IN ({})", marks.join(", "));
            let params: Vec<Val> = chunk.iter().map(|c| (*c).into()).collect();
            for r in self.sql.query(&sql, &params)?.iter() {
                let row = case_from(r)?;
                found.insert(row.case_no.clone(), row);
            }
        }
        Ok(found)
    }

    /// A page of cases (newest first) and the total matching.
    pub fn list_cases(&mut self, f: &CaseFilter) -> Result<(Vec<CaseRow>, i64), StoreError> {
        let mut wh: Vec<String> = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        // Push a value and get its placeholder.
        fn ph(params: &mut Vec<Val>, v: Val) -> String {
            params.push(v);
            format!("${}", params.len())
        }
        for (col, v) in [
            ("status", &f.status),
            ("subject_code", &f.subject_code),
            ("department", &f.department),
            ("channel", &f.channel),
            ("applicant_index", &f.applicant_index),
        ] {
            if let Some(v) = v {
                let p = ph(&mut params, v.into());
                wh.push(format!("{col} = {p}"));
            }
        }
        if let Some(s) = &f.applicant_account {
            let mut ors = vec![format!("applicant_account = {}", ph(&mut params, s.into()))];
            for ix in &f.or_applicant_indexes {
                ors.push(format!("applicant_index = {}", ph(&mut params, ix.into())));
            }
            wh.push(format!("({})", ors.join(" OR ")));
        }
        if let Some(d) = &f.due_by {
            let p = ph(&mut params, d.into());
            wh.push(format!("deadline <= {p}"));
        }
        if let Some(d) = &f.overdue_on {
            let p = ph(&mut params, d.into());
            wh.push(format!("deadline < {p}"));
        }
        if f.due_by.is_some() || f.overdue_on.is_some() {
            wh.push("status IN ('in_progress', 'suspended')".into());
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM cases{where_sql}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(f.limit));
        params.push(Val::Int(f.offset));
        let sql = format!(
            "SELECT {CASE_COLS} FROM cases{where_sql} ORDER BY submitted_at_ms DESC, case_no DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = self.sql.query(&sql, &params)?.iter().map(case_from).collect::<Result<_, _>>()?;
        Ok((rows, total))
    }

    pub fn count_cases(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM cases", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    /// Open tasks of a work queue, most urgent first, and the total matching.
    pub fn work_queue(&mut self, f: &TaskFilter) -> Result<(Vec<TaskRow>, i64), StoreError> {
        let mut wh = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        if !f.roles.is_empty() {
            let mut ph = Vec::new();
            for r in &f.roles {
                params.push(r.into());
                ph.push(format!("${}", params.len()));
            }
            wh.push(format!("role IN ({})", ph.join(", ")));
        }
        if let Some(d) = &f.department {
            params.push(d.into());
            wh.push(format!("(department = ${} OR department IS NULL)", params.len()));
        }
        if let Some(a) = &f.assignee {
            params.push(a.into());
            wh.push(format!("assignee = ${}", params.len()));
        } else if f.unclaimed {
            wh.push("assignee IS NULL".into());
        }
        if let Some(d) = &f.due_by {
            params.push(d.into());
            wh.push(format!("due <= ${}", params.len()));
        }
        if let Some(d) = &f.overdue_on {
            params.push(d.into());
            wh.push(format!("due < ${}", params.len()));
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let count_sql = match f.count_limit {
            Some(cap) => format!("SELECT COUNT(*) FROM (SELECT 1 FROM tasks{where_sql} LIMIT {}) capped", cap.max(0)),
            None => format!("SELECT COUNT(*) FROM tasks{where_sql}"),
        };
        let total = self.sql.query(&count_sql, &params)?.first().map_or(Ok(0), |r| r.int(0))?;
        // The list, most urgent first (no due date last). A section's queue is read as a top-k merge: one ordered
        // walk of the tasks_pick index per (role, department-or-none) pair, each stopping after limit + offset
        // rows, then the few candidates sorted; so neither a big queue (100,000 open tasks) nor a small one in a
        // big table costs a sort of everything. One person's claimed tasks come by their own index.
        const ORDER: &str = "COALESCE(due, '9999-12-31'), created_at_ms, case_no, task_id";
        let sql = match (&f.department, f.assignee.is_none() && !f.roles.is_empty()) {
            (Some(dept), true) => {
                // Placeholders are numbered in the order they appear in the text: SQLite numbers `$N` names by
                // first appearance, so each part binds its own copies.
                let mut p2: Vec<Val> = Vec::new();
                let k = f.limit.max(0) + f.offset.max(0);
                let mut parts = Vec::new();
                for r in &f.roles {
                    for with_dept in [true, false] {
                        p2.push(r.into());
                        let mut conds = vec![format!("role = ${}", p2.len())];
                        if with_dept {
                            p2.push(dept.into());
                            conds.push(format!("department = ${}", p2.len()));
                        } else {
                            conds.push("department IS NULL".into());
                        }
                        if f.unclaimed {
                            conds.push("assignee IS NULL".into());
                        }
                        if let Some(d) = &f.due_by {
                            p2.push(d.into());
                            conds.push(format!("due <= ${}", p2.len()));
                        }
                        if let Some(d) = &f.overdue_on {
                            p2.push(d.into());
                            conds.push(format!("due < ${}", p2.len()));
                        }
                        parts.push(format!(
                            "SELECT * FROM (SELECT {TASK_COLS} FROM tasks WHERE {} ORDER BY {ORDER} LIMIT {k}) q{}",
                            conds.join(" AND "),
                            parts.len()
                        ));
                    }
                }
                p2.push(Val::Int(f.limit));
                p2.push(Val::Int(f.offset));
                let n = p2.len();
                params = p2;
                format!(
                    "SELECT {TASK_COLS} FROM ({}) merged ORDER BY {ORDER} LIMIT ${} OFFSET ${}",
                    parts.join(" UNION ALL "),
                    n - 1,
                    n
                )
            }
            _ => {
                let n = params.len();
                params.push(Val::Int(f.limit));
                params.push(Val::Int(f.offset));
                format!(
                    "SELECT {TASK_COLS} FROM tasks{where_sql} ORDER BY {order} LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2,
                    order = if f.assignee.is_some() {
                        "CASE WHEN due IS NULL THEN 1 ELSE 0 END, due, created_at_ms, case_no, task_id"
                    } else {
                        ORDER
                    }
                )
            }
        };
        let rows = self.sql.query(&sql, &params)?.iter().map(task_from).collect::<Result<_, _>>()?;
        Ok((rows, total))
    }

    pub fn put_catalog_version(&mut self, r: &CatalogRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO catalog_versions (kind, code, version, body, published_at_ms, published_by, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                r.kind.as_str().into(),
                r.code.as_str().into(),
                Val::Int(r.version),
                r.body.as_str().into(),
                Val::Int(r.published_at_ms),
                r.published_by.as_str().into(),
                r.reason.as_str().into(),
            ],
        )?;
        Ok(())
    }

    pub fn catalog_versions(&mut self) -> Result<Vec<CatalogRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT kind, code, version, body, published_at_ms, published_by, reason FROM catalog_versions ORDER BY kind, code, version",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(CatalogRow {
                    kind: r.text(0)?,
                    code: r.text(1)?,
                    version: r.int(2)?,
                    body: r.text(3)?,
                    published_at_ms: r.int(4)?,
                    published_by: r.text(5)?,
                    reason: r.text(6)?,
                })
            })
            .collect()
    }

    pub fn put_calendar_year(&mut self, year: i64, body: &str, at_ms: i64, by: &str) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO calendar_years (year, body, updated_at_ms, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (year) DO UPDATE SET body = excluded.body, updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by",
            &[Val::Int(year), body.into(), Val::Int(at_ms), by.into()],
        )?;
        Ok(())
    }

    /// Case numbers of running cases (in progress or suspended): those whose dates a calendar publication may move.
    pub fn running_cases(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .sql
            .query("SELECT case_no FROM cases WHERE status IN ('in_progress', 'suspended') ORDER BY case_no", &[])?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    pub fn calendar_years(&mut self) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = self.sql.query("SELECT year, body FROM calendar_years ORDER BY year", &[])?;
        rows.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect()
    }
}
