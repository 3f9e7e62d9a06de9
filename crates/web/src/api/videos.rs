//! 视频勘验: the tus 1.0 server (core, creation, termination, expiration) for inspection recordings, and the
//! case's recordings. Uploads belong to a case's inspection task and to the applicant who created them: every
//! method is signed in (the policy), and only the owner reaches an upload (anyone else: 404). A cookie session
//! sends the CSRF header on POST/PATCH/DELETE like every other API write; a bearer token needs none.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use oneseal_app::videos::UploadView;
use oneseal_app::AppError;

use super::Res;
use crate::extract::{case_no, ApiPath, Authed};
use crate::problem::{ApiError, Problem};
use crate::AppState;
use axum::extract::State;

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,termination,expiration";

fn set(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

/// Every tus answer but OPTIONS says which protocol version it speaks.
fn tus(mut r: Response) -> Response {
    set(r.headers_mut(), "tus-resumable", TUS_VERSION);
    r
}

fn tus_err(e: impl Into<ApiError>) -> Response {
    tus(e.into().into_response())
}

/// An RFC 9110 HTTP-date (`Upload-Expires`).
fn http_date(ms: i64) -> String {
    let t = oneseal_app::from_ms(ms);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

/// A client speaking another tus version: 412 with the versions we speak.
/// Every tus request's first checks: the protocol version it speaks, then the case number of its path.
fn tus_case(h: &HeaderMap, no: &str) -> Result<oneseal_domain::ids::CaseNo, Box<Response>> {
    check_resumable(h)?;
    case_no(no).map_err(|e| Box::new(tus_err(e)))
}

fn check_resumable(h: &HeaderMap) -> Result<(), Box<Response>> {
    match h.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => {
            let mut r = Problem::new(
                412,
                "tus_version",
                "Precondition failed",
                "不支持的 tus 协议版本",
                "send Tus-Resumable: 1.0.0 (the tus version this server speaks)",
            )
            .into_response();
            set(r.headers_mut(), "tus-version", TUS_VERSION);
            Err(Box::new(tus(r)))
        }
    }
}

fn int_header(h: &HeaderMap, name: &str) -> Result<Option<i64>, Box<Response>> {
    match h.get(name) {
        None => Ok(None),
        Some(v) => match v.to_str().ok().and_then(|s| s.trim().parse::<i64>().ok()).filter(|n| *n >= 0) {
            Some(n) => Ok(Some(n)),
            None => Err(Box::new(tus_err(Problem::bad_request(
                "invalid_header",
                format!("{name} must be a non-negative integer"),
            )))),
        },
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (a value may be absent); keys are unique ASCII
/// without spaces or commas.
pub fn parse_metadata(s: &str) -> Result<Vec<(String, String)>, String> {
    use base64::Engine;
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut it = pair.split(' ');
        let key = it.next().unwrap_or_default();
        let value = it.next().unwrap_or_default();
        if it.next().is_some() || key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("Upload-Metadata: malformed pair {pair:?}"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| format!("Upload-Metadata: the value of {key} is not base64"))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("Upload-Metadata: the value of {key} is not UTF-8"))?;
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!("Upload-Metadata: {key} given twice"));
        }
        out.push((key.to_string(), text));
    }
    Ok(out)
}

fn discovery(s: &AppState) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    set(h, "tus-resumable", TUS_VERSION);
    set(h, "tus-version", TUS_VERSION);
    set(h, "tus-extension", TUS_EXTENSIONS);
    set(h, "tus-max-size", &s.app.video_settings().max_bytes.to_string());
    r
}

/// OPTIONS on the creation address: the protocol version, extensions and the largest upload.
pub async fn tus_options(State(s): State<AppState>, Authed(..): Authed, ApiPath(_): ApiPath<String>) -> Response {
    discovery(&s)
}

/// OPTIONS on an upload's address.
pub async fn tus_upload_options(
    State(s): State<AppState>,
    Authed(..): Authed,
    ApiPath(_): ApiPath<(String, String)>,
) -> Response {
    discovery(&s)
}

