//! My services (我的办事): my cases, drafts, licences and notifications; each case's live progress timeline
//! (阳光审批: every step, who handled it, when, and the clock); answering a correction notice; withdrawing.
//! And progress lookup without signing in, by case number and query code.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Form;
use oneseal_app::cases::{CaseView, TrailEntry};
use oneseal_app::rows::CaseFilter;
use oneseal_app::AppError;
use oneseal_domain::case::{CaseCommand, CaseEvent, MaterialRef, Status};
use serde::Deserialize;
use serde_json::Value;

use super::portal::snake;
use super::{csrf_ok, forbidden, not_found, page, Ctx, Signed};
use crate::policy::Principal;
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/me", Access::SignedIn, home)
        .get("/me/cases/{case_no}", Access::SignedIn, case_page)
        .post("/me/cases/{case_no}/withdraw", Access::SignedIn, withdraw)
        .on(
            "POST",
            "/me/cases/{case_no}/correct",
            Access::SignedIn,
            post(correct)
                .layer(axum::extract::DefaultBodyLimit::max(3 * oneseal_app::attachments::MAX_ATTACHMENT_BYTES)),
        )
        .on(
            "POST",
            "/me/cases/{case_no}/drawing-answers",
            Access::SignedIn,
            post(answer_drawings)
                .layer(axum::extract::DefaultBodyLimit::max(3 * oneseal_app::attachments::MAX_ATTACHMENT_BYTES)),
        )
        .get("/progress", Access::Public, progress_form)
        .post("/progress", Access::Public, progress)
}

/// Beijing time of an instant, to the minute.
pub fn beijing(t: time::OffsetDateTime) -> String {
    let b = t.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!("{} {:02}:{:02}", b.date(), b.hour(), b.minute())
}

fn ms_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map(beijing).unwrap_or_default()
}

pub fn status_label(ctx: &Ctx, s: &str) -> String {
    ctx.t(&format!("status-{s}"))
}

pub struct CaseLine {
    pub case_no: String,
    pub title: String,
    pub status: String,
    pub status_key: String,
    pub submitted: String,
    pub deadline: String,
}

pub struct LicenseLine {
    pub identifier: String,
    pub name: String,
    pub number: String,
    pub issued: String,
    pub valid_to: String,
    pub status: String,
    pub valid: bool,
}

/// A licence as the applicant's pages list it.
fn license_line(ctx: &Ctx, l: oneseal_app::rows::LicenseRow) -> LicenseLine {
    let public: Value = serde_json::from_str(&l.signed_payload).unwrap_or_default();
    LicenseLine {
        name: public["license_name"].as_str().unwrap_or(&l.license_type).to_string(),
        number: l.number.clone(),
        issued: l.issued.clone(),
        valid_to: l.valid_to.clone().unwrap_or_else(|| ctx.t("verify-permanent")),
        status: ctx.t(&format!("license-status-{}", l.status)),
        valid: l.status == "valid",
        identifier: l.identifier,
    }
}

/// A date as shown to people, with the planned-date note when it was counted over a year without an official
/// holiday notice (计划日期，以国务院放假通知为准).
pub fn date_text(ctx: &Ctx, d: &str, provisional: bool) -> String {
    if provisional && !d.is_empty() {
        format!("{d}{}", ctx.t("provisional-note"))
    } else {
        d.to_string()
    }
}

/// The case's promised deadline in words, with the planned-date note when it is provisional.
pub fn deadline_text(ctx: &Ctx, v: &CaseView) -> String {
    match &v.clock {
        Some(c) => c.deadline.map(|d| date_text(ctx, &d.to_string(), c.provisional)).unwrap_or_default(),
        None => String::new(),
    }
}

/// Whether a stored ISO deadline falls in a year without an official holiday notice.
pub fn is_provisional_date(s: &AppState, d: &str) -> bool {
    oneseal_domain::calendar::parse_date(d).is_ok_and(|d| s.app.calendar().is_provisional(d.year()))
}

