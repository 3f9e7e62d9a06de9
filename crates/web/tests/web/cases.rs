//! Cases from submission to delivery: the lifecycle, bundles, corrections, the calendar and its years, the catalog, printed notices, the portal pages.

use super::*;

#[test]
fn lifecycle_through_http() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let code = t.item_code("食品经营许可");
        let sub = submission(t, &code, "online");
        let r = t.call("POST", "/api/v1/cases", Some(&citizen), Some(&sub), &[("Idempotency-Key", "k-1")]);
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        let case_no = r.body["case_no"].as_str().unwrap().to_string();
        let query_code = r.body["query_code"].as_str().unwrap().to_string();
        assert!(case_no.starts_with("YC20260302"), "{case_no}");
        assert!(r.body["promised_completion"].is_string());
        // A retry with the same key returns the first case, never a second one.
        let again = t.call("POST", "/api/v1/cases", Some(&citizen), Some(&sub), &[("Idempotency-Key", "k-1")]);
        assert_eq!((again.status, again.body["case_no"].as_str()), (200, Some(case_no.as_str())));
        let (_, total) = t
            .app
            .store
            .read_blocking(|db| db.list_cases(&oneseal_store::CaseFilter { limit: 10, ..Default::default() }))
            .unwrap();
        assert_eq!(total, 1, "{}", t.backend);

        let clerk = t.login("clerk");
        let q = t.get("/api/v1/intake-queue", Some(&clerk));
        assert_eq!(q.body["total"], 1);
        let r = t.act(&clerk, &case_no, "accept", json!({}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["status"], "in_progress");
        assert_eq!(r.body["clock"]["unit"], "working_days");
        assert!(r.body["clock"]["deadline"].is_string());
        assert_eq!(r.body["applicant"]["id_number"], "640104********001X", "masked");
        assert_eq!(r.header("etag"), Some(format!("\"{}\"", r.body["version"]).as_str()));

        // The reviewer of the item's section sees the task in the queue.
        let dept = r.body["current_step"]["tasks"][0]["department"].as_str().unwrap().to_string();
        let reviewer = t.login(&format!("{dept}-reviewer"));
        let wq = t.get("/api/v1/work-queue?view=to_claim", Some(&reviewer));
        assert_eq!(wq.status, 200);
        assert_eq!(wq.body["tasks"][0]["case_no"], case_no.as_str());
        let done = drive_to_completion(t, &case_no);
        assert_eq!(done["outcome"], "grant");
        assert!(!done["licenses"].as_array().unwrap().is_empty());

        let ev = t.get(&format!("/api/v1/cases/{case_no}/events"), Some(&citizen));
        // Personal data is masked in the trail too, and the query code's digest never leaves the server.
        let first = &ev.body["events"][0];
        assert_eq!(first["applicant"]["id_number"], "640104********001X", "{first:?}");
        assert_eq!(first["applicant"]["phone"], "138****0000");
        assert_eq!(first["form"]["contact_phone"], "138****0000");
        assert_eq!(first["query_code_digest"], "");
        let text = serde_json::to_string(&ev.body).unwrap();
        assert!(!text.contains("64010420050101001X") && !text.contains("13800000000"), "no personal data in clear");
        let kinds: Vec<&str> =
            ev.body["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds.first(), Some(&"submitted"));
        assert_eq!(kinds.last(), Some(&"completed"));
        assert!(kinds.contains(&"decided") && kinds.contains(&"licenses_issued"));

        // Progress without login: the right code works, a wrong one looks like an unknown case.
        let p = t.post("/api/v1/progress", None, &json!({"case_no": case_no, "query_code": query_code}));
        assert_eq!((p.status, p.body["status"].as_str()), (200, Some("completed")));
        assert!(p.body.get("applicant").is_none(), "no personal data in public progress");
        let p = t.post("/api/v1/progress", None, &json!({"case_no": case_no, "query_code": "WRONG1"}));
        assert_eq!(p.status, 404);
        // The code has 50 bits in Crockford base 32, read aloud in two groups of five; case, hyphen and the
        // look-alikes (O for 0, I or L for 1) do not matter when it is typed back.
        let shape = |c: &str| {
            c.len() == 11
                && c.char_indices().all(|(i, ch)| {
                    if i == 5 {
                        ch == '-'
                    } else {
                        "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(ch)
                    }
                })
        };
        assert!(shape(&query_code), "{query_code}");
        let typed = query_code.replace('-', " ").to_lowercase().replace('0', "o").replace('1', "l");
        let p = t.post("/api/v1/progress", None, &json!({"case_no": case_no, "query_code": typed}));
        assert_eq!(p.status, 200, "{typed}: {:?}", p.body);

        // Notifications reach the applicant once each, even if the subscriber runs twice.
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(t.app.drain_subscribers()).unwrap();
        let before = t.app.store.read_blocking(|db| db.count_notifications()).unwrap();
        rt.block_on(t.app.drain_subscribers()).unwrap();
        assert_eq!(t.app.store.read_blocking(|db| db.count_notifications()).unwrap(), before);
        let n = t.get("/api/v1/notifications", Some(&citizen));
        assert!(n.body["notifications"].as_array().unwrap().iter().any(|x| x["kind"] == "completed"), "{:?}", n.body);
    });
}

#[test]
fn a_command_with_prefer_return_minimal_is_answered_with_the_case_summary() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let clerk = t.login("clerk");
        let code = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let path = format!("/api/v1/cases/{no}/accept");
        // RFC 7240: the preference may share a header with others, in any case, with parameters.
        let r =
            t.call("POST", &path, Some(&clerk), Some(&json!({})), &[("Prefer", "respond-async, RETURN=minimal; x=1")]);
        assert_eq!(r.status, 200, "{}: {:?}", t.backend, r.body);
        assert_eq!(r.header("preference-applied"), Some("return=minimal"));
        let keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["case_no", "current_step", "decision", "licenses", "status", "version"], "{}", t.backend);
        assert_eq!(r.body["status"], "in_progress");
        let version = r.body["version"].as_u64().unwrap();
        assert_eq!(r.header("etag"), Some(format!("\"{version}\"").as_str()));
        let full = t.get(&format!("/api/v1/cases/{no}"), Some(&clerk));
        assert_eq!(full.body["version"], version);
        assert_eq!(full.body["current_step"], r.body["current_step"], "the summary's step is the case's");
        assert!(!r.body.to_string().contains(&full.body["applicant"]["name"].as_str().unwrap().to_string()));

        // Any other preference (or none) gets the full view, masked as always.
        let task = full.body["current_step"]["tasks"][0].clone();
        let reviewer = t.login(&format!("{}-reviewer", task["department"].as_str().unwrap()));
        let r = t.call(
            "POST",
            &format!("/api/v1/cases/{no}/complete"),
            Some(&reviewer),
            Some(&json!({"task_id": task["task_id"], "opinion": "同意"})),
            &[("Prefer", "return=representation")],
        );
        assert_eq!(r.status, 200, "{}: {:?}", t.backend, r.body);
        assert_eq!(r.header("preference-applied"), None);
        assert!(r.body["applicant"].is_object() && r.body["clock"].is_object(), "{:?}", r.body);
        assert!(r.body["version"].as_u64().unwrap() > version, "{:?}", r.body["version"]);
    });
}

