//! The supervision page (电子监察): open alerts by department and kind, the list with filters, each alert's case
//! and evidence, closing with a note, and a sweep on demand. Supervisors and administrators see every
//! department; other staff their own.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::rows::AlertFilter;
use oneseal_domain::roles::Role;
use serde::Deserialize;

use super::me::beijing;
use super::portal::department_name;
use super::{csrf_ok, forbidden, page, Ctx, Signed};
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/supervision", Access::Staff, show)
        .post("/supervision/close", Access::Roles(&[Role::Supervisor]), close)
        .post("/supervision/sweep", Access::Roles(&[Role::Supervisor, Role::Administrator]), sweep)
        .post("/supervision/urge", Access::Roles(&[Role::Supervisor]), urge)
        .post("/supervision/urgings/reply", Access::Staff, reply)
        .post("/supervision/urgings/close", Access::Roles(&[Role::Supervisor]), close_urging)
}

pub struct AlertLine {
    pub id: String,
    pub kind: String,
    pub kind_label: String,
    pub level: String,
    pub case_no: String,
    /// A project's alert: its code (the alert links to the project, not a case).
    pub project_code: String,
    pub title: String,
    pub department: String,
    pub person: String,
    pub detail: String,
    pub raised: String,
    pub open: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct SupervisionPage {
    ctx: Ctx,
    /// (department name, [(kind label, count)])
    summary: Vec<(String, Vec<(String, i64)>)>,
    alerts: Vec<AlertLine>,
    total: i64,
    status: String,
    kind: String,
    /// The project the list is filtered to (empty: every alert).
    project: String,
    /// Whether the viewer sees projects (supervisors and administrators): a project's alert links to its page.
    sees_projects: bool,
    kinds: Vec<(String, String)>,
    supervisor: bool,
    message: Option<String>,
    urgings: Vec<UrgingLine>,
    /// The viewer's department (urgings to it can be answered here).
    department: String,
}

pub struct UrgingLine {
    pub id: String,
    pub case_no: String,
    pub department: String,
    pub department_id: String,
    pub message: String,
    pub due: String,
    pub status: String,
    pub status_key: String,
    pub escalated: bool,
    pub reply: String,
}

#[derive(Deserialize, Default)]
struct SupervisionQuery {
    status: Option<String>,
    kind: Option<String>,
    project: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

const KINDS: &[&str] = &[
    "yellow",
    "red",
    "stalled",
    "pledge_overdue",
    "second_correction",
    "late_acceptance",
    "skipped_steps",
    "unauthorised_decision",
    "reopened",
    "urging_overdue",
    "liaison_ack_overdue",
    "project_yellow",
    "project_red",
];

async fn show(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    q: Result<Query<SupervisionQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !p.actor.is_staff() {
        return forbidden(&headers, "/supervision");
    }
    let q = q.map(|q| q.0).unwrap_or_default();
    let status = q.status.filter(|x| x == "open" || x == "closed").unwrap_or_else(|| "open".into());
    let kind = q.kind.filter(|k| KINDS.contains(&k.as_str())).unwrap_or_default();
    let project = q.project.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).unwrap_or_default();
    let view = s.app.catalog();
    let f = AlertFilter {
        status: Some(status.clone()),
        kind: Some(kind.clone()).filter(|k| !k.is_empty()),
        project_code: Some(project.clone()).filter(|p| !p.is_empty()),
        limit: 200,
        ..Default::default()
    };
    let (rows, total) = match s.app.alerts(&p.actor, f).await {
        Ok(x) => x,
        Err(e) => return super::error_page(&ctx, e),
    };
    let alerts = rows
        .into_iter()
        .map(|a| AlertLine {
            kind_label: ctx.t(&format!("alert-{}", a.kind)),
            department: department_name(&ctx, &view, &a.department),
            raised: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(a.raised_at_ms) * 1_000_000)
                .map(beijing)
                .unwrap_or_default(),
            open: a.status == "open",
            person: a.person.unwrap_or_default(),
            note: a.note.unwrap_or_default(),
            id: a.id,
            kind: a.kind,
            level: a.level,
            case_no: a.case_no.unwrap_or_default(),
            project_code: a.project_code.unwrap_or_default(),
            title: a.title,
            detail: a.detail,
        })
        .collect();
    let all = p.actor.has(Role::Supervisor) || p.actor.has(Role::Administrator);
    let mine = p.actor.department.as_ref().map(|d| d.as_str().to_string());
    let mut summary: Vec<(String, Vec<(String, i64)>)> = Vec::new();
    let counts = match s.app.alert_counts().await {
        Ok(c) => c,
        Err(e) => return super::error_page(&ctx, e),
    };
    for (dept, k, n) in counts {
        if !all && mine.as_deref() != Some(dept.as_str()) {
            continue;
        }
        let name = department_name(&ctx, &view, &dept);
        let label = ctx.t(&format!("alert-{k}"));
        match summary.iter_mut().find(|(d, _)| *d == name) {
            Some((_, v)) => v.push((label, n)),
            None => summary.push((name, vec![(label, n)])),
        }
    }
    let message =
        q.done.map(|d| ctx.tv("supervision-swept", &d)).or_else(|| q.error.map(|_| ctx.t("supervision-failed")));
    let urgings = s
        .app
        .urgings(&p.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| UrgingLine {
            department: department_name(&ctx, &view, &u.department),
            status: ctx.t(&format!("urging-{}", u.status)),
            status_key: u.status.clone(),
            reply: u.reply.unwrap_or_default(),
            department_id: u.department,
            id: u.id,
            case_no: u.case_no,
            message: u.message,
            due: u.due,
            escalated: u.escalated,
        })
        .collect();
    let kinds = KINDS.iter().map(|k| (k.to_string(), ctx.t(&format!("alert-{k}")))).collect();
    let p_ = SupervisionPage {
        ctx: ctx.clone(),
        summary,
        alerts,
        total,
        status,
        kind,
        project,
        sees_projects: all,
        kinds,
        supervisor: p.actor.has(Role::Supervisor),
        message,
        urgings,
        department: mine.unwrap_or_default(),
    };
    page(StatusCode::OK, &ctx, &p_)
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    note: String,
}

