//! Case services: submit from any channel (idempotent), run commands through the pure `decide`, append the events
//! and write the projections in one transaction, and answer the queries of applicants, staff and the public.

use std::sync::Arc;

use oneseal_domain::calendar::{format_date, Calendar};
use oneseal_domain::case::{
    self, ApplicantInfo, ApplicantKind, CaseCommand, CaseDefinition, CaseEvent, CaseState, Channel, Ctx, MaterialRef,
    Recorded, Status, Subject, Submission, TaskStatus, CASE_EVENT_SCHEMA,
};
use oneseal_domain::catalog::Limit;
use oneseal_domain::clock::{self, local_date, ClockView};
use oneseal_domain::ids::CaseNo;
use oneseal_domain::party::{ClearId, ID_NUMBER_FIELD};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{CaseFilter, CaseRow, Db, NewEvent, StoredEvent, TaskFilter, TaskRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::{from_ms, ms, sha256_hex, App, AppError};

/// The stream id of a case.
pub fn stream_of(case_no: &CaseNo) -> String {
    format!("case-{}", case_no.as_str())
}

/// A case number read back from a row or a stream id (written from a `CaseNo`, so a malformed one is an internal
/// error).
pub(crate) fn stored_case_no(s: &str) -> Result<CaseNo, AppError> {
    CaseNo::parse(s).map_err(|e| AppError::Internal(format!("stored case number {s:?}: {e}")))
}

/// What the applicant (or the clerk for a walk-in applicant) hands in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Implementation code of an item, or the code of a bundle.
    #[serde(default)]
    pub item_code: Option<String>,
    #[serde(default)]
    pub bundle_code: Option<String>,
    /// The channel the application came through; absent: the submitter's own (an applicant's `api`, a window
    /// clerk's `window`, a hotline operator's `hotline`).
    #[serde(default)]
    pub channel: Option<Channel>,
    /// Which service point took the application (同城通办: any point of the network that handles the item accepts
    /// it; a point of the network that does not is refused).
    #[serde(default)]
    pub service_point: Option<String>,
    pub applicant: ApplicantInput,
    #[serde(default)]
    pub form: Map<String, Value>,
    #[serde(default)]
    pub materials: Vec<MaterialRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    pub kind: ApplicantKind,
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// For a walk-in applicant who also has an online account.
    #[serde(default)]
    pub account: Option<String>,
}

/// The receipt of a submission (回执).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Receipt {
    pub case_no: CaseNo,
    /// The secret for progress lookup without login; shown only on the receipt.
    pub query_code: String,
    pub status: String,
    pub version: i64,
    pub title: String,
    /// The promised completion date if the case were accepted today.
    pub promised_completion: Option<String>,
    /// The promised date was counted over a year without an official holiday notice (计划日期，以国务院放假通知为准).
    #[serde(default)]
    pub promised_provisional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filing_receipt: Option<String>,
}

/// A case as shown to people allowed to see it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub state: CaseState,
    pub clock: Option<ClockView>,
    pub step_clock: Option<StepClock>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepClock {
    pub step_id: String,
    pub share_days: Option<u32>,
    pub elapsed: u32,
    /// Working days left of the step's share (negative when late).
    pub remaining: Option<i64>,
    pub due: Option<String>,
    pub overdue: bool,
    /// The due date was counted over a year without an official holiday notice (a planned date).
    pub provisional: bool,
}

/// A trail entry (阳光审批): every event, who, when.
#[derive(Debug, Clone, Serialize)]
pub struct TrailEntry {
    pub seq: i64,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    #[serde(flatten)]
    pub event: CaseEvent,
}

/// The public progress of a case (looked up with its query code): no personal data.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub case_no: CaseNo,
    pub title: String,
    pub status: Status,
    pub current_step: Option<String>,
    /// The current step's English name.
    pub current_step_en: Option<String>,
    /// Ids of the steps done, in order.
    pub passed_steps: Vec<String>,
    /// The same steps by name, for people.
    pub passed_step_names: Vec<StepName>,
    pub deadline: Option<String>,
    pub clock: Option<ClockView>,
    pub outcome: Option<case::Outcome>,
}

/// A step of the assembly line by its names (Chinese and English).
#[derive(Debug, Clone, Serialize)]
pub struct StepName {
    pub id: String,
    pub name: String,
    pub name_en: String,
}

/// Work queue views of the staff inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueView {
    ToClaim,
    Mine,
    DueSoon,
    Overdue,
}

fn applicant_channel(c: Channel) -> bool {
    matches!(c, Channel::Online | Channel::Mobile | Channel::Kiosk | Channel::Api)
}

fn clerk_channel(c: Channel) -> bool {
    matches!(c, Channel::Window | Channel::Bank | Channel::Hotline | Channel::Kiosk)
}

/// The channel of a submission that names none: the submitter's own.
pub fn default_channel(actor: &Actor) -> Channel {
    if actor.has(Role::WindowClerk) {
        Channel::Window
    } else if actor.has(Role::HotlineOperator) && !actor.has(Role::Applicant) {
        Channel::Hotline
    } else {
        Channel::Api
    }
}

