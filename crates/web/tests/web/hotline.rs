//! The 12345 hotline, ratings (好差评) and the dispatch directory.

use super::*;

#[test]
fn hotline_ticket_lifecycle_return_extension_reopen_merge_and_kpis() {
    each_backend(|t| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let op = t.login("hotline");
        let unit = t.login("handling-unit");
        let citizen = t.login("citizen");
        let act = |no: &str, action: &str, tk: &str, body: Value| {
            t.post(&format!("/api/v1/tickets/{no}/{action}"), Some(tk), &body)
        };
        // Bad input is refused by name and writes nothing.
        let events = t.events();
        for (body, code) in [
            (ticket_body("nope", "路灯坏了", "兴庆区"), "unknown_category"),
            (ticket_body("city-appearance", "   ", "兴庆区"), "text_required"),
            (
                json!({"category": "city-appearance", "caller_name": "", "caller_phone": "1", "content": "x"}),
                "text_required",
            ),
        ] {
            let r = t.post("/api/v1/tickets", Some(&op), &body);
            assert_eq!((r.status, r.body["code"].as_str()), (422, Some(code)), "{:?}", r.body);
        }
        assert_eq!(t.post("/api/v1/tickets", Some(&unit), &ticket_body("city-appearance", "x", "")).status, 403);
        assert_eq!(t.post("/api/v1/tickets", None, &ticket_body("city-appearance", "x", "")).status, 401);
        assert_eq!(t.events(), events, "nothing written");

        // Received Mon 03-02 10:00 at the operator console; the caller is masked and sealed at rest.
        let a = t.post(
            "/api/v1/tickets",
            Some(&op),
            &ticket_body(
                "city-appearance",
                "解放西街与民族北街路口垃圾堆放多日无人清理，气味很大",
                "兴庆区解放西街民族北街路口",
            ),
        );
        assert_eq!(a.status, 201, "{:?}", a.body);
        let no = a.body["ticket_no"].as_str().unwrap().to_string();
        assert!(no.starts_with("RX20260302"), "{no}");
        assert_eq!(a.body["intake"]["caller_phone"], "139****5678");
        assert_eq!(a.body["intake"]["caller_name"], "王*");
        let raw = t.app.store.read_blocking(|db| db.dump_table("tickets")).unwrap().join("\n");
        assert!(!raw.contains("13912345678") && !raw.contains("王五"), "sealed at rest");
        // The centre dispatches to the directory's lead unit: sign within 2 working hours, reply within 5 days.
        let d = act(&no, "dispatch", &op, json!({}));
        assert_eq!(d.status, 200, "{:?}", d.body);
        assert_eq!(d.body["lead_unit"], "urban-management");
        assert_eq!(d.body["co_units"], json!(["ecology"]));
        assert_eq!(d.body["sign_due"], "2026-03-02T04:00:00Z", "12:00 Beijing");
        assert_eq!(d.body["reply_due"], "2026-03-09T09:30:00Z", "Mon 03-09 17:30 Beijing");
        // Only the lead unit signs; then it returns the ticket with a reason and the centre redispatches.
        assert_eq!(act(&no, "sign-for", &op, json!({})).status, 403);
        assert_eq!(act(&no, "sign-for", &citizen, json!({})).status, 404, "not the citizen's ticket");
        assert_eq!(act(&no, "reply", &unit, json!({"reply": "已处理"})).body["code"], "wrong_status", "sign first");
        assert_eq!(act(&no, "sign-for", &unit, json!({})).body["status"], "signed");
        assert_eq!(act(&no, "return", &unit, json!({"reason": " "})).body["code"], "text_required");
        let r = act(&no, "return", &unit, json!({"reason": "该路口属金凤区管辖"}));
        assert_eq!(
            (r.body["status"].as_str(), r.body["returned_reason"].as_str()),
            (Some("received"), Some("该路口属金凤区管辖"))
        );
        assert_eq!(act(&no, "dispatch", &op, json!({"lead_unit": "nowhere"})).body["code"], "unknown_unit");
        assert_eq!(act(&no, "dispatch", &op, json!({})).body["status"], "dispatched");
        assert_eq!(act(&no, "sign-for", &unit, json!({})).body["status"], "signed");
        // An extension of 2 working days, approved by the centre.
        assert_eq!(
            act(&no, "request-extension", &unit, json!({"days": 0, "reason": "x"})).body["code"],
            "invalid_days"
        );
        assert_eq!(act(&no, "request-extension", &unit, json!({"days": 2, "reason": "需协调环卫公司"})).status, 200);
        assert_eq!(
            act(&no, "request-extension", &unit, json!({"days": 2, "reason": "again"})).body["code"],
            "extension_pending"
        );
        let e = act(&no, "decide-extension", &op, json!({"approve": true}));
        assert_eq!(e.body["reply_due"], "2026-03-11T09:30:00Z", "{:?}", e.body);
        // A similar request the next day is suggested for merging, and merged.
        t.clock.set(datetime!(2026-03-03 09:30 +8));
        let (op, unit) = (t.login("hotline"), t.login("handling-unit"));
        let c = t.post(
            "/api/v1/tickets",
            Some(&op),
            &ticket_body("city-appearance", "民族北街路口垃圾堆放无人清理，气味很大", "兴庆区民族北街路口"),
        );
        let c_no = c.body["ticket_no"].as_str().unwrap().to_string();
        assert_eq!(c.body["similar"][0]["ticket_no"], no.as_str(), "{:?}", c.body["similar"]);
        let other = t.post("/api/v1/tickets", Some(&op), &ticket_body("labour", "公司拖欠三个月工资", "金凤区"));
        assert!(other.body["similar"].as_array().unwrap().is_empty(), "unrelated: no suggestion");
        assert_eq!(act(&c_no, "merge", &op, json!({"into": c_no})).body["code"], "bad_merge");
        assert_eq!(act(&c_no, "merge", &op, json!({"into": no})).body["status"], "merged");
        // Reply on time; the follow-up finds the citizen dissatisfied: reopened, and the unit gets a bad rating.
        assert_eq!(act(&no, "reply", &unit, json!({"reply": "已安排清运"})).body["replied_on_time"], true);
        let f = act(&no, "follow-up", &op, json!({"satisfaction": "dissatisfied", "note": "只清了一半"}));
        assert_eq!(
            (f.body["status"].as_str(), f.body["reopen_count"].as_u64()),
            (Some("received"), Some(1)),
            "{:?}",
            f.body
        );
        let ratings = t.get("/api/v1/ratings", Some(&t.login("supervisor")));
        let bad =
            ratings.body["ratings"].as_array().unwrap().iter().find(|r| r["target"] == no.as_str()).unwrap().clone();
        assert_eq!((bad["department"].as_str(), bad["remediation"].as_str()), (Some("urban-management"), Some("open")));
        // Handled again; satisfied: closed, and the merged ticket is answered with the same reply.
        act(&no, "dispatch", &op, json!({}));
        act(&no, "sign-for", &unit, json!({}));
        act(&no, "reply", &unit, json!({"reply": "已全部清运并设置垃圾桶"}));
        let f = act(&no, "follow-up", &op, json!({"satisfaction": "satisfied", "note": ""}));
        assert_eq!(f.body["status"], "closed", "{:?}", f.body);
        let merged = t.get(&format!("/api/v1/tickets/{c_no}"), Some(&op));
        assert_eq!(
            (merged.body["status"].as_str(), merged.body["reply"].as_str()),
            (Some("closed"), Some("已全部清运并设置垃圾桶"))
        );
        // A direct answer from the knowledge base closes at once.
        let kb = t.post("/api/v1/knowledge", Some(&op), &json!({"category": "government-services", "title": "营业执照办理时限", "body": "公司设立登记承诺 1 个工作日办结。"}));
        assert_eq!(kb.status, 201, "{:?}", kb.body);
        let found = t.get(&format!("/api/v1/knowledge?q={}", "%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7"), None);
        assert_eq!(found.body["articles"][0]["title"], "营业执照办理时限", "{:?}", found.body);
        let q = t.post("/api/v1/tickets", Some(&op), &ticket_body("government-services", "办营业执照要多久", ""));
        let q_no = q.body["ticket_no"].as_str().unwrap().to_string();
        let dir =
            act(&q_no, "answer-directly", &op, json!({"answer": "承诺 1 个工作日办结", "article": kb.body["id"]}));
        assert_eq!(dir.body["status"], "closed");
        // A citizen files from the portal and sees only their own tickets.
        let citizen = t.login("citizen");
        let mine = t.post("/api/v1/tickets", Some(&citizen), &json!({"category": "noise", "caller_name": "张三", "caller_phone": "13800000000", "content": "夜间施工噪音", "location": "西夏区"}));
        assert_eq!((mine.status, mine.body["intake"]["channel"].as_str()), (201, Some("portal")));
        let list = t.get("/api/v1/tickets", Some(&citizen));
        assert_eq!(list.body["total"], 1);
        assert_eq!(t.get(&format!("/api/v1/tickets/{no}"), Some(&citizen)).status, 404);
        // Overdue signing: the noise ticket dispatched now and not signed within 2 working hours raises one alert.
        let n_no = mine.body["ticket_no"].as_str().unwrap().to_string();
        act(&n_no, "dispatch", &op, json!({}));
        t.clock.set(datetime!(2026-03-03 14:00 +8));
        let sup = t.login("supervisor");
        let s = t.post("/api/v1/supervision/sweep", Some(&sup), &json!({}));
        assert_eq!(s.body["ticket_alerts"], 1, "{:?}", s.body);
        assert_eq!(t.post("/api/v1/supervision/sweep", Some(&sup), &json!({})).body["ticket_alerts"], 0, "once");
        let al = t.get("/api/v1/alerts?kind=ticket_sign_overdue", Some(&sup));
        assert_eq!(
            (al.body["total"].as_i64(), al.body["alerts"][0]["case_no"].as_str()),
            (Some(1), Some(n_no.as_str()))
        );
        // An overdue reply raises an alert and urges the unit (the labour ticket, dispatched and never answered).
        let l_no = other.body["ticket_no"].as_str().unwrap().to_string();
        act(&l_no, "dispatch", &t.login("hotline"), json!({}));
        t.clock.set(datetime!(2026-03-20 10:00 +8));
        let sup = t.login("supervisor");
        let s = t.post("/api/v1/supervision/sweep", Some(&sup), &json!({}));
        assert!(s.body["ticket_alerts"].as_i64().unwrap() >= 2, "{:?}", s.body);
        let urgings = t.get("/api/v1/urgings", Some(&sup));
        assert!(
            urgings.body["urgings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["case_no"] == l_no.as_str() && u["department"] == "hr-social-security"),
            "{:?}",
            urgings.body
        );
        // KPIs against a brute-force count over the ticket list.
        let all = t.get("/api/v1/tickets?per_page=200", Some(&t.login("hotline"))).body["tickets"]
            .as_array()
            .unwrap()
            .clone();
        let k = t.get("/api/v1/hotline/kpis?from=2026-03-01&to=2026-04-01", Some(&sup));
        assert_eq!(k.status, 200, "{:?}", k.body);
        let received = all.len() as i64;
        let completed = all.iter().filter(|x| x["status"] == "closed").count() as i64;
        let unit_replies: Vec<&Value> =
            all.iter().filter(|x| x["replied_at"].is_string() && x["answered_directly"] == false).collect();
        let followed = unit_replies.iter().filter(|x| x["followed_up"] == true).count() as i64;
        let satisfied = unit_replies
            .iter()
            .filter(|x| {
                x["followed_up"] == true
                    && ["very_satisfied", "satisfied", "neutral"].contains(&x["satisfaction"].as_str().unwrap_or(""))
            })
            .count() as i64;
        let on_time = unit_replies.iter().filter(|x| x["replied_on_time"] == true).count() as i64;
        let tot = &k.body["total"];
        assert_eq!((tot["received"].as_i64(), tot["completed"].as_i64()), (Some(received), Some(completed)), "{tot}");
        assert_eq!(
            (
                tot["unit_replies"].as_i64(),
                tot["followed_up"].as_i64(),
                tot["satisfied"].as_i64(),
                tot["on_time"].as_i64()
            ),
            (Some(unit_replies.len() as i64), Some(followed), Some(satisfied), Some(on_time))
        );
        let by_unit = k.body["by_unit"].as_array().unwrap();
        for u in by_unit {
            let key = u["key"].as_str().unwrap();
            let n = all.iter().filter(|x| x["lead_unit"] == key).count() as i64;
            assert_eq!(u["received"].as_i64(), Some(n), "{key}");
        }
        assert_eq!(t.get("/api/v1/hotline/kpis?from=2026-03-01&to=2026-04-01", Some(&t.login("citizen"))).status, 403);
        assert_eq!(
            t.get("/api/v1/hotline/kpis?from=2026-03-05&to=2026-03-01", Some(&sup)).body["code"],
            "invalid_period"
        );
        let hot = t.get("/api/v1/hotline/hot-topics", Some(&sup));
        assert_eq!(hot.status, 200);
        // The transparency log holds a leaf for every event, alerts raised in batches included.
        let audit = rt.block_on(t.app.audit()).unwrap();
        assert!(audit.problems.is_empty(), "{}: {:?}", t.backend, audit.problems);
        // The projections rebuild identically.
        let before = rt.block_on(t.app.dump_projections()).unwrap();
        rt.block_on(t.app.rebuild()).unwrap();
        assert_eq!(rt.block_on(t.app.dump_projections()).unwrap(), before, "{}", t.backend);
    });
}