#[test]
fn bundle_filing_and_on_the_spot() {
    each_backend(|t| {
        let company = t.login("company");
        let view = t.app.catalog();
        let b = view.latest_bundle("open-restaurant").expect("open-restaurant bundle");
        let def = view
            .definition(&oneseal_domain::case::Subject::Bundle { code: "open-restaurant".into(), version: b.version })
            .unwrap();
        let r = t.post("/api/v1/cases", Some(&company), &restaurant_submission(t));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let case_no = r.body["case_no"].as_str().unwrap().to_string();
        // One merged form: each shared key once.
        let keys: Vec<&str> = def.form.fields.iter().map(|f| f.key.as_str()).collect();
        let mut dedup = keys.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(keys.len(), dedup.len());
        let clerk = t.login("clerk");
        let r = t.act(&clerk, &case_no, "accept", json!({}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let done = drive_to_completion(t, &case_no);
        assert!(done["licenses"].as_array().unwrap().len() >= 2, "several results: {:?}", done["licenses"]);

        // A filing item (审批改备案) completes at submission with a filing receipt.
        let citizen = t.login("citizen");
        let code = t.item_code("护士执业注册（审批改备案）");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["status"], "completed");
        assert!(r.body["filing_receipt"].as_str().unwrap().starts_with("BA"));
        // 双公示: a natural person's licence looked up by its identifier shows a masked name and no details; the
        // holder sees everything, and the sealed QR (which the holder hands over) verifies in full.
        // (张三 runs a food stall as a natural person.)
        let food = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &food, "online"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let food_no = r.body["case_no"].as_str().unwrap().to_string();
        t.act(&t.login("clerk"), &food_no, "accept", json!({}));
        drive_to_completion(t, &food_no);
        let mine = t.get("/api/v1/me/licenses", Some(&citizen));
        let lic = mine.body["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["public"]["holder_code_type"] == "111")
            .cloned()
            .unwrap_or_else(|| panic!("a person's licence: {:?}", mine.body));
        assert_eq!(lic["public"]["holder"], "张三", "the holder sees the full record");
        let id = lic["identifier"].as_str().unwrap();
        let public = t.get(&format!("/api/v1/licenses/{id}"), None);
        assert_eq!(public.status, 200);
        assert_eq!(public.body["public"]["holder"], "张*", "{:?}", public.body);
        assert_eq!(public.body["public"]["fields"], json!({}));
        assert!(public.body.get("signed_payload").is_none() && public.body.get("qr").is_none());
        assert!(!serde_json::to_string(&public.body).unwrap().contains("张三"));
        let v = t.post("/api/v1/verify", None, &json!({"input": id}));
        assert_eq!((v.body["status"].as_str(), v.body["public"]["holder"].as_str()), (Some("valid"), Some("张*")));
        let qr = lic["qr"].as_str().unwrap_or_else(|| panic!("{lic}"));
        let v = t.post("/api/v1/verify", None, &json!({"input": qr}));
        assert_eq!((v.body["status"].as_str(), v.body["public"]["holder"].as_str()), (Some("valid"), Some("张三")));
        // An organisation's licence stays fully public.
        let org = first_licence(&done);
        let public = t.get(&format!("/api/v1/licenses/{org}"), None);
        assert_eq!(public.body["public"]["holder"], "银川塞上餐饮有限公司");
        assert!(public.body["signed_payload"].is_string());

        // An on-the-spot item (马上办) completes when the window accepts it; its clock counts minutes.
        let code = t.item_code("营业执照遗失补领");
        let r = t.post("/api/v1/cases", Some(&clerk), &submission(t, &code, "window"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let r = t.act(&clerk, &no, "accept", json!({}));
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("completed")), "{:?}", r.body);
        assert_eq!(r.body["clock"]["unit"], "minutes");
    });
}

#[test]
fn construction_permit_with_joint_drawing_review_and_expert_review() {
    each_backend(|t| {
        let company = t.login("company");
        let code = t.item_code("建筑工程施工许可");
        let mut sub = submission(t, &code, "online");
        sub["form"]["needs_expert_review"] = json!(true);
        sub["form"]["has_new_construction"] = json!(true);
        sub["applicant"] =
            json!({"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"});
        let r = t.post("/api/v1/cases", Some(&company), &sub);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let clerk = t.login("clerk");
        let r = t.act(&clerk, &no, "accept", json!({}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        // 多图联审: one task per department, all must sign.
        let tasks = r.body["current_step"]["tasks"].as_array().unwrap().clone();
        assert_eq!(r.body["current_step"]["kind"], "joint_review");
        assert!(tasks.len() >= 4, "{tasks:?}");
        for task in &tasks {
            let dept = task["department"].as_str().unwrap();
            let tok = t.login(&format!("{dept}-reviewer"));
            let r = t.act(&tok, &no, "complete", json!({"task_id": task["task_id"], "opinion": "图纸审查合格"}));
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&clerk));
        assert_eq!(c.body["current_step"]["step_id"], "expert-review");
        assert_eq!(
            (c.body["status"].as_str(), c.body["clock"]["paused"].as_bool()),
            (Some("suspended"), Some(true)),
            "§45: the clock stops"
        );
        t.clock.set(datetime!(2026-03-06 10:00 +8));
        let done = drive_to_completion(t, &no);
        assert_eq!(done["clock"]["paused"], false);
        let company = t.login("company");
        let events = t.get(&format!("/api/v1/cases/{no}/events"), Some(&company));
        let kinds: Vec<&str> =
            events.body["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"suspended") && kinds.contains(&"resumed"), "{kinds:?}");
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let clerk = t.login("clerk");
        let code = t.item_code("食品经营许可");
        let good = submission(t, &code, "online");
        let r = t.post("/api/v1/cases", Some(&citizen), &good);
        let case_no = r.body["case_no"].as_str().unwrap().to_string();
        let before = t.events();
        let raw = |path: &str, token: &str, ct: &str, body: &[u8]| {
            let mut resp = t
                .agent
                .post(&format!("{}{path}", t.base))
                .header("Authorization", &format!("Bearer {token}"))
                .header("Content-Type", ct)
                .send(body)
                .unwrap();
            let status = resp.status().as_u16();
            let ctype = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            let b: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null);
            (status, ctype, b)
        };
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            v
        };
        let cases: Vec<(&str, u16, &str, (u16, String, Value))> = vec![
            (
                "malformed JSON",
                400,
                "malformed_json",
                raw("/api/v1/cases", &citizen, "application/json", b"{\"item_code\": "),
            ),
            (
                "not JSON content type",
                415,
                "unsupported_media_type",
                raw("/api/v1/cases", &citizen, "text/plain", b"{}"),
            ),
            (
                "oversized body",
                413,
                "payload_too_large",
                raw_tcp(&t.base, "/api/v1/cases", &citizen, &vec![b' '; 300 * 1024]),
            ),
            ("unknown field", 422, "invalid_body", {
                let v = with(&|v| v["colour"] = json!("red"));
                let r = t.post("/api/v1/cases", Some(&citizen), &v);
                (r.status, String::new(), r.body)
            }),
            ("wrong type", 422, "invalid_body", {
                let v = with(&|v| v["applicant"] = json!("张三"));
                let r = t.post("/api/v1/cases", Some(&citizen), &v);
                (r.status, String::new(), r.body)
            }),
            ("unknown item", 404, "not_found", {
                let v = with(&|v| v["item_code"] = json!("11640100MB96000107XXXXXXXXXXXXX"));
                let r = t.post("/api/v1/cases", Some(&citizen), &v);
                (r.status, String::new(), r.body)
            }),
            ("bad resident ID check digit", 422, "invalid_applicant", {
                let v = with(&|v| v["applicant"]["id_number"] = json!("640104200501010016"));
                let r = t.post("/api/v1/cases", Some(&citizen), &v);
                (r.status, String::new(), r.body)
            }),
            ("bad USCC in form", 422, "invalid_form", {
                let v = with(&|v| v["form"]["uscc"] = json!("91110000600037341M"));
                let r = t.post("/api/v1/cases", Some(&citizen), &v);
                (r.status, String::new(), r.body)
            }),
            ("unknown material", 422, "unknown_material", {
                let v = with(&|v| v["materials"] = json!([{"material_id": "passport", "file_name": "p.pdf"}]));
                let r = t.post("/api/v1/cases", Some(&citizen), &v);
                (r.status, String::new(), r.body)
            }),
            ("wrong channel for an applicant", 422, "invalid_channel", {
                let v = with(&|v| v["channel"] = json!("window"));
                let r = t.post("/api/v1/cases", Some(&citizen), &v);
                (r.status, String::new(), r.body)
            }),
            ("invalid pledge date", 400, "invalid_date", {
                let r = t.act(
                    &clerk,
                    &case_no,
                    "accept",
                    json!({"pledges": [{"material_id": "safety-manager", "due": "2026-02-30"}]}),
                );
                (r.status, String::new(), r.body)
            }),
            ("stale version", 409, "stale_version", {
                let r = t.call(
                    "POST",
                    &format!("/api/v1/cases/{case_no}/accept"),
                    Some(&clerk),
                    Some(&json!({})),
                    &[("If-Match", "\"99\"")],
                );
                (r.status, String::new(), r.body)
            }),
            ("unknown action", 404, "not_found", {
                let r = t.act(&clerk, &case_no, "approve-everything", json!({}));
                (r.status, String::new(), r.body)
            }),
            ("unknown case", 404, "not_found", {
                let r = t.act(&clerk, "YC202603029999999", "accept", json!({}));
                (r.status, String::new(), r.body)
            }),
            ("illegal transition", 409, "case_wrong_status", {
                let r = t.act(&clerk, &case_no, "resume", json!({}));
                (r.status, String::new(), r.body)
            }),
            ("no credentials", 401, "unauthenticated", {
                let r = t.post("/api/v1/cases", None, &good);
                (r.status, String::new(), r.body)
            }),
            ("bad token", 401, "unauthenticated", {
                let r = t.post("/api/v1/cases", Some("nope"), &good);
                (r.status, String::new(), r.body)
            }),
            ("invalid date in calendar", 400, "invalid_date", {
                let r = t.get("/api/v1/calendar/workdays/2026-13-01", None);
                (r.status, String::new(), r.body)
            }),
            ("year before the official data", 422, "calendar_year_not_covered", {
                let r = t.get("/api/v1/calendar/workdays/2003-01-06", None);
                (r.status, String::new(), r.body)
            }),
            ("bad query", 400, "invalid_query", {
                let r = t.get("/api/v1/cases?status=flying", Some(&citizen));
                (r.status, String::new(), r.body)
            }),
            ("bad paging", 400, "invalid_paging", {
                let r = t.get("/api/v1/items?per_page=100000", None);
                (r.status, String::new(), r.body)
            }),
            ("unknown route", 404, "no_route", {
                let r = t.get("/api/v1/nothing-here", None);
                (r.status, String::new(), r.body)
            }),
        ];
        for (what, status, code, (got, ctype, body)) in cases {
            assert_eq!(got, status, "{}: {what}: {body:?}", t.backend);
            assert_eq!(body["code"], code, "{}: {what}: {body:?}", t.backend);
            assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: detail names the problem");
            assert!(body["title_zh"].is_string(), "{what}: a Chinese title");
            if !ctype.is_empty() {
                assert_eq!(ctype, "application/problem+json", "{what}");
            }
        }
        assert_eq!(t.events(), before, "{}: bad input must write nothing", t.backend);
        let c = t.get(&format!("/api/v1/cases/{case_no}"), Some(&citizen));
        assert_eq!(c.body["status"], "submitted");
    });
}

#[test]
fn key_materials_are_required_at_submission_and_named() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let code = t.item_code("食品经营许可");
        let item = t.app.catalog().latest_item(&code).unwrap().body.clone();
        let keys: Vec<String> = item.materials.iter().filter(|m| m.required && m.key).map(|m| m.id.clone()).collect();
        assert!(!keys.is_empty());
        let mut sub = submission(t, &code, "online");
        let mats: Vec<Value> = sub["materials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| !keys.contains(&m["material_id"].as_str().unwrap().to_string()))
            .cloned()
            .collect();
        sub["materials"] = json!(mats);
        let events = t.events();
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("key_materials_missing")), "{:?}", r.body);
        for k in &keys {
            assert!(
                r.body["errors"].as_array().unwrap().iter().any(|e| e["field"] == format!("materials.{k}")),
                "{k} named: {:?}",
                r.body
            );
        }
        assert_eq!(t.events(), events, "no case number issued");
        // Typed fields are checked the same way: a 7-digit "phone" is not a phone number.
        let mut sub = submission(t, &code, "online");
        let phone = item.form.fields.iter().find(|f| f.field_type == FieldType::Phone).unwrap().key.clone();
        sub["form"][&phone] = json!("1391234");
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("invalid_form")), "{:?}", r.body);
        sub["form"][&phone] = json!("0951-6012345");
        assert_eq!(t.post("/api/v1/cases", Some(&citizen), &sub).status, 201, "a fixed line with its area code");
    });
}

