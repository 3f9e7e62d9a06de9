//! The 12345 hotline (一号通): tickets (工单) from intake to closure, the dispatch directory (派单目录), and the
//! rules of who may do what when. Pure: time, the calendar, the directory and the actor come in as parameters.
//!
//! A ticket is received (operator console, portal, phone app, API, Open311); the operator answers it directly
//! from the knowledge base (直接答复) and closes it, or dispatches it (派单) to the category's lead unit with its
//! co-handling units. The unit signs for it (签收) within the category's working hours, or returns it with a
//! reason (退单) for the centre to redispatch (改派); it replies (答复) within the category's working days (urgent
//! categories: working hours), and may ask the centre for an extension. The centre calls the citizen back (回访):
//! satisfied → closed; dissatisfied → reopened and handled again (at most `max_reopen` times), then closed with an
//! explanation. Repeated requests about the same matter are merged (合并) into one and answered together.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};

use crate::calendar::{Calendar, CalendarError};
use crate::clock::CHINA;
use crate::roles::{Actor, Role};

/// A category of request and where it goes (one row of the dispatch directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketCategory {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// The lead handling unit (department id).
    pub lead_unit: String,
    #[serde(default)]
    pub co_units: Vec<String>,
    /// Working hours to sign for a dispatched ticket.
    pub sign_hours: u32,
    /// Working days to reply (ordinary tickets).
    pub reply_days: u32,
    /// Working hours to reply when the ticket is urgent.
    pub urgent_reply_hours: u32,
    /// How often a dissatisfied citizen's ticket is handled again before it is closed with an explanation.
    #[serde(default = "two")]
    pub max_reopen: u32,
}

fn two() -> u32 {
    2
}

/// The dispatch directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub category: Vec<TicketCategory>,
}

impl Directory {
    pub fn parse(text: &str) -> Result<Directory, String> {
        toml::from_str(text).map_err(|e| format!("hotline.toml: {e}"))
    }

    /// Check ids are unique, units are known departments and limits are sensible.
    pub fn validate(&self, departments: &std::collections::BTreeSet<String>) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.category {
            if c.id.trim().is_empty() || !seen.insert(c.id.clone()) {
                return Err(format!("category id {:?} is empty or appears twice", c.id));
            }
            if c.name.trim().is_empty() {
                return Err(format!("category {}: name is empty", c.id));
            }
            for u in std::iter::once(&c.lead_unit).chain(&c.co_units) {
                if !departments.contains(u) {
                    return Err(format!("category {}: unknown unit {u}", c.id));
                }
            }
            if c.co_units.contains(&c.lead_unit) {
                return Err(format!("category {}: the lead unit is also a co-handling unit", c.id));
            }
            if !(1..=72).contains(&c.sign_hours)
                || !(1..=30).contains(&c.reply_days)
                || !(1..=72).contains(&c.urgent_reply_hours)
            {
                return Err(format!("category {}: sign 1–72 h, reply 1–30 working days, urgent reply 1–72 h", c.id));
            }
            if c.max_reopen > 5 {
                return Err(format!("category {}: at most 5 reopenings", c.id));
            }
        }
        if self.category.is_empty() {
            return Err("the directory has no category".into());
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&TicketCategory> {
        self.category.iter().find(|c| c.id == id)
    }
}

/// The five levels of satisfaction (好差评), best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 非常满意
    VerySatisfied,
    /// 满意
    Satisfied,
    /// 基本满意
    Neutral,
    /// 不满意
    Dissatisfied,
    /// 非常不满意
    VeryDissatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 5] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Neutral,
        Satisfaction::Dissatisfied,
        Satisfaction::VeryDissatisfied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "very_satisfied",
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::Neutral => "neutral",
            Satisfaction::Dissatisfied => "dissatisfied",
            Satisfaction::VeryDissatisfied => "very_dissatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Satisfaction> {
        Satisfaction::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// 满意 in the source's sense: the three upper levels.
    pub fn satisfied(self) -> bool {
        self <= Satisfaction::Neutral
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Received, not yet dispatched (also after a return or a reopening).
    Received,
    Dispatched,
    Signed,
    Replied,
    Closed,
    Merged,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Received => "received",
            TicketStatus::Dispatched => "dispatched",
            TicketStatus::Signed => "signed",
            TicketStatus::Replied => "replied",
            TicketStatus::Closed => "closed",
            TicketStatus::Merged => "merged",
        }
    }
}

