//! The server-rendered pages: askama templates (`crates/web/templates`, checked at compile time), Fluent texts
//! (`crates/web/i18n`), one stylesheet of our own and vendored htmx, all served from the binary. Every form
//! works as a plain POST without JavaScript; htmx only swaps the part of the page that changed.
//!
//! Preferences (language, large type) are cookies set by `/prefs` links, so they work without JavaScript and
//! persist; they carry no authority.

mod account;
mod admin;
mod apply;
mod dashboard;
mod hall;
mod hotline;
pub mod i18n;
mod kiosk;
mod liaison;
mod me;
mod portal;
mod projects;
mod supervise;
mod verify;
mod window;
mod work;

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub use i18n::Lang;

use crate::policy::{cookie_value, csrf_token, Access, Principal};
use crate::AppState;
use oneseal_domain::roles::Role;

pub const LANG_COOKIE: &str = "oneseal_lang";
pub const LARGE_COOKIE: &str = "oneseal_large";
pub const KIOSK_COOKIE: &str = "oneseal_kiosk";
/// The service point a kiosk stands at (`/kiosk?point=…`), recorded on the applications made at it.
pub const KIOSK_POINT_COOKIE: &str = "oneseal_kiosk_point";

pub fn routes() -> crate::routes::Routes {
    crate::routes::Routes::pages()
        .get("/prefs", Access::Public, prefs)
        .get("/manifest.webmanifest", Access::Public, || async { asset("application/manifest+json", MANIFEST) })
        .get("/assets/oneseal.css", Access::Public, || async { asset("text/css; charset=utf-8", CSS) })
        .get("/assets/copy.js", Access::Public, || async { asset("text/javascript; charset=utf-8", COPY_JS) })
        .get("/assets/icon.svg", Access::Public, || async { asset("image/svg+xml", ICON) })
        .get("/assets/icon-192.png", Access::Public, || async { asset("image/png", ICON_192) })
        .get("/assets/icon-512.png", Access::Public, || async { asset("image/png", ICON_512) })
        .get("/assets/vendor/htmx/htmx.min.js", Access::Public, || async {
            asset("text/javascript; charset=utf-8", HTMX)
        })
        .get("/assets/inspection.js", Access::Public, || async {
            asset("text/javascript; charset=utf-8", INSPECTION_JS)
        })
        .get("/assets/vendor/tus/tus.min.js", Access::Public, || async {
            asset("text/javascript; charset=utf-8", TUS_JS)
        })
        .merge(portal::routes())
        .merge(account::routes())
        .merge(apply::routes())
        .merge(me::routes())
        .merge(projects::routes())
        .merge(work::routes())
        .merge(window::routes())
        .merge(kiosk::routes())
        .merge(admin::routes())
        .merge(supervise::routes())
        .merge(dashboard::routes())
        .merge(liaison::routes())
        .merge(hotline::routes())
        .merge(verify::routes())
        .merge(hall::routes())
}

const CSS: &[u8] = include_bytes!("../../../../assets/web/oneseal.css");
// Copy buttons and select-on-focus fields (the licence identifier on /me).
const COPY_JS: &[u8] = include_bytes!("../../../../assets/web/copy.js");
const ICON: &[u8] = include_bytes!("../../../../assets/web/icon.svg");
// Rendered from icon.svg at 192 and 512 px (Chromium screenshot), for phones' home screens.
const ICON_192: &[u8] = include_bytes!("../../../../assets/web/icon-192.png");
const ICON_512: &[u8] = include_bytes!("../../../../assets/web/icon-512.png");
const MANIFEST: &[u8] = include_bytes!("../../../../assets/web/manifest.webmanifest");
const HTMX: &[u8] = include_bytes!("../../../../assets/vendor/htmx/htmx.min.js");
/// 视频勘验 on the pages (ours) and the tus client it uploads with (vendored, assets/vendor/README.md).
const INSPECTION_JS: &[u8] = include_bytes!("../../../../assets/web/inspection.js");
const TUS_JS: &[u8] = include_bytes!("../../../../assets/vendor/tus/tus.min.js");

