//! The general window (综合窗口): a clerk at any window finds any item, enters a walk-in applicant's application
//! (identity by ID number), attaches the scanned materials and accepts on the spot; then prints the acceptance
//! notice (受理通知书) or, after asking for a correction from the case page, the one-time correction notice
//! (一次性告知书).

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use oneseal_app::cases::{ApplicantInput, SubmitRequest};
use oneseal_app::AppError;
use oneseal_domain::case::{ApplicantKind, CaseCommand, CaseEvent, Channel, MaterialRef, Subject};
use oneseal_domain::roles::Role;
use serde::Deserialize;

use super::apply::{field_error_text, field_views, typed_form, FieldView};
use super::portal::{department_name, limit_text};
use super::{csrf_ok, forbidden, not_found, page, Ctx, Signed};
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/window", Access::Roles(&[Role::WindowClerk]), find)
        .get("/window/apply/{code}", Access::Roles(&[Role::WindowClerk]), form_page)
        .on(
            "POST",
            "/window/apply/{code}",
            Access::Roles(&[Role::WindowClerk]),
            axum::routing::post(submit)
                .layer(axum::extract::DefaultBodyLimit::max(4 * oneseal_app::attachments::MAX_ATTACHMENT_BYTES)),
        )
        .get("/work/cases/{case_no}/acceptance.pdf", Access::Staff, acceptance_pdf)
        .get("/work/cases/{case_no}/correction.pdf", Access::Staff, correction_pdf)
}

#[derive(Template)]
#[template(path = "window.html")]
struct FindPage {
    ctx: Ctx,
    q: String,
    /// (code, name, department, promised)
    hits: Vec<(String, String, String, String)>,
}

#[derive(Deserialize, Default)]
struct FindQuery {
    q: Option<String>,
}

async fn find(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    q: Result<Query<FindQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !p.actor.has(Role::WindowClerk) {
        return forbidden(&headers, "/window");
    }
    let q: String = q.ok().and_then(|q| q.0.q).unwrap_or_default().trim().chars().take(100).collect();
    let view = s.app.catalog();
    let mut hits = Vec::new();
    if !q.is_empty() {
        for (kind, code, _) in view.search(&q) {
            let row = match kind {
                oneseal_app::catalog::HitKind::Item => view.latest_item(&code).map(|p| {
                    let i = &p.body;
                    (
                        ctx.pick(&i.name, &i.name_en).to_string(),
                        department_name(&ctx, &view, i.department.as_str()),
                        limit_text(&ctx, i.promised_limit),
                    )
                }),
                oneseal_app::catalog::HitKind::Bundle => view.latest_bundle(&code).map(|p| {
                    (
                        ctx.pick(&p.body.name, &p.body.name_en).to_string(),
                        ctx.t("services-bundle-hit"),
                        limit_text(&ctx, p.body.promised_limit),
                    )
                }),
            };
            if let Some((name, dept, limit)) = row {
                hits.push((code, name, dept, limit));
            }
        }
    }
    page(StatusCode::OK, &ctx, &FindPage { ctx: ctx.clone(), q, hits })
}

#[derive(Template)]
#[template(path = "window-apply.html")]
struct ApplyPage {
    ctx: Ctx,
    code: String,
    title: String,
    kind: String,
    name: String,
    id_number: String,
    phone: String,
    fields: Vec<FieldView>,
    /// (material id, name, required, key, uploaded "id|file")
    materials: Vec<(String, String, bool, bool, String)>,
    errors: Vec<(String, String)>,
    nonce: String,
}

impl ApplyPage {
    fn err(&self, k: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == k).map(|(_, m)| m.as_str())
    }
}

async fn form_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    if !p.actor.has(Role::WindowClerk) {
        return forbidden(&headers, &format!("/window/apply/{code}"));
    }
    let Some(def) = super::subject_of(&s, &code).and_then(|sub| s.app.catalog().definition(&sub).ok()) else {
        return not_found(&headers, &format!("/window/apply/{code}"));
    };
    let page_ = ApplyPage {
        fields: field_views(&ctx, &def.form.fields, &Default::default(), &[]),
        materials: def
            .materials
            .iter()
            .map(|m| (m.id.clone(), m.name.clone(), m.required, m.key, String::new()))
            .collect(),
        title: def.title.clone(),
        code,
        kind: "person".into(),
        name: String::new(),
        id_number: String::new(),
        phone: String::new(),
        errors: vec![],
        nonce: oneseal_app::random_hex(12).unwrap_or_default(),
        ctx: ctx.clone(),
    };
    page(StatusCode::OK, &ctx, &page_)
}

