//! Domain tests against the real data files: the calendar years under data/calendar, the demo catalog under
//! catalog/, and table-driven walks of the case machine through every legal and illegal transition.

use std::path::{Path, PathBuf};

use oneseal_domain::calendar::{Calendar, YearData};
use oneseal_domain::case::*;
use oneseal_domain::catalog::*;
use oneseal_domain::ids::{CaseNo, DepartmentId, ResidentId};
use oneseal_domain::party::{ClearId, IdNumber};
use oneseal_domain::roles::{Actor, Role};
use serde_json::json;
use time::macros::{date, datetime};
use time::OffsetDateTime;

/// The hall's numbers against a brute-force recount.
#[path = "domain/hall_stats.rs"]
mod hall_stats;

/// 工程建设项目: codes, project types, stages and clocks.
#[path = "domain/projects.rs"]
mod projects;

/// 多评合一: the assessments of the catalog, the combined evaluation's checks, fold and revision time.
#[path = "domain/assessments.rs"]
mod assessments;

/// The hall simulator against the queue's rules and queueing theory.
#[path = "domain/hall_sim.rs"]
mod hall_sim;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn calendar() -> Calendar {
    let mut years = Vec::new();
    for e in std::fs::read_dir(root().join("data/calendar")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            years.push(YearData::from_toml(&std::fs::read_to_string(&p).unwrap()).unwrap());
        }
    }
    Calendar::new(years)
}

#[test]
fn calendar_is_official_2004_to_2026_and_provisional_after() {
    let c = calendar();
    let ys: Vec<i32> = c.years().map(|y| y.year).collect();
    assert_eq!(ys, (2004..=2026).collect::<Vec<_>>());
    assert_eq!(c.add_working_days(date!(2025 - 09 - 26), 20), Ok(date!(2025 - 10 - 30)));
    assert_eq!(c.is_workday(date!(2026 - 02 - 14)), Ok(true));
    assert!((2004..=2026).all(|y| !c.is_provisional(y)));
    assert!((2027..=2100).all(|y| c.is_provisional(y)));
    assert_eq!(c.is_workday(date!(2027 - 01 - 04)), Ok(true));
    assert!(c.is_workday(date!(2003 - 01 - 06)).is_err());
}

/// The demo catalog's departments, items and bundles, read from catalog/.
fn demo_set() -> CatalogSet {
    let dir = root().join("catalog");
    let deps = CatalogSet::parse_departments(&std::fs::read_to_string(dir.join("departments.toml")).unwrap()).unwrap();
    let mut set = CatalogSet { departments: deps, ..Default::default() };
    for e in std::fs::read_dir(dir.join("items")).unwrap() {
        let p = e.unwrap().path();
        let item = CatalogSet::parse_item(&p.display().to_string(), &std::fs::read_to_string(&p).unwrap()).unwrap();
        assert!(set.items.insert(item.impl_code.clone(), item).is_none(), "duplicate item code in {}", p.display());
    }
    for e in std::fs::read_dir(dir.join("bundles")).unwrap() {
        let p = e.unwrap().path();
        let b = CatalogSet::parse_bundle(&p.display().to_string(), &std::fs::read_to_string(&p).unwrap()).unwrap();
        set.bundles.insert(b.code.clone(), b);
    }
    set
}

#[test]
fn demo_catalog_is_valid() {
    let set = demo_set();
    set.validate().unwrap();
    assert!(set.items.len() >= 40, "{} items", set.items.len());
    assert!(set.bundles.len() >= 4);
    let used: std::collections::BTreeSet<_> = set.items.values().map(|i| i.department.clone()).collect();
    assert!(used.len() >= 8, "{} departments", used.len());
    assert!(set.items.values().filter(|i| i.tags.contains(&Tag::OnTheSpot)).count() >= 5);
}

/// 联合验收: the joint acceptance's checklist names a department per entry, each one of the step's, each of the
/// step's departments checks something; the catalog refuses anything else.
#[test]
fn checklist_departments_are_the_steps_own() {
    let dir = root().join("catalog");
    let deps = CatalogSet::parse_departments(&std::fs::read_to_string(dir.join("departments.toml")).unwrap()).unwrap();
    let ids: std::collections::BTreeSet<DepartmentId> = deps.iter().map(|d| d.id.clone()).collect();
    let p = dir.join("items/joint-completion-acceptance.toml");
    let item = CatalogSet::parse_item("joint", &std::fs::read_to_string(p).unwrap()).unwrap();
    item.validate(&ids).unwrap();
    let inspect = item.process.steps.iter().position(|s| s.id == "inspect").unwrap();
    assert_eq!(item.process.steps[inspect].inspection, Some(oneseal_domain::catalog::InspectionMode::Either));
    assert!(oneseal_domain::acceptance::by_checklist(&item.process.steps[inspect]));
    let refused = |f: &dyn Fn(&mut StepDef)| {
        let mut bad = item.clone();
        f(&mut bad.process.steps[inspect]);
        bad.validate(&ids).unwrap_err().to_string()
    };
    let e = refused(&|s| s.checklist[0].department = Some(dep("market")));
    assert!(e.contains("not one of the step's departments"), "{e}");
    let e = refused(&|s| s.checklist[1].department = None);
    assert!(e.contains("every checklist entry names its department"), "{e}");
    let e = refused(&|s| s.checklist.retain(|c| c.department != Some(dep("fire"))));
    assert!(e.contains("department fire has no checklist entry"), "{e}");
    let e = refused(&|s| s.departments.clear());
    assert!(e.contains("departments"), "{e}");
}

fn dep(s: &str) -> DepartmentId {
    DepartmentId::parse(s).unwrap()
}

fn step(id: &str, kind: StepKind, role: Role, d: Option<&str>, share: u32) -> StepDef {
    StepDef {
        id: id.into(),
        name: id.into(),
        name_en: String::new(),
        kind,
        role,
        department: d.map(dep),
        departments: vec![],
        joint_mode: None,
        inspection: if kind == StepKind::Inspection { Some(InspectionMode::Either) } else { None },
        checklist: vec![],
        share_days: share,
        condition: None,
        excluded_time: None,
        joint_inspection: false,
    }
}

fn material(id: &str, key: bool) -> Material {
    Material {
        id: id.into(),
        name: id.into(),
        form: MaterialForm::Original,
        count: 1,
        required: true,
        key,
        source: String::new(),
        blank_form: None,
        sample: None,
        license_substitutes: vec![],
        assessment: None,
        notes: String::new(),
    }
}

/// accept → review → joint review (all) → inspection (if area > 500) → decision → licence → delivery.
fn definition(joint: JointMode) -> CaseDefinition {
    let mut joint_step = step("joint", StepKind::JointReview, Role::Reviewer, None, 3);
    joint_step.departments = vec![dep("fire"), dep("housing")];
    joint_step.joint_mode = Some(joint);
    let mut insp = step("inspect", StepKind::Inspection, Role::Inspector, Some("market"), 2);
    insp.condition = Some(Condition { field: "area".into(), equals: None, greater_than: Some(500.0), is_true: None });
    CaseDefinition {
        subject: Subject::Item { code: "X".into(), version: 1 },
        title: "测试事项".into(),
        department: dep("market"),
        filing: false,
        handling: Handling::Promised,
        limit: Limit::WorkingDays(10),
        statutory_limit: Limit::WorkingDays(20),
        max_extension_days: 10,
        form: FormSchema {
            fields: vec![Field {
                key: "area".into(),
                label: "面积".into(),
                label_en: String::new(),
                field_type: FieldType::Number,
                required: true,
                options: vec![],
                min: Some(0.0),
                max: None,
                max_len: None,
                personal: false,
            }],
        },
        materials: vec![material("id-card", true), material("lease", false)],
        process: ProcessDefinition {
            steps: vec![
                step("accept", StepKind::Accept, Role::WindowClerk, None, 0),
                step("review", StepKind::Review, Role::Reviewer, Some("market"), 2),
                joint_step,
                insp,
                step("decide", StepKind::Decision, Role::Approver, Some("market"), 1),
                step("license", StepKind::LicenseIssuance, Role::WindowClerk, Some("market"), 1),
                step("deliver", StepKind::Delivery, Role::WindowClerk, Some("market"), 0),
            ],
        },
        results: vec![],
    }
}