#[test]
fn correction_once_suspension_and_extension_over_http() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let clerk = t.login("clerk");
        let code = t.item_code("食品经营许可");
        let sub = submission(t, &code, "online");
        // Every required material of this item is key, so the application comes with all of them (a submission
        // without a key material is refused: key_materials_are_required_at_submission_and_named); the window finds
        // two unclear and asks for them once.
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let r = t.act(&clerk, &no, "request-correction", json!({"problems": [{"subject": "application-form", "message": "申请书未签字"}, {"subject": "layout-plan", "message": "平面图不清晰"}]}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let full = submission(t, &code, "online");
        let r = t.act(&citizen, &no, "submit-correction", json!({"materials": full["materials"]}));
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("submitted")), "{:?}", r.body);
        let r = t.act(&clerk, &no, "request-correction", json!({"problems": [{"subject": "x", "message": "again"}]}));
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("second_correction")));
        let r = t.act(&clerk, &no, "accept", json!({}));
        assert_eq!(r.status, 200);
        let deadline = r.body["clock"]["deadline"].as_str().unwrap().to_string();
        let dept = r.body["current_step"]["tasks"][0]["department"].as_str().unwrap().to_string();
        let reviewer = t.login(&format!("{dept}-reviewer"));
        let r = t.act(
            &reviewer,
            &no,
            "suspend",
            json!({"kind": "expert_review", "reason": "专家评审", "expected_days": 3}),
        );
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("suspended")));
        assert_eq!(r.body["clock"]["paused"], true);
        t.clock.set(datetime!(2026-03-05 10:00 +8));
        // Sessions last 12 hours: three days later everyone signs in again.
        let reviewer = t.login(&format!("{dept}-reviewer"));
        let r = t.act(&reviewer, &no, "resume", json!({}));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body["clock_state_suspended_days"].as_u64().or(r.body["clock"]["elapsed"].as_u64()).is_some(),
            true
        );
        let new_deadline = r.body["clock"]["deadline"].as_str().unwrap().to_string();
        assert!(new_deadline > deadline, "{new_deadline} > {deadline}: 3 working days excluded");
        let chief = t.login(&format!("{dept}-chief"));
        let r = t.act(&chief, &no, "extend", json!({"days": 5, "reason": "情况复杂"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["clock"]["extension_days"], 5);
        let r = t.act(&chief, &no, "extend", json!({"days": 50, "reason": "再延"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("extension_too_long")));
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn rebuild_gives_identical_projections() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let clerk = t.login("clerk");
        let code = t.item_code("食品经营许可");
        for i in 0..3 {
            let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
            let no = r.body["case_no"].as_str().unwrap().to_string();
            if i > 0 {
                t.act(&clerk, &no, "accept", json!({}));
            }
            if i > 1 {
                drive_to_completion(t, &no);
            }
        }
        let rt = tokio::runtime::Runtime::new().unwrap();
        let before = rt.block_on(t.app.dump_projections()).unwrap();
        let rep = rt.block_on(t.app.rebuild()).unwrap();
        assert_eq!(rep.cases, 3);
        let after = rt.block_on(t.app.dump_projections()).unwrap();
        for ((name, a), (_, b)) in before.iter().zip(after.iter()) {
            assert_eq!(a.len(), b.len(), "{}: {name} row count", t.backend);
            for (x, y) in a.iter().zip(b.iter()) {
                assert_eq!(x, y, "{}: {name} differs after rebuild", t.backend);
            }
        }
        assert!(before.iter().any(|(n, rows)| n == "catalog_versions" && rows.len() >= 54));
    });
}

