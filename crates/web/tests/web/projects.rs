//! 工程建设项目 over HTTP on both backends: a social-investment project from its filing to completion acceptance —
//! one submission per stage starting its cases in parallel, sequential items started once their predecessors
//! complete, materials carried, the planning permit of an earlier stage reused, an assistant (代办员) acting for
//! the owner — its clocks and timeline; who sees and acts on a project; bad input answered with problem+json and
//! nothing written; a rebuild gives the same projections.

use super::*;

pub(super) const CODE: &str = "2026-640100-47-03-000123";
pub(super) const GENERAL: &str = "social-investment-general";
pub(super) const ASSISTANT: &str = "bureau-general-clerk";

pub(super) fn register(t: &TestApp, token: &str, code: &str) -> Resp {
    t.post(
        "/api/v1/projects",
        Some(token),
        &json!({
            "code": code, "name": "银川塞上餐饮中央厨房项目", "project_type": GENERAL,
            "owner_uscc": "91110000600037341L", "owner_name": "银川塞上餐饮有限公司",
            "location": "银川市金凤区阅海湾中央商务区", "floor_area_m2": 12000.0, "investment_wan": 8000.0
        }),
    )
}

/// The stage's one form filled in, with every material it still asks for.
pub(super) fn stage_body(t: &TestApp, token: &str, stage: &str) -> Value {
    let f = t.get(&format!("/api/v1/projects/{CODE}/stages/{stage}/form"), Some(token));
    assert_eq!(f.status, 200, "{:?}", f.body);
    let schema: FormSchema = serde_json::from_value(f.body["form"].clone()).unwrap();
    assert!(!schema.fields.iter().any(|x| x.key == "project_code"), "the project fills its code");
    let materials: Vec<Value> = f.body["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| json!({"material_id": m["id"], "file_name": format!("{}.pdf", m["id"].as_str().unwrap())}))
        .collect();
    json!({ "form": fill(&schema), "materials": materials, "phone": "13900000000" })
}

pub(super) fn start(t: &TestApp, token: &str, stage: &str, body: &Value) -> Resp {
    t.post(&format!("/api/v1/projects/{CODE}/stages/{stage}"), Some(token), body)
}

/// Accept a case at the general window and work it to completion (a filing completes when it is submitted).
pub(super) fn work(t: &TestApp, no: &str) {
    if t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("clerk"))).body["status"] == "completed" {
        return;
    }
    let r = t.act(&t.login("clerk"), no, "accept", json!({}));
    assert_eq!(r.status, 200, "{}: accept {no}: {:?}", t.backend, r.body);
    let c = drive_to_completion(t, no);
    assert_eq!(c["status"], "completed");
}

pub(super) fn case_nos(r: &Resp) -> Vec<String> {
    r.body["receipts"].as_array().unwrap().iter().map(|x| x["case_no"].as_str().unwrap().to_string()).collect()
}

