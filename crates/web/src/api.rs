//! The JSON API under /api/v1.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use oneseal_app::auth::SESSION_HOURS;
use oneseal_app::cases::{CaseView, QueueView, SubmitRequest};
use oneseal_app::catalog::HitKind;
use oneseal_app::AppError;
use oneseal_domain::calendar::{format_date, parse_date, YearData};
use oneseal_domain::case::{
    ApplicantKind, Assignee, CaseCommand, Delivery, MaterialRef, Outcome, Problem as CorrectionProblem, Status,
    SuspensionKind,
};
use oneseal_domain::catalog::{FormSchema, ItemKind, ServiceItem, Tag};
use oneseal_domain::flowchart;
use oneseal_domain::ids::{ItemCode, ResidentId};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::CaseFilter;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::problem::{ApiError, Problem};
use crate::AppState;

type Res = Result<Response, ApiError>;

pub use crate::policy::Access;

/// Every API route: method, path (axum syntax), access rule. The OpenAPI document and the router are checked
/// against this list by tests.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/api/v1/openapi.json", Access::Public),
    ("POST", "/api/v1/sessions", Access::Public),
    ("DELETE", "/api/v1/sessions/current", Access::SignedIn),
    ("GET", "/api/v1/me", Access::SignedIn),
    ("GET", "/api/v1/departments", Access::Public),
    ("GET", "/api/v1/items", Access::Public),
    ("GET", "/api/v1/items/{code}", Access::Public),
    ("GET", "/api/v1/items/{code}/versions", Access::Public),
    ("POST", "/api/v1/items/{code}/versions", Access::Admin),
    ("GET", "/api/v1/items/{code}/versions/{version}", Access::Public),
    ("GET", "/api/v1/items/{code}/flowchart.svg", Access::Public),
    ("GET", "/api/v1/bundles", Access::Public),
    ("GET", "/api/v1/bundles/{code}", Access::Public),
    ("GET", "/api/v1/calendar/years", Access::Public),
    ("GET", "/api/v1/calendar/years/{year}", Access::Public),
    ("PUT", "/api/v1/calendar/years/{year}", Access::BureauAdmin),
    ("GET", "/api/v1/calendar/workdays/{date}", Access::Public),
    ("GET", "/api/v1/calendar/deadline", Access::Public),
    ("POST", "/api/v1/cases", Access::Roles(&[Role::Applicant, Role::WindowClerk])),
    ("GET", "/api/v1/cases", Access::SignedIn),
    ("GET", "/api/v1/cases/{case_no}", Access::SignedIn),
    ("GET", "/api/v1/cases/{case_no}/events", Access::SignedIn),
    ("POST", "/api/v1/cases/{case_no}/{action}", Access::SignedIn),
    ("POST", "/api/v1/cases/{case_no}/personal-data", Access::Staff),
    ("GET", "/api/v1/me/data-access", Access::SignedIn),
    ("GET", "/api/v1/oidc/login", Access::Public),
    ("GET", "/api/v1/oidc/callback", Access::Public),
    ("POST", "/api/v1/register", Access::Public),
    ("GET", "/api/v1/me/profile", Access::SignedIn),
    ("POST", "/api/v1/organisations", Access::Roles(&[Role::Applicant])),
    ("GET", "/api/v1/organisations/pending", Access::Roles(&[Role::WindowClerk])),
    ("POST", "/api/v1/organisations/{uscc}/verification", Access::Roles(&[Role::WindowClerk])),
    ("POST", "/api/v1/organisations/{uscc}/agents", Access::Roles(&[Role::Applicant])),
    ("DELETE", "/api/v1/organisations/{uscc}/agents/{username}", Access::Roles(&[Role::Applicant])),
    ("PUT", "/api/v1/departments", Access::BureauAdmin),
    ("PUT", "/api/v1/staff/{username}/post", Access::Admin),
    ("GET", "/api/v1/alerts", Access::Staff),
    ("POST", "/api/v1/alerts/{id}/close", Access::Roles(&[Role::Supervisor])),
    ("POST", "/api/v1/supervision/sweep", Access::Roles(&[Role::Supervisor, Role::Administrator])),
    ("GET", "/api/v1/export/events.xes", Access::Roles(&[Role::Supervisor, Role::Administrator])),
    ("GET", "/api/v1/export/alerts.csv", Access::Roles(&[Role::Supervisor, Role::Administrator])),
    ("GET", "/api/v1/urgings", Access::Staff),
    ("POST", "/api/v1/urgings", Access::Roles(&[Role::Supervisor])),
    ("POST", "/api/v1/urgings/{id}/reply", Access::Staff),
    ("POST", "/api/v1/urgings/{id}/close", Access::Roles(&[Role::Supervisor])),
    ("GET", "/api/v1/dashboard", Access::Roles(&[Role::Supervisor, Role::Administrator])),
    ("POST", "/api/v1/tickets", Access::Roles(&[Role::HotlineOperator, Role::Applicant])),
    ("GET", "/api/v1/tickets", Access::SignedIn),
    ("GET", "/api/v1/tickets/{ticket_no}", Access::SignedIn),
    ("POST", "/api/v1/tickets/{ticket_no}/{action}", Access::SignedIn),
    ("GET", "/api/v1/tickets/{ticket_no}/similar", Access::Roles(&[Role::HotlineOperator])),
    ("POST", "/api/v1/tickets/{ticket_no}/caller", Access::Roles(&[Role::HotlineOperator])),
    ("GET", "/api/v1/hotline/directory", Access::Public),
    ("PUT", "/api/v1/hotline/directory", Access::BureauAdmin),
    ("GET", "/api/v1/hotline/kpis", Access::Roles(&[Role::HotlineOperator, Role::Supervisor, Role::Administrator])),
    (
        "GET",
        "/api/v1/hotline/hot-topics",
        Access::Roles(&[Role::HotlineOperator, Role::Supervisor, Role::Administrator]),
    ),
    ("GET", "/api/v1/knowledge", Access::Public),
    ("POST", "/api/v1/knowledge", Access::Roles(&[Role::HotlineOperator, Role::Administrator])),
    ("GET", "/api/v1/knowledge/{id}", Access::Public),
    ("POST", "/api/v1/ratings", Access::Public),
    ("GET", "/api/v1/ratings", Access::Staff),
    ("POST", "/api/v1/ratings/{id}/remediation", Access::Staff),
    ("POST", "/api/v1/ratings/{id}/appeal", Access::Staff),
    ("POST", "/api/v1/ratings/{id}/appeal-decision", Access::Roles(&[Role::Supervisor])),
    ("GET", "/api/v1/satisfaction", Access::Public),
    ("GET", "/api/v1/liaison/messages", Access::Roles(&[Role::Regulator, Role::Supervisor, Role::Administrator])),
    ("POST", "/api/v1/liaison/messages/{id}/acknowledge", Access::Roles(&[Role::Regulator])),
    ("GET", "/api/v1/liaison/counters", Access::Roles(&[Role::Regulator, Role::Supervisor, Role::Administrator])),
    ("GET", "/api/v1/cases/{case_no}/consultations", Access::Staff),
    (
        "POST",
        "/api/v1/cases/{case_no}/consultations",
        Access::Roles(&[Role::Reviewer, Role::Approver, Role::Inspector]),
    ),
    ("GET", "/api/v1/consultations", Access::Roles(&[Role::Regulator, Role::Supervisor, Role::Administrator])),
    ("POST", "/api/v1/consultations/{id}/answer", Access::Roles(&[Role::Regulator])),
    ("GET", "/api/v1/webhooks", Access::Roles(&[Role::Regulator, Role::Administrator])),
    ("POST", "/api/v1/webhooks", Access::Roles(&[Role::Regulator, Role::Administrator])),
    ("POST", "/api/v1/webhooks/{id}/enable", Access::Roles(&[Role::Regulator, Role::Administrator])),
    ("POST", "/api/v1/webhooks/{id}/disable", Access::Roles(&[Role::Regulator, Role::Administrator])),
    ("GET", "/api/v1/webhooks/deliveries", Access::Roles(&[Role::Regulator, Role::Administrator])),
    ("POST", "/api/v1/webhooks/deliveries/{id}/resend", Access::Roles(&[Role::Regulator, Role::Administrator])),
    ("POST", "/api/v1/attachments", Access::SignedIn),
    ("GET", "/api/v1/attachments/{id}", Access::SignedIn),
    ("POST", "/api/v1/verify", Access::Public),
    ("POST", "/api/v1/verify/pdf", Access::Public),
    ("GET", "/api/v1/licenses/{identifier}", Access::Public),
    ("POST", "/api/v1/licenses/{identifier}/revoke", Access::Roles(&[Role::Approver])),
    ("POST", "/api/v1/licenses/{identifier}/cancel", Access::Roles(&[Role::Approver])),
    ("POST", "/api/v1/licenses/{identifier}/amend", Access::Roles(&[Role::Approver])),
    ("GET", "/api/v1/me/licenses", Access::SignedIn),
    ("GET", "/api/v1/me/licenses/{identifier}/pdf", Access::SignedIn),
    ("GET", "/api/v1/me/licenses/{identifier}/consents", Access::SignedIn),
    ("POST", "/api/v1/me/licenses/{identifier}/consents", Access::SignedIn),
    ("POST", "/api/v1/me/licenses/{identifier}/consents/{consent_id}/revoke", Access::SignedIn),
    (
        "GET",
        "/api/v1/licenses/{identifier}/full",
        Access::Roles(&[
            Role::WindowClerk,
            Role::Reviewer,
            Role::Approver,
            Role::Inspector,
            Role::Regulator,
            Role::HandlingUnit,
        ]),
    ),
    ("GET", "/api/v1/status-lists/1", Access::Public),
    ("GET", "/api/v1/disclosures", Access::Public),
    ("GET", "/api/v1/transparency/checkpoint", Access::Public),
    ("POST", "/api/v1/transparency/checkpoint", Access::BureauAdmin),
    ("GET", "/api/v1/transparency/inclusion", Access::Public),
    ("GET", "/api/v1/transparency/consistency", Access::Public),
    ("GET", "/api/v1/staff", Access::Admin),
    ("POST", "/api/v1/staff", Access::Admin),
    ("POST", "/api/v1/staff/{username}/grants", Access::Admin),
    ("DELETE", "/api/v1/staff/{username}/grants/{role}", Access::Admin),
    ("POST", "/api/v1/staff/{username}/deactivate", Access::Admin),
    ("POST", "/api/v1/accounts/{username}/lift-login-ceiling", Access::Admin),
    ("POST", "/api/v1/me/totp", Access::SignedIn),
    ("POST", "/api/v1/me/totp/confirm", Access::SignedIn),
    ("POST", "/api/v1/tokens", Access::SignedIn),
    ("GET", "/api/v1/tokens", Access::SignedIn),
    ("DELETE", "/api/v1/tokens/{id}", Access::SignedIn),
    ("POST", "/api/v1/progress", Access::Public),
    ("GET", "/api/v1/work-queue", Access::Staff),
    ("GET", "/api/v1/intake-queue", Access::Roles(&[Role::WindowClerk])),
    ("GET", "/api/v1/notifications", Access::SignedIn),
];