fn actor(id: &str, role: Role, d: Option<&str>) -> Actor {
    Actor {
        id: id.into(),
        display_name: id.into(),
        roles: vec![role],
        department: d.map(dep),
        acts_for: vec![],
        follows: vec![],
        post: None,
    }
}

struct World {
    cal: Calendar,
    def: CaseDefinition,
    state: Option<CaseState>,
    now: OffsetDateTime,
    /// Every event recorded so far, as the event log would hold them.
    hist: Vec<Recorded>,
}

impl World {
    fn new(def: CaseDefinition) -> World {
        World { cal: calendar(), def, state: None, now: datetime!(2025-09-26 10:00 +8), hist: vec![] }
    }

    fn submit(&mut self, area: f64, materials: &[&str]) -> Result<(), CaseError> {
        let a = actor("citizen-1", Role::Applicant, None);
        let ctx = Ctx { now: self.now, actor: &a, calendar: &self.cal, def: &self.def };
        let sub = Submission {
            case_no: CaseNo::new(date!(2025 - 09 - 26), 1),
            channel: Channel::Online,
            service_point: "online".into(),
            applicant: ApplicantInfo {
                kind: ApplicantKind::Person,
                name: "张三".into(),
                id_number: ResidentId::parse("11010519491231002X").unwrap().into(),
                phone: None,
                account: Some("citizen-1".into()),
            },
            form: json!({ "area": area }).as_object().unwrap().clone(),
            materials: materials
                .iter()
                .map(|m| MaterialRef {
                    material_id: m.to_string(),
                    file_name: format!("{m}.pdf"),
                    license: None,
                    ..Default::default()
                })
                .collect(),
            query_code_digest: "d".into(),
        };
        let events = submit(sub, &ctx)?;
        let rec: Vec<Recorded> =
            events.into_iter().map(|e| Recorded { at: self.now, actor: a.id.clone(), event: e }).collect();
        self.state = fold(&rec);
        self.hist.extend(rec);
        Ok(())
    }

    fn run(&mut self, who: &Actor, cmd: CaseCommand) -> Result<Vec<CaseEvent>, CaseError> {
        let st = self.state.as_ref().unwrap();
        let ctx = Ctx { now: self.now, actor: who, calendar: &self.cal, def: &self.def };
        let before = st.clone();
        let events = decide(st, cmd, &ctx)?;
        let st = self.state.as_mut().unwrap();
        assert_eq!(*st, before, "decide must not change state");
        for e in &events {
            let r = Recorded { at: self.now, actor: who.id.clone(), event: e.clone() };
            apply(st, &r);
            self.hist.push(r);
        }
        Ok(events)
    }

    fn st(&self) -> &CaseState {
        self.state.as_ref().unwrap()
    }

    fn open_tasks(&self) -> Vec<String> {
        self.st()
            .current_step
            .as_ref()
            .map(|s| s.tasks.iter().filter(|t| t.status == TaskStatus::Open).map(|t| t.task_id.clone()).collect())
            .unwrap_or_default()
    }
}

fn clerk() -> Actor {
    actor("clerk", Role::WindowClerk, Some("market"))
}
fn reviewer(d: &str) -> Actor {
    actor(&format!("rev-{d}"), Role::Reviewer, Some(d))
}
fn approver() -> Actor {
    actor("chief", Role::Approver, Some("market"))
}

fn complete(w: &mut World, who: &Actor, task: &str) -> Result<Vec<CaseEvent>, CaseError> {
    w.run(who, CaseCommand::CompleteTask { task_id: task.into(), opinion: "同意".into() })
}

#[test]
fn full_lifecycle_with_joint_review_inspection_and_clock() {
    let mut w = World::new(definition(JointMode::All));
    w.submit(800.0, &["id-card", "lease"]).unwrap();
    assert_eq!(w.st().status, Status::Submitted);
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert_eq!(w.st().status, Status::InProgress);
    assert_eq!(w.st().clock.deadline, Some(date!(2025 - 10 - 16))); // 10 working days, across National Day and the Saturday make-up day
    assert_eq!(w.st().clock.statutory_deadline, Some(date!(2025 - 10 - 30)));
    assert_eq!(w.open_tasks(), vec!["t1"]);
    // The fire department's reviewer cannot work the market's review.
    assert_eq!(complete(&mut w, &reviewer("fire"), "t1"), Err(CaseError::Forbidden("reviewer")));
    complete(&mut w, &reviewer("market"), "t1").unwrap();
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "joint");
    assert_eq!(w.open_tasks(), vec!["t2", "t3"]);
    complete(&mut w, &reviewer("fire"), "t2").unwrap();
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "joint", "all must sign");
    complete(&mut w, &reviewer("housing"), "t3").unwrap();
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "inspect", "area 800 > 500 needs an inspection");
    complete(&mut w, &actor("insp", Role::Inspector, Some("market")), "t4").unwrap();
    // A reviewer cannot decide.
    assert!(matches!(
        w.run(&reviewer("market"), CaseCommand::Decide { outcome: Outcome::Grant, reasons: vec![] }),
        Err(CaseError::Forbidden(_))
    ));
    w.run(&approver(), CaseCommand::Decide { outcome: Outcome::Grant, reasons: vec![] }).unwrap();
    w.run(&clerk(), CaseCommand::IssueLicenses { licenses: vec!["L-1".into()] }).unwrap();
    w.run(&clerk(), CaseCommand::Deliver { delivery: Delivery::Pickup { window: "A12".into() } }).unwrap();
    assert_eq!(w.st().status, Status::Completed);
    assert_eq!(w.st().outcome, Some(Outcome::Grant));
    assert_eq!(w.st().passed_steps, vec!["accept", "review", "joint", "inspect", "decide", "license", "deliver"]);
}

#[test]
fn condition_skips_inspection_and_any_mode_cancels_the_other_signature() {
    let mut w = World::new(definition(JointMode::Any));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    complete(&mut w, &reviewer("market"), "t1").unwrap();
    let ev = complete(&mut w, &reviewer("housing"), "t3").unwrap();
    assert!(ev
        .iter()
        .any(|e| matches!(e, CaseEvent::TasksCancelled { task_ids, .. } if task_ids == &vec!["t2".to_string()])));
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "decide", "area 100: no inspection");
}

#[test]
fn denial_skips_licence_issuance() {
    let mut w = World::new(definition(JointMode::Any));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    complete(&mut w, &reviewer("market"), "t1").unwrap();
    complete(&mut w, &reviewer("fire"), "t2").unwrap();
    assert_eq!(
        w.run(&approver(), CaseCommand::Decide { outcome: Outcome::Deny, reasons: vec![] }),
        Err(CaseError::Empty("reasons"))
    );
    w.run(&approver(), CaseCommand::Decide { outcome: Outcome::Deny, reasons: vec!["场所不符合要求".into()] }).unwrap();
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "deliver");
    w.run(&clerk(), CaseCommand::Deliver { delivery: Delivery::Electronic }).unwrap();
    assert_eq!((w.st().status, w.st().outcome), (Status::Completed, Some(Outcome::Deny)));
}

