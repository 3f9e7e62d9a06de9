//! 多评合一: the demo list of assessments and the catalog's materials that name them (unknown kinds refused), the
//! checks of a commission, a report and a review, the fold of an evaluation through a return and a revision, the
//! report standing for the materials only once every part passed, and the intermediary's revision time on the
//! project clock across the 2026 National Day holiday against a day-by-day count.

use std::collections::BTreeSet;

use oneseal_domain::assessment::*;
use oneseal_domain::ids::DepartmentId;
use oneseal_domain::project::{self, ProjectEvent, ProjectState};
use time::macros::datetime;
use time::OffsetDateTime;

use super::projects::{brute, registered};
use super::{calendar, demo_set, root};

fn list() -> Assessments {
    Assessments::parse(&std::fs::read_to_string(root().join("catalog/assessments.toml")).unwrap()).unwrap()
}

const USCC: &str = "91110000600037341L";

fn needed(kinds: &[&str]) -> BTreeSet<String> {
    kinds.iter().map(|k| k.to_string()).collect()
}

fn kinds(k: &[&str]) -> Vec<String> {
    k.iter().map(|s| s.to_string()).collect()
}

fn dep(s: &str) -> DepartmentId {
    DepartmentId::parse(s).unwrap()
}

fn fold(st: ProjectState, e: &ProjectEvent, at: OffsetDateTime) -> ProjectState {
    project::apply(Some(st), e, at).unwrap()
}

fn report(n: u8) -> ReportFile {
    ReportFile { attachment: format!("att_{n}"), file_name: format!("报告{n}.pdf"), sha256: format!("{n:064}") }
}

#[test]
fn the_demo_assessments_fit_the_catalog_and_unknown_kinds_are_refused() {
    let a = list();
    let ids: Vec<&str> = a.list.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["eia", "soil-water", "energy", "traffic", "geo-hazard", "seismic"]);
    let mut set = demo_set();
    a.check_catalog(&set).unwrap();
    // Each is the report of a material of a construction item of the demo catalog.
    let named: BTreeSet<&str> =
        set.items.values().flat_map(|i| i.materials.iter().filter_map(|m| m.assessment.as_deref())).collect();
    assert_eq!(named, ids.iter().copied().collect());
    // A material naming an assessment not listed is refused, naming the item and the material.
    let (code, item) = set.items.iter_mut().find(|(_, i)| i.materials.iter().any(|m| m.assessment.is_some())).unwrap();
    let code = code.as_str().to_string();
    let m = item.materials.iter_mut().find(|m| m.assessment.is_some()).unwrap();
    m.assessment = Some("nuclear".into());
    let e = a.check_catalog(&set).unwrap_err();
    assert_eq!(e.subject, code);
    assert!(e.problem.contains("unknown assessment \"nuclear\""), "{e}");
    // An assessment reviewed by a department missing from the catalog is refused too.
    let mut set = demo_set();
    set.departments.retain(|d| d.id.as_str() != "ecology");
    assert!(a.check_catalog(&set).unwrap_err().problem.contains("ecology"));
    // The list itself: ids well formed and once, names and basis given.
    let bad = "[[assessment]]\nid = \"EIA\"\nname = \"x\"\ndepartment = \"ecology\"\nbasis = [\"x\"]\n";
    assert!(Assessments::parse(bad).unwrap_err().contains("lowercase"));
    let twice = "[[assessment]]\nid = \"eia\"\nname = \"x\"\ndepartment = \"ecology\"\nbasis = [\"x\"]\n".repeat(2);
    assert!(Assessments::parse(&twice).unwrap_err().contains("twice"));
    let nobasis = "[[assessment]]\nid = \"eia\"\nname = \"x\"\ndepartment = \"ecology\"\nbasis = []\n";
    assert!(Assessments::parse(nobasis).is_err());
    assert!(Assessments::parse("[[assessment]]\nid = \"eia\"\ncolour = 1\n").is_err(), "unknown fields");
}