/// Whether a service point id a kiosk (or another client) sends is acceptable as it stands: 1–40 lowercase letters,
/// digits and `-`, starting with a letter or digit (the form of the service network's point ids).
pub fn valid_point_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && !s.starts_with('-')
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Projection rows of a case state.
pub fn project(st: &CaseState, applicant_index: Option<String>) -> (CaseRow, Vec<TaskRow>) {
    let (kind, version) = match &st.subject {
        Subject::Item { version, .. } => ("item", *version),
        Subject::Bundle { version, .. } => ("bundle", *version),
    };
    let deadline =
        st.clock.deadline.map(format_date).or_else(|| st.clock.deadline_at.map(|t| format_date(local_date(t))));
    let row = CaseRow {
        case_no: st.case_no.as_str().to_string(),
        subject_kind: kind.into(),
        subject_code: st.subject.code().to_string(),
        subject_version: i64::from(version),
        title: st.title.clone(),
        department: st.department.as_str().to_string(),
        channel: st.channel.as_str().into(),
        service_point: st.service_point.clone(),
        status: st.status.as_str().into(),
        applicant_account: st.applicant.account.clone(),
        submitted_at_ms: ms(st.submitted_at),
        accepted_at_ms: st.accepted_at.map(ms),
        finished_at_ms: st.finished_at.map(ms),
        deadline: deadline.clone(),
        version: st.version as i64,
        state: serde_json::to_string(st).unwrap_or_default(),
        applicant_index,
    };
    let mut tasks = Vec::new();
    if st.status == Status::InProgress || st.status == Status::Suspended {
        if let Some(step) = &st.current_step {
            for t in step.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                tasks.push(TaskRow {
                    case_no: row.case_no.clone(),
                    task_id: t.task_id.clone(),
                    step_id: step.step_id.clone(),
                    step_name: step.name.clone(),
                    title: st.title.clone(),
                    role: t.role.as_str().into(),
                    department: t.department.as_ref().map(|d| d.as_str().to_string()),
                    assignee: t.assignee.clone(),
                    due: step.due.map(format_date).or_else(|| deadline.clone()),
                    created_at_ms: ms(step.started_at),
                });
            }
        }
    }
    (row, tasks)
}

/// The stored form of a case event.
pub fn to_new_event(e: &CaseEvent, actor: &str, at: OffsetDateTime) -> Result<NewEvent, AppError> {
    Ok(NewEvent {
        event_type: e.type_name().into(),
        schema_version: i64::from(CASE_EVENT_SCHEMA),
        actor: actor.to_string(),
        at_ms: ms(at),
        payload: serde_json::to_string(e).map_err(|err| AppError::Internal(err.to_string()))?,
    })
}

/// A stored case event read back.
pub fn recorded(e: &StoredEvent) -> Result<Recorded, AppError> {
    let event: CaseEvent =
        serde_json::from_str(&e.payload).map_err(|err| AppError::Internal(format!("event {}: {err}", e.seq)))?;
    Ok(Recorded { at: from_ms(e.at_ms), actor: e.actor.clone(), event })
}

pub(crate) fn load_state(db: &mut Db, case_no: &CaseNo) -> Result<(CaseState, i64), AppError> {
    load_state_indexed(db, case_no).map(|(st, v, _)| (st, v))
}

/// [`load_state`] with the applicant's blind index kept in the case's row (it changes only with the data keys,
/// whose rotation rewrites the rows), so a command does not unseal the ID number again to recompute it.
fn load_state_indexed(db: &mut Db, case_no: &CaseNo) -> Result<(CaseState, i64, Option<String>), AppError> {
    let row = db.get_case(case_no.as_str())?.ok_or_else(|| AppError::NotFound(format!("case {case_no}")))?;
    let st: CaseState =
        serde_json::from_str(&row.state).map_err(|e| AppError::Internal(format!("case state {case_no}: {e}")))?;
    Ok((st, row.version, row.applicant_index))
}

/// A value of a case's form as stored (personal values stay sealed), for other modules of this crate.
pub(crate) fn stored_form_value(db: &mut Db, case_no: &CaseNo, key: &str) -> Result<Option<String>, AppError> {
    let (st, _) = load_state(db, case_no)?;
    Ok(st.form.get(key).and_then(|v| v.as_str()).map(str::to_string))
}

/// [`record`] for other modules of this crate (licence issuance).
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_public(
    app: &App,
    db: &mut Db,
    st: Option<CaseState>,
    expected: i64,
    events: Vec<CaseEvent>,
    actor: &str,
    now: OffsetDateTime,
    case_no: &CaseNo,
    schema: &oneseal_domain::catalog::FormSchema,
) -> Result<CaseState, AppError> {
    record(app, db, st, expected, events, actor, now, case_no, schema, None)
}

/// Decide a command on a case and record its events, in the caller's transaction (the API's commands, and the
/// consultations that pause and resume the clock).
pub(crate) fn command_in(
    app: &App,
    db: &mut Db,
    actor: &Actor,
    case_no: &CaseNo,
    cmd: CaseCommand,
    if_match: Option<i64>,
    now: OffsetDateTime,
) -> Result<CaseState, AppError> {
    command_on(app, db, actor, case_no, cmd, if_match, now, may_see)
}

