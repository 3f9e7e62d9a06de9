//! Electronic licences (电子证照): issued with the one seal when a case reaches its licence-issuance step
//! (one case may yield several, e.g. a bundle), each with a GB/T 36904 identifier, the GB/T 36903 metadata, a
//! signature OpenSSL can check, and the offline QR; verified by anyone; amended, cancelled or revoked as events;
//! published in a W3C Bitstring Status List.

use std::collections::BTreeMap;

use oneseal_domain::calendar::format_date;
use oneseal_domain::case::{self, ApplicantKind, CaseCommand, CaseState, Ctx, Outcome};
use oneseal_domain::clock::local_date;
use oneseal_domain::ids::{CaseNo, Uscc};
use oneseal_domain::license::{
    parse_license_types, IssuedLicense, LicenseEvent, LicenseIdentifier, LicenseSource, LicenseStatus, LicenseType,
};
use oneseal_domain::party::ClearId;
use oneseal_domain::roles::{Actor, Role};
use oneseal_seal::qr::{self, Claims};
use oneseal_seal::seal::public_from_pem;
use oneseal_store::{Db, LicenseRow, StoredEvent};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::streams::{decode, record, record_at};
use crate::{hex, ms, App, AppError};

mod reuse;
mod verify;
pub(crate) use reuse::check_license_refs;
pub use verify::{disclosed, held_by_person, qr_text_of_pdf};

/// The region code of the bureau (银川市).
pub const REGION: &str = "640100";
/// The issuer shown on licences.
pub const ISSUER_NAME: &str = "银川市审批服务局";
/// Entries of the status list (≥ 131,072 for herd privacy).
pub const STATUS_LIST_SIZE: usize = 131_072;

/// The licence types compiled in from catalog/license-types.toml (empty when the file is absent).
pub fn builtin_license_types() -> Result<Vec<LicenseType>, AppError> {
    match crate::catalog::DEMO_CATALOG.iter().find(|(p, _)| p.ends_with("license-types.toml")) {
        Some((_, text)) => parse_license_types(text).map_err(|e| AppError::invalid("catalog_invalid", e)),
        None => Ok(Vec::new()),
    }
}

/// What a verification finds.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// valid | revoked | cancelled | expired | amended | bad_signature | unknown
    pub status: &'static str,
    pub identifier: Option<String>,
    pub public: Option<Value>,
    pub superseded_by: Option<String>,
}

/// How many licence serials or status-list slots a node reserves per write.
pub(crate) const COUNTER_BLOCK: i64 = 64;

impl App {
    pub fn license_type(&self, code: &str) -> Option<LicenseType> {
        self.license_types.iter().find(|t| t.code == code).cloned()
    }

    /// A licence type by its GB/T 36904 type code (as carried in a licence's public record).
    pub fn license_type_by_type_code(&self, type_code: &str) -> Option<LicenseType> {
        self.license_types.iter().find(|t| t.type_code == type_code).cloned()
    }

    /// One value of each named counter, in order, from blocks this node reserved (one write per
    /// [`COUNTER_BLOCK`] values, not one per licence). A value handed out and not used is a gap, never a duplicate:
    /// the database's counter only moves forward, and other nodes reserve their own blocks.
    pub(crate) async fn take_counters(&self, names: Vec<String>) -> Result<Vec<i64>, AppError> {
        let take = |blocks: &mut std::collections::HashMap<String, (i64, i64)>, name: &str| -> Option<i64> {
            let b = blocks.get_mut(name)?;
            (b.0 <= b.1).then(|| {
                b.0 += 1;
                b.0 - 1
            })
        };
        let mut out = Vec::with_capacity(names.len());
        for name in &names {
            loop {
                let got = take(
                    &mut *self.counter_blocks.lock().map_err(|_| AppError::Internal("counter lock".into()))?,
                    name,
                );
                if let Some(v) = got {
                    out.push(v);
                    break;
                }
                let _refill = self.counter_refill.lock().await;
                let lock = self.counter_blocks.lock();
                if lock.map_err(|_| AppError::Internal("counter lock".into()))?.get(name).is_some_and(|b| b.0 <= b.1) {
                    continue; // another request refilled it meanwhile
                }
                let key = name.clone();
                let last =
                    self.store.write(move |db| db.reserve_counter(&key, COUNTER_BLOCK).map_err(AppError::from)).await?;
                let mut blocks = self.counter_blocks.lock().map_err(|_| AppError::Internal("counter lock".into()))?;
                let b = blocks.entry(name.clone()).or_insert((1, 0));
                if b.0 > b.1 {
                    *b = (last - COUNTER_BLOCK + 1, last);
                }
            }
        }
        Ok(out)
    }

