//! 多评合一 (combined assessments): a construction project's owner commissions one intermediary (中介机构) to
//! produce one report covering several assessments (环境影响评价, 水土保持方案, 节能审查, …; 国办发〔2019〕11号),
//! each reviewing department reviews its part once — passing it, or returning it for revision with a reason —
//! and once every part has passed, the report stands for every material of the project's later cases that is the
//! report of one of its assessments (免提交).
//!
//! Pure: which assessments exist is data (`catalog/assessments.toml`, `Assessments`); the commission, the report
//! and each review are checked here (`commission`, `submit_report`, `review`) and become `ProjectEvent`s, folded
//! into the project's `Evaluation` by `Evaluation::apply`. The intermediary's revision time (from the first return
//! of a report to the next report) is time not counted under 行政许可法 §45: `Evaluation::revisions`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::catalog::{CatalogError, CatalogSet};
use crate::ids::{DepartmentId, IdError, Uscc};
use crate::project::ProjectEvent;

/// An assessment a project may need (评估评价事项) and the department that reviews its part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentDef {
    /// Stable id, lowercase letters, digits and hyphens: `eia`, `soil-water`, …
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// The department that reviews this part of a combined report.
    pub department: DepartmentId,
    /// Where the assessment is required.
    pub basis: Vec<String>,
}

/// The list of assessments (`catalog/assessments.toml`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessments {
    #[serde(rename = "assessment", default)]
    pub list: Vec<AssessmentDef>,
}

impl Assessments {
    /// Parse and check the list: ids well formed and unique, names and basis given.
    pub fn parse(text: &str) -> Result<Assessments, String> {
        let a: Assessments = toml::from_str(text).map_err(|e| format!("assessments.toml: {e}"))?;
        let mut seen = BTreeSet::new();
        for d in &a.list {
            let ok = !d.id.is_empty()
                && d.id.len() <= 40
                && d.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(format!("assessments.toml: id {:?} is 1–40 lowercase letters, digits and hyphens", d.id));
            }
            if !seen.insert(d.id.as_str()) {
                return Err(format!("assessments.toml: assessment {} appears twice", d.id));
            }
            if d.name.trim().is_empty() || d.basis.is_empty() {
                return Err(format!("assessments.toml: assessment {} needs a name and its basis", d.id));
            }
        }
        Ok(a)
    }

    pub fn get(&self, id: &str) -> Option<&AssessmentDef> {
        self.list.iter().find(|d| d.id == id)
    }

    /// A catalog fits the list: every material's `assessment` is a listed one whose reviewing department is a
    /// department of the catalog.
    pub fn check_catalog(&self, set: &CatalogSet) -> Result<(), CatalogError> {
        let departments = set.department_ids();
        for item in set.items.values() {
            for m in &item.materials {
                let Some(a) = m.assessment.as_deref() else { continue };
                let problem = match self.get(a) {
                    None => format!("material {}: unknown assessment {a:?} (not in assessments.toml)", m.id),
                    Some(d) if !departments.contains(&d.department) => format!(
                        "material {}: assessment {a} is reviewed by department {}, which is not in the catalog",
                        m.id,
                        d.department.as_str()
                    ),
                    Some(_) => continue,
                };
                return Err(CatalogError { subject: item.impl_code.as_str().to_string(), problem });
            }
        }
        Ok(())
    }
}

/// The intermediary organisation commissioned (中介机构): its name and USCC, checked with its check character.
/// Choosing it fairly from a directory (中介超市) is a separate subsystem; here the owner names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intermediary {
    pub name: String,
    pub uscc: Uscc,
}

/// One assessment covered by a commissioned evaluation, as commissioned (names copied, so the fold needs no
/// catalog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationPart {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub department: DepartmentId,
}

/// The report's file: an uploaded PDF (sealed at rest), its SHA-256 set by the server from the stored bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFile {
    pub attachment: String,
    pub file_name: String,
    pub sha256: String,
}

/// A department's review of its part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// 审查通过
    Passed,
    /// 退回修改: the intermediary revises the report (a reason is given).
    Returned,
}

