//! The case machine (办件): `submit` and `decide` turn commands into events, `apply` folds events into state.
//!
//! Both are pure: time, the calendar, the actor and the case definition (the catalog version the case started
//! with) come in as a [`Ctx`]. An illegal command returns a typed [`CaseError`] and produces no event, so nothing is
//! written. Every step start, task, clock change and decision is an explicit event, so `apply` needs no catalog.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

use crate::calendar::{Calendar, CalendarError};
use crate::catalog::{
    Bundle, FormSchema, Handling, ItemKind, JointMode, Limit, Material, ProcessDefinition, ResultDoc, ServiceItem,
    StepDef, StepKind,
};
use crate::clock::{self, local_date, ClockState};
use crate::drawing_review::DrawingAnswer;
use crate::form::{self, FieldError};
use crate::ids::{CaseNo, DepartmentId};
use crate::inspection::{Conclusion, Method, Note, Schedule, Still, VideoRef};
/// The applicant lives in `party`; re-exported where cases always found it.
pub use crate::party::{ApplicantInfo, ApplicantKind};
use crate::roles::{Actor, Role};

/// 渠道: where an application came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Online,
    Mobile,
    Kiosk,
    Window,
    Bank,
    Hotline,
    Api,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Mobile => "mobile",
            Channel::Kiosk => "kiosk",
            Channel::Window => "window",
            Channel::Bank => "bank",
            Channel::Hotline => "hotline",
            Channel::Api => "api",
        }
    }
}

/// What a case applies for: one item or a bundle, at the catalog version it started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Item { code: String, version: u32 },
    Bundle { code: String, version: u32 },
}

impl Subject {
    pub fn code(&self) -> &str {
        match self {
            Subject::Item { code, .. } | Subject::Bundle { code, .. } => code,
        }
    }
}

/// The part of the catalog a case is handled by, built from one item version or one bundle version.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDefinition {
    pub subject: Subject,
    pub title: String,
    pub department: DepartmentId,
    pub filing: bool,
    pub handling: Handling,
    pub limit: Limit,
    pub statutory_limit: Limit,
    pub max_extension_days: u32,
    pub form: FormSchema,
    pub materials: Vec<Material>,
    pub process: ProcessDefinition,
    pub results: Vec<ResultDoc>,
}

impl CaseDefinition {
    pub fn for_item(item: &ServiceItem, version: u32) -> CaseDefinition {
        CaseDefinition {
            subject: Subject::Item { code: item.impl_code.as_str().to_string(), version },
            title: item.name.clone(),
            department: item.department.clone(),
            filing: item.kind == ItemKind::Filing,
            handling: item.handling,
            limit: item.promised_limit,
            statutory_limit: item.statutory_limit,
            max_extension_days: item.max_extension_days,
            form: item.form.clone(),
            materials: item.materials.clone(),
            process: item.process.clone(),
            results: item.results.clone(),
        }
    }

    /// A bundle: one merged form (一表通), the union of materials (a material id shared by two items is asked
    /// once), the bundle's own process, and every item's results.
    pub fn for_bundle(bundle: &Bundle, version: u32, items: &[&ServiceItem]) -> CaseDefinition {
        let mut seen = BTreeSet::new();
        let materials =
            items.iter().flat_map(|i| i.materials.iter()).filter(|m| seen.insert(m.id.clone())).cloned().collect();
        CaseDefinition {
            subject: Subject::Bundle { code: bundle.code.clone(), version },
            title: bundle.name.clone(),
            department: bundle.department.clone(),
            filing: false,
            handling: Handling::Promised,
            limit: bundle.promised_limit,
            statutory_limit: bundle.statutory_limit,
            max_extension_days: bundle.max_extension_days,
            form: FormSchema::merge(items.iter().map(|i| &i.form)),
            materials,
            process: bundle.process.clone(),
            results: items.iter().flat_map(|i| i.results.iter().cloned()).collect(),
        }
    }

    fn step(&self, id: &str) -> Option<(usize, &StepDef)> {
        self.process.steps.iter().enumerate().find(|(_, s)| s.id == id)
    }
}

/// The context of a command: who, when, with which calendar and case definition.
pub struct Ctx<'a> {
    pub now: OffsetDateTime,
    pub actor: &'a Actor,
    pub calendar: &'a Calendar,
    pub def: &'a CaseDefinition,
}

/// A material handed in: which catalog material, and the file (or scan) that carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialRef {
    pub material_id: String,
    pub file_name: String,
    /// Set when the applicant's licence stands for the material (免提交).
    #[serde(default)]
    pub license: Option<String>,
    /// The uploaded file (an attachment id), if the material was uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// SHA-256 of the uploaded file, set by the application from the stored file (never taken from the client),
    /// so the transparency log covers what was submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// One problem of a correction notice (一次性告知): every problem is listed at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// A material id or form field key the problem is about.
    pub subject: String,
    pub message: String,
}

/// 容缺受理: a non-key material missing at acceptance, pledged by a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    pub material_id: String,
    pub due: Date,
    #[serde(default)]
    pub fulfilled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Grant,
    Deny,
}

/// The dates a `DatesRecomputed` event replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousDates {
    pub deadline: Option<Date>,
    pub statutory_deadline: Option<Date>,
    pub step_due: Option<Date>,
    pub suspended_days: u32,
}

pub use crate::clock::SuspensionKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Delivery {
    Pickup {
        window: String,
    },
    /// 邮寄: the address (sealed before the event is written); who pays the postage — the bureau unless said
    /// (免费寄递; absent in the stored event when the bureau pays, as events before it were written).
    Post {
        address: String,
        #[serde(default, skip_serializing_if = "is_bureau")]
        postage: crate::shipment::Postage,
    },
    Electronic,
}

fn is_bureau(p: &crate::shipment::Postage) -> bool {
    *p == crate::shipment::Postage::Bureau
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for intake (受理) at a window.
    Submitted,
    /// A correction notice was sent; waiting for the applicant.
    AwaitingCorrection,
    InProgress,
    Suspended,
    Completed,
    Refused,
    Withdrawn,
    Terminated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::AwaitingCorrection => "awaiting_correction",
            Status::InProgress => "in_progress",
            Status::Suspended => "suspended",
            Status::Completed => "completed",
            Status::Refused => "refused",
            Status::Withdrawn => "withdrawn",
            Status::Terminated => "terminated",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Status::Completed | Status::Refused | Status::Withdrawn | Status::Terminated)
    }

    pub const ALL: [Status; 8] = [
        Status::Submitted,
        Status::AwaitingCorrection,
        Status::InProgress,
        Status::Suspended,
        Status::Completed,
        Status::Refused,
        Status::Withdrawn,
        Status::Terminated,
    ];
}

/// A task for a role in a department (a joint review has one per department).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub task_id: String,
    pub role: Role,
    pub department: Option<DepartmentId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub role: Role,
    pub department: Option<DepartmentId>,
    pub assignee: Option<String>,
    pub status: TaskStatus,
    pub opinion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentStep {
    pub step_id: String,
    pub name: String,
    pub kind: StepKind,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub due: Option<Date>,
    pub joint_mode: Option<JointMode>,
    pub tasks: Vec<Task>,
}

