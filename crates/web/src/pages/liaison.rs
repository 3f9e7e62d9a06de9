//! The liaison page (审管互动) of a regulating department: the messages of approvals, filings, amendments,
//! cancellations and revocations in its field, each acknowledged (认领) here; the consultations and inspection
//! invitations it is asked to answer; its counters. Supervisors and administrators see every regulator's.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::rows::LiaisonFilter;
use oneseal_domain::roles::Role;
use serde::Deserialize;

use super::me::beijing;
use super::portal::department_name;
use super::{csrf_ok, forbidden, page, Ctx, Signed};
use crate::policy::Principal;
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/liaison", Access::Roles(&[Role::Regulator, Role::Supervisor, Role::Administrator]), show)
        .post("/liaison/acknowledge", Access::Roles(&[Role::Regulator]), acknowledge)
        .post("/liaison/answer", Access::Roles(&[Role::Regulator]), answer)
        .post("/liaison/webhooks", Access::Roles(&[Role::Regulator, Role::Administrator]), register_webhook)
        .post("/liaison/webhooks/toggle", Access::Roles(&[Role::Regulator, Role::Administrator]), toggle_webhook)
        .post("/liaison/deliveries/resend", Access::Roles(&[Role::Regulator, Role::Administrator]), resend)
}

pub struct EndpointLine {
    pub id: String,
    pub department: String,
    pub url: String,
    pub enabled: bool,
    pub reason: String,
}

pub struct LetterLine {
    pub id: String,
    pub event_type: String,
    pub attempts: i64,
    pub last: String,
}

pub struct MessageLine {
    pub id: String,
    pub kind: String,
    pub kind_label: String,
    pub case_no: String,
    pub title: String,
    pub holder: String,
    pub regulator: String,
    pub pushed: String,
    pub ack_due: String,
    pub acknowledged: String,
    pub late: bool,
}

pub struct ConsultLine {
    pub id: String,
    pub kind_label: String,
    pub case_no: String,
    pub regulator: String,
    pub question: String,
    pub due: String,
    pub open: bool,
    pub answer: String,
    pub pauses: bool,
}

#[derive(Template)]
#[template(path = "liaison.html")]
struct LiaisonPage {
    ctx: Ctx,
    regulator: bool,
    unacknowledged: bool,
    messages: Vec<MessageLine>,
    total: i64,
    consultations: Vec<ConsultLine>,
    counters: Vec<(String, i64, i64, i64, i64)>,
    message: Option<String>,
    /// Whether the viewer manages webhooks (regulators their department's, administrators all).
    manages: bool,
    endpoints: Vec<EndpointLine>,
    dead_letters: Vec<LetterLine>,
    /// Departments the viewer may register an endpoint for (id, name).
    departments: Vec<(String, String)>,
    /// A new endpoint's secret, shown once right after registering.
    secret: Option<String>,
}

#[derive(Deserialize, Default)]
struct LiaisonQuery {
    all: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

fn ms_text(v: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).map(beijing).unwrap_or_default()
}

async fn show(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    q: Result<Query<LiaisonQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|q| q.0).unwrap_or_default();
    render(&s, &ctx, &p, &headers, q, None, StatusCode::OK).await
}

