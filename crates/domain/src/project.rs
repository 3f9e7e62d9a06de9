//! 工程建设项目 (construction projects): a project with its national investment-project code, its type (data:
//! `catalog/project-types/*.toml`, versioned like the catalog) and the four stages of the national reform of
//! construction approval (国办发〔2019〕11号: 立项用地规划许可、工程建设许可、施工许可、竣工验收). A stage starts
//! every case of its items in parallel from one submission; the project's clocks count working days per stage and
//! over the whole process, with the time not counted under 行政许可法 §45 shown apart.
//!
//! Pure: the project's events fold into `ProjectState`; which items a stage may start now is decided from the
//! statuses of the project's cases, passed in; the clocks take the cases' times, "now" and the calendar.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::assessment::{Evaluation, EvaluationPart, Intermediary, ReportFile, ReviewOutcome};
use crate::calendar::{Calendar, CalendarError};
use crate::case::MaterialRef;
use crate::clock::{local_date, SuspensionKind};

/// 投资项目代码: the code the national online approval and supervision platform for investment projects
/// (全国投资项目在线审批监管平台) gives a project, 24 characters `YYYY-RRRRRR-II-TT-NNNNNN`: the year it was
/// given, the 6-digit administrative division (GB/T 2260) of the place, the 2-digit industry (GB/T 4754 division,
/// e.g. 47 房屋建筑业), the 2-digit kind of management (01 审批, 02 核准, 03 备案) and a 6-digit serial.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectCode(String);

/// Why a text is not a project code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectCodeError {
    #[error("a project code is YYYY-RRRRRR-II-TT-NNNNNN (24 characters, digits and hyphens)")]
    Format,
    #[error("the year of a project code is 2000–2099")]
    Year,
    #[error("the administrative division of a project code is a 6-digit GB/T 2260 code (province 11–82)")]
    Region,
    #[error("the industry of a project code is a GB/T 4754 division, 01–97")]
    Industry,
    #[error("the kind of a project code is 01 (审批), 02 (核准) or 03 (备案)")]
    Kind,
    #[error("the serial of a project code is 000001–999999")]
    Serial,
}

impl ProjectCodeError {
    pub fn code(&self) -> &'static str {
        match self {
            ProjectCodeError::Format => "project_code_format",
            ProjectCodeError::Year => "project_code_year",
            ProjectCodeError::Region => "project_code_region",
            ProjectCodeError::Industry => "project_code_industry",
            ProjectCodeError::Kind => "project_code_kind",
            ProjectCodeError::Serial => "project_code_serial",
        }
    }
}

impl ProjectCode {
    pub fn parse(s: &str) -> Result<ProjectCode, ProjectCodeError> {
        let parts: Vec<&str> = s.split('-').collect();
        let widths = [4, 6, 2, 2, 6];
        if parts.len() != 5
            || parts.iter().zip(widths).any(|(p, w)| p.len() != w || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ProjectCodeError::Format);
        }
        let num = |p: &str| p.parse::<u32>().unwrap_or(0);
        if !(2000..=2099).contains(&num(parts[0])) {
            return Err(ProjectCodeError::Year);
        }
        let province = num(&parts[1][..2]);
        if !(11..=82).contains(&province) || num(&parts[1][2..]) == 0 && parts[1] != format!("{province}0000") {
            return Err(ProjectCodeError::Region);
        }
        if !(1..=97).contains(&num(parts[2])) {
            return Err(ProjectCodeError::Industry);
        }
        if !(1..=3).contains(&num(parts[3])) {
            return Err(ProjectCodeError::Kind);
        }
        if num(parts[4]) == 0 {
            return Err(ProjectCodeError::Serial);
        }
        Ok(ProjectCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division the project is in.
    pub fn region(&self) -> &str {
        &self.0[5..11]
    }
}

impl std::fmt::Display for ProjectCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ProjectCode {
    type Error = ProjectCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ProjectCode::parse(&s)
    }
}

