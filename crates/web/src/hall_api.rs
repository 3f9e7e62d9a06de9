//! The API of the hall and its service network: points and the network document, appointment slots and
//! bookings, queue numbers, windows and the hall board.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use oneseal_app::hall::{BookRequest, TakeRequest, WindowAction};
use oneseal_domain::hall::Network;
use oneseal_domain::roles::Role;
use serde::Deserialize;
use serde_json::json;

use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::policy::Access;
use crate::problem::{ApiError, Problem};
use crate::routes::Routes;
use crate::AppState;

type Res = Result<Response, ApiError>;

const HALL_STAFF: &[Role] = &[Role::WindowClerk];
const HALL_READERS: &[Role] = &[Role::WindowClerk, Role::Supervisor];

/// The hall's API routes.
pub(crate) fn routes() -> Routes {
    Routes::api()
        .get("/api/v1/service-network", Access::Public, network)
        .put("/api/v1/service-network", Access::BureauAdmin, publish_network)
        .get("/api/v1/service-points", Access::Public, points)
        .get("/api/v1/service-points/{point}", Access::Public, point)
        .get("/api/v1/service-points/{point}/slots", Access::Public, slots)
        .get("/api/v1/service-points/{point}/appointments", Access::Roles(HALL_READERS), appointments_today)
        .post("/api/v1/service-points/{point}/numbers", Access::Public, take_number)
        .get("/api/v1/service-points/{point}/numbers/{number}", Access::Public, number)
        .get("/api/v1/service-points/{point}/board", Access::Public, board)
        .get("/api/v1/service-points/{point}/windows/{window}", Access::Roles(HALL_STAFF), window)
        .post("/api/v1/service-points/{point}/windows/{window}", Access::Roles(HALL_STAFF), window_action)
        .post("/api/v1/appointments", Access::SignedIn, book)
        .get("/api/v1/appointments", Access::SignedIn, my_appointments)
        .get("/api/v1/appointments/{code}", Access::SignedIn, appointment)
        .post("/api/v1/appointments/{code}/cancel", Access::SignedIn, cancel)
        .post("/api/v1/appointments/{code}/rebook", Access::SignedIn, rebook)
}

/// A path segment that can name a point, window, number or booking code: short, plain.
fn segment(s: &str) -> Result<&str, ApiError> {
    if s.is_empty() || s.len() > 40 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Problem::not_found("no such point, window, number or appointment").into());
    }
    Ok(s)
}

async fn network(State(s): State<AppState>) -> Res {
    Ok(Json(s.app.network().as_ref().clone()).into_response())
}

async fn publish_network(State(s): State<AppState>, Authed(actor, _): Authed, ApiJson(n): ApiJson<Network>) -> Res {
    let v = s.app.publish_network(&actor, n).await?;
    Ok(Json(json!({ "version": v })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PointsQuery {
    item: Option<String>,
    /// `lat,lon`
    near: Option<String>,
}

/// `lat,lon` in range, or an error naming the problem.
pub(crate) fn parse_near(near: Option<&str>) -> Result<Option<(f64, f64)>, ApiError> {
    let Some(n) = near.filter(|n| !n.is_empty()) else { return Ok(None) };
    let bad = || ApiError(Problem::unprocessable("invalid_near", "near is lat,lon in degrees 位置应为 纬度,经度"));
    let (a, b) = n.split_once(',').ok_or_else(bad)?;
    let (lat, lon): (f64, f64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad());
    }
    Ok(Some((lat, lon)))
}

async fn points(State(s): State<AppState>, ApiQuery(q): ApiQuery<PointsQuery>) -> Res {
    let near = parse_near(q.near.as_deref())?;
    Ok(Json(json!({ "points": s.app.service_points(q.item.as_deref(), near) })).into_response())
}

async fn point(State(s): State<AppState>, ApiPath(p): ApiPath<String>) -> Res {
    Ok(Json(s.app.service_point(segment(&p)?)?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotsQuery {
    item: String,
    date: String,
}

async fn slots(State(s): State<AppState>, ApiPath(p): ApiPath<String>, ApiQuery(q): ApiQuery<SlotsQuery>) -> Res {
    let list = s.app.slots(segment(&p)?, &q.item, &q.date).await?;
    Ok(Json(json!({ "point": p, "item": q.item, "date": q.date, "slots": list })).into_response())
}

async fn appointments_today(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(p): ApiPath<String>) -> Res {
    Ok(Json(json!({ "appointments": s.app.appointments_today(&actor, segment(&p)?).await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakeBody {
    #[serde(default)]
    item: Option<String>,
    #[serde(default)]
    section: Option<String>,
    #[serde(default)]
    source: Option<oneseal_domain::hall::ArrivalSource>,
    #[serde(default)]
    appointment: Option<String>,
    #[serde(default)]
    id_number: Option<String>,
    #[serde(default)]
    elderly: bool,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    window: Option<String>,
}

async fn take_number(
    State(s): State<AppState>,
    principal: Option<Extension<crate::policy::Principal>>,
    ApiPath(p): ApiPath<String>,
    ApiJson(b): ApiJson<TakeBody>,
) -> Res {
    // Anyone may take a number; a window clerk may take one at their window.
    let actor = principal.map(|p| p.0.actor);
    let req = TakeRequest {
        point: segment(&p)?.to_string(),
        item: b.item,
        section: b.section,
        source: b.source,
        appointment: b.appointment,
        id_number: b.id_number,
        elderly: b.elderly,
        disabled: b.disabled,
        window: b.window,
    };
    let v = s.app.take_number(actor.as_ref(), req).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn number(State(s): State<AppState>, ApiPath((p, n)): ApiPath<(String, String)>) -> Res {
    Ok(Json(s.app.number_view(segment(&p)?, segment(&n)?).await?).into_response())
}

async fn board(State(s): State<AppState>, ApiPath(p): ApiPath<String>) -> Res {
    Ok(Json(s.app.board(segment(&p)?).await?).into_response())
}

async fn window(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((p, w)): ApiPath<(String, String)>,
) -> Res {
    Ok(Json(s.app.window_view(&actor, segment(&p)?, segment(&w)?).await?).into_response())
}

async fn window_action(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((p, w)): ApiPath<(String, String)>,
    ApiJson(a): ApiJson<WindowAction>,
) -> Res {
    Ok(Json(s.app.window_action(&actor, segment(&p)?, segment(&w)?, a).await?).into_response())
}

async fn book(State(s): State<AppState>, Authed(actor, _): Authed, ApiJson(b): ApiJson<BookRequest>) -> Res {
    let v = s.app.book(&actor, b).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn my_appointments(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    Ok(Json(json!({ "appointments": s.app.my_appointments(&actor).await? })).into_response())
}

async fn appointment(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(c): ApiPath<String>) -> Res {
    Ok(Json(s.app.appointment(&actor, segment(&c)?).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(c): ApiPath<String>,
    ApiJson(b): ApiJson<CancelBody>,
) -> Res {
    Ok(Json(s.app.cancel_appointment(&actor, segment(&c)?, &b.reason).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RebookBody {
    date: String,
    slot: String,
}

async fn rebook(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(c): ApiPath<String>,
    ApiJson(b): ApiJson<RebookBody>,
) -> Res {
    Ok(Json(s.app.rebook(&actor, segment(&c)?, &b.date, &b.slot).await?).into_response())
}