pub(crate) fn asset(ct: &'static str, body: &'static [u8]) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// A case as pages show it: personal data masked (staff unmask through the API with a reason), the query code's
/// digest removed. Every page that shows a case goes through here.
pub async fn masked_case(
    s: &AppState,
    actor: &oneseal_domain::roles::Actor,
    no: &str,
) -> Result<oneseal_app::cases::CaseView, oneseal_app::AppError> {
    let mut v = case_by_no(s, actor, no).await?;
    s.app.mask_state(&mut v.state);
    Ok(v)
}

/// A case as its actor may see it, by the case number in an address (a malformed one is an unknown case).
pub async fn case_by_no(
    s: &AppState,
    actor: &oneseal_domain::roles::Actor,
    no: &str,
) -> Result<oneseal_app::cases::CaseView, oneseal_app::AppError> {
    s.app.case_view(actor, &crate::extract::parse_case_no(no)?).await
}

/// A service by its code: an item (implementation code) or a bundle, at its latest version.
pub fn subject_of(s: &AppState, code: &str) -> Option<oneseal_domain::case::Subject> {
    use oneseal_domain::case::Subject;
    let view = s.app.catalog();
    if let Some(p) = view.latest_item(code) {
        return Some(Subject::Item { code: code.to_string(), version: p.version });
    }
    view.latest_bundle(code).map(|p| Subject::Bundle { code: code.to_string(), version: p.version })
}