#[test]
fn correction_is_asked_once_only() {
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card"]).unwrap();
    // Accepting without the lease and without a pledge is refused, naming the material.
    assert_eq!(
        w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }),
        Err(CaseError::MissingMaterials(vec!["lease".into()]))
    );
    let problems = vec![Problem { subject: "lease".into(), message: "缺少租赁合同".into() }];
    w.run(&clerk(), CaseCommand::RequestCorrection { problems: problems.clone() }).unwrap();
    assert_eq!(w.st().status, Status::AwaitingCorrection);
    // Someone else cannot answer for the applicant.
    let other = actor("citizen-2", Role::Applicant, None);
    assert!(matches!(
        w.run(&other, CaseCommand::SubmitCorrection { form: None, materials: vec![] }),
        Err(CaseError::Forbidden(_))
    ));
    let me = actor("citizen-1", Role::Applicant, None);
    w.run(
        &me,
        CaseCommand::SubmitCorrection {
            form: None,
            materials: vec![MaterialRef {
                material_id: "id-card".into(),
                file_name: "new.pdf".into(),
                license: None,
                ..Default::default()
            }],
        },
    )
    .unwrap();
    assert_eq!(w.st().status, Status::Submitted);
    assert_eq!(w.run(&clerk(), CaseCommand::RequestCorrection { problems }), Err(CaseError::SecondCorrection));
}

#[test]
fn correction_after_five_working_days_is_too_late() {
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card"]).unwrap();
    w.now = datetime!(2025-10-13 10:00 +8); // 9-28, 9-29, 9-30, 10-9, 10-10, 10-11, 10-13: 7 working days later
    let problems = vec![Problem { subject: "lease".into(), message: "缺少租赁合同".into() }];
    assert_eq!(w.run(&clerk(), CaseCommand::RequestCorrection { problems }), Err(CaseError::CorrectionTooLate));
}

#[test]
fn pledge_only_for_non_key_materials() {
    // Without its key material an application is refused at once, naming it (it could never be accepted).
    let mut w = World::new(definition(JointMode::All));
    match w.submit(100.0, &[]) {
        Err(CaseError::KeyMaterialsMissing(f)) => {
            assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), vec!["materials.id-card"])
        }
        other => panic!("{other:?}"),
    }
    // So a key material is never pledged (容缺): it is there, and a pledge names only what is missing.
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card"]).unwrap();
    let due = date!(2025 - 10 - 15);
    assert_eq!(
        w.run(&clerk(), CaseCommand::Accept { pledges: vec![("id-card".into(), due), ("lease".into(), due)] }),
        Err(CaseError::UnknownMaterial("id-card".into()))
    );
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card"]).unwrap();
    assert_eq!(
        w.run(&clerk(), CaseCommand::Accept { pledges: vec![("lease".into(), date!(2025 - 10 - 04))] }),
        Err(CaseError::BadPledgeDate(date!(2025 - 10 - 04))),
        "a pledge date on a holiday is refused"
    );
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![("lease".into(), due)] }).unwrap();
    assert_eq!(w.st().pledges, vec![Pledge { material_id: "lease".into(), due, fulfilled: false }]);
    w.run(
        &actor("citizen-1", Role::Applicant, None),
        CaseCommand::FulfilPledge {
            material: MaterialRef {
                material_id: "lease".into(),
                file_name: "l.pdf".into(),
                license: None,
                ..Default::default()
            },
        },
    )
    .unwrap();
    assert!(w.st().pledges[0].fulfilled);
}

#[test]
fn suspension_and_extension_move_the_deadline() {
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert_eq!(w.st().clock.deadline, Some(date!(2025 - 10 - 16)));
    w.now = datetime!(2025-10-09 09:00 +8);
    w.run(
        &reviewer("market"),
        CaseCommand::Suspend { kind: SuspensionKind::ExpertReview, reason: "专家评审".into(), expected_days: 3 },
    )
    .unwrap();
    assert_eq!(w.st().status, Status::Suspended);
    assert!(matches!(complete(&mut w, &reviewer("market"), "t1"), Err(CaseError::WrongStatus { .. })));
    w.now = datetime!(2025-10-14 09:00 +8); // 10-10, 10-11 (Sat make-up), 10-13, 10-14: 4 working days excluded
    w.run(&reviewer("market"), CaseCommand::Resume).unwrap();
    assert_eq!(w.st().clock.suspended_days, 4);
    assert_eq!(w.st().clock.deadline, Some(date!(2025 - 10 - 22)));
    assert!(matches!(
        w.run(&reviewer("market"), CaseCommand::Extend { days: 5, reason: "复杂".into() }),
        Err(CaseError::Forbidden(_))
    ));
    w.run(&approver(), CaseCommand::Extend { days: 6, reason: "情况复杂".into() }).unwrap();
    assert_eq!(w.st().clock.deadline, Some(date!(2025 - 10 - 30)));
    assert_eq!(
        w.run(&approver(), CaseCommand::Extend { days: 5, reason: "再延".into() }),
        Err(CaseError::ExtensionTooLong { max: 10, used: 6 })
    );
    // A huge number must not overflow past the check.
    assert_eq!(
        w.run(&approver(), CaseCommand::Extend { days: u32::MAX, reason: "溢出".into() }),
        Err(CaseError::ExtensionTooLong { max: 10, used: 6 })
    );
}

#[test]
fn send_back_restarts_an_earlier_step_and_keeps_the_trail() {
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    complete(&mut w, &reviewer("market"), "t1").unwrap();
    complete(&mut w, &reviewer("fire"), "t2").unwrap();
    // Housing sends the joint review back to the market's review; the fire sign-off is recorded, the open task cancelled.
    let ev = w
        .run(&reviewer("housing"), CaseCommand::SendBack { to_step: "review".into(), reason: "图纸不全".into() })
        .unwrap();
    assert!(matches!(&ev[0], CaseEvent::TasksCancelled { task_ids, .. } if task_ids == &vec!["t3".to_string()]));
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "review");
    assert_eq!(w.open_tasks(), vec!["t4"], "new task ids, never reused");
    assert_eq!(
        w.run(&reviewer("market"), CaseCommand::SendBack { to_step: "decide".into(), reason: "x".into() }),
        Err(CaseError::BadSendBackTarget("decide".into()))
    );
    assert_eq!(
        w.run(&reviewer("market"), CaseCommand::SendBack { to_step: "accept".into(), reason: "x".into() }),
        Err(CaseError::BadSendBackTarget("accept".into()))
    );
}

#[test]
fn claim_and_reassign() {
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    let a = reviewer("market");
    let b = actor("rev-b", Role::Reviewer, Some("market"));
    w.run(&a, CaseCommand::ClaimTask { task_id: "t1".into() }).unwrap();
    assert_eq!(w.run(&b, CaseCommand::ClaimTask { task_id: "t1".into() }), Err(CaseError::ClaimedByOther("t1".into())));
    assert_eq!(complete(&mut w, &b, "t1"), Err(CaseError::ClaimedByOther("t1".into())));
    let to_fire = Assignee { id: "rev-fire".into(), roles: vec![Role::Reviewer], department: Some(dep("fire")) };
    assert_eq!(
        w.run(&approver(), CaseCommand::Reassign { task_id: "t1".into(), to: to_fire, reason: "x".into() }),
        Err(CaseError::AssigneeCannotWork("rev-fire".into()))
    );
    let to_b = Assignee { id: "rev-b".into(), roles: vec![Role::Reviewer], department: Some(dep("market")) };
    let ev =
        w.run(&approver(), CaseCommand::Reassign { task_id: "t1".into(), to: to_b, reason: "休假".into() }).unwrap();
    assert_eq!(
        ev,
        vec![CaseEvent::TaskReassigned {
            task_id: "t1".into(),
            from: Some("rev-market".into()),
            to: "rev-b".into(),
            reason: "休假".into()
        }]
    );
    complete(&mut w, &b, "t1").unwrap();
}

