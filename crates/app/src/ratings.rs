//! Ratings (好差评): five levels on every completed case (一事一评), on every window service (一次一评), and on
//! hotline tickets (from the follow-up call). One rating per rater and target, changeable for a configurable
//! period. A bad rating (不满意, 非常不满意) opens a remediation (差评整改: verify → rectify → feed back) due within
//! a configurable number of working days; the unit may appeal (申诉) and a supervisor decides (复核). Each rating
//! is its own event stream whose events carry the whole new row, so `rebuild` restores it exactly.

use oneseal_domain::calendar::format_date;
use oneseal_domain::case::{CaseEvent, CaseState, Status};
use oneseal_domain::clock::local_date;
use oneseal_domain::hotline::{Satisfaction, TicketState};
use oneseal_domain::ids::CaseNo;
use oneseal_domain::rating::{Appeal, RatingEvent, RatingRecord, Remediation, RemediationStep};
use oneseal_domain::roles::{Actor, Role};
use oneseal_store::{Db, RatingRow, RatingTally, StoredEvent};
use serde::Serialize;
use serde_json::{json, Value};

use crate::streams::{decode, record};
use crate::{ms, App, AppError};

/// Settings of ratings (from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingSettings {
    /// Days (calendar) during which a rater may change a rating.
    pub change_days: i64,
    /// Working days to remediate a bad rating.
    pub remediation_days: u32,
}

impl Default for RatingSettings {
    fn default() -> Self {
        RatingSettings { change_days: 7, remediation_days: 5 }
    }
}

/// What a rater submits.
#[derive(Debug, Clone)]
pub struct RateInput {
    /// case | window
    pub kind: String,
    pub case_no: String,
    /// The case's query code, for raters who are not signed in (the window's screen, a link after completion).
    pub query_code: Option<String>,
    pub level: String,
    pub comment: String,
    pub tags: Vec<String>,
}

/// The JSON form of a rating (API; also the payload of its events).
pub fn rating_json(r: &RatingRow) -> Value {
    json!({
        "id": r.id, "kind": r.kind, "target": r.target, "rater": r.rater, "named": r.named, "department": r.department,
        "service_point": r.service_point, "staff": r.staff, "item_code": r.item_code, "channel": r.channel,
        "level": r.level, "comment": r.comment, "tags": serde_json::from_str::<Value>(&r.tags).unwrap_or(json!([])),
        "rated_at_ms": r.rated_at_ms, "changeable_until_ms": r.changeable_until_ms, "counted": r.counted,
        "remediation": r.remediation, "remediation_due": r.remediation_due,
        "remediation_notes": serde_json::from_str::<Value>(&r.remediation_notes).unwrap_or(json!({})),
        "appeal": r.appeal, "alerted": r.alerted,
    })
}

/// A rating's record (the payload of its events) from its row.
fn record_of(r: &RatingRow) -> Result<RatingRecord, AppError> {
    serde_json::from_value(rating_json(r)).map_err(|x| AppError::Internal(format!("rating {}: {x}", r.id)))
}

/// The ratings projection after one event of a rating's stream (the commands, the sweep and `rebuild` all call
/// it): the record the event carries.
pub(crate) fn project(db: &mut Db, e: &StoredEvent) -> Result<RatingRow, AppError> {
    let ev: RatingEvent = decode(e)?;
    let v = ev.record();
    let row = RatingRow {
        id: v.id.clone(),
        kind: v.kind.clone(),
        target: v.target.clone(),
        rater: v.rater.clone(),
        named: v.named,
        department: v.department.clone(),
        service_point: v.service_point.clone(),
        staff: v.staff.clone(),
        item_code: v.item_code.clone(),
        channel: v.channel.clone(),
        level: v.level.clone(),
        comment: v.comment.clone(),
        tags: v.tags.to_string(),
        rated_at_ms: v.rated_at_ms,
        changeable_until_ms: v.changeable_until_ms,
        counted: v.counted,
        remediation: v.remediation.map(|x| x.as_str().to_string()),
        remediation_due: v.remediation_due.clone(),
        remediation_notes: v.remediation_notes.to_string(),
        appeal: v.appeal.map(|x| x.as_str().to_string()),
        alerted: v.alerted,
    };
    db.put_rating(&row)?;
    Ok(row)
}

