//! The staff workbench (工作台): inboxes by role (intake at the window, to claim, mine, due soon, overdue) with
//! counts; the case page with the applicant (masked), form, materials (inline preview), the full trail and the
//! clock, and only the actions this person may take now — found by asking the domain (`case::decide` as a dry
//! run), so the page can never offer what the engine would refuse.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use oneseal_app::cases::{CaseView, QueueView};
use oneseal_domain::case::{self, Assignee, CaseCommand, Delivery, Outcome, Problem, SuspensionKind};
use oneseal_domain::roles::Role;
use serde::Deserialize;
use serde_json::{json, Value};

use super::me::{beijing, shipment_lines, status_label, timeline, Entry, ShipmentLine};
use super::{csrf_ok, forbidden, not_found, page, Ctx, Signed};
use crate::policy::Principal;
use crate::AppState;

pub fn routes() -> crate::routes::Routes {
    use crate::policy::Access;
    crate::routes::Routes::pages()
        .get("/work", Access::Staff, inbox)
        .get("/work/cases/{case_no}", Access::Staff, case_page)
        .post("/work/cases/{case_no}/act", Access::Staff, act)
        .post("/work/cases/{case_no}/shipments", Access::Roles(&[Role::WindowClerk]), shipment_act)
}

/// One row of an inbox.
pub struct Row {
    pub case_no: String,
    pub title: String,
    pub step: String,
    pub due: String,
    pub overdue: bool,
    pub assignee: String,
}

#[derive(Template)]
#[template(path = "work.html")]
struct InboxPage {
    ctx: Ctx,
    view: String,
    /// (view, label, count)
    tabs: Vec<(String, String, i64)>,
    rows: Vec<Row>,
    q: String,
    today: String,
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    view: Option<String>,
    q: Option<String>,
}

const PAGE: i64 = 200;
/// Inbox counts stop here ("1000+"): counting every one of 100,000 open tasks on every page view is waste.
const COUNT_CAP: i64 = 1000;

async fn inbox(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    q: Result<Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|q| q.0).unwrap_or_default();
    let text = q.q.as_deref().map(str::trim).unwrap_or("").chars().take(60).collect::<String>();
    // A case number goes straight to its case.
    if oneseal_domain::ids::CaseNo::parse(&text.to_uppercase()).is_ok() {
        return Redirect::to(&format!("/work/cases/{}", text.to_uppercase())).into_response();
    }
    let clerk = p.actor.has(Role::WindowClerk);
    let mut tabs = Vec::new();
    if clerk {
        let n = s.app.intake_queue(&p.actor, 1, 0).await.map(|(_, n)| n).unwrap_or(0);
        tabs.push(("intake".to_string(), ctx.t("work-intake"), n));
    }
    for (v, key) in [
        (QueueView::ToClaim, "work-to-claim"),
        (QueueView::Mine, "work-mine"),
        (QueueView::DueSoon, "work-due-soon"),
        (QueueView::Overdue, "work-overdue"),
    ] {
        let n = s.app.work_queue(&p.actor, v, 1, 0, Some(COUNT_CAP)).await.map(|(_, n)| n).unwrap_or(0);
        tabs.push((queue_name(v).to_string(), ctx.t(key), n));
    }
    let default = if clerk { "intake" } else { "to_claim" };
    let view = q.view.filter(|v| tabs.iter().any(|t| t.0 == *v)).unwrap_or(default.to_string());
    let today = super::me_today(&s);
    let mut rows: Vec<Row> = if view == "intake" {
        s.app
            .intake_queue(&p.actor, PAGE, 0)
            .await
            .map(|(r, _)| r)
            .unwrap_or_default()
            .into_iter()
            .map(|c| Row {
                step: status_label(&ctx, &c.status),
                due: String::new(),
                overdue: false,
                assignee: c.service_point.clone(),
                case_no: c.case_no,
                title: c.title,
            })
            .collect()
    } else {
        let v = match view.as_str() {
            "mine" => QueueView::Mine,
            "due_soon" => QueueView::DueSoon,
            "overdue" => QueueView::Overdue,
            _ => QueueView::ToClaim,
        };
        s.app
            .work_queue(&p.actor, v, PAGE, 0, Some(0))
            .await
            .map(|(r, _)| r)
            .unwrap_or_default()
            .into_iter()
            .map(|t| Row {
                overdue: t.due.as_deref().is_some_and(|d| d < today.as_str()),
                due: t.due.unwrap_or_default(),
                assignee: t.assignee.unwrap_or_default(),
                step: t.step_name,
                case_no: t.case_no,
                title: t.title,
            })
            .collect()
    };
    if !text.is_empty() {
        rows.retain(|r| r.title.contains(&text) || r.case_no.contains(&text.to_uppercase()));
    }
    page(StatusCode::OK, &ctx, &InboxPage { ctx: ctx.clone(), view, tabs, rows, q: text, today })
}