/// [`command_in`] with the rule of who may reach the case given: a joint inspection's lead department works on
/// the other departments' cases of the inspection, which the domain's rules then check (`visible` is `may_see`
/// everywhere else).
#[allow(clippy::too_many_arguments)]
pub(crate) fn command_on(
    app: &App,
    db: &mut Db,
    actor: &Actor,
    case_no: &CaseNo,
    cmd: CaseCommand,
    if_match: Option<i64>,
    now: OffsetDateTime,
    visible: fn(&Actor, &CaseState) -> bool,
) -> Result<CaseState, AppError> {
    let (st, version, index) = load_state_indexed(db, case_no)?;
    if !visible(actor, &st) {
        return Err(AppError::NotFound(format!("case {case_no}")));
    }
    if let Some(expected) = if_match {
        if expected != version {
            return Err(AppError::StaleVersion { expected, actual: version });
        }
    }
    let view = app.catalog();
    let calendar = app.calendar();
    let def = view.definition(&st.subject)?;
    let mut cmd = cmd;
    let holder = index.clone();
    let today = local_date(now);
    match &mut cmd {
        CaseCommand::SubmitCorrection { materials, .. } | CaseCommand::AnswerDrawingComments { materials, .. } => {
            crate::attachments::bind_attachments(db, &actor.id, case_no, materials)?;
            crate::licensing::check_license_refs(db, &def, holder.as_deref(), materials, today)?;
        }
        CaseCommand::FulfilPledge { material } => {
            crate::attachments::bind_attachments(db, &actor.id, case_no, std::slice::from_mut(material))?;
            crate::licensing::check_license_refs(db, &def, holder.as_deref(), std::slice::from_ref(material), today)?;
        }
        _ => {}
    }
    if let CaseCommand::Deliver { delivery: case::Delivery::Post { address, .. } } = &cmd {
        if address.chars().count() > 200 {
            return Err(AppError::invalid("invalid_address", "邮寄地址过长 the address is at most 200 characters"));
        }
    }
    let ctx = Ctx { now, actor, calendar: &calendar, def: &def };
    let events = case::decide(&st, cmd, &ctx)?;
    if events.is_empty() {
        return Ok(st);
    }
    let by_post = events.iter().any(|e| matches!(e, CaseEvent::Delivered { delivery: case::Delivery::Post { .. } }));
    let st = record(app, db, Some(st), version, events, &actor.id, now, case_no, &def.form, index)?;
    if by_post {
        // 邮政寄送: the shipment is requested with the delivery, in its transaction; the waybill comes after.
        crate::shipments::request_in(db, &st, None, None, None, &actor.id, ms(now))?;
    }
    Ok(st)
}

/// Recompute the dates of every running case after `year`'s calendar changed to `cal` (a publication), in the
/// caller's transaction: one `dates_recomputed` event per case whose dates move. Returns the cases that moved.
pub(crate) fn recompute_running_cases(
    app: &App,
    db: &mut Db,
    cal: &Calendar,
    year: i32,
    actor: &str,
    now: OffsetDateTime,
) -> Result<Vec<String>, AppError> {
    let view = app.catalog();
    let today = local_date(now);
    let mut moved = Vec::new();
    for case_no in db.running_cases()? {
        let case_no = stored_case_no(&case_no)?;
        let (st, version) = load_state(db, &case_no)?;
        let def = view.definition(&st.subject)?;
        let history =
            db.read_stream(&stream_of(&case_no))?.iter().map(recorded).collect::<Result<Vec<_>, AppError>>()?;
        if let Some(ev) = oneseal_domain::recompute::case_dates(&history, &st, &def, cal, year, today)? {
            record(app, db, Some(st), version, vec![ev], actor, now, &case_no, &def.form, None)?;
            moved.push(case_no.to_string());
        }
    }
    Ok(moved)
}

/// Seal the personal data in new events, append them, and write the case projection, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn record(
    app: &App,
    db: &mut Db,
    mut st: Option<CaseState>,
    expected: i64,
    mut events: Vec<CaseEvent>,
    actor: &str,
    now: OffsetDateTime,
    case_no: &CaseNo,
    schema: &oneseal_domain::catalog::FormSchema,
    known_index: Option<String>,
) -> Result<CaseState, AppError> {
    for e in &mut events {
        app.seal_event(e, schema)?;
    }
    let news = events.iter().map(|e| to_new_event(e, actor, now)).collect::<Result<Vec<_>, _>>()?;
    db.append(&stream_of(case_no), expected, &news)?;
    for e in events {
        let r = Recorded { at: now, actor: actor.to_string(), event: e };
        match st.as_mut() {
            Some(s) => case::apply(s, &r),
            None => st = case::init(&r),
        }
    }
    let st = st.ok_or_else(|| AppError::Internal("case stream does not start with submitted".into()))?;
    put_projection(app, db, &st, known_index)?;
    Ok(st)
}

