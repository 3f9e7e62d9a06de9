//! The hall over HTTP on both backends: the service network, appointments (capacity under concurrent bookings,
//! cancel and rebook, no-shows and the booking pause, reminders), the queue (priority by the network's rules,
//! calling, transfer with 首问负责, serving into a case), the board, authorization and bad input.

use super::*;

/// A valid resident ID number born on `birth` (YYYYMMDD) with sequence `seq`.
fn rid(birth: &str, seq: u32) -> String {
    let body = format!("640104{birth}{seq:03}");
    let c = oneseal_domain::ids::ResidentId::check_char(&body).unwrap();
    format!("{body}{c}")
}

fn booking(point: &str, item: &str, date: &str, slot: &str, channel: &str, id: &str) -> Value {
    json!({"point": point, "item": item, "date": date, "slot": slot, "channel": channel,
           "name": "王小明", "id_number": id, "phone": "13912345678"})
}

fn slot_left(t: &TestApp, point: &str, item: &str, date: &str, slot: &str) -> u64 {
    let r = t.get(&format!("/api/v1/service-points/{point}/slots?item={item}&date={date}"), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let s = r.body["slots"].as_array().unwrap().iter().find(|s| s["slot"] == slot).cloned();
    s.map_or(0, |s| s["left"].as_u64().unwrap())
}

#[test]
fn points_for_an_item_nearest_first_and_bad_input_named() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        // At the bank branch's door: it comes first; the community station does not handle the item.
        let r = t.get(&format!("/api/v1/service-points?item={company}&near=38.4850,106.2300"), None);
        assert_eq!(r.status, 200);
        let ids: Vec<&str> = r.body["points"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        assert_eq!(ids.first(), Some(&"nxbank-jf"), "{ids:?}");
        assert!(ids.contains(&"yc-hall") && ids.contains(&"etdz-centre") && !ids.contains(&"lh-community"));
        let d: Vec<f64> =
            r.body["points"].as_array().unwrap().iter().map(|p| p["distance_km"].as_f64().unwrap()).collect();
        assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
        assert_eq!(r.body["points"][0]["bookable"], true);
        let r = t.get("/api/v1/service-points?near=91,0", None);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("invalid_near")));
        assert_eq!(t.get("/api/v1/service-points/no-such-point", None).status, 404);
        let r = t.get("/api/v1/service-network", None);
        assert_eq!(r.body["point"].as_array().unwrap().len(), 7);

        // Publishing: bureau-wide administrators only, validated against the catalog.
        let admin = t.login("admin");
        let mut net = r.body.clone();
        net["point"][0]["items"] = json!(["no-such-item"]);
        let before = t.events();
        let r = t.call("PUT", "/api/v1/service-network", Some(&admin), Some(&net), &[]);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("invalid_network")), "{:?}", r.body);
        assert_eq!(t.events(), before);
        let clerk = t.login("clerk");
        assert_eq!(t.call("PUT", "/api/v1/service-network", Some(&clerk), Some(&net), &[]).status, 403);
        net["point"][0]["items"] = json!(["*"]);
        net["point"][0]["name"] = json!("银川市民大厅（新）");
        let r = t.call("PUT", "/api/v1/service-network", Some(&admin), Some(&net), &[]);
        assert_eq!((r.status, &r.body["version"]), (200, &json!(1)), "{:?}", r.body);
        assert_eq!(t.get("/api/v1/service-points/yc-hall", None).body["name"], "银川市民大厅（新）");
        assert_rebuild_identical(t);
    });
}

#[test]
fn the_last_place_of_a_slot_goes_to_one_booking_only() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        // The bank branch has one window for the item: two places per slot.
        assert_eq!(slot_left(t, "nxbank-jf", &company, "2026-03-03", "09:00"), 2);
        let hotline = t.login("hotline");
        let (base2, _node2) = spawn_node(t, None);
        let results: Vec<(u16, String)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|i| {
                    let (t, hotline, company, base2) = (&*t, hotline.clone(), company.clone(), base2.clone());
                    s.spawn(move || {
                        let body =
                            booking("nxbank-jf", &company, "2026-03-03", "09:00", "hotline", &rid("19800101", i));
                        // Half through a second node on the same database.
                        let url = if i % 2 == 0 { t.base.clone() } else { base2 };
                        let mut resp = t
                            .agent
                            .post(&format!("{url}/api/v1/appointments"))
                            .header("Authorization", &format!("Bearer {hotline}"))
                            .send_json(&body)
                            .unwrap();
                        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
                        (resp.status().as_u16(), v["code"].as_str().unwrap_or_default().to_string())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok: Vec<&(u16, String)> = results.iter().filter(|r| r.0 == 201).collect();
        assert_eq!(ok.len(), 2, "{}: {results:?}", t.backend);
        assert!(results.iter().filter(|r| r.0 != 201).all(|r| *r == (409, "slot_full".to_string())), "{results:?}");
        assert_eq!(slot_left(t, "nxbank-jf", &company, "2026-03-03", "09:00"), 0);

        // Cancelling returns the place; moving a booking takes one elsewhere.
        let code = &ok[0].1;
        let r = t.post(&format!("/api/v1/appointments/{code}/cancel"), Some(&hotline), &json!({"reason": "来电取消"}));
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("cancelled")), "{:?}", r.body);
        assert_eq!(slot_left(t, "nxbank-jf", &company, "2026-03-03", "09:00"), 1);
        let r = t.post(&format!("/api/v1/appointments/{code}/cancel"), Some(&hotline), &json!({}));
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("appointment_not_booked")));
        let other = &ok[1].1;
        let r = t.post(
            &format!("/api/v1/appointments/{other}/rebook"),
            Some(&hotline),
            &json!({"date": "2026-03-03", "slot": "10:00"}),
        );
        assert_eq!((r.status, r.body["slot"].as_str()), (200, Some("10:00")), "{:?}", r.body);
        assert_eq!(slot_left(t, "nxbank-jf", &company, "2026-03-03", "09:00"), 2);
        assert_eq!(slot_left(t, "nxbank-jf", &company, "2026-03-03", "10:00"), 1);
        // Names and phones are masked for staff; another applicant cannot see the booking.
        let r = t.get(&format!("/api/v1/appointments/{other}"), Some(&hotline));
        assert_eq!(
            (r.body["name"].as_str(), r.body["phone"].as_str()),
            (Some("王**"), Some("139****5678")),
            "{:?}",
            r.body
        );
        let citizen = t.login("citizen");
        assert_eq!(t.get(&format!("/api/v1/appointments/{other}"), Some(&citizen)).status, 404);
        assert_eq!(t.post(&format!("/api/v1/appointments/{other}/cancel"), Some(&citizen), &json!({})).status, 404);
        assert_rebuild_identical(t);
    });
}

