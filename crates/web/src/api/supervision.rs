//! Electronic supervision: alerts, the sweep, the dashboard, exports and urgings.

use super::*;

pub(super) fn alert_json(a: &oneseal_app::rows::AlertRow) -> Value {
    json!({
        "id": a.id, "kind": a.kind, "level": a.level, "case_no": a.case_no, "project_code": a.project_code,
        "department": a.department,
        "person": a.person, "title": a.title, "detail": a.detail,
        "evidence": serde_json::from_str::<Value>(&a.evidence).unwrap_or(json!([])),
        "raised_at_ms": a.raised_at_ms, "status": a.status, "closed_at_ms": a.closed_at_ms, "closed_by": a.closed_by, "note": a.note,
    })
}

/// Supervision alerts: supervisors and administrators see all; other staff their department's.
pub(super) async fn list_alerts(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Res {
    let (offset, limit) = paging(q.page, q.per_page)?;
    let f = oneseal_app::rows::AlertFilter {
        status: q.status,
        department: q.department,
        kind: q.kind,
        case_no: q.case_no,
        project_code: q.project_code,
        limit: limit as i64,
        offset: offset as i64,
    };
    let (rows, total) = s.app.alerts(&actor, f).await?;
    Ok(Json(json!({ "total": total, "alerts": rows.iter().map(alert_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoteBody {
    pub(super) note: String,
}

pub(super) async fn close_alert(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Res {
    let a = s.app.close_alert(&actor, &id, &b.note).await?;
    Ok(Json(alert_json(&a)).into_response())
}

/// Run the supervision subscriber to the end of the log and a sweep now (it also runs every minute in `serve`).
pub(super) async fn sweep(State(s): State<AppState>) -> Res {
    while s.app.run_supervision_once(1000).await? > 0 {}
    let r = s.app.sweep_supervision(5000).await?;
    let escalated = s.app.escalate_urgings(5000).await?;
    while s.app.run_liaison_once(1000).await? > 0 {}
    let late = s.app.sweep_liaison(5000).await?;
    let tickets = s.app.sweep_hotline(5000).await?;
    let remediations = s.app.sweep_ratings(5000).await?;
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["urgings_escalated"] = json!(escalated);
    v["liaison_ack_overdue"] = json!(late);
    v["ticket_alerts"] = json!(tickets);
    v["rating_remediation_overdue"] = json!(remediations);
    Ok(Json(v).into_response())
}

/// The dashboard's numbers (the same as `/dashboard`).
pub(super) async fn dashboard(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    Ok(Json(s.app.dashboard(&actor).await?).into_response())
}

/// The case event log as XES (IEEE 1849) for process mining.
pub(super) async fn export_xes(State(s): State<AppState>) -> Res {
    let text = s.app.export_xes().await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"oneseal-events.xes\"")),
        ],
        text,
    )
        .into_response())
}

/// The supervision alerts as CSV.
pub(super) async fn export_alerts_csv(State(s): State<AppState>) -> Res {
    let text = s.app.export_alerts_csv().await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"oneseal-alerts.csv\"")),
        ],
        text,
    )
        .into_response())
}

pub(super) fn urging_json(u: &oneseal_app::rows::UrgingRow) -> Value {
    json!({
        "id": u.id, "case_no": u.case_no, "alert_id": u.alert_id, "department": u.department, "person": u.person,
        "message": u.message, "due": u.due, "status": u.status, "escalated": u.escalated, "issued_by": u.issued_by,
        "issued_at_ms": u.issued_at_ms, "reply": u.reply, "replied_by": u.replied_by, "replied_at_ms": u.replied_at_ms,
        "closed_note": u.closed_note,
    })
}

pub(super) async fn list_urgings(State(s): State<AppState>, Authed(actor, _): Authed) -> Res {
    let list = s.app.urgings(&actor).await?;
    Ok(Json(json!({ "urgings": list.iter().map(urging_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UrgingBody {
    pub(super) case_no: String,
    #[serde(default)]
    pub(super) alert_id: Option<String>,
    #[serde(default)]
    pub(super) person: Option<String>,
    pub(super) message: String,
    #[serde(default = "five")]
    pub(super) days: u32,
}

pub(super) fn five() -> u32 {
    5
}

pub(super) async fn issue_urging(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiJson(b): ApiJson<UrgingBody>,
) -> Res {
    let u = s
        .app
        .issue_urging(&actor, &case_no(&b.case_no)?, b.alert_id.as_deref(), b.person.as_deref(), &b.message, b.days)
        .await?;
    Ok((StatusCode::CREATED, Json(urging_json(&u))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplyBody {
    pub(super) reply: String,
}

pub(super) async fn reply_urging(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ReplyBody>,
) -> Res {
    Ok(Json(urging_json(&s.app.reply_urging(&actor, &id, &b.reply).await?)).into_response())
}

pub(super) async fn close_urging(
    State(s): State<AppState>,
    Authed(actor, _): Authed,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Res {
    Ok(Json(urging_json(&s.app.close_urging(&actor, &id, &b.note).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertQuery {
    pub(super) status: Option<String>,
    pub(super) department: Option<String>,
    pub(super) kind: Option<String>,
    pub(super) case_no: Option<String>,
    /// The alerts of a construction project (its code).
    pub(super) project_code: Option<String>,
    pub(super) page: Option<u32>,
    pub(super) per_page: Option<u32>,
}
