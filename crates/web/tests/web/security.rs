//! Who may call what, sessions and tokens, second factor and SSO, redirects, rate limits, error pages, personal data at rest.

use super::*;

#[test]
fn authorization_and_idor() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let company = t.login("company");
        let code = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let case_no = r.body["case_no"].as_str().unwrap().to_string();
        // Another applicant guessing the number gets "not found", not "forbidden".
        assert_eq!(t.get(&format!("/api/v1/cases/{case_no}"), Some(&company)).status, 404);
        assert_eq!(t.get(&format!("/api/v1/cases/{case_no}/events"), Some(&company)).status, 404);
        assert_eq!(t.act(&company, &case_no, "withdraw", json!({"reason": "x"})).status, 404);
        let (_, list) = (0, t.get("/api/v1/cases", Some(&company)));
        assert_eq!(list.body["total"], 0);
        // An applicant cannot accept; a reviewer cannot accept either.
        assert_eq!(t.act(&citizen, &case_no, "accept", json!({})).status, 403);
        let clerk = t.login("clerk");
        let r = t.act(&clerk, &case_no, "accept", json!({}));
        assert_eq!(r.status, 200);
        let dept = r.body["current_step"]["tasks"][0]["department"].as_str().unwrap().to_string();
        let task = r.body["current_step"]["tasks"][0]["task_id"].as_str().unwrap().to_string();
        // The fire department's reviewer has no business with this case.
        let fire = t.login("fire-reviewer");
        assert_eq!(t.act(&fire, &case_no, "complete", json!({"task_id": task, "opinion": "同意"})).status, 404);
        // Staff queues are for staff.
        assert_eq!(t.get("/api/v1/work-queue", Some(&citizen)).status, 403);
        // Only administrators publish calendar years and catalog versions.
        let y = json!({"year": 2027, "rest_days": ["2027-01-01"], "makeup_workdays": []});
        assert_eq!(t.call("PUT", "/api/v1/calendar/years/2027", Some(&clerk), Some(&y), &[]).status, 403);
        // Reassign to someone who cannot work the task is refused.
        let chief = t.login(&format!("{dept}-chief"));
        let r = t.act(&chief, &case_no, "reassign", json!({"task_id": task, "to": "fire-reviewer", "reason": "休假"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("assignee_cannot_work")));
        // Logout ends the session.
        assert_eq!(t.call("DELETE", "/api/v1/sessions/current", Some(&citizen), None, &[]).status, 204);
        assert_eq!(t.get("/api/v1/me", Some(&citizen)).status, 401);
        // Wrong password: one message whether or not the account exists.
        let a = t.post("/api/v1/sessions", None, &json!({"username": "citizen", "password": "x"}));
        let b = t.post("/api/v1/sessions", None, &json!({"username": "nobody", "password": "x"}));
        assert_eq!((a.status, b.status), (401, 401));
        assert_eq!(a.body["detail"], b.body["detail"]);
        // Failures from one address for one account name back off (three free tries, then 1 s, 2 s, 4 s …),
        // with a clear message and Retry-After, whether or not the account exists; the right password does not
        // get through meanwhile from that address.
        for name in ["company", "no-such-user"] {
            for _ in 0..3 {
                assert_eq!(
                    t.post("/api/v1/sessions", None, &json!({"username": name, "password": "wrong"})).status,
                    401
                );
            }
            let r = t.post("/api/v1/sessions", None, &json!({"username": name, "password": "oneseal-demo"}));
            assert_eq!((r.status, r.body["code"].as_str()), (429, Some("login_throttled")), "{name}");
            assert!(r.header("retry-after").is_some_and(|v| v.parse::<u64>().unwrap() > 0));
            assert!(r.body["title_zh"].as_str().unwrap().contains("稍后"));
        }
        // Other accounts are not affected, nor is the same account from another address: a stranger cannot
        // lock anyone out.
        assert_eq!(
            t.post("/api/v1/sessions", None, &json!({"username": "clerk", "password": "oneseal-demo"})).status,
            201
        );
        let rt = tokio::runtime::Runtime::new().unwrap();
        let elsewhere = rt.block_on(t.app.login("company", "oneseal-demo", None, Some("203.0.113.7")));
        assert!(elsewhere.is_ok(), "the owner at another address signs in");
        // After the backoff, the account works again from the first address too.
        t.clock.set(datetime!(2026-03-02 10:00:05 +8));
        assert_eq!(
            t.post("/api/v1/sessions", None, &json!({"username": "company", "password": "oneseal-demo"})).status,
            201
        );
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn a_distributed_guesser_meets_the_account_ceiling_which_a_second_factor_or_an_administrator_lifts() {
    each_backend(|t| {
        t.app.set_login_limits(oneseal_app::auth::LoginLimits { per_account: 10, per_address: 50 });
        let rt = tokio::runtime::Runtime::new().unwrap();
        let login = |user: &str, pw: &str, totp: Option<&str>, addr: &str| {
            rt.block_on(t.app.login(user, pw, totp, Some(addr))).map(|_| ()).map_err(|e| e.code())
        };
        // company enrols an authenticator; supervisor has none.
        let company = t.login("company");
        let e = t.post("/api/v1/me/totp", Some(&company), &json!({}));
        assert_eq!(e.status, 200, "{:?}", e.body);
        let secret = oneseal_seal::totp::from_base32(e.body["secret"].as_str().unwrap()).unwrap();
        let at = |t: &TestApp| t.app.now().unix_timestamp() as u64;
        let code = oneseal_seal::totp::code_at(&secret, at(t));
        assert_eq!(t.post("/api/v1/me/totp/confirm", Some(&company), &json!({"code": code})).status, 204);
        // Ten guesses from ten addresses each (no address reaches its own backoff)...
        for user in ["supervisor", "company"] {
            for i in 0..10 {
                assert_eq!(login(user, "wrong", None, &format!("198.51.100.{i}")), Err("unauthenticated"));
            }
        }
        // ...and the password alone no longer opens either account, from anywhere; the answer does not tell a
        // right password from a wrong one.
        assert_eq!(login("supervisor", "oneseal-demo", None, "203.0.113.1"), Err("login_throttled"));
        assert_eq!(login("company", "oneseal-demo", None, "203.0.113.2"), Err("login_throttled"));
        assert_eq!(login("company", "wrong", None, "203.0.113.3"), Err("login_throttled"));
        // The second factor lifts it for its holder (a fresh code: the next 30-second step).
        t.clock.set(datetime!(2026-03-02 10:01 +8));
        let code = oneseal_seal::totp::code_at(&secret, at(t));
        assert_eq!(login("company", "oneseal-demo", Some(&code), "203.0.113.1"), Ok(()));
        // An administrator lifts it for an account without one; the lift is an event; a stranger cannot.
        let admin = t.login("admin");
        let lift = "/api/v1/accounts/supervisor/lift-login-ceiling";
        assert_eq!(t.post(lift, Some(&t.login("clerk")), &json!({})).status, 403);
        let before = t.events();
        assert_eq!(t.post(lift, Some(&admin), &json!({})).status, 204);
        assert_eq!(t.events(), before + 1);
        assert_eq!(login("supervisor", "oneseal-demo", None, "203.0.113.1"), Ok(()));
    });
}

#[test]
fn registrations_are_limited_per_address_and_refusals_write_nothing() {
    each_backend(|t| {
        t.app.set_registrations_per_hour(3);
        let reg = |i: usize| {
            let id = ["640106200201010010", "11010519491231002X", "640104200501010028", "640104200501010044"][i];
            json!({"username": format!("reg{i}"), "password": "a-long-password", "name": "测试", "resident_id": id})
        };
        // A malformed request does not use up the allowance; a well-formed one does.
        let bad = json!({"username": "bad", "password": "short", "name": "测试", "resident_id": "640106200201010010"});
        assert_eq!(t.post("/api/v1/register", None, &bad).body["code"], "weak_password");
        for i in 0..3 {
            let r = t.post("/api/v1/register", None, &reg(i));
            assert_eq!(r.status, 201, "{i}: {:?}", r.body);
        }
        let events = t.events();
        let r = t.post("/api/v1/register", None, &reg(3));
        assert_eq!((r.status, r.body["code"].as_str()), (429, Some("registration_rate_limited")), "{:?}", r.body);
        assert!(r.header("retry-after").is_some_and(|v| v.parse::<u64>().unwrap() > 0));
        assert_eq!(r.body["title_zh"], "请求过于频繁，请稍后再试");
        assert_eq!(t.events(), events, "nothing written");
        // Another address is not affected; after the hour this one may register again.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let other = rt.block_on(t.app.register_person(
            "reg3",
            "a-long-password",
            "测试",
            "640104200501010044",
            None,
            Some("203.0.113.9"),
        ));
        assert!(other.is_ok(), "{:?}", other.err());
        t.clock.set(datetime!(2026-03-02 11:01 +8));
        let r = t.post("/api/v1/register", None, &json!({"username": "reg4", "password": "a-long-password", "name": "测试", "resident_id": "640104200501010052"}));
        assert_eq!(r.status, 201, "{:?}", r.body);
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn wrong_query_codes_are_limited_per_address() {
    each_backend(|t| {
        let r =
            t.post("/api/v1/cases", Some(&t.login("citizen")), &submission(t, &t.item_code("食品经营许可"), "online"));
        let (no, code) =
            (r.body["case_no"].as_str().unwrap().to_string(), r.body["query_code"].as_str().unwrap().to_string());
        let lookup =
            |no: &str, code: &str| t.post("/api/v1/progress", None, &json!({"case_no": no, "query_code": code}));
        for i in 0..oneseal_app::cases::FAILED_LOOKUPS_PER_ADDRESS {
            // Wrong codes and unknown case numbers both count.
            let r = if i % 2 == 0 { lookup(&no, "AAAAA-AAAAA") } else { lookup("YC2026030299999", &code) };
            assert_eq!(r.status, 404, "{i}");
        }
        let r = lookup(&no, &code);
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (429, Some("lookup_rate_limited")),
            "even the right code waits: {:?}",
            r.body
        );
        assert!(r.header("retry-after").is_some());
        // The page says so in the visitor's language.
        let (status, html) = page_post(t, "/progress", &format!("case_no={no}&query_code={code}"));
        assert_eq!(status, 429);
        assert!(html.contains("查询失败次数过多"), "{html}");
        // Other addresses are not affected; after the window this one is free again.
        let rt = tokio::runtime::Runtime::new().unwrap();
        assert!(rt.block_on(t.app.progress(&no.parse().unwrap(), &code, Some("203.0.113.5"))).is_ok());
        t.clock.set(datetime!(2026-03-02 10:16 +8));
        assert_eq!(lookup(&no, &code).status, 200);
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}

#[test]
fn costly_public_routes_are_cached_bounded_and_limited_for_anonymous_callers() {
    each_backend(|t| {
        let supervisor = t.login("supervisor");
        let metric = |name: &str| -> f64 {
            let m = t.get("/metrics", Some(&supervisor));
            let text = m.body.as_str().unwrap_or_default().to_string();
            text.lines()
                .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in {text}"))
        };
        // The application form is rendered once per version and language, then served from memory.
        let code = t.item_code("食品经营许可");
        let (s1, b1, _) = bytes_call(t, &format!("/services/{code}/form.pdf"), None, None);
        let (s2, b2, _) = bytes_call(t, &format!("/services/{code}/form.pdf"), None, None);
        assert_eq!((s1, s2), (200, 200));
        assert!(b1.starts_with(b"%PDF-") && b1 == b2);
        assert_eq!(metric("oneseal_form_renders_total"), 1.0);
        // Open311: a bounded number of ids per call.
        let ids = (0..51).map(|i| format!("RX20260302{i:05}")).collect::<Vec<_>>().join(",");
        let (status, body, _) =
            bytes_call(t, &format!("/open311/v2/requests.json?service_request_id={ids}"), None, None);
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
        // Proofs are reads: once the tree is folded, asking again writes nothing.
        let seq = t.app.store.read_blocking(|db| db.last_seq()).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(t.app.sync_tree()).unwrap();
        let (s, _, _) = bytes_call(t, &format!("/api/v1/transparency/consistency?old=1&new={seq}"), None, None);
        assert_eq!(s, 200);
        let writes = metric("oneseal_store_transaction_seconds_count");
        for _ in 0..3 {
            let (s, _, _) = bytes_call(t, &format!("/api/v1/transparency/consistency?old=1&new={seq}"), None, None);
            assert_eq!(s, 200);
        }
        assert_eq!(metric("oneseal_store_transaction_seconds_count"), writes, "no write per proof");
        // Anonymous callers spend from a bucket per address on these routes; signed-in callers do not.
        t.app.set_anonymous_per_minute(5);
        let mut refused = None;
        for i in 0..6 {
            let r = t.get("/api/v1/satisfaction", None);
            if r.status == 429 {
                refused = Some((i, r));
                break;
            }
            assert_eq!(r.status, 200);
        }
        let (i, r) = refused.expect("the sixth anonymous request is refused");
        assert_eq!((i, r.body["code"].as_str()), (5, Some("anonymous_rate_limited")), "{:?}", r.body);
        assert!(r.header("retry-after").is_some_and(|v| v.parse::<u64>().unwrap() >= 1));
        assert_eq!(t.get("/api/v1/items", None).status, 200, "cheap public routes are not counted");
        let (status, html) = page_get(t, "/satisfaction", Some(&format!("oneseal_session={}", t.login("citizen"))));
        assert_eq!(status, 200, "a signed-in visitor is not limited: {html}");
        assert_eq!(metric("oneseal_anonymous_refusals_total"), 1.0);
        // A minute later the bucket is full again.
        t.clock.set(datetime!(2026-03-02 10:01 +8));
        assert_eq!(t.get("/api/v1/satisfaction", None).status, 200);
    });
}

#[test]
fn a_storage_failure_shows_an_error_page_never_an_empty_one() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let DatabaseUrl::Sqlite(path) = &t.url else { unreachable!() };
    let citizen = format!("oneseal_session={}", t.login("citizen"));
    let supervisor = format!("oneseal_session={}", t.login("supervisor"));
    assert_eq!(page_get(&t, "/me", Some(&citizen)).0, 200);
    assert_eq!(page_get(&t, "/supervision", Some(&supervisor)).0, 200);
    // Take the tables away underneath the running server (as a failing disk or a broken migration would).
    let raw = rusqlite::Connection::open(path).unwrap();
    raw.execute_batch("ALTER TABLE cases RENAME TO cases_gone; ALTER TABLE alerts RENAME TO alerts_gone;").unwrap();
    for (path, cookie) in [("/me", &citizen), ("/supervision", &supervisor)] {
        let (status, html) = page_get(&t, path, Some(cookie));
        assert_eq!(status, 503, "{path}: {html}");
        assert!(html.contains("服务暂时不可用"), "{path} says so: {html}");
    }
    raw.execute_batch("ALTER TABLE cases_gone RENAME TO cases; ALTER TABLE alerts_gone RENAME TO alerts;").unwrap();
    assert_eq!(page_get(&t, "/me", Some(&citizen)).0, 200, "and recovers");
}

#[test]
fn every_route_is_in_the_openapi_document_and_answers() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let doc = t.get("/api/v1/openapi.json", None).body;
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (p, ops) in paths {
        for m in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch", "head", "options"].contains(&m.as_str()) {
                documented.push((m.to_uppercase(), p.clone()));
            }
        }
    }
    let routed: Vec<(String, String)> = api_routes().iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    let mut routed = routed;
    documented.sort();
    routed.sort();
    assert!(routed.len() > 100, "the API declares its routes: {}", routed.len());
    assert_eq!(documented, routed, "openapi.json and the declared API routes must list the same operations");
    // Each route is really in the router: filling its parameters never hits the router's fallback.
    for (m, p, _) in api_routes() {
        let path = p
            .replace("{code}", "X")
            .replace("{version}", "1")
            .replace("{year}", "2026")
            .replace("{date}", "2026-01-05")
            .replace("{case_no}", "YC202603020000001")
            .replace("{action}", "accept");
        let empty = json!({});
        let r = t.call(m, &path, None, if m == "GET" { None } else { Some(&empty) }, &[]);
        assert_ne!(r.body["code"], "no_route", "{m} {p}");
        assert_ne!(r.body["code"], "method_not_allowed", "{m} {p}");
    }
}

