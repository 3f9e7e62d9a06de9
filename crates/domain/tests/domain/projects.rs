//! 工程建设项目: the investment-project code, the project types of catalog/project-types, which items a stage
//! starts, and the project's clocks across the 2026 National Day holiday against a day-by-day count.

use std::collections::BTreeMap;

use oneseal_domain::calendar::Calendar;
use oneseal_domain::project::*;
use time::macros::datetime;
use time::OffsetDateTime;

use super::{calendar, root};

#[test]
fn project_codes_are_checked_part_by_part() {
    let ok = ProjectCode::parse("2026-640100-47-03-000123").unwrap();
    assert_eq!((ok.as_str(), ok.region()), ("2026-640100-47-03-000123", "640100"));
    assert!(ProjectCode::parse("2019-110000-48-01-000001").is_ok(), "a province-level division");
    for (bad, why) in [
        ("", ProjectCodeError::Format),
        ("2026-640100-47-03-00012", ProjectCodeError::Format),
        ("2026-640100-47-03-00012X", ProjectCodeError::Format),
        ("2026/640100/47/03/000123", ProjectCodeError::Format),
        ("２026-640100-47-03-000123", ProjectCodeError::Format),
        ("1999-640100-47-03-000123", ProjectCodeError::Year),
        ("2026-990100-47-03-000123", ProjectCodeError::Region),
        ("2026-100100-47-03-000123", ProjectCodeError::Region),
        ("2026-640100-00-03-000123", ProjectCodeError::Industry),
        ("2026-640100-98-03-000123", ProjectCodeError::Industry),
        ("2026-640100-47-04-000123", ProjectCodeError::Kind),
        ("2026-640100-47-00-000123", ProjectCodeError::Kind),
        ("2026-640100-47-03-000000", ProjectCodeError::Serial),
    ] {
        assert_eq!(ProjectCode::parse(bad), Err(why.clone()), "{bad}");
        assert!(why.code().starts_with("project_code_"));
    }
    let json: ProjectCode = serde_json::from_str("\"2026-640100-47-03-000123\"").unwrap();
    assert_eq!(json, ok);
    assert!(serde_json::from_str::<ProjectCode>("\"2026-640100-47-09-000123\"").is_err());
}

