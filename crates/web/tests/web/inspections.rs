//! 勘验预约 and 联合踏勘 through the real HTTP path on both backends: a live video inspection scheduled at a slot
//! with a room of the configured meeting service, its recording uploaded by tus and reviewed like any other; a
//! joint site inspection of three of one applicant's cases (食品经营许可, 公共场所卫生许可, and the fire safety
//! check whose inspection time §45 excludes from the clock), each department recording its own findings, one joint
//! result moving every case at once — or none when one cannot move; the joint inspection within a bundle case.

use serde_json::{json, Value};

use super::videos::{create, inspection_case, make_video, page_login, patch};
use super::*;

const TEMPLATE: &str = "https://meet.bureau.example/{room}";

fn with_meeting_service(t: &TestApp) {
    let mut s = t.app.video_settings();
    s.meeting_url = Some(TEMPLATE.into());
    t.app.set_video_settings(s);
}

fn schedule(t: &TestApp, token: &str, no: &str, body: Value) -> Resp {
    t.post(&format!("/api/v1/cases/{no}/inspection/schedule"), Some(token), &body)
}

fn case(t: &TestApp, no: &str) -> Value {
    let r = t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("clerk")));
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

fn inspection(t: &TestApp, token: &str, no: &str) -> Value {
    let r = t.get(&format!("/api/v1/cases/{no}/inspection"), Some(token));
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// The citizen's case of the item named `name` (with `form` values set), accepted and at its inspection step.
fn at_inspection(t: &TestApp, name: &str, form: &[(&str, Value)]) -> String {
    let citizen = t.login("citizen");
    let mut sub = submission(t, &t.item_code(name), "online");
    for (k, v) in form {
        sub["form"][*k] = v.clone();
    }
    let r = t.post("/api/v1/cases", Some(&citizen), &sub);
    assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
    let no = r.body["case_no"].as_str().unwrap().to_string();
    assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
    let c = drive_until(t, &no, Some("inspection"));
    assert_eq!(c["current_step"]["kind"], "inspection", "{name}");
    no
}

fn open_task(c: &Value, dept: &str) -> String {
    c["current_step"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["status"] == "open" && x["department"] == dept)
        .unwrap_or_else(|| panic!("no open task of {dept}: {c:?}"))["task_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn live_video_inspection_at_a_slot_with_a_meeting_room_and_the_same_review() {
    each_backend(|t| {
        let (no, citizen) = inspection_case(t);
        let inspector = t.login("bureau-social-reviewer");
        let slot = json!({"visit": "live_video", "start": "2026-03-03T10:00:00+08:00", "minutes": 30});
        let before = t.events();
        // No meeting service configured: nothing to link to.
        let r = schedule(t, &inspector, &no, slot.clone());
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("meeting_not_configured")), "{:?}", r.body);
        with_meeting_service(t);
        // Only the handling department schedules: not the applicant, not another department.
        assert_eq!(schedule(t, &citizen, &no, slot.clone()).status, 403);
        assert_eq!(schedule(t, &t.login("bureau-economy-reviewer"), &no, slot.clone()).status, 404);
        // Working days and opening hours only, in the future.
        for (start, minutes, why) in [
            ("2026-03-07T10:00:00+08:00", 30, "a Saturday"),
            ("2026-03-03T12:00:00+08:00", 30, "the lunch break"),
            ("2026-03-03T17:00:00+08:00", 60, "past closing"),
            ("2026-03-02T09:00:00+08:00", 30, "the past"),
            ("2026-03-03T10:00:00+08:00", 5, "too short"),
        ] {
            let r = schedule(t, &inspector, &no, json!({"visit": "live_video", "start": start, "minutes": minutes}));
            assert_eq!((r.status, r.body["code"].as_str()), (422, Some("bad_slot")), "{why}: {:?}", r.body);
            assert!(r.body["title_zh"].as_str().unwrap().contains("勘验时段"), "{:?}", r.body);
        }
        assert_eq!(t.events(), before, "refusals write nothing");
        let r = schedule(t, &inspector, &no, slot.clone());
        assert_eq!(r.status, 201, "{:?}", r.body);
        let s = &r.body["record"]["schedule"];
        let url = s["meeting_url"].as_str().unwrap();
        let room = url.strip_prefix("https://meet.bureau.example/oneseal-").unwrap();
        assert!(room.len() == 26 && room.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));
        assert_eq!((s["visit"].as_str(), s["minutes"].as_i64()), (Some("live_video"), Some(30)));
        assert_eq!(s["start"], "2026-03-03T10:00:00+08:00");
        assert_eq!(r.body["method"], "video", "a live session is a video inspection");
        assert_eq!(schedule(t, &inspector, &no, slot).body["code"], "inspection_already_scheduled");
        // The applicant sees the slot and the link, and is told.
        let mine = inspection(t, &citizen, &no);
        assert_eq!(mine["record"]["schedule"]["meeting_url"], url);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(t.app.drain_subscribers()).unwrap();
        let n = t.get("/api/v1/notifications", Some(&citizen)).body;
        assert!(n["notifications"].as_array().unwrap().iter().any(|x| x["kind"] == "inspection_scheduled"), "{n:?}");
        // The session's recording goes up through tus and through the same review.
        t.clock.set(time::macros::datetime!(2026-03-03 10:40 +8));
        let (citizen, inspector) = (t.login("citizen"), t.login("bureau-social-reviewer"));
        let video = make_video(2, "mp4");
        let up = create(t, &no, &citizen, video.len(), "live.mp4");
        assert_eq!(patch(t, &up, &citizen, 0, &video).status, 204);
        let v = inspection(t, &inspector, &no);
        assert_eq!(v["videos"].as_array().unwrap().len(), 1, "{v:?}");
        let r = t.post(
            &format!("/api/v1/cases/{no}/inspection/conclusion"),
            Some(&inspector),
            &json!({"conclusion": "pass", "opinion": "视频连线勘验符合要求"}),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        let c = case(t, &no);
        assert_ne!(c["current_step"]["kind"], "inspection", "the case moved on: {c:?}");
        assert_eq!(c["inspection"]["by_video"], true);
        t.clock.set(time::macros::datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn joint_site_inspection_moves_every_case_once_each_department_recorded() {
    each_backend(|t| {
        let food = at_inspection(t, "食品经营许可", &[]);
        let hygiene = at_inspection(t, "公共场所卫生许可", &[("business_area", json!(800))]);
        let fire = at_inspection(t, "公众聚集场所投入使用", &[("fire_procedure", json!("一般程序"))]);
        // §45: the fire check's inspection time is not counted — the clock stands while it runs.
        let fire_before = case(t, &fire);
        assert_eq!(fire_before["status"], "suspended", "{fire_before:?}");
        let citizen = t.login("citizen");
        let (economy, social) = (t.login("bureau-economy-reviewer"), t.login("bureau-social-reviewer"));

        // Another applicant's case cannot join.
        let company = t.login("company");
        let mut other = submission(t, &t.item_code("公共场所卫生许可"), "online");
        other["form"]["business_area"] = json!(800);
        other["applicant"] =
            json!({"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"});
        let r = t.post("/api/v1/cases", Some(&company), &other);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let other_no = r.body["case_no"].as_str().unwrap().to_string();
        t.act(&t.login("clerk"), &other_no, "accept", json!({}));
        drive_until(t, &other_no, Some("inspection"));
        let before = t.events();
        let slot = |with: Vec<&str>| json!({"visit": "on_site", "start": "2026-03-03T09:30:00+08:00", "minutes": 120, "with_cases": with});
        let r = schedule(t, &economy, &food, slot(vec![&hygiene, &other_no]));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("joint_other_applicant")), "{:?}", r.body);
        // An item whose inspection cannot be joined (施工许可 is not marked) cannot either; nor a case the
        // scheduler's department does not handle be the lead.
        let r = schedule(t, &social, &food, slot(vec![&hygiene]));
        assert_eq!(r.status, 404, "{:?}", r.body);
        assert_eq!(t.events(), before, "nothing written");

        // One visit for all three, led by the food section.
        let r = schedule(t, &economy, &food, slot(vec![&hygiene, &fire]));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["record"]["schedule"]["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("ins_"));
        for no in [&food, &hygiene, &fire] {
            let s = &inspection(t, &citizen, no)["record"]["schedule"];
            assert_eq!((s["id"].as_str(), s["lead"].as_str()), (Some(id.as_str()), Some("bureau-economy")));
            assert_eq!(s["cases"], json!([food, hygiene, fire]));
        }
        let findings = |tok: &str, no: &str, text: &str, ok: bool| {
            t.post(
                &format!("/api/v1/cases/{no}/inspection/findings"),
                Some(tok),
                &json!({"findings": text, "satisfied": ok}),
            )
        };
        // Findings come once the visit has begun.
        let r = findings(&economy, &food, "加工区布局合理", true);
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("inspection_not_held_yet")), "{:?}", r.body);
        t.clock.set(time::macros::datetime!(2026-03-03 11:00 +8));
        // A day later: sign in again.
        let (economy, social, fire_insp) =
            (t.login("bureau-economy-reviewer"), t.login("bureau-social-reviewer"), t.login("fire-reviewer"));
        let citizen = t.login("citizen");
        // A department records on its own case only: the fire inspectors cannot write the food section's findings
        // (the case is not theirs: not found, nothing written; within one case a wrong department is 403, below).
        let before = t.events();
        assert_eq!(findings(&fire_insp, &food, "越权", true).status, 404);
        assert_eq!(t.events(), before);
        assert_eq!(findings(&economy, &food, "加工区布局合理，生熟分开", true).status, 200);
        assert_eq!(findings(&social, &hygiene, "通风良好，卫生间距离符合要求", true).status, 200);
        // Not every department yet: the joint result waits, and writes nothing.
        let before = t.events();
        let joint = |tok: &str, no: &str| {
            t.post(
                &format!("/api/v1/cases/{no}/inspection/joint-result"),
                Some(tok),
                &json!({"opinion": "联合踏勘完成"}),
            )
        };
        let r = joint(&economy, &food);
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("findings_awaited")), "{:?}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("fire"), "{:?}", r.body);
        assert_eq!(t.events(), before);
        // Recorded while the fire case's clock stands (§45).
        assert_eq!(findings(&fire_insp, &fire, "疏散通道畅通，需补设应急照明一处", false).status, 200);
        // Only the lead department records the joint result.
        let r = joint(&social, &hygiene);
        assert_eq!((r.status, r.body["code"].as_str()), (403, Some("forbidden")), "{:?}", r.body);
        assert_eq!(t.events(), before + 1, "only the fire findings were written");

        // The lead's workbench shows the joint inspection, the findings and the joint result's form; another
        // department's shows its own findings form and no joint result.
        let (st, html) = page_get(t, &format!("/work/cases/{food}"), Some(&page_login(t, "bureau-economy-reviewer")));
        assert_eq!(st, 200);
        assert!(html.contains("data-testid=\"review-schedule\"") && html.contains("joint-result-form"), "lead page");
        assert!(html.contains(&hygiene) && html.contains("加工区布局合理"), "the other cases and the findings");
        let (_, html) = page_get(t, &format!("/work/cases/{fire}"), Some(&page_login(t, "fire-reviewer")));
        assert!(html.contains("findings-form") && !html.contains("joint-result-form"), "a member department's page");
        let r = joint(&economy, &food);
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["moved"], json!([food, hygiene, fire]));
        for no in [&food, &hygiene, &fire] {
            let c = case(t, no);
            assert_eq!(c["status"], "in_progress", "{no}: {c:?}");
            assert_eq!(c["current_step"]["kind"], "decision", "{no}: every case moved on");
            let rec = &inspection(t, &citizen, no)["record"];
            assert_eq!(rec["joint_result"]["schedule_id"], id.as_str());
            assert_eq!(rec["joint_result"]["satisfied"], no != &fire, "only the fire findings were not satisfied");
            assert_eq!(rec["findings"].as_array().unwrap().len(), 1, "each case carries its department's findings");
        }
        // §45: the fire case's clock stood from its inspection step (2026-03-02) to the result (2026-03-03): one
        // working day not counted, every date moved by one working day.
        let fire_after = case(t, &fire);
        assert_eq!(fire_after["clock_state"]["suspended_days"], 1, "{fire_after:?}");
        let d0 = fire_before["clock_state"]["deadline"].as_str().unwrap();
        let d1 = fire_after["clock_state"]["deadline"].as_str().unwrap();
        let parse = |d: &str| time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
        let cal = t.app.calendar();
        assert_eq!(cal.add_working_days(parse(d0), 1).unwrap(), parse(d1));
        let events = t.get(&format!("/api/v1/cases/{fire}/events"), Some(&fire_insp)).body;
        let done = events["events"].as_array().unwrap().iter().rev().find(|e| e["type"] == "task_completed").cloned();
        assert_eq!(
            done.unwrap()["opinion"],
            "疏散通道畅通，需补设应急照明一处",
            "the task completes with the findings"
        );
        // The applicant's case page shows the findings.
        let (_, html) = page_get(t, &format!("/me/cases/{fire}"), Some(&page_login(t, "citizen")));
        assert!(html.contains("需补设应急照明一处") && html.contains("联合踏勘"), "the case page shows the findings");
        t.clock.set(time::macros::datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn a_joint_result_moves_every_case_or_none() {
    each_backend(|t| {
        let food = at_inspection(t, "食品经营许可", &[]);
        let hygiene = at_inspection(t, "公共场所卫生许可", &[("business_area", json!(800))]);
        let (economy, social) = (t.login("bureau-economy-reviewer"), t.login("bureau-social-reviewer"));
        let slot = json!({"visit": "on_site", "start": "2026-03-02T14:00:00+08:00", "minutes": 60,
            "with_cases": [hygiene]});
        assert_eq!(schedule(t, &economy, &food, slot).status, 201);
        t.clock.set(time::macros::datetime!(2026-03-02 15:00 +8));
        for (tok, no) in [(&economy, &food), (&social, &hygiene)] {
            let r = t.post(
                &format!("/api/v1/cases/{no}/inspection/findings"),
                Some(tok),
                &json!({"findings": "符合要求", "satisfied": true}),
            );
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        // The applicant withdraws one application meanwhile: it cannot move, so neither does the other.
        let citizen = t.login("citizen");
        assert_eq!(t.act(&citizen, &hygiene, "withdraw", json!({"reason": "不开了"})).status, 200);
        let food_before = case(t, &food);
        let before = t.events();
        let r = t.post(
            &format!("/api/v1/cases/{food}/inspection/joint-result"),
            Some(&economy),
            &json!({"opinion": "联合踏勘完成"}),
        );
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("case_wrong_status")), "{:?}", r.body);
        assert_eq!(t.events(), before, "no event of either case");
        let food_after = case(t, &food);
        assert_eq!(food_after["version"], food_before["version"]);
        assert_eq!(food_after["current_step"]["kind"], "inspection", "the food case did not move alone");
        t.clock.set(time::macros::datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn a_bundle_inspects_jointly_within_its_case() {
    each_backend(|t| {
        let company = t.login("company");
        let sub = restaurant_submission(t);
        let r = t.post("/api/v1/cases", Some(&company), &sub);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
        let c = drive_until(t, &no, Some("inspection"));
        let (economy, transport) = (t.login("bureau-economy-reviewer"), t.login("bureau-transport-reviewer"));
        let (te, tt) = (open_task(&c, "bureau-economy"), open_task(&c, "bureau-transport"));
        let slot = json!({"visit": "on_site", "start": "2026-03-02T14:00:00+08:00", "minutes": 60});
        assert_eq!(schedule(t, &transport, &no, slot).status, 201, "either inspecting department may lead");
        t.clock.set(time::macros::datetime!(2026-03-02 14:30 +8));
        let findings = |tok: &str, task: &str| {
            t.post(
                &format!("/api/v1/cases/{no}/inspection/findings"),
                Some(tok),
                &json!({"task_id": task, "findings": "符合要求", "satisfied": true}),
            )
        };
        // The transport section cannot write the food section's findings.
        let before = t.events();
        let r = findings(&transport, &te);
        assert_eq!((r.status, r.body["code"].as_str()), (403, Some("forbidden")), "{:?}", r.body);
        assert_eq!(t.events(), before);
        assert_eq!(findings(&economy, &te).status, 200);
        assert_eq!(findings(&transport, &tt).status, 200);
        let r = t.post(
            &format!("/api/v1/cases/{no}/inspection/joint-result"),
            Some(&economy),
            &json!({"opinion": "一次勘验完成"}),
        );
        assert_eq!(r.status, 403, "the lead is the department that scheduled: {:?}", r.body);
        let r = t.post(
            &format!("/api/v1/cases/{no}/inspection/joint-result"),
            Some(&transport),
            &json!({"opinion": "一次勘验完成"}),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        let c = case(t, &no);
        assert_eq!(c["current_step"]["kind"], "decision", "{c:?}");
        t.clock.set(time::macros::datetime!(2026-03-02 10:00 +8));
    });
}
