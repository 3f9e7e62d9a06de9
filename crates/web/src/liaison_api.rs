//! The API of the approval–regulation liaison (审管互动): regulators' inboxes and acknowledgement, counters,
//! consultations, and webhook endpoints with their deliveries and dead letters.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use oneseal_app::liaison::{consultation_json, liaison_json};
use oneseal_app::webhooks::{delivery_json, endpoint_json};
use serde::Deserialize;
use serde_json::json;

use crate::api::paging;
use crate::extract;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::problem::ApiError;
use crate::AppState;

type Res = Result<Response, ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageQuery {
    regulator: Option<String>,
    case_no: Option<String>,
    unacknowledged: Option<bool>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Messages to regulators: a regulator sees its own; supervisors and administrators all (or one regulator's).
pub(crate) async fn list_messages(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<MessageQuery>,
) -> Res {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let f = oneseal_app::rows::LiaisonFilter {
        regulator: q.regulator,
        unacknowledged: q.unacknowledged.unwrap_or(false),
        case_no: q.case_no,
        limit: limit as i64,
        offset: offset as i64,
    };
    let (rows, total) = s.app.liaison_messages(&actor, f).await?;
    Ok(Json(json!({ "total": total, "messages": rows.iter().map(liaison_json).collect::<Vec<_>>() })).into_response())
}

pub(crate) async fn acknowledge(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
) -> Res {
    let m = s.app.acknowledge_liaison(&actor, &id).await?;
    Ok(Json(liaison_json(&m)).into_response())
}

pub(crate) async fn counters(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.liaison_counters(&actor).await?;
    let view = s.app.catalog();
    let rows: Vec<_> = list
        .iter()
        .map(|c| {
            json!({ "regulator": c.regulator, "regulator_name": view.department_name(&c.regulator), "pushed": c.pushed,
                "acknowledged": c.acknowledged, "acknowledged_late": c.acknowledged_late, "overdue": c.overdue })
        })
        .collect();
    Ok(Json(json!({ "counters": rows })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskBody {
    kind: String,
    regulator: String,
    question: String,
    #[serde(default = "five")]
    days: u32,
}

fn five() -> u32 {
    5
}

pub(crate) async fn ask(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(case_no): ApiPath<String>,
    ApiJson(b): ApiJson<AskBody>,
) -> Res {
    let c =
        s.app.ask_regulator(&actor, &extract::case_no(&case_no)?, &b.kind, &b.regulator, &b.question, b.days).await?;
    Ok((StatusCode::CREATED, Json(consultation_json(&c))).into_response())
}

pub(crate) async fn case_consultations(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(case_no): ApiPath<String>,
) -> Res {
    let list = s.app.consultations_of_case(&actor, &extract::case_no(&case_no)?).await?;
    Ok(Json(json!({ "consultations": list.iter().map(consultation_json).collect::<Vec<_>>() })).into_response())
}

pub(crate) async fn my_consultations(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.consultations_for(&actor).await?;
    Ok(Json(json!({ "consultations": list.iter().map(consultation_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerBody {
    answer: String,
}

pub(crate) async fn answer(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> Res {
    let c = s.app.answer_consultation(&actor, &id, &b.answer).await?;
    Ok(Json(consultation_json(&c)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointBody {
    department: String,
    url: String,
}

/// Register an endpoint; the answer carries the secret, shown this once.
pub(crate) async fn register_endpoint(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<EndpointBody>,
) -> Res {
    let (ep, secret) = s.app.register_webhook(&actor, &b.department, &b.url).await?;
    let mut v = endpoint_json(&ep);
    v["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub(crate) async fn list_endpoints(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.webhook_endpoints(&actor).await?;
    Ok(Json(json!({ "endpoints": list.iter().map(endpoint_json).collect::<Vec<_>>() })).into_response())
}

pub(crate) async fn enable_endpoint(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
) -> Res {
    Ok(Json(endpoint_json(&s.app.set_webhook_enabled(&actor, &id, true).await?)).into_response())
}

pub(crate) async fn disable_endpoint(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
) -> Res {
    Ok(Json(endpoint_json(&s.app.set_webhook_enabled(&actor, &id, false).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveryQuery {
    status: Option<String>,
}

pub(crate) async fn list_deliveries(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Res {
    let list = s.app.webhook_deliveries(&actor, q.status.as_deref(), 200).await?;
    Ok(Json(json!({ "deliveries": list.iter().map(delivery_json).collect::<Vec<_>>() })).into_response())
}

pub(crate) async fn resend(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(id): ApiPath<String>) -> Res {
    Ok(Json(delivery_json(&s.app.resend_delivery(&actor, &id).await?)).into_response())
}
