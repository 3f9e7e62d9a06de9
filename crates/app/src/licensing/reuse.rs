//! A licence standing for a material (免提交) and filling a form: which licences a submission may cite, and the ones it uses by itself.

use super::*;

/// Materials that cite a licence (免提交) must cite a licence that exists, is valid today, is of a type the
/// material accepts, and is held by the case's applicant (`holder_index`). A licence of someone else is "unknown",
/// exactly like one that does not exist, so the check reveals nothing about other holders.
pub(crate) fn check_license_refs(
    db: &mut Db,
    def: &oneseal_domain::case::CaseDefinition,
    holder_index: Option<&str>,
    materials: &[oneseal_domain::case::MaterialRef],
    today: time::Date,
) -> Result<(), AppError> {
    for m in materials {
        let Some(id) = m.license.as_deref() else { continue };
        let unknown = || {
            AppError::invalid(
                "unknown_license",
                format!("material {}: the applicant holds no licence {id}", m.material_id),
            )
        };
        if id.is_empty() || id.len() > 200 {
            return Err(unknown());
        }
        let row = db.license(id)?.ok_or_else(unknown)?;
        if holder_index.is_none() || row.holder_index.as_deref() != holder_index {
            return Err(unknown());
        }
        let accepted = def.materials.iter().find(|d| d.id == m.material_id).map(|d| &d.license_substitutes);
        if !accepted.is_some_and(|a| a.contains(&row.license_type)) {
            return Err(AppError::invalid(
                "license_type_not_accepted",
                format!("material {}: a {} does not stand for this material", m.material_id, row.license_type),
            ));
        }
        let expired = row.valid_to.as_deref().is_some_and(|to| to < format_date(today).as_str());
        if row.status != "valid" || expired {
            return Err(AppError::invalid(
                "license_not_valid",
                format!(
                    "material {}: licence {id} is {}",
                    m.material_id,
                    if expired { "expired" } else { &row.status }
                ),
            ));
        }
    }
    Ok(())
}

impl App {
    /// 免提交 and pre-filling: materials that a valid licence of the applicant proves are satisfied by reference,
    /// and form fields the licence holds are filled in when the request leaves them out. Only for an actor who
    /// acts as that applicant (their own ID, an organisation they represent) or a window clerk who checked the
    /// walk-in applicant's identity.
    pub async fn reuse_licenses(
        &self,
        actor: &Actor,
        def: &oneseal_domain::case::CaseDefinition,
        id_number: &ClearId,
        form: &mut Map<String, Value>,
        materials: &mut Vec<oneseal_domain::case::MaterialRef>,
    ) -> Result<(), AppError> {
        let holder_index = self.clear_index(id_number);
        let allowed = match id_number {
            ClearId::Organisation(uscc) => {
                actor.acts_for.iter().any(|u| u == uscc.as_str()) || actor.has(Role::WindowClerk)
            }
            ClearId::Resident(_) => {
                let me = actor.id.clone();
                let person = self.store.read(move |db| db.person(&me).map_err(AppError::from)).await?;
                person.is_some_and(|p| p.id_index == holder_index) || actor.has(Role::WindowClerk)
            }
        };
        if !allowed {
            return Ok(());
        }
        // Only the types that can matter here: those a material still missing accepts, and those whose fields
        // fill a form field still empty — and of each only the newest valid licence (a holder may have hundreds;
        // reading them all on every submission made the cost grow with the holder's history).
        let missing_material = |code: &String| {
            def.materials
                .iter()
                .any(|m| m.license_substitutes.contains(code) && !materials.iter().any(|r| r.material_id == m.id))
        };
        let empty_field = |k: &str| !form.contains_key(k) && def.form.fields.iter().any(|x| x.key == k);
        let relevant: Vec<String> = self
            .license_types
            .iter()
            .filter(|lt| {
                missing_material(&lt.code) || lt.fields.iter().any(|f| f.source.form_key().is_some_and(empty_field))
            })
            .map(|lt| lt.code.clone())
            .collect();
        if relevant.is_empty() {
            return Ok(());
        }
        let ix = holder_index.clone();
        let held: Vec<LicenseRow> = self
            .store
            .read(move |db| -> Result<Vec<LicenseRow>, AppError> {
                let mut out = Vec::new();
                for t in &relevant {
                    out.extend(db.newest_valid_license_of(&ix, t)?);
                }
                Ok(out)
            })
            .await?;
        if held.is_empty() {
            return Ok(());
        }
        for m in def.materials.iter().filter(|m| !m.license_substitutes.is_empty()) {
            if materials.iter().any(|r| r.material_id == m.id) {
                continue;
            }
            if let Some(l) = held.iter().find(|l| m.license_substitutes.contains(&l.license_type)) {
                materials.push(oneseal_domain::case::MaterialRef {
                    material_id: m.id.clone(),
                    file_name: format!("电子证照 {}", l.number),
                    license: Some(l.identifier.clone()),
                    attachment: None,
                    digest: None,
                });
            }
        }
        for l in &held {
            let Some(lt) = self.license_type(&l.license_type) else { continue };
            let body: Value = serde_json::from_str(&l.body).unwrap_or_default();
            for f in &lt.fields {
                let Some(key) = f.source.form_key() else { continue };
                if form.contains_key(key) || !def.form.fields.iter().any(|x| x.key == key) {
                    continue;
                }
                if let Some(v) = body["fields"][&f.key].as_str() {
                    let clear = self.reveal(v)?;
                    let field = def.form.fields.iter().find(|x| x.key == key);
                    let value = match field.map(|x| x.field_type) {
                        Some(
                            oneseal_domain::catalog::FieldType::Number | oneseal_domain::catalog::FieldType::Integer,
                        ) => clear.parse::<f64>().map(|n| json!(n)).unwrap_or(json!(clear)),
                        _ => json!(clear),
                    };
                    form.insert(key.to_string(), value);
                }
            }
        }
        Ok(())
    }
}
