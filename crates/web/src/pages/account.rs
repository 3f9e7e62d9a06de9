//! Sign-in, registration and sign-out for people using the pages (the API has its own JSON sessions; both set
//! the same HttpOnly cookie). Sign-in rotates the session; `next` only ever points inside the site.

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::AppError;
use serde::Deserialize;

use super::{csrf_ok, page, Ctx, Signed};
use crate::policy::{same_origin, session_set_cookie, SESSION_CLEAR_COOKIE};
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/signin", Access::Public, signin_form)
        .post("/signin", Access::Public, signin)
        .get("/register", Access::Public, register_form)
        .post("/register", Access::Public, register)
        .post("/signout", Access::SignedIn, signout)
}

/// A local path to go to after signing in; anything else goes to /me.
pub fn local_next(next: Option<&str>) -> String {
    next.and_then(super::local_path).unwrap_or_else(|| "/me".to_string())
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    ctx: Ctx,
    username: String,
    next: String,
    error: Option<String>,
    totp: bool,
}

async fn signin_form(
    ctx: Ctx,
    q: Result<axum::extract::Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let next = local_next(q.ok().and_then(|q| q.0.next).as_deref());
    page(
        StatusCode::OK,
        &ctx,
        &SigninPage { ctx: ctx.clone(), username: String::new(), next, error: None, totp: false },
    )
}

#[derive(Deserialize)]
struct SigninForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    next: String,
}

async fn signin(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Form<SigninForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or(SigninForm {
        username: String::new(),
        password: String::new(),
        totp: String::new(),
        next: String::new(),
    });
    let next = local_next(Some(&f.next));
    let fail = |status: StatusCode, key: &str, totp: bool| {
        let p = SigninPage {
            ctx: ctx.clone(),
            username: f.username.chars().take(100).collect(),
            next: next.clone(),
            error: Some(ctx.t(key)),
            totp,
        };
        page(status, &ctx, &p)
    };
    // Login CSRF: only our own pages may sign a browser in.
    if !same_origin(&headers) {
        return fail(StatusCode::FORBIDDEN, "error-form-expired", false);
    }
    if f.username.is_empty() || f.username.len() > 100 || f.password.is_empty() || f.password.len() > 200 {
        return fail(StatusCode::UNAUTHORIZED, "signin-bad", false);
    }
    let totp = Some(f.totp.trim()).filter(|t| !t.is_empty());
    match s.app.login(f.username.trim(), &f.password, totp, Some(&peer.ip().to_string())).await {
        Ok(sess) => {
            if let Some(old) = crate::policy::cookie_value(&headers, crate::policy::SESSION_COOKIE) {
                let _ = s.app.logout(&old).await;
            }
            let target = if sess.limited { "/api/docs".to_string() } else { next };
            let mut r = Redirect::to(&target).into_response();
            if let Ok(v) = HeaderValue::from_str(&session_set_cookie(s.secure_cookies, &sess.token)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(AppError::Throttled { .. }) => fail(StatusCode::TOO_MANY_REQUESTS, "signin-throttled", false),
        Err(AppError::TotpRequired) => fail(StatusCode::UNAUTHORIZED, "signin-totp-needed", true),
        Err(_) => fail(StatusCode::UNAUTHORIZED, "signin-bad", totp.is_some()),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    ctx: Ctx,
    f: RegisterForm,
    next: String,
    errors: Vec<(&'static str, String)>,
}

impl RegisterPage {
    /// The error of a field, if any.
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Deserialize, Default, Clone)]
struct RegisterForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    resident_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    next: String,
}

async fn register_form(
    ctx: Ctx,
    q: Result<axum::extract::Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let next = local_next(q.ok().and_then(|q| q.0.next).as_deref());
    page(StatusCode::OK, &ctx, &RegisterPage { ctx: ctx.clone(), f: RegisterForm::default(), next, errors: vec![] })
}

async fn register(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ctx: Ctx,
    headers: HeaderMap,
    form: Result<Form<RegisterForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let mut f = form.map(|f| f.0).unwrap_or_default();
    let next = local_next(Some(&f.next));
    let refuse = |f: RegisterForm, errors: Vec<(&'static str, String)>| {
        // The password is never sent back.
        let f = RegisterForm { password: String::new(), ..f };
        page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &RegisterPage { ctx: ctx.clone(), f, next: next.clone(), errors })
    };
    if !same_origin(&headers) {
        return refuse(f, vec![("form", ctx.t("error-form-expired"))]);
    }
    f.username = f.username.trim().chars().take(100).collect();
    f.name = f.name.chars().take(100).collect();
    f.resident_id = f.resident_id.trim().to_uppercase().chars().take(40).collect();
    f.phone = f.phone.trim().chars().take(40).collect();
    let phone = Some(f.phone.as_str()).filter(|p| !p.is_empty());
    match s
        .app
        .register_person(&f.username, &f.password, &f.name, &f.resident_id, phone, Some(&peer.ip().to_string()))
        .await
    {
        Ok(_) => match s.app.login(&f.username, &f.password, None, Some(&peer.ip().to_string())).await {
            Ok(sess) => {
                let mut r = Redirect::to(&next).into_response();
                if let Ok(v) = HeaderValue::from_str(&session_set_cookie(s.secure_cookies, &sess.token)) {
                    r.headers_mut().insert(header::SET_COOKIE, v);
                }
                r
            }
            Err(_) => Redirect::to(&format!("/signin?next={}", super::encode(&next))).into_response(),
        },
        Err(e) => {
            let (field, key) = match e.code() {
                "invalid_resident_id" => ("resident_id", "error-field-resident-id"),
                "person_exists" => ("resident_id", "error-field-person-exists"),
                "invalid_phone" => ("phone", "error-field-phone"),
                "weak_password" => ("password", "error-field-password"),
                "invalid_name" | "invalid_display_name" => ("name", "error-field-name"),
                "invalid_username" | "account_exists" => ("username", "error-field-username"),
                _ => ("form", "error-internal"),
            };
            refuse(f, vec![(field, ctx.t(key))])
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn signout(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let sent = form.map(|f| f.0.csrf).unwrap_or_default();
    if !csrf_ok(&p, &sent) {
        return super::forbidden(&headers, "/signout");
    }
    let _ = s.app.logout(&p.token).await;
    let mut r = Redirect::to(if ctx.kiosk { "/kiosk" } else { "/" }).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(SESSION_CLEAR_COOKIE));
    r
}
