//! 我的工程建设项目: the owner's (and an assistant's) projects, a project's four stages with their items and
//! cases, the stage and project clocks with the time not counted (§45) apart, the timeline of its cases (the
//! critical path marked), and each stage's one form (一阶段一表), submitted once as a plain HTML form.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::projects::{ProjectSummary, ProjectView, StageSubmission};
use oneseal_domain::case::MaterialRef;
use oneseal_domain::catalog::{Field, FieldType, Material};
use oneseal_domain::project::{Level, Span};
use serde_json::{Map, Value};

use super::{csrf_ok, error_page, forbidden, page, Ctx, Signed};
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/me/projects", Access::SignedIn, list)
        .get("/me/projects/{code}", Access::SignedIn, show)
        .get("/me/projects/{code}/stages/{stage}", Access::SignedIn, stage_form)
        .post("/me/projects/{code}/stages/{stage}", Access::SignedIn, submit_stage)
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
    let mut v = match s.app.project_view(&p.actor, &code).await {
        Ok(v) => v,
        Err(e) => return error_page(&ctx, e),
    };
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
    page(
        StatusCode::OK,
        &ctx,
        &ProjectPage { ctx: ctx.clone(), v, stages, to_permit, whole, bars, span_days, alerts_open },
    )
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
    let sent = body.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    if !csrf_ok(&p, sent) {
        return forbidden(&headers, &format!("/me/projects/{}", super::encode(&code)));
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
