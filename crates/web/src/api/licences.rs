//! Electronic licences: published keys, verification, the licence record, its PDF, consents, amendments, the status list, disclosures, and the transparency log.

use super::*;

/// The seal's public keys with their validity windows, for offline verification (no login).
pub async fn published_keys(State(s): State<AppState>) -> Res {
    let keys = s.app.published_keys().await?;
    let mut r = Json(json!({ "issuer": "银川市审批服务局", "keys": keys })).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyBody {
    /// The QR text (OS1:…) or a licence identifier.
    pub(super) input: String,
}

/// Verify a licence without signing in: valid / revoked / cancelled / expired / amended / bad_signature / unknown,
/// with the public fields only.
pub(super) async fn verify_license(State(s): State<AppState>, ApiJson(b): ApiJson<VerifyBody>) -> Res {
    if b.input.len() > 4000 {
        return Err(Problem::unprocessable(
            "input_too_long",
            "the QR text or identifier is longer than 4,000 characters",
        )
        .into());
    }
    Ok(Json(s.app.verify_license(&b.input).await?).into_response())
}

/// A licence as the public sees it (see [`license_full`] for its holder).
pub(super) fn license_public(l: &oneseal_app::rows::LicenseRow) -> Value {
    let public = serde_json::from_str::<Value>(&l.signed_payload).unwrap_or_default();
    if oneseal_app::licensing::held_by_person(&public) {
        // A natural person's licence: the disclosure only, without the signed bytes (they carry the full name).
        // The holder has the full record (GET /api/v1/me/licenses) and the sealed QR verifies offline.
        return json!({
            "identifier": l.identifier, "status": l.status, "public": oneseal_app::licensing::disclosed(&public),
            "key_id": l.key_id, "status_index": l.status_index, "status_list": "/api/v1/status-lists/1",
        });
    }
    license_full(l)
}

/// A licence with everything signed: for its holder, or when the holder is an organisation.
pub(super) fn license_full(l: &oneseal_app::rows::LicenseRow) -> Value {
    json!({
        "identifier": l.identifier, "status": l.status, "public": serde_json::from_str::<Value>(&l.signed_payload).unwrap_or_default(),
        "signed_payload": l.signed_payload, "signature_der_hex": l.signature, "key_id": l.key_id, "qr": l.qr, "status_index": l.status_index,
        "status_list": "/api/v1/status-lists/1",
    })
}

/// A licence's public content, the exact signed bytes and the seal's signature (for OpenSSL), and its QR text.
pub(super) async fn get_license(State(s): State<AppState>, ApiPath(identifier): ApiPath<String>) -> Res {
    oneseal_domain::license::LicenseIdentifier::parse(&identifier)
        .map_err(|e| Problem::not_found(format!("licence {identifier}: {e}")))?;
    let id = crate::extract::parse_license_id(&identifier)?;
    let row = s.app.license(&id).await?;
    let row = row.ok_or_else(|| Problem::not_found(format!("licence {identifier}")))?;
    Ok(Json(license_public(&row)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusReasonBody {
    pub(super) reason: String,
}

pub(super) async fn revoke_license(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<StatusReasonBody>,
) -> Res {
    // A malformed identifier is an unknown licence, answered after the reason is checked, as before.
    let id = crate::extract::parse_license_id(&identifier)
        .or_else(|e| oneseal_app::licensing::check_status_reason(&b.reason).and(Err(e)))?;
    s.app.change_license_status(&actor, &id, true, &b.reason).await?;
    Ok(Json(s.app.verify_license(&identifier).await?).into_response())
}

pub(super) async fn cancel_license(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<StatusReasonBody>,
) -> Res {
    let id = crate::extract::parse_license_id(&identifier)
        .or_else(|e| oneseal_app::licensing::check_status_reason(&b.reason).and(Err(e)))?;
    s.app.change_license_status(&actor, &id, false, &b.reason).await?;
    Ok(Json(s.app.verify_license(&identifier).await?).into_response())
}

/// Verify a printed licence from its PDF (the body, `application/pdf`): the sealed QR payload it carries.
pub(super) async fn verify_license_pdf(State(s): State<AppState>, body: axum::body::Bytes) -> Res {
    Ok(Json(s.app.verify_license_pdf(&body).await?).into_response())
}

/// The printable PDF of one of my licences.
pub(super) async fn license_pdf(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
) -> Res {
    let id = crate::extract::parse_license_id(&identifier)?;
    let (name, bytes) = s.app.license_pdf(&actor, &id).await?;
    Ok(crate::pages::pdf_response(&name, bytes, false, "private, no-store"))
}

pub(super) async fn my_licenses(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.my_licenses(&actor).await?;
    Ok(Json(json!({ "licenses": list.iter().map(license_full).collect::<Vec<_>>() })).into_response())
}

/// The W3C Bitstring Status List of licence revocations.
pub(super) async fn status_list(State(s): State<AppState>) -> Res {
    let encoded = s.app.status_list().await?;
    let mut r = Json(json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "/api/v1/status-lists/1",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "银川市审批服务局",
        "credentialSubject": { "id": "/api/v1/status-lists/1#list", "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": encoded }
    }))
    .into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DisclosureQuery {
    pub(super) q: Option<String>,
    pub(super) page: Option<u32>,
    pub(super) per_page: Option<u32>,
}

/// 双公示: the public list of granted licensing decisions on organisations.
pub(super) async fn disclosures(State(s): State<AppState>, ApiQuery(q): ApiQuery<DisclosureQuery>) -> Res {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let text = q.q.as_deref().map(str::trim).filter(|x| !x.is_empty());
    if text.is_some_and(|t| t.chars().count() > 50) {
        return Err(Problem::bad_request("query_too_long", "search text is longer than 50 characters").into());
    }
    let (list, total) = s.app.disclosures(text, limit as i64, offset as i64).await?;
    Ok(Json(json!({ "total": total, "disclosures": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AmendBody {
    pub(super) fields: serde_json::Map<String, Value>,
    pub(super) reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConsentBody {
    pub(super) department: String,
    pub(super) purpose: String,
    pub(super) days: Option<u32>,
}

/// 授权用证: the holder's consents on a licence and the fetches made under them.
pub(super) async fn license_consents(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
) -> Res {
    let id = crate::extract::parse_license_id(&identifier)?;
    Ok(Json(s.app.license_consents(&actor, &id).await?).into_response())
}

/// The holder lets a department fetch the licence's full record for a purpose and a time (default 30 days).
pub(super) async fn grant_license_consent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<ConsentBody>,
) -> Res {
    let days = b.days.unwrap_or(30);
    // A malformed identifier is an unknown licence, answered after the consent's terms are checked, as before.
    let id = crate::extract::parse_license_id(&identifier)
        .or_else(|e| s.app.check_consent_terms(&b.department, &b.purpose, days).and(Err(e)))?;
    let c = s.app.grant_license_consent(&actor, &id, &b.department, &b.purpose, days).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

pub(super) async fn revoke_license_consent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((identifier, consent_id)): ApiPath<(String, String)>,
) -> Res {
    let id = crate::extract::parse_license_id(&identifier)?;
    Ok(Json(s.app.revoke_license_consent(&actor, &id, &consent_id).await?).into_response())
}

/// A department fetches the full record under the holder's active consent; the fetch is recorded.
pub(super) async fn fetch_license_with_consent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
) -> Res {
    let id = crate::extract::parse_license_id(&identifier)?;
    Ok(Json(s.app.fetch_license_with_consent(&actor, &id).await?).into_response())
}

/// 变更: a new version with changed fields; the old one is superseded.
pub(super) async fn amend_license(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<AmendBody>,
) -> Res {
    // A malformed identifier is an unknown licence, answered after the amendment and the seal are checked, as before.
    let id = crate::extract::parse_license_id(&identifier).or_else(|e| {
        oneseal_app::licensing::check_amendment(&b.fields, &b.reason).and(s.app.current_seal()).and(Err(e))
    })?;
    let new = s.app.amend_license(&actor, &id, &b.fields, &b.reason).await?;
    Ok(Json(s.app.verify_license(&new.to_string()).await?).into_response())
}

pub(super) fn note_response(note: String) -> Response {
    let mut r = note.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note).
pub(super) async fn checkpoint(State(s): State<AppState>) -> Res {
    let note = s.app.latest_checkpoint().await?.ok_or_else(|| Problem::not_found("no checkpoint yet"))?;
    Ok(note_response(note))
}

/// Sign a checkpoint now (administrators; the server also signs on a schedule).
pub(super) async fn new_checkpoint(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    admin(&actor)?;
    s.app.sign_checkpoint().await?;
    let note = s.app.latest_checkpoint().await?.ok_or_else(|| Problem::not_found("no checkpoint yet"))?;
    Ok(note_response(note))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InclusionQuery {
    pub(super) seq: i64,
    pub(super) size: Option<u64>,
}

pub(super) async fn inclusion(State(s): State<AppState>, ApiQuery(q): ApiQuery<InclusionQuery>) -> Res {
    Ok(Json(s.app.inclusion(q.seq, q.size).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConsistencyQuery {
    pub(super) old: u64,
    pub(super) new: u64,
}

pub(super) async fn consistency(State(s): State<AppState>, ApiQuery(q): ApiQuery<ConsistencyQuery>) -> Res {
    let proof = s.app.consistency(q.old, q.new).await?;
    Ok(Json(json!({ "old": q.old, "new": q.new, "proof": proof })).into_response())
}
