//! Personal data at rest and on screen: resident ID numbers, phone numbers and addresses are sealed with SM4-GCM
//! before any event or projection is written, found through HMAC-SM3 blind indexes, shown masked, and unmasked
//! only by staff who give a reason — every staff read of a person's data is recorded, and the person can see who
//! read it.

use std::collections::BTreeMap;

use oneseal_domain::case::{ApplicantInfo, ApplicantKind, CaseEvent, CaseState, Delivery};
use oneseal_domain::catalog::{FieldType, FormSchema};
use oneseal_domain::ids::{CaseNo, ResidentId};
use oneseal_domain::party::{ClearId, IdNumber, MaskedId, ID_NUMBER_FIELD};
use oneseal_domain::personal_data::AccessEvent;
use oneseal_domain::personal_data::Sealed;
use oneseal_domain::roles::Actor;
use oneseal_seal::pd::{is_sealed, Keyring, MasterKey};
use oneseal_store::{DataKeyRow, PdAccess};
use serde_json::{json, Map, Value};

use crate::{ms, App, AppError};

fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(b)
}

/// Load the data keys, unwrapping them with the master key; create the first one on a new database.
pub(crate) fn load_keyring(store: &oneseal_store::Store, master: &MasterKey, now_ms: i64) -> Result<Keyring, AppError> {
    let mut rows = store.read_blocking(|db| db.data_keys().map_err(AppError::from))?;
    if rows.is_empty() {
        let id = format!("dk-{}", crate::hex(&random::<6>()?));
        let key = random::<16>()?;
        let wrapped = master.wrap(&id, &key, random::<12>()?).map_err(|e| AppError::Internal(e.to_string()))?;
        let row =
            DataKeyRow { id, wrapped, master_fingerprint: master.fingerprint(), created_at_ms: now_ms, current: true };
        let r = row.clone();
        store.write_blocking(move |db| db.put_data_key(&r).map_err(AppError::from))?;
        rows.push(row);
    }
    keyring_of(master, &rows)
}

pub(crate) fn keyring_of(master: &MasterKey, rows: &[DataKeyRow]) -> Result<Keyring, AppError> {
    let mut keys = BTreeMap::new();
    let mut current = None;
    for r in rows {
        let k = master.unwrap(&r.id, &r.wrapped).map_err(|_| {
            AppError::Internal(format!(
                "the personal-data master key (fingerprint {}) does not unwrap data key {} (wrapped under {}): wrong ONESEAL_PD_KEY?",
                master.fingerprint(),
                r.id,
                r.master_fingerprint
            ))
        })?;
        keys.insert(r.id.clone(), k);
        if r.current {
            current = Some(r.id.clone());
        }
    }
    let current = current.ok_or_else(|| AppError::Internal("no current data key".into()))?;
    Keyring::new(master, keys, &current).map_err(|e| AppError::Internal(e.to_string()))
}

/// Whether a form field holds personal data.
pub fn personal_field(t: FieldType, personal: bool) -> bool {
    personal || matches!(t, FieldType::ResidentId | FieldType::Phone)
}

/// 640104********001X
pub fn mask_id(v: &str) -> String {
    ResidentId::parse(v).map(|id| id.masked()).unwrap_or_else(|_| mask_text(v))
}

/// 138****0000
pub fn mask_phone(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() >= 7 {
        format!("{}****{}", c[..3].iter().collect::<String>(), c[c.len() - 4..].iter().collect::<String>())
    } else {
        "****".into()
    }
}

/// 张* / 欧阳** : a natural person's name, its first character kept.
pub fn mask_name(v: &str) -> String {
    let mut c = v.chars();
    match c.next() {
        Some(first) => format!("{first}{}", "*".repeat(c.count().max(1))),
        None => String::new(),
    }
}

/// An address or other text: the first few characters, then stars.
pub fn mask_text(v: &str) -> String {
    let c: Vec<char> = v.chars().collect();
    let keep = (c.len() / 3).min(6);
    format!("{}****", c[..keep].iter().collect::<String>())
}

