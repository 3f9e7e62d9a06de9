//! Apply online (在线申报): a four-step wizard generated from the service's form schema — who applies, the form,
//! the materials (uploads), review and submit. Every step saves the draft (sealed, one per account and service),
//! so an applicant can leave and come back; the final submit carries the draft's idempotency key, so a repeated
//! POST never makes a second case. Works as plain forms; errors appear next to their fields with the values kept.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Form;
use oneseal_app::cases::{ApplicantInput, SubmitRequest};
use oneseal_app::AppError;
use oneseal_domain::case::{ApplicantKind, CaseDefinition, Channel, MaterialRef, Subject};
use oneseal_domain::catalog::{Field, FieldType};
use oneseal_domain::roles::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::portal::limit_text;
use super::{csrf_ok, forbidden, not_found, page, Ctx, Signed};
use crate::policy::Principal;
use crate::AppState;

const FORMS_JS: &[u8] = include_bytes!("../../../../assets/web/forms.js");

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/assets/forms.js", Access::Public, || async { super::asset("text/javascript; charset=utf-8", FORMS_JS) })
        .get("/apply/{code}", Access::SignedIn, show)
        .post("/apply/{code}", Access::SignedIn, save)
        .get("/apply/{code}/receipt/{key}", Access::SignedIn, receipt)
        .on(
            "POST",
            "/apply/{code}/materials",
            Access::SignedIn,
            post(upload)
                .layer(axum::extract::DefaultBodyLimit::max(3 * oneseal_app::attachments::MAX_ATTACHMENT_BYTES)),
        )
}

/// The wizard's working data, kept as the draft.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Draft {
    /// `person` or an organisation's USCC.
    #[serde(default)]
    applicant: String,
    #[serde(default)]
    form: Map<String, Value>,
    /// material id → (attachment id, file name)
    #[serde(default)]
    materials: BTreeMap<String, (String, String)>,
    /// The idempotency key of the final submit.
    #[serde(default)]
    nonce: String,
}

/// One field as the form shows it.
pub struct FieldView {
    pub key: String,
    pub label: String,
    pub input: &'static str,
    pub required: bool,
    pub value: String,
    pub options: Vec<String>,
    pub error: Option<String>,
    pub hint: String,
    pub max_len: u32,
    /// The field type (snake_case), as `data-type` for scripts and tests.
    pub kind: String,
}

pub struct MaterialView {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub uploaded: Option<String>,
    pub by_license: bool,
    pub error: Option<String>,
    pub notes: String,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    ctx: Ctx,
    code: String,
    title: String,
    promised: String,
    step: u8,
    /// (value, label, selected)
    applicants: Vec<(String, String, bool)>,
    fields: Vec<FieldView>,
    materials: Vec<MaterialView>,
    /// Review rows (label, value).
    review: Vec<(String, String)>,
    errors: Vec<String>,
    /// The error summary's links: (href, text).
    error_links: Vec<(String, String)>,
    /// Key materials not uploaded: (id, name, a licence may stand for it).
    missing_key: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    ctx: Ctx,
    receipt: oneseal_app::cases::Receipt,
}

fn input_of(t: FieldType) -> &'static str {
    match t {
        FieldType::LongText => "textarea",
        FieldType::Number | FieldType::Integer => "number",
        FieldType::Date => "date",
        FieldType::Boolean => "checkbox",
        FieldType::Choice => "select",
        FieldType::Phone => "tel",
        _ => "text",
    }
}

fn hint_key(t: FieldType) -> &'static str {
    match t {
        FieldType::Uscc => "field-hint-uscc",
        FieldType::ResidentId => "field-hint-resident-id",
        FieldType::Phone => "field-hint-phone",
        FieldType::RegionCode => "field-hint-region",
        FieldType::Date => "field-hint-date",
        _ => "",
    }
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => {
            if *b {
                "on".into()
            } else {
                String::new()
            }
        }
        Some(other) => other.to_string(),
    }
}