/// What the caller asked, as received. The name and phone are sealed by the application before storing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
    pub category: String,
    pub urgent: bool,
    /// operator | portal | mobile | api | open311
    pub channel: String,
    pub caller_name: String,
    pub caller_phone: String,
    /// The citizen's account when signed in (portal, phone app).
    #[serde(default)]
    pub caller_account: Option<String>,
    pub content: String,
    pub location: String,
}

/// Every fact about a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TicketEvent {
    Received {
        ticket_no: String,
        intake: Intake,
    },
    AnsweredDirectly {
        answer: String,
        article: Option<String>,
    },
    Dispatched {
        category: String,
        lead_unit: String,
        co_units: Vec<String>,
        #[serde(with = "time::serde::rfc3339")]
        sign_due: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        reply_due: OffsetDateTime,
    },
    Signed {
        unit: String,
    },
    Returned {
        unit: String,
        reason: String,
    },
    ExtensionRequested {
        days: u32,
        reason: String,
    },
    ExtensionDecided {
        approved: bool,
        #[serde(with = "time::serde::rfc3339")]
        reply_due: OffsetDateTime,
    },
    Replied {
        unit: String,
        reply: String,
        on_time: bool,
    },
    FollowedUp {
        satisfaction: Satisfaction,
        note: String,
    },
    Reopened {
        count: u32,
    },
    Closed {
        explanation: String,
    },
    Merged {
        into: String,
    },
    /// A merged ticket was answered with its primary's reply.
    AnsweredWith {
        primary: String,
        reply: String,
    },
    /// Publishing a year's official calendar moved the ticket's deadlines (old → new).
    DatesRecomputed {
        #[serde(with = "time::serde::rfc3339::option")]
        sign_due: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        reply_due: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        previous_sign_due: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        previous_reply_due: Option<OffsetDateTime>,
    },
}

impl TicketEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            TicketEvent::Received { .. } => "ticket_received",
            TicketEvent::AnsweredDirectly { .. } => "ticket_answered_directly",
            TicketEvent::Dispatched { .. } => "ticket_dispatched",
            TicketEvent::Signed { .. } => "ticket_signed",
            TicketEvent::Returned { .. } => "ticket_returned",
            TicketEvent::ExtensionRequested { .. } => "ticket_extension_requested",
            TicketEvent::ExtensionDecided { .. } => "ticket_extension_decided",
            TicketEvent::Replied { .. } => "ticket_replied",
            TicketEvent::FollowedUp { .. } => "ticket_followed_up",
            TicketEvent::Reopened { .. } => "ticket_reopened",
            TicketEvent::Closed { .. } => "ticket_closed",
            TicketEvent::Merged { .. } => "ticket_merged",
            TicketEvent::AnsweredWith { .. } => "ticket_answered_with",
            TicketEvent::DatesRecomputed { .. } => "ticket_dates_recomputed",
        }
    }
}

/// A ticket folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketState {
    pub ticket_no: String,
    pub intake: Intake,
    pub status: TicketStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub lead_unit: Option<String>,
    pub co_units: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sign_due: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub reply_due: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub signed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub replied_at: Option<OffsetDateTime>,
    pub reply: Option<String>,
    pub replied_on_time: Option<bool>,
    pub answered_directly: bool,
    pub extension_pending: Option<u32>,
    pub satisfaction: Option<Satisfaction>,
    pub followed_up: bool,
    pub reopen_count: u32,
    pub returned_reason: Option<String>,
    pub merged_into: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub explanation: Option<String>,
    pub version: u64,
}

/// Everything a ticket command can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketCommand {
    AnswerDirectly {
        answer: String,
        article: Option<String>,
    },
    /// Dispatch (or redispatch after a return or a reopening), optionally to another category or unit.
    Dispatch {
        category: Option<String>,
        lead_unit: Option<String>,
        co_units: Option<Vec<String>>,
    },
    SignFor,
    Return {
        reason: String,
    },
    RequestExtension {
        days: u32,
        reason: String,
    },
    DecideExtension {
        approve: bool,
    },
    Reply {
        reply: String,
    },
    FollowUp {
        satisfaction: Satisfaction,
        note: String,
    },
    Close {
        explanation: String,
    },
    Merge {
        into: String,
    },
}

