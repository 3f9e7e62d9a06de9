//! The transparency log: leaves, tree, proofs and checkpoints.

use super::*;

impl Db {
    /// (tree size folded into nodes, hash kind) of the log; call [`Db::sync_tree`] in a write job first.
    pub fn log_head(&mut self) -> Result<(u64, oneseal_seal::merkle::TreeHash), StoreError> {
        let rows = self.sql.query("SELECT tree_size, hash FROM log_head WHERE id = 1", &[])?;
        let r = rows.first().ok_or_else(|| StoreError::Decode("no log head".into()))?;
        Ok((r.int(0)? as u64, crate::merkle::kind(&r.text(1)?)?))
    }

    pub fn log_root(&mut self, size: u64) -> Result<oneseal_seal::merkle::Hash, StoreError> {
        let (_, kind) = self.log_head()?;
        oneseal_seal::merkle::root(&mut crate::merkle::SqlNodes(self), kind, size)
            .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))
    }

    /// (leaf index, leaf hash) of an event.
    pub fn event_leaf(&mut self, seq: i64) -> Result<Option<(u64, oneseal_seal::merkle::Hash)>, StoreError> {
        let rows = self.sql.query("SELECT leaf_index, leaf_hash FROM event_leaves WHERE seq = $1", &[Val::Int(seq)])?;
        rows.first().map(|r| Ok((r.int(0)? as u64, crate::merkle::unhex32(&r.text(1)?)?))).transpose()
    }

    /// Every (seq, leaf index, leaf hash) in leaf order, a page at a time.
    pub fn event_leaves_from(
        &mut self,
        after_index: i64,
        limit: i64,
    ) -> Result<Vec<(i64, u64, oneseal_seal::merkle::Hash)>, StoreError> {
        let rows = self.sql.query(
            "SELECT seq, leaf_index, leaf_hash FROM event_leaves WHERE leaf_index > $1 ORDER BY leaf_index LIMIT $2",
            &[Val::Int(after_index), Val::Int(limit)],
        )?;
        rows.iter().map(|r| Ok((r.int(0)?, r.int(1)? as u64, crate::merkle::unhex32(&r.text(2)?)?))).collect()
    }

    pub fn inclusion_proof(&mut self, index: u64, size: u64) -> Result<Vec<oneseal_seal::merkle::Hash>, StoreError> {
        let (_, kind) = self.log_head()?;
        oneseal_seal::merkle::inclusion_proof(&mut crate::merkle::SqlNodes(self), kind, index, size)
            .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))
    }

    pub fn consistency_proof(&mut self, old: u64, new: u64) -> Result<Vec<oneseal_seal::merkle::Hash>, StoreError> {
        let (_, kind) = self.log_head()?;
        oneseal_seal::merkle::consistency_proof(&mut crate::merkle::SqlNodes(self), kind, old, new)
            .map_err(|e| StoreError::Db(format!("transparency log: {e:?}")))
    }

    pub fn put_checkpoint(&mut self, size: u64, root: &str, note: &str, at_ms: i64) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO checkpoints (size, root, note, created_at_ms) VALUES ($1, $2, $3, $4)",
            &[Val::Int(size as i64), root.into(), note.into(), Val::Int(at_ms)],
        )?;
        Ok(())
    }

    /// Signed checkpoints (size, root hex, note), newest last.
    pub fn checkpoints(&mut self) -> Result<Vec<(u64, String, String)>, StoreError> {
        let rows = self.sql.query("SELECT size, root, note FROM checkpoints ORDER BY size", &[])?;
        rows.iter().map(|r| Ok((r.int(0)? as u64, r.text(1)?, r.text(2)?))).collect()
    }

    /// The event at a sequence number (for audits).
    pub fn event_at(&mut self, seq: i64) -> Result<Option<StoredEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE seq = $1");
        self.sql.query(&sql, &[Val::Int(seq)])?.first().map(event_from).transpose()
    }

    /// Remove the append-only guard (tests of tamper detection simulate an attacker with database access).
    /// Only with the `testing` feature: never in a production build.
    #[cfg(feature = "testing")]
    pub fn testing_drop_append_only_guard(&mut self) -> Result<(), StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                self.sql.batch("DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete")
            }
            Backend::Postgres => self.sql.batch(
                "DROP TRIGGER events_append_only_update ON events; DROP TRIGGER events_append_only_truncate ON events",
            ),
        }
    }
}
