//! Applicants as parties: natural persons register with their resident ID number and phone (sealed, one account
//! per ID number through the blind index), organisations are registered by their legal representative, and an
//! organisation authorises agents (经办人) with a scope and an expiry. Each is an event. Real-name verification
//! against the national identity service is outside this system; registration records what the person declares.

use oneseal_domain::case::ApplicantKind;
use oneseal_domain::ids::{ResidentId, Uscc};
use oneseal_domain::party::MaskedId;
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{NewEvent, OrganisationRow, PersonRow};
use serde::Serialize;
use serde_json::json;

use crate::{ms, App, AppError};

/// What an agent may do for an organisation.
pub const AGENT_SCOPES: &[&str] = &["apply", "follow"];

#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    pub username: String,
    pub name: String,
    pub id_number: MaskedId,
    pub phone: Option<String>,
}

impl App {
    /// Register a natural person: an applicant account with a sealed profile. The username is the one typed,
    /// checked (422 `invalid_username`) after the profile and the registration limit, as it always was.
    pub async fn register_person(
        &self,
        username: &str,
        password: &str,
        name: &str,
        resident_id: &str,
        phone: Option<&str>,
        addr: Option<&str>,
    ) -> Result<PersonView, AppError> {
        let rid = ResidentId::parse(resident_id)
            .map_err(|e| AppError::invalid("invalid_resident_id", format!("resident ID number: {e}")))?;
        if let Some(p) = phone {
            let ok = p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(AppError::invalid("invalid_phone", "a mobile number has 11 digits starting with 1"));
            }
        }
        if password.chars().count() < 10 || password.len() > 200 {
            return Err(AppError::invalid("weak_password", "a password is 10–200 characters"));
        }
        if name.trim().is_empty() || name.chars().count() > 50 {
            return Err(AppError::invalid("invalid_name", "a name is 1–50 characters"));
        }
        let index = self.id_index(ApplicantKind::Person, rid.as_str());
        let ix = index.clone();
        if self.store.read(move |db| db.person_by_index(&ix).map_err(AppError::from)).await?.is_some() {
            return Err(AppError::invalid(
                "person_exists",
                "an account is already registered for this ID number; sign in or reset the password",
            ));
        }
        // Each registration costs an Argon2 hash: an address gets a few per hour.
        self.registration_allowed(addr).await?;
        let hash = self.hash_password_bounded(password).await?;
        let username = crate::accounts::check_username(username)?;
        self.create_account(username.as_str(), &username, name, hash, &[Role::Applicant], None).await?;
        let row = PersonRow {
            username: username.to_string(),
            name: name.trim().to_string(),
            id_sealed: self.seal_value(rid.as_str())?,
            id_index: index,
            phone_sealed: phone.map(|p| self.seal_value(p)).transpose()?,
            created_at_ms: ms(self.now()),
        };
        let payload = json!({ "username": row.username, "name": row.name, "id_sealed": row.id_sealed, "phone_sealed": row.phone_sealed }).to_string();
        let r = row.clone();
        self.store
            .write(move |db| -> Result<(), AppError> {
                let stream = format!("person-{}", r.username);
                db.append(
                    &stream,
                    0,
                    &[NewEvent {
                        event_type: "person_registered".into(),
                        schema_version: 1,
                        actor: r.username.clone(),
                        at_ms: r.created_at_ms,
                        payload,
                    }],
                )?;
                db.put_person(&r).map_err(|e| match e {
                    oneseal_store::StoreError::Constraint(_) => {
                        AppError::invalid("person_exists", "an account is already registered for this ID number")
                    }
                    other => other.into(),
                })
            })
            .await?;
        Ok(PersonView {
            username: row.username,
            name: row.name,
            id_number: MaskedId::from(&rid),
            phone: phone.map(crate::pd::mask_phone),
        })
    }

    /// Claim an organisation with the signed-in person as its legal representative. The claim is verified at once
    /// when a valid business licence the bureau issued names this USCC and this person's ID number as legal
    /// representative; otherwise it stays `pending` (acting for nobody) until a window clerk checks the documents.
    /// Returns the organisation's status.
    pub async fn register_organisation(
        &self,
        actor: &Actor,
        uscc: &str,
        name: &str,
        legal_representative_id: &str,
    ) -> Result<OrganisationRow, AppError> {
        let code = Uscc::parse(uscc)
            .map_err(|e| AppError::invalid("invalid_uscc", format!("unified social credit code: {e}")))?;
        if !actor.has(Role::Applicant) {
            return Err(AppError::Forbidden("organisations are registered by their legal representative".into()));
        }
        if name.trim().is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("invalid_name", "an organisation name is 1–100 characters"));
        }
        let rid = ResidentId::parse(legal_representative_id)
            .map_err(|e| AppError::invalid("invalid_resident_id", format!("legal representative's ID number: {e}")))?;
        let index = self.id_index(ApplicantKind::Person, rid.as_str());
        let (me, at) = (actor.id.clone(), ms(self.now()));
        let (code, name) = (code.as_str().to_string(), name.trim().to_string());
        let app = self.clone();
        self.store
            .write(move |db| -> Result<OrganisationRow, AppError> {
                let person = db
                    .person(&me)?
                    .ok_or_else(|| AppError::invalid("person_profile_required", "register as a person first"))?;
                if person.id_index != index {
                    return Err(AppError::Forbidden("only the legal representative registers the organisation".into()));
                }
                // What the bureau itself knows: its newest valid business licence numbered with this USCC, with
                // the legal representative's ID number in the (sealed) form of the case that issued it.
                let newest = db.licenses_by_number(&code)?.into_iter().find(|l| {
                    l.status == "valid"
                        && matches!(l.license_type.as_str(), "business_license" | "individual_business_license")
                });
                let mut verified_by = None;
                if let Some(l) = newest {
                    let sealed = match l.case_no.as_deref() {
                        Some(case_no) => crate::cases::stored_form_value(
                            db,
                            &crate::cases::stored_case_no(case_no)?,
                            "legal_representative_id",
                        )?,
                        None => None,
                    };
                    if let Some(sealed) = sealed {
                        if app.reveal(&sealed)?.trim().eq_ignore_ascii_case(rid.as_str()) {
                            verified_by = Some(format!("license:{}", l.identifier));
                        }
                    }
                }
                let existing = db.organisation(&code)?;
                match &existing {
                    // The licence names this person: the claim stands, replacing an older representative's (whose
                    // agents lose their authorisation with it).
                    Some(o) if verified_by.is_some() => {
                        if o.legal_representative == me && o.status == "verified" {
                            return Err(AppError::invalid("organisation_exists", "you already represent this organisation"));
                        }
                        if o.legal_representative != me {
                            db.revoke_all_agents(&code, at)?;
                        }
                    }
                    Some(o) if o.status == "verified" => {
                        return Err(AppError::invalid("organisation_exists", "the organisation is already registered"));
                    }
                    Some(o) if o.legal_representative != me => {
                        return Err(AppError::invalid(
                            "organisation_claim_pending",
                            "someone else's claim on this organisation is waiting for a window clerk; bring the business licence and your ID card to a window",
                        ));
                    }
                    _ => {}
                }
                let row = OrganisationRow {
                    uscc: code.clone(),
                    name: name.clone(),
                    legal_representative: me.clone(),
                    status: if verified_by.is_some() { "verified" } else { "pending" }.into(),
                    verified_by: verified_by.clone(),
                };
                let stream = format!("org-{code}");
                let v = db.stream_version(&stream)?;
                let mut events = vec![NewEvent {
                    event_type: "organisation_registered".into(),
                    schema_version: 1,
                    actor: me.clone(),
                    at_ms: at,
                    payload: json!({ "uscc": code, "name": name, "legal_representative": me }).to_string(),
                }];
                if let Some(by) = &verified_by {
                    events.push(organisation_verified(&code, &me, by, None, &me, at));
                }
                db.append(&stream, v, &events)?;
                db.put_organisation(&row, at)?;
                Ok(row)
            })
            .await
    }

    /// A window clerk who checked the business licence and the representative's ID card verifies the claim (or
    /// names the right account, replacing a wrong claim). Recorded as an event with the clerk and what was checked.
    pub async fn verify_organisation(
        &self,
        actor: &Actor,
        uscc: &str,
        legal_representative: Option<&str>,
        documents: &str,
    ) -> Result<OrganisationRow, AppError> {
        if !actor.has(Role::WindowClerk) {
            return Err(AppError::Forbidden("a window clerk verifies an organisation's documents".into()));
        }
        let documents = documents.trim().to_string();
        if documents.is_empty() || documents.chars().count() > 500 {
            return Err(AppError::invalid(
                "invalid_documents",
                "name the documents you checked (1–500 characters), e.g. 营业执照原件、法定代表人身份证",
            ));
        }
        let (me, at, uscc) = (actor.id.clone(), ms(self.now()), uscc.trim().to_uppercase());
        let rep = legal_representative.map(str::to_string);
        self.store
            .write(move |db| -> Result<OrganisationRow, AppError> {
                let mut o =
                    db.organisation(&uscc)?.ok_or_else(|| AppError::NotFound(format!("organisation {uscc}")))?;
                if let Some(r) = rep {
                    if db.person(&r)?.is_none() {
                        return Err(AppError::invalid("unknown_person", format!("no registered person {r}")));
                    }
                    if o.legal_representative != r {
                        // The wrong claimant's authorisations go with the wrong claim.
                        db.revoke_all_agents(&uscc, at)?;
                        o.legal_representative = r;
                    }
                }
                o.status = "verified".into();
                o.verified_by = Some(me.clone());
                let stream = format!("org-{uscc}");
                let v = db.stream_version(&stream)?;
                let e = organisation_verified(&uscc, &o.legal_representative, &me, Some(&documents), &me, at);
                db.append(&stream, v, &[e])?;
                db.put_organisation(&o, at)?;
                Ok(o)
            })
            .await
    }

    /// Claims waiting for a window clerk.
    pub async fn pending_organisations(&self, actor: &Actor) -> Result<Vec<OrganisationRow>, AppError> {
        if !actor.has(Role::WindowClerk) {
            return Err(AppError::Forbidden("window clerks verify organisations".into()));
        }
        self.store.read(|db| db.pending_organisations(200).map_err(AppError::from)).await
    }

    /// The legal representative authorises an agent (an applicant account) for the organisation until a date.
    /// `agent` is the name as given: one that is not a [`oneseal_domain::ids::Username`] is an unknown agent (422
    /// `unknown_agent`), answered after the organisation's own checks as before.
    pub async fn authorise_agent(
        &self,
        actor: &Actor,
        uscc: &str,
        agent: &str,
        scope: &[String],
        days: u32,
    ) -> Result<(), AppError> {
        if scope.is_empty() || scope.iter().any(|s| !AGENT_SCOPES.contains(&s.as_str())) {
            return Err(AppError::invalid("invalid_scope", format!("scope is one or more of {AGENT_SCOPES:?}")));
        }
        if !(1..=1095).contains(&days) {
            return Err(AppError::invalid("invalid_expiry", "an authorisation lasts 1–1095 days"));
        }
        self.change_agent(actor, uscc, agent, Some((scope.join(","), days))).await
    }

    pub async fn revoke_agent(&self, actor: &Actor, uscc: &str, agent: &str) -> Result<(), AppError> {
        self.change_agent(actor, uscc, agent, None).await
    }

    async fn change_agent(
        &self,
        actor: &Actor,
        uscc: &str,
        agent: &str,
        grant: Option<(String, u32)>,
    ) -> Result<(), AppError> {
        let (me, at) = (actor.id.clone(), ms(self.now()));
        let (uscc, agent) = (uscc.to_string(), agent.to_string());
        self.store
            .write(move |db| -> Result<(), AppError> {
                let org = db.organisation(&uscc)?.ok_or_else(|| AppError::NotFound(format!("organisation {uscc}")))?;
                if org.legal_representative != me {
                    // Only the representative sees the organisation's authorisations.
                    return Err(AppError::NotFound(format!("organisation {uscc}")));
                }
                if org.status != "verified" {
                    return Err(AppError::invalid(
                        "organisation_pending",
                        "the organisation is not verified yet; a window clerk checks its business licence first",
                    ));
                }
                let acct = match oneseal_domain::ids::Username::parse(&agent) {
                    Ok(u) => db.get_account(u.as_str())?,
                    Err(_) => None,
                };
                let acct = acct.filter(|a| a.active && a.roles.split(',').any(|r| r == Role::Applicant.as_str()));
                if acct.is_none() {
                    return Err(AppError::invalid("unknown_agent", format!("no applicant account {agent}")));
                }
                let stream = format!("org-{uscc}");
                let v = db.stream_version(&stream)?;
                match grant {
                    Some((scope, days)) => {
                        let until = at + i64::from(days) * 86_400_000;
                        let payload = json!({ "uscc": uscc, "agent": agent, "scope": scope.split(',').collect::<Vec<_>>(), "expires_at_ms": until }).to_string();
                        db.append(&stream, v, &[NewEvent { event_type: "agent_authorised".into(), schema_version: 1, actor: me, at_ms: at, payload }])?;
                        db.put_agent(&uscc, &agent, &scope, until)?;
                    }
                    None => {
                        if !db.revoke_agent(&uscc, &agent, at)? {
                            return Err(AppError::NotFound(format!("authorisation of {agent}")));
                        }
                        let payload = json!({ "uscc": uscc, "agent": agent }).to_string();
                        db.append(&stream, v, &[NewEvent { event_type: "agent_revoked".into(), schema_version: 1, actor: me, at_ms: at, payload }])?;
                    }
                }
                Ok(())
            })
            .await
    }

    /// The signed-in person's profile, masked.
    pub async fn my_profile(&self, actor: &Actor) -> Result<Option<PersonView>, AppError> {
        let me = actor.id.clone();
        let p = self.store.read(move |db| db.person(&me).map_err(AppError::from)).await?;
        match p {
            None => Ok(None),
            Some(p) => Ok(Some(PersonView {
                username: p.username,
                name: p.name,
                id_number: ResidentId::parse(&self.reveal(&p.id_sealed)?)
                    .map_or(MaskedId::unreadable(), |r| MaskedId::from(&r)),
                phone: p.phone_sealed.map(|x| self.reveal(&x).map(|v| crate::pd::mask_phone(&v))).transpose()?,
            })),
        }
    }

    /// The signed-in person's own name, ID number and phone, in clear, to fill their own application (never
    /// shown on a page: pages show the masked profile).
    pub async fn applicant_identity(
        &self,
        actor: &Actor,
    ) -> Result<Option<(String, ResidentId, Option<String>)>, AppError> {
        let me = actor.id.clone();
        let p = self.store.read(move |db| db.person(&me).map_err(AppError::from)).await?;
        p.map(|p| {
            let id = ResidentId::parse(&self.reveal(&p.id_sealed)?)
                .map_err(|e| AppError::Internal(format!("registered resident ID number: {e}")))?;
            Ok((p.name, id, p.phone_sealed.map(|x| self.reveal(&x)).transpose()?))
        })
        .transpose()
    }

    /// The organisations the actor acts for, with their names: (USCC, name).
    pub async fn my_organisations(&self, actor: &Actor) -> Result<Vec<(String, String)>, AppError> {
        let list = actor.acts_for.clone();
        self.store
            .read(move |db| -> Result<Vec<(String, String)>, AppError> {
                let mut out = Vec::new();
                for u in list {
                    let name = db.organisation(&u)?.map(|o| o.name).unwrap_or_default();
                    out.push((u, name));
                }
                Ok(out)
            })
            .await
    }

    /// Demo profiles: 张三 (`citizen`) is a registered person; `company` is 李四, legal representative of
    /// 银川塞上餐饮有限公司 (91110000600037341L), who authorised `citizen` as an agent.
    pub(crate) async fn ensure_demo_parties(&self) -> Result<(), AppError> {
        let at = ms(self.now());
        for (user, name, id, phone) in
            [("citizen", "张三", "64010420050101001X", "13800000000"), ("company", "李四", DEMO_REP_ID, "13900000000")]
        {
            let row = PersonRow {
                username: user.into(),
                name: name.into(),
                id_sealed: self.seal_value(id)?,
                id_index: self.id_index(ApplicantKind::Person, id),
                phone_sealed: Some(self.seal_value(phone)?),
                created_at_ms: at,
            };
            let payload =
                json!({ "username": user, "name": name, "id_sealed": row.id_sealed, "phone_sealed": row.phone_sealed })
                    .to_string();
            self.store
                .write(move |db| -> Result<(), AppError> {
                    db.append(
                        &format!("person-{}", row.username),
                        0,
                        &[NewEvent {
                            event_type: "person_registered".into(),
                            schema_version: 1,
                            actor: "demo".into(),
                            at_ms: at,
                            payload,
                        }],
                    )?;
                    db.put_person(&row)?;
                    Ok(())
                })
                .await?;
        }
        let rep = Actor {
            id: "company".into(),
            display_name: String::new(),
            roles: vec![Role::Applicant],
            department: None,
            acts_for: vec![],
            follows: vec![],
            post: None,
        };
        self.register_organisation(&rep, DEMO_ORG, "银川塞上餐饮有限公司", DEMO_REP_ID).await?;
        // The demo company's documents were checked at the demo window.
        let window = Actor {
            id: "clerk".into(),
            display_name: String::new(),
            roles: vec![Role::WindowClerk],
            department: None,
            acts_for: vec![],
            follows: vec![],
            post: None,
        };
        self.verify_organisation(&window, DEMO_ORG, None, "营业执照原件、法定代表人身份证（演示数据）").await?;
        self.authorise_agent(&rep, DEMO_ORG, "citizen", &["apply".to_string(), "follow".to_string()], 365).await
    }
}

/// The demo organisation and its legal representative's ID number.
pub const DEMO_ORG: &str = "91110000600037341L";
pub const DEMO_REP_ID: &str = "640105200203040014";

fn organisation_verified(
    uscc: &str,
    representative: &str,
    by: &str,
    documents: Option<&str>,
    actor: &str,
    at_ms: i64,
) -> NewEvent {
    NewEvent {
        event_type: "organisation_verified".into(),
        schema_version: 1,
        actor: actor.to_string(),
        at_ms,
        payload:
            json!({ "uscc": uscc, "legal_representative": representative, "verified_by": by, "documents": documents })
                .to_string(),
    }
}