    /// Issue the licences of a case at its licence-issuance step, then complete the step.
    ///
    /// Signing is slow next to a database write, so it happens outside the single writer: (1) the case is read
    /// and the command checked by a dry run of `decide`; (2) serial numbers and status-list slots are reserved in
    /// a short write (a failure later leaves a gap, never a duplicate); (3) the licences are built and signed on
    /// the request's own thread; (4) one write appends the licence events and the case events, refusing whole if
    /// the case changed meanwhile.
    pub async fn issue_case_licenses(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        if_match: Option<i64>,
    ) -> Result<CaseState, AppError> {
        let case_no = case_no.clone();
        let seal = self.current_seal()?;
        let (view, calendar, now) = (self.catalog(), self.calendar(), self.now());
        // (1) Read and check.
        let no = case_no.clone();
        let row = self.store.read(move |db| db.get_case(no.as_str()).map_err(AppError::from)).await?;
        let row = row.ok_or_else(|| AppError::NotFound(format!("case {case_no}")))?;
        let st: CaseState = serde_json::from_str(&row.state).map_err(|e| AppError::Internal(e.to_string()))?;
        if !crate::cases::may_see(actor, &st) {
            return Err(AppError::NotFound(format!("case {case_no}")));
        }
        if let Some(expected) = if_match.filter(|e| *e != row.version) {
            return Err(AppError::StaleVersion { expected, actual: row.version });
        }
        let def = view.definition(&st.subject)?;
        let ctx = Ctx { now, actor, calendar: &calendar, def: &def };
        case::decide(&st, CaseCommand::IssueLicenses { licenses: vec!["dry-run".into()] }, &ctx)?;
        let issuer_uscc = view
            .departments
            .iter()
            .find(|d| d.id == def.department)
            .map(|d| d.uscc.clone())
            .ok_or_else(|| AppError::Internal("the case's department has no USCC".into()))?;
        let types: Vec<(usize, LicenseType)> = def
            .results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.license_type.as_deref().and_then(|c| self.license_type(c)).map(|t| (i, t)))
            .collect();
        // (2) Reserve serials and status-list slots.
        let keys: Vec<String> =
            types.iter().map(|(_, lt)| format!("license-{}-{}", lt.type_code, issuer_uscc.as_str())).collect();
        let mut names = Vec::new();
        for k in keys {
            names.push(k);
            names.push("license-status-index".to_string());
        }
        let values = self.take_counters(names).await?;
        let reserved: Vec<(i64, i64)> = values.chunks(2).map(|c| (c[0], c[1] - 1)).collect();
        // (3) Build and sign, outside the writer.
        let today = local_date(now);
        let mut identifiers: Vec<String> =
            def.results.iter().enumerate().map(|(i, _)| format!("{}-{:02}", case_no.as_str(), i + 1)).collect();
        let mut licences = Vec::new();
        for ((i, lt), (serial_no, status_index)) in types.iter().zip(reserved) {
            let id = LicenseIdentifier::new(&lt.type_code, &issuer_uscc, &format!("{serial_no:07}"), 1)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let (mut lic, public) = self.build_license(lt, &id, &st, today, status_index)?;
            let payload = serde_json::to_string(&public).map_err(|e| AppError::Internal(e.to_string()))?;
            lic.signature = hex(&seal.sign(payload.as_bytes()));
            lic.key_id = seal.key_id().to_string();
            lic.signed_payload = payload;
            let claims = Claims {
                identifier: lic.identifier.clone(),
                type_name: lt.name.clone(),
                holder: lic.holder_name.clone(),
                issuer: ISSUER_NAME.into(),
                issued: lic.issued.clone(),
                valid_to: lic.valid_to.clone(),
                number: lic.number.clone(),
            };
            lic.qr = qr::encode(&claims, &seal);
            identifiers[*i] = lic.identifier.clone();
            licences.push(lic);
        }
        if identifiers.is_empty() {
            identifiers.push(format!("{}-01", case_no.as_str()));
        }
        // (4) Record everything in one transaction, against the version read in (1).
        let (actor, app, version) = (actor.clone(), self.clone(), row.version);
        self.store
            .write(move |db| -> Result<CaseState, AppError> {
                let current =
                    db.get_case(case_no.as_str())?.ok_or_else(|| AppError::NotFound(format!("case {case_no}")))?;
                if current.version != version {
                    return Err(AppError::StaleVersion { expected: version, actual: current.version });
                }
                for lic in &licences {
                    let stream = format!("license-{}", lic.lineage);
                    let e = record_at(db, &stream, 0, &LicenseEvent::Issued(issued_of(lic)), &actor.id, ms(now))?;
                    project(&app, db, &e)?;
                }
                let ctx = Ctx { now, actor: &actor, calendar: &calendar, def: &def };
                let events = case::decide(&st, CaseCommand::IssueLicenses { licenses: identifiers }, &ctx)?;
                crate::cases::record_public(&app, db, Some(st), version, events, &actor.id, now, &case_no, &def.form)
            })
            .await
    }

    /// The licence row and its public, signed content.
    fn build_license(
        &self,
        lt: &LicenseType,
        id: &LicenseIdentifier,
        st: &CaseState,
        today: time::Date,
        status_index: i64,
    ) -> Result<(LicenseRow, Value), AppError> {
        if st.decision != Some(Outcome::Grant) {
            return Err(AppError::invalid("not_granted", "licences are issued for granted decisions only"));
        }
        let valid_to = lt.valid_to(today).map(format_date);
        let holder = self.reveal_id(&st.applicant)?;
        let holder_code = holder.as_str().to_string();
        let holder_index = self.clear_index(&holder);
        let holder_code_type = match holder {
            ClearId::Organisation(_) => "001",
            ClearId::Resident(_) => "111",
        };
        let from_source = lt
            .number_from
            .as_ref()
            .and_then(|src| self.resolve_source(src, st, &holder, today, None, None))
            .filter(|n| !n.is_empty());
        let number = match from_source {
            Some(n) => n,
            // A business licence's number is the organisation's USCC when the form does not carry it.
            None if lt.number_from.is_some() && matches!(holder, ClearId::Organisation(_)) => holder_code.clone(),
            None => format!("{}{}{}", lt.number_prefix.clone().unwrap_or_default(), REGION, &id.serial),
        };
        let mut fields = Map::new();
        let mut public_fields = Map::new();
        for f in &lt.fields {
            // Personal values stay sealed in the stored body: the applicant's ID number (sealed now if it is an
            // organisation's clear code) and personal form fields (sealed in the case already).
            let stored = match &f.source {
                LicenseSource::ApplicantIdNumber => json!(self.sealed_id(&st.applicant.id_number)?),
                src => json!(self
                    .resolve_source(src, st, &holder, today, valid_to.as_deref(), Some(&number))
                    .unwrap_or_default()),
            };
            if lt.public_fields.contains(&f.key) {
                let shown = self.resolve_source(&f.source, st, &holder, today, valid_to.as_deref(), Some(&number));
                public_fields.insert(f.key.clone(), json!(shown.unwrap_or_default()));
            }
            fields.insert(f.key.clone(), stored);
        }
        let public_holder_code = holder.shown();
        let public = json!({
            "identifier": id.to_string(),
            "license_name": lt.name,
            "license_type_code": lt.type_code,
            "number": number,
            "holder": st.applicant.name,
            "holder_code": public_holder_code,
            "holder_code_type": holder_code_type,
            "issuer": ISSUER_NAME,
            "issuer_code": id.issuer,
            "issued": format_date(today),
            "valid_from": format_date(today),
            "valid_to": valid_to,
            "region": REGION,
            "fields": public_fields,
        });
        let body = json!({ "public": public, "fields": fields, "holder_code": self.seal_value(&holder_code)? });
        let row = LicenseRow {
            identifier: id.to_string(),
            lineage: format!("{}.{}.{}", id.type_code, id.issuer, id.serial),
            version: i64::from(id.version),
            number,
            license_type: lt.code.clone(),
            holder_name: st.applicant.name.clone(),
            holder_index: Some(holder_index),
            case_no: Some(st.case_no.as_str().to_string()),
            status: "valid".into(),
            issued: format_date(today),
            valid_to,
            status_index,
            body: body.to_string(),
            signed_payload: String::new(),
            key_id: String::new(),
            signature: String::new(),
            qr: String::new(),
            reason: None,
        };
        Ok((row, public))
    }

    /// The text a licence field shows from its source (`holder` is the applicant's number: shown masked unless an
    /// organisation's code).
    fn resolve_source(
        &self,
        src: &LicenseSource,
        st: &CaseState,
        holder: &ClearId,
        today: time::Date,
        valid_to: Option<&str>,
        number: Option<&str>,
    ) -> Option<String> {
        match src {
            LicenseSource::Text(lit) => Some(lit.clone()),
            LicenseSource::Form(key) => st.form.get(key).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            LicenseSource::ApplicantName => Some(st.applicant.name.clone()),
            LicenseSource::ApplicantIdNumber => Some(holder.shown()),
            LicenseSource::CaseNo => Some(st.case_no.as_str().to_string()),
            LicenseSource::DecidedAt | LicenseSource::ValidFrom => Some(format_date(today)),
            LicenseSource::ValidTo => Some(valid_to.unwrap_or("长期").to_string()),
            LicenseSource::Number => number.map(str::to_string),
            LicenseSource::InspectionChecklist => self.checklist_text(st),
        }
    }

    /// Cancel (注销) or revoke (撤销) a licence, with a reason: the approver of the department that issued it; an event.
    pub async fn change_license_status(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
        revoke: bool,
        reason: &str,
    ) -> Result<(), AppError> {
        if !actor.has(Role::Approver) {
            return Err(AppError::Forbidden("cancelling or revoking a licence needs an approver".into()));
        }
        check_status_reason(reason)?;
        let (id, actor, now, reason, app) =
            (identifier.to_string(), actor.clone(), ms(self.now()), reason.trim().to_string(), self.clone());
        self.store
            .write(move |db| -> Result<(), AppError> {
                let row = db.license(&id)?.ok_or_else(|| AppError::NotFound(format!("licence {id}")))?;
                may_change_license(db, &actor, &row)?;
                status_of(&row)?.check_change()?;
                let ev = if revoke {
                    LicenseEvent::Revoked { identifier: id, reason }
                } else {
                    LicenseEvent::Cancelled { identifier: id, reason }
                };
                let e = record(db, &format!("license-{}", row.lineage), &ev, &actor.id, now)?;
                project(&app, db, &e)
            })
            .await
    }

    /// The W3C Bitstring Status List: bit i set when the licence with status index i is revoked or cancelled;
    /// GZIP-compressed, base64url, multibase prefix `u`.
    pub async fn status_list(&self) -> Result<String, AppError> {
        let revoked = self.store.read(|db| db.revoked_status_indexes().map_err(AppError::from)).await?;
        let mut bits = vec![0u8; STATUS_LIST_SIZE / 8];
        for i in revoked {
            let i = i as usize;
            if i < STATUS_LIST_SIZE {
                bits[i / 8] |= 0x80 >> (i % 8);
            }
        }
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bits).map_err(|e| AppError::Internal(e.to_string()))?;
        let zipped = gz.finish().map_err(|e| AppError::Internal(e.to_string()))?;
        use base64::Engine;
        Ok(format!("u{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped)))
    }

    /// The licences of a case (for its applicant and staff who may see it).
    pub async fn case_licenses(&self, case_no: &CaseNo) -> Result<Vec<LicenseRow>, AppError> {
        let no = case_no.to_string();
        self.store.read(move |db| db.licenses_of_case(&no).map_err(AppError::from)).await
    }

    /// My licences: those whose holder is me (by ID number) or an organisation I act for.
    pub async fn my_licenses(&self, actor: &Actor) -> Result<Vec<LicenseRow>, AppError> {
        let indexes = self.holder_indexes(actor, false).await?;
        let mut out = BTreeMap::new();
        for ix in indexes {
            let rows = self.store.read(move |db| db.licenses_of_holder(&ix).map_err(AppError::from)).await?;
            for r in rows {
                out.insert(r.identifier.clone(), r);
            }
        }
        Ok(out.into_values().collect())
    }
}