/// A tus answer about an upload: its offset, length and expiry, never cached.
fn upload_answer(mut r: Response, v: &UploadView) -> Response {
    let h = r.headers_mut();
    set(h, "upload-offset", &v.offset.to_string());
    set(h, "upload-length", &v.length.to_string());
    if v.status == "open" {
        set(h, "upload-expires", &http_date(v.expires_at_ms));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tus(r)
}

/// tus creation: `Upload-Length` and `Upload-Metadata` (`filename`, optional `task_id`) → 201 and `Location`.
pub async fn tus_create(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    headers: HeaderMap,
) -> Response {
    let no = match tus_case(&headers, &no) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    if headers.contains_key("upload-defer-length") {
        return tus_err(Problem::bad_request(
            "upload_defer_length",
            "Upload-Defer-Length is not supported: send Upload-Length",
        ));
    }
    let length = match int_header(&headers, "upload-length") {
        Ok(Some(n)) => n,
        Ok(None) => return tus_err(Problem::bad_request("upload_length", "Upload-Length is required")),
        Err(r) => return *r,
    };
    if int_header(&headers, "content-length").ok().flatten().unwrap_or(0) > 0 {
        return tus_err(Problem::bad_request(
            "creation_with_upload",
            "send the bytes with PATCH after creating the upload (creation-with-upload is not offered)",
        ));
    }
    let meta = match headers.get("upload-metadata").map(|v| v.to_str().map(str::to_string)) {
        None => vec![],
        Some(Ok(text)) => match parse_metadata(&text) {
            Ok(m) => m,
            Err(why) => return tus_err(Problem::bad_request("upload_metadata", why)),
        },
        Some(Err(_)) => return tus_err(Problem::bad_request("upload_metadata", "Upload-Metadata is not ASCII")),
    };
    let get = |k: &str| meta.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let name = get("filename").or(get("name")).unwrap_or("video");
    match s.app.create_video_upload(&actor, &no, length, name, get("task_id")).await {
        Ok(v) => {
            let mut r = upload_answer((StatusCode::CREATED, Json(&v)).into_response(), &v);
            set(r.headers_mut(), "location", &format!("/api/v1/cases/{no}/video-uploads/{}", v.id));
            r
        }
        Err(e) => tus_err(e),
    }
}

/// tus HEAD: the upload's offset and length (never cached).
pub async fn tus_head(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let no = match tus_case(&headers, &no) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match s.app.video_upload(&actor, &no, &id).await {
        Ok(v) => upload_answer(StatusCode::OK.into_response(), &v),
        Err(e) => {
            let mut r = tus_err(e);
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
    }
}

/// tus PATCH: bytes at `Upload-Offset`, streamed to the file store as they arrive. A wrong offset is 409; what
/// arrived before a broken connection is kept.
pub async fn tus_patch(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let no = match tus_case(&headers, &no) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if ct.split(';').next().map(str::trim) != Some("application/offset+octet-stream") {
        return tus_err(AppError::UnsupportedType {
            code: "upload_content_type",
            message: "PATCH needs Content-Type: application/offset+octet-stream".into(),
        });
    }
    let offset = match int_header(&headers, "upload-offset") {
        Ok(Some(n)) => n,
        Ok(None) => return tus_err(Problem::bad_request("upload_offset", "Upload-Offset is required")),
        Err(r) => return *r,
    };
    let content_length = match int_header(&headers, "content-length") {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let mut w = match s.app.begin_video_write(&actor, &no, &id, offset, content_length).await {
        Ok(w) => w,
        Err(e) => return tus_err(e),
    };
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                if let Err(e) = w.write(&bytes).await {
                    return tus_err(e);
                }
                if w.overflowed() {
                    break;
                }
            }
            // A broken connection: keep what arrived (the client resumes from the offset HEAD tells it).
            Err(_) => break,
        }
    }
    match w.finish().await {
        Ok(v) => upload_answer(StatusCode::NO_CONTENT.into_response(), &v),
        Err(e) => tus_err(e),
    }
}

/// tus termination: an open upload and its bytes are deleted (204); a recorded video stays (409).
pub async fn tus_delete(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let no = match tus_case(&headers, &no) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match s.app.terminate_video_upload(&actor, &no, &id).await {
        Ok(()) => tus(StatusCode::NO_CONTENT.into_response()),
        Err(e) => tus_err(e),
    }
}

/// The case's recordings (applicant and staff who may see the case).
pub async fn case_videos(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(no): ApiPath<String>) -> Res {
    let no = case_no(&no)?;
    let videos = s.app.case_videos(&actor, &no).await?;
    Ok(Json(serde_json::json!({ "videos": videos })).into_response())
}

