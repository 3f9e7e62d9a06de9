//! The hall's pages: the service network (`/hall`, where an item can be done, nearest first), a point with its
//! take-a-number form (`/hall/{point}`), booking (`/hall/{point}/book`), a person's number on their phone
//! (`/hall/{point}/n/{number}`), the hall screen (`/hall/{point}/screen`, live over server-sent events from
//! `/hall/{point}/events`, with the announcement read out where the browser can), a window's small screen and the
//! window console for clerks (`/hall/{point}/window/{no}`).

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::hall::{
    AppointmentView, BoardView, BookRequest, NumberView, PointView, SlotView, TakeRequest, WindowAction, WindowView,
};
use oneseal_domain::hall::{ArrivalSource, BookingChannel};
use oneseal_domain::roles::Role;
use serde::Deserialize;

use super::{csrf_ok, encode, error_page, forbidden, page, Ctx, Signed};
use crate::policy::Access;
use crate::AppState;

const LEADERS: &[Role] = &[Role::Supervisor, Role::Administrator];
const SCREEN_JS: &[u8] = include_bytes!("../../../../assets/web/hall-screen.js");
const NUMBER_JS: &[u8] = include_bytes!("../../../../assets/web/hall-number.js");

pub fn routes() -> crate::routes::Routes {
    crate::routes::Routes::pages()
        .get("/hall", Access::Public, network)
        .get("/hall/{point}", Access::Public, point)
        .post("/hall/{point}/take", Access::Public, take)
        .get("/hall/{point}/book", Access::Roles(&[Role::Applicant]), book_form)
        .post("/hall/{point}/book", Access::Roles(&[Role::Applicant]), book)
        .get("/hall/{point}/n/{number}", Access::Public, number)
        .get("/hall/{point}/screen", Access::Public, screen)
        .get("/hall/{point}/events", Access::Public, events)
        .get("/hall/{point}/window/{no}", Access::Roles(&[Role::WindowClerk]), window)
        .post("/hall/{point}/window/{no}", Access::Roles(&[Role::WindowClerk]), window_act)
        .get("/hall/{point}/window/{no}/screen", Access::Public, window_screen)
        .get("/dashboard/hall", Access::Roles(LEADERS), stats_page)
        .get("/dashboard/hall.csv", Access::Roles(LEADERS), stats_csv)
        .get("/dashboard/hall-hours.csv", Access::Roles(LEADERS), stats_csv)
        .get("/assets/hall-number.js", Access::Public, || async {
            super::asset("text/javascript; charset=utf-8", NUMBER_JS)
        })
        .get("/assets/hall-screen.js", Access::Public, || async {
            super::asset("text/javascript; charset=utf-8", SCREEN_JS)
        })
}

fn plain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A level's name for people.
pub fn level_name(ctx: &Ctx, level: &str) -> String {
    ctx.t(&format!("hall-level-{level}"))
}

#[derive(Template)]
#[template(path = "hall.html")]
struct NetworkPage {
    ctx: Ctx,
    item: String,
    item_name: String,
    near: String,
    points: Vec<PointView>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NetworkQuery {
    item: Option<String>,
    near: Option<String>,
}

async fn network(
    State(s): State<AppState>,
    ctx: Ctx,
    q: Result<Query<NetworkQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|q| q.0).unwrap_or(NetworkQuery { item: None, near: None });
    let item = q.item.filter(|i| !i.is_empty() && i.len() <= 40);
    let cat = s.app.catalog();
    let item_name =
        item.as_deref().and_then(|i| cat.latest_item(i)).map(|p| ctx.pick(&p.body.name, &p.body.name_en).to_string());
    let item = if item_name.is_some() { item } else { None };
    let near_text = q.near.unwrap_or_default();
    let (near, error) = match crate::hall_api::parse_near(Some(&near_text)) {
        Ok(n) => (n, None),
        Err(_) => (None, Some(ctx.t("hall-near-invalid"))),
    };
    let points = s.app.service_points(item.as_deref(), near);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let p = NetworkPage {
        ctx: ctx.clone(),
        item: item.unwrap_or_default(),
        item_name: item_name.unwrap_or_default(),
        near: near_text.chars().take(40).collect(),
        points,
        error,
    };
    page(status, &ctx, &p)
}