impl TicketCommand {
    pub fn name(&self) -> &'static str {
        match self {
            TicketCommand::AnswerDirectly { .. } => "answer_directly",
            TicketCommand::Dispatch { .. } => "dispatch",
            TicketCommand::SignFor => "sign_for",
            TicketCommand::Return { .. } => "return_ticket",
            TicketCommand::RequestExtension { .. } => "request_extension",
            TicketCommand::DecideExtension { .. } => "decide_extension",
            TicketCommand::Reply { .. } => "reply",
            TicketCommand::FollowUp { .. } => "follow_up",
            TicketCommand::Close { .. } => "close",
            TicketCommand::Merge { .. } => "merge",
        }
    }
}

/// Why a ticket command was refused. Stable codes for machines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket is {status}; {action} is not possible now")]
    WrongStatus { status: &'static str, action: &'static str },
    #[error("this needs {0}")]
    Forbidden(&'static str),
    #[error("{0} is required")]
    Empty(&'static str),
    #[error("unknown category {0}")]
    UnknownCategory(String),
    #[error("unknown handling unit {0}")]
    UnknownUnit(String),
    #[error("an extension is 1–10 working days")]
    InvalidDays,
    #[error("no extension request is pending")]
    NoExtensionPending,
    #[error("an extension request is already pending")]
    ExtensionPending,
    #[error("a ticket cannot be merged into itself or into a merged or closed ticket")]
    BadMerge,
    #[error("the citizen was dissatisfied: the ticket is handled again before it may be closed")]
    MustReopen,
    #[error("{0}")]
    Calendar(#[from] CalendarError),
}

impl TicketError {
    pub fn code(&self) -> &'static str {
        match self {
            TicketError::WrongStatus { .. } => "wrong_status",
            TicketError::Forbidden(_) => "forbidden",
            TicketError::Empty(_) => "text_required",
            TicketError::UnknownCategory(_) => "unknown_category",
            TicketError::UnknownUnit(_) => "unknown_unit",
            TicketError::InvalidDays => "invalid_days",
            TicketError::NoExtensionPending => "no_extension_pending",
            TicketError::ExtensionPending => "extension_pending",
            TicketError::BadMerge => "bad_merge",
            TicketError::MustReopen => "must_reopen",
            TicketError::Calendar(e) => e.code(),
        }
    }
}

/// What a decision needs besides the state.
pub struct TicketCtx<'a> {
    pub now: OffsetDateTime,
    pub actor: &'a Actor,
    pub calendar: &'a Calendar,
    pub directory: &'a Directory,
    /// Known department ids (for redispatch to a unit outside the directory's row).
    pub units: &'a std::collections::BTreeSet<String>,
}

fn text(t: &str, what: &'static str) -> Result<String, TicketError> {
    let t = t.trim();
    if t.is_empty() {
        return Err(TicketError::Empty(what));
    }
    Ok(t.chars().take(4000).collect())
}

/// Instants are kept in UTC, so a state folded from its events equals the live one however it was computed.
fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}

/// The end of the working day (17:30 Beijing) of a date.
fn end_of(d: Date) -> OffsetDateTime {
    d.with_time(Time::from_hms(17, 30, 0).unwrap_or(Time::MIDNIGHT)).assume_offset(CHINA)
}

/// The reply deadline for a ticket of `cat` dispatched at `now`.
pub fn reply_due(
    cat: &TicketCategory,
    urgent: bool,
    now: OffsetDateTime,
    cal: &Calendar,
) -> Result<OffsetDateTime, CalendarError> {
    if urgent {
        crate::worktime::add_working_minutes(cal, now, i64::from(cat.urgent_reply_hours) * 60)
    } else {
        Ok(end_of(cal.add_working_days(now.to_offset(CHINA).date(), cat.reply_days)?))
    }
}