#[test]
fn citizens_filing_a_ticket_are_not_shown_other_peoples_similar_tickets() {
    each_backend(|t| {
        let op = t.login("hotline");
        let words = ("city-appearance", "民族北街路口垃圾堆放无人清理，气味很大", "兴庆区民族北街路口");
        let first = t.post("/api/v1/tickets", Some(&op), &ticket_body(words.0, words.1, words.2));
        assert_eq!(first.status, 201, "{:?}", first.body);
        let first_no = first.body["ticket_no"].as_str().unwrap().to_string();
        // The centre is offered the merge...
        let again = t.post("/api/v1/tickets", Some(&op), &ticket_body(words.0, words.1, words.2));
        assert_eq!(again.body["similar"][0]["ticket_no"], first_no.as_str(), "{:?}", again.body);
        // ...a citizen filing the same words online is not shown the other callers' tickets.
        let citizen = t.login("citizen");
        let mine = t.post("/api/v1/tickets", Some(&citizen), &ticket_body(words.0, words.1, words.2));
        assert_eq!(mine.status, 201, "{:?}", mine.body);
        assert_eq!(mine.body["similar"], json!([]), "{:?}", mine.body);
        assert!(!serde_json::to_string(&mine.body).unwrap().contains(first_no.as_str()), "{:?}", mine.body);
        let no = mine.body["ticket_no"].as_str().unwrap();
        assert_eq!(t.get(&format!("/api/v1/tickets/{no}/similar"), Some(&citizen)).status, 403);
    });
}