async fn submit(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(code): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if !p.actor.has(Role::WindowClerk) {
        return forbidden(&headers, &format!("/window/apply/{code}"));
    }
    let Some(def) = super::subject_of(&s, &code).and_then(|sub| s.app.catalog().definition(&sub).ok()) else {
        return not_found(&headers, &format!("/window/apply/{code}"));
    };
    let Ok(mut mp) = multipart else { return forbidden(&headers, &format!("/window/apply/{code}")) };
    let mut posted = std::collections::BTreeMap::<String, String>::new();
    let mut files = Vec::new();
    let mut too_large = false;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().map(str::to_string);
                match field.bytes().await {
                    Ok(b) => match (name.strip_prefix("file_"), file_name) {
                        (Some(id), Some(f)) if !b.is_empty() => files.push((id.to_string(), f, b.to_vec())),
                        (Some(_), _) => {}
                        _ => {
                            posted.insert(name, String::from_utf8_lossy(&b).into_owned());
                        }
                    },
                    Err(_) => {
                        too_large = true;
                        break;
                    }
                }
            }
            Ok(None) => break,
            Err(_) => {
                too_large = true;
                break;
            }
        }
    }
    if !csrf_ok(&p, posted.get("_csrf").map(String::as_str).unwrap_or("")) {
        return forbidden(&headers, &format!("/window/apply/{code}"));
    }
    let get = |k: &str| posted.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut errors: Vec<(String, String)> = Vec::new();
    if too_large {
        errors.push(("form".into(), ctx.t("apply-file-too-large")));
    }
    // Scans uploaded earlier in this form stay attached (hidden `att_<material>` = "id|file name").
    let mut attached: std::collections::BTreeMap<String, (String, String)> = posted
        .iter()
        .filter_map(|(k, v)| {
            let id = k.strip_prefix("att_")?;
            let (a, f) = v.split_once('|')?;
            Some((id.to_string(), (a.to_string(), f.to_string())))
        })
        .collect();
    for (id, file_name, bytes) in files {
        if !def.materials.iter().any(|m| m.id == id) {
            continue;
        }
        match s.app.upload_attachment(&p.actor, &file_name, &bytes).await {
            Ok(a) => {
                attached.insert(id, (a.id, a.file_name));
            }
            Err(AppError::Invalid { code, .. }) => errors.push((
                format!("file_{id}"),
                ctx.t(if code == "attachment_type" { "apply-file-type" } else { "apply-file-too-large" }),
            )),
            Err(_) => errors.push((format!("file_{id}"), ctx.t("apply-file-failed"))),
        }
    }
    let kind = if get("kind") == "organisation" { ApplicantKind::Organisation } else { ApplicantKind::Person };
    let form = typed_form(&def.form.fields, &posted);
    let mut field_errors = Vec::new();
    if errors.is_empty() {
        let (item_code, bundle_code) = match &def.subject {
            Subject::Item { code, .. } => (Some(code.clone()), None),
            Subject::Bundle { code, .. } => (None, Some(code.clone())),
        };
        let phone = Some(get("phone")).filter(|x| !x.is_empty());
        let req = SubmitRequest {
            item_code,
            bundle_code,
            channel: Some(Channel::Window),
            service_point: None,
            applicant: ApplicantInput {
                kind,
                name: get("name"),
                id_number: get("id_number").to_uppercase(),
                phone,
                account: None,
            },
            form: form.clone(),
            materials: attached
                .iter()
                .map(|(id, (a, f))| MaterialRef {
                    material_id: id.clone(),
                    file_name: f.clone(),
                    attachment: Some(a.clone()),
                    ..Default::default()
                })
                .collect(),
        };
        let key = format!("window:{}:{}", p.actor.id, get("nonce"));
        match s.app.submit(&p.actor, req, Some(key)).await {
            Ok((receipt, _)) => {
                if get("accept") == "1" {
                    let _ =
                        s.app.command(&p.actor, &receipt.case_no, CaseCommand::Accept { pledges: vec![] }, None).await;
                }
                return Redirect::to(&format!("/work/cases/{}", receipt.case_no)).into_response();
            }
            Err(e) => match e {
                AppError::Case(oneseal_domain::case::CaseError::InvalidForm(errs)) => {
                    field_errors = errs
                        .iter()
                        .map(|x| {
                            let f = def.form.fields.iter().find(|f| f.key == x.field);
                            (x.field.clone(), field_error_text(&ctx, x.code, f))
                        })
                        .collect();
                    errors.push(("form".into(), ctx.tn("apply-errors", errs.len())));
                }
                AppError::Case(oneseal_domain::case::CaseError::KeyMaterialsMissing(errs)) => {
                    for x in &errs {
                        let id = x.field.trim_start_matches("materials.");
                        errors.push((format!("file_{id}"), ctx.t("apply-key-material-missing")));
                    }
                    errors.push(("form".into(), ctx.tn("apply-key-materials-missing", errs.len())));
                }
                AppError::Case(oneseal_domain::case::CaseError::MissingMaterials(ids)) => {
                    for id in &ids {
                        errors.push((format!("file_{id}"), ctx.t("apply-material-missing")));
                    }
                    errors.push(("form".into(), ctx.tn("apply-materials-missing", ids.len())));
                }
                AppError::Invalid { code, message, fields } => {
                    let on_id = fields.iter().any(|f| f.field == oneseal_domain::party::ID_NUMBER_FIELD);
                    let (field, key) = match code {
                        "invalid_applicant" if on_id => ("id_number", "window-bad-id"),
                        "invalid_applicant" => ("name", "error-field-name"),
                        "invalid_phone" => ("phone", "error-field-phone"),
                        _ => ("form", ""),
                    };
                    let msg = if key.is_empty() { message } else { ctx.t(key) };
                    errors.push((field.into(), msg));
                }
                other => errors.push(("form".into(), format!("{} {other}", ctx.t("apply-submit-failed")))),
            },
        }
    }
    let page_ = ApplyPage {
        fields: field_views(&ctx, &def.form.fields, &form, &field_errors),
        materials: def
            .materials
            .iter()
            .map(|m| {
                let up = attached.get(&m.id).map(|(a, f)| format!("{a}|{f}")).unwrap_or_default();
                (m.id.clone(), m.name.clone(), m.required, m.key, up)
            })
            .collect(),
        title: def.title.clone(),
        code,
        kind: if kind == ApplicantKind::Organisation { "organisation".into() } else { "person".into() },
        name: get("name"),
        id_number: get("id_number"),
        phone: get("phone"),
        errors,
        nonce: get("nonce"),
        ctx: ctx.clone(),
    };
    page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &page_)
}

