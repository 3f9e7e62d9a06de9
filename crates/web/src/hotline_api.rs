//! The API of the 12345 hotline (tickets, the dispatch directory, the knowledge base, KPIs) and of ratings
//! (好差评) with their remediation and appeals.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use oneseal_app::ratings::{rating_json, RateInput};
use oneseal_app::rows::{ArticleRow, TicketFilter};
use oneseal_domain::hotline::{Directory, Intake, Satisfaction, TicketCommand};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::paging;
use crate::extract::{parse_ticket_no, ApiJson, ApiPath, ApiQuery, Authed};
use crate::problem::{ApiError, Problem};
use crate::AppState;

type Res = Result<Response, ApiError>;

/// The ticket actions of `POST /api/v1/tickets/{ticket_no}/{action}`.
pub const TICKET_ACTIONS: &[&str] = &[
    "answer-directly",
    "dispatch",
    "sign-for",
    "return",
    "request-extension",
    "decide-extension",
    "reply",
    "follow-up",
    "close",
    "merge",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketBody {
    category: String,
    #[serde(default)]
    urgent: bool,
    #[serde(default = "operator")]
    channel: String,
    caller_name: String,
    caller_phone: String,
    content: String,
    #[serde(default)]
    location: String,
}

fn operator() -> String {
    "operator".into()
}

pub(crate) async fn receive(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<TicketBody>,
) -> Res {
    let intake = Intake {
        category: b.category,
        urgent: b.urgent,
        channel: b.channel,
        caller_name: b.caller_name,
        caller_phone: b.caller_phone,
        caller_account: None,
        content: b.content,
        location: b.location,
    };
    let (t, similar) = s.app.receive_ticket(&actor, intake).await?;
    let mut v = serde_json::to_value(&t).unwrap_or_default();
    v["similar"] = json!(similar);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketQuery {
    status: Option<String>,
    category: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

pub(crate) async fn list(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<TicketQuery>,
) -> Res {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let f = TicketFilter {
        status: q.status,
        category: q.category,
        limit: limit as i64,
        offset: offset as i64,
        ..Default::default()
    };
    let (rows, total) = s.app.tickets(&actor, f).await?;
    Ok(Json(json!({ "total": total, "tickets": rows })).into_response())
}

pub(crate) async fn get_ticket(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
) -> Res {
    Ok(Json(s.app.ticket(&actor, &parse_ticket_no(&no)?).await?).into_response())
}

pub(crate) async fn similar(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(no): ApiPath<String>) -> Res {
    Ok(Json(json!({ "similar": s.app.ticket_similar(&actor, &parse_ticket_no(&no)?).await? })).into_response())
}

pub(crate) async fn caller(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(no): ApiPath<String>) -> Res {
    let (name, phone) = s.app.ticket_caller(&actor, &parse_ticket_no(&no)?).await?;
    Ok(Json(json!({ "caller_name": name, "caller_phone": phone })).into_response())
}

fn text(b: &Value, k: &str) -> String {
    b[k].as_str().unwrap_or_default().to_string()
}

fn bad(code: &str, detail: &str) -> ApiError {
    Problem::unprocessable(code, detail).into()
}

/// The command of an action from its JSON body.
pub(crate) fn command_of(action: &str, b: &Value) -> Result<TicketCommand, ApiError> {
    if !b.is_object() {
        return Err(bad("invalid_body", "the body is a JSON object"));
    }
    Ok(match action {
        "answer-directly" => TicketCommand::AnswerDirectly {
            answer: text(b, "answer"),
            article: b["article"].as_str().map(str::to_string),
        },
        "dispatch" => TicketCommand::Dispatch {
            category: b["category"].as_str().map(str::to_string),
            lead_unit: b["lead_unit"].as_str().map(str::to_string),
            co_units: b["co_units"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
        },
        "sign-for" => TicketCommand::SignFor,
        "return" => TicketCommand::Return { reason: text(b, "reason") },
        "request-extension" => TicketCommand::RequestExtension {
            days: b["days"]
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .ok_or_else(|| bad("invalid_days", "days is a whole number"))?,
            reason: text(b, "reason"),
        },
        "decide-extension" => TicketCommand::DecideExtension {
            approve: b["approve"].as_bool().ok_or_else(|| bad("invalid_body", "approve is true or false"))?,
        },
        "reply" => TicketCommand::Reply { reply: text(b, "reply") },
        "follow-up" => TicketCommand::FollowUp {
            satisfaction: Satisfaction::parse(&text(b, "satisfaction")).ok_or_else(|| {
                bad(
                    "invalid_level",
                    "satisfaction is very_satisfied, satisfied, neutral, dissatisfied or very_dissatisfied",
                )
            })?,
            note: text(b, "note"),
        },
        "close" => TicketCommand::Close { explanation: text(b, "explanation") },
        "merge" => TicketCommand::Merge { into: text(b, "into") },
        _ => return Err(Problem::not_found("no such ticket action").into()),
    })
}

pub(crate) async fn act(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, action)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<Value>,
) -> Res {
    if !TICKET_ACTIONS.contains(&action.as_str()) {
        return Err(Problem::not_found("no such ticket action").into());
    }
    let cmd = command_of(&action, &b)?;
    Ok(Json(s.app.ticket_command(&actor, &parse_ticket_no(&no)?, cmd, None).await?).into_response())
}

pub(crate) async fn directory(State(s): State<AppState>) -> Res {
    Ok(Json(serde_json::to_value(&*s.app.hotline_directory()).unwrap_or_default()).into_response())
}

pub(crate) async fn put_directory(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(d): ApiJson<Directory>,
) -> Res {
    let v = s.app.publish_directory(&actor, d).await?;
    Ok(Json(json!({ "version": v })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeriodQuery {
    from: String,
    to: String,
}

pub(crate) async fn kpis(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Res {
    let parse = |v: &str| {
        oneseal_domain::calendar::parse_date(v)
            .map_err(|_| ApiError::from(Problem::bad_request("invalid_date", "dates are YYYY-MM-DD")))
    };
    let (from, to) = (parse(&q.from)?, parse(&q.to)?);
    Ok(Json(s.app.hotline_kpis(&actor, from, to).await?).into_response())
}

pub(crate) async fn hot_topics(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    Ok(Json(s.app.hot_topics(&actor).await?).into_response())
}

fn article_json(a: &ArticleRow) -> Value {
    json!({ "id": a.id, "version": a.version, "category": a.category, "title": a.title, "body": a.body,
        "published_at_ms": a.published_at_ms })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KnowledgeQuery {
    q: Option<String>,
    category: Option<String>,
}

pub(crate) async fn search_knowledge(State(s): State<AppState>, ApiQuery(q): ApiQuery<KnowledgeQuery>) -> Res {
    let list = s.app.search_articles(q.q.as_deref().unwrap_or(""), q.category.as_deref()).await?;
    Ok(Json(json!({ "articles": list.iter().map(article_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArticleBody {
    #[serde(default)]
    id: Option<String>,
    category: String,
    title: String,
    body: String,
}

pub(crate) async fn publish_article(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<ArticleBody>,
) -> Res {
    let a = s.app.publish_article(&actor, b.id.as_deref(), &b.category, &b.title, &b.body).await?;
    Ok((StatusCode::CREATED, Json(article_json(&a))).into_response())
}

pub(crate) async fn article(State(s): State<AppState>, ApiPath(id): ApiPath<String>) -> Res {
    let v = s.app.article_versions(&id).await?;
    Ok(Json(json!({ "id": id, "versions": v.iter().map(article_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateBody {
    kind: String,
    case_no: String,
    #[serde(default)]
    query_code: Option<String>,
    level: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// Rate a completed case or a window service: signed in as its applicant, or with its query code.
pub(crate) async fn rate(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    principal: Option<Extension<crate::policy::Principal>>,
    ApiJson(b): ApiJson<RateBody>,
) -> Res {
    if b.case_no.len() > 40 || b.query_code.as_deref().is_some_and(|c| c.len() > 40) {
        return Err(Problem::not_found("no case with this number and query code").into());
    }
    let actor = principal.map(|p| p.0.actor);
    let input = RateInput {
        kind: b.kind,
        case_no: b.case_no,
        query_code: b.query_code,
        level: b.level,
        comment: b.comment,
        tags: b.tags,
    };
    let r = s.app.rate(actor.as_ref(), input, Some(&peer.ip().to_string())).await?;
    Ok((StatusCode::CREATED, Json(rating_json(&r))).into_response())
}

pub(crate) async fn list_ratings(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.ratings_for(&actor).await?;
    Ok(Json(json!({ "ratings": list.iter().map(rating_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepBody {
    step: String,
    note: String,
}

pub(crate) async fn remediate(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<StepBody>,
) -> Res {
    Ok(Json(rating_json(&s.app.remediate(&actor, &id, &b.step, &b.note).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppealBody {
    reason: String,
}

pub(crate) async fn appeal(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AppealBody>,
) -> Res {
    Ok(Json(rating_json(&s.app.appeal_rating(&actor, &id, &b.reason).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    uphold: bool,
    #[serde(default)]
    note: String,
}

pub(crate) async fn decide_appeal(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Res {
    Ok(Json(rating_json(&s.app.decide_appeal(&actor, &id, b.uphold, &b.note).await?)).into_response())
}

/// Satisfaction by department, window, staff member, item and channel (public; no raters or comments).
pub(crate) async fn satisfaction(State(s): State<AppState>) -> Res {
    Ok(Json(s.app.satisfaction(0).await?).into_response())
}
