//! Extractors that turn every malformed request into a problem+json answer that names the problem: bad JSON,
//! wrong types, unknown fields, oversized bodies, bad query strings, missing or invalid credentials.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use oneseal_domain::roles::Actor;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, Problem};
use crate::AppState;

/// JSON body with problem+json rejections.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(ApiError(json_problem(rej))),
        }
    }
}

pub fn json_problem(rej: JsonRejection) -> Problem {
    match rej {
        JsonRejection::JsonDataError(e) => {
            Problem::unprocessable("invalid_body", format!("the JSON does not fit: {}", inner(&e.body_text())))
        }
        JsonRejection::JsonSyntaxError(e) => {
            Problem::bad_request("malformed_json", format!("malformed JSON: {}", inner(&e.body_text())))
        }
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "请使用 JSON 格式",
            "send Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) => {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    413,
                    "payload_too_large",
                    "Payload too large",
                    "请求内容过大",
                    format!("the body is larger than {} bytes", crate::BODY_LIMIT),
                )
            } else {
                Problem::bad_request("unreadable_body", e.body_text())
            }
        }
        other => Problem::bad_request("invalid_body", other.body_text()),
    }
}

fn inner(s: &str) -> String {
    // axum prefixes its own words; keep serde's message, which names the field and position.
    s.split_once(": ").map(|(_, r)| r.to_string()).unwrap_or_else(|| s.to_string())
}

/// Query string with problem+json rejections.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError(query_problem(e))),
        }
    }
}

fn query_problem(e: QueryRejection) -> Problem {
    Problem::bad_request("invalid_query", format!("invalid query string: {}", inner(&e.body_text())))
}

/// The signed-in actor (bearer token). Missing or invalid credentials give 401.
pub struct Authed(pub Actor, pub String);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The policy middleware has already authenticated the request.
        if let Some(p) = parts.extensions.get::<crate::policy::Principal>() {
            return Ok(Authed(p.actor.clone(), p.token.clone()));
        }
        let token = bearer(parts).ok_or_else(|| ApiError(oneseal_app::AppError::Unauthenticated.into()))?;
        let actor = state.app.authenticate(&token).await?;
        Ok(Authed(actor, token))
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let h = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let t = h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))?.trim();
    if t.is_empty() || t.len() > 200 {
        None
    } else {
        Some(t.to_string())
    }
}

/// Path parameters with problem+json rejections (e.g. invalid UTF-8 in a parameter).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError(Problem::bad_request(
                "invalid_path",
                format!("invalid address: {}", inner(&e.body_text())),
            ))),
        }
    }
}

/// A case number from a path, query or body, exactly as given. Anything else is answered as an unknown case would
/// be (404 `not_found`), as before case numbers were parsed at the edge.
pub fn parse_case_no(s: &str) -> Result<oneseal_domain::ids::CaseNo, oneseal_app::AppError> {
    exact(s).ok_or_else(|| oneseal_app::AppError::NotFound(format!("case {s}")))
}

/// [`parse_case_no`] for tickets: a malformed ticket number is an unknown ticket (404 `not_found`).
pub fn parse_ticket_no(s: &str) -> Result<oneseal_domain::ids::TicketNo, oneseal_app::AppError> {
    exact(s).ok_or_else(|| oneseal_app::AppError::NotFound(format!("ticket {s}")))
}

/// [`parse_case_no`] for licence identifiers (`1.2.156.3005.2.…`, stored in their formatted form): one that does
/// not parse, or is not written exactly as formatted, is an unknown licence (404 `not_found`).
pub fn parse_license_id(s: &str) -> Result<oneseal_domain::license::LicenseIdentifier, oneseal_app::AppError> {
    oneseal_domain::license::LicenseIdentifier::parse(s)
        .ok()
        .filter(|id| id.to_string() == s)
        .ok_or_else(|| oneseal_app::AppError::NotFound(format!("licence {s}")))
}

/// [`parse_case_no`] for usernames in an address: a malformed one is an unknown account (404 `not_found`).
pub fn parse_username(s: &str) -> Result<oneseal_domain::ids::Username, oneseal_app::AppError> {
    exact(s).ok_or_else(|| oneseal_app::AppError::NotFound(format!("account {s}")))
}

/// An identifier that parses and is written exactly as given (parsing trims; an address with spaces did not
/// find anything before and still does not).
pub fn exact<T: std::str::FromStr + AsRef<str>>(s: &str) -> Option<T> {
    s.parse::<T>().ok().filter(|v| v.as_ref() == s)
}

/// [`parse_case_no`] for handlers of the API.
pub fn case_no(s: &str) -> Result<oneseal_domain::ids::CaseNo, ApiError> {
    parse_case_no(s).map_err(ApiError::from)
}
