//! The JSON API under /api/v1.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use oneseal_app::auth::SESSION_HOURS;
use oneseal_app::cases::{CaseView, QueueView, SubmitRequest};
use oneseal_app::catalog::HitKind;
use oneseal_app::rows::CaseFilter;
use oneseal_app::AppError;
use oneseal_domain::calendar::{format_date, parse_date, YearData};
use oneseal_domain::case::{
    ApplicantKind, Assignee, CaseCommand, Channel, Delivery, MaterialRef, Outcome, Problem as CorrectionProblem,
    Status, SuspensionKind,
};
use oneseal_domain::catalog::{FormSchema, ItemKind, ServiceItem, Tag};
use oneseal_domain::flowchart;
use oneseal_domain::ids::{ItemCode, ResidentId};
use oneseal_domain::roles::{Actor, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::extract::{case_no, ApiJson, ApiPath, ApiQuery, Authed};
use crate::problem::{ApiError, Problem};
use crate::AppState;

type Res = Result<Response, ApiError>;

pub use crate::policy::Access;

mod cases;
mod catalog;
mod licences;
mod projects;
mod sessions;
mod shipments;
mod staff;
mod supervision;
mod videos;
use self::cases::*;
use self::catalog::*;
use self::licences::*;
use self::projects::*;
use self::sessions::*;
use self::shipments::*;
use self::staff::*;
use self::supervision::*;

pub(crate) use self::cases::run_action;
pub(crate) use self::catalog::paging;
pub use self::licences::published_keys;

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
    DrawingComment,
    AnswerDrawingComments,
}