/// A stable PDF file ID from what the document is (the same document, the same ID).
pub fn pdf_file_id(what: &str) -> [u8; 16] {
    let d = oneseal_app::sha256_hex(what);
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&d[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
    out
}

/// A PDF answer: shown in the browser (`inline`) or downloaded, with its cache rule.
pub fn pdf_response(name: &str, bytes: Vec<u8>, inline: bool, cache: &'static str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    let disposition = if inline { "inline" } else { "attachment" };
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// Today's date in Beijing, ISO.
pub fn me_today(s: &AppState) -> String {
    oneseal_domain::clock::local_date(s.app.now()).to_string()
}

/// Numbers for messages (templates pass arguments by reference).
pub trait AsI64 {
    fn as_i64(&self) -> i64;
}
macro_rules! as_i64 {
    ($($t:ty),*) => { $(impl AsI64 for $t { fn as_i64(&self) -> i64 { i64::try_from(*self).unwrap_or(i64::MAX) } })* };
}
as_i64!(u8, u16, u32, u64, usize, i32, i64);
impl<T: AsI64 + ?Sized> AsI64 for &T {
    fn as_i64(&self) -> i64 {
        (**self).as_i64()
    }
}

/// What every page knows about its request: language, large-type mode, and where it is.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub large: bool,
    /// Who is signed in (their display name), if anyone.
    pub user: Option<String>,
    /// Whether the signed-in account is staff.
    pub staff: bool,
    /// Whether it works at a general window.
    pub clerk: bool,
    /// Whether it administers the system.
    pub admin: bool,
    /// Whether it sees the dashboard (supervisors and administrators).
    pub leader: bool,
    /// Whether it works for a regulating department (审管互动).
    pub regulator: bool,
    /// Kiosk mode (a self-service terminal): big targets, back to the start after inactivity.
    pub kiosk: bool,
    /// The service point the kiosk is configured with (a valid point slug), if any.
    pub kiosk_point: Option<String>,
    /// Milliseconds of inactivity before a kiosk resets.
    pub kiosk_idle_ms: u64,
    /// The session's CSRF token for the page's forms (empty when nobody is signed in).
    pub csrf: String,
    /// The path and query of this page (for the preference links to come back to).
    pub here: String,
    /// The current path, for marking the navigation.
    pub path: String,
}

impl Ctx {
    pub fn t(&self, key: &str) -> String {
        i18n::text(self.lang, key, &[])
    }

    /// A message with a number `$n`.
    pub fn tn(&self, key: &str, n: impl AsI64) -> String {
        i18n::text_n(self.lang, key, n.as_i64())
    }

    /// A message with a text `$v`.
    pub fn tv(&self, key: &str, v: &str) -> String {
        i18n::text(self.lang, key, &[("v", v)])
    }

    /// The English or the Chinese of a catalog name (catalog data is Chinese; names have an English form).
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.lang == Lang::En && !en.is_empty() {
            en
        } else {
            zh
        }
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn other_lang_code(&self) -> &'static str {
        self.lang.other().code()
    }

    /// `aria-current` for a navigation link.
    pub fn current(&self, href: &str) -> &'static str {
        let on = if href == "/" { self.path == "/" } else { self.path.starts_with(href) };
        if on {
            "page"
        } else {
            "false"
        }
    }

    pub fn lang_switch_href(&self) -> String {
        format!("/prefs?lang={}&back={}", self.lang.other().code(), encode(&self.here))
    }

    pub fn large_switch_href(&self) -> String {
        format!("/prefs?large={}&back={}", if self.large { 0 } else { 1 }, encode(&self.here))
    }

    pub fn from_headers(headers: &HeaderMap, path: &str, query: Option<&str>) -> Ctx {
        let lang = cookie_value(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)).unwrap_or_else(|| {
            // No choice made yet: Chinese unless the browser asks for English before any Chinese.
            let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let first = accept
                .split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .find(|p| p.starts_with("zh") || p.starts_with("en"));
            match first {
                Some(p) if p.starts_with("en") => Lang::En,
                _ => Lang::Zh,
            }
        });
        let large = cookie_value(headers, LARGE_COOKIE).is_some_and(|v| v == "1");
        let here = match query {
            Some(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path.to_string(),
        };
        let kiosk = cookie_value(headers, KIOSK_COOKIE).is_some_and(|v| v == "1");
        let kiosk_point = cookie_value(headers, KIOSK_POINT_COOKIE)
            .filter(|_| kiosk)
            .filter(|v| oneseal_app::cases::valid_point_slug(v));
        Ctx {
            lang,
            large,
            here,
            path: path.to_string(),
            user: None,
            staff: false,
            clerk: false,
            admin: false,
            leader: false,
            regulator: false,
            kiosk,
            kiosk_point,
            kiosk_idle_ms: 90_000,
            csrf: String::new(),
        }
    }

    /// The signed-in actor's view of the page.
    pub fn with_principal(mut self, p: Option<&Principal>) -> Ctx {
        if let Some(p) = p {
            self.user = Some(p.actor.display_name.clone());
            self.staff = p.actor.is_staff();
            self.clerk = p.actor.has(Role::WindowClerk);
            self.admin = p.actor.has(Role::Administrator);
            self.leader = oneseal_app::dashboard::may_see_dashboard(&p.actor);
            self.regulator = p.actor.has(Role::Regulator);
            self.csrf = csrf_token(&p.token);
        }
        self
    }

    pub fn window_clerk(&self) -> bool {
        self.clerk
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }

    /// The sign-in link that comes back here.
    pub fn sign_in_href(&self) -> String {
        format!("/signin?next={}", encode(&self.here))
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Ctx, Self::Rejection> {
        let principal = parts.extensions.get::<Principal>().cloned();
        let mut ctx =
            Ctx::from_headers(&parts.headers, parts.uri.path(), parts.uri.query()).with_principal(principal.as_ref());
        ctx.kiosk_idle_ms = s.kiosk_idle_secs * 1000;
        Ok(ctx)
    }
}

/// The signed-in principal of a page that needs one (the policy has already refused anonymous requests).
pub struct Signed(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Signed, Self::Rejection> {
        match parts.extensions.get::<Principal>().cloned() {
            Some(p) => Ok(Signed(p)),
            None => Err(Redirect::to(&format!("/signin?next={}", encode(parts.uri.path()))).into_response()),
        }
    }
}