impl From<ProjectCode> for String {
    fn from(c: ProjectCode) -> String {
        c.0
    }
}

/// The four stages of construction approval (阶段), in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// 立项用地规划许可
    LandPlanning,
    /// 工程建设许可
    Engineering,
    /// 施工许可
    Construction,
    /// 竣工验收
    Completion,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::LandPlanning, Stage::Engineering, Stage::Construction, Stage::Completion];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::LandPlanning => "land-planning",
            Stage::Engineering => "engineering",
            Stage::Construction => "construction",
            Stage::Completion => "completion",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One item of a stage: its implementation code and the items of the same stage it waits for (sequential);
/// without `after`, it starts with the stage's submission (parallel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageItem {
    pub item: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

/// A stage of a project type: its items and its limit in working days (and the shorter one of the green channel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    pub stage: Stage,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub limit_days: u32,
    /// 绿色通道: the stage's limit for a project on the green channel (absent: the same limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub green_limit_days: Option<u32>,
    pub items: Vec<StageItem>,
}

/// A type of construction project (社会投资一般项目, 社会投资小型低风险项目, …): its stages and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectType {
    pub code: String,
    /// The published version (the catalog stream's `projecttype-{code}` version, set when the catalog is read;
    /// a file need not say it; 0, not written, in the published body). A project keeps the version it was
    /// registered with.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub description: String,
    /// Where the limits come from.
    pub basis: Vec<String>,
    /// From the project's filing to the construction permit (end of the 施工许可 stage), working days.
    pub permit_limit_days: u32,
    /// The whole process, filing to completion acceptance, working days.
    pub whole_limit_days: u32,
    pub stages: Vec<StageDef>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ProjectType {
    pub fn parse(text: &str) -> Result<ProjectType, String> {
        let t: ProjectType = toml::from_str(text).map_err(|e| e.to_string())?;
        t.validate()?;
        Ok(t)
    }

    /// The four stages once each, in order; items once in the whole type; `after` names earlier items of the same
    /// stage; limits positive, the green channel's not longer; the stages fit the permit and whole limits.
    pub fn validate(&self) -> Result<(), String> {
        let p = |m: String| Err(format!("project type {}: {m}", self.code));
        if self.code.is_empty() || !self.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return p("the code is lowercase letters, digits and hyphens".into());
        }
        let stages: Vec<Stage> = self.stages.iter().map(|s| s.stage).collect();
        if stages != Stage::ALL {
            return p("the stages are land-planning, engineering, construction, completion, in that order".into());
        }
        let mut all = BTreeSet::new();
        for s in &self.stages {
            if s.items.is_empty() || s.limit_days == 0 {
                return p(format!("stage {} needs items and a limit", s.stage.as_str()));
            }
            if s.green_limit_days.is_some_and(|g| g == 0 || g > s.limit_days) {
                return p(format!("stage {}: the green channel's limit is 1..=limit_days", s.stage.as_str()));
            }
            let mut seen = BTreeSet::new();
            for i in &s.items {
                if let Some(a) = i.after.iter().find(|a| !seen.contains(*a)) {
                    return p(format!("item {} waits for {a}, which is not an earlier item of its stage", i.item));
                }
                seen.insert(i.item.clone());
                if !all.insert(i.item.clone()) {
                    return p(format!("item {} is in the type twice", i.item));
                }
            }
        }
        let to_permit: u32 = self.stages.iter().take(3).map(|s| s.limit_days).sum();
        let whole: u32 = self.stages.iter().map(|s| s.limit_days).sum();
        if to_permit > self.permit_limit_days || whole > self.whole_limit_days {
            return p(format!(
                "the stages' limits ({to_permit} to the permit, {whole} in all) exceed permit_limit_days {} or whole_limit_days {}",
                self.permit_limit_days, self.whole_limit_days
            ));
        }
        Ok(())
    }

    pub fn stage(&self, s: Stage) -> Option<&StageDef> {
        self.stages.iter().find(|d| d.stage == s)
    }

    /// Every item code of the type.
    pub fn items(&self) -> impl Iterator<Item = &str> {
        self.stages.iter().flat_map(|s| s.items.iter().map(|i| i.item.as_str()))
    }
}

