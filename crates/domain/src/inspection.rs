//! 视频勘验 (video inspection): what an inspection step records about the applicant's recordings.
//!
//! A recording is uploaded outside the case machine (resumable, chunk by chunk); once it is complete, checked and
//! sealed, the application records it on the case through [`crate::case::CaseCommand::RecordVideo`], which
//! [`check_record_video`] decides: only the case's applicant, only while an inspection step that allows video is
//! waiting with an open task. The event carries the file's SHA-256 and SM3, so the transparency log covers what
//! was filmed.

use serde::{Deserialize, Serialize};

use crate::case::{CaseDefinition, CaseError, CaseState, Status, TaskStatus};
use crate::catalog::{InspectionMode, StepKind};

/// The container formats accepted for an inspection video, recognised from the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoContainer {
    Mp4,
    Mov,
    Webm,
}

impl VideoContainer {
    pub fn content_type(self) -> &'static str {
        match self {
            VideoContainer::Mp4 => "video/mp4",
            VideoContainer::Mov => "video/quicktime",
            VideoContainer::Webm => "video/webm",
        }
    }

    /// The container of a file from its first bytes (at least 12; 64 recognise WebM's DocType), or `None`.
    ///
    /// ISO base media files (MP4, and QuickTime MOV) start with a box whose type is at bytes 4..8: `ftyp` with a
    /// major brand (`qt  ` is QuickTime); older QuickTime files start with `moov`, `mdat`, `wide` or `free`.
    /// WebM is EBML (`1A 45 DF A3`) whose DocType element (`42 82`) says `webm` (other Matroska is refused).
    pub fn sniff(head: &[u8]) -> Option<VideoContainer> {
        if head.len() >= 12 && &head[4..8] == b"ftyp" {
            return Some(if &head[8..12] == b"qt  " { VideoContainer::Mov } else { VideoContainer::Mp4 });
        }
        if head.len() >= 8 && matches!(&head[4..8], b"moov" | b"mdat" | b"wide" | b"free") {
            return Some(VideoContainer::Mov);
        }
        if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            let doc_type = head.windows(7).any(|w| w == [0x42, 0x82, 0x84, b'w', b'e', b'b', b'm']);
            return doc_type.then_some(VideoContainer::Webm);
        }
        None
    }
}

/// A recording on the case file: the sealed file's id and what was found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoRef {
    /// The video's id (the upload's id).
    pub id: String,
    pub file_name: String,
    pub container: VideoContainer,
    /// Bytes.
    pub size: i64,
    /// SHA-256 and SM3 of the bytes as uploaded (hex).
    pub sha256: String,
    pub sm3: String,
    pub duration_ms: i64,
    pub width: i64,
    pub height: i64,
    /// The video stream's codec as the prober names it (h264, hevc, vp8, vp9, av1 …).
    pub codec: String,
}

/// The inspection mode the current step allows (`None`: the case is not at an inspection step).
pub fn step_mode(state: &CaseState, def: &CaseDefinition) -> Option<InspectionMode> {
    let step = state.current_step.as_ref().filter(|s| s.kind == StepKind::Inspection)?;
    def.process.steps.iter().find(|d| d.id == step.step_id).and_then(|d| d.inspection)
}

/// Whether a recording may be added to the case now for the inspection task `task_id`: the case is in progress at
/// an inspection step that allows video, and the task is open. (Who may add it is checked by the caller.)
pub fn check_record_video(state: &CaseState, def: &CaseDefinition, task_id: &str) -> Result<(), CaseError> {
    if state.status != Status::InProgress {
        return Err(CaseError::WrongStatus { status: state.status.as_str(), action: "record_video" });
    }
    let Some(step) = state.current_step.as_ref() else {
        return Err(CaseError::WrongStatus { status: state.status.as_str(), action: "record_video" });
    };
    if step.kind != StepKind::Inspection {
        return Err(CaseError::WrongStep(step.kind));
    }
    match step_mode(state, def) {
        Some(InspectionMode::Video | InspectionMode::Either) => {}
        _ => return Err(CaseError::VideoNotAllowed),
    }
    if method_now(state, def) != Some(Method::Video) {
        return Err(CaseError::VideoNotAllowed);
    }
    if !step.tasks.iter().any(|t| t.task_id == task_id && t.status == TaskStatus::Open) {
        return Err(CaseError::NoSuchTask(task_id.to_string()));
    }
    Ok(())
}