/// Check a page form's `_csrf` field against the session (the policy checked the request's origin already).
pub fn csrf_ok(p: &Principal, sent: &str) -> bool {
    let want = csrf_token(&p.token);
    want.len() == sent.len() && want.bytes().zip(sent.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Anonymous on a page that needs a sign-in: go and sign in, then come back.
pub fn sign_in_redirect(req: &axum::extract::Request) -> Response {
    let here = match req.uri().query() {
        Some(q) if req.method() == axum::http::Method::GET => format!("{}?{q}", req.uri().path()),
        _ => req.uri().path().to_string(),
    };
    Redirect::to(&format!("/signin?next={}", encode(&here))).into_response()
}

/// The HTML "forbidden" page.
pub fn forbidden(headers: &HeaderMap, path: &str) -> Response {
    let ctx = Ctx::from_headers(headers, path, None);
    let p = ErrorPage { heading: ctx.t("error-forbidden"), detail: ctx.t("error-forbidden-detail"), ctx: ctx.clone() };
    page(StatusCode::FORBIDDEN, &ctx, &p)
}

/// Percent-encode a path for a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A rendered page with the security headers every page carries.
pub fn page(status: StatusCode, ctx: &Ctx, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => {
            let mut r = (status, html).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                     connect-src 'self'; manifest-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                ),
            );
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(v) = HeaderValue::from_str(ctx.lang.code()) {
                h.insert(header::CONTENT_LANGUAGE, v);
            }
            h.insert(header::VARY, HeaderValue::from_static("Cookie, Accept-Language"));
            r
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, ctx.t("error-internal")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    heading: String,
    detail: String,
}

/// An HTML page saying the service is unavailable for now (a storage failure; details only in the log).
pub fn unavailable(ctx: &Ctx) -> Response {
    let p = ErrorPage { heading: ctx.t("error-title"), detail: ctx.t("error-unavailable"), ctx: ctx.clone() };
    page(StatusCode::SERVICE_UNAVAILABLE, ctx, &p)
}

/// The page for an error of the application: not found and forbidden as such, a refusal with its Chinese title
/// and detail, and a storage or internal failure as "unavailable" (the details go to the log, never to the page).
/// Page handlers use this instead of rendering an empty page with 200 when a read fails.
pub fn error_page(ctx: &Ctx, e: oneseal_app::AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        eprintln!("page {}: {e:?}", ctx.here);
        return unavailable(ctx);
    }
    let (heading, detail) = match status {
        StatusCode::NOT_FOUND => (ctx.t("error-not-found"), ctx.t("error-not-found-detail")),
        StatusCode::FORBIDDEN => (ctx.t("error-forbidden"), ctx.t("error-forbidden-detail")),
        _ => (e.title_zh().to_string(), e.to_string()),
    };
    let p = ErrorPage { heading, detail, ctx: ctx.clone() };
    page(status, ctx, &p)
}

/// The HTML "not found" page (the API keeps problem+json).
pub fn not_found(headers: &HeaderMap, path: &str) -> Response {
    let ctx = Ctx::from_headers(headers, path, None);
    let p = ErrorPage { heading: ctx.t("error-not-found"), detail: ctx.t("error-not-found-detail"), ctx: ctx.clone() };
    page(StatusCode::NOT_FOUND, &ctx, &p)
}

/// A same-origin path to redirect to, or None. The target is parsed the way a browser parses it (WHATWG URL,
/// which drops tabs and newlines and reads `\` as `/`) against a placeholder origin, and accepted only if it stays
/// on that origin; what is returned is the parsed path and query, never the raw input.
pub fn local_path(target: &str) -> Option<String> {
    if !target.starts_with('/') || target.len() > 500 || target.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let base = url::Url::parse("http://oneseal.invalid/").ok()?;
    let u = base.join(target).ok()?;
    if u.origin() != base.origin() || !u.username().is_empty() || u.password().is_some() {
        return None;
    }
    let mut out = u.path().to_string();
    if let Some(q) = u.query() {
        out.push('?');
        out.push_str(q);
    }
    (out.starts_with('/') && !out.starts_with("//")).then_some(out)
}

#[derive(Deserialize)]
struct PrefsQuery {
    lang: Option<String>,
    large: Option<String>,
    back: Option<String>,
}

