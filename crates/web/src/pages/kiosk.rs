//! Self-service kiosks (自助终端): `/kiosk` turns the browser into a kiosk (a cookie), with a start page of big
//! targets — find a service, check progress, verify a licence, apply for self-service items. Every page then
//! shows the kiosk layout and goes back to the start after a period without touch (`kiosk.js`); a person signed
//! in at the kiosk is signed out at that moment. `/kiosk/exit` leaves kiosk mode (for maintenance).

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{page, Ctx, KIOSK_COOKIE};

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

async fn start(mut ctx: Ctx) -> Response {
    ctx.kiosk = true;
    let mut r = page(StatusCode::OK, &ctx, &KioskPage { ctx: ctx.clone() });
    if let Ok(v) = HeaderValue::from_str(&format!("{KIOSK_COOKIE}=1; Path=/; SameSite=Lax")) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn exit() -> Response {
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static("oneseal_kiosk=; Path=/; Max-Age=0"));
    r
}
