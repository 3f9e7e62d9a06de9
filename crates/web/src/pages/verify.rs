//! `/verify`: anyone checks a licence without signing in — paste the QR text, type the identifier, or upload
//! the PDF. `/v/{identifier}` is the short URL form printed on licences; it opens this page on the identifier.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use oneseal_app::licensing::Verification;
use oneseal_app::AppError;
use serde::Deserialize;
use serde_json::Value;

use super::{encode, page, Ctx};
use crate::AppState;

/// Largest PDF accepted (licence PDFs are ~35 KB).
const PDF_LIMIT: usize = 256 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/verify", get(show).post(check))
        .route("/verify/pdf", post(check_pdf).layer(axum::extract::DefaultBodyLimit::max(PDF_LIMIT + 16 * 1024)))
        .route("/v/{identifier}", get(short_url))
}

/// One line of the public record.
pub struct Row {
    pub label: String,
    pub value: String,
}

/// The verdict as shown.
pub struct VerdictView {
    pub status: &'static str,
    pub message: String,
    pub rows: Vec<Row>,
    pub details: Vec<Row>,
    pub superseded_by: Option<String>,
    pub good: bool,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    ctx: Ctx,
    input: String,
    error: Option<String>,
    pdf_error: Option<String>,
    verdict: Option<VerdictView>,
}

impl VerifyPage {
    fn new(ctx: &Ctx) -> VerifyPage {
        VerifyPage { ctx: ctx.clone(), input: String::new(), error: None, pdf_error: None, verdict: None }
    }
}

#[derive(Deserialize)]
struct IdQuery {
    id: Option<String>,
}

async fn show(State(s): State<AppState>, ctx: Ctx, Query(q): Query<IdQuery>) -> Response {
    match q.id.filter(|i| !i.trim().is_empty()) {
        Some(id) => run(&s, &ctx, id).await,
        None => page(StatusCode::OK, &ctx, &VerifyPage::new(&ctx)),
    }
}

#[derive(Deserialize)]
struct VerifyForm {
    #[serde(default)]
    input: String,
}

async fn check(
    State(s): State<AppState>,
    ctx: Ctx,
    form: Result<Form<VerifyForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let input = form.map(|f| f.0.input).unwrap_or_default();
    run(&s, &ctx, input).await
}

async fn run(s: &AppState, ctx: &Ctx, input: String) -> Response {
    let mut p = VerifyPage::new(ctx);
    let trimmed = input.trim().to_string();
    p.input = input;
    if trimmed.is_empty() {
        p.error = Some(ctx.t("error-input-required"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &p);
    }
    if trimmed.len() > 4000 {
        p.input = String::new();
        p.error = Some(ctx.t("error-input-too-long"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &p);
    }
    match s.app.verify_license(&trimmed).await {
        Ok(v) => {
            p.verdict = Some(view(s, ctx, &v));
            page(StatusCode::OK, ctx, &p)
        }
        Err(AppError::Invalid { .. }) => {
            p.error = Some(ctx.t("error-invalid-identifier"));
            page(StatusCode::UNPROCESSABLE_ENTITY, ctx, &p)
        }
        Err(_) => {
            p.error = Some(ctx.t("error-internal"));
            page(StatusCode::SERVICE_UNAVAILABLE, ctx, &p)
        }
    }
}

async fn check_pdf(
    State(s): State<AppState>,
    ctx: Ctx,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut p = VerifyPage::new(&ctx);
    let fail = |mut p: VerifyPage, status: StatusCode, key: &str| {
        p.pdf_error = Some(ctx.t(key));
        page(status, &ctx, &p)
    };
    let Ok(mut multipart) = multipart else {
        return fail(p, StatusCode::UNPROCESSABLE_ENTITY, "error-pdf-required");
    };
    let mut bytes = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("pdf") => match field.bytes().await {
                Ok(b) => bytes = Some(b),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return fail(p, StatusCode::PAYLOAD_TOO_LARGE, "error-pdf-too-large")
                }
                Err(_) => return fail(p, StatusCode::UNPROCESSABLE_ENTITY, "error-pdf-required"),
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return fail(p, StatusCode::PAYLOAD_TOO_LARGE, "error-pdf-too-large")
            }
            Err(_) => return fail(p, StatusCode::UNPROCESSABLE_ENTITY, "error-pdf-required"),
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return fail(p, StatusCode::UNPROCESSABLE_ENTITY, "error-pdf-required");
    };
    if bytes.len() > PDF_LIMIT {
        return fail(p, StatusCode::PAYLOAD_TOO_LARGE, "error-pdf-too-large");
    }
    match s.app.verify_license_pdf(&bytes).await {
        Ok(v) => {
            p.verdict = Some(view(&s, &ctx, &v));
            page(StatusCode::OK, &ctx, &p)
        }
        Err(AppError::Invalid { code, .. }) if code == "not_a_pdf" => {
            fail(p, StatusCode::UNPROCESSABLE_ENTITY, "error-not-a-pdf")
        }
        Err(AppError::Invalid { .. }) => fail(p, StatusCode::UNPROCESSABLE_ENTITY, "error-pdf-without-license"),
        Err(_) => fail(p, StatusCode::SERVICE_UNAVAILABLE, "error-internal"),
    }
}

async fn short_url(axum::extract::Path(identifier): axum::extract::Path<String>) -> Response {
    Redirect::to(&format!("/verify?id={}", encode(&identifier))).into_response()
}

/// Keys of a licence type's fields that the general rows already show.
const SHOWN: &[&str] = &["license_no", "holder", "holder_code", "issuer", "issue_date", "valid_to"];

fn view(s: &AppState, ctx: &Ctx, v: &Verification) -> VerdictView {
    let en = ctx.lang == super::Lang::En;
    let public = v.public.clone().unwrap_or(Value::Null);
    let text = |k: &str| public[k].as_str().map(str::to_string);
    let mut rows = Vec::new();
    for key in ["license_name", "number", "holder", "holder_code", "issuer", "issued", "valid_to", "identifier"] {
        let value = match (key, text(key)) {
            ("valid_to", None) if !public.is_null() => Some(ctx.t("verify-permanent")),
            ("identifier", None) => v.identifier.clone(),
            (_, other) => other,
        };
        if let Some(value) = value {
            rows.push(Row { label: ctx.t(&format!("verify-field-{key}")), value });
        }
    }
    let lt = text("license_type_code").and_then(|c| s.app.license_type_by_type_code(&c));
    if let (true, Some(lt), Some(first)) = (en, &lt, rows.first_mut()) {
        if !lt.name_en.is_empty() {
            first.value = format!("{} ({})", lt.name_en, first.value);
        }
    }
    let mut details = Vec::new();
    if let Some(fields) = public["fields"].as_object() {
        if let Some(lt) = &lt {
            for f in lt.fields.iter().filter(|f| !SHOWN.contains(&f.key.as_str())) {
                if let Some(value) = fields.get(&f.key).and_then(Value::as_str).filter(|v| !v.is_empty()) {
                    let label = if en && !f.label_en.is_empty() { f.label_en.clone() } else { f.label.clone() };
                    details.push(Row { label, value: value.to_string() });
                }
            }
        }
    }
    VerdictView {
        status: v.status,
        message: ctx.t(&format!("verify-status-{}", v.status)),
        rows,
        details,
        superseded_by: v.superseded_by.clone(),
        good: v.status == "valid",
    }
}
