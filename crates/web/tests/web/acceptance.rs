//! 联合验收 over HTTP on both backends: a project's completion stage — the lead department schedules one live
//! video session, five departments' inspectors each record their own checklist entries on their own task (one of
//! them from the workbench's form), a failed fire entry is corrected by the applicant while the clock stands (§45)
//! and checked again, the joint result moves the case on, the sealed opinion carries every department's results
//! and verifies, and the completion filing takes it; bad input and other departments' attempts are refused with
//! problem+json and nothing written.

use super::drawings::refused;
use super::projects::{case_nos, register, stage_body, start, work, CODE};
use super::*;

fn findings(t: &TestApp, user: &str, no: &str, body: Value) -> Resp {
    t.post(&format!("/api/v1/cases/{no}/inspection/findings"), Some(&t.login(user)), &body)
}

fn task_of(c: &Value, dept: &str) -> String {
    let tasks = c["current_step"]["tasks"].as_array().unwrap();
    let t = tasks.iter().find(|x| x["status"] == "open" && x["department"] == dept);
    t.unwrap_or_else(|| panic!("no open task of {dept}: {c}"))["task_id"].as_str().unwrap().to_string()
}

/// The project through its first three stages, every case worked; the completion stage's joint acceptance case
/// accepted and driven to its inspection step.
fn project_at_joint_acceptance(t: &TestApp) -> String {
    let owner = t.login("company");
    assert_eq!(register(t, &owner, CODE).status, 201);
    for (stage, at) in [
        ("land-planning", datetime!(2026-03-03 10:00 +8)),
        ("engineering", datetime!(2026-03-05 10:00 +8)),
        ("construction", datetime!(2026-03-09 10:00 +8)),
        ("construction", datetime!(2026-03-11 10:00 +8)),
    ] {
        let owner = t.login("company");
        let r = start(t, &owner, stage, &stage_body(t, &owner, stage));
        assert_eq!(r.status, 201, "{} {stage}: {:?}", t.backend, r.body);
        t.clock.set(at);
        for no in case_nos(&r) {
            work(t, &no);
        }
    }
    t.clock.set(datetime!(2026-03-16 09:00 +8));
    let owner = t.login("company");
    let r = start(t, &owner, "completion", &stage_body(t, &owner, "completion"));
    assert_eq!(r.status, 201, "{:?}", r.body);
    let no = case_nos(&r)[0].clone();
    assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
    let c = drive_until(t, &no, Some("inspection"));
    assert_eq!(c["current_step"]["step_id"], "inspect", "{c}");
    no
}