fn types() -> Vec<ProjectType> {
    let dir = root().join("catalog/project-types");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.push(ProjectType::parse(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{p:?}: {e}")));
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out
}

#[test]
fn the_demo_project_types_have_four_stages_of_catalog_items_within_their_limits() {
    let items: Vec<String> = std::fs::read_dir(root().join("catalog/items"))
        .unwrap()
        .map(|e| {
            let v: toml::Value = toml::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
            v["impl_code"].as_str().unwrap().to_string()
        })
        .collect();
    let ts = types();
    assert_eq!(
        ts.iter().map(|t| t.code.as_str()).collect::<Vec<_>>(),
        ["social-investment-general", "social-investment-small-low-risk"]
    );
    for t in &ts {
        for i in t.items() {
            assert!(items.iter().any(|x| x == i), "{}: {i} is not a catalog item", t.code);
        }
    }
    assert_eq!((ts[0].permit_limit_days, ts[0].whole_limit_days), (30, 50), "the 1230 figures of the source");
    // Broken types are refused with a reason.
    let mut t = ts[0].clone();
    t.stages.swap(0, 1);
    assert!(t.validate().unwrap_err().contains("in that order"));
    let mut t = ts[0].clone();
    t.stages[0].limit_days = 40;
    assert!(t.validate().unwrap_err().contains("exceed"));
    let mut t = ts[0].clone();
    t.stages[2].items[0].after = vec![t.stages[2].items[1].item.clone()];
    assert!(t.validate().unwrap_err().contains("not an earlier item"));
    let mut t = ts[0].clone();
    t.stages[1].green_limit_days = Some(11);
    assert!(t.validate().is_err());
}

pub(super) fn registered(at: OffsetDateTime) -> ProjectState {
    let e = ProjectEvent::ProjectRegistered {
        code: ProjectCode::parse("2026-640100-47-03-000123").unwrap(),
        name: "测试项目".into(),
        project_type: Box::new(types().remove(0)),
        owner_account: "company".into(),
        owner_uscc: "91110000600037341L".into(),
        owner_name: "银川塞上餐饮有限公司".into(),
        location: "银川市".into(),
        floor_area_m2: 1000.0,
        investment_wan: 100.0,
    };
    apply(None, &e, at).unwrap()
}

fn started(st: ProjectState, stage: Stage, cases: &[(&str, &str)], at: OffsetDateTime) -> ProjectState {
    let cases = cases.iter().map(|(i, c)| StageCase { item: i.to_string(), case_no: c.to_string() }).collect();
    apply(Some(st), &ProjectEvent::StageStarted { stage, cases, materials: vec![], on_behalf_of: None }, at).unwrap()
}

#[test]
fn a_stage_starts_after_the_earlier_ones_and_sequential_items_after_theirs() {
    let t0 = datetime!(2026-03-02 10:00 +8);
    let st = registered(t0);
    let none = BTreeMap::new();
    let land = items_to_start(&st, Stage::LandPlanning, &none).unwrap();
    assert_eq!(land.len(), 2, "both land items in parallel");
    assert_eq!(items_to_start(&st, Stage::Engineering, &none).unwrap_err().code(), "earlier_stage_open");
    let st = started(st, Stage::LandPlanning, &[(&land[0], "C1"), (&land[1], "C2")], t0);
    let mut status: BTreeMap<String, String> =
        [("C1".to_string(), "completed".to_string()), ("C2".to_string(), "in_progress".to_string())].into();
    assert_eq!(items_to_start(&st, Stage::LandPlanning, &status).unwrap_err().code(), "nothing_to_start");
    assert_eq!(items_to_start(&st, Stage::Engineering, &status).unwrap_err().code(), "earlier_stage_open");
    status.insert("C2".into(), "rejected".into());
    assert_eq!(
        items_to_start(&st, Stage::LandPlanning, &status).unwrap(),
        vec![land[1].clone()],
        "a refused item starts again"
    );
    status.insert("C2".into(), "completed".into());
    let eng = items_to_start(&st, Stage::Engineering, &status).unwrap();
    let st = started(st, Stage::Engineering, &[(&eng[0], "C3")], t0);
    status.insert("C3".into(), "completed".into());
    let first = items_to_start(&st, Stage::Construction, &status).unwrap();
    assert_eq!(first.len(), 1, "the permit waits for the drawing review");
    let st = started(st, Stage::Construction, &[(&first[0], "C4")], t0);
    assert_eq!(items_to_start(&st, Stage::Construction, &status).unwrap_err().code(), "nothing_to_start");
    status.insert("C4".into(), "completed".into());
    let then = items_to_start(&st, Stage::Construction, &status).unwrap();
    assert_eq!(then, vec!["11640100MB960001070100029000001".to_string()]);
}

fn times(
    case_no: &str,
    item: &str,
    from: OffsetDateTime,
    to: Option<OffsetDateTime>,
    excluded: &[(&str, u32)],
) -> CaseTimes {
    CaseTimes {
        case_no: case_no.into(),
        item: item.into(),
        title: item.into(),
        status: if to.is_some() { "completed" } else { "in_progress" }.into(),
        submitted_at: from,
        finished_at: to,
        excluded: excluded.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    }
}

/// Working days in (from, to] counted one day at a time.
pub(super) fn brute(cal: &Calendar, from: OffsetDateTime, to: OffsetDateTime) -> u32 {
    let (mut d, end) =
        (from.to_offset(oneseal_domain::clock::CHINA).date(), to.to_offset(oneseal_domain::clock::CHINA).date());
    let mut n = 0;
    while d < end {
        d = d.next_day().unwrap();
        n += u32::from(cal.is_workday(d).unwrap());
    }
    n
}

/// A project filed on Monday 28 September 2026 and its first stage started then with two cases: C1 ends on 30
/// September; C2 runs over the National Day holiday (1–7 October off, Saturday 10 October worked).
fn across_national_day() -> (OffsetDateTime, ProjectState, Vec<String>, CaseTimes) {
    let filed = datetime!(2026-09-28 10:00 +8);
    let st = registered(filed);
    let land: Vec<String> = st.project_type.stages[0].items.iter().map(|i| i.item.clone()).collect();
    let st = started(st, Stage::LandPlanning, &[(&land[0], "C1"), (&land[1], "C2")], filed);
    let c1 = times("C1", &land[0], filed, Some(datetime!(2026-09-30 16:00 +8)), &[]);
    (filed, st, land, c1)
}

#[test]
fn the_project_clock_counts_working_days_across_the_2026_national_day_holiday() {
    let cal = calendar();
    // C2 with two days of expert review not counted (§45).
    let (filed, st, land, c1) = across_national_day();
    for (now, elapsed, level) in [
        (datetime!(2026-10-09 15:00 +8), 4, Level::Green), // 29, 30 Sep, 8, 9 Oct
        (datetime!(2026-10-12 15:00 +8), 6, Level::Green), // + Sat 10 (worked), Mon 12
        (datetime!(2026-10-15 15:00 +8), 9, Level::Yellow), // + 13, 14, 15: 9 − 2 = 7 of 8
        (datetime!(2026-10-19 15:00 +8), 11, Level::Red),  // + 16, 19: 9 of 8
    ] {
        let c2 = times("C2", &land[1], filed, None, &[("expert_review", 2)]);
        let clock = clock(&st, &[c1.clone(), c2], now, &cal).unwrap();
        let s = &clock.stages[0];
        assert_eq!(s.span.elapsed_days, elapsed, "{now}");
        assert_eq!(s.span.elapsed_days, brute(&cal, filed, now), "against a day-by-day count");
        assert_eq!(s.span.counted_days, elapsed - 2);
        assert_eq!(s.span.excluded.get("expert_review"), Some(&2));
        assert_eq!(s.span.level, level, "{now}");
        assert_eq!(s.critical_case.as_deref(), Some("C2"));
        assert_eq!(clock.stages[1].span.level, Level::Waiting);
        assert_eq!(clock.to_permit.level, if elapsed - 2 > 30 { Level::Red } else { Level::Green });
        assert_eq!(clock.whole.elapsed_days, elapsed);
        let tl = &s.cases;
        assert_eq!((tl[0].from_day, tl[0].to_day, tl[0].critical), (0, 2, false));
        assert_eq!((tl[1].to_day, tl[1].critical), (elapsed, true));
    }
    // Finished on Monday 12 October: done within the limit, and the finish day ends the stage's clock.
    let c2 = times("C2", &land[1], filed, Some(datetime!(2026-10-12 11:00 +8)), &[("expert_review", 2)]);
    let clock = clock(&st, &[c1, c2], datetime!(2026-11-02 09:00 +8), &cal).unwrap();
    assert_eq!((clock.stages[0].span.elapsed_days, clock.stages[0].span.level), (6, Level::Done));
    assert_eq!(clock.stages[0].span.finished_at, Some(datetime!(2026-10-12 11:00 +8)));
    // The green channel's shorter limits.
    let green = apply(Some(st), &ProjectEvent::GreenChannelSet { on: true, reason: "重点项目".into() }, filed).unwrap();
    let c = oneseal_domain::project::clock(&green, &[], filed, &cal).unwrap();
    assert_eq!((c.stages[0].span.limit_days, c.to_permit.limit_days, c.whole.limit_days), (5, 19, 31));
}

/// Working minutes between two instants counted one minute at a time: 09:00–12:00 and 13:30–17:30 Beijing time
/// on working days.
fn brute_minutes(cal: &Calendar, from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    let mut t = from.to_offset(oneseal_domain::clock::CHINA);
    let mut n = 0;
    while t < to {
        let m = i64::from(t.hour()) * 60 + i64::from(t.minute());
        if cal.is_workday(t.date()).unwrap() && ((540..720).contains(&m) || (810..1050).contains(&m)) {
            n += 1;
        }
        t += time::Duration::minutes(1);
    }
    n
}

#[test]
fn the_1230_figures_measure_the_bundle_end_to_end_and_projects_from_filing_against_a_brute_force_count() {
    use oneseal_domain::dashboard::{compute, parse_targets, CaseFact, ProjectFact};
    let cal = calendar();
    let targets = parse_targets(&std::fs::read_to_string(root().join("catalog/targets.toml")).unwrap()).unwrap();
    let now = datetime!(2026-10-20 12:00 +8);
    let case = |no: &str, code: &str, sub: OffsetDateTime, fin: OffsetDateTime, lic: Option<OffsetDateTime>| CaseFact {
        case_no: no.into(),
        item_code: code.into(),
        department: "bureau-market".into(),
        channel: "online".into(),
        service_point: "online".into(),
        status: "completed".into(),
        submitted_at: sub,
        finished_at: Some(fin),
        deadline: None,
        immediate: false,
        last_license_at: lic,
    };
    let facts = vec![
        // Company setup as the bundle: application to last licence (the delivery later does not count).
        case(
            "B1",
            "company-setup-half-day",
            datetime!(2026-10-09 09:30 +8),
            datetime!(2026-10-12 16:00 +8),
            Some(datetime!(2026-10-09 11:00 +8)),
        ),
        case(
            "B2",
            "company-setup-half-day",
            datetime!(2026-09-30 16:00 +8),
            datetime!(2026-10-08 10:00 +8),
            Some(datetime!(2026-10-08 09:45 +8)),
        ),
        // One item of company setup on its own is not company setup.
        case(
            "I1",
            "11640100MB960001070100001000001",
            datetime!(2026-10-12 09:00 +8),
            datetime!(2026-10-12 09:10 +8),
            None,
        ),
        // Real-estate registration per case.
        case(
            "R1",
            "11640100MB960014130200039000001",
            datetime!(2026-10-13 14:00 +8),
            datetime!(2026-10-15 10:00 +8),
            None,
        ),
    ];
    let projects = vec![
        ProjectFact {
            code: "P1".into(),
            registered_at: datetime!(2026-08-03 10:00 +8),
            permit_at: Some(datetime!(2026-10-09 15:00 +8)),
            completed_at: None,
        },
        ProjectFact {
            code: "P2".into(),
            registered_at: datetime!(2026-07-01 09:00 +8),
            permit_at: Some(datetime!(2026-08-10 09:00 +8)), // not this month
            completed_at: Some(datetime!(2026-10-16 17:00 +8)),
        },
    ];
    let d = compute(&facts, &projects, &targets, now, &cal).unwrap();
    let days = |a, b| brute_minutes(&cal, a, b) as f64 / 420.0;
    let by = |id: &str| d.targets.iter().find(|t| t.id == id).unwrap().clone();
    let expect = [
        (
            "company-setup",
            vec![
                days(datetime!(2026-10-09 09:30 +8), datetime!(2026-10-09 11:00 +8)),
                days(datetime!(2026-09-30 16:00 +8), datetime!(2026-10-08 09:45 +8)),
            ],
        ),
        ("real-estate-registration", vec![days(datetime!(2026-10-13 14:00 +8), datetime!(2026-10-15 10:00 +8))]),
        ("project-approval", vec![days(datetime!(2026-08-03 10:00 +8), datetime!(2026-10-09 15:00 +8))]),
        ("project-whole-process", vec![days(datetime!(2026-07-01 09:00 +8), datetime!(2026-10-16 17:00 +8))]),
    ];
    for (id, xs) in expect {
        let t = by(id);
        let avg = xs.iter().sum::<f64>() / xs.len() as f64;
        assert_eq!(t.completed, xs.len() as i64, "{id}");
        let got = t.average_working_days.unwrap();
        assert!((got - avg).abs() < 1e-9, "{id}: {got} against the brute-force {avg}");
        assert_eq!(t.met, Some(avg <= t.max_working_days), "{id}");
    }
    // B2 crossed the holiday: 30 Sep 16:00–17:30 and 8 Oct 09:00–09:45 = 135 minutes.
    assert_eq!(brute_minutes(&cal, datetime!(2026-09-30 16:00 +8), datetime!(2026-10-08 09:45 +8)), 135);
}

/// The level a clock shows for a stage or span.
fn level_of(c: &ProjectClock, span: AlertSpan) -> Level {
    match span {
        AlertSpan::Stage(s) => c.stages.iter().find(|x| x.stage == s).unwrap().span.level,
        AlertSpan::ToPermit => c.to_permit.level,
        AlertSpan::Whole => c.whole.level,
    }
}

/// Each alert date is the first day on which the clock shows its level, and lies where a day-by-day count of
/// working days from the start reaches the threshold plus the days excluded.
fn check_against_the_clock(st: &ProjectState, cases: &[CaseTimes], cal: &Calendar, dues: &[DueAlert]) {
    for d in dues {
        let from = match d.span {
            AlertSpan::Stage(s) => st.progress(s).unwrap().started_at.unwrap(),
            _ => st.registered_at,
        };
        let (yellow, red) = level_days(d.limit_days);
        let n = if d.level == AlertLevel::Yellow { yellow } else { red } + d.excluded_days;
        let at = |date: time::Date| date.with_hms(15, 0, 0).unwrap().assume_offset(oneseal_domain::clock::CHINA);
        assert_eq!(brute(cal, from, at(d.on)), n, "{d:?}: the day-by-day count");
        assert!(brute(cal, from, at(d.on.previous_day().unwrap())) < n, "{d:?}: the first such day");
        let want = if d.level == AlertLevel::Yellow { Level::Yellow } else { Level::Red };
        let on = clock(st, cases, at(d.on), cal).unwrap();
        assert_eq!(level_of(&on, d.span), want, "{d:?}: the clock on the day");
        let before = clock(st, cases, at(d.on.previous_day().unwrap()), cal).unwrap();
        assert_ne!(level_of(&before, d.span), want, "{d:?}: the clock the day before");
    }
}

#[test]
fn project_alert_dates_are_where_the_clock_turns_yellow_and_red_across_the_2026_national_day_holiday() {
    use time::macros::date;
    let cal = calendar();
    let (filed, st, land, c1) = across_national_day();
    let c2 = times("C2", &land[1], filed, None, &[("expert_review", 2)]);
    let cases = [c1.clone(), c2.clone()];
    let dues = alert_dates(&st, &cases, &cal).unwrap();
    let on = |span: AlertSpan, level: AlertLevel| dues.iter().find(|d| d.span == span && d.level == level).unwrap();
    // The stage (limit 8): yellow at 7 counted days, red at 9; the 2 days of expert review push both out. Working
    // days after 28 Sep: 29, 30 Sep, 8, 9, Sat 10 (make-up), 12, 13, 14, 15 Oct (the 9th), 16, 19 (the 11th).
    let y = on(AlertSpan::Stage(Stage::LandPlanning), AlertLevel::Yellow);
    assert_eq!(
        (y.on, y.limit_days, y.excluded_days, y.critical_case.as_deref()),
        (date!(2026 - 10 - 15), 8, 2, Some("C2"))
    );
    assert_eq!(on(AlertSpan::Stage(Stage::LandPlanning), AlertLevel::Red).on, date!(2026 - 10 - 19));
    // The spans run from the filing with the critical path's excluded days: to the permit 30 (yellow at 24),
    // the whole process 50 (yellow at 40).
    assert_eq!(on(AlertSpan::ToPermit, AlertLevel::Yellow).excluded_days, 2);
    assert_eq!(on(AlertSpan::Whole, AlertLevel::Red).limit_days, 50);
    assert_eq!(dues.len(), 6, "the running stage and the two spans, yellow and red; the waiting stages none");
    check_against_the_clock(&st, &cases, &cal, &dues);

    // A critical case suspended now (§45 time running) holds the dates back until it resumes.
    let mut held = c2.clone();
    held.status = "suspended".into();
    let paused = alert_dates(&st, &[c1.clone(), held], &cal).unwrap();
    assert!(paused.is_empty(), "{paused:?}");
    // Resumed with 3 more days excluded: the dates move out by 3 working days.
    let c2_later = times("C2", &land[1], filed, None, &[("expert_review", 5)]);
    let later = alert_dates(&st, &[c1.clone(), c2_later.clone()], &cal).unwrap();
    let y2 = later.iter().find(|d| d.span == AlertSpan::Stage(Stage::LandPlanning) && d.level == AlertLevel::Yellow);
    assert_eq!(y2.map(|d| d.on), Some(date!(2026 - 10 - 20)), "15 Oct + 16, 19, 20");
    check_against_the_clock(&st, &[c1.clone(), c2_later], &cal, &later);

    // A stage completed: its dates are gone; the spans still run.
    let done = times("C2", &land[1], filed, Some(datetime!(2026-10-09 11:00 +8)), &[("expert_review", 2)]);
    let after = alert_dates(&st, &[c1.clone(), done], &cal).unwrap();
    assert!(after.iter().all(|d| !matches!(d.span, AlertSpan::Stage(_))), "{after:?}");
    assert_eq!(after.len(), 4);
    assert_eq!(after[0].critical_case.as_deref(), Some("C2"), "the spans wait for the last stage's critical case");

    // The green channel's shorter limit (5): yellow at 4 counted days, red at 6.
    let green = apply(Some(st), &ProjectEvent::GreenChannelSet { on: true, reason: "重点项目".into() }, filed).unwrap();
    let g = alert_dates(&green, &cases, &cal).unwrap();
    let gy = g.iter().find(|d| d.span == AlertSpan::Stage(Stage::LandPlanning) && d.level == AlertLevel::Yellow);
    assert_eq!(gy.map(|d| (d.limit_days, d.on)), Some((5, date!(2026 - 10 - 12))), "29, 30, 8, 9, Sat 10, 12 (4 + 2)");
    check_against_the_clock(&green, &cases, &cal, &g);
    assert_eq!(level_days(5), (4, 6));
    assert_eq!(level_days(8), (7, 9));
    assert_eq!(level_days(1), (1, 2));
    for s in ["land-planning", "to-permit", "whole"] {
        assert_eq!(AlertSpan::parse(s).map(|x| x.as_str()), Some(s));
    }
}