fn queue_name(v: QueueView) -> &'static str {
    match v {
        QueueView::ToClaim => "to_claim",
        QueueView::Mine => "mine",
        QueueView::DueSoon => "due_soon",
        QueueView::Overdue => "overdue",
    }
}

/// An action the person may take now, with what its form needs.
pub struct Action {
    pub name: String,
    pub label: String,
    pub task_id: String,
    /// The label of the opinion field, in the words of the step's kind (审查意见, 核查意见, …).
    pub opinion_label: String,
}

pub struct MaterialLine {
    pub name: String,
    pub file: String,
    pub href: String,
    pub image: bool,
    pub pdf: bool,
    pub license: String,
    pub digest: String,
    pub pledgeable: bool,
    pub material_id: String,
}

#[derive(Template)]
#[template(path = "work-case.html")]
struct CasePage {
    ctx: Ctx,
    v: CaseView,
    status: String,
    applicant: Vec<(String, String)>,
    form: Vec<(String, String)>,
    materials: Vec<MaterialLine>,
    entries: Vec<Entry>,
    actions: Vec<Action>,
    passed: Vec<(String, String)>,
    clock_text: String,
    deadline_text: String,
    error: Option<String>,
    problem_subjects: Vec<(String, String)>,
    suspension_kinds: Vec<(String, String)>,
    submitted_at: String,
    has_correction: bool,
    /// Consultations of the case: (kind label, regulator name, question, due, answer).
    consultations: Vec<(String, String, String, String, String)>,
    /// Regulating departments one may ask (id, name), when the viewer works the current step.
    regulators: Vec<(String, String)>,
    /// What the last action did (shown as a status message, announced to screen readers).
    done: Option<String>,
    /// The current step's open tasks: (what, who holds it).
    tasks: Vec<(String, String)>,
    /// The result's shipments (邮政寄送), and whether this person may act on a returned one (a window clerk).
    shipments: Vec<ShipmentLine>,
    window_clerk: bool,
    /// 视频勘验: what the reviewer works with, when the case is at an inspection step and the viewer inspects.
    review: Option<ReviewLines>,
}

/// The reviewer's view of the inspection: the recordings to play, the checklist to tie notes to, and whether they
/// may conclude.
pub struct ReviewLines {
    pub videos: Vec<(String, String)>,
    pub checklist: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub video: bool,
    /// 勘验预约 / 联合踏勘: the scheduled inspection, if any.
    pub schedule: Option<super::me::ScheduleLines>,
    /// Nothing is scheduled yet: the inspector may schedule (a live session where the step allows video).
    pub can_schedule: bool,
    pub live_allowed: bool,
    /// The viewer's own open task, for their department's findings once scheduled.
    pub findings_task: Option<String>,
    /// The viewer is of the lead department: they record the joint result.
    pub lead: bool,
    /// 联合验收: the viewer's open task and the entries of its department's checklist to record now.
    pub checklist_form: Option<(String, Vec<(String, String, String)>)>,
    /// The reviewer concludes on the recordings (not at a checklist inspection: the joint result completes it).
    pub conclude: bool,
}

