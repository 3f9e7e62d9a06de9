//! Cases: submission, lists and views, actions, progress, inboxes, notifications, personal data, uploaded materials.

use super::*;

// ---- cases ----

/// Personal data is masked on every answer; the query code's digest never leaves the server.
pub(super) fn masked(s: &AppState, mut v: CaseView) -> CaseView {
    s.app.mask_state(&mut v.state);
    v
}

pub(super) fn with_etag(s: &AppState, v: CaseView) -> Response {
    let version = v.state.version;
    etagged(Json(masked(s, v)).into_response(), version)
}

/// An answer about a case carries the case's version as its strong entity tag (sent back as If-Match).
fn etagged(mut r: Response, version: u64) -> Response {
    if let Ok(h) = HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(header::ETAG, h);
    }
    r
}

/// Whether the request asks for a minimal answer (RFC 7240 `Prefer: return=minimal`, in any of its `Prefer`
/// headers, case-insensitive; parameters after `;` are ignored).
pub(super) fn prefers_minimal(h: &HeaderMap) -> bool {
    h.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|p| {
        let p = p.split(';').next().unwrap_or("").trim();
        p.split_once('=').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("return") && v.trim().trim_matches('"').eq_ignore_ascii_case("minimal")
        })
    })
}

/// The minimal answer to a case command (`Prefer: return=minimal`): what a client needs to take the next step —
/// the case's number, version, status, current step with its tasks, decision and licences — without the form,
/// materials, applicant or clocks. Nothing personal is in it, so nothing to mask.
#[derive(serde::Serialize)]
pub(super) struct CaseMinimal<'a> {
    case_no: &'a oneseal_domain::ids::CaseNo,
    version: u64,
    status: &'a Status,
    current_step: &'a Option<oneseal_domain::case::CurrentStep>,
    decision: &'a Option<Outcome>,
    licenses: &'a [String],
}

pub(super) fn minimal_answer(st: &oneseal_domain::case::CaseState) -> Response {
    let summary = CaseMinimal {
        case_no: &st.case_no,
        version: st.version,
        status: &st.status,
        current_step: &st.current_step,
        decision: &st.decision,
        licenses: &st.licenses,
    };
    let mut r = etagged(Json(summary).into_response(), st.version);
    r.headers_mut().insert("preference-applied", HeaderValue::from_static("return=minimal"));
    r
}

pub(super) async fn submit(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    headers: HeaderMap,
    ApiJson(mut b): ApiJson<SubmitRequest>,
) -> Res {
    b.channel = Some(api_channel(&actor, b.channel));
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Problem::bad_request("invalid_idempotency_key", "Idempotency-Key must be visible ASCII"))?
                .to_string(),
        ),
        None => None,
    };
    let (receipt, created) = s.app.submit(&actor, b, key).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut r = (status, Json(&receipt)).into_response();
    if let Ok(h) = HeaderValue::from_str(&format!("/api/v1/cases/{}", receipt.case_no)) {
        r.headers_mut().insert(header::LOCATION, h);
    }
    Ok(r)
}