#[derive(Template)]
#[template(path = "hall-point.html")]
struct PointPage {
    ctx: Ctx,
    point: PointView,
    /// (code, name) of the items one can queue or book for here.
    items: Vec<(String, String)>,
    sections: Vec<String>,
    error: Option<String>,
    applicant: bool,
}

fn items_at(s: &AppState, ctx: &Ctx, point: &str) -> Vec<(String, String)> {
    let net = s.app.network();
    let cat = s.app.catalog();
    let Some(p) = net.point(point) else { return Vec::new() };
    cat.items
        .iter()
        .filter(|(code, _)| p.handles(code))
        .filter_map(|(code, v)| v.last().map(|i| (code.clone(), ctx.pick(&i.body.name, &i.body.name_en).to_string())))
        .collect()
}

fn point_page(s: &AppState, ctx: &Ctx, point: &str, error: Option<String>) -> Result<PointPage, oneseal_app::AppError> {
    let view = s.app.service_point(point)?;
    let net = s.app.network();
    let sections = net.point(point).map(|p| p.sections().into_iter().map(str::to_string).collect()).unwrap_or_default();
    Ok(PointPage {
        ctx: ctx.clone(),
        point: view,
        items: items_at(s, ctx, point),
        sections,
        error,
        applicant: ctx.user.is_some() && !ctx.staff,
    })
}

async fn point(State(s): State<AppState>, ctx: Ctx, Path(point): Path<String>) -> Response {
    if !plain(&point) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("service point".into()));
    }
    match point_page(&s, &ctx, &point, None) {
        Ok(p) => page(StatusCode::OK, &ctx, &p),
        Err(e) => error_page(&ctx, e),
    }
}

#[derive(Deserialize)]
struct TakeForm {
    #[serde(default)]
    item: String,
    #[serde(default)]
    appointment: String,
    #[serde(default)]
    elderly: Option<String>,
    #[serde(default)]
    disabled: Option<String>,
}

/// Take a number at a kiosk or on a phone (anonymous): the answer is the number's own page.
async fn take(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(point): Path<String>,
    form: Result<Form<TakeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !plain(&point) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("service point".into()));
    }
    let Ok(Form(f)) = form else {
        return fail_point(&s, &ctx, &point, ctx.t("hall-take-invalid"));
    };
    let appointment = Some(f.appointment.trim().to_string()).filter(|a| !a.is_empty());
    let req = TakeRequest {
        point: point.clone(),
        item: Some(f.item.trim().to_string()).filter(|i| !i.is_empty() && appointment.is_none()),
        section: None,
        source: Some(if ctx.kiosk { ArrivalSource::Kiosk } else { ArrivalSource::Phone }),
        appointment,
        id_number: None,
        elderly: f.elderly.is_some(),
        disabled: f.disabled.is_some(),
        window: None,
    };
    match s.app.take_number(None, req).await {
        Ok(n) => Redirect::to(&format!("/hall/{}/n/{}", encode(&n.point), encode(&n.number))).into_response(),
        Err(e) if e.status() < 500 => {
            let key = match e.code() {
                "appointment_not_today" => "hall-take-appointment-used",
                "point_closed" => "hall-take-closed",
                "not_found" => "hall-take-appointment-unknown",
                "point_does_not_handle" | "unknown_item" => "hall-take-item-wrong",
                _ => "hall-take-invalid",
            };
            fail_point(&s, &ctx, &point, ctx.t(key))
        }
        Err(e) => error_page(&ctx, e),
    }
}