impl App {
    /// 双公示: granted licensing decisions on organisations, public (no personal ID numbers), shown once
    /// `delay_days` working days have passed since issue (0: at once).
    pub async fn disclosures(&self, q: Option<&str>, limit: i64, offset: i64) -> Result<(Vec<Value>, i64), AppError> {
        let types: Vec<String> = self.license_types.iter().filter(|t| t.disclosure).map(|t| t.code.clone()).collect();
        let today = local_date(self.now());
        let delay = self.disclosure_delay_days.read().map(|g| *g).unwrap_or(0);
        // The newest issue date that is old enough: today minus `delay` working days.
        let mut cutoff = today;
        let cal = self.calendar();
        let mut left = delay;
        while left > 0 {
            cutoff = cutoff.previous_day().unwrap_or(cutoff);
            if cal.is_workday(cutoff).unwrap_or(true) {
                left -= 1;
            }
        }
        let (by, q) = (format_date(cutoff), q.map(str::to_string));
        let (rows, total) = self
            .store
            .read(move |db| db.disclosed_licenses(&types, &by, q.as_deref(), limit, offset).map_err(AppError::from))
            .await?;
        let list = rows
            .iter()
            .map(|r| {
                let public: Value = serde_json::from_str(&r.signed_payload).unwrap_or_default();
                let holder = if held_by_person(&public) { crate::pd::mask_name(&r.holder_name) } else { r.holder_name.clone() };
                json!({ "identifier": r.identifier, "license_name": public["license_name"], "number": r.number, "holder": holder,
                        "holder_code": public["holder_code"], "issuer": ISSUER_NAME, "issued": r.issued, "valid_to": r.valid_to, "status": r.status })
            })
            .collect();
        Ok((list, total))
    }

