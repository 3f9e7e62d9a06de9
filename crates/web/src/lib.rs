//! The HTTP edge: the JSON API under /api/v1 (described by openapi.json), the API docs page and its vendored
//! assets. Handlers are a few lines: extract, call the application service, map the answer.
//!
//! Architecture invariant: a route exists only if it is declared — with its access rule — through
//! [`routes::Routes`]; the router, the policy and the OpenAPI document's access fields are built from the
//! declarations ([`declared_routes`]), and a test checks the document lists exactly the declared API routes.

pub mod api;
pub mod extract;
mod hall_api;
mod hotline_api;
mod liaison_api;
pub mod limits;
pub mod metrics;
pub mod oidc;
mod open311;
pub mod pages;
pub mod policy;
pub mod problem;
pub mod routes;

use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use oneseal_app::App;

use oneseal_domain::roles::Role;
use policy::Access;
use problem::Problem;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Shared state of the handlers: a handle, cloned for every request and middleware (one reference count).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<StateInner>);

impl std::ops::Deref for AppState {
    type Target = StateInner;

    fn deref(&self) -> &StateInner {
        &self.0
    }
}

/// What an [`AppState`] handle shares.
pub struct StateInner {
    pub app: App,
    /// Mark cookies `Secure` (the site is served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Staff single sign-on, when configured.
    pub oidc: Option<std::sync::Arc<oidc::Oidc>>,
    /// Seconds of inactivity after which a kiosk goes back to its start page (`ONESEAL_KIOSK_IDLE_SECONDS`).
    pub kiosk_idle_secs: u64,
    /// Request metrics of this node (`/metrics`).
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// Rendered blank and sample application forms, by item, version, kind and language: a form is rendered
    /// once per version, not once per download.
    pub form_pdfs: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Vec<u8>>>>>,
    /// Requests anonymous callers may make to the costly public routes (per address).
    pub anonymous: std::sync::Arc<limits::AnonymousLimiter>,
    /// The access rule of every declared route.
    pub policy: std::sync::Arc<routes::Policy>,
    /// Open connections to the hall's live feed per address, and the cap (`ONESEAL_HALL_EVENTS_PER_ADDRESS`).
    pub feeds: std::sync::Arc<limits::FeedConnections>,
    pub hall_events_per_address: u32,
    /// The hall's own devices (kiosks, screens): neither capped nor limited (`ONESEAL_HALL_DEVICES`).
    pub hall_devices: Vec<oneseal_app::egress::Cidr>,
}

/// The web edge's own settings (read with the rest of the configuration by the binary).
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Mark cookies `Secure` (the site is served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Seconds of inactivity after which a kiosk goes back to its start page.
    pub kiosk_idle_secs: u64,
    /// Staff single sign-on, when configured.
    pub oidc: Option<oidc::OidcConfig>,
    /// Connections to `/hall/{point}/events` one client address may hold open on a node (0: no cap).
    pub hall_events_per_address: u32,
    /// Addresses of the hall's own devices (kiosks, hall and window screens): exempt from that cap and from the
    /// anonymous bucket when taking numbers.
    pub hall_devices: Vec<oneseal_app::egress::Cidr>,
}

/// The default cap on live-feed connections per address: a hall's screens behind one address are listed in
/// `ONESEAL_HALL_DEVICES` instead; a person has a phone or two.
pub const HALL_EVENTS_PER_ADDRESS: u32 = 20;

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            secure_cookies: false,
            kiosk_idle_secs: 90,
            oidc: None,
            hall_events_per_address: HALL_EVENTS_PER_ADDRESS,
            hall_devices: Vec::new(),
        }
    }
}

/// The whole HTTP application with default settings.
pub fn router(app: App) -> Router {
    router_with(app, WebSettings::default())
}

/// Every declared route of the server: the API, the pages, and the rest. Tests read it; the router and the policy
/// are built from it.
pub fn declared_routes() -> routes::Routes {
    api::routes().merge(hall_api::routes()).merge(pages::routes()).merge(open311::routes()).merge(
        routes::Routes::other()
            .get("/healthz", Access::Public, || async { "ok" })
            .get("/metrics", Access::Roles(&[Role::Supervisor, Role::Administrator]), metrics::metrics)
            .get("/.well-known/oneseal/keys", Access::Public, api::published_keys)
            .get("/api/docs", Access::Public, || async { asset("text/html; charset=utf-8", API_DOCS_HTML) })
            .get("/assets/api-docs.js", Access::Public, || async {
                asset("text/javascript; charset=utf-8", API_DOCS_JS)
            })
            .get("/assets/vendor/swagger-ui/swagger-ui.css", Access::Public, || async {
                asset("text/css; charset=utf-8", SWAGGER_CSS)
            })
            .get("/assets/vendor/swagger-ui/swagger-ui-bundle.js", Access::Public, || async {
                asset("text/javascript; charset=utf-8", SWAGGER_JS)
            }),
    )
}

/// The application with explicit settings (tests, and `serve`).
pub fn router_with(app: App, settings: WebSettings) -> Router {
    let WebSettings { secure_cookies, kiosk_idle_secs, oidc, hall_events_per_address, hall_devices } = settings;
    let (router, policy) = declared_routes().into_parts();
    let state = AppState(std::sync::Arc::new(StateInner {
        app,
        secure_cookies,
        oidc: oidc.map(oidc::Oidc::new),
        kiosk_idle_secs,
        metrics: std::sync::Arc::default(),
        form_pdfs: std::sync::Arc::default(),
        anonymous: std::sync::Arc::default(),
        policy: std::sync::Arc::new(policy),
        feeds: std::sync::Arc::default(),
        hall_events_per_address,
        hall_devices,
    }));
    router
        .fallback(|uri: axum::http::Uri, headers: axum::http::HeaderMap| async move {
            // People get a page in their language; programs (the API, or anyone not asking for HTML) problem+json.
            let wants_html =
                headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
            if wants_html && !uri.path().starts_with("/api/") {
                pages::not_found(&headers, uri.path())
            } else {
                Problem::new(404, "no_route", "Not found", "未找到", "no such address").into_response()
            }
        })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), policy::enforce))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            Problem::new(500, "internal", "Internal error", "系统内部错误", "an internal error occurred")
                .into_response()
        }))
        .with_state(state)
}

const API_DOCS_HTML: &[u8] = include_bytes!("../../../assets/api-docs.html");
const API_DOCS_JS: &[u8] = include_bytes!("../../../assets/api-docs.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../../assets/vendor/swagger-ui/swagger-ui.css");
const SWAGGER_JS: &[u8] = include_bytes!("../../../assets/vendor/swagger-ui/swagger-ui-bundle.js");

fn asset(ct: &'static str, body: &'static [u8]) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'",
        ),
    );
    r
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(router(app), listener, shutdown).await
}

/// Serve a router built with [`router_with`].
pub async fn serve_router(
    router: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