#[test]
fn withdraw_terminate_refuse_and_illegal_transitions() {
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    assert!(matches!(
        w.run(&clerk(), CaseCommand::Decide { outcome: Outcome::Grant, reasons: vec![] }),
        Err(CaseError::WrongStatus { .. })
    ));
    assert!(matches!(w.run(&clerk(), CaseCommand::Resume), Err(CaseError::WrongStatus { .. })));
    assert!(matches!(
        w.run(&reviewer("market"), CaseCommand::Accept { pledges: vec![] }),
        Err(CaseError::Forbidden("window_clerk"))
    ));
    w.run(&clerk(), CaseCommand::Refuse { reasons: vec!["不属于本机关职权范围".into()] }).unwrap();
    assert_eq!(w.st().status, Status::Refused);
    assert!(matches!(w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }), Err(CaseError::WrongStatus { .. })));
    assert!(matches!(
        w.run(&actor("citizen-1", Role::Applicant, None), CaseCommand::Withdraw { reason: String::new() }),
        Err(CaseError::WrongStatus { .. })
    ));

    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&actor("citizen-1", Role::Applicant, None), CaseCommand::Withdraw { reason: "不办了".into() }).unwrap();
    assert_eq!(w.st().status, Status::Withdrawn);

    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert!(matches!(w.run(&clerk(), CaseCommand::Terminate { reason: "x".into() }), Err(CaseError::Forbidden(_))));
    w.run(&approver(), CaseCommand::Terminate { reason: "申请人死亡".into() }).unwrap();
    assert_eq!(w.st().status, Status::Terminated);
}

#[test]
fn submit_refuses_bad_forms_and_unknown_materials() {
    let mut w = World::new(definition(JointMode::All));
    assert!(matches!(w.submit(-5.0, &[]), Err(CaseError::InvalidForm(e)) if e[0].field == "area"));
    assert_eq!(w.submit(5.0, &["passport"]), Err(CaseError::UnknownMaterial("passport".into())));
}

#[test]
fn filing_completes_at_submission_and_on_the_spot_in_one_step() {
    let mut def = definition(JointMode::All);
    def.filing = true;
    def.process.steps.truncate(1);
    let mut w = World::new(def);
    w.submit(10.0, &["id-card", "lease"]).unwrap();
    assert_eq!(w.st().status, Status::Completed);
    assert!(w.st().licenses[0].starts_with("BA"));

    let mut def = definition(JointMode::All);
    def.handling = Handling::Immediate;
    def.limit = Limit::Minutes(15);
    def.statutory_limit = Limit::Minutes(30);
    def.process.steps.truncate(1);
    let mut w = World::new(def);
    w.submit(10.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert_eq!((w.st().status, w.st().outcome), (Status::Completed, Some(Outcome::Grant)));
    assert_eq!(w.st().clock.deadline_at, Some(datetime!(2025-09-26 10:15 +8)));
}

#[test]
fn an_excluded_time_step_stops_the_clock_while_it_runs() {
    // accept → expert review (§45, not counted) → review → decide …
    let mut def = definition(JointMode::All);
    let mut expert = step("expert", StepKind::Review, Role::Reviewer, Some("market"), 0);
    expert.excluded_time = Some(SuspensionKind::ExpertReview);
    def.process.steps.insert(1, expert);
    let mut w = World::new(def);
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert_eq!(w.st().status, Status::Suspended, "the expert review starts with the clock stopped");
    assert_eq!(w.st().clock.deadline, Some(date!(2025 - 10 - 16)));
    w.now = datetime!(2025-10-13 09:00 +8); // 9-28, 9-29, 9-30, 10-9, 10-10, 10-11, 10-13: 7 working days of review
    complete(&mut w, &reviewer("market"), "t1").unwrap();
    assert_eq!(w.st().status, Status::InProgress);
    assert_eq!(w.st().clock.suspended_days, 7);
    assert_eq!(w.st().clock.deadline, Some(date!(2025 - 10 - 27)), "moved by the 7 excluded working days");
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "review");
}

/// Tidy checks that run as ordinary tests, so `cargo test` is the whole gate.
mod tidy {
    use super::root;

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    fn all(sub: &str) -> Vec<std::path::PathBuf> {
        let mut v = Vec::new();
        for c in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
            let d = c.path().join(sub);
            if d.is_dir() {
                rust_files(&d, &mut v);
            }
        }
        v
    }

    #[test]
    fn the_domain_depends_on_no_io_crate() {
        let toml = std::fs::read_to_string(root().join("crates/domain/Cargo.toml")).unwrap();
        let deps = toml.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
        let allowed = ["serde", "serde_json", "thiserror", "time", "toml"];
        for line in deps.lines().filter(|l| l.contains('=')) {
            let name = line.split('=').next().unwrap().trim();
            assert!(allowed.contains(&name), "the domain crate must stay pure: {name} is not an allowed dependency");
        }
    }

    #[test]
    fn every_module_says_what_it_is_for() {
        let mut files = all("src");
        files.extend(all("tests"));
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(text.starts_with("//!"), "{} must start with a //! line saying what it is for", f.display());
        }
    }

    #[test]
    fn no_unwrap_or_expect_in_server_code() {
        for f in all("src") {
            if f.ends_with("build.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (i, line) in code.lines().enumerate() {
                let l = line.trim_start();
                if l.starts_with("//") {
                    continue;
                }
                assert!(
                    !line.contains(".unwrap()") && !line.contains(".expect("),
                    "{}:{}: no unwrap/expect in server code: {line}",
                    f.display(),
                    i + 1
                );
            }
        }
    }
}

#[test]
fn applicant_debug_hides_the_id_number_and_phone() {
    let a = ApplicantInfo {
        kind: ApplicantKind::Person,
        name: "张三".into(),
        id_number: ResidentId::parse("64010420050101001X").unwrap().into(),
        phone: Some("13800000000".into()),
        account: None,
    };
    let d = format!("{a:?}");
    assert!(!d.contains("64010420050101001X") && !d.contains("13800000000"), "{d}");
    let org =
        ApplicantInfo::new(ClearId::parse(ApplicantKind::Organisation, USCC).unwrap(), "某公司".into(), None, None);
    let sealed = IdNumber::classify(ApplicantKind::Person, SEALED);
    for d in [format!("{org:?}"), format!("{sealed:?}"), format!("{:?}", org.id_number.clear())] {
        assert!(!d.contains(USCC) && !d.contains("dk-0a1b") && d.contains("<redacted>"), "{d}");
    }
}

const RID: &str = "64010420050101001X";
const USCC: &str = "91110000600037341L";
const SEALED: &str = "sm4gcm:v1:dk-0a1b2c3d4e5f:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKg==";

/// The applicant of a stored `submitted` event: `kind`, `name`, `id_number` as written.
fn stored_applicant(kind: &str, id: &str) -> serde_json::Value {
    json!({ "kind": kind, "name": "张三", "id_number": id, "phone": null, "account": "citizen-1" })
}

