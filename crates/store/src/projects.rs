//! Reads and writes of construction projects (工程建设项目): the projects projection — one row per project with
//! its folded state — the assistants (代办员) each project authorised, by which an assistant finds their
//! projects, the parts of each project's combined evaluation (多评合一), by which a reviewing department finds its
//! projects, the cases each project started (`project_cases`), and electronic supervision's watch row per project
//! (`project_watch`: the dates its clocks turn yellow and red).

use crate::ops::Db;
use crate::sql::{Row, Val};
use crate::StoreError;

/// A project, projected from its stream `project-{code}`. `state` is the folded state as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub code: String,
    pub name: String,
    pub project_type: String,
    pub owner_account: String,
    pub owner_uscc: String,
    pub registered_at_ms: i64,
    pub version: i64,
    pub state: String,
    pub updated_at_ms: i64,
}

const COLS: &str =
    "code, name, project_type, owner_account, owner_uscc, registered_at_ms, version, state, updated_at_ms";

fn from_row(r: &Row) -> Result<ProjectRow, StoreError> {
    Ok(ProjectRow {
        code: r.text(0)?,
        name: r.text(1)?,
        project_type: r.text(2)?,
        owner_account: r.text(3)?,
        owner_uscc: r.text(4)?,
        registered_at_ms: r.int(5)?,
        version: r.int(6)?,
        state: r.text(7)?,
        updated_at_ms: r.int(8)?,
    })
}

/// A project as electronic supervision watches it: the dates its running clocks turn yellow and red, those
/// already raised left out (`dues`: JSON `[{span, level, on}]`), and the earliest of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectWatchRow {
    pub code: String,
    pub department: String,
    pub title: String,
    pub next_due: Option<String>,
    pub dues: String,
}

const WATCH_COLS: &str = "code, department, title, next_due, dues";

fn watch_from(r: &Row) -> Result<ProjectWatchRow, StoreError> {
    Ok(ProjectWatchRow {
        code: r.text(0)?,
        department: r.text(1)?,
        title: r.text(2)?,
        next_due: r.opt_text(3)?,
        dues: r.text(4)?,
    })
}

impl Db {
    /// Record which project started these cases.
    pub fn put_project_cases(&mut self, code: &str, case_nos: &[&str]) -> Result<(), StoreError> {
        for c in case_nos {
            self.sql.exec(
                "INSERT INTO project_cases (case_no, code) VALUES ($1, $2) ON CONFLICT (case_no) DO NOTHING",
                &[(*c).into(), code.into()],
            )?;
        }
        Ok(())
    }