#[test]
fn ticket_reply_limits_skip_the_may_day_holiday() {
    each_backend(|t| {
        t.clock.set(datetime!(2026-04-30 10:00 +8));
        let op = t.login("hotline");
        let a = t.post("/api/v1/tickets", Some(&op), &ticket_body("city-appearance", "井盖缺失", "金凤区"));
        let no = a.body["ticket_no"].as_str().unwrap().to_string();
        let d = t.post(&format!("/api/v1/tickets/{no}/dispatch"), Some(&op), &json!({}));
        // Thu 04-30 + 5 working days: 05-01…05-05 are off, Sat 05-09 is a make-up working day → Mon 05-11.
        assert_eq!(d.body["reply_due"], "2026-05-11T09:30:00Z", "{:?}", d.body);
        // Urgent: 4 working hours from Thu 10:00 → Thu 15:30 (2 h before noon, 2 h after 13:30).
        let u = t.post("/api/v1/tickets", Some(&op), &json!({"category": "city-appearance", "urgent": true, "caller_name": "李四", "caller_phone": "13900000000", "content": "路面塌陷", "location": "金凤区"}));
        let u_no = u.body["ticket_no"].as_str().unwrap().to_string();
        let d = t.post(&format!("/api/v1/tickets/{u_no}/dispatch"), Some(&op), &json!({}));
        assert_eq!(d.body["reply_due"], "2026-04-30T07:30:00Z", "{:?}", d.body);
    });
}