impl App {
    pub(crate) fn keyring(&self) -> std::sync::Arc<Keyring> {
        self.keyring.read().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Seal one value (if not sealed already).
    pub fn seal_value(&self, plain: &str) -> Result<String, AppError> {
        if is_sealed(plain) {
            return Ok(plain.to_string());
        }
        self.keyring().seal(plain, random::<12>()?).map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Seal bytes (an uploaded file).
    pub fn seal_bytes(&self, plain: &[u8]) -> Result<String, AppError> {
        self.keyring().seal_bytes(plain, random::<12>()?).map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Open sealed bytes.
    pub fn open_bytes(&self, token: &str) -> Result<Vec<u8>, AppError> {
        self.keyring().open_bytes(token).map_err(|e| AppError::Internal(format!("attachment: {e}")))
    }

    /// The clear value of a sealed one (plain values pass through).
    pub fn reveal(&self, v: &str) -> Result<String, AppError> {
        if !is_sealed(v) {
            return Ok(v.to_string());
        }
        self.keyring().open(v).map_err(|e| AppError::Internal(format!("personal data: {e}")))
    }

    /// An applicant's clear ID number: as it is when clear, opened when sealed; a masked one cannot be.
    pub fn reveal_id(&self, a: &ApplicantInfo) -> Result<ClearId, AppError> {
        open_id(&self.keyring(), a)
    }

    /// An applicant's ID number sealed, for a licence body: the sealed value as it is, a clear one sealed now.
    pub fn sealed_id(&self, id: &IdNumber) -> Result<Sealed, AppError> {
        match id {
            IdNumber::Sealed(s) => Ok(s.clone()),
            IdNumber::Clear(c) => self.seal_clear(c),
            IdNumber::Masked(_) => Err(AppError::Internal("a masked ID number cannot be sealed".into())),
        }
    }

    fn seal_clear(&self, c: &ClearId) -> Result<Sealed, AppError> {
        let token = self.keyring().seal(c.as_str(), random::<12>()?).map_err(|e| AppError::Internal(e.to_string()))?;
        Sealed::parse(&token).ok_or_else(|| AppError::Internal("the keyring wrote a value of another format".into()))
    }

    /// The blind index of an applicant's ID number.
    pub fn applicant_index(&self, a: &ApplicantInfo) -> Option<String> {
        let ring = self.keyring();
        open_id(&ring, a).ok().map(|c| clear_index(&ring, &c))
    }

    /// The blind index of a clear ID number.
    pub fn clear_index(&self, c: &ClearId) -> String {
        clear_index(&self.keyring(), c)
    }

    /// The blind index for a lookup by ID number.
    pub fn id_index(&self, kind: ApplicantKind, id_number: &str) -> String {
        self.keyring().blind_index(index_kind(kind), id_number)
    }

    fn seal_form(&self, form: &mut Map<String, Value>, schema: &FormSchema) -> Result<(), AppError> {
        for f in &schema.fields {
            if !personal_field(f.field_type, f.personal) {
                continue;
            }
            if let Some(Value::String(v)) = form.get(&f.key) {
                let sealed = self.seal_value(v)?;
                form.insert(f.key.clone(), json!(sealed));
            }
        }
        Ok(())
    }

    fn seal_applicant(&self, a: &mut ApplicantInfo) -> Result<(), AppError> {
        // Organisation codes (USCC) are public; a person's ID number and every phone are sealed.
        let sealed = match &a.id_number {
            IdNumber::Clear(c @ ClearId::Resident(_)) => Some(self.seal_clear(c)?),
            IdNumber::Clear(ClearId::Organisation(_)) | IdNumber::Sealed(_) => None,
            IdNumber::Masked(_) => return Err(AppError::Internal("a masked ID number is never stored".into())),
        };
        if let Some(s) = sealed {
            a.id_number = IdNumber::Sealed(s);
        }
        if let Some(p) = &a.phone {
            a.phone = Some(self.seal_value(p)?);
        }
        Ok(())
    }

    /// Seal the personal data inside a case event before it is stored.
    pub fn seal_event(&self, e: &mut CaseEvent, schema: &FormSchema) -> Result<(), AppError> {
        match e {
            CaseEvent::Submitted { applicant, form, .. } => {
                self.seal_applicant(applicant)?;
                self.seal_form(form, schema)?;
            }
            CaseEvent::Corrected { form: Some(form), .. } => self.seal_form(form, schema)?,
            CaseEvent::Delivered { delivery: Delivery::Post { address, .. } } => *address = self.seal_value(address)?,
            _ => {}
        }
        Ok(())
    }

    /// A postal address as shown: the first few characters, then stars.
    fn mask_delivery(&self, d: &mut Delivery) {
        if let Delivery::Post { address, .. } = d {
            *address = mask_text(&self.reveal(address).unwrap_or_default());
        }
    }

    fn mask_form(&self, form: &mut Map<String, Value>, schema: &FormSchema) {
        for f in &schema.fields {
            if !personal_field(f.field_type, f.personal) {
                continue;
            }
            let Some(Value::String(v)) = form.get(&f.key) else { continue };
            let clear = self.reveal(v).unwrap_or_default();
            let masked = match f.field_type {
                FieldType::ResidentId => mask_id(&clear),
                FieldType::Phone => mask_phone(&clear),
                _ => mask_text(&clear),
            };
            form.insert(f.key.clone(), json!(masked));
        }
    }

    fn mask_applicant(&self, a: &mut ApplicantInfo) {
        if !matches!(a.id_number, IdNumber::Masked(_)) {
            a.id_number = self.reveal_id(a).map_or(IdNumber::Masked(MaskedId::unreadable()), |c| c.masked());
        }
        if let Some(p) = &a.phone {
            a.phone = Some(mask_phone(&self.reveal(p).unwrap_or_default()));
        }
    }

    /// A case state as shown: personal data masked, the query code's digest removed.
    pub fn mask_state(&self, st: &mut CaseState) {
        let def = self.catalog().definition(&st.subject).ok();
        let empty = FormSchema::default();
        self.mask_applicant(&mut st.applicant);
        self.mask_form(&mut st.form, def.as_deref().map_or(&empty, |d| &d.form));
        if let Some(d) = st.delivery.as_mut() {
            self.mask_delivery(d);
        }
        st.query_code_digest.clear();
    }

    /// A case event as shown in the trail.
    pub fn mask_event(&self, e: &mut CaseEvent, schema: &FormSchema) {
        match e {
            CaseEvent::Submitted { applicant, form, query_code_digest, .. } => {
                self.mask_applicant(applicant);
                self.mask_form(form, schema);
                query_code_digest.clear();
            }
            CaseEvent::Corrected { form: Some(form), .. } => self.mask_form(form, schema),
            CaseEvent::Delivered { delivery } => self.mask_delivery(delivery),
            _ => {}
        }
    }

    /// Record that staff read a person's data on a case (masked view or named fields), with the reason.
    pub async fn record_pd_access(
        &self,
        actor: &Actor,
        st: &CaseState,
        reason: &str,
        fields: &[String],
    ) -> Result<(), AppError> {
        self.record_access(actor, st.case_no.as_str(), st.applicant.account.clone(), reason, fields).await
    }

    /// Record a read of personal data on a case or a ticket (`reference`) as an event of its access stream and in
    /// the access log.
    pub(crate) async fn record_access(
        &self,
        actor: &Actor,
        reference: &str,
        subject: Option<String>,
        reason: &str,
        fields: &[String],
    ) -> Result<(), AppError> {
        let stream = format!("access-{reference}");
        let event = AccessEvent::Read {
            case_no: reference.to_string(),
            subject_account: subject,
            reason: reason.to_string(),
            fields: fields.to_vec(),
        };
        let at = ms(self.now());
        let actor_id = actor.id.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                let e = crate::streams::record(db, &stream, &event, &actor_id, at)?;
                project(db, &e)?;
                Ok(())
            })
            .await
    }

    /// The clear personal data of a case, for staff who may see the case and give a reason; the read is recorded.
    pub async fn unmask(&self, actor: &Actor, case_no: &CaseNo, reason: &str) -> Result<Value, AppError> {
        if !actor.is_staff() {
            return Err(AppError::Forbidden("only staff unmask personal data".into()));
        }
        if reason.trim().chars().count() < 2 || reason.chars().count() > 500 {
            return Err(AppError::invalid("reason_required", "unmasking needs a reason (2–500 characters)"));
        }
        let view = self.case_view_unrecorded(actor, case_no).await?;
        let st = view.state;
        let schema = self.catalog().definition(&st.subject).map(|d| d.form.clone()).unwrap_or_default();
        let mut fields = Vec::new();
        let mut out = Map::new();
        out.insert(ID_NUMBER_FIELD.into(), json!(self.reveal_id(&st.applicant)?.as_str()));
        fields.push(ID_NUMBER_FIELD.to_string());
        if let Some(p) = &st.applicant.phone {
            out.insert("applicant.phone".into(), json!(self.reveal(p)?));
            fields.push("applicant.phone".to_string());
        }
        for f in &schema.fields {
            if !personal_field(f.field_type, f.personal) {
                continue;
            }
            if let Some(Value::String(v)) = st.form.get(&f.key) {
                out.insert(format!("form.{}", f.key), json!(self.reveal(v)?));
                fields.push(format!("form.{}", f.key));
            }
        }
        self.record_pd_access(actor, &st, reason.trim(), &fields).await?;
        Ok(json!({ "case_no": case_no, "fields": out }))
    }

    /// Who read my personal data.
    pub async fn who_viewed(&self, actor: &Actor, limit: i64) -> Result<Vec<PdAccess>, AppError> {
        let me = actor.id.clone();
        self.store.read(move |db| db.pd_access_of(&me, limit).map_err(AppError::from)).await
    }

    /// Rotate the master key: re-wrap every data key under the new master key, start a new data key for new data,
    /// and recompute the blind indexes. Old data keys keep decrypting what they sealed (events are never rewritten).
    pub async fn rotate_master_key(&self, new_master: &MasterKey) -> Result<usize, AppError> {
        let rows = self.store.read(|db| db.data_keys().map_err(AppError::from)).await?;
        let old_master =
            self.master.read().map(|g| g.clone()).map_err(|_| AppError::Internal("master key lock".into()))?;
        let mut rewrapped = Vec::new();
        for r in &rows {
            let k = old_master.unwrap(&r.id, &r.wrapped).map_err(|e| AppError::Internal(e.to_string()))?;
            let wrapped = new_master.wrap(&r.id, &k, random::<12>()?).map_err(|e| AppError::Internal(e.to_string()))?;
            rewrapped.push(DataKeyRow {
                wrapped,
                master_fingerprint: new_master.fingerprint(),
                current: false,
                ..r.clone()
            });
        }
        let id = format!("dk-{}", crate::hex(&random::<6>()?));
        let key = random::<16>()?;
        let wrapped = new_master.wrap(&id, &key, random::<12>()?).map_err(|e| AppError::Internal(e.to_string()))?;
        rewrapped.push(DataKeyRow {
            id,
            wrapped,
            master_fingerprint: new_master.fingerprint(),
            created_at_ms: ms(self.now()),
            current: true,
        });
        let n = rewrapped.len();
        let all = rewrapped.clone();
        let new_ring = keyring_of(new_master, &all)?;
        let ring2 = new_ring.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                for r in &rewrapped {
                    db.put_data_key(r)?;
                }
                // Blind indexes depend on the master key: recompute them.
                let mut after = String::new();
                loop {
                    let rows = db.all_case_rows(&after, 1000)?;
                    let Some(last) = rows.last().map(|r| r.case_no.clone()) else { break };
                    for r in rows {
                        let st: CaseState =
                            serde_json::from_str(&r.state).map_err(|e| AppError::Internal(e.to_string()))?;
                        let clear = open_id(&ring2, &st.applicant)?;
                        db.set_applicant_index(&r.case_no, Some(&clear_index(&ring2, &clear)))?;
                    }
                    after = last;
                }
                // Persons (one account per ID number) and licence holders are found by the same indexes.
                let mut after = String::new();
                loop {
                    let rows = db.persons_page(&after, 1000)?;
                    let Some(last) = rows.last().map(|r| r.username.clone()) else { break };
                    for p in rows {
                        let clear = ring2.open(&p.id_sealed).map_err(|e| AppError::Internal(e.to_string()))?;
                        db.set_person_index(&p.username, &ring2.blind_index("resident_id", &clear))?;
                    }
                    after = last;
                }
                let mut after = String::new();
                loop {
                    let rows = db.license_bodies_page(&after, 1000)?;
                    let Some(last) = rows.last().map(|r| r.0.clone()) else { break };
                    for (identifier, body) in rows {
                        let body: serde_json::Value =
                            serde_json::from_str(&body).map_err(|e| AppError::Internal(e.to_string()))?;
                        let index = match (body["holder_code"].as_str(), body["public"]["holder_code_type"].as_str()) {
                            (Some(code), Some(t)) => {
                                let clear = if is_sealed(code) {
                                    ring2.open(code).map_err(|e| AppError::Internal(e.to_string()))?
                                } else {
                                    code.to_string()
                                };
                                Some(ring2.blind_index(if t == "001" { "uscc" } else { "resident_id" }, &clear))
                            }
                            _ => None,
                        };
                        db.set_license_holder_index(&identifier, index.as_deref())?;
                    }
                    after = last;
                }
                Ok(())
            })
            .await?;
        if let Ok(mut g) = self.keyring.write() {
            *g = std::sync::Arc::new(new_ring);
        }
        if let Ok(mut g) = self.master.write() {
            *g = new_master.clone();
        }
        Ok(n)
    }
}