impl CaseAction {
    pub const ALL: [CaseAction; 19] = [
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
        CaseAction::DrawingComment,
        CaseAction::AnswerDrawingComments,
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
            CaseAction::DrawingComment => "drawing-comment",
            CaseAction::AnswerDrawingComments => "answer-drawing-comments",
        }
    }

    pub fn parse(name: &str) -> Option<CaseAction> {
        CaseAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

pub fn routes() -> crate::routes::Routes {
    crate::routes::Routes::api()
        .get("/api/v1/openapi.json", Access::Public, openapi)
        .post("/api/v1/sessions", Access::Public, login)
        .delete("/api/v1/sessions/current", Access::SignedIn, logout)
        .get("/api/v1/me", Access::SignedIn, me)
        .get("/api/v1/departments", Access::Public, departments)
        .put("/api/v1/departments", Access::BureauAdmin, publish_departments)
        .get("/api/v1/items", Access::Public, list_items)
        .get("/api/v1/items/{code}", Access::Public, get_item)
        .get("/api/v1/items/{code}/versions", Access::Public, item_versions)
        .post("/api/v1/items/{code}/versions", Access::Admin, publish_item)
        .get("/api/v1/items/{code}/versions/{version}", Access::Public, item_version)
        .get("/api/v1/items/{code}/flowchart.svg", Access::Public, flowchart_svg)
        .get("/api/v1/bundles", Access::Public, list_bundles)
        .get("/api/v1/bundles/{code}", Access::Public, get_bundle)
        .get("/api/v1/calendar/years", Access::Public, calendar_years)
        .get("/api/v1/calendar/years/{year}", Access::Public, calendar_year)
        .put("/api/v1/calendar/years/{year}", Access::BureauAdmin, put_calendar_year)
        .get("/api/v1/calendar/workdays/{date}", Access::Public, is_workday)
        .get("/api/v1/calendar/deadline", Access::Public, deadline)
        .post("/api/v1/cases", Access::Roles(&[Role::Applicant, Role::WindowClerk, Role::HotlineOperator]), submit)
        .get("/api/v1/cases", Access::SignedIn, list_cases)
        .get("/api/v1/cases/{case_no}", Access::SignedIn, get_case)
        .get("/api/v1/cases/{case_no}/events", Access::SignedIn, case_events)
        .post("/api/v1/cases/{case_no}/{action}", Access::SignedIn, case_action)
        .post("/api/v1/cases/{case_no}/personal-data", Access::Staff, unmask)
        .get("/api/v1/cases/{case_no}/shipments", Access::SignedIn, case_shipments)
        .options("/api/v1/cases/{case_no}/video-uploads", Access::SignedIn, videos::tus_options)
        .post("/api/v1/cases/{case_no}/video-uploads", Access::SignedIn, videos::tus_create)
        .options("/api/v1/cases/{case_no}/video-uploads/{id}", Access::SignedIn, videos::tus_upload_options)
        .head("/api/v1/cases/{case_no}/video-uploads/{id}", Access::SignedIn, videos::tus_head)
        .patch("/api/v1/cases/{case_no}/video-uploads/{id}", Access::SignedIn, videos::tus_patch)
        .delete("/api/v1/cases/{case_no}/video-uploads/{id}", Access::SignedIn, videos::tus_delete)
        .get("/api/v1/cases/{case_no}/videos", Access::SignedIn, videos::case_videos)
        .get("/api/v1/cases/{case_no}/videos/{id}", Access::SignedIn, videos::play)
        .post("/api/v1/cases/{case_no}/videos/{id}/stills", Access::Staff, videos::capture_still)
        .get("/api/v1/cases/{case_no}/inspection", Access::SignedIn, videos::inspection)
        .post("/api/v1/cases/{case_no}/inspection/method", Access::SignedIn, videos::choose_method)
        .post("/api/v1/cases/{case_no}/inspection/notes", Access::Staff, videos::add_note)
        .post("/api/v1/cases/{case_no}/inspection/conclusion", Access::Staff, videos::conclude)
        .post("/api/v1/cases/{case_no}/inspection/schedule", Access::Staff, videos::schedule)
        .post("/api/v1/cases/{case_no}/inspection/findings", Access::Staff, videos::findings)
        .post("/api/v1/cases/{case_no}/inspection/joint-result", Access::Staff, videos::joint_result)
        .post("/api/v1/cases/{case_no}/inspection/rectification", Access::SignedIn, videos::rectification)
        .get(
            "/api/v1/shipments",
            Access::Roles(&[Role::WindowClerk, Role::Supervisor, Role::Administrator]),
            returned_shipments,
        )
        .get("/api/v1/shipments/{id}", Access::SignedIn, get_shipment)
        .post("/api/v1/shipments/{id}/collect", Access::Roles(&[Role::WindowClerk]), collect_shipment)
        .post("/api/v1/shipments/{id}/resend", Access::Roles(&[Role::WindowClerk]), resend_shipment)
        .get("/api/v1/project-types", Access::SignedIn, project_types)
        .get("/api/v1/project-types/{code}/versions", Access::SignedIn, project_type_versions)
        .post("/api/v1/project-types/{code}/versions", Access::BureauAdmin, publish_project_type)
        .get("/api/v1/projects", Access::SignedIn, list_projects)
        .post("/api/v1/projects", Access::Roles(&[Role::Applicant]), register_project)
        .get("/api/v1/projects/{code}", Access::SignedIn, get_project)
        .get("/api/v1/projects/{code}/stages/{stage}/form", Access::SignedIn, stage_form)
        .post("/api/v1/projects/{code}/stages/{stage}", Access::SignedIn, start_stage)
        .post("/api/v1/projects/{code}/assistants", Access::Roles(&[Role::Applicant]), set_assistant)
        .post("/api/v1/projects/{code}/green-channel", Access::Roles(&[Role::Administrator]), set_green_channel)
        .get("/api/v1/projects/{code}/assessments", Access::SignedIn, get_evaluation)
        .post("/api/v1/projects/{code}/assessments", Access::SignedIn, commission_evaluation)
        .get("/api/v1/projects/{code}/assessments/report", Access::SignedIn, get_evaluation_report)
        .post("/api/v1/projects/{code}/assessments/report", Access::SignedIn, submit_evaluation_report)
        .post("/api/v1/projects/{code}/assessments/{kind}/review", Access::SignedIn, review_assessment)
        .get("/api/v1/me/data-access", Access::SignedIn, data_access)
        .get("/api/v1/oidc/login", Access::Public, oidc_login)
        .get("/api/v1/oidc/callback", Access::Public, oidc_callback)
        .post("/api/v1/register", Access::Public, register)
        .get("/api/v1/me/profile", Access::SignedIn, my_profile)
        .post("/api/v1/organisations", Access::Roles(&[Role::Applicant]), register_organisation)
        .get("/api/v1/organisations/pending", Access::Roles(&[Role::WindowClerk]), pending_organisations)
        .post("/api/v1/organisations/{uscc}/verification", Access::Roles(&[Role::WindowClerk]), verify_organisation)
        .post("/api/v1/organisations/{uscc}/agents", Access::Roles(&[Role::Applicant]), authorise_agent)
        .delete("/api/v1/organisations/{uscc}/agents/{username}", Access::Roles(&[Role::Applicant]), revoke_agent)
        .on(
            "POST",
            "/api/v1/attachments",
            Access::SignedIn,
            post(upload_attachment).layer(axum::extract::DefaultBodyLimit::max(
                oneseal_app::attachments::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .get("/api/v1/attachments/{id}", Access::SignedIn, get_attachment)
        .get("/api/v1/alerts", Access::Staff, list_alerts)
        .post("/api/v1/alerts/{id}/close", Access::Roles(&[Role::Supervisor]), close_alert)
        .post("/api/v1/supervision/sweep", Access::Roles(&[Role::Supervisor, Role::Administrator]), sweep)
        .get("/api/v1/export/events.xes", Access::Roles(&[Role::Supervisor, Role::Administrator]), export_xes)
        .get("/api/v1/export/alerts.csv", Access::Roles(&[Role::Supervisor, Role::Administrator]), export_alerts_csv)
        .get("/api/v1/urgings", Access::Staff, list_urgings)
        .post("/api/v1/urgings", Access::Roles(&[Role::Supervisor]), issue_urging)
        .post("/api/v1/urgings/{id}/reply", Access::Staff, reply_urging)
        .post("/api/v1/urgings/{id}/close", Access::Roles(&[Role::Supervisor]), close_urging)
        .get("/api/v1/dashboard", Access::Roles(&[Role::Supervisor, Role::Administrator]), dashboard)
        .get("/api/v1/tickets", Access::SignedIn, crate::hotline_api::list)
        .post("/api/v1/tickets", Access::Roles(&[Role::HotlineOperator, Role::Applicant]), crate::hotline_api::receive)
        .get("/api/v1/tickets/{ticket_no}", Access::SignedIn, crate::hotline_api::get_ticket)
        .post("/api/v1/tickets/{ticket_no}/{action}", Access::SignedIn, crate::hotline_api::act)
        .get(
            "/api/v1/tickets/{ticket_no}/similar",
            Access::Roles(&[Role::HotlineOperator]),
            crate::hotline_api::similar,
        )
        .post("/api/v1/tickets/{ticket_no}/caller", Access::Roles(&[Role::HotlineOperator]), crate::hotline_api::caller)
        .get("/api/v1/hotline/directory", Access::Public, crate::hotline_api::directory)
        .put("/api/v1/hotline/directory", Access::BureauAdmin, crate::hotline_api::put_directory)
        .get(
            "/api/v1/hotline/kpis",
            Access::Roles(&[Role::HotlineOperator, Role::Supervisor, Role::Administrator]),
            crate::hotline_api::kpis,
        )
        .get(
            "/api/v1/hotline/hot-topics",
            Access::Roles(&[Role::HotlineOperator, Role::Supervisor, Role::Administrator]),
            crate::hotline_api::hot_topics,
        )
        .get("/api/v1/knowledge", Access::Public, crate::hotline_api::search_knowledge)
        .post(
            "/api/v1/knowledge",
            Access::Roles(&[Role::HotlineOperator, Role::Administrator]),
            crate::hotline_api::publish_article,
        )
        .get("/api/v1/knowledge/{id}", Access::Public, crate::hotline_api::article)
        .get("/api/v1/ratings", Access::Staff, crate::hotline_api::list_ratings)
        .post("/api/v1/ratings", Access::Public, crate::hotline_api::rate)
        .post("/api/v1/ratings/{id}/remediation", Access::Staff, crate::hotline_api::remediate)
        .post("/api/v1/ratings/{id}/appeal", Access::Staff, crate::hotline_api::appeal)
        .post(
            "/api/v1/ratings/{id}/appeal-decision",
            Access::Roles(&[Role::Supervisor]),
            crate::hotline_api::decide_appeal,
        )
        .get("/api/v1/satisfaction", Access::Public, crate::hotline_api::satisfaction)
        .get(
            "/api/v1/liaison/messages",
            Access::Roles(&[Role::Regulator, Role::Supervisor, Role::Administrator]),
            crate::liaison_api::list_messages,
        )
        .post(
            "/api/v1/liaison/messages/{id}/acknowledge",
            Access::Roles(&[Role::Regulator]),
            crate::liaison_api::acknowledge,
        )
        .get(
            "/api/v1/liaison/counters",
            Access::Roles(&[Role::Regulator, Role::Supervisor, Role::Administrator]),
            crate::liaison_api::counters,
        )
        .get("/api/v1/cases/{case_no}/consultations", Access::Staff, crate::liaison_api::case_consultations)
        .post(
            "/api/v1/cases/{case_no}/consultations",
            Access::Roles(&[Role::Reviewer, Role::Approver, Role::Inspector]),
            crate::liaison_api::ask,
        )
        .get(
            "/api/v1/consultations",
            Access::Roles(&[Role::Regulator, Role::Supervisor, Role::Administrator]),
            crate::liaison_api::my_consultations,
        )
        .post("/api/v1/consultations/{id}/answer", Access::Roles(&[Role::Regulator]), crate::liaison_api::answer)
        .get(
            "/api/v1/webhooks",
            Access::Roles(&[Role::Regulator, Role::Administrator]),
            crate::liaison_api::list_endpoints,
        )
        .post(
            "/api/v1/webhooks",
            Access::Roles(&[Role::Regulator, Role::Administrator]),
            crate::liaison_api::register_endpoint,
        )
        .post(
            "/api/v1/webhooks/{id}/enable",
            Access::Roles(&[Role::Regulator, Role::Administrator]),
            crate::liaison_api::enable_endpoint,
        )
        .post(
            "/api/v1/webhooks/{id}/disable",
            Access::Roles(&[Role::Regulator, Role::Administrator]),
            crate::liaison_api::disable_endpoint,
        )
        .get(
            "/api/v1/webhooks/deliveries",
            Access::Roles(&[Role::Regulator, Role::Administrator]),
            crate::liaison_api::list_deliveries,
        )
        .post(
            "/api/v1/webhooks/deliveries/{id}/resend",
            Access::Roles(&[Role::Regulator, Role::Administrator]),
            crate::liaison_api::resend,
        )
        .post("/api/v1/verify", Access::Public, verify_license)
        .post("/api/v1/verify/pdf", Access::Public, verify_license_pdf)
        .get("/api/v1/licenses/{identifier}", Access::Public, get_license)
        .post("/api/v1/licenses/{identifier}/revoke", Access::Roles(&[Role::Approver]), revoke_license)
        .post("/api/v1/licenses/{identifier}/cancel", Access::Roles(&[Role::Approver]), cancel_license)
        .post("/api/v1/licenses/{identifier}/amend", Access::Roles(&[Role::Approver]), amend_license)
        .get("/api/v1/me/licenses", Access::SignedIn, my_licenses)
        .get("/api/v1/me/licenses/{identifier}/pdf", Access::SignedIn, license_pdf)
        .get("/api/v1/me/licenses/{identifier}/consents", Access::SignedIn, license_consents)
        .post("/api/v1/me/licenses/{identifier}/consents", Access::SignedIn, grant_license_consent)
        .post("/api/v1/me/licenses/{identifier}/consents/{consent_id}/revoke", Access::SignedIn, revoke_license_consent)
        .get(
            "/api/v1/licenses/{identifier}/full",
            Access::Roles(&[
                Role::WindowClerk,
                Role::Reviewer,
                Role::Approver,
                Role::Inspector,
                Role::Regulator,
                Role::HandlingUnit,
            ]),
            fetch_license_with_consent,
        )
        .get("/api/v1/status-lists/1", Access::Public, status_list)
        .get("/api/v1/disclosures", Access::Public, disclosures)
        .get("/api/v1/transparency/checkpoint", Access::Public, checkpoint)
        .post("/api/v1/transparency/checkpoint", Access::BureauAdmin, new_checkpoint)
        .get("/api/v1/transparency/inclusion", Access::Public, inclusion)
        .get("/api/v1/transparency/consistency", Access::Public, consistency)
        .get("/api/v1/staff", Access::Admin, list_staff)
        .post("/api/v1/staff", Access::Admin, create_staff)
        .post("/api/v1/staff/{username}/grants", Access::Admin, grant_role)
        .delete("/api/v1/staff/{username}/grants/{role}", Access::Admin, revoke_role)
        .post("/api/v1/staff/{username}/deactivate", Access::Admin, deactivate)
        .post("/api/v1/accounts/{username}/lift-login-ceiling", Access::Admin, lift_login_ceiling)
        .put("/api/v1/staff/{username}/post", Access::Admin, set_post)
        .post("/api/v1/me/totp", Access::SignedIn, enrol_totp)
        .post("/api/v1/me/totp/confirm", Access::SignedIn, confirm_totp)
        .post("/api/v1/tokens", Access::SignedIn, issue_token)
        .get("/api/v1/tokens", Access::SignedIn, list_tokens)
        .delete("/api/v1/tokens/{id}", Access::SignedIn, revoke_token)
        .post("/api/v1/progress", Access::Public, progress)
        .get("/api/v1/work-queue", Access::Staff, work_queue)
        .get("/api/v1/intake-queue", Access::Roles(&[Role::WindowClerk]), intake_queue)
        .get("/api/v1/notifications", Access::SignedIn, notifications)
}

/// The hand-written part of the OpenAPI document: descriptions and schemas. Who may call each operation
/// (`x-access`, `security`, the 401/403 answers) is not written there: [`openapi_document`] fills it in from the
/// routes' declarations.
const OPENAPI: &str = include_str!("../../openapi.json");

/// The OpenAPI document: the written descriptions, with each declared operation's access rule filled in from its
/// declaration. Operations documented but not declared (or declared but not documented) are a test failure.
pub fn openapi_document(declared: &[crate::routes::Declared]) -> Result<Value, serde_json::Error> {
    let mut doc: Value = serde_json::from_str(OPENAPI)?;
    for d in declared.iter().filter(|d| d.surface == crate::routes::Surface::Api) {
        let Some(op) = doc["paths"].get_mut(d.path).and_then(|p| p.get_mut(d.method.to_lowercase())) else {
            continue;
        };
        let Some(op) = op.as_object_mut() else { continue };
        op.insert("x-access".into(), Value::String(crate::policy::describe_rule(d.access)));
        if d.access == Access::Public {
            op.insert("security".into(), json!([]));
        } else {
            op.insert("security".into(), json!([{ "bearer": [] }]));
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                responses.entry("401").or_insert_with(|| json!({ "$ref": "#/components/responses/Unauthenticated" }));
                responses.entry("403").or_insert_with(|| json!({ "$ref": "#/components/responses/Forbidden" }));
            }
        }
    }
    Ok(doc)
}

static OPENAPI_SERVED: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();

async fn openapi(State(s): State<AppState>) -> Response {
    let doc = OPENAPI_SERVED
        .get_or_init(|| openapi_document(s.policy.declared()).map(|d| d.to_string()).map_err(|e| e.to_string()));
    match doc {
        Ok(text) => {
            let mut r = text.clone().into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Err(e) => Problem::from(AppError::Internal(format!("openapi.json: {e}"))).into_response(),
    }
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