pub(crate) fn field_views(
    ctx: &Ctx,
    fields: &[Field],
    form: &Map<String, Value>,
    errors: &[(String, String)],
) -> Vec<FieldView> {
    fields
        .iter()
        .map(|f| FieldView {
            key: f.key.clone(),
            label: ctx.pick(&f.label, &f.label_en).to_string(),
            input: input_of(f.field_type),
            required: f.required,
            value: text_of(form.get(&f.key)),
            options: f.options.clone(),
            error: errors.iter().find(|(k, _)| *k == f.key).map(|(_, m)| m.clone()),
            hint: match hint_key(f.field_type) {
                "" => String::new(),
                k => ctx.t(k),
            },
            max_len: f.max_len.unwrap_or(if f.field_type == FieldType::LongText { 5000 } else { 200 }),
            kind: super::portal::snake(&f.field_type),
        })
        .collect()
}

/// Read the posted form into typed values; empty inputs are left out.
pub(crate) fn typed_form(fields: &[Field], posted: &BTreeMap<String, String>) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields {
        let raw = posted.get(&format!("f_{}", f.key)).map(|v| v.trim().to_string()).unwrap_or_default();
        let v = match f.field_type {
            FieldType::Boolean => Value::Bool(!raw.is_empty()),
            _ if raw.is_empty() => continue,
            FieldType::Number | FieldType::Integer => raw
                .parse::<f64>()
                .ok()
                .and_then(|x| serde_json::Number::from_f64(x).map(Value::Number))
                .unwrap_or(Value::String(raw)),
            FieldType::ResidentId | FieldType::Uscc => Value::String(raw.to_uppercase()),
            _ => Value::String(raw),
        };
        out.insert(f.key.clone(), v);
    }
    out
}

struct Wizard {
    code: String,
    def: std::sync::Arc<CaseDefinition>,
    draft: Draft,
}

async fn load(s: &AppState, p: &Principal, code: &str) -> Result<Option<Wizard>, AppError> {
    let Some(subject) = super::subject_of(s, code) else { return Ok(None) };
    let def = s.app.catalog().definition(&subject)?;
    let draft: Draft = match s.app.draft(&p.actor, code).await? {
        Some(v) => serde_json::from_value(v).unwrap_or_default(),
        None => Draft::default(),
    };
    Ok(Some(Wizard { code: code.to_string(), def, draft }))
}

async fn store(s: &AppState, p: &Principal, w: &Wizard) -> Result<(), AppError> {
    let v = serde_json::to_value(&w.draft).map_err(|e| AppError::Internal(e.to_string()))?;
    s.app.save_draft(&p.actor, &w.code, &v).await
}

async fn render(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    w: &Wizard,
    step: u8,
    field_errors: &[(String, String)],
    material_errors: &[(String, String)],
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let orgs = match s.app.my_organisations(&p.actor).await {
        Ok(o) => o,
        Err(e) => return super::error_page(ctx, e),
    };
    let mut applicants = vec![("person".to_string(), ctx.tv("apply-as-person", &p.actor.display_name), true)];
    for (uscc, name) in &orgs {
        applicants.push((uscc.clone(), ctx.tv("apply-as-org", &format!("{name}（{uscc}）")), false));
    }
    let chosen = if w.draft.applicant.is_empty() { "person" } else { w.draft.applicant.as_str() };
    for a in &mut applicants {
        a.2 = a.0 == chosen;
    }
    let applicant_label = applicants.iter().find(|a| a.2).map(|a| a.1.clone()).unwrap_or_default();
    let fields = field_views(ctx, &w.def.form.fields, &w.draft.form, field_errors);
    let materials = w
        .def
        .materials
        .iter()
        .map(|m| MaterialView {
            id: m.id.clone(),
            name: m.name.clone(),
            required: m.required,
            uploaded: w.draft.materials.get(&m.id).map(|(_, n)| n.clone()),
            by_license: !m.license_substitutes.is_empty(),
            error: material_errors.iter().find(|(k, _)| *k == m.id).map(|(_, e)| e.clone()),
            notes: m.notes.clone(),
        })
        .collect();
    let mut review = vec![(ctx.t("apply-step-applicant"), applicant_label.clone())];
    for f in &fields {
        if !f.value.is_empty() {
            let v = if f.input == "checkbox" { ctx.t("guide-yes") } else { f.value.clone() };
            review.push((f.label.clone(), v));
        }
    }
    let links = error_links(ctx, &w.def, field_errors, material_errors);
    let page_ = ApplyPage {
        ctx: ctx.clone(),
        code: w.code.clone(),
        title: w.def.title.clone(),
        promised: limit_text(ctx, w.def.limit),
        step,
        applicants,
        fields,
        materials,
        review,
        errors,
        error_links: links,
        missing_key: missing_key_materials(w),
    };
    page(status, ctx, &page_)
}