/// Largest accepted recording and longest duration, checked on completion (configuration gives them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoLimits {
    pub max_bytes: i64,
    pub max_duration_ms: i64,
}

/// Why a finished upload is not a usable recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    #[error("the file is not an MP4, MOV or WebM video")]
    NotAVideo,
    #[error("the video has no video stream")]
    NoVideoStream,
    #[error("the video lasts {duration_ms} ms; at most {max_ms} ms are accepted")]
    TooLong { duration_ms: i64, max_ms: i64 },
    #[error("the video's duration could not be read")]
    NoDuration,
}

impl VideoError {
    pub fn code(&self) -> &'static str {
        match self {
            VideoError::NotAVideo => "video_type",
            VideoError::NoVideoStream => "video_no_stream",
            VideoError::TooLong { .. } => "video_too_long",
            VideoError::NoDuration => "video_no_duration",
        }
    }
}

/// What a prober reported of a file, reduced to what the case records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    pub duration_ms: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub codec: Option<String>,
}

/// Check a probed file against the limits: a video stream with a size and a codec, a duration within the limit.
pub fn check_probed(p: &Probed, limits: VideoLimits) -> Result<(i64, i64, i64, String), VideoError> {
    let (Some(w), Some(h), Some(codec)) = (p.width, p.height, p.codec.clone()) else {
        return Err(VideoError::NoVideoStream);
    };
    let d = p.duration_ms.filter(|d| *d > 0).ok_or(VideoError::NoDuration)?;
    if d > limits.max_duration_ms {
        return Err(VideoError::TooLong { duration_ms: d, max_ms: limits.max_duration_ms });
    }
    Ok((d, w, h, codec))
}

/// How an inspection is done: on site, or from the applicant's recordings (视频勘验).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    OnSite,
    Video,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::OnSite => "on_site",
            Method::Video => "video",
        }
    }

    /// The method a step starts with: video wherever video is allowed (视频勘验优先).
    pub fn default_for(mode: InspectionMode) -> Method {
        match mode {
            InspectionMode::OnSite => Method::OnSite,
            InspectionMode::Video | InspectionMode::Either => Method::Video,
        }
    }
}

/// The reviewer's conclusion on the recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// 通过: the inspection task is done and the case moves on.
    Pass,
    /// 整改: the applicant answers the points with a new recording.
    Rectify,
    /// 需现场勘验: the recordings do not suffice; the inspection goes on site.
    OnSiteNeeded,
}

/// A reviewer's note on a recording at a moment, tied to a checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub video_id: String,
    /// Milliseconds from the start of the recording.
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist_item: Option<String>,
    pub text: String,
}

/// A still taken from a recording into the case file (a sealed JPEG attachment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Still {
    pub video_id: String,
    pub at_ms: i64,
    pub attachment: String,
    pub sha256: String,
}

/// What the case file holds of its inspection: the method and why, the notes, stills and conclusions (folded
/// from the events; absent until the first of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Why staff chose the method (required when they overrule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_chosen_by: Option<String>,
    /// The method was set by staff (the applicant no longer chooses).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub method_by_staff: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<NoteRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stills: Vec<Still>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conclusions: Vec<ConclusionRecord>,
    /// Rectification points not yet answered by a new recording.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_points: Vec<String>,
    /// When the (latest) inspection step started: the inspection was requested.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub requested_at: Option<time::OffsetDateTime>,
    /// When it completed: the inspection's result.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub resulted_at: Option<time::OffsetDateTime>,
    /// Recordings received during the latest inspection step.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub videos_at_step: u32,
    /// The result came from recordings (video inspection), not a visit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_video: bool,
    /// The scheduled visit or live session of the current inspection step (联合踏勘 when it lists other cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// Each department's findings at the scheduled inspection (the latest per task).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingsRecord>,
    /// The latest joint result (the one that moved the case on, or one that asked for a correction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint_result: Option<JointResultRecord>,
    /// 联合验收: each correction (整改) a joint result asked for, and the applicant's report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rectifications: Vec<crate::acceptance::Rectification>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One case's inspection for the numbers: its item, when it was requested and resulted, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionFact {
    pub item: String,
    pub requested: time::OffsetDateTime,
    pub resulted: time::OffsetDateTime,
    pub video: bool,
}