/// 项目类型: whether it is government-invested, social investment, small and low-risk (the data names the type;
/// this is its code).
pub type ProjectTypeCode = String;

/// A case started by a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCase {
    pub item: String,
    pub case_no: String,
}

/// The events of a project's stream (`project-{code}`); the stored `type` is the tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProjectEvent {
    /// 项目登记: the owner registers a project with its code; the type's stages are copied in, so the project is
    /// handled by the version it started with whatever later versions say.
    ProjectRegistered {
        code: ProjectCode,
        name: String,
        project_type: Box<ProjectType>,
        owner_account: String,
        /// The owner organisation's USCC (建设单位).
        owner_uscc: String,
        owner_name: String,
        location: String,
        floor_area_m2: f64,
        investment_wan: f64,
    },
    /// One submission of a stage's form started these cases, in parallel.
    StageStarted {
        stage: Stage,
        cases: Vec<StageCase>,
        /// The materials given with the submission (file names, uploaded files' ids and SHA-256, cited licences):
        /// kept by the project, so a later case that needs the same material has it without a second upload.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        materials: Vec<MaterialRef>,
        /// 代办: the owner's account when an assistant (the event's actor) submitted for them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf_of: Option<String>,
    },
    /// 代办员: the owner authorised a bureau assistant to act for the project.
    AssistantAuthorised {
        assistant: String,
    },
    AssistantRevoked {
        assistant: String,
    },
    /// 绿色通道: set by the bureau, with a reason; the stages' green limits apply from then on.
    GreenChannelSet {
        on: bool,
        reason: String,
    },
    /// 多评合一: the owner (or its assistant, `on_behalf_of` the owner) commissioned one intermediary to produce one
    /// report covering these assessments, each reviewed by its department.
    EvaluationCommissioned {
        parts: Vec<EvaluationPart>,
        intermediary: Intermediary,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf_of: Option<String>,
    },
    /// The combined report (or its revision) was submitted: a PDF uploaded, sealed, its SHA-256 set by the server.
    EvaluationReportSubmitted {
        report: ReportFile,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf_of: Option<String>,
    },
    /// A reviewing department reviewed its part of the latest report: passed, or returned for revision with a
    /// reason.
    AssessmentReviewed {
        kind: String,
        outcome: ReviewOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        reviewer: String,
    },
}

/// A stage of a project as started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageProgress {
    pub stage: Stage,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub started_at: Option<OffsetDateTime>,
    pub cases: Vec<StageCase>,
}

/// A project, folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectState {
    pub code: ProjectCode,
    pub name: String,
    pub project_type: ProjectType,
    pub owner_account: String,
    pub owner_uscc: String,
    pub owner_name: String,
    pub location: String,
    pub floor_area_m2: f64,
    pub investment_wan: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    pub assistants: Vec<String>,
    pub green_channel: bool,
    pub stages: Vec<StageProgress>,
    /// Every material given so far, the latest of each material id (材料一次提交，全程共用).
    pub materials: Vec<MaterialRef>,
    /// 多评合一: the combined evaluation, once commissioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    pub version: u64,
}

impl ProjectState {
    pub fn progress(&self, s: Stage) -> Option<&StageProgress> {
        self.stages.iter().find(|p| p.stage == s)
    }

    /// Every case of the project, with its item.
    pub fn cases(&self) -> impl Iterator<Item = &StageCase> {
        self.stages.iter().flat_map(|s| s.cases.iter())
    }
}

