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
    stage_body_of(t, token, CODE, stage)
}

/// [`stage_body`] of any project.
fn stage_body_of(t: &TestApp, token: &str, code: &str, stage: &str) -> Value {
    let f = t.get(&format!("/api/v1/projects/{code}/stages/{stage}/form"), Some(token));
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
    start_of(t, token, CODE, stage, body)
}

fn start_of(t: &TestApp, token: &str, code: &str, stage: &str, body: &Value) -> Resp {
    t.post(&format!("/api/v1/projects/{code}/stages/{stage}"), Some(token), body)
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

/// Register a project and submit its first stage (立项用地规划许可) now; returns the stage's cases.
fn filed_with_land_stage(t: &TestApp, code: &str) -> Vec<String> {
    let owner = t.login("company");
    assert_eq!(register(t, &owner, code).status, 201);
    let r = start_of(t, &owner, code, "land-planning", &stage_body_of(t, &owner, code, "land-planning"));
    assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
    case_nos(&r)
}

/// Run the supervision subscriber and the sweep (as a supervisor, signed in again after the clock moved).
fn sweep(t: &TestApp) -> Value {
    let r = t.post("/api/v1/supervision/sweep", Some(&t.login("supervisor")), &json!({}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// Move the clock to each instant and sweep: the count of that kind of alert the sweep raised.
fn sweeps_at(t: &TestApp, steps: &[(time::OffsetDateTime, &str, u64)]) {
    for (at, kind, n) in steps {
        t.clock.set(*at);
        assert_eq!(sweep(t)[*kind].as_u64(), Some(*n), "{}: {kind} raised by the sweep at {at}", t.backend);
    }
}

fn project_alerts(t: &TestApp, code: &str, token: &str) -> Vec<Value> {
    let r = t.get(&format!("/api/v1/alerts?project_code={code}"), Some(token));
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["alerts"].as_array().unwrap().clone()
}

/// A project's watch row (the subscriber's dates) as the store holds it.
fn watch_of(t: &TestApp, code: &str) -> oneseal_app::rows::ProjectWatchRow {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows = rt.block_on(t.app.project_watches()).unwrap();
    rows.into_iter().find(|w| w.code == code).unwrap_or_else(|| panic!("{}: no watch row of {code}", t.backend))
}

/// The working days of March and September–October 2026, written out here from the State Council General
/// Office's notice on the 2026 holidays (Mid-Autumn 25–27 September, National Day 1–7 October, make-up working
/// days Sunday 20 September and Saturday 10 October) and counted day by day without the application's calendar.
fn working_day_2026(d: time::Date) -> bool {
    let s = oneseal_domain::calendar::format_date(d);
    let holidays = [
        "2026-09-25",
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
        "2026-10-04",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
    ];
    let makeup = ["2026-09-20", "2026-10-10"];
    if holidays.contains(&s.as_str()) {
        return false;
    }
    makeup.contains(&s.as_str()) || !matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday)
}

/// The n-th working day after `from`, counted one day at a time.
fn nth_working_day(from: time::Date, n: u32) -> time::Date {
    let (mut d, mut left) = (from, n);
    while left > 0 {
        d = d.next_day().unwrap();
        if working_day_2026(d) {
            left -= 1;
        }
    }
    d
}

const LATE: &str = "2026-640100-47-03-000201";
const IN_TIME: &str = "2026-640100-47-03-000202";

#[test]
fn a_late_project_stage_raises_yellow_then_red_once_each_and_a_stage_done_in_time_none() {
    each_backend(|t| {
        // Both filed and started on Monday 2 March; the first stage's limit is 8 working days: yellow at 7
        // counted (Wed 11 March), red past 8 (Fri 13 March).
        let late = filed_with_land_stage(t, LATE);
        let in_time = filed_with_land_stage(t, IN_TIME);
        assert_eq!(sweep(t)["project_yellow"], 0);
        let w = watch_of(t, LATE);
        assert_eq!(w.next_due.as_deref(), Some("2026-03-11"), "{w:?}");
        assert_eq!(w.department, "natural-resources", "the department of the stage's critical case");
        assert!(w.dues.contains(r#"{"level":"red","on":"2026-03-13","span":"land-planning"}"#), "{}", w.dues);
        // The stage done in time: its cases completed on 4 March.
        t.clock.set(datetime!(2026-03-04 10:30 +8));
        for no in &in_time {
            work(t, no);
        }
        t.clock.set(datetime!(2026-03-10 16:00 +8));
        let s = sweep(t);
        assert_eq!((s["project_yellow"].as_u64(), s["project_red"].as_u64()), (Some(0), Some(0)), "{s}");
        t.clock.set(datetime!(2026-03-11 09:00 +8));
        let s = sweep(t);
        assert_eq!((s["project_yellow"].as_u64(), s["project_red"].as_u64()), (Some(1), Some(0)), "{s}");
        assert_eq!(sweep(t)["project_yellow"], 0, "never twice");
        t.clock.set(datetime!(2026-03-13 09:00 +8));
        let s = sweep(t);
        assert_eq!((s["project_yellow"].as_u64(), s["project_red"].as_u64()), (Some(0), Some(1)), "{s}");
        assert_eq!(sweep(t)["project_red"], 0, "never twice");

        let supervisor = t.login("supervisor");
        let alerts = project_alerts(t, LATE, &supervisor);
        assert_eq!(alerts.len(), 2, "{alerts:?}");
        let by = |kind: &str| alerts.iter().find(|a| a["kind"] == kind).unwrap().clone();
        let (yellow, red) = (by("project_yellow"), by("project_red"));
        assert_eq!(yellow["id"], format!("alert-project_yellow-{LATE}-land-planning"));
        assert_eq!(red["id"], format!("alert-project_red-{LATE}-land-planning"));
        for a in [&yellow, &red] {
            assert_eq!((&a["case_no"], a["project_code"].as_str()), (&Value::Null, Some(LATE)), "{a}");
            assert_eq!(a["department"], "natural-resources");
            assert!(a["title"].as_str().unwrap().contains("立项用地规划许可"), "{a}");
            assert!(a["detail"].as_str().unwrap().contains("时限 8 个工作日"), "{a}");
            let critical = a["detail"].as_str().unwrap().split("关键办件 ").nth(1).unwrap().to_string();
            assert!(late.contains(&critical), "{a}");
            // Evidence: the stage's submission and the critical case's first event, by global sequence.
            let ev = a["evidence"].as_array().unwrap();
            assert!(ev.len() >= 2 && ev.iter().all(|x| x.as_i64().is_some_and(|n| n > 0)), "{a}");
        }
        assert_eq!(yellow["level"], "yellow");
        assert!(yellow["detail"].as_str().unwrap().contains("自 2026-03-11 起剩余不足五分之一"), "{yellow}");
        assert_eq!(red["level"], "red");
        assert!(red["detail"].as_str().unwrap().contains("自 2026-03-13 起已超期"), "{red}");
        assert!(project_alerts(t, IN_TIME, &supervisor).is_empty(), "a stage completed before its date raises nothing");
        // The spans from the filing are still watched: to the permit (30 days) yellow at 24 counted days.
        let w = watch_of(t, LATE);
        let permit_yellow =
            oneseal_domain::calendar::format_date(nth_working_day(time::macros::date!(2026 - 03 - 02), 24));
        assert_eq!(w.next_due.as_deref(), Some(permit_yellow.as_str()), "{w:?}");
        assert!(!w.dues.contains("land-planning"), "raised alerts leave the row: {}", w.dues);

        // Who sees them: the department's staff and supervisors; another department none; the owner is refused.
        let own = t.login("natural-resources-chief");
        assert_eq!(project_alerts(t, LATE, &own).len(), 2);
        assert!(project_alerts(t, LATE, &t.login("fire-reviewer")).is_empty());
        assert_eq!(t.get(&format!("/api/v1/alerts?project_code={LATE}"), Some(&t.login("company"))).status, 403);
        // Closed as a case's alert is: a supervisor with a note; the department cannot.
        let path = format!("/api/v1/alerts/{}/close", red["id"].as_str().unwrap());
        assert_eq!(t.post(&path, Some(&own), &json!({"note": "已处理"})).status, 403);
        let c = t.post(&path, Some(&supervisor), &json!({"note": "已督办自然资源局"}));
        assert_eq!((c.status, c.body["status"].as_str()), (200, Some("closed")), "{:?}", c.body);
        assert_eq!(c.body["project_code"], LATE);

        // The project page links to its alerts for staff; the supervision page lists them by project.
        let (status, html) =
            page_get(t, &format!("/me/projects/{LATE}"), Some(&format!("oneseal_session={supervisor}")));
        assert_eq!(status, 200);
        assert!(html.contains(&format!("href=\"/supervision?project={LATE}\"")), "{html}");
        let (_, html) =
            page_get(t, &format!("/me/projects/{LATE}"), Some(&format!("oneseal_session={}", t.login("company"))));
        assert!(!html.contains("/supervision?project="), "the owner has no alert link");
        let (status, html) = page_get(
            t,
            &format!("/supervision?project={LATE}&status=closed"),
            Some(&format!("oneseal_session={supervisor}")),
        );
        assert_eq!(status, 200);
        assert_eq!(html.matches("data-testid=\"alert-project\"").count(), 1, "{html}");
        // A department's staff see the alert and its critical case, not the project's page (theirs are the cases).
        let (_, html) = page_get(t, &format!("/supervision?project={LATE}"), Some(&format!("oneseal_session={own}")));
        assert!(html.contains("<span data-testid=\"alert-project\">"), "{html}");
        assert!(!html.contains(&format!("href=\"/me/projects/{LATE}\"")), "{html}");

        // A rebuild gives the same watch rows (and projections).
        let rt = tokio::runtime::Runtime::new().unwrap();
        let before = rt.block_on(t.app.project_watches()).unwrap();
        assert_eq!(before.len(), 2);
        assert_rebuild_identical(t);
        assert_eq!(
            rt.block_on(t.app.project_watches()).unwrap(),
            before,
            "{}: the watch rows after a rebuild",
            t.backend
        );
        let rt2 = rt.block_on(t.app.audit()).unwrap();
        assert!(rt2.problems.is_empty(), "{:?}", rt2.problems);
    });
}

#[test]
fn the_green_channel_raises_project_alerts_by_its_shorter_limit() {
    each_backend(|t| {
        let owner = t.login("company");
        assert_eq!(register(t, &owner, LATE).status, 201);
        let r = t.post(
            &format!("/api/v1/projects/{LATE}/green-channel"),
            Some(&t.login("admin")),
            &json!({"on": true, "reason": "自治区重点项目"}),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = start_of(t, &owner, LATE, "land-planning", &stage_body_of(t, &owner, LATE, "land-planning"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        // Green limit 5: yellow at 4 counted days (Fri 6 March), red past 5 (Tue 10 March) — not 11 and 13.
        sweeps_at(
            t,
            &[
                (datetime!(2026-03-05 16:00 +8), "project_yellow", 0),
                (datetime!(2026-03-06 09:00 +8), "project_yellow", 1),
                (datetime!(2026-03-10 09:00 +8), "project_red", 1),
            ],
        );
        let alerts = project_alerts(t, LATE, &t.login("supervisor"));
        let red = alerts.iter().find(|a| a["kind"] == "project_red").unwrap();
        assert!(red["detail"].as_str().unwrap().contains("时限（绿色通道） 5 个工作日"), "{red}");
    });
}

#[test]
fn a_project_stage_across_the_2026_national_day_holiday_falls_due_on_the_counted_working_day() {
    each_backend(|t| {
        t.clock.set(datetime!(2026-09-28 10:00 +8));
        filed_with_land_stage(t, LATE);
        // Counted day by day from the notice: 29, 30 Sep, (1–7 Oct off), 8, 9, Sat 10 (make-up), 12, 13 …
        let start = time::macros::date!(2026 - 09 - 28);
        let (yellow, red) = (nth_working_day(start, 7), nth_working_day(start, 9));
        assert_eq!((yellow, red), (time::macros::date!(2026 - 10 - 13), time::macros::date!(2026 - 10 - 15)));
        sweep(t);
        let w = watch_of(t, LATE);
        let f = oneseal_domain::calendar::format_date;
        assert_eq!(w.next_due.as_deref(), Some(f(yellow).as_str()), "{w:?}");
        let want = format!(r#"{{"level":"red","on":"{}","span":"land-planning"}}"#, f(red));
        assert!(w.dues.contains(&want), "{}", w.dues);
        sweeps_at(
            t,
            &[
                (datetime!(2026-10-12 17:00 +8), "project_yellow", 0),
                (datetime!(2026-10-13 09:00 +8), "project_yellow", 1),
                (datetime!(2026-10-14 09:00 +8), "project_red", 0),
                (datetime!(2026-10-15 09:00 +8), "project_red", 1),
            ],
        );
    });
}

#[test]
fn expert_review_on_the_critical_case_holds_the_project_dates_and_its_days_push_them_out() {
    each_backend(|t| {
        // Filed and started on Monday 2 March: yellow on Wednesday 11 March, as above.
        let land = filed_with_land_stage(t, LATE);
        let clerk = t.login("clerk");
        for no in &land {
            assert_eq!(t.act(&clerk, no, "accept", json!({})).status, 200);
        }
        sweep(t);
        assert_eq!(watch_of(t, LATE).next_due.as_deref(), Some("2026-03-11"));
        // The stage's critical case (the running case last in the stage) goes to expert review (§45): while it is
        // suspended the project's clocks have no date.
        let reviewer = t.login("natural-resources-reviewer");
        let body = json!({"kind": "expert_review", "reason": "专家评审", "expected_days": 3});
        let r = t.act(&reviewer, &land[1], "suspend", body);
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("suspended")), "{:?}", r.body);
        sweep(t);
        let w = watch_of(t, LATE);
        assert_eq!((w.next_due.as_deref(), w.dues.as_str()), (None, "[]"), "{}", t.backend);
        // Resumed on Thursday 5 March: the days not counted push the dates out by as many working days.
        t.clock.set(datetime!(2026-03-05 10:00 +8));
        let r = t.act(&t.login("natural-resources-reviewer"), &land[1], "resume", json!({}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        sweep(t);
        let p = t.get(&format!("/api/v1/projects/{LATE}"), Some(&t.login("company"))).body;
        let excluded = p["clock"]["stages"][0]["excluded"]["expert_review"].as_u64().unwrap() as u32;
        assert_eq!(excluded, 3, "3, 4 and 5 March: {:?}", p["clock"]["stages"][0]);
        let yellow = nth_working_day(time::macros::date!(2026 - 03 - 02), 7 + excluded);
        let w = watch_of(t, LATE);
        assert_eq!(w.next_due, Some(oneseal_domain::calendar::format_date(yellow)), "{w:?}");
        assert_eq!(w.next_due.as_deref(), Some("2026-03-16"));
        sweeps_at(
            t,
            &[
                (datetime!(2026-03-13 09:00 +8), "project_yellow", 0),
                (datetime!(2026-03-16 09:00 +8), "project_yellow", 1),
            ],
        );
    });
}