/// A new ticket's first event.
pub fn receive(ticket_no: &str, intake: Intake, directory: &Directory) -> Result<TicketEvent, TicketError> {
    if directory.get(&intake.category).is_none() {
        return Err(TicketError::UnknownCategory(intake.category));
    }
    let intake = Intake {
        content: text(&intake.content, "content")?,
        caller_name: text(&intake.caller_name, "caller name")?,
        caller_phone: text(&intake.caller_phone, "caller phone")?,
        location: intake.location.trim().chars().take(200).collect(),
        ..intake
    };
    Ok(TicketEvent::Received { ticket_no: ticket_no.to_string(), intake })
}

fn wrong(st: &TicketState, action: &'static str) -> TicketError {
    TicketError::WrongStatus { status: st.status.as_str(), action }
}

fn operator(a: &Actor) -> Result<(), TicketError> {
    if a.has(Role::HotlineOperator) {
        Ok(())
    } else {
        Err(TicketError::Forbidden("the hotline centre (hotline_operator)"))
    }
}

fn lead(a: &Actor, st: &TicketState) -> Result<(), TicketError> {
    let unit = st.lead_unit.as_deref().unwrap_or_default();
    if a.has(Role::HandlingUnit) && a.department.as_ref().is_some_and(|d| d.as_str() == unit) {
        Ok(())
    } else {
        Err(TicketError::Forbidden("the lead handling unit"))
    }
}

