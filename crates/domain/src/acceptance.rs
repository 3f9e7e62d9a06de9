//! 联合验收 (joint completion acceptance): each department's checklist (验收清单) on one joint visit.
//!
//! An inspection step whose checklist entries name their department (`department = "fire"` on a
//! `[[process.steps.checklist]]` entry) is inspected by checklist: the step lists the departments (one task each,
//! as a 联合踏勘 within one case has), the lead schedules one visit or live video session, and each department
//! records on its own task a result for each of *its* entries — passed or failed, a note when failed — with its
//! findings (`findings_recorded` with `checklist`). The lead's joint result (`joint_result_recorded`) then either
//! moves the case on (every entry passed: the tasks complete with the findings) or names the failed entries and
//! asks the applicant to correct them (整改): the clock stops (§45, the applicant's own time) until the applicant
//! reports the correction (`rectification_reported`, the clock runs again); the departments whose entries failed
//! check those entries again, and the lead records the joint result again.
//!
//! Everything is a case event checked here for [`crate::case::decide`] and folded into
//! [`crate::inspection::InspectionRecord`]: no side table, so the trail, rebuild, transparency log and ETag cover it.

use serde::{Deserialize, Serialize};

use crate::case::{CaseError, CurrentStep, Task, TaskStatus};
use crate::catalog::{ChecklistItem, StepDef};
use crate::ids::DepartmentId;
use crate::inspection::InspectionRecord;

/// The longest note on an entry, in characters.
pub const MAX_NOTE: usize = 500;

/// One department's result for one entry of its checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryResult {
    /// The checklist entry's id.
    pub item: String,
    pub passed: bool,
    /// What was found (required when the entry failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A checklist entry that failed at the latest check, and the department that owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedEntry {
    pub item: String,
    pub department: DepartmentId,
}

/// 整改: the entries the applicant corrects, and the applicant's report that they are corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    pub failed: Vec<FailedEntry>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: time::OffsetDateTime,
    /// The joint result stopped the clock for the correction (it did not stand already).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub reported_at: Option<time::OffsetDateTime>,
}

/// Whether the step is inspected by checklist: its entries name their departments.
pub fn by_checklist(sdef: &StepDef) -> bool {
    sdef.checklist.iter().any(|c| c.department.is_some())
}

/// The entries of the step's checklist that `dept` checks.
pub fn entries_of<'a>(sdef: &'a StepDef, dept: &'a DepartmentId) -> impl Iterator<Item = &'a ChecklistItem> + 'a {
    sdef.checklist.iter().filter(move |c| c.department.as_ref() == Some(dept))
}

/// The check round: 1 at the visit, one more after each correction the applicant reported.
pub fn round(rec: Option<&InspectionRecord>) -> u32 {
    1 + rec.map(|r| r.rectifications.iter().filter(|x| x.report.is_some()).count() as u32).unwrap_or(0)
}

/// A correction is asked for and the applicant has not reported it yet.
pub fn awaiting_correction(rec: Option<&InspectionRecord>) -> bool {
    rec.and_then(|r| r.rectifications.last()).is_some_and(|x| x.report.is_none())
}

/// The entries `dept` checks in the current round: all of its own at the visit, then those of its entries that
/// the last correction was asked for.
fn awaited_entries(sdef: &StepDef, rec: Option<&InspectionRecord>, dept: &DepartmentId) -> Vec<String> {
    match rec.and_then(|r| r.rectifications.last()).filter(|_| round(rec) > 1) {
        None => entries_of(sdef, dept).map(|c| c.id.clone()).collect(),
        Some(x) => x.failed.iter().filter(|f| &f.department == dept).map(|f| f.item.clone()).collect(),
    }
}

/// The entries `dept` records now on its task `task_id` (none once it recorded in this round): what the workbench's
/// checklist form asks for.
pub fn to_record<'a>(
    sdef: &'a StepDef,
    rec: Option<&InspectionRecord>,
    dept: &DepartmentId,
    task_id: &str,
) -> Vec<&'a ChecklistItem> {
    let now = round(rec);
    if rec.is_some_and(|r| r.findings.iter().any(|f| f.task_id == task_id && f.round == now)) {
        return vec![];
    }
    let awaited = awaited_entries(sdef, rec, dept);
    sdef.checklist.iter().filter(|c| awaited.contains(&c.id)).collect()
}