/// The clock of a case in words: not started, used and left (or late), paused; minutes for on-the-spot items.
pub fn clock_text(ctx: &Ctx, v: &CaseView) -> String {
    match &v.clock {
        _ if v.state.accepted_at.is_none() => ctx.t("clock-not-started"),
        Some(c) if c.unit == "working_days" => {
            let mut t = ctx.tn("clock-elapsed", c.elapsed);
            if v.state.finished_at.is_none() {
                t.push_str(" · ");
                t.push_str(&if c.remaining >= 0 {
                    ctx.tn("clock-remaining", c.remaining)
                } else {
                    ctx.tn("clock-overdue", -c.remaining)
                });
            }
            if c.paused {
                t.push_str(" · ");
                t.push_str(&ctx.t("clock-paused"));
            }
            if v.state.deemed_accepted {
                t.push_str(" · ");
                t.push_str(&ctx.t("clock-deemed"));
            }
            t
        }
        Some(c) => ctx.tn("limit-minutes", c.limit),
        None => ctx.t("clock-not-started"),
    }
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    ctx: Ctx,
    cases: Vec<CaseLine>,
    drafts: Vec<(String, String, String)>,
    licenses: Vec<LicenseLine>,
    notifications: Vec<(String, String, String)>,
}

async fn home(State(s): State<AppState>, ctx: Ctx, Signed(p): Signed) -> Response {
    let filter = CaseFilter { limit: 100, ..Default::default() };
    let cases = match s.app.list_cases(&p.actor, filter).await {
        Ok((rows, _)) => rows,
        Err(e) => return super::error_page(&ctx, e),
    };
    let cases = cases
        .into_iter()
        .map(|r| CaseLine {
            status: status_label(&ctx, &r.status),
            status_key: r.status.clone(),
            submitted: ms_time(r.submitted_at_ms),
            deadline: r.deadline.as_deref().map(|d| date_text(&ctx, d, is_provisional_date(&s, d))).unwrap_or_default(),
            case_no: r.case_no,
            title: r.title,
        })
        .collect();
    let view = s.app.catalog();
    let drafts = s
        .app
        .store
        .read({
            let me = p.actor.id.clone();
            move |db| db.drafts_of(&me).map_err(AppError::from)
        })
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(code, at)| {
            let name = view
                .latest_item(&code)
                .map(|i| i.body.name.clone())
                .or_else(|| view.latest_bundle(&code).map(|b| b.body.name.clone()))
                .unwrap_or(code.clone());
            (code, name, ms_time(at))
        })
        .collect();
    let licenses = match s.app.my_licenses(&p.actor).await {
        Ok(list) => list.into_iter().map(|l| license_line(&ctx, l)).collect(),
        Err(e) => return super::error_page(&ctx, e),
    };
    let notifications = s
        .app
        .notifications(&p.actor.id, 10)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|n| (n.case_no, n.message, ms_time(n.created_at_ms)))
        .collect();
    page(StatusCode::OK, &ctx, &MePage { ctx: ctx.clone(), cases, drafts, licenses, notifications })
}

/// One entry of the timeline.
pub struct Entry {
    pub at: String,
    pub what: String,
    pub who: String,
    pub detail: String,
    pub kind: String,
}