#[test]
fn a_commission_needs_two_listed_needed_assessments_and_a_valid_intermediary() {
    let a = list();
    let all = needed(&["eia", "soil-water", "traffic"]);
    let ok = |k: &[&str]| commission(None, &kinds(k), &a, &all, "中介", USCC, None);
    let e = ok(&["eia", "traffic"]).unwrap();
    let ProjectEvent::EvaluationCommissioned { parts, intermediary, .. } = &e else { panic!("{e:?}") };
    assert_eq!(parts.iter().map(|p| p.department.as_str()).collect::<Vec<_>>(), ["ecology", "natural-resources"]);
    assert_eq!((intermediary.name.as_str(), intermediary.uscc.as_str()), ("中介", USCC));
    for (k, name, uscc, err) in [
        (&["eia"][..], "中介", USCC, "assessments_too_few"),
        (&[][..], "中介", USCC, "assessments_too_few"),
        (&["eia", "eia"][..], "中介", USCC, "assessment_repeated"),
        (&["eia", "nuclear"][..], "中介", USCC, "assessment_unknown"),
        (&["eia", "seismic"][..], "中介", USCC, "assessment_not_needed"),
        (&["eia", "traffic"][..], " ", USCC, "intermediary_name"),
        (&["eia", "traffic"][..], &"中".repeat(201), USCC, "intermediary_name"),
        (&["eia", "traffic"][..], "中介", "91110000600037341X", "intermediary_uscc"),
        (&["eia", "traffic"][..], "中介", "9111000060003734", "intermediary_uscc"),
    ] {
        let got = commission(None, &kinds(k), &a, &all, name, uscc, None).unwrap_err();
        assert_eq!(got.code(), err, "{k:?} {name} {uscc}");
        assert_eq!(got.status(), 422);
        assert!(!got.title_zh().is_empty());
    }
    let st = fold(registered(datetime!(2026-03-02 10:00 +8)), &e, datetime!(2026-03-02 10:00 +8));
    let again = commission(st.evaluation.as_ref(), &kinds(&["eia", "traffic"]), &a, &all, "中介", USCC, None);
    assert_eq!(again.unwrap_err(), EvaluationError::Exists);
    assert_eq!(EvaluationError::Exists.status(), 409);
}

#[test]
fn the_evaluation_folds_through_a_return_and_a_revision_and_stands_only_once_every_part_passed() {
    let a = list();
    let t0 = datetime!(2026-03-02 10:00 +8);
    let mut st = registered(t0);
    assert_eq!(
        submit_report(None, report(1), "application/pdf", None).unwrap_err(),
        EvaluationError::Missing,
        "nothing commissioned"
    );
    let all = needed(&["eia", "soil-water", "traffic"]);
    let e = commission(None, &kinds(&["eia", "soil-water", "traffic"]), &a, &all, "中介", USCC, Some("company".into()));
    st = fold(st, &e.unwrap(), t0);
    let ev = st.evaluation.clone().unwrap();
    assert_eq!(ev.on_behalf_of.as_deref(), Some("company"));
    assert!(ev.parts.iter().all(|p| p.status == PartStatus::AwaitingReport));
    let eco = dep("ecology");
    let rv = |st: &ProjectState, k: &str, d: &DepartmentId, o: ReviewOutcome, why: &str| {
        review(st.evaluation.as_ref(), k, Some(d), o, why, "reviewer")
    };
    assert_eq!(rv(&st, "eia", &eco, ReviewOutcome::Passed, "").unwrap_err().code(), "assessment_not_under_review");
    assert_eq!(submit_report(Some(&ev), report(1), "image/png", None).unwrap_err(), EvaluationError::ReportNotPdf);
    st = fold(st, &submit_report(Some(&ev), report(1), "application/pdf", None).unwrap(), t0);
    let ev = st.evaluation.clone().unwrap();
    assert!(ev.parts.iter().all(|p| p.status == PartStatus::UnderReview));
    assert_eq!(
        submit_report(Some(&ev), report(2), "application/pdf", None).unwrap_err(),
        EvaluationError::ReportNotAwaited
    );

    // Reviews: each department its own part, a return needs its reason.
    let (water, planning) = (dep("bureau-transport"), dep("natural-resources"));
    let e = rv(&st, "eia", &planning, ReviewOutcome::Passed, "").unwrap_err();
    assert_eq!((e.code(), e.status()), ("not_your_assessment", 403));
    assert_eq!(
        review(Some(&ev), "eia", None, ReviewOutcome::Passed, "", "x").unwrap_err().code(),
        "not_your_assessment"
    );
    assert_eq!(rv(&st, "seismic", &eco, ReviewOutcome::Passed, "").unwrap_err().code(), "assessment_not_covered");
    assert_eq!(
        rv(&st, "traffic", &planning, ReviewOutcome::Returned, "  ").unwrap_err(),
        EvaluationError::ReasonRequired
    );
    let long = "长".repeat(2001);
    assert_eq!(
        rv(&st, "traffic", &planning, ReviewOutcome::Passed, &long).unwrap_err(),
        EvaluationError::ReasonTooLong
    );
    let t1 = datetime!(2026-03-03 11:00 +8);
    st = fold(st.clone(), &rv(&st, "eia", &eco, ReviewOutcome::Passed, "").unwrap(), t1);
    st = fold(st.clone(), &rv(&st, "soil-water", &water, ReviewOutcome::Passed, "同意").unwrap(), t1);
    assert!(st.evaluation.as_ref().unwrap().stands_for("eia").is_none(), "not before every part passed");
    let returned = rv(&st, "traffic", &planning, ReviewOutcome::Returned, "补充高峰小时分析").unwrap();
    st = fold(st, &returned, t1);
    let ev = st.evaluation.clone().unwrap();
    assert_eq!(ev.part("traffic").unwrap().status, PartStatus::Returned);
    assert_eq!(ev.part("traffic").unwrap().reviews[0].reason.as_deref(), Some("补充高峰小时分析"));
    assert_eq!(ev.revisions, vec![Revision { from: t1, to: None }]);
    assert_eq!(ev.part("soil-water").unwrap().reviews[0].reason.as_deref(), Some("同意"));

    // The revision: passed parts stay passed, the returned one is under review again, the revision time closes.
    let t2 = datetime!(2026-03-05 15:00 +8);
    st = fold(st, &submit_report(Some(&ev), report(2), "application/pdf", None).unwrap(), t2);
    let ev = st.evaluation.clone().unwrap();
    assert_eq!(ev.part("eia").unwrap().status, PartStatus::Passed);
    assert_eq!(ev.part("traffic").unwrap().status, PartStatus::UnderReview);
    assert_eq!(ev.revisions, vec![Revision { from: t1, to: Some(t2) }]);
    assert_eq!(ev.report().unwrap().round, 2);
    st = fold(st.clone(), &rv(&st, "traffic", &planning, ReviewOutcome::Passed, "").unwrap(), t2);
    let ev = st.evaluation.clone().unwrap();
    assert!(ev.passed());
    assert_eq!(ev.part("traffic").unwrap().reviews[1].round, 2);
    // The latest report stands for every assessment covered, and for nothing else.
    assert_eq!(ev.stands_for("eia").unwrap().file, report(2));
    assert_eq!(ev.stands_for("traffic").unwrap().file, report(2));
    assert!(ev.stands_for("energy").is_none());
    // The state reads back from its JSON (the projection's row), and folds the same from its events.
    let back: ProjectState = serde_json::from_str(&serde_json::to_string(&st).unwrap()).unwrap();
    assert_eq!(back, st);
}

