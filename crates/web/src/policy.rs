//! The one policy that decides every route: each route's declaration ([`crate::routes`]) names who may call it, a middleware
//! applies it before any handler runs, and the handlers and the domain add ownership and department checks
//! (a citizen sees only their own cases; staff only their department's; an unknown or foreign case is "not found").

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use oneseal_app::AppError;
use oneseal_domain::roles::{Actor, Role};

use crate::problem::Problem;
use crate::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account.
    SignedIn,
    /// Any staff account (every role but applicant).
    Staff,
    /// Accounts holding one of these roles.
    Roles(&'static [Role]),
    /// Administrators (of a department, or bureau-wide).
    Admin,
    /// Bureau-wide administrators only (an administrator account without a department): what is shared by every
    /// department (the departments, the calendar, the hotline directory, the transparency log).
    BureauAdmin,
}

impl Access {
    /// Whether an actor (None: anonymous) passes this rule.
    pub fn allows(self, actor: Option<&Actor>) -> bool {
        match (self, actor) {
            (Access::Public, _) => true,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::Staff, Some(a)) => a.is_staff(),
            (Access::Roles(roles), Some(a)) => roles.iter().any(|r| a.has(*r)),
            (Access::Admin, Some(a)) => a.has(Role::Administrator),
            (Access::BureauAdmin, Some(a)) => a.has(Role::Administrator) && a.department.is_none(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Access::Public => "Public",
            Access::SignedIn => "SignedIn",
            Access::Staff => "Staff",
            Access::Roles(_) => "Roles",
            Access::Admin => "Admin",
            Access::BureauAdmin => "BureauAdmin",
        }
    }
}

/// The rule of a route by method and pattern, from the declarations (HEAD follows GET; undeclared: `None`).
/// The middleware uses the policy built once with the router; this builds it afresh, for tests and tools.
pub fn rule(method: &str, pattern: &str) -> Option<Access> {
    let (_, policy) = crate::declared_routes().into_parts();
    policy.rule(method, pattern).map(|d| d.access)
}

/// The signed-in actor and token, put into the request by the middleware for the handlers.
#[derive(Clone)]
pub struct Principal {
    pub actor: Actor,
    pub token: String,
    /// Scopes of an API token; `None` for a person's session.
    pub scopes: Option<Vec<String>>,
}

/// What a session limited to second-factor enrolment may do.
const ENROLMENT_ROUTES: &[&str] =
    &["/api/v1/me", "/api/v1/me/totp", "/api/v1/me/totp/confirm", "/api/v1/sessions/current"];

/// Routes an API token never reaches: managing tokens and sessions, and unmasking personal data (a person must
/// give the reason).
const SESSION_ONLY: &[&str] = &[
    "/api/v1/tokens",
    "/api/v1/tokens/{id}",
    "/api/v1/sessions/current",
    "/api/v1/cases/{case_no}/personal-data",
    "/api/v1/licenses/{identifier}/full",
    "/api/v1/me/licenses/{identifier}/consents",
    "/api/v1/me/licenses/{identifier}/consents/{consent_id}/revoke",
];

fn scope_allows(scopes: &[String], method: &str, pattern: &str) -> Result<(), String> {
    if SESSION_ONLY.contains(&pattern) {
        return Err("an API token cannot do this; sign in as a person".into());
    }
    let need = if matches!(method, "GET" | "HEAD" | "OPTIONS") { "read" } else { "write" };
    if scopes.iter().any(|s| s == need) {
        Ok(())
    } else {
        Err(format!("this API token lacks the {need} scope"))
    }
}

fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let t = h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))?.trim();
    if t.is_empty() || t.len() > 200 {
        None
    } else {
        Some(t.to_string())
    }
}