/// Every fact about a case. Stored with its time and actor in the event log; never changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEvent {
    Submitted {
        case_no: CaseNo,
        subject: Subject,
        title: String,
        department: DepartmentId,
        channel: Channel,
        service_point: String,
        applicant: ApplicantInfo,
        form: Map<String, Value>,
        materials: Vec<MaterialRef>,
        /// SHA-256 of the query code; the code itself is only shown once, on the receipt.
        query_code_digest: String,
        clock: ClockState,
    },
    CorrectionRequested {
        problems: Vec<Problem>,
        due: Date,
    },
    Corrected {
        form: Option<Map<String, Value>>,
        materials: Vec<MaterialRef>,
    },
    Accepted {
        pledges: Vec<Pledge>,
        deadline: Option<Date>,
        statutory_deadline: Option<Date>,
        #[serde(with = "time::serde::rfc3339::option")]
        deadline_at: Option<OffsetDateTime>,
        /// 行政许可法 §32: no acceptance and no correction notice came within 5 working days of receiving the
        /// (corrected) materials, so the application counts as accepted when they were received; the clocks start
        /// then, not at this late acceptance.
        #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
        deemed_from: Option<OffsetDateTime>,
    },
    Refused {
        reasons: Vec<String>,
    },
    PledgeFulfilled {
        material: MaterialRef,
    },
    StepStarted {
        step_id: String,
        name: String,
        kind: StepKind,
        due: Option<Date>,
        joint_mode: Option<JointMode>,
        tasks: Vec<TaskSpec>,
    },
    TaskClaimed {
        task_id: String,
        by: String,
    },
    TaskReassigned {
        task_id: String,
        from: Option<String>,
        to: String,
        reason: String,
    },
    TaskCompleted {
        task_id: String,
        by: String,
        opinion: String,
    },
    /// Open tasks closed because another department's sign-off sufficed (或签) or the step was sent back.
    TasksCancelled {
        task_ids: Vec<String>,
        reason: String,
    },
    StepCompleted {
        step_id: String,
    },
    SentBack {
        from_step: String,
        to_step: String,
        reason: String,
    },
    Suspended {
        kind: SuspensionKind,
        reason: String,
        expected_days: u32,
    },
    Resumed {
        suspended_days: u32,
        deadline: Option<Date>,
        statutory_deadline: Option<Date>,
        step_due: Option<Date>,
    },
    Extended {
        days: u32,
        reason: String,
        approved_by: String,
        deadline: Option<Date>,
    },
    /// Publishing a year's official calendar moved dates that were counted with the provisional (or an earlier)
    /// calendar of that year: the new dates, and the old ones they replace.
    DatesRecomputed {
        year: i32,
        deadline: Option<Date>,
        statutory_deadline: Option<Date>,
        step_due: Option<Date>,
        suspended_days: u32,
        previous: PreviousDates,
        /// A date that would have fallen before today is held at today and named here: a notice never puts a case
        /// in breach without saying so.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        held_at_today: Vec<String>,
    },
    Decided {
        outcome: Outcome,
        reasons: Vec<String>,
        by: String,
    },
    LicensesIssued {
        licenses: Vec<String>,
    },
    Delivered {
        delivery: Delivery,
    },
    FilingRecorded {
        receipt_no: String,
    },
    Completed {
        outcome: Outcome,
    },
    Withdrawn {
        reason: String,
    },
    Terminated {
        reason: String,
    },
    /// 视频勘验: the applicant's recording for an inspection task, complete, checked and sealed (its hashes cover
    /// the bytes as uploaded).
    VideoRecorded {
        task_id: String,
        video: crate::inspection::VideoRef,
    },
    /// The inspection's method: chosen by the applicant where the item allows both, or by the inspector (with the
    /// reason when it overrules).
    InspectionMethodChosen {
        method: crate::inspection::Method,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        by_staff: bool,
    },
    /// A reviewer's timestamped note on a recording.
    InspectionNoteAdded {
        note: crate::inspection::Note,
    },
    /// A still taken from a recording into the case file.
    StillCaptured {
        still: crate::inspection::Still,
    },
    /// The reviewer's conclusion on the recordings: pass (the task completes with the events that follow), rectify
    /// (points the applicant answers with a new recording) or on site needed.
    InspectionConcluded {
        task_id: String,
        conclusion: crate::inspection::Conclusion,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        points: Vec<String>,
        opinion: String,
    },
    /// 勘验预约: a visit on site or a live video session at a slot, for this case alone or for every case of a
    /// 联合踏勘 (joint site inspection); the inspector who schedules it fixes the method.
    InspectionScheduled {
        schedule: Schedule,
    },
    /// One department's findings at the scheduled inspection, on its own task.
    FindingsRecorded {
        task_id: String,
        department: Option<DepartmentId>,
        findings: String,
        satisfied: bool,
        /// 联合验收: the department's result for each of its checklist entries.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        checklist: Vec<crate::acceptance::EntryResult>,
    },
    /// The joint result: every department's findings are in; the tasks complete with them (the events that
    /// follow) and the case moves on, as every other case of the inspection does in the same transaction.
    JointResultRecorded {
        schedule_id: String,
        opinion: String,
        satisfied: bool,
        /// 联合验收: the checklist entries that failed; the case waits at the step for the applicant's correction
        /// (整改, the clock stopped) and the tasks stay open.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        failed: Vec<crate::acceptance::FailedEntry>,
    },
    /// 联合验收: the applicant reports the failed entries corrected (整改完成); their departments check them again.
    RectificationReported {
        report: String,
    },
    /// 多图联审: a reviewing department's comment on a sheet of the drawing set.
    DrawingCommentAdded {
        comment: crate::drawing_review::DrawingComment,
    },
    /// 多图联审: the applicant's one answer to every open comment, with the revised drawings uploaded once.
    DrawingCommentsAnswered {
        answers: Vec<crate::drawing_review::DrawingAnswer>,
        #[serde(default)]
        materials: Vec<MaterialRef>,
    },
}

impl CaseEvent {
    pub fn type_name(&self) -> &'static str {
        match self {
            CaseEvent::Submitted { .. } => "submitted",
            CaseEvent::CorrectionRequested { .. } => "correction_requested",
            CaseEvent::Corrected { .. } => "corrected",
            CaseEvent::Accepted { .. } => "accepted",
            CaseEvent::Refused { .. } => "refused",
            CaseEvent::PledgeFulfilled { .. } => "pledge_fulfilled",
            CaseEvent::StepStarted { .. } => "step_started",
            CaseEvent::TaskClaimed { .. } => "task_claimed",
            CaseEvent::TaskReassigned { .. } => "task_reassigned",
            CaseEvent::TaskCompleted { .. } => "task_completed",
            CaseEvent::TasksCancelled { .. } => "tasks_cancelled",
            CaseEvent::StepCompleted { .. } => "step_completed",
            CaseEvent::SentBack { .. } => "sent_back",
            CaseEvent::Suspended { .. } => "suspended",
            CaseEvent::Resumed { .. } => "resumed",
            CaseEvent::Extended { .. } => "extended",
            CaseEvent::DatesRecomputed { .. } => "dates_recomputed",
            CaseEvent::Decided { .. } => "decided",
            CaseEvent::LicensesIssued { .. } => "licenses_issued",
            CaseEvent::Delivered { .. } => "delivered",
            CaseEvent::FilingRecorded { .. } => "filing_recorded",
            CaseEvent::Completed { .. } => "completed",
            CaseEvent::Withdrawn { .. } => "withdrawn",
            CaseEvent::Terminated { .. } => "terminated",
            CaseEvent::VideoRecorded { .. } => "video_recorded",
            CaseEvent::InspectionMethodChosen { .. } => "inspection_method_chosen",
            CaseEvent::InspectionNoteAdded { .. } => "inspection_note_added",
            CaseEvent::StillCaptured { .. } => "still_captured",
            CaseEvent::InspectionConcluded { .. } => "inspection_concluded",
            CaseEvent::InspectionScheduled { .. } => "inspection_scheduled",
            CaseEvent::FindingsRecorded { .. } => "findings_recorded",
            CaseEvent::JointResultRecorded { .. } => "joint_result_recorded",
            CaseEvent::RectificationReported { .. } => "rectification_reported",
            CaseEvent::DrawingCommentAdded { .. } => "drawing_comment_added",
            CaseEvent::DrawingCommentsAnswered { .. } => "drawing_comments_answered",
        }
    }
}

/// The schema version of the case event payloads; bump it when a payload changes shape and keep reading old ones.
pub const CASE_EVENT_SCHEMA: u32 = 1;

/// An event as recorded, with when and by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub event: CaseEvent,
}

/// The state of a case, folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseState {
    pub case_no: CaseNo,
    pub subject: Subject,
    pub title: String,
    pub department: DepartmentId,
    pub channel: Channel,
    pub service_point: String,
    pub applicant: ApplicantInfo,
    pub form: Map<String, Value>,
    pub materials: Vec<MaterialRef>,
    pub query_code_digest: String,
    pub status: Status,
    /// Number of events applied: the stream version.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// The clock's stored state; answers show it as `clock_state` beside the computed `clock` view.
    #[serde(rename = "clock_state")]
    pub clock: ClockState,
    /// A correction notice was sent for this intake (一次性告知: never a second one).
    pub correction_requested: bool,
    /// When the corrected materials came in (the §32 five working days run from here after a correction).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub corrected_at: Option<OffsetDateTime>,
    /// Accepted by operation of law (§32: 逾期不告知的，自收到申请材料之日起即为受理).
    #[serde(default)]
    pub deemed_accepted: bool,
    pub pledges: Vec<Pledge>,
    pub current_step: Option<CurrentStep>,
    /// Steps completed, in order (targets for send-back).
    pub passed_steps: Vec<String>,
    pub task_counter: u32,
    pub decision: Option<Outcome>,
    pub licenses: Vec<String>,
    pub delivery: Option<Delivery>,
    pub outcome: Option<Outcome>,
    /// Recordings for the inspection (视频勘验), oldest first (absent in stored states without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<crate::inspection::VideoRef>,
    /// The inspection's method, notes, stills and conclusions (absent until the first of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection: Option<crate::inspection::InspectionRecord>,
    /// 多图联审: the departments' comments on the drawings and the applicant's answers (absent until the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawing_review: Option<crate::drawing_review::DrawingReview>,
}