    /// The projects of those of these cases a project started: case number → project code (one read per 500).
    pub fn projects_of_cases(
        &mut self,
        case_nos: &[&str],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in case_nos.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let params: Vec<Val> = chunk.iter().map(|c| (*c).into()).collect();
            let sql = format!("SELECT case_no, code FROM project_cases WHERE case_no IN ({})", marks.join(", "));
            for r in self.sql.query(&sql, &params)?.iter() {
                found.insert(r.text(0)?, r.text(1)?);
            }
        }
        Ok(found)
    }

    /// Insert or replace a project's watch row.
    pub fn put_project_watch(&mut self, w: &ProjectWatchRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO project_watch ({WATCH_COLS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE \
                 SET department = excluded.department, title = excluded.title, next_due = excluded.next_due, \
                 dues = excluded.dues"
            ),
            &[
                w.code.as_str().into(),
                w.department.as_str().into(),
                w.title.as_str().into(),
                w.next_due.clone().into(),
                w.dues.as_str().into(),
            ],
        )?;
        Ok(())
    }

    /// The watch rows whose next date is on or before `day` (through its index), earliest first.
    pub fn project_watch_due(&mut self, day: &str, limit: i64) -> Result<Vec<ProjectWatchRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {WATCH_COLS} FROM project_watch WHERE next_due <= $1 ORDER BY next_due, code LIMIT $2"),
            &[day.into(), Val::Int(limit)],
        )?;
        rows.iter().map(watch_from).collect()
    }

    /// The projects with a date still to watch (their dates move when a calendar year is published).
    pub fn project_watch_open(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self.sql.query("SELECT code FROM project_watch WHERE next_due IS NOT NULL ORDER BY code", &[])?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// Every project's watch row, by code (to compare a rebuild with the live rows).
    pub fn project_watches(&mut self) -> Result<Vec<ProjectWatchRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {WATCH_COLS} FROM project_watch ORDER BY code"), &[])?;
        rows.iter().map(watch_from).collect()
    }

    /// Empty the watch rows (a rebuild computes them again).
    pub fn clear_project_watches(&mut self) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM project_watch", &[])?;
        Ok(())
    }

    /// Insert or replace a project's row, and its assistants.
    pub fn put_project(&mut self, p: &ProjectRow, assistants: &[String]) -> Result<(), StoreError> {
        self.sql.exec(
            &format!(
                "INSERT INTO projects ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (code) DO UPDATE SET version = excluded.version, state = excluded.state, \
                 updated_at_ms = excluded.updated_at_ms"
            ),
            &[
                p.code.as_str().into(),
                p.name.as_str().into(),
                p.project_type.as_str().into(),
                p.owner_account.as_str().into(),
                p.owner_uscc.as_str().into(),
                Val::Int(p.registered_at_ms),
                Val::Int(p.version),
                p.state.as_str().into(),
                Val::Int(p.updated_at_ms),
            ],
        )?;
        self.sql.exec("DELETE FROM project_assistants WHERE code = $1", &[p.code.as_str().into()])?;
        for a in assistants {
            self.sql.exec(
                "INSERT INTO project_assistants (code, assistant) VALUES ($1, $2)",
                &[p.code.as_str().into(), a.as_str().into()],
            )?;
        }
        Ok(())
    }

    pub fn project(&mut self, code: &str) -> Result<Option<ProjectRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {COLS} FROM projects WHERE code = $1"), &[code.into()])?;
        rows.first().map(from_row).transpose()
    }

    /// The projects of these owners (USCCs) or with this assistant, newest first.
    pub fn projects_of(
        &mut self,
        owners: &[String],
        assistant: &str,
        limit: i64,
    ) -> Result<Vec<ProjectRow>, StoreError> {
        let mut out = Vec::new();
        for o in owners {
            let rows = self.sql.query(
                &format!("SELECT {COLS} FROM projects WHERE owner_uscc = $1 ORDER BY registered_at_ms DESC LIMIT $2"),
                &[o.as_str().into(), Val::Int(limit)],
            )?;
            for r in &rows {
                out.push(from_row(r)?);
            }
        }
        let rows = self.sql.query(
            &format!(
                "SELECT {} FROM projects p JOIN project_assistants a ON a.code = p.code WHERE a.assistant = $1 \
                 ORDER BY p.registered_at_ms DESC LIMIT $2",
                COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
            ),
            &[assistant.into(), Val::Int(limit)],
        )?;
        for r in &rows {
            let p = from_row(r)?;
            if !out.iter().any(|x| x.code == p.code) {
                out.push(p);
            }
        }
        out.sort_by(|a, b| b.registered_at_ms.cmp(&a.registered_at_ms).then(a.code.cmp(&b.code)));
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(out)
    }

    /// Replace a project's combined-evaluation parts: (assessment, reviewing department, status) each.
    pub fn put_project_parts(
        &mut self,
        code: &str,
        parts: &[(String, String, String)],
        at_ms: i64,
    ) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM project_assessment_parts WHERE code = $1", &[code.into()])?;
        for (kind, department, status) in parts {
            self.sql.exec(
                "INSERT INTO project_assessment_parts (code, kind, department, status, updated_at_ms) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    code.into(),
                    kind.as_str().into(),
                    department.as_str().into(),
                    status.as_str().into(),
                    Val::Int(at_ms),
                ],
            )?;
        }
        Ok(())
    }

    /// The projects with a part of their combined evaluation reviewed by `department`, those with a part waiting
    /// for its review first, then newest first: (project, parts waiting for the department's review).
    pub fn projects_reviewed_by(&mut self, department: &str, limit: i64) -> Result<Vec<(ProjectRow, i64)>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {}, w.waiting FROM projects p JOIN (SELECT code, \
                 CAST(SUM(CASE WHEN status = 'under_review' THEN 1 ELSE 0 END) AS BIGINT) AS waiting \
                 FROM project_assessment_parts WHERE department = $1 GROUP BY code) w ON w.code = p.code \
                 ORDER BY w.waiting DESC, p.registered_at_ms DESC, p.code LIMIT $2",
                COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
            ),
            &[department.into(), Val::Int(limit)],
        )?;
        rows.iter().map(|r| Ok((from_row(r)?, r.int(9)?))).collect()
    }

    /// Every project registered since `since_ms` (the dashboard's construction figures), oldest first.
    pub fn projects_since(&mut self, since_ms: i64) -> Result<Vec<ProjectRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {COLS} FROM projects WHERE registered_at_ms >= $1 ORDER BY registered_at_ms, code"),
            &[Val::Int(since_ms)],
        )?;
        rows.iter().map(from_row).collect()
    }
}
