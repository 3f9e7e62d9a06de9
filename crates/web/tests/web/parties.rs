//! Applicants as persons and organisations, verification of organisations, agents and their scope.

use super::*;

#[test]
fn persons_organisations_and_agents() {
    each_backend(|t| {
        // A person registers; the ID number is sealed, one account per number.
        let reg = json!({"username": "wangwu", "password": "a-long-password", "name": "王五", "resident_id": "640106200201010010", "phone": "13700000000"});
        let bad_id = t.post(
            "/api/v1/register",
            None,
            &json!({"username": "x1", "password": "a-long-password", "name": "x", "resident_id": "640106200201010018"}),
        );
        assert_eq!(bad_id.body["code"], "invalid_resident_id");
        let r = t.post("/api/v1/register", None, &reg);
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["id_number"], "640106********0010");
        let mut again = reg.clone();
        again["username"] = json!("wangwu2");
        assert_eq!(t.post("/api/v1/register", None, &again).body["code"], "person_exists");
        assert!(!contains(&raw_database(&t.url), "640106200201010010"), "{}: sealed at rest", t.backend);
        let wangwu = t
            .post("/api/v1/sessions", None, &json!({"username": "wangwu", "password": "a-long-password"}))
            .body["token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(t.get("/api/v1/me/profile", Some(&wangwu)).body["phone"], "137****0000");

        // The demo organisation: company (李四) is its legal representative, citizen its agent.
        let citizen = t.login("citizen");
        let company = t.login("company");
        let me = t.get("/api/v1/me", Some(&citizen));
        assert_eq!(me.body["acts_for"], json!(["91110000600037341L"]));
        let code = t.item_code("食品经营许可");
        let mut sub = submission(t, &code, "online");
        sub["applicant"] =
            json!({"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"});
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!(r.status, 201, "the agent applies for the organisation: {:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        assert_eq!(t.get(&format!("/api/v1/cases/{no}"), Some(&company)).status, 200, "the representative sees it");
        assert_eq!(t.get("/api/v1/cases", Some(&company)).body["total"], 1);
        // Someone who does not act for the organisation can neither apply for it nor see its cases.
        assert_eq!(t.post("/api/v1/cases", Some(&wangwu), &sub).status, 403);
        assert_eq!(t.get(&format!("/api/v1/cases/{no}"), Some(&wangwu)).status, 404);
        // Only the representative authorises; others get "not found".
        assert_eq!(
            t.post(
                "/api/v1/organisations/91110000600037341L/agents",
                Some(&wangwu),
                &json!({"agent": "wangwu", "scope": ["apply"]})
            )
            .status,
            404
        );
        // The representative revokes the agent: the agent loses the organisation's cases.
        assert_eq!(
            t.call("DELETE", "/api/v1/organisations/91110000600037341L/agents/citizen", Some(&company), None, &[])
                .status,
            204
        );
        assert_eq!(t.get(&format!("/api/v1/cases/{no}"), Some(&citizen)).status, 404);
        assert_eq!(t.post("/api/v1/cases", Some(&citizen), &sub).status, 403);
        // A new organisation, registered by its own representative only.
        let org = json!({"uscc": "91640100MA76543210", "name": "银川五号商店", "legal_representative_id": "640106200201010010"});
        let org_code =
            format!("91640100MA7654321{}", oneseal_domain::ids::Uscc::check_char("91640100MA7654321").unwrap());
        let mut org = org;
        org["uscc"] = json!(org_code);
        assert_eq!(t.post("/api/v1/organisations", Some(&citizen), &org).status, 403, "not citizen's ID");
        // No business licence of the bureau names 王五 for this USCC: the claim waits for a window clerk.
        let r = t.post("/api/v1/organisations", Some(&wangwu), &org);
        assert_eq!((r.status, r.body["status"].as_str()), (202, Some("pending")), "{:?}", r.body);
        assert_eq!(t.get("/api/v1/me", Some(&wangwu)).body["acts_for"], json!([]), "a pending claim acts for nobody");
        let grant = json!({"agent": "citizen", "scope": ["apply", "follow"], "days": 30});
        let r = t.post(&format!("/api/v1/organisations/{org_code}/agents"), Some(&wangwu), &grant);
        assert_eq!(r.body["code"], "organisation_pending", "{:?}", r.body);
        let r = t.post("/api/v1/organisations", Some(&citizen), &org);
        assert_eq!(r.status, 403, "not citizen's ID, even while pending: {:?}", r.body);
        let clerk = t.login("clerk");
        let pending = t.get("/api/v1/organisations/pending", Some(&clerk));
        assert_eq!(pending.body["items"][0]["uscc"], json!(org_code), "{:?}", pending.body);
        assert_eq!(t.get("/api/v1/organisations/pending", Some(&wangwu)).status, 403);
        let verify = json!({"documents": "营业执照原件、法定代表人身份证"});
        let path = format!("/api/v1/organisations/{org_code}/verification");
        assert_eq!(t.post(&path, Some(&wangwu), &verify).status, 403, "the claimant does not verify their own claim");
        assert_eq!(t.post(&path, Some(&clerk), &json!({"documents": " "})).body["code"], "invalid_documents");
        let r = t.post(&path, Some(&clerk), &verify);
        assert_eq!((r.status, r.body["verified_by"].as_str()), (200, Some("clerk")), "{:?}", r.body);
        let r = t.post(
            &format!("/api/v1/organisations/{org_code}/agents"),
            Some(&wangwu),
            &json!({"agent": "citizen", "scope": ["apply", "follow"], "days": 30}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let evs = t.app.store.read_blocking(move |db| db.read_stream(&format!("org-{org_code}"))).unwrap();
        assert_eq!(
            evs.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(),
            vec!["organisation_registered", "organisation_verified", "agent_authorised"]
        );
    });
}

#[test]
fn departments_posts_and_agent_scopes() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let admin = t.login("admin");
    // A new bureau section is published as a new version; a department still in use cannot be removed.
    let mut deps = serde_json::to_value(&t.app.catalog().departments).unwrap();
    let body = format!("11640100MB9609999{}", oneseal_domain::ids::Uscc::check_char("11640100MB9609999").unwrap());
    deps.as_array_mut().unwrap().push(json!({"id": "bureau-pilot", "name": "银川市审批服务局试点科", "name_en": "Pilot section", "uscc": body, "bureau_section": true}));
    let r = t.call(
        "PUT",
        "/api/v1/departments",
        Some(&admin),
        Some(&json!({"departments": deps, "reason": "新设试点科"})),
        &[],
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["version"], 2);
    let used = json!({"departments": [deps[0].clone()], "reason": "删掉其他"});
    let r = t.call("PUT", "/api/v1/departments", Some(&admin), Some(&used), &[]);
    assert_eq!((r.status, r.body["code"].as_str()), (422, Some("catalog_invalid")), "{:?}", r.body);
    // The new section has staff at once.
    let r = t.post("/api/v1/staff", Some(&admin), &json!({"username": "pilot-clerk", "display_name": "试点窗口", "password": "a-long-password-2", "roles": ["window_clerk"], "department": "bureau-pilot"}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    // Posting a clerk to a bank branch window: the clerk's applications are recorded there.
    let r = t.call(
        "PUT",
        "/api/v1/staff/pilot-clerk/post",
        Some(&admin),
        Some(&json!({"service_point": "建设银行兴庆支行", "window": "3号窗口"})),
        &[],
    );
    assert_eq!((r.status, r.body["window"].as_str()), (200, Some("3号窗口")), "{:?}", r.body);
    let clerk = t
        .post("/api/v1/sessions", None, &json!({"username": "pilot-clerk", "password": "a-long-password-2"}))
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let code = t.item_code("营业执照遗失补领");
    let mut sub = submission(&t, &code, "bank");
    sub.as_object_mut().unwrap().remove("service_point");
    let r = t.post("/api/v1/cases", Some(&clerk), &sub);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let c = t.get(&format!("/api/v1/cases/{}", r.body["case_no"].as_str().unwrap()), Some(&clerk));
    assert_eq!(c.body["service_point"], "建设银行兴庆支行");
    // An agent authorised only to follow cannot apply for the organisation.
    let company = t.login("company");
    let r = t.post(
        "/api/v1/organisations/91110000600037341L/agents",
        Some(&company),
        &json!({"agent": "citizen", "scope": ["follow"], "days": 30}),
    );
    assert_eq!(r.status, 201);
    let citizen = t.login("citizen");
    let mut sub = submission(&t, &t.item_code("食品经营许可"), "online");
    sub["applicant"] =
        json!({"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"});
    let r = t.post("/api/v1/cases", Some(&citizen), &sub);
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("follow"));
    assert_eq!(t.post("/api/v1/cases", Some(&company), &sub).status, 201, "the representative applies");
}

#[test]
fn applicants_act_only_as_themselves_their_verified_organisations_and_within_their_scope() {
    each_backend(|t| {
        let clerk = t.login("clerk");
        let total = |t: &TestApp| t.get("/api/v1/cases", Some(&clerk)).body["total"].as_i64().unwrap();
        let before = total(t);
        // §3: a signed-in person applies only as themself.
        let citizen = t.login("citizen");
        let food = t.item_code("食品经营许可");
        let mut sub = submission(t, &food, "online");
        sub["applicant"] = json!({"kind": "person", "name": "王五", "id_number": "11010519491231002X"});
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!(r.status, 403, "{}: applying as someone else: {:?}", t.backend, r.body);
        sub["applicant"] = json!({"kind": "person", "name": "王五", "id_number": "64010420050101001X"});
        assert_eq!(t.post("/api/v1/cases", Some(&citizen), &sub).body["code"], "invalid_applicant", "another name");
        assert_eq!(total(t), before, "nothing written");
        // A walk-in is entered by a window clerk with the ID card the clerk saw.
        let mut walk_in = submission(t, &food, "window");
        walk_in["applicant"] = json!({"kind": "person", "name": "王五", "id_number": "11010519491231002X"});
        assert_eq!(t.post("/api/v1/cases", Some(&clerk), &walk_in).status, 201);

        // §4: an organisation is verified against the bureau's own business licence (USCC + legal representative).
        let zhao = register_person(t, "zhaoliu", "赵六", "640106200201010010");
        let uscc = uscc_with("91640100MA7000001");
        let change = t.item_code("公司变更登记");
        // The company's change of registration is handled at a window, where the clerk saw its documents.
        let mut sub = submission(t, &change, "window");
        sub["applicant"] = json!({"kind": "organisation", "name": "银川赵六商贸有限公司", "id_number": uscc});
        sub["form"]["uscc"] = json!(uscc);
        sub["form"]["legal_representative"] = json!("赵六");
        sub["form"]["legal_representative_id"] = json!("640106200201010010");
        let r = t.post("/api/v1/cases", Some(&clerk), &sub);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        t.act(&clerk, &no, "accept", json!({}));
        let done = drive_to_completion(t, &no);
        assert_eq!(done["status"], "completed");
        // Someone else claiming it with their own ID: pending, never acting for it.
        let qian = register_person(t, "qianqi", "钱七", "11010519491231002X");
        let claim = |id: &str| json!({"uscc": uscc, "name": "银川赵六商贸有限公司", "legal_representative_id": id});
        let r = t.post("/api/v1/organisations", Some(&qian), &claim("11010519491231002X"));
        assert_eq!((r.status, r.body["status"].as_str()), (202, Some("pending")), "{:?}", r.body);
        let mut as_org = submission(t, &food, "online");
        as_org["applicant"] = json!({"kind": "organisation", "name": "银川赵六商贸有限公司", "id_number": uscc});
        assert_eq!(t.post("/api/v1/cases", Some(&qian), &as_org).status, 403, "a pending claim applies for nobody");
        // The real representative, named by the licence, is verified at once and displaces the pending claim.
        let r = t.post("/api/v1/organisations", Some(&zhao), &claim("640106200201010010"));
        assert_eq!((r.status, r.body["status"].as_str()), (201, Some("verified")), "{:?}", r.body);
        assert!(r.body["verified_by"].as_str().unwrap().starts_with("license:1.2.156.3005.2."), "{:?}", r.body);
        assert_eq!(t.get("/api/v1/me", Some(&zhao)).body["acts_for"], json!([uscc]));
        assert_eq!(t.get("/api/v1/me", Some(&qian)).body["acts_for"], json!([]));
        let r = t.post("/api/v1/organisations", Some(&qian), &claim("11010519491231002X"));
        assert_eq!(r.body["code"], "organisation_exists");

        // §5: an agent authorised only to follow sees the organisation's cases and acts on none of them.
        let company = t.login("company");
        let r = t.post(
            "/api/v1/organisations/91110000600037341L/agents",
            Some(&company),
            &json!({"agent": "citizen", "scope": ["follow"], "days": 30}),
        );
        assert_eq!(r.status, 201);
        let (_, _, org_case) = accepted_company_case(t);
        let citizen = t.login("citizen");
        let me = t.get("/api/v1/me", Some(&citizen));
        assert_eq!(
            (me.body["acts_for"].clone(), me.body["follows"].clone()),
            (json!([]), json!(["91110000600037341L"]))
        );
        assert_eq!(t.get(&format!("/api/v1/cases/{org_case}"), Some(&citizen)).status, 200, "follows");
        let r = t.act(&citizen, &org_case, "withdraw", json!({"reason": "不想办了"}));
        assert_eq!(r.status, 403, "withdrawing is the applicant's power: {:?}", r.body);
        let c = t.get(&format!("/api/v1/cases/{org_case}"), Some(&company));
        assert_ne!(c.body["status"], "withdrawn");
        let done = drive_to_completion(t, &org_case);
        let identifier = first_licence(&done);
        let consents = format!("/api/v1/me/licenses/{identifier}/consents");
        assert_eq!(t.get(&consents, Some(&citizen)).status, 200, "a follower sees the consents");
        let grant = json!({"department": "market", "purpose": "食品经营监督检查", "days": 7});
        assert_eq!(t.post(&consents, Some(&citizen), &grant).status, 404, "and grants none");
        assert_eq!(t.post(&consents, Some(&company), &grant).status, 201, "the representative does");
    });
}
