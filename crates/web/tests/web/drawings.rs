//! 多图联审 comments over HTTP on both backends: each reviewing department comments on a sheet of the one drawing
//! set (only its reviewers, only while its task is open), the applicant answers every open comment in one
//! submission with the revised drawings uploaded once, a department comments again or passes, and when every
//! department has passed the consolidated result is issued and sealed. Bad input and the wrong people are
//! answered with problem+json and nothing is written.

use super::*;

const DRAWING_REVIEW: &str = "11640100MB960001070700057000001";

fn dwg(tag: u8) -> Vec<u8> {
    [b"AC1032".as_slice(), &[tag; 64]].concat()
}

/// Refused with this status and code, in Chinese and English, and nothing written.
pub(super) fn refused(t: &TestApp, r: Resp, status: u16, code: &str, events: i64) {
    assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{}: {:?}", t.backend, r.body);
    if status != 404 {
        assert!(r.body["title_zh"].as_str().is_some_and(|s| !s.is_empty()), "a Chinese title: {:?}", r.body);
        assert!(r.body["detail"].as_str().is_some_and(|s| !s.is_empty()), "an English detail: {:?}", r.body);
    }
    assert_eq!(t.events(), events, "a refusal writes nothing: {:?}", r.body);
}

#[test]
fn departments_comment_on_the_drawings_the_applicant_answers_once_and_the_result_is_sealed() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let (status, file) = upload(t, &citizen, "建筑施工图.dwg", &dwg(0));
        assert_eq!(status, 201, "{file}");
        let mut sub = submission(t, DRAWING_REVIEW, "online");
        for m in sub["materials"].as_array_mut().unwrap() {
            if m["material_id"] == "construction-drawings" {
                m["attachment"] = file["id"].clone();
            }
        }
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&citizen)).body;
        assert_eq!(c["current_step"]["kind"], "joint_review", "{c}");

        let fire = t.login("fire-reviewer");
        let defence = t.login("civil-air-defence-reviewer");
        let comment =
            |material: &str, sheet: &str, text: &str| json!({"material_id": material, "sheet": sheet, "text": text});

        // The wrong people (a stranger does not see the case; another department's reviewer and the applicant may
        // not comment), then bad input.
        let events = t.events();
        let (stranger, other) = (t.login("regulator"), t.login("bureau-construction-reviewer"));
        let long = "长".repeat(2001);
        let cases = [
            (&stranger, "drawing-comment", comment("construction-drawings", "建施-03", "x"), 404, "not_found"),
            (&other, "drawing-comment", comment("construction-drawings", "建施-03", "x"), 403, "forbidden"),
            (&citizen, "drawing-comment", comment("construction-drawings", "建施-03", "x"), 403, "forbidden"),
            (&fire, "drawing-comment", comment("construction-drawings", "建施-03", "  "), 422, "empty"),
            (&fire, "drawing-comment", comment("construction-drawings", "", "疏散宽度不足"), 422, "empty"),
            (&fire, "drawing-comment", comment("no-such-file", "建施-03", "疏散宽度不足"), 422, "unknown_sheet"),
            (&fire, "drawing-comment", comment("construction-drawings", "建施-03", &long), 422, "too_long"),
            (&citizen, "answer-drawing-comments", json!({"answers": []}), 409, "no_open_comments"),
        ];
        for (token, action, body, status, code) in cases {
            refused(t, t.act(token, &no, action, body), status, code, events);
        }

        // Two departments comment on the same drawing set.
        // Fire comments from its workbench page (the same action as the API).
        let (cookie, csrf) = super::channels::session(t, "fire-reviewer");
        let (status, html) = page_get(t, &format!("/work/cases/{no}"), Some(&cookie));
        assert_eq!(status, 200);
        assert!(html.contains("data-testid=\"do-drawing-comment\""), "the workbench offers the comment form");
        let form = [
            ("_csrf", csrf),
            ("action", "drawing-comment".to_string()),
            ("material_id", "construction-drawings".to_string()),
            ("sheet", "建施-03".to_string()),
            ("text", "二层疏散楼梯净宽不足 1.1 米".to_string()),
        ];
        let (status, location) = super::channels::form_post(t, &format!("/work/cases/{no}/act"), &cookie, &[], &form);
        assert_eq!((status, location), (303, format!("/work/cases/{no}?done=drawing-comment")));
        let (_, html) = page_get(t, &format!("/work/cases/{no}"), Some(&cookie));
        assert!(html.contains("data-testid=\"work-drawing-comments\"") && html.contains("二层疏散楼梯净宽不足"));
        let r = t.act(
            &defence,
            &no,
            "drawing-comment",
            comment("construction-drawings", "人防-01", "防空地下室口部未设防护密闭门"),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        // The applicant sees every department's comments together.
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&citizen)).body;
        let comments = c["drawing_review"]["comments"].as_array().unwrap().clone();
        assert_eq!(comments.len(), 2, "{c}");
        assert_eq!(
            (comments[0]["comment_id"].as_str(), comments[0]["department"].as_str()),
            (Some("c1"), Some("fire"))
        );
        assert_eq!(
            (comments[1]["sheet"].as_str(), comments[1]["department"].as_str()),
            (Some("人防-01"), Some("civil-air-defence"))
        );
        assert!(comments.iter().all(|x| x["answer"].is_null() && x["round"] == 1));

        // A department with an open comment cannot pass.
        let task = |c: &Value, dept: &str| -> String {
            c["current_step"]["tasks"].as_array().unwrap().iter().find(|x| x["department"] == dept).unwrap()["task_id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let events = t.events();
        let pass = |dept: &str| json!({"task_id": task(&c, dept), "opinion": "审查合格"});
        refused(t, t.act(&fire, &no, "complete", pass("fire")), 409, "comments_unanswered", events);

        // The applicant answers all comments in one submission — not part of them, not one twice, not empty.
        let a = |id: &str, text: &str| json!({"comment_id": id, "text": text});
        let both = json!({"answers": [a("c1", "x"), a("c2", "y")]});
        let cases = [
            (&stranger, both.clone(), 404, "not_found"),
            (&fire, both, 403, "forbidden"),
            (&citizen, json!({"answers": [a("c1", "已加宽")]}), 422, "answers_missing"),
            (&citizen, json!({"answers": [a("c1", "已加宽"), a("c1", "再次")]}), 422, "unknown_comment"),
            (&citizen, json!({"answers": [a("c1", "已加宽"), a("c9", "y")]}), 422, "unknown_comment"),
            (&citizen, json!({"answers": [a("c1", "已加宽"), a("c2", " ")]}), 422, "empty"),
        ];
        for (token, body, status, code) in cases {
            refused(t, t.act(token, &no, "answer-drawing-comments", body), status, code, events);
        }
        let (status, revised) = upload(t, &citizen, "建筑施工图-修改版.dwg", &dwg(1));
        assert_eq!(status, 201, "{revised}");
        let answer = json!({
            "answers": [a("c1", "疏散楼梯净宽已调整为 1.2 米，见修改版建施-03"), a("c2", "已增设防护密闭门，见人防-01")],
            "materials": [{"material_id": "construction-drawings", "file_name": "建筑施工图-修改版.dwg", "attachment": revised["id"]}]
        });
        let r = t.act(&citizen, &no, "answer-drawing-comments", answer.clone());
        assert_eq!(r.status, 200, "{}: {:?}", t.backend, r.body);
        refused(t, t.act(&citizen, &no, "answer-drawing-comments", answer), 409, "no_open_comments", t.events());
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&fire)).body;
        assert_eq!(c["drawing_review"]["answers_given"], 1);
        assert!(c["drawing_review"]["comments"].as_array().unwrap().iter().all(|x| x["answer"].is_string()), "{c}");
        let drawings =
            c["materials"].as_array().unwrap().iter().find(|m| m["material_id"] == "construction-drawings").unwrap();
        assert_eq!(
            (&drawings["attachment"], &drawings["digest"]),
            (&revised["id"], &revised["sha256"]),
            "the revised set replaces the first"
        );

        // Fire comments again on the revised set (round 2); civil air defence passes.
        let r = t.act(&fire, &no, "drawing-comment", comment("construction-drawings", "建施-05", "防火分区面积需复核"));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["drawing_review"]["comments"][2]["round"], 2, "{:?}", r.body["drawing_review"]);
        let r = t.act(&defence, &no, "complete", pass("civil-air-defence"));
        assert_eq!(r.status, 200, "{:?}", r.body);
        // A department that passed comments no more.
        refused(
            t,
            t.act(&defence, &no, "drawing-comment", comment("construction-drawings", "人防-02", "x")),
            403,
            "forbidden",
            t.events(),
        );
        // The applicant reads every department's comments on the case page and answers the open one there.
        let (cookie, csrf) = super::channels::session(t, "citizen");
        let (status, html) = page_get(t, &format!("/me/cases/{no}"), Some(&cookie));
        assert_eq!(status, 200);
        assert_eq!(html.matches("data-testid=\"drawing-comment\"").count(), 3, "{html}");
        for text in ["二层疏散楼梯净宽不足", "防空地下室口部未设防护密闭门", "防火分区面积需复核", "已增设防护密闭门"]
        {
            assert!(html.contains(text), "{text}");
        }
        assert!(html.contains("name=\"f_answer_c3\"") && !html.contains("name=\"f_answer_c1\""), "only c3 is open");
        let (status, location) = super::channels::multipart_post(
            t,
            &format!("/me/cases/{no}/drawing-answers"),
            &cookie,
            &[("_csrf", csrf), ("f_answer_c3", "已复核，见防火分区图".into())],
            &[],
        );
        assert_eq!((status, location.as_str()), (303, format!("/me/cases/{no}").as_str()));
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&citizen)).body;
        assert_eq!(c["drawing_review"]["comments"][2]["answer"], "已复核，见防火分区图", "{c}");
        assert_eq!(c["drawing_review"]["answers_given"], 2);
        let (_, html) = page_get(t, &format!("/me/cases/{no}"), Some(&cookie));
        assert!(!html.contains("data-testid=\"answer-drawings\""), "nothing left to answer");

        // Every department passes: the consolidated result is decided, issued under the bureau's seal, verifiable.
        let c = drive_to_completion(t, &no);
        let certificate =
            c["licenses"][0].as_str().unwrap_or_else(|| panic!("a sealed review result: {c}")).to_string();
        let v = t.post("/api/v1/verify", None, &json!({ "input": certificate }));
        assert_eq!(v.body["status"], "valid", "{:?}", v.body);
        // The review is over: no more comments or answers.
        refused(
            t,
            t.act(&citizen, &no, "answer-drawing-comments", json!({"answers": []})),
            409,
            "case_wrong_status",
            t.events(),
        );
        refused(
            t,
            t.act(&citizen, &no, "drawing-comment", comment("construction-drawings", "建施-03", "x")),
            409,
            "case_wrong_status",
            t.events(),
        );
        assert_rebuild_identical(t);
    });
}