/// Fold one event into a project (`None` before registration). An event that does not fit is ignored: checks
/// happen before events are written.
pub fn apply(state: Option<ProjectState>, event: &ProjectEvent, at: OffsetDateTime) -> Option<ProjectState> {
    if let ProjectEvent::ProjectRegistered {
        code,
        name,
        project_type,
        owner_account,
        owner_uscc,
        owner_name,
        location,
        floor_area_m2,
        investment_wan,
    } = event
    {
        return Some(ProjectState {
            code: code.clone(),
            name: name.clone(),
            project_type: (**project_type).clone(),
            owner_account: owner_account.clone(),
            owner_uscc: owner_uscc.clone(),
            owner_name: owner_name.clone(),
            location: location.clone(),
            floor_area_m2: *floor_area_m2,
            investment_wan: *investment_wan,
            registered_at: at,
            assistants: Vec::new(),
            green_channel: false,
            stages: project_type
                .stages
                .iter()
                .map(|s| StageProgress { stage: s.stage, started_at: None, cases: Vec::new() })
                .collect(),
            materials: Vec::new(),
            evaluation: None,
            version: 1,
        });
    }
    let mut st = state?;
    st.version += 1;
    match event {
        ProjectEvent::ProjectRegistered { .. } => {}
        ProjectEvent::StageStarted { stage, cases, materials, .. } => {
            if let Some(p) = st.stages.iter_mut().find(|p| p.stage == *stage) {
                p.started_at.get_or_insert(at);
                p.cases.extend(cases.iter().cloned());
            }
            for m in materials {
                st.materials.retain(|x| x.material_id != m.material_id);
                st.materials.push(m.clone());
            }
        }
        ProjectEvent::AssistantAuthorised { assistant } => {
            if !st.assistants.contains(assistant) {
                st.assistants.push(assistant.clone());
            }
        }
        ProjectEvent::AssistantRevoked { assistant } => st.assistants.retain(|a| a != assistant),
        ProjectEvent::GreenChannelSet { on, .. } => st.green_channel = *on,
        ProjectEvent::EvaluationCommissioned { .. }
        | ProjectEvent::EvaluationReportSubmitted { .. }
        | ProjectEvent::AssessmentReviewed { .. } => {
            st.evaluation = Evaluation::apply(st.evaluation.take(), event, at);
        }
    }
    Some(st)
}

/// Why a project command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    #[error("stage {0} is not a stage of this project's type")]
    UnknownStage(String),
    #[error("stage {stage} waits for stage {waits_for} to complete (every case of it completed)")]
    EarlierStageOpen { stage: String, waits_for: String },
    #[error("nothing of stage {0} can start now: every item is started, or waits for one still running")]
    NothingToStart(String),
    #[error("an earlier case of this project was refused or withdrawn: {0}")]
    CaseNotCompleted(String),
}

impl ProjectError {
    pub fn code(&self) -> &'static str {
        match self {
            ProjectError::UnknownStage(_) => "unknown_stage",
            ProjectError::EarlierStageOpen { .. } => "earlier_stage_open",
            ProjectError::NothingToStart(_) => "nothing_to_start",
            ProjectError::CaseNotCompleted(_) => "case_not_completed",
        }
    }
}

/// Whether every item of a stage has a completed case.
fn stage_done(st: &ProjectState, def: &StageDef, status: &BTreeMap<String, String>) -> bool {
    def.items
        .iter()
        .all(|i| st.cases().any(|c| c.item == i.item && status.get(&c.case_no).is_some_and(|s| s == "completed")))
}