/// Decide a command: the events it produces, or why not.
pub fn decide(st: &TicketState, cmd: TicketCommand, ctx: &TicketCtx<'_>) -> Result<Vec<TicketEvent>, TicketError> {
    let action = cmd.name();
    match cmd {
        TicketCommand::AnswerDirectly { answer, article } => {
            operator(ctx.actor)?;
            if st.status != TicketStatus::Received || st.reopen_count > 0 {
                return Err(wrong(st, action));
            }
            let answer = text(&answer, "answer")?;
            Ok(vec![
                TicketEvent::AnsweredDirectly { answer, article },
                TicketEvent::Closed { explanation: "直接答复 answered directly".into() },
            ])
        }
        TicketCommand::Dispatch { category, lead_unit, co_units } => {
            operator(ctx.actor)?;
            if st.status != TicketStatus::Received {
                return Err(wrong(st, action));
            }
            let cat_id = category.unwrap_or_else(|| st.intake.category.clone());
            let cat = ctx.directory.get(&cat_id).ok_or(TicketError::UnknownCategory(cat_id.clone()))?;
            let lead_unit = lead_unit.unwrap_or_else(|| cat.lead_unit.clone());
            let co_units = co_units.unwrap_or_else(|| cat.co_units.clone());
            for u in std::iter::once(&lead_unit).chain(&co_units) {
                if !ctx.units.contains(u) {
                    return Err(TicketError::UnknownUnit(u.clone()));
                }
            }
            let co_units: Vec<String> = co_units.into_iter().filter(|u| *u != lead_unit).collect();
            let sign_due = crate::worktime::add_working_minutes(ctx.calendar, ctx.now, i64::from(cat.sign_hours) * 60)?;
            let reply_due = reply_due(cat, st.intake.urgent, ctx.now, ctx.calendar)?;
            let (sign_due, reply_due) = (utc(sign_due), utc(reply_due));
            Ok(vec![TicketEvent::Dispatched { category: cat_id, lead_unit, co_units, sign_due, reply_due }])
        }
        TicketCommand::SignFor => {
            lead(ctx.actor, st)?;
            if st.status != TicketStatus::Dispatched {
                return Err(wrong(st, action));
            }
            Ok(vec![TicketEvent::Signed { unit: st.lead_unit.clone().unwrap_or_default() }])
        }
        TicketCommand::Return { reason } => {
            lead(ctx.actor, st)?;
            if !matches!(st.status, TicketStatus::Dispatched | TicketStatus::Signed) {
                return Err(wrong(st, action));
            }
            let reason = text(&reason, "reason")?;
            Ok(vec![TicketEvent::Returned { unit: st.lead_unit.clone().unwrap_or_default(), reason }])
        }
        TicketCommand::RequestExtension { days, reason } => {
            lead(ctx.actor, st)?;
            if st.status != TicketStatus::Signed {
                return Err(wrong(st, action));
            }
            if st.extension_pending.is_some() {
                return Err(TicketError::ExtensionPending);
            }
            if !(1..=10).contains(&days) {
                return Err(TicketError::InvalidDays);
            }
            let reason = text(&reason, "reason")?;
            Ok(vec![TicketEvent::ExtensionRequested { days, reason }])
        }
        TicketCommand::DecideExtension { approve } => {
            operator(ctx.actor)?;
            let days = st.extension_pending.ok_or(TicketError::NoExtensionPending)?;
            let current = st.reply_due.unwrap_or(ctx.now);
            let reply_due = if approve {
                end_of(ctx.calendar.add_working_days(current.to_offset(CHINA).date(), days)?)
            } else {
                current
            };
            Ok(vec![TicketEvent::ExtensionDecided { approved: approve, reply_due: utc(reply_due) }])
        }
        TicketCommand::Reply { reply } => {
            lead(ctx.actor, st)?;
            if st.status != TicketStatus::Signed {
                return Err(wrong(st, action));
            }
            let reply = text(&reply, "reply")?;
            let on_time = st.reply_due.is_none_or(|d| ctx.now <= d);
            Ok(vec![TicketEvent::Replied { unit: st.lead_unit.clone().unwrap_or_default(), reply, on_time }])
        }
        TicketCommand::FollowUp { satisfaction, note } => {
            operator(ctx.actor)?;
            if st.status != TicketStatus::Replied || st.followed_up {
                return Err(wrong(st, action));
            }
            let note = note.trim().chars().take(2000).collect();
            let mut ev = vec![TicketEvent::FollowedUp { satisfaction, note }];
            let max = ctx.directory.get(&st.intake.category).map_or(2, |c| c.max_reopen);
            if satisfaction.satisfied() {
                ev.push(TicketEvent::Closed { explanation: "回访满意 satisfied at follow-up".into() });
            } else if st.reopen_count < max {
                ev.push(TicketEvent::Reopened { count: st.reopen_count + 1 });
            }
            // Dissatisfied after the last reopening: stays replied until closed with an explanation.
            Ok(ev)
        }
        TicketCommand::Close { explanation } => {
            operator(ctx.actor)?;
            if st.status != TicketStatus::Replied || !st.followed_up {
                return Err(wrong(st, action));
            }
            let max = ctx.directory.get(&st.intake.category).map_or(2, |c| c.max_reopen);
            if st.reopen_count < max {
                return Err(TicketError::MustReopen);
            }
            Ok(vec![TicketEvent::Closed { explanation: text(&explanation, "explanation")? }])
        }
        TicketCommand::Merge { into } => {
            operator(ctx.actor)?;
            if !matches!(st.status, TicketStatus::Received | TicketStatus::Dispatched) || into == st.ticket_no {
                return Err(TicketError::BadMerge);
            }
            Ok(vec![TicketEvent::Merged { into }])
        }
    }
}

/// Start a state from the first event.
pub fn init(ev: &TicketEvent, at: OffsetDateTime) -> Option<TicketState> {
    match ev {
        TicketEvent::Received { ticket_no, intake } => Some(TicketState {
            ticket_no: ticket_no.clone(),
            intake: intake.clone(),
            status: TicketStatus::Received,
            received_at: at,
            lead_unit: None,
            co_units: vec![],
            sign_due: None,
            reply_due: None,
            signed_at: None,
            replied_at: None,
            reply: None,
            replied_on_time: None,
            answered_directly: false,
            extension_pending: None,
            satisfaction: None,
            followed_up: false,
            reopen_count: 0,
            returned_reason: None,
            merged_into: None,
            closed_at: None,
            explanation: None,
            version: 1,
        }),
        _ => None,
    }
}

