//! The 12345 hotline: tickets through `oneseal_domain::hotline`, each an event stream (`ticket-{no}`) with its
//! projection; the dispatch directory and the knowledge base as versioned streams; merge suggestions; the
//! sweep that turns overdue signing, replies and follow-ups into supervision alerts (and urgings to the unit).

use std::collections::BTreeSet;
use std::sync::Arc;

use oneseal_domain::calendar::format_date;
use oneseal_domain::clock::local_date;
use oneseal_domain::hotline::{
    self, ArticleEvent, Directory, Intake, TicketCommand, TicketCtx, TicketEvent, TicketState,
};
use oneseal_domain::ids::TicketNo;
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{ArticleRow, Db, NewEvent, StoredEvent, TicketFilter, TicketRow};
use serde::Serialize;

use crate::{from_ms, ms, App, AppError};

/// A follow-up call is due 24 hours after the reply (plain time: the centre works every day).
pub const FOLLOW_UP_MS: i64 = 24 * 3600 * 1000;

impl From<hotline::TicketError> for AppError {
    fn from(e: hotline::TicketError) -> AppError {
        match e {
            hotline::TicketError::Forbidden(w) => AppError::Forbidden(format!("this needs {w}")),
            other => AppError::invalid(other.code(), other.to_string()),
        }
    }
}

/// The built-in directory (catalog/hotline.toml).
pub fn builtin_directory() -> Result<Directory, AppError> {
    match crate::catalog::DEMO_CATALOG.iter().find(|(p, _)| p.ends_with("hotline.toml")) {
        Some((_, text)) => Directory::parse(text).map_err(|e| AppError::invalid("catalog_invalid", e)),
        None => Ok(Directory::default()),
    }
}

fn stream_of(no: &str) -> String {
    format!("ticket-{no}")
}

fn to_new(e: &TicketEvent, actor: &str, at: i64) -> Result<NewEvent, AppError> {
    Ok(NewEvent {
        event_type: e.kind().into(),
        schema_version: 1,
        actor: actor.into(),
        at_ms: at,
        payload: serde_json::to_string(e).map_err(|x| AppError::Internal(x.to_string()))?,
    })
}

/// The projection row of a ticket state.
fn project(st: &TicketState) -> Result<TicketRow, AppError> {
    Ok(TicketRow {
        ticket_no: st.ticket_no.clone(),
        category: st.intake.category.clone(),
        urgent: st.intake.urgent,
        channel: st.intake.channel.clone(),
        status: st.status.as_str().into(),
        lead_unit: st.lead_unit.clone(),
        caller_account: st.intake.caller_account.clone(),
        content: st.intake.content.clone(),
        location: st.intake.location.clone(),
        received_at_ms: ms(st.received_at),
        sign_due_ms: st.sign_due.map(ms),
        reply_due_ms: st.reply_due.map(ms),
        replied_at_ms: st.replied_at.map(ms),
        replied_on_time: st.replied_on_time,
        answered_directly: st.answered_directly,
        followed_up: st.followed_up,
        satisfaction: st.satisfaction.map(|s| s.as_str().to_string()),
        reopen_count: i64::from(st.reopen_count),
        merged_into: st.merged_into.clone(),
        closed_at_ms: st.closed_at.map(ms),
        version: st.version as i64,
        state: serde_json::to_string(st).map_err(|x| AppError::Internal(x.to_string()))?,
    })
}

fn state_of(row: &TicketRow) -> Result<TicketState, AppError> {
    serde_json::from_str(&row.state).map_err(|e| AppError::Internal(format!("ticket {}: {e}", row.ticket_no)))
}

