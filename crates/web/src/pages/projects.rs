//! 我的工程建设项目: the owner's (and an assistant's) projects, a project's four stages with their items and
//! cases, the stage and project clocks with the time not counted (§45) apart, the timeline of its cases (the
//! critical path marked), and each stage's one form (一阶段一表), submitted once as a plain HTML form; the
//! combined evaluation (多评合一): the owner's commission and report upload, each department's review of its part.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::assessments::{CommissionRequest, EvaluationView, NeededAssessment};
use oneseal_app::projects::{ProjectSummary, ProjectView, StageSubmission};
use oneseal_domain::assessment::PartStatus;
use oneseal_domain::case::MaterialRef;
use oneseal_domain::catalog::{Field, FieldType, Material};
use oneseal_domain::project::{Level, Span};
use oneseal_domain::roles::Role;
use serde_json::{Map, Value};

use super::{csrf_ok, error_page, forbidden, page, Ctx, Signed};
use crate::policy::Principal;
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/me/projects", Access::SignedIn, list)
        .get("/me/projects/{code}", Access::SignedIn, show)
        .get("/me/projects/{code}/stages/{stage}", Access::SignedIn, stage_form)
        .post("/me/projects/{code}/stages/{stage}", Access::SignedIn, submit_stage)
        .post("/me/projects/{code}/assessments", Access::SignedIn, commission)
        .on(
            "POST",
            "/me/projects/{code}/assessments/report",
            Access::SignedIn,
            axum::routing::post(upload_report).layer(axum::extract::DefaultBodyLimit::max(
                oneseal_app::attachments::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .post("/me/projects/{code}/assessments/{kind}/review", Access::SignedIn, review)
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ListPage {
    ctx: Ctx,
    projects: Vec<ProjectSummary>,
    /// The published project types, each with its stages' limits; bureau administrators may revise them.
    types: Vec<TypeRow>,
    may_revise_types: bool,
}

/// A project type as the list shows it: its stages' names and limits in the page's language.
struct TypeRow {
    code: String,
    name: String,
    version: u32,
    /// "立项用地规划许可：8 个工作日", one per stage.
    stages: Vec<String>,
    permit: u32,
    whole: u32,
}

fn type_rows(ctx: &Ctx, types: Vec<oneseal_domain::project::ProjectType>) -> Vec<TypeRow> {
    let zh = ctx.lang.code().starts_with("zh");
    let pick = |zh_name: &str, en: &str| if zh || en.is_empty() { zh_name.to_string() } else { en.to_string() };
    types
        .into_iter()
        .map(|t| TypeRow {
            name: pick(&t.name, &t.name_en),
            stages: t
                .stages
                .iter()
                .map(|s| {
                    let sep = if zh { "：" } else { ": " };
                    format!("{}{sep}{}", pick(&s.name, &s.name_en), ctx.tn("project-types-days", s.limit_days))
                })
                .collect(),
            code: t.code,
            version: t.version,
            permit: t.permit_limit_days,
            whole: t.whole_limit_days,
        })
        .collect()
}

async fn list(State(s): State<AppState>, ctx: Ctx, Signed(p): Signed) -> Response {
    let may_revise_types = p.actor.has(oneseal_domain::roles::Role::Administrator) && p.actor.department.is_none();
    match s.app.projects(&p.actor).await {
        Ok(projects) => page(
            StatusCode::OK,
            &ctx,
            &ListPage { ctx: ctx.clone(), projects, types: type_rows(&ctx, s.app.project_types()), may_revise_types },
        ),
        Err(e) => error_page(&ctx, e),
    }
}

/// A clock as a page shows it.
struct ClockLine {
    name: String,
    level: &'static str,
    level_text: String,
    limit: u32,
    elapsed: u32,
    counted: u32,
    excluded: String,
}

/// A case on the timeline: where its bar starts and how wide it is (percent of the project's span).
struct Bar {
    case_no: String,
    title: String,
    stage: String,
    from_day: u32,
    to_day: u32,
    left: u32,
    width: u32,
    critical: bool,
    status: String,
}

/// A review of a part as the page shows it.
struct ReviewLine {
    outcome: String,
    returned: bool,
    reason: String,
    reviewer: String,
    round: u32,
    at: String,
}

/// A part of the combined evaluation: its department, status, reviews, and whether this reader reviews it now.
struct PartLine {
    kind: String,
    name: String,
    department: String,
    /// The items of the project's type whose materials this part's report stands for once passed.
    items: String,
    status: &'static str,
    status_text: String,
    reviews: Vec<ReviewLine>,
    may_review: bool,
}

/// The combined evaluation (多评合一) section of the project page.
struct EvalSection {
    commissioned: bool,
    /// The intermediary's name and USCC.
    intermediary: (String, String),
    parts: Vec<PartLine>,
    /// The latest report: file name, SHA-256, version.
    report: Option<(String, String, u32)>,
    passed: bool,
    revision_days: u32,
    may_commission: bool,
    may_upload: bool,
    /// What a commission may cover.
    options: Vec<NeededAssessment>,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    ctx: Ctx,
    v: ProjectView,
    stages: Vec<ClockLine>,
    to_permit: ClockLine,
    whole: ClockLine,
    bars: Vec<Bar>,
    span_days: u32,
    /// Staff: the open supervision alerts of the project they may see (the link to them).
    alerts_open: Option<i64>,
    eval: EvalSection,
    error: Option<String>,
    /// Whether the reader acts for the project (starts stages).
    acts: bool,
}

fn level_key(l: Level) -> &'static str {
    match l {
        Level::Waiting => "waiting",
        Level::Green => "green",
        Level::Yellow => "yellow",
        Level::Red => "red",
        Level::Done => "done",
        Level::DoneLate => "done_late",
    }
}

fn clock_line(ctx: &Ctx, name: String, s: &Span) -> ClockLine {
    let level = level_key(s.level);
    ClockLine {
        name,
        level,
        level_text: ctx.t(&format!("project-level-{level}")),
        limit: s.limit_days,
        elapsed: s.elapsed_days,
        counted: s.counted_days,
        excluded: s
            .excluded
            .iter()
            .filter(|(_, d)| **d > 0)
            .map(|(k, d)| format!("{} {d}", ctx.t(&format!("project-excluded-{k}"))))
            .collect::<Vec<_>>()
            .join("，"),
    }
}

async fn show(State(s): State<AppState>, ctx: Ctx, Signed(p): Signed, Path(code): Path<String>) -> Response {
    project_page(&s, &ctx, &p, &code, None, StatusCode::OK).await
}

/// The evaluation section for this reader: who may commission, upload, review which part.
fn eval_section(ctx: &Ctx, p: &Principal, v: &ProjectView, ev: EvaluationView) -> EvalSection {
    let zh = ctx.lang.code().starts_with("zh");
    let acts = oneseal_app::projects::may_act(&p.actor, &v.state);
    let reviewer = p.actor.has(Role::Reviewer) || p.actor.has(Role::Approver);
    let assessments = ev.assessments.clone();
    let needed = |x: &oneseal_domain::assessment::PartState| assessments.iter().find(|n| n.kind == x.part.kind);
    let Some(e) = ev.evaluation else {
        return EvalSection {
            commissioned: false,
            intermediary: (String::new(), String::new()),
            parts: Vec::new(),
            report: None,
            passed: false,
            revision_days: 0,
            may_commission: acts && ev.assessments.len() >= 2,
            may_upload: false,
            options: ev.assessments,
        };
    };
    let parts = e
        .parts
        .iter()
        .map(|x| PartLine {
            kind: x.part.kind.clone(),
            name: if zh || x.part.name_en.is_empty() { x.part.name.clone() } else { x.part.name_en.clone() },
            department: needed(x)
                .map(|n| n.department_name.clone())
                .unwrap_or_else(|| x.part.department.as_str().to_string()),
            items: needed(x).map(|n| n.items.join("、")).unwrap_or_default(),
            status: x.status.as_str(),
            status_text: ctx.t(&format!("eval-status-{}", x.status.as_str())),
            reviews: x
                .reviews
                .iter()
                .map(|r| ReviewLine {
                    outcome: ctx.t(&format!("eval-outcome-{}", r.outcome.as_str())),
                    returned: r.outcome == oneseal_domain::assessment::ReviewOutcome::Returned,
                    reason: r.reason.clone().unwrap_or_default(),
                    reviewer: r.reviewer.clone(),
                    round: r.round,
                    at: super::me::beijing(r.at),
                })
                .collect(),
            may_review: reviewer
                && x.status == PartStatus::UnderReview
                && p.actor.department.as_ref() == Some(&x.part.department),
        })
        .collect();
    EvalSection {
        commissioned: true,
        intermediary: (e.intermediary.name.clone(), e.intermediary.uscc.as_str().to_string()),
        parts,
        report: e.report().map(|r| (r.file.file_name.clone(), r.file.sha256.clone(), r.round)),
        passed: e.passed(),
        revision_days: ev.revision_days,
        may_commission: false,
        may_upload: acts
            && e.parts.iter().any(|x| matches!(x.status, PartStatus::AwaitingReport | PartStatus::Returned)),
        options: ev.assessments,
    }
}

/// The project page, with an error from a form above the section it came from.
async fn project_page(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    code: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let ctx = ctx.clone();
    let mut v = match s.app.project_view(&p.actor, code).await {
        Ok(v) => v,
        Err(e) => return error_page(&ctx, e),
    };
    let ev = match s.app.evaluation_view(&p.actor, code).await {
        Ok(ev) => ev,
        Err(e) => return error_page(&ctx, e),
    };
    let eval = eval_section(&ctx, p, &v, ev);
    // Statuses as the reader's words (this page only shows them).
    for st in &mut v.stage_views {
        for i in &mut st.items {
            i.status = i.status.as_deref().map(|x| super::me::status_label(&ctx, x));
        }
    }
    let zh = ctx.lang.code().starts_with("zh");
    let stages = v
        .clock
        .stages
        .iter()
        .map(|c| clock_line(&ctx, if zh || c.name_en.is_empty() { c.name.clone() } else { c.name_en.clone() }, &c.span))
        .collect();
    let to_permit = clock_line(&ctx, ctx.t("project-to-permit"), &v.clock.to_permit);
    let whole = clock_line(&ctx, ctx.t("project-whole"), &v.clock.whole);
    let span_days = v.clock.timeline_days.max(1);
    let mut bars = Vec::new();
    for st in &v.clock.stages {
        for c in &st.cases {
            let left = c.from_day.min(span_days) * 100 / span_days;
            let width = ((c.to_day.saturating_sub(c.from_day)).max(1) * 100 / span_days).clamp(2, 100 - left.min(98));
            bars.push(Bar {
                case_no: c.case_no.clone(),
                title: c.title.clone(),
                stage: st.name.clone(),
                from_day: c.from_day,
                to_day: c.to_day,
                left,
                width,
                critical: c.critical,
                status: super::me::status_label(&ctx, &c.status),
            });
        }
    }
    // Staff see the project's alerts (as the supervision list filters them for them); the owner does not.
    let alerts_open = if p.actor.is_staff() {
        let f = oneseal_app::rows::AlertFilter {
            status: Some("open".into()),
            project_code: Some(v.state.code.to_string()),
            limit: 1,
            ..Default::default()
        };
        match s.app.alerts(&p.actor, f).await {
            Ok((_, n)) => Some(n),
            Err(e) => return error_page(&ctx, e),
        }
    } else {
        None
    };
    let acts = oneseal_app::projects::may_act(&p.actor, &v.state);
    let page_data =
        ProjectPage { ctx: ctx.clone(), v, stages, to_permit, whole, bars, span_days, alerts_open, eval, error, acts };
    page(status, &ctx, &page_data)
}

/// A refused evaluation form: the project page again with the problem named (404 as the error page).
async fn refused(s: &AppState, ctx: &Ctx, p: &Principal, code: &str, e: oneseal_app::AppError) -> Response {
    if e.status() == 404 || e.status() >= 500 {
        return error_page(ctx, e);
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    project_page(s, ctx, p, code, Some(format!("{} {}", e.title_zh(), e)), status).await
}

/// A page form's value by name (empty when absent).
fn form_value(body: &[(String, String)], k: &str) -> String {
    body.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The 403 page when a project page's form lacks the session's CSRF token.
fn csrf_refusal(p: &Principal, headers: &HeaderMap, code: &str, body: &[(String, String)]) -> Option<Response> {
    (!csrf_ok(p, &form_value(body, "_csrf")))
        .then(|| forbidden(headers, &format!("/me/projects/{}", super::encode(code))))
}

fn back_to(code: &str) -> Response {
    Redirect::to(&format!("/me/projects/{}#evaluation", super::encode(code))).into_response()
}

/// 委托多评合一 from the project page: the assessments ticked, the intermediary's name and USCC.
async fn commission(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Signed(p): Signed,
    Path(code): Path<String>,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = csrf_refusal(&p, &headers, &code, &body) {
        return r;
    }
    let get = |k: &str| form_value(&body, k);
    let req = CommissionRequest {
        assessments: body.iter().filter(|(k, _)| k == "assessment").map(|(_, v)| v.clone()).collect(),
        intermediary_name: get("intermediary_name"),
        intermediary_uscc: get("intermediary_uscc"),
    };
    match s.app.commission_evaluation(&p.actor, &code, req).await {
        Ok(_) => back_to(&code),
        Err(e) => refused(&s, &ctx, &p, &code, e).await,
    }
}

/// The combined report uploaded from the project page (a PDF; anything else is refused before it is stored).
async fn upload_report(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Signed(p): Signed,
    Path(code): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let here = format!("/me/projects/{}", super::encode(&code));
    let Ok(mut mp) = multipart else { return forbidden(&headers, &here) };
    let (mut csrf, mut file) = (String::new(), None);
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().unwrap_or_default().to_string();
                match field.bytes().await {
                    Ok(b) if name == "_csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                    Ok(b) if name == "report" && !b.is_empty() => file = Some((file_name, b.to_vec())),
                    Ok(_) => {}
                    Err(_) => return refused_text(&s, &ctx, &p, &code, "apply-file-too-large").await,
                }
            }
            Ok(None) => break,
            Err(_) => return refused_text(&s, &ctx, &p, &code, "apply-file-too-large").await,
        }
    }
    if !csrf_ok(&p, &csrf) {
        return forbidden(&headers, &here);
    }
    let Some((file_name, bytes)) = file else { return refused_text(&s, &ctx, &p, &code, "eval-report-missing").await };
    if oneseal_app::attachments::sniff(&bytes) != Some("application/pdf") {
        return refused_text(&s, &ctx, &p, &code, "eval-report-not-pdf").await;
    }
    // Check who acts before anything is stored: a refused upload leaves no file behind.
    if let Err(e) = s.app.evaluation_view(&p.actor, &code).await {
        return error_page(&ctx, e);
    }
    let a = match s.app.upload_attachment(&p.actor, &file_name, &bytes).await {
        Ok(a) => a,
        Err(e) => return refused(&s, &ctx, &p, &code, e).await,
    };
    match s.app.submit_evaluation_report(&p.actor, &code, &a.id).await {
        Ok(_) => back_to(&code),
        Err(e) => refused(&s, &ctx, &p, &code, e).await,
    }
}

async fn refused_text(s: &AppState, ctx: &Ctx, p: &Principal, code: &str, key: &str) -> Response {
    project_page(s, ctx, p, code, Some(ctx.t(key)), StatusCode::UNPROCESSABLE_ENTITY).await
}

/// A department's review of its part, from the project page.
async fn review(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Signed(p): Signed,
    Path((code, kind)): Path<(String, String)>,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = csrf_refusal(&p, &headers, &code, &body) {
        return r;
    }
    let get = |k: &str| form_value(&body, k);
    match s.app.review_assessment(&p.actor, &code, &kind, &get("outcome"), &get("reason")).await {
        Ok(_) => back_to(&code),
        Err(e) => refused(&s, &ctx, &p, &code, e).await,
    }
}

#[derive(Template)]
#[template(path = "project-stage.html")]
struct StagePage {
    ctx: Ctx,
    code: String,
    stage: String,
    fields: Vec<Field>,
    materials: Vec<Material>,
    error: Option<String>,
}

async fn stage_form(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    Path((code, stage)): Path<(String, String)>,
) -> Response {
    match s.app.stage_form(&p.actor, &code, &stage).await {
        Ok((form, materials)) => page(
            StatusCode::OK,
            &ctx,
            &StagePage { ctx: ctx.clone(), code, stage, fields: form.fields, materials, error: None },
        ),
        Err(e) => error_page(&ctx, e),
    }
}

/// A field's value from the form's text: numbers as numbers, yes/no as booleans, the rest as text.
fn value_of(f: &Field, text: &str) -> Option<Value> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    Some(match f.field_type {
        FieldType::Number => t.parse::<f64>().ok().map(Value::from).unwrap_or(Value::String(t.into())),
        FieldType::Integer => t.parse::<i64>().ok().map(Value::from).unwrap_or(Value::String(t.into())),
        FieldType::Boolean => Value::Bool(t == "true"),
        _ => Value::String(t.into()),
    })
}