/// The case actions of `POST /api/v1/cases/{case_no}/{action}`, each its own variant (the path segment is the
/// kebab-case name); an unknown name never reaches a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseAction {
    Accept,
    Refuse,
    RequestCorrection,
    SubmitCorrection,
    FulfilPledge,
    Claim,
    Complete,
    SendBack,
    Reassign,
    Suspend,
    Resume,
    Extend,
    Decide,
    IssueLicenses,
    Deliver,
    Withdraw,
    Terminate,
}

impl CaseAction {
    pub const ALL: [CaseAction; 17] = [
        CaseAction::Accept,
        CaseAction::Refuse,
        CaseAction::RequestCorrection,
        CaseAction::SubmitCorrection,
        CaseAction::FulfilPledge,
        CaseAction::Claim,
        CaseAction::Complete,
        CaseAction::SendBack,
        CaseAction::Reassign,
        CaseAction::Suspend,
        CaseAction::Resume,
        CaseAction::Extend,
        CaseAction::Decide,
        CaseAction::IssueLicenses,
        CaseAction::Deliver,
        CaseAction::Withdraw,
        CaseAction::Terminate,
    ];

    /// The action's name in paths and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::Accept => "accept",
            CaseAction::Refuse => "refuse",
            CaseAction::RequestCorrection => "request-correction",
            CaseAction::SubmitCorrection => "submit-correction",
            CaseAction::FulfilPledge => "fulfil-pledge",
            CaseAction::Claim => "claim",
            CaseAction::Complete => "complete",
            CaseAction::SendBack => "send-back",
            CaseAction::Reassign => "reassign",
            CaseAction::Suspend => "suspend",
            CaseAction::Resume => "resume",
            CaseAction::Extend => "extend",
            CaseAction::Decide => "decide",
            CaseAction::IssueLicenses => "issue-licenses",
            CaseAction::Deliver => "deliver",
            CaseAction::Withdraw => "withdraw",
            CaseAction::Terminate => "terminate",
        }
    }

    pub fn parse(name: &str) -> Option<CaseAction> {
        CaseAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/sessions", post(login))
        .route("/api/v1/sessions/current", axum::routing::delete(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/departments", get(departments).put(publish_departments))
        .route("/api/v1/items", get(list_items))
        .route("/api/v1/items/{code}", get(get_item))
        .route("/api/v1/items/{code}/versions", get(item_versions).post(publish_item))
        .route("/api/v1/items/{code}/versions/{version}", get(item_version))
        .route("/api/v1/items/{code}/flowchart.svg", get(flowchart_svg))
        .route("/api/v1/bundles", get(list_bundles))
        .route("/api/v1/bundles/{code}", get(get_bundle))
        .route("/api/v1/calendar/years", get(calendar_years))
        .route("/api/v1/calendar/years/{year}", get(calendar_year).put(put_calendar_year))
        .route("/api/v1/calendar/workdays/{date}", get(is_workday))
        .route("/api/v1/calendar/deadline", get(deadline))
        .route("/api/v1/cases", post(submit).get(list_cases))
        .route("/api/v1/cases/{case_no}", get(get_case))
        .route("/api/v1/cases/{case_no}/events", get(case_events))
        .route("/api/v1/cases/{case_no}/{action}", post(case_action))
        .route("/api/v1/cases/{case_no}/personal-data", post(unmask))
        .route("/api/v1/me/data-access", get(data_access))
        .route("/api/v1/oidc/login", get(oidc_login))
        .route("/api/v1/oidc/callback", get(oidc_callback))
        .route("/api/v1/register", post(register))
        .route("/api/v1/me/profile", get(my_profile))
        .route("/api/v1/organisations", post(register_organisation))
        .route("/api/v1/organisations/pending", get(pending_organisations))
        .route("/api/v1/organisations/{uscc}/verification", post(verify_organisation))
        .route("/api/v1/organisations/{uscc}/agents", post(authorise_agent))
        .route("/api/v1/organisations/{uscc}/agents/{username}", axum::routing::delete(revoke_agent))
        .route(
            "/api/v1/attachments",
            post(upload_attachment).layer(axum::extract::DefaultBodyLimit::max(
                oneseal_app::attachments::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .route("/api/v1/attachments/{id}", get(get_attachment))
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}/close", post(close_alert))
        .route("/api/v1/supervision/sweep", post(sweep))
        .route("/api/v1/export/events.xes", get(export_xes))
        .route("/api/v1/export/alerts.csv", get(export_alerts_csv))
        .route("/api/v1/urgings", get(list_urgings).post(issue_urging))
        .route("/api/v1/urgings/{id}/reply", post(reply_urging))
        .route("/api/v1/urgings/{id}/close", post(close_urging))
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/tickets", get(crate::hotline_api::list).post(crate::hotline_api::receive))
        .route("/api/v1/tickets/{ticket_no}", get(crate::hotline_api::get_ticket))
        .route("/api/v1/tickets/{ticket_no}/{action}", post(crate::hotline_api::act))
        .route("/api/v1/tickets/{ticket_no}/similar", get(crate::hotline_api::similar))
        .route("/api/v1/tickets/{ticket_no}/caller", post(crate::hotline_api::caller))
        .route("/api/v1/hotline/directory", get(crate::hotline_api::directory).put(crate::hotline_api::put_directory))
        .route("/api/v1/hotline/kpis", get(crate::hotline_api::kpis))
        .route("/api/v1/hotline/hot-topics", get(crate::hotline_api::hot_topics))
        .route("/api/v1/knowledge", get(crate::hotline_api::search_knowledge).post(crate::hotline_api::publish_article))
        .route("/api/v1/knowledge/{id}", get(crate::hotline_api::article))
        .route("/api/v1/ratings", get(crate::hotline_api::list_ratings).post(crate::hotline_api::rate))
        .route("/api/v1/ratings/{id}/remediation", post(crate::hotline_api::remediate))
        .route("/api/v1/ratings/{id}/appeal", post(crate::hotline_api::appeal))
        .route("/api/v1/ratings/{id}/appeal-decision", post(crate::hotline_api::decide_appeal))
        .route("/api/v1/satisfaction", get(crate::hotline_api::satisfaction))
        .route("/api/v1/liaison/messages", get(crate::liaison_api::list_messages))
        .route("/api/v1/liaison/messages/{id}/acknowledge", post(crate::liaison_api::acknowledge))
        .route("/api/v1/liaison/counters", get(crate::liaison_api::counters))
        .route(
            "/api/v1/cases/{case_no}/consultations",
            get(crate::liaison_api::case_consultations).post(crate::liaison_api::ask),
        )
        .route("/api/v1/consultations", get(crate::liaison_api::my_consultations))
        .route("/api/v1/consultations/{id}/answer", post(crate::liaison_api::answer))
        .route("/api/v1/webhooks", get(crate::liaison_api::list_endpoints).post(crate::liaison_api::register_endpoint))
        .route("/api/v1/webhooks/{id}/enable", post(crate::liaison_api::enable_endpoint))
        .route("/api/v1/webhooks/{id}/disable", post(crate::liaison_api::disable_endpoint))
        .route("/api/v1/webhooks/deliveries", get(crate::liaison_api::list_deliveries))
        .route("/api/v1/webhooks/deliveries/{id}/resend", post(crate::liaison_api::resend))
        .route("/api/v1/verify", post(verify_license))
        .route("/api/v1/verify/pdf", post(verify_license_pdf))
        .route("/api/v1/licenses/{identifier}", get(get_license))
        .route("/api/v1/licenses/{identifier}/revoke", post(revoke_license))
        .route("/api/v1/licenses/{identifier}/cancel", post(cancel_license))
        .route("/api/v1/licenses/{identifier}/amend", post(amend_license))
        .route("/api/v1/me/licenses", get(my_licenses))
        .route("/api/v1/me/licenses/{identifier}/pdf", get(license_pdf))
        .route("/api/v1/me/licenses/{identifier}/consents", get(license_consents).post(grant_license_consent))
        .route("/api/v1/me/licenses/{identifier}/consents/{consent_id}/revoke", post(revoke_license_consent))
        .route("/api/v1/licenses/{identifier}/full", get(fetch_license_with_consent))
        .route("/api/v1/status-lists/1", get(status_list))
        .route("/api/v1/disclosures", get(disclosures))
        .route("/api/v1/transparency/checkpoint", get(checkpoint).post(new_checkpoint))
        .route("/api/v1/transparency/inclusion", get(inclusion))
        .route("/api/v1/transparency/consistency", get(consistency))
        .route("/api/v1/staff", get(list_staff).post(create_staff))
        .route("/api/v1/staff/{username}/grants", post(grant_role))
        .route("/api/v1/staff/{username}/grants/{role}", axum::routing::delete(revoke_role))
        .route("/api/v1/staff/{username}/deactivate", post(deactivate))
        .route("/api/v1/accounts/{username}/lift-login-ceiling", post(lift_login_ceiling))
        .route("/api/v1/staff/{username}/post", axum::routing::put(set_post))
        .route("/api/v1/me/totp", post(enrol_totp))
        .route("/api/v1/me/totp/confirm", post(confirm_totp))
        .route("/api/v1/tokens", post(issue_token).get(list_tokens))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/api/v1/progress", post(progress))
        .route("/api/v1/work-queue", get(work_queue))
        .route("/api/v1/intake-queue", get(intake_queue))
        .route("/api/v1/notifications", get(notifications))
}

const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn staff(actor: &Actor) -> Result<(), ApiError> {
    if actor.is_staff() {
        Ok(())
    } else {
        Err(AppError::Forbidden("staff only".into()).into())
    }
}

fn admin(actor: &Actor) -> Result<(), ApiError> {
    if actor.has(Role::Administrator) {
        Ok(())
    } else {
        Err(AppError::Forbidden("administrators only".into()).into())
    }
}

// ---- sessions ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
    /// The authenticator code, for accounts with a second factor.
    #[serde(default)]
    totp: Option<String>,
}

async fn login(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LoginBody>,
) -> Res {
    if b.username.len() > 100 || b.password.len() > 200 {
        return Err(Problem::unprocessable("invalid_credentials_format", "username or password too long").into());
    }
    let addr = peer.ip().to_string();
    let sess = s.app.login(&b.username, &b.password, b.totp.as_deref(), Some(&addr)).await.map_err(|e| match e {
        AppError::Unauthenticated => ApiError(Problem::new(
            401,
            "bad_credentials",
            "Unauthenticated",
            "用户名或密码错误",
            "wrong username or password",
        )),
        other => other.into(),
    })?;
    // Rotation: a session the browser already had ends with this sign-in; the new one gets a fresh cookie.
    if let Some(old) = crate::policy::cookie_value(&headers, crate::policy::SESSION_COOKIE) {
        let _ = s.app.logout(&old).await;
    }
    Ok(session_answer(&s, sess))
}

/// The answer to a sign-in: the token, its CSRF token, and the session cookie.
fn session_answer(s: &AppState, sess: oneseal_app::auth::Session) -> Response {
    let csrf = crate::policy::csrf_token(&sess.token);
    let mut r = (
        StatusCode::CREATED,
        Json(json!({ "token": sess.token, "csrf_token": csrf, "expires_in": SESSION_HOURS * 3600, "actor": sess.actor, "limited": sess.limited })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&crate::policy::session_set_cookie(s.secure_cookies, &sess.token)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn logout(State(s): State<AppState>, Authed(_, token): Authed) -> Res {
    s.app.logout(&token).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(crate::policy::SESSION_CLEAR_COOKIE));
    Ok(r)
}

async fn me(Authed(actor, _): Authed) -> Res {
    Ok(Json(actor).into_response())
}

// ---- catalog ----

async fn departments(State(s): State<AppState>) -> Res {
    Ok(Json(json!({ "departments": s.app.catalog().departments })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemQuery {
    q: Option<String>,
    department: Option<String>,
    tag: Option<Tag>,
    kind: Option<ItemKind>,
    topic: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

fn item_summary(s: &AppState, i: &ServiceItem, version: u32) -> Value {
    json!({
        "impl_code": i.impl_code, "name": i.name, "name_en": i.name_en, "kind": i.kind, "department": i.department,
        "department_name": s.app.catalog().department_name(i.department.as_str()), "handling": i.handling,
        "promised_limit": i.promised_limit, "statutory_limit": i.statutory_limit, "tags": i.tags, "topics": i.topics,
        "online_depth": i.online_depth, "visits_required": i.visits_required, "version": version,
    })
}

pub(crate) fn paging(page: Option<u32>, per_page: Option<u32>) -> Result<(usize, usize), ApiError> {
    let page = page.unwrap_or(1);
    let per = per_page.unwrap_or(20);
    if page == 0 || per == 0 || per > 200 {
        return Err(Problem::bad_request("invalid_paging", "page starts at 1; per_page is 1–200").into());
    }
    Ok(((page - 1) as usize * per as usize, per as usize))
}

async fn list_items(State(s): State<AppState>, ApiQuery(q): ApiQuery<ItemQuery>) -> Res {
    let view = s.app.catalog();
    let (offset, limit) = paging(q.page, q.per_page)?;
    let codes: Vec<(String, Option<u32>)> = match q.q.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(text) => {
            if text.chars().count() > 100 {
                return Err(Problem::bad_request("query_too_long", "search text is longer than 100 characters").into());
            }
            view.search(text)
                .into_iter()
                .filter(|(k, _, _)| *k == HitKind::Item)
                .map(|(_, c, sc)| (c, Some(sc)))
                .collect()
        }
        None => view.items.keys().map(|c| (c.clone(), None)).collect(),
    };
    let mut out = Vec::new();
    for (code, score) in codes {
        let Some(p) = view.latest_item(&code) else {
            continue;
        };
        let i = &p.body;
        if q.department.as_deref().is_some_and(|d| d != i.department.as_str())
            || q.tag.is_some_and(|t| !i.tags.contains(&t))
            || q.kind.is_some_and(|k| k != i.kind)
            || q.topic.as_deref().is_some_and(|t| !i.topics.iter().any(|x| x == t))
        {
            continue;
        }
        let mut v = item_summary(&s, i, p.version);
        if let Some(sc) = score {
            v["score"] = json!(sc);
        }
        out.push(v);
    }
    let total = out.len();
    let page: Vec<Value> = out.into_iter().skip(offset).take(limit).collect();
    Ok(Json(json!({ "total": total, "items": page })).into_response())
}

fn find_item(s: &AppState, code: &str) -> Result<oneseal_app::catalog::Published<ServiceItem>, ApiError> {
    ItemCode::parse(code).map_err(|e| Problem::not_found(format!("item {code}: {e}")))?;
    s.app.catalog().latest_item(code).cloned().ok_or_else(|| Problem::not_found(format!("item {code}")).into())
}

fn guide(s: &AppState, p: &oneseal_app::catalog::Published<ServiceItem>) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    v["department_name"] = json!(s.app.catalog().department_name(p.body.department.as_str()));
    v["flowchart"] = json!(format!("/api/v1/items/{}/flowchart.svg", p.body.impl_code));
    v
}

async fn get_item(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    let p = find_item(&s, &code)?;
    Ok(Json(guide(&s, &p)).into_response())
}

async fn item_versions(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    find_item(&s, &code)?;
    let view = s.app.catalog();
    let versions: Vec<Value> = view.items.get(&code).map(|v| {
        v.iter().map(|p| json!({ "version": p.version, "published_at_ms": p.published_at_ms, "published_by": p.published_by, "reason": p.reason })).collect()
    }).unwrap_or_default();
    Ok(Json(json!({ "impl_code": code, "versions": versions })).into_response())
}

async fn item_version(State(s): State<AppState>, ApiPath((code, version)): ApiPath<(String, String)>) -> Res {
    let v: u32 = version
        .parse()
        .map_err(|_| Problem::bad_request("invalid_version", "version must be a positive whole number"))?;
    let p = s
        .app
        .catalog()
        .item_version(&code, v)
        .cloned()
        .ok_or_else(|| Problem::not_found(format!("item {code} version {v}")))?;
    Ok(Json(guide(&s, &p)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    item: ServiceItem,
    reason: String,
}

async fn publish_item(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<PublishBody>,
) -> Res {
    admin(&actor)?;
    let current = find_item(&s, &code)?;
    if !oneseal_app::App::may_edit_item(&actor, current.body.department.as_str())
        || !oneseal_app::App::may_edit_item(&actor, b.item.department.as_str())
    {
        return Err(AppError::Forbidden("a department's administrator revises that department's items".into()).into());
    }
    if b.item.impl_code.as_str() != code {
        return Err(Problem::unprocessable("code_mismatch", "the item's impl_code differs from the address").into());
    }
    let v = s.app.publish_item(b.item, &actor.id, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(json!({ "impl_code": code, "version": v }))).into_response())
}

async fn flowchart_svg(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    let code = code.trim_end_matches(".svg").to_string();
    let p = find_item(&s, &code)?;
    let view = s.app.catalog();
    let svg = flowchart::render(&p.body.process, &|d| view.department_name(d));
    let mut r = svg.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    Ok(r)
}

async fn list_bundles(State(s): State<AppState>) -> Res {
    let view = s.app.catalog();
    let list: Vec<Value> = view
        .bundles
        .values()
        .filter_map(|v| v.last())
        .map(|p| json!({ "code": p.body.code, "name": p.body.name, "name_en": p.body.name_en, "description": p.body.description, "items": p.body.items, "promised_limit": p.body.promised_limit, "tags": p.body.tags, "topics": p.body.topics, "version": p.version }))
        .collect();
    Ok(Json(json!({ "bundles": list })).into_response())
}

async fn get_bundle(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Res {
    let view = s.app.catalog();
    let p = view.latest_bundle(&code).ok_or_else(|| Problem::not_found(format!("bundle {code}")))?;
    let def = view.definition(&oneseal_domain::case::Subject::Bundle { code: code.clone(), version: p.version })?;
    let form: &FormSchema = &def.form;
    let mut v = serde_json::to_value(p).unwrap_or_default();
    v["form"] = json!(form);
    v["materials"] = json!(def.materials);
    v["results"] = json!(def.results);
    Ok(Json(v).into_response())
}

// ---- calendar ----

async fn calendar_years(State(s): State<AppState>) -> Res {
    let cal = s.app.calendar();
    let years: Vec<i32> = cal.years().map(|y| y.year).collect();
    let today = oneseal_domain::clock::local_date(s.app.now());
    Ok(Json(json!({
        "years": years,
        "provisional_from": cal.first_provisional_year(today.year()),
        "reminder": s.app.provisional_reminder(),
    }))
    .into_response())
}

fn parse_year(y: &str) -> Result<i32, ApiError> {
    y.parse::<i32>()
        .ok()
        .filter(|y| (1949..=2200).contains(y))
        .ok_or_else(|| Problem::bad_request("invalid_year", format!("{y:?} is not a year")).into())
}

async fn calendar_year(State(s): State<AppState>, ApiPath(year): ApiPath<String>) -> Res {
    let y = parse_year(&year)?;
    let cal = s.app.calendar();
    let (d, provisional) = match (cal.year(y), cal.provisional_year(y)) {
        (Some(d), _) => (d, false),
        (None, Some(d)) => (d, true),
        (None, None) => return Err(Problem::not_found(format!("no calendar data for {y}")).into()),
    };
    let mut v = serde_json::to_value(d).map_err(|e| AppError::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("provisional".into(), json!(provisional));
    }
    Ok(Json(v).into_response())
}

async fn put_calendar_year(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(year): ApiPath<String>,
    ApiJson(b): ApiJson<YearData>,
) -> Res {
    admin(&actor)?;
    let y = parse_year(&year)?;
    let saved = s.app.publish_calendar_year(&actor.id, &b.to_toml(), Some(y)).await?;
    Ok(Json(saved).into_response())
}

fn parse_iso(d: &str) -> Result<time::Date, ApiError> {
    parse_date(d).map_err(|e| Problem::bad_request("invalid_date", e).into())
}

async fn is_workday(State(s): State<AppState>, ApiPath(date): ApiPath<String>) -> Res {
    let d = parse_iso(&date)?;
    let cal = s.app.calendar();
    let w = cal.is_workday(d).map_err(AppError::from)?;
    Ok(Json(json!({ "date": format_date(d), "workday": w, "provisional": cal.is_provisional(d.year()) }))
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineQuery {
    start: String,
    days: u32,
}

async fn deadline(State(s): State<AppState>, ApiQuery(q): ApiQuery<DeadlineQuery>) -> Res {
    let d = parse_iso(&q.start)?;
    if q.days > 1000 {
        return Err(Problem::bad_request("invalid_days", "days must be 0–1000").into());
    }
    let cal = s.app.calendar();
    let dl = cal.add_working_days(d, q.days).map_err(AppError::from)?;
    Ok(Json(json!({
        "start": format_date(d),
        "days": q.days,
        "deadline": format_date(dl),
        "provisional": cal.provisional_between(d, dl),
    }))
    .into_response())
}

// ---- cases ----

/// Personal data is masked on every answer; the query code's digest never leaves the server.
fn masked(s: &AppState, mut v: CaseView) -> CaseView {
    s.app.mask_state(&mut v.state);
    v
}

fn with_etag(s: &AppState, v: CaseView) -> Response {
    let etag = format!("\"{}\"", v.state.version);
    let mut r = Json(masked(s, v)).into_response();
    if let Ok(h) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, h);
    }
    r
}

async fn submit(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    headers: HeaderMap,
    ApiJson(b): ApiJson<SubmitRequest>,
) -> Res {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Problem::bad_request("invalid_idempotency_key", "Idempotency-Key must be visible ASCII"))?
                .to_string(),
        ),
        None => None,
    };
    let (receipt, created) = s.app.submit(&actor, b, key).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut r = (status, Json(&receipt)).into_response();
    if let Ok(h) = HeaderValue::from_str(&format!("/api/v1/cases/{}", receipt.case_no)) {
        r.headers_mut().insert(header::LOCATION, h);
    }
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseQuery {
    status: Option<Status>,
    /// Find an applicant's cases by ID number (window clerks and supervisors); compared through the blind index.
    applicant_id: Option<String>,
    item: Option<String>,
    department: Option<String>,
    channel: Option<oneseal_domain::case::Channel>,
    /// Open cases due within this many working days.
    due_within: Option<u32>,
    overdue: Option<bool>,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list_cases(State(s): State<AppState>, Authed(actor, _): Authed, ApiQuery(q): ApiQuery<CaseQuery>) -> Res {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let today = oneseal_domain::clock::local_date(s.app.now());
    let cal = s.app.calendar();
    let due_by = match q.due_within {
        Some(n) if n <= 60 => Some(format_date(cal.add_working_days(today, n).map_err(AppError::from)?)),
        Some(_) => return Err(Problem::bad_request("invalid_due_within", "due_within is 0–60 working days").into()),
        None => None,
    };
    let applicant_index = match q.applicant_id.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(id) => {
            let kind = if oneseal_domain::ids::Uscc::parse(id).is_ok() {
                ApplicantKind::Organisation
            } else {
                ResidentId::parse(id)
                    .map_err(|e| Problem::bad_request("invalid_applicant_id", format!("applicant_id: {e}")))?;
                ApplicantKind::Person
            };
            Some(s.app.id_index(kind, &id.to_uppercase()))
        }
        None => None,
    };
    let f = CaseFilter {
        status: q.status.map(|x| x.as_str().to_string()),
        applicant_index,
        subject_code: q.item,
        department: q.department,
        channel: q.channel.map(|c| c.as_str().to_string()),
        applicant_account: None,
        or_applicant_indexes: vec![],
        due_by,
        overdue_on: if q.overdue == Some(true) { Some(format_date(today)) } else { None },
        limit: limit as i64,
        offset: offset as i64,
    };
    let (rows, total) = s.app.list_cases(&actor, f).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| json!({ "case_no": r.case_no, "title": r.title, "subject_kind": r.subject_kind, "subject_code": r.subject_code, "department": r.department, "channel": r.channel, "service_point": r.service_point, "status": r.status, "deadline": r.deadline, "submitted_at_ms": r.submitted_at_ms, "version": r.version }))
        .collect();
    Ok(Json(json!({ "total": total, "cases": list })).into_response())
}

async fn get_case(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(no): ApiPath<String>) -> Res {
    let v = s.app.case_view(&actor, &no).await?;
    Ok(with_etag(&s, v))
}

async fn case_events(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(no): ApiPath<String>) -> Res {
    let mut t = s.app.trail(&actor, &no).await?;
    let schema = match t.first().map(|e| &e.event) {
        Some(oneseal_domain::case::CaseEvent::Submitted { subject, .. }) => {
            s.app.catalog().definition(subject).map(|d| d.form.clone()).unwrap_or_default()
        }
        _ => FormSchema::default(),
    };
    for e in &mut t {
        s.app.mask_event(&mut e.event, &schema);
    }
    Ok(Json(json!({ "case_no": no, "events": t })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PledgeInput {
    material_id: String,
    due: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    #[serde(default)]
    pledges: Vec<PledgeInput>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonsBody {
    reasons: Vec<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrectionBody {
    problems: Vec<CorrectionProblem>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitCorrectionBody {
    #[serde(default)]
    form: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    materials: Vec<MaterialRef>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaterialBody {
    material: MaterialRef,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskBody {
    task_id: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    task_id: String,
    opinion: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBackBody {
    to_step: String,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReassignBody {
    task_id: String,
    to: String,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuspendBody {
    kind: SuspensionKind,
    reason: String,
    #[serde(default)]
    expected_days: u32,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    days: u32,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    outcome: Outcome,
    #[serde(default)]
    reasons: Vec<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LicensesBody {
    #[serde(default)]
    licenses: Vec<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliverBody {
    delivery: Delivery,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    #[serde(default)]
    reason: String,
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v)
        .map_err(|e| Problem::unprocessable("invalid_body", format!("the JSON does not fit: {e}")).into())
}

fn if_match(h: &HeaderMap) -> Result<Option<i64>, ApiError> {
    match h.get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => {
            let s = v.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
            s.parse::<i64>().map(Some).map_err(|_| {
                Problem::bad_request("invalid_if_match", "If-Match must be the case version from its ETag, e.g. \"7\"")
                    .into()
            })
        }
    }
}

async fn case_action(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, action)): ApiPath<(String, String)>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Res {
    let Some(action) = CaseAction::parse(&action) else {
        let names: Vec<&str> = CaseAction::ALL.iter().map(|a| a.as_str()).collect();
        return Err(Problem::not_found(format!("no action {action}; actions: {}", names.join(", "))).into());
    };
    let expected = if_match(&headers)?;
    let raw = raw.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                413,
                "payload_too_large",
                "Payload too large",
                "请求内容过大",
                format!("the body is larger than {} bytes", crate::BODY_LIMIT),
            )
        } else {
            Problem::bad_request("unreadable_body", e.body_text())
        }
    })?;
    let v: Value = if raw.iter().all(|b| b.is_ascii_whitespace()) {
        json!({})
    } else {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.starts_with("application/json") {
            return Err(Problem::new(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "请使用 JSON 格式",
                "send Content-Type: application/json",
            )
            .into());
        }
        serde_json::from_slice(&raw)
            .map_err(|e| Problem::bad_request("malformed_json", format!("malformed JSON: {e}")))?
    };
    if !v.is_object() {
        return Err(Problem::unprocessable("invalid_body", "the body must be a JSON object").into());
    }
    let st = run_action(&s, &actor, &no, action, v, expected).await?;
    Ok(with_etag(&s, s.app.view_of(st)))
}

/// Run a case action with its JSON body (the API's and the workbench's one path from a request to a command).
pub(crate) async fn run_action(
    s: &AppState,
    actor: &Actor,
    no: &str,
    action: CaseAction,
    v: Value,
    expected: Option<i64>,
) -> Result<oneseal_domain::case::CaseState, ApiError> {
    use CaseAction as A;
    let cmd = match action {
        A::Accept => {
            let b: AcceptBody = body(v)?;
            let mut pledges = Vec::new();
            for p in b.pledges {
                pledges.push((p.material_id, parse_iso(&p.due)?));
            }
            CaseCommand::Accept { pledges }
        }
        A::Refuse => CaseCommand::Refuse { reasons: body::<ReasonsBody>(v)?.reasons },
        A::RequestCorrection => CaseCommand::RequestCorrection { problems: body::<CorrectionBody>(v)?.problems },
        A::SubmitCorrection => {
            let b: SubmitCorrectionBody = body(v)?;
            CaseCommand::SubmitCorrection { form: b.form, materials: b.materials }
        }
        A::FulfilPledge => CaseCommand::FulfilPledge { material: body::<MaterialBody>(v)?.material },
        A::Claim => CaseCommand::ClaimTask { task_id: body::<TaskBody>(v)?.task_id },
        A::Complete => {
            let b: CompleteBody = body(v)?;
            CaseCommand::CompleteTask { task_id: b.task_id, opinion: b.opinion }
        }
        A::SendBack => {
            let b: SendBackBody = body(v)?;
            CaseCommand::SendBack { to_step: b.to_step, reason: b.reason }
        }
        A::Reassign => {
            let b: ReassignBody = body(v)?;
            let to =
                s.app.staff(&b.to).await.map_err(|_| {
                    Problem::unprocessable("unknown_staff", format!("no active staff account {}", b.to))
                })?;
            CaseCommand::Reassign {
                task_id: b.task_id,
                to: Assignee { id: to.id, roles: to.roles, department: to.department },
                reason: b.reason,
            }
        }
        A::Suspend => {
            let b: SuspendBody = body(v)?;
            CaseCommand::Suspend { kind: b.kind, reason: b.reason, expected_days: b.expected_days }
        }
        A::Resume => {
            body::<Empty>(v)?;
            CaseCommand::Resume
        }
        A::Extend => {
            let b: ExtendBody = body(v)?;
            CaseCommand::Extend { days: b.days, reason: b.reason }
        }
        A::Decide => {
            let b: DecideBody = body(v)?;
            CaseCommand::Decide { outcome: b.outcome, reasons: b.reasons }
        }
        A::IssueLicenses => {
            let b: LicensesBody = body(v)?;
            if b.licenses.is_empty() {
                // The licences are made, signed with the seal and recorded with the step, in one transaction.
                return Ok(s.app.issue_case_licenses(actor, no, expected).await?);
            }
            CaseCommand::IssueLicenses { licenses: b.licenses }
        }
        A::Deliver => CaseCommand::Deliver { delivery: body::<DeliverBody>(v)?.delivery },
        A::Withdraw => CaseCommand::Withdraw { reason: body::<ReasonBody>(v)?.reason },
        A::Terminate => CaseCommand::Terminate { reason: body::<ReasonBody>(v)?.reason },
    };
    Ok(s.app.command(actor, no, cmd, expected).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressBody {
    case_no: String,
    query_code: String,
}

async fn progress(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(b): ApiJson<ProgressBody>,
) -> Res {
    if b.case_no.len() > 40 || b.query_code.len() > 40 {
        return Err(Problem::not_found("no case with this number and query code").into());
    }
    let p = s.app.progress(&b.case_no, &b.query_code, Some(&peer.ip().to_string())).await?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueQuery {
    view: Option<QueueView>,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn work_queue(State(s): State<AppState>, Authed(actor, _): Authed, ApiQuery(q): ApiQuery<QueueQuery>) -> Res {
    staff(&actor)?;
    let (offset, limit) = paging(q.page, q.per_page)?;
    let view = q.view.unwrap_or(QueueView::ToClaim);
    let (rows, total) = s.app.work_queue(&actor, view, limit as i64, offset as i64, None).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|t| json!({ "case_no": t.case_no, "task_id": t.task_id, "step_id": t.step_id, "step_name": t.step_name, "title": t.title, "role": t.role, "department": t.department, "assignee": t.assignee, "due": t.due }))
        .collect();
    Ok(Json(json!({ "view": view, "total": total, "tasks": list })).into_response())
}

async fn intake_queue(State(s): State<AppState>, Authed(actor, _): Authed, ApiQuery(q): ApiQuery<QueueQuery>) -> Res {
    staff(&actor)?;
    let (offset, limit) = paging(q.page, q.per_page)?;
    let (rows, total) = s.app.intake_queue(&actor, limit as i64, offset as i64).await?;
    let list: Vec<Value> = rows.iter().map(|r| json!({ "case_no": r.case_no, "title": r.title, "channel": r.channel, "service_point": r.service_point, "submitted_at_ms": r.submitted_at_ms })).collect();
    Ok(Json(json!({ "total": total, "cases": list })).into_response())
}

async fn notifications(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let n = s.app.notifications(&actor.id, 50).await?;
    let list: Vec<Value> = n.iter().map(|n| json!({ "seq": n.event_seq, "case_no": n.case_no, "kind": n.kind, "message": n.message, "at_ms": n.created_at_ms })).collect();
    Ok(Json(json!({ "notifications": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnmaskBody {
    reason: String,
}

/// Unmask a case's personal data: staff who may see the case, with a reason; the read is recorded.
async fn unmask(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    ApiJson(b): ApiJson<UnmaskBody>,
) -> Res {
    staff(&actor)?;
    let v = s.app.unmask(&actor, &no, &b.reason).await?;
    let mut r = Json(v).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Who read my personal data: every recorded staff read of my cases.
async fn data_access(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.who_viewed(&actor, 200).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|a| json!({ "case_no": a.case_no, "actor": a.actor, "at_ms": a.at_ms, "reason": a.reason, "fields": a.fields.split(',').filter(|x| !x.is_empty()).collect::<Vec<_>>() }))
        .collect();
    Ok(Json(json!({ "access": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    name: String,
    scopes: Vec<String>,
    #[serde(default = "thirty")]
    expires_in_days: u32,
}

fn thirty() -> u32 {
    30
}

fn token_json(t: &oneseal_store::ApiTokenRow) -> Value {
    json!({ "id": t.id, "name": t.name, "scopes": t.scopes.split(',').collect::<Vec<_>>(), "created_at_ms": t.created_at_ms, "expires_at_ms": t.expires_at_ms, "revoked_at_ms": t.revoked_at_ms })
}

/// Issue an API token for a machine client; the secret is shown once.
async fn issue_token(State(s): State<AppState>, Authed(actor, _): Authed, ApiJson(b): ApiJson<TokenBody>) -> Res {
    let (token, row) = s.app.issue_api_token(&actor, &b.name, &b.scopes, b.expires_in_days).await?;
    let mut v = token_json(&row);
    v["token"] = json!(token);
    let mut r = (StatusCode::CREATED, Json(v)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

async fn list_tokens(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.api_tokens(&actor).await?;
    Ok(Json(json!({ "tokens": list.iter().map(token_json).collect::<Vec<_>>() })).into_response())
}

async fn revoke_token(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(id): ApiPath<String>) -> Res {
    s.app.revoke_api_token(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_staff(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    admin(&actor)?;
    Ok(Json(json!({ "accounts": s.app.accounts(&actor).await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffBody {
    username: String,
    display_name: String,
    password: String,
    roles: Vec<Role>,
    #[serde(default)]
    department: Option<String>,
}

/// Create a staff account (administrators); the creation is an event.
async fn create_staff(State(s): State<AppState>, Authed(actor, _): Authed, ApiJson(b): ApiJson<StaffBody>) -> Res {
    admin(&actor)?;
    let v = s
        .app
        .admin_create_staff(&actor, &b.username, &b.display_name, &b.password, &b.roles, b.department.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    role: Role,
}

async fn grant_role(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(username): ApiPath<String>,
    ApiJson(b): ApiJson<GrantBody>,
) -> Res {
    admin(&actor)?;
    Ok(Json(s.app.change_role(&actor, &username, b.role, true).await?).into_response())
}

async fn revoke_role(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((username, role)): ApiPath<(String, String)>,
) -> Res {
    admin(&actor)?;
    let role = Role::ALL
        .iter()
        .copied()
        .find(|r| r.as_str() == role)
        .ok_or_else(|| Problem::not_found(format!("no role {role}")))?;
    Ok(Json(s.app.change_role(&actor, &username, role, false).await?).into_response())
}

async fn deactivate(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(username): ApiPath<String>) -> Res {
    admin(&actor)?;
    Ok(Json(s.app.deactivate_account(&actor, &username).await?).into_response())
}

async fn lift_login_ceiling(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(username): ApiPath<String>,
) -> Res {
    admin(&actor)?;
    s.app.lift_login_ceiling(&actor, &username).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Start enrolling an authenticator app: the secret and its otpauth URI, shown once.
async fn enrol_totp(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let (secret, uri) = s.app.enrol_totp(&actor).await?;
    let mut r = Json(json!({ "secret": secret, "otpauth_uri": uri })).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

/// Confirm the enrolment with a current code; every session of the account ends, sign in again with a code.
async fn confirm_totp(State(s): State<AppState>, Authed(actor, _): Authed, ApiJson(b): ApiJson<CodeBody>) -> Res {
    s.app.confirm_totp(&actor, &b.code).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    username: String,
    password: String,
    name: String,
    resident_id: String,
    #[serde(default)]
    phone: Option<String>,
}

/// Register a natural person (applicant); the ID number and phone are sealed at once.
async fn register(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(b): ApiJson<RegisterBody>,
) -> Res {
    let addr = peer.ip().to_string();
    let v = s
        .app
        .register_person(&b.username, &b.password, &b.name, &b.resident_id, b.phone.as_deref(), Some(&addr))
        .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn my_profile(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let p = s.app.my_profile(&actor).await?.ok_or_else(|| Problem::not_found("no person profile for this account"))?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationBody {
    uscc: String,
    name: String,
    legal_representative_id: String,
}

async fn register_organisation(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<OrganisationBody>,
) -> Res {
    let o = s.app.register_organisation(&actor, &b.uscc, &b.name, &b.legal_representative_id).await?;
    // Verified against a business licence: created. Otherwise the claim waits for a window clerk: accepted.
    let status = if o.status == "verified" { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, Json(organisation_json(&o))).into_response())
}

fn organisation_json(o: &oneseal_store::OrganisationRow) -> Value {
    json!({
        "uscc": o.uscc, "name": o.name, "legal_representative": o.legal_representative,
        "status": o.status, "verified_by": o.verified_by,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerificationBody {
    documents: String,
    #[serde(default)]
    legal_representative: Option<String>,
}

async fn verify_organisation(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(uscc): ApiPath<String>,
    ApiJson(b): ApiJson<VerificationBody>,
) -> Res {
    let o = s.app.verify_organisation(&actor, &uscc, b.legal_representative.as_deref(), &b.documents).await?;
    Ok(Json(organisation_json(&o)).into_response())
}

async fn pending_organisations(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.pending_organisations(&actor).await?;
    Ok(Json(json!({ "items": list.iter().map(organisation_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentBody {
    agent: String,
    scope: Vec<String>,
    #[serde(default = "year")]
    days: u32,
}

fn year() -> u32 {
    365
}

async fn authorise_agent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(uscc): ApiPath<String>,
    ApiJson(b): ApiJson<AgentBody>,
) -> Res {
    s.app.authorise_agent(&actor, &uscc, &b.agent, &b.scope, b.days).await?;
    Ok((StatusCode::CREATED, Json(json!({ "uscc": uscc, "agent": b.agent, "scope": b.scope, "days": b.days })))
        .into_response())
}

async fn revoke_agent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((uscc, username)): ApiPath<(String, String)>,
) -> Res {
    s.app.revoke_agent(&actor, &uscc, &username).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn oidc_of(s: &AppState) -> Result<std::sync::Arc<crate::oidc::Oidc>, ApiError> {
    s.oidc.clone().ok_or_else(|| Problem::not_found("single sign-on is not configured on this server").into())
}

fn oidc_problem(e: crate::oidc::OidcError) -> ApiError {
    let (title, zh) = match e.0 {
        400 => ("Bad request", "登录请求无效或已过期，请重新登录"),
        401 => ("Unauthenticated", "统一身份认证未通过"),
        503 => ("Service unavailable", "登录人数过多，请稍后再试"),
        _ => ("Bad gateway", "统一身份认证服务暂不可用"),
    };
    ApiError(Problem::new(e.0, "sso_failed", title, zh, e.1))
}

/// Start staff single sign-on: redirect to the identity provider.
async fn oidc_login(State(s): State<AppState>) -> Res {
    let o = oidc_of(&s)?;
    let now = oneseal_app::ms(s.app.now());
    let (url, binding) = tokio::task::spawn_blocking(move || o.start(now))
        .await
        .map_err(|e| Problem::new(500, "internal", "Internal error", "系统内部错误", e.to_string()))?
        .map_err(oidc_problem)?;
    let mut r = StatusCode::SEE_OTHER.into_response();
    let loc = HeaderValue::from_str(&url).map_err(|_| {
        Problem::new(502, "sso_failed", "Bad gateway", "统一身份认证服务暂不可用", "bad authorization URL")
    })?;
    r.headers_mut().insert(header::LOCATION, loc);
    // The sign-in is bound to this browser: the callback must come with this cookie.
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{}={binding}; Path=/api/v1/oidc; HttpOnly; SameSite=Lax; Max-Age=600{secure}",
        crate::oidc::BINDING_COOKIE
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The identity provider returns here: verify, and open a session for the staff account the ID token names.
async fn oidc_callback(State(s): State<AppState>, headers: HeaderMap, ApiQuery(q): ApiQuery<CallbackQuery>) -> Res {
    let o = oidc_of(&s)?;
    let binding = crate::policy::cookie_value(&headers, crate::oidc::BINDING_COOKIE);
    if let Some(e) = q.error {
        return Err(ApiError(Problem::new(
            401,
            "sso_failed",
            "Unauthenticated",
            "统一身份认证未通过",
            format!("the identity provider answered {e}"),
        )));
    }
    let (code, state) = match (q.code, q.state) {
        (Some(c), Some(st)) if c.len() <= 2000 && st.len() <= 200 => (c, st),
        _ => return Err(Problem::bad_request("sso_failed", "code and state are required").into()),
    };
    let now = oneseal_app::ms(s.app.now());
    let who = tokio::task::spawn_blocking(move || o.finish(&code, &state, binding.as_deref(), now))
        .await
        .map_err(|e| Problem::new(500, "internal", "Internal error", "系统内部错误", e.to_string()))?
        .map_err(oidc_problem)?;
    let sess = s.app.login_external(&who.issuer, &who.subject, &who.name_hint).await.map_err(|e| match e {
        AppError::Unauthenticated => ApiError(Problem::new(
            401,
            "sso_failed",
            "Unauthenticated",
            "统一身份认证未通过",
            "no active staff account for this identity",
        )),
        other => other.into(),
    })?;
    Ok(session_answer(&s, sess))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentsBody {
    departments: Vec<oneseal_domain::catalog::Department>,
    reason: String,
}

/// Publish a new version of the departments and bureau sections (administrators).
async fn publish_departments(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<DepartmentsBody>,
) -> Res {
    admin(&actor)?;
    let v = s.app.publish_departments(b.departments, &actor.id, &b.reason).await?;
    Ok(Json(json!({ "version": v, "departments": s.app.catalog().departments })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostBody {
    #[serde(default)]
    service_point: Option<String>,
    #[serde(default)]
    window: Option<String>,
}

/// Post a staff member to a service point and window (administrators).
async fn set_post(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(username): ApiPath<String>,
    ApiJson(b): ApiJson<PostBody>,
) -> Res {
    admin(&actor)?;
    Ok(Json(s.app.set_staff_post(&actor, &username, b.service_point.as_deref(), b.window.as_deref()).await?)
        .into_response())
}

/// The seal's public keys with their validity windows, for offline verification (no login).
pub async fn published_keys(State(s): State<AppState>) -> Res {
    let keys = s.app.published_keys().await?;
    let mut r = Json(json!({ "issuer": "银川市审批服务局", "keys": keys })).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    /// The QR text (OS1:…) or a licence identifier.
    input: String,
}

/// Verify a licence without signing in: valid / revoked / cancelled / expired / amended / bad_signature / unknown,
/// with the public fields only.
async fn verify_license(State(s): State<AppState>, ApiJson(b): ApiJson<VerifyBody>) -> Res {
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
fn license_public(l: &oneseal_store::LicenseRow) -> Value {
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
fn license_full(l: &oneseal_store::LicenseRow) -> Value {
    json!({
        "identifier": l.identifier, "status": l.status, "public": serde_json::from_str::<Value>(&l.signed_payload).unwrap_or_default(),
        "signed_payload": l.signed_payload, "signature_der_hex": l.signature, "key_id": l.key_id, "qr": l.qr, "status_index": l.status_index,
        "status_list": "/api/v1/status-lists/1",
    })
}

/// A licence's public content, the exact signed bytes and the seal's signature (for OpenSSL), and its QR text.
async fn get_license(State(s): State<AppState>, ApiPath(identifier): ApiPath<String>) -> Res {
    oneseal_domain::license::LicenseIdentifier::parse(&identifier)
        .map_err(|e| Problem::not_found(format!("licence {identifier}: {e}")))?;
    let id = identifier.clone();
    let row = s.app.store.read(move |db| db.license(&id).map_err(AppError::from)).await?;
    let row = row.ok_or_else(|| Problem::not_found(format!("licence {identifier}")))?;
    Ok(Json(license_public(&row)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusReasonBody {
    reason: String,
}

async fn revoke_license(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<StatusReasonBody>,
) -> Res {
    s.app.change_license_status(&actor, &identifier, true, &b.reason).await?;
    Ok(Json(s.app.verify_license(&identifier).await?).into_response())
}

async fn cancel_license(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<StatusReasonBody>,
) -> Res {
    s.app.change_license_status(&actor, &identifier, false, &b.reason).await?;
    Ok(Json(s.app.verify_license(&identifier).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertQuery {
    status: Option<String>,
    department: Option<String>,
    kind: Option<String>,
    case_no: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

fn alert_json(a: &oneseal_store::AlertRow) -> Value {
    json!({
        "id": a.id, "kind": a.kind, "level": a.level, "case_no": a.case_no, "department": a.department,
        "person": a.person, "title": a.title, "detail": a.detail,
        "evidence": serde_json::from_str::<Value>(&a.evidence).unwrap_or(json!([])),
        "raised_at_ms": a.raised_at_ms, "status": a.status, "closed_at_ms": a.closed_at_ms, "closed_by": a.closed_by, "note": a.note,
    })
}

/// Supervision alerts: supervisors and administrators see all; other staff their department's.
async fn list_alerts(State(s): State<AppState>, Authed(actor, _): Authed, ApiQuery(q): ApiQuery<AlertQuery>) -> Res {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let f = oneseal_store::AlertFilter {
        status: q.status,
        department: q.department,
        kind: q.kind,
        case_no: q.case_no,
        limit: limit as i64,
        offset: offset as i64,
    };
    let (rows, total) = s.app.alerts(&actor, f).await?;
    Ok(Json(json!({ "total": total, "alerts": rows.iter().map(alert_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    note: String,
}

async fn close_alert(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Res {
    let a = s.app.close_alert(&actor, &id, &b.note).await?;
    Ok(Json(alert_json(&a)).into_response())
}

/// Run the supervision subscriber to the end of the log and a sweep now (it also runs every minute in `serve`).
async fn sweep(State(s): State<AppState>) -> Res {
    while s.app.run_supervision_once(1000).await? > 0 {}
    let r = s.app.sweep_supervision(5000).await?;
    let escalated = s.app.escalate_urgings(5000).await?;
    while s.app.run_liaison_once(1000).await? > 0 {}
    let late = s.app.sweep_liaison(5000).await?;
    let tickets = s.app.sweep_hotline(5000).await?;
    let remediations = s.app.sweep_ratings(5000).await?;
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["urgings_escalated"] = json!(escalated);
    v["liaison_ack_overdue"] = json!(late);
    v["ticket_alerts"] = json!(tickets);
    v["rating_remediation_overdue"] = json!(remediations);
    Ok(Json(v).into_response())
}

/// The dashboard's numbers (the same as `/dashboard`).
async fn dashboard(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    Ok(Json(s.app.dashboard(&actor).await?).into_response())
}

/// The case event log as XES (IEEE 1849) for process mining.
async fn export_xes(State(s): State<AppState>) -> Res {
    let text = s.app.export_xes().await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"oneseal-events.xes\"")),
        ],
        text,
    )
        .into_response())
}

/// The supervision alerts as CSV.
async fn export_alerts_csv(State(s): State<AppState>) -> Res {
    let text = s.app.export_alerts_csv().await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"oneseal-alerts.csv\"")),
        ],
        text,
    )
        .into_response())
}

fn urging_json(u: &oneseal_store::UrgingRow) -> Value {
    json!({
        "id": u.id, "case_no": u.case_no, "alert_id": u.alert_id, "department": u.department, "person": u.person,
        "message": u.message, "due": u.due, "status": u.status, "escalated": u.escalated, "issued_by": u.issued_by,
        "issued_at_ms": u.issued_at_ms, "reply": u.reply, "replied_by": u.replied_by, "replied_at_ms": u.replied_at_ms,
        "closed_note": u.closed_note,
    })
}

async fn list_urgings(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.urgings(&actor).await?;
    Ok(Json(json!({ "urgings": list.iter().map(urging_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrgingBody {
    case_no: String,
    #[serde(default)]
    alert_id: Option<String>,
    #[serde(default)]
    person: Option<String>,
    message: String,
    #[serde(default = "five")]
    days: u32,
}

fn five() -> u32 {
    5
}

async fn issue_urging(State(s): State<AppState>, Authed(actor, _): Authed, ApiJson(b): ApiJson<UrgingBody>) -> Res {
    let u =
        s.app.issue_urging(&actor, &b.case_no, b.alert_id.as_deref(), b.person.as_deref(), &b.message, b.days).await?;
    Ok((StatusCode::CREATED, Json(urging_json(&u))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    reply: String,
}

async fn reply_urging(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ReplyBody>,
) -> Res {
    Ok(Json(urging_json(&s.app.reply_urging(&actor, &id, &b.reply).await?)).into_response())
}

async fn close_urging(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Res {
    Ok(Json(urging_json(&s.app.close_urging(&actor, &id, &b.note).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    name: Option<String>,
}

/// Upload a material's file (the body: PDF, JPEG or PNG bytes, at most 10 MiB); the answer's id goes into a
/// submission's `materials[].attachment`.
async fn upload_attachment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Res {
    let body = body.map_err(|_| {
        Problem::new(
            413,
            "attachment_too_large",
            "Payload too large",
            "文件过大",
            format!("a file is at most {} bytes", oneseal_app::attachments::MAX_ATTACHMENT_BYTES),
        )
    })?;
    let v = s.app.upload_attachment(&actor, q.name.as_deref().unwrap_or("file"), &body).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentQuery {
    case_no: Option<String>,
}

/// A file: for its uploader, or staff who may see the case (`?case_no=`) that references it.
async fn get_attachment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AttachmentQuery>,
) -> Res {
    let (meta, bytes) = s.app.attachment(&actor, &id, q.case_no.as_deref()).await?;
    let ct = HeaderValue::from_str(&meta.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            // Only PDF, JPEG and PNG are ever stored (checked by their bytes) and nosniff stops any other reading;
            // the PDF viewer needs no sandbox, and only our own pages may frame the file.
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'self'")),
        ],
        bytes,
    )
        .into_response())
}

/// Verify a printed licence from its PDF (the body, `application/pdf`): the sealed QR payload it carries.
async fn verify_license_pdf(State(s): State<AppState>, body: axum::body::Bytes) -> Res {
    Ok(Json(s.app.verify_license_pdf(&body).await?).into_response())
}

/// The printable PDF of one of my licences.
async fn license_pdf(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(identifier): ApiPath<String>) -> Res {
    let (name, bytes) = s.app.license_pdf(&actor, &identifier).await?;
    Ok(crate::pages::pdf_response(&name, bytes, false, "private, no-store"))
}

async fn my_licenses(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.my_licenses(&actor).await?;
    Ok(Json(json!({ "licenses": list.iter().map(license_full).collect::<Vec<_>>() })).into_response())
}

/// The W3C Bitstring Status List of licence revocations.
async fn status_list(State(s): State<AppState>) -> Res {
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
struct DisclosureQuery {
    q: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// 双公示: the public list of granted licensing decisions on organisations.
async fn disclosures(State(s): State<AppState>, ApiQuery(q): ApiQuery<DisclosureQuery>) -> Res {
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
struct AmendBody {
    fields: serde_json::Map<String, Value>,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    department: String,
    purpose: String,
    days: Option<u32>,
}

/// 授权用证: the holder's consents on a licence and the fetches made under them.
async fn license_consents(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
) -> Res {
    Ok(Json(s.app.license_consents(&actor, &identifier).await?).into_response())
}

/// The holder lets a department fetch the licence's full record for a purpose and a time (default 30 days).
async fn grant_license_consent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<ConsentBody>,
) -> Res {
    let c = s.app.grant_license_consent(&actor, &identifier, &b.department, &b.purpose, b.days.unwrap_or(30)).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

async fn revoke_license_consent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((identifier, consent_id)): ApiPath<(String, String)>,
) -> Res {
    Ok(Json(s.app.revoke_license_consent(&actor, &identifier, &consent_id).await?).into_response())
}

/// A department fetches the full record under the holder's active consent; the fetch is recorded.
async fn fetch_license_with_consent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
) -> Res {
    Ok(Json(s.app.fetch_license_with_consent(&actor, &identifier).await?).into_response())
}

/// 变更: a new version with changed fields; the old one is superseded.
async fn amend_license(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(identifier): ApiPath<String>,
    ApiJson(b): ApiJson<AmendBody>,
) -> Res {
    let new = s.app.amend_license(&actor, &identifier, &b.fields, &b.reason).await?;
    Ok(Json(s.app.verify_license(&new).await?).into_response())
}

fn note_response(note: String) -> Response {
    let mut r = note.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note).
async fn checkpoint(State(s): State<AppState>) -> Res {
    let note = s.app.latest_checkpoint().await?.ok_or_else(|| Problem::not_found("no checkpoint yet"))?;
    Ok(note_response(note))
}

/// Sign a checkpoint now (administrators; the server also signs on a schedule).
async fn new_checkpoint(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    admin(&actor)?;
    s.app.sign_checkpoint().await?;
    let note = s.app.latest_checkpoint().await?.ok_or_else(|| Problem::not_found("no checkpoint yet"))?;
    Ok(note_response(note))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    seq: i64,
    size: Option<u64>,
}

async fn inclusion(State(s): State<AppState>, ApiQuery(q): ApiQuery<InclusionQuery>) -> Res {
    Ok(Json(s.app.inclusion(q.seq, q.size).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

async fn consistency(State(s): State<AppState>, ApiQuery(q): ApiQuery<ConsistencyQuery>) -> Res {
    let proof = s.app.consistency(q.old, q.new).await?;
    Ok(Json(json!({ "old": q.old, "new": q.new, "proof": proof })).into_response())
}