    /// 变更: a new version of a licence with changed fields, re-signed; the old version is superseded (its
    /// verification answers "amended" and names the new one). The department's approver, with a reason.
    pub async fn amend_license(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
        changes: &Map<String, Value>,
        reason: &str,
    ) -> Result<LicenseIdentifier, AppError> {
        if !actor.has(Role::Approver) {
            return Err(AppError::Forbidden("amending a licence needs an approver".into()));
        }
        check_amendment(changes, reason)?;
        let seal = self.current_seal()?;
        let (id, actor, now, reason, changes, app) = (
            identifier.to_string(),
            actor.clone(),
            self.now(),
            reason.trim().to_string(),
            changes.clone(),
            self.clone(),
        );
        self.store
            .write(move |db| -> Result<LicenseIdentifier, AppError> {
                let old = db.license(&id)?.ok_or_else(|| AppError::NotFound(format!("licence {id}")))?;
                may_change_license(db, &actor, &old)?;
                status_of(&old)?.check_change()?;
                let lt = app
                    .license_type(&old.license_type)
                    .ok_or_else(|| AppError::Internal("licence type missing".into()))?;
                let parsed =
                    LicenseIdentifier::parse(&old.identifier).map_err(|e| AppError::Internal(e.to_string()))?;
                let next = LicenseIdentifier { version: parsed.version + 1, ..parsed };
                let mut body: Value = serde_json::from_str(&old.body).map_err(|e| AppError::Internal(e.to_string()))?;
                let mut public = body["public"].clone();
                for (k, v) in &changes {
                    let Some(f) = lt.fields.iter().find(|f| &f.key == k) else {
                        return Err(AppError::invalid(
                            "unknown_license_field",
                            format!("the licence has no field {k}"),
                        ));
                    };
                    let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    if text.chars().count() > 500 {
                        return Err(AppError::invalid("field_too_long", format!("{k} is longer than 500 characters")));
                    }
                    // The holder's ID number stays sealed in the stored body, as when issued.
                    let stored = match f.source {
                        LicenseSource::ApplicantIdNumber => app.seal_value(&text)?,
                        _ => text.clone(),
                    };
                    body["fields"][k] = json!(stored);
                    if lt.public_fields.contains(k) {
                        public["fields"][k] = json!(text);
                    }
                }
                public["identifier"] = json!(next.to_string());
                public["amends"] = json!(old.identifier);
                body["public"] = public.clone();
                let payload = serde_json::to_string(&public).map_err(|e| AppError::Internal(e.to_string()))?;
                let claims = Claims {
                    identifier: next.to_string(),
                    type_name: lt.name.clone(),
                    holder: old.holder_name.clone(),
                    issuer: ISSUER_NAME.into(),
                    issued: old.issued.clone(),
                    valid_to: old.valid_to.clone(),
                    number: old.number.clone(),
                };
                let status_index = db.next_counter("license-status-index")? - 1;
                let new = LicenseRow {
                    identifier: next.to_string(),
                    version: i64::from(next.version),
                    status: "valid".into(),
                    status_index,
                    body: body.to_string(),
                    signature: hex(&seal.sign(payload.as_bytes())),
                    key_id: seal.key_id().to_string(),
                    signed_payload: payload,
                    qr: qr::encode(&claims, &seal),
                    reason: None,
                    ..old.clone()
                };
                let ev = LicenseEvent::Amended { license: issued_of(&new), supersedes: old.identifier.clone(), reason };
                let e = record(db, &format!("license-{}", old.lineage), &ev, &actor.id, ms(now))?;
                project(&app, db, &e)?;
                Ok(next)
            })
            .await
    }