#[test]
fn personal_data_is_sealed_at_rest_masked_and_unmasked_with_a_reason() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let code = t.item_code("食品经营许可");
        let mut sub = submission(t, &code, "online");
        sub["applicant"]["id_number"] = json!("64010420050101001X");
        sub["applicant"]["phone"] = json!("13912345678");
        sub["form"]["legal_representative_id"] = json!("64010420050101001X");
        sub["form"]["contact_phone"] = json!("13912345678");
        sub["form"]["business_address"] = json!("银川市兴庆区解放东街甲一号");
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let clerk = t.login("clerk");
        let r = t.act(&clerk, &no, "accept", json!({}));
        let dept = r.body["current_step"]["tasks"][0]["department"].as_str().unwrap().to_string();
        assert_eq!(r.body["form"]["business_address"], "银川市兴****", "addresses are masked too");
        assert_eq!(r.body["form"]["legal_representative_id"], "640104********001X");

        // Nothing personal in clear anywhere in the database: events, projections, indexes.
        let raw = raw_database(&t.url);
        for secret in ["64010420050101001X", "13912345678", "银川市兴庆区解放东街甲一号"] {
            assert!(!contains(&raw, secret), "{}: {secret} found in clear in the database", t.backend);
        }
        assert!(contains(&raw, "sm4gcm:v1:"), "{}: sealed values are there", t.backend);

        // Staff unmask with a reason; the applicant sees who looked.
        let reviewer = t.login(&format!("{dept}-reviewer"));
        assert_eq!(t.get(&format!("/api/v1/cases/{no}"), Some(&reviewer)).status, 200);
        let path = format!("/api/v1/cases/{no}/personal-data");
        assert_eq!(t.post(&path, Some(&reviewer), &json!({"reason": ""})).body["code"], "reason_required");
        assert_eq!(t.post(&path, Some(&citizen), &json!({"reason": "想看看"})).status, 403);
        let fire = t.login("fire-reviewer");
        assert_eq!(
            t.post(&path, Some(&fire), &json!({"reason": "核对"})).status,
            404,
            "staff who may not see the case get nothing"
        );
        let r = t.post(&path, Some(&reviewer), &json!({"reason": "核对法定代表人身份"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["fields"]["applicant.id_number"], "64010420050101001X");
        assert_eq!(r.body["fields"]["form.business_address"], "银川市兴庆区解放东街甲一号");
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let log = t.get("/api/v1/me/data-access", Some(&citizen));
        let entries = log.body["access"].as_array().unwrap();
        assert!(
            entries.iter().any(|e| e["actor"] == format!("{dept}-reviewer") && e["reason"] == "核对法定代表人身份"),
            "{entries:?}"
        );
        // The read log is a projection of the reads' events: it rebuilds identically.
        assert_rebuild_identical(t);
        assert!(
            entries.iter().any(|e| e["actor"] == format!("{dept}-reviewer") && e["fields"] == json!(["masked"])),
            "the masked view is recorded too: {entries:?}"
        );

        // Found through the blind index, by window clerks only.
        let r = t.get("/api/v1/cases?applicant_id=64010420050101001X", Some(&clerk));
        assert_eq!(r.body["total"], 1, "{:?}", r.body);
        assert_eq!(t.get("/api/v1/cases?applicant_id=64010420050101001X", Some(&citizen)).status, 403);
        assert_eq!(
            t.get("/api/v1/cases?applicant_id=640104200501010016", Some(&clerk)).body["code"],
            "invalid_applicant_id"
        );

        // Rotating the master key re-wraps the data keys; everything still reads and the index still finds.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let new_key = oneseal_seal::pd::MasterKey::from_hex(&"c3".repeat(32)).unwrap();
        rt.block_on(t.app.rotate_master_key(&new_key)).unwrap();
        let r = t.post(&path, Some(&reviewer), &json!({"reason": "轮换后复核"}));
        assert_eq!(r.body["fields"]["applicant.id_number"], "64010420050101001X");
        assert_eq!(t.get("/api/v1/cases?applicant_id=64010420050101001X", Some(&clerk)).body["total"], 1);
        // A new case after the rotation is sealed under the new data key and still found.
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!(r.status, 201, "the person is still found by the rotated index: {:?}", r.body);
        assert_eq!(t.get("/api/v1/cases?applicant_id=64010420050101001X", Some(&clerk)).body["total"], 2);
        // One account per ID number still holds after the rotation (the persons' indexes were recomputed).
        let again = json!({"username": "zhangsan2", "password": "a-long-password", "name": "张三", "resident_id": "64010420050101001X"});
        assert_eq!(t.post("/api/v1/register", None, &again).body["code"], "person_exists");
        // Reopening with the old master key is refused with a clear message, not garbage.
        let err = App::new(Store::open(&t.url, StoreOptions::default()).unwrap(), t.clock.clone(), test_master_key())
            .err()
            .unwrap();
        assert!(err.to_string().contains("internal") || format!("{err:?}").contains("does not unwrap"), "{err:?}");
    });
}

