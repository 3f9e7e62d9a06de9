//! The 12345 pages: `/hotline` (the operator console, a handling unit's inbox, a citizen's requests — by role),
//! `/knowledge` (the public knowledge base), `/rate` (好差评: a completed case or a window service, signed in or
//! with the query code the window's screen shows) and `/satisfaction` (public satisfaction).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use oneseal_app::hotline::{MergeSuggestion, TicketView};
use oneseal_app::ratings::RateInput;
use oneseal_app::rows::TicketFilter;
use oneseal_domain::hotline::{Intake, Satisfaction};
use oneseal_domain::roles::Role;
use serde::Deserialize;
use serde_json::json;

use super::me::beijing;
use super::{csrf_ok, forbidden, page, Ctx, Signed};
use crate::policy::Principal;
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/hotline", Access::SignedIn, console)
        .post("/hotline/tickets", Access::Roles(&[Role::HotlineOperator, Role::Applicant]), create)
        .post("/hotline/tickets/{ticket_no}/act", Access::Roles(&[Role::HotlineOperator, Role::HandlingUnit]), act)
        .get("/knowledge", Access::Public, knowledge)
        .get("/rate", Access::Public, rate_page)
        .post("/rate", Access::Public, rate_submit)
        .get("/satisfaction", Access::Public, satisfaction)
        .get("/admin/hotline", Access::BureauAdmin, admin_directory)
        .post("/admin/hotline", Access::BureauAdmin, admin_directory_publish)
}

/// One ticket line with the actions its viewer may take now.
pub struct TicketLine {
    pub no: String,
    pub status: String,
    pub status_key: String,
    pub category: String,
    pub content: String,
    pub location: String,
    pub unit: String,
    pub received: String,
    pub reply_due: String,
    pub reply: String,
    pub urgent: bool,
    pub actions: Vec<String>,
    pub caller: String,
}

#[derive(Template)]
#[template(path = "hotline.html")]
struct HotlinePage {
    ctx: Ctx,
    operator: bool,
    unit: bool,
    citizen: bool,
    categories: Vec<(String, String)>,
    tickets: Vec<TicketLine>,
    status: String,
    message: Option<String>,
    error: Option<String>,
    created: Option<String>,
    similar: Vec<MergeSuggestion>,
    levels: Vec<(String, String)>,
    /// This month's KPIs for the centre: (label, value), and the week's hot topics.
    kpis: Vec<(String, String)>,
    hot: Option<oneseal_domain::hotline::HotTopics>,
}

