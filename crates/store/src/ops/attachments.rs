//! Uploaded files (quota, binding, clean-up) and application drafts.

use super::*;

impl Db {
    pub fn put_attachment(&mut self, a: &AttachmentRow) -> Result<(), StoreError> {
        self.sql.exec(
            &format!("INSERT INTO attachments ({ATTACHMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            &[
                a.id.as_str().into(),
                a.owner.as_str().into(),
                a.file_name.as_str().into(),
                a.content_type.as_str().into(),
                Val::Int(a.size),
                a.sha256.as_str().into(),
                a.sealed.as_str().into(),
                Val::Int(a.created_at_ms),
            ],
        )?;
        Ok(())
    }

    /// An account's files not yet part of any case: (count, bytes).
    pub fn pending_attachments(&mut self, owner: &str) -> Result<(i64, i64), StoreError> {
        let rows = self.sql.query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments WHERE owner = $1 AND bound_case IS NULL",
            &[owner.into()],
        )?;
        Ok(rows.first().map(|r| Ok::<_, StoreError>((r.int(0)?, r.int(1)?))).transpose()?.unwrap_or((0, 0)))
    }

    /// Bind a file to the case that references it (the first case keeps it).
    pub fn bind_attachment(&mut self, id: &str, case_no: &str) -> Result<(), StoreError> {
        self.sql.exec(
            // (SQLite numbers `$n` parameters in order of appearance: keep them in order.)
            "UPDATE attachments SET bound_case = $1 WHERE id = $2 AND bound_case IS NULL",
            &[case_no.into(), id.into()],
        )?;
        Ok(())
    }

    /// Files never bound to a case, uploaded before `before_ms`, oldest first.
    pub fn orphan_attachments(&mut self, before_ms: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT id FROM attachments WHERE bound_case IS NULL AND created_at_ms < $1 ORDER BY created_at_ms LIMIT $2",
            &[Val::Int(before_ms), Val::Int(limit)],
        )?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// The first case whose state mentions a file id (files uploaded before binding was recorded).
    pub fn case_mentioning(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        let pattern = format!("%\"{id}\"%");
        let rows = self.sql.query("SELECT case_no FROM cases WHERE state LIKE $1 LIMIT 1", &[pattern.into()])?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    pub fn delete_attachment(&mut self, id: &str) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM attachments WHERE id = $1 AND bound_case IS NULL", &[id.into()])?;
        Ok(())
    }

    pub fn attachment(&mut self, id: &str) -> Result<Option<AttachmentRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {ATTACHMENT_COLS} FROM attachments WHERE id = $1"), &[id.into()])?;
        rows.first().map(attachment_from).transpose()
    }

    /// Save (insert or replace) an account's draft for a service.
    pub fn put_draft(&mut self, account: &str, subject: &str, body: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO drafts (account, subject_code, body, updated_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account, subject_code) DO UPDATE SET body = excluded.body, updated_at_ms = excluded.updated_at_ms",
            &[account.into(), subject.into(), body.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    /// An account's draft for a service: (body, updated at).
    pub fn draft(&mut self, account: &str, subject: &str) -> Result<Option<(String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT body, updated_at_ms FROM drafts WHERE account = $1 AND subject_code = $2",
            &[account.into(), subject.into()],
        )?;
        rows.first().map(|r| Ok((r.text(0)?, r.int(1)?))).transpose()
    }

    /// An account's drafts: (service code, updated at), newest first.
    pub fn drafts_of(&mut self, account: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self.sql.query(
            "SELECT subject_code, updated_at_ms FROM drafts WHERE account = $1 ORDER BY updated_at_ms DESC",
            &[account.into()],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }

    pub fn delete_draft(&mut self, account: &str, subject: &str) -> Result<(), StoreError> {
        self.sql
            .exec("DELETE FROM drafts WHERE account = $1 AND subject_code = $2", &[account.into(), subject.into()])?;
        Ok(())
    }
}