fn fail_point(s: &AppState, ctx: &Ctx, point: &str, msg: String) -> Response {
    match point_page(s, ctx, point, Some(msg)) {
        Ok(p) => page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &p),
        Err(e) => error_page(ctx, e),
    }
}

#[derive(Template)]
#[template(path = "hall-number.html")]
struct NumberPage {
    ctx: Ctx,
    n: NumberView,
    status: String,
}

async fn number(State(s): State<AppState>, ctx: Ctx, Path((point, no)): Path<(String, String)>) -> Response {
    if !plain(&point) || !plain(&no) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("number".into()));
    }
    match s.app.number_view(&point, &no).await {
        Ok(n) => {
            let status = ctx.t(&format!("hall-status-{}", n.status.as_str()));
            page(StatusCode::OK, &ctx, &NumberPage { ctx: ctx.clone(), n, status })
        }
        Err(e) => error_page(&ctx, e),
    }
}

#[derive(Template)]
#[template(path = "hall-screen.html")]
struct ScreenPage {
    ctx: Ctx,
    board: BoardView,
}

async fn screen(State(s): State<AppState>, ctx: Ctx, Path(point): Path<String>) -> Response {
    if !plain(&point) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("service point".into()));
    }
    match s.app.board(&point).await {
        Ok(board) => page(StatusCode::OK, &ctx, &ScreenPage { ctx: ctx.clone(), board }),
        Err(e) => error_page(&ctx, e),
    }
}

