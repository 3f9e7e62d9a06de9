//! 授权用证: a licence holder lets a department fetch the licence's full record (with the holder's sealed
//! identity number and every field) for a purpose and a time; each fetch is recorded and shown to the holder.
//!
//! Consents and fetches are events on the licence's own stream (`license-{lineage}`), folded when read: a licence
//! stream is short, so no projection table (and nothing for `rebuild` to forget) is needed.

use oneseal_domain::case::ApplicantKind;
use oneseal_domain::license::{LicenseEvent, LicenseIdentifier};
use oneseal_domain::roles::Actor;
use oneseal_store::LicenseRow;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::streams::{record, record_at};
use crate::{from_ms, ms, App, AppError};

const DAY_MS: i64 = 86_400_000;

/// One consent, as its holder and the department see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LicenseConsent {
    pub consent_id: String,
    pub department: String,
    pub purpose: String,
    pub granted_by: String,
    pub granted_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub active: bool,
}

/// One fetch of the full record by a department.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LicenseAccess {
    pub consent_id: String,
    pub department: String,
    pub actor: String,
    pub purpose: String,
    pub at: String,
}

/// The consents on a licence and the fetches made under them.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentRecord {
    pub identifier: String,
    pub consents: Vec<LicenseConsent>,
    pub accesses: Vec<LicenseAccess>,
}