#[test]
fn bookings_refuse_bad_input_and_change_nothing() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        let citizen = t.login("citizen");
        let before = t.events();
        let cases = [
            (booking("yc-hall", &company, "2026-03-03", "09:00", "online", "640104198001010010"), 422, "check_digit"),
            (booking("yc-hall", &company, "2026-03-03", "12:00", "online", &rid("19800101", 1)), 422, "invalid_slot"),
            (booking("yc-hall", &company, "2026-03-02", "09:30", "online", &rid("19800101", 1)), 422, "slot_passed"),
            (
                booking("yc-hall", &company, "2026-04-30", "09:00", "online", &rid("19800101", 1)),
                422,
                "date_out_of_range",
            ),
            (booking("yc-hall", &company, "2026-03-07", "09:00", "online", &rid("19800101", 1)), 422, "invalid_slot"),
            (
                booking("lh-community", &company, "2026-03-03", "09:00", "online", &rid("19800101", 1)),
                422,
                "point_does_not_handle",
            ),
            (booking("yc-hall", &company, "2026-03-03", "09:00", "hotline", &rid("19800101", 1)), 403, "forbidden"),
            (booking("yc-hall", &company, "03/03/2026", "09:00", "online", &rid("19800101", 1)), 422, "invalid_date"),
        ];
        for (body, status, code) in cases {
            let r = t.post("/api/v1/appointments", Some(&citizen), &body);
            assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{body}: {:?}", r.body);
            assert!(r.body["title_zh"].is_string() || r.body["title"].is_string());
        }
        let mut phone = booking("yc-hall", &company, "2026-03-03", "09:00", "online", &rid("19800101", 1));
        phone["phone"] = json!("12345");
        assert_eq!(t.post("/api/v1/appointments", Some(&citizen), &phone).body["code"], "invalid_phone");
        let mut extra = booking("yc-hall", &company, "2026-03-03", "09:00", "online", &rid("19800101", 1));
        extra["vip"] = json!(true);
        assert_eq!(t.post("/api/v1/appointments", Some(&citizen), &extra).status, 422);
        // Every booking needs someone signed in, whatever the channel.
        for ch in ["online", "kiosk", "mobile"] {
            let anon = booking("yc-hall", &company, "2026-03-03", "09:00", ch, &rid("19800101", 1));
            assert_eq!(t.post("/api/v1/appointments", None, &anon).status, 401, "{ch}");
        }
        assert_eq!(t.events(), before, "nothing written");
        // A day of the weekend has no slots; Sunday 2026-03-08 is not a working day.
        let r = t.get(&format!("/api/v1/service-points/yc-hall/slots?item={company}&date=2026-03-08"), None);
        assert_eq!(r.body["slots"], json!([]));
    });
}