#[derive(Deserialize, Default)]
struct StepQuery {
    step: Option<u8>,
}

fn applicant_only(ctx: &Ctx, p: &Principal, headers: &HeaderMap, code: &str) -> Option<Response> {
    let _ = ctx;
    (!p.actor.has(Role::Applicant)).then(|| forbidden(headers, &format!("/apply/{code}")))
}

async fn show(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    q: Result<Query<StepQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(r) = applicant_only(&ctx, &p, &headers, &code) {
        return r;
    }
    let step = q.ok().and_then(|q| q.0.step).unwrap_or(1).clamp(1, 4);
    match load(&s, &p, &code).await {
        Ok(Some(w)) => render(&s, &ctx, &p, &w, step, &[], &[], vec![], StatusCode::OK).await,
        Ok(None) => not_found(&headers, &format!("/apply/{code}")),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, ctx.t("error-internal")).into_response(),
    }
}

/// The message for a field's error in the reader's language; a number out of range says the range.
pub(crate) fn field_error_text(ctx: &Ctx, code: &str, field: Option<&Field>) -> String {
    if code == "range" {
        let fmt = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { x.to_string() };
        match field.map(|f| (f.min, f.max)) {
            Some((Some(min), Some(max))) => {
                return super::i18n::text(
                    ctx.lang,
                    "field-error-range-between",
                    &[("min", &fmt(min)), ("max", &fmt(max))],
                )
            }
            Some((Some(min), None)) => {
                return super::i18n::text(ctx.lang, "field-error-range-min", &[("min", &fmt(min))])
            }
            Some((None, Some(max))) => {
                return super::i18n::text(ctx.lang, "field-error-range-max", &[("max", &fmt(max))])
            }
            _ => {}
        }
    }
    let key = format!("field-error-{code}");
    let t = ctx.t(&key);
    if t == key {
        ctx.t("field-error-type")
    } else {
        t
    }
}

/// The GOV.UK error summary: each problem as a link to its field ("#f_{key}") or file input ("#file_{id}").
fn error_links(
    ctx: &Ctx,
    def: &CaseDefinition,
    fields: &[(String, String)],
    materials: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, msg) in fields {
        let label = def.form.fields.iter().find(|f| f.key == *key).map(|f| ctx.pick(&f.label, &f.label_en).to_string());
        out.push((format!("#f_{key}"), format!("{}：{msg}", label.unwrap_or_else(|| key.clone()))));
    }
    for (id, msg) in materials {
        let name = def.materials.iter().find(|m| m.id == *id).map(|m| m.name.clone());
        let href = if id.is_empty() { "#main".to_string() } else { format!("#file_{id}") };
        out.push((href, format!("{}：{msg}", name.unwrap_or_else(|| ctx.t("apply-step-materials")))));
    }
    out
}