#[derive(Deserialize, Default)]
struct ConsoleQuery {
    status: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

fn line(ctx: &Ctx, t: &TicketView, operator: bool, unit: bool) -> TicketLine {
    let st = &t.state;
    let key = st.status.as_str();
    let mut actions: Vec<&str> = Vec::new();
    if operator {
        match key {
            "received" => actions.extend(["dispatch", "answer-directly", "merge"]),
            "dispatched" => actions.push("merge"),
            "replied" if !st.followed_up => actions.push("follow-up"),
            "replied" => actions.push("close"),
            _ => {}
        }
        if st.extension_pending.is_some() {
            actions.push("decide-extension");
        }
    }
    if unit {
        match key {
            "dispatched" => actions.extend(["sign-for", "return"]),
            "signed" => {
                actions.extend(["reply", "return"]);
                if st.extension_pending.is_none() {
                    actions.push("request-extension");
                }
            }
            _ => {}
        }
    }
    TicketLine {
        no: st.ticket_no.clone(),
        status: ctx.t(&format!("ticket-status-{key}")),
        status_key: key.to_string(),
        category: t.category_name.clone(),
        content: st.intake.content.clone(),
        location: st.intake.location.clone(),
        unit: t.lead_unit_name.clone().unwrap_or_default(),
        received: beijing(st.received_at),
        reply_due: st.reply_due.map(beijing).unwrap_or_default(),
        reply: st.reply.clone().unwrap_or_default(),
        urgent: st.intake.urgent,
        actions: actions.into_iter().map(str::to_string).collect(),
        caller: format!("{} {}", st.intake.caller_name, st.intake.caller_phone),
    }
}

async fn render(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    q: ConsoleQuery,
    created: Option<(String, Vec<MergeSuggestion>)>,
    status_code: StatusCode,
) -> Response {
    let operator = p.actor.has(Role::HotlineOperator);
    let unit = p.actor.has(Role::HandlingUnit);
    let citizen = !p.actor.is_staff();
    let status = q
        .status
        .filter(|x| ["received", "dispatched", "signed", "replied", "closed", "merged"].contains(&x.as_str()))
        .unwrap_or_default();
    let f = TicketFilter { status: Some(status.clone()).filter(|x| !x.is_empty()), limit: 100, ..Default::default() };
    let tickets = s
        .app
        .tickets(&p.actor, f)
        .await
        .map(|(v, _)| v)
        .unwrap_or_default()
        .iter()
        .map(|t| line(ctx, t, operator, unit))
        .collect();
    let dir = s.app.hotline_directory();
    let categories = dir
        .category
        .iter()
        .map(|c| (c.id.clone(), if ctx.lang == super::i18n::Lang::En { c.name_en.clone() } else { c.name.clone() }))
        .collect();
    let levels =
        Satisfaction::ALL.iter().map(|l| (l.as_str().to_string(), ctx.t(&format!("level-{}", l.as_str())))).collect();
    let (mut kpis, mut hot) = (Vec::new(), None);
    if operator {
        let today = oneseal_domain::clock::local_date(s.app.now());
        let first = today.replace_day(1).unwrap_or(today);
        let next = first.checked_add(time::Duration::days(32)).and_then(|d| d.replace_day(1).ok()).unwrap_or(today);
        if let Ok(k) = s.app.hotline_kpis(&p.actor, first, next).await {
            let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".into());
            let t = &k.total;
            kpis = vec![
                (ctx.t("kpi-received"), t.received.to_string()),
                (ctx.t("kpi-completed"), pct(t.completed_share)),
                (ctx.t("kpi-follow-up"), pct(t.follow_up_share)),
                (ctx.t("kpi-satisfaction"), pct(t.satisfaction_share)),
                (ctx.t("kpi-on-time"), pct(t.on_time_share)),
            ];
        }
        hot = s.app.hot_topics(&p.actor).await.ok();
    }
    let (created, similar) = match created {
        Some((no, sim)) => (Some(no), sim),
        None => (None, vec![]),
    };
    let pg = HotlinePage {
        ctx: ctx.clone(),
        operator,
        unit,
        citizen,
        categories,
        tickets,
        status,
        message: q.done.map(|_| ctx.t("liaison-done")),
        error: q.error.map(|e| format!("{} {e}", ctx.t("hotline-failed"))),
        created,
        similar,
        levels,
        kpis,
        hot,
    };
    page(status_code, ctx, &pg)
}

async fn console(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    q: Result<Query<ConsoleQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    render(&s, &ctx, &p, q.map(|q| q.0).unwrap_or_default(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    urgent: Option<String>,
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    caller_phone: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    location: String,
}

async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<CreateForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else { return forbidden(&headers, "/hotline") };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, "/hotline");
    }
    let intake = Intake {
        category: f.category,
        urgent: f.urgent.is_some(),
        channel: if p.actor.has(Role::HotlineOperator) { "operator".into() } else { "portal".into() },
        caller_name: f.caller_name,
        caller_phone: f.caller_phone,
        caller_account: None,
        content: f.content,
        location: f.location,
    };
    match s.app.receive_ticket(&p.actor, intake).await {
        Ok((t, similar)) => {
            render(&s, &ctx, &p, ConsoleQuery::default(), Some((t.state.ticket_no, similar)), StatusCode::CREATED).await
        }
        Err(e) => {
            let msg = crate::problem::ApiError::from(e).0;
            let q = ConsoleQuery { error: Some(format!("{} {}", msg.title_zh, msg.detail)), ..Default::default() };
            render(&s, &ctx, &p, q, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn act(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
    form: Result<Form<std::collections::BTreeMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or_default();
    if !csrf_ok(&p, f.get("_csrf").map(String::as_str).unwrap_or("")) {
        return forbidden(&headers, "/hotline");
    }
    let action = f.get("action").cloned().unwrap_or_default();
    let mut body = json!({});
    for (k, v) in &f {
        if k != "_csrf" && k != "action" {
            body[k.as_str()] = json!(v);
        }
    }
    if let Some(d) = f.get("days") {
        body["days"] = json!(d.trim().parse::<u64>().unwrap_or(0));
    }
    if let Some(a) = f.get("approve") {
        body["approve"] = json!(a == "true");
    }
    if action == "dispatch" {
        // The directory's units unless the operator chose another lead unit.
        if f.get("lead_unit").is_none_or(|u| u.is_empty()) {
            body = json!({});
        }
    }
    let result = match crate::hotline_api::command_of(&action, &body) {
        Ok(cmd) => {
            let done = match crate::extract::parse_ticket_no(&no) {
                Ok(n) => s.app.ticket_command(&p.actor, &n, cmd, None).await,
                Err(e) => Err(e),
            };
            done.map_err(|e| crate::problem::ApiError::from(e).0)
        }
        Err(e) => Err(e.0),
    };
    match result {
        Ok(_) => Redirect::to("/hotline?done=1").into_response(),
        Err(prob) => {
            let q = ConsoleQuery { error: Some(format!("{} {}", prob.title_zh, prob.detail)), ..Default::default() };
            render(&s, &ctx, &p, q, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "knowledge.html")]
struct KnowledgePage {
    ctx: Ctx,
    q: String,
    articles: Vec<(String, String, String)>,
}

#[derive(Deserialize, Default)]
struct KnowledgeQuery {
    q: Option<String>,
}

async fn knowledge(
    State(s): State<AppState>,
    ctx: Ctx,
    q: Result<Query<KnowledgeQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|q| q.0.q.unwrap_or_default()).unwrap_or_default();
    let q: String = q.chars().take(100).collect();
    let dir = s.app.hotline_directory();
    let articles = s
        .app
        .search_articles(&q, None)
        .await
        .unwrap_or_default()
        .into_iter()
        .take(50)
        .map(|a| (a.title, dir.get(&a.category).map(|c| c.name.clone()).unwrap_or_default(), a.body))
        .collect();
    page(StatusCode::OK, &ctx, &KnowledgePage { ctx: ctx.clone(), q, articles })
}

#[derive(Template)]
#[template(path = "rate.html")]
struct RatePage {
    ctx: Ctx,
    case_no: String,
    query_code: String,
    kind: String,
    signed_in: bool,
    levels: Vec<(String, String)>,
    error: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
struct RateQuery {
    case_no: Option<String>,
    code: Option<String>,
    kind: Option<String>,
}

fn rate_page_of(
    ctx: &Ctx,
    case_no: String,
    query_code: String,
    kind: String,
    signed_in: bool,
    error: Option<String>,
    done: Option<String>,
) -> RatePage {
    let levels =
        Satisfaction::ALL.iter().map(|l| (l.as_str().to_string(), ctx.t(&format!("level-{}", l.as_str())))).collect();
    RatePage { ctx: ctx.clone(), case_no, query_code, kind, signed_in, levels, error, done }
}

async fn rate_page(
    ctx: Ctx,
    principal: Option<Extension<Principal>>,
    q: Result<Query<RateQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|q| q.0).unwrap_or_default();
    let kind = q.kind.filter(|k| k == "window").unwrap_or_else(|| "case".into());
    let signed_in = principal.is_some_and(|p| !p.actor.is_staff());
    let p = rate_page_of(&ctx, q.case_no.unwrap_or_default(), q.code.unwrap_or_default(), kind, signed_in, None, None);
    page(StatusCode::OK, &ctx, &p)
}

#[derive(Deserialize)]
struct RateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    case_no: String,
    #[serde(default)]
    query_code: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    comment: String,
}

async fn rate_submit(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ctx: Ctx,
    principal: Option<Extension<Principal>>,
    headers: HeaderMap,
    form: Result<Form<RateForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else { return forbidden(&headers, "/rate") };
    let principal = principal.map(|p| p.0);
    // A signed-in citizen rates as themself (the form's CSRF token is checked); others need the query code.
    let actor = match &principal {
        Some(p) if !p.actor.is_staff() => {
            if !csrf_ok(p, &f.csrf) {
                return forbidden(&headers, "/rate");
            }
            Some(p.actor.clone())
        }
        _ => None,
    };
    let code = Some(f.query_code.trim().to_string()).filter(|c| !c.is_empty());
    let input = RateInput {
        kind: f.kind.clone(),
        case_no: f.case_no.trim().to_string(),
        query_code: if actor.is_some() { None } else { code },
        level: f.level.clone(),
        comment: f.comment.clone(),
        tags: vec![],
    };
    let signed_in = actor.is_some();
    match s.app.rate(actor.as_ref(), input, Some(&peer.ip().to_string())).await {
        Ok(_) => {
            let p = rate_page_of(&ctx, f.case_no, String::new(), f.kind, signed_in, None, Some(ctx.t("rate-thanks")));
            page(StatusCode::OK, &ctx, &p)
        }
        Err(e) => {
            let prob = crate::problem::ApiError::from(e).0;
            let msg = format!("{} {}", prob.title_zh, prob.detail);
            let status = StatusCode::from_u16(prob.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let p = rate_page_of(&ctx, f.case_no, f.query_code, f.kind, signed_in, Some(msg), None);
            page(if status.is_success() { StatusCode::UNPROCESSABLE_ENTITY } else { status }, &ctx, &p)
        }
    }
}

#[derive(Template)]
#[template(path = "satisfaction.html")]
struct SatisfactionPage {
    ctx: Ctx,
    total: i64,
    share: String,
    /// (caption, rows of (name, total, satisfied, share))
    groups: Vec<(String, Vec<(String, i64, i64, String)>)>,
}

async fn satisfaction(State(s): State<AppState>, ctx: Ctx) -> Response {
    let rep = match s.app.satisfaction(0).await {
        Ok(r) => r,
        Err(e) => return super::error_page(&ctx, e),
    };
    let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".into());
    let rows = |v: &[oneseal_app::ratings::SatisfactionLine]| -> Vec<(String, i64, i64, String)> {
        v.iter()
            .map(|l| {
                (if l.name.is_empty() { l.key.clone() } else { l.name.clone() }, l.total, l.satisfied, pct(l.share))
            })
            .collect()
    };
    let groups = vec![
        (ctx.t("sat-by-department"), rows(&rep.by_department)),
        (ctx.t("sat-by-item"), rows(&rep.by_item)),
        (
            ctx.t("sat-by-channel"),
            rows(&rep.by_channel).into_iter().map(|(k, a, b, c)| (ctx.t(&format!("channel-{k}")), a, b, c)).collect(),
        ),
        (ctx.t("sat-by-window"), rows(&rep.by_window)),
    ];
    page(StatusCode::OK, &ctx, &SatisfactionPage { ctx: ctx.clone(), total: rep.total, share: pct(rep.share), groups })
}

#[derive(Template)]
#[template(path = "admin-hotline.html")]
struct DirectoryPage {
    ctx: Ctx,
    /// (id, name, lead unit, co-units, sign hours, reply days, urgent hours, max reopen)
    rows: Vec<(String, String, String, String, u32, u32, u32, u32)>,
    body: String,
    error: Option<String>,
    done: bool,
}

fn directory_page(s: &AppState, ctx: &Ctx, body: Option<String>, error: Option<String>, done: bool) -> DirectoryPage {
    let dir = s.app.hotline_directory();
    let view = s.app.catalog();
    let rows = dir
        .category
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                c.name.clone(),
                view.department_name(&c.lead_unit),
                c.co_units.iter().map(|u| view.department_name(u)).collect::<Vec<_>>().join("、"),
                c.sign_hours,
                c.reply_days,
                c.urgent_reply_hours,
                c.max_reopen,
            )
        })
        .collect();
    DirectoryPage {
        ctx: ctx.clone(),
        rows,
        body: body.unwrap_or_else(|| serde_json::to_string_pretty(&*dir).unwrap_or_default()),
        error,
        done,
    }
}

/// The dispatch directory for administrators: the table in force, and its JSON to revise and publish.
async fn admin_directory(State(s): State<AppState>, ctx: Ctx, Signed(p): Signed, headers: HeaderMap) -> Response {
    if !p.actor.has(Role::Administrator) {
        return forbidden(&headers, "/admin/hotline");
    }
    page(StatusCode::OK, &ctx, &directory_page(&s, &ctx, None, None, false))
}

#[derive(Deserialize)]
struct DirectoryForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    body: String,
}

async fn admin_directory_publish(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<DirectoryForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else { return forbidden(&headers, "/admin/hotline") };
    if !csrf_ok(&p, &f.csrf) || !p.actor.has(Role::Administrator) {
        return forbidden(&headers, "/admin/hotline");
    }
    let parsed: Result<oneseal_domain::hotline::Directory, String> =
        serde_json::from_str(&f.body).map_err(|e| e.to_string());
    let result = match parsed {
        Ok(d) => s.app.publish_directory(&p.actor, d).await.map_err(|e| crate::problem::ApiError::from(e).0.detail),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => page(StatusCode::OK, &ctx, &directory_page(&s, &ctx, None, None, true)),
        Err(e) => page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &directory_page(&s, &ctx, Some(f.body), Some(e), false)),
    }
}