async fn review_lines(s: &AppState, ctx: &Ctx, p: &Principal, v: &CaseView) -> Option<ReviewLines> {
    let step = v.state.current_step.as_ref().filter(|s| s.kind == oneseal_domain::catalog::StepKind::Inspection)?;
    if !step
        .tasks
        .iter()
        .any(|t| t.status == oneseal_domain::case::TaskStatus::Open && p.actor.can_work(t.role, t.department.as_ref()))
    {
        return None;
    }
    let view = s.app.inspection_view(&p.actor, &v.state.case_no).await.ok()?;
    let sched = view.record.schedule.as_ref();
    let own = step.tasks.iter().find(|t| {
        t.status == oneseal_domain::case::TaskStatus::Open && p.actor.can_work(t.role, t.department.as_ref())
    });
    let own_task = own.map(|t| t.task_id.clone());
    // 联合验收: a step inspected by checklist takes the department's entries instead of free findings.
    let def = s.app.catalog().definition(&v.state.subject).ok()?;
    let sdef = def.process.steps.iter().find(|d| d.id == step.step_id)?;
    let by_checklist = oneseal_domain::acceptance::by_checklist(sdef);
    let checklist_form = match (own, sched, by_checklist) {
        (Some(t), Some(_), true) => t.department.as_ref().and_then(|d| {
            let entries = oneseal_domain::acceptance::to_record(sdef, Some(&view.record), d, &t.task_id);
            (!entries.is_empty() && !oneseal_domain::acceptance::awaiting_correction(Some(&view.record))).then(|| {
                let lines = entries
                    .iter()
                    .map(|c| (c.id.clone(), ctx.pick(&c.name, &c.name_en).to_string(), c.hint.clone()))
                    .collect();
                (t.task_id.clone(), lines)
            })
        }),
        _ => None,
    };
    Some(ReviewLines {
        videos: view
            .videos
            .iter()
            .map(|x| {
                (
                    x.id.clone(),
                    format!("{} · {}×{} · {} · {} ms", x.file_name, x.width, x.height, x.codec, x.duration_ms),
                )
            })
            .collect(),
        checklist: view.checklist.iter().map(|c| (c.id.clone(), ctx.pick(&c.name, &c.name_en).to_string())).collect(),
        notes: view
            .record
            .notes
            .iter()
            .map(|n| {
                format!("{} ms · {} · {}", n.note.at_ms, n.note.checklist_item.clone().unwrap_or_default(), n.note.text)
            })
            .collect(),
        video: view.method == Some(oneseal_domain::inspection::Method::Video),
        schedule: super::me::schedule_lines(ctx, s, v.state.case_no.as_str(), &view.record, &view.checklist),
        can_schedule: sched.is_none()
            && (!by_checklist || sdef.department.is_none() || sdef.department == p.actor.department),
        live_allowed: matches!(
            view.allowed,
            Some(oneseal_domain::catalog::InspectionMode::Video | oneseal_domain::catalog::InspectionMode::Either)
        ),
        findings_task: sched.and(own_task).filter(|_| !by_checklist),
        lead: sched.is_some_and(|x| p.actor.department.as_ref() == Some(&x.lead)),
        checklist_form,
        conclude: !by_checklist,
    })
}