fn rfc3339(at_ms: i64) -> String {
    from_ms(at_ms).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Fold the consent events of a licence stream (`now` decides which are active).
fn fold(events: &[oneseal_store::StoredEvent], now_ms: i64) -> (Vec<LicenseConsent>, Vec<LicenseAccess>) {
    let mut consents: Vec<LicenseConsent> = Vec::new();
    let mut accesses = Vec::new();
    for e in events {
        let p: Value = serde_json::from_str(&e.payload).unwrap_or_default();
        let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
        match e.event_type.as_str() {
            "license_consent_granted" => {
                let expires = p["expires_at_ms"].as_i64().unwrap_or_default();
                consents.push(LicenseConsent {
                    consent_id: s("consent_id"),
                    department: s("department"),
                    purpose: s("purpose"),
                    granted_by: e.actor.clone(),
                    granted_at: rfc3339(e.at_ms),
                    expires_at: rfc3339(expires),
                    revoked_at: None,
                    active: expires > now_ms,
                });
            }
            "license_consent_revoked" => {
                let id = s("consent_id");
                if let Some(c) = consents.iter_mut().find(|c| c.consent_id == id) {
                    c.revoked_at = Some(rfc3339(e.at_ms));
                    c.active = false;
                }
            }
            "license_accessed" => accesses.push(LicenseAccess {
                consent_id: s("consent_id"),
                department: s("department"),
                actor: e.actor.clone(),
                purpose: s("purpose"),
                at: rfc3339(e.at_ms),
            }),
            _ => {}
        }
    }
    (consents, accesses)
}

fn stream_of(row: &LicenseRow) -> String {
    format!("license-{}", row.lineage)
}

impl App {
    /// The blind indexes of the holders an applicant acts as: themself (a registered person) and the
    /// organisations they represent or are an agent of; with `acting` false also those they only follow.
    pub(crate) async fn holder_indexes(&self, actor: &Actor, acting: bool) -> Result<Vec<String>, AppError> {
        let me = actor.id.clone();
        let person = self.store.read(move |db| db.person(&me).map_err(AppError::from)).await?;
        let followed = if acting { &[][..] } else { &actor.follows[..] };
        let mut indexes: Vec<String> =
            actor.acts_for.iter().chain(followed).map(|u| self.id_index(ApplicantKind::Organisation, u)).collect();
        if let Some(p) = person {
            indexes.push(p.id_index);
        }
        Ok(indexes)
    }

    /// A licence the actor holds (or acts for; with `acting` false, also follows); anything else is "not found",
    /// never "forbidden".
    pub(crate) async fn held_license(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
        acting: bool,
    ) -> Result<LicenseRow, AppError> {
        let id = identifier.to_string();
        let row = self.store.read(move |db| db.license(&id).map_err(AppError::from)).await?;
        let row = row.ok_or_else(|| AppError::NotFound(format!("licence {identifier}")))?;
        let mine = self.holder_indexes(actor, acting).await?;
        match &row.holder_index {
            Some(ix) if mine.contains(ix) => Ok(row),
            _ => Err(AppError::NotFound(format!("licence {identifier}"))),
        }
    }

    /// What a consent must name (a purpose of 1–200 characters, 1–365 days, a department of the catalog); checked
    /// before the licence is looked up.
    pub fn check_consent_terms(&self, department: &str, purpose: &str, days: u32) -> Result<(), AppError> {
        let purpose = purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 200 {
            return Err(AppError::invalid("purpose_required", "a purpose (1–200 characters) is required"));
        }
        if !(1..=365).contains(&days) {
            return Err(AppError::invalid("consent_days_out_of_range", "a consent lasts 1 to 365 days"));
        }
        if !self.catalog().departments.iter().any(|d| d.id.as_str() == department) {
            return Err(AppError::invalid("unknown_department", format!("no department {department}")));
        }
        Ok(())
    }

    /// The holder lets `department` fetch the full record for `purpose`, for `days` days (1–365).
    pub async fn grant_license_consent(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
        department: &str,
        purpose: &str,
        days: u32,
    ) -> Result<LicenseConsent, AppError> {
        self.check_consent_terms(department, purpose, days)?;
        let purpose = purpose.trim().to_string();
        let row = self.held_license(actor, identifier, true).await?;
        if row.status != "valid" {
            return Err(AppError::invalid("license_not_valid", format!("the licence is {}", row.status)));
        }
        let now = ms(self.now());
        let expires = now + i64::from(days) * DAY_MS;
        let consent_id = format!("c-{}", crate::random_hex(8)?);
        let event = LicenseEvent::ConsentGranted {
            identifier: row.identifier.clone(),
            consent_id: consent_id.clone(),
            department: department.to_string(),
            purpose: purpose.to_string(),
            expires_at_ms: expires,
        };
        let (stream, actor_id) = (stream_of(&row), actor.id.clone());
        self.store
            .write(move |db| -> Result<(), AppError> {
                record(db, &stream, &event, &actor_id, now)?;
                Ok(())
            })
            .await?;
        Ok(LicenseConsent {
            consent_id,
            department: department.to_string(),
            purpose,
            granted_by: actor.id.clone(),
            granted_at: rfc3339(now),
            expires_at: rfc3339(expires),
            revoked_at: None,
            active: true,
        })
    }

    /// The holder withdraws a consent (an unknown consent is 404, one already withdrawn 422).
    pub async fn revoke_license_consent(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
        consent_id: &str,
    ) -> Result<ConsentRecord, AppError> {
        let row = self.held_license(actor, identifier, true).await?;
        let (stream, actor_id, now, cid) = (stream_of(&row), actor.id.clone(), ms(self.now()), consent_id.to_string());
        let id = row.identifier.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                let events = db.read_stream(&stream)?;
                let (consents, _) = fold(&events, now);
                let c = consents
                    .iter()
                    .find(|c| c.consent_id == cid)
                    .ok_or_else(|| AppError::NotFound(format!("consent {cid}")))?;
                if c.revoked_at.is_some() {
                    return Err(AppError::invalid(
                        "consent_already_revoked",
                        format!("consent {cid} is already revoked"),
                    ));
                }
                let event = LicenseEvent::ConsentRevoked { identifier: id, consent_id: cid };
                record_at(db, &stream, events.last().map(|e| e.version).unwrap_or(0), &event, &actor_id, now)?;
                Ok(())
            })
            .await?;
        self.license_consents(actor, identifier).await
    }

    /// The holder's view: every consent given on the licence and every fetch made under one.
    pub async fn license_consents(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
    ) -> Result<ConsentRecord, AppError> {
        let row = self.held_license(actor, identifier, false).await?;
        let stream = stream_of(&row);
        let events = self.store.read(move |db| db.read_stream(&stream).map_err(AppError::from)).await?;
        let (consents, accesses) = fold(&events, ms(self.now()));
        Ok(ConsentRecord { identifier: row.identifier, consents, accesses })
    }

    /// A department's staff fetch the full record under an active consent for their department; recorded.
    pub async fn fetch_license_with_consent(
        &self,
        actor: &Actor,
        identifier: &LicenseIdentifier,
    ) -> Result<Value, AppError> {
        let id = identifier.to_string();
        let row = self.store.read(move |db| db.license(&id).map_err(AppError::from)).await?;
        let row = row.ok_or_else(|| AppError::NotFound(format!("licence {identifier}")))?;
        let department = actor
            .department
            .as_ref()
            .map(|d| d.as_str().to_string())
            .ok_or_else(|| AppError::Forbidden("only staff of a department may fetch a licence".into()))?;
        let (stream, now, actor_id) = (stream_of(&row), ms(self.now()), actor.id.clone());
        let (ident, dept) = (row.identifier.clone(), department.clone());
        // Check the consent and record the fetch in one transaction: a consent revoked meanwhile is honoured.
        let consent = self
            .store
            .write(move |db| -> Result<LicenseConsent, AppError> {
                let events = db.read_stream(&stream)?;
                let (consents, _) = fold(&events, now);
                let consent =
                    consents.into_iter().rev().find(|c| c.department == dept && c.active).ok_or_else(|| {
                        AppError::Forbidden(format!(
                            "the holder has not authorised department {dept} to use licence {ident} (no active consent)"
                        ))
                    })?;
                let event = LicenseEvent::Accessed {
                    identifier: ident.clone(),
                    consent_id: consent.consent_id.clone(),
                    department: dept.clone(),
                    purpose: consent.purpose.clone(),
                };
                record_at(db, &stream, events.last().map(|e| e.version).unwrap_or(0), &event, &actor_id, now)?;
                Ok(consent)
            })
            .await?;
        let body: Value = serde_json::from_str(&row.body).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut fields = Map::new();
        for (k, v) in body["fields"].as_object().cloned().unwrap_or_default() {
            let s = v.as_str().unwrap_or_default();
            let clear = if oneseal_seal::pd::is_sealed(s) { self.reveal(s)? } else { s.to_string() };
            fields.insert(k, json!(clear));
        }
        let holder_code = body["holder_code"].as_str().map(|s| self.reveal(s)).transpose()?;
        Ok(json!({
            "identifier": row.identifier, "status": row.status, "public": body["public"],
            "holder_code": holder_code, "fields": fields, "consent": consent,
        }))
    }
}