/// Why a command was refused. Stable codes for machines; messages for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the case is {status}; {action} is not possible now")]
    WrongStatus { status: &'static str, action: &'static str },
    #[error("this needs the role {0}")]
    Forbidden(&'static str),
    #[error("a correction notice was already sent for this application (一次性告知): it cannot be sent twice")]
    SecondCorrection,
    #[error("the correction notice must come within 5 working days of receipt (行政许可法 §32); the application counts as accepted")]
    CorrectionTooLate,
    #[error("the form is invalid")]
    InvalidForm(Vec<FieldError>),
    #[error("required materials are missing: {0:?}")]
    MissingMaterials(Vec<String>),
    #[error("key materials (关键材料) must be handed in with the application: {}", .0.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "))]
    KeyMaterialsMissing(Vec<FieldError>),
    #[error("key material {0} cannot be pledged (容缺): it must be present to accept")]
    KeyMaterialPledged(String),
    #[error("unknown material {0}")]
    UnknownMaterial(String),
    #[error("no open task {0} on the current step")]
    NoSuchTask(String),
    #[error("task {0} is claimed by someone else")]
    ClaimedByOther(String),
    #[error("the current step is a {0:?} step; use the matching action")]
    WrongStep(StepKind),
    #[error("cannot send back to {0}: it is not an earlier step of this case")]
    BadSendBackTarget(String),
    #[error("an extension may add at most {max} working days in all; {used} already used")]
    ExtensionTooLong { max: u32, used: u32 },
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("the pledge date {0} must be a future working day within the limit")]
    BadPledgeDate(Date),
    #[error("{0} cannot work this task")]
    AssigneeCannotWork(String),
    #[error("this inspection step does not allow video inspection (or it is done on site)")]
    VideoNotAllowed,
    #[error("no recording {0} on this case")]
    UnknownVideo(String),
    #[error("{0} ms is not within the recording")]
    BadTimestamp(i64),
    #[error("no checklist item {0} at this inspection step")]
    UnknownChecklistItem(String),
    #[error("the inspection's method is fixed here: {0}")]
    MethodFixed(&'static str),
    #[error("a new recording is awaited first (no recording yet, or rectification points still open)")]
    RecordingAwaited,
    #[error("{0}")]
    BadSlot(&'static str),
    #[error("this inspection is already scheduled")]
    AlreadyScheduled,
    #[error("no inspection {0} is scheduled on this case")]
    NotScheduled(String),
    #[error("the inspection has not begun yet: findings come at or after its slot")]
    NotHeldYet,
    #[error("this inspection step cannot be joined with other cases' (联合踏勘)")]
    NotJoinable,
    #[error("findings are awaited from: {}", .0.join(", "))]
    FindingsAwaited(Vec<String>),
    #[error("checklist entries unknown or not checked now: [{}]; missing: [{}]", .unknown.join(", "), .missing.join(", "))]
    ChecklistEntries { unknown: Vec<String>, missing: Vec<String> },
    #[error("these checklist entries are another department's: {}", .0.join(", "))]
    ChecklistNotYours(Vec<String>),
    #[error("a failed checklist entry needs a note: {}", .0.join(", "))]
    ChecklistNoteMissing(Vec<String>),
    #[error("satisfied must say whether every checklist entry passed")]
    SatisfiedMismatch,
    #[error("this department's findings are already recorded for this check")]
    FindingsAlreadyRecorded,
    #[error("the applicant's correction (整改) of the failed entries is awaited")]
    RectificationAwaited,
    #[error("no correction (整改) is awaited on this case")]
    NoRectification,
    #[error(
        "this inspection is by checklist: each department records its entries, the joint result completes the tasks"
    )]
    ChecklistInspection,
    #[error("{what} is longer than {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("no drawing file {0} among this case's materials")]
    UnknownSheet(String),
    #[error("no open comment {0} (unknown, already answered, or answered twice)")]
    UnknownComment(String),
    #[error("comments still wait for the applicant's answer: {}", .0.join(", "))]
    CommentsUnanswered(Vec<String>),
    #[error("every open comment needs one answer; missing: {}", .0.join(", "))]
    AnswersMissing(Vec<String>),
    #[error("no comment waits for an answer: the comments were already answered")]
    NoOpenComments,
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl CaseError {
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::WrongStatus { .. } => "case_wrong_status",
            CaseError::Forbidden(_) => "forbidden",
            CaseError::SecondCorrection => "second_correction",
            CaseError::CorrectionTooLate => "correction_too_late",
            CaseError::InvalidForm(_) => "invalid_form",
            CaseError::MissingMaterials(_) => "missing_materials",
            CaseError::KeyMaterialsMissing(_) => "key_materials_missing",
            CaseError::KeyMaterialPledged(_) => "key_material_pledged",
            CaseError::UnknownMaterial(_) => "unknown_material",
            CaseError::NoSuchTask(_) => "no_such_task",
            CaseError::ClaimedByOther(_) => "task_claimed_by_other",
            CaseError::WrongStep(_) => "wrong_step",
            CaseError::BadSendBackTarget(_) => "bad_send_back_target",
            CaseError::ExtensionTooLong { .. } => "extension_too_long",
            CaseError::Empty(_) => "empty",
            CaseError::BadPledgeDate(_) => "bad_pledge_date",
            CaseError::AssigneeCannotWork(_) => "assignee_cannot_work",
            CaseError::VideoNotAllowed => "video_not_allowed",
            CaseError::UnknownVideo(_) => "unknown_video",
            CaseError::BadTimestamp(_) => "bad_timestamp",
            CaseError::UnknownChecklistItem(_) => "unknown_checklist_item",
            CaseError::MethodFixed(_) => "inspection_method_fixed",
            CaseError::RecordingAwaited => "recording_awaited",
            CaseError::BadSlot(_) => "bad_slot",
            CaseError::AlreadyScheduled => "inspection_already_scheduled",
            CaseError::NotScheduled(_) => "inspection_not_scheduled",
            CaseError::NotHeldYet => "inspection_not_held_yet",
            CaseError::NotJoinable => "joint_inspection_not_allowed",
            CaseError::FindingsAwaited(_) => "findings_awaited",
            CaseError::ChecklistEntries { .. } => "checklist_entries",
            CaseError::ChecklistNotYours(_) => "checklist_entry_not_yours",
            CaseError::ChecklistNoteMissing(_) => "checklist_note_required",
            CaseError::SatisfiedMismatch => "satisfied_mismatch",
            CaseError::FindingsAlreadyRecorded => "findings_already_recorded",
            CaseError::RectificationAwaited => "rectification_awaited",
            CaseError::NoRectification => "no_rectification_awaited",
            CaseError::ChecklistInspection => "checklist_inspection",
            CaseError::TooLong { .. } => "too_long",
            CaseError::UnknownSheet(_) => "unknown_sheet",
            CaseError::UnknownComment(_) => "unknown_comment",
            CaseError::CommentsUnanswered(_) => "comments_unanswered",
            CaseError::NoOpenComments => "no_open_comments",
            CaseError::AnswersMissing(_) => "answers_missing",
            CaseError::Calendar(e) => e.code(),
        }
    }
}

/// A new application as it arrives from any channel.
#[derive(Debug, Clone)]
pub struct Submission {
    pub case_no: CaseNo,
    pub channel: Channel,
    pub service_point: String,
    pub applicant: ApplicantInfo,
    pub form: Map<String, Value>,
    pub materials: Vec<MaterialRef>,
    pub query_code_digest: String,
}

/// A staff member a task may be handed to, resolved by the application layer.
#[derive(Debug, Clone)]
pub struct Assignee {
    pub id: String,
    pub roles: Vec<Role>,
    pub department: Option<DepartmentId>,
}

/// Everything that can be asked of an existing case. 视频勘验: `RecordVideo` is the applicant's recording (the
/// application checked, probed and sealed it); `ChooseInspectionMethod` is video or on site (the applicant where
/// the item allows both, the inspector with a reason to overrule); `RecordStill` a still the application stored as
/// a sealed attachment. 多图联审: `AddDrawingComment` is a reviewer's comment on a sheet of the drawing set,
/// `AnswerDrawingComments` the applicant's one answer to every open comment, with revised drawings.
#[derive(Debug, Clone)]
pub enum CaseCommand {
    Accept {
        pledges: Vec<(String, Date)>,
    },
    Refuse {
        reasons: Vec<String>,
    },
    RequestCorrection {
        problems: Vec<Problem>,
    },
    SubmitCorrection {
        form: Option<Map<String, Value>>,
        materials: Vec<MaterialRef>,
    },
    FulfilPledge {
        material: MaterialRef,
    },
    ClaimTask {
        task_id: String,
    },
    CompleteTask {
        task_id: String,
        opinion: String,
    },
    SendBack {
        to_step: String,
        reason: String,
    },
    Reassign {
        task_id: String,
        to: Assignee,
        reason: String,
    },
    Suspend {
        kind: SuspensionKind,
        reason: String,
        expected_days: u32,
    },
    Resume,
    Extend {
        days: u32,
        reason: String,
    },
    Decide {
        outcome: Outcome,
        reasons: Vec<String>,
    },
    IssueLicenses {
        licenses: Vec<String>,
    },
    Deliver {
        delivery: Delivery,
    },
    Withdraw {
        reason: String,
    },
    Terminate {
        reason: String,
    },
    RecordVideo {
        task_id: String,
        video: VideoRef,
    },
    ChooseInspectionMethod {
        method: Method,
        reason: Option<String>,
    },
    AddInspectionNote {
        note: Note,
    },
    RecordStill {
        still: Still,
    },
    ConcludeInspection {
        task_id: String,
        conclusion: Conclusion,
        points: Vec<String>,
        opinion: String,
    },
    ScheduleInspection {
        schedule: Schedule,
    },
    /// `satisfied` is required, except at a checklist inspection where it is every entry passing (and checked
    /// against that when given).
    RecordFindings {
        task_id: String,
        findings: String,
        satisfied: Option<bool>,
        checklist: Vec<crate::acceptance::EntryResult>,
    },
    /// 联合验收: the applicant reports the failed entries corrected (整改完成).
    ReportRectified {
        report: String,
    },
    RecordJointResult {
        schedule_id: String,
        opinion: String,
    },
    AddDrawingComment {
        material_id: String,
        sheet: String,
        text: String,
    },
    AnswerDrawingComments {
        answers: Vec<DrawingAnswer>,
        materials: Vec<MaterialRef>,
    },
}

impl CaseCommand {
    pub fn name(&self) -> &'static str {
        match self {
            CaseCommand::Accept { .. } => "accept",
            CaseCommand::Refuse { .. } => "refuse",
            CaseCommand::RequestCorrection { .. } => "request_correction",
            CaseCommand::SubmitCorrection { .. } => "submit_correction",
            CaseCommand::FulfilPledge { .. } => "fulfil_pledge",
            CaseCommand::ClaimTask { .. } => "claim",
            CaseCommand::CompleteTask { .. } => "complete",
            CaseCommand::SendBack { .. } => "send_back",
            CaseCommand::Reassign { .. } => "reassign",
            CaseCommand::Suspend { .. } => "suspend",
            CaseCommand::Resume => "resume",
            CaseCommand::Extend { .. } => "extend",
            CaseCommand::Decide { .. } => "decide",
            CaseCommand::IssueLicenses { .. } => "issue_licenses",
            CaseCommand::Deliver { .. } => "deliver",
            CaseCommand::Withdraw { .. } => "withdraw",
            CaseCommand::Terminate { .. } => "terminate",
            CaseCommand::RecordVideo { .. } => "record_video",
            CaseCommand::ChooseInspectionMethod { .. } => "choose_inspection_method",
            CaseCommand::AddInspectionNote { .. } => "add_inspection_note",
            CaseCommand::RecordStill { .. } => "record_still",
            CaseCommand::ConcludeInspection { .. } => "conclude_inspection",
            CaseCommand::ScheduleInspection { .. } => "schedule_inspection",
            CaseCommand::RecordFindings { .. } => "record_findings",
            CaseCommand::RecordJointResult { .. } => "record_joint_result",
            CaseCommand::ReportRectified { .. } => "report_rectified",
            CaseCommand::AddDrawingComment { .. } => "drawing_comment",
            CaseCommand::AnswerDrawingComments { .. } => "answer_drawing_comments",
        }
    }
}

