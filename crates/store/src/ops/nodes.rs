//! What several nodes on one database share besides events and projections: leases on work done outside a
//! transaction, a claim on periodic work inside one, sign-in throttles and rate windows, and pending single
//! sign-on sign-ins (docs/scaling.md, "Several nodes").

use super::*;

impl Db {
    /// Take or renew the lease `name` for `holder` until `until_ms`: true when `holder` now holds it (it was free,
    /// expired at `now_ms`, or already its own), false when another holder's lease still runs. Atomic on both
    /// backends (one upsert whose update applies only under those conditions).
    pub fn take_lease(&mut self, name: &str, holder: &str, until_ms: i64, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.sql.exec(
            "INSERT INTO work_leases (name, holder, until_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE \
             SET holder = excluded.holder, until_ms = excluded.until_ms \
             WHERE work_leases.holder = excluded.holder OR work_leases.until_ms <= $4",
            &[name.into(), holder.into(), Val::Int(until_ms), Val::Int(now_ms)],
        )?;
        Ok(n == 1)
    }

    /// Claim the periodic work `name` (a sweep, a checkpoint) until this transaction ends: on PostgreSQL a
    /// transaction-scoped advisory lock, so the same work on another writer thread or node waits, then sees what
    /// this one committed (READ COMMITTED: each later statement reads anew) and finds nothing left to do. SQLite's
    /// single writer needs nothing. Only in write jobs.
    pub fn claim_work(&mut self, name: &str) -> Result<(), StoreError> {
        if self.writer && self.backend() == Backend::Postgres {
            self.sql.query("SELECT pg_advisory_xact_lock(7240024, hashtext($1))::text", &[name.into()])?;
        }
        Ok(())
    }

    /// The throttle hits under `keys` after `since_ms`: (key, at_ms).
    pub fn throttle_hits(&mut self, keys: &[String], since_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut params: Vec<Val> = vec![Val::Int(since_ms)];
        let mut marks = Vec::with_capacity(keys.len());
        for k in keys {
            params.push(k.as_str().into());
            marks.push(format!("${}", params.len()));
        }
        let rows = self.sql.query(
            &format!("SELECT key, at_ms FROM throttle_hits WHERE at_ms > $1 AND key IN ({})", marks.join(", ")),
            &params,
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }

    /// Count one hit at `at_ms` under each key.
    pub fn throttle_add(&mut self, keys: &[String], at_ms: i64) -> Result<(), StoreError> {
        for k in keys {
            self.sql.exec(
                "INSERT INTO throttle_hits (key, at_ms) VALUES ($1, $2)",
                &[k.as_str().into(), Val::Int(at_ms)],
            )?;
        }
        Ok(())
    }

    /// Forget the hits under `keys`, and under every key starting with `prefix` when given.
    pub fn throttle_clear(&mut self, keys: &[String], prefix: Option<&str>) -> Result<(), StoreError> {
        for k in keys {
            self.sql.exec("DELETE FROM throttle_hits WHERE key = $1", &[k.as_str().into()])?;
        }
        if let Some(p) = prefix {
            self.sql.exec(
                "DELETE FROM throttle_hits WHERE substr(key, 1, $1) = $2",
                &[Val::Int(p.chars().count() as i64), p.into()],
            )?;
        }
        Ok(())
    }

    /// Forget throttle hits older than `before_ms` and pending sign-ins started before `pending_before_ms`.
    pub fn prune_node_state(&mut self, before_ms: i64, pending_before_ms: i64) -> Result<u64, StoreError> {
        let a = self.sql.exec("DELETE FROM throttle_hits WHERE at_ms < $1", &[Val::Int(before_ms)])?;
        let b = self.sql.exec("DELETE FROM oidc_pending WHERE created_ms < $1", &[Val::Int(pending_before_ms)])?;
        Ok(a + b)
    }

    /// Keep a pending single sign-on sign-in under its `state`.
    pub fn oidc_pending_put(&mut self, state: &str, body: &str, created_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO oidc_pending (state, body, created_ms) VALUES ($1, $2, $3)",
            &[state.into(), body.into(), Val::Int(created_ms)],
        )?;
        Ok(())
    }

    /// Take (read and delete) a pending sign-in: each is used once, on whichever node the browser comes back to.
    pub fn oidc_pending_take(&mut self, state: &str) -> Result<Option<(String, i64)>, StoreError> {
        let rows = self.sql.query("SELECT body, created_ms FROM oidc_pending WHERE state = $1", &[state.into()])?;
        let Some(r) = rows.first() else { return Ok(None) };
        let n = self.sql.exec("DELETE FROM oidc_pending WHERE state = $1", &[state.into()])?;
        // Two nodes taking the same state at once: only the one whose delete removed the row uses it.
        if n != 1 {
            return Ok(None);
        }
        Ok(Some((r.text(0)?, r.int(1)?)))
    }

    /// Forget pending sign-ins started before `before_ms` (they can no longer finish).
    pub fn oidc_pending_expire(&mut self, before_ms: i64) -> Result<u64, StoreError> {
        self.sql.exec("DELETE FROM oidc_pending WHERE created_ms < $1", &[Val::Int(before_ms)])
    }

    /// How many pending sign-ins there are (they are bounded).
    pub fn oidc_pending_count(&mut self) -> Result<i64, StoreError> {
        let rows = self.sql.query("SELECT COUNT(*) FROM oidc_pending", &[])?;
        rows.first().map_or(Ok(0), |r| r.int(0))
    }
}

impl Db {
    /// A fingerprint of what every node keeps in memory from the database — the catalog, the calendar, the hotline
    /// directory, the seal keys and the personal-data keys: when it changes, another node published or rotated
    /// something and this node reloads its views. Small tables; one query.
    pub fn views_fingerprint(&mut self) -> Result<String, StoreError> {
        let rows = self.sql.query(
            "SELECT (SELECT COUNT(*) FROM catalog_versions), (SELECT COALESCE(MAX(published_at_ms), 0) FROM catalog_versions), \
             (SELECT COUNT(*) FROM calendar_years), (SELECT COALESCE(MAX(updated_at_ms), 0) FROM calendar_years), \
             (SELECT COALESCE(MAX(version), 0) FROM hotline_directory), (SELECT COALESCE(MAX(version), 0) FROM service_network), \
             (SELECT COUNT(*) FROM seal_keys), (SELECT COALESCE(MAX(valid_from_ms), 0) FROM seal_keys), \
             (SELECT COUNT(*) FROM data_keys), (SELECT COALESCE(MAX(created_at_ms), 0) FROM data_keys)",
            &[],
        )?;
        let Some(r) = rows.first() else { return Ok(String::new()) };
        let mut parts = Vec::with_capacity(10);
        for i in 0..10 {
            parts.push(r.int(i)?.to_string());
        }
        Ok(parts.join(","))
    }
}