fn instant(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(v.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap()
}

#[test]
// Sessions expire as the clock moves: each advance signs the owner and the assistant in again.
#[allow(unused_assignments)]
fn a_social_investment_project_goes_from_filing_to_completion_acceptance() {
    each_backend(|t| {
        let mut owner = t.login("company");
        // The citizen is the company's authorised agent (demo data): they see its projects. The regulator is not.
        let citizen = t.login("citizen");
        let outsider = t.login("regulator");

        // Registration: the code is checked, unique, and only the owner's people register for it.
        let bad = register(t, &owner, "2026-640100-47-09-000123");
        assert_eq!((bad.status, bad.body["code"].as_str()), (422, Some("project_code_kind")), "{:?}", bad.body);
        let events = t.events();
        let r = register(t, &outsider, CODE);
        assert_eq!(r.status, 403, "{:?}", r.body);
        assert_eq!(t.events(), events, "a refused registration writes nothing");
        let r = register(t, &owner, CODE);
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        assert_eq!(r.body["project_type"]["code"], GENERAL);
        let again = register(t, &owner, CODE);
        assert_eq!((again.status, again.body["code"].as_str()), (409, Some("project_exists")));

        // Others do not see it; the owner does.
        assert_eq!(t.get(&format!("/api/v1/projects/{CODE}"), Some(&outsider)).status, 404);
        assert_eq!(t.get("/api/v1/projects", Some(&outsider)).body["projects"], json!([]));
        assert_eq!(t.get(&format!("/api/v1/projects/{CODE}"), Some(&citizen)).status, 200);
        let list = t.get("/api/v1/projects", Some(&owner));
        assert_eq!(list.body["projects"][0]["code"], CODE, "{:?}", list.body);

        // Stage 1 (立项用地规划许可): one submission starts both items in parallel.
        let early = start(t, &owner, "engineering", &json!({}));
        assert_eq!((early.status, early.body["code"].as_str()), (422, Some("earlier_stage_open")), "{:?}", early.body);
        let events = t.events();
        let mut body = stage_body(t, &owner, "land-planning");
        body["form"]["contact_phone"] = json!("not a phone");
        let r = start(t, &owner, "land-planning", &body);
        assert_eq!(r.status, 422, "a bad field refuses the whole stage: {:?}", r.body);
        assert_eq!(t.events(), events, "no case of a refused stage is started");
        let r = start(t, &owner, "land-planning", &stage_body(t, &owner, "land-planning"));
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        let land = case_nos(&r);
        assert_eq!(land.len(), 2);
        let c = t.get(&format!("/api/v1/cases/{}", land[0]), Some(&owner)).body;
        assert_eq!(c["form"]["project_code"], CODE, "the project fills its code into every case");
        let twice = start(t, &owner, "land-planning", &stage_body(t, &owner, "land-planning"));
        assert_eq!((twice.status, twice.body["code"].as_str()), (422, Some("nothing_to_start")));
        let p = t.get(&format!("/api/v1/projects/{CODE}"), Some(&owner)).body;
        assert_eq!(p["clock"]["stages"][0]["level"], "green", "{:?}", p["clock"]);
        t.clock.set(datetime!(2026-03-04 10:30 +8));
        for no in &land {
            work(t, no);
        }
        t.clock.set(datetime!(2026-03-05 09:15 +8));
        owner = t.login("company");

        // The owner authorises the bureau's assistant (代办员), who submits the next stages for the owner.
        let mut helper = t.login(ASSISTANT);
        assert_eq!(t.get(&format!("/api/v1/projects/{CODE}"), Some(&helper)).status, 404);
        let r = t.post(&format!("/api/v1/projects/{CODE}/assistants"), Some(&helper), &json!({"assistant": ASSISTANT}));
        assert_eq!(r.status, 403, "only an applicant's role authorises: {:?}", r.body);
        let outsider = t.login("regulator");
        let r =
            t.post(&format!("/api/v1/projects/{CODE}/assistants"), Some(&outsider), &json!({"assistant": ASSISTANT}));
        assert_eq!(r.status, 403, "{:?}", r.body);
        let r = t.post(&format!("/api/v1/projects/{CODE}/assistants"), Some(&owner), &json!({"assistant": "citizen"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("unknown_assistant")));
        let r = t.post(&format!("/api/v1/projects/{CODE}/assistants"), Some(&owner), &json!({"assistant": ASSISTANT}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(t.get("/api/v1/projects", Some(&helper)).body["projects"][0]["code"], CODE);

        // Stage 2 (工程建设许可) by the assistant: the land-use planning permit stands for the land proof.
        let r = start(t, &helper, "engineering", &stage_body(t, &helper, "engineering"));
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        let eng = case_nos(&r);
        let c = t.get(&format!("/api/v1/cases/{}", eng[0]), Some(&owner)).body;
        let land_proof = c["materials"].as_array().unwrap().iter().find(|m| m["material_id"] == "land-proof").cloned();
        assert!(land_proof.is_some_and(|m| m["license"].is_string()), "licence reused: {:?}", c["materials"]);
        t.clock.set(datetime!(2026-03-09 15:00 +8));
        for no in &eng {
            work(t, no);
        }
        t.clock.set(datetime!(2026-03-10 10:00 +8));
        (owner, helper) = (t.login("company"), t.login(ASSISTANT));

        // Stage 3 (施工许可): the drawing review first, the permit after it — reusing the planning permit. The
        // drawings are uploaded once, as a DWG (多图联审 accepts DWG and DXF as files), and serve both cases.
        let dwg = [b"AC1032".as_slice(), &[0u8; 64]].concat();
        let (status, file) = upload(t, &helper, "总平面图.dwg", &dwg);
        assert_eq!((status, file["content_type"].as_str()), (201, Some("image/vnd.dwg")), "{file}");
        let (status, dxf) =
            upload(t, &helper, "平面.dxf", b"999\nexported\n  0\nSECTION\n  2\nHEADER\n  0\nENDSEC\n  0\nEOF\n");
        assert_eq!((status, dxf["content_type"].as_str()), (201, Some("image/vnd.dxf")), "{dxf}");
        assert_eq!(upload(t, &helper, "假图纸.dwg", b"AC10XYnot a drawing").1["code"], "attachment_type");
        let mut body = stage_body(t, &helper, "construction");
        for m in body["materials"].as_array_mut().unwrap() {
            if m["material_id"] == "construction-drawings" {
                m["attachment"] = file["id"].clone();
            }
        }
        let r = start(t, &helper, "construction", &body);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let review = case_nos(&r);
        assert_eq!(review.len(), 1, "the permit waits for the drawing review");
        let c = t.get(&format!("/api/v1/cases/{}", review[0]), Some(&owner)).body;
        let planning =
            c["materials"].as_array().unwrap().iter().find(|m| m["material_id"] == "planning-permit").cloned();
        assert!(planning.is_some_and(|m| m["license"].is_string()), "{:?}", c["materials"]);
        t.clock.set(datetime!(2026-03-11 16:00 +8));
        work(t, &review[0]);
        // One consolidated review result, issued under the bureau's seal (a verifiable electronic licence).
        let c = t.get(&format!("/api/v1/cases/{}", review[0]), Some(&t.login("company"))).body;
        let certificate =
            c["licenses"][0].as_str().unwrap_or_else(|| panic!("a sealed review result: {c}")).to_string();
        let v = t.post("/api/v1/verify", None, &json!({ "input": certificate }));
        assert_eq!(v.body["status"], "valid", "{:?}", v.body);
        owner = t.login("company");
        let r = start(t, &owner, "construction", &stage_body(t, &owner, "construction"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let permit = case_nos(&r);
        let c = t.get(&format!("/api/v1/cases/{}", permit[0]), Some(&owner)).body;
        let drawings = c["materials"].as_array().unwrap().iter().find(|m| m["material_id"] == "construction-drawings");
        let drawings = drawings.unwrap_or_else(|| panic!("the drawings given for the review are carried: {c}"));
        assert_eq!((&drawings["attachment"], &drawings["digest"]), (&file["id"], &file["sha256"]), "{drawings}");
        // The permit's reviewers read the same drawing set, as a download.
        let id = file["id"].as_str().unwrap();
        let reviewer = t.login("bureau-construction-reviewer");
        let got = t.get(&format!("/api/v1/attachments/{id}?case_no={}", permit[0]), Some(&reviewer));
        assert_eq!(got.status, 200, "{:?}", got.body);
        assert_eq!(got.header("content-disposition"), Some("attachment"));
        t.clock.set(datetime!(2026-03-13 11:00 +8));
        work(t, &permit[0]);
        t.clock.set(datetime!(2026-03-16 09:30 +8));
        (owner, helper) = (t.login("company"), t.login(ASSISTANT));

        // Stage 4 (竣工验收): joint acceptance, then the completion filing.
        let r = start(t, &owner, "completion", &stage_body(t, &owner, "completion"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        t.clock.set(datetime!(2026-03-18 14:00 +8));
        work(t, &case_nos(&r)[0]);
        (owner, helper) = (t.login("company"), t.login(ASSISTANT));
        let r = start(t, &helper, "completion", &stage_body(t, &helper, "completion"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        // The completion filing follows: the sealed joint acceptance opinion stands for its material.
        let filing = t.get(&format!("/api/v1/cases/{}", case_nos(&r)[0]), Some(&helper)).body;
        let joint =
            filing["materials"].as_array().unwrap().iter().find(|m| m["material_id"] == "joint-acceptance").cloned();
        assert!(joint.is_some_and(|m| m["license"].is_string()), "{:?}", filing["materials"]);
        work(t, &case_nos(&r)[0]);

        let p = t.get(&format!("/api/v1/projects/{CODE}"), Some(&owner)).body;
        for s in p["clock"]["stages"].as_array().unwrap() {
            assert_eq!(s["level"], "done", "{:?}", s);
            assert!(s["critical_case"].is_string());
        }
        assert_eq!(p["clock"]["to_permit"]["level"], "done");
        assert_eq!(p["clock"]["whole"]["level"], "done");
        assert_eq!(p["clock"]["whole"]["limit_days"], 50);
        // Filing 2 March to the permit 13 March: 9 working days; to completion 18 March: 12.
        assert_eq!(p["clock"]["to_permit"]["elapsed_days"], 9, "{:?}", p["clock"]["to_permit"]);
        assert_eq!(p["clock"]["whole"]["elapsed_days"], 12);
        let timeline = &p["clock"]["stages"][2]["cases"];
        assert_eq!(timeline.as_array().unwrap().len(), 2);
        assert_eq!(timeline[1]["critical"], true, "the permit ends the stage");

        // The "1230" figures: construction from filing to permit and to completion, against a brute-force
        // count of working minutes between the project's registration and its cases' completion.
        let cal = t.app.calendar();
        let filed = instant(&p["registered_at"]);
        let permit_at = instant(&t.get(&format!("/api/v1/cases/{}", permit[0]), Some(&owner)).body["finished_at"]);
        let last = p["stages"][3]["cases"][1]["case_no"].as_str().unwrap().to_string();
        let done_at = instant(&t.get(&format!("/api/v1/cases/{last}"), Some(&owner)).body["finished_at"]);
        let d = t.get("/api/v1/dashboard", Some(&t.login("supervisor"))).body;
        for (id, end) in [("project-approval", permit_at), ("project-whole-process", done_at)] {
            let target = d["targets"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap();
            let want = brute_working_minutes(&cal, filed, end) as f64 / 420.0;
            assert_eq!(target["completed"], 1, "{target}");
            assert!((target["average_working_days"].as_f64().unwrap() - want).abs() < 1e-9, "{target} vs {want}");
            assert_eq!(target["met"], true);
        }
        assert_eq!(p["stages"][1]["cases"].as_array().unwrap().len(), 1);
        let sup = t.get(&format!("/api/v1/projects/{CODE}"), Some(&t.login("supervisor")));
        assert_eq!(sup.status, 200);
        assert_rebuild_identical(t);
    });
}

#[test]
fn the_green_channel_shortens_the_limits_and_only_administrators_set_it() {
    each_backend(|t| {
        let owner = t.login("company");
        assert_eq!(register(t, &owner, CODE).status, 201);
        let path = format!("/api/v1/projects/{CODE}/green-channel");
        let r = t.post(&path, Some(&owner), &json!({"on": true, "reason": "重点项目"}));
        assert_eq!(r.status, 403, "{:?}", r.body);
        let admin = t.login("admin");
        let r = t.post(&path, Some(&admin), &json!({"on": true, "reason": ""}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("text_required")));
        let r = t.post(&path, Some(&admin), &json!({"on": true, "reason": "自治区重点项目"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let p = t.get(&format!("/api/v1/projects/{CODE}"), Some(&owner)).body;
        assert_eq!(p["green_channel"], true);
        assert_eq!(p["stage_views"][0]["limit_days"], 5);
        assert_eq!(p["clock"]["to_permit"]["limit_days"], 19);
        assert_eq!(p["clock"]["whole"]["limit_days"], 31);
        let r = t.get("/api/v1/projects/2026-640100-47-03-00012X", Some(&owner));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("project_code_format")));
    });
}

#[test]
fn the_owner_submits_a_stage_from_its_one_form_page_and_sees_stages_clocks_and_timeline() {
    each_backend(|t| {
        let token = t.login("company");
        assert_eq!(register(t, &token, CODE).status, 201);
        let cookie = format!("oneseal_session={token}");
        let (status, html) = page_get(t, "/me/projects", Some(&cookie));
        assert_eq!(status, 200);
        assert!(html.contains(CODE) && html.contains("我的工程建设项目"), "{html}");
        let (status, html) = page_get(t, &format!("/me/projects/{CODE}/stages/land-planning"), Some(&cookie));
        assert_eq!(status, 200);
        assert!(!html.contains("name=\"f.project_code\""), "the project fills its code");
        let csrf = html.split("name=\"_csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
        let form = [
            ("_csrf", csrf.clone()),
            ("f.project_address", "银川市金凤区阅海湾".to_string()),
            ("f.region_code", "640106".to_string()),
            ("f.contact_phone", "13900000000".to_string()),
            ("f.land_area", "8000".to_string()),
            ("m.site-plan", "选址位置图.pdf".to_string()),
            ("m.land-contract", "出让合同.pdf".to_string()),
        ];
        let post = |form: &[(&str, String)], csrf_ok: bool| {
            let body = form
                .iter()
                .filter(|(k, _)| csrf_ok || *k != "_csrf")
                .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let agent: ureq::Agent =
                ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
            let mut r = agent
                .post(&format!("{}/me/projects/{CODE}/stages/land-planning", t.base))
                .header("Accept", "text/html")
                .header("Origin", &t.base)
                .header("Cookie", &cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(body.as_bytes())
                .unwrap();
            let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            (r.status().as_u16(), loc, r.body_mut().read_to_string().unwrap_or_default())
        };
        let events = t.events();
        assert_eq!(post(&form, false).0, 403, "a form without the session's CSRF token is refused");
        let mut bad = form.to_vec();
        bad[3].1 = "12".into();
        let (status, _, html) = post(&bad, true);
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("data-testid=\"stage-error\""));
        assert_eq!(t.events(), events, "nothing started");
        let (status, loc, _) = post(&form, true);
        assert_eq!((status, loc.as_str()), (303, format!("/me/projects/{CODE}").as_str()));
        let (status, html) = page_get(t, &format!("/me/projects/{CODE}"), Some(&cookie));
        assert_eq!(status, 200);
        assert_eq!(html.matches("data-testid=\"stage\"").count(), 4);
        assert_eq!(html.matches("data-testid=\"bar\"").count(), 2, "both cases of the stage on the timeline");
        assert!(html.contains("data-testid=\"stage-clock\" data-level=\"green\""), "{html}");
        assert!(html.contains("data-testid=\"whole-clock\" data-level=\"green\""));
        // Someone else's session does not see the page.
        let other = format!("oneseal_session={}", t.login("regulator"));
        assert_eq!(page_get(t, &format!("/me/projects/{CODE}"), Some(&other)).0, 404);
    });
}