/// Write a case's projection (its row and tasks) from its state: after the commands' events and in `rebuild`.
/// `known_index`: the applicant's blind index when the caller has it (a command: from the case's row); otherwise it
/// is computed from the sealed ID number.
fn put_projection(app: &App, db: &mut Db, st: &CaseState, known_index: Option<String>) -> Result<(), AppError> {
    let index = known_index.or_else(|| app.applicant_index(&st.applicant));
    let (row, tasks) = project(st, index);
    db.put_case(&row, &tasks)?;
    if let Some(rec) = &st.inspection {
        // The dashboard's inspection days read this projection, not the cases' states.
        let rfc = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).ok();
        let fact = match (rec.requested_at.and_then(rfc), rec.resulted_at.and_then(rfc)) {
            (Some(q), Some(r)) => Some((q, r)),
            _ => None,
        };
        let item = st.subject.code();
        db.put_inspection_fact(
            st.case_no.as_str(),
            fact.as_ref().map(|(q, r)| (item, q.as_str(), r.as_str(), rec.by_video)),
        )?;
    }
    Ok(())
}

/// The case projection after one event of a case's stream (`rebuild`): the state in the projection with the event
/// applied, or the first state of a new case.
pub(crate) fn replay(app: &App, db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
    let no = e.stream_id.trim_start_matches("case-");
    let r = recorded(e)?;
    let st = if e.version == 1 {
        case::init(&r).ok_or_else(|| AppError::Internal(format!("case {no} starts with {}", e.event_type)))?
    } else {
        let row = db.get_case(no)?.ok_or_else(|| AppError::Internal(format!("case {no}: event before submission")))?;
        let mut st: CaseState = serde_json::from_str(&row.state).map_err(|err| AppError::Internal(err.to_string()))?;
        case::apply(&mut st, &r);
        st
    };
    put_projection(app, db, &st, None)
}

/// Who may see a case: its applicant; staff of its department or with a task on it; window clerks, supervisors
/// and administrators. Everyone else gets "not found", so case numbers cannot be probed.
pub fn may_see(actor: &Actor, st: &CaseState) -> bool {
    if actor.sees_as_applicant(st.applicant.account.as_deref(), case::organisation_of(st)) {
        return true;
    }
    if actor.has(Role::Supervisor) || actor.has(Role::Administrator) || actor.has(Role::WindowClerk) {
        return true;
    }
    if !actor.is_staff() {
        return false;
    }
    let dept = actor.department.as_ref();
    dept == Some(&st.department)
        || st.current_step.as_ref().is_some_and(|s| {
            s.tasks.iter().any(|t| t.department.as_ref() == dept || t.assignee.as_deref() == Some(actor.id.as_str()))
        })
}

/// The applicant's ID number, parsed (a resident ID number for a person, a USCC for an organisation), once the
/// applicant is valid.
fn validate_applicant(a: &ApplicantInput) -> Result<ClearId, AppError> {
    let field = |code: &'static str, message: String| AppError::Invalid {
        code: "invalid_applicant",
        message: message.clone(),
        fields: vec![oneseal_domain::form::FieldError { field: ID_NUMBER_FIELD.into(), code, message }],
    };
    let id = ClearId::parse(a.kind, &a.id_number).map_err(|e| match a.kind {
        ApplicantKind::Person => field(e.code(), format!("resident ID number: {e}")),
        ApplicantKind::Organisation => field(e.code(), format!("unified social credit code: {e}")),
    })?;
    if a.name.trim().is_empty() || a.name.chars().count() > 100 {
        return Err(AppError::invalid("invalid_applicant", "applicant name must be 1–100 characters"));
    }
    Ok(id)
}

impl App {
    fn definition_for(&self, req: &SubmitRequest) -> Result<std::sync::Arc<CaseDefinition>, AppError> {
        let view = self.catalog();
        match (&req.item_code, &req.bundle_code) {
            (Some(code), None) => {
                let p = view.latest_item(code).ok_or_else(|| AppError::NotFound(format!("item {code}")))?;
                view.definition(&Subject::Item { code: code.clone(), version: p.version })
            }
            (None, Some(code)) => {
                let p = view.latest_bundle(code).ok_or_else(|| AppError::NotFound(format!("bundle {code}")))?;
                view.definition(&Subject::Bundle { code: code.clone(), version: p.version })
            }
            _ => Err(AppError::invalid("subject_required", "give exactly one of item_code or bundle_code")),
        }
    }