/// 行政许可法 §32: working days after receipt within which the bureau accepts or sends the correction notice.
pub const DEEMED_ACCEPTANCE_DAYS: u32 = 5;

/// Start a case. Filing items (备案) complete at once with a filing receipt.
pub fn submit(sub: Submission, ctx: &Ctx) -> Result<Vec<CaseEvent>, CaseError> {
    let def = ctx.def;
    form::validate(&def.form, &sub.form).map_err(CaseError::InvalidForm)?;
    check_material_ids(def, &sub.materials)?;
    // Key materials cannot be pledged (容缺), so an application without them could never be accepted: refuse it
    // now, naming each, instead of issuing a case number the window can only turn away.
    let missing_key: Vec<FieldError> = def
        .materials
        .iter()
        .filter(|m| m.required && m.key && !sub.materials.iter().any(|r| r.material_id == m.id))
        .map(|m| FieldError {
            field: format!("materials.{}", m.id),
            code: "key_material_missing",
            message: format!("{} ({}) is a key material: upload it or cite a valid licence", m.name, m.id),
        })
        .collect();
    if !missing_key.is_empty() {
        return Err(CaseError::KeyMaterialsMissing(missing_key));
    }
    if sub.applicant.name.trim().is_empty() {
        return Err(CaseError::Empty("applicant name"));
    }
    let clock = ClockState::new(def.limit, def.statutory_limit, def.max_extension_days);
    // Make sure the calendar covers the submission day now rather than at acceptance.
    ctx.calendar.is_workday(local_date(ctx.now))?;
    let mut events = vec![CaseEvent::Submitted {
        case_no: sub.case_no.clone(),
        subject: def.subject.clone(),
        title: def.title.clone(),
        department: def.department.clone(),
        channel: sub.channel,
        service_point: sub.service_point,
        applicant: sub.applicant,
        form: sub.form,
        materials: sub.materials.clone(),
        query_code_digest: sub.query_code_digest,
        clock: clock.clone(),
    }];
    if def.filing {
        let missing = missing_required(def, &sub.materials);
        if !missing.is_empty() {
            return Err(CaseError::MissingMaterials(missing));
        }
        let (d, s, at) = clock::start_deadlines(&clock, ctx.now, ctx.calendar)?;
        events.push(CaseEvent::Accepted {
            pledges: vec![],
            deadline: d,
            statutory_deadline: s,
            deadline_at: at,
            deemed_from: None,
        });
        events.push(CaseEvent::FilingRecorded { receipt_no: format!("BA{}", &sub.case_no.as_str()[2..]) });
        events.push(CaseEvent::Completed { outcome: Outcome::Grant });
    }
    Ok(events)
}

fn check_material_ids(def: &CaseDefinition, mats: &[MaterialRef]) -> Result<(), CaseError> {
    for m in mats {
        if !def.materials.iter().any(|d| d.id == m.material_id) {
            return Err(CaseError::UnknownMaterial(m.material_id.clone()));
        }
    }
    Ok(())
}

fn missing_required(def: &CaseDefinition, mats: &[MaterialRef]) -> Vec<String> {
    def.materials
        .iter()
        .filter(|m| m.required && !mats.iter().any(|r| r.material_id == m.id))
        .map(|m| m.id.clone())
        .collect()
}

fn wrong(state: &CaseState, action: &'static str) -> CaseError {
    CaseError::WrongStatus { status: state.status.as_str(), action }
}

fn need(actor: &Actor, role: Role) -> Result<(), CaseError> {
    if actor.has(role) {
        Ok(())
    } else {
        Err(CaseError::Forbidden(role.as_str()))
    }
}