/// The items of `stage` a submission starts now: the earlier stages complete, and of this stage every item not
/// yet started whose `after` items have completed cases. `status`: each case of the project's status.
pub fn items_to_start(
    st: &ProjectState,
    stage: Stage,
    status: &BTreeMap<String, String>,
) -> Result<Vec<String>, ProjectError> {
    let def = st.project_type.stage(stage).ok_or_else(|| ProjectError::UnknownStage(stage.as_str().into()))?;
    for earlier in st.project_type.stages.iter().take_while(|s| s.stage != stage) {
        if !stage_done(st, earlier, status) {
            return Err(ProjectError::EarlierStageOpen {
                stage: stage.as_str().into(),
                waits_for: earlier.stage.as_str().into(),
            });
        }
    }
    let completed =
        |item: &str| st.cases().any(|c| c.item == item && status.get(&c.case_no).is_some_and(|s| s == "completed"));
    let running = |item: &str| {
        st.cases().any(|c| {
            c.item == item && status.get(&c.case_no).is_none_or(|s| !matches!(s.as_str(), "rejected" | "withdrawn"))
        })
    };
    let ready: Vec<String> = def
        .items
        .iter()
        .filter(|i| !running(&i.item) && i.after.iter().all(|a| completed(a)))
        .map(|i| i.item.clone())
        .collect();
    if ready.is_empty() {
        return Err(ProjectError::NothingToStart(stage.as_str().into()));
    }
    Ok(ready)
}

/// One case of a project as its clocks need it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseTimes {
    pub case_no: String,
    pub item: String,
    pub title: String,
    pub status: String,
    pub submitted_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// Working days not counted (§45), by kind: expert review, the applicant's own time (corrections), …
    pub excluded: BTreeMap<String, u32>,
}

/// Where a clock stands against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Not started.
    Waiting,
    /// Running, with more than a fifth of the limit left.
    Green,
    /// Running with a fifth or less of the limit left (the yellow alert of electronic supervision).
    Yellow,
    /// Past the limit.
    Red,
    /// Finished within the limit.
    Done,
    /// Finished past the limit.
    DoneLate,
}

/// A clock of a stage, or of the project from filing to a point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub limit_days: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Working days from the start to the end (or to now), the start day not counted.
    pub elapsed_days: u32,
    /// Of those, days not counted under §45, by kind (on the critical path).
    pub excluded: BTreeMap<String, u32>,
    /// Elapsed minus excluded: what counts against the limit.
    pub counted_days: u32,
    pub level: Level,
}

/// A stage's clock and the case on its critical path (the one that ended last, or is still running).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageClock {
    pub stage: Stage,
    pub name: String,
    pub name_en: String,
    #[serde(flatten)]
    pub span: Span,
    pub critical_case: Option<String>,
    pub cases: Vec<TimelineCase>,
}

/// A case on the project's timeline: when it ran, in working days from the project's filing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineCase {
    pub case_no: String,
    pub item: String,
    pub title: String,
    pub status: String,
    pub from_day: u32,
    pub to_day: u32,
    pub critical: bool,
}

/// Every clock of a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectClock {
    pub stages: Vec<StageClock>,
    /// Filing to the construction permit (the end of the 施工许可 stage).
    pub to_permit: Span,
    /// Filing to completion acceptance (the end of the 竣工验收 stage).
    pub whole: Span,
    /// Days the timeline spans (for drawing it).
    pub timeline_days: u32,
}

fn level(limit: u32, counted: u32, finished: bool, started: bool) -> Level {
    match (started, finished) {
        (false, _) => Level::Waiting,
        (true, true) if counted <= limit => Level::Done,
        (true, true) => Level::DoneLate,
        (true, false) if counted > limit => Level::Red,
        (true, false) if (limit - counted) * 5 <= limit => Level::Yellow,
        _ => Level::Green,
    }
}