#[test]
fn id_number_stages_read_from_their_strings_and_write_them_back_unchanged() {
    use oneseal_domain::personal_data::Sealed;
    let cases: [(&str, &str, fn(&IdNumber) -> bool); 6] = [
        // A person's number as submitted (clear, only before sealing), as stored (sealed) and as shown (masked).
        ("person", RID, |n| matches!(n, IdNumber::Clear(ClearId::Resident(_)))),
        ("person", SEALED, |n| matches!(n, IdNumber::Sealed(_))),
        ("person", "640104********001X", |n| matches!(n, IdNumber::Masked(_))),
        ("person", "****", |n| matches!(n, IdNumber::Masked(_))),
        // An organisation's USCC is public: clear in every stage.
        ("organisation", USCC, |n| matches!(n, IdNumber::Clear(ClearId::Organisation(_)))),
        // Text that is no valid number of the kind is never taken for one.
        ("organisation", RID, |n| matches!(n, IdNumber::Masked(_))),
    ];
    for (kind, id, stage) in cases {
        let a: ApplicantInfo = serde_json::from_value(stored_applicant(kind, id)).unwrap();
        assert!(stage(&a.id_number), "{kind} {id}: {:?}", a.id_number);
        assert_eq!(serde_json::to_value(&a).unwrap(), stored_applicant(kind, id), "{kind} {id}");
    }
    assert!(Sealed::parse(SEALED).is_some() && Sealed::parse("sm4gcm:v1:").is_none() && Sealed::parse(RID).is_none());
    // A lower-case check character is valid input but not how a clear number is stored: it stays text.
    let a: ApplicantInfo = serde_json::from_value(stored_applicant("person", "11010519491231002x")).unwrap();
    assert!(matches!(a.id_number, IdNumber::Masked(_)));
    // Unknown fields are still refused.
    let mut v = stored_applicant("person", RID);
    v["extra"] = json!(1);
    assert!(serde_json::from_value::<ApplicantInfo>(v).is_err());
}

#[test]
fn old_submitted_events_deserialize_and_fold_with_the_id_number_in_its_stage() {
    // A `submitted` event as stored before the newtype (its payload text, keys sorted as the store writes them).
    for (kind, id, sealed) in [("person", SEALED, true), ("organisation", USCC, false)] {
        let text = format!(
            r#"{{"applicant":{{"account":"citizen-1","id_number":"{id}","kind":"{kind}","name":"张三","phone":null}},"case_no":"YC202509260000001","channel":"online","clock":{{"deadline":null,"deadline_at":null,"extension_days":0,"limit":{{"working_days":10}},"max_extension_days":0,"started_at":null,"statutory_deadline":null,"statutory_limit":{{"working_days":20}},"suspended_days":0,"suspended_since":null}},"department":"market","form":{{"area":20}},"materials":[],"query_code_digest":"d","service_point":"online","subject":{{"code":"x","kind":"item","version":1}},"title":"t","type":"submitted"}}"#
        );
        let e: CaseEvent = serde_json::from_str(&text).unwrap();
        let CaseEvent::Submitted { applicant, .. } = &e else { panic!("{e:?}") };
        assert_eq!(matches!(applicant.id_number, IdNumber::Sealed(_)), sealed, "{kind}");
        assert_eq!(applicant.id_number.organisation().is_some(), !sealed, "{kind}");
        let back: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(&text).unwrap(), "{kind}: written back unchanged");
        let st = fold(&[Recorded { at: datetime!(2025-09-26 10:00 +8), actor: "citizen-1".into(), event: e }]).unwrap();
        assert_eq!(serde_json::to_value(&st.applicant).unwrap()["id_number"], json!(id));
        assert_eq!(organisation_of(&st), (!sealed).then_some(USCC));
    }
}

#[test]
fn id_numbers_are_shown_masked_unless_an_organisation_code() {
    let rid = ClearId::parse(ApplicantKind::Person, RID).unwrap();
    let uscc = ClearId::parse(ApplicantKind::Organisation, USCC).unwrap();
    assert_eq!(rid.shown(), "640104********001X");
    assert_eq!(serde_json::to_value(rid.masked()).unwrap(), json!("640104********001X"));
    assert!(matches!(rid.masked(), IdNumber::Masked(_)));
    assert_eq!(uscc.shown(), USCC);
    assert_eq!(uscc.masked(), IdNumber::Clear(uscc.clone()));
    // Showing never prints a person's clear number, whatever the stage.
    assert_eq!(IdNumber::from(rid.clone()).shown(), "640104********001X");
    assert_eq!(IdNumber::classify(ApplicantKind::Person, SEALED).shown(), "****");
    assert_eq!(IdNumber::classify(ApplicantKind::Person, "640104********001X").shown(), "640104********001X");
    // The kind follows from the number; the wrong kind does not parse.
    assert_eq!(ApplicantInfo::new(uscc.clone(), "某公司".into(), None, None).kind, ApplicantKind::Organisation);
    assert_eq!(rid.kind(), ApplicantKind::Person);
    assert!(ClearId::parse(ApplicantKind::Organisation, RID).is_err());
    assert!(ClearId::parse(ApplicantKind::Person, USCC).is_err());
    assert_eq!(uscc.as_str(), USCC);
    assert_eq!(rid.as_str(), RID);
}

#[test]
fn supervision_thresholds_and_rules() {
    use oneseal_domain::supervision::{check_rules, red_on, stalled_at, watch_instant, yellow_on, Thresholds};
    let c = calendar();
    let t = Thresholds::default();
    // Accepted Mon 2026-03-02, 10 working days: deadline Mon 2026-03-16. 80 % = 8 working days → Thu 03-12;
    // 2 days left from Thu 03-12 ((03-12, 03-16] holds Fri 13 and Mon 16).
    assert_eq!(yellow_on(date!(2026 - 03 - 02), date!(2026 - 03 - 16), 10, &t, &c).unwrap(), date!(2026 - 03 - 12));
    // 20 working days: 80 % = 16 days → 03-24; 2 days left → 03-26: the share comes first.
    let dl = c.add_working_days(date!(2026 - 03 - 02), 20).unwrap();
    assert_eq!(yellow_on(date!(2026 - 03 - 02), dl, 20, &t, &c).unwrap(), date!(2026 - 03 - 24));
    // Across National Day 2025: accepted 09-26 with 10 days → deadline 10-16 (as the clock test shows).
    assert_eq!(yellow_on(date!(2025 - 09 - 26), date!(2025 - 10 - 16), 10, &t, &c).unwrap(), date!(2025 - 10 - 14));
    assert_eq!(red_on(date!(2026 - 03 - 16)), Some(date!(2026 - 03 - 17)));
    // Stalled after 2 full working days without action, across a weekend.
    // 14 working hours after Thu 03-05 10:00: the rest of Thursday (6 h), Friday (7 h), 1 h on Mon 03-09.
    let at = stalled_at(time::macros::datetime!(2026-03-05 10:00 +8), &t, &c).unwrap();
    assert_eq!(watch_instant(at), "2026-03-09T10:00");
    // From outside working hours (Sat), counting starts on Monday morning.
    let at = stalled_at(time::macros::datetime!(2026-03-07 20:00 +8), &t, &c).unwrap();
    assert_eq!(watch_instant(at), "2026-03-10T17:30");

    // A clean lifecycle breaks no rule.
    let roles = |id: &str| -> Vec<Role> {
        match id {
            "chief" => vec![Role::Approver],
            "clerk" => vec![Role::WindowClerk],
            _ => vec![Role::Reviewer],
        }
    };
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    complete(&mut w, &reviewer("market"), "t1").unwrap();
    complete(&mut w, &reviewer("fire"), "t2").unwrap();
    complete(&mut w, &reviewer("housing"), "t3").unwrap();
    w.run(&approver(), CaseCommand::Decide { outcome: Outcome::Grant, reasons: vec![] }).unwrap();
    w.run(&clerk(), CaseCommand::IssueLicenses { licenses: vec!["L-1".into()] }).unwrap();
    w.run(&clerk(), CaseCommand::Deliver { delivery: Delivery::Pickup { window: "A12".into() } }).unwrap();
    assert_eq!(w.st().status, Status::Completed);
    let clean = check_rules(&w.hist, &w.def, &t, &c, &roles);
    assert_eq!(clean, vec![], "a clean case");

    // Altered histories: each rule finds its break and points at the events.
    let kinds = |h: &[Recorded]| check_rules(h, &w.def, &t, &c, &roles).iter().map(|f| f.kind).collect::<Vec<_>>();
    let mut h = w.hist.clone();
    let decided = h.iter().position(|r| matches!(r.event, CaseEvent::Decided { .. })).unwrap();
    if let CaseEvent::Decided { by, .. } = &mut h[decided].event {
        *by = "rev-market".into();
    }
    assert_eq!(kinds(&h), vec!["unauthorised_decision"]);
    let mut h = w.hist.clone();
    h.push(h[decided].clone());
    assert_eq!(kinds(&h), vec!["reopened"]);
    let h: Vec<Recorded> = w
        .hist
        .iter()
        .filter(|r| !matches!(&r.event, CaseEvent::StepCompleted { step_id } if step_id == "joint"))
        .cloned()
        .collect();
    let f = check_rules(&h, &w.def, &t, &c, &roles);
    assert_eq!((f[0].kind, f[0].detail.contains("joint")), ("skipped_steps", true));
    // Acceptance 7 working days after receipt.
    let mut h = w.hist.clone();
    let acc = h.iter().position(|r| matches!(r.event, CaseEvent::Accepted { .. })).unwrap();
    h[acc].at = datetime!(2025-10-17 10:00 +8);
    let f = check_rules(&h, &w.def, &t, &c, &roles);
    assert_eq!(f.iter().map(|x| x.kind).collect::<Vec<_>>(), vec!["late_acceptance"]);
    assert_eq!(f[0].evidence, vec![0, acc]);
    // Two correction notices.
    let mut h = w.hist.clone();
    let note = Recorded {
        at: h[0].at,
        actor: "clerk".into(),
        event: CaseEvent::CorrectionRequested { problems: vec![], due: date!(2025 - 10 - 10) },
    };
    h.insert(1, note.clone());
    h.insert(1, note);
    assert!(kinds(&h).contains(&"second_correction"));
}