/// Decide what a command on an existing case means: the events to record, or why it is refused.
pub fn decide(state: &CaseState, cmd: CaseCommand, ctx: &Ctx) -> Result<Vec<CaseEvent>, CaseError> {
    let actor = ctx.actor;
    let def = ctx.def;
    let action = cmd.name();
    match cmd {
        CaseCommand::Accept { pledges } => {
            need(actor, Role::WindowClerk)?;
            if state.status != Status::Submitted {
                return Err(wrong(state, action));
            }
            let missing = missing_required(def, &state.materials);
            let mut pl = Vec::new();
            for m in &missing {
                let Some((_, due)) = pledges.iter().find(|(id, _)| id == m) else {
                    return Err(CaseError::MissingMaterials(missing.clone()));
                };
                if def.materials.iter().any(|d| &d.id == m && d.key) {
                    return Err(CaseError::KeyMaterialPledged(m.clone()));
                }
                if *due <= local_date(ctx.now) || !ctx.calendar.is_workday(*due)? {
                    return Err(CaseError::BadPledgeDate(*due));
                }
                pl.push(Pledge { material_id: m.clone(), due: *due, fulfilled: false });
            }
            if let Some((id, _)) = pledges.iter().find(|(id, _)| !missing.contains(id)) {
                return Err(CaseError::UnknownMaterial(id.clone()));
            }
            // §32: more than 5 working days after the (corrected) materials came in, without a correction notice,
            // the application already counts as accepted on the day they came in.
            let received = state.corrected_at.unwrap_or(state.submitted_at);
            let deemed_from = (ctx.calendar.working_days_between(local_date(received), local_date(ctx.now))?
                > DEEMED_ACCEPTANCE_DAYS)
                .then_some(received);
            let (d, s, at) = clock::start_deadlines(&state.clock, deemed_from.unwrap_or(ctx.now), ctx.calendar)?;
            let mut ev = vec![CaseEvent::Accepted {
                pledges: pl,
                deadline: d,
                statutory_deadline: s,
                deadline_at: at,
                deemed_from,
            }];
            ev.push(CaseEvent::StepCompleted { step_id: first_step_id(def) });
            advance(state, def, 0, None, ctx, &mut ev)?;
            Ok(ev)
        }
        CaseCommand::Refuse { reasons } => {
            need(actor, Role::WindowClerk)?;
            if state.status != Status::Submitted {
                return Err(wrong(state, action));
            }
            non_empty_list(&reasons, "reasons")?;
            Ok(vec![CaseEvent::Refused { reasons }])
        }
        CaseCommand::RequestCorrection { problems } => {
            need(actor, Role::WindowClerk)?;
            if state.status != Status::Submitted {
                return Err(wrong(state, action));
            }
            if state.correction_requested {
                return Err(CaseError::SecondCorrection);
            }
            if problems.is_empty() || problems.iter().any(|p| p.message.trim().is_empty()) {
                return Err(CaseError::Empty("problems"));
            }
            let received = local_date(state.submitted_at);
            if ctx.calendar.working_days_between(received, local_date(ctx.now))? > DEEMED_ACCEPTANCE_DAYS {
                return Err(CaseError::CorrectionTooLate);
            }
            let due = ctx.calendar.add_working_days(local_date(ctx.now), 10)?;
            Ok(vec![CaseEvent::CorrectionRequested { problems, due }])
        }
        CaseCommand::SubmitCorrection { form: f, materials } => {
            own_case(state, actor)?;
            if state.status != Status::AwaitingCorrection {
                return Err(wrong(state, action));
            }
            if let Some(f) = &f {
                form::validate(&def.form, f).map_err(CaseError::InvalidForm)?;
            }
            check_material_ids(def, &materials)?;
            Ok(vec![CaseEvent::Corrected { form: f, materials }])
        }
        CaseCommand::FulfilPledge { material } => {
            if !(actor.has(Role::WindowClerk)
                || actor.acts_as_applicant(state.applicant.account.as_deref(), organisation_of(state)))
            {
                return Err(CaseError::Forbidden("window_clerk"));
            }
            if state.status.is_final() {
                return Err(wrong(state, action));
            }
            if !state.pledges.iter().any(|p| p.material_id == material.material_id && !p.fulfilled) {
                return Err(CaseError::UnknownMaterial(material.material_id));
            }
            Ok(vec![CaseEvent::PledgeFulfilled { material }])
        }
        CaseCommand::ClaimTask { task_id } => {
            let step = in_progress_step(state, action)?;
            let task = open_task(step, &task_id)?;
            if !actor.can_work(task.role, task.department.as_ref()) {
                return Err(CaseError::Forbidden(task.role.as_str()));
            }
            match &task.assignee {
                Some(a) if a == &actor.id => Ok(vec![]),
                Some(_) => Err(CaseError::ClaimedByOther(task_id)),
                None => Ok(vec![CaseEvent::TaskClaimed { task_id, by: actor.id.clone() }]),
            }
        }
        CaseCommand::CompleteTask { task_id, opinion } => {
            let excluded =
                state.current_step.as_ref().and_then(|s| def.step(&s.step_id)).and_then(|(_, d)| d.excluded_time);
            let step = if excluded.is_some() {
                in_progress_or_suspended_step(state, action)?
            } else {
                in_progress_step(state, action)?
            };
            if !matches!(step.kind, StepKind::Review | StepKind::JointReview | StepKind::Inspection) {
                return Err(CaseError::WrongStep(step.kind));
            }
            let task = open_task(step, &task_id)?;
            work_task(task, actor)?;
            if opinion.trim().is_empty() {
                return Err(CaseError::Empty("opinion"));
            }
            if step.kind == StepKind::Inspection
                && def.step(&step.step_id).is_some_and(|(_, d)| crate::acceptance::by_checklist(d))
            {
                return Err(CaseError::ChecklistInspection);
            }
            if step.kind == StepKind::JointReview {
                crate::drawing_review::check_pass(state, task.department.as_ref())?;
            }
            let mut ev = Vec::new();
            if task.assignee.is_none() {
                ev.push(CaseEvent::TaskClaimed { task_id: task_id.clone(), by: actor.id.clone() });
            }
            ev.push(CaseEvent::TaskCompleted { task_id: task_id.clone(), by: actor.id.clone(), opinion });
            let others: Vec<&Task> =
                step.tasks.iter().filter(|t| t.status == TaskStatus::Open && t.task_id != task_id).collect();
            let step_done = match step.joint_mode {
                Some(JointMode::Any) => true,
                _ => others.is_empty(),
            };
            if step_done {
                if !others.is_empty() {
                    ev.push(CaseEvent::TasksCancelled {
                        task_ids: others.iter().map(|t| t.task_id.clone()).collect(),
                        reason: "或签: one department's sign-off suffices".into(),
                    });
                }
                finish_step(state, def, step, ctx, &mut ev)?;
            }
            Ok(ev)
        }
        CaseCommand::SendBack { to_step, reason } => {
            let step = in_progress_step(state, action)?;
            if !(step
                .tasks
                .iter()
                .any(|t| t.status == TaskStatus::Open && actor.can_work(t.role, t.department.as_ref()))
                || actor.can_work(Role::Approver, Some(&state.department)))
            {
                return Err(CaseError::Forbidden("the current step's role"));
            }
            non_empty(&reason, "reason")?;
            let Some((target_idx, _)) = def.step(&to_step) else {
                return Err(CaseError::BadSendBackTarget(to_step));
            };
            if target_idx == 0 || !state.passed_steps.contains(&to_step) {
                return Err(CaseError::BadSendBackTarget(to_step));
            }
            let mut ev = Vec::new();
            let open: Vec<String> =
                step.tasks.iter().filter(|t| t.status == TaskStatus::Open).map(|t| t.task_id.clone()).collect();
            if !open.is_empty() {
                ev.push(CaseEvent::TasksCancelled { task_ids: open, reason: format!("sent back to {to_step}") });
            }
            ev.push(CaseEvent::SentBack { from_step: step.step_id.clone(), to_step: to_step.clone(), reason });
            start_step(state, def, target_idx, ctx, &mut ev)?;
            Ok(ev)
        }
        CaseCommand::Reassign { task_id, to, reason } => {
            let step = in_progress_or_suspended_step(state, action)?;
            let task = open_task(step, &task_id)?;
            let is_assignee = task.assignee.as_deref() == Some(actor.id.as_str());
            let is_chief = actor.can_work(Role::Approver, task.department.as_ref().or(Some(&state.department)));
            if !(is_assignee || is_chief) {
                return Err(CaseError::Forbidden("approver"));
            }
            non_empty(&reason, "reason")?;
            let target = Actor {
                id: to.id.clone(),
                display_name: String::new(),
                roles: to.roles,
                department: to.department,
                acts_for: vec![],
                follows: vec![],
                post: None,
            };
            if !target.can_work(task.role, task.department.as_ref()) {
                return Err(CaseError::AssigneeCannotWork(to.id));
            }
            Ok(vec![CaseEvent::TaskReassigned { task_id, from: task.assignee.clone(), to: to.id, reason }])
        }
        CaseCommand::Suspend { kind, reason, expected_days } => {
            let step = in_progress_step(state, action)?;
            if !(step
                .tasks
                .iter()
                .any(|t| t.status == TaskStatus::Open && actor.can_work(t.role, t.department.as_ref()))
                || actor.can_work(Role::Approver, Some(&state.department)))
            {
                return Err(CaseError::Forbidden("the current step's role"));
            }
            if matches!(state.clock.limit, Limit::Minutes(_)) {
                return Err(wrong(state, action));
            }
            non_empty(&reason, "reason")?;
            Ok(vec![CaseEvent::Suspended { kind, reason, expected_days }])
        }
        CaseCommand::Resume => {
            if state.status != Status::Suspended {
                return Err(wrong(state, action));
            }
            let step = state.current_step.as_ref().ok_or_else(|| wrong(state, action))?;
            if !(step
                .tasks
                .iter()
                .any(|t| t.status == TaskStatus::Open && actor.can_work(t.role, t.department.as_ref()))
                || actor.can_work(Role::Approver, Some(&state.department)))
            {
                return Err(CaseError::Forbidden("the current step's role"));
            }
            Ok(vec![resume_event(state, step, ctx)?])
        }
        CaseCommand::Extend { days, reason } => {
            if !actor.can_work(Role::Approver, Some(&state.department)) {
                return Err(CaseError::Forbidden("approver"));
            }
            if !matches!(state.status, Status::InProgress | Status::Suspended)
                || matches!(state.clock.limit, Limit::Minutes(_))
            {
                return Err(wrong(state, action));
            }
            non_empty(&reason, "reason")?;
            let used = state.clock.extension_days;
            if days == 0 || used.checked_add(days).is_none_or(|total| total > state.clock.max_extension_days) {
                return Err(CaseError::ExtensionTooLong { max: state.clock.max_extension_days, used });
            }
            let deadline = match state.clock.deadline {
                Some(d) => Some(ctx.calendar.add_working_days(d, days)?),
                None => None,
            };
            Ok(vec![CaseEvent::Extended { days, reason, approved_by: actor.id.clone(), deadline }])
        }
        CaseCommand::Decide { outcome, reasons } => {
            let step = in_progress_step(state, action)?;
            if step.kind != StepKind::Decision {
                return Err(CaseError::WrongStep(step.kind));
            }
            let task = step.tasks.iter().find(|t| t.status == TaskStatus::Open).ok_or_else(|| wrong(state, action))?;
            work_task(task, actor)?;
            if outcome == Outcome::Deny {
                non_empty_list(&reasons, "reasons")?;
            }
            let mut ev = vec![
                CaseEvent::Decided { outcome, reasons, by: actor.id.clone() },
                CaseEvent::StepCompleted { step_id: step.step_id.clone() },
            ];
            let idx = def.step(&step.step_id).map(|(i, _)| i).unwrap_or(0);
            advance(state, def, idx, Some(outcome), ctx, &mut ev)?;
            Ok(ev)
        }
        CaseCommand::IssueLicenses { licenses } => {
            let step = in_progress_step(state, action)?;
            if step.kind != StepKind::LicenseIssuance {
                return Err(CaseError::WrongStep(step.kind));
            }
            let task = step.tasks.iter().find(|t| t.status == TaskStatus::Open).ok_or_else(|| wrong(state, action))?;
            work_task(task, actor)?;
            non_empty_list(&licenses, "licenses")?;
            let mut ev = vec![
                CaseEvent::LicensesIssued { licenses },
                CaseEvent::StepCompleted { step_id: step.step_id.clone() },
            ];
            let idx = def.step(&step.step_id).map(|(i, _)| i).unwrap_or(0);
            advance(state, def, idx, state.decision, ctx, &mut ev)?;
            Ok(ev)
        }
        CaseCommand::Deliver { delivery } => {
            let step = in_progress_step(state, action)?;
            if step.kind != StepKind::Delivery {
                return Err(CaseError::WrongStep(step.kind));
            }
            let task = step.tasks.iter().find(|t| t.status == TaskStatus::Open).ok_or_else(|| wrong(state, action))?;
            work_task(task, actor)?;
            if let Delivery::Post { address, .. } = &delivery {
                non_empty(address, "address")?;
            }
            let mut ev =
                vec![CaseEvent::Delivered { delivery }, CaseEvent::StepCompleted { step_id: step.step_id.clone() }];
            let idx = def.step(&step.step_id).map(|(i, _)| i).unwrap_or(0);
            advance(state, def, idx, state.decision, ctx, &mut ev)?;
            Ok(ev)
        }
        CaseCommand::Withdraw { reason } => {
            own_case(state, actor)?;
            if state.status.is_final() || state.decision.is_some() {
                return Err(wrong(state, action));
            }
            Ok(vec![CaseEvent::Withdrawn { reason }])
        }
        CaseCommand::Terminate { reason } => {
            if !actor.can_work(Role::Approver, Some(&state.department)) {
                return Err(CaseError::Forbidden("approver"));
            }
            if state.status.is_final() {
                return Err(wrong(state, action));
            }
            non_empty(&reason, "reason")?;
            Ok(vec![CaseEvent::Terminated { reason }])
        }
        CaseCommand::RecordVideo { task_id, video } => {
            own_case(state, actor)?;
            crate::inspection::check_record_video(state, def, &task_id)?;
            Ok(vec![CaseEvent::VideoRecorded { task_id, video }])
        }
        CaseCommand::ChooseInspectionMethod { method, reason } => {
            crate::inspection::choose_method(state, def, actor, method, reason)
        }
        CaseCommand::AddInspectionNote { note } => {
            let step = inspection_step(state, action)?;
            inspects(step, actor)?;
            crate::inspection::check_moment(state, &note.video_id, note.at_ms)?;
            if let Some(item) = &note.checklist_item {
                if !crate::inspection::checklist(state, def).iter().any(|c| &c.id == item) {
                    return Err(CaseError::UnknownChecklistItem(item.clone()));
                }
            }
            non_empty(&note.text, "text")?;
            Ok(vec![CaseEvent::InspectionNoteAdded { note }])
        }
        CaseCommand::RecordStill { still } => {
            let step = inspection_step(state, action)?;
            inspects(step, actor)?;
            crate::inspection::check_moment(state, &still.video_id, still.at_ms)?;
            non_empty(&still.attachment, "attachment")?;
            Ok(vec![CaseEvent::StillCaptured { still }])
        }
        CaseCommand::ConcludeInspection { task_id, conclusion, points, opinion } => {
            use crate::inspection::{Conclusion, Method};
            let step = inspection_step(state, action)?;
            work_task(open_task(step, &task_id)?, actor)?;
            non_empty(&opinion, "opinion")?;
            let video = crate::inspection::method_now(state, def) == Some(Method::Video);
            let open_points = state.inspection.as_ref().is_some_and(|r| !r.open_points.is_empty());
            let concluded = |points: Vec<String>| CaseEvent::InspectionConcluded {
                task_id: task_id.clone(),
                conclusion,
                points,
                opinion: opinion.clone(),
            };
            match conclusion {
                Conclusion::Pass => {
                    if video && (state.videos.is_empty() || open_points) {
                        return Err(CaseError::RecordingAwaited);
                    }
                    let mut ev = vec![concluded(vec![])];
                    ev.extend(decide(
                        state,
                        CaseCommand::CompleteTask { task_id: task_id.clone(), opinion: opinion.clone() },
                        ctx,
                    )?);
                    Ok(ev)
                }
                Conclusion::Rectify => {
                    if !video {
                        return Err(CaseError::VideoNotAllowed);
                    }
                    if state.videos.is_empty() || open_points {
                        return Err(CaseError::RecordingAwaited);
                    }
                    non_empty_list(&points, "points")?;
                    Ok(vec![concluded(points)])
                }
                Conclusion::OnSiteNeeded => {
                    if !video {
                        return Err(wrong(state, action));
                    }
                    Ok(vec![concluded(vec![])])
                }
            }
        }
        CaseCommand::ScheduleInspection { schedule } => {
            use crate::catalog::InspectionMode;
            let (step, sdef) = open_inspection_step(state, def, action)?;
            lead_inspector(actor, &schedule)?;
            if schedule.cases.first() == Some(&state.case_no) {
                // The handling department schedules: an inspector of an open task of this step.
                inspects(step, actor)?;
            } else if !schedule.cases.contains(&state.case_no) {
                return Err(CaseError::NotScheduled(schedule.id));
            }
            if schedule.cases.len() > 1 && !sdef.joint_inspection {
                return Err(CaseError::NotJoinable);
            }
            // 联合验收: the step's department leads (schedules and records the joint result).
            if crate::acceptance::by_checklist(sdef) && sdef.department.as_ref().is_some_and(|d| d != &schedule.lead) {
                return Err(CaseError::Forbidden("inspector of the lead department"));
            }
            if schedule.visit == crate::inspection::Visit::LiveVideo
                && !matches!(sdef.inspection, Some(InspectionMode::Video | InspectionMode::Either))
            {
                return Err(CaseError::VideoNotAllowed);
            }
            if state.inspection.as_ref().is_some_and(|r| r.schedule.is_some()) {
                return Err(CaseError::AlreadyScheduled);
            }
            crate::inspection::check_slot(schedule.start, schedule.minutes, ctx.now, ctx.calendar)?;
            Ok(vec![CaseEvent::InspectionScheduled { schedule }])
        }
        CaseCommand::RecordFindings { task_id, findings, satisfied, checklist } => {
            if crate::acceptance::awaiting_correction(state.inspection.as_ref()) {
                return Err(CaseError::RectificationAwaited);
            }
            let (step, sdef) = open_inspection_step(state, def, action)?;
            let schedule = state
                .inspection
                .as_ref()
                .and_then(|r| r.schedule.as_ref())
                .ok_or_else(|| CaseError::NotScheduled(String::new()))?;
            let task = open_task(step, &task_id)?;
            // A department records its own findings only.
            work_task(task, actor)?;
            non_empty(&findings, "findings")?;
            if ctx.now < schedule.start {
                return Err(CaseError::NotHeldYet);
            }
            let satisfied = match (&task.department, crate::acceptance::by_checklist(sdef)) {
                (Some(dept), true) => {
                    let rec = state.inspection.as_ref();
                    let all = crate::acceptance::check_results(sdef, rec, dept, &task_id, &checklist)?;
                    if satisfied.is_some_and(|s| s != all) {
                        return Err(CaseError::SatisfiedMismatch);
                    }
                    all
                }
                _ => {
                    if !checklist.is_empty() {
                        let unknown = checklist.iter().map(|e| e.item.clone()).collect();
                        return Err(CaseError::ChecklistEntries { unknown, missing: vec![] });
                    }
                    satisfied.ok_or(CaseError::Empty("satisfied"))?
                }
            };
            let checklist = checklist
                .into_iter()
                .map(|e| crate::acceptance::EntryResult {
                    note: e.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
                    ..e
                })
                .collect();
            Ok(vec![CaseEvent::FindingsRecorded {
                task_id,
                department: task.department.clone(),
                findings: findings.trim().to_string(),
                satisfied,
                checklist,
            }])
        }
        CaseCommand::RecordJointResult { schedule_id, opinion } => {
            if crate::acceptance::awaiting_correction(state.inspection.as_ref()) {
                return Err(CaseError::RectificationAwaited);
            }
            let (step, sdef) = open_inspection_step(state, def, action)?;
            let rec = state.inspection.as_ref();
            let schedule = rec
                .and_then(|r| r.schedule.as_ref())
                .filter(|s| s.id == schedule_id)
                .ok_or_else(|| CaseError::NotScheduled(schedule_id.clone()))?;
            lead_inspector(actor, schedule)?;
            non_empty(&opinion, "opinion")?;
            let findings = rec.map(|r| r.findings.as_slice()).unwrap_or(&[]);
            let open: Vec<&Task> = step.tasks.iter().filter(|t| t.status == TaskStatus::Open).collect();
            let mut done = Vec::new();
            let mut missing = Vec::new();
            for t in &open {
                // The latest findings of the task (a checklist inspection keeps every round's).
                match findings.iter().rev().find(|f| f.task_id == t.task_id) {
                    Some(f) => done.push(f),
                    None => missing.push(crate::acceptance::name_task(t)),
                }
            }
            let by_checklist = crate::acceptance::by_checklist(sdef);
            if by_checklist && missing.is_empty() {
                missing = crate::acceptance::awaited_tasks(sdef, step, rec);
            }
            if !missing.is_empty() {
                return Err(CaseError::FindingsAwaited(missing));
            }
            let failed = if by_checklist { crate::acceptance::failed_entries(sdef, rec) } else { vec![] };
            if !failed.is_empty() {
                // 整改: the failed entries wait for the applicant's correction, whose time §45 does not count.
                let mut ev = vec![CaseEvent::JointResultRecorded { schedule_id, opinion, satisfied: false, failed }];
                if correction_stops_clock(state) {
                    ev.push(CaseEvent::Suspended {
                        kind: crate::clock::SuspensionKind::AwaitingCorrection,
                        reason: "联合验收整改：申请人整改时间不计入办理时限（行政许可法第四十五条） rectification of the failed checklist entries".into(),
                        expected_days: 0,
                    });
                }
                return Ok(ev);
            }
            let satisfied = done.iter().all(|f| f.satisfied) || by_checklist;
            let mut ev = vec![CaseEvent::JointResultRecorded { schedule_id, opinion, satisfied, failed: vec![] }];
            for f in done {
                ev.push(CaseEvent::TaskCompleted {
                    task_id: f.task_id.clone(),
                    by: f.by.clone(),
                    opinion: f.findings.clone(),
                });
            }
            finish_step(state, def, step, ctx, &mut ev)?;
            Ok(ev)
        }
        CaseCommand::ReportRectified { report } => {
            own_case(state, actor)?;
            let rec = state.inspection.as_ref();
            if !crate::acceptance::awaiting_correction(rec) {
                return Err(CaseError::NoRectification);
            }
            let step = state.current_step.as_ref().ok_or_else(|| wrong(state, action))?;
            non_empty(&report, "report")?;
            if report.chars().count() > crate::drawing_review::MAX_TEXT {
                return Err(CaseError::TooLong { what: "report", max: crate::drawing_review::MAX_TEXT });
            }
            let mut ev = vec![CaseEvent::RectificationReported { report: report.trim().to_string() }];
            let stopped = rec.and_then(|r| r.rectifications.last()).is_some_and(|x| x.suspended);
            if stopped && state.status == Status::Suspended {
                ev.push(resume_event(state, step, ctx)?);
            }
            Ok(ev)
        }
        CaseCommand::AddDrawingComment { material_id, sheet, text } => {
            crate::drawing_review::add_comment(state, actor, material_id, sheet, text)
        }
        CaseCommand::AnswerDrawingComments { answers, materials } => {
            own_case(state, actor)?;
            check_material_ids(def, &materials)?;
            crate::drawing_review::answer(state, answers, materials)
        }
    }
}

