//! Postal delivery (邮政寄送) over HTTP on both backends: a result delivered by post gets a waybill from the
//! simulated carrier and its tracking as the clock moves (each report recorded once); a returned shipment goes back
//! to the window (the case shows it, the window clerks are told) and is sent again or collected there; only those
//! who may see the case see its shipments; bad input is answered with problem+json; the address is never stored in
//! clear; the dashboard's free-postage count equals a count of the shipments; a rebuild gives the same projections.

use super::*;

use time::Duration;

const HOME: &str = "银川市兴庆区解放西街117号 张三收";
const NOBODY: &str = "银川市金凤区查无此人路9号";

/// A food-business case of the citizen, worked up to its delivery step; returns its number.
fn at_delivery(t: &TestApp) -> String {
    let code = t.item_code("食品经营许可");
    let c = submitted_and_accepted(t, &code);
    let no = c["case_no"].as_str().unwrap().to_string();
    let c = drive_until(t, &no, Some("delivery"));
    assert_eq!(c["current_step"]["kind"], "delivery", "{c:?}");
    no
}

/// A session of the window clerk of the department holding the case's delivery task.
fn delivery_clerk(t: &TestApp, no: &str) -> String {
    let c = t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("clerk"))).body;
    let dept = c["current_step"]["tasks"][0]["department"].as_str().unwrap_or("bureau-general").to_string();
    t.login(&format!("{dept}-clerk"))
}

/// Deliver a case's result by post as the department's window clerk.
fn post_it(t: &TestApp, no: &str, address: &str, postage: Option<&str>) -> Resp {
    post_as(t, &delivery_clerk(t, no), no, address, postage)
}

fn post_as(t: &TestApp, clerk: &str, no: &str, address: &str, postage: Option<&str>) -> Resp {
    let mut delivery = json!({"method": "post", "address": address});
    if let Some(p) = postage {
        delivery["postage"] = json!(p);
    }
    t.act(clerk, no, "deliver", json!({ "delivery": delivery }))
}

fn shipments(t: &TestApp, no: &str, token: &str) -> Resp {
    t.get(&format!("/api/v1/cases/{no}/shipments"), Some(token))
}

fn track(t: &TestApp) -> usize {
    tokio::runtime::Runtime::new().unwrap().block_on(t.app.run_shipments_once()).unwrap().1
}