async fn submit_stage(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Signed(p): Signed,
    Path((code, stage)): Path<(String, String)>,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = csrf_refusal(&p, &headers, &code, &body) {
        return r;
    }
    let (form, materials) = match s.app.stage_form(&p.actor, &code, &stage).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let get = |k: &str| body.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str()).unwrap_or("");
    let mut values = Map::new();
    for f in &form.fields {
        if let Some(v) = value_of(f, get(&format!("f.{}", f.key))) {
            values.insert(f.key.clone(), v);
        }
    }
    let given: Vec<MaterialRef> = materials
        .iter()
        .filter_map(|m| {
            let name = get(&format!("m.{}", m.id)).trim();
            (!name.is_empty()).then(|| MaterialRef {
                material_id: m.id.clone(),
                file_name: name.chars().take(200).collect(),
                license: None,
                attachment: None,
                digest: None,
            })
        })
        .collect();
    // The form's contact phone is the owner's phone on every case of the stage.
    let phone = values.get("contact_phone").and_then(Value::as_str).map(str::to_string);
    let sub = StageSubmission { form: values, materials: given, phone };
    match s.app.start_stage(&p.actor, &code, &stage, sub).await {
        Ok(_) => Redirect::to(&format!("/me/projects/{}", super::encode(&code))).into_response(),
        Err(e) if e.status() == 422 => {
            let error = Some(format!("{} {}", e.title_zh(), e));
            let p = StagePage { ctx: ctx.clone(), code, stage, fields: form.fields, materials, error };
            page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &p)
        }
        Err(e) => error_page(&ctx, e),
    }
}