    /// Submit an application. With an idempotency key, a retry returns the first receipt, never a second case.
    pub async fn submit(
        &self,
        actor: &Actor,
        req: SubmitRequest,
        idempotency_key: Option<String>,
    ) -> Result<(Receipt, bool), AppError> {
        if let Some(k) = &idempotency_key {
            if k.is_empty() || k.len() > 200 {
                return Err(AppError::invalid("invalid_idempotency_key", "Idempotency-Key must be 1–200 characters"));
            }
        }
        let id_number = validate_applicant(&req.applicant)?;
        let mut req = req;
        let channel = req.channel.unwrap_or_else(|| default_channel(actor));
        req.channel = Some(channel);
        let account = if actor.has(Role::WindowClerk) {
            if !clerk_channel(channel) {
                return Err(AppError::invalid(
                    "invalid_channel",
                    "a window clerk submits through the window, bank, hotline or kiosk channel",
                ));
            }
            req.applicant.account.clone()
        } else if actor.has(Role::HotlineOperator) && !actor.has(Role::Applicant) {
            // 12345-assisted: an operator enters a caller's application; it is recorded as a hotline application
            // (and the caller's account, when the caller has one, follows it).
            if channel != Channel::Hotline {
                return Err(AppError::invalid(
                    "invalid_channel",
                    "a hotline operator submits through the hotline channel",
                ));
            }
            req.applicant.account.clone()
        } else if actor.has(Role::Applicant) {
            if !applicant_channel(channel) {
                return Err(AppError::invalid(
                    "invalid_channel",
                    "an applicant submits online, on a phone, at a kiosk or through the API",
                ));
            }
            if req.applicant.account.as_deref().is_some_and(|a| a != actor.id) {
                return Err(AppError::invalid("invalid_applicant", "an applicant cannot submit for another account"));
            }
            // A person applies as themself: the applicant's ID number must be the one the account registered
            // (compared through the blind index, never in clear). Walk-ins are entered by a window clerk.
            if let ClearId::Resident(_) = &id_number {
                let index = self.clear_index(&id_number);
                let me = actor.id.clone();
                let person = self.store.read(move |db| db.person(&me).map_err(AppError::from)).await?;
                let Some(person) = person else {
                    return Err(AppError::Forbidden(
                        "this account has no registered resident ID number, so it cannot apply as a person (register with your ID number, or apply at a window)".into(),
                    ));
                };
                if person.id_index != index {
                    return Err(AppError::Forbidden(
                        "a person applies only as themself: the applicant's ID number must be the one registered with this account (a walk-in is entered by a window clerk)".into(),
                    ));
                }
                if req.applicant.name.trim() != person.name {
                    return Err(AppError::invalid(
                        "invalid_applicant",
                        "the applicant's name must be the name registered with this account",
                    ));
                }
            }
            // An organisation applies through its legal representative or an agent authorised to apply (the
            // actor's `acts_for` holds exactly those, read from the store when the request was authenticated).
            if let ClearId::Organisation(uscc) = &id_number {
                let uscc = uscc.as_str();
                if actor.follows.iter().any(|u| u == uscc) {
                    return Err(AppError::Forbidden(
                        "this authorisation lets you follow the organisation's cases, not apply for it".into(),
                    ));
                }
                if !actor.acts_for.iter().any(|u| u == uscc) {
                    return Err(AppError::Forbidden("apply for an organisation as its legal representative or authorised agent (register it, or ask its representative for an authorisation)".into()));
                }
            }
            Some(actor.id.clone())
        } else {
            return Err(AppError::Forbidden("only applicants and window clerks submit applications".into()));
        };
        let def = self.definition_for(&req)?;
        let prepared = self.prepare_submission(actor, def, req, channel, account, id_number).await?;
        let query_code = new_query_code()?;
        let actor = actor.clone();
        let scope = format!("submit:{}", actor.id);
        let app = self.clone();
        let now = self.now();
        self.store
            .write(move |db| -> Result<(Receipt, bool), AppError> {
                if let Some(k) = &idempotency_key {
                    if let Some(prev) = db.idempotency_get(&scope, k)? {
                        let r: Receipt = serde_json::from_str(&prev).map_err(|e| AppError::Internal(e.to_string()))?;
                        return Ok((r, false));
                    }
                }
                let receipt = submit_in(&app, db, prepared, &actor, &actor.id, query_code, now)?;
                if let Some(k) = &idempotency_key {
                    let body = serde_json::to_string(&receipt).map_err(|e| AppError::Internal(e.to_string()))?;
                    db.idempotency_put(&scope, k, &body, ms(now))?;
                }
                Ok((receipt, true))
            })
            .await
    }

    /// What every submission checks and fills in before its write: licences reused (免提交), the service point
    /// (同城通办: a point of the network accepts only what it handles, every item of a bundle).
    pub(crate) async fn prepare_submission(
        &self,
        actor: &Actor,
        def: Arc<CaseDefinition>,
        mut req: SubmitRequest,
        channel: Channel,
        account: Option<String>,
        id_number: ClearId,
    ) -> Result<Prepared, AppError> {
        self.reuse_licenses(actor, &def, &id_number, &mut req.form, &mut req.materials).await?;
        let holder_index = self.clear_index(&id_number);
        // A clerk's application is recorded at the clerk's own post unless the request names another point.
        let post = if actor.is_staff() {
            let me = actor.id.clone();
            self.store.read(move |db| db.staff_post(&me).map_err(AppError::from)).await?.0
        } else {
            None
        };
        let service_point = req.service_point.clone().or(post).unwrap_or_else(|| channel.as_str().to_string());
        if service_point.chars().count() > 100 {
            return Err(AppError::invalid("invalid_service_point", "service_point is longer than 100 characters"));
        }
        if let Some(p) = self.network().point(&service_point) {
            let view = self.catalog();
            let items: Vec<String> = match (&req.item_code, &req.bundle_code) {
                (Some(code), _) => vec![code.clone()],
                (None, Some(code)) => view
                    .latest_bundle(code)
                    .map(|b| b.body.items.iter().map(|i| i.as_str().to_string()).collect())
                    .unwrap_or_default(),
                (None, None) => Vec::new(),
            };
            if let Some(i) = items.iter().find(|i| !p.handles(i)) {
                return Err(AppError::invalid(
                    "point_does_not_handle",
                    format!("{} does not handle {i} 该受理点不办理此事项", p.name),
                ));
            }
        }
        Ok(Prepared {
            def,
            id_number,
            holder_index,
            account,
            channel,
            service_point,
            name: req.applicant.name.trim().to_string(),
            phone: req.applicant.phone.clone(),
            form: req.form,
            materials: req.materials,
            carried: Vec::new(),
            calendar: self.calendar(),
        })
    }

