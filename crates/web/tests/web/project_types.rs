//! Project types (工程建设项目类型) published through the catalog's versioned streams, on both backends: the demo
//! catalog publishes them as version 1; a bureau administrator publishes a new version without a release; a project
//! keeps the version it was registered with while new projects take the new one; bad versions and callers who may
//! not publish are refused with nothing written; a rebuild gives the same catalog.

use super::*;

const GENERAL: &str = "social-investment-general";

fn register(t: &TestApp, token: &str, code: &str) -> Resp {
    t.post(
        "/api/v1/projects",
        Some(token),
        &json!({
            "code": code, "name": "银川阅海物流仓储项目", "project_type": GENERAL,
            "owner_uscc": "91110000600037341L", "owner_name": "银川塞上餐饮有限公司",
            "location": "银川市兴庆区物流园", "floor_area_m2": 8000.0, "investment_wan": 5000.0
        }),
    )
}

fn publish(t: &TestApp, token: &str, code: &str, body: &Value) -> Resp {
    t.post(&format!("/api/v1/project-types/{code}/versions"), Some(token), body)
}

#[test]
fn a_bureau_administrator_publishes_a_project_type_version_and_registered_projects_keep_theirs() {
    each_backend(|t| {
        let admin = t.login("admin");
        let owner = t.login("company");

        // The demo catalog published both types as version 1, through the catalog's streams.
        let types = t.get("/api/v1/project-types", Some(&owner));
        assert_eq!(types.status, 200, "{:?}", types.body);
        let list = types.body["project_types"].as_array().unwrap();
        let codes: Vec<&str> = list.iter().map(|x| x["code"].as_str().unwrap()).collect();
        assert_eq!(codes, [GENERAL, "social-investment-small-low-risk"]);
        assert!(list.iter().all(|x| x["version"] == 1), "{list:?}");
        let v1 = list[0].clone();
        let history = t.get(&format!("/api/v1/project-types/{GENERAL}/versions"), Some(&owner));
        assert_eq!(history.status, 200);
        assert_eq!(history.body["versions"].as_array().unwrap().len(), 1);
        assert_eq!(history.body["versions"][0]["published_by"], "demo");

        // A project registered now copies version 1.
        let r = register(t, &owner, "2026-640104-59-03-000301");
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["project_type"]["version"], 1);
        assert_eq!(r.body["project_type"]["stages"][2]["limit_days"], 12);

        // Version 2: the construction-permit stage promised in 10 working days instead of 12.
        let mut v2 = v1.clone();
        v2["stages"][2]["limit_days"] = json!(10);
        v2["stages"][2]["green_limit_days"] = json!(7);
        let body = json!({ "project_type": v2.clone(), "reason": "施工许可阶段承诺时限压缩至 10 个工作日" });

        // Who may publish: a bureau administrator only (a type spans departments).
        let mut before = t.events();
        for who in ["clerk", "company", "supervisor"] {
            let r = publish(t, &t.login(who), GENERAL, &body);
            assert_eq!(r.status, 403, "{who}: {:?}", r.body);
        }
        assert_eq!(publish(t, "not-a-token", GENERAL, &body).status, 401);
        assert_eq!(t.events(), before, "refused callers write nothing");
        let dept_admin = json!({"username": "build-admin", "display_name": "工程建设科管理员", "password": "a-long-password-1", "roles": ["administrator"], "department": "bureau-construction"});
        assert_eq!(t.post("/api/v1/staff", Some(&admin), &dept_admin).status, 201);
        let dept_admin = t
            .post("/api/v1/sessions", None, &json!({"username": "build-admin", "password": "a-long-password-1"}))
            .body["token"]
            .as_str()
            .unwrap()
            .to_string();
        before = t.events();
        let r = publish(t, &dept_admin, GENERAL, &body);
        assert_eq!(r.status, 403, "a department's administrator: {:?}", r.body);
        assert_eq!(t.events(), before, "refused callers write nothing");

        // Bad versions: each refused with a problem naming it, nothing written.
        let mut over = v1.clone();
        over["stages"][3]["limit_days"] = json!(40);
        let mut unknown_item = v1.clone();
        unknown_item["stages"][1]["items"] = json!([{ "item": "11640100MB9600010701000999999" }]);
        let mut out_of_order = v1.clone();
        out_of_order["stages"].as_array_mut().unwrap().swap(0, 1);
        let mut waits_for_later = v1.clone();
        waits_for_later["stages"][2]["items"] = json!([
            { "item": "11640100MB960001070100029000001", "after": ["11640100MB960001070700057000001"] },
            { "item": "11640100MB960001070700057000001" }
        ]);
        let mut unknown_field = v1.clone();
        unknown_field["surprise"] = json!(true);
        for (name, bad, code) in [
            ("over the whole limit", json!({"project_type": over, "reason": "r"}), "catalog_invalid"),
            ("an item not in the catalog", json!({"project_type": unknown_item, "reason": "r"}), "catalog_invalid"),
            ("stages out of order", json!({"project_type": out_of_order, "reason": "r"}), "catalog_invalid"),
            ("waits for a later item", json!({"project_type": waits_for_later, "reason": "r"}), "catalog_invalid"),
            ("an unknown field", json!({"project_type": unknown_field, "reason": "r"}), "invalid_body"),
            ("no reason", json!({"project_type": v2.clone(), "reason": " "}), "reason_required"),
            ("unchanged", json!({"project_type": v1.clone(), "reason": "r"}), "catalog_unchanged"),
        ] {
            let r = publish(t, &admin, GENERAL, &bad);
            assert_eq!(r.status, 422, "{name}: {:?}", r.body);
            assert_eq!(r.body["code"].as_str(), Some(code), "{name}: {:?}", r.body);
            assert!(r.header("content-type").is_some_and(|c| c.contains("problem+json")), "{name}");
        }
        let r = publish(t, &admin, "social-investment-small-low-risk", &body);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("code_mismatch")), "{:?}", r.body);
        assert_eq!(t.events(), before, "refused versions write nothing");

        // The bureau administrator publishes version 2.
        let r = publish(t, &admin, GENERAL, &body);
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["version"], 2);
        let history = t.get(&format!("/api/v1/project-types/{GENERAL}/versions"), Some(&owner));
        let versions = history.body["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!((versions[1]["version"].as_i64(), versions[1]["published_by"].as_str()), (Some(2), Some("admin")));
        assert_eq!(versions[1]["reason"], "施工许可阶段承诺时限压缩至 10 个工作日");
        assert_eq!(versions[0]["stages"][2]["limit_days"], 12, "version 1 is never changed");

        // The project registered before keeps version 1; a new one takes version 2.
        let old = t.get("/api/v1/projects/2026-640104-59-03-000301", Some(&owner));
        assert_eq!(old.status, 200, "{:?}", old.body);
        assert_eq!(old.body["project_type"]["version"], 1, "{:?}", old.body["project_type"]);
        assert_eq!(old.body["project_type"]["stages"][2]["limit_days"], 12);
        let r = register(t, &owner, "2026-640104-59-03-000302");
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["project_type"]["version"], 2);
        assert_eq!(r.body["project_type"]["stages"][2]["limit_days"], 10);

        // A rebuild gives the same catalog and projects.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let snap = rt.block_on(t.app.dump_projections()).unwrap();
        rt.block_on(t.app.rebuild()).unwrap();
        assert_eq!(snap, rt.block_on(t.app.dump_projections()).unwrap(), "{}: rebuild", t.backend);
        assert_eq!(t.app.catalog().latest_project_type(GENERAL).map(|p| p.version), Some(2));
    });
}