/// An applicant's clear ID number with this keyring.
fn open_id(ring: &Keyring, a: &ApplicantInfo) -> Result<ClearId, AppError> {
    match &a.id_number {
        IdNumber::Clear(c) => Ok(c.clone()),
        IdNumber::Sealed(s) => {
            let text = ring.open(s.as_str()).map_err(|e| AppError::Internal(format!("personal data: {e}")))?;
            ClearId::parse(a.kind, &text).map_err(|e| AppError::Internal(format!("sealed ID number: {e}")))
        }
        IdNumber::Masked(_) => Err(AppError::Internal("a masked ID number cannot be revealed".into())),
    }
}

/// The blind index of a clear ID number (its kind names the index).
fn clear_index(ring: &Keyring, c: &ClearId) -> String {
    ring.blind_index(index_kind(c.kind()), c.as_str())
}

fn index_kind(kind: ApplicantKind) -> &'static str {
    match kind {
        ApplicantKind::Person => "resident_id",
        ApplicantKind::Organisation => "uscc",
    }
}

/// The read log projection after a recorded read (the read itself and `rebuild` both call it).
pub(crate) fn project(db: &mut oneseal_store::Db, e: &oneseal_store::StoredEvent) -> Result<(), AppError> {
    let AccessEvent::Read { case_no, subject_account, reason, fields } = crate::streams::decode(e)?;
    Ok(db.put_pd_access(&PdAccess {
        event_seq: e.seq,
        subject_account,
        case_no,
        actor: e.actor.clone(),
        at_ms: e.at_ms,
        reason,
        fields: fields.join(","),
    })?)
}