fn add_excluded(into: &mut BTreeMap<String, u32>, from: &BTreeMap<String, u32>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn span(
    cal: &Calendar,
    limit: u32,
    start: Option<OffsetDateTime>,
    end: Option<OffsetDateTime>,
    now: OffsetDateTime,
    excluded: BTreeMap<String, u32>,
) -> Result<Span, CalendarError> {
    let elapsed = match start {
        Some(s) => cal.working_days_between(local_date(s), local_date(end.unwrap_or(now)))?,
        None => 0,
    };
    let counted = elapsed.saturating_sub(excluded.values().sum());
    Ok(Span {
        limit_days: limit,
        started_at: start,
        finished_at: end,
        elapsed_days: elapsed,
        counted_days: counted,
        level: level(limit, counted, end.is_some(), start.is_some()),
        excluded,
    })
}

/// The limit of a stage for this project: the green channel's where it is on.
pub fn stage_limit(st: &ProjectState, def: &StageDef) -> u32 {
    if st.green_channel {
        def.green_limit_days.unwrap_or(def.limit_days)
    } else {
        def.limit_days
    }
}

/// The limits of the project's two spans (to the permit, whole process): the green channel's — the sum of the
/// stages' green limits, never above the type's — where it is on.
pub fn span_limits(st: &ProjectState) -> (u32, u32) {
    if !st.green_channel {
        return (st.project_type.permit_limit_days, st.project_type.whole_limit_days);
    }
    let green_sum = |n: usize| -> u32 {
        st.project_type.stages.iter().take(n).map(|s| s.green_limit_days.unwrap_or(s.limit_days)).sum()
    };
    (
        st.project_type.permit_limit_days.min(green_sum(3).max(1)),
        st.project_type.whole_limit_days.min(green_sum(4).max(1)),
    )
}

/// What a stage's clock is made of: its cases, when it started and finished, and its critical case — the one
/// still running (the last of them in order) or, when none runs, the one that ended last.
struct StageFacts<'a> {
    mine: Vec<&'a CaseTimes>,
    started: Option<OffsetDateTime>,
    finished: Option<OffsetDateTime>,
    critical: Option<&'a CaseTimes>,
}

fn stage_facts<'a>(st: &ProjectState, def: &StageDef, cases: &'a [CaseTimes]) -> StageFacts<'a> {
    let mine: Vec<&CaseTimes> = st
        .progress(def.stage)
        .map(|p| p.cases.iter().filter_map(|c| cases.iter().find(|x| x.case_no == c.case_no)).collect())
        .unwrap_or_default();
    let live: Vec<&CaseTimes> =
        mine.iter().copied().filter(|c| !matches!(c.status.as_str(), "rejected" | "withdrawn")).collect();
    let all_started = def.items.iter().all(|i| live.iter().any(|c| c.item == i.item));
    let finished = (all_started && !live.is_empty() && live.iter().all(|c| c.status == "completed"))
        .then(|| live.iter().filter_map(|c| c.finished_at).max())
        .flatten();
    let critical = live.iter().copied().max_by_key(|c| (c.finished_at.is_none(), c.finished_at));
    StageFacts { started: st.progress(def.stage).and_then(|p| p.started_at), finished, critical, mine }
}