/// Server-sent events for a hall screen: the board whenever the point's queue changed (checked each second on
/// this node, from the database, so a call at any node reaches every screen), a comment every 15 s otherwise so
/// proxies keep the connection; the browser reconnects on its own (`retry: 2000`).
///
/// A client address holds at most `ONESEAL_HALL_EVENTS_PER_ADDRESS` of these open on a node (the hall's own
/// devices, `ONESEAL_HALL_DEVICES`, are not counted); more are refused with 429 and `Retry-After`.
async fn events(
    State(s): State<AppState>,
    Path(point): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !plain(&point) || s.app.service_point(&point).is_err() {
        return super::not_found(&headers, "/hall");
    }
    let ip = peer.ip();
    let slot = if crate::limits::hall_device(ip, &s.hall_devices) {
        None
    } else {
        match crate::limits::FeedConnections::open(&s.feeds, ip, s.hall_events_per_address) {
            Some(slot) => Some(slot),
            None => {
                s.metrics.anonymous_refusals.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return crate::problem::Problem::from(oneseal_app::AppError::RateLimited {
                    code: "too_many_connections",
                    message: format!(
                        "this address holds {} connections to the hall's live feed already; close one 该地址打开的大厅实时画面连接过多，请先关闭一些",
                        s.hall_events_per_address
                    ),
                    retry_after_secs: 30,
                })
                .into_response();
            }
        }
    };
    // The slot lives in the stream's state: dropped (and the count freed) when the client goes away.
    let stream = futures_util::stream::unfold((s, point, -1i64, slot), |(s, point, mut seen, slot)| async move {
        loop {
            let changed = s.app.queue_changed_shared(&point).await.unwrap_or(seen);
            if changed != seen {
                seen = changed;
                let ev = match s.app.board_shared(&point).await {
                    // Serialized once per change on this node, not once per screen.
                    Ok(b) => Event::default().event("board").retry(Duration::from_secs(2)).data(b.json.as_str()),
                    Err(_) => Event::default().comment("unavailable"),
                };
                return Some((Ok::<Event, Infallible>(ev), (s, point, seen, slot)));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

#[derive(Template)]
#[template(path = "hall-window.html")]
struct WindowPage {
    ctx: Ctx,
    w: WindowView,
    /// The current number's status in words.
    status: String,
    message: Option<String>,
    error: Option<String>,
    appointments: Vec<AppointmentView>,
}

async fn window_page(
    s: &AppState,
    ctx: &Ctx,
    actor: &oneseal_domain::roles::Actor,
    point: &str,
    no: &str,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let w = match s.app.window_view(actor, point, no).await {
        Ok(w) => w,
        Err(e) => return error_page(ctx, e),
    };
    let appointments = s.app.appointments_today(actor, point).await.unwrap_or_default();
    let st = w.current.as_ref().map(|c| ctx.t(&format!("hall-status-{}", c.status.as_str()))).unwrap_or_default();
    page(status, ctx, &WindowPage { ctx: ctx.clone(), w, status: st, message, error, appointments })
}

async fn window(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    Path((point, no)): Path<(String, String)>,
) -> Response {
    if !plain(&point) || !plain(&no) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("window".into()));
    }
    window_page(&s, &ctx, &p.actor, &point, &no, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct WindowForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    action: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    hand_off: Option<String>,
    #[serde(default)]
    case_no: String,
}

async fn window_act(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Signed(p): Signed,
    Path((point, no)): Path<(String, String)>,
    form: Result<Form<WindowForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !plain(&point) || !plain(&no) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("window".into()));
    }
    let Some((f, action)) = form.ok().and_then(|Form(f)| window_form_action(&f).map(|a| (f, a))) else {
        let err = Some(ctx.t("hall-window-invalid"));
        return window_page(&s, &ctx, &p.actor, &point, &no, None, err, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, &ctx.here);
    }
    let done = ctx.t(&format!("hall-done-{}", f.action));
    match s.app.window_action(&p.actor, &point, &no, action).await {
        Ok(_) => window_page(&s, &ctx, &p.actor, &point, &no, Some(done), None, StatusCode::OK).await,
        Err(e) if e.status() < 500 && e.status() != 403 => {
            let (msg, status) = refusal(&ctx, &e);
            window_page(&s, &ctx, &p.actor, &point, &no, None, Some(msg), status).await
        }
        Err(e) => error_page(&ctx, e),
    }
}

/// The window command a console form asks for (`None`: not one of the buttons).
fn window_form_action(f: &WindowForm) -> Option<WindowAction> {
    let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    Some(match f.action.as_str() {
        "call_next" => WindowAction::CallNext,
        "call" => WindowAction::Call { number: f.number.trim().to_uppercase() },
        "recall" => WindowAction::Recall,
        "skip" => WindowAction::Skip,
        "start" => WindowAction::Start,
        "transfer" => {
            // `w:A02` a window, `s:企业开办` a section.
            let (to_window, to_section) = match f.to.trim().split_once(':') {
                Some(("w", w)) => (Some(w.to_string()), None),
                Some(("s", sec)) => (None, Some(sec.to_string())),
                _ => (None, None),
            };
            WindowAction::Transfer { to_window, to_section, hand_off: f.hand_off.is_some(), note: String::new() }
        }
        "finish" => WindowAction::Finish { case_no: opt(&f.case_no).map(|c| c.to_uppercase()) },
        _ => return None,
    })
}

/// A refusal as a page shows it: the message for its code in the page's language (the error's own bilingual
/// text when there is none), and its status.
fn refusal(ctx: &Ctx, e: &oneseal_app::AppError) -> (String, StatusCode) {
    let key = format!("hall-error-{}", e.code());
    let msg = if super::i18n::has(&key) { ctx.t(&key) } else { e.to_string() };
    (msg, StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY))
}

#[derive(Template)]
#[template(path = "hall-window-screen.html")]
struct WindowScreenPage {
    ctx: Ctx,
    point: String,
    point_name: String,
    window: String,
    number: Option<String>,
}

/// A window's small screen (public: it shows the number called there, nothing else).
async fn window_screen(State(s): State<AppState>, ctx: Ctx, Path((point, no)): Path<(String, String)>) -> Response {
    if !plain(&point) || !plain(&no) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("window".into()));
    }
    let net = s.app.network();
    let Some(pt) = net.point(&point).filter(|p| p.window(&no).is_some()) else {
        return error_page(&ctx, oneseal_app::AppError::NotFound("window".into()));
    };
    let board = match s.app.board(&point).await {
        Ok(b) => b,
        Err(e) => return error_page(&ctx, e),
    };
    let number = board.calling.iter().find(|c| c.window == no).map(|c| c.number.clone());
    page(
        StatusCode::OK,
        &ctx,
        &WindowScreenPage { ctx: ctx.clone(), point: point.clone(), point_name: pt.name.clone(), window: no, number },
    )
}