/// Working time against a brute force that steps minute by minute, around National Day 2025 (a week off, and the
/// make-up working Sunday 09-28 and Saturday 10-11), and adding then measuring gives back the minutes.
#[test]
fn working_minutes_match_a_minute_by_minute_count_across_national_day() {
    use oneseal_domain::worktime::{add_working_minutes, working_minutes};
    let c = calendar();
    let off = time::UtcOffset::from_hms(8, 0, 0).unwrap();
    let brute = |from: time::OffsetDateTime, to: time::OffsetDateTime| {
        let mut t = from;
        let mut n = 0;
        while t < to {
            let l = t.to_offset(off);
            let hm = u32::from(l.hour()) * 60 + u32::from(l.minute());
            if c.is_workday(l.date()).unwrap() && ((540..720).contains(&hm) || (810..1050).contains(&hm)) {
                n += 1;
            }
            t += time::Duration::minutes(1);
        }
        n
    };
    let start = time::macros::datetime!(2025-09-26 08:17 +8);
    for (i, hours) in [(0i64, 5i64), (1, 30), (2, 47), (3, 90), (5, 200), (7, 333)] {
        let from = start + time::Duration::minutes(i * 397);
        let to = from + time::Duration::hours(hours);
        assert_eq!(working_minutes(&c, from, to).unwrap(), brute(from, to), "{from} → {to}");
        for m in [1i64, 59, 180, 420, 421, 2100] {
            let end = add_working_minutes(&c, from, m).unwrap();
            assert_eq!(working_minutes(&c, from, end).unwrap(), m, "{from} + {m}");
            assert_eq!(brute(from, end), m, "{from} + {m} (brute)");
        }
    }
    // Nothing counts during the holiday: 10-01 to 10-08 are days off.
    let h =
        working_minutes(&c, time::macros::datetime!(2025-10-01 00:00 +8), time::macros::datetime!(2025-10-09 00:00 +8))
            .unwrap();
    assert_eq!(h, 0);
}

/// Merge suggestions: Jaccard similarity of character bigrams, by hand-counted examples.
#[test]
fn similar_requests_are_found_by_bigram_similarity_and_place() {
    use oneseal_domain::hotline::{merge_score, similarity, Intake};
    assert_eq!(similarity("井盖缺失", "井盖缺失"), 1.0);
    assert_eq!(similarity("井盖缺失", "工资拖欠"), 0.0);
    // {井盖, 盖缺, 缺失} vs {井盖, 盖丢, 丢失}: 1 shared of 5 distinct.
    assert!((similarity("井盖缺失", "井盖丢失") - 0.2).abs() < 1e-12);
    assert_eq!(similarity("", "井盖"), 0.0);
    let intake = |content: &str, location: &str| Intake {
        category: "city-appearance".into(),
        urgent: false,
        channel: "operator".into(),
        caller_name: "x".into(),
        caller_phone: "x".into(),
        caller_account: None,
        content: content.into(),
        location: location.into(),
    };
    let t0 = time::macros::datetime!(2026-03-02 10:00 +8);
    let a = intake("解放西街路口垃圾堆放多日无人清理", "兴庆区解放西街");
    let b = intake("解放西街路口垃圾无人清理", "兴庆区解放西街");
    assert!(merge_score(&a, t0, &b, t0 + time::Duration::days(1), 7).is_some());
    assert!(merge_score(&a, t0, &b, t0 + time::Duration::days(9), 7).is_none(), "too far apart in time");
    assert!(merge_score(&a, t0, &intake("公司拖欠三个月工资", "金凤区"), t0, 7).is_none());
}

#[test]
fn late_acceptance_starts_the_clock_at_receipt_section_32() {
    // Accepted on the 5th working day: an ordinary acceptance.
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.now = datetime!(2025-10-10 10:00 +8); // 9-28, 9-29, 9-30, 10-9, 10-10
    let ev = w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert!(matches!(&ev[0], CaseEvent::Accepted { deemed_from: None, .. }));
    assert!(!w.st().deemed_accepted);
    assert_eq!(w.st().clock.started_at, Some(datetime!(2025-10-10 10:00 +8)));

    // On the 7th: the application already counted as accepted on 9-26, and the limit runs from there.
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.now = datetime!(2025-10-13 10:00 +8);
    let ev = w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert!(matches!(&ev[0], CaseEvent::Accepted { deemed_from: Some(t), .. } if *t == datetime!(2025-09-26 10:00 +8)));
    assert!(w.st().deemed_accepted);
    assert_eq!(w.st().accepted_at, Some(datetime!(2025-10-13 10:00 +8)));
    assert_eq!(w.st().clock.started_at, Some(datetime!(2025-09-26 10:00 +8)));
    assert_eq!(w.st().clock.deadline, Some(date!(2025 - 10 - 16)), "the same as accepting on the day of receipt");

    // After a correction the five days run from the corrected materials.
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card"]).unwrap();
    let problems = vec![Problem { subject: "lease".into(), message: "缺少租赁合同".into() }];
    w.run(&clerk(), CaseCommand::RequestCorrection { problems }).unwrap();
    w.now = datetime!(2025-10-09 09:00 +8);
    let citizen = actor("citizen-1", Role::Applicant, None);
    let lease = MaterialRef { material_id: "lease".into(), file_name: "lease.pdf".into(), ..Default::default() };
    w.run(&citizen, CaseCommand::SubmitCorrection { form: None, materials: vec![lease] }).unwrap();
    w.now = datetime!(2025-10-17 09:00 +8); // 10-10, 10-11, 10-13 … 10-17: 7 working days after the correction
    let ev = w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert!(matches!(&ev[0], CaseEvent::Accepted { deemed_from: Some(t), .. } if *t == datetime!(2025-10-09 09:00 +8)));
}

/// A world that runs the same commands at the same times with another calendar.
fn run_script(cal: Calendar) -> World {
    let mut w = World::new(definition(JointMode::All));
    w.cal = cal;
    w.now = datetime!(2026-12-21 10:00 +8);
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    w.now = datetime!(2026-12-30 10:00 +8);
    w.run(
        &reviewer("market"),
        CaseCommand::Suspend { kind: SuspensionKind::ExpertReview, reason: "专家评审".into(), expected_days: 3 },
    )
    .unwrap();
    w.now = datetime!(2027-01-06 10:00 +8);
    w.run(&reviewer("market"), CaseCommand::Resume).unwrap();
    w.run(&approver(), CaseCommand::Extend { days: 2, reason: "情况复杂".into() }).unwrap();
    w
}