    /// The receipt of a submission this actor made with `idempotency_key` (to show it again at its own address
    /// after POST/redirect/GET); None if there is none.
    pub async fn receipt_again(&self, actor: &Actor, idempotency_key: &str) -> Result<Option<Receipt>, AppError> {
        if idempotency_key.is_empty() || idempotency_key.len() > 200 {
            return Ok(None);
        }
        let (scope, key) = (format!("submit:{}", actor.id), idempotency_key.to_string());
        let stored = self.store.read(move |db| db.idempotency_get(&scope, &key).map_err(AppError::from)).await?;
        stored.map(|s| serde_json::from_str(&s).map_err(|e| AppError::Internal(e.to_string()))).transpose()
    }

    /// Run a command on a case. `if_match` is the version the client last saw; a stale one is refused whole.
    pub async fn command(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        cmd: CaseCommand,
        if_match: Option<i64>,
    ) -> Result<CaseState, AppError> {
        let case_no = case_no.clone();
        let now = self.now();
        let actor = actor.clone();
        let app = self.clone();
        let by_post = matches!(&cmd, CaseCommand::Deliver { delivery: case::Delivery::Post { .. } });
        let st = self
            .store
            .write(move |db| -> Result<CaseState, AppError> {
                command_in(&app, db, &actor, &case_no, cmd, if_match, now)
            })
            .await?;
        if by_post {
            // Ask for the waybill now; if the carrier does not answer, the postal worker asks again.
            if let Err(e) = self.dispatch_shipments(100).await {
                eprintln!("post: waybill not issued yet: {e}");
            }
        }
        Ok(st)
    }

    /// A case with its clocks, for those allowed to see it. A staff member's view is a read of the applicant's
    /// (masked) personal data and is recorded in the access log.
    pub async fn case_view(&self, actor: &Actor, case_no: &CaseNo) -> Result<CaseView, AppError> {
        let v = self.case_view_unrecorded(actor, case_no).await?;
        if actor.is_staff() && v.state.applicant.account.as_deref() != Some(actor.id.as_str()) {
            self.record_pd_access(actor, &v.state, "handling the case (masked view)", &["masked".to_string()]).await?;
        }
        Ok(v)
    }

    /// A case with its clocks, without recording the read (for internal use by recorded reads).
    pub(crate) async fn case_view_unrecorded(&self, actor: &Actor, case_no: &CaseNo) -> Result<CaseView, AppError> {
        let no = case_no.clone();
        let (st, _) = self.store.read(move |db| load_state(db, &no)).await?;
        if !may_see(actor, &st) {
            return Err(AppError::NotFound(format!("case {case_no}")));
        }
        Ok(self.view_of(st))
    }

    /// Attach the clocks to a state at the current time.
    pub fn view_of(&self, st: CaseState) -> CaseView {
        let cal = self.calendar();
        let now = self.now();
        let clock = clock::view(&st.clock, now, st.finished_at, &cal).ok();
        let step_clock = st.current_step.as_ref().map(|s| {
            let elapsed = cal.working_days_between(local_date(s.started_at), local_date(now)).unwrap_or(0);
            let def = self.catalog().definition(&st.subject).ok();
            let share = def.and_then(|d| d.process.steps.iter().find(|x| x.id == s.step_id).map(|x| x.share_days));
            StepClock {
                step_id: s.step_id.clone(),
                share_days: share,
                elapsed,
                remaining: share.map(|d| i64::from(d) - i64::from(elapsed)),
                due: s.due.map(format_date),
                overdue: s.due.is_some_and(|d| d < local_date(now)),
                provisional: s.due.is_some_and(|d| cal.provisional_between(local_date(s.started_at), d)),
            }
        });
        CaseView { state: st, clock, step_clock }
    }

    /// Every event of a case, oldest first.
    pub async fn trail(&self, actor: &Actor, case_no: &CaseNo) -> Result<Vec<TrailEntry>, AppError> {
        let view = self.case_view(actor, case_no).await?;
        let stream = stream_of(&view.state.case_no);
        let evs = self.store.read(move |db| db.read_stream(&stream).map_err(AppError::from)).await?;
        evs.iter()
            .map(|e| {
                let r = recorded(e)?;
                Ok(TrailEntry { seq: e.seq, version: e.version, at: r.at, actor: r.actor, event: r.event })
            })
            .collect()
    }