impl ReviewOutcome {
    pub fn parse(s: &str) -> Option<ReviewOutcome> {
        match s {
            "passed" => Some(ReviewOutcome::Passed),
            "returned" => Some(ReviewOutcome::Returned),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Passed => "passed",
            ReviewOutcome::Returned => "returned",
        }
    }
}

/// Where a part stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    /// Commissioned; no report yet.
    AwaitingReport,
    /// A report is in; its department has not reviewed it.
    UnderReview,
    /// Returned for revision; the intermediary revises.
    Returned,
    /// Passed: stands for the materials of this assessment once every part passed.
    Passed,
}

impl PartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PartStatus::AwaitingReport => "awaiting_report",
            PartStatus::UnderReview => "under_review",
            PartStatus::Returned => "returned",
            PartStatus::Passed => "passed",
        }
    }
}

/// A review as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub outcome: ReviewOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub reviewer: String,
    /// The report version reviewed (1 the first report, 2 its first revision, …).
    pub round: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A part of an evaluation with its reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartState {
    #[serde(flatten)]
    pub part: EvaluationPart,
    pub status: PartStatus,
    pub reviews: Vec<Review>,
}

/// A version of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportVersion {
    #[serde(flatten)]
    pub file: ReportFile,
    pub round: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// 代办: the owner's account when an assistant submitted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

/// The intermediary's revision time: from the first return of a report version to the next version (open while
/// it revises). Not counted under §45.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub to: Option<OffsetDateTime>,
}

/// A project's combined evaluation (多评合一), folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    #[serde(with = "time::serde::rfc3339")]
    pub commissioned_at: OffsetDateTime,
    pub intermediary: Intermediary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    pub parts: Vec<PartState>,
    pub reports: Vec<ReportVersion>,
    pub revisions: Vec<Revision>,
}

impl Evaluation {
    /// The latest report.
    pub fn report(&self) -> Option<&ReportVersion> {
        self.reports.last()
    }

    /// Every part passed: the report stands for its assessments.
    pub fn passed(&self) -> bool {
        !self.parts.is_empty() && self.parts.iter().all(|p| p.status == PartStatus::Passed)
    }

    pub fn part(&self, kind: &str) -> Option<&PartState> {
        self.parts.iter().find(|p| p.part.kind == kind)
    }

    /// The report that stands for a material of assessment `kind` (免提交): the latest, once every part passed.
    pub fn stands_for(&self, kind: &str) -> Option<&ReportVersion> {
        (self.passed() && self.part(kind).is_some()).then(|| self.report()).flatten()
    }

    /// Fold one of the evaluation's events (`None` before it is commissioned). Events that do not fit are ignored:
    /// checks happen before events are written.
    pub fn apply(ev: Option<Evaluation>, event: &ProjectEvent, at: OffsetDateTime) -> Option<Evaluation> {
        if let ProjectEvent::EvaluationCommissioned { parts, intermediary, on_behalf_of } = event {
            return Some(Evaluation {
                commissioned_at: at,
                intermediary: intermediary.clone(),
                on_behalf_of: on_behalf_of.clone(),
                parts: parts
                    .iter()
                    .map(|p| PartState { part: p.clone(), status: PartStatus::AwaitingReport, reviews: Vec::new() })
                    .collect(),
                reports: Vec::new(),
                revisions: Vec::new(),
            });
        }
        let mut e = ev?;
        match event {
            ProjectEvent::EvaluationReportSubmitted { report, on_behalf_of } => {
                let round = e.reports.len() as u32 + 1;
                e.reports.push(ReportVersion { file: report.clone(), round, at, on_behalf_of: on_behalf_of.clone() });
                for p in &mut e.parts {
                    if matches!(p.status, PartStatus::AwaitingReport | PartStatus::Returned) {
                        p.status = PartStatus::UnderReview;
                    }
                }
                if let Some(r) = e.revisions.last_mut().filter(|r| r.to.is_none()) {
                    r.to = Some(at);
                }
            }
            ProjectEvent::AssessmentReviewed { kind, outcome, reason, reviewer } => {
                let round = e.reports.len() as u32;
                if let Some(p) = e.parts.iter_mut().find(|p| &p.part.kind == kind) {
                    p.status = match outcome {
                        ReviewOutcome::Passed => PartStatus::Passed,
                        ReviewOutcome::Returned => PartStatus::Returned,
                    };
                    p.reviews.push(Review {
                        outcome: *outcome,
                        reason: reason.clone(),
                        reviewer: reviewer.clone(),
                        round,
                        at,
                    });
                }
                if *outcome == ReviewOutcome::Returned && e.revisions.last().is_none_or(|r| r.to.is_some()) {
                    e.revisions.push(Revision { from: at, to: None });
                }
            }
            _ => {}
        }
        Some(e)
    }
}