/// The step's tasks are done: a §45 excluded time ends with it (the clock runs again), the step completes and the
/// case moves to its next step.
fn finish_step(
    state: &CaseState,
    def: &CaseDefinition,
    step: &CurrentStep,
    ctx: &Ctx,
    ev: &mut Vec<CaseEvent>,
) -> Result<(), CaseError> {
    if state.status == Status::Suspended {
        ev.push(resume_event(state, step, ctx)?);
    }
    ev.push(CaseEvent::StepCompleted { step_id: step.step_id.clone() });
    let idx = def.step(&step.step_id).map(|(i, _)| i).unwrap_or(0);
    advance(state, def, idx, None, ctx, ev)
}

/// A correction (整改) asked for by a joint result stops the clock (§45), unless it stands already or the case is
/// counted in minutes.
fn correction_stops_clock(state: &CaseState) -> bool {
    state.status == Status::InProgress && !matches!(state.clock.limit, Limit::Minutes(_))
}

/// The current inspection step and its definition, while the case is in progress there — or suspended for the
/// step's own §45 excluded time (the inspection runs while the clock stands).
fn open_inspection_step<'a, 'd>(
    state: &'a CaseState,
    def: &'d CaseDefinition,
    action: &'static str,
) -> Result<(&'a CurrentStep, &'d StepDef), CaseError> {
    let step = state.current_step.as_ref().ok_or_else(|| wrong(state, action))?;
    let sdef = def.step(&step.step_id).map(|(_, d)| d).ok_or_else(|| wrong(state, action))?;
    let open =
        state.status == Status::InProgress || (state.status == Status::Suspended && sdef.excluded_time.is_some());
    if !open {
        return Err(wrong(state, action));
    }
    if step.kind != StepKind::Inspection {
        return Err(CaseError::WrongStep(step.kind));
    }
    Ok((step, sdef))
}