/// The channel a submission through the JSON API records. An applicant's is `api`, unless the client says it is an
/// app on a phone (`mobile`, such as the city's app speaking this API); `online` and `kiosk` are the portal's own
/// pages and kiosk mode, which never come through here, so a client naming them is still recorded as `api`. A
/// window clerk's client (a window, a bank branch, a hotline seat, an assisted kiosk) names its own channel, the
/// window by default; a hotline operator's is `hotline`.
pub(super) fn api_channel(actor: &Actor, said: Option<Channel>) -> Channel {
    if actor.has(Role::WindowClerk) {
        return said.unwrap_or(Channel::Window);
    }
    if actor.has(Role::Applicant) {
        return match said {
            Some(Channel::Mobile) => Channel::Mobile,
            Some(Channel::Online | Channel::Kiosk | Channel::Api) | None => Channel::Api,
            // Refused by the application with its problem (an applicant's channel is never a clerk's).
            Some(other) => other,
        };
    }
    said.unwrap_or_else(|| oneseal_app::cases::default_channel(actor))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CaseQuery {
    pub(super) status: Option<Status>,
    /// Find an applicant's cases by ID number (window clerks and supervisors); compared through the blind index.
    pub(super) applicant_id: Option<String>,
    pub(super) item: Option<String>,
    pub(super) department: Option<String>,
    pub(super) channel: Option<oneseal_domain::case::Channel>,
    /// Open cases due within this many working days.
    pub(super) due_within: Option<u32>,
    pub(super) overdue: Option<bool>,
    pub(super) page: Option<u32>,
    pub(super) per_page: Option<u32>,
}

pub(super) async fn list_cases(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> Res {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let today = oneseal_domain::clock::local_date(s.app.now());
    let cal = s.app.calendar();
    let due_by = match q.due_within {
        Some(n) if n <= 60 => Some(format_date(cal.add_working_days(today, n).map_err(AppError::from)?)),
        Some(_) => return Err(Problem::bad_request("invalid_due_within", "due_within is 0–60 working days").into()),
        None => None,
    };
    let applicant_index = match q.applicant_id.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(id) => {
            let kind = if oneseal_domain::ids::Uscc::parse(id).is_ok() {
                ApplicantKind::Organisation
            } else {
                ResidentId::parse(id)
                    .map_err(|e| Problem::bad_request("invalid_applicant_id", format!("applicant_id: {e}")))?;
                ApplicantKind::Person
            };
            Some(s.app.id_index(kind, &id.to_uppercase()))
        }
        None => None,
    };
    let f = CaseFilter {
        status: q.status.map(|x| x.as_str().to_string()),
        applicant_index,
        subject_code: q.item,
        department: q.department,
        channel: q.channel.map(|c| c.as_str().to_string()),
        applicant_account: None,
        or_applicant_indexes: vec![],
        due_by,
        overdue_on: if q.overdue == Some(true) { Some(format_date(today)) } else { None },
        limit: limit as i64,
        offset: offset as i64,
    };
    let (rows, total) = s.app.list_cases(&actor, f).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| json!({ "case_no": r.case_no, "title": r.title, "subject_kind": r.subject_kind, "subject_code": r.subject_code, "department": r.department, "channel": r.channel, "service_point": r.service_point, "status": r.status, "deadline": r.deadline, "submitted_at_ms": r.submitted_at_ms, "version": r.version }))
        .collect();
    Ok(Json(json!({ "total": total, "cases": list })).into_response())
}

pub(super) async fn get_case(State(s): State<AppState>, Authed(actor, _): Authed, ApiPath(no): ApiPath<String>) -> Res {
    let v = s.app.case_view(&actor, &case_no(&no)?).await?;
    Ok(with_etag(&s, v))
}