#[test]
fn calendar_api_and_admin_year() {
    each_backend(|t| {
        let r = t.get("/api/v1/calendar/workdays/2026-02-14", None);
        assert_eq!(r.body["workday"], true);
        let r = t.get("/api/v1/calendar/deadline?start=2025-09-26&days=20", None);
        assert_eq!(r.body["deadline"], "2025-10-30");
        let admin = t.login("admin");
        let bad = json!({"year": 2027, "rest_days": ["2027-01-01"], "makeup_workdays": ["2027-01-04"]});
        let r = t.call("PUT", "/api/v1/calendar/years/2027", Some(&admin), Some(&bad), &[]);
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (422, Some("calendar_invalid")),
            "a Monday cannot be a make-up day"
        );
        let y = json!({"year": 2027, "rest_days": ["2027-01-01"], "makeup_workdays": []});
        let r = t.call("PUT", "/api/v1/calendar/years/2026", Some(&admin), Some(&y), &[]);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("calendar_year_mismatch")));
        let r = t.call("PUT", "/api/v1/calendar/years/2027", Some(&admin), Some(&y), &[]);
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(t.get("/api/v1/calendar/workdays/2027-01-01", None).body["workday"], false);
        assert_eq!(t.get("/api/v1/calendar/workdays/2027-01-04", None).body["workday"], true);
        // The year survives a restart: it is data in the database, not memory.
        t.app.reload_calendar_blocking().unwrap();
        assert!(t.app.calendar().year(2027).is_some());
    });
}

