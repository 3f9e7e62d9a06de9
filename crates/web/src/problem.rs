//! RFC 9457 problem+json: the one error shape of the API, with a stable `code`, a Chinese title for people,
//! the English detail, and field errors for validation.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oneseal_app::AppError;
use oneseal_domain::form::FieldError;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub title_zh: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: u16, code: &str, title: &str, title_zh: &str, detail: impl Into<String>) -> Problem {
        Problem {
            type_uri: format!("https://oneseal.example/problems/{code}"),
            title: title.into(),
            title_zh: title_zh.into(),
            status,
            detail: detail.into(),
            code: code.into(),
            errors: vec![],
            retry_after: None,
        }
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Problem {
        Problem::new(400, code, "Bad request", "请求格式有误", detail)
    }

    pub fn unprocessable(code: &str, detail: impl Into<String>) -> Problem {
        Problem::new(422, code, "Invalid request", "请求内容有误", detail)
    }

    /// 405: this address does not take this method (also what an undeclared route answers).
    pub fn method_not_allowed() -> Problem {
        Problem::new(
            405,
            "method_not_allowed",
            "Method not allowed",
            "不支持该请求方法",
            "this address does not take this method",
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(404, "not_found", "Not found", "未找到", detail)
    }
}

fn title_en(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Unauthenticated",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload too large",
        415 => "Unsupported media type",
        422 => "Invalid request",
        429 => "Too many requests",
        _ => "Internal error",
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        let status = e.status();
        let detail = if status >= 500 {
            // Internals are logged, never sent.
            eprintln!("internal error: {e:?}");
            "an internal error occurred; it has been logged".to_string()
        } else {
            e.to_string()
        };
        let mut p = Problem::new(status, e.code(), title_en(status), e.title_zh(), detail);
        p.errors = e.fields();
        p.retry_after = e.retry_after();
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

/// The error type of every handler.
pub struct ApiError(pub Problem);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError(e.into())
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> ApiError {
        ApiError(p)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}