#[test]
// Sessions expire as the clock moves: tokens are taken again after each advance.
fn departments_record_their_checklists_on_one_visit_and_the_sealed_opinion_serves_the_completion_filing() {
    each_backend(|t| {
        let no = project_at_joint_acceptance(t);
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("clerk"))).body;
        let tasks = c["current_step"]["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 5, "one task per department of the checklist: {tasks:?}");
        let insp = t.get(&format!("/api/v1/cases/{no}/inspection"), Some(&t.login("fire-reviewer"))).body;
        assert_eq!(insp["allowed"], "either", "on site or by video: {insp}");
        assert_eq!(insp["checklist"][3]["department"], "fire");
        // Checklist inspection: a task is not completed one by one.
        let fire_task = task_of(&c, "fire");
        let events = t.events();
        let r = t.act(&t.login("fire-reviewer"), &no, "complete", json!({"task_id": fire_task, "opinion": "合格"}));
        refused(t, r, 409, "checklist_inspection", events);

        // One live video session, scheduled by the lead department (bureau-construction).
        let mut vs = t.app.video_settings();
        vs.meeting_url = Some("https://meet.bureau.example/{room}".into());
        t.app.set_video_settings(vs);
        let lead = t.login("bureau-construction-reviewer");
        let slot = datetime!(2026-03-16 10:00 +8);
        let body = json!({"visit": "live_video", "start": "2026-03-16T10:00:00+08:00", "minutes": 90});
        let events = t.events();
        let r = t.post(&format!("/api/v1/cases/{no}/inspection/schedule"), Some(&t.login("fire-reviewer")), &body);
        refused(t, r, 403, "forbidden", events);
        let r = t.post(&format!("/api/v1/cases/{no}/inspection/schedule"), Some(&lead), &body);
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        assert!(r.body["record"]["schedule"]["meeting_url"].as_str().is_some_and(|u| u.contains("/oneseal-")));
        assert_eq!(r.body["method"], "video", "a live session is a video inspection");
        let pass = |item: &str| json!({"item": item, "passed": true});
        let events = t.events();
        let r = findings(t, "fire-reviewer", &no, json!({"findings": "x", "checklist": [pass("fire")]}));
        refused(t, r, 409, "inspection_not_held_yet", events);
        t.clock.set(slot);

        // Refusals, each writing nothing.
        let events = t.events();
        let fire =
            |checklist: Value| json!({"task_id": fire_task, "findings": "消防设施现场查验", "checklist": checklist});
        let cases: Vec<(&str, Value, u16, &str)> = vec![
            ("fire-reviewer", fire(json!([pass("fire"), pass("planning")])), 403, "checklist_entry_not_yours"),
            ("housing-reviewer", fire(json!([pass("fire")])), 403, "forbidden"),
            ("health-reviewer", fire(json!([pass("fire")])), 404, "not_found"),
            ("fire-reviewer", fire(json!([pass("fire"), pass("sprinklers")])), 422, "checklist_entries"),
            ("fire-reviewer", fire(json!([])), 422, "checklist_entries"),
            ("fire-reviewer", fire(json!([pass("fire"), pass("fire")])), 422, "checklist_entries"),
            ("fire-reviewer", fire(json!([{"item": "fire", "passed": false}])), 422, "checklist_note_required"),
            (
                "fire-reviewer",
                json!({"task_id": fire_task, "findings": "x", "satisfied": true, "checklist": [{"item": "fire", "passed": false, "note": "缺"}]}),
                422,
                "satisfied_mismatch",
            ),
            ("fire-reviewer", fire(json!([{"item": "fire", "passed": "yes"}])), 422, "invalid_body"),
        ];
        for (user, body, status, code) in cases {
            let r = findings(t, user, &no, body);
            if code == "invalid_body" {
                assert!(r.status == 400 || r.status == 422, "{:?}", r.body);
                assert_eq!(t.events(), events);
                continue;
            }
            refused(t, r, status, code, events);
        }
        let r = findings(t, "fire-reviewer", &no, fire(json!([pass("fire"), pass("sprinklers")])));
        assert!(r.body["detail"].as_str().unwrap().contains("sprinklers"), "the problem names the entry: {:?}", r.body);
        let r = findings(t, "fire-reviewer", &no, fire(json!([])));
        assert!(r.body["detail"].as_str().unwrap().contains("fire"), "the problem names the missing entry");

        // Each department records its own entries on its own task; fire finds a failure.
        let failed = json!({"item": "fire", "passed": false, "note": "三层疏散指示标志缺失两处"});
        let r = findings(t, "fire-reviewer", &no, fire(json!([failed])));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let again = findings(t, "fire-reviewer", &no, fire(json!([pass("fire")])));
        refused(t, again, 409, "findings_already_recorded", t.events());
        for (user, item) in [
            ("bureau-construction-reviewer", "archives"),
            ("natural-resources-reviewer", "planning"),
            ("housing-reviewer", "quality"),
        ] {
            let r = findings(t, user, &no, json!({"findings": "符合要求", "checklist": [pass(item)]}));
            assert_eq!(r.status, 200, "{user}: {:?}", r.body);
        }
        // The lead's joint result waits for every department.
        let joint = |token: &str| {
            t.post(&format!("/api/v1/cases/{no}/inspection/joint-result"), Some(token), &json!({"opinion": "联合验收"}))
        };
        let events = t.events();
        let r = joint(&t.login("bureau-construction-reviewer"));
        assert!(r.body["detail"].as_str().unwrap().contains("civil-air-defence"), "{:?}", r.body);
        refused(t, r, 409, "findings_awaited", events);
        // Civil air defence records from its workbench: its own entry only, with a form (CSRF).
        let (cookie, csrf) = super::channels::session(t, "civil-air-defence-reviewer");
        let (status, html) = page_get(t, &format!("/work/cases/{no}"), Some(&cookie));
        assert_eq!(status, 200);
        assert!(
            html.contains("data-testid=\"checklist-form\"") && html.contains("data-testid=\"entry-civil-defence\"")
        );
        assert!(!html.contains("data-testid=\"entry-fire\""), "another department's entry is not offered");
        let cad_task = task_of(&c, "civil-air-defence");
        let form = |csrf: String, result: &str| {
            vec![
                ("_csrf", csrf),
                ("action", "checklist".to_string()),
                ("task_id", cad_task.clone()),
                ("entries", "civil-defence".to_string()),
                ("result-civil-defence", result.to_string()),
                ("note-civil-defence", String::new()),
                ("findings", "防护密闭门启闭正常，通风设备运转正常".to_string()),
            ]
        };
        let path = format!("/work/cases/{no}/act");
        let case_events =
            || t.get(&format!("/api/v1/cases/{no}/events"), Some(&t.login("company"))).body.to_string().len();
        let events = case_events();
        let (status, _, _) = super::channels::form_post_any(t, &path, &cookie, &[], &form("bad".into(), "passed"));
        assert_eq!(status, 403, "a form without the session's CSRF token is refused");
        let (status, _, html) = super::channels::form_post_any(t, &path, &cookie, &[], &form(csrf.clone(), "failed"));
        assert_eq!(status, 422, "a failed entry without a note is refused on the page too");
        assert!(html.contains("不合格的清单项须填写说明"), "the page says why in Chinese");
        assert_eq!(case_events(), events, "a refused form writes nothing on the case (reading it is logged)");
        let (status, location) = super::channels::form_post(t, &path, &cookie, &[], &form(csrf, "passed"));
        assert_eq!((status, location), (303, format!("/work/cases/{no}?done=checklist")));

        // The joint result names the failed entry: 整改, the clock stops.
        let fire_tok = t.login("fire-reviewer");
        let events = t.events();
        refused(t, joint(&fire_tok), 403, "forbidden", events);
        let before = t.get(&format!("/api/v1/cases/{no}"), Some(&lead)).body;
        let r = joint(&t.login("bureau-construction-reviewer"));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("company"))).body;
        assert_eq!((c["status"].as_str(), c["current_step"]["step_id"].as_str()), (Some("suspended"), Some("inspect")));
        let jr = &c["inspection"]["joint_result"];
        assert_eq!(jr["satisfied"], false);
        assert_eq!(jr["failed"], json!([{"item": "fire", "department": "fire"}]), "{jr}");
        let events = t.events();
        refused(
            t,
            findings(t, "fire-reviewer", &no, fire(json!([pass("fire")]))),
            409,
            "rectification_awaited",
            events,
        );
        refused(t, joint(&t.login("bureau-construction-reviewer")), 409, "rectification_awaited", events);

        // Two working days later the applicant reports the correction; staff cannot report it for them.
        t.clock.set(datetime!(2026-03-18 09:30 +8));
        let rect = |token: &str, report: &str| {
            t.post(&format!("/api/v1/cases/{no}/inspection/rectification"), Some(token), &json!({"report": report}))
        };
        let events = t.events();
        refused(t, rect(&t.login("fire-reviewer"), "已整改"), 403, "forbidden", events);
        refused(t, rect(&t.login("company"), "  "), 422, "empty", events);
        let r = rect(&t.login("company"), "已补设三层疏散指示标志两处");
        assert_eq!(r.status, 200, "{:?}", r.body);
        refused(t, rect(&t.login("company"), "再报一次"), 409, "no_rectification_awaited", t.events());
        let after = t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("company"))).body;
        assert_eq!(after["status"], "in_progress");
        let moved = |v: &Value| v["clock"]["deadline"].as_str().unwrap().to_string();
        assert_ne!(moved(&before), moved(&after), "the correction's working days are not counted: {}", after["clock"]);
        // Round 2: only the failed entry, only by its department.
        let events = t.events();
        let r = findings(t, "housing-reviewer", &no, json!({"findings": "x", "checklist": [pass("quality")]}));
        refused(t, r, 409, "findings_already_recorded", events);
        refused(
            t,
            findings(t, "fire-reviewer", &no, fire(json!([pass("fire"), pass("fire")]))),
            422,
            "checklist_entries",
            events,
        );
        let r =
            findings(t, "fire-reviewer", &no, fire(json!([{"item": "fire", "passed": true, "note": "复查：已补设"}])));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = joint(&t.login("bureau-construction-reviewer"));
        assert_eq!((r.status, r.body["moved"].clone()), (200, json!([no.clone()])), "{:?}", r.body);
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("clerk"))).body;
        assert_eq!(c["current_step"]["kind"], "decision", "{c}");
        assert_eq!(c["inspection"]["joint_result"]["satisfied"], true);
        assert!(
            c["inspection"]["by_video"].as_bool().unwrap_or(false),
            "the result came by video: {}",
            c["inspection"]
        );

        // The sealed opinion carries each department's checklist results and verifies.
        let c = drive_to_completion(t, &no);
        let opinion = c["licenses"][0].as_str().unwrap_or_else(|| panic!("a sealed opinion: {c}")).to_string();
        let v = t.post("/api/v1/verify", None, &json!({ "input": opinion }));
        assert_eq!(v.body["status"], "valid", "{:?}", v.body);
        let text = v.body["public"]["fields"]["checklist"].as_str().unwrap_or_default().to_string();
        for part in [
            "竣工资料与城建档案（审批服务局）：合格",
            "银川市消防救援支队·消防设施",
            "整改后合格（fire-reviewer，2026-03-18 09:30）",
            "人防工程：防护密闭门、通风（人防）：合格（civil-air-defence-reviewer，2026-03-16 10:00）",
            "规划核实",
            "工程质量",
        ] {
            assert!(text.contains(part), "the opinion carries {part}: {text}");
        }
        // The printed opinion (PDF) verifies too, and shows the results.
        let (status, pdf, _) =
            bytes_call(t, &format!("/api/v1/me/licenses/{opinion}/pdf"), Some(&t.login("company")), None);
        assert!(status == 200 && pdf.starts_with(b"%PDF-"), "{status}");
        let (status, body, _) = bytes_call(t, "/api/v1/verify/pdf", None, Some(&pdf));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, v["status"].as_str()), (200, Some("valid")), "{v}");
        let (_, text, squeezed) = pdf_sample(&format!("joint-acceptance-opinion-{}", t.backend), &pdf);
        assert!(squeezed.contains("各部门验收清单结果") && squeezed.contains("整改后合格"), "{text}");
        // The applicant's page shows every department's results and the correction.
        let (cookie, _) = super::channels::session(t, "company");
        let (status, html) = page_get(t, &format!("/me/cases/{no}"), Some(&cookie));
        assert_eq!(status, 200);
        assert!(html.contains("data-testid=\"checklist-results\"") && html.contains("三层疏散指示标志缺失两处"));
        assert!(html.contains("已补设三层疏散指示标志两处"), "the correction report is shown");

        // The completion filing follows and takes the sealed opinion for its material.
        let owner = t.login("company");
        let r = start(t, &owner, "completion", &stage_body(t, &owner, "completion"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let filing_no = case_nos(&r)[0].clone();
        let filing = t.get(&format!("/api/v1/cases/{filing_no}"), Some(&owner)).body;
        let m =
            filing["materials"].as_array().unwrap().iter().find(|m| m["material_id"] == "joint-acceptance").cloned();
        assert_eq!(m.map(|m| m["license"].clone()), Some(json!(opinion)), "{:?}", filing["materials"]);
        work(t, &filing_no);
        let p = t.get(&format!("/api/v1/projects/{CODE}"), Some(&t.login("company"))).body;
        assert_eq!(p["clock"]["whole"]["level"], "done", "{:?}", p["clock"]["whole"]);
        assert_rebuild_identical(t);
    });
}
