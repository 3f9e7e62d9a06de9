//! Accounts, sessions, second factors, external identities and API tokens.

use super::*;

impl Db {
    pub fn put_account(&mut self, a: &AccountRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO accounts (username, display_name, password_hash, roles, department, active) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash, \
             roles = excluded.roles, department = excluded.department, active = excluded.active",
            &[
                a.username.as_str().into(),
                a.display_name.as_str().into(),
                a.password_hash.as_str().into(),
                a.roles.as_str().into(),
                a.department.clone().into(),
                Val::Int(i64::from(a.active)),
            ],
        )?;
        Ok(())
    }

    pub fn get_account(&mut self, username: &str) -> Result<Option<AccountRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, display_name, password_hash, roles, department, active, service_point FROM accounts WHERE username = $1",
            &[username.into()],
        )?;
        rows.first()
            .map(|r| {
                Ok(AccountRow {
                    username: r.text(0)?,
                    display_name: r.text(1)?,
                    password_hash: r.text(2)?,
                    roles: r.text(3)?,
                    department: r.opt_text(4)?,
                    active: r.int(5)? != 0,
                    service_point: r.opt_text(6)?,
                })
            })
            .transpose()
    }

    pub fn list_accounts(&mut self) -> Result<Vec<AccountRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, display_name, password_hash, roles, department, active, service_point FROM accounts ORDER BY username",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AccountRow {
                    username: r.text(0)?,
                    display_name: r.text(1)?,
                    password_hash: r.text(2)?,
                    roles: r.text(3)?,
                    department: r.opt_text(4)?,
                    active: r.int(5)? != 0,
                    service_point: r.opt_text(6)?,
                })
            })
            .collect()
    }

    /// End every session of an account (deactivation, password change).
    pub fn delete_sessions_of(&mut self, username: &str) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM sessions WHERE username = $1", &[username.into()])?;
        Ok(())
    }

    pub fn count_accounts(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM accounts", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    pub fn put_session(&mut self, token_hash: &str, username: &str, expires_at_ms: i64) -> Result<(), StoreError> {
        self.put_session_limited(token_hash, username, expires_at_ms, false)
    }

    /// A session; `limited` sessions may only enrol a second factor.
    pub fn put_session_limited(
        &mut self,
        token_hash: &str,
        username: &str,
        expires_at_ms: i64,
        limited: bool,
    ) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO sessions (token_hash, username, expires_at_ms, limited) VALUES ($1, $2, $3, $4)",
            &[token_hash.into(), username.into(), Val::Int(expires_at_ms), Val::Int(i64::from(limited))],
        )?;
        Ok(())
    }

    /// The username of a live session.
    pub fn session_user(&mut self, token_hash: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        Ok(self.session(token_hash, now_ms)?.map(|(u, _)| u))
    }

    /// The username of a live session and whether it is limited.
    pub fn session(&mut self, token_hash: &str, now_ms: i64) -> Result<Option<(String, bool)>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, limited FROM sessions WHERE token_hash = $1 AND expires_at_ms > $2",
            &[token_hash.into(), Val::Int(now_ms)],
        )?;
        rows.first().map(|r| Ok((r.text(0)?, r.int(1)? != 0))).transpose()
    }

    /// (sealed secret, enabled, last used step) of an account's TOTP.
    pub fn account_totp(&mut self, username: &str) -> Result<Option<(Option<String>, bool, Option<i64>)>, StoreError> {
        let rows = self.sql.query(
            "SELECT totp_secret, totp_enabled, totp_last_step FROM accounts WHERE username = $1",
            &[username.into()],
        )?;
        rows.first().map(|r| Ok((r.opt_text(0)?, r.int(1)? != 0, r.opt_int(2)?))).transpose()
    }

    pub fn set_account_totp(
        &mut self,
        username: &str,
        sealed_secret: Option<&str>,
        enabled: bool,
        last_step: Option<i64>,
    ) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE accounts SET totp_secret = $1, totp_enabled = $2, totp_last_step = $3 WHERE username = $4",
            &[sealed_secret.map(String::from).into(), Val::Int(i64::from(enabled)), last_step.into(), username.into()],
        )?;
        Ok(())
    }

    pub fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM sessions WHERE token_hash = $1", &[token_hash.into()])?;
        Ok(())
    }

    /// The account linked to a provider's subject.
    pub fn identity_account(&mut self, issuer: &str, subject: &str) -> Result<Option<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT username FROM account_identities WHERE issuer = $1 AND subject = $2",
            &[issuer.into(), subject.into()],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    /// The subject an account is linked to at a provider.
    pub fn account_identity(&mut self, issuer: &str, username: &str) -> Result<Option<String>, StoreError> {
        let rows = self.sql.query(
            "SELECT subject FROM account_identities WHERE issuer = $1 AND username = $2",
            &[issuer.into(), username.into()],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    pub fn link_identity(&mut self, issuer: &str, subject: &str, username: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO account_identities (issuer, subject, username, linked_at_ms) VALUES ($1, $2, $3, $4)",
            &[issuer.into(), subject.into(), username.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    pub fn put_api_token(&mut self, t: &ApiTokenRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO api_tokens (id, token_hash, owner, name, scopes, created_at_ms, expires_at_ms, revoked_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                t.id.as_str().into(),
                t.token_hash.as_str().into(),
                t.owner.as_str().into(),
                t.name.as_str().into(),
                t.scopes.as_str().into(),
                Val::Int(t.created_at_ms),
                Val::Int(t.expires_at_ms),
                t.revoked_at_ms.into(),
            ],
        )?;
        Ok(())
    }

    /// A live token by its hash.
    pub fn api_token_by_hash(&mut self, hash: &str, now_ms: i64) -> Result<Option<ApiTokenRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at_ms IS NULL AND expires_at_ms > $2"),
            &[hash.into(), Val::Int(now_ms)],
        )?;
        rows.first().map(token_from).transpose()
    }

    pub fn api_tokens_of(&mut self, owner: &str) -> Result<Vec<ApiTokenRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE owner = $1 ORDER BY created_at_ms, id"),
            &[owner.into()],
        )?;
        rows.iter().map(token_from).collect()
    }

    pub fn api_token(&mut self, id: &str) -> Result<Option<ApiTokenRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"), &[id.into()])?;
        rows.first().map(token_from).transpose()
    }

    pub fn revoke_api_token(&mut self, id: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
            &[Val::Int(at_ms), id.into()],
        )?;
        Ok(n > 0)
    }
}
