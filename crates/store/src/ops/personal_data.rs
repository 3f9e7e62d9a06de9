//! Notifications, data keys and the personal-data access log.

use super::*;

impl Db {
    pub fn put_notification(&mut self, n: &Notification) -> Result<(), StoreError> {
        self.put_notifications(std::slice::from_ref(n))
    }

    /// Several notifications in one statement per 200 rows (the notifications subscriber's batch).
    pub fn put_notifications(&mut self, ns: &[Notification]) -> Result<(), StoreError> {
        for chunk in ns.chunks(200) {
            let mut params: Vec<Val> = Vec::with_capacity(chunk.len() * 6);
            let mut rows = Vec::with_capacity(chunk.len());
            for n in chunk {
                let k = params.len();
                rows.push(format!("(${}, ${}, ${}, ${}, ${}, ${})", k + 1, k + 2, k + 3, k + 4, k + 5, k + 6));
                params.extend([
                    Val::Int(n.event_seq),
                    n.recipient.as_str().into(),
                    n.case_no.as_str().into(),
                    n.kind.as_str().into(),
                    n.message.as_str().into(),
                    Val::Int(n.created_at_ms),
                ]);
            }
            self.sql.exec(
                &format!(
                    "INSERT INTO notifications (event_seq, recipient, case_no, kind, message, created_at_ms) VALUES {}",
                    rows.join(", ")
                ),
                &params,
            )?;
        }
        Ok(())
    }

    pub fn notifications(&mut self, recipient: &str, limit: i64) -> Result<Vec<Notification>, StoreError> {
        let rows = self.sql.query(
            "SELECT event_seq, recipient, case_no, kind, message, created_at_ms FROM notifications WHERE recipient = $1 ORDER BY event_seq DESC LIMIT $2",
            &[recipient.into(), Val::Int(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    event_seq: r.int(0)?,
                    recipient: r.text(1)?,
                    case_no: r.text(2)?,
                    kind: r.text(3)?,
                    message: r.text(4)?,
                    created_at_ms: r.int(5)?,
                })
            })
            .collect()
    }

    pub fn count_notifications(&mut self) -> Result<i64, StoreError> {
        self.sql.query("SELECT COUNT(*) FROM notifications", &[])?.first().map_or(Ok(0), |r| r.int(0))
    }

    /// Wrapped data keys: (id, wrapped, master fingerprint, current).
    pub fn data_keys(&mut self) -> Result<Vec<DataKeyRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT id, wrapped, master_fingerprint, created_at_ms, current FROM data_keys ORDER BY created_at_ms, id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DataKeyRow {
                    id: r.text(0)?,
                    wrapped: r.text(1)?,
                    master_fingerprint: r.text(2)?,
                    created_at_ms: r.int(3)?,
                    current: r.int(4)? != 0,
                })
            })
            .collect()
    }

    /// Insert or re-wrap a data key; a current key makes every other key not current.
    pub fn put_data_key(&mut self, k: &DataKeyRow) -> Result<(), StoreError> {
        if k.current {
            self.sql.exec("UPDATE data_keys SET current = 0 WHERE id <> $1", &[k.id.as_str().into()])?;
        }
        self.sql.exec(
            "INSERT INTO data_keys (id, wrapped, master_fingerprint, created_at_ms, current) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET wrapped = excluded.wrapped, master_fingerprint = excluded.master_fingerprint, current = excluded.current",
            &[k.id.as_str().into(), k.wrapped.as_str().into(), k.master_fingerprint.as_str().into(), Val::Int(k.created_at_ms), Val::Int(i64::from(k.current))],
        )?;
        Ok(())
    }

    pub fn put_pd_access(&mut self, a: &PdAccess) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO pd_access (event_seq, subject_account, case_no, actor, at_ms, reason, fields) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[Val::Int(a.event_seq), a.subject_account.clone().into(), a.case_no.as_str().into(), a.actor.as_str().into(), Val::Int(a.at_ms), a.reason.as_str().into(), a.fields.as_str().into()],
        )?;
        Ok(())
    }

    /// Who read a person's data, newest first.
    pub fn pd_access_of(&mut self, subject_account: &str, limit: i64) -> Result<Vec<PdAccess>, StoreError> {
        let rows = self.sql.query(
            "SELECT event_seq, subject_account, case_no, actor, at_ms, reason, fields FROM pd_access WHERE subject_account = $1 ORDER BY at_ms DESC, event_seq DESC LIMIT $2",
            &[subject_account.into(), Val::Int(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(PdAccess {
                    event_seq: r.int(0)?,
                    subject_account: r.opt_text(1)?,
                    case_no: r.text(2)?,
                    actor: r.text(3)?,
                    at_ms: r.int(4)?,
                    reason: r.text(5)?,
                    fields: r.text(6)?,
                })
            })
            .collect()
    }

    /// Every case row, for recomputing blind indexes after a master-key rotation.
    pub fn all_case_rows(&mut self, after: &str, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!("SELECT {CASE_COLS} FROM cases WHERE case_no > $1 ORDER BY case_no LIMIT $2");
        self.sql.query(&sql, &[after.into(), Val::Int(limit)])?.iter().map(case_from).collect()
    }

    /// Persons after `after` (username order), for recomputing blind indexes after a master-key rotation.
    pub fn persons_page(&mut self, after: &str, limit: i64) -> Result<Vec<PersonRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT username, name, id_sealed, id_index, phone_sealed, created_at_ms FROM persons \
             WHERE username > $1 ORDER BY username LIMIT $2",
            &[after.into(), Val::Int(limit)],
        )?;
        rows.iter().map(person_from).collect()
    }

    pub fn set_person_index(&mut self, username: &str, index: &str) -> Result<(), StoreError> {
        self.sql.exec("UPDATE persons SET id_index = $1 WHERE username = $2", &[index.into(), username.into()])?;
        Ok(())
    }

    /// Licences after `after` (identifier order): (identifier, body), for recomputing holder indexes.
    pub fn license_bodies_page(&mut self, after: &str, limit: i64) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.sql.query(
            "SELECT identifier, body FROM licenses WHERE identifier > $1 ORDER BY identifier LIMIT $2",
            &[after.into(), Val::Int(limit)],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
    }

    pub fn set_license_holder_index(&mut self, identifier: &str, index: Option<&str>) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE licenses SET holder_index = $1 WHERE identifier = $2",
            &[index.map(String::from).into(), identifier.into()],
        )?;
        Ok(())
    }

    pub fn set_applicant_index(&mut self, case_no: &str, index: Option<&str>) -> Result<(), StoreError> {
        self.sql.exec(
            "UPDATE cases SET applicant_index = $1 WHERE case_no = $2",
            &[index.map(String::from).into(), case_no.into()],
        )?;
        Ok(())
    }
}
