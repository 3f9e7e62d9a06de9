//! 多评合一 (combined assessments) of a construction project: the owner (or its assistant, recorded as on behalf
//! of the owner) commissions one intermediary to produce one report covering several assessments, submits the
//! report (an uploaded PDF, sealed at rest, its SHA-256 set from the stored bytes), and each reviewing department
//! reviews its part once — passing it, or returning it for revision. Once every part passed, the report stands for
//! the materials of the project's later cases that are the report of one of its assessments (`projects::start_stage`
//! carries it, 免提交).
//!
//! Every command is one event on the project's stream (`project-{code}`), checked by
//! `oneseal_domain::assessment` and folded into `ProjectState::evaluation` by the project's projection.

use std::collections::BTreeSet;

use oneseal_domain::assessment::{self, Assessments, Evaluation, ReportFile, ReviewOutcome};
use oneseal_domain::project::{self as domain_project, ProjectCode, ProjectState};
use oneseal_domain::roles::{Actor, Role};
use serde::{Deserialize, Serialize};

use crate::attachments::AttachmentView;
use crate::catalog::CatalogView;
use crate::projects::{may_act, may_see, owner_acts, parse_code, state_of, stream_of};
use crate::{App, AppError};

/// The assessments compiled in from `catalog/assessments.toml` (none when the file is absent).
pub fn builtin_assessments() -> Result<Assessments, AppError> {
    match crate::catalog::DEMO_CATALOG.iter().find(|(p, _)| *p == "assessments.toml") {
        Some((_, text)) => Assessments::parse(text).map_err(|e| AppError::invalid("catalog_invalid", e)),
        None => Ok(Assessments::default()),
    }
}

/// What the owner gives to commission a combined evaluation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommissionRequest {
    /// The assessments covered (ids of `catalog/assessments.toml`), at least two.
    pub assessments: Vec<String>,
    pub intermediary_name: String,
    pub intermediary_uscc: String,
}

/// An assessment the project's type needs: which items ask for its report, and who reviews it.
#[derive(Debug, Clone, Serialize)]
pub struct NeededAssessment {
    pub kind: String,
    pub name: String,
    pub name_en: String,
    pub department: String,
    pub department_name: String,
    /// The names of the items of the project's type with a material that is this assessment's report.
    pub items: Vec<String>,
}

/// A project's combined evaluation as the owner, its assistants, the reviewing departments and supervisors see it.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationView {
    pub code: String,
    pub evaluation: Option<Evaluation>,
    /// The assessments the project's type needs (what a commission may cover).
    pub assessments: Vec<NeededAssessment>,
    /// Working days the intermediary has spent revising (not counted, §45).
    pub revision_days: u32,
}

