//! 勘验预约 and 联合踏勘: scheduling an inspection at a slot — a visit on site or a live video session in a room of
//! the configured video-meeting service — for one case or for every case of a joint site inspection, each
//! department's findings on its own case, and the joint result that moves every case of the inspection on in one
//! transaction (all of them or none).
//!
//! The rules are the case machine's (`ScheduleInspection`, `RecordFindings`, `RecordJointResult` in
//! `case::decide`); this module gathers the cases, names the meeting room and writes them together.

use oneseal_domain::acceptance::{self, EntryResult};
use oneseal_domain::case::{CaseCommand, CaseState};
use oneseal_domain::ids::CaseNo;
use oneseal_domain::inspection::{self, Schedule, Visit};
use oneseal_domain::roles::Actor;
use time::OffsetDateTime;

use crate::cases::{command_on, load_state, may_see};
use crate::{App, AppError};

/// What the department asks for when it schedules.
#[derive(Debug, Clone)]
pub struct ScheduleRequest {
    pub visit: Visit,
    pub start: OffsetDateTime,
    pub minutes: u32,
    /// The applicant's other cases inspected in the same visit (联合踏勘); empty for this case alone.
    pub with_cases: Vec<CaseNo>,
}

/// The cases of one inspection: at most this many in one visit.
pub const MAX_JOINT_CASES: usize = 10;

/// A room name nobody can guess: 26 characters of base32 (130 random bits).
fn room_name() -> Result<String, AppError> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut buf = [0u8; 26];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(format!("oneseal-{}", buf.iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect::<String>()))
}

/// The live session's address: the configured template with a fresh room name (nothing is fetched from it).
pub fn meeting_url(template: &str) -> Result<String, AppError> {
    Ok(template.replace("{room}", &room_name()?))
}