    /// How many working days after issue a decision is disclosed (configuration; default 0).
    pub fn set_disclosure_delay(&self, days: u32) {
        if let Ok(mut g) = self.disclosure_delay_days.write() {
            *g = days;
        }
    }
}

/// The reason a cancellation or revocation needs (1–500 characters); checked before the licence is looked up.
pub fn check_status_reason(reason: &str) -> Result<(), AppError> {
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(AppError::invalid("reason_required", "a reason (1–500 characters) is required"));
    }
    Ok(())
}

/// An amendment needs changed fields and a reason; checked before the licence is looked up.
pub fn check_amendment(changes: &Map<String, Value>, reason: &str) -> Result<(), AppError> {
    if reason.trim().is_empty() || changes.is_empty() {
        return Err(AppError::invalid("reason_required", "an amendment needs changed fields and a reason"));
    }
    Ok(())
}

/// The `license_issued` event of a licence: everything the licences projection holds but the holder's blind index,
/// which depends on the master key and is recomputed, and the status.
fn issued_of(l: &LicenseRow) -> IssuedLicense {
    IssuedLicense {
        identifier: l.identifier.clone(),
        lineage: l.lineage.clone(),
        version: l.version,
        number: l.number.clone(),
        license_type: l.license_type.clone(),
        holder_name: l.holder_name.clone(),
        case_no: l.case_no.clone(),
        issued: l.issued.clone(),
        valid_to: l.valid_to.clone(),
        status_index: l.status_index,
        body: serde_json::from_str::<Value>(&l.body).unwrap_or_default(),
        signed_payload: l.signed_payload.clone(),
        key_id: l.key_id.clone(),
        signature: l.signature.clone(),
        qr: l.qr.clone(),
    }
}