/// Key materials not uploaded (a held licence may still stand for those that accept one).
fn missing_key_materials(w: &Wizard) -> Vec<(String, String, bool)> {
    w.def
        .materials
        .iter()
        .filter(|m| m.required && m.key && !w.draft.materials.contains_key(&m.id))
        .map(|m| (m.id.clone(), m.name.clone(), !m.license_substitutes.is_empty()))
        .collect()
}

/// Steps 1, 2 and 4 post here: `step` says which, `go` where to (a step number, or `submit`).
async fn save(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    form: Result<Form<BTreeMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Some(r) = applicant_only(&ctx, &p, &headers, &code) {
        return r;
    }
    let posted = form.map(|f| f.0).unwrap_or_default();
    if !csrf_ok(&p, posted.get("_csrf").map(String::as_str).unwrap_or("")) {
        return forbidden(&headers, &format!("/apply/{code}"));
    }
    let mut w = match load(&s, &p, &code).await {
        Ok(Some(w)) => w,
        Ok(None) => return not_found(&headers, &format!("/apply/{code}")),
        Err(_) => return (StatusCode::SERVICE_UNAVAILABLE, ctx.t("error-internal")).into_response(),
    };
    let step: u8 = posted.get("step").and_then(|v| v.parse().ok()).unwrap_or(1);
    let go = posted.get("go").cloned().unwrap_or_default();
    match step {
        1 => {
            let who = posted.get("applicant").cloned().unwrap_or_else(|| "person".into());
            let orgs = match s.app.my_organisations(&p.actor).await {
                Ok(o) => o,
                Err(e) => return super::error_page(&ctx, e),
            };
            w.draft.applicant =
                if who == "person" || !orgs.iter().any(|(u, _)| *u == who) { "person".into() } else { who };
        }
        2 => {
            w.draft.form = typed_form(&w.def.form.fields, &posted);
            if go != "1" {
                if let Err(errs) = oneseal_domain::form::validate(&w.def.form, &w.draft.form) {
                    let fe: Vec<(String, String)> = errs
                        .iter()
                        .map(|e| {
                            let f = w.def.form.fields.iter().find(|f| f.key == e.field);
                            (e.field.clone(), field_error_text(&ctx, e.code, f))
                        })
                        .collect();
                    let _ = store(&s, &p, &w).await;
                    let summary = vec![ctx.tn("apply-errors", fe.len())];
                    return render(&s, &ctx, &p, &w, 2, &fe, &[], summary, StatusCode::UNPROCESSABLE_ENTITY).await;
                }
            }
        }
        _ => {}
    }
    if go == "submit" {
        let (channel, point) = channel_of(&ctx, &headers, posted.get("device").map(String::as_str));
        return submit(&s, &ctx, &p, w, channel, point).await;
    }
    if store(&s, &p, &w).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, ctx.t("error-internal")).into_response();
    }
    let next: u8 = go.parse().unwrap_or(step + 1).clamp(1, 4);
    Redirect::to(&format!("/apply/{code}?step={next}")).into_response()
}

/// The channel an application made through the wizard came through, and the point it was made at:
///
/// - a browser in kiosk mode (the kiosk cookie): `kiosk`, at the kiosk's configured point if it has one;
/// - a phone: `mobile`. Two signals, either enough: the review form's `device` field, which `forms.js` sets to
///   `mobile` when the page is shown in the phone layout (the stylesheet's narrow breakpoint with a coarse, touch
///   pointer) — it works in every browser with scripts, and says what the person actually used; and the
///   `Sec-CH-UA-Mobile: ?1` client hint that Chromium browsers send with every request unasked. The User-Agent
///   string is not read: it is guessed at, frozen or spoofed, and the two signals above are explicit;
/// - otherwise `online`.
///
/// The channel is a statistic, not an authority: a person who forges it only miscounts their own application.
fn channel_of(ctx: &Ctx, headers: &HeaderMap, device: Option<&str>) -> (Channel, Option<String>) {
    if ctx.kiosk {
        return (Channel::Kiosk, ctx.kiosk_point.clone());
    }
    let hint = headers.get("sec-ch-ua-mobile").and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == "?1");
    if device == Some("mobile") || hint {
        (Channel::Mobile, None)
    } else {
        (Channel::Online, None)
    }
}

