//! `/verify`: anyone checks a licence without signing in — paste the QR text, type the identifier or the printed
//! licence number, or upload the PDF. The answer lists what the licence shows, as printed on it. `/v/{identifier}` is the short URL form printed on licences; it opens this page on the identifier.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Form;
use oneseal_app::licensing::Verification;
use oneseal_app::AppError;
use serde::Deserialize;
use serde_json::Value;

use super::{encode, page, Ctx};
use crate::AppState;

/// Largest PDF accepted (licence PDFs are ~35 KB).
const PDF_LIMIT: usize = 256 * 1024;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/verify", Access::Public, show)
        .post("/verify", Access::Public, check)
        .on(
            "POST",
            "/verify/pdf",
            Access::Public,
            post(check_pdf).layer(axum::extract::DefaultBodyLimit::max(PDF_LIMIT + 16 * 1024)),
        )
        .get("/v/{identifier}", Access::Public, short_url)
}

/// One line of the public record.
pub struct Row {
    pub label: String,
    pub value: String,
}

/// One of the licence's own public fields, as printed on it (the licence type's key, label and order).
pub struct FieldRow {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// The verdict as shown.
pub struct VerdictView {
    pub status: &'static str,
    pub message: String,
    /// The licence's name, as its title.
    pub title: Option<Row>,
    /// The licence type's public fields in the type's order, with the printed labels.
    pub fields: Vec<FieldRow>,
    /// The general record, when the licence's own fields are not shown (withheld, or the type is not known here).
    pub rows: Vec<Row>,
    pub identifier: Option<String>,
    /// A natural person's licence looked up without its QR: name masked, details withheld.
    pub withheld: bool,
    pub superseded_by: Option<String>,
    pub good: bool,
}

impl VerdictView {
    pub fn has_record(&self) -> bool {
        self.title.is_some() || !self.fields.is_empty() || !self.rows.is_empty()
    }
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
        p.error = Some(ctx.t("verify-input-required"));
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
            // An identifier with a wrong check character, or input that is none of the accepted forms.
            let key = if trimmed.starts_with(oneseal_domain::license::ARC) {
                "error-invalid-identifier"
            } else {
                "verify-error-unrecognised"
            };
            p.error = Some(ctx.t(key));
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

/// The verdict: the status, then what the licence shows — its name, its type's public fields in the type's order
/// with the labels printed on it (the same as the PDF's), and its identifier. A natural person's licence looked up
/// without its QR shows the general record only (name masked, details withheld).
fn view(s: &AppState, ctx: &Ctx, v: &Verification) -> VerdictView {
    let en = ctx.lang == super::Lang::En;
    let public = v.public.clone().unwrap_or(Value::Null);
    let text = |k: &str| public[k].as_str().map(str::to_string);
    let lt = text("license_type_code").and_then(|c| s.app.license_type_by_type_code(&c));
    let withheld = public["personal_details_withheld"].as_bool() == Some(true);
    let title = text("license_name").map(|name| {
        let value = match &lt {
            Some(lt) if en && !lt.name_en.is_empty() => format!("{} ({name})", lt.name_en),
            _ => name,
        };
        Row { label: ctx.t("verify-field-license_name"), value }
    });
    let mut fields = Vec::new();
    if let (Some(lt), Some(values), false) = (&lt, public["fields"].as_object(), withheld) {
        for f in lt.fields.iter().filter(|f| lt.public_fields.contains(&f.key)) {
            let value = match values.get(&f.key) {
                Some(Value::String(x)) => x.clone(),
                Some(Value::Null) | None => continue,
                Some(other) => other.to_string(),
            };
            fields.push(FieldRow { key: f.key.clone(), label: ctx.pick(&f.label, &f.label_en).to_string(), value });
        }
    }
    let mut rows = Vec::new();
    if !public.is_null() {
        // The printed number heads the licence; shown here too when the type's fields do not carry it.
        let number_shown = fields.iter().any(|f| f.key == "license_no");
        for key in ["number", "holder", "holder_code", "issuer", "issued", "valid_to"] {
            if !fields.is_empty() && (key != "number" || number_shown) {
                continue;
            }
            let value = match (key, text(key)) {
                ("valid_to", None) => Some(ctx.t("verify-permanent")),
                (_, other) => other,
            };
            if let Some(value) = value {
                rows.push(Row { label: ctx.t(&format!("verify-field-{key}")), value });
            }
        }
    }
    let message = match (v.status, &v.identifier) {
        ("unknown", None) => ctx.t("verify-status-unknown-number"),
        (status, _) => ctx.t(&format!("verify-status-{status}")),
    };
    VerdictView {
        status: v.status,
        message,
        title,
        fields,
        rows,
        identifier: text("identifier").or_else(|| v.identifier.clone()),
        withheld,
        superseded_by: v.superseded_by.clone(),
        good: v.status == "valid",
    }
}