/// The timeline of a case, in the page's language. `me` is the applicant's account (shown as "you").
pub async fn timeline(s: &AppState, ctx: &Ctx, trail: &[TrailEntry], me: Option<&str>) -> Vec<Entry> {
    let mut names: std::collections::BTreeMap<String, String> = Default::default();
    let mut out = Vec::new();
    for t in trail {
        if !names.contains_key(&t.actor) {
            let n = if Some(t.actor.as_str()) == me {
                ctx.t("timeline-you")
            } else {
                let staff = match t.actor.parse::<oneseal_domain::ids::Username>() {
                    Ok(u) => s.app.staff(&u).await.ok(),
                    Err(_) => None,
                };
                staff.map(|a| a.display_name).unwrap_or_else(|| t.actor.clone())
            };
            names.insert(t.actor.clone(), n);
        }
        let detail = match &t.event {
            CaseEvent::CorrectionRequested { problems, due } => format!(
                "{} {}",
                problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>().join("；"),
                ctx.tv("timeline-due", &due.to_string())
            ),
            CaseEvent::Refused { reasons } => reasons.join("；"),
            CaseEvent::StepStarted { name, due, .. } => match due {
                Some(d) => format!("{name} · {}", ctx.tv("timeline-due", &d.to_string())),
                None => name.clone(),
            },
            CaseEvent::TaskCompleted { opinion, .. } => opinion.clone(),
            CaseEvent::SentBack { reason, .. } | CaseEvent::Withdrawn { reason } | CaseEvent::Terminated { reason } => {
                reason.clone()
            }
            CaseEvent::Suspended { reason, expected_days, .. } => {
                format!("{reason} · {}", ctx.tn("limit-working-days", *expected_days))
            }
            CaseEvent::Extended { days, reason, .. } => format!("{} · {reason}", ctx.tn("limit-working-days", *days)),
            CaseEvent::Decided { outcome, reasons, .. } => {
                let o = ctx.t(&format!("outcome-{}", snake(outcome)));
                if reasons.is_empty() {
                    o
                } else {
                    format!("{o} · {}", reasons.join("；"))
                }
            }
            CaseEvent::Accepted { deadline, deemed_from, .. } => {
                let mut out = deadline.map(|d| ctx.tv("timeline-deadline", &d.to_string())).unwrap_or_default();
                if let Some(from) = deemed_from {
                    out = format!("{} {out}", ctx.tv("timeline-deemed", &beijing(*from)));
                }
                out.trim().to_string()
            }
            CaseEvent::DatesRecomputed { year, deadline, previous, held_at_today, .. } => {
                let show = |d: Option<time::Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
                let mut out = format!(
                    "{} · {}",
                    ctx.tv("timeline-recomputed-year", &year.to_string()),
                    ctx.tv("timeline-deadline", &format!("{} → {}", show(previous.deadline), show(*deadline)))
                );
                if !held_at_today.is_empty() {
                    out.push_str(&format!(" · {}", ctx.t("timeline-held-at-today")));
                }
                out
            }
            CaseEvent::LicensesIssued { licenses } => licenses.join("、"),
            CaseEvent::FilingRecorded { receipt_no } => receipt_no.clone(),
            CaseEvent::VideoRecorded { video, .. } => video.file_name.clone(),
            CaseEvent::InspectionMethodChosen { method, reason, .. } => {
                let m = ctx.t(&format!("insp-method-{}", method.as_str()));
                reason.as_ref().map(|r| format!("{m} · {r}")).unwrap_or(m)
            }
            CaseEvent::InspectionNoteAdded { note } => format!("{} {}", moment(note.at_ms), note.text),
            CaseEvent::DrawingCommentAdded { comment } => format!("{} · {}", comment.sheet, comment.text),
            CaseEvent::DrawingCommentsAnswered { answers, .. } => {
                answers.iter().map(|a| a.comment_id.as_str()).collect::<Vec<_>>().join("、")
            }
            CaseEvent::InspectionConcluded { points, opinion, .. } => {
                if points.is_empty() {
                    opinion.clone()
                } else {
                    format!("{opinion}：{}", points.join("；"))
                }
            }
            _ => String::new(),
        };
        let kind = t.event.type_name().to_string();
        out.push(Entry {
            at: beijing(t.at),
            what: ctx.t(&format!("event-{kind}")),
            who: names.get(&t.actor).cloned().unwrap_or_default(),
            detail,
            kind,
        });
    }
    out
}

/// A form field a correction asks to change.
pub struct FixField {
    pub key: String,
    pub label: String,
    pub value: String,
    pub message: String,
}

/// A shipment as the case pages show it (邮政寄送): personal data masked, the tracking newest first.
pub struct ShipmentLine {
    pub id: String,
    pub attempt: i64,
    pub waybill: String,
    pub status: String,
    pub status_label: String,
    pub postage: String,
    pub address: String,
    /// (time, stage, location, note), newest first.
    pub tracking: Vec<(String, String, String, String)>,
    pub returned: bool,
}