#[test]
fn ratings_one_per_case_changeable_then_fixed_with_remediation_appeal_and_satisfaction() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let code = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let query_code = r.body["query_code"].as_str().unwrap().to_string();
        let rate = |tk: Option<&str>, body: Value| t.post("/api/v1/ratings", tk, &body);
        // Not before completion; bad input named; nothing written.
        let company = t.login("company");
        let events = t.events();
        assert_eq!(
            rate(Some(&citizen), json!({"kind": "case", "case_no": no, "level": "satisfied"})).body["code"],
            "case_not_completed"
        );
        assert_eq!(
            rate(Some(&citizen), json!({"kind": "case", "case_no": no, "level": "great"})).body["code"],
            "invalid_level"
        );
        assert_eq!(
            rate(Some(&citizen), json!({"kind": "stars", "case_no": no, "level": "satisfied"})).body["code"],
            "invalid_kind"
        );
        assert_eq!(rate(None, json!({"kind": "case", "case_no": no, "level": "satisfied"})).status, 403);
        assert_eq!(
            rate(None, json!({"kind": "case", "case_no": no, "query_code": "WRONG1", "level": "satisfied"})).status,
            404
        );
        assert_eq!(rate(Some(&company), json!({"kind": "case", "case_no": no, "level": "satisfied"})).status, 404);
        assert_eq!(t.events(), events, "nothing written");
        assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
        let done = drive_to_completion(t, &no);
        let dept = done["department"].as_str().unwrap().to_string();
        // Rated dissatisfied; changed within the period (still one rating); a bad rating opens a remediation due
        // in 5 working days.
        let citizen = t.login("citizen");
        let first =
            rate(Some(&citizen), json!({"kind": "case", "case_no": no, "level": "satisfied", "comment": "很快"}));
        assert_eq!(first.status, 201, "{:?}", first.body);
        assert_eq!(first.body["remediation"], Value::Null);
        let changed = rate(
            Some(&citizen),
            json!({"kind": "case", "case_no": no, "level": "very_dissatisfied", "comment": "窗口态度差", "tags": ["态度"]}),
        );
        assert_eq!(
            (changed.body["id"].as_str(), changed.body["level"].as_str()),
            (first.body["id"].as_str(), Some("very_dissatisfied"))
        );
        assert_eq!(
            (changed.body["remediation"].as_str(), changed.body["remediation_due"].as_str()),
            (Some("open"), Some("2026-03-09"))
        );
        // Anyone with the query code rates the window service anonymously; the online application is no window.
        assert_eq!(
            rate(None, json!({"kind": "window", "case_no": no, "query_code": query_code, "level": "satisfied"})).body
                ["code"],
            "not_a_window_service"
        );
        // Remediation in order, by the rated department only; feedback reaches the named rater.
        let rid = changed.body["id"].as_str().unwrap().to_string();
        let step = |tk: &str, step: &str| {
            t.post(
                &format!("/api/v1/ratings/{rid}/remediation"),
                Some(tk),
                &json!({"step": step, "note": "已核实并整改"}),
            )
        };
        let staff = t.login(&format!("{dept}-chief"));
        assert_eq!(step(&t.login("health-chief"), "verify").status, 404);
        assert_eq!(step(&staff, "rectify").body["code"], "wrong_step");
        assert_eq!(step(&staff, "verify").body["remediation"], "verified");
        // The department appeals; a supervisor rejects it; the remediation goes on and is fed back.
        let appeal =
            t.post(&format!("/api/v1/ratings/{rid}/appeal"), Some(&staff), &json!({"reason": "窗口录像显示服务规范"}));
        assert_eq!(appeal.body["appeal"], "pending");
        assert_eq!(
            t.post(&format!("/api/v1/ratings/{rid}/appeal"), Some(&staff), &json!({"reason": "again"})).body["code"],
            "cannot_appeal"
        );
        assert_eq!(step(&staff, "rectify").body["code"], "wrong_step", "paused while the appeal is pending");
        assert_eq!(
            t.post(&format!("/api/v1/ratings/{rid}/appeal-decision"), Some(&staff), &json!({"uphold": false})).status,
            403
        );
        let d = t.post(
            &format!("/api/v1/ratings/{rid}/appeal-decision"),
            Some(&t.login("supervisor")),
            &json!({"uphold": false, "note": "证据不足"}),
        );
        assert_eq!((d.body["appeal"].as_str(), d.body["counted"].as_bool()), (Some("rejected"), Some(true)));
        assert_eq!(step(&staff, "rectify").body["remediation"], "rectified");
        assert_eq!(step(&staff, "feedback").body["remediation"], "fed_back");
        tokio::runtime::Runtime::new().unwrap().block_on(t.app.drain_subscribers()).unwrap();
        let n = t.get("/api/v1/notifications", Some(&citizen));
        let notes = n.body["notifications"].as_array().unwrap();
        assert!(notes.iter().any(|x| x["kind"] == "rating_feedback"), "{:?}", n.body);
        let link = format!("/rate?case_no={no}");
        assert!(
            notes.iter().any(|x| x["kind"] == "completed" && x["message"].as_str().unwrap().contains(&link)),
            "the rating link comes with completion: {:?}",
            n.body
        );
        // After the change period the rating is fixed.
        t.clock.set(datetime!(2026-03-12 10:00 +8));
        let citizen = t.login("citizen");
        assert_eq!(
            rate(Some(&citizen), json!({"kind": "case", "case_no": no, "level": "satisfied"})).body["code"],
            "already_rated"
        );

        // A window application, rated at the window's screen with the query code; bad, never remediated: one
        // alert after its last day; an upheld appeal removes a rating from the numbers.
        let clerk = t.login("clerk");
        let mut sub = submission(t, &code, "window");
        sub["service_point"] = json!("A03");
        let w = t.post("/api/v1/cases", Some(&clerk), &sub);
        let (w_no, w_code) =
            (w.body["case_no"].as_str().unwrap().to_string(), w.body["query_code"].as_str().unwrap().to_string());
        let wr = rate(None, json!({"kind": "window", "case_no": w_no, "query_code": w_code, "level": "dissatisfied"}));
        assert_eq!(
            (wr.status, wr.body["staff"].as_str(), wr.body["named"].as_bool()),
            (201, Some("clerk"), Some(false)),
            "{:?}",
            wr.body
        );
        t.clock.set(datetime!(2026-03-20 10:00 +8));
        let sup = t.login("supervisor");
        let s = t.post("/api/v1/supervision/sweep", Some(&sup), &json!({}));
        assert_eq!(s.body["rating_remediation_overdue"], 1, "{:?}", s.body);
        assert_eq!(t.post("/api/v1/supervision/sweep", Some(&sup), &json!({})).body["rating_remediation_overdue"], 0);
        let wid = wr.body["id"].as_str().unwrap();
        let wdept = wr.body["department"].as_str().unwrap().to_string();
        let wstaff = t.login(&format!("{wdept}-chief"));
        t.post(&format!("/api/v1/ratings/{wid}/appeal"), Some(&wstaff), &json!({"reason": "误评：申请人已致歉"}));
        let up = t.post(&format!("/api/v1/ratings/{wid}/appeal-decision"), Some(&sup), &json!({"uphold": true}));
        assert_eq!((up.body["counted"].as_bool(), up.body["remediation"].as_str()), (Some(false), None));
        // Satisfaction against a brute-force count over the ratings list.
        let all = t.get("/api/v1/ratings", Some(&sup)).body["ratings"].as_array().unwrap().clone();
        let counted: Vec<&Value> = all.iter().filter(|r| r["counted"] == true).collect();
        let good = counted
            .iter()
            .filter(|r| ["very_satisfied", "satisfied", "neutral"].contains(&r["level"].as_str().unwrap()))
            .count();
        let sat = t.get("/api/v1/satisfaction", None);
        assert_eq!(
            (sat.body["total"].as_u64(), sat.body["satisfied"].as_u64()),
            (Some(counted.len() as u64), Some(good as u64)),
            "{:?}",
            sat.body
        );
        let by_dept = sat.body["by_department"].as_array().unwrap();
        for l in by_dept {
            let k = l["key"].as_str().unwrap();
            assert_eq!(
                l["total"].as_u64(),
                Some(counted.iter().filter(|r| r["department"] == k).count() as u64),
                "{k}"
            );
        }
        assert!(!serde_json::to_string(&sat.body).unwrap().contains("窗口态度差"), "no comments in public");
        // Named bad ratings are all followed up (the case rating was fed back; the window one is anonymous).
        assert_eq!((sat.body["named_bad"].as_i64(), sat.body["named_bad_fed_back"].as_i64()), (Some(1), Some(1)));
        // The dashboard shows the month's satisfaction from the same ratings.
        let dash = t.get("/api/v1/dashboard", Some(&sup)).body;
        assert_eq!(dash["ratings_month"].as_u64(), Some(counted.len() as u64));
        assert!((dash["satisfaction_share"].as_f64().unwrap() - good as f64 / counted.len() as f64).abs() < 1e-9);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let before = rt.block_on(t.app.dump_projections()).unwrap();
        rt.block_on(t.app.rebuild()).unwrap();
        assert_eq!(rt.block_on(t.app.dump_projections()).unwrap(), before, "{}", t.backend);
    });
}