/// The case's inspection: method in force, checklist, recordings, notes, stills and conclusions.
pub async fn inspection(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(no): ApiPath<String>) -> Res {
    let no = case_no(&no)?;
    Ok(Json(s.app.inspection_view(&actor, &no).await?).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodBody {
    method: oneseal_domain::inspection::Method,
    #[serde(default)]
    reason: Option<String>,
}

async fn run(
    s: &AppState,
    actor: &oneseal_domain::roles::Actor,
    no: &str,
    cmd: oneseal_domain::case::CaseCommand,
) -> Res {
    let no = case_no(no)?;
    s.app.command(actor, &no, cmd, None).await?;
    Ok(Json(s.app.inspection_view(actor, &no).await?).into_response())
}

/// Video or on site: the applicant where the item allows both; the inspector with a reason to overrule.
pub async fn choose_method(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<MethodBody>,
) -> Res {
    run(
        &s,
        &actor,
        &no,
        oneseal_domain::case::CaseCommand::ChooseInspectionMethod { method: b.method, reason: b.reason },
    )
    .await
}

/// A reviewer's note at a moment of a recording, tied to a checklist item.
pub async fn add_note(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    crate::extract::ApiJson(note): crate::extract::ApiJson<oneseal_domain::inspection::Note>,
) -> Res {
    if note.text.chars().count() > 2000 {
        return Err(AppError::invalid("note_too_long", "a note has at most 2000 characters").into());
    }
    run(&s, &actor, &no, oneseal_domain::case::CaseCommand::AddInspectionNote { note }).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConclusionBody {
    #[serde(default)]
    task_id: Option<String>,
    conclusion: oneseal_domain::inspection::Conclusion,
    #[serde(default)]
    points: Vec<String>,
    opinion: String,
}

/// The conclusion: pass (the inspection task completes), rectify (with points), or on site needed.
pub async fn conclude(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<ConclusionBody>,
) -> Res {
    let case = case_no(&no)?;
    let task_id = match b.task_id {
        Some(t) => t,
        None => s.app.inspection_task(&actor, &case).await?,
    };
    let cmd = oneseal_domain::case::CaseCommand::ConcludeInspection {
        task_id,
        conclusion: b.conclusion,
        points: b.points.into_iter().map(|p| p.trim().to_string()).collect(),
        opinion: b.opinion,
    };
    run(&s, &actor, &no, cmd).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    visit: oneseal_domain::inspection::Visit,
    #[serde(with = "time::serde::rfc3339")]
    start: time::OffsetDateTime,
    minutes: u32,
    /// The applicant's other cases inspected in the same visit (联合踏勘).
    #[serde(default)]
    with_cases: Vec<String>,
}

/// 勘验预约: a visit on site or a live video session at a slot, for this case or with the applicant's other cases
/// (联合踏勘). The handling department's inspector schedules; the applicant sees the slot and link.
pub async fn schedule(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<ScheduleBody>,
) -> Res {
    let case = case_no(&no)?;
    let with_cases = b.with_cases.iter().map(String::as_str).map(case_no).collect::<Result<Vec<_>, _>>()?;
    let req =
        oneseal_app::inspections::ScheduleRequest { visit: b.visit, start: b.start, minutes: b.minutes, with_cases };
    s.app.schedule_inspection(&actor, &case, req).await?;
    Ok((StatusCode::CREATED, Json(s.app.inspection_view(&actor, &case).await?)).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsBody {
    #[serde(default)]
    task_id: Option<String>,
    findings: String,
    /// Required, except at a checklist inspection (联合验收), where it is every entry passing.
    #[serde(default)]
    satisfied: Option<bool>,
    /// 联合验收: the department's result for each of its checklist entries.
    #[serde(default)]
    checklist: Vec<oneseal_domain::acceptance::EntryResult>,
}

/// The most entries one department records at once.
const MAX_ENTRIES: usize = 100;

/// A department's findings at the scheduled inspection, on its own task of this case.
pub async fn findings(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<FindingsBody>,
) -> Res {
    let case = case_no(&no)?;
    if b.findings.chars().count() > 4000 {
        return Err(AppError::invalid("findings_too_long", "findings have at most 4000 characters").into());
    }
    if b.checklist.len() > MAX_ENTRIES {
        return Err(AppError::invalid("too_many_entries", format!("at most {MAX_ENTRIES} checklist entries")).into());
    }
    s.app.record_findings(&actor, &case, b.task_id, b.findings, b.satisfied, b.checklist).await?;
    Ok(Json(s.app.inspection_view(&actor, &case).await?).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RectificationBody {
    report: String,
}

/// 联合验收整改: the applicant reports the failed checklist entries corrected; the clock runs again and their
/// departments check them again.
pub async fn rectification(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<RectificationBody>,
) -> Res {
    let case = case_no(&no)?;
    let cmd = oneseal_domain::case::CaseCommand::ReportRectified { report: b.report };
    s.app.command(&actor, &case, cmd, None).await?;
    Ok(Json(s.app.inspection_view(&actor, &case).await?).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointResultBody {
    opinion: String,
}

/// The joint result, by the lead department once every department recorded its findings: every case of the
/// inspection moves on, all or none.
pub async fn joint_result(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<JointResultBody>,
) -> Res {
    let case = case_no(&no)?;
    if b.opinion.chars().count() > 2000 {
        return Err(AppError::invalid("opinion_too_long", "an opinion has at most 2000 characters").into());
    }
    let moved = s.app.record_joint_result(&actor, &case, b.opinion).await?;
    let moved: Vec<String> = moved.iter().map(|c| c.to_string()).collect();
    Ok(Json(serde_json::json!({ "moved": moved })).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StillBody {
    at_ms: i64,
}

/// A still at a moment of a recording, into the case file.
pub async fn capture_still(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, id)): ApiPath<(String, String)>,
    crate::extract::ApiJson(b): crate::extract::ApiJson<StillBody>,
) -> Res {
    let case = case_no(&no)?;
    s.app.capture_still(&actor, &case, &id, b.at_ms).await?;
    Ok((StatusCode::CREATED, Json(s.app.inspection_view(&actor, &case).await?)).into_response())
}

/// One `bytes=` range of a file of `len` bytes: `(start, end)` inclusive; `Err` when it cannot be satisfied;
/// `Ok(None)` when the header is absent or not a single byte range (the whole file is sent).
pub fn parse_range(h: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') || len == 0 {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end: u64 = if b.is_empty() { len - 1 } else { b.parse::<u64>().map_err(|_| ())?.min(len - 1) };
        if start > end || start >= len {
            return Err(());
        }
        (start, end)
    };
    Ok(Some(range))
}

/// Playback: the recording's clear bytes, whole or one range (206, `Content-Range`), opened from its sealed
/// segments as they are sent (memory holds one segment per request).
pub async fn play(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Res {
    let case = case_no(&no)?;
    let (v, sealed, keyring) = s.app.open_video(&actor, &case, &id).await?;
    let len = sealed.len;
    let range = headers.get(header::RANGE).and_then(|r| r.to_str().ok());
    let (status, start, end) = match parse_range(range, len) {
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Ok(None) => (StatusCode::OK, 0, len.saturating_sub(1)),
        Err(()) => {
            let mut r = Problem::new(
                416,
                "range_not_satisfiable",
                "Range not satisfiable",
                "请求的范围无效",
                format!("the video has {len} bytes"),
            )
            .into_response();
            set(r.headers_mut(), "content-range", &format!("bytes */{len}"));
            return Ok(r);
        }
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    let state = (sealed, keyring, start, end);
    let stream = futures_util::stream::unfold(Some(state), |st| async move {
        let (mut sealed, keyring, pos, end) = st?;
        if pos > end {
            return None;
        }
        let seg = oneseal_app::videos::SEGMENT as u64;
        let upto = ((pos / seg + 1) * seg - 1).min(end);
        let res = tokio::task::spawn_blocking(move || {
            let r = sealed.range(&keyring, pos, upto);
            (r, sealed, keyring)
        })
        .await;
        match res {
            Ok((Ok(bytes), sealed, keyring)) => {
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes)), Some((sealed, keyring, upto + 1, end))))
            }
            Ok((Err(e), _, _)) => Some((Err(std::io::Error::other(e.to_string())), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(v.container.content_type()));
    set(h, "content-length", &count.to_string());
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if status == StatusCode::PARTIAL_CONTENT {
        set(h, "content-range", &format!("bytes {start}-{end}/{len}"));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=10-19"), 100), Ok(Some((10, 19))));
        assert_eq!(parse_range(Some("bytes=90-200"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-500"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=x-2"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
        assert_eq!(
            parse_metadata("filename d29ybGQ=,task_id").unwrap(),
            vec![("filename".into(), "world".into()), ("task_id".into(), String::new())]
        );
        assert!(parse_metadata("a b c").is_err());
        assert!(parse_metadata("a !!").is_err());
        assert!(parse_metadata("a YQ==,a YQ==").is_err());
    }
}
