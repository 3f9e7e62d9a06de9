//! 多评合一 over HTTP on both backends: a project commissions one combined evaluation covering three assessments,
//! submits the report, two departments pass their parts and one returns it, the intermediary revises (its time
//! shown apart on the project clock), every part passes, and the later stages' cases that need those reports start
//! with the report attached (免提交) — the same file and SHA-256. Bad input and the wrong people are refused with
//! problem+json in Chinese and English, and nothing is written. The project page's forms do the same with CSRF.

use super::channels::{form_post_any, multipart_post_any, session};
use super::projects::{case_nos, register, stage_body, start, work, CODE};
use super::*;

const REPORT_V1: &[u8] = b"%PDF-1.7\n% combined evaluation report v1\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const REPORT_V2: &[u8] = b"%PDF-1.7\n% combined evaluation report v2 (traffic revised)\n1 0 obj <<>> endobj\n%%EOF\n";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
const INTERMEDIARY: &str = "宁夏绿源工程咨询有限公司";

fn intermediary_uscc() -> String {
    uscc_with("91640100MA76A8KQ3")
}

fn assessments(code: &str) -> String {
    format!("/api/v1/projects/{code}/assessments")
}

fn commission_body(kinds: &[&str]) -> Value {
    json!({"assessments": kinds, "intermediary_name": INTERMEDIARY, "intermediary_uscc": intermediary_uscc()})
}

fn review(t: &TestApp, token: &str, kind: &str, outcome: &str, reason: &str) -> Resp {
    t.post(&format!("{}/{kind}/review", assessments(CODE)), Some(token), &json!({"outcome": outcome, "reason": reason}))
}

/// A refusal: its status and code, a Chinese title and an English detail, and nothing written.
fn refused(t: &TestApp, r: Resp, status: u16, code: &str, events: i64) {
    assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{}: {:?}", t.backend, r.body);
    assert!(r.body["title_zh"].as_str().is_some_and(|s| !s.is_empty()), "a Chinese title: {:?}", r.body);
    assert!(r.body["detail"].as_str().is_some_and(|s| !s.is_empty()), "an English detail: {:?}", r.body);
    assert_eq!(t.events(), events, "a refusal writes nothing: {:?}", r.body);
}

fn part<'a>(v: &'a Value, kind: &str) -> &'a Value {
    v["evaluation"]["parts"].as_array().unwrap().iter().find(|p| p["kind"] == kind).unwrap()
}

fn material<'a>(case: &'a Value, id: &str) -> &'a Value {
    case["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["material_id"] == id)
        .unwrap_or_else(|| panic!("material {id}: {:?}", case["materials"]))
}