/// Check a department's results on its task `task_id` for the current round; `Ok(true)` when every entry passed.
///
/// Refused: findings already recorded on the task in this round (409), an entry of another department (403), an
/// entry unknown, repeated or not awaited in this round, or one missing (422, naming them), a failed entry
/// without a note (422).
pub fn check_results(
    sdef: &StepDef,
    rec: Option<&InspectionRecord>,
    dept: &DepartmentId,
    task_id: &str,
    results: &[EntryResult],
) -> Result<bool, CaseError> {
    let now = round(rec);
    let awaited = awaited_entries(sdef, rec, dept);
    let recorded = rec.is_some_and(|r| r.findings.iter().any(|f| f.task_id == task_id && f.round == now));
    if recorded || awaited.is_empty() {
        return Err(CaseError::FindingsAlreadyRecorded);
    }
    let mut seen = std::collections::BTreeSet::new();
    let (mut unknown, mut theirs) = (Vec::new(), Vec::new());
    for r in results {
        match sdef.checklist.iter().find(|c| c.id == r.item) {
            Some(c) if c.department.as_ref() != Some(dept) => theirs.push(r.item.clone()),
            Some(_) if seen.insert(r.item.as_str()) && awaited.contains(&r.item) => {}
            _ => unknown.push(r.item.clone()),
        }
    }
    if !theirs.is_empty() {
        return Err(CaseError::ChecklistNotYours(theirs));
    }
    let missing: Vec<String> = awaited.iter().filter(|a| !seen.contains(a.as_str())).cloned().collect();
    if !unknown.is_empty() || !missing.is_empty() {
        return Err(CaseError::ChecklistEntries { unknown, missing });
    }
    let no_note: Vec<String> = results
        .iter()
        .filter(|r| !r.passed && r.note.as_deref().is_none_or(|n| n.trim().is_empty()))
        .map(|r| r.item.clone())
        .collect();
    if !no_note.is_empty() {
        return Err(CaseError::ChecklistNoteMissing(no_note));
    }
    if results.iter().any(|r| r.note.as_deref().is_some_and(|n| n.chars().count() > MAX_NOTE)) {
        return Err(CaseError::TooLong { what: "note", max: MAX_NOTE });
    }
    Ok(results.iter().all(|r| r.passed))
}

/// The entries whose latest result failed, in the checklist's order.
pub fn failed_entries(sdef: &StepDef, rec: Option<&InspectionRecord>) -> Vec<FailedEntry> {
    let findings = rec.map(|r| r.findings.as_slice()).unwrap_or(&[]);
    sdef.checklist
        .iter()
        .filter_map(|c| {
            let latest = findings.iter().rev().flat_map(|f| f.checklist.iter()).find(|e| e.item == c.id)?;
            match (&c.department, latest.passed) {
                (Some(d), false) => Some(FailedEntry { item: c.id.clone(), department: d.clone() }),
                _ => None,
            }
        })
        .collect()
}

/// The open tasks whose department still has to record in this round (named `task (department)`).
pub fn awaited_tasks(sdef: &StepDef, step: &CurrentStep, rec: Option<&InspectionRecord>) -> Vec<String> {
    let now = round(rec);
    step.tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Open)
        .filter(|t| {
            let Some(d) = &t.department else { return false };
            !awaited_entries(sdef, rec, d).is_empty()
                && !rec.is_some_and(|r| r.findings.iter().any(|f| f.task_id == t.task_id && f.round == now))
        })
        .map(name_task)
        .collect()
}

/// A task as named in a refusal: `t3 (fire)`.
pub fn name_task(t: &Task) -> String {
    format!("{} ({})", t.task_id, t.department.as_ref().map(|d| d.as_str()).unwrap_or("-"))
}