/// The actions `p` may take on the case now: every candidate command is tried against the domain's rules.
fn allowed_actions(s: &AppState, ctx: &Ctx, p: &Principal, v: &CaseView) -> Vec<Action> {
    let st = &v.state;
    let Ok(def) = s.app.catalog().definition(&st.subject) else { return vec![] };
    let cal = s.app.calendar();
    let dctx = case::Ctx { now: s.app.now(), actor: &p.actor, calendar: &cal, def: &def };
    let x = || "x".to_string();
    let first_subject = def.materials.first().map(|m| m.id.clone()).unwrap_or_else(x);
    let mut candidates: Vec<(&str, String, CaseCommand)> = vec![
        ("accept", String::new(), CaseCommand::Accept { pledges: vec![] }),
        ("refuse", String::new(), CaseCommand::Refuse { reasons: vec![x()] }),
        (
            "request-correction",
            String::new(),
            CaseCommand::RequestCorrection { problems: vec![Problem { subject: first_subject, message: x() }] },
        ),
    ];
    if let Some(step) = &st.current_step {
        for t in step.tasks.iter().filter(|t| t.status == case::TaskStatus::Open) {
            candidates.push(("claim", t.task_id.clone(), CaseCommand::ClaimTask { task_id: t.task_id.clone() }));
            candidates.push((
                "complete",
                t.task_id.clone(),
                CaseCommand::CompleteTask { task_id: t.task_id.clone(), opinion: x() },
            ));
            let me = Assignee {
                id: p.actor.id.clone(),
                roles: p.actor.roles.clone(),
                department: p.actor.department.clone(),
            };
            candidates.push((
                "reassign",
                t.task_id.clone(),
                CaseCommand::Reassign { task_id: t.task_id.clone(), to: me, reason: x() },
            ));
        }
    }
    // 多图联审: a reviewer of a department still reviewing comments on a file of the drawing set.
    if let Some(m) = st.materials.iter().find(|m| m.attachment.is_some()) {
        let cmd = CaseCommand::AddDrawingComment { material_id: m.material_id.clone(), sheet: x(), text: x() };
        candidates.push(("drawing-comment", String::new(), cmd));
    }
    if let Some(first) = st.passed_steps.first() {
        candidates.push(("send-back", String::new(), CaseCommand::SendBack { to_step: first.clone(), reason: x() }));
    }
    candidates.extend([
        (
            "suspend",
            String::new(),
            CaseCommand::Suspend { kind: SuspensionKind::ExpertReview, reason: x(), expected_days: 1 },
        ),
        ("resume", String::new(), CaseCommand::Resume),
        ("extend", String::new(), CaseCommand::Extend { days: 1, reason: x() }),
        ("decide", String::new(), CaseCommand::Decide { outcome: Outcome::Grant, reasons: vec![] }),
        ("issue-licenses", String::new(), CaseCommand::IssueLicenses { licenses: vec![x()] }),
        ("deliver", String::new(), CaseCommand::Deliver { delivery: Delivery::Electronic }),
        ("terminate", String::new(), CaseCommand::Terminate { reason: x() }),
    ]);
    // The words of the step's kind: a review is 审查, an inspection 核查, a joint review 联合审查, …
    let kind = st.current_step.as_ref().map(|c| super::portal::snake(&c.kind)).unwrap_or_default();
    let in_kind = |base: &str| -> String {
        let key = format!("{base}-{kind}");
        let t = ctx.t(&key);
        if t == key {
            ctx.t(base)
        } else {
            t
        }
    };
    // A task is completed by the person who holds it: claim first.
    let holds = |task_id: &str| {
        st.current_step.as_ref().is_some_and(|c| {
            c.tasks.iter().any(|t| t.task_id == task_id && t.assignee.as_deref() == Some(p.actor.id.as_str()))
        })
    };
    candidates
        .into_iter()
        // Offered only when the domain would accept it from this person now and it would change something
        // (claiming a task one already holds changes nothing).
        .filter(|(_, _, cmd)| case::decide(st, cmd.clone(), &dctx).is_ok_and(|events| !events.is_empty()))
        .filter(|(name, task_id, _)| *name != "complete" || holds(task_id))
        .map(|(name, task_id, _)| Action {
            label: if name == "complete" { in_kind("action-complete") } else { ctx.t(&format!("action-{name}")) },
            opinion_label: in_kind("work-opinion"),
            name: name.to_string(),
            task_id,
        })
        .collect()
}

/// The current step's open tasks and who holds each.
fn task_holders(s: &AppState, ctx: &Ctx, v: &CaseView) -> Vec<(String, String)> {
    let Some(step) = &v.state.current_step else { return vec![] };
    let view = s.app.catalog();
    step.tasks
        .iter()
        .filter(|t| t.status == case::TaskStatus::Open)
        .map(|t| {
            let dept = t.department.as_ref().map(|d| view.department_name(d.as_str())).unwrap_or_default();
            let what = format!("{} {}", dept, ctx.t(&format!("role-{}", t.role.as_str()))).trim().to_string();
            let who = match &t.assignee {
                Some(a) => ctx.tv("work-task-held-by", a),
                None => ctx.t("work-task-unclaimed"),
            };
            (what, who)
        })
        .collect()
}

