//! The seal keys, licences (issued versions, reuse, disclosure) and the status list.

use super::*;

impl Db {
    pub fn seal_keys(&mut self) -> Result<Vec<SealKeyRow>, StoreError> {
        let rows = self.sql.query("SELECT key_id, public_pem, private_sealed, salt, valid_from_ms, valid_to_ms, current FROM seal_keys ORDER BY valid_from_ms, key_id", &[])?;
        rows.iter()
            .map(|r| {
                Ok(SealKeyRow {
                    key_id: r.text(0)?,
                    public_pem: r.text(1)?,
                    private_sealed: r.text(2)?,
                    salt: r.text(3)?,
                    valid_from_ms: r.int(4)?,
                    valid_to_ms: r.opt_int(5)?,
                    current: r.int(6)? != 0,
                })
            })
            .collect()
    }

    /// Add a key; a current key ends the validity of the previous current one at its start.
    pub fn put_seal_key(&mut self, k: &SealKeyRow) -> Result<(), StoreError> {
        if k.current {
            self.sql.exec(
                "UPDATE seal_keys SET current = 0, valid_to_ms = $1 WHERE current = 1",
                &[Val::Int(k.valid_from_ms)],
            )?;
        }
        self.sql.exec(
            "INSERT INTO seal_keys (key_id, public_pem, private_sealed, salt, valid_from_ms, valid_to_ms, current) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                k.key_id.as_str().into(),
                k.public_pem.as_str().into(),
                k.private_sealed.as_str().into(),
                k.salt.as_str().into(),
                Val::Int(k.valid_from_ms),
                k.valid_to_ms.into(),
                Val::Int(i64::from(k.current)),
            ],
        )?;
        Ok(())
    }

    pub fn put_license(&mut self, l: &LicenseRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO licenses ({LICENSE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT (identifier) DO UPDATE SET status = excluded.status, reason = excluded.reason"
        );
        self.sql.exec(
            &sql,
            &[
                l.identifier.as_str().into(),
                l.lineage.as_str().into(),
                Val::Int(l.version),
                l.number.as_str().into(),
                l.license_type.as_str().into(),
                l.holder_name.as_str().into(),
                l.holder_index.clone().into(),
                l.case_no.clone().into(),
                l.status.as_str().into(),
                l.issued.as_str().into(),
                l.valid_to.clone().into(),
                Val::Int(l.status_index),
                l.body.as_str().into(),
                l.signed_payload.as_str().into(),
                l.key_id.as_str().into(),
                l.signature.as_str().into(),
                l.qr.as_str().into(),
                l.reason.clone().into(),
            ],
        )?;
        Ok(())
    }

    pub fn license(&mut self, identifier: &str) -> Result<Option<LicenseRow>, StoreError> {
        let rows = self
            .sql
            .query(&format!("SELECT {LICENSE_COLS} FROM licenses WHERE identifier = $1"), &[identifier.into()])?;
        rows.first().map(license_from).transpose()
    }

    pub fn licenses_of_case(&mut self, case_no: &str) -> Result<Vec<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {LICENSE_COLS} FROM licenses WHERE case_no = $1 ORDER BY identifier"),
            &[case_no.into()],
        )?;
        rows.iter().map(license_from).collect()
    }

    /// Licences by their printed number (a business licence's number is the organisation's USCC).
    pub fn licenses_by_number(&mut self, number: &str) -> Result<Vec<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {LICENSE_COLS} FROM licenses WHERE number = $1 ORDER BY issued DESC, identifier"),
            &[number.into()],
        )?;
        rows.iter().map(license_from).collect()
    }

    /// A holder's newest valid licence of one type (an index walk, however many the holder has).
    pub fn newest_valid_license_of(
        &mut self,
        holder_index: &str,
        license_type: &str,
    ) -> Result<Option<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {LICENSE_COLS} FROM licenses WHERE holder_index = $1 AND license_type = $2 AND status = 'valid' \
                 ORDER BY issued DESC, identifier DESC LIMIT 1"
            ),
            &[holder_index.into(), license_type.into()],
        )?;
        rows.first().map(license_from).transpose()
    }

    pub fn licenses_of_holder(&mut self, holder_index: &str) -> Result<Vec<LicenseRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {LICENSE_COLS} FROM licenses WHERE holder_index = $1 ORDER BY issued DESC, identifier"),
            &[holder_index.into()],
        )?;
        rows.iter().map(license_from).collect()
    }

    /// Licences of the given types issued on or before a date, newest first, optionally filtered by holder name.
    pub fn disclosed_licenses(
        &mut self,
        types: &[String],
        issued_by: &str,
        holder_contains: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<LicenseRow>, i64), StoreError> {
        if types.is_empty() {
            return Ok((vec![], 0));
        }
        let mut params: Vec<Val> = vec![issued_by.into()];
        let mut ph = Vec::new();
        for t in types {
            params.push(t.into());
            ph.push(format!("${}", params.len()));
        }
        let mut wh = format!("issued <= $1 AND license_type IN ({})", ph.join(", "));
        if let Some(h) = holder_contains {
            // Not a hot path: the public disclosure search over names.
            params.push(format!("%{}%", h.replace('%', "").replace('_', "")).into());
            wh.push_str(&format!(" AND holder_name LIKE ${}", params.len()));
        }
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM licenses WHERE {wh}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(limit));
        params.push(Val::Int(offset));
        let rows = self.sql.query(
            &format!(
                "SELECT {LICENSE_COLS} FROM licenses WHERE {wh} ORDER BY issued DESC, identifier LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params,
        )?;
        Ok((rows.iter().map(license_from).collect::<Result<_, _>>()?, total))
    }

    /// Status-list indexes of licences no longer valid (revoked or cancelled).
    pub fn revoked_status_indexes(&mut self) -> Result<Vec<i64>, StoreError> {
        let rows = self.sql.query(
            "SELECT status_index FROM licenses WHERE status IN ('revoked', 'cancelled') ORDER BY status_index",
            &[],
        )?;
        rows.iter().map(|r| r.int(0)).collect()
    }
}