/// One entry's outcome for the sealed opinion: the latest check, and whether it failed first and was corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryOutcome {
    pub item: String,
    pub name: String,
    pub department: DepartmentId,
    pub passed: bool,
    /// It failed at an earlier check and passed after the correction.
    pub corrected: bool,
    pub note: Option<String>,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// Every checked entry's outcome in the checklist's order (what each department checked, passed or failed, by
/// whom and when): what the joint acceptance opinion carries.
pub fn outcomes(checklist: &[ChecklistItem], rec: Option<&InspectionRecord>) -> Vec<EntryOutcome> {
    let findings = rec.map(|r| r.findings.as_slice()).unwrap_or(&[]);
    checklist
        .iter()
        .filter_map(|c| {
            let mut checks =
                findings.iter().flat_map(|f| f.checklist.iter().map(move |e| (f, e))).filter(|(_, e)| e.item == c.id);
            let first = checks.next()?;
            let (f, e) = checks.last().unwrap_or(first);
            Some(EntryOutcome {
                item: c.id.clone(),
                name: c.name.clone(),
                department: c.department.clone()?,
                passed: e.passed,
                corrected: e.passed && !first.1.passed,
                note: e.note.clone(),
                by: f.by.clone(),
                at: f.at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{InspectionMode, StepKind};
    use crate::inspection::FindingsRecord;
    use crate::roles::Role;

    fn d(s: &str) -> DepartmentId {
        DepartmentId::parse(s).unwrap()
    }

    fn step() -> StepDef {
        let entry = |id: &str, dept: &str| ChecklistItem {
            id: id.into(),
            name: format!("{id} 清单"),
            name_en: String::new(),
            hint: String::new(),
            department: Some(d(dept)),
        };
        StepDef {
            id: "inspect".into(),
            name: "联合验收".into(),
            name_en: String::new(),
            kind: StepKind::Inspection,
            role: Role::Inspector,
            department: Some(d("bureau-construction")),
            departments: vec![d("bureau-construction"), d("fire")],
            joint_mode: None,
            inspection: Some(InspectionMode::Either),
            checklist: vec![
                entry("archives", "bureau-construction"),
                entry("hydrants", "fire"),
                entry("exits", "fire"),
            ],
            share_days: 3,
            condition: None,
            excluded_time: None,
            joint_inspection: true,
        }
    }

    fn res(item: &str, passed: bool, note: Option<&str>) -> EntryResult {
        EntryResult { item: item.into(), passed, note: note.map(str::to_string) }
    }

    fn at(min: i64) -> time::OffsetDateTime {
        time::macros::datetime!(2026-03-02 10:00 +8) + time::Duration::minutes(min)
    }

    fn recorded(task: &str, dept: &str, round: u32, checklist: Vec<EntryResult>, min: i64) -> FindingsRecord {
        FindingsRecord {
            task_id: task.into(),
            department: Some(d(dept)),
            findings: "意见".into(),
            satisfied: checklist.iter().all(|e| e.passed),
            checklist,
            round,
            by: format!("{dept}-reviewer"),
            at: at(min),
        }
    }

    #[test]
    fn a_department_records_exactly_its_own_entries_once() {
        let s = step();
        let fire = d("fire");
        let ok = [res("hydrants", true, None), res("exits", false, Some("疏散指示缺一处"))];
        assert_eq!(check_results(&s, None, &fire, "t2", &ok), Ok(false));
        assert_eq!(check_results(&s, None, &fire, "t2", &ok[..1]).map_err(|e| e.code()), Err("checklist_entries"));
        let theirs = [res("archives", true, None), ok[0].clone(), ok[1].clone()];
        assert_eq!(
            check_results(&s, None, &fire, "t2", &theirs),
            Err(CaseError::ChecklistNotYours(vec!["archives".into()]))
        );
        let unknown = [res("nope", true, None), ok[0].clone(), ok[1].clone(), ok[0].clone()];
        assert_eq!(
            check_results(&s, None, &fire, "t2", &unknown),
            Err(CaseError::ChecklistEntries { unknown: vec!["nope".into(), "hydrants".into()], missing: vec![] })
        );
        let no_note = [res("hydrants", true, None), res("exits", false, Some("  "))];
        assert_eq!(
            check_results(&s, None, &fire, "t2", &no_note),
            Err(CaseError::ChecklistNoteMissing(vec!["exits".into()]))
        );
        let long = [res("hydrants", true, Some(&"长".repeat(MAX_NOTE + 1))), ok[1].clone()];
        assert_eq!(check_results(&s, None, &fire, "t2", &long).map_err(|e| e.code()), Err("too_long"));
        let rec = InspectionRecord { findings: vec![recorded("t2", "fire", 1, ok.to_vec(), 5)], ..Default::default() };
        assert_eq!(check_results(&s, Some(&rec), &fire, "t2", &ok), Err(CaseError::FindingsAlreadyRecorded));
    }

    #[test]
    fn a_failed_entry_is_checked_again_after_the_correction_and_the_outcome_says_so() {
        let s = step();
        let (fire, lead) = (d("fire"), d("bureau-construction"));
        let mut rec = InspectionRecord {
            findings: vec![
                recorded("t1", "bureau-construction", 1, vec![res("archives", true, None)], 1),
                recorded("t2", "fire", 1, vec![res("hydrants", true, None), res("exits", false, Some("缺指示"))], 2),
            ],
            ..Default::default()
        };
        let failed = failed_entries(&s, Some(&rec));
        assert_eq!(failed, vec![FailedEntry { item: "exits".into(), department: fire.clone() }]);
        rec.rectifications.push(Rectification {
            failed,
            requested_at: at(3),
            suspended: true,
            report: None,
            reported_by: None,
            reported_at: None,
        });
        assert!(awaiting_correction(Some(&rec)));
        assert_eq!(round(Some(&rec)), 1);
        let last = rec.rectifications.last_mut().unwrap();
        last.report = Some("已补设疏散指示".into());
        last.reported_at = Some(at(60));
        assert_eq!(round(Some(&rec)), 2);
        // Round 2: only the failed entry, only by its department; the lead has nothing to check again.
        let step_now = CurrentStep {
            step_id: "inspect".into(),
            name: String::new(),
            kind: StepKind::Inspection,
            started_at: at(0),
            due: None,
            joint_mode: None,
            tasks: [("t1", "bureau-construction"), ("t2", "fire")]
                .iter()
                .map(|(t, dep)| Task {
                    task_id: (*t).into(),
                    role: Role::Inspector,
                    department: Some(d(dep)),
                    status: TaskStatus::Open,
                    assignee: None,
                    opinion: None,
                })
                .collect(),
        };
        assert_eq!(awaited_tasks(&s, &step_now, Some(&rec)), vec!["t2 (fire)".to_string()]);
        assert_eq!(
            check_results(&s, Some(&rec), &lead, "t1", &[res("archives", true, None)]),
            Err(CaseError::FindingsAlreadyRecorded)
        );
        assert_eq!(
            check_results(&s, Some(&rec), &fire, "t2", &[res("hydrants", true, None), res("exits", true, None)])
                .map_err(|e| e.code()),
            Err("checklist_entries"),
            "an entry that passed is not checked again"
        );
        assert_eq!(check_results(&s, Some(&rec), &fire, "t2", &[res("exits", true, None)]), Ok(true));
        rec.findings.push(recorded("t2", "fire", 2, vec![res("exits", true, None)], 90));
        assert!(failed_entries(&s, Some(&rec)).is_empty());
        assert!(awaited_tasks(&s, &step_now, Some(&rec)).is_empty());
        let out = outcomes(&s.checklist, Some(&rec));
        assert_eq!(
            out.iter().map(|o| (o.item.as_str(), o.passed, o.corrected)).collect::<Vec<_>>(),
            vec![("archives", true, false), ("hydrants", true, false), ("exits", true, true)]
        );
        assert_eq!((out[2].by.as_str(), out[2].at), ("fire-reviewer", at(90)));
    }
}