#[test]
fn publishing_the_official_year_recomputes_exactly_what_the_provisional_year_counted() {
    use oneseal_domain::recompute::case_dates;
    let provisional = calendar();
    let mut w = run_script(provisional.clone());
    assert!(provisional.is_provisional(2027));
    let view = oneseal_domain::clock::view(&w.st().clock, datetime!(2027-01-06 12:00 +8), None, &w.cal).unwrap();
    assert!(view.provisional, "a deadline counted over 2027 is a planned date until the notice");
    // Under the provisional 2027 (1-1 only): accepted Mon 12-21, 10 working days → 2027-01-05; suspended 12-30 to
    // 1-6 excludes 12-31, 1-4, 1-5, 1-6 (4); extended by 2.
    assert_eq!(w.st().clock.suspended_days, 4);
    assert_eq!(w.st().clock.deadline, Some(date!(2027 - 01 - 13)));

    // The notice (hypothetical, for the test): 1-4 is a rest day too, Saturday 1-9 a working day.
    let official = YearData::from_toml(
        "year = 2027\nrest_days = [\"2027-01-01\", \"2027-01-04\"]\nmakeup_workdays = [\"2027-01-09\"]",
    )
    .unwrap();
    let mut new = provisional.clone();
    new.insert(official);
    let expected = run_script(new.clone());

    let ev = case_dates(&w.hist, w.st(), &w.def, &new, 2027, date!(2027 - 01 - 06)).unwrap().expect("dates move");
    let CaseEvent::DatesRecomputed { previous, held_at_today, .. } = &ev else { panic!("{ev:?}") };
    assert_eq!(previous.deadline, Some(date!(2027 - 01 - 13)));
    assert!(held_at_today.is_empty());
    let r = Recorded { at: datetime!(2027-01-06 12:00 +8), actor: "admin".into(), event: ev };
    apply(w.state.as_mut().unwrap(), &r);
    w.hist.push(r);
    let (got, want) = (w.st(), expected.st());
    assert_eq!(got.clock.deadline, want.clock.deadline);
    assert_eq!(got.clock.statutory_deadline, want.clock.statutory_deadline);
    assert_eq!(got.clock.suspended_days, want.clock.suspended_days);
    // The review step's due date (12-29 counted with the provisional year, 12-28 with the notice) had already
    // passed on 1-6: a date that ran out is history and stays as it was.
    assert_eq!(want.current_step.as_ref().unwrap().due, Some(date!(2026 - 12 - 28)));
    assert_eq!(got.current_step.as_ref().unwrap().due, Some(date!(2026 - 12 - 29)));
    assert_ne!(got.clock.deadline, Some(date!(2027 - 01 - 13)), "the notice changed the count");
    let view = oneseal_domain::clock::view(&got.clock, datetime!(2027-01-06 12:00 +8), None, &new).unwrap();
    assert!(!view.provisional);
    // Publishing the same year again changes nothing.
    assert_eq!(case_dates(&w.hist, w.st(), &w.def, &new, 2027, date!(2027 - 01 - 06)).unwrap(), None);
}

#[test]
fn a_recomputed_date_never_falls_silently_into_the_past() {
    use oneseal_domain::recompute::case_dates;
    let provisional = calendar();
    let mut w = World::new(definition(JointMode::All));
    w.cal = provisional.clone();
    w.now = datetime!(2026-12-21 10:00 +8);
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    assert_eq!(w.st().clock.deadline, Some(date!(2027 - 01 - 05)));
    // A notice without New Year's Day would pull the deadline to 1-4; published on 1-5 it is held at today.
    let mut new = provisional.clone();
    new.insert(YearData::from_toml("year = 2027\nrest_days = []\nmakeup_workdays = []").unwrap());
    let ev = case_dates(&w.hist, w.st(), &w.def, &new, 2027, date!(2027 - 01 - 05)).unwrap().expect("moves");
    let CaseEvent::DatesRecomputed { deadline, statutory_deadline, held_at_today, previous, .. } = ev else { panic!() };
    assert_eq!(deadline, Some(date!(2027 - 01 - 05)), "held at today");
    assert_eq!(held_at_today, vec!["deadline".to_string()]);
    assert_eq!(statutory_deadline.map(|d| d.next_day().unwrap()), previous.statutory_deadline, "later dates move");
    // Published before: the deadline moves to 1-4 and nothing is held.
    let ev = case_dates(&w.hist, w.st(), &w.def, &new, 2027, date!(2026 - 12 - 28)).unwrap().expect("moves");
    let CaseEvent::DatesRecomputed { deadline, held_at_today, .. } = ev else { panic!() };
    assert_eq!((deadline, held_at_today.len()), (Some(date!(2027 - 01 - 04)), 0));
    // Published after the deadline passed: the deadline stays (it is history).
    if let Some(CaseEvent::DatesRecomputed { deadline, .. }) =
        case_dates(&w.hist, w.st(), &w.def, &new, 2027, date!(2027 - 01 - 06)).unwrap()
    {
        assert_eq!(deadline, Some(date!(2027 - 01 - 05)));
    }
}

/// 多图联审: departments comment on a file of the case, the applicant answers every open comment once, a department
/// passes only when its comments are answered, and the events fold back to the same state.
#[test]
fn drawing_comments_are_answered_once_and_hold_a_department_until_answered() {
    use oneseal_domain::drawing_review::DrawingAnswer;
    let mut w = World::new(definition(JointMode::All));
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    // The lease stands for an uploaded drawing file (the application layer binds uploads; the id card is no file).
    w.state.as_mut().unwrap().materials[1].attachment = Some("att-1".into());
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    let comment = |m: &str, text: &str| CaseCommand::AddDrawingComment {
        material_id: m.into(),
        sheet: "建施-03".into(),
        text: text.into(),
    };
    // Not at the joint review yet.
    assert_eq!(w.run(&reviewer("fire"), comment("lease", "x")), Err(CaseError::WrongStep(StepKind::Review)));
    complete(&mut w, &reviewer("market"), "t1").unwrap();
    assert_eq!(w.run(&reviewer("market"), comment("lease", "x")).unwrap_err().code(), "forbidden");
    assert_eq!(w.run(&reviewer("fire"), comment("id-card", "x")).unwrap_err().code(), "unknown_sheet");
    assert_eq!(w.run(&reviewer("fire"), comment("lease", " ")).unwrap_err().code(), "empty");
    w.run(&reviewer("fire"), comment("lease", "疏散宽度不足")).unwrap();
    w.run(&reviewer("housing"), comment("lease", "层高不符")).unwrap();
    assert_eq!(complete(&mut w, &reviewer("fire"), "t2").unwrap_err().code(), "comments_unanswered");
    let applicant = actor("citizen-1", Role::Applicant, None);
    let answer = |ids: &[&str]| CaseCommand::AnswerDrawingComments {
        answers: ids.iter().map(|id| DrawingAnswer { comment_id: id.to_string(), text: "已修改".into() }).collect(),
        materials: vec![],
    };
    assert_eq!(w.run(&applicant, answer(&["c1"])).unwrap_err().code(), "answers_missing");
    assert_eq!(w.run(&applicant, answer(&["c1", "c1"])).unwrap_err().code(), "unknown_comment");
    assert_eq!(w.run(&reviewer("fire"), answer(&["c1", "c2"])).unwrap_err().code(), "forbidden");
    w.run(&applicant, answer(&["c2", "c1"])).unwrap();
    assert_eq!(w.run(&applicant, answer(&["c1", "c2"])).unwrap_err().code(), "no_open_comments");
    let review = w.st().drawing_review.clone().unwrap();
    assert_eq!((review.answers_given, review.comments.len()), (1, 2));
    assert!(review.comments.iter().all(|c| c.answer.as_deref() == Some("已修改") && c.comment.round == 1));
    // Housing comments again (round 2): fire passes meanwhile, housing only after the new answer.
    w.run(&reviewer("housing"), comment("lease", "复核")).unwrap();
    assert_eq!(w.st().drawing_review.as_ref().unwrap().comments[2].comment.round, 2);
    complete(&mut w, &reviewer("fire"), "t2").unwrap();
    assert_eq!(w.run(&reviewer("fire"), comment("lease", "x")).unwrap_err().code(), "forbidden", "fire has passed");
    assert_eq!(complete(&mut w, &reviewer("housing"), "t3").unwrap_err().code(), "comments_unanswered");
    w.run(&applicant, answer(&["c3"])).unwrap();
    complete(&mut w, &reviewer("housing"), "t3").unwrap();
    assert_ne!(w.st().current_step.as_ref().unwrap().step_id, "joint", "every department passed");
    assert_eq!(fold(&w.hist).as_ref().map(|s| &s.drawing_review), Some(&w.st().drawing_review));
}

