//! Self-service kiosks (自助终端): `/kiosk` turns the browser into a kiosk (a cookie), with a start page of big
//! targets — find a service, check progress, verify a licence, apply for self-service items. Every page then
//! shows the kiosk layout and goes back to the start after a period without touch (`kiosk.js`); a person signed
//! in at the kiosk is signed out at that moment. `/kiosk/exit` leaves kiosk mode (for maintenance).
//!
//! A kiosk standing at a service point is configured once with `/kiosk?point=<point id>` (a cookie beside the kiosk
//! cookie); applications made at it then record that point. Only a valid point slug (lowercase letters, digits and
//! `-`, at most 40 characters) is kept; anything else leaves the kiosk without a point.

use askama::Template;
use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{page, Ctx, KIOSK_COOKIE, KIOSK_POINT_COOKIE};

const KIOSK_JS: &[u8] = include_bytes!("../../../../assets/web/kiosk.js");

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages().get("/kiosk", Access::Public, start).get("/kiosk/exit", Access::Public, exit).get(
        "/assets/kiosk.js",
        Access::Public,
        || async { super::asset("text/javascript; charset=utf-8", KIOSK_JS) },
    )
}

#[derive(Template)]
#[template(path = "kiosk.html")]
struct KioskPage {
    ctx: Ctx,
}

#[derive(serde::Deserialize, Default)]
struct StartQuery {
    point: Option<String>,
}

async fn start(mut ctx: Ctx, q: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    ctx.kiosk = true;
    let asked = q.ok().and_then(|q| q.0.point);
    let point = asked.as_deref().filter(|p| oneseal_app::cases::valid_point_slug(p)).map(str::to_string);
    if point.is_some() {
        ctx.kiosk_point = point.clone();
    }
    let mut r = page(StatusCode::OK, &ctx, &KioskPage { ctx: ctx.clone() });
    if let Ok(v) = HeaderValue::from_str(&format!("{KIOSK_COOKIE}=1; Path=/; SameSite=Lax")) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Some(p) = point {
        // A valid slug is plain ASCII, so it is a valid cookie value as it stands.
        if let Ok(v) = HeaderValue::from_str(&format!("{KIOSK_POINT_COOKIE}={p}; Path=/; SameSite=Lax")) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

async fn exit() -> Response {
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static("oneseal_kiosk=; Path=/; Max-Age=0"));
    r.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static("oneseal_kiosk_point=; Path=/; Max-Age=0"));
    r
}