/// The status of a licences row.
fn status_of(l: &LicenseRow) -> Result<LicenseStatus, AppError> {
    LicenseStatus::parse(&l.status)
        .ok_or_else(|| AppError::Internal(format!("licence {}: status {}", l.identifier, l.status)))
}

/// The licences projection after one event of a licence's stream (issuance, amendment, cancellation and
/// revocation call it, and `rebuild`). Consents and fetches under them change no row: they are folded when read.
pub(crate) fn project(app: &App, db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
    match decode::<LicenseEvent>(e)? {
        LicenseEvent::Issued(l) => db.put_license(&app.license_row(l)?)?,
        LicenseEvent::Amended { license, supersedes, .. } => {
            let new = app.license_row(license)?;
            if let Some(mut old) = db.license(&supersedes)? {
                old.status = LicenseStatus::Superseded.as_str().into();
                old.reason = Some(new.identifier.clone());
                db.put_license(&old)?;
            }
            db.put_license(&new)?;
        }
        LicenseEvent::Revoked { identifier, reason } | LicenseEvent::Cancelled { identifier, reason } => {
            let status =
                if e.event_type == "license_revoked" { LicenseStatus::Revoked } else { LicenseStatus::Cancelled };
            if let Some(mut row) = db.license(&identifier)? {
                row.status = status.as_str().into();
                row.reason = Some(reason);
                db.put_license(&row)?;
            }
        }
        LicenseEvent::ConsentGranted { .. } | LicenseEvent::ConsentRevoked { .. } | LicenseEvent::Accessed { .. } => {}
    }
    Ok(())
}

