//! The JSON API under /api/v1.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use oneseal_app::auth::SESSION_HOURS;
use oneseal_app::cases::{CaseView, QueueView, SubmitRequest};
use oneseal_app::catalog::HitKind;
use oneseal_app::rows::CaseFilter;
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
use serde::Deserialize;
use serde_json::{json, Value};

use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::problem::{ApiError, Problem};
use crate::AppState;

type Res = Result<Response, ApiError>;

pub use crate::policy::Access;

mod cases;
mod catalog;
mod licences;
mod sessions;
mod staff;
mod supervision;
use self::cases::*;
use self::catalog::*;
use self::licences::*;
use self::sessions::*;
use self::staff::*;
use self::supervision::*;

pub(crate) use self::cases::run_action;
pub(crate) use self::catalog::paging;
pub use self::licences::published_keys;

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

const OPENAPI: &str = include_str!("../../openapi.json");

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