/// An inspector of the department that leads a scheduled inspection.
fn lead_inspector(actor: &Actor, schedule: &Schedule) -> Result<(), CaseError> {
    if actor.can_work(Role::Inspector, Some(&schedule.lead)) {
        Ok(())
    } else {
        Err(CaseError::Forbidden("inspector of the lead department"))
    }
}

/// The current step when the case is in progress at an inspection step.
fn inspection_step<'a>(state: &'a CaseState, action: &'static str) -> Result<&'a CurrentStep, CaseError> {
    let step = in_progress_step(state, action)?;
    if step.kind != StepKind::Inspection {
        return Err(CaseError::WrongStep(step.kind));
    }
    Ok(step)
}

/// The actor may work an open task of the step (the inspector of its department).
pub(crate) fn inspects(step: &CurrentStep, actor: &Actor) -> Result<(), CaseError> {
    if step.tasks.iter().any(|t| t.status == TaskStatus::Open && actor.can_work(t.role, t.department.as_ref())) {
        Ok(())
    } else {
        Err(CaseError::Forbidden("inspector"))
    }
}

/// The `Resumed` event for a suspended case at `ctx.now`: the working days in (suspension day, today] are not
/// counted, so every deadline moves by that many working days.
fn resume_event(state: &CaseState, step: &CurrentStep, ctx: &Ctx) -> Result<CaseEvent, CaseError> {
    let since = state
        .clock
        .suspended_since
        .ok_or(CaseError::WrongStatus { status: state.status.as_str(), action: "resume" })?;
    let days = ctx.calendar.working_days_between(local_date(since), local_date(ctx.now))?;
    let shift = |d: Option<Date>| -> Result<Option<Date>, CaseError> {
        Ok(match d {
            Some(d) => Some(ctx.calendar.add_working_days(d, days)?),
            None => None,
        })
    };
    Ok(CaseEvent::Resumed {
        suspended_days: days,
        deadline: shift(state.clock.deadline)?,
        statutory_deadline: shift(state.clock.statutory_deadline)?,
        step_due: shift(step.due)?,
    })
}

fn first_step_id(def: &CaseDefinition) -> String {
    def.process.steps.first().map(|s| s.id.clone()).unwrap_or_else(|| "accept".into())
}

fn non_empty(s: &str, what: &'static str) -> Result<(), CaseError> {
    if s.trim().is_empty() {
        Err(CaseError::Empty(what))
    } else {
        Ok(())
    }
}

fn non_empty_list(v: &[String], what: &'static str) -> Result<(), CaseError> {
    if v.is_empty() || v.iter().any(|s| s.trim().is_empty()) {
        Err(CaseError::Empty(what))
    } else {
        Ok(())
    }
}

fn own_case(state: &CaseState, actor: &Actor) -> Result<(), CaseError> {
    if actor.acts_as_applicant(state.applicant.account.as_deref(), organisation_of(state)) {
        Ok(())
    } else {
        Err(CaseError::Forbidden("applicant of this case"))
    }
}

/// The USCC of an organisation applicant.
pub fn organisation_of(state: &CaseState) -> Option<&str> {
    state.applicant.id_number.organisation().map(|u| u.as_str())
}

fn in_progress_step<'a>(state: &'a CaseState, action: &'static str) -> Result<&'a CurrentStep, CaseError> {
    if state.status != Status::InProgress {
        return Err(wrong(state, action));
    }
    state.current_step.as_ref().ok_or_else(|| wrong(state, action))
}

fn in_progress_or_suspended_step<'a>(state: &'a CaseState, action: &'static str) -> Result<&'a CurrentStep, CaseError> {
    if !matches!(state.status, Status::InProgress | Status::Suspended) {
        return Err(wrong(state, action));
    }
    state.current_step.as_ref().ok_or_else(|| wrong(state, action))
}

fn open_task<'a>(step: &'a CurrentStep, task_id: &str) -> Result<&'a Task, CaseError> {
    step.tasks
        .iter()
        .find(|t| t.task_id == task_id && t.status == TaskStatus::Open)
        .ok_or_else(|| CaseError::NoSuchTask(task_id.to_string()))
}

fn work_task(task: &Task, actor: &Actor) -> Result<(), CaseError> {
    if !actor.can_work(task.role, task.department.as_ref()) {
        return Err(CaseError::Forbidden(task.role.as_str()));
    }
    match &task.assignee {
        Some(a) if a != &actor.id => Err(CaseError::ClaimedByOther(task.task_id.clone())),
        _ => Ok(()),
    }
}

/// Move to the first step after `idx` whose condition holds (skipping licence issuance after a denial), or
/// complete the case when none is left.
fn advance(
    state: &CaseState,
    def: &CaseDefinition,
    idx: usize,
    decision: Option<Outcome>,
    ctx: &Ctx,
    ev: &mut Vec<CaseEvent>,
) -> Result<(), CaseError> {
    let next = def.process.steps.iter().enumerate().skip(idx + 1).find(|(_, s)| {
        let cond = s.condition.as_ref().map_or(true, |c| c.holds(&state.form));
        let skip_license = decision == Some(Outcome::Deny) && s.kind == StepKind::LicenseIssuance;
        cond && !skip_license
    });
    match next {
        Some((i, _)) => start_step(state, def, i, ctx, ev),
        None => {
            ev.push(CaseEvent::Completed { outcome: decision.unwrap_or(Outcome::Grant) });
            Ok(())
        }
    }
}

fn start_step(
    state: &CaseState,
    def: &CaseDefinition,
    idx: usize,
    ctx: &Ctx,
    ev: &mut Vec<CaseEvent>,
) -> Result<(), CaseError> {
    let Some(s) = def.process.steps.get(idx) else {
        return Ok(());
    };
    // Task numbers continue from those already handed out, including tasks started earlier in this same decision.
    let started_here: u32 = ev
        .iter()
        .map(|e| match e {
            CaseEvent::StepStarted { tasks, .. } => tasks.len() as u32,
            _ => 0,
        })
        .sum();
    let mut n = state.task_counter + started_here;
    let mut tasks = Vec::new();
    let joint = s.kind == StepKind::JointReview || (s.kind == StepKind::Inspection && !s.departments.is_empty());
    let depts: Vec<Option<DepartmentId>> =
        if joint { s.departments.iter().cloned().map(Some).collect() } else { vec![s.department.clone()] };
    for d in depts {
        n += 1;
        tasks.push(TaskSpec { task_id: format!("t{n}"), role: s.role, department: d });
    }
    let due =
        if s.share_days > 0 { Some(ctx.calendar.add_working_days(local_date(ctx.now), s.share_days)?) } else { None };
    ev.push(CaseEvent::StepStarted {
        step_id: s.id.clone(),
        name: s.name.clone(),
        kind: s.kind,
        due,
        joint_mode: s.joint_mode,
        tasks,
    });
    let already_suspended =
        state.status == Status::Suspended && !ev.iter().any(|e| matches!(e, CaseEvent::Resumed { .. }));
    if let (Some(kind), false) = (s.excluded_time, already_suspended) {
        if matches!(state.clock.limit, Limit::WorkingDays(_)) {
            ev.push(CaseEvent::Suspended {
                kind,
                reason: format!("§45 excluded time: {} (不计入办理时限)", s.name),
                expected_days: s.share_days,
            });
        }
    }
    Ok(())
}

/// Fold the first event (must be `Submitted`) into a new state.
pub fn init(r: &Recorded) -> Option<CaseState> {
    let CaseEvent::Submitted {
        case_no,
        subject,
        title,
        department,
        channel,
        service_point,
        applicant,
        form,
        materials,
        query_code_digest,
        clock,
    } = &r.event
    else {
        return None;
    };
    Some(CaseState {
        case_no: case_no.clone(),
        subject: subject.clone(),
        title: title.clone(),
        department: department.clone(),
        channel: *channel,
        service_point: service_point.clone(),
        applicant: applicant.clone(),
        form: form.clone(),
        materials: materials.clone(),
        query_code_digest: query_code_digest.clone(),
        status: Status::Submitted,
        version: 1,
        submitted_at: r.at,
        accepted_at: None,
        finished_at: None,
        clock: clock.clone(),
        correction_requested: false,
        corrected_at: None,
        deemed_accepted: false,
        pledges: vec![],
        current_step: None,
        passed_steps: vec![],
        task_counter: 0,
        decision: None,
        licenses: vec![],
        delivery: None,
        outcome: None,
        videos: vec![],
        inspection: None,
        drawing_review: None,
    })
}