impl App {
    /// The licences projection row of an issued licence: valid, with the holder's blind index.
    fn license_row(&self, l: IssuedLicense) -> Result<LicenseRow, AppError> {
        let holder_index = match (l.body["holder_code"].as_str(), l.body["public"]["holder_code_type"].as_str()) {
            (Some(code), Some(t)) => {
                let clear = self.reveal(code)?;
                let kind = if t == "001" { ApplicantKind::Organisation } else { ApplicantKind::Person };
                Some(self.id_index(kind, &clear))
            }
            _ => None,
        };
        Ok(LicenseRow {
            identifier: l.identifier,
            lineage: l.lineage,
            version: l.version,
            number: l.number,
            license_type: l.license_type,
            holder_name: l.holder_name,
            holder_index,
            case_no: l.case_no,
            status: LicenseStatus::Valid.as_str().into(),
            issued: l.issued,
            valid_to: l.valid_to,
            status_index: l.status_index,
            body: l.body.to_string(),
            signed_payload: l.signed_payload,
            key_id: l.key_id,
            signature: l.signature,
            qr: l.qr,
            reason: None,
        })
    }
}

/// The USCC of a department id, for tests and tools.
pub fn issuer_of(view: &crate::catalog::CatalogView, department: &str) -> Option<Uscc> {
    view.departments.iter().find(|d| d.id.as_str() == department).map(|d| d.uscc.clone())
}