#[derive(Template)]
#[template(path = "hall-book.html")]
struct BookPage {
    ctx: Ctx,
    point: PointView,
    items: Vec<(String, String)>,
    item: String,
    /// (date, weekday label) of the days one may book.
    dates: Vec<String>,
    date: String,
    slots: Vec<SlotView>,
    error: Option<String>,
    booked: Option<AppointmentView>,
}

#[derive(Deserialize)]
struct BookQuery {
    item: Option<String>,
    date: Option<String>,
}

async fn book_page(
    s: &AppState,
    ctx: &Ctx,
    point: &str,
    item: String,
    date: String,
    error: Option<String>,
    booked: Option<AppointmentView>,
    status: StatusCode,
) -> Response {
    let view = match s.app.service_point(point) {
        Ok(v) => v,
        Err(e) => return error_page(ctx, e),
    };
    let net = s.app.network();
    let items: Vec<(String, String)> = items_at(s, ctx, point)
        .into_iter()
        .filter(|(c, _)| net.point(point).is_some_and(|p| p.capacity(c) > 0))
        .collect();
    let today = oneseal_domain::clock::local_date(s.app.now());
    let dates: Vec<String> =
        (0..i64::from(net.book_days_ahead)).map(|d| (today + time::Duration::days(d)).to_string()).collect();
    let date = if dates.contains(&date) { date } else { dates.get(1).cloned().unwrap_or_default() };
    let item = if items.iter().any(|(c, _)| *c == item) {
        item
    } else {
        items.first().map(|(c, _)| c.clone()).unwrap_or_default()
    };
    let slots = if item.is_empty() { Vec::new() } else { s.app.slots(point, &item, &date).await.unwrap_or_default() };
    page(status, ctx, &BookPage { ctx: ctx.clone(), point: view, items, item, dates, date, slots, error, booked })
}

async fn book_form(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(point): Path<String>,
    q: Result<Query<BookQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !plain(&point) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("service point".into()));
    }
    let q = q.map(|q| q.0).unwrap_or(BookQuery { item: None, date: None });
    book_page(&s, &ctx, &point, q.item.unwrap_or_default(), q.date.unwrap_or_default(), None, None, StatusCode::OK)
        .await
}

#[derive(Deserialize)]
struct BookForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    slot: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
}

async fn book(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Signed(p): Signed,
    Path(point): Path<String>,
    form: Result<Form<BookForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !plain(&point) {
        return error_page(&ctx, oneseal_app::AppError::NotFound("service point".into()));
    }
    let Ok(Form(f)) = form else {
        return book_page(
            &s,
            &ctx,
            &point,
            String::new(),
            String::new(),
            Some(ctx.t("hall-book-invalid")),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, &ctx.here);
    }
    let req = BookRequest {
        point: point.clone(),
        item: f.item.clone(),
        date: f.date.clone(),
        slot: f.slot.clone(),
        channel: if ctx.kiosk { BookingChannel::Kiosk } else { BookingChannel::Online },
        name: f.name,
        id_number: f.id_number,
        phone: f.phone,
    };
    match s.app.book(&p.actor, req).await {
        Ok(a) => book_page(&s, &ctx, &point, f.item, f.date, None, Some(a), StatusCode::CREATED).await,
        Err(e) if e.status() < 500 && e.status() != 403 => {
            let (msg, status) = refusal(&ctx, &e);
            book_page(&s, &ctx, &point, f.item, f.date, Some(msg), None, status).await
        }
        Err(e) => error_page(&ctx, e),
    }
}