/// Fold one event into the state.
pub fn apply(st: &mut TicketState, ev: &TicketEvent, at: OffsetDateTime) {
    st.version += 1;
    match ev {
        TicketEvent::Received { .. } => {}
        TicketEvent::AnsweredDirectly { answer, .. } => {
            st.answered_directly = true;
            st.reply = Some(answer.clone());
            st.replied_at = Some(at);
            st.replied_on_time = Some(true);
        }
        TicketEvent::Dispatched { category, lead_unit, co_units, sign_due, reply_due } => {
            st.status = TicketStatus::Dispatched;
            st.intake.category = category.clone();
            st.lead_unit = Some(lead_unit.clone());
            st.co_units = co_units.clone();
            st.sign_due = Some(*sign_due);
            st.reply_due = Some(*reply_due);
            st.signed_at = None;
            st.returned_reason = None;
        }
        TicketEvent::Signed { .. } => {
            st.status = TicketStatus::Signed;
            st.signed_at = Some(at);
        }
        TicketEvent::Returned { reason, .. } => {
            st.status = TicketStatus::Received;
            st.returned_reason = Some(reason.clone());
            st.sign_due = None;
        }
        TicketEvent::ExtensionRequested { days, .. } => st.extension_pending = Some(*days),
        TicketEvent::ExtensionDecided { reply_due, .. } => {
            st.extension_pending = None;
            st.reply_due = Some(*reply_due);
        }
        TicketEvent::Replied { reply, on_time, .. } => {
            st.status = TicketStatus::Replied;
            st.reply = Some(reply.clone());
            st.replied_at = Some(at);
            st.replied_on_time = Some(*on_time);
            st.followed_up = false;
        }
        TicketEvent::FollowedUp { satisfaction, .. } => {
            st.satisfaction = Some(*satisfaction);
            st.followed_up = true;
        }
        TicketEvent::Reopened { count } => {
            st.status = TicketStatus::Received;
            st.reopen_count = *count;
            st.sign_due = None;
        }
        TicketEvent::Closed { explanation } => {
            st.status = TicketStatus::Closed;
            st.closed_at = Some(at);
            st.explanation = Some(explanation.clone());
        }
        TicketEvent::Merged { into } => {
            st.status = TicketStatus::Merged;
            st.merged_into = Some(into.clone());
        }
        TicketEvent::AnsweredWith { reply, .. } => {
            st.status = TicketStatus::Closed;
            st.reply = Some(reply.clone());
            st.replied_at = Some(at);
            st.closed_at = Some(at);
        }
        TicketEvent::DatesRecomputed { sign_due, reply_due, .. } => {
            st.sign_due = *sign_due;
            st.reply_due = *reply_due;
        }
    }
}

/// How alike two texts are: Jaccard similarity of their character bigrams (letters and digits only), 0–1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> std::collections::BTreeSet<(char, char)> {
        let c: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
        c.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (x, y) = (grams(a), grams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let inter = x.intersection(&y).count();
    inter as f64 / (x.len() + y.len() - inter) as f64
}

/// Whether two tickets look like repeated requests about the same matter: similar content (≥ 0.35), or
/// somewhat similar (≥ 0.2) at a similar place; received within `days` days of each other.
pub fn merge_score(a: &Intake, a_at: OffsetDateTime, b: &Intake, b_at: OffsetDateTime, days: i64) -> Option<f64> {
    if (a_at - b_at).whole_days().abs() > days {
        return None;
    }
    let text = similarity(&a.content, &b.content);
    let place = if a.location.trim().is_empty() || b.location.trim().is_empty() {
        0.0
    } else {
        similarity(&a.location, &b.location)
    };
    let score = text * 0.8 + place * 0.2;
    (text >= 0.35 || (text >= 0.2 && place >= 0.5)).then_some(score)
}

/// A ticket as the KPIs need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFact {
    pub category: String,
    pub unit: Option<String>,
    pub status: String,
    pub received_at: OffsetDateTime,
    pub answered_directly: bool,
    pub replied: bool,
    pub replied_on_time: Option<bool>,
    pub followed_up: bool,
    pub satisfaction: Option<Satisfaction>,
    pub content: String,
    pub location: String,
}