async fn case_page_with(
    s: &AppState,
    ctx: &Ctx,
    p: &Principal,
    headers: &HeaderMap,
    no: &str,
    error: Option<String>,
    done: Option<String>,
    status: StatusCode,
) -> Response {
    let v = match super::masked_case(s, &p.actor, no).await {
        Ok(v) => v,
        Err(_) => return not_found(headers, &format!("/work/cases/{no}")),
    };
    let trail = match s.app.trail(&p.actor, &v.state.case_no).await {
        Ok(t) => t,
        Err(e) => return super::error_page(ctx, e),
    };
    let entries = timeline(s, ctx, &trail, None).await;
    let has_correction =
        trail.iter().any(|t| matches!(t.event, oneseal_domain::case::CaseEvent::CorrectionRequested { .. }));
    let def = s.app.catalog().definition(&v.state.subject).ok();
    let st = &v.state;
    let a = &st.applicant;
    let applicant = vec![
        (ctx.t("work-applicant-kind"), ctx.t(&format!("work-kind-{}", super::portal::snake(&a.kind)))),
        (ctx.t("register-name"), a.name.clone()),
        (ctx.t("work-applicant-id"), a.id_number.shown()),
        (ctx.t("work-applicant-phone"), a.phone.clone().unwrap_or_default()),
        (
            ctx.t("work-channel"),
            format!("{} · {}", ctx.t(&format!("channel-{}", st.channel.as_str())), st.service_point),
        ),
    ];
    let form = def
        .as_ref()
        .map(|d| {
            d.form
                .fields
                .iter()
                .filter_map(|f| {
                    st.form.get(&f.key).map(|v| {
                        let text = match v {
                            Value::String(x) => x.clone(),
                            Value::Bool(b) => ctx.t(if *b { "guide-yes" } else { "guide-no" }),
                            other => other.to_string(),
                        };
                        (ctx.pick(&f.label, &f.label_en).to_string(), text)
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let materials = def
        .as_ref()
        .map(|d| {
            d.materials
                .iter()
                .map(|m| {
                    let r = st.materials.iter().find(|x| x.material_id == m.id);
                    let file = r.map(|x| x.file_name.clone()).unwrap_or_default();
                    let lower = file.to_lowercase();
                    MaterialLine {
                        name: m.name.clone(),
                        href: r
                            .and_then(|x| x.attachment.as_ref())
                            .map(|id| format!("/api/v1/attachments/{id}?case_no={no}"))
                            .unwrap_or_default(),
                        image: [".jpg", ".jpeg", ".png"].iter().any(|e| lower.ends_with(e)),
                        pdf: lower.ends_with(".pdf"),
                        license: r.and_then(|x| x.license.clone()).unwrap_or_default(),
                        digest: r
                            .and_then(|x| x.digest.clone())
                            .map(|d| d[..12.min(d.len())].to_string())
                            .unwrap_or_default(),
                        pledgeable: r.is_none() && !m.key && m.required,
                        material_id: m.id.clone(),
                        file,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let problem_subjects = def
        .as_ref()
        .map(|d| {
            d.materials
                .iter()
                .map(|m| (m.id.clone(), m.name.clone()))
                .chain(d.form.fields.iter().map(|f| (f.key.clone(), ctx.pick(&f.label, &f.label_en).to_string())))
                .collect()
        })
        .unwrap_or_default();
    let passed = def
        .as_ref()
        .map(|d| {
            st.passed_steps
                .iter()
                .filter_map(|id| d.process.steps.iter().find(|x| &x.id == id).map(|x| (x.id.clone(), x.name.clone())))
                .collect()
        })
        .unwrap_or_default();
    let clock_text = super::me::clock_text(ctx, &v);
    let deadline_text = super::me::deadline_text(ctx, &v);
    let suspension_kinds = [
        SuspensionKind::ExpertReview,
        SuspensionKind::Inspection,
        SuspensionKind::Testing,
        SuspensionKind::Hearing,
        SuspensionKind::Appraisal,
        SuspensionKind::Quarantine,
        SuspensionKind::Tendering,
        SuspensionKind::Auction,
    ]
    .iter()
    .map(|k| {
        let n = super::portal::snake(k);
        (n.clone(), ctx.t(&format!("suspension-{n}")))
    })
    .collect();
    let actions = allowed_actions(s, ctx, p, &v);
    let view = s.app.catalog();
    let consultations = s
        .app
        .consultations_of_case(&p.actor, &v.state.case_no)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            (
                ctx.t(&format!("liaison-consult-{}", c.kind)),
                super::portal::department_name(ctx, &view, &c.regulator),
                c.question,
                c.due,
                c.answer.unwrap_or_default(),
            )
        })
        .collect();
    // Those who may act on the current step may ask (the application checks again on submit).
    let may_ask =
        matches!(v.state.status, oneseal_domain::case::Status::InProgress | oneseal_domain::case::Status::Suspended)
            && actions.iter().any(|a| matches!(a.name.as_str(), "complete" | "suspend" | "decide" | "claim"));
    let regulators = if may_ask {
        view.departments
            .iter()
            .filter(|d| !d.bureau_section)
            .map(|d| (d.id.as_str().to_string(), super::portal::department_name(ctx, &view, d.id.as_str())))
            .collect()
    } else {
        Vec::new()
    };
    let shipments = shipment_lines(s, ctx, p, v.state.case_no.as_str()).await;
    let review = review_lines(s, ctx, p, &v).await;
    let page_ = CasePage {
        review,
        shipments,
        window_clerk: p.actor.has(Role::WindowClerk),
        ctx: ctx.clone(),
        status: status_label(ctx, v.state.status.as_str()),
        submitted_at: beijing(v.state.submitted_at),
        applicant,
        form,
        materials,
        entries,
        actions,
        passed,
        clock_text,
        deadline_text,
        error,
        problem_subjects,
        suspension_kinds,
        has_correction,
        consultations,
        regulators,
        done: done.map(|a| {
            let key = format!("work-done-{a}");
            let t = ctx.t(&key);
            if t == key {
                ctx.t("work-done")
            } else {
                t
            }
        }),
        tasks: task_holders(s, ctx, &v),
        v,
    };
    page(status, ctx, &page_)
}

#[derive(serde::Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn case_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
    q: Result<axum::extract::Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // Only a known action names a message (the query is not echoed).
    let done = q
        .ok()
        .and_then(|q| q.0.done)
        .filter(|a| a == "consult" || a == "checklist" || crate::api::CaseAction::parse(a).is_some());
    case_page_with(&s, &ctx, &p, &headers, &no, None, done, StatusCode::OK).await
}

/// Lines of a textarea, trimmed, without empty ones.
fn lines(v: Option<&String>) -> Vec<String> {
    v.map(|t| t.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()).unwrap_or_default()
}

/// The JSON body of an action from the posted form (the same bodies the API takes).
fn body_of(action: &str, f: &std::collections::BTreeMap<String, String>) -> Value {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let num = |k: &str| get(k).parse::<u32>().unwrap_or(0);
    match action {
        "accept" => {
            let due = get("pledge_due");
            let pledges: Vec<Value> = f
                .keys()
                .filter_map(|k| k.strip_prefix("pledge_m_"))
                .map(|id| json!({ "material_id": id, "due": due }))
                .collect();
            json!({ "pledges": pledges })
        }
        "refuse" => json!({ "reasons": lines(f.get("reasons")) }),
        "request-correction" => {
            let mut problems = Vec::new();
            for i in 0..5 {
                let (subj, msg) = (get(&format!("subject_{i}")), get(&format!("message_{i}")));
                if !subj.is_empty() && !msg.is_empty() {
                    problems.push(json!({ "subject": subj, "message": msg }));
                }
            }
            json!({ "problems": problems })
        }
        "claim" => json!({ "task_id": get("task_id") }),
        "complete" => json!({ "task_id": get("task_id"), "opinion": get("opinion") }),
        "send-back" => json!({ "to_step": get("to_step"), "reason": get("reason") }),
        "reassign" => json!({ "task_id": get("task_id"), "to": get("to"), "reason": get("reason") }),
        "suspend" => json!({ "kind": get("kind"), "reason": get("reason"), "expected_days": num("expected_days") }),
        "extend" => json!({ "days": num("days"), "reason": get("reason") }),
        "decide" => json!({ "outcome": get("outcome"), "reasons": lines(f.get("reasons")) }),
        "deliver" => match get("method").as_str() {
            "pickup" => json!({ "delivery": { "method": "pickup", "window": get("window") } }),
            "post" => json!({ "delivery": { "method": "post", "address": get("address"),
                "postage": if get("postage") == "recipient" { "recipient" } else { "bureau" } } }),
            _ => json!({ "delivery": { "method": "electronic" } }),
        },
        "terminate" => json!({ "reason": get("reason") }),
        "drawing-comment" => json!({ "material_id": get("material_id"), "sheet": get("sheet"), "text": get("text") }),
        _ => json!({}),
    }
}

async fn act(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
    form: Result<Form<std::collections::BTreeMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or_default();
    if !csrf_ok(&p, f.get("_csrf").map(String::as_str).unwrap_or("")) {
        return forbidden(&headers, &format!("/work/cases/{no}"));
    }
    let action = f.get("action").cloned().unwrap_or_default();
    if action == "checklist" {
        let recorded = match crate::extract::parse_case_no(&no) {
            Ok(n) => record_checklist(&s, &p, &n, &f).await,
            Err(e) => Err(e),
        };
        return match recorded {
            Ok(()) => Redirect::to(&format!("/work/cases/{no}?done=checklist")).into_response(),
            Err(e) => {
                let prob = crate::problem::ApiError::from(e).0;
                let msg = format!("{} {}", prob.title_zh, prob.detail);
                let status = StatusCode::from_u16(prob.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), None, status).await
            }
        };
    }
    if action == "consult" {
        let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let days = get("days").parse::<u32>().unwrap_or(0);
        let asked = match crate::extract::parse_case_no(&no) {
            Ok(n) => s.app.ask_regulator(&p.actor, &n, &get("kind"), &get("regulator"), &get("question"), days).await,
            Err(e) => Err(e),
        };
        return match asked {
            Ok(_) => Redirect::to(&format!("/work/cases/{no}?done=consult")).into_response(),
            Err(e) => {
                let prob = crate::problem::ApiError::from(e).0;
                let msg = format!("{} {}", prob.title_zh, prob.detail);
                case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), None, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        };
    }
    let Some(case_action) = crate::api::CaseAction::parse(&action) else {
        let msg = ctx.t("work-unknown-action");
        return case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let expected = f.get("version").and_then(|v| v.parse::<i64>().ok());
    match crate::api::run_action(&s, &p.actor, &no, case_action, body_of(&action, &f), expected).await {
        Ok(_) => Redirect::to(&format!("/work/cases/{no}?done={action}")).into_response(),
        Err(e) => {
            let prob = e.0;
            let msg = match prob.code.as_str() {
                "stale_version" => ctx.t("work-stale"),
                _ => format!("{} {}", prob.title_zh, prob.detail),
            };
            case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// 联合验收: a department's checklist from the workbench's form — `task_id`, `findings`, and for each entry id
/// listed in `entries` (space-separated) `result-{id}` (`passed` or `failed`) and `note-{id}`; the JSON API's path
/// (`App::record_findings`), so the same rules refuse what it refuses.
async fn record_checklist(
    s: &AppState,
    p: &Principal,
    no: &oneseal_domain::ids::CaseNo,
    f: &std::collections::BTreeMap<String, String>,
) -> Result<(), oneseal_app::AppError> {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut checklist = Vec::new();
    for id in get("entries").split_whitespace().take(100) {
        let passed = match get(&format!("result-{id}")).as_str() {
            "passed" => true,
            "failed" => false,
            _ => {
                return Err(oneseal_app::AppError::invalid(
                    "checklist_result_missing",
                    format!("每个清单项须选择合格或不合格 choose passed or failed for {id}"),
                ))
            }
        };
        let note = Some(get(&format!("note-{id}"))).filter(|n| !n.is_empty());
        checklist.push(oneseal_domain::acceptance::EntryResult { item: id.to_string(), passed, note });
    }
    let findings = get("findings");
    if findings.chars().count() > 4000 {
        return Err(oneseal_app::AppError::invalid("findings_too_long", "findings have at most 4000 characters"));
    }
    let task = Some(get("task_id")).filter(|t| !t.is_empty());
    s.app.record_findings(&p.actor, no, task, findings, None, checklist).await.map(|_| ())
}

/// A window clerk's answer to a returned shipment (邮件退回): hand the result over at a window (`op=collect`), or
/// send it again (`op=resend`, to a new address if one is given).
async fn shipment_act(
    State(s): State<AppState>,
    ctx: Ctx,
    Signed(p): Signed,
    headers: HeaderMap,
    Path(no): Path<String>,
    form: Result<Form<std::collections::BTreeMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or_default();
    if !csrf_ok(&p, f.get("_csrf").map(String::as_str).unwrap_or("")) {
        return forbidden(&headers, &format!("/work/cases/{no}"));
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let id = get("id");
    // The shipment must be one of this case's (the address names the case).
    if !id.starts_with(&format!("shipment-{no}-")) {
        return not_found(&headers, &format!("/work/cases/{no}"));
    }
    let done = match get("op").as_str() {
        "collect" => s.app.collect_shipment(&p.actor, &id, &get("window")).await.map(|_| "shipment-collect"),
        "resend" => {
            let address = get("address");
            let address = (!address.is_empty()).then_some(address);
            s.app.resend_shipment(&p.actor, &id, address.as_deref(), None).await.map(|_| "shipment-resend")
        }
        _ => Err(oneseal_app::AppError::invalid("unknown_operation", "op is collect or resend")),
    };
    match done {
        Ok(a) => Redirect::to(&format!("/work/cases/{no}?done={a}")).into_response(),
        Err(e) => {
            let prob = crate::problem::ApiError::from(e).0;
            let msg = format!("{} {}", prob.title_zh, prob.detail);
            case_page_with(&s, &ctx, &p, &headers, &no, Some(msg), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