#[derive(Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The period asked for, or the last 30 days up to today.
fn period(s: &AppState, q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>) -> (String, String) {
    let today = oneseal_domain::clock::local_date(s.app.now());
    let q = q.map(|q| q.0).unwrap_or(PeriodQuery { from: None, to: None });
    let from = q.from.filter(|f| !f.is_empty()).unwrap_or_else(|| (today - time::Duration::days(29)).to_string());
    let to = q.to.filter(|t| !t.is_empty()).unwrap_or_else(|| today.to_string());
    (from.chars().take(10).collect(), to.chars().take(10).collect())
}

/// A row of the statistics table as shown.
pub struct StatLine {
    pub dimension: String,
    pub name: String,
    pub served: u64,
    pub cases: u64,
    pub wait_mean: String,
    pub wait_p90: String,
    pub service_mean: String,
    pub per_window_day: String,
    pub per_window_hour: String,
    pub no_show: String,
}

#[derive(Template)]
#[template(path = "hall-stats.html")]
struct StatsPage {
    ctx: Ctx,
    from: String,
    to: String,
    lines: Vec<StatLine>,
    error: Option<String>,
}

fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
}

async fn stats_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (from, to) = period(&s, q);
    let net = s.app.network();
    let cat = s.app.catalog();
    match s.app.hall_stats(&p.actor, &from, &to).await {
        Ok(st) => {
            let lines = st
                .rows()
                .map(|r| {
                    let point =
                        net.point(&r.point).map_or(r.point.clone(), |x| ctx.pick(&x.name, &x.name_en).to_string());
                    let name = match r.dimension.as_str() {
                        "all" => ctx.t("hall-stats-all"),
                        "point" => point,
                        "item" => format!(
                            "{point} · {}",
                            cat.latest_item(&r.key)
                                .map_or(r.key.clone(), |i| ctx.pick(&i.body.name, &i.body.name_en).to_string())
                        ),
                        _ => format!("{point} · {}", r.key),
                    };
                    StatLine {
                        dimension: ctx.t(&format!("hall-stats-dim-{}", r.dimension.as_str())),
                        name,
                        served: r.served,
                        cases: r.cases,
                        wait_mean: num(r.waiting.mean_min),
                        wait_p90: num(r.waiting.p90_min),
                        service_mean: num(r.service.mean_min),
                        per_window_day: num(r.cases_per_window_day),
                        per_window_hour: num(r.cases_per_window_hour),
                        no_show: r.no_show_rate.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".into()),
                    }
                })
                .collect();
            page(StatusCode::OK, &ctx, &StatsPage { ctx: ctx.clone(), from, to, lines, error: None })
        }
        Err(e) if e.status() == 422 => {
            let err = Some(ctx.t("hall-stats-invalid"));
            page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ctx,
                &StatsPage { ctx: ctx.clone(), from, to, lines: Vec::new(), error: err },
            )
        }
        Err(e) => error_page(&ctx, e),
    }
}

/// The hall's numbers as CSV (UTF-8 with a byte-order mark, for spreadsheets): by group, or by hour of day.
async fn stats_csv(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    uri: axum::http::Uri,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (from, to) = period(&s, q);
    let hours = uri.path().ends_with("hall-hours.csv");
    match s.app.hall_stats(&p.actor, &from, &to).await {
        Ok(st) => {
            let text = if hours { st.hours_csv() } else { st.csv() };
            let name = if hours { "hall-hours" } else { "hall" };
            let mut r = (StatusCode::OK, format!("\u{feff}{text}")).into_response();
            let h = r.headers_mut();
            h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/csv; charset=utf-8"));
            if let Ok(v) =
                axum::http::HeaderValue::from_str(&format!("attachment; filename=\"oneseal-{name}-{from}-{to}.csv\""))
            {
                h.insert(axum::http::header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => error_page(&ctx, e),
    }
}
