//! Sessions, API tokens, the second factor, registration, persons and organisations, agents, single sign-on.

use super::*;

// ---- sessions ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginBody {
    pub(super) username: String,
    pub(super) password: String,
    /// The authenticator code, for accounts with a second factor.
    #[serde(default)]
    pub(super) totp: Option<String>,
}

pub(super) async fn login(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LoginBody>,
) -> Res {
    if b.username.len() > 100 || b.password.len() > 200 {
        return Err(Problem::unprocessable("invalid_credentials_format", "username or password too long").into());
    }
    let addr = peer.ip().to_string();
    let sess = s.app.login(&b.username, &b.password, b.totp.as_deref(), Some(&addr)).await.map_err(|e| match e {
        AppError::Unauthenticated => ApiError(Problem::new(
            401,
            "bad_credentials",
            "Unauthenticated",
            "用户名或密码错误",
            "wrong username or password",
        )),
        other => other.into(),
    })?;
    // Rotation: a session the browser already had ends with this sign-in; the new one gets a fresh cookie.
    if let Some(old) = crate::policy::cookie_value(&headers, crate::policy::SESSION_COOKIE) {
        let _ = s.app.logout(&old).await;
    }
    Ok(session_answer(&s, sess))
}

/// The answer to a sign-in: the token, its CSRF token, and the session cookie.
pub(super) fn session_answer(s: &AppState, sess: oneseal_app::auth::Session) -> Response {
    let csrf = crate::policy::csrf_token(&sess.token);
    let mut r = (
        StatusCode::CREATED,
        Json(json!({ "token": sess.token, "csrf_token": csrf, "expires_in": SESSION_HOURS * 3600, "actor": sess.actor, "limited": sess.limited })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&crate::policy::session_set_cookie(s.secure_cookies, &sess.token)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub(super) async fn logout(State(s): State<AppState>, Authed(_, token): Authed) -> Res {
    s.app.logout(&token).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(crate::policy::SESSION_CLEAR_COOKIE));
    Ok(r)
}

pub(super) async fn me(Authed(actor, _): Authed) -> Res {
    Ok(Json(actor).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenBody {
    pub(super) name: String,
    pub(super) scopes: Vec<String>,
    #[serde(default = "thirty")]
    pub(super) expires_in_days: u32,
}

pub(super) fn thirty() -> u32 {
    30
}

pub(super) fn token_json(t: &oneseal_app::rows::ApiTokenRow) -> Value {
    json!({ "id": t.id, "name": t.name, "scopes": t.scopes.split(',').collect::<Vec<_>>(), "created_at_ms": t.created_at_ms, "expires_at_ms": t.expires_at_ms, "revoked_at_ms": t.revoked_at_ms })
}

/// Issue an API token for a machine client; the secret is shown once.
pub(super) async fn issue_token(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<TokenBody>,
) -> Res {
    let (token, row) = s.app.issue_api_token(&actor, &b.name, &b.scopes, b.expires_in_days).await?;
    let mut v = token_json(&row);
    v["token"] = json!(token);
    let mut r = (StatusCode::CREATED, Json(v)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

pub(super) async fn list_tokens(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.api_tokens(&actor).await?;
    Ok(Json(json!({ "tokens": list.iter().map(token_json).collect::<Vec<_>>() })).into_response())
}

pub(super) async fn revoke_token(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
) -> Res {
    s.app.revoke_api_token(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Start enrolling an authenticator app: the secret and its otpauth URI, shown once.
pub(super) async fn enrol_totp(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let (secret, uri) = s.app.enrol_totp(&actor).await?;
    let mut r = Json(json!({ "secret": secret, "otpauth_uri": uri })).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CodeBody {
    pub(super) code: String,
}

/// Confirm the enrolment with a current code; every session of the account ends, sign in again with a code.
pub(super) async fn confirm_totp(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<CodeBody>,
) -> Res {
    s.app.confirm_totp(&actor, &b.code).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegisterBody {
    pub(super) username: String,
    pub(super) password: String,
    pub(super) name: String,
    pub(super) resident_id: String,
    #[serde(default)]
    pub(super) phone: Option<String>,
}

/// Register a natural person (applicant); the ID number and phone are sealed at once.
pub(super) async fn register(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(b): ApiJson<RegisterBody>,
) -> Res {
    let addr = peer.ip().to_string();
    let v = s
        .app
        .register_person(&b.username, &b.password, &b.name, &b.resident_id, b.phone.as_deref(), Some(&addr))
        .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub(super) async fn my_profile(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let p = s.app.my_profile(&actor).await?.ok_or_else(|| Problem::not_found("no person profile for this account"))?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OrganisationBody {
    pub(super) uscc: String,
    pub(super) name: String,
    pub(super) legal_representative_id: String,
}

pub(super) async fn register_organisation(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<OrganisationBody>,
) -> Res {
    let o = s.app.register_organisation(&actor, &b.uscc, &b.name, &b.legal_representative_id).await?;
    // Verified against a business licence: created. Otherwise the claim waits for a window clerk: accepted.
    let status = if o.status == "verified" { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, Json(organisation_json(&o))).into_response())
}

pub(super) fn organisation_json(o: &oneseal_app::rows::OrganisationRow) -> Value {
    json!({
        "uscc": o.uscc, "name": o.name, "legal_representative": o.legal_representative,
        "status": o.status, "verified_by": o.verified_by,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerificationBody {
    pub(super) documents: String,
    #[serde(default)]
    pub(super) legal_representative: Option<String>,
}

pub(super) async fn verify_organisation(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(uscc): ApiPath<String>,
    ApiJson(b): ApiJson<VerificationBody>,
) -> Res {
    let o = s.app.verify_organisation(&actor, &uscc, b.legal_representative.as_deref(), &b.documents).await?;
    Ok(Json(organisation_json(&o)).into_response())
}

pub(super) async fn pending_organisations(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.pending_organisations(&actor).await?;
    Ok(Json(json!({ "items": list.iter().map(organisation_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentBody {
    pub(super) agent: String,
    pub(super) scope: Vec<String>,
    #[serde(default = "year")]
    pub(super) days: u32,
}

pub(super) fn year() -> u32 {
    365
}

pub(super) async fn authorise_agent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(uscc): ApiPath<String>,
    ApiJson(b): ApiJson<AgentBody>,
) -> Res {
    s.app.authorise_agent(&actor, &uscc, &b.agent, &b.scope, b.days).await?;
    Ok((StatusCode::CREATED, Json(json!({ "uscc": uscc, "agent": b.agent, "scope": b.scope, "days": b.days })))
        .into_response())
}

pub(super) async fn revoke_agent(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((uscc, username)): ApiPath<(String, String)>,
) -> Res {
    s.app.revoke_agent(&actor, &uscc, &username).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) fn oidc_of(s: &AppState) -> Result<std::sync::Arc<crate::oidc::Oidc>, ApiError> {
    s.oidc.clone().ok_or_else(|| Problem::not_found("single sign-on is not configured on this server").into())
}

pub(super) fn oidc_problem(e: crate::oidc::OidcError) -> ApiError {
    let (title, zh) = match e.0 {
        400 => ("Bad request", "登录请求无效或已过期，请重新登录"),
        401 => ("Unauthenticated", "统一身份认证未通过"),
        503 => ("Service unavailable", "登录人数过多，请稍后再试"),
        _ => ("Bad gateway", "统一身份认证服务暂不可用"),
    };
    ApiError(Problem::new(e.0, "sso_failed", title, zh, e.1))
}

/// Start staff single sign-on: redirect to the identity provider.
pub(super) async fn oidc_login(State(s): State<AppState>) -> Res {
    let o = oidc_of(&s)?;
    let now = oneseal_app::ms(s.app.now());
    let started = tokio::task::spawn_blocking(move || o.start(now))
        .await
        .map_err(|e| Problem::new(500, "internal", "Internal error", "系统内部错误", e.to_string()))?
        .map_err(oidc_problem)?;
    let body = serde_json::to_string(&started.pending).map_err(|e| AppError::Internal(e.to_string()))?;
    if !s.app.oidc_pending_put(started.state, body, crate::oidc::MAX_PENDING).await? {
        return Err(oidc_problem(crate::oidc::OidcError(
            503,
            "too many sign-ins are in progress; try again in a few minutes".into(),
        )));
    }
    let (url, binding) = (started.url, started.binding);
    let mut r = StatusCode::SEE_OTHER.into_response();
    let loc = HeaderValue::from_str(&url).map_err(|_| {
        Problem::new(502, "sso_failed", "Bad gateway", "统一身份认证服务暂不可用", "bad authorization URL")
    })?;
    r.headers_mut().insert(header::LOCATION, loc);
    // The sign-in is bound to this browser: the callback must come with this cookie.
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{}={binding}; Path=/api/v1/oidc; HttpOnly; SameSite=Lax; Max-Age=600{secure}",
        crate::oidc::BINDING_COOKIE
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    pub(super) code: Option<String>,
    pub(super) state: Option<String>,
    pub(super) error: Option<String>,
}

/// The identity provider returns here: verify, and open a session for the staff account the ID token names.
pub(super) async fn oidc_callback(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> Res {
    let o = oidc_of(&s)?;
    let binding = crate::policy::cookie_value(&headers, crate::oidc::BINDING_COOKIE);
    if let Some(e) = q.error {
        return Err(ApiError(Problem::new(
            401,
            "sso_failed",
            "Unauthenticated",
            "统一身份认证未通过",
            format!("the identity provider answered {e}"),
        )));
    }
    let (code, state) = match (q.code, q.state) {
        (Some(c), Some(st)) if c.len() <= 2000 && st.len() <= 200 => (c, st),
        _ => return Err(Problem::bad_request("sso_failed", "code and state are required").into()),
    };
    let now = oneseal_app::ms(s.app.now());
    // Taken once, whichever node the browser came back to.
    let pending: crate::oidc::Pending = match s.app.oidc_pending_take(state).await? {
        Some((body, _)) => serde_json::from_str(&body).map_err(|e| AppError::Internal(e.to_string()))?,
        None => return Err(oidc_problem(crate::oidc::OidcError(400, "unknown or used sign-in state".into()))),
    };
    let who = tokio::task::spawn_blocking(move || o.finish(&code, &pending, binding.as_deref(), now))
        .await
        .map_err(|e| Problem::new(500, "internal", "Internal error", "系统内部错误", e.to_string()))?
        .map_err(oidc_problem)?;
    let sess = s.app.login_external(&who.issuer, &who.subject, &who.name_hint).await.map_err(|e| match e {
        AppError::Unauthenticated => ApiError(Problem::new(
            401,
            "sso_failed",
            "Unauthenticated",
            "统一身份认证未通过",
            "no active staff account for this identity",
        )),
        other => other.into(),
    })?;
    Ok(session_answer(&s, sess))
}