/// Record an event on the rating's stream carrying the whole new row, and project it. Returns the event's
/// sequence number and the row as projected.
fn save(
    db: &mut Db,
    r: &RatingRow,
    event: fn(RatingRecord) -> RatingEvent,
    actor: &str,
    at: i64,
) -> Result<(i64, RatingRow), AppError> {
    let e = record(db, &format!("rating-{}", r.id), &event(record_of(r)?), actor, at)?;
    Ok((e.seq, project(db, &e)?))
}

fn bad(level: &str) -> bool {
    Satisfaction::parse(level).is_some_and(|s| !s.satisfied())
}

/// A row's remediation and appeal, typed (the row holds the stored strings).
fn remediation_of(r: &RatingRow) -> Option<Remediation> {
    r.remediation.as_deref().and_then(Remediation::parse)
}

fn appeal_of(r: &RatingRow) -> Option<Appeal> {
    r.appeal.as_deref().and_then(Appeal::parse)
}

/// Open a remediation on a bad rating that has none running.
fn open_remediation(app: &App, r: &mut RatingRow, now: time::OffsetDateTime) -> Result<(), AppError> {
    if bad(&r.level) && Remediation::may_open(remediation_of(r), appeal_of(r)) {
        let days = app.rating_settings().remediation_days;
        r.remediation = Some(Remediation::Open.as_str().into());
        r.remediation_due = Some(format_date(app.calendar().add_working_days(local_date(now), days)?));
        r.remediation_notes = "{}".into();
        r.alerted = false;
    }
    Ok(())
}

/// The rating of a hotline ticket's follow-up call (the lead unit is rated).
pub(crate) fn record_ticket_rating(
    app: &App,
    db: &mut Db,
    st: &TicketState,
    level: Satisfaction,
    note: &str,
    at: i64,
) -> Result<(), AppError> {
    let now = crate::from_ms(at);
    let round = st.reopen_count;
    let mut r = RatingRow {
        id: format!("ticket-{}-{round}", st.ticket_no),
        kind: "ticket".into(),
        target: st.ticket_no.clone(),
        rater: format!("follow-up-{round}"),
        named: true,
        department: st.lead_unit.clone().unwrap_or_default(),
        service_point: "12345".into(),
        staff: String::new(),
        item_code: st.intake.category.clone(),
        channel: "hotline".into(),
        level: level.as_str().into(),
        comment: note.to_string(),
        tags: "[]".into(),
        rated_at_ms: at,
        changeable_until_ms: at,
        counted: true,
        remediation: None,
        remediation_due: None,
        remediation_notes: "{}".into(),
        appeal: None,
        alerted: false,
    };
    if db.rating(&r.id)?.is_some() {
        return Ok(());
    }
    open_remediation(app, &mut r, now)?;
    save(db, &r, RatingEvent::Given, "hotline", at)?;
    Ok(())
}

/// Satisfaction counts of one group: per level, and the satisfied share (counted ratings only).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct SatisfactionLine {
    pub key: String,
    pub name: String,
    pub total: i64,
    pub satisfied: i64,
    pub share: Option<f64>,
    pub levels: std::collections::BTreeMap<String, i64>,
}

/// Satisfaction by department, window, staff member, item and channel.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SatisfactionReport {
    pub total: i64,
    pub satisfied: i64,
    pub share: Option<f64>,
    pub by_department: Vec<SatisfactionLine>,
    pub by_window: Vec<SatisfactionLine>,
    pub by_staff: Vec<SatisfactionLine>,
    pub by_item: Vec<SatisfactionLine>,
    pub by_channel: Vec<SatisfactionLine>,
    /// Bad ratings by named raters, and how many of them were fed back (followed up): the source's 100 % rule.
    pub named_bad: i64,
    pub named_bad_fed_back: i64,
}