#[test]
// Sessions expire as the clock moves: every advance signs the three in again, used or not.
#[allow(unused_assignments)]
fn a_result_by_post_is_tracked_returned_resent_and_collected() {
    each_backend(|t| {
        let (mut citizen, mut clerk, mut supervisor) = (t.login("citizen"), t.login("clerk"), t.login("supervisor"));

        // Delivered by post: the case completes and its shipment has a waybill at once.
        let home = at_delivery(t);
        let r = post_it(t, &home, HOME, None);
        assert_eq!(r.status, 200, "{}: {:?}", t.backend, r.body);
        assert_eq!(r.body["status"], "completed");
        assert_eq!(r.body["delivery"]["method"], "post");
        assert_ne!(r.body["delivery"]["address"], HOME, "the address is masked in answers");
        let s = shipments(t, &home, &citizen);
        assert_eq!(s.status, 200, "{:?}", s.body);
        let list = s.body["shipments"].as_array().unwrap();
        assert_eq!(list.len(), 1);
        let first = &list[0];
        assert_eq!(
            (first["status"].as_str(), first["postage"].as_str(), first["attempt"].as_i64()),
            (Some("created"), Some("bureau"), Some(1))
        );
        let waybill = first["waybill"].as_str().unwrap().to_string();
        assert!(waybill.starts_with("SIM0"), "{waybill}");
        assert!(!first["address"].as_str().unwrap().contains("解放西街117号"), "{first:?}");
        assert_eq!(first["phone"], "138****0000");
        let id = first["id"].as_str().unwrap().to_string();
        assert_eq!(id, format!("shipment-{home}-1"));

        // The carrier's reports come with the clock, each recorded once however often the worker polls.
        assert_eq!(track(t), 0);
        t.clock.advance(Duration::hours(3));
        (citizen, clerk, supervisor) = (t.login("citizen"), t.login("clerk"), t.login("supervisor"));
        assert_eq!(track(t), 1);
        let events = t.events();
        assert_eq!(track(t), 0);
        assert_eq!(t.events(), events, "polling again records nothing");
        let one = t.get(&format!("/api/v1/shipments/{id}"), Some(&citizen));
        assert_eq!((one.status, one.body["status"].as_str()), (200, Some("picked_up")), "{:?}", one.body);
        t.clock.advance(Duration::hours(24));
        (citizen, clerk, supervisor) = (t.login("citizen"), t.login("clerk"), t.login("supervisor"));
        assert_eq!(track(t), 3);
        let one = t.get(&format!("/api/v1/shipments/{id}"), Some(&citizen));
        assert_eq!(one.body["status"], "delivered");
        let stages: Vec<&str> =
            one.body["tracking"].as_array().unwrap().iter().map(|x| x["stage"].as_str().unwrap()).collect();
        assert_eq!(stages, ["picked_up", "in_transit", "out_for_delivery", "delivered"]);
        t.clock.advance(Duration::hours(48));
        (citizen, clerk, supervisor) = (t.login("citizen"), t.login("clerk"), t.login("supervisor"));
        assert_eq!(track(t), 0, "a delivered shipment is no longer polled");
        // The applicant sees it on the case page (the phone view is the same page), and was told.
        let mut cookie = format!("oneseal_session={citizen}");
        let (status, html) = page_get(t, &format!("/me/cases/{home}"), Some(&cookie));
        assert_eq!(status, 200);
        assert!(html.contains(&waybill) && html.contains("已签收") && html.contains("免费寄递"), "{html}");
        assert!(!html.contains("解放西街117号"), "the address is masked on the page");
        let n = t.get("/api/v1/notifications", Some(&citizen));
        assert!(n.body["notifications"].as_array().unwrap().iter().any(|x| x["kind"] == "shipment_delivered"));

        // An address the carrier cannot deliver to: returned to the window; the window clerks are told.
        let away = at_delivery(t);
        let r = post_it(t, &away, NOBODY, Some("recipient"));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let first = shipments(t, &away, &citizen).body["shipments"][0].clone();
        let returned = first["id"].as_str().unwrap().to_string();
        assert_eq!((first["postage"].as_str(), &first["waybill"].as_str().unwrap()[..4]), (Some("recipient"), "SIM9"));
        t.clock.advance(Duration::hours(51));
        (citizen, clerk, supervisor) = (t.login("citizen"), t.login("clerk"), t.login("supervisor"));
        assert_eq!(track(t), 4);
        let one = t.get(&format!("/api/v1/shipments/{returned}"), Some(&clerk)).body;
        assert_eq!(one["status"], "returned");
        let n = t.get("/api/v1/notifications", Some(&clerk));
        assert!(
            n.body["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["kind"] == "shipment_returned" && x["case_no"] == away.as_str()),
            "{:?}",
            n.body
        );
        let back = t.get("/api/v1/shipments", Some(&clerk));
        assert_eq!(back.status, 200);
        assert_eq!(
            back.body["shipments"].as_array().unwrap().iter().map(|x| x["id"].clone()).collect::<Vec<_>>(),
            vec![json!(returned)]
        );
        cookie = format!("oneseal_session={citizen}");
        let (_, html) = page_get(t, &format!("/me/cases/{away}"), Some(&cookie));
        assert!(html.contains("已退回窗口") && html.contains("可到窗口领取"), "{html}");
        let (_, html) = page_get(t, &format!("/work/cases/{away}"), Some(&format!("oneseal_session={clerk}")));
        assert!(html.contains("data-testid=\"shipment-resend\"") && html.contains("data-testid=\"shipment-collect\""));

        // Bad input: problem+json in Chinese and English, nothing written.
        let events = t.events();
        for (path, body, status, code) in [
            (format!("/api/v1/shipments/{returned}/collect"), json!({"window": " "}), 422, "text_required"),
            (format!("/api/v1/shipments/{returned}/collect"), json!({"window": "A01", "x": 1}), 422, "invalid_body"),
            (
                format!("/api/v1/shipments/{returned}/resend"),
                json!({"address": "长".repeat(201)}),
                422,
                "invalid_address",
            ),
            (format!("/api/v1/shipments/{returned}/resend"), json!({"postage": "free"}), 422, ""),
            ("/api/v1/shipments/shipment-YC1-1/collect".to_string(), json!({"window": "A01"}), 404, "not_found"),
            ("/api/v1/shipments/..%2Fx/collect".to_string(), json!({"window": "A01"}), 404, ""),
        ] {
            let r = t.post(&path, Some(&clerk), &body);
            assert_eq!(r.status, status, "{path} {body}: {:?}", r.body);
            assert_eq!(r.header("content-type"), Some("application/problem+json"), "{path}");
            if !code.is_empty() {
                assert_eq!(r.body["code"], code, "{:?}", r.body);
            }
        }
        assert_eq!(t.events(), events, "bad input writes nothing");
        let r = t.post(
            &format!("/api/v1/shipments/{returned}/resend"),
            Some(&clerk),
            &json!({"address": "长".repeat(201)}),
        );
        assert_eq!(r.body["title_zh"], "请求内容有误");
        assert!(
            r.body["detail"].as_str().unwrap().contains("邮寄地址过长")
                && r.body["detail"].as_str().unwrap().contains("at most 200"),
            "{:?}",
            r.body
        );
        let long = at_delivery(t);
        let long_clerk = delivery_clerk(t, &long);
        let events = t.events();
        let r = post_as(t, &long_clerk, &long, &"址".repeat(201), None);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("invalid_address")), "{:?}", r.body);
        assert_eq!(t.events(), events, "an overlong address writes nothing");

        // Authorization: another applicant and staff of another department are told "not found"; an applicant
        // cannot act as the window.
        let other = register_person(t, "wangwu", "王五", "11010519491231002X");
        for path in [format!("/api/v1/cases/{away}/shipments"), format!("/api/v1/shipments/{returned}")] {
            assert_eq!(t.get(&path, Some(&other)).status, 404, "{path}");
            assert_eq!(t.get(&path, Some(&t.login("bureau-market-reviewer"))).status, 404, "{path}");
            assert_eq!(t.get(&path, Some(&t.login("bureau-economy-reviewer"))).status, 200, "{path}");
            assert_eq!(t.get(&path, Some(&supervisor)).status, 200, "{path}");
        }
        let (status, _) = page_get(t, &format!("/me/cases/{away}"), Some(&format!("oneseal_session={other}")));
        assert_eq!(status, 404);
        for who in [&citizen, &other] {
            let r = t.post(&format!("/api/v1/shipments/{returned}/collect"), Some(who), &json!({"window": "A01"}));
            assert_eq!(r.status, 403, "{:?}", r.body);
        }
        assert_eq!(t.get("/api/v1/shipments", Some(&citizen)).status, 403);

        // Sent again to a corrected address that is also returned, then collected at the window.
        let r = t.post(
            &format!("/api/v1/shipments/{returned}/resend"),
            Some(&clerk),
            &json!({"address": "银川市西夏区退回路1号"}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!((r.body["attempt"].as_i64(), r.body["status"].as_str()), (Some(2), Some("created")));
        assert_eq!(
            (r.body["resends"].as_str(), r.body["postage"].as_str()),
            (Some(returned.as_str()), Some("recipient"))
        );
        let second = r.body["id"].as_str().unwrap().to_string();
        let old = t.get(&format!("/api/v1/shipments/{returned}"), Some(&clerk)).body;
        assert_eq!((old["status"].as_str(), old["next"].as_str()), (Some("resent"), Some(second.as_str())));
        let again = t.post(&format!("/api/v1/shipments/{returned}/resend"), Some(&clerk), &json!({}));
        assert_eq!(
            (again.status, again.body["code"].as_str()),
            (422, Some("shipment_not_returned")),
            "{:?}",
            again.body
        );
        t.clock.advance(Duration::hours(51));
        (citizen, clerk, supervisor) = (t.login("citizen"), t.login("clerk"), t.login("supervisor"));
        assert_eq!(track(t), 4);
        let r = t.post(&format!("/api/v1/shipments/{second}/collect"), Some(&clerk), &json!({"window": "A03"}));
        assert_eq!(
            (r.status, r.body["status"].as_str(), r.body["collected_window"].as_str()),
            (200, Some("collected"), Some("A03")),
            "{:?}",
            r.body
        );
        let r = t.post(&format!("/api/v1/shipments/{second}/collect"), Some(&clerk), &json!({"window": "A03"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("shipment_not_returned")));
        let all = shipments(t, &away, &citizen).body["shipments"].clone();
        assert_eq!(
            all.as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect::<Vec<_>>(),
            ["resent", "collected"]
        );
        // The same through the workbench: a third returned shipment collected from the case page.
        let third = at_delivery(t);
        assert_eq!(post_it(t, &third, NOBODY, None).status, 200);
        t.clock.advance(Duration::hours(51));
        (citizen, clerk, supervisor) = (t.login("citizen"), t.login("clerk"), t.login("supervisor"));
        assert_eq!(track(t), 4);
        let id3 = format!("shipment-{third}-1");
        let form = format!("_csrf={}&id={id3}&op=collect&window=B07", oneseal_web::policy::csrf_token(&clerk));
        let mut resp = t
            .agent
            .post(&format!("{}/work/cases/{third}/shipments", t.base))
            .header("Origin", &t.base)
            .header("Cookie", &format!("oneseal_session={clerk}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(form.as_bytes())
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{}", resp.body_mut().read_to_string().unwrap_or_default());
        assert_eq!(t.get(&format!("/api/v1/shipments/{id3}"), Some(&clerk)).body["collected_window"], "B07");

        // Free postage: the dashboard's count equals a count of every shipment the bureau paid for.
        let mut brute = 0;
        for no in [&home, &away, &third] {
            for s in shipments(t, no, &supervisor).body["shipments"].as_array().unwrap() {
                brute += i64::from(s["postage"] == "bureau");
            }
        }
        assert_eq!(brute, 2);
        let d = t.get("/api/v1/dashboard", Some(&supervisor));
        assert_eq!(
            (d.body["free_postage_month"].as_i64(), d.body["free_postage_total"].as_i64()),
            (Some(brute), Some(brute)),
            "{}",
            t.backend
        );

        // No address in clear anywhere in the database; the projections rebuild identically.
        let raw = raw_database(&t.url);
        for clear in ["解放西街117号", "查无此人路9号", "退回路1号"] {
            assert!(!contains(&raw, clear), "{}: {clear} in clear", t.backend);
        }
        assert_rebuild_identical(t);
    });
}

/// A returned result goes back to the point that accepted the case: only that point's window clerks are told, see
/// it among the returned shipments and may hand it over or send it again; the clerks of other points are refused
/// with 403 and nothing changes.
#[test]
fn a_returned_result_goes_back_to_the_clerks_of_the_case_point_only() {
    each_backend(|t| {
        let admin = t.login("admin");
        let r = t.call(
            "PUT",
            "/api/v1/staff/bank-clerk/post",
            Some(&admin),
            Some(&json!({"service_point": "xq-centre", "window": "1"})),
            &[],
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        // Applied for at the Xingqing district centre (同城通办), accepted, and posted to an address that returns.
        let code = t.item_code("食品经营许可");
        let mut sub = submission(t, &code, "online");
        sub["service_point"] = json!("xq-centre");
        let r = t.post("/api/v1/cases", Some(&t.login("citizen")), &sub);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
        let c = drive_until(t, &no, Some("delivery"));
        assert_eq!(c["service_point"], "xq-centre");
        let dept_user = format!("{}-clerk", c["current_step"]["tasks"][0]["department"].as_str().unwrap());
        assert_eq!(post_as(t, &t.login(&dept_user), &no, NOBODY, None).status, 200);
        // And one of the hall's (the usual test case, accepted at "市民大厅", which is no point of the network: its
        // results go back to the city's hall).
        let hall_case = at_delivery(t);
        assert_eq!(post_it(t, &hall_case, NOBODY, None).status, 200);
        t.clock.advance(Duration::hours(51));
        assert_eq!(track(t), 8);
        let (hall_clerk, xq_clerk, supervisor) = (t.login("clerk"), t.login("bank-clerk"), t.login("supervisor"));
        let dept_clerk = t.login(&dept_user);
        let shipment = format!("shipment-{no}-1");
        let hall_shipment = format!("shipment-{hall_case}-1");

        let told = |token: &str, case: &str| {
            let n = t.get("/api/v1/notifications", Some(token));
            n.body["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["kind"] == "shipment_returned" && x["case_no"] == case)
        };
        assert!(told(&xq_clerk, &no), "the clerk of the case's point is told");
        assert!(!told(&hall_clerk, &no) && !told(&dept_clerk, &no), "the hall's clerks are not");
        assert!(told(&hall_clerk, &hall_case) && !told(&xq_clerk, &hall_case));
        let ids = |token: &str| -> Vec<String> {
            let r = t.get("/api/v1/shipments", Some(token));
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.body["shipments"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(ids(&xq_clerk), vec![shipment.clone()]);
        assert_eq!(ids(&hall_clerk), vec![hall_shipment.clone()]);
        assert_eq!(ids(&supervisor).len(), 2);

        // The hall's clerk cannot hand over or resend the district centre's, nor the reverse; nothing changes.
        let events = t.events();
        for (who, id) in [(&hall_clerk, &shipment), (&xq_clerk, &hall_shipment)] {
            let r = t.post(&format!("/api/v1/shipments/{id}/collect"), Some(who), &json!({"window": "A01"}));
            assert_eq!((r.status, r.body["code"].as_str()), (403, Some("forbidden")), "{:?}", r.body);
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            assert!(r.body["detail"].as_str().unwrap().contains("未派驻到该服务点"), "{:?}", r.body);
            let r = t.post(&format!("/api/v1/shipments/{id}/resend"), Some(who), &json!({}));
            assert_eq!(r.status, 403, "{:?}", r.body);
        }
        assert_eq!(t.events(), events, "refusals write nothing");
        assert_eq!(t.get(&format!("/api/v1/shipments/{shipment}"), Some(&supervisor)).body["status"], "returned");
        // Their own clerks do.
        let r = t.post(&format!("/api/v1/shipments/{shipment}/collect"), Some(&xq_clerk), &json!({"window": "1"}));
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("collected")), "{:?}", r.body);
        let r = t.post(&format!("/api/v1/shipments/{hall_shipment}/resend"), Some(&hall_clerk), &json!({}));
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_rebuild_identical(t);
    });
}