/// The assessments the items of a project's type need, from the catalog's latest item versions.
pub fn needed(view: &CatalogView, list: &Assessments, st: &ProjectState) -> Vec<NeededAssessment> {
    let mut out: Vec<NeededAssessment> = Vec::new();
    for code in st.project_type.items() {
        let Some(p) = view.latest_item(code) else { continue };
        for kind in p.body.materials.iter().filter_map(|m| m.assessment.as_deref()) {
            let Some(def) = list.get(kind) else { continue };
            let i = match out.iter().position(|n| n.kind == kind) {
                Some(i) => i,
                None => {
                    out.push(NeededAssessment {
                        kind: kind.into(),
                        name: def.name.clone(),
                        name_en: def.name_en.clone(),
                        department: def.department.as_str().into(),
                        department_name: view.department_name(def.department.as_str()),
                        items: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            if !out[i].items.contains(&p.body.name) {
                out[i].items.push(p.body.name.clone());
            }
        }
    }
    out
}

/// The staff of a department reviewing a part of the project's evaluation (they see the project).
pub(crate) fn reviews_part(actor: &Actor, st: &ProjectState) -> bool {
    actor.is_staff()
        && actor
            .department
            .as_ref()
            .is_some_and(|d| st.evaluation.as_ref().is_some_and(|e| e.parts.iter().any(|p| &p.part.department == d)))
}

impl App {
    /// A project the actor sees (404 otherwise).
    async fn visible_project(&self, actor: &Actor, code: &ProjectCode) -> Result<ProjectState, AppError> {
        let c = code.clone();
        let row = self.store.read(move |db| db.project(c.as_str()).map_err(AppError::from)).await?;
        let st =
            row.as_ref().map(state_of).transpose()?.ok_or_else(|| AppError::NotFound(format!("project {code}")))?;
        if !may_see(actor, &st) {
            return Err(AppError::NotFound(format!("project {code}")));
        }
        Ok(st)
    }

    /// The project's combined evaluation, with the assessments its type needs.
    pub async fn evaluation_view(&self, actor: &Actor, code: &str) -> Result<EvaluationView, AppError> {
        let code = parse_code(code)?;
        let st = self.visible_project(actor, &code).await?;
        let revision_days = match &st.evaluation {
            Some(e) => domain_project::revision_days(&self.calendar(), &e.revisions, self.now(), self.now())?,
            None => 0,
        };
        Ok(EvaluationView {
            code: code.to_string(),
            assessments: needed(&self.catalog(), &builtin_assessments()?, &st),
            evaluation: st.evaluation,
            revision_days,
        })
    }

    /// 委托多评合一: the owner (or its assistant) commissions one intermediary for several assessments.
    pub async fn commission_evaluation(
        &self,
        actor: &Actor,
        code: &str,
        req: CommissionRequest,
    ) -> Result<ProjectState, AppError> {
        let (list, view) = (builtin_assessments()?, self.catalog());
        self.project_command(actor, code, move |_, actor, st| {
            check_acts(actor, st)?;
            let needed: BTreeSet<String> = needed(&view, &list, st).into_iter().map(|n| n.kind).collect();
            let on_behalf_of = (!owner_acts(actor, st)).then(|| st.owner_account.clone());
            Ok(assessment::commission(
                st.evaluation.as_ref(),
                &req.assessments,
                &list,
                &needed,
                &req.intermediary_name,
                &req.intermediary_uscc,
                on_behalf_of,
            )?)
        })
        .await
    }

    /// The combined report (or its revision): a file the caller uploaded, a PDF. Its SHA-256 is the stored file's;
    /// the file is bound to the project (kept, no longer counted against the uploader's quota).
    pub async fn submit_evaluation_report(
        &self,
        actor: &Actor,
        code: &str,
        attachment: &str,
    ) -> Result<ProjectState, AppError> {
        let id = attachment.trim().to_string();
        self.project_command(actor, code, move |db, actor, st| {
            check_acts(actor, st)?;
            let file = db
                .attachment(&id)?
                .filter(|r| r.owner == actor.id && id.len() <= 100)
                .ok_or_else(|| AppError::invalid("unknown_attachment", format!("no uploaded file {id} of yours")))?;
            let on_behalf_of = (!owner_acts(actor, st)).then(|| st.owner_account.clone());
            let report = ReportFile { attachment: file.id.clone(), file_name: file.file_name, sha256: file.sha256 };
            let event = assessment::submit_report(st.evaluation.as_ref(), report, &file.content_type, on_behalf_of)?;
            // Kept with the project: never cleaned up, no longer counted against the uploader's quota.
            db.bind_attachment(&file.id, &stream_of(&st.code))?;
            Ok(event)
        })
        .await
    }

    /// A reviewing department's review of its part of the latest report: `passed`, or `returned` with a reason.
    pub async fn review_assessment(
        &self,
        actor: &Actor,
        code: &str,
        kind: &str,
        outcome: &str,
        reason: &str,
    ) -> Result<ProjectState, AppError> {
        let outcome = ReviewOutcome::parse(outcome.trim()).ok_or_else(|| {
            AppError::invalid("review_outcome", "the outcome of a review is \"passed\" or \"returned\"")
        })?;
        let (kind, reason) = (kind.to_string(), reason.to_string());
        self.project_command(actor, code, move |_, actor, st| {
            if !(actor.has(Role::Reviewer) || actor.has(Role::Approver)) {
                return Err(AppError::Forbidden(
                    "a part of a combined evaluation is reviewed by its department's reviewers".into(),
                ));
            }
            let d = actor.department.as_ref();
            Ok(assessment::review(st.evaluation.as_ref(), &kind, d, outcome, &reason, &actor.id)?)
        })
        .await
    }

    /// A version of the combined report (the latest without `round`), for those who see the evaluation.
    pub async fn evaluation_report(
        &self,
        actor: &Actor,
        code: &str,
        round: Option<u32>,
    ) -> Result<(AttachmentView, Vec<u8>), AppError> {
        let code = parse_code(code)?;
        let st = self.visible_project(actor, &code).await?;
        let nf = || AppError::NotFound(format!("the combined evaluation report of project {code}"));
        let ev = st.evaluation.as_ref().ok_or_else(nf)?;
        let report = match round {
            Some(r) => ev.reports.iter().find(|x| x.round == r),
            None => ev.report(),
        }
        .ok_or_else(nf)?;
        let id = report.file.attachment.clone();
        let file = self.store.read(move |db| db.attachment(&id).map_err(AppError::from)).await?.ok_or_else(nf)?;
        let bytes = self.open_bytes(&file.sealed)?;
        Ok((AttachmentView::from(&file), bytes))
    }
}

/// The owner's people and its assistants act for the project; others who see it get 403.
fn check_acts(actor: &Actor, st: &ProjectState) -> Result<(), AppError> {
    if !may_act(actor, st) {
        return Err(AppError::Forbidden(
            "only the owner, or an assistant it authorised, commissions the evaluation and submits its report".into(),
        ));
    }
    Ok(())
}