/// Authenticate (when credentials are given) and apply the route's rule before the handler.
pub async fn enforce(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let pattern = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let declared = pattern.as_deref().and_then(|p| s.policy.rule(req.method().as_str(), p));
    let is_page = declared.is_some_and(|d| d.surface == crate::routes::Surface::Page);
    let access = match &pattern {
        Some(p) => match declared {
            Some(d) => d.access,
            None => {
                // Deny by default: a route in the router without a declared rule is a mistake, never public.
                eprintln!("refused: {} {p} has no access rule", req.method());
                return Problem::method_not_allowed().into_response();
            }
        },
        None => Access::Public,
    };
    // Credentials: a bearer token, or else the session cookie of a browser.
    // Public routes ignore the cookie: they need no session, so a cookie cannot make them act for anyone.
    let (credential, from_cookie) = match bearer(&req) {
        Some(t) => (Some(t), false),
        // Public pages still show who is signed in; the public API does not need to know.
        None if access == Access::Public && !is_page => (None, true),
        None => (session_cookie(&req), true),
    };
    let principal = match credential {
        Some(token) => match s.app.authenticate_any(&token).await {
            Ok((actor, scopes, limited)) => {
                if limited && !ENROLMENT_ROUTES.contains(&pattern.as_deref().unwrap_or_default()) {
                    if is_page && access == Access::Public {
                        None
                    } else {
                        return Problem::from(AppError::TotpEnrolmentRequired).into_response();
                    }
                } else {
                    Some(Principal { actor, token, scopes })
                }
            }
            Err(AppError::Unauthenticated) if access == Access::Public => None,
            Err(AppError::Unauthenticated) if is_page => return crate::pages::sign_in_redirect(&req),
            Err(e) => return Problem::from(e).into_response(),
        },
        None => None,
    };
    // A browser sends cookies on its own, so a state-changing request authenticated by the cookie must also carry
    // the session's CSRF token (a header, or the form field of the pages).
    if let (Some(p), true) = (&principal, from_cookie) {
        let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
        // Page forms post without custom headers: the browser must say the request comes from our own pages
        // (Sec-Fetch-Site or Origin), and the handler checks the form's `_csrf` field as well.
        let page_ok = is_page && same_origin(req.headers());
        if !safe && !page_ok && sent.as_deref() != Some(csrf_token(&p.token).as_str()) {
            if is_page {
                return crate::pages::forbidden(req.headers(), req.uri().path());
            }
            return Problem::new(
                403,
                "csrf",
                "Forbidden",
                "请求已过期或来源不明，请刷新页面后重试",
                format!("send the session's CSRF token in the {CSRF_HEADER} header"),
            )
            .into_response();
        }
    }
    if !access.allows(principal.as_ref().map(|p| &p.actor)) {
        if is_page {
            return match &principal {
                None => crate::pages::sign_in_redirect(&req),
                Some(_) => crate::pages::forbidden(req.headers(), req.uri().path()),
            };
        }
        let p = match &principal {
            None => Problem::from(AppError::Unauthenticated),
            Some(_) => Problem::from(AppError::Forbidden(format!("this needs {}", describe(access)))),
        };
        return p.into_response();
    }
    if let (Some(p), Some(pattern)) = (&principal, &pattern) {
        if let Some(scopes) = &p.scopes {
            if let Err(why) = scope_allows(scopes, req.method().as_str(), pattern) {
                return Problem::from(AppError::Forbidden(why)).into_response();
            }
        }
    }
    // Anonymous callers of the costly public routes spend from a bucket per address.
    if let (None, Some(pattern)) = (&principal, &pattern) {
        if crate::limits::costly(req.method().as_str(), pattern) {
            let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
            // A kiosk of the hall takes numbers all day from one address: not from the anonymous bucket.
            let device = |ip: std::net::IpAddr| {
                crate::limits::hall_device_route(req.method().as_str(), pattern)
                    && crate::limits::hall_device(ip, &s.hall_devices)
            };
            if let Some(ip) = peer.filter(|ip| !device(*ip)) {
                let now = oneseal_app::ms(s.app.now());
                if let Err(wait) = s.anonymous.take(ip, now, s.app.anonymous_per_minute()) {
                    s.metrics.anonymous_refusals.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Problem::from(AppError::RateLimited {
                        code: "anonymous_rate_limited",
                        message:
                            "too many requests from this address to a costly public address; sign in, or slow down"
                                .into(),
                        retry_after_secs: wait,
                    })
                    .into_response();
                }
            }
        }
    }
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

/// Whether a request comes from our own pages: `Sec-Fetch-Site: same-origin` (or `none`: typed by the user), or
/// else an `Origin` whose host is the `Host` we were reached at. Neither header: not ours.
pub fn same_origin(h: &axum::http::HeaderMap) -> bool {
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok());
    match get("sec-fetch-site") {
        Some(site) => site == "same-origin" || site == "none",
        None => match (get("origin"), get("host")) {
            (Some(origin), Some(host)) => {
                origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
            }
            _ => false,
        },
    }
}

/// The `Set-Cookie` value of a new session (HttpOnly, SameSite=Lax, `Secure` behind TLS).
pub fn session_set_cookie(secure: bool, token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        oneseal_app::auth::SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub const SESSION_CLEAR_COOKIE: &str = "oneseal_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0";

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "oneseal_session";
/// The header that carries the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a session: derived from the (HttpOnly, unreadable to scripts) session token, so it needs no
/// storage and changes with every sign-in.
pub fn csrf_token(session_token: &str) -> String {
    oneseal_app::sha256_hex(&format!("oneseal csrf v1:{session_token}"))[..32].to_string()
}

/// The session token from the `Cookie` header, if any.
pub fn session_cookie(req: &Request) -> Option<String> {
    cookie_value(req.headers(), SESSION_COOKIE)
}

pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    for h in headers.get_all(axum::http::header::COOKIE) {
        let Ok(v) = h.to_str() else { continue };
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=') {
                if k == name && !val.is_empty() && val.len() <= 200 {
                    return Some(val.to_string());
                }
            }
        }
    }
    None
}

/// The rule as the OpenAPI document's `x-access` shows it: the rule's name, and the roles of a role rule.
pub fn describe_rule(a: Access) -> String {
    match a {
        Access::Roles(r) => format!("Roles: {}", r.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")),
        Access::BureauAdmin => "BureauAdmin: an administrator without a department".into(),
        other => other.name().into(),
    }
}

fn describe(a: Access) -> String {
    match a {
        Access::Roles(r) => format!("one of the roles {}", r.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")),
        Access::Staff => "a staff account".into(),
        Access::Admin => "an administrator".into(),
        Access::BureauAdmin => "a bureau-wide administrator (an administrator of a department cannot)".into(),
        _ => "signing in".into(),
    }
}