/// A case's shipments for a page (none when the reader may not see them).
pub async fn shipment_lines(s: &AppState, ctx: &Ctx, p: &Principal, case_no: &str) -> Vec<ShipmentLine> {
    let list = s.app.case_shipments(&p.actor, case_no).await.unwrap_or_default();
    list.into_iter()
        .map(|x| ShipmentLine {
            returned: x.status == "returned",
            status_label: ctx.t(&format!("shipment-status-{}", x.status.replace('_', "-"))),
            postage: ctx.t(&format!("shipment-postage-{}", x.postage)),
            waybill: x.waybill.unwrap_or_else(|| ctx.t("shipment-waybill-pending")),
            tracking: x
                .tracking
                .iter()
                .rev()
                .map(|t| {
                    (
                        ms_time(t.at_ms),
                        ctx.t(&format!("shipment-status-{}", t.stage.as_str().replace('_', "-"))),
                        t.location.clone(),
                        t.note.clone(),
                    )
                })
                .collect(),
            id: x.id,
            attempt: x.attempt,
            status: x.status,
            address: x.address,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    ctx: Ctx,
    v: CaseView,
    status: String,
    entries: Vec<Entry>,
    licenses: Vec<LicenseLine>,
    fix_materials: Vec<(String, String, String)>,
    fix_fields: Vec<FixField>,
    can_withdraw: bool,
    error: Option<String>,
    clock_text: String,
    deadline_text: String,
    shipments: Vec<ShipmentLine>,
    /// Window clerks act on returned shipments on the workbench, never here.
    window_clerk: bool,
    /// 视频勘验: what the applicant sees of the inspection (method, checklist, videos, notes, conclusions).
    inspection: Option<InspectionLines>,
    /// 多图联审: every department's comments, and whether the applicant answers them now.
    drawings: Option<DrawingLines>,
}

/// 多图联审 comments as the applicant reads them: (id, department, sheet, text, round, answer), and the drawing
/// files (material id, name) a revised set may replace when the applicant answers now.
pub struct DrawingLines {
    pub comments: Vec<(String, String, String, String, u32, Option<String>)>,
    pub answer_now: bool,
    pub files: Vec<(String, String)>,
}

fn drawing_lines(s: &AppState, ctx: &Ctx, p: &Principal, v: &CaseView) -> Option<DrawingLines> {
    let review = v.state.drawing_review.as_ref()?;
    let view = s.app.catalog();
    let open = review.open().count() > 0;
    // The applicant's people answer: the account, or an organisation's representative and agents.
    let mine = p
        .actor
        .acts_as_applicant(v.state.applicant.account.as_deref(), oneseal_domain::case::organisation_of(&v.state));
    let def = view.definition(&v.state.subject).ok();
    let mut files: Vec<(String, String)> = Vec::new();
    for c in &review.comments {
        if !files.iter().any(|f| f.0 == c.comment.material_id) {
            let name = def
                .as_ref()
                .and_then(|d| d.materials.iter().find(|m| m.id == c.comment.material_id))
                .map(|m| m.name.clone())
                .unwrap_or_else(|| c.comment.material_id.clone());
            files.push((c.comment.material_id.clone(), name));
        }
    }
    Some(DrawingLines {
        comments: review
            .comments
            .iter()
            .map(|c| {
                (
                    c.comment.comment_id.clone(),
                    super::portal::department_name(ctx, &view, c.comment.department.as_str()),
                    c.comment.sheet.clone(),
                    c.comment.text.clone(),
                    c.comment.round,
                    c.answer.clone(),
                )
            })
            .collect(),
        answer_now: open && mine && v.state.status == Status::InProgress,
        files,
    })
}

/// The inspection of a case as the applicant reads it.
pub struct InspectionLines {
    /// The tus creation address when the applicant may upload a recording now.
    pub upload: Option<String>,
    /// The applicant may choose between video and on site.
    pub can_choose: bool,
    pub method: String,
    pub reason: Option<String>,
    pub checklist: Vec<(String, String)>,
    pub videos: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub conclusions: Vec<(String, String)>,
    pub open_points: Vec<String>,
    /// 勘验预约 / 联合踏勘: the slot, the meeting link, the departments' findings and the joint result.
    pub schedule: Option<ScheduleLines>,
}

/// A scheduled inspection as people read it.
pub struct ScheduleLines {
    /// When, how long, how (Beijing time).
    pub when: String,
    pub visit: String,
    pub meeting_url: Option<String>,
    /// Other cases of a joint inspection (联合踏勘); empty for one case.
    pub joint_with: Vec<String>,
    pub lead: String,
    /// Each department's findings: department, satisfied or not, text.
    pub findings: Vec<(String, String, String)>,
    pub joint_result: Option<String>,
    /// 联合验收: every department's result for each checklist entry, each check in order.
    pub results: Vec<ResultLine>,
    /// 联合验收整改: the failed entries the latest correction is about, and the applicant's report.
    pub rectification: Option<RectificationLines>,
}

/// One department's result for one checklist entry at one check.
pub struct ResultLine {
    pub department: String,
    pub entry: String,
    pub passed: bool,
    pub verdict: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

/// The correction (整改) a joint result asked for.
pub struct RectificationLines {
    /// "department · entry" of each failed entry.
    pub failed: Vec<String>,
    /// The applicant's report, once given.
    pub report: Option<String>,
}

/// The scheduled inspection of a case's record, for the applicant's page and the workbench.
pub fn schedule_lines(
    ctx: &Ctx,
    s: &AppState,
    case_no: &str,
    r: &oneseal_domain::inspection::InspectionRecord,
    checklist: &[oneseal_domain::catalog::ChecklistItem],
) -> Option<ScheduleLines> {
    let sc = r.schedule.as_ref()?;
    let view = s.app.catalog();
    let dept = |d: &str| super::portal::department_name(ctx, &view, d);
    let visit = serde_json::to_value(sc.visit).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    Some(ScheduleLines {
        when: format!("{} · {}", beijing(sc.start), ctx.tn("limit-minutes", i64::from(sc.minutes))),
        visit: ctx.t(&format!("insp-visit-{visit}")),
        meeting_url: sc.meeting_url.clone(),
        joint_with: sc.cases.iter().map(|c| c.to_string()).filter(|c| c != case_no).collect(),
        lead: dept(sc.lead.as_str()),
        findings: r
            .findings
            .iter()
            .map(|f| {
                let d = f.department.as_ref().map(|d| dept(d.as_str())).unwrap_or_default();
                let ok = ctx.t(if f.satisfied { "insp-satisfied" } else { "insp-not-satisfied" });
                (d, ok, f.findings.clone())
            })
            .collect(),
        joint_result: r.joint_result.as_ref().map(|j| format!("{} · {}", beijing(j.at), j.opinion)),
        results: r
            .findings
            .iter()
            .flat_map(|f| f.checklist.iter().map(move |e| (f, e)))
            .map(|(f, e)| {
                let (department, entry) = entry_names(ctx, &dept, checklist, &e.item);
                let verdict = match (e.passed, f.round > 1) {
                    (true, true) => ctx.t("insp-entry-corrected"),
                    (true, false) => ctx.t("insp-entry-passed"),
                    (false, _) => ctx.t("insp-entry-failed"),
                };
                let note = e.note.clone().unwrap_or_default();
                ResultLine { department, entry, passed: e.passed, verdict, note, by: f.by.clone(), at: beijing(f.at) }
            })
            .collect(),
        rectification: r.rectifications.last().map(|x| RectificationLines {
            failed: x
                .failed
                .iter()
                .map(|f| {
                    let (d, e) = entry_names(ctx, &dept, checklist, &f.item);
                    format!("{d} · {e}")
                })
                .collect(),
            report: x.report.clone(),
        }),
    })
}

/// A checklist entry's department and name as people read them (the id when the checklist does not know it).
fn entry_names(
    ctx: &Ctx,
    dept: &dyn Fn(&str) -> String,
    checklist: &[oneseal_domain::catalog::ChecklistItem],
    item: &str,
) -> (String, String) {
    match checklist.iter().find(|c| c.id == item) {
        Some(c) => (
            c.department.as_ref().map(|d| dept(d.as_str())).unwrap_or_default(),
            ctx.pick(&c.name, &c.name_en).to_string(),
        ),
        None => (String::new(), item.to_string()),
    }
}

/// mm:ss of a moment in a recording.
fn moment(ms: i64) -> String {
    format!("{:02}:{:02}", ms / 60_000, (ms / 1000) % 60)
}

async fn inspection_lines(s: &AppState, ctx: &Ctx, p: &Principal, v: &CaseView) -> Option<InspectionLines> {
    let view = s.app.inspection_view(&p.actor, &v.state.case_no).await.ok()?;
    if view.method.is_none() && view.videos.is_empty() && view.record == Default::default() {
        return None;
    }
    let method = view.method.or(view.record.method);
    let mine = v.state.applicant.account.as_deref() == Some(p.actor.id.as_str());
    let upload = (mine && view.method == Some(oneseal_domain::inspection::Method::Video))
        .then(|| format!("/api/v1/cases/{}/video-uploads", v.state.case_no));
    let can_choose = mine
        && view.method.is_some()
        && view.allowed == Some(oneseal_domain::catalog::InspectionMode::Either)
        && !view.record.method_by_staff;
    let name_of = |id: &str| {
        view.checklist
            .iter()
            .find(|c| c.id == id)
            .map(|c| ctx.pick(&c.name, &c.name_en).to_string())
            .unwrap_or_else(|| id.to_string())
    };
    Some(InspectionLines {
        upload,
        can_choose,
        method: method.map(|m| ctx.t(&format!("insp-method-{}", m.as_str()))).unwrap_or_default(),
        reason: view.record.method_reason.clone(),
        checklist: view.checklist.iter().map(|c| (ctx.pick(&c.name, &c.name_en).to_string(), c.hint.clone())).collect(),
        videos: view
            .videos
            .iter()
            .map(|x| {
                (
                    x.id.clone(),
                    format!("{} · {} · {}×{} · {}", x.file_name, moment(x.duration_ms), x.width, x.height, x.codec),
                )
            })
            .collect(),
        notes: view
            .record
            .notes
            .iter()
            .map(|n| {
                let item = n.note.checklist_item.as_deref().map(|i| format!("【{}】", name_of(i))).unwrap_or_default();
                format!("{} {item}{}", moment(n.note.at_ms), n.note.text)
            })
            .collect(),
        conclusions: view
            .record
            .conclusions
            .iter()
            .map(|c| {
                let label = ctx.t(&format!(
                    "insp-conclusion-{}",
                    serde_json::to_value(c.conclusion)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ));
                let mut text = c.opinion.clone();
                if !c.points.is_empty() {
                    text = format!("{text}：{}", c.points.join("；"));
                }
                (label, text)
            })
            .collect(),
        open_points: view.record.open_points.clone(),
        schedule: schedule_lines(ctx, s, v.state.case_no.as_str(), &view.record, &view.checklist),
    })
}

async fn load_case(s: &AppState, p: &Principal, no: &str) -> Result<(CaseView, Vec<TrailEntry>), AppError> {
    let v = super::masked_case(s, &p.actor, no).await?;
    let trail = s.app.trail(&p.actor, &v.state.case_no).await?;
    Ok((v, trail))
}

async fn case_page_with(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    headers: &HeaderMap,
    no: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (v, trail) = match load_case(s, p, no).await {
        Ok(x) => x,
        Err(_) => return not_found(headers, &format!("/me/cases/{no}")),
    };
    let entries = timeline(s, ctx, &trail, v.state.applicant.account.as_deref()).await;
    let licenses = match s.app.case_licenses(&v.state.case_no).await {
        Ok(list) => list.into_iter().map(|l| license_line(ctx, l)).collect(),
        Err(e) => return super::error_page(ctx, e),
    };
    // The open correction notice: its problems, by material or form field.
    let mut fix_materials = Vec::new();
    let mut fix_fields = Vec::new();
    if v.state.status == Status::AwaitingCorrection {
        let def = s.app.catalog().definition(&v.state.subject).ok();
        let problems = trail.iter().rev().find_map(|t| match &t.event {
            CaseEvent::CorrectionRequested { problems, .. } => Some(problems.clone()),
            _ => None,
        });
        for pr in problems.unwrap_or_default() {
            let Some(def) = &def else { continue };
            if let Some(m) = def.materials.iter().find(|m| m.id == pr.subject) {
                fix_materials.push((m.id.clone(), m.name.clone(), pr.message.clone()));
            } else if let Some(f) = def.form.fields.iter().find(|f| f.key == pr.subject) {
                fix_fields.push(FixField {
                    key: f.key.clone(),
                    label: ctx.pick(&f.label, &f.label_en).to_string(),
                    value: match v.state.form.get(&f.key) {
                        Some(Value::String(x)) => x.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    },
                    message: pr.message.clone(),
                });
            }
        }
    }
    let can_withdraw = matches!(
        v.state.status,
        Status::Submitted | Status::AwaitingCorrection | Status::InProgress | Status::Suspended
    ) && v.state.applicant.account.as_deref() == Some(p.actor.id.as_str());
    let clock_text = clock_text(ctx, &v);
    let deadline_text = deadline_text(ctx, &v);
    let status_text = status_label(ctx, v.state.status.as_str());
    let shipments = shipment_lines(s, ctx, p, v.state.case_no.as_str()).await;
    let inspection = inspection_lines(s, ctx, p, &v).await;
    let drawings = drawing_lines(s, ctx, p, &v);
    let page_ = CasePage {
        drawings,
        inspection,
        shipments,
        window_clerk: false,
        deadline_text,
        ctx: ctx.clone(),
        status: status_text,
        entries,
        licenses,
        fix_materials,
        fix_fields,
        can_withdraw,
        error,
        clock_text,
        v,
    };
    page(status, ctx, &page_)
}

async fn case_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Response {
    case_page_with(&s, &ctx, &p, &headers, &no, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn withdraw(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
    form: Result<Form<WithdrawForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return forbidden(&headers, &format!("/me/cases/{no}"));
    };
    if !csrf_ok(&p, &f.csrf) {
        return forbidden(&headers, &format!("/me/cases/{no}"));
    }
    let reason = f.reason.trim().chars().take(500).collect::<String>();
    let reason = if reason.is_empty() { ctx.t("withdraw-default-reason") } else { reason };
    let withdrawn = match crate::extract::parse_case_no(&no) {
        Ok(n) => s.app.command(&p.actor, &n, CaseCommand::Withdraw { reason }, None).await,
        Err(e) => Err(e),
    };
    match withdrawn {
        Ok(_) => Redirect::to(&format!("/me/cases/{no}")).into_response(),
        Err(AppError::NotFound(_)) => not_found(&headers, &format!("/me/cases/{no}")),
        Err(_) => {
            let msg = ctx.t("withdraw-failed");
            case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// A case page's multipart form, its CSRF token checked: `f_` fields (trimmed) and non-empty `file_` files.
struct CaseForm {
    fields: serde_json::Map<String, Value>,
    files: Vec<(String, String, Vec<u8>)>,
    /// The case as the poster sees it.
    current: CaseView,
}

async fn read_case_form(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    headers: &HeaderMap,
    no: &str,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<CaseForm, Response> {
    let Ok(mut mp) = multipart else {
        return Err(forbidden(headers, &format!("/me/cases/{no}")));
    };
    let mut csrf = String::new();
    let mut fields = serde_json::Map::new();
    let mut files = Vec::new();
    let mut failed = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().unwrap_or_default().to_string();
                match field.bytes().await {
                    Ok(b) if name == "_csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                    Ok(b) => {
                        if let Some(id) = name.strip_prefix("file_") {
                            if !b.is_empty() {
                                files.push((id.to_string(), file_name, b.to_vec()));
                            }
                        } else if let Some(key) = name.strip_prefix("f_") {
                            fields
                                .insert(key.to_string(), Value::String(String::from_utf8_lossy(&b).trim().to_string()));
                        }
                    }
                    Err(_) => {
                        failed = Some("apply-file-too-large");
                        break;
                    }
                }
            }
            Ok(None) => break,
            Err(_) => {
                failed = Some("apply-file-too-large");
                break;
            }
        }
    }
    if !csrf_ok(p, &csrf) {
        return Err(forbidden(headers, &format!("/me/cases/{no}")));
    }
    if let Some(key) = failed {
        return Err(case_page_with(s, ctx, p, headers, no, Some(ctx.t(key)), StatusCode::PAYLOAD_TOO_LARGE).await);
    }
    let Ok(current) = super::case_by_no(s, &p.actor, no).await else {
        return Err(not_found(headers, &format!("/me/cases/{no}")));
    };
    Ok(CaseForm { fields, files, current })
}

/// Store each file as an attachment and name it as the material it is for.
async fn upload_files(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    headers: &HeaderMap,
    no: &str,
    files: Vec<(String, String, Vec<u8>)>,
) -> Result<Vec<MaterialRef>, Response> {
    let mut materials = Vec::new();
    for (id, file_name, bytes) in files {
        match s.app.upload_attachment(&p.actor, &file_name, &bytes).await {
            Ok(a) => materials.push(MaterialRef {
                material_id: id,
                file_name: a.file_name,
                attachment: Some(a.id),
                ..Default::default()
            }),
            Err(AppError::Invalid { code, .. }) => {
                let key = if code == "attachment_type" { "apply-file-type" } else { "apply-file-too-large" };
                return Err(
                    case_page_with(s, ctx, p, headers, no, Some(ctx.t(key)), StatusCode::UNPROCESSABLE_ENTITY).await
                );
            }
            Err(_) => {
                let msg = ctx.t("apply-file-failed");
                return Err(case_page_with(s, ctx, p, headers, no, Some(msg), StatusCode::SERVICE_UNAVAILABLE).await);
            }
        }
    }
    Ok(materials)
}

/// 多图联审: the applicant answers every open comment at once (`f_answer_{comment id}`), with revised drawings
/// (`file_{material id}`), through the same command as the API.
async fn answer_drawings(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let form = match read_case_form(&s, &ctx, &p, &headers, &no, multipart).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let current = form.current;
    let answers = form
        .fields
        .iter()
        .filter_map(|(k, v)| {
            Some(oneseal_domain::drawing_review::DrawingAnswer {
                comment_id: k.strip_prefix("answer_")?.to_string(),
                text: v.as_str().unwrap_or_default().to_string(),
            })
        })
        .collect();
    let materials = match upload_files(&s, &ctx, &p, &headers, &no, form.files).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let cmd = CaseCommand::AnswerDrawingComments { answers, materials };
    match s.app.command(&p.actor, &current.state.case_no, cmd, None).await {
        Ok(_) => Redirect::to(&format!("/me/cases/{no}")).into_response(),
        Err(e) => {
            let msg = format!("{} {}", e.title_zh(), e);
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), status).await
        }
    }
}

/// Answer a correction notice: new files for the materials it names, new values for the fields it names.
async fn correct(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let form = match read_case_form(&s, &ctx, &p, &headers, &no, multipart).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (fields, files, current) = (form.fields, form.files, form.current);
    let materials = match upload_files(&s, &ctx, &p, &headers, &no, files).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    // Changed fields are merged into the form as submitted, typed like the originals.
    let form = if fields.is_empty() {
        None
    } else {
        let mut f = current.state.form.clone();
        for (k, v) in fields {
            let typed = match (f.get(&k), &v) {
                (Some(Value::Number(_)), Value::String(x)) => {
                    x.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(v.clone())
                }
                _ => v,
            };
            f.insert(k, typed);
        }
        Some(f)
    };
    let no_ = &current.state.case_no;
    match s.app.command(&p.actor, no_, CaseCommand::SubmitCorrection { form, materials }, None).await {
        Ok(_) => Redirect::to(&format!("/me/cases/{no}")).into_response(),
        Err(e) => {
            let msg = match e {
                AppError::Case(oneseal_domain::case::CaseError::InvalidForm(_)) => ctx.t("correct-invalid"),
                _ => ctx.t("correct-failed"),
            };
            case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    ctx: Ctx,
    case_no: String,
    error: Option<String>,
    result: Option<ProgressView>,
}

pub struct ProgressView {
    pub case_no: String,
    pub title: String,
    pub status: String,
    pub status_key: String,
    pub current_step: String,
    pub passed: Vec<String>,
    pub deadline: String,
    pub outcome: String,
}

async fn progress_form(ctx: Ctx) -> Response {
    page(StatusCode::OK, &ctx, &ProgressPage { ctx: ctx.clone(), case_no: String::new(), error: None, result: None })
}

#[derive(Deserialize)]
struct ProgressForm {
    #[serde(default)]
    case_no: String,
    #[serde(default)]
    query_code: String,
}

async fn progress(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ctx: Ctx,
    form: Result<Form<ProgressForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or(ProgressForm { case_no: String::new(), query_code: String::new() });
    let case_no: String = f.case_no.trim().to_uppercase().chars().take(40).collect();
    let mut p = ProgressPage { ctx: ctx.clone(), case_no: case_no.clone(), error: None, result: None };
    if case_no.is_empty() || f.query_code.trim().is_empty() || f.query_code.len() > 40 {
        p.error = Some(ctx.t("progress-missing"));
        return page(StatusCode::UNPROCESSABLE_ENTITY, &ctx, &p);
    }
    let addr = peer.ip().to_string();
    let found = match crate::extract::parse_case_no(&case_no) {
        Ok(n) => s.app.progress(&n, &f.query_code, Some(&addr)).await,
        Err(_) => Err(s.app.progress_malformed(&case_no, Some(&addr)).await),
    };
    match found {
        Ok(r) => {
            p.result = Some(ProgressView {
                case_no: r.case_no.to_string(),
                title: r.title,
                status: status_label(&ctx, r.status.as_str()),
                status_key: r.status.as_str().to_string(),
                current_step: match (&r.current_step, &r.current_step_en) {
                    (Some(zh), Some(en)) => ctx.pick(zh, en).to_string(),
                    (Some(zh), None) => zh.clone(),
                    _ => String::new(),
                },
                passed: r.passed_step_names.iter().map(|n| ctx.pick(&n.name, &n.name_en).to_string()).collect(),
                deadline: date_text(
                    &ctx,
                    &r.deadline.unwrap_or_default(),
                    r.clock.as_ref().is_some_and(|c| c.provisional),
                ),
                outcome: r.outcome.map(|o| ctx.t(&format!("outcome-{}", snake(&o)))).unwrap_or_default(),
            });
            page(StatusCode::OK, &ctx, &p)
        }
        Err(e @ AppError::RateLimited { .. }) => {
            p.error = Some(ctx.tn("progress-too-many", (e.retry_after().unwrap_or(60) / 60 + 1) as i64));
            page(StatusCode::TOO_MANY_REQUESTS, &ctx, &p)
        }
        Err(_) => {
            p.error = Some(ctx.t("progress-not-found"));
            page(StatusCode::NOT_FOUND, &ctx, &p)
        }
    }
}