fn asked_for(t: &TestApp, token: &str, stage: &str) -> Vec<String> {
    let f = t.get(&format!("/api/v1/projects/{CODE}/stages/{stage}/form"), Some(token));
    f.body["materials"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
}

#[test]
// Sessions expire as the clock moves: each advance signs everyone in again.
#[allow(unused_assignments)]
fn one_combined_evaluation_is_reviewed_once_per_department_and_serves_the_later_approvals() {
    each_backend(|t| {
        let mut owner = t.login("company");
        assert_eq!(register(t, &owner, CODE).status, 201);
        // The market regulator's department reviews nothing here: a stranger to the project.
        let market = t.login("regulator");
        let v = t.get(&assessments(CODE), Some(&owner));
        assert_eq!(v.status, 200, "{:?}", v.body);
        assert_eq!(v.body["evaluation"], Value::Null);
        let kinds: Vec<&str> =
            v.body["assessments"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
        for k in ["eia", "soil-water", "energy", "traffic", "geo-hazard", "seismic"] {
            assert!(kinds.contains(&k), "{k} is needed by an item of the type: {kinds:?}");
        }
        let eia = v.body["assessments"].as_array().unwrap().iter().find(|a| a["kind"] == "eia").unwrap();
        assert_eq!(eia["department"], "ecology");

        // Bad commissions: each refused with its code, nothing written.
        let events = t.events();
        let path = assessments(CODE);
        refused(t, t.post(&path, Some(&owner), &commission_body(&["eia"])), 422, "assessments_too_few", events);
        let r = t.post(&path, Some(&owner), &commission_body(&["eia", "eia", "traffic"]));
        refused(t, r, 422, "assessment_repeated", events);
        refused(
            t,
            t.post(&path, Some(&owner), &commission_body(&["eia", "nuclear"])),
            422,
            "assessment_unknown",
            events,
        );
        let mut b = commission_body(&["eia", "traffic"]);
        b["intermediary_uscc"] = json!("91640100MA76A8KQ3X");
        refused(t, t.post(&path, Some(&owner), &b), 422, "intermediary_uscc", events);
        b["intermediary_uscc"] = json!(intermediary_uscc());
        b["intermediary_name"] = json!("  ");
        refused(t, t.post(&path, Some(&owner), &b), 422, "intermediary_name", events);
        b["intermediary_name"] = json!(INTERMEDIARY);
        b["fee"] = json!(1);
        assert_eq!(t.post(&path, Some(&owner), &b).status, 422, "unknown fields are refused");
        assert_eq!(t.events(), events);
        // Only kinds the project's type needs: the small low-risk type has no site opinion or drawing review.
        let small = "2026-640100-47-03-000777";
        let reg = json!({
            "code": small, "name": "小型仓库", "project_type": "social-investment-small-low-risk",
            "owner_uscc": "91110000600037341L", "owner_name": "银川塞上餐饮有限公司",
            "location": "银川市西夏区", "floor_area_m2": 800.0, "investment_wan": 300.0
        });
        assert_eq!(t.post("/api/v1/projects", Some(&owner), &reg).status, 201);
        let events = t.events();
        let r = t.post(&assessments(small), Some(&owner), &commission_body(&["eia", "geo-hazard"]));
        refused(t, r, 422, "assessment_not_needed", events);
        // Who: strangers do not see the project (404); a department not yet reviewing anything neither.
        let reviewer = t.login("ecology-reviewer");
        assert_eq!(t.post(&path, Some(&market), &commission_body(&["eia", "traffic"])).status, 404);
        assert_eq!(t.post(&path, Some(&reviewer), &commission_body(&["eia", "traffic"])).status, 404);
        assert_eq!(t.get(&path, Some(&reviewer)).status, 404);
        assert_eq!(t.events(), events);

        // The owner commissions one evaluation for three assessments, reviewed by three departments.
        let r = t.post(&path, Some(&owner), &commission_body(&["eia", "soil-water", "traffic"]));
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        assert_eq!(r.body["evaluation"]["intermediary"]["uscc"], intermediary_uscc());
        let departments: Vec<&str> = r.body["evaluation"]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["department"].as_str().unwrap())
            .collect();
        assert_eq!(departments, ["ecology", "bureau-transport", "natural-resources"]);
        assert!(r.body["evaluation"]["parts"].as_array().unwrap().iter().all(|p| p["status"] == "awaiting_report"));
        let events = t.events();
        refused(
            t,
            t.post(&path, Some(&owner), &commission_body(&["eia", "traffic"])),
            409,
            "evaluation_exists",
            events,
        );

        // The departments see it now; nothing to review before the report.
        let (ecology, water, planning) =
            (t.login("ecology-reviewer"), t.login("bureau-transport-reviewer"), t.login("natural-resources-reviewer"));
        assert_eq!(t.get(&path, Some(&ecology)).status, 200);
        // Each finds the project in its list (its parts waiting for it counted), no other department does.
        let listed = |token: &str| t.get("/api/v1/projects", Some(token)).body["projects"].clone();
        assert_eq!(
            (listed(&ecology)[0]["code"].as_str(), &listed(&ecology)[0]["reviews_waiting"]),
            (Some(CODE), &json!(0))
        );
        assert_eq!(listed(&market), json!([]));
        assert_eq!(listed(&owner)[0].get("reviews_waiting"), None);
        refused(t, review(t, &ecology, "eia", "passed", ""), 409, "assessment_not_under_review", events);

        // The report: a PDF the caller uploaded; anything else refused, nothing written.
        let report = format!("{path}/report");
        let (_, png) = upload(t, &owner, "评估报告.png", PNG);
        refused(t, t.post(&report, Some(&owner), &json!({"attachment": png["id"]})), 422, "report_not_pdf", events);
        let citizen = t.login("citizen");
        let (_, theirs) = upload(t, &citizen, "别人的.pdf", REPORT_V1);
        let r = t.post(&report, Some(&owner), &json!({"attachment": theirs["id"]}));
        refused(t, r, 422, "unknown_attachment", events);
        let (status, v1) = upload(t, &owner, "多评合一评估报告.pdf", REPORT_V1);
        assert_eq!(status, 201);
        assert_eq!(t.post(&report, Some(&market), &json!({"attachment": v1["id"]})).status, 404);
        refused(t, t.post(&report, Some(&ecology), &json!({"attachment": v1["id"]})), 403, "forbidden", events);
        let r = t.post(&report, Some(&owner), &json!({"attachment": v1["id"]}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["evaluation"]["reports"][0]["sha256"], v1["sha256"], "the server's SHA-256");
        assert_eq!(part(&r.body, "eia")["status"], "under_review");
        assert_eq!(listed(&ecology)[0]["reviews_waiting"], 1, "the report waits for the department");
        let events = t.events();
        refused(t, t.post(&report, Some(&owner), &json!({"attachment": v1["id"]})), 409, "report_not_awaited", events);

        // Each department reviews its own part only.
        refused(t, review(t, &planning, "eia", "passed", ""), 403, "not_your_assessment", events);
        assert_eq!(review(t, &market, "eia", "passed", "").status, 404, "a department not reviewing: not found");
        refused(t, review(t, &owner, "eia", "passed", ""), 403, "forbidden", events);
        let water_clerk = t.login("bureau-transport-clerk");
        refused(t, review(t, &water_clerk, "soil-water", "passed", ""), 403, "forbidden", events);
        refused(t, review(t, &ecology, "eia", "maybe", ""), 422, "review_outcome", events);
        refused(t, review(t, &ecology, "seismic", "passed", ""), 422, "assessment_not_covered", events);
        refused(t, review(t, &planning, "traffic", "returned", " "), 422, "reason_required", events);
        refused(t, review(t, &planning, "traffic", "returned", &"长".repeat(2001)), 422, "reason_too_long", events);
        assert_eq!(review(t, &ecology, "eia", "passed", "").status, 200);
        assert_eq!(listed(&ecology)[0]["reviews_waiting"], 0);
        assert_eq!(review(t, &water, "soil-water", "passed", "同意").status, 200);
        let r = review(t, &planning, "traffic", "returned", "交通组织方案未分析高峰小时出入口排队长度");
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(part(&r.body, "traffic")["status"], "returned");
        assert_eq!(part(&r.body, "traffic")["reviews"][0]["reason"], "交通组织方案未分析高峰小时出入口排队长度");
        assert_eq!(r.body["evaluation"]["revisions"][0]["to"], Value::Null, "the intermediary revises");
        let events = t.events();
        refused(t, review(t, &planning, "traffic", "passed", ""), 409, "assessment_not_under_review", events);
        // Not passed yet: the stage form still asks for the reports.
        assert!(asked_for(t, &owner, "land-planning").contains(&"geo-hazard-report".to_string()));

        // Two working days later the intermediary's revision is in (uploaded by the assistant for the owner).
        t.clock.set(datetime!(2026-03-04 09:30 +8));
        owner = t.login("company");
        let helper = t.login(super::projects::ASSISTANT);
        let r = t.post(
            &format!("/api/v1/projects/{CODE}/assistants"),
            Some(&owner),
            &json!({"assistant": super::projects::ASSISTANT}),
        );
        assert_eq!(r.status, 200);
        let (_, v2) = upload(t, &helper, "多评合一评估报告（修改稿）.pdf", REPORT_V2);
        let r = t.post(&report, Some(&helper), &json!({"attachment": v2["id"]}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["evaluation"]["reports"][1]["on_behalf_of"], "company");
        assert_eq!(r.body["evaluation"]["reports"][1]["round"], 2);
        assert_eq!(part(&r.body, "eia")["status"], "passed", "a passed part is not reviewed again");
        assert_eq!(part(&r.body, "traffic")["status"], "under_review");
        assert_eq!(r.body["revision_days"], 2);
        let p = t.get(&format!("/api/v1/projects/{CODE}"), Some(&owner)).body;
        assert_eq!(p["clock"]["whole"]["excluded"]["intermediary"], 2, "{:?}", p["clock"]["whole"]);
        assert_eq!(p["clock"]["to_permit"]["excluded"]["intermediary"], 2);
        let planning = t.login("natural-resources-reviewer");
        let r = review(t, &planning, "traffic", "passed", "");
        assert_eq!(r.status, 200);
        assert_eq!(part(&r.body, "traffic")["reviews"][1]["round"], 2);
        assert!(r.body["evaluation"]["parts"].as_array().unwrap().iter().all(|p| p["status"] == "passed"));

        // The report is read by those who see the evaluation, each version by its round.
        let ecology = t.login("ecology-reviewer");
        let (status, bytes, _) = bytes_call(t, &report, Some(&ecology), None);
        assert_eq!((status, bytes.as_slice()), (200, REPORT_V2));
        let (status, bytes, _) = bytes_call(t, &format!("{report}?round=1"), Some(&owner), None);
        assert_eq!((status, bytes.as_slice()), (200, REPORT_V1));
        assert_eq!(bytes_call(t, &report, Some(&t.login("regulator")), None).0, 404);
        assert_eq!(bytes_call(t, &format!("{report}?round=3"), Some(&owner), None).0, 404);

        // Stage 1 asks for what the evaluation does not cover (地质灾害); stage 2 no longer asks for the traffic
        // report: the planning permit's case starts with the report attached.
        assert!(asked_for(t, &owner, "land-planning").contains(&"geo-hazard-report".to_string()));
        let r = start(t, &owner, "land-planning", &stage_body(t, &owner, "land-planning"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        for no in &case_nos(&r) {
            work(t, no);
        }
        owner = t.login("company");
        assert!(!asked_for(t, &owner, "engineering").contains(&"traffic-impact-report".to_string()));
        let r = start(t, &owner, "engineering", &stage_body(t, &owner, "engineering"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let eng = case_nos(&r);
        let c = t.get(&format!("/api/v1/cases/{}", eng[0]), Some(&owner)).body;
        let m = material(&c, "traffic-impact-report");
        assert_eq!((&m["attachment"], &m["digest"]), (&v2["id"], &v2["sha256"]), "{m}");
        work(t, &eng[0]);
        owner = t.login("company");
        let r = start(t, &owner, "construction", &stage_body(t, &owner, "construction"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        work(t, &case_nos(&r)[0]);

        // The construction permit needs three reports: the two the evaluation covers are attached (the same file
        // and SHA-256, 免提交); the energy review it does not cover is still asked for.
        owner = t.login("company");
        let asked = asked_for(t, &owner, "construction");
        assert!(asked.contains(&"energy-review".to_string()), "{asked:?}");
        assert!(!asked.contains(&"eia-report".to_string()) && !asked.contains(&"soil-water-plan".to_string()));
        let r = start(t, &owner, "construction", &stage_body(t, &owner, "construction"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let permit = case_nos(&r);
        let c = t.get(&format!("/api/v1/cases/{}", permit[0]), Some(&owner)).body;
        for id in ["eia-report", "soil-water-plan"] {
            let m = material(&c, id);
            assert_eq!((&m["attachment"], &m["digest"]), (&v2["id"], &v2["sha256"]), "{id}: {m}");
        }
        assert_eq!(material(&c, "energy-review")["attachment"], Value::Null);
        // The permit's reviewers read the report as a material of their case.
        let got = t.get(
            &format!("/api/v1/attachments/{}?case_no={}", v2["id"].as_str().unwrap(), permit[0]),
            Some(&t.login("bureau-construction-reviewer")),
        );
        assert_eq!(got.status, 200, "{:?}", got.body);
        assert_rebuild_identical(t);
    });
}

#[test]
fn the_owner_commissions_and_uploads_and_a_department_reviews_on_the_project_page() {
    each_backend(|t| {
        let owner = t.login("company");
        assert_eq!(register(t, &owner, CODE).status, 201);
        let (cookie, csrf) = session(t, "company");
        let here = format!("/me/projects/{CODE}");
        let (status, html) = page_get(t, &here, Some(&cookie));
        assert_eq!(status, 200);
        assert!(html.contains("data-testid=\"commission-form\""), "{html}");
        assert_eq!(html.matches("data-testid=\"assessment-option\"").count(), 6);
        let form = |token: &str, uscc: &str| {
            vec![
                ("_csrf", token.to_string()),
                ("assessment", "eia".to_string()),
                ("assessment", "soil-water".to_string()),
                ("intermediary_name", INTERMEDIARY.to_string()),
                ("intermediary_uscc", uscc.to_string()),
            ]
        };
        let path = format!("{here}/assessments");
        let events = t.events();
        assert_eq!(form_post_any(t, &path, &cookie, &[], &form("", &intermediary_uscc())).0, 403, "CSRF");
        let (status, _, html) = form_post_any(t, &path, &cookie, &[], &form(&csrf, "91640100MA76A8KQ30"));
        assert_eq!(status, 422);
        assert!(html.contains("data-testid=\"evaluation-error\"") && html.contains("中介机构统一社会信用代码有误"));
        assert_eq!(t.events(), events, "nothing commissioned");
        let (status, loc, _) = form_post_any(t, &path, &cookie, &[], &form(&csrf, &intermediary_uscc()));
        assert_eq!((status, loc), (303, format!("{here}#evaluation")));

        // The report: not a PDF is refused before anything is stored; a PDF goes in.
        let report = format!("{path}/report");
        let events = t.events();
        let (status, _, html) =
            multipart_post_any(t, &report, &cookie, &[("_csrf", csrf.clone())], &[("report", "a.png", PNG)]);
        assert_eq!(status, 422);
        assert!(html.contains("评估报告须为 PDF 文件"), "{html}");
        let (status, _, _) = multipart_post_any(t, &report, &cookie, &[], &[("report", "r.pdf", REPORT_V1)]);
        assert_eq!(status, 403, "CSRF");
        assert_eq!(t.events(), events);
        let (status, loc, _) = multipart_post_any(
            t,
            &report,
            &cookie,
            &[("_csrf", csrf.clone())],
            &[("report", "评估报告.pdf", REPORT_V1)],
        );
        assert_eq!((status, loc), (303, format!("{here}#evaluation")));
        let (_, html) = page_get(t, &here, Some(&cookie));
        assert_eq!(html.matches("data-testid=\"evaluation-part\"").count(), 2);
        assert!(html.contains("data-status=\"under_review\"") && !html.contains("data-testid=\"review-form\""));
        assert!(html.contains(&sha256_hex(REPORT_V1)), "the report's SHA-256 is shown");

        // The ecology department sees its part with a review form; the other part has none for it.
        let (eco_cookie, eco_csrf) = session(t, "ecology-reviewer");
        let (status, html) = page_get(t, "/me/projects", Some(&eco_cookie));
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("href=\"/me/projects/{CODE}\"")) && html.contains("多评合一待本部门审查 1 项"),
            "{html}"
        );
        let (status, html) = page_get(t, &here, Some(&eco_cookie));
        assert_eq!(status, 200);
        assert_eq!(html.matches("data-testid=\"review-form\"").count(), 1, "{html}");
        assert!(html.contains("/assessments/eia/review"));
        let review = format!("{path}/eia/review");
        let events = t.events();
        let returned = |token: &str, reason: &str| {
            vec![("_csrf", token.to_string()), ("outcome", "returned".to_string()), ("reason", reason.to_string())]
        };
        assert_eq!(form_post_any(t, &review, &eco_cookie, &[], &returned("", "x")).0, 403, "CSRF");
        let (status, _, html) = form_post_any(t, &review, &eco_cookie, &[], &returned(&eco_csrf, ""));
        assert_eq!(status, 422);
        assert!(html.contains("退回修改须说明理由"), "{html}");
        // Another department's reviewer is refused the part; the owner too.
        let (nr_cookie, nr_csrf) = session(t, "bureau-transport-reviewer");
        assert_eq!(form_post_any(t, &review, &nr_cookie, &[], &returned(&nr_csrf, "x")).0, 403);
        assert_eq!(form_post_any(t, &review, &cookie, &[], &returned(&csrf, "x")).0, 403);
        assert_eq!(t.events(), events);
        let (status, loc, _) =
            form_post_any(t, &review, &eco_cookie, &[], &returned(&eco_csrf, "大气环境影响预测不完整"));
        assert_eq!((status, loc), (303, format!("{here}#evaluation")));
        let (_, html) = page_get(t, &here, Some(&cookie));
        assert!(html.contains("data-kind=\"eia\" data-status=\"returned\"") && html.contains("大气环境影响预测不完整"));
        assert!(html.contains("data-testid=\"report-form\""), "the owner uploads the revision");
        // Strangers do not see the page.
        let (other, _) = session(t, "regulator");
        assert_eq!(page_get(t, &here, Some(&other)).0, 404);
    });
}

fn sha256_hex(b: &[u8]) -> String {
    oneseal_app::sha256_bytes_hex(b)
}