#[test]
fn no_shows_pause_booking_and_reminders_go_once() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        let citizen = t.login("citizen");
        let me = rid("19900101", 7);
        // At most three open bookings per person.
        for d in ["2026-03-03", "2026-03-04", "2026-03-05"] {
            let r = t.post(
                "/api/v1/appointments",
                Some(&citizen),
                &booking("yc-hall", &company, d, "09:00", "online", &me),
            );
            assert_eq!(r.status, 201, "{:?}", r.body);
            assert_eq!(r.body["code"].as_str().unwrap().len(), 8);
        }
        let r = t.post(
            "/api/v1/appointments",
            Some(&citizen),
            &booking("yc-hall", &company, "2026-03-06", "09:00", "online", &me),
        );
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("too_many_bookings")));
        assert_eq!(t.get("/api/v1/appointments", Some(&citizen)).body["appointments"].as_array().unwrap().len(), 3);

        // The evening before: one reminder for tomorrow's booking, in-app, once.
        t.clock.set(datetime!(2026-03-02 18:00 +8));
        let rt = tokio::runtime::Runtime::new().unwrap();
        assert_eq!(rt.block_on(t.app.hall_sweep()).unwrap(), (0, 1));
        assert_eq!(rt.block_on(t.app.hall_sweep()).unwrap(), (0, 0));
        let n = t.get("/api/v1/notifications", Some(&citizen));
        assert!(n.body.to_string().contains("预约提醒"), "{:?}", n.body);

        // None of the three came: after the third, booking pauses for 14 days.
        t.clock.set(datetime!(2026-03-05 12:00 +8));
        let citizen = t.login("citizen");
        let (no_shows, _) = rt.block_on(t.app.hall_sweep()).unwrap();
        assert_eq!(no_shows, 3);
        let r = t.post(
            "/api/v1/appointments",
            Some(&citizen),
            &booking("yc-hall", &company, "2026-03-06", "09:00", "online", &me),
        );
        assert_eq!((r.status, r.body["code"].as_str()), (409, Some("booking_paused")), "{:?}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("2026-03-19"), "{:?}", r.body);
        // Someone else still books.
        let r = t.post(
            "/api/v1/appointments",
            Some(&citizen),
            &booking("yc-hall", &company, "2026-03-06", "09:00", "online", &rid("19900101", 8)),
        );
        assert_eq!(r.status, 201);
        t.clock.set(datetime!(2026-03-19 10:00 +8));
        let citizen = t.login("citizen");
        let r = t.post(
            "/api/v1/appointments",
            Some(&citizen),
            &booking("yc-hall", &company, "2026-03-20", "09:00", "online", &me),
        );
        assert_eq!(r.status, 201, "the pause is over: {:?}", r.body);
        assert_rebuild_identical(t);
    });
}