/// The project's clocks at `now`: each stage from its first submission to its last case's completion (its
/// critical case), and the project from its registration (the filing) to the end of the 施工许可 and 竣工验收
/// stages; §45 time counted apart on the critical path; limits the green channel's where it is on.
pub fn clock(
    st: &ProjectState,
    cases: &[CaseTimes],
    now: OffsetDateTime,
    cal: &Calendar,
) -> Result<ProjectClock, CalendarError> {
    let start = local_date(st.registered_at);
    let day_of = |t: OffsetDateTime| cal.working_days_between(start, local_date(t));
    let mut stages = Vec::new();
    let mut chain_excluded = BTreeMap::new();
    let mut permit_excluded = BTreeMap::new();
    let mut ends = Vec::new();
    for def in &st.project_type.stages {
        let StageFacts { mine, started, finished, critical } = stage_facts(st, def, cases);
        let excluded = critical.map(|c| c.excluded.clone()).unwrap_or_default();
        add_excluded(&mut chain_excluded, &excluded);
        if def.stage != Stage::Completion {
            add_excluded(&mut permit_excluded, &excluded);
        }
        let mut timeline = Vec::new();
        for c in &mine {
            timeline.push(TimelineCase {
                case_no: c.case_no.clone(),
                item: c.item.clone(),
                title: c.title.clone(),
                status: c.status.clone(),
                from_day: day_of(c.submitted_at)?,
                to_day: day_of(c.finished_at.unwrap_or(now))?,
                critical: critical.is_some_and(|k| k.case_no == c.case_no),
            });
        }
        ends.push(finished);
        stages.push(StageClock {
            stage: def.stage,
            name: def.name.clone(),
            name_en: def.name_en.clone(),
            span: span(cal, stage_limit(st, def), started, finished, now, excluded)?,
            critical_case: critical.map(|c| c.case_no.clone()),
            cases: timeline,
        });
    }
    let permit_end = ends.get(2).copied().flatten();
    let whole_end = ends.get(3).copied().flatten();
    let (permit_limit, whole_limit) = span_limits(st);
    // 多评合一: the intermediary's revision time is not counted either (§45), up to each span's end.
    let revisions = st.evaluation.as_ref().map(|e| e.revisions.as_slice()).unwrap_or_default();
    for (into, end) in [(&mut permit_excluded, permit_end), (&mut chain_excluded, whole_end)] {
        let days = revision_days(cal, revisions, end.unwrap_or(now), now)?;
        if days > 0 {
            *into.entry(INTERMEDIARY.to_string()).or_default() += days;
        }
    }
    let to_permit = span(cal, permit_limit, Some(st.registered_at), permit_end, now, permit_excluded)?;
    let whole = span(cal, whole_limit, Some(st.registered_at), whole_end, now, chain_excluded)?;
    Ok(ProjectClock { stages, to_permit, timeline_days: whole.elapsed_days.max(1), whole })
}

/// What a project alert is about: one of its stages, or one of its two spans from the filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertSpan {
    Stage(Stage),
    /// Filing to the construction permit.
    ToPermit,
    /// Filing to completion acceptance.
    Whole,
}

impl AlertSpan {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSpan::Stage(s) => s.as_str(),
            AlertSpan::ToPermit => "to-permit",
            AlertSpan::Whole => "whole",
        }
    }

    pub fn parse(s: &str) -> Option<AlertSpan> {
        match s {
            "to-permit" => Some(AlertSpan::ToPermit),
            "whole" => Some(AlertSpan::Whole),
            _ => Stage::parse(s).map(AlertSpan::Stage),
        }
    }
}

/// The level a project alert reports: yellow (a fifth or less of the limit left) or red (past it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertLevel {
    Yellow,
    Red,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Yellow => "yellow",
            AlertLevel::Red => "red",
        }
    }
}

/// The working days counted at which a clock of `limit` days turns yellow (a fifth or less left) and red (past
/// the limit) — the thresholds of [`Level`].
pub fn level_days(limit: u32) -> (u32, u32) {
    (limit - limit / 5, limit + 1)
}

/// The date a project alert falls due, and what it is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAlert {
    pub span: AlertSpan,
    pub level: AlertLevel,
    /// The Beijing date on which the clock reaches the level, if nothing more is excluded.
    pub on: Date,
    pub limit_days: u32,
    /// §45 days not counted so far (they push the date out).
    pub excluded_days: u32,
    /// The case the span waits for (the critical case of the stage, or of the stage running last).
    pub critical_case: Option<String>,
}