pub(super) async fn case_events(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
) -> Res {
    let mut t = s.app.trail(&actor, &case_no(&no)?).await?;
    let schema = match t.first().map(|e| &e.event) {
        Some(oneseal_domain::case::CaseEvent::Submitted { subject, .. }) => {
            s.app.catalog().definition(subject).map(|d| d.form.clone()).unwrap_or_default()
        }
        _ => FormSchema::default(),
    };
    for e in &mut t {
        s.app.mask_event(&mut e.event, &schema);
    }
    Ok(Json(json!({ "case_no": no, "events": t })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PledgeInput {
    pub(super) material_id: String,
    pub(super) due: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AcceptBody {
    #[serde(default)]
    pub(super) pledges: Vec<PledgeInput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReasonsBody {
    pub(super) reasons: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CorrectionBody {
    pub(super) problems: Vec<CorrectionProblem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DrawingCommentBody {
    pub(super) material_id: String,
    pub(super) sheet: String,
    pub(super) text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AnswerDrawingCommentsBody {
    pub(super) answers: Vec<oneseal_domain::drawing_review::DrawingAnswer>,
    #[serde(default)]
    pub(super) materials: Vec<MaterialRef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubmitCorrectionBody {
    #[serde(default)]
    pub(super) form: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub(super) materials: Vec<MaterialRef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MaterialBody {
    pub(super) material: MaterialRef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TaskBody {
    pub(super) task_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CompleteBody {
    pub(super) task_id: String,
    pub(super) opinion: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SendBackBody {
    pub(super) to_step: String,
    pub(super) reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReassignBody {
    pub(super) task_id: String,
    pub(super) to: String,
    pub(super) reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuspendBody {
    pub(super) kind: SuspensionKind,
    pub(super) reason: String,
    #[serde(default)]
    pub(super) expected_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Empty {}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExtendBody {
    pub(super) days: u32,
    pub(super) reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecideBody {
    pub(super) outcome: Outcome,
    #[serde(default)]
    pub(super) reasons: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LicensesBody {
    #[serde(default)]
    pub(super) licenses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeliverBody {
    pub(super) delivery: Delivery,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReasonBody {
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) fn body<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v)
        .map_err(|e| Problem::unprocessable("invalid_body", format!("the JSON does not fit: {e}")).into())
}

pub(super) fn if_match(h: &HeaderMap) -> Result<Option<i64>, ApiError> {
    match h.get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => {
            let s = v.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
            s.parse::<i64>().map(Some).map_err(|_| {
                Problem::bad_request("invalid_if_match", "If-Match must be the case version from its ETag, e.g. \"7\"")
                    .into()
            })
        }
    }
}

pub(super) async fn case_action(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath((no, action)): ApiPath<(String, String)>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Res {
    let Some(action) = CaseAction::parse(&action) else {
        let names: Vec<&str> = CaseAction::ALL.iter().map(|a| a.as_str()).collect();
        return Err(Problem::not_found(format!("no action {action}; actions: {}", names.join(", "))).into());
    };
    let expected = if_match(&headers)?;
    let raw = raw.map_err(|e| {
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
    })?;
    let v: Value = if raw.iter().all(|b| b.is_ascii_whitespace()) {
        json!({})
    } else {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.starts_with("application/json") {
            return Err(Problem::new(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "请使用 JSON 格式",
                "send Content-Type: application/json",
            )
            .into());
        }
        serde_json::from_slice(&raw)
            .map_err(|e| Problem::bad_request("malformed_json", format!("malformed JSON: {e}")))?
    };
    if !v.is_object() {
        return Err(Problem::unprocessable("invalid_body", "the body must be a JSON object").into());
    }
    let st = run_action(&s, &actor, &no, action, v, expected).await?;
    if prefers_minimal(&headers) {
        return Ok(minimal_answer(&st));
    }
    Ok(with_etag(&s, s.app.view_of(st)))
}

/// Run a case action with its JSON body (the API's and the workbench's one path from a request to a command).
pub(crate) async fn run_action(
    s: &AppState,
    actor: &Actor,
    no: &str,
    action: CaseAction,
    v: Value,
    expected: Option<i64>,
) -> Result<oneseal_domain::case::CaseState, ApiError> {
    use CaseAction as A;
    let cmd = match action {
        A::Accept => {
            let b: AcceptBody = body(v)?;
            let mut pledges = Vec::new();
            for p in b.pledges {
                pledges.push((p.material_id, parse_iso(&p.due)?));
            }
            CaseCommand::Accept { pledges }
        }
        A::Refuse => CaseCommand::Refuse { reasons: body::<ReasonsBody>(v)?.reasons },
        A::RequestCorrection => CaseCommand::RequestCorrection { problems: body::<CorrectionBody>(v)?.problems },
        A::SubmitCorrection => {
            let b: SubmitCorrectionBody = body(v)?;
            CaseCommand::SubmitCorrection { form: b.form, materials: b.materials }
        }
        A::FulfilPledge => CaseCommand::FulfilPledge { material: body::<MaterialBody>(v)?.material },
        A::Claim => CaseCommand::ClaimTask { task_id: body::<TaskBody>(v)?.task_id },
        A::Complete => {
            let b: CompleteBody = body(v)?;
            CaseCommand::CompleteTask { task_id: b.task_id, opinion: b.opinion }
        }
        A::SendBack => {
            let b: SendBackBody = body(v)?;
            CaseCommand::SendBack { to_step: b.to_step, reason: b.reason }
        }
        A::Reassign => {
            let b: ReassignBody = body(v)?;
            let unknown = || Problem::unprocessable("unknown_staff", format!("no active staff account {}", b.to));
            let to = crate::extract::exact::<oneseal_domain::ids::Username>(&b.to).ok_or_else(unknown)?;
            let to = s.app.staff(&to).await.map_err(|_| unknown())?;
            CaseCommand::Reassign {
                task_id: b.task_id,
                to: Assignee { id: to.id, roles: to.roles, department: to.department },
                reason: b.reason,
            }
        }
        A::Suspend => {
            let b: SuspendBody = body(v)?;
            CaseCommand::Suspend { kind: b.kind, reason: b.reason, expected_days: b.expected_days }
        }
        A::Resume => {
            body::<Empty>(v)?;
            CaseCommand::Resume
        }
        A::Extend => {
            let b: ExtendBody = body(v)?;
            CaseCommand::Extend { days: b.days, reason: b.reason }
        }
        A::Decide => {
            let b: DecideBody = body(v)?;
            CaseCommand::Decide { outcome: b.outcome, reasons: b.reasons }
        }
        A::IssueLicenses => {
            let b: LicensesBody = body(v)?;
            if b.licenses.is_empty() {
                // The licences are made, signed with the seal and recorded with the step, in one transaction.
                return Ok(s.app.issue_case_licenses(actor, &case_no(no)?, expected).await?);
            }
            CaseCommand::IssueLicenses { licenses: b.licenses }
        }
        A::Deliver => CaseCommand::Deliver { delivery: body::<DeliverBody>(v)?.delivery },
        A::Withdraw => CaseCommand::Withdraw { reason: body::<ReasonBody>(v)?.reason },
        A::Terminate => CaseCommand::Terminate { reason: body::<ReasonBody>(v)?.reason },
        A::DrawingComment => {
            let b: DrawingCommentBody = body(v)?;
            CaseCommand::AddDrawingComment { material_id: b.material_id, sheet: b.sheet, text: b.text }
        }
        A::AnswerDrawingComments => {
            let b: AnswerDrawingCommentsBody = body(v)?;
            CaseCommand::AnswerDrawingComments { answers: b.answers, materials: b.materials }
        }
    };
    Ok(s.app.command(actor, &case_no(no)?, cmd, expected).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProgressBody {
    pub(super) case_no: String,
    pub(super) query_code: String,
}

pub(super) async fn progress(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(b): ApiJson<ProgressBody>,
) -> Res {
    if b.case_no.len() > 40 || b.query_code.len() > 40 {
        return Err(Problem::not_found("no case with this number and query code").into());
    }
    let addr = peer.ip().to_string();
    let Ok(no) = case_no(&b.case_no) else {
        return Err(s.app.progress_malformed(&b.case_no, Some(&addr)).await.into());
    };
    let p = s.app.progress(&no, &b.query_code, Some(&addr)).await?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueQuery {
    pub(super) view: Option<QueueView>,
    pub(super) page: Option<u32>,
    pub(super) per_page: Option<u32>,
}

pub(super) async fn work_queue(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Res {
    staff(&actor)?;
    let (offset, limit) = paging(q.page, q.per_page)?;
    let view = q.view.unwrap_or(QueueView::ToClaim);
    let (rows, total) = s.app.work_queue(&actor, view, limit as i64, offset as i64, None).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|t| json!({ "case_no": t.case_no, "task_id": t.task_id, "step_id": t.step_id, "step_name": t.step_name, "title": t.title, "role": t.role, "department": t.department, "assignee": t.assignee, "due": t.due }))
        .collect();
    Ok(Json(json!({ "view": view, "total": total, "tasks": list })).into_response())
}

pub(super) async fn intake_queue(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Res {
    staff(&actor)?;
    let (offset, limit) = paging(q.page, q.per_page)?;
    let (rows, total) = s.app.intake_queue(&actor, limit as i64, offset as i64).await?;
    let list: Vec<Value> = rows.iter().map(|r| json!({ "case_no": r.case_no, "title": r.title, "channel": r.channel, "service_point": r.service_point, "submitted_at_ms": r.submitted_at_ms })).collect();
    Ok(Json(json!({ "total": total, "cases": list })).into_response())
}

pub(super) async fn notifications(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let n = s.app.notifications(&actor.id, 50).await?;
    let list: Vec<Value> = n.iter().map(|n| json!({ "seq": n.event_seq, "case_no": n.case_no, "kind": n.kind, "message": n.message, "at_ms": n.created_at_ms })).collect();
    Ok(Json(json!({ "notifications": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnmaskBody {
    pub(super) reason: String,
}

/// Unmask a case's personal data: staff who may see the case, with a reason; the read is recorded.
pub(super) async fn unmask(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(no): ApiPath<String>,
    ApiJson(b): ApiJson<UnmaskBody>,
) -> Res {
    staff(&actor)?;
    let v = s.app.unmask(&actor, &case_no(&no)?, &b.reason).await?;
    let mut r = Json(v).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Who read my personal data: every recorded staff read of my cases.
pub(super) async fn data_access(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.who_viewed(&actor, 200).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|a| json!({ "case_no": a.case_no, "actor": a.actor, "at_ms": a.at_ms, "reason": a.reason, "fields": a.fields.split(',').filter(|x| !x.is_empty()).collect::<Vec<_>>() }))
        .collect();
    Ok(Json(json!({ "access": items })).into_response())
}

/// Upload a material's file (the body: PDF, JPEG or PNG bytes, at most 10 MiB); the answer's id goes into a
/// submission's `materials[].attachment`.
pub(super) async fn upload_attachment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Res {
    let body = body.map_err(|_| {
        Problem::new(
            413,
            "attachment_too_large",
            "Payload too large",
            "文件过大",
            format!("a file is at most {} bytes", oneseal_app::attachments::MAX_ATTACHMENT_BYTES),
        )
    })?;
    let v = s.app.upload_attachment(&actor, q.name.as_deref().unwrap_or("file"), &body).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AttachmentQuery {
    pub(super) case_no: Option<String>,
}

/// A file: for its uploader, or staff who may see the case (`?case_no=`) that references it.
pub(super) async fn get_attachment(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AttachmentQuery>,
) -> Res {
    // A malformed case number gives no access, as an unknown case did.
    let no = q.case_no.as_deref().and_then(|n| case_no(n).ok());
    let (meta, bytes) = s.app.attachment(&actor, &id, no.as_ref()).await?;
    Ok(file_response(&meta, bytes))
}

/// A stored file as an answer: its type, shown inline (drawings saved), never cached, never sniffed.
pub(crate) fn file_response(meta: &oneseal_app::attachments::AttachmentView, bytes: Vec<u8>) -> Response {
    let ct = HeaderValue::from_str(&meta.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // Drawings (DWG, DXF) are saved, not shown; PDFs and images are shown in our own pages' frames.
    let disposition = HeaderValue::from_static(if oneseal_app::attachments::is_drawing(&meta.content_type) {
        "attachment"
    } else {
        "inline"
    });
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            // Only PDF, JPEG, PNG, DWG and DXF are ever stored (checked by their bytes) and nosniff stops any other reading;
            // the PDF viewer needs no sandbox, and only our own pages may frame the file.
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'self'")),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    pub(super) name: Option<String>,
}