async fn close(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<CloseForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else { return forbidden(&headers, "/supervision") };
    if !csrf_ok(&p, &f.csrf) || !p.actor.has(Role::Supervisor) {
        return forbidden(&headers, "/supervision");
    }
    let note = if f.note.trim().is_empty() { "—".to_string() } else { f.note };
    let _ = s.app.close_alert(&p.actor, &f.id, &note).await;
    Redirect::to("/supervision").into_response()
}

#[derive(Deserialize)]
struct SweepForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn sweep(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<SweepForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let ok = form.is_ok_and(|f| csrf_ok(&p, &f.csrf));
    if !ok || !(p.actor.has(Role::Supervisor) || p.actor.has(Role::Administrator)) {
        return forbidden(&headers, "/supervision");
    }
    while s.app.run_supervision_once(1000).await.unwrap_or(0) > 0 {}
    let n = s.app.sweep_supervision(5000).await.map(|r| r.total()).unwrap_or(0);
    Redirect::to(&format!("/supervision?done={n}")).into_response()
}

#[derive(Deserialize)]
struct UrgeForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    case_no: String,
    #[serde(default)]
    alert_id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    days: String,
}

async fn urge(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<UrgeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else { return forbidden(&headers, "/supervision") };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, "/supervision");
    }
    let days = f.days.trim().parse::<u32>().unwrap_or(5);
    let alert = Some(f.alert_id.as_str()).filter(|a| !a.is_empty());
    let issued = match crate::extract::parse_case_no(&f.case_no) {
        Ok(no) => s.app.issue_urging(&p.actor, &no, alert, None, &f.message, days).await,
        Err(e) => Err(e),
    };
    match issued {
        Ok(_) => Redirect::to("/supervision").into_response(),
        Err(_) => Redirect::to("/supervision?error=1").into_response(),
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    text: String,
}

/// The section's reply to an urging, or the supervisor closing it.
async fn reply(
    s: State<AppState>,
    p: Signed,
    headers: HeaderMap,
    form: Result<Form<ReplyForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    urging_step(s, p, headers, form, false).await
}

async fn close_urging(
    s: State<AppState>,
    p: Signed,
    headers: HeaderMap,
    form: Result<Form<ReplyForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    urging_step(s, p, headers, form, true).await
}

async fn urging_step(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<ReplyForm>, axum::extract::rejection::FormRejection>,
    close: bool,
) -> Response {
    let Ok(Form(f)) = form else { return forbidden(&headers, "/supervision") };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, "/supervision");
    }
    let done = if close {
        s.app.close_urging(&p.actor, &f.id, &f.text).await.is_ok()
    } else {
        s.app.reply_urging(&p.actor, &f.id, &f.text).await.is_ok()
    };
    Redirect::to(if done { "/supervision" } else { "/supervision?error=1" }).into_response()
}