/// The dates the project's running clocks turn yellow and red: each started stage not finished, and the spans to
/// the permit and of the whole process while they run. A date is the working day on which the counted days
/// (elapsed less the §45 days excluded so far) reach the level's threshold, so [`clock`] shows the level from
/// that date on; excluded time pushes it out. A clock whose critical case is suspended now (§45 time running,
/// whose length is known only when it resumes) has no date until it resumes. Pure: no "now".
pub fn alert_dates(st: &ProjectState, cases: &[CaseTimes], cal: &Calendar) -> Result<Vec<DueAlert>, CalendarError> {
    let mut out = Vec::new();
    let push = |out: &mut Vec<DueAlert>,
                span: AlertSpan,
                from: OffsetDateTime,
                limit: u32,
                excluded: u32,
                critical: Option<&CaseTimes>|
     -> Result<(), CalendarError> {
        let (yellow, red) = level_days(limit);
        for (level, n) in [(AlertLevel::Yellow, yellow), (AlertLevel::Red, red)] {
            out.push(DueAlert {
                span,
                level,
                on: cal.add_working_days(local_date(from), n + excluded)?,
                limit_days: limit,
                excluded_days: excluded,
                critical_case: critical.map(|c| c.case_no.clone()),
            });
        }
        Ok(())
    };
    let suspended = |c: Option<&CaseTimes>| c.is_some_and(|c| c.status == "suspended");
    let mut permit = (0u32, false, None, None);
    let mut whole = (0u32, false, None, None);
    for def in &st.project_type.stages {
        let f = stage_facts(st, def, cases);
        let excluded: u32 = f.critical.map(|c| c.excluded.values().sum()).unwrap_or(0);
        for (acc, counts) in [(&mut permit, def.stage != Stage::Completion), (&mut whole, true)] {
            if counts {
                acc.0 += excluded;
                acc.1 |= suspended(f.critical);
                if f.started.is_some() {
                    acc.2 = f.critical;
                }
                acc.3 = f.finished;
            }
        }
        if let (Some(from), None) = (f.started, f.finished) {
            if !suspended(f.critical) {
                push(&mut out, AlertSpan::Stage(def.stage), from, stage_limit(st, def), excluded, f.critical)?;
            }
        }
    }
    let (permit_limit, whole_limit) = span_limits(st);
    // 多评合一: the intermediary's finished revisions push the spans' dates out as on the clock; a revision under way
    // (its length known only when the next report comes) leaves them without a date, as a suspension does.
    let revisions = st.evaluation.as_ref().map(|e| e.revisions.as_slice()).unwrap_or_default();
    let revising = revisions.iter().any(|r| r.to.is_none());
    let mut revised = 0;
    for r in revisions {
        if let Some(to) = r.to {
            revised += cal.working_days_between(local_date(r.from), local_date(to))?;
        }
    }
    for (span, (excluded, paused, critical, end), limit) in
        [(AlertSpan::ToPermit, permit, permit_limit), (AlertSpan::Whole, whole, whole_limit)]
    {
        if end.is_none() && !paused && !revising {
            push(&mut out, span, st.registered_at, limit, excluded + revised, critical)?;
        }
    }
    Ok(out)
}

/// The kind of excluded time of a combined evaluation's revisions (中介机构修改时间).
pub const INTERMEDIARY: &str = "intermediary";

/// Working days an intermediary spent revising (each revision from its return to the next report, or to now),
/// up to `end`.
pub fn revision_days(
    cal: &Calendar,
    revisions: &[crate::assessment::Revision],
    end: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<u32, CalendarError> {
    let mut days = 0;
    for r in revisions.iter().filter(|r| r.from < end) {
        let to = r.to.unwrap_or(now).min(end);
        days += cal.working_days_between(local_date(r.from), local_date(to))?;
    }
    Ok(days)
}

/// The name shown for a kind of excluded time.
pub fn excluded_kind(kind: SuspensionKind) -> &'static str {
    match kind {
        SuspensionKind::ExpertReview => "expert_review",
        SuspensionKind::AwaitingCorrection => "applicant",
        SuspensionKind::Hearing => "hearing",
        SuspensionKind::Tendering | SuspensionKind::Auction => "tendering",
        SuspensionKind::Inspection | SuspensionKind::Testing | SuspensionKind::Quarantine => "testing",
        SuspensionKind::Appraisal => "appraisal",
        SuspensionKind::Consultation => "consultation",
    }
}