/// Whether a meeting template is usable: an http(s) address with one `{room}`.
pub fn valid_meeting_template(t: &str) -> bool {
    (t.starts_with("https://") || t.starts_with("http://"))
        && t.matches("{room}").count() == 1
        && !t.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The lead department reaches the other cases of its inspection through the domain's rules, not `may_see`.
fn through_the_inspection(_: &Actor, _: &CaseState) -> bool {
    true
}

impl App {
    /// Schedule the inspection of `case_no` (and of `with_cases`, a 联合踏勘): one `inspection_scheduled` on every
    /// case, in one transaction. Only an inspector of the handling department of `case_no` schedules; a joined
    /// case must be the same applicant's, at an inspection step that may be joined.
    pub async fn schedule_inspection(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        req: ScheduleRequest,
    ) -> Result<Schedule, AppError> {
        let mut cases = vec![case_no.clone()];
        for c in req.with_cases {
            if !cases.contains(&c) {
                cases.push(c);
            }
        }
        if cases.len() > MAX_JOINT_CASES {
            return Err(AppError::invalid("too_many_cases", format!("at most {MAX_JOINT_CASES} cases in one visit")));
        }
        let lead = actor
            .department
            .clone()
            .ok_or(AppError::Case(oneseal_domain::case::CaseError::Forbidden("inspector of the lead department")))?;
        let meeting_url = match req.visit {
            Visit::OnSite => None,
            Visit::LiveVideo => {
                let template = self.video_settings().meeting_url.ok_or_else(|| AppError::Conflict {
                    code: "meeting_not_configured",
                    title_zh: "未配置视频会议服务，不能预约视频连线勘验",
                    message: "no video-meeting service is configured (ONESEAL_VIDEO_MEETING_URL)".into(),
                })?;
                Some(meeting_url(&template)?)
            }
        };
        let schedule = Schedule {
            id: format!("ins_{}", crate::random_hex(16)?),
            visit: req.visit,
            start: req.start,
            minutes: req.minutes,
            meeting_url,
            lead,
            cases,
        };
        let (app, actor, now, sch) = (self.clone(), actor.clone(), self.now(), schedule.clone());
        self.store
            .write(move |db| -> Result<(), AppError> {
                let mut states = Vec::new();
                for (i, no) in sch.cases.iter().enumerate() {
                    let (st, _) = load_state(db, no)?;
                    if i == 0 && !may_see(&actor, &st) {
                        return Err(AppError::NotFound(format!("case {no}")));
                    }
                    states.push(st);
                }
                if !inspection::same_applicant(&states.iter().collect::<Vec<_>>()) {
                    return Err(AppError::invalid(
                        "joint_other_applicant",
                        "联合踏勘的办件须属于同一申请人 the cases of a joint inspection must be one applicant's",
                    ));
                }
                for no in &sch.cases {
                    let cmd = CaseCommand::ScheduleInspection { schedule: sch.clone() };
                    command_on(&app, db, &actor, no, cmd, None, now, through_the_inspection)?;
                }
                Ok(())
            })
            .await?;
        Ok(schedule)
    }

    /// A department's findings on its own task of the case's scheduled inspection (its open task there when
    /// `task_id` is not given); at a checklist inspection (联合验收) with its result for each of its entries.
    pub async fn record_findings(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        task_id: Option<String>,
        findings: String,
        satisfied: Option<bool>,
        checklist: Vec<EntryResult>,
    ) -> Result<CaseState, AppError> {
        let task_id = match task_id {
            Some(t) => t,
            None => {
                let no = case_no.clone();
                let (st, _) = self.store.read(move |db| load_state(db, &no)).await?;
                if !may_see(actor, &st) {
                    return Err(AppError::NotFound(format!("case {case_no}")));
                }
                own_open_task(&st, actor).unwrap_or_default()
            }
        };
        let cmd = CaseCommand::RecordFindings { task_id, findings, satisfied, checklist };
        self.command(actor, case_no, cmd, None).await
    }

    /// 联合验收: what each department checked at the case's inspection, passed or failed, by whom and when, as
    /// one text (the joint acceptance opinion's `case.inspection_checklist` field); `None` without such results.
    pub fn checklist_text(&self, st: &CaseState) -> Option<String> {
        let view = self.catalog();
        let def = view.definition(&st.subject).ok()?;
        let out = acceptance::outcomes(inspection::checklist(st, &def), st.inspection.as_ref());
        if out.is_empty() {
            return None;
        }
        let lines: Vec<String> = out
            .iter()
            .map(|o| {
                let t = o.at.to_offset(oneseal_domain::clock::CHINA);
                let verdict = match (o.passed, o.corrected) {
                    (true, false) => "合格".to_string(),
                    (true, true) => "整改后合格".to_string(),
                    (false, _) => format!("不合格：{}", o.note.clone().unwrap_or_default()),
                };
                format!(
                    "{}·{}：{verdict}（{}，{:04}-{:02}-{:02} {:02}:{:02}）",
                    view.department_name(o.department.as_str()),
                    o.name,
                    o.by,
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute()
                )
            })
            .collect();
        Some(lines.join("；"))
    }

    /// The joint result of the case's scheduled inspection, by its lead department: every case of the inspection
    /// records it and moves on in one transaction; if any of them cannot (a department's findings missing, a case
    /// withdrawn meanwhile …), none does. The cases moved.
    pub async fn record_joint_result(
        &self,
        actor: &Actor,
        case_no: &CaseNo,
        opinion: String,
    ) -> Result<Vec<CaseNo>, AppError> {
        let (app, actor, now, no) = (self.clone(), actor.clone(), self.now(), case_no.clone());
        self.store
            .write(move |db| -> Result<Vec<CaseNo>, AppError> {
                let (st, _) = load_state(db, &no)?;
                if !may_see(&actor, &st) {
                    return Err(AppError::NotFound(format!("case {no}")));
                }
                let schedule = st
                    .inspection
                    .as_ref()
                    .and_then(|r| r.schedule.clone())
                    .ok_or_else(|| AppError::Case(oneseal_domain::case::CaseError::NotScheduled(String::new())))?;
                for c in &schedule.cases {
                    let cmd =
                        CaseCommand::RecordJointResult { schedule_id: schedule.id.clone(), opinion: opinion.clone() };
                    command_on(&app, db, &actor, c, cmd, None, now, through_the_inspection)?;
                }
                Ok(schedule.cases)
            })
            .await
    }
}

/// The open inspection task of the case that the actor's department works.
fn own_open_task(st: &CaseState, actor: &Actor) -> Option<String> {
    let step = st.current_step.as_ref()?;
    step.tasks
        .iter()
        .find(|t| t.status == oneseal_domain::case::TaskStatus::Open && actor.can_work(t.role, t.department.as_ref()))
        .map(|t| t.task_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_fresh_and_templates_checked() {
        let a = meeting_url("https://meet.example.gov.cn/{room}").unwrap();
        let b = meeting_url("https://meet.example.gov.cn/{room}").unwrap();
        assert_ne!(a, b);
        assert!(
            a.starts_with("https://meet.example.gov.cn/oneseal-")
                && a.len() == "https://meet.example.gov.cn/oneseal-".len() + 26,
            "{a}"
        );
        assert!(valid_meeting_template("https://jitsi.bureau.local/{room}#config.prejoinPageEnabled=false"));
        assert!(!valid_meeting_template("https://jitsi.bureau.local/fixed-room"));
        assert!(!valid_meeting_template("javascript:{room}"));
    }
}