#[test]
fn administrators_publish_the_dispatch_directory_and_dispatch_follows_it() {
    each_backend(|t| {
        let admin = t.login("admin");
        let op = t.login("hotline");
        let mut dir = t.get("/api/v1/hotline/directory", None).body;
        assert_eq!(dir["category"][0]["id"], "city-appearance");
        // Refused by name, nothing published: an unknown unit, a lead unit that is also a co-unit, a bad limit.
        let events = t.events();
        for (path, value, needle) in [
            ("lead_unit", json!("nowhere"), "unknown unit"),
            ("co_units", json!(["urban-management"]), "also a co-handling unit"),
            ("sign_hours", json!(0), "sign 1–72 h"),
        ] {
            let mut bad = dir.clone();
            bad["category"][0][path] = value;
            let r = t.call("PUT", "/api/v1/hotline/directory", Some(&admin), Some(&bad), &[]);
            assert_eq!((r.status, r.body["code"].as_str()), (422, Some("invalid_directory")), "{:?}", r.body);
            assert!(r.body["detail"].as_str().unwrap().contains(needle), "{:?}", r.body);
        }
        assert_eq!(t.call("PUT", "/api/v1/hotline/directory", Some(&op), Some(&dir), &[]).status, 403);
        assert_eq!(t.events(), events, "nothing written");
        // Street cleanliness now goes to the housing bureau, signed for within 3 working hours: from Mon 10:00,
        // two hours before noon and one after 13:30 → 14:30 Beijing.
        dir["category"][0]["lead_unit"] = json!("housing");
        dir["category"][0]["sign_hours"] = json!(3);
        let r = t.call("PUT", "/api/v1/hotline/directory", Some(&admin), Some(&dir), &[]);
        assert_eq!((r.status, r.body["version"].as_i64()), (200, Some(1)), "{:?}", r.body);
        let a = t.post("/api/v1/tickets", Some(&op), &ticket_body("city-appearance", "小区门口垃圾无人清运", "金凤区"));
        let no = a.body["ticket_no"].as_str().unwrap();
        let d = t.post(&format!("/api/v1/tickets/{no}/dispatch"), Some(&op), &json!({}));
        assert_eq!(
            (d.body["lead_unit"].as_str(), d.body["sign_due"].as_str()),
            (Some("housing"), Some("2026-03-02T06:30:00Z")),
            "{:?}",
            d.body
        );
        // The directory in force survives a restart (read back from the store) and a rebuild.
        t.app.reload_directory_blocking().unwrap();
        assert_eq!(t.app.hotline_directory().get("city-appearance").unwrap().lead_unit, "housing");
    });
}