/// Why a command of a combined evaluation is refused. Each has a stable code, an HTTP status and a Chinese title.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    #[error("a combined evaluation covers at least two assessments")]
    TooFew,
    #[error("assessment {0} is named twice")]
    Repeated(String),
    #[error("there is no assessment {0}")]
    Unknown(String),
    #[error("assessment {0} is not needed by any item of this project's type")]
    NotNeeded(String),
    #[error("the intermediary's name is 1–200 characters")]
    IntermediaryName,
    #[error("the intermediary's unified social credit code is not valid: {0}")]
    IntermediaryUscc(IdError),
    #[error("this project has commissioned its combined evaluation already")]
    Exists,
    #[error("this project has not commissioned a combined evaluation")]
    Missing,
    #[error("the report is a PDF file")]
    ReportNotPdf,
    #[error("no part of the evaluation waits for a report (every part is under review or passed)")]
    ReportNotAwaited,
    #[error("the evaluation does not cover assessment {0}")]
    NotCovered(String),
    #[error("assessment {0} is reviewed by another department")]
    NotYourPart(String),
    #[error("assessment {0} is not waiting for a review (no report yet, returned, or passed)")]
    NotUnderReview(String),
    #[error("a report returned for revision needs the reason (1–2000 characters)")]
    ReasonRequired,
    #[error("the reason is at most 2000 characters")]
    ReasonTooLong,
}

impl EvaluationError {
    pub fn code(&self) -> &'static str {
        match self {
            EvaluationError::TooFew => "assessments_too_few",
            EvaluationError::Repeated(_) => "assessment_repeated",
            EvaluationError::Unknown(_) => "assessment_unknown",
            EvaluationError::NotNeeded(_) => "assessment_not_needed",
            EvaluationError::IntermediaryName => "intermediary_name",
            EvaluationError::IntermediaryUscc(_) => "intermediary_uscc",
            EvaluationError::Exists => "evaluation_exists",
            EvaluationError::Missing => "evaluation_missing",
            EvaluationError::ReportNotPdf => "report_not_pdf",
            EvaluationError::ReportNotAwaited => "report_not_awaited",
            EvaluationError::NotCovered(_) => "assessment_not_covered",
            EvaluationError::NotYourPart(_) => "not_your_assessment",
            EvaluationError::NotUnderReview(_) => "assessment_not_under_review",
            EvaluationError::ReasonRequired => "reason_required",
            EvaluationError::ReasonTooLong => "reason_too_long",
        }
    }

    /// 403 for another department's part, 409 for a command the evaluation's state does not allow now, else 422.
    pub fn status(&self) -> u16 {
        match self {
            EvaluationError::NotYourPart(_) => 403,
            EvaluationError::Exists
            | EvaluationError::Missing
            | EvaluationError::ReportNotAwaited
            | EvaluationError::NotUnderReview(_) => 409,
            _ => 422,
        }
    }

    /// The problem named in Chinese (the English is the Display text).
    pub fn title_zh(&self) -> &'static str {
        match self {
            EvaluationError::TooFew => "多评合一至少包含两项评估评价",
            EvaluationError::Repeated(_) => "评估评价事项重复",
            EvaluationError::Unknown(_) => "没有该评估评价事项",
            EvaluationError::NotNeeded(_) => "本项目类型的审批事项不需要该评估评价",
            EvaluationError::IntermediaryName => "请填写中介机构名称（不超过200字）",
            EvaluationError::IntermediaryUscc(_) => "中介机构统一社会信用代码有误",
            EvaluationError::Exists => "本项目已委托多评合一",
            EvaluationError::Missing => "本项目尚未委托多评合一",
            EvaluationError::ReportNotPdf => "评估报告须为 PDF 文件",
            EvaluationError::ReportNotAwaited => "评估报告正在审查或已全部通过，无需提交",
            EvaluationError::NotCovered(_) => "本次多评合一不包含该评估评价",
            EvaluationError::NotYourPart(_) => "该部分由其他部门审查",
            EvaluationError::NotUnderReview(_) => "该部分当前不在待审查状态",
            EvaluationError::ReasonRequired => "退回修改须说明理由",
            EvaluationError::ReasonTooLong => "理由不超过2000字",
        }
    }
}