async fn submit(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    mut w: Wizard,
    channel: Channel,
    point: Option<String>,
) -> Response {
    let (kind, name, id_number, phone) = if w.draft.applicant.is_empty() || w.draft.applicant == "person" {
        match s.app.applicant_identity(&p.actor).await {
            Ok(Some((name, id, phone))) => (ApplicantKind::Person, name, id.as_str().to_string(), phone),
            _ => {
                return render(
                    s,
                    ctx,
                    p,
                    &w,
                    4,
                    &[],
                    &[],
                    vec![ctx.t("apply-no-profile")],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    } else {
        let orgs = match s.app.my_organisations(&p.actor).await {
            Ok(o) => o,
            Err(e) => return super::error_page(ctx, e),
        };
        match orgs.into_iter().find(|(u, _)| *u == w.draft.applicant) {
            Some((uscc, name)) => (ApplicantKind::Organisation, name, uscc, None),
            None => {
                return render(
                    s,
                    ctx,
                    p,
                    &w,
                    1,
                    &[],
                    &[],
                    vec![ctx.t("apply-no-profile")],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    };
    if w.draft.nonce.is_empty() {
        w.draft.nonce = oneseal_app::random_hex(16).unwrap_or_default();
        let _ = store(s, p, &w).await;
    }
    let (item_code, bundle_code) = match &w.def.subject {
        Subject::Item { code, .. } => (Some(code.clone()), None),
        Subject::Bundle { code, .. } => (None, Some(code.clone())),
    };
    let req = SubmitRequest {
        item_code,
        bundle_code,
        channel: Some(channel),
        service_point: point,
        applicant: ApplicantInput { kind, name, id_number, phone, account: None },
        form: w.draft.form.clone(),
        materials: w
            .draft
            .materials
            .iter()
            .map(|(id, (att, file))| MaterialRef {
                material_id: id.clone(),
                file_name: file.clone(),
                attachment: Some(att.clone()),
                ..Default::default()
            })
            .collect(),
    };
    match s.app.submit(&p.actor, req, Some(format!("wizard:{}", w.draft.nonce))).await {
        Ok(_) => {
            let _ = s.app.discard_draft(&p.actor, &w.code).await;
            // POST/redirect/GET: the receipt has its own address, so a refresh or the back button never posts again.
            Redirect::to(&format!("/apply/{}/receipt/{}", w.code, w.draft.nonce)).into_response()
        }
        Err(e) => {
            let (step, fe, me, msg) = match &e {
                AppError::Case(oneseal_domain::case::CaseError::InvalidForm(errs))
                | AppError::Invalid { fields: errs, .. }
                    if !errs.is_empty() =>
                {
                    let fe: Vec<(String, String)> = errs
                        .iter()
                        .map(|x| {
                            let f = w.def.form.fields.iter().find(|f| f.key == x.field);
                            (x.field.clone(), field_error_text(ctx, x.code, f))
                        })
                        .collect();
                    (2, fe, vec![], ctx.tn("apply-errors", errs.len()))
                }
                AppError::Case(oneseal_domain::case::CaseError::KeyMaterialsMissing(errs)) => {
                    let me: Vec<(String, String)> = errs
                        .iter()
                        .map(|x| {
                            (x.field.trim_start_matches("materials.").to_string(), ctx.t("apply-key-material-missing"))
                        })
                        .collect();
                    (3, vec![], me, ctx.tn("apply-key-materials-missing", errs.len()))
                }
                AppError::Case(oneseal_domain::case::CaseError::MissingMaterials(ids)) => {
                    let me: Vec<(String, String)> =
                        ids.iter().map(|i| (i.clone(), ctx.t("apply-material-missing"))).collect();
                    (3, vec![], me, ctx.tn("apply-materials-missing", ids.len()))
                }
                AppError::Forbidden(_) => (1, vec![], vec![], ctx.t("apply-not-allowed")),
                _ => (4, vec![], vec![], ctx.t("apply-submit-failed")),
            };
            render(s, ctx, p, &w, step, &fe, &me, vec![msg], StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The receipt of a submission, at its own address (only for the account that submitted it).
async fn receipt(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path((code, key)): Path<(String, String)>,
) -> Response {
    match s.app.receipt_again(&p.actor, &format!("wizard:{key}")).await {
        Ok(Some(receipt)) => page(StatusCode::OK, &ctx, &ReceiptPage { ctx: ctx.clone(), receipt }),
        Ok(None) => not_found(&headers, &format!("/apply/{code}/receipt/{key}")),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, ctx.t("error-internal")).into_response(),
    }
}

/// Step 3: the files, one input per material (`file_<material id>`).
async fn upload(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Some(r) = applicant_only(&ctx, &p, &headers, &code) {
        return r;
    }
    let mut w = match load(&s, &p, &code).await {
        Ok(Some(w)) => w,
        Ok(None) => return not_found(&headers, &format!("/apply/{code}")),
        Err(_) => return (StatusCode::SERVICE_UNAVAILABLE, ctx.t("error-internal")).into_response(),
    };
    let Ok(mut mp) = multipart else {
        return render(
            &s,
            &ctx,
            &p,
            &w,
            3,
            &[],
            &[],
            vec![ctx.t("error-form-expired")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let mut csrf = String::new();
    let mut go = "4".to_string();
    let mut files: Vec<(String, String, Vec<u8>)> = Vec::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().unwrap_or_default().to_string();
                match field.bytes().await {
                    Ok(b) if name == "_csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                    Ok(b) if name == "go" => go = String::from_utf8_lossy(&b).into_owned(),
                    Ok(b) => {
                        if let Some(id) = name.strip_prefix("file_") {
                            if !b.is_empty() {
                                files.push((id.to_string(), file_name, b.to_vec()));
                            }
                        }
                    }
                    Err(e) => {
                        let id = name.strip_prefix("file_").unwrap_or(&name).to_string();
                        let key = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                            "apply-file-too-large"
                        } else {
                            "apply-file-failed"
                        };
                        errors.push((id, ctx.t(key)));
                        break;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let key = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "apply-file-too-large"
                } else {
                    "apply-file-failed"
                };
                errors.push((String::new(), ctx.t(key)));
                break;
            }
        }
    }
    if !csrf_ok(&p, &csrf) {
        return forbidden(&headers, &format!("/apply/{code}"));
    }
    for (id, file_name, bytes) in files {
        if !w.def.materials.iter().any(|m| m.id == id) {
            continue;
        }
        match s.app.upload_attachment(&p.actor, &file_name, &bytes).await {
            Ok(a) => {
                w.draft.materials.insert(id, (a.id, a.file_name));
            }
            Err(AppError::Invalid { code, .. }) => {
                let key = match code {
                    "attachment_type" => "apply-file-type",
                    "attachment_too_large" => "apply-file-too-large",
                    _ => "apply-file-failed",
                };
                errors.push((id, ctx.t(key)));
            }
            Err(_) => errors.push((id, ctx.t("apply-file-failed"))),
        }
    }
    if store(&s, &p, &w).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, ctx.t("error-internal")).into_response();
    }
    if !errors.is_empty() {
        let status = if errors.iter().any(|(_, e)| *e == ctx.t("apply-file-too-large")) {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let summary = vec![ctx.tn("apply-errors", errors.len())];
        return render(&s, &ctx, &p, &w, 3, &[], &errors, summary, status).await;
    }
    let next: u8 = go.parse().unwrap_or(4).clamp(1, 4);
    Redirect::to(&format!("/apply/{code}?step={next}")).into_response()
}