#[test]
fn catalog_search_versions_and_flowchart() {
    each_backend(|t| {
        let top = |q: &str| -> Vec<String> {
            let r = t.get(&format!("/api/v1/items?q={}", urlencode(q)), None);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .take(3)
                .map(|i| i["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(
            top("营业执照").iter().any(|n| n.contains("设立") || n.contains("个体工商户")),
            "{:?}",
            top("营业执照")
        );
        assert!(top("食品").iter().all(|n| n.contains("食品")), "{:?}", top("食品"));
        assert!(top("护士")[0].contains("护士"), "{:?}", top("护士"));
        let r = t.get("/api/v1/items?tag=on_the_spot&per_page=200", None);
        assert!(r.body["total"].as_u64().unwrap() >= 5);

        // A case keeps the version it started with when a new version is published.
        let citizen = t.login("citizen");
        let code = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let mut item = serde_json::to_value(&t.app.catalog().latest_item(&code).unwrap().body).unwrap();
        item["promised_limit"] = json!({"working_days": 6});
        let admin = t.login("admin");
        let r = t.post(
            &format!("/api/v1/items/{code}/versions"),
            Some(&admin),
            &json!({"item": item, "reason": "承诺时限压缩"}),
        );
        assert_eq!((r.status, r.body["version"].as_u64()), (201, Some(2)), "{:?}", r.body);
        let r = t.post(
            &format!("/api/v1/items/{code}/versions"),
            Some(&admin),
            &json!({"item": item, "reason": "same again"}),
        );
        assert_eq!(r.body["code"], "catalog_unchanged");
        let v = t.get(&format!("/api/v1/items/{code}/versions"), None);
        assert_eq!(v.body["versions"].as_array().unwrap().len(), 2);
        assert_eq!(v.body["versions"][1]["reason"], "承诺时限压缩");
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&citizen));
        assert_eq!(c.body["subject"]["version"], 1);
        let v1 = t.get(&format!("/api/v1/items/{code}/versions/1"), None);
        assert_ne!(v1.body["promised_limit"], json!({"working_days": 6}), "a published version never changes");

        let svg = t.get(&format!("/api/v1/items/{}/flowchart.svg", t.item_code("建筑工程施工许可")), None);
        let s = svg.body.as_str().unwrap().to_string();
        assert!(s.starts_with("<svg") && s.contains("会签"), "{}", &s[..100.min(s.len())]);
    });
}

#[test]
fn portal_pages_render_every_guide_in_both_languages_and_print_its_form() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    // Every page route is routed (a page, a redirect or a 404 page of ours — never the router's fallback).
    for d in oneseal_web::declared_routes().declared() {
        let (m, p) = (d.method, d.path);
        if d.surface != oneseal_web::routes::Surface::Page || m != "GET" {
            continue;
        }
        let path = p.replace("{code}", "X").replace("{identifier}", "X");
        let (status, body) = page_get(&t, &path, None);
        assert!(status < 500 && !body.contains("no_route"), "{m} {p}: {status}");
    }
    let view = t.app.catalog();
    let (status, home) = page_get(&t, "/", None);
    assert_eq!(status, 200);
    assert!(home.contains("lang=\"zh-CN\"") && home.contains("按主题办事") && home.contains("多证联办菜单"));
    // Search in Chinese finds the food licence.
    let (_, found) = page_get(&t, &format!("/services?q={}", urlencode("餐饮")), None);
    assert!(found.contains("食品经营许可"), "search for 餐饮");
    // Every published guide renders, in Chinese and English, with its materials and steps.
    for (code, versions) in &view.items {
        let item = &versions.last().unwrap().body;
        let (status, zh) = page_get(&t, &format!("/services/{code}"), None);
        assert_eq!(status, 200, "{code}");
        assert!(zh.contains(&item.name), "{code}");
        for m in &item.materials {
            assert!(zh.contains(&html_escape(&m.name)), "{code}: material {}", m.name);
        }
        let (_, en) = page_get(&t, &format!("/services/{code}"), Some("oneseal_lang=en"));
        assert!(en.contains("lang=\"en\"") && en.contains("Conditions for acceptance"), "{code} in English");
    }
    for code in view.bundles.keys() {
        assert_eq!(page_get(&t, &format!("/bundles/{code}"), None).0, 200, "{code}");
    }
    assert_eq!(page_get(&t, "/services/NOPE", None).0, 404);
    // The blank form and the sample print every field of the schema (poppler reads them back).
    let (code, versions) = view.items.iter().find(|(_, v)| v.last().unwrap().body.name == "食品经营许可").unwrap();
    let item = &versions.last().unwrap().body;
    for kind in ["form", "sample"] {
        let mut resp = t.agent.get(&format!("{}/services/{code}/{kind}.pdf", t.base)).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let pdf = resp.body_mut().read_to_vec().unwrap();
        let dir = std::env::temp_dir().join(format!("oneseal-form-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{kind}.pdf"));
        std::fs::write(&file, &pdf).unwrap();
        let text = run_tool("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), file.as_os_str(), "-".as_ref()]);
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for f in &item.form.fields {
            let label: String = f.label.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(squeezed.contains(&label), "{kind}.pdf lacks {}", f.label);
        }
        assert_eq!(squeezed.contains("银川塞上餐饮有限公司"), kind == "sample");
    }
}