/// Per item: working days from request to result, video against on site (the source's "days saved").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectionDays {
    pub item: String,
    pub video_cases: u32,
    pub video_days: u32,
    pub on_site_cases: u32,
    pub on_site_days: u32,
    /// Mean working days, one decimal.
    pub video_mean: Option<f64>,
    pub on_site_mean: Option<f64>,
    /// (on-site mean − video mean) × video cases, when both kinds exist.
    pub days_saved: Option<f64>,
}

/// The working days (Beijing dates, `(requested, resulted]`) of each inspection, summed per item.
pub fn inspection_days(
    facts: &[InspectionFact],
    cal: &crate::calendar::Calendar,
) -> Result<Vec<InspectionDays>, crate::calendar::CalendarError> {
    let mut by: std::collections::BTreeMap<&str, InspectionDays> = Default::default();
    for f in facts {
        let days =
            cal.working_days_between(crate::clock::local_date(f.requested), crate::clock::local_date(f.resulted))?;
        let e = by.entry(f.item.as_str()).or_insert_with(|| InspectionDays {
            item: f.item.clone(),
            video_cases: 0,
            video_days: 0,
            on_site_cases: 0,
            on_site_days: 0,
            video_mean: None,
            on_site_mean: None,
            days_saved: None,
        });
        if f.video {
            e.video_cases += 1;
            e.video_days += days;
        } else {
            e.on_site_cases += 1;
            e.on_site_days += days;
        }
    }
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Ok(by
        .into_values()
        .map(|mut e| {
            e.video_mean = (e.video_cases > 0).then(|| round(f64::from(e.video_days) / f64::from(e.video_cases)));
            e.on_site_mean =
                (e.on_site_cases > 0).then(|| round(f64::from(e.on_site_days) / f64::from(e.on_site_cases)));
            if e.video_cases > 0 && e.on_site_cases > 0 {
                let saved = f64::from(e.on_site_days) / f64::from(e.on_site_cases)
                    - f64::from(e.video_days) / f64::from(e.video_cases);
                e.days_saved = Some(round(saved * f64::from(e.video_cases)));
            }
            e
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRecord {
    #[serde(flatten)]
    pub note: Note,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConclusionRecord {
    pub conclusion: Conclusion,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<String>,
    pub opinion: String,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// How a scheduled inspection is held: a visit on site, or a live video session (视频连线勘验) in a room of the
/// configured video-meeting service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visit {
    OnSite,
    LiveVideo,
}

/// Shortest and longest slot of a scheduled inspection, minutes.
pub const SLOT_MINUTES: std::ops::RangeInclusive<u32> = 15..=240;

/// A scheduled inspection (勘验预约): one slot for one case, or for every case of a 联合踏勘 (joint site
/// inspection), recorded on each of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// The inspection's id (`ins_…`), the same on every case of a joint inspection.
    pub id: String,
    pub visit: Visit,
    #[serde(with = "time::serde::rfc3339")]
    pub start: time::OffsetDateTime,
    pub minutes: u32,
    /// The live session's room (a link to the configured video-meeting service; nothing is fetched from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_url: Option<String>,
    /// The department that scheduled it and records the joint result (牵头部门).
    pub lead: crate::ids::DepartmentId,
    /// Every case inspected in this visit, this one included (more than one: a joint inspection).
    pub cases: Vec<crate::ids::CaseNo>,
}

/// The slot lies in the bureau's hours (09:00–12:00, 13:30–17:30 Beijing time) of a working day after `now`, and
/// lasts a sensible time.
pub fn check_slot(
    start: time::OffsetDateTime,
    minutes: u32,
    now: time::OffsetDateTime,
    cal: &crate::calendar::Calendar,
) -> Result<(), CaseError> {
    if !SLOT_MINUTES.contains(&minutes) {
        return Err(CaseError::BadSlot("the slot lasts 15 to 240 minutes"));
    }
    if start <= now {
        return Err(CaseError::BadSlot("the slot must be in the future"));
    }
    let local = start.to_offset(crate::clock::CHINA);
    if !cal.is_workday(local.date())? {
        return Err(CaseError::BadSlot("the slot must be on a working day"));
    }
    let end = local + time::Duration::minutes(i64::from(minutes));
    let within = crate::worktime::WORKING_PERIODS.iter().any(|((h1, m1), (h2, m2))| {
        let open = u32::from(*h1) * 60 + u32::from(*m1);
        let close = u32::from(*h2) * 60 + u32::from(*m2);
        let s = u32::from(local.hour()) * 60 + u32::from(local.minute());
        end.date() == local.date() && s >= open && s + minutes <= close
    });
    if !within {
        return Err(CaseError::BadSlot("the slot must lie within opening hours (09:00–12:00, 13:30–17:30)"));
    }
    Ok(())
}

/// One department's findings at a scheduled inspection, on its own task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingsRecord {
    pub task_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<crate::ids::DepartmentId>,
    pub findings: String,
    /// The premises meet the department's requirements.
    pub satisfied: bool,
    /// 联合验收: the department's result for each of its checklist entries checked in this round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<crate::acceptance::EntryResult>,
    /// The check round (1 at the visit, 2 after the first correction, …).
    #[serde(default = "first_round")]
    pub round: u32,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

fn first_round() -> u32 {
    1
}

/// The joint result of a scheduled inspection: every department's findings are in, and every case moved on — or,
/// at a checklist inspection with failed entries, those entries wait for the applicant's correction (整改).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointResultRecord {
    pub schedule_id: String,
    pub opinion: String,
    /// Every department inspecting for this case found the premises satisfactory.
    pub satisfied: bool,
    /// The checklist entries that failed (the correction asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<crate::acceptance::FailedEntry>,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// Whether the cases of a joint inspection belong to one applicant (the same organisation, or the same account).
pub fn same_applicant(states: &[&CaseState]) -> bool {
    let key = |s: &CaseState| match crate::case::organisation_of(s) {
        Some(u) => Some(format!("org:{u}")),
        None => s.applicant.account.as_ref().map(|a| format!("acc:{a}")),
    };
    let Some(first) = states.first().and_then(|s| key(s)) else {
        return false;
    };
    states.iter().all(|s| key(s).as_ref() == Some(&first))
}

/// The method in force at the current inspection step: the one chosen, else the step's default.
pub fn method_now(state: &CaseState, def: &CaseDefinition) -> Option<Method> {
    let mode = step_mode(state, def)?;
    Some(state.inspection.as_ref().and_then(|r| r.method).unwrap_or(Method::default_for(mode)))
}

/// A moment of a recording of the case: the recording exists and the moment is within it.
pub fn check_moment(state: &CaseState, video_id: &str, at_ms: i64) -> Result<(), CaseError> {
    let v = state.videos.iter().find(|v| v.id == video_id).ok_or_else(|| CaseError::UnknownVideo(video_id.into()))?;
    if at_ms < 0 || at_ms > v.duration_ms {
        return Err(CaseError::BadTimestamp(at_ms));
    }
    Ok(())
}

/// Decide a choice of method: the applicant where the step allows both (until staff decided), the inspector of an
/// open task always within what the catalog allows, with a reason when it changes the method in force.
pub fn choose_method(
    state: &CaseState,
    def: &CaseDefinition,
    actor: &crate::roles::Actor,
    method: Method,
    reason: Option<String>,
) -> Result<Vec<crate::case::CaseEvent>, CaseError> {
    if state.status != Status::InProgress {
        return Err(CaseError::WrongStatus { status: state.status.as_str(), action: "choose_inspection_method" });
    }
    let Some(step) = state.current_step.as_ref() else {
        return Err(CaseError::WrongStatus { status: state.status.as_str(), action: "choose_inspection_method" });
    };
    if step.kind != StepKind::Inspection {
        return Err(CaseError::WrongStep(step.kind));
    }
    let mode = step_mode(state, def).ok_or(CaseError::VideoNotAllowed)?;
    if method == Method::Video && mode == InspectionMode::OnSite {
        return Err(CaseError::VideoNotAllowed);
    }
    let now = method_now(state, def);
    let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    let staff = crate::case::inspects(step, actor).is_ok();
    if staff {
        if Some(method) != now && reason.is_none() {
            return Err(CaseError::Empty("reason"));
        }
    } else {
        if !actor.acts_as_applicant(state.applicant.account.as_deref(), crate::case::organisation_of(state)) {
            return Err(CaseError::Forbidden("applicant or inspector of this case"));
        }
        if mode != InspectionMode::Either {
            return Err(CaseError::MethodFixed(if mode == InspectionMode::Video { "video" } else { "on_site" }));
        }
        if state.inspection.as_ref().is_some_and(|r| r.method_by_staff) {
            return Err(CaseError::MethodFixed("the inspector decided it"));
        }
        if Some(method) == now && state.inspection.as_ref().is_some_and(|r| r.method.is_some()) {
            return Ok(vec![]);
        }
    }
    Ok(vec![crate::case::CaseEvent::InspectionMethodChosen { method, reason, by_staff: staff }])
}

/// The checklist of the current inspection step, or else of the last inspection step the case passed (what its
/// notes refer to).
pub fn checklist<'a>(state: &CaseState, def: &'a CaseDefinition) -> &'a [crate::catalog::ChecklistItem] {
    let current = state.current_step.as_ref().filter(|s| s.kind == StepKind::Inspection).map(|s| s.step_id.as_str());
    let id = current.or_else(|| {
        state
            .passed_steps
            .iter()
            .rev()
            .map(String::as_str)
            .find(|id| def.process.steps.iter().any(|d| d.id == *id && d.kind == StepKind::Inspection))
    });
    id.and_then(|id| def.process.steps.iter().find(|d| d.id == id)).map(|d| d.checklist.as_slice()).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_three_containers_and_nothing_else() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\x02\0");
        assert_eq!(VideoContainer::sniff(&mp4), Some(VideoContainer::Mp4));
        let mut mov = vec![0, 0, 0, 0x14];
        mov.extend_from_slice(b"ftypqt  \0\0\x02\0");
        assert_eq!(VideoContainer::sniff(&mov), Some(VideoContainer::Mov));
        let webm = [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm'];
        assert_eq!(VideoContainer::sniff(&webm), Some(VideoContainer::Webm));
        let mkv = [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x88, b'm', b'a', b't', b'r', b'o', b's', b'k', b'a'];
        assert_eq!(VideoContainer::sniff(&mkv), None, "Matroska that is not WebM");
        assert_eq!(VideoContainer::sniff(b"%PDF-1.7 aaaaaaaa"), None);
        assert_eq!(VideoContainer::sniff(b"ftyp"), None, "too short");
    }

    #[test]
    fn probed_limits() {
        let l = VideoLimits { max_bytes: 1000, max_duration_ms: 60_000 };
        let ok = Probed { duration_ms: Some(5_000), width: Some(640), height: Some(360), codec: Some("h264".into()) };
        assert_eq!(check_probed(&ok, l), Ok((5_000, 640, 360, "h264".into())));
        let long = Probed { duration_ms: Some(60_001), ..ok.clone() };
        assert_eq!(check_probed(&long, l).map_err(|e| e.code()), Err("video_too_long"));
        let audio = Probed { width: None, ..ok.clone() };
        assert_eq!(check_probed(&audio, l).map_err(|e| e.code()), Err("video_no_stream"));
        let none = Probed { duration_ms: None, ..ok };
        assert_eq!(check_probed(&none, l).map_err(|e| e.code()), Err("video_no_duration"));
    }
}