/// Every route × every role: the policy allows exactly what ROUTES says, before any handler runs.
#[test]
fn policy_matrix_every_route_times_every_role() {
    use oneseal_domain::roles::Role;
    use oneseal_web::policy::Access;
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let accounts: Vec<(Option<Role>, Option<&str>)> = vec![
        (None, None),
        (Some(Role::Applicant), Some("citizen")),
        (Some(Role::WindowClerk), Some("clerk")),
        (Some(Role::Reviewer), Some("bureau-market-reviewer")),
        (Some(Role::Approver), Some("bureau-market-chief")),
        (Some(Role::Inspector), Some("bureau-market-reviewer")),
        (Some(Role::Supervisor), Some("supervisor")),
        (Some(Role::Regulator), Some("regulator")),
        (Some(Role::HotlineOperator), Some("hotline")),
        (Some(Role::HandlingUnit), Some("handling-unit")),
        (Some(Role::Administrator), Some("admin")),
    ];
    let doc = t.get("/api/v1/openapi.json", None).body;
    let mut checked = 0;
    for (role, user) in &accounts {
        let token = user.map(|u| t.login(u));
        let actor = token.as_ref().map(|tok| {
            serde_json::from_value::<oneseal_domain::roles::Actor>(t.get("/api/v1/me", Some(tok)).body).unwrap()
        });
        if let (Some(r), Some(a)) = (role, &actor) {
            assert!(a.has(*r), "{user:?} must hold {r:?}");
        }
        for (m, p, access) in api_routes() {
            if p == "/api/v1/sessions/current" {
                continue; // signing out would end the token the loop uses; covered by authorization_and_idor
            }
            let path = p
                .replace("{code}", "X")
                .replace("{version}", "1")
                .replace("{year}", "2026")
                .replace("{date}", "2026-01-05")
                .replace("{case_no}", "YC202603020000001")
                .replace("{action}", "accept")
                .replace("{id}", "tok-none");
            let empty = json!({});
            let r = t.call(m, &path, token.as_deref(), if m == "GET" { None } else { Some(&empty) }, &[]);
            let allowed = access.allows(actor.as_ref());
            if allowed {
                assert!(
                    r.status != 401 && r.status != 403,
                    "{m} {p} as {user:?}: allowed by {access:?} but got {} {:?}",
                    r.status,
                    r.body
                );
            } else {
                let want = if actor.is_none() { 401 } else { 403 };
                assert_eq!(r.status, want, "{m} {p} as {user:?}: denied by {access:?}: {:?}", r.body);
                assert_eq!(r.header("content-type"), Some("application/problem+json"));
            }
            // The OpenAPI document names the same rule.
            let op = &doc["paths"][p][m.to_lowercase()];
            let x = op["x-access"].as_str().unwrap_or_default().to_string();
            assert!(x.starts_with(access.name()), "{m} {p}: x-access {x} vs {access:?}");
            if let Access::Roles(roles) = access {
                for r in roles {
                    assert!(x.contains(r.as_str()), "{m} {p}: x-access {x} names {r:?}");
                }
            }
            if access != Access::Public {
                assert!(op["responses"].get("403").is_some(), "{m} {p} documents 403");
                assert_eq!(op["security"], json!([{ "bearer": [] }]), "{m} {p}");
            } else {
                assert_eq!(op["security"], json!([]), "{m} {p}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 11 * 28, "{checked}");
}

/// A token chosen by an attacker is never adopted: sign-in always mints a new token, and each sign-in a new one.
#[test]
fn no_session_fixation() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let planted = "a".repeat(64);
    let r = t.call(
        "POST",
        "/api/v1/sessions",
        Some(&planted),
        Some(&json!({"username": "citizen", "password": "oneseal-demo"})),
        &[],
    );
    assert_eq!(r.status, 201);
    let first = r.body["token"].as_str().unwrap().to_string();
    assert_ne!(first, planted);
    assert_eq!(t.get("/api/v1/me", Some(&planted)).status, 401, "the planted token stays worthless");
    let second = t.login("citizen");
    assert_ne!(first, second, "each sign-in gets a fresh token");
    assert_eq!(t.get("/api/v1/me", Some(&second)).status, 200);
}

#[test]
fn api_tokens_are_scoped_expiring_and_revocable() {
    each_backend(|t| {
        let clerk = t.login("clerk");
        let r = t.post(
            "/api/v1/tokens",
            Some(&clerk),
            &json!({"name": "银行网点同步", "scopes": ["read"], "expires_in_days": 7}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let read = r.body["token"].as_str().unwrap().to_string();
        let read_id = r.body["id"].as_str().unwrap().to_string();
        assert!(read.starts_with("ost_"));
        assert_eq!(t.get("/api/v1/intake-queue", Some(&read)).status, 200, "read scope reads");
        let code = t.item_code("营业执照遗失补领");
        let r = t.post("/api/v1/cases", Some(&read), &submission(t, &code, "bank"));
        assert_eq!((r.status, r.body["code"].as_str()), (403, Some("forbidden")), "read scope cannot write");
        // Tokens cannot mint tokens or unmask personal data.
        assert_eq!(t.post("/api/v1/tokens", Some(&read), &json!({"name": "x", "scopes": ["read"]})).status, 403);
        let rw = t
            .post(
                "/api/v1/tokens",
                Some(&clerk),
                &json!({"name": "柜台终端", "scopes": ["read", "write"], "expires_in_days": 1}),
            )
            .body["token"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t.post("/api/v1/cases", Some(&rw), &submission(t, &code, "bank"));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        assert_eq!(
            t.post(&format!("/api/v1/cases/{no}/personal-data"), Some(&rw), &json!({"reason": "核对"})).status,
            403
        );
        // Only the hash is stored.
        let raw = raw_database(&t.url);
        assert!(!contains(&raw, &read) && !contains(&raw, &rw), "{}: token secrets must not be stored", t.backend);
        // Listing shows no secrets; someone else cannot revoke; the owner can; a revoked token is dead.
        let list = t.get("/api/v1/tokens", Some(&clerk));
        assert_eq!(list.body["tokens"].as_array().unwrap().len(), 2);
        assert!(!serde_json::to_string(&list.body).unwrap().contains("ost_"));
        let other = t.login("bank-clerk");
        assert_eq!(t.call("DELETE", &format!("/api/v1/tokens/{read_id}"), Some(&other), None, &[]).status, 404);
        assert_eq!(t.call("DELETE", &format!("/api/v1/tokens/{read_id}"), Some(&clerk), None, &[]).status, 204);
        assert_eq!(t.get("/api/v1/intake-queue", Some(&read)).status, 401);
        // Expiry: one day later the one-day token is dead.
        t.clock.set(datetime!(2026-03-03 10:01 +8));
        assert_eq!(t.get("/api/v1/intake-queue", Some(&rw)).status, 401);
        t.clock.set(datetime!(2026-03-02 10:00 +8));
        // Bad requests name the problem.
        let clerk = t.login("clerk");
        assert_eq!(
            t.post("/api/v1/tokens", Some(&clerk), &json!({"name": "x", "scopes": ["root"]})).body["code"],
            "invalid_scopes"
        );
        assert_eq!(
            t.post("/api/v1/tokens", Some(&clerk), &json!({"name": "x", "scopes": ["read"], "expires_in_days": 999}))
                .body["code"],
            "invalid_expiry"
        );
    });
}

#[test]
fn administrators_manage_staff_and_every_grant_is_an_event() {
    each_backend(|t| {
        let admin = t.login("admin");
        let body = json!({"username": "zhao-reviewer", "display_name": "赵新审查", "password": "a-long-password-1", "roles": ["reviewer"], "department": "bureau-market"});
        let r = t.post("/api/v1/staff", Some(&admin), &body);
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(t.post("/api/v1/staff", Some(&admin), &body).body["code"], "account_exists");
        let bad = |patch: Value| {
            let mut b = body.clone();
            b["username"] = json!("other-user");
            for (k, v) in patch.as_object().unwrap() {
                b[k] = v.clone();
            }
            t.post("/api/v1/staff", Some(&admin), &b).body["code"].as_str().unwrap_or_default().to_string()
        };
        assert_eq!(bad(json!({"password": "short"})), "weak_password");
        assert_eq!(bad(json!({"department": "no-such-dept"})), "unknown_department");
        assert_eq!(bad(json!({"roles": ["administrator", "approver"]})), "separation_of_duties");
        assert_eq!(bad(json!({"username": "Bad Name"})), "invalid_username");
        // The new reviewer signs in; a grant makes them an approver; a revocation ends their session.
        let tok = t
            .post("/api/v1/sessions", None, &json!({"username": "zhao-reviewer", "password": "a-long-password-1"}))
            .body["token"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t.post("/api/v1/staff/zhao-reviewer/grants", Some(&admin), &json!({"role": "approver"}));
        assert_eq!(r.body["roles"], json!(["approver", "reviewer"]), "{:?}", r.body);
        assert_eq!(
            t.post("/api/v1/staff/zhao-reviewer/grants", Some(&admin), &json!({"role": "approver"})).body["code"],
            "role_unchanged"
        );
        assert_eq!(
            t.post("/api/v1/staff/admin/grants", Some(&admin), &json!({"role": "approver"})).body["code"],
            "self_grant"
        );
        let r = t.call("DELETE", "/api/v1/staff/zhao-reviewer/grants/approver", Some(&admin), None, &[]);
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(t.get("/api/v1/me", Some(&tok)).status, 401, "revocation ends the sessions");
        // Deactivation: no sign-in any more.
        assert_eq!(t.post("/api/v1/staff/zhao-reviewer/deactivate", Some(&admin), &json!({})).body["active"], false);
        assert_eq!(
            t.post("/api/v1/sessions", None, &json!({"username": "zhao-reviewer", "password": "a-long-password-1"}))
                .status,
            401
        );
        // Non-administrators cannot.
        let chief = t.login("bureau-market-chief");
        assert_eq!(
            t.post("/api/v1/staff/bureau-market-reviewer/grants", Some(&chief), &json!({"role": "approver"})).status,
            403
        );
        // The trail: every creation, grant, revocation and deactivation is an event.
        let evs = t.app.store.read_blocking(|db| db.read_stream("account-zhao-reviewer")).unwrap();
        let kinds: Vec<&str> = evs.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(kinds, vec!["account_created", "role_granted", "role_revoked", "account_deactivated"]);
        assert!(evs.iter().all(|e| e.actor == "admin"));
        assert!(!evs.iter().any(|e| e.payload.contains("argon2")), "no password hash in events");
        let list = t.get("/api/v1/staff", Some(&admin));
        assert!(!serde_json::to_string(&list.body).unwrap().contains("argon2"));
    });
}

#[test]
fn second_factor_for_staff_with_write_powers() {
    each_backend(|t| {
        t.app.set_totp_policy(true);
        let login = |user: &str, code: Option<String>| {
            let mut b = json!({"username": user, "password": "oneseal-demo"});
            if let Some(c) = code {
                b["totp"] = json!(c);
            }
            t.post("/api/v1/sessions", None, &b)
        };
        // A reviewer without a second factor gets a session limited to enrolling one.
        let r = login("bureau-market-reviewer", None);
        assert_eq!((r.status, r.body["limited"].as_bool()), (201, Some(true)), "{:?}", r.body);
        let limited = r.body["token"].as_str().unwrap().to_string();
        let q = t.get("/api/v1/work-queue", Some(&limited));
        assert_eq!((q.status, q.body["code"].as_str()), (403, Some("totp_enrolment_required")));
        assert_eq!(t.get("/api/v1/me", Some(&limited)).status, 200);
        // Citizens and the read-only supervisor are not asked.
        assert_eq!(login("citizen", None).body["limited"], false);
        assert_eq!(login("supervisor", None).body["limited"], false);
        // Enrol, confirm with the current code.
        let e = t.post("/api/v1/me/totp", Some(&limited), &json!({}));
        assert_eq!(e.status, 200, "{:?}", e.body);
        assert!(e.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/OneSeal:bureau-market-reviewer?secret="));
        let secret = oneseal_seal::totp::from_base32(e.body["secret"].as_str().unwrap()).unwrap();
        let now = |t: &TestApp| (t.app.now().unix_timestamp()) as u64;
        assert_eq!(
            t.post("/api/v1/me/totp/confirm", Some(&limited), &json!({"code": "000000"})).body["code"],
            "totp_wrong_code"
        );
        let code = oneseal_seal::totp::code_at(&secret, now(t));
        assert_eq!(t.post("/api/v1/me/totp/confirm", Some(&limited), &json!({"code": code})).status, 204);
        assert_eq!(t.get("/api/v1/me", Some(&limited)).status, 401, "sessions opened before the second factor end");
        // Now every sign-in needs a fresh code; a replayed code is refused.
        assert_eq!(login("bureau-market-reviewer", None).body["code"], "totp_required");
        t.clock.set(datetime!(2026-03-02 10:01 +8));
        let code = oneseal_seal::totp::code_at(&secret, now(t));
        let r = login("bureau-market-reviewer", Some(code.clone()));
        assert_eq!((r.status, r.body["limited"].as_bool()), (201, Some(false)), "{:?}", r.body);
        let full = r.body["token"].as_str().unwrap().to_string();
        assert_eq!(t.get("/api/v1/work-queue", Some(&full)).status, 200);
        assert_eq!(
            login("bureau-market-reviewer", Some(code)).body["code"],
            "totp_required",
            "no replay of a used code"
        );
        // The secret is sealed at rest.
        let raw = raw_database(&t.url);
        assert!(!contains(&raw, &oneseal_seal::totp::base32(&secret)), "{}: the TOTP secret must be sealed", t.backend);
        t.clock.set(datetime!(2026-03-02 10:00 +8));
        t.app.set_totp_policy(false);
    });
}

#[test]
fn cookie_sessions_need_the_csrf_token_for_changes_and_rotate_on_sign_in() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let r = t.post("/api/v1/sessions", None, &json!({"username": "citizen", "password": "oneseal-demo"}));
    let set = r.header("set-cookie").unwrap().to_string();
    for attr in ["oneseal_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP in tests; ONESEAL_SECURE_COOKIES=1 behind TLS");
    let token = set.split(';').next().unwrap().trim_start_matches("oneseal_session=").to_string();
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
    let cookie = format!("oneseal_session={token}");
    assert_eq!(t.call("GET", "/api/v1/me", None, None, &[("Cookie", &cookie)]).status, 200, "the cookie signs in");
    let code = t.item_code("食品经营许可");
    let sub = submission(&t, &code, "online");
    let r = t.call("POST", "/api/v1/cases", None, Some(&sub), &[("Cookie", &cookie)]);
    assert_eq!((r.status, r.body["code"].as_str()), (403, Some("csrf")), "a cookie alone cannot change anything");
    let r = t.call(
        "POST",
        "/api/v1/cases",
        None,
        Some(&sub),
        &[("Cookie", &cookie), ("X-CSRF-Token", "0123456789abcdef0123456789abcdef")],
    );
    assert_eq!(r.body["code"], "csrf", "a wrong token neither");
    let r = t.call("POST", "/api/v1/cases", None, Some(&sub), &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)]);
    assert_eq!(r.status, 201, "{:?}", r.body);
    // Signing in again from the same browser ends the old session (rotation), and the new token differs.
    let r = t.call(
        "POST",
        "/api/v1/sessions",
        None,
        Some(&json!({"username": "citizen", "password": "oneseal-demo"})),
        &[("Cookie", &cookie)],
    );
    let new =
        r.header("set-cookie").unwrap().split(';').next().unwrap().trim_start_matches("oneseal_session=").to_string();
    assert_ne!(new, token);
    assert_eq!(t.call("GET", "/api/v1/me", None, None, &[("Cookie", &cookie)]).status, 401, "the old session ended");
    assert_ne!(
        t.post("/api/v1/sessions", None, &json!({"username": "citizen", "password": "oneseal-demo"})).body
            ["csrf_token"],
        json!(csrf)
    );
    // Signing out clears the cookie.
    let r = t.call(
        "DELETE",
        "/api/v1/sessions/current",
        None,
        None,
        &[("Cookie", &format!("oneseal_session={new}")), ("X-CSRF-Token", &oneseal_web::policy::csrf_token(&new))],
    );
    assert_eq!(r.status, 204);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
}

#[test]
fn staff_single_sign_on_through_openid_connect() {
    let now = datetime!(2026-03-02 10:00 +8).unix_timestamp();
    let idp = idp::start(now);
    let cfg = oneseal_web::oidc::OidcConfig {
        issuer: idp.issuer.clone(),
        client_id: "oneseal".into(),
        client_secret: "s3cret".into(),
        redirect_url: "http://oneseal.test/api/v1/oidc/callback".into(),
        username_claim: "preferred_username".into(),
    };
    let t = spawn_app_with("sqlite", oneseal_store::testing::fresh_sqlite(), Some(cfg.clone()));
    let no_redirects: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    // Start in a browser: the redirect to the provider, and the cookie binding the sign-in to this browser.
    let start = || -> (String, String) {
        let r = no_redirects.get(&format!("{}/api/v1/oidc/login", t.base)).call().unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(cookie.starts_with("oneseal_sso=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        let to_idp = r.headers().get("location").unwrap().to_str().unwrap().to_string();
        assert!(
            to_idp.starts_with(&format!("{}/authorize?", idp.issuer))
                && to_idp.contains("code_challenge_method=S256")
                && to_idp.contains("nonce="),
            "{to_idp}"
        );
        let r = no_redirects.get(&to_idp).call().unwrap();
        let back = r.headers().get("location").unwrap().to_str().unwrap().to_string();
        (back.split_once('?').unwrap().1.to_string(), cookie.split(';').next().unwrap().to_string())
    };
    let callback = |query: &str, cookie: Option<&str>| -> Resp {
        let extra: Vec<(&str, &str)> = cookie.map(|c| vec![("Cookie", c)]).unwrap_or_default();
        t.call("GET", &format!("/api/v1/oidc/callback?{query}"), None, None, &extra)
    };
    let sign_in = || -> Resp {
        let (query, cookie) = start();
        callback(&query, Some(&cookie))
    };
    let r = sign_in();
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["actor"]["id"], "bureau-market-chief");
    assert!(r.header("set-cookie").unwrap().contains("HttpOnly"));
    let tok = r.body["token"].as_str().unwrap().to_string();
    assert_eq!(t.get("/api/v1/work-queue", Some(&tok)).status, 200);
    // A replayed or invented state is refused.
    let r = t.get("/api/v1/oidc/callback?code=code-1&state=forged", None);
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("sso_failed")));
    // A sign-in finishes only in the browser that started it (login CSRF: a victim opening an attacker's link).
    let (query, _) = start();
    let r = callback(&query, None);
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("sso_failed")), "{:?}", r.body);
    let (query, _) = start();
    let (_, other_cookie) = start();
    assert_eq!(callback(&query, Some(&other_cookie)).status, 400, "another sign-in's cookie");
    // An ID token for another client is refused.
    *idp.audience.lock().unwrap() = "someone-else".into();
    assert_eq!(sign_in().status, 401);
    *idp.audience.lock().unwrap() = "oneseal".into();
    // An expired ID token is refused.
    *idp.now.lock().unwrap() = now - 3600;
    assert_eq!(sign_in().status, 401);
    *idp.now.lock().unwrap() = now;
    // Applicants and unknown identities do not get in through SSO.
    *idp.user.lock().unwrap() = "citizen".into();
    assert_eq!(sign_in().body["code"], "sso_failed");
    *idp.user.lock().unwrap() = "nobody-at-all".into();
    assert_eq!(sign_in().status, 401);
    // Accounts follow the provider's subject, not the name claim: the same person renamed at the provider still
    // reaches their own account, and a new subject taking the old name does not.
    *idp.subject.lock().unwrap() = Some("sub-bureau-market-chief".into());
    *idp.user.lock().unwrap() = "bureau-economy-chief".into();
    let r = sign_in();
    assert_eq!((r.status, r.body["actor"]["id"].as_str()), (201, Some("bureau-market-chief")), "{:?}", r.body);
    *idp.subject.lock().unwrap() = Some("someone-new".into());
    *idp.user.lock().unwrap() = "bureau-market-chief".into();
    assert_eq!(sign_in().status, 401, "a name already linked to another subject");
    // A sign-in started on one node finishes on another: pending sign-ins live in the database, not in a node.
    *idp.subject.lock().unwrap() = Some("sub-bureau-market-chief".into());
    let (node2, _) = spawn_node(&t, Some(cfg.clone()));
    let (query, cookie) = start();
    let r =
        no_redirects.get(&format!("{node2}/api/v1/oidc/callback?{query}")).header("Cookie", &cookie).call().unwrap();
    assert_eq!(r.status().as_u16(), 201, "the second node finishes the first node's sign-in");
    // …once: the same answer replayed at the first node is refused.
    assert_eq!(callback(&query, Some(&cookie)).status, 400, "a sign-in is taken once over all nodes");
    // Pending sign-ins are bounded over all nodes, and expired ones make room.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let put = |state: &str| rt.block_on(t.app.oidc_pending_put(state.into(), "{}".into(), 3)).unwrap();
    // (The sign-ins this test started and never finished expire first.)
    t.clock.advance(time::Duration::minutes(11));
    assert!(put("s1") && put("s2") && put("s3"), "room for three");
    assert!(!put("s4"), "a fourth waits");
    t.clock.advance(time::Duration::minutes(11));
    assert!(put("s4"), "expired sign-ins make room");
    assert_eq!(rt.block_on(t.app.oidc_pending_take("s1".into())).unwrap(), None, "expired ones are gone");
    assert!(rt.block_on(t.app.oidc_pending_take("s4".into())).unwrap().is_some());
    assert_eq!(rt.block_on(t.app.oidc_pending_take("s4".into())).unwrap(), None, "taken once");
}

#[test]
fn single_sign_on_is_off_unless_configured() {
    // (The binary's Config reads ONESEAL_OIDC_*; an unconfigured deployment has no provider.)
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let r = t.get("/api/v1/oidc/login", None);
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("not_found")));
}