impl App {
    /// Set the public address (`https://…`, no trailing slash needed) printed on licences.
    pub fn set_public_url(&self, url: &str) -> Result<(), AppError> {
        let url = url.trim().trim_end_matches('/');
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            return Err(AppError::invalid("invalid_public_url", "the public URL is http(s)://host[:port][/path]"));
        }
        if let Ok(mut g) = self.public_url.write() {
            *g = url.to_string();
        }
        Ok(())
    }

    pub fn public_url(&self) -> String {
        self.public_url.read().map(|g| g.clone()).unwrap_or_else(|_| crate::DEFAULT_PUBLIC_URL.to_string())
    }

    /// The URL form of a licence's check: opens the public verification page on the identifier.
    pub fn verify_url(&self, identifier: &LicenseIdentifier) -> String {
        format!("{}/v/{identifier}", self.public_url())
    }

    /// The printable PDF of a licence, for its holder (or whoever acts for the holding organisation): every
    /// field as issued, the seal, the QR. Valid licences only (an amended one prints as its new version).
    /// Returns the file name and the bytes; the same licence always gives the same bytes.
    pub async fn license_pdf(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
    ) -> Result<(String, Vec<u8>), AppError> {
        let row = self.held_license(actor, identifier, false).await?;
        if row.status != "valid" {
            let hint = if row.status == "superseded" {
                format!("; the current version is {}", row.reason.clone().unwrap_or_default())
            } else {
                String::new()
            };
            return Err(AppError::invalid(
                "license_not_valid",
                format!("the licence is {}{hint}; only valid licences are printed", row.status),
            ));
        }
        let sheet = self.license_sheet(&row)?;
        let rendered = tokio::task::spawn_blocking(move || oneseal_pdf::license::render(&sheet))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((format!("{}-{}.pdf", row.license_type, row.number), rendered.bytes))
    }

    /// What a licence's printed sheet shows.
    pub fn license_sheet(&self, row: &LicenseRow) -> Result<oneseal_pdf::license::LicenseSheet, AppError> {
        use sha2::Digest;
        let lt = self
            .license_type(&row.license_type)
            .ok_or_else(|| AppError::Internal(format!("licence type {} missing", row.license_type)))?;
        let body: Value = serde_json::from_str(&row.body).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut fields = Vec::new();
        for f in &lt.fields {
            let raw = body["fields"][&f.key].as_str().unwrap_or_default();
            fields.push(oneseal_pdf::license::SheetField {
                label: f.label.clone(),
                label_en: f.label_en.clone(),
                value: self.reveal(raw)?,
            });
        }
        let date = time::Date::parse(&row.issued, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|e| AppError::Internal(format!("issue date {}: {e}", row.issued)))?;
        let identifier = LicenseIdentifier::parse(&row.identifier)
            .map_err(|e| AppError::Internal(format!("{}: {e}", row.identifier)))?;
        let digest = sha2::Sha256::digest(format!("{}\n{}", row.identifier, row.signature).as_bytes());
        let mut file_id = [0u8; 16];
        file_id.copy_from_slice(&digest[..16]);
        Ok(oneseal_pdf::license::LicenseSheet {
            title: lt.name.clone(),
            title_en: lt.name_en.clone(),
            number: row.number.clone(),
            identifier: row.identifier.clone(),
            fields,
            issuer: ISSUER_NAME.into(),
            issued: (date.year() as u16, u8::from(date.month()), date.day()),
            qr: row.qr.clone(),
            verify_url: self.verify_url(&identifier),
            seal_text: "行政审批专用章".into(),
            file_id,
        })
    }
}

/// Only an approver of the department that issued a licence (the department of its case) amends, cancels or
/// revokes it: the bureau's one seal does not make every department's approver an approver of every licence.
fn may_change_license(db: &mut Db, actor: &Actor, row: &LicenseRow) -> Result<(), AppError> {
    let department = match &row.case_no {
        Some(no) => db.get_case(no)?.map(|c| c.department),
        None => None,
    };
    let Some(department) = department else {
        return Err(AppError::Forbidden(
            "this licence has no issuing case in this bureau; it cannot be changed here".into(),
        ));
    };
    let dept = oneseal_domain::ids::DepartmentId::parse(&department).map_err(|e| AppError::Internal(e.to_string()))?;
    if actor.can_work(Role::Approver, Some(&dept)) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("only an approver of {department}, which issued the licence, may change it")))
    }
}