    /// Progress lookup without login: case number plus query code. A wrong code and an unknown case look the same.
    /// A case's progress for whoever holds its query code. Failed lookups are counted per address (`addr`): past
    /// the limit the address waits, so codes cannot be guessed by trying.
    pub async fn progress(&self, case_no: &CaseNo, query_code: &str, addr: Option<&str>) -> Result<Progress, AppError> {
        self.lookup_allowed(addr).await?;
        let no = case_no.clone();
        let nf = || AppError::NotFound(format!("case {case_no} with this query code"));
        let found = self.store.read(move |db| load_state(db, &no)).await;
        let (st, _) = match found {
            Ok(x) => x,
            Err(AppError::NotFound(_)) => {
                self.lookup_failed(addr).await?;
                return Err(nf());
            }
            Err(e) => return Err(e),
        };
        if query_code.len() > 40
            || !constant_time_eq(&sha256_hex(&normalize_query_code(query_code)), &st.query_code_digest)
        {
            self.lookup_failed(addr).await?;
            return Err(nf());
        }
        // Steps by their names in both languages, from the version of the service the case runs on.
        let def = self.catalog().definition(&st.subject).ok();
        let name_of = |id: &str| -> StepName {
            let d = def.as_ref().and_then(|d| d.process.steps.iter().find(|x| x.id == id));
            StepName {
                id: id.to_string(),
                name: d.map(|x| x.name.clone()).unwrap_or_else(|| id.to_string()),
                name_en: d.map(|x| x.name_en.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| id.to_string()),
            }
        };
        let passed_step_names = st.passed_steps.iter().map(|id| name_of(id)).collect();
        let current_step_en = st.current_step.as_ref().map(|c| name_of(&c.step_id).name_en);
        let v = self.view_of(st);
        Ok(Progress {
            case_no: v.state.case_no.clone(),
            title: v.state.title.clone(),
            status: v.state.status,
            current_step: v.state.current_step.as_ref().map(|s| s.name.clone()),
            current_step_en,
            passed_steps: v.state.passed_steps.clone(),
            passed_step_names,
            deadline: v.state.clock.deadline.map(format_date),
            clock: v.clock,
            outcome: v.state.outcome,
        })
    }

    /// The case list, limited to what the actor may see.
    pub async fn list_cases(&self, actor: &Actor, mut f: CaseFilter) -> Result<(Vec<CaseRow>, i64), AppError> {
        if f.applicant_index.is_some() && !(actor.has(Role::WindowClerk) || actor.has(Role::Supervisor)) {
            return Err(AppError::Forbidden("finding cases by ID number is for window clerks and supervisors".into()));
        }
        if !actor.is_staff() {
            f.applicant_account = Some(actor.id.clone());
            f.or_applicant_indexes = actor
                .acts_for
                .iter()
                .chain(&actor.follows)
                .map(|u| self.id_index(ApplicantKind::Organisation, u))
                .collect();
        } else if !(actor.has(Role::Supervisor) || actor.has(Role::Administrator) || actor.has(Role::WindowClerk)) {
            // Staff see their department's cases; staff without a department (e.g. hotline operators) see none here.
            f.department =
                Some(actor.department.as_ref().map(|d| d.as_str().to_string()).unwrap_or_else(|| "-".into()));
        }
        self.store.read(move |db| db.list_cases(&f).map_err(AppError::from)).await
    }

    /// A staff member's work queue.
    pub async fn work_queue(
        &self,
        actor: &Actor,
        view: QueueView,
        limit: i64,
        offset: i64,
        count_limit: Option<i64>,
    ) -> Result<(Vec<TaskRow>, i64), AppError> {
        if !actor.is_staff() {
            return Err(AppError::Forbidden("work queues are for staff".into()));
        }
        let today = local_date(self.now());
        let cal = self.calendar();
        let mut f = TaskFilter {
            roles: actor.roles.iter().map(|r| r.as_str().to_string()).collect(),
            department: actor.department.as_ref().map(|d| d.as_str().to_string()),
            limit,
            offset,
            count_limit,
            ..Default::default()
        };
        match view {
            QueueView::ToClaim => f.unclaimed = true,
            QueueView::Mine => f.assignee = Some(actor.id.clone()),
            QueueView::DueSoon => {
                f.due_by = Some(format_date(cal.add_working_days(today, 3)?));
            }
            QueueView::Overdue => f.overdue_on = Some(format_date(today)),
        }
        if matches!(view, QueueView::DueSoon | QueueView::Overdue) {
            f.assignee = None;
        }
        self.store.read(move |db| db.work_queue(&f).map_err(AppError::from)).await
    }

    /// Open intake: cases waiting at the general window.
    pub async fn intake_queue(&self, actor: &Actor, limit: i64, offset: i64) -> Result<(Vec<CaseRow>, i64), AppError> {
        if !actor.has(Role::WindowClerk) {
            return Err(AppError::Forbidden("the intake queue is for window clerks".into()));
        }
        let f = CaseFilter { status: Some("submitted".into()), limit, offset, ..Default::default() };
        self.store.read(move |db| db.list_cases(&f).map_err(AppError::from)).await
    }
}