#[test]
fn a_morning_at_the_hall_from_booking_to_the_accepted_case() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        let citizen = t.login("citizen");
        let clerk = t.login("clerk");
        // Booked for 10:30 today.
        let r = t.post(
            "/api/v1/appointments",
            Some(&citizen),
            &booking("yc-hall", &company, "2026-03-02", "10:30", "online", &rid("19850101", 3)),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let code = r.body["code"].as_str().unwrap().to_string();

        // 10:00 a walk-in at the kiosk; 10:05 an elderly person (born 1950, from the ID card); 10:20 the booking.
        let take = |body: Value| t.post("/api/v1/service-points/yc-hall/numbers", None, &body);
        let a = take(json!({"item": company, "source": "kiosk"}));
        assert_eq!((a.status, a.body["number"].as_str()), (201, Some("A001")), "{:?}", a.body);
        t.clock.set(datetime!(2026-03-02 10:05 +8));
        let p = take(json!({"item": company, "source": "kiosk", "id_number": rid("19500101", 2)}));
        assert_eq!((p.body["number"].as_str(), p.body["class"].as_str()), (Some("P001"), Some("elderly")));
        t.clock.set(datetime!(2026-03-02 10:20 +8));
        let y = take(json!({"source": "phone", "appointment": code}));
        assert_eq!(
            (y.body["number"].as_str(), y.body["class"].as_str()),
            (Some("Y001"), Some("appointment")),
            "{:?}",
            y.body
        );
        // The booking is used: it cannot take a second number.
        let again = take(json!({"source": "phone", "appointment": code}));
        assert_eq!((again.status, again.body["code"].as_str()), (409, Some("appointment_not_today")));
        // A001 waits behind the other two (for the windows that serve the item).
        let v = t.get("/api/v1/service-points/yc-hall/numbers/A001", None);
        assert_eq!((v.body["status"].as_str(), v.body["ahead"].as_u64()), (Some("waiting"), Some(2)), "{:?}", v.body);
        assert!(v.body["minutes"].as_u64().unwrap() > 0);

        // Window A01 calls by rank: the appointment, then the elderly, then the walk-in.
        let act =
            |w: &str, body: Value| t.post(&format!("/api/v1/service-points/yc-hall/windows/{w}"), Some(&clerk), &body);
        let r = act("A01", json!({"action": "call_next"}));
        assert_eq!(r.body["current"]["number"], "Y001", "{:?}", r.body);
        let busy = act("A01", json!({"action": "call_next"}));
        assert_eq!((busy.status, busy.body["code"].as_str()), (409, Some("window_busy")));
        let board = t.get("/api/v1/service-points/yc-hall/board", None);
        assert_eq!(board.body["calling"][0]["number"], "Y001");
        assert!(board.body["calling"][0]["announce"].as_str().unwrap().contains("请 Y001 号到 A01 号窗口办理"));
        act("A01", json!({"action": "recall"}));
        assert_eq!(act("A01", json!({"action": "start"})).body["current"]["status"], "serving");
        // The application accepted at the window becomes a case; the number is linked to it.
        let case = submitted_and_accepted(t, &company);
        let case_no = case["case_no"].as_str().unwrap();
        let r = act("A01", json!({"action": "finish", "case_no": case_no}));
        assert_eq!((r.status, &r.body["current"]), (200, &Value::Null), "{:?}", r.body);
        let y = t.get("/api/v1/service-points/yc-hall/numbers/Y001", None);
        assert_eq!(y.body["status"], "done");

        let r = act("A02", json!({"action": "call_next"}));
        assert_eq!(r.body["current"]["number"], "P001");
        // A01 calls the walk-in, then transfers it to the construction window C01 without handing off: A01 stays
        // first responsible (首问负责).
        let r = act("A01", json!({"action": "call_next"}));
        assert_eq!(r.body["current"]["number"], "A001");
        let r = act("A01", json!({"action": "transfer", "to_window": "C01", "note": "工程类咨询"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(act("A03", json!({"action": "call_next"})).body["code"], "queue_empty");
        let r = act("C01", json!({"action": "call_next"}));
        assert_eq!(
            (r.body["current"]["number"].as_str(), r.body["current"]["responsible"].as_str()),
            (Some("A001"), Some("A01"))
        );
        act("C01", json!({"action": "skip"}));
        let r = t.get("/api/v1/service-points/yc-hall/windows/C01", Some(&clerk));
        assert_eq!(r.body["skipped"], json!(["A001"]));
        let r = act("C01", json!({"action": "call", "number": "A001"}));
        assert_eq!(r.body["current"]["calls"], 3, "A01, C01, then C01 again");

        // Who may do what.
        assert_eq!(act("Z99", json!({"action": "call_next"})).status, 404);
        let r = t.post("/api/v1/service-points/yc-hall/windows/A01", Some(&citizen), &json!({"action": "call_next"}));
        assert_eq!(r.status, 403);
        let r = t.post("/api/v1/service-points/yc-hall/windows/A01", None, &json!({"action": "call_next"}));
        assert_eq!(r.status, 401);
        let r = take(json!({"source": "window", "window": "A01"}));
        assert_eq!(r.status, 403, "a number at a window needs its clerk");
        let r = act("A01", json!({"action": "teleport"}));
        assert_eq!(r.status, 422);
        let r = t.post("/api/v1/service-points/yc-hall/numbers", None, &json!({"item": "no-such-item"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("unknown_item")));
        let building = t.item_code("建筑工程施工许可");
        let r = t.post("/api/v1/service-points/lh-community/numbers", None, &json!({"item": building}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("point_does_not_handle")));
        let r = t.post("/api/v1/service-points/kiosk-wanda/numbers", None, &json!({}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("no_windows")));
        // Taken at a window by its clerk: that window is first responsible from the start.
        let r = t.post(
            "/api/v1/service-points/yc-hall/numbers",
            Some(&clerk),
            &json!({"source": "window", "window": "A03"}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = act("A03", json!({"action": "call_next"}));
        assert_eq!(
            (r.body["current"]["number"].as_str(), r.body["current"]["responsible"].as_str()),
            (Some("A002"), Some("A03"))
        );
        assert_rebuild_identical(t);
    });
}

/// A window clerk's page form: POST with the session cookie, same origin, and the page's CSRF token.
fn clerk_post(t: &TestApp, path: &str, cookie: &str, form: &str) -> (u16, String) {
    let (_, html) = page_get(t, path, Some(cookie));
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    let mut resp = t
        .agent
        .post(&format!("{}{path}", t.base))
        .header("Accept", "text/html")
        .header("Origin", &t.base)
        .header("Cookie", cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("_csrf={csrf}&{form}").as_bytes())
        .unwrap();
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn the_hall_pages_from_the_kiosk_to_the_screen() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        // Where the item can be done, nearest first.
        let (s, html) = page_get(t, &format!("/hall?item={company}&near=38.4850,106.2300"), None);
        assert_eq!(s, 200);
        let bank = html.find("/hall/nxbank-jf").unwrap();
        assert!(bank < html.find("/hall/yc-hall\"").unwrap(), "nearest first");
        assert!(!html.contains("/hall/lh-community\""), "the community station does not handle it");
        let (s, html) = page_get(t, "/hall?near=north", None);
        assert_eq!(s, 422);
        assert!(html.contains("位置格式有误"));

        // Take a number on a phone: the answer is the number's own page.
        let (s, html) = page_post(t, "/hall/yc-hall/take", &format!("item={company}"));
        assert_eq!(s, 200, "{html}");
        assert!(html.contains("data-testid=\"my-number\" aria-live=\"polite\">A001<"), "{html}");
        let (s, html) = page_post(t, "/hall/yc-hall/take", "appointment=12345678");
        assert_eq!(s, 422);
        assert!(html.contains("本点位没有这个预约码"));

        // The window console: call, start, finish; CSRF required.
        let clerk = format!("oneseal_session={}", t.login("clerk"));
        let (s, html) = clerk_post(t, "/hall/yc-hall/window/A01", &clerk, "action=call_next");
        assert_eq!(s, 200, "{html}");
        assert!(html.contains("data-testid=\"window-current\">A001<"), "{html}");
        let mut resp = t
            .agent
            .post(&format!("{}/hall/yc-hall/window/A01", t.base))
            .header("Origin", &t.base)
            .header("Cookie", &clerk)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send("_csrf=forged&action=skip".as_bytes())
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        let _ = resp.body_mut().read_to_string();
        let (s, html) = clerk_post(t, "/hall/yc-hall/window/A01", &clerk, "action=call_next");
        assert_eq!(s, 409);
        assert!(html.contains("请先办结、过号或转出当前号码"));
        // A citizen may not open a window.
        let citizen = format!("oneseal_session={}", t.login("citizen"));
        assert_eq!(page_get(t, "/hall/yc-hall/window/A01", Some(&citizen)).0, 403);

        // The screens show the call: the hall screen, the window's own screen, the phone view.
        let (s, html) = page_get(t, "/hall/yc-hall/screen", None);
        assert_eq!(s, 200);
        assert!(html.contains("data-announce=\"请 A001 号到 A01 号窗口办理。"), "{html}");
        assert!(html.contains("/assets/hall-screen.js"));
        let (_, html) = page_get(t, "/hall/yc-hall/window/A01/screen", None);
        assert!(html.contains("data-testid=\"window-screen-number\">A001<"));
        let (_, html) = page_get(t, "/hall/yc-hall/n/A001", None);
        assert!(html.contains("data-testid=\"my-window\">A01<"));
        assert_eq!(page_get(t, "/hall/yc-hall/n/A999", None).0, 404);
        assert_eq!(page_get(t, "/hall/no-such/screen", None).0, 404);

        // The live feed: a server-sent event with the board.
        let mut resp = t.agent.get(&format!("{}/hall/yc-hall/events", t.base)).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert!(resp.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/event-stream"));
        let mut reader = std::io::BufReader::new(resp.body_mut().as_reader());
        let mut seen = String::new();
        while !seen.contains("\ndata: ") {
            let mut line = String::new();
            if std::io::BufRead::read_line(&mut reader, &mut line).unwrap() == 0 {
                break;
            }
            seen.push_str(&line);
        }
        assert!(seen.contains("event: board") && seen.contains("\"number\":\"A001\""), "{seen}");
        assert!(seen.contains("retry: 2000"), "{seen}");
    });
}

#[test]
fn the_hall_numbers_match_a_recount_of_the_events() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        let clerk = t.login("clerk");
        let act = |w: &str, body: Value| {
            let r = t.post(&format!("/api/v1/service-points/yc-hall/windows/{w}"), Some(&clerk), &body);
            assert_eq!(r.status, 200, "{:?}", r.body);
        };
        let take =
            || t.post("/api/v1/service-points/yc-hall/numbers", None, &json!({"item": company, "source": "kiosk"}));
        // Three arrivals minutes apart; two are served at two windows, one of them into a case.
        for m in [0, 4, 9] {
            t.clock.set(datetime!(2026-03-02 10:00 +8) + time::Duration::minutes(m));
            assert_eq!(take().status, 201);
        }
        let case = submitted_and_accepted(t, &company);
        t.clock.set(datetime!(2026-03-02 10:12 +8));
        act("A01", json!({"action": "call_next"}));
        act("A01", json!({"action": "start"}));
        t.clock.set(datetime!(2026-03-02 10:17 +8));
        act("A02", json!({"action": "call_next"}));
        act("A02", json!({"action": "start"}));
        t.clock.set(datetime!(2026-03-02 10:31 +8));
        act("A01", json!({"action": "finish", "case_no": case["case_no"]}));
        act("A02", json!({"action": "finish"}));

        // Brute force: straight from the stored events.
        let events = t.app.store.read_blocking(|db| db.read_from(0, 1_000_000)).unwrap();
        let mut taken = std::collections::BTreeMap::new();
        let mut called = std::collections::BTreeMap::new();
        let mut started = std::collections::BTreeMap::new();
        let (mut served, mut cases, mut service) = (0, 0, Vec::new());
        for e in events.iter().filter(|e| e.stream_id.starts_with("queue-yc-hall-")) {
            match e.event_type.as_str() {
                "number_taken" => drop(taken.insert(e.stream_id.clone(), e.at_ms)),
                "number_called" => drop(called.entry(e.stream_id.clone()).or_insert(e.at_ms)),
                "number_service_started" => drop(started.insert(e.stream_id.clone(), e.at_ms)),
                "number_served" => {
                    served += 1;
                    if e.payload.contains("\"case_no\":\"") {
                        cases += 1;
                    }
                    service.push(e.at_ms - started[&e.stream_id]);
                }
                _ => {}
            }
        }
        let waits: Vec<i64> = called.iter().map(|(s, c)| c - taken[s]).collect();
        let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len() as f64 / 60_000.0;
        assert_eq!((taken.len(), served, cases), (3, 2, 1));

        let sup = format!("oneseal_session={}", t.login("supervisor"));
        let (s, csv) = page_get(t, "/dashboard/hall.csv?from=2026-03-01&to=2026-03-02", Some(&sup));
        assert_eq!(s, 200, "{csv}");
        let csv = csv.trim_start_matches('\u{feff}');
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let all: Vec<&str> = csv.lines().find(|l| l.starts_with("all,")).unwrap().split(',').collect();
        let col = |name: &str| all[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!((col("taken"), col("called"), col("served"), col("cases")), ("3", "2", "2", "1"), "{csv}");
        let close = |a: &str, b: f64| assert!((a.parse::<f64>().unwrap() - b).abs() < 1e-6, "{a} vs {b}");
        close(col("wait_mean_min"), mean(&waits));
        close(col("service_mean_min"), mean(&service));
        // Two windows worked that day, one case between them.
        close(col("cases_per_window_day"), 0.5);
        let (s, html) = page_get(t, "/dashboard/hall?from=2026-03-01&to=2026-03-02", Some(&sup));
        assert_eq!(s, 200);
        assert!(html.contains("data-testid=\"hall-stats\""));
        let (s, _) = page_get(t, "/dashboard/hall?from=2026-03-05&to=2026-03-01", Some(&sup));
        assert_eq!(s, 422);
        let citizen = format!("oneseal_session={}", t.login("citizen"));
        assert_eq!(page_get(t, "/dashboard/hall.csv", Some(&citizen)).0, 403);
    });
}

#[test]
fn any_point_that_handles_an_item_accepts_it_and_the_case_records_where() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        let clerk = t.login("clerk");
        let mut body = submission(t, &company, "window");
        body["service_point"] = json!("etdz-centre");
        let r = t.post("/api/v1/cases", Some(&clerk), &body);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap();
        let v = t.get(&format!("/api/v1/cases/{no}"), Some(&clerk));
        assert_eq!(
            (v.body["service_point"].as_str(), v.body["channel"].as_str()),
            (Some("etdz-centre"), Some("window"))
        );
        // The community station does not handle company establishment: refused, nothing written.
        let before = t.events();
        body["service_point"] = json!("lh-community");
        let r = t.post("/api/v1/cases", Some(&clerk), &body);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("point_does_not_handle")), "{:?}", r.body);
        assert_eq!(t.events(), before);
    });
}