/// Move the deadlines of every open ticket counted with `old` to `new` (a calendar publication), in the caller's
/// transaction. Returns how many tickets moved.
pub(crate) fn recompute_open_tickets(
    db: &mut Db,
    old: &oneseal_domain::calendar::Calendar,
    new: &oneseal_domain::calendar::Calendar,
    actor: &str,
    now: time::OffsetDateTime,
) -> Result<usize, AppError> {
    let mut moved = 0;
    for row in db.open_tickets_due_from(ms(now))? {
        let st = state_of(&row)?;
        let history = db
            .read_stream(&stream_of(&row.ticket_no))?
            .iter()
            .map(|e| {
                let ev: TicketEvent =
                    serde_json::from_str(&e.payload).map_err(|x| AppError::Internal(x.to_string()))?;
                Ok((from_ms(e.at_ms), ev))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        if let Some(ev) = oneseal_domain::recompute::ticket_dates(&history, &st, old, new, now)? {
            record(db, Some(st), &[ev], actor, ms(now))?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Append events to a ticket's stream and write its projection, in the caller's transaction.
fn record(
    db: &mut Db,
    st: Option<TicketState>,
    events: &[TicketEvent],
    actor: &str,
    at: i64,
) -> Result<TicketState, AppError> {
    let no = match (&st, events.first()) {
        (Some(s), _) => s.ticket_no.clone(),
        (None, Some(TicketEvent::Received { ticket_no, .. })) => ticket_no.clone(),
        _ => return Err(AppError::Internal("a ticket starts with its receipt".into())),
    };
    let expected = st.as_ref().map_or(0, |s| s.version as i64);
    let news = events.iter().map(|e| to_new(e, actor, at)).collect::<Result<Vec<_>, _>>()?;
    db.append(&stream_of(&no), expected, &news)?;
    let mut st = st;
    for e in events {
        match st.as_mut() {
            Some(s) => hotline::apply(s, e, from_ms(at)),
            None => st = hotline::init(e, from_ms(at)),
        }
    }
    let st = st.ok_or_else(|| AppError::Internal("empty ticket".into()))?;
    db.put_ticket(&project(&st)?)?;
    Ok(st)
}

/// Refold a ticket's projection from one of its events (rebuild).
pub(crate) fn replay(db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
    let ev: TicketEvent = serde_json::from_str(&e.payload).map_err(|x| AppError::Internal(x.to_string()))?;
    let no = e.stream_id.trim_start_matches("ticket-");
    let st = match db.ticket(no)? {
        Some(row) => {
            let mut st = state_of(&row)?;
            hotline::apply(&mut st, &ev, from_ms(e.at_ms));
            st
        }
        None => hotline::init(&ev, from_ms(e.at_ms))
            .ok_or_else(|| AppError::Internal(format!("{}: no receipt", e.stream_id)))?,
    };
    db.put_ticket(&project(&st)?)?;
    Ok(())
}

/// A ticket as shown: the caller's name and phone masked.
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub state: TicketState,
    pub category_name: String,
    pub lead_unit_name: Option<String>,
}

/// A suggested merge: an open ticket that looks like the same matter.
#[derive(Debug, Clone, Serialize)]
pub struct MergeSuggestion {
    pub ticket_no: String,
    pub score: f64,
    pub content: String,
    pub location: String,
    pub status: String,
}

/// Who may see a ticket: the centre, supervisors and administrators all; a unit those it leads or helps; the
/// citizen their own.
fn may_see(actor: &Actor, st: &TicketState) -> bool {
    if actor.has(Role::HotlineOperator) || actor.has(Role::Supervisor) || actor.has(Role::Administrator) {
        return true;
    }
    if actor.has(Role::HandlingUnit) {
        if let Some(d) = actor.department.as_ref().map(|d| d.as_str()) {
            if st.lead_unit.as_deref() == Some(d) || st.co_units.iter().any(|u| u == d) {
                return true;
            }
        }
    }
    st.intake.caller_account.as_deref() == Some(actor.id.as_str())
}

impl App {
    pub fn hotline_directory(&self) -> Arc<Directory> {
        self.hotline_directory.read().map(|g| g.clone()).unwrap_or_default()
    }

    /// Load the directory in force: the newest published one, else the built-in one.
    pub fn reload_directory_blocking(&self) -> Result<(), AppError> {
        let row = self.store.read_blocking(|db| db.directory())?;
        let dir = match row {
            Some((_, body)) => serde_json::from_str(&body).map_err(|e| AppError::Internal(e.to_string()))?,
            None => builtin_directory()?,
        };
        if let Ok(mut g) = self.hotline_directory.write() {
            *g = Arc::new(dir);
        }
        Ok(())
    }

    fn units(&self) -> BTreeSet<String> {
        self.catalog().departments.iter().map(|d| d.id.as_str().to_string()).collect()
    }

    /// Publish a new dispatch directory (administrators); it applies to dispatches from now on.
    pub async fn publish_directory(&self, actor: &Actor, dir: Directory) -> Result<i64, AppError> {
        if !actor.has(Role::Administrator) {
            return Err(AppError::Forbidden("the dispatch directory is managed by administrators".into()));
        }
        dir.validate(&self.units()).map_err(|e| AppError::invalid("invalid_directory", e))?;
        let body = serde_json::to_string(&dir).map_err(|e| AppError::Internal(e.to_string()))?;
        let (now, who) = (ms(self.now()), actor.id.clone());
        let v = self
            .store
            .write(move |db| -> Result<i64, AppError> {
                let v = db.stream_version(DIRECTORY_STREAM)?;
                let e =
                    crate::streams::record_raw(db, DIRECTORY_STREAM, v, DIRECTORY_PUBLISHED.into(), body, &who, now)?;
                project_directory(db, &e)?;
                Ok(v + 1)
            })
            .await?;
        if let Ok(mut g) = self.hotline_directory.write() {
            *g = Arc::new(dir);
        }
        Ok(v)
    }

    pub fn ticket_view(&self, mut st: TicketState) -> TicketView {
        st.intake.caller_name = crate::pd::mask_name(&self.reveal(&st.intake.caller_name).unwrap_or_default());
        st.intake.caller_phone = crate::pd::mask_phone(&self.reveal(&st.intake.caller_phone).unwrap_or_default());
        let dir = self.hotline_directory();
        let view = self.catalog();
        TicketView {
            category_name: dir.get(&st.intake.category).map(|c| c.name.clone()).unwrap_or_default(),
            lead_unit_name: st.lead_unit.as_ref().map(|u| view.department_name(u)),
            state: st,
        }
    }

    /// Receive a ticket. The centre's operators take any channel; citizens file their own (portal, phone app);
    /// Open311 clients come with an operator's API token. Returns the ticket and suggested merges.
    pub async fn receive_ticket(
        &self,
        actor: &Actor,
        mut intake: Intake,
    ) -> Result<(TicketView, Vec<MergeSuggestion>), AppError> {
        let operator = actor.has(Role::HotlineOperator);
        if !operator {
            if !actor.has(Role::Applicant) {
                return Err(AppError::Forbidden("tickets are filed by citizens or the hotline centre".into()));
            }
            intake.caller_account = Some(actor.id.clone());
            if !matches!(intake.channel.as_str(), "portal" | "mobile") {
                intake.channel = "portal".into();
            }
        } else if !matches!(intake.channel.as_str(), "operator" | "portal" | "mobile" | "api" | "open311") {
            return Err(AppError::invalid("invalid_channel", "channel is operator, portal, mobile, api or open311"));
        }
        let dir = self.hotline_directory();
        // Validate before sealing (the checks name the field), then seal the caller's name and phone.
        let first = hotline::receive("RX", intake, &dir)?;
        let TicketEvent::Received { mut intake, .. } = first else {
            return Err(AppError::Internal("receive".into()));
        };
        intake.caller_name = self.seal_value(&intake.caller_name)?;
        intake.caller_phone = self.seal_value(&intake.caller_phone)?;
        let now = self.now();
        let day = format_date(local_date(now)).replace('-', "");
        let who = actor.id.clone();
        let st = self
            .store
            .write(move |db| -> Result<TicketState, AppError> {
                let n = db.next_counter(&format!("ticket-{day}"))?;
                let no = format!("RX{day}{n:05}");
                record(db, None, &[TicketEvent::Received { ticket_no: no, intake }], &who, ms(now))
            })
            .await?;
        // Similar tickets hold other people's words and places: only the hotline centre sees them.
        let suggestions = if operator { self.merge_suggestions_for(&st).await? } else { vec![] };
        Ok((self.ticket_view(st), suggestions))
    }

    async fn merge_suggestions_for(&self, st: &TicketState) -> Result<Vec<MergeSuggestion>, AppError> {
        let since = ms(st.received_at) - 7 * 86_400_000;
        let rows = self.store.read(move |db| db.recent_open_tickets(since, 500).map_err(AppError::from)).await?;
        let mut out = Vec::new();
        for r in rows {
            if r.ticket_no == st.ticket_no || r.status == "merged" {
                continue;
            }
            let other = state_of(&r)?;
            if let Some(score) = hotline::merge_score(&st.intake, st.received_at, &other.intake, other.received_at, 7) {
                out.push(MergeSuggestion {
                    ticket_no: r.ticket_no,
                    score,
                    content: r.content,
                    location: r.location,
                    status: r.status,
                });
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.truncate(5);
        Ok(out)
    }

    /// Suggested merges for an existing ticket (operators).
    pub async fn ticket_similar(&self, actor: &Actor, no: &TicketNo) -> Result<Vec<MergeSuggestion>, AppError> {
        if !actor.has(Role::HotlineOperator) {
            return Err(AppError::Forbidden("merge suggestions are for the hotline centre".into()));
        }
        let st = self.ticket_state(actor, no).await?;
        self.merge_suggestions_for(&st).await
    }

    async fn ticket_state(&self, actor: &Actor, no: &TicketNo) -> Result<TicketState, AppError> {
        let n = no.to_string();
        let row = self.store.read(move |db| db.ticket(&n).map_err(AppError::from)).await?;
        let st = row.as_ref().map(state_of).transpose()?.filter(|st| may_see(actor, st));
        st.ok_or_else(|| AppError::NotFound(format!("ticket {no}")))
    }

    pub async fn ticket(&self, actor: &Actor, no: &TicketNo) -> Result<TicketView, AppError> {
        Ok(self.ticket_view(self.ticket_state(actor, no).await?))
    }

    /// Tickets the actor may see (a unit: those it leads; a citizen: their own).
    pub async fn tickets(&self, actor: &Actor, mut f: TicketFilter) -> Result<(Vec<TicketView>, i64), AppError> {
        if actor.has(Role::HotlineOperator) || actor.has(Role::Supervisor) || actor.has(Role::Administrator) {
        } else if actor.has(Role::HandlingUnit) {
            f.lead_unit = actor.department.as_ref().map(|d| d.as_str().to_string());
        } else {
            f.caller_account = Some(actor.id.clone());
        }
        f.limit = f.limit.clamp(1, 200);
        let (rows, total) = self.store.read(move |db| db.tickets(&f).map_err(AppError::from)).await?;
        let views = rows.iter().map(|r| state_of(r).map(|s| self.ticket_view(s))).collect::<Result<Vec<_>, _>>()?;
        Ok((views, total))
    }

    /// Run a command on a ticket. Closing a primary answers the tickets merged into it; a follow-up records the
    /// citizen's satisfaction as a rating of the lead unit (a bad one opens a remediation).
    pub async fn ticket_command(
        &self,
        actor: &Actor,
        no: &TicketNo,
        cmd: TicketCommand,
        if_match: Option<i64>,
    ) -> Result<TicketView, AppError> {
        let (app, actor, no) = (self.clone(), actor.clone(), no.to_string());
        let now = self.now();
        let dir = self.hotline_directory();
        let units = self.units();
        let st = self
            .store
            .write(move |db| -> Result<TicketState, AppError> {
                let row = db.ticket(&no)?.ok_or_else(|| AppError::NotFound(format!("ticket {no}")))?;
                let st = state_of(&row)?;
                if !may_see(&actor, &st) {
                    return Err(AppError::NotFound(format!("ticket {no}")));
                }
                if let Some(expected) = if_match {
                    if expected != row.version {
                        return Err(AppError::StaleVersion { expected, actual: row.version });
                    }
                }
                if let TicketCommand::Merge { into } = &cmd {
                    let target =
                        db.ticket(into)?.ok_or_else(|| AppError::invalid("bad_merge", format!("no ticket {into}")))?;
                    if matches!(target.status.as_str(), "merged" | "closed") {
                        return Err(hotline::TicketError::BadMerge.into());
                    }
                }
                let ctx = TicketCtx { now, actor: &actor, calendar: &app.calendar(), directory: &dir, units: &units };
                let events = hotline::decide(&st, cmd, &ctx)?;
                let st = record(db, Some(st), &events, &actor.id, ms(now))?;
                for e in &events {
                    match e {
                        TicketEvent::Closed { .. } => {
                            let reply = st.reply.clone().unwrap_or_default();
                            for child in db.tickets_merged_into(&st.ticket_no)? {
                                let cst = state_of(&child)?;
                                let ev =
                                    TicketEvent::AnsweredWith { primary: st.ticket_no.clone(), reply: reply.clone() };
                                record(db, Some(cst), &[ev], &actor.id, ms(now))?;
                            }
                        }
                        TicketEvent::FollowedUp { satisfaction, note } => {
                            crate::ratings::record_ticket_rating(&app, db, &st, *satisfaction, note, ms(now))?;
                        }
                        _ => {}
                    }
                }
                Ok(st)
            })
            .await?;
        Ok(self.ticket_view(st))
    }

    /// The caller's name and phone in clear, for the centre's follow-up call; recorded in the access log.
    pub async fn ticket_caller(&self, actor: &Actor, no: &TicketNo) -> Result<(String, String), AppError> {
        if !actor.has(Role::HotlineOperator) {
            return Err(AppError::Forbidden("the caller's details are for the hotline centre".into()));
        }
        let st = self.ticket_state(actor, no).await?;
        let fields = ["caller_name".to_string(), "caller_phone".to_string()];
        self.record_access(actor, no.as_str(), st.intake.caller_account.clone(), "回访 follow-up call", &fields)
            .await?;
        Ok((self.reveal(&st.intake.caller_name)?, self.reveal(&st.intake.caller_phone)?))
    }

    /// Raise alerts for overdue signing, replies and follow-ups (each once per due instant), and urge the unit
    /// of an overdue reply. Returns how many alerts were new.
    pub async fn sweep_hotline(&self, limit: i64) -> Result<usize, AppError> {
        let now = self.now();
        // An urging issued by the sweep is due the next working day.
        let urge_due = self.calendar().add_working_days(local_date(now), 1).map(format_date).unwrap_or_default();
        self.store
            .write(move |db| -> Result<usize, AppError> {
                // Once across nodes: the same sweep elsewhere waits, then finds nothing left due.
                db.claim_work("sweep_hotline")?;
                let mut n = 0;
                for (kind, t) in db.tickets_overdue(ms(now), FOLLOW_UP_MS, limit)? {
                    let (alert, due, dept) = match kind.as_str() {
                        "sign" => ("ticket_sign_overdue", t.sign_due_ms, t.lead_unit.clone()),
                        "reply" => ("ticket_reply_overdue", t.reply_due_ms, t.lead_unit.clone()),
                        _ => ("ticket_follow_up_overdue", t.replied_at_ms, Some("hotline-centre".to_string())),
                    };
                    let dept = dept.unwrap_or_default();
                    let key = due.unwrap_or_default().to_string();
                    let title = t.content.chars().take(40).collect::<String>();
                    let new = crate::supervision::raise_alert(
                        db,
                        alert,
                        &key,
                        &t.ticket_no,
                        &dept,
                        None,
                        &title,
                        format!("工单 {} {kind} overdue", t.ticket_no),
                        vec![],
                        ms(now),
                    )?;
                    if new {
                        n += 1;
                        if kind == "reply" || kind == "sign" {
                            let id = format!("urging-{}-{kind}-{key}", t.ticket_no);
                            let message = if kind == "sign" {
                                "工单逾期未签收，请立即签收 the ticket is not signed for in time"
                            } else {
                                "工单答复已超期，请立即办理 the reply is overdue"
                            };
                            let ev = oneseal_domain::urging::UrgingEvent::Issued {
                                case_no: t.ticket_no.clone(),
                                alert_id: None,
                                department: dept.clone(),
                                person: None,
                                message: message.into(),
                                due: urge_due.clone(),
                            };
                            let (seq, _) = crate::urging::record_urging(db, &id, &ev, "supervision", ms(now))?;
                            let to = db.accounts_with_role(Role::HandlingUnit.as_str(), Some(&dept))?;
                            crate::streams::notify(
                                db,
                                seq,
                                &to,
                                &t.ticket_no,
                                "urging_issued",
                                "工单答复已超期 a ticket's reply is overdue",
                                ms(now),
                            )?;
                        }
                    }
                }
                Ok(n)
            })
            .await
    }

    /// Publish a knowledge-base article (a new one, or a new version of `id`).
    pub async fn publish_article(
        &self,
        actor: &Actor,
        id: Option<&str>,
        category: &str,
        title: &str,
        body: &str,
    ) -> Result<ArticleRow, AppError> {
        if !(actor.has(Role::HotlineOperator) || actor.has(Role::Administrator)) {
            return Err(AppError::Forbidden("articles are written by the hotline centre or administrators".into()));
        }
        let (title, body) = (title.trim().to_string(), body.trim().to_string());
        if title.is_empty() || title.chars().count() > 200 || body.is_empty() || body.chars().count() > 20_000 {
            return Err(AppError::invalid(
                "text_required",
                "an article has a title (≤ 200) and a body (≤ 20,000 characters)",
            ));
        }
        if self.hotline_directory().get(category).is_none() {
            return Err(AppError::invalid("unknown_category", format!("unknown category {category}")));
        }
        let id = match id {
            Some(i) if !i.trim().is_empty() => i.trim().to_string(),
            _ => format!("kb-{}", crate::random_hex(6)?),
        };
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || id.len() > 64 {
            return Err(AppError::invalid("invalid_id", "an article id is letters, digits and '-'"));
        }
        let row = ArticleRow {
            id,
            version: 0,
            category: category.to_string(),
            title,
            body,
            published_at_ms: ms(self.now()),
            published_by: actor.id.clone(),
        };
        self.store
            .write(move |db| -> Result<ArticleRow, AppError> {
                let stream = format!("kb-{}", row.id);
                let v = db.stream_version(&stream)?;
                let ev = ArticleEvent::Published {
                    id: row.id.clone(),
                    version: v + 1,
                    category: row.category,
                    title: row.title,
                    body: row.body,
                };
                let e = crate::streams::record_at(db, &stream, v, &ev, &row.published_by, row.published_at_ms)?;
                let row = project_article(db, &e)?;
                Ok(row)
            })
            .await
    }

    /// Articles matching a Chinese query (all when empty), best first.
    pub async fn search_articles(&self, q: &str, category: Option<&str>) -> Result<Vec<ArticleRow>, AppError> {
        let all = self.store.read(|db| db.articles().map_err(AppError::from)).await?;
        let all: Vec<ArticleRow> = all.into_iter().filter(|a| category.is_none_or(|c| a.category == c)).collect();
        if q.trim().is_empty() {
            return Ok(all);
        }
        let mut index = oneseal_domain::search::Index::default();
        for a in &all {
            index.add(&a.title, &[(&a.title, 10), (&a.body, 2)]);
        }
        Ok(index.search(q).into_iter().filter_map(|(i, _)| all.get(i).cloned()).collect())
    }

    pub async fn article_versions(&self, id: &str) -> Result<Vec<ArticleRow>, AppError> {
        let i = id.to_string();
        let v = self.store.read(move |db| db.article_versions(&i).map_err(AppError::from)).await?;
        if v.is_empty() {
            return Err(AppError::NotFound(format!("article {id}")));
        }
        Ok(v)
    }
}

/// The dispatch directory's stream and its one event type (the payload is the `Directory`).
pub(crate) const DIRECTORY_STREAM: &str = "hotline-directory";
const DIRECTORY_PUBLISHED: &str = "hotline_directory_published";

/// The directory projection after a published version (the command and `rebuild` both call it): the version's
/// text as published.
pub(crate) fn project_directory(db: &mut Db, e: &StoredEvent) -> Result<(), AppError> {
    if e.event_type != DIRECTORY_PUBLISHED {
        return Err(AppError::Internal(format!("{}: unknown event {}", e.stream_id, e.event_type)));
    }
    Ok(db.put_directory(e.version, &e.payload, e.at_ms, &e.actor)?)
}

/// The articles projection after a published version of an article (the command and `rebuild` both call it).
pub(crate) fn project_article(db: &mut Db, e: &StoredEvent) -> Result<ArticleRow, AppError> {
    let ArticleEvent::Published { id, version, category, title, body } = crate::streams::decode(e)?;
    let row =
        ArticleRow { id, version, category, title, body, published_at_ms: e.at_ms, published_by: e.actor.clone() };
    db.put_article(&row)?;
    Ok(row)
}

fn fact_of(r: &TicketRow) -> hotline::TicketFact {
    hotline::TicketFact {
        category: r.category.clone(),
        unit: r.lead_unit.clone(),
        status: r.status.clone(),
        received_at: from_ms(r.received_at_ms),
        answered_directly: r.answered_directly,
        replied: r.replied_at_ms.is_some(),
        replied_on_time: r.replied_on_time,
        followed_up: r.followed_up,
        satisfaction: r.satisfaction.as_deref().and_then(hotline::Satisfaction::parse),
        content: r.content.clone(),
        location: r.location.clone(),
    }
}

impl App {
    fn may_see_kpis(actor: &Actor) -> Result<(), AppError> {
        if actor.has(Role::HotlineOperator) || actor.has(Role::Supervisor) || actor.has(Role::Administrator) {
            Ok(())
        } else {
            Err(AppError::Forbidden("hotline statistics are for the centre, supervisors and administrators".into()))
        }
    }

    async fn ticket_facts(&self, from_ms: i64, to_ms: i64) -> Result<Vec<hotline::TicketFact>, AppError> {
        let f = TicketFilter { from_ms: Some(from_ms), to_ms: Some(to_ms), limit: i64::MAX / 4, ..Default::default() };
        let (rows, _) = self.store.read(move |db| db.tickets(&f).map_err(AppError::from)).await?;
        Ok(rows.iter().map(fact_of).collect())
    }

    /// The hotline KPIs of tickets received in `[from, to)` (dates, Beijing).
    pub async fn hotline_kpis(
        &self,
        actor: &Actor,
        from: time::Date,
        to: time::Date,
    ) -> Result<hotline::Kpis, AppError> {
        Self::may_see_kpis(actor)?;
        if to <= from {
            return Err(AppError::invalid("invalid_period", "the period ends after it starts"));
        }
        let start = |d: time::Date| d.midnight().assume_offset(oneseal_domain::clock::CHINA);
        let (a, b) = (start(from), start(to));
        let facts = self.ticket_facts(ms(a), ms(b)).await?;
        Ok(hotline::kpis(&facts, a, b))
    }

    /// The hot topics of the last 7 days.
    pub async fn hot_topics(&self, actor: &Actor) -> Result<hotline::HotTopics, AppError> {
        Self::may_see_kpis(actor)?;
        let now = self.now();
        let facts = self.ticket_facts(ms(now) - 7 * 86_400_000, ms(now) + 1).await?;
        Ok(hotline::hot_topics(&facts, now))
    }
}