/// POST a page form as a browser (no redirects followed): (status, Location, body).
fn page_post(t: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let body = form.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let mut resp = agent
        .post(&format!("{}{path}", t.base))
        .header("Accept", "text/html")
        .header("Origin", &t.base)
        .header("Cookie", cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body.as_bytes())
        .unwrap();
    let loc = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (resp.status().as_u16(), loc, resp.body_mut().read_to_string().unwrap_or_default())
}

fn page_get(t: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let mut resp =
        agent.get(&format!("{}{path}", t.base)).header("Accept", "text/html").header("Cookie", cookie).call().unwrap();
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn a_bureau_administrator_revises_a_project_type_on_its_page_after_reviewing_the_change() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let path = format!("/admin/project-types/{GENERAL}");
    let (admin, csrf) = channels::session(&t, "admin");
    let (owner, owner_csrf) = channels::session(&t, "company");

    // The list of projects shows the published types and their limits; only the bureau's administrator gets the link.
    let (status, html) = page_get(&t, "/me/projects", &owner);
    assert_eq!(status, 200);
    assert!(
        html.contains("社会投资一般项目") && html.contains("12 个工作日") && html.contains("50 个工作日"),
        "{html}"
    );
    assert!(!html.contains(&path));
    let (_, html) = page_get(&t, "/me/projects", &admin);
    assert!(html.contains(&path), "the bureau administrator may revise");

    // Others may not open or post the page.
    assert_eq!(page_get(&t, &path, &owner).0, 403);
    let (status, _, _) = page_post(&t, &path, &owner, &[("_csrf", &owner_csrf), ("body", "{}"), ("op", "review")]);
    assert_eq!(status, 403);
    assert_eq!(page_get(&t, "/admin/project-types/no-such-type", &admin).0, 404);

    // The page shows the published type as JSON; the administrator edits a limit and reviews the diff.
    let (status, html) = page_get(&t, &path, &admin);
    assert_eq!(status, 200);
    let published = t.app.catalog().latest_project_type(GENERAL).unwrap().body.clone();
    let mut revised = serde_json::to_value(&published).unwrap();
    revised["version"] = json!(0);
    revised["stages"][3]["limit_days"] = json!(18);
    let text = serde_json::to_string_pretty(&revised).unwrap();
    assert!(html.contains("修订工程建设项目类型"), "{html}");
    let before = t.events();
    let (status, _, _) = page_post(&t, &path, &admin, &[("_csrf", "forged"), ("body", &text), ("op", "publish")]);
    assert_eq!(status, 403, "a forged CSRF token");
    let (status, _, html) = page_post(&t, &path, &admin, &[("_csrf", &csrf), ("body", &text), ("op", "review")]);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-testid=\"diff\"") && html.contains("+ ") && html.contains("18"), "{html}");
    // Bad revisions are refused on the page, with nothing written.
    let bad = text.replacen("\"limit_days\": 18", "\"limit_days\": 0", 1);
    let renamed = text.replacen(GENERAL, "another-type", 1);
    for (name, body, op, reason, says) in [
        ("not JSON", "{", "review", "", "内容格式有误"),
        ("a changed code", renamed.as_str(), "review", "", "项目类型编码不能修改"),
        ("no reason", text.as_str(), "publish", " ", "请填写修订理由"),
        ("a stage without a limit", bad.as_str(), "publish", "r", "needs items and a limit"),
    ] {
        let (status, _, html) =
            page_post(&t, &path, &admin, &[("_csrf", &csrf), ("body", body), ("op", op), ("reason", reason)]);
        assert_eq!(status, 422, "{name}");
        assert!(html.contains(says), "{name}: {html}");
    }
    assert_eq!(t.events(), before, "nothing published");

    // Published with a reason: version 2, and the list shows it.
    let (status, loc, _) = page_post(
        &t,
        &path,
        &admin,
        &[("_csrf", &csrf), ("body", &text), ("op", "publish"), ("reason", "竣工验收阶段压缩")],
    );
    assert_eq!((status, loc.as_str()), (303, "/me/projects"));
    let latest = t.app.catalog().latest_project_type(GENERAL).cloned().unwrap();
    assert_eq!((latest.version, latest.body.stages[3].limit_days), (2, 18));
    assert_eq!((latest.published_by.as_str(), latest.reason.as_str()), ("admin", "竣工验收阶段压缩"));
    let (_, html) = page_get(&t, "/me/projects", &owner);
    assert!(html.contains("第 2 版") && html.contains("18 个工作日"), "{html}");
}
