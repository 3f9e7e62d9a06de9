//! Persons, organisations (claims and their verification), agents and staff posts.

use super::*;

impl Db {
    pub fn put_person(&mut self, p: &PersonRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO persons (username, name, id_sealed, id_index, phone_sealed, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[p.username.as_str().into(), p.name.as_str().into(), p.id_sealed.as_str().into(), p.id_index.as_str().into(), p.phone_sealed.clone().into(), Val::Int(p.created_at_ms)],
        )?;
        Ok(())
    }

    pub fn person(&mut self, username: &str) -> Result<Option<PersonRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, name, id_sealed, id_index, phone_sealed, created_at_ms FROM persons WHERE username = $1",
            &[username.into()],
        )?;
        rows.first().map(person_from).transpose()
    }

    pub fn person_by_index(&mut self, id_index: &str) -> Result<Option<PersonRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, name, id_sealed, id_index, phone_sealed, created_at_ms FROM persons WHERE id_index = $1",
            &[id_index.into()],
        )?;
        rows.first().map(person_from).transpose()
    }

    /// Record a claim on an organisation (status `pending` or `verified`); a pending claim is replaced.
    pub fn put_organisation(&mut self, o: &OrganisationRow, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO organisations (uscc, name, legal_representative, created_at_ms, status, verified_by, verified_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, \
             legal_representative = excluded.legal_representative, created_at_ms = excluded.created_at_ms, \
             status = excluded.status, verified_by = excluded.verified_by, verified_at_ms = excluded.verified_at_ms",
            &[
                o.uscc.as_str().into(),
                o.name.as_str().into(),
                o.legal_representative.as_str().into(),
                Val::Int(at_ms),
                o.status.as_str().into(),
                o.verified_by.as_deref().into(),
                o.verified_by.as_ref().map(|_| Val::Int(at_ms)).unwrap_or(Val::Null),
            ],
        )?;
        Ok(())
    }

    /// An organisation and the claim on it.
    pub fn organisation(&mut self, uscc: &str) -> Result<Option<OrganisationRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT uscc, name, legal_representative, status, verified_by FROM organisations WHERE uscc = $1",
            &[uscc.into()],
        )?;
        rows.first().map(organisation_from).transpose()
    }

    /// Claims waiting for a window clerk, oldest first.
    pub fn pending_organisations(&mut self, limit: i64) -> Result<Vec<OrganisationRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT uscc, name, legal_representative, status, verified_by FROM organisations \
             WHERE status = 'pending' ORDER BY created_at_ms, uscc LIMIT $1",
            &[Val::Int(limit)],
        )?;
        rows.iter().map(organisation_from).collect()
    }

    pub fn put_agent(&mut self, uscc: &str, username: &str, scope: &str, expires_at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO org_agents (uscc, username, scope, expires_at_ms, revoked_at_ms) VALUES ($1, $2, $3, $4, NULL) \
             ON CONFLICT (uscc, username) DO UPDATE SET scope = excluded.scope, expires_at_ms = excluded.expires_at_ms, revoked_at_ms = NULL",
            &[uscc.into(), username.into(), scope.into(), Val::Int(expires_at_ms)],
        )?;
        Ok(())
    }

    pub fn revoke_agent(&mut self, uscc: &str, username: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "UPDATE org_agents SET revoked_at_ms = $1 WHERE uscc = $2 AND username = $3 AND revoked_at_ms IS NULL",
            &[Val::Int(at_ms), uscc.into(), username.into()],
        )?;
        Ok(n > 0)
    }

    /// The verified organisations an account acts for now, with the scope: `representative` for the legal
    /// representative, else the unexpired, unrevoked agent's scope (e.g. `apply,follow`).
    pub fn acts_for(&mut self, username: &str, now_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.sql.query(
            "SELECT uscc, 'representative' FROM organisations WHERE legal_representative = $1 AND status = 'verified' \
             UNION SELECT a.uscc, a.scope FROM org_agents a JOIN organisations o ON o.uscc = a.uscc AND o.status = 'verified' \
             WHERE a.username = $1 AND a.revoked_at_ms IS NULL AND a.expires_at_ms > $2 ORDER BY 1",
            &[username.into(), Val::Int(now_ms)],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    /// Revoke every agent of an organisation (its legal representative changed).
    pub fn revoke_all_agents(&mut self, uscc: &str, at_ms: i64) -> Result<u64, StoreError> {
        self.sql.exec(
            "UPDATE org_agents SET revoked_at_ms = $1 WHERE uscc = $2 AND revoked_at_ms IS NULL",
            &[Val::Int(at_ms), uscc.into()],
        )
    }

    /// The scope of an agent's current authorisation for an organisation (None if none).
    pub fn agent_scope(&mut self, uscc: &str, username: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT scope FROM org_agents WHERE uscc = $1 AND username = $2 AND revoked_at_ms IS NULL AND expires_at_ms > $3",
            &[uscc.into(), username.into(), Val::Int(now_ms)],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    /// A staff member's post: (service point, window).
    pub fn staff_post(&mut self, username: &str) -> Result<(Option<String>, Option<String>), StoreError> {
        let rows =
            self.sql.query("SELECT service_point, window_no FROM accounts WHERE username = $1", &[username.into()])?;
        Ok(rows
            .first()
            .map(|r| Ok::<_, StoreError>((r.opt_text(0)?, r.opt_text(1)?)))
            .transpose()?
            .unwrap_or((None, None)))
    }

    pub fn set_staff_post(
        &mut self,
        username: &str,
        service_point: Option<&str>,
        window: Option<&str>,
    ) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE accounts SET service_point = $1, window_no = $2 WHERE username = $3",
            &[service_point.map(String::from).into(), window.map(String::from).into(), username.into()],
        )?;
        Ok(())
    }
}