/// Fold one event into the state.
pub fn apply(state: &mut CaseState, r: &Recorded) {
    state.version += 1;
    match &r.event {
        CaseEvent::Submitted { .. } => {}
        CaseEvent::CorrectionRequested { .. } => {
            state.correction_requested = true;
            state.status = Status::AwaitingCorrection;
        }
        CaseEvent::Corrected { form, materials } => {
            if let Some(f) = form {
                state.form = f.clone();
            }
            for m in materials {
                state.materials.retain(|x| x.material_id != m.material_id);
                state.materials.push(m.clone());
            }
            state.status = Status::Submitted;
            state.corrected_at = Some(r.at);
        }
        CaseEvent::Accepted { pledges, deadline, statutory_deadline, deadline_at, deemed_from } => {
            state.status = Status::InProgress;
            state.accepted_at = Some(r.at);
            state.pledges = pledges.clone();
            state.deemed_accepted = deemed_from.is_some();
            state.clock.started_at = Some(deemed_from.unwrap_or(r.at));
            state.clock.deadline = *deadline;
            state.clock.statutory_deadline = *statutory_deadline;
            state.clock.deadline_at = *deadline_at;
        }
        CaseEvent::Refused { .. } => {
            state.status = Status::Refused;
            state.finished_at = Some(r.at);
        }
        CaseEvent::PledgeFulfilled { material } => {
            for p in state.pledges.iter_mut().filter(|p| p.material_id == material.material_id) {
                p.fulfilled = true;
            }
            state.materials.push(material.clone());
        }
        CaseEvent::StepStarted { step_id, name, kind, due, joint_mode, tasks } => {
            if *kind == StepKind::Inspection {
                let rec = state.inspection.get_or_insert_with(Default::default);
                rec.requested_at = Some(r.at);
                rec.resulted_at = None;
                rec.videos_at_step = 0;
                rec.by_video = false;
                rec.schedule = None;
                rec.findings.clear();
                rec.joint_result = None;
                rec.rectifications.clear();
            }
            state.task_counter += tasks.len() as u32;
            state.current_step = Some(CurrentStep {
                step_id: step_id.clone(),
                name: name.clone(),
                kind: *kind,
                started_at: r.at,
                due: *due,
                joint_mode: *joint_mode,
                tasks: tasks
                    .iter()
                    .map(|t| Task {
                        task_id: t.task_id.clone(),
                        role: t.role,
                        department: t.department.clone(),
                        assignee: None,
                        status: TaskStatus::Open,
                        opinion: None,
                    })
                    .collect(),
            });
        }
        CaseEvent::TaskClaimed { task_id, by } => {
            if let Some(t) = task_mut(state, task_id) {
                t.assignee = Some(by.clone());
            }
        }
        CaseEvent::TaskReassigned { task_id, to, .. } => {
            if let Some(t) = task_mut(state, task_id) {
                t.assignee = Some(to.clone());
            }
        }
        CaseEvent::TaskCompleted { task_id, by, opinion } => {
            if let Some(t) = task_mut(state, task_id) {
                t.status = TaskStatus::Done;
                t.assignee = Some(by.clone());
                t.opinion = Some(opinion.clone());
            }
        }
        CaseEvent::TasksCancelled { task_ids, .. } => {
            for id in task_ids {
                if let Some(t) = task_mut(state, id) {
                    t.status = TaskStatus::Cancelled;
                }
            }
        }
        CaseEvent::StepCompleted { step_id } => {
            let inspection_done =
                state.current_step.as_ref().is_some_and(|s| s.kind == StepKind::Inspection && &s.step_id == step_id);
            if let (true, Some(rec)) = (inspection_done, state.inspection.as_mut()) {
                rec.resulted_at = Some(r.at);
                let live = rec.schedule.as_ref().is_some_and(|s| s.visit == crate::inspection::Visit::LiveVideo);
                rec.by_video =
                    live || (rec.videos_at_step > 0 && rec.method != Some(crate::inspection::Method::OnSite));
            }
            state.passed_steps.push(step_id.clone());
            state.current_step = None;
        }
        CaseEvent::SentBack { to_step, .. } => {
            if let Some(pos) = state.passed_steps.iter().position(|s| s == to_step) {
                state.passed_steps.truncate(pos);
            }
            state.current_step = None;
        }
        CaseEvent::Suspended { .. } => {
            state.status = Status::Suspended;
            state.clock.suspended_since = Some(r.at);
        }
        CaseEvent::Resumed { suspended_days, deadline, statutory_deadline, step_due } => {
            state.status = Status::InProgress;
            state.clock.suspended_since = None;
            state.clock.suspended_days += suspended_days;
            state.clock.deadline = *deadline;
            state.clock.statutory_deadline = *statutory_deadline;
            if let Some(s) = state.current_step.as_mut() {
                s.due = *step_due;
            }
        }
        CaseEvent::Extended { days, deadline, .. } => {
            state.clock.extension_days += days;
            state.clock.deadline = *deadline;
        }
        CaseEvent::DatesRecomputed { deadline, statutory_deadline, step_due, suspended_days, .. } => {
            state.clock.deadline = *deadline;
            state.clock.statutory_deadline = *statutory_deadline;
            state.clock.suspended_days = *suspended_days;
            if let Some(s) = state.current_step.as_mut() {
                s.due = *step_due;
            }
        }
        CaseEvent::Decided { outcome, .. } => state.decision = Some(*outcome),
        CaseEvent::LicensesIssued { licenses } => state.licenses.extend(licenses.iter().cloned()),
        CaseEvent::Delivered { delivery } => state.delivery = Some(delivery.clone()),
        CaseEvent::FilingRecorded { receipt_no } => state.licenses.push(receipt_no.clone()),
        CaseEvent::Completed { outcome } => {
            state.status = Status::Completed;
            state.outcome = Some(*outcome);
            state.finished_at = Some(r.at);
            state.current_step = None;
        }
        CaseEvent::Withdrawn { .. } => {
            state.status = Status::Withdrawn;
            state.finished_at = Some(r.at);
            state.current_step = None;
        }
        CaseEvent::Terminated { .. } => {
            state.status = Status::Terminated;
            state.finished_at = Some(r.at);
            state.current_step = None;
        }
        CaseEvent::VideoRecorded { video, .. } => {
            state.videos.push(video.clone());
            // A new recording answers the open rectification points.
            let rec = state.inspection.get_or_insert_with(Default::default);
            rec.open_points.clear();
            rec.videos_at_step += 1;
        }
        CaseEvent::InspectionMethodChosen { method, reason, by_staff } => {
            let rec = state.inspection.get_or_insert_with(Default::default);
            rec.method = Some(*method);
            rec.method_reason = reason.clone();
            rec.method_chosen_by = Some(r.actor.clone());
            rec.method_by_staff = *by_staff;
        }
        CaseEvent::InspectionNoteAdded { note } => {
            let rec = state.inspection.get_or_insert_with(Default::default);
            rec.notes.push(crate::inspection::NoteRecord { note: note.clone(), by: r.actor.clone(), at: r.at });
        }
        CaseEvent::StillCaptured { still } => {
            state.inspection.get_or_insert_with(Default::default).stills.push(still.clone());
        }
        CaseEvent::InspectionConcluded { conclusion, points, opinion, .. } => {
            use crate::inspection::{Conclusion, Method};
            let rec = state.inspection.get_or_insert_with(Default::default);
            rec.conclusions.push(crate::inspection::ConclusionRecord {
                conclusion: *conclusion,
                points: points.clone(),
                opinion: opinion.clone(),
                by: r.actor.clone(),
                at: r.at,
            });
            match conclusion {
                Conclusion::Pass => rec.open_points.clear(),
                Conclusion::Rectify => rec.open_points = points.clone(),
                Conclusion::OnSiteNeeded => {
                    rec.open_points.clear();
                    rec.method = Some(Method::OnSite);
                    rec.method_reason = Some(opinion.clone());
                    rec.method_chosen_by = Some(r.actor.clone());
                    rec.method_by_staff = true;
                }
            }
        }
        CaseEvent::InspectionScheduled { schedule } => {
            use crate::inspection::{Method, Visit};
            let rec = state.inspection.get_or_insert_with(Default::default);
            // Who schedules fixes the method: a live session is a video inspection, a visit is on site.
            let (method, why) = match schedule.visit {
                Visit::LiveVideo => (Method::Video, "预约视频连线勘验 live video inspection scheduled"),
                Visit::OnSite => (Method::OnSite, "预约现场勘验 on-site inspection scheduled"),
            };
            rec.method = Some(method);
            rec.method_reason = Some(why.to_string());
            rec.method_chosen_by = Some(r.actor.clone());
            rec.method_by_staff = true;
            rec.schedule = Some(schedule.clone());
            rec.findings.clear();
            rec.joint_result = None;
            rec.rectifications.clear();
        }
        CaseEvent::FindingsRecorded { task_id, department, findings, satisfied, checklist } => {
            let round = crate::acceptance::round(state.inspection.as_ref());
            let rec = state.inspection.get_or_insert_with(Default::default);
            rec.findings.retain(|f| !(&f.task_id == task_id && f.round == round));
            rec.findings.push(crate::inspection::FindingsRecord {
                task_id: task_id.clone(),
                department: department.clone(),
                findings: findings.clone(),
                satisfied: *satisfied,
                checklist: checklist.clone(),
                round,
                by: r.actor.clone(),
                at: r.at,
            });
        }
        CaseEvent::JointResultRecorded { schedule_id, opinion, satisfied, failed } => {
            let stops = correction_stops_clock(state);
            let rec = state.inspection.get_or_insert_with(Default::default);
            rec.joint_result = Some(crate::inspection::JointResultRecord {
                schedule_id: schedule_id.clone(),
                opinion: opinion.clone(),
                satisfied: *satisfied,
                failed: failed.clone(),
                by: r.actor.clone(),
                at: r.at,
            });
            if !failed.is_empty() {
                rec.rectifications.push(crate::acceptance::Rectification {
                    failed: failed.clone(),
                    requested_at: r.at,
                    suspended: stops,
                    report: None,
                    reported_by: None,
                    reported_at: None,
                });
            }
        }
        CaseEvent::RectificationReported { report } => {
            if let Some(x) = state.inspection.as_mut().and_then(|rec| rec.rectifications.last_mut()) {
                x.report = Some(report.clone());
                x.reported_by = Some(r.actor.clone());
                x.reported_at = Some(r.at);
            }
        }
        CaseEvent::DrawingCommentAdded { .. } | CaseEvent::DrawingCommentsAnswered { .. } => {
            crate::drawing_review::apply(state, &r.event)
        }
    }
}

fn task_mut<'a>(state: &'a mut CaseState, id: &str) -> Option<&'a mut Task> {
    state.current_step.as_mut()?.tasks.iter_mut().find(|t| t.task_id == id)
}

/// Fold a whole stream; `None` if it does not start with `Submitted`.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Recorded>) -> Option<CaseState> {
    let mut it = events.into_iter();
    let mut st = init(it.next()?)?;
    for r in it {
        apply(&mut st, r);
    }
    Some(st)
}