/// Set a preference cookie and go back. `back` must be a local path (no open redirect).
async fn prefs(State(s): State<AppState>, Query(q): Query<PrefsQuery>) -> Response {
    let back = q.back.as_deref().and_then(local_path).unwrap_or_else(|| "/".into());
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let mut cookies = Vec::new();
    if let Some(l) = q.lang.as_deref().and_then(Lang::parse) {
        cookies.push(format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}", l.code()));
    }
    if let Some(v) = q.large.as_deref().filter(|v| *v == "0" || *v == "1") {
        cookies.push(format!("{LARGE_COOKIE}={v}; Path=/; Max-Age=31536000; SameSite=Lax{secure}"));
    }
    let mut r = Redirect::to(&back).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_targets_stay_on_this_origin() {
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https://evil.example/",
            "http:evil.example",
            "javascript:alert(1)",
            "/\u{0}/evil.example",
            "//@evil.example",
            "",
            "me",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_path("/me"), Some("/me".into()));
        assert_eq!(local_path("/verify?id=1.2"), Some("/verify?id=1.2".into()));
        assert_eq!(local_path("/a/../b"), Some("/b".into()), "normalised as the browser will");
        assert_eq!(
            local_path("/%2F%2Fevil.example"),
            Some("/%2F%2Fevil.example".into()),
            "encoded slashes stay a path"
        );
    }

    /// Every `t("…")` key a template uses exists, and no template shows text that is not translated: outside
    /// tags and template expressions there are no letters, and attributes people read (alt, title, placeholder,
    /// aria-label) take their text from the message files.
    #[test]
    fn templates_use_only_translated_text() {
        let keys = i18n::keys(i18n::ZH_FTL);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("templates dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("template");
            let name = path.display().to_string();
            // Keys used.
            for call in [".t(\"", ".tn(\"", ".tv(\""] {
                for (i, _) in text.match_indices(call) {
                    let rest = &text[i + call.len()..];
                    let key = &rest[..rest.find('"').expect("closing quote")];
                    assert!(keys.iter().any(|k| k == key), "{name}: message {key} is not in the .ftl files");
                }
            }
            // Literal text.
            let mut stripped = String::new();
            let mut rest = text.as_str();
            while let Some(start) = rest.find(['{', '<']) {
                stripped.push_str(&rest[..start]);
                let close = match &rest[start..start + 2.min(rest.len() - start)] {
                    "{{" => "}}",
                    "{%" => "%}",
                    "{#" => "#}",
                    s if s.starts_with('<') => ">",
                    _ => {
                        stripped.push('{');
                        rest = &rest[start + 1..];
                        continue;
                    }
                };
                let tag = &rest[start..];
                let end = tag.find(close).map(|e| e + close.len()).unwrap_or(tag.len());
                if close == ">" {
                    for attr in ["alt=\"", "title=\"", "placeholder=\"", "aria-label=\""] {
                        if let Some(a) = tag[..end].find(attr) {
                            let v = &tag[a + attr.len()..end];
                            let v = &v[..v.find('"').unwrap_or(v.len())];
                            assert!(
                                v.is_empty() || v.contains("{{"),
                                "{name}: attribute {attr}{v}\" is not translated"
                            );
                        }
                    }
                }
                rest = &tag[end..];
            }
            stripped.push_str(rest);
            let literal: String = stripped.chars().filter(|c| c.is_alphabetic()).collect();
            assert!(literal.is_empty() || literal == "OneSeal", "{name}: untranslated text {literal:?}");
            checked += 1;
        }
        assert!(checked >= 3, "templates found: {checked}");
    }

    #[test]
    fn preference_links_come_back_to_the_page() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-GB,en;q=0.9,zh;q=0.5"));
        let ctx = Ctx::from_headers(&h, "/verify", Some("id=1.2"));
        assert_eq!(ctx.lang, Lang::En, "English first in Accept-Language");
        assert_eq!(ctx.lang_switch_href(), "/prefs?lang=zh-CN&back=/verify%3Fid%3D1.2");
        h.insert(header::COOKIE, HeaderValue::from_static("oneseal_lang=zh-CN; oneseal_large=1"));
        let ctx = Ctx::from_headers(&h, "/", None);
        assert_eq!((ctx.lang, ctx.large), (Lang::Zh, true), "the cookie wins over the browser");
        assert_eq!(ctx.large_switch_href(), "/prefs?large=0&back=/");
        assert_eq!(Ctx::from_headers(&HeaderMap::new(), "/", None).lang, Lang::Zh, "Chinese by default");
    }
}