#[test]
fn the_intermediarys_revision_time_is_apart_on_the_project_clock_across_the_national_day_holiday() {
    let cal = calendar();
    let filed = datetime!(2026-09-21 10:00 +8);
    let a = list();
    let all = needed(&["eia", "traffic"]);
    let mut st = registered(filed);
    st = fold(st, &commission(None, &kinds(&["eia", "traffic"]), &a, &all, "中介", USCC, None).unwrap(), filed);
    let ev = st.evaluation.clone().unwrap();
    st = fold(st, &submit_report(Some(&ev), report(1), "application/pdf", None).unwrap(), filed);
    // Returned on 29 September; the revision comes back on 12 October, over the holiday (1–7 October off, Saturday
    // 10 October worked).
    let back_at = datetime!(2026-09-29 16:00 +8);
    let r = review(st.evaluation.as_ref(), "eia", Some(&dep("ecology")), ReviewOutcome::Returned, "x", "r").unwrap();
    st = fold(st, &r, back_at);
    let open = project::clock(&st, &[], datetime!(2026-10-09 09:00 +8), &cal).unwrap();
    let so_far = brute(&cal, back_at, datetime!(2026-10-09 09:00 +8));
    assert_eq!(so_far, 3, "30 September, 8 and 9 October");
    assert_eq!(open.whole.excluded.get(project::INTERMEDIARY), Some(&so_far), "still revising: up to now");
    // Supervision: while the intermediary revises, the spans have no alert date (as while a case is suspended).
    assert_eq!(project::alert_dates(&st, &[], &cal).unwrap(), vec![], "no date while revising");
    let resubmitted = datetime!(2026-10-12 10:00 +8);
    let ev = st.evaluation.clone().unwrap();
    st = fold(st, &submit_report(Some(&ev), report(2), "application/pdf", None).unwrap(), resubmitted);
    let now = datetime!(2026-10-20 09:00 +8);
    let c = project::clock(&st, &[], now, &cal).unwrap();
    let days = brute(&cal, back_at, resubmitted);
    assert_eq!(days, 5, "30 Sep, 8, 9, 10 (worked Saturday), 12 Oct");
    assert_eq!(c.whole.excluded.get(project::INTERMEDIARY), Some(&days));
    assert_eq!(c.to_permit.excluded.get(project::INTERMEDIARY), Some(&days));
    assert_eq!(c.whole.elapsed_days, brute(&cal, filed, now));
    assert_eq!(c.whole.counted_days, c.whole.elapsed_days - days, "not counted against the limit");
    // Once the revision is back, the spans' alert dates are those of a project without it, pushed out by its days.
    let plain = project::alert_dates(&registered(filed), &[], &cal).unwrap();
    let pushed = project::alert_dates(&st, &[], &cal).unwrap();
    assert_eq!(pushed.len(), 4, "to the permit and the whole process, yellow and red: {pushed:?}");
    for (p, q) in plain.iter().zip(&pushed) {
        assert_eq!((p.span, p.level), (q.span, q.level));
        assert_eq!(q.on, cal.add_working_days(p.on, days).unwrap(), "{:?} {:?}", q.span, q.level);
    }
    assert_eq!(project::revision_days(&cal, &st.evaluation.unwrap().revisions, now, now).unwrap(), days);
}