/// The source's hotline KPIs over one group of tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpi {
    pub key: String,
    pub received: i64,
    /// Closed (answered directly, after a satisfied follow-up, with an explanation, or with the primary's reply).
    pub completed: i64,
    pub completed_share: Option<f64>,
    /// Replied by a unit (direct answers need no follow-up call).
    pub unit_replies: i64,
    pub followed_up: i64,
    pub follow_up_share: Option<f64>,
    pub satisfied: i64,
    pub satisfaction_share: Option<f64>,
    pub on_time: i64,
    pub on_time_share: Option<f64>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn kpi_of<'a>(key: &str, xs: impl Iterator<Item = &'a TicketFact>) -> Kpi {
    let mut k = Kpi { key: key.to_string(), ..Kpi::default() };
    for t in xs {
        k.received += 1;
        if t.status == "closed" {
            k.completed += 1;
        }
        if t.replied && !t.answered_directly {
            k.unit_replies += 1;
            if t.followed_up {
                k.followed_up += 1;
                if t.satisfaction.is_some_and(Satisfaction::satisfied) {
                    k.satisfied += 1;
                }
            }
            if t.replied_on_time == Some(true) {
                k.on_time += 1;
            }
        }
    }
    k.completed_share = ratio(k.completed, k.received);
    k.follow_up_share = ratio(k.followed_up, k.unit_replies);
    k.satisfaction_share = ratio(k.satisfied, k.followed_up);
    k.on_time_share = ratio(k.on_time, k.unit_replies);
    k
}

/// KPIs of the tickets received in `[from, to)`: overall, by lead unit and by category.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpis {
    pub total: Kpi,
    pub by_unit: Vec<Kpi>,
    pub by_category: Vec<Kpi>,
}

pub fn kpis(facts: &[TicketFact], from: OffsetDateTime, to: OffsetDateTime) -> Kpis {
    let inside: Vec<&TicketFact> = facts.iter().filter(|t| t.received_at >= from && t.received_at < to).collect();
    let keys = |f: &dyn Fn(&TicketFact) -> Option<String>| -> std::collections::BTreeSet<String> {
        inside.iter().filter_map(|t| f(t)).collect()
    };
    let units = keys(&|t| t.unit.clone());
    let cats = keys(&|t| Some(t.category.clone()));
    Kpis {
        total: kpi_of("total", inside.iter().copied()),
        by_unit: units
            .iter()
            .map(|u| kpi_of(u, inside.iter().copied().filter(|t| t.unit.as_deref() == Some(u.as_str()))))
            .collect(),
        by_category: cats.iter().map(|c| kpi_of(c, inside.iter().copied().filter(|t| &t.category == c))).collect(),
    }
}

/// The week's hot topics: categories, words (character bigrams by the number of tickets using them) and places.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HotTopics {
    pub categories: Vec<(String, i64)>,
    pub words: Vec<(String, i64)>,
    pub places: Vec<(String, i64)>,
}

fn top(m: std::collections::BTreeMap<String, i64>, n: usize) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// Hot topics of the tickets received in the 7 days before `now`.
pub fn hot_topics(facts: &[TicketFact], now: OffsetDateTime) -> HotTopics {
    let from = now - time::Duration::days(7);
    let mut cats = std::collections::BTreeMap::new();
    let mut words = std::collections::BTreeMap::new();
    let mut places = std::collections::BTreeMap::new();
    for t in facts.iter().filter(|t| t.received_at >= from && t.received_at <= now) {
        *cats.entry(t.category.clone()).or_insert(0) += 1;
        let chars: Vec<char> = t.content.chars().filter(|c| !c.is_whitespace()).collect();
        let grams: std::collections::BTreeSet<String> = chars
            .windows(2)
            .filter(|w| w.iter().all(|c| c.is_alphanumeric() && !c.is_ascii_digit()))
            .map(|w| w.iter().collect())
            .collect();
        for g in grams {
            *words.entry(g).or_insert(0) += 1;
        }
        let place = t.location.trim();
        if !place.is_empty() {
            *places.entry(place.to_string()).or_insert(0) += 1;
        }
    }
    HotTopics { categories: top(cats, 10), words: top(words, 15), places: top(places, 10) }
}

/// The events of a knowledge-base article's stream (`kb-{id}`); the stored `type` is the tag. (The dispatch
/// directory's stream, `hotline-directory`, holds the `Directory` itself as each event's payload.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ArticleEvent {
    #[serde(rename = "kb_article_published")]
    Published { id: String, version: i64, category: String, title: String, body: String },
}