/// Check a commission: at least two assessments, each listed once, each needed by an item of the project's type
/// (`needed`), none commissioned before; the intermediary named, its USCC valid with its check character.
pub fn commission(
    existing: Option<&Evaluation>,
    kinds: &[String],
    list: &Assessments,
    needed: &BTreeSet<String>,
    intermediary_name: &str,
    intermediary_uscc: &str,
    on_behalf_of: Option<String>,
) -> Result<ProjectEvent, EvaluationError> {
    if existing.is_some() {
        return Err(EvaluationError::Exists);
    }
    let mut parts: Vec<EvaluationPart> = Vec::new();
    for k in kinds {
        let k = k.trim();
        let def = list.get(k).ok_or_else(|| EvaluationError::Unknown(k.chars().take(40).collect()))?;
        if parts.iter().any(|p| p.kind == k) {
            return Err(EvaluationError::Repeated(k.into()));
        }
        if !needed.contains(k) {
            return Err(EvaluationError::NotNeeded(k.into()));
        }
        parts.push(EvaluationPart {
            kind: k.into(),
            name: def.name.clone(),
            name_en: def.name_en.clone(),
            department: def.department.clone(),
        });
    }
    if parts.len() < 2 {
        return Err(EvaluationError::TooFew);
    }
    let name = intermediary_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(EvaluationError::IntermediaryName);
    }
    let uscc = Uscc::parse(intermediary_uscc.trim()).map_err(EvaluationError::IntermediaryUscc)?;
    Ok(ProjectEvent::EvaluationCommissioned {
        parts,
        intermediary: Intermediary { name: name.into(), uscc },
        on_behalf_of,
    })
}

/// Check a report: an evaluation commissioned, a part waiting for a report (the first one, or one returned), and
/// the file a PDF (its type as the server sniffed it from the bytes).
pub fn submit_report(
    ev: Option<&Evaluation>,
    report: ReportFile,
    content_type: &str,
    on_behalf_of: Option<String>,
) -> Result<ProjectEvent, EvaluationError> {
    let ev = ev.ok_or(EvaluationError::Missing)?;
    if !ev.parts.iter().any(|p| matches!(p.status, PartStatus::AwaitingReport | PartStatus::Returned)) {
        return Err(EvaluationError::ReportNotAwaited);
    }
    if content_type != "application/pdf" {
        return Err(EvaluationError::ReportNotPdf);
    }
    Ok(ProjectEvent::EvaluationReportSubmitted { report, on_behalf_of })
}

/// Check a review: the part is covered, it is the reviewer's department's, it waits for a review, and a return
/// has its reason (at most 2000 characters).
pub fn review(
    ev: Option<&Evaluation>,
    kind: &str,
    department: Option<&DepartmentId>,
    outcome: ReviewOutcome,
    reason: &str,
    reviewer: &str,
) -> Result<ProjectEvent, EvaluationError> {
    let ev = ev.ok_or(EvaluationError::Missing)?;
    let part = ev.part(kind).ok_or_else(|| EvaluationError::NotCovered(kind.chars().take(40).collect()))?;
    if department != Some(&part.part.department) {
        return Err(EvaluationError::NotYourPart(kind.into()));
    }
    if part.status != PartStatus::UnderReview {
        return Err(EvaluationError::NotUnderReview(kind.into()));
    }
    let reason = reason.trim();
    if reason.chars().count() > 2000 {
        return Err(EvaluationError::ReasonTooLong);
    }
    let reason = match outcome {
        ReviewOutcome::Returned if reason.is_empty() => return Err(EvaluationError::ReasonRequired),
        _ if reason.is_empty() => None,
        _ => Some(reason.to_string()),
    };
    Ok(ProjectEvent::AssessmentReviewed { kind: kind.into(), outcome, reason, reviewer: reviewer.into() })
}