/// Group counted tallies by a key (pure).
pub fn group(rows: &[RatingTally], key: impl Fn(&RatingTally) -> String) -> Vec<SatisfactionLine> {
    let mut m: std::collections::BTreeMap<String, SatisfactionLine> = std::collections::BTreeMap::new();
    for r in rows {
        let k = key(r);
        if k.is_empty() {
            continue;
        }
        let l = m.entry(k.clone()).or_insert_with(|| SatisfactionLine { key: k, ..Default::default() });
        l.total += r.count;
        if !bad(&r.level) {
            l.satisfied += r.count;
        }
        *l.levels.entry(r.level.clone()).or_default() += r.count;
    }
    m.into_values()
        .map(|mut l| {
            l.share = Some(l.satisfied as f64 / l.total as f64);
            l
        })
        .collect()
}

impl App {
    pub fn rating_settings(&self) -> RatingSettings {
        self.ratings.read().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn set_rating_settings(&self, s: RatingSettings) -> Result<(), AppError> {
        if !(0..=90).contains(&s.change_days) || !(1..=30).contains(&s.remediation_days) {
            return Err(AppError::invalid(
                "invalid_settings",
                "change period 0–90 days, remediation 1–30 working days",
            ));
        }
        if let Ok(mut g) = self.ratings.write() {
            *g = s;
        }
        Ok(())
    }

    /// Rate a completed case or a window service: the signed-in applicant, or anyone with the case's query code.
    pub async fn rate(
        &self,
        actor: Option<&Actor>,
        input: RateInput,
        addr: Option<&str>,
    ) -> Result<RatingRow, AppError> {
        let level = Satisfaction::parse(&input.level).ok_or_else(|| {
            AppError::invalid(
                "invalid_level",
                "level is very_satisfied, satisfied, neutral, dissatisfied or very_dissatisfied",
            )
        })?;
        if !matches!(input.kind.as_str(), "case" | "window") {
            return Err(AppError::invalid("invalid_kind", "kind is case (一事一评) or window (一次一评)"));
        }
        let comment = input.comment.trim().to_string();
        if comment.chars().count() > 1000
            || input.tags.len() > 10
            || input.tags.iter().any(|t| t.chars().count() > 20 || t.trim().is_empty())
        {
            return Err(AppError::invalid(
                "invalid_comment",
                "a comment has at most 1,000 characters; at most 10 tags of ≤ 20",
            ));
        }
        // Who rates: a signed-in applicant of the case, or the holder of its query code (anonymous).
        let (view, rater, named) = match (actor, &input.query_code) {
            (Some(a), None) if !a.is_staff() => {
                let no = exact_case_no(&input.case_no)
                    .ok_or_else(|| AppError::NotFound(format!("case {}", input.case_no)))?;
                let v = self.case_view_unrecorded(a, &no).await?;
                // An agent who only follows the organisation sees the case but does not rate it.
                let st = &v.state;
                if !a.acts_as_applicant(st.applicant.account.as_deref(), oneseal_domain::case::organisation_of(st)) {
                    return Err(AppError::Forbidden(
                        "an agent authorised only to follow the organisation's cases does not rate them".into(),
                    ));
                }
                (v, a.id.clone(), true)
            }
            (_, Some(code)) => {
                let Some(no) = exact_case_no(&input.case_no) else {
                    return Err(self.progress_malformed(&input.case_no, addr).await);
                };
                self.progress(&no, code, addr).await?;
                let system = Actor::system("rating", Role::Supervisor, None);
                let v = self.case_view_unrecorded(&system, &no).await?;
                (v, format!("code-{}", input.case_no), false)
            }
            _ => {
                return Err(AppError::Forbidden(
                    "ratings are given by the applicant (signed in, or with the query code)".into(),
                ))
            }
        };
        let st: &CaseState = &view.state;
        // The case's own events (not the staff trail, which would record a read of personal data).
        let stream = crate::cases::stream_of(&st.case_no);
        let stored = self.store.read(move |db| db.read_stream(&stream).map_err(AppError::from)).await?;
        let trail = stored.iter().map(crate::cases::recorded).collect::<Result<Vec<_>, _>>()?;
        let staff = match input.kind.as_str() {
            "window" => {
                if !matches!(st.channel.as_str(), "window" | "bank") {
                    return Err(AppError::invalid("not_a_window_service", "this application was not made at a window"));
                }
                trail
                    .iter()
                    .find(|t| matches!(t.event, CaseEvent::Accepted { .. } | CaseEvent::Submitted { .. }))
                    .map(|t| t.actor.clone())
                    .unwrap_or_default()
            }
            _ => {
                if st.status != Status::Completed {
                    return Err(AppError::invalid("case_not_completed", "a case is rated once it is completed"));
                }
                trail
                    .iter()
                    .rev()
                    .find_map(|t| match &t.event {
                        CaseEvent::Decided { by, .. } => Some(by.clone()),
                        _ => None,
                    })
                    .unwrap_or_default()
            }
        };
        let now = self.now();
        let change = self.rating_settings().change_days;
        let tags = json!(input.tags.iter().map(|t| t.trim()).collect::<Vec<_>>()).to_string();
        let fresh = RatingRow {
            id: format!("{}-{}-{}", input.kind, input.case_no, &crate::sha256_hex(&rater)[..8]),
            kind: input.kind.clone(),
            target: input.case_no.clone(),
            rater: rater.clone(),
            named,
            department: st.department.as_str().to_string(),
            service_point: st.service_point.clone(),
            staff,
            item_code: st.subject.code().to_string(),
            channel: st.channel.as_str().to_string(),
            level: level.as_str().into(),
            comment,
            tags,
            rated_at_ms: ms(now),
            changeable_until_ms: ms(now) + change * 86_400_000,
            counted: true,
            remediation: None,
            remediation_due: None,
            remediation_notes: "{}".into(),
            appeal: None,
            alerted: false,
        };
        let app = self.clone();
        self.store
            .write(move |db| -> Result<RatingRow, AppError> {
                let (mut r, kind) = match db.rating_of(&fresh.kind, &fresh.target, &fresh.rater)? {
                    Some(old) => {
                        if ms(now) > old.changeable_until_ms {
                            return Err(AppError::invalid(
                                "already_rated",
                                "this was rated already and the change period is over",
                            ));
                        }
                        (
                            RatingRow {
                                level: fresh.level.clone(),
                                comment: fresh.comment.clone(),
                                tags: fresh.tags.clone(),
                                rated_at_ms: fresh.rated_at_ms,
                                ..old
                            },
                            RatingEvent::Changed as fn(RatingRecord) -> RatingEvent,
                        )
                    }
                    None => (fresh, RatingEvent::Given as fn(RatingRecord) -> RatingEvent),
                };
                open_remediation(&app, &mut r, now)?;
                Ok(save(db, &r, kind, &rater, ms(now))?.1)
            })
            .await
    }

    /// Ratings the actor may see: supervisors and administrators all; other staff their department's.
    pub async fn ratings_for(&self, actor: &Actor) -> Result<Vec<RatingRow>, AppError> {
        if !actor.is_staff() {
            return Err(AppError::Forbidden("ratings are listed for staff".into()));
        }
        let dept = if actor.has(Role::Supervisor) || actor.has(Role::Administrator) || actor.has(Role::HotlineOperator)
        {
            None
        } else {
            Some(actor.department.as_ref().map(|d| d.as_str().to_string()).unwrap_or_default())
        };
        self.store.read(move |db| db.ratings(dept.as_deref(), 0, 500).map_err(AppError::from)).await
    }

    /// A remediation step by staff of the rated department: verify → rectify → feed back (to the rater).
    pub async fn remediate(&self, actor: &Actor, id: &str, step: &str, note: &str) -> Result<RatingRow, AppError> {
        let note = note.trim().to_string();
        if note.is_empty() || note.chars().count() > 2000 {
            return Err(AppError::invalid("text_required", "each step has a note of 1–2000 characters"));
        }
        let Some(next) = RemediationStep::parse(step) else {
            return Err(AppError::invalid("invalid_step", "step is verify, rectify or feedback"));
        };
        let (actor, id, now, step) = (actor.clone(), id.to_string(), ms(self.now()), step.to_string());
        let dept = actor.department.as_ref().map(|d| d.as_str().to_string());
        self.store
            .write(move |db| -> Result<RatingRow, AppError> {
                let mut r = db
                    .rating(&id)?
                    .filter(|r| dept.as_deref() == Some(r.department.as_str()) && actor.is_staff())
                    .ok_or_else(|| AppError::NotFound(format!("rating {id}")))?;
                let Some(to) = Remediation::after(remediation_of(&r), appeal_of(&r), next) else {
                    return Err(AppError::invalid(
                        "wrong_step",
                        format!("the remediation is {:?}; {step} is not possible now", r.remediation),
                    ));
                };
                let mut notes: Value = serde_json::from_str(&r.remediation_notes).unwrap_or(json!({}));
                notes[step.as_str()] = json!({ "note": note, "by": actor.id, "at_ms": now });
                r.remediation_notes = notes.to_string();
                r.remediation = Some(to.as_str().into());
                let (seq, r) = save(db, &r, RatingEvent::Remediated, &actor.id, now)?;
                if to == Remediation::FedBack && r.named && !r.rater.starts_with("follow-up") {
                    crate::streams::notify(
                        db,
                        seq,
                        std::slice::from_ref(&r.rater),
                        &r.target,
                        "rating_feedback",
                        &format!("您的评价已整改反馈 feedback on your rating: {note}"),
                        now,
                    )?;
                }
                Ok(r)
            })
            .await
    }

    /// The rated department appeals a rating it holds malicious or mistaken (once).
    pub async fn appeal_rating(&self, actor: &Actor, id: &str, reason: &str) -> Result<RatingRow, AppError> {
        let reason = reason.trim().to_string();
        if reason.chars().count() < 2 || reason.chars().count() > 2000 {
            return Err(AppError::invalid("text_required", "an appeal gives its reason (2–2000 characters)"));
        }
        let (actor, id, now) = (actor.clone(), id.to_string(), ms(self.now()));
        let dept = actor.department.as_ref().map(|d| d.as_str().to_string());
        self.store
            .write(move |db| -> Result<RatingRow, AppError> {
                let mut r = db
                    .rating(&id)?
                    .filter(|r| dept.as_deref() == Some(r.department.as_str()) && actor.is_staff())
                    .ok_or_else(|| AppError::NotFound(format!("rating {id}")))?;
                if !Appeal::may_appeal(appeal_of(&r)) || !bad(&r.level) {
                    return Err(AppError::invalid("cannot_appeal", "only a bad rating is appealed, and only once"));
                }
                let mut notes: Value = serde_json::from_str(&r.remediation_notes).unwrap_or(json!({}));
                notes["appeal"] = json!({ "reason": reason, "by": actor.id, "at_ms": now });
                r.remediation_notes = notes.to_string();
                r.appeal = Some(Appeal::Pending.as_str().into());
                Ok(save(db, &r, RatingEvent::Appealed, &actor.id, now)?.1)
            })
            .await
    }

    /// A supervisor decides an appeal: upheld → the rating no longer counts and its remediation ends; rejected →
    /// the remediation goes on.
    pub async fn decide_appeal(
        &self,
        actor: &Actor,
        id: &str,
        uphold: bool,
        note: &str,
    ) -> Result<RatingRow, AppError> {
        if !actor.has(Role::Supervisor) {
            return Err(AppError::Forbidden("appeals are decided by supervisors".into()));
        }
        let (actor, id, now, note) = (actor.clone(), id.to_string(), ms(self.now()), note.trim().to_string());
        self.store
            .write(move |db| -> Result<RatingRow, AppError> {
                let mut r = db.rating(&id)?.ok_or_else(|| AppError::NotFound(format!("rating {id}")))?;
                let Some(decided) = Appeal::decide(appeal_of(&r), uphold) else {
                    return Err(AppError::invalid("no_appeal_pending", "no appeal is pending on this rating"));
                };
                let mut notes: Value = serde_json::from_str(&r.remediation_notes).unwrap_or(json!({}));
                notes["appeal_decision"] = json!({ "uphold": uphold, "note": note, "by": actor.id, "at_ms": now });
                r.remediation_notes = notes.to_string();
                r.appeal = Some(decided.as_str().into());
                if uphold {
                    r.counted = false;
                    r.remediation = None;
                }
                Ok(save(db, &r, RatingEvent::AppealDecided, &actor.id, now)?.1)
            })
            .await
    }

    /// Satisfaction over counted ratings since `since_ms` (public: no raters or comments).
    pub async fn satisfaction(&self, since_ms: i64) -> Result<SatisfactionReport, AppError> {
        // Aggregated in the database: the answer is one row per distinct combination, however many ratings.
        let rows = self.store.read(move |db| db.rating_tallies(since_ms).map_err(AppError::from)).await?;
        let view = self.catalog();
        let name_dept = |k: &str| view.department_name(k);
        let mut rep = SatisfactionReport {
            by_department: group(&rows, |r| r.department.clone()),
            by_window: group(&rows, |r| if r.kind == "window" { r.service_point.clone() } else { String::new() }),
            by_staff: group(&rows, |r| r.staff.clone()),
            by_item: group(&rows, |r| r.item_code.clone()),
            by_channel: group(&rows, |r| r.channel.clone()),
            ..Default::default()
        };
        rep.total = rows.iter().map(|r| r.count).sum();
        rep.satisfied = rows.iter().filter(|r| !bad(&r.level)).map(|r| r.count).sum();
        rep.share = (rep.total > 0).then(|| rep.satisfied as f64 / rep.total as f64);
        let named_bad: Vec<&RatingTally> = rows.iter().filter(|r| r.named && bad(&r.level)).collect();
        rep.named_bad = named_bad.iter().map(|r| r.count).sum();
        rep.named_bad_fed_back = named_bad
            .iter()
            .filter(|r| r.remediation.as_deref() == Some(Remediation::FedBack.as_str()))
            .map(|r| r.count)
            .sum();
        let dir = self.hotline_directory();
        for l in &mut rep.by_department {
            l.name = name_dept(&l.key);
        }
        for l in &mut rep.by_item {
            l.name = view
                .latest_item(&l.key)
                .map(|p| p.body.name.clone())
                .or_else(|| view.latest_bundle(&l.key).map(|b| b.body.name.clone()))
                .or_else(|| dir.get(&l.key).map(|c| c.name.clone()))
                .unwrap_or_else(|| l.key.clone());
        }
        Ok(rep)
    }

    /// Raise one alert per bad rating whose remediation is still open after its last day; returns how many.
    pub async fn sweep_ratings(&self, limit: i64) -> Result<usize, AppError> {
        let now = self.now();
        let today = format_date(local_date(now));
        self.store
            .write(move |db| -> Result<usize, AppError> {
                // Once across nodes: the same sweep elsewhere waits, then finds nothing left due.
                db.claim_work("sweep_ratings")?;
                let due = db.remediations_overdue(&today, limit)?;
                let n = due.len();
                for mut r in due {
                    crate::supervision::raise_alert(
                        db,
                        "rating_remediation_overdue",
                        &r.id,
                        &r.target,
                        &r.department,
                        None,
                        &format!("差评整改 {}", r.target),
                        format!(
                            "a {} rating is not remediated (due {})",
                            r.level,
                            r.remediation_due.clone().unwrap_or_default()
                        ),
                        vec![],
                        ms(now),
                    )?;
                    r.alerted = true;
                    save(db, &r, RatingEvent::Alerted, "supervision", ms(now))?;
                }
                Ok(n)
            })
            .await
    }
}

/// The case number of a rating's input, only if it is one exactly as given (later steps use the text as given).
fn exact_case_no(s: &str) -> Option<CaseNo> {
    CaseNo::parse(s).ok().filter(|n| n.as_str() == s)
}