#[test]
fn windows_calling_at_once_get_different_numbers() {
    each_backend(|t| {
        let clerk = t.login("clerk");
        for _ in 0..4 {
            let r = t.post("/api/v1/service-points/yc-hall/numbers", None, &json!({"source": "kiosk"}));
            assert_eq!(r.status, 201);
        }
        let (base2, _node2) = spawn_node(t, None);
        let got: Vec<(u16, String)> = std::thread::scope(|s| {
            let hs: Vec<_> = ["A01", "A02", "A03", "A04"]
                .into_iter()
                .enumerate()
                .map(|(i, w)| {
                    let (clerk, base) = (clerk.clone(), if i % 2 == 0 { t.base.clone() } else { base2.clone() });
                    s.spawn(move || {
                        let mut resp = t
                            .agent
                            .post(&format!("{base}/api/v1/service-points/yc-hall/windows/{w}"))
                            .header("Authorization", &format!("Bearer {clerk}"))
                            .send_json(&json!({"action": "call_next"}))
                            .unwrap();
                        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
                        (resp.status().as_u16(), v["current"]["number"].as_str().unwrap_or_default().to_string())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(got.iter().all(|(s, _)| *s == 200), "{}: {got:?}", t.backend);
        let mut numbers: Vec<&str> = got.iter().map(|(_, n)| n.as_str()).collect();
        numbers.sort();
        assert_eq!(numbers, ["A001", "A002", "A003", "A004"], "{}", t.backend);
        assert_rebuild_identical(t);
    });
}

/// Post a staff member to a service point (an administrator's versioned edit, `staff_posted`).
fn post_to(t: &TestApp, user: &str, point: Option<&str>) {
    let admin = t.login("admin");
    let r =
        t.call("PUT", &format!("/api/v1/staff/{user}/post"), Some(&admin), Some(&json!({"service_point": point})), &[]);
    assert_eq!((r.status, r.body["service_point"].as_str()), (200, point), "{:?}", r.body);
}

/// A page form POST with a session cookie, same origin, and the CSRF token read from another page of the session.
fn form_post(t: &TestApp, path: &str, cookie: &str, csrf_page: &str, form: &str) -> (u16, String) {
    let (_, html) = page_get(t, csrf_page, Some(cookie));
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    let mut resp = t
        .agent
        .post(&format!("{}{path}", t.base))
        .header("Accept", "text/html")
        .header("Origin", &t.base)
        .header("Cookie", cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("_csrf={csrf}&{form}").as_bytes())
        .unwrap();
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}

/// The queue of a point as a window and the board see it, to compare before and after a refusal.
fn queue_snapshot(t: &TestApp, point: &str) -> Value {
    let mut b = t.get(&format!("/api/v1/service-points/{point}/board"), None).body;
    b.as_object_mut().unwrap().remove("changed_ms");
    b
}

#[test]
fn a_clerk_works_only_the_windows_of_the_point_they_are_posted_to() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        // `clerk` is posted to the citizen hall; `bank-clerk` is reposted to the Xingqing district centre.
        post_to(t, "bank-clerk", Some("xq-centre"));
        let (clerk, xq) = (t.login("clerk"), t.login("bank-clerk"));
        for _ in 0..2 {
            let r =
                t.post("/api/v1/service-points/yc-hall/numbers", None, &json!({"item": company, "source": "kiosk"}));
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
        let r = t.post("/api/v1/service-points/yc-hall/windows/A02", Some(&clerk), &json!({"action": "call_next"}));
        assert_eq!(r.body["current"]["number"], "A001", "{:?}", r.body);

        // Every window command, the window's view, the day's appointments and a number taken at a window: refused
        // to the clerk of another point with 403 problem+json in Chinese and English, and nothing changes.
        let (events, queue) = (t.events(), queue_snapshot(t, "yc-hall"));
        for (window, body) in [
            ("A01", json!({"action": "call_next"})),
            ("A01", json!({"action": "call", "number": "A002"})),
            ("A02", json!({"action": "recall"})),
            ("A02", json!({"action": "skip"})),
            ("A02", json!({"action": "start"})),
            ("A02", json!({"action": "transfer", "to_window": "A03"})),
            ("A02", json!({"action": "transfer", "to_section": "企业开办", "hand_off": true})),
            ("A02", json!({"action": "finish"})),
        ] {
            let r = t.post(&format!("/api/v1/service-points/yc-hall/windows/{window}"), Some(&xq), &body);
            assert_eq!((r.status, r.body["code"].as_str()), (403, Some("forbidden")), "{body}: {:?}", r.body);
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            let detail = r.body["detail"].as_str().unwrap();
            assert!(detail.contains("not posted to yc-hall") && detail.contains("未派驻到该服务点"), "{detail}");
            assert_eq!(r.body["title_zh"], "无权进行此操作");
        }
        assert_eq!(t.get("/api/v1/service-points/yc-hall/windows/A01", Some(&xq)).status, 403);
        assert_eq!(t.get("/api/v1/service-points/yc-hall/appointments", Some(&xq)).status, 403);
        let r =
            t.post("/api/v1/service-points/yc-hall/numbers", Some(&xq), &json!({"source": "window", "window": "A01"}));
        assert_eq!(r.status, 403, "{:?}", r.body);
        // Every HTTP method on the window's routes: nothing but the declared ones, and those refused.
        for path in ["/api/v1/service-points/yc-hall/windows/A01", "/hall/yc-hall/window/A01"] {
            let url = format!("{}{path}", t.base);
            let auth = format!("Bearer {xq}");
            let body = json!({"action": "call_next"});
            let statuses = [
                t.agent.get(&url).header("Authorization", &auth).call(),
                t.agent.head(&url).header("Authorization", &auth).call(),
                t.agent.post(&url).header("Authorization", &auth).send_json(&body),
                t.agent.put(&url).header("Authorization", &auth).send_json(&body),
                t.agent.patch(&url).header("Authorization", &auth).send_json(&body),
                t.agent.delete(&url).header("Authorization", &auth).call(),
            ]
            .map(|r| r.unwrap().status().as_u16());
            assert_eq!(statuses, [403, 403, 403, 405, 405, 405], "GET HEAD POST PUT PATCH DELETE {path}");
        }
        // The console pages: the same refusal, with a page.
        let cookie = format!("oneseal_session={xq}");
        assert_eq!(page_get(t, "/hall/yc-hall/window/A01", Some(&cookie)).0, 403);
        let (s, html) =
            form_post(t, "/hall/yc-hall/window/A01", &cookie, "/hall/xq-centre/window/1", "action=call_next");
        assert_eq!(s, 403, "{html}");
        assert_eq!((t.events(), queue_snapshot(t, "yc-hall")), (events, queue.clone()), "nothing changed");
        assert_eq!(queue["waiting"], 1);

        // At their own point they work; the hall's clerk is refused there in turn.
        let r = t.post("/api/v1/service-points/xq-centre/numbers", None, &json!({"source": "kiosk"}));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = t.post("/api/v1/service-points/xq-centre/windows/1", Some(&xq), &json!({"action": "call_next"}));
        assert_eq!((r.status, r.body["current"]["number"].as_str()), (200, Some("A001")), "{:?}", r.body);
        let (s, html) =
            form_post(t, "/hall/xq-centre/window/2", &cookie, "/hall/xq-centre/window/1", "action=call_next");
        assert_eq!(s, 409, "{html}");
        assert_eq!(page_get(t, "/hall/xq-centre/window/1", Some(&cookie)).0, 200);
        let r = t.post("/api/v1/service-points/xq-centre/windows/2", Some(&clerk), &json!({"action": "call_next"}));
        assert_eq!(r.status, 403);
        // Reposted: the post follows at once (the next request), and a clerk posted nowhere works no window.
        post_to(t, "bank-clerk", Some("yc-hall"));
        let r = t.post("/api/v1/service-points/yc-hall/windows/A01", Some(&xq), &json!({"action": "call_next"}));
        assert_eq!((r.status, r.body["current"]["number"].as_str()), (200, Some("A002")), "{:?}", r.body);
        assert_eq!(t.get("/api/v1/service-points/xq-centre/windows/1", Some(&xq)).status, 403);
        post_to(t, "bank-clerk", None);
        assert_eq!(t.get("/api/v1/service-points/yc-hall/windows/A01", Some(&xq)).status, 403);
        assert_rebuild_identical(t);
    });
}

#[test]
fn numbers_are_taken_while_the_point_is_open_and_a_booking_in_its_slot_is_let_in() {
    each_backend(|t| {
        let company = t.item_code("公司设立登记");
        let take = |point: &str, body: Value| t.post(&format!("/api/v1/service-points/{point}/numbers"), None, &body);
        // Monday 2 March 2026, 10:00: the hall is open (09:00–12:00, 13:30–17:30 on working days).
        assert_eq!(take("yc-hall", json!({"item": company})).status, 201);
        // A booking for tomorrow's first slot, 09:00.
        let citizen = t.login("citizen");
        let r = t.post(
            "/api/v1/appointments",
            Some(&citizen),
            &booking("yc-hall", &company, "2026-03-03", "09:00", "online", &rid("19850101", 7)),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let code = r.body["code"].as_str().unwrap().to_string();

        let closed = |point: &str, when: &str| {
            let events = t.events();
            let r = take(point, json!({"source": "kiosk"}));
            assert_eq!((r.status, r.body["code"].as_str()), (409, Some("point_closed")), "{when}: {:?}", r.body);
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            let detail = r.body["detail"].as_str().unwrap();
            assert!(detail.contains("is closed now") && detail.contains("不在办公时间"), "{detail}");
            assert_eq!(r.body["title_zh"], "不在办公时间");
            assert_eq!(t.events(), events, "{when}: nothing written");
        };
        // The lunch break, closing time exactly, and the evening.
        t.clock.set(datetime!(2026-03-02 12:00 +8));
        closed("yc-hall", "12:00");
        let r = t.get("/api/v1/service-points/yc-hall/numbers/A001", None);
        assert_eq!(r.status, 200, "a number taken before is still there");
        t.clock.set(datetime!(2026-03-02 13:29 +8));
        closed("yc-hall", "13:29");
        t.clock.set(datetime!(2026-03-02 13:30 +8));
        assert_eq!(take("yc-hall", json!({"item": company})).status, 201, "open again at 13:30");
        // The community station keeps its own hours (09:00–11:30, 14:30–17:00).
        closed("lh-community", "13:30 at the community station");
        t.clock.set(datetime!(2026-03-02 17:30 +8));
        closed("yc-hall", "17:30");
        // The kiosk form says so in the page's language, and takes nothing.
        let events = t.events();
        let (s, html) = page_post(t, "/hall/yc-hall/take", &format!("item={company}"));
        assert_eq!(s, 422, "{html}");
        assert!(html.contains("现在不在办公时间，不能取号"), "{html}");
        let mut resp = t
            .agent
            .post(&format!("{}/hall/yc-hall/take", t.base))
            .header("Accept", "text/html")
            .header("Accept-Language", "en")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(format!("item={company}").as_bytes())
            .unwrap();
        assert_eq!(resp.status().as_u16(), 422);
        let html = resp.body_mut().read_to_string().unwrap();
        assert!(html.contains("This place is closed now, so no number can be taken"), "{html}");
        assert_eq!(t.events(), events);

        // Tuesday 08:50, before the doors open: a walk-in is refused; the booking holder of the 09:00 slot is in
        // their slot (from 15 minutes before it) and gets a number.
        t.clock.set(datetime!(2026-03-03 08:50 +8));
        closed("yc-hall", "08:50");
        let r = take("yc-hall", json!({"source": "phone", "appointment": code}));
        assert_eq!((r.status, r.body["class"].as_str()), (201, Some("appointment")), "{:?}", r.body);
        // Saturday 7 March: a point open on working days is closed all day (the calendar decides); the kiosk site
        // open every day is not, but has no windows to queue for.
        t.clock.set(datetime!(2026-03-07 10:00 +8));
        closed("yc-hall", "Saturday");
        let r = take("kiosk-wanda", json!({}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("no_windows")));
        assert_rebuild_identical(t);
    });
}

#[test]
fn the_live_feed_is_capped_per_address_and_the_hall_devices_are_not_limited() {
    each_backend(|t| {
        // A node with a cap of 2 feed connections per address and the anonymous bucket at 3 a minute.
        let capped = oneseal_web::WebSettings { hall_events_per_address: 2, ..Default::default() };
        let (base, app) = spawn_node_with(t, capped);
        app.set_anonymous_per_minute(3);
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let open = |base: &str| agent.get(&format!("{base}/hall/yc-hall/events")).call().unwrap();
        let first = open(&base);
        let second = open(&base);
        assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
        let mut third = open(&base);
        assert_eq!(third.status().as_u16(), 429);
        assert_eq!(third.headers().get("retry-after").unwrap(), "30");
        assert_eq!(third.headers().get("content-type").unwrap(), "application/problem+json");
        let v: Value = serde_json::from_str(&third.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(v["code"], "too_many_connections");
        assert!(v["detail"].as_str().unwrap().contains("连接过多"), "{v}");
        // Closing one frees its place (the server notices when it next writes to it: within 15 s at most).
        drop(first);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let reopened = loop {
            let r = open(&base);
            if r.status().as_u16() == 200 || std::time::Instant::now() > deadline {
                break r;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        assert_eq!(reopened.status().as_u16(), 200, "a closed connection is no longer counted");
        drop((second, reopened));

        // Taking numbers: a stranger's address spends from the anonymous bucket (3 a minute, the clock stands
        // still), the API and the kiosk form alike.
        let take = |base: &str| {
            let r = agent
                .post(&format!("{base}/api/v1/service-points/yc-hall/numbers"))
                .send_json(json!({"source": "kiosk"}))
                .unwrap();
            r.status().as_u16()
        };
        assert_eq!((take(&base), take(&base), take(&base)), (201, 201, 201));
        let events = t.events();
        assert_eq!(take(&base), 429);
        let r = agent
            .post(&format!("{base}/hall/yc-hall/take"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send("item=".as_bytes())
            .unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(t.events(), events, "refused before anything is written");

        // The hall's own devices (`ONESEAL_HALL_DEVICES`: here the loopback address) are neither capped nor
        // limited: a busy kiosk takes 40 numbers in the same minute, and 30 screens follow the feed.
        let devices = oneseal_app::egress::Cidr::parse_list("127.0.0.1/32").unwrap();
        let hall = oneseal_web::WebSettings { hall_events_per_address: 2, hall_devices: devices, ..Default::default() };
        let (kiosk_base, kiosk_app) = spawn_node_with(t, hall);
        kiosk_app.set_anonymous_per_minute(3);
        for i in 0..40 {
            assert_eq!(take(&kiosk_base), 201, "number {i}");
        }
        let screens: Vec<_> = (0..30).map(|_| open(&kiosk_base)).collect();
        assert!(screens.iter().all(|r| r.status().as_u16() == 200));
        // Other routes of the bucket are still limited for them (only taking a number is the kiosk's).
        let lookups: Vec<u16> = (0..4)
            .map(|_| {
                agent
                    .post(&format!("{kiosk_base}/api/v1/progress"))
                    .send_json(json!({"case_no": "YC00000000000000", "query_code": "000000"}))
                    .unwrap()
                    .status()
                    .as_u16()
            })
            .collect();
        assert_eq!(lookups[3], 429, "{lookups:?}");
    });
}