#[test]
fn an_administrator_of_a_department_manages_only_that_departments_staff() {
    each_backend(|t| {
        let admin = t.login("admin");
        let r = t.post("/api/v1/staff", Some(&admin), &json!({"username": "market-admin", "display_name": "市场科管理员", "password": "a-long-password-2", "roles": ["administrator"], "department": "bureau-market"}));
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = t.post("/api/v1/sessions", None, &json!({"username": "market-admin", "password": "a-long-password-2"}));
        let token = r.body["token"].as_str().map(str::to_string);
        let Some(dept_admin) = token else { panic!("{}: sign-in: {:?}", t.backend, r.body) };
        let accounts = t.get("/api/v1/staff", Some(&dept_admin));
        assert_eq!(accounts.status, 200, "{:?}", accounts.body);
        assert!(
            accounts.body["accounts"].as_array().unwrap().iter().all(|a| a["department"] == "bureau-market"),
            "only the department's accounts: {:?}",
            accounts.body
        );
        let staff = |name: &str, roles: Value, dept: Value| json!({"username": name, "display_name": "新账号", "password": "a-long-password-2", "roles": roles, "department": dept});
        // No bureau-wide administrator, no account of another department, no account without a department.
        let events = t.events();
        for body in [
            staff("evil-admin", json!(["administrator"]), Value::Null),
            staff("evil-clerk", json!(["window_clerk"]), Value::Null),
            staff("evil-tax", json!(["reviewer"]), json!("bureau-economy")),
        ] {
            let r = t.post("/api/v1/staff", Some(&dept_admin), &body);
            assert_eq!(r.status, 403, "{body}: {:?}", r.body);
        }
        assert_eq!(t.events(), events, "nothing written");
        // Within the department it works.
        let r = t.post(
            "/api/v1/staff",
            Some(&dept_admin),
            &staff("market-new", json!(["reviewer"]), json!("bureau-market")),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        // Accounts of others: no grants, no deactivation, no posting.
        let r = t.post("/api/v1/staff/bureau-economy-reviewer/grants", Some(&dept_admin), &json!({"role": "approver"}));
        assert_eq!(r.status, 403, "{:?}", r.body);
        assert_eq!(t.post("/api/v1/staff/supervisor/deactivate", Some(&dept_admin), &json!({})).status, 403);
        let post = json!({"service_point": "x", "window": "1"});
        assert_eq!(t.call("PUT", "/api/v1/staff/clerk/post", Some(&dept_admin), Some(&post), &[]).status, 403);
        // What all departments share is for bureau-wide administrators.
        let deps = json!({"departments": t.app.catalog().departments, "reason": "x"});
        assert_eq!(t.call("PUT", "/api/v1/departments", Some(&dept_admin), Some(&deps), &[]).status, 403);
        assert_eq!(t.post("/api/v1/transparency/checkpoint", Some(&dept_admin), &json!({})).status, 403);
    });
}

#[test]
fn preference_and_sign_in_redirects_stay_on_this_site() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let location = |path: &str| -> String {
        let r = agent.get(&format!("{}{}", t.base, path)).call().unwrap();
        assert!(r.status().is_redirection(), "{path}: {}", r.status());
        r.headers().get("location").unwrap().to_str().unwrap().to_string()
    };
    for evil in
        ["/%09/evil.example", "/%0a/evil.example", "//evil.example", "/%5Cevil.example", "https://evil.example/"]
    {
        assert_eq!(location(&format!("/prefs?lang=en&back={evil}")), "/", "{evil}");
    }
    assert_eq!(location("/prefs?lang=en&back=/services%3Fq%3D1"), "/services?q=1");
    // After signing in, the same rule.
    let form = |next: &str| {
        let body = format!("username=citizen&password=oneseal-demo&next={next}");
        let r = agent
            .post(&format!("{}/signin", t.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &t.base)
            .send(body.as_bytes())
            .unwrap();
        r.headers().get("location").map(|v| v.to_str().unwrap().to_string())
    };
    for evil in ["/%09/evil.example", "//evil.example", "/%5C/evil.example"] {
        assert_eq!(form(evil).as_deref(), Some("/me"), "{evil}");
    }
    assert_eq!(form("/me/cases").as_deref(), Some("/me/cases"));
}

#[test]
fn every_route_in_the_router_has_a_declared_rule_and_undeclared_methods_are_refused() {
    // Routes are added only through the declaring builder: no `.route(` call outside routes.rs.
    let found = route_calls_in_source();
    assert_eq!(found, vec!["crates/web/src/routes.rs".to_string()], "routes added outside the declarations");
    let declared = oneseal_web::declared_routes();
    let declared = declared.declared();
    assert!(declared.len() > 150, "{}", declared.len());
    for d in declared {
        assert_eq!(oneseal_web::policy::rule(d.method, d.path), Some(d.access), "{} {}", d.method, d.path);
    }
    // HEAD follows GET's rule; nothing undeclared is public.
    assert_eq!(
        oneseal_web::policy::rule("HEAD", "/api/v1/export/events.xes"),
        oneseal_web::policy::rule("GET", "/api/v1/export/events.xes")
    );
    assert_eq!(oneseal_web::policy::rule("OPTIONS", "/api/v1/cases"), None);
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    for path in ["/api/v1/export/events.xes", "/api/v1/export/alerts.csv", "/api/v1/cases"] {
        let r = t.agent.head(&format!("{}{path}", t.base)).call().unwrap();
        assert_eq!(r.status().as_u16(), 401, "HEAD {path} without credentials");
    }
    let citizen = t.login("citizen");
    let r = t
        .agent
        .head(&format!("{}/api/v1/export/events.xes", t.base))
        .header("Authorization", &format!("Bearer {citizen}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "HEAD needs what GET needs");
}

/// The declared API routes: (method, path, access).
fn api_routes() -> Vec<(&'static str, &'static str, oneseal_web::policy::Access)> {
    oneseal_web::declared_routes()
        .declared()
        .iter()
        .filter(|d| d.surface == oneseal_web::routes::Surface::Api)
        .map(|d| (d.method, d.path, d.access))
        .collect()
}

/// What a node keeps in memory follows what another node publishes: a guide revision and a calendar year published
/// through node 1 are served by node 2 once it refreshes its views (its workers do every two seconds).
#[test]
fn a_second_node_follows_what_the_first_publishes() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let (node2, app2) = spawn_node(&t, None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(!rt.block_on(app2.refresh_views()).unwrap(), "nothing changed yet");
    let code = t.item_code("食品经营许可");
    let versions = |base: &str| -> usize {
        let mut r = t.agent.get(&format!("{base}/api/v1/items/{code}/versions")).call().unwrap();
        let v: Value = r.body_mut().read_json().unwrap();
        v["versions"].as_array().map_or(0, Vec::len)
    };
    assert_eq!((versions(&t.base), versions(&node2)), (1, 1));
    let mut item = serde_json::to_value(&t.app.catalog().latest_item(&code).unwrap().body).unwrap();
    item["promised_limit"] = json!({"working_days": 6});
    let admin = t.login("admin");
    let r =
        t.post(&format!("/api/v1/items/{code}/versions"), Some(&admin), &json!({"item": item, "reason": "压缩时限"}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!((versions(&t.base), versions(&node2)), (2, 1), "node 2 still serves what it loaded");
    assert!(rt.block_on(app2.refresh_views()).unwrap(), "node 2 sees the change");
    assert_eq!(versions(&node2), 2, "and serves the new version");
    assert!(!rt.block_on(app2.refresh_views()).unwrap(), "once");
}