/// 联合验收 through `decide`: the step's departments each record their own entries once, tasks do not complete one
/// by one, a failed entry stops the clock for the applicant's correction, the applicant's report restarts it with
/// the days not counted, only the failed entry is checked again, and the joint result then moves the case on.
#[test]
fn a_checklist_inspection_goes_through_correction_and_on() {
    use oneseal_domain::acceptance::EntryResult;
    use oneseal_domain::inspection::{Schedule, Visit};
    let mut def = definition(JointMode::All);
    let insp = def.process.steps.iter_mut().find(|s| s.id == "inspect").unwrap();
    insp.condition = None;
    insp.departments = vec![dep("market"), dep("fire")];
    insp.joint_inspection = true;
    insp.checklist = [("premises", "market"), ("exits", "fire"), ("hydrants", "fire")]
        .iter()
        .map(|(id, d)| ChecklistItem {
            id: (*id).into(),
            name: (*id).into(),
            name_en: String::new(),
            hint: String::new(),
            department: Some(dep(d)),
        })
        .collect();
    let mut w = World::new(def);
    w.submit(100.0, &["id-card", "lease"]).unwrap();
    w.run(&clerk(), CaseCommand::Accept { pledges: vec![] }).unwrap();
    for (who, t) in [("market", "t1"), ("fire", "t2"), ("housing", "t3")] {
        complete(&mut w, &reviewer(who), t).unwrap();
    }
    assert_eq!(w.st().current_step.as_ref().unwrap().step_id, "inspect");
    assert_eq!(w.open_tasks(), vec!["t4".to_string(), "t5".to_string()]);
    let inspector = |d: &str| actor(&format!("insp-{d}"), Role::Inspector, Some(d));
    assert_eq!(complete(&mut w, &inspector("fire"), "t5").unwrap_err(), CaseError::ChecklistInspection);
    let case_no = w.st().case_no.clone();
    let schedule = |lead: &str| Schedule {
        id: "ins_1".into(),
        visit: Visit::OnSite,
        start: datetime!(2025-09-26 14:00 +8),
        minutes: 60,
        meeting_url: None,
        lead: dep(lead),
        cases: vec![case_no.clone()],
    };
    let sched = schedule("fire");
    let r = w.run(&inspector("fire"), CaseCommand::ScheduleInspection { schedule: sched });
    assert_eq!(r.unwrap_err().code(), "forbidden", "only the step's department leads");
    let sched = schedule("market");
    w.run(&inspector("market"), CaseCommand::ScheduleInspection { schedule: sched }).unwrap();
    w.now = datetime!(2025-09-26 14:05 +8);
    let entry = |item: &str, passed: bool, note: Option<&str>| EntryResult {
        item: item.into(),
        passed,
        note: note.map(str::to_string),
    };
    let record = |w: &mut World, d: &str, task: &str, checklist: Vec<EntryResult>| {
        let cmd =
            CaseCommand::RecordFindings { task_id: task.into(), findings: "查验".into(), satisfied: None, checklist };
        w.run(&inspector(d), cmd)
    };
    let r = record(&mut w, "market", "t4", vec![entry("premises", true, None), entry("exits", true, None)]);
    assert_eq!(r.unwrap_err(), CaseError::ChecklistNotYours(vec!["exits".into()]));
    record(&mut w, "market", "t4", vec![entry("premises", true, None)]).unwrap();
    let joint = |w: &mut World| {
        w.run(
            &inspector("market"),
            CaseCommand::RecordJointResult { schedule_id: "ins_1".into(), opinion: "联合验收".into() },
        )
    };
    assert_eq!(joint(&mut w).unwrap_err(), CaseError::FindingsAwaited(vec!["t5 (fire)".into()]));
    record(&mut w, "fire", "t5", vec![entry("exits", false, Some("缺指示")), entry("hydrants", true, None)]).unwrap();
    let deadline = w.st().clock.deadline;
    let ev = joint(&mut w).unwrap();
    assert!(matches!(
        ev.last(),
        Some(CaseEvent::Suspended { kind: oneseal_domain::clock::SuspensionKind::AwaitingCorrection, .. })
    ));
    assert_eq!(w.st().status, Status::Suspended);
    assert_eq!(w.open_tasks().len(), 2, "the tasks wait");
    assert_eq!(joint(&mut w).unwrap_err(), CaseError::RectificationAwaited);
    // The applicant corrects from Friday to Tuesday: Sunday 28 September 2025 is a make-up working day before the
    // National Day holiday, so three working days are not counted.
    w.now = datetime!(2025-09-30 09:00 +8);
    let applicant = actor("citizen-1", Role::Applicant, None);
    let report = |w: &mut World, who: &Actor| w.run(who, CaseCommand::ReportRectified { report: "已补设".into() });
    assert_eq!(report(&mut w, &inspector("fire")).unwrap_err().code(), "forbidden");
    let ev = report(&mut w, &applicant).unwrap();
    assert!(matches!(ev.last(), Some(CaseEvent::Resumed { suspended_days: 3, .. })), "{ev:?}");
    assert_eq!(w.st().status, Status::InProgress);
    assert!(w.st().clock.deadline > deadline, "the deadline moved by the days not counted");
    assert_eq!(report(&mut w, &applicant).unwrap_err(), CaseError::NoRectification);
    // Only the failed entry, by its department, once.
    let r = record(&mut w, "market", "t4", vec![entry("premises", true, None)]);
    assert_eq!(r.unwrap_err(), CaseError::FindingsAlreadyRecorded);
    let r = record(&mut w, "fire", "t5", vec![entry("exits", true, None), entry("hydrants", true, None)]);
    assert_eq!(r.unwrap_err().code(), "checklist_entries");
    record(&mut w, "fire", "t5", vec![entry("exits", true, None)]).unwrap();
    joint(&mut w).unwrap();
    assert_eq!(w.st().current_step.as_ref().unwrap().kind, StepKind::Decision);
    let rec = w.st().inspection.as_ref().unwrap();
    assert!(rec.joint_result.as_ref().is_some_and(|j| j.satisfied && j.failed.is_empty()));
    let out = oneseal_domain::acceptance::outcomes(&w.def.process.steps[3].checklist, Some(rec));
    assert_eq!(out.iter().filter(|o| o.corrected).map(|o| o.item.as_str()).collect::<Vec<_>>(), vec!["exits"]);
    assert_eq!(fold(&w.hist).as_ref(), w.state.as_ref(), "the log folds to the same state");
}
