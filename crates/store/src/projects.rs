//! Reads and writes of construction projects (工程建设项目): the projects projection — one row per project with
//! its folded state — and the assistants (代办员) each project authorised, by which an assistant finds their
//! projects, and the parts of each project's combined evaluation (多评合一), by which a reviewing department finds
//! its projects.

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

impl Db {
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