async fn render(
    s: &AppState,
    ctx: &Ctx,
    p: &crate::policy::Principal,
    headers: &HeaderMap,
    q: LiaisonQuery,
    secret: Option<String>,
    status: StatusCode,
) -> Response {
    let ctx = ctx.clone();
    let allowed = p.actor.has(Role::Regulator) || p.actor.has(Role::Supervisor) || p.actor.has(Role::Administrator);
    if !allowed {
        return forbidden(headers, "/liaison");
    }
    let unacknowledged = q.all.is_none();
    let view = s.app.catalog();
    let f = LiaisonFilter { unacknowledged, limit: 200, ..Default::default() };
    let (rows, total) = match s.app.liaison_messages(&p.actor, f).await {
        Ok(x) => x,
        Err(e) => return super::error_page(&ctx, e),
    };
    let messages = rows
        .into_iter()
        .map(|m| {
            let summary: serde_json::Value = serde_json::from_str(&m.summary).unwrap_or_default();
            MessageLine {
                kind_label: ctx.t(&format!("liaison-kind-{}", m.kind)),
                holder: summary["holder"].as_str().unwrap_or_default().to_string(),
                regulator: department_name(&ctx, &view, &m.regulator),
                pushed: ms_text(m.pushed_at_ms),
                acknowledged: m.acknowledged_at_ms.map(ms_text).unwrap_or_default(),
                late: m.alerted,
                case_no: m.case_no.unwrap_or_default(),
                id: m.id,
                kind: m.kind,
                title: m.title,
                ack_due: m.ack_due,
            }
        })
        .collect();
    let consultations = s
        .app
        .consultations_for(&p.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| ConsultLine {
            kind_label: ctx.t(&format!("liaison-consult-{}", c.kind)),
            regulator: department_name(&ctx, &view, &c.regulator),
            open: c.status == "open",
            answer: c.answer.unwrap_or_default(),
            pauses: c.pauses_clock,
            id: c.id,
            case_no: c.case_no,
            question: c.question,
            due: c.due,
        })
        .collect();
    let counters = s
        .app
        .liaison_counters(&p.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| (department_name(&ctx, &view, &c.regulator), c.pushed, c.acknowledged, c.acknowledged_late, c.overdue))
        .collect();
    let message = q.done.map(|_| ctx.t("liaison-done")).or_else(|| q.error.map(|_| ctx.t("liaison-failed")));
    let manages = p.actor.has(Role::Regulator) || p.actor.has(Role::Administrator);
    let endpoints: Vec<EndpointLine> = if manages {
        s.app
            .webhook_endpoints(&p.actor)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|e| EndpointLine {
                department: department_name(&ctx, &view, &e.department),
                reason: e.disabled_reason.unwrap_or_default(),
                id: e.id,
                url: e.url,
                enabled: e.enabled,
            })
            .collect()
    } else {
        Vec::new()
    };
    let dead_letters = if manages {
        s.app
            .webhook_deliveries(&p.actor, Some("dead"), 50)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|d| LetterLine {
                last: d.last_status.map(|x| x.to_string()).or(d.last_error).unwrap_or_default(),
                id: d.id,
                event_type: d.event_type,
                attempts: d.attempts,
            })
            .collect()
    } else {
        Vec::new()
    };
    let departments = if p.actor.has(Role::Administrator) {
        view.departments
            .iter()
            .filter(|d| !d.bureau_section)
            .map(|d| (d.id.as_str().to_string(), department_name(&ctx, &view, d.id.as_str())))
            .collect()
    } else {
        p.actor.department.iter().map(|d| (d.as_str().to_string(), department_name(&ctx, &view, d.as_str()))).collect()
    };
    let pg = LiaisonPage {
        ctx: ctx.clone(),
        regulator: p.actor.has(Role::Regulator),
        unacknowledged,
        messages,
        total,
        consultations,
        counters,
        message,
        manages,
        endpoints,
        dead_letters,
        departments,
        secret,
    };
    page(status, &ctx, &pg)
}

/// The small forms of this page: a CSRF token, the id acted on, and the action's one field.
#[derive(Deserialize)]
struct IdForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    enable: String,
}

/// The form, once its CSRF token is the session's; a refusal page otherwise.
fn checked(p: &Principal, headers: &HeaderMap, form: Result<Form<IdForm>, FormRejection>) -> Result<IdForm, Response> {
    match form {
        Ok(Form(f)) if csrf_ok(p, &f.csrf) => Ok(f),
        _ => Err(forbidden(headers, "/liaison")),
    }
}

/// Back to the page, saying whether it was done.
fn back<T>(r: Result<T, oneseal_app::AppError>) -> Response {
    Redirect::to(if r.is_ok() { "/liaison?done=1" } else { "/liaison?error=1" }).into_response()
}

async fn acknowledge(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<IdForm>, FormRejection>,
) -> Response {
    match checked(&p, &headers, form) {
        Ok(f) => back(s.app.acknowledge_liaison(&p.actor, &f.id).await),
        Err(r) => r,
    }
}

async fn answer(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<IdForm>, FormRejection>,
) -> Response {
    match checked(&p, &headers, form) {
        Ok(f) => back(s.app.answer_consultation(&p.actor, &f.id, &f.answer).await),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct EndpointForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    url: String,
}

/// Register an endpoint: the page answers directly with the secret (never in a URL or a redirect).
async fn register_webhook(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<EndpointForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else { return forbidden(&headers, "/liaison") };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, "/liaison");
    }
    match s.app.register_webhook(&p.actor, &f.department, &f.url).await {
        Ok((_, secret)) => {
            render(&s, &ctx, &p, &headers, LiaisonQuery::default(), Some(secret), StatusCode::CREATED).await
        }
        Err(_) => {
            let q = LiaisonQuery { error: Some("1".into()), ..Default::default() };
            render(&s, &ctx, &p, &headers, q, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn toggle_webhook(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<IdForm>, FormRejection>,
) -> Response {
    match checked(&p, &headers, form) {
        Ok(f) => back(s.app.set_webhook_enabled(&p.actor, &f.id, f.enable == "1").await),
        Err(r) => r,
    }
}

async fn resend(
    State(s): State<AppState>,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<IdForm>, FormRejection>,
) -> Response {
    match checked(&p, &headers, form) {
        Ok(f) => back(s.app.resend_delivery(&p.actor, &f.id).await),
        Err(r) => r,
    }
}