fn ymd(d: time::Date) -> (u16, u8, u8) {
    (d.year() as u16, u8::from(d.month()), d.day())
}

/// 受理通知书: for an accepted case.
async fn acceptance_pdf(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Response {
    let Ok(v) = super::masked_case(&s, &p.actor, &no).await else {
        return not_found(&headers, &format!("/work/cases/{no}"));
    };
    let Some(accepted) = v.state.accepted_at else {
        return not_found(&headers, &format!("/work/cases/{no}/acceptance.pdf"));
    };
    let day = oneseal_domain::clock::local_date(accepted);
    let deadline = v.clock.as_ref().and_then(|c| c.deadline).map(|d| d.to_string()).unwrap_or_default();
    let planned = if v.clock.as_ref().is_some_and(|c| c.provisional) {
        "（计划日期，以国务院放假通知为准）"
    } else {
        ""
    };
    let st = &v.state;
    let received = st.clock.started_at.map(oneseal_domain::clock::local_date).unwrap_or(day);
    let accepted_text = if st.deemed_accepted {
        format!("你（单位）于{}提出的“{}”申请，本机关未在五个工作日内作出受理决定或一次性告知补正，根据《中华人民共和国行政许可法》第三十二条的规定，自收到申请材料之日（{}）起即为受理。", received, st.title, received)
    } else {
        format!("你（单位）于{}提出的“{}”申请，申请材料齐全、符合法定形式，根据《中华人民共和国行政许可法》第三十二条的规定，本机关决定予以受理。", day, st.title)
    };
    let notice = oneseal_pdf::notice::Notice {
        title: "受理通知书".into(),
        number: format!("银审受〔{}〕{}号", day.year(), st.case_no),
        to: format!("{}：", st.applicant.name),
        paragraphs: vec![
            accepted_text,
            if deadline.is_empty() {
                "本事项当场办结。".into()
            } else {
                format!("本机关承诺于{deadline}{planned}前作出决定（法定期限按工作日计算，依法不计入期限的时间除外）。")
            },
            format!("办件编号：{}。可凭办件编号和查询码在“进度查询”页面或 12345 热线查询办理进度。", st.case_no),
        ],
        items: vec![],
        closing: vec!["特此通知。".into()],
        issuer: oneseal_app::licensing::ISSUER_NAME.into(),
        date: ymd(day),
        seal_text: "行政审批专用章".into(),
        file_id: super::pdf_file_id(&format!("acceptance {}", st.case_no)),
    };
    match tokio::task::spawn_blocking(move || oneseal_pdf::notice::render(&notice)).await {
        Ok(Ok(b)) => super::pdf_response(&format!("{no}-acceptance.pdf"), b, true, "private, no-store"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "pdf").into_response(),
    }
}

/// 一次性告知书: the correction notice, listing every problem at once.
async fn correction_pdf(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Response {
    let Ok(v) = super::masked_case(&s, &p.actor, &no).await else {
        return not_found(&headers, &format!("/work/cases/{no}"));
    };
    let trail = match s.app.trail(&p.actor, &v.state.case_no).await {
        Ok(t) => t,
        Err(e) => {
            let ctx = super::Ctx::from_headers(&headers, &format!("/work/cases/{no}/correction.pdf"), None);
            return super::error_page(&ctx, e);
        }
    };
    let Some((at, problems, due)) = trail.iter().rev().find_map(|t| match &t.event {
        CaseEvent::CorrectionRequested { problems, due } => Some((t.at, problems.clone(), *due)),
        _ => None,
    }) else {
        return not_found(&headers, &format!("/work/cases/{no}/correction.pdf"));
    };
    let st = &v.state;
    let def = s.app.catalog().definition(&st.subject).ok();
    let name_of = |subject: &str| -> String {
        def.as_ref()
            .and_then(|d| {
                d.materials
                    .iter()
                    .find(|m| m.id == subject)
                    .map(|m| m.name.clone())
                    .or_else(|| d.form.fields.iter().find(|f| f.key == subject).map(|f| f.label.clone()))
            })
            .unwrap_or_else(|| subject.to_string())
    };
    let day = oneseal_domain::clock::local_date(at);
    let notice = oneseal_pdf::notice::Notice {
        title: "一次性告知书".into(),
        number: format!("银审补〔{}〕{}号", day.year(), st.case_no),
        to: format!("{}：", st.applicant.name),
        paragraphs: vec![format!(
            "你（单位）于{}提出的“{}”申请，经审查，申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》第三十二条的规定，现一次性告知需要补正的全部内容如下：",
            oneseal_domain::clock::local_date(st.submitted_at), st.title
        )],
        items: problems.iter().map(|p| format!("{}：{}", name_of(&p.subject), p.message)).collect(),
        closing: vec![
            format!("请于{due}前补正。补正后本机关将重新审查并决定是否受理；逾期未补正的，视为撤回申请。"),
            format!("办件编号：{}。补正可在网上“我的办事”中提交，也可到任一综合窗口办理。", st.case_no),
        ],
        issuer: oneseal_app::licensing::ISSUER_NAME.into(),
        date: ymd(day),
        seal_text: "行政审批专用章".into(),
        file_id: super::pdf_file_id(&format!("correction {} {}", st.case_no, at)),
    };
    match tokio::task::spawn_blocking(move || oneseal_pdf::notice::render(&notice)).await {
        Ok(Ok(b)) => super::pdf_response(&format!("{no}-correction.pdf"), b, true, "private, no-store"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "pdf").into_response(),
    }
}