/// The promised completion if the case were accepted now, and whether it is a planned date (provisional year).
fn promised_completion(def: &CaseDefinition, cal: &Arc<Calendar>, now: OffsetDateTime) -> (Option<String>, bool) {
    match def.limit {
        Limit::WorkingDays(d) => match cal.add_working_days(local_date(now), d) {
            Ok(due) => (Some(format_date(due)), cal.provisional_between(local_date(now), due)),
            Err(_) => (None, false),
        },
        Limit::Minutes(m) => {
            let t = now + Duration::minutes(i64::from(m));
            (t.format(&time::format_description::well_known::Rfc3339).ok(), false)
        }
    }
}

/// Alphabet of query codes: Crockford's base 32 (no I, L, O, U), easy to read aloud and to type.
const QUERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A submission checked and filled in, ready to be written ([`App::prepare_submission`]).
pub(crate) struct Prepared {
    pub(crate) def: Arc<CaseDefinition>,
    id_number: ClearId,
    holder_index: String,
    account: Option<String>,
    channel: Channel,
    service_point: String,
    name: String,
    phone: Option<String>,
    pub(crate) form: Map<String, Value>,
    pub(crate) materials: Vec<MaterialRef>,
    /// Materials carried over from earlier cases (a project's): their files are already bound and their digests
    /// were set by this application, so they are added after the new ones are bound.
    pub(crate) carried: Vec<MaterialRef>,
    calendar: Arc<Calendar>,
}

/// Write one prepared submission in the caller's transaction: number the case, bind its uploaded files (the
/// submitter's own: `files_of`), check the licences it cites, record its events and projections; its receipt.
pub(crate) fn submit_in(
    app: &App,
    db: &mut Db,
    p: Prepared,
    actor: &Actor,
    files_of: &str,
    query_code: String,
    now: OffsetDateTime,
) -> Result<Receipt, AppError> {
    let Prepared {
        def,
        id_number,
        holder_index,
        account,
        channel,
        service_point,
        name,
        phone,
        form,
        mut materials,
        carried,
        calendar,
    } = p;
    let day = local_date(now);
    let seq = db.next_counter(&format!("case-{}", format_date(day)))?;
    let case_no = CaseNo::new(day, seq as u64);
    crate::attachments::bind_attachments(db, files_of, &case_no, &mut materials)?;
    materials.extend(carried);
    crate::licensing::check_license_refs(db, &def, Some(&holder_index), &materials, day)?;
    let sub = Submission {
        case_no: case_no.clone(),
        channel,
        service_point,
        applicant: ApplicantInfo::new(id_number, name, phone, account),
        form,
        materials,
        query_code_digest: sha256_hex(&normalize_query_code(&query_code)),
    };
    let ctx = Ctx { now, actor, calendar: &calendar, def: &def };
    let events = case::submit(sub, &ctx)?;
    let st = record(app, db, None, 0, events, &actor.id, now, &case_no, &def.form, Some(holder_index))?;
    let (promised, promised_provisional) = promised_completion(&def, &calendar, now);
    Ok(Receipt {
        case_no,
        query_code,
        status: st.status.as_str().into(),
        version: st.version as i64,
        title: st.title.clone(),
        promised_completion: promised,
        promised_provisional,
        filing_receipt: if def.filing { st.licenses.first().cloned() } else { None },
    })
}

/// A new query code: 10 characters of Crockford base 32 (50 bits), shown as two groups of five.
pub fn new_query_code() -> Result<String, AppError> {
    let mut buf = [0u8; 10];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let chars: String = buf.iter().map(|b| QUERY_ALPHABET[usize::from(b & 31)] as char).collect();
    Ok(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// A query code as typed or read aloud: case, spaces and hyphens do not matter, and I/L read as 1, O as 0
/// (Crockford). Codes of older cases (8 hexadecimal digits) normalise to themselves.
pub fn normalize_query_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        })
        .collect()
}

/// Failed query-code lookups allowed per address within the throttle window.
pub const FAILED_LOOKUPS_PER_ADDRESS: usize = 20;

impl App {
    async fn lookup_allowed(&self, addr: Option<&str>) -> Result<(), AppError> {
        let Some(addr) = addr else { return Ok(()) };
        let key = format!("q:{addr}");
        match self.window_wait(&key, crate::auth::THROTTLE_WINDOW_MS, FAILED_LOOKUPS_PER_ADDRESS).await? {
            Some(retry_after_secs) => Err(AppError::RateLimited {
                code: "lookup_rate_limited",
                message: format!(
                    "{FAILED_LOOKUPS_PER_ADDRESS} lookups with a wrong case number or query code from this address"
                ),
                retry_after_secs,
            }),
            None => Ok(()),
        }
    }

    /// A progress lookup whose case number is malformed (parsed at the edge): answered and counted like a lookup
    /// of an unknown case.
    pub async fn progress_malformed(&self, malformed: &str, addr: Option<&str>) -> AppError {
        if let Err(e) = self.lookup_allowed(addr).await {
            return e;
        }
        if let Err(e) = self.lookup_failed(addr).await {
            return e;
        }
        AppError::NotFound(format!("case {malformed} with this query code"))
    }

    /// Count a failed lookup from `addr` (shared by every node).
    async fn lookup_failed(&self, addr: Option<&str>) -> Result<(), AppError> {
        match addr {
            Some(addr) => self.window_record(&format!("q:{addr}")).await,
            None => Ok(()),
        }
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