#[test]
fn acceptance_and_correction_notices_print_what_the_case_says() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let citizen = t.login("citizen");
    let code = t.item_code("食品经营许可");
    let clerk = t.login("clerk");
    let pdf_text = |no: &str, kind: &str| -> (u16, String) {
        let mut resp = t
            .agent
            .get(&format!("{}/work/cases/{no}/{kind}.pdf", t.base))
            .header("Authorization", &format!("Bearer {clerk}"))
            .call()
            .unwrap();
        let status = resp.status().as_u16();
        if status != 200 {
            return (status, String::new());
        }
        let file = std::env::temp_dir().join(format!("oneseal-notice-{}-{no}-{kind}.pdf", std::process::id()));
        std::fs::write(&file, resp.body_mut().read_to_vec().unwrap()).unwrap();
        let text = run_tool("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), file.as_os_str(), "-".as_ref()]);
        (200, text.chars().filter(|c| !c.is_whitespace()).collect())
    };
    // A correction notice lists every problem; before acceptance there is no acceptance notice.
    let r = t.post("/api/v1/cases", Some(&citizen), &submission(&t, &code, "online"));
    let no = r.body["case_no"].as_str().unwrap().to_string();
    let problems = json!({"problems": [
        {"subject": "business-license", "message": "营业执照复印件不清晰，请重新提交"},
        {"subject": "enterprise_name", "message": "名称与营业执照不一致"}]});
    assert_eq!(t.act(&clerk, &no, "request-correction", problems).status, 200);
    assert_eq!(pdf_text(&no, "acceptance").0, 404);
    let (status, text) = pdf_text(&no, "correction");
    assert_eq!(status, 200);
    for want in ["一次性告知书", "营业执照复印件不清晰，请重新提交", "名称与营业执照不一致", &no, "银川市审批服务局"]
    {
        assert!(text.contains(want), "correction notice lacks {want}: {text}");
    }
    // An accepted case has its acceptance notice with the promised date.
    let r = t.post("/api/v1/cases", Some(&citizen), &submission(&t, &code, "online"));
    let no = r.body["case_no"].as_str().unwrap().to_string();
    let acc = t.act(&clerk, &no, "accept", json!({}));
    let deadline = acc.body["clock"]["deadline"].as_str().unwrap().to_string();
    let (status, text) = pdf_text(&no, "acceptance");
    assert_eq!(status, 200);
    for want in ["受理通知书", "食品经营许可", deadline.as_str(), "第三十二条"] {
        assert!(text.contains(want), "acceptance notice lacks {want}: {text}");
    }
    assert_eq!(pdf_text(&no, "correction").0, 404);
    // Not for applicants.
    let mut resp = t
        .agent
        .get(&format!("{}/work/cases/{no}/acceptance.pdf", t.base))
        .header("Authorization", &format!("Bearer {citizen}"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403, "{}", resp.body_mut().read_to_string().unwrap_or_default());
}

#[test]
fn a_departments_administrator_revises_only_that_departments_guides() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let admin = t.login("admin");
    let view = t.app.catalog();
    let (own, other): (Vec<_>, Vec<_>) =
        view.items.values().filter_map(|v| v.last()).partition(|p| p.body.department.as_str() == "bureau-economy");
    let (own, other) = (own[0].body.clone(), other[0].body.clone());
    let body = json!({"username": "econ-admin", "display_name": "市场准入科管理员", "password": "a-long-password-1", "roles": ["administrator"], "department": "bureau-economy"});
    assert_eq!(t.post("/api/v1/staff", Some(&admin), &body).status, 201);
    let dept_admin = t
        .post("/api/v1/sessions", None, &json!({"username": "econ-admin", "password": "a-long-password-1"}))
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let revise = |token: &str, item: &oneseal_domain::catalog::ServiceItem| {
        let mut i = serde_json::to_value(item).unwrap();
        i["hours"] = json!("周一至周五 9:00-17:00（修订）");
        t.post(
            &format!("/api/v1/items/{}/versions", item.impl_code),
            Some(token),
            &json!({"item": i, "reason": "修订办理时间"}),
        )
    };
    let before = t.events();
    let r = revise(&dept_admin, &other);
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(t.events(), before, "nothing published");
    let r = revise(&dept_admin, &own);
    assert_eq!(r.status, 201, "{:?}", r.body);
    // The bureau's administrator (no department) revises any item.
    assert_eq!(revise(&admin, &other).status, 201);
    // Moving an item to another department is not a department administrator's to do.
    let mut moved = serde_json::to_value(&own).unwrap();
    moved["department"] = json!(other.department.as_str());
    let r = t.post(
        &format!("/api/v1/items/{}/versions", own.impl_code),
        Some(&dept_admin),
        &json!({"item": moved, "reason": "移交"}),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn a_twenty_day_item_runs_its_whole_lifecycle_across_any_year_end() {
    each_backend(|t| {
        let code = t.item_code("道路货物运输经营许可");
        for (at, statutory) in [
            (datetime!(2026-12-20 10:00 +8), "2027-01-18"),
            (datetime!(2027-12-20 10:00 +8), "2028-01-17"),
            (datetime!(2099-12-18 10:00 +8), "2100-01-18"),
        ] {
            t.clock.set(at);
            let c = submitted_and_accepted(t, &code);
            assert_eq!(c["clock"]["statutory_deadline"], statutory, "{}: {at}", t.backend);
            assert_eq!(c["clock"]["provisional"], true, "{at}: counted over a year without a notice");
            let r = t.get(&format!("/api/v1/calendar/deadline?start={}&days=20", &at.date()), None);
            assert_eq!((r.body["deadline"].as_str(), r.body["provisional"].as_bool()), (Some(statutory), Some(true)));
            let done = drive_to_completion(t, c["case_no"].as_str().unwrap());
            assert_eq!(done["status"], "completed", "{at}");
        }
        t.clock.set(datetime!(2026-03-02 10:00 +8));
        // Official years answer as before; a provisional one says so.
        let r = t.get("/api/v1/calendar/workdays/2027-02-08", None);
        assert_eq!((r.body["workday"].as_bool(), r.body["provisional"].as_bool()), (Some(false), Some(true)));
        let r = t.get("/api/v1/calendar/workdays/2026-02-14", None);
        assert_eq!((r.body["workday"].as_bool(), r.body["provisional"].as_bool()), (Some(true), Some(false)));
        let r = t.get("/api/v1/calendar/years/2027", None);
        assert_eq!((r.status, r.body["provisional"].as_bool()), (200, Some(true)));
        assert_eq!(r.body["makeup_workdays"], json!([]));
        assert_eq!(t.get("/api/v1/calendar/years/2101", None).status, 404);
        let r = t.get("/api/v1/calendar/workdays/2101-01-03", None);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("calendar_year_not_covered")));
    });
}

#[test]
fn publishing_the_official_year_recomputes_exactly_the_dates_that_depended_on_it() {
    each_backend(|t| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        t.clock.set(datetime!(2026-12-21 10:00 +8));
        // A: promised 10 working days → 2027-01-05 (provisional). B: promised 5 → 2026-12-28 (official), statutory
        // 20 → 2027-01-19 (provisional). C: submitted, not accepted (no clock). D: accepted, then completed.
        let a = submitted_and_accepted(t, &t.item_code("民办非企业单位"));
        let b = submitted_and_accepted(t, &t.item_code("道路货物运输经营许可"));
        let citizen = t.login("citizen");
        let c = t.post("/api/v1/cases", Some(&citizen), &submission(t, &t.item_code("食品经营许可"), "online"));
        let d = submitted_and_accepted(t, &t.item_code("民办非企业单位"));
        let (a_no, b_no, d_no) =
            (a["case_no"].as_str().unwrap(), b["case_no"].as_str().unwrap(), d["case_no"].as_str().unwrap());
        drive_to_completion(t, d_no);
        assert_eq!(
            (a["clock"]["deadline"].as_str(), a["clock"]["provisional"].as_bool()),
            (Some("2027-01-05"), Some(true))
        );
        assert_eq!(b["clock"]["deadline"], "2026-12-28");
        assert_eq!(b["clock"]["statutory_deadline"], "2027-01-19");
        // A 12345 ticket dispatched on Wed 12-30: reply within 5 working days → Thu 2027-01-07 17:30 (provisional).
        t.clock.set(datetime!(2026-12-30 10:00 +8));
        let op = t.login("hotline");
        let tk = t.post("/api/v1/tickets", Some(&op), &ticket_body("city-appearance", "路灯不亮已经一周", "兴庆区"));
        let tk_no = tk.body["ticket_no"].as_str().unwrap().to_string();
        let disp = t.post(&format!("/api/v1/tickets/{tk_no}/dispatch"), Some(&op), &json!({}));
        assert_eq!(disp.body["reply_due"], "2027-01-07T09:30:00Z", "{:?}", disp.body);
        rt.block_on(t.app.drain_subscribers()).unwrap();
        // The applicant's page says the date is a planned one until the notice is published.
        let page_cookie = |user: &str| {
            let r = t.post("/api/v1/sessions", None, &json!({"username": user, "password": "oneseal-demo"}));
            r.header("set-cookie").unwrap().split(';').next().unwrap().to_string()
        };
        let (status, html) = page_get(t, &format!("/me/cases/{a_no}"), Some(&page_cookie("citizen")));
        assert_eq!(status, 200);
        assert!(
            html.contains("2027-01-05（计划日期，以国务院放假通知为准）"),
            "{}: planned date on the case page",
            t.backend
        );
        // From 1 November the dashboard and the calendar say that next year is still provisional.
        let sup = t.login("supervisor");
        assert_eq!(t.get("/api/v1/dashboard", Some(&sup)).body["calendar_reminder"], 2027);
        assert_eq!(t.get("/api/v1/calendar/years", None).body["reminder"], 2027);
        let (_, html) = page_get(t, "/dashboard", Some(&page_cookie("supervisor")));
        assert!(html.contains("data-testid=\"calendar-reminder\""), "the dashboard shows the reminder");
        let before = t.events();

        // The notice (hypothetical, for the test): 1-4 is also a rest day; the admin publishes it on 12-31.
        t.clock.set(datetime!(2026-12-31 09:00 +8));
        let admin = t.login("admin");
        let y = json!({"year": 2027, "rest_days": ["2027-01-01", "2027-01-04"], "makeup_workdays": []});
        let r = t.call("PUT", "/api/v1/calendar/years/2027", Some(&admin), Some(&y), &[]);
        assert_eq!(r.status, 200, "{}: {:?}", t.backend, r.body);
        let mut moved: Vec<&str> =
            r.body["cases_recomputed"].as_array().unwrap().iter().filter_map(|x| x.as_str()).collect();
        moved.sort();
        let mut want = vec![a_no, b_no];
        want.sort();
        assert_eq!(moved, want, "{}: exactly the running cases counted over 2027", t.backend);
        assert_eq!(r.body["tickets_recomputed"], 1);
        assert_eq!(t.events(), before + 1 + 2 + 1, "the publication, two case events, one ticket event");

        let a2 = t.get(&format!("/api/v1/cases/{a_no}"), Some(&admin)).body;
        assert_eq!(
            (a2["clock"]["deadline"].as_str(), a2["clock"]["provisional"].as_bool()),
            (Some("2027-01-06"), Some(false))
        );
        let b2 = t.get(&format!("/api/v1/cases/{b_no}"), Some(&admin)).body;
        assert_eq!(b2["clock"]["deadline"], "2026-12-28", "an official date does not move");
        assert_eq!(b2["clock"]["statutory_deadline"], "2027-01-20");
        let trail = t.get(&format!("/api/v1/cases/{a_no}/events"), Some(&admin)).body;
        let ev = trail["events"].as_array().unwrap().iter().find(|e| e["type"] == "dates_recomputed").unwrap().clone();
        assert_eq!((ev["actor"].as_str(), ev["year"].as_i64()), (Some("admin"), Some(2027)));
        assert_eq!(
            (ev["previous"]["deadline"].as_str(), ev["deadline"].as_str()),
            (Some("2027-01-05"), Some("2027-01-06"))
        );
        let c2 = t.get(&format!("/api/v1/cases/{}", c.body["case_no"].as_str().unwrap()), Some(&admin)).body;
        assert_eq!(c2["version"], 1, "an application not yet accepted has no dates to move");
        let tk2 = t.get(&format!("/api/v1/tickets/{tk_no}"), Some(&t.login("hotline"))).body;
        assert_eq!(tk2["reply_due"], "2027-01-08T09:30:00Z", "one working day later: {:?}", tk2);

        // The applicant whose promised date moved is told; the other is not; supervision follows the new date.
        rt.block_on(t.app.drain_subscribers()).unwrap();
        let n = t.get("/api/v1/notifications", Some(&t.login("citizen"))).body;
        let moved_news: Vec<&Value> =
            n["notifications"].as_array().unwrap().iter().filter(|x| x["kind"] == "dates_recomputed").collect();
        assert_eq!(moved_news.len(), 1, "{:?}", n);
        assert_eq!(moved_news[0]["case_no"], a_no);
        assert!(moved_news[0]["message"].as_str().unwrap().contains("2027-01-06"));
        let (_, html) = page_get(t, &format!("/me/cases/{a_no}"), Some(&page_cookie("citizen")));
        assert!(html.contains("2027-01-06") && !html.contains("计划日期"), "an official date is shown bare");
        assert_eq!(t.get("/api/v1/dashboard", Some(&t.login("supervisor"))).body["calendar_reminder"], Value::Null);
        assert_eq!(t.get("/api/v1/calendar/years", None).body["provisional_from"], 2028);
        let a_no2 = a_no.to_string();
        let watch = t.app.store.read_blocking(move |db| db.watch(&a_no2)).unwrap().unwrap();
        assert_eq!(watch.deadline.as_deref(), Some("2027-01-06"));
        assert_eq!(watch.red_on.as_deref(), Some("2027-01-07"));

        // Rebuilding gives the same projections; publishing the same notice again moves nothing.
        let snap = rt.block_on(t.app.dump_projections()).unwrap();
        rt.block_on(t.app.rebuild()).unwrap();
        assert_eq!(snap, rt.block_on(t.app.dump_projections()).unwrap(), "{}: rebuild", t.backend);
        let r = t.call("PUT", "/api/v1/calendar/years/2027", Some(&admin), Some(&y), &[]);
        assert_eq!((r.status, r.body["cases_recomputed"].as_array().map(Vec::len)), (200, Some(0)));
        assert_eq!(r.body["tickets_recomputed"], 0);
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn an_acceptance_later_than_five_working_days_counts_from_receipt() {
    each_backend(|t| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let citizen = t.login("citizen");
        let code = t.item_code("民办非企业单位");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        // Received Mon 03-02; accepted Thu 03-12, the 8th working day after: deemed accepted on 03-02.
        t.clock.set(datetime!(2026-03-12 10:00 +8));
        let c = t.act(&t.login("clerk"), &no, "accept", json!({}));
        assert_eq!(c.status, 200, "{:?}", c.body);
        assert_eq!(c.body["deemed_accepted"], true);
        assert_eq!(c.body["clock_state"]["started_at"], c.body["submitted_at"]);
        assert_eq!(c.body["clock"]["deadline"], "2026-03-16", "10 working days from 03-02, not from 03-12");
        assert_eq!(c.body["clock"]["elapsed"], 8);
        // The late acceptance is still flagged by supervision.
        rt.block_on(t.app.drain_subscribers()).unwrap();
        let alerts = t.get("/api/v1/alerts", Some(&t.login("supervisor"))).body;
        assert!(
            alerts["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["case_no"] == no.as_str() && a["kind"] == "late_acceptance"),
            "{alerts:?}"
        );
        // The applicant sees it on the case page.
        let r = t.post("/api/v1/sessions", None, &json!({"username": "citizen", "password": "oneseal-demo"}));
        let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
        let (status, html) = page_get(t, &format!("/me/cases/{no}"), Some(&cookie));
        assert_eq!(status, 200);
        assert!(html.contains("依法视为"), "the page says the application was deemed accepted");
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}

/// Identifiers are parsed at the edge into the domain's newtypes; a malformed one is answered as an unknown one
/// always was (the same status and problem `code`), on each kind of route, and nothing is written.
#[test]
fn malformed_usernames_get_the_same_answers_as_before() {
    each_backend(|t| {
        let admin = t.login("admin");
        let expect = |r: Resp, status: u16, code: &str, what: &str| {
            assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{what}: {:?}", r.body);
        };
        // Signing in with a name that is not a username answers as a wrong password does.
        let wrong = t.post("/api/v1/sessions", None, &json!({"username": "clerk", "password": "not-the-password"}));
        assert_eq!((wrong.status, wrong.body["code"].as_str()), (401, Some("bad_credentials")), "{:?}", wrong.body);
        for bad in ["Clerk", " clerk", "c", "张三", "clerk@bureau"] {
            let r = t.post("/api/v1/sessions", None, &json!({"username": bad, "password": "oneseal-demo"}));
            assert_eq!((r.status, &r.body), (wrong.status, &wrong.body), "{bad:?}");
        }
        let before = t.events();
        // A username in an address: an unknown account (404); the body's own checks first.
        for bad in ["Clerk", "c", "clerk%20", "a%2Fb"] {
            let staff = format!("/api/v1/staff/{bad}");
            expect(
                t.post(&format!("{staff}/grants"), Some(&admin), &json!({"role": "reviewer"})),
                404,
                "not_found",
                bad,
            );
            expect(
                t.call("DELETE", &format!("{staff}/grants/reviewer"), Some(&admin), None, &[]),
                404,
                "not_found",
                bad,
            );
            expect(t.post(&format!("{staff}/deactivate"), Some(&admin), &json!({})), 404, "not_found", bad);
            expect(
                t.call("PUT", &format!("{staff}/post"), Some(&admin), Some(&json!({"window": "3号窗口"})), &[]),
                404,
                "not_found",
                bad,
            );
            expect(
                t.call("PUT", &format!("{staff}/post"), Some(&admin), Some(&json!({"window": " "})), &[]),
                422,
                "invalid_post",
                bad,
            );
            let lift = format!("/api/v1/accounts/{bad}/lift-login-ceiling");
            expect(t.post(&lift, Some(&admin), &json!({})), 404, "not_found", bad);
        }
        // A new account's name is checked where it always was.
        let body = json!({"username": "New Clerk", "display_name": "新", "password": "a-long-password-1", "roles": ["window_clerk"], "department": "market"});
        expect(t.post("/api/v1/staff", Some(&admin), &body), 422, "invalid_username", "create");
        assert_eq!(t.events(), before, "nothing is written for a malformed username");
    });
}

#[test]
fn malformed_identifiers_get_the_same_clear_answer() {
    each_backend(|t| {
        let clerk = t.login("clerk");
        let supervisor = t.login("supervisor");
        let before = t.events();
        let expect = |r: Resp, status: u16, code: &str, what: &str| {
            assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{what}: {:?}", r.body);
        };
        for bad in ["YC123", "yc202603020000001", "not-a-case", "YC2026030200000X1"] {
            // A case number in the path: a view, the trail, an action, the personal data, consultations.
            expect(t.get(&format!("/api/v1/cases/{bad}"), Some(&clerk)), 404, "not_found", bad);
            expect(t.get(&format!("/api/v1/cases/{bad}/events"), Some(&clerk)), 404, "not_found", bad);
            expect(t.act(&clerk, bad, "accept", json!({})), 404, "not_found", bad);
            expect(
                t.post(&format!("/api/v1/cases/{bad}/personal-data"), Some(&clerk), &json!({"reason": "checking"})),
                404,
                "not_found",
                bad,
            );
            expect(t.get(&format!("/api/v1/cases/{bad}/consultations"), Some(&clerk)), 404, "not_found", bad);
            // A case number in a body: the public progress lookup and an urging.
            expect(
                t.post("/api/v1/progress", None, &json!({"case_no": bad, "query_code": "ABCD1234"})),
                404,
                "not_found",
                bad,
            );
            expect(
                t.post("/api/v1/urgings", Some(&supervisor), &json!({"case_no": bad, "message": "please", "days": 3})),
                404,
                "not_found",
                bad,
            );
        }
        // A ticket number in the path: a view, the similar tickets, the caller, an action.
        let hotline = t.login("hotline");
        for bad in ["RX1", "rx2026030200001", "RX2026023000001", "not-a-ticket"] {
            expect(t.get(&format!("/api/v1/tickets/{bad}"), Some(&hotline)), 404, "not_found", bad);
            expect(t.get(&format!("/api/v1/tickets/{bad}/similar"), Some(&hotline)), 404, "not_found", bad);
            expect(t.post(&format!("/api/v1/tickets/{bad}/caller"), Some(&hotline), &json!({})), 404, "not_found", bad);
            expect(
                t.post(&format!("/api/v1/tickets/{bad}/sign-for"), Some(&hotline), &json!({})),
                404,
                "not_found",
                bad,
            );
        }
        // Malformed numbers count as failed lookups, as unknown ones do: past the limit the address waits.
        let lookup = || t.post("/api/v1/progress", None, &json!({"case_no": "YC1", "query_code": "ABCD1234"}));
        for _ in 4..oneseal_app::cases::FAILED_LOOKUPS_PER_ADDRESS {
            expect(lookup(), 404, "not_found", "lookup under the limit");
        }
        expect(lookup(), 429, "lookup_rate_limited", "lookup past the limit");
        assert_eq!(t.events(), before, "nothing is written for a malformed identifier");
    });
}
