//! Electronic licences: issuance, verification, consent, reuse for materials, the transparency log, PDFs, uploads.

use super::*;

#[test]
fn concurrent_licence_issuance_issues_once() {
    // Signing happens outside the writer; two clerks pressing 发证 at once must still give one set of licences.
    each_backend(|t| {
        let (_company, clerk, no) = accepted_company_case(t);
        let at = drive_until(t, &no, Some("license_issuance"));
        assert_eq!(at["current_step"]["kind"], "license_issuance", "{at}");
        let task = at["current_step"]["tasks"].as_array().unwrap().iter().find(|x| x["status"] == "open").unwrap();
        let user = format!("{}-clerk", task["department"].as_str().unwrap());
        let tokens: Vec<String> = (0..4).map(|_| t.login(&user)).collect();
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let hs: Vec<_> =
                tokens.iter().map(|tok| s.spawn(|| t.act(tok, &no, "issue-licenses", json!({})).status)).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{}: {statuses:?}", t.backend);
        assert!(statuses.iter().all(|s| [200, 409, 422].contains(s)), "{}: {statuses:?}", t.backend);
        let case_no = no.clone();
        let rows = t.app.store.read_blocking(move |db| db.licenses_of_case(&case_no)).unwrap();
        let after = t.get(&format!("/api/v1/cases/{no}"), Some(&clerk));
        let listed: Vec<&str> = after.body["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l.as_str())
            .filter(|l| l.starts_with("1.2.156.3005.2."))
            .collect();
        assert!(!listed.is_empty(), "{}", after.body);
        assert_eq!(rows.len(), listed.len(), "{}: one licence row per listed licence", t.backend);
        for row in &rows {
            assert!(listed.contains(&row.identifier.as_str()), "{} not on the case", row.identifier);
        }
    });
}

#[test]
fn departments_fetch_a_licence_only_with_the_holders_consent() {
    // 授权用证: the regulator (market) may fetch the full record only under the holder's active consent; every
    // fetch is shown to the holder; withdrawing the consent ends it.
    each_backend(|t| {
        let (company, _clerk, no) = accepted_company_case(t);
        let done = drive_to_completion(t, &no);
        let identifier = first_licence(&done);
        let regulator = t.login("regulator");
        let full = format!("/api/v1/licenses/{identifier}/full");
        let consents = format!("/api/v1/me/licenses/{identifier}/consents");
        let r = t.get(&full, Some(&regulator));
        assert_eq!(r.status, 403, "{}: no consent yet: {:?}", t.backend, r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("consent"), "{:?}", r.body);
        // Only the holder grants; someone else's licence is "not found".
        let citizen_only = t.login("bureau-market-reviewer");
        let body = json!({"department": "market", "purpose": "食品经营监督检查", "days": 7});
        assert_eq!(t.post(&consents, Some(&citizen_only), &body).status, 404);
        for (bad, code) in [
            (json!({"department": "market", "purpose": " "}), "purpose_required"),
            (json!({"department": "market", "purpose": "检查", "days": 0}), "consent_days_out_of_range"),
            (json!({"department": "nowhere", "purpose": "检查"}), "unknown_department"),
        ] {
            let r = t.post(&consents, Some(&company), &bad);
            assert_eq!((r.status, r.body["code"].as_str()), (422, Some(code)), "{bad}: {:?}", r.body);
        }
        assert_eq!(
            t.get(&consents, Some(&company)).body["consents"].as_array().unwrap().len(),
            0,
            "bad input wrote nothing"
        );
        let r = t.post(&consents, Some(&company), &body);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let consent_id = r.body["consent_id"].as_str().unwrap().to_string();
        assert_eq!(r.body["active"], true);
        // Another department's consent does not open it for the regulator's department, and the reverse.
        let other = t.login("bureau-economy-chief");
        assert_eq!(t.get(&full, Some(&other)).status, 403);
        let r = t.get(&full, Some(&regulator));
        assert_eq!(r.status, 200, "{}: {:?}", t.backend, r.body);
        assert_eq!(r.body["holder_code"], "91110000600037341L");
        assert_eq!(r.body["public"]["holder"], "银川塞上餐饮有限公司");
        assert_eq!(r.body["consent"]["consent_id"], consent_id.as_str());
        assert!(r.body["fields"].as_object().unwrap().values().all(|v| !v.as_str().unwrap().starts_with("pd1:")));
        // The holder sees who fetched it, when and why.
        let rec = t.get(&consents, Some(&company));
        assert_eq!(rec.status, 200);
        let accesses = rec.body["accesses"].as_array().unwrap();
        assert_eq!(accesses.len(), 1, "{:?}", rec.body);
        assert_eq!(accesses[0]["department"], "market");
        assert_eq!(accesses[0]["purpose"], "食品经营监督检查");
        // An API token never fetches personal data, even with a consent.
        let tok = t.post("/api/v1/tokens", Some(&regulator), &json!({"name": "监管系统", "scopes": ["read"]}));
        assert_eq!(tok.status, 201, "{:?}", tok.body);
        assert_eq!(t.get(&full, tok.body["token"].as_str()).status, 403);
        // Withdrawn: the next fetch is refused and not recorded.
        let revoke = format!("{consents}/{consent_id}/revoke");
        let r = t.post(&revoke, Some(&company), &json!({}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["consents"][0]["active"], false);
        assert_eq!(t.post(&revoke, Some(&company), &json!({})).body["code"], "consent_already_revoked");
        assert_eq!(t.get(&full, Some(&regulator)).status, 403);
        assert_eq!(t.get(&consents, Some(&company)).body["accesses"].as_array().unwrap().len(), 1);
        // A consent expires by itself.
        let r = t.post(&consents, Some(&company), &json!({"department": "market", "purpose": "年报抽查", "days": 1}));
        assert_eq!(r.status, 201);
        assert_eq!(t.get(&full, Some(&regulator)).status, 200);
        t.clock.set(t.app.now() + time::Duration::days(2));
        let regulator = t.login("regulator"); // sessions also expire
        assert_eq!(t.get(&full, Some(&regulator)).status, 403, "{}: expired", t.backend);
        assert_eq!(t.get(&consents, Some(&t.login("company"))).body["consents"][1]["active"], false);
        // Consents and fetches are events on the licence's stream that change no projection row.
        assert_rebuild_identical(t);
    });
}

#[test]
fn malformed_licence_identifiers_get_the_same_answers_as_before() {
    // Licence identifiers are parsed at the edge and taken only as formatted: anything else is an unknown licence
    // (404 not_found), answered after the body's own checks (a reason, the consent's terms) as before.
    each_backend(|t| {
        let company = t.login("company");
        let chief = t.login("market-chief");
        let regulator = t.login("regulator");
        let before = t.events();
        let expect = |r: Resp, status: u16, code: &str, what: &str| {
            assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{what}: {:?}", r.body);
        };
        let issuer = oneseal_domain::ids::Uscc::parse("91110000600037341L").unwrap();
        let good = oneseal_domain::license::LicenseIdentifier::new("11100000000013338W032", &issuer, "0000001", 1)
            .unwrap()
            .to_string();
        let wrong_check = format!("{}{}", &good[..good.len() - 1], if good.ends_with('0') { '1' } else { '0' });
        let unknown = good.clone();
        for bad in ["1.2.3", "not-a-licence", &wrong_check, &good.to_lowercase(), &format!("%20{good}"), &unknown] {
            expect(t.get(&format!("/api/v1/licenses/{bad}"), None), 404, "not_found", bad);
            expect(t.get(&format!("/api/v1/licenses/{bad}/full"), Some(&regulator)), 404, "not_found", bad);
            expect(t.get(&format!("/api/v1/me/licenses/{bad}/pdf"), Some(&company)), 404, "not_found", bad);
            expect(t.get(&format!("/api/v1/me/licenses/{bad}/consents"), Some(&company)), 404, "not_found", bad);
            let consent = json!({"department": "market", "purpose": "检查", "days": 7});
            let consents = format!("/api/v1/me/licenses/{bad}/consents");
            expect(t.post(&consents, Some(&company), &consent), 404, "not_found", bad);
            expect(t.post(&format!("{consents}/c-1/revoke"), Some(&company), &json!({})), 404, "not_found", bad);
            let reason = json!({"reason": "撤销"});
            for action in ["revoke", "cancel"] {
                let path = format!("/api/v1/licenses/{bad}/{action}");
                expect(t.post(&path, Some(&chief), &reason), 404, "not_found", bad);
                expect(t.post(&path, Some(&chief), &json!({"reason": " "})), 422, "reason_required", bad);
            }
            let amend = format!("/api/v1/licenses/{bad}/amend");
            expect(
                t.post(&amend, Some(&chief), &json!({"fields": {"x": "y"}, "reason": "变更"})),
                404,
                "not_found",
                bad,
            );
            expect(t.post(&amend, Some(&chief), &json!({"fields": {}, "reason": "变更"})), 422, "reason_required", bad);
            // The consent's terms are checked first, malformed identifier or not.
            for (body, code) in [
                (json!({"department": "market", "purpose": " "}), "purpose_required"),
                (json!({"department": "market", "purpose": "检查", "days": 0}), "consent_days_out_of_range"),
                (json!({"department": "nowhere", "purpose": "检查"}), "unknown_department"),
            ] {
                expect(t.post(&consents, Some(&company), &body), 422, code, bad);
            }
        }
        // The short URL still opens the verification page on whatever it was given (which says what is wrong).
        assert_eq!(t.get(&format!("/v/{wrong_check}"), None).status, 422);
        assert_eq!(t.events(), before, "nothing is written for a malformed identifier");
    });
}

#[test]
fn licences_are_sealed_verifiable_and_revocable() {
    each_backend(|t| {
        let (company, clerk, no) = accepted_company_case(t);
        let done = drive_to_completion(t, &no);
        let identifier = first_licence(&done);
        assert!(oneseal_domain::license::LicenseIdentifier::parse(&identifier).is_ok());
        // The public record: the signed bytes verify with OpenSSL under the published key.
        let lic = t.get(&format!("/api/v1/licenses/{identifier}"), None);
        assert_eq!(lic.status, 200, "{:?}", lic.body);
        assert_eq!(lic.body["public"]["holder"], "银川塞上餐饮有限公司");
        assert_eq!(lic.body["public"]["license_name"], "食品经营许可证");
        let keys = t.get("/.well-known/oneseal/keys", None);
        let pem = keys.body["keys"].as_array().unwrap().iter().find(|k| k["key_id"] == lic.body["key_id"]).unwrap()
            ["public_pem"]
            .as_str()
            .unwrap()
            .to_string();
        let dir = std::env::temp_dir().join(format!("oneseal-lic-{}-{}", std::process::id(), t.backend));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pub.pem"), &pem).unwrap();
        std::fs::write(dir.join("msg"), lic.body["signed_payload"].as_str().unwrap()).unwrap();
        let sig: Vec<u8> = (0..lic.body["signature_der_hex"].as_str().unwrap().len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&lic.body["signature_der_hex"].as_str().unwrap()[i..i + 2], 16).unwrap())
            .collect();
        std::fs::write(dir.join("sig.der"), sig).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey"])
            .arg(dir.join("pub.pem"))
            .arg("-in")
            .arg(dir.join("msg"))
            .arg("-sigfile")
            .arg(dir.join("sig.der"))
            .args(["-pkeyopt", "distid:1234567812345678"])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"), "{out:?}");
        // Verification without login: from the QR and from the identifier.
        let qr = lic.body["qr"].as_str().unwrap().to_string();
        assert_eq!(t.post("/api/v1/verify", None, &json!({"input": qr})).body["status"], "valid");
        assert_eq!(t.post("/api/v1/verify", None, &json!({"input": identifier})).body["status"], "valid");
        let tampered = format!("{}{}", &qr[..qr.len() - 4], if qr.ends_with("AAAA") { "BBBB" } else { "AAAA" });
        assert_eq!(t.post("/api/v1/verify", None, &json!({"input": tampered})).body["status"], "bad_signature");
        let other = oneseal_domain::license::LicenseIdentifier::new(
            "11100000000013338W032",
            &oneseal_domain::ids::Uscc::parse("91110000600037341L").unwrap(),
            "9999999",
            1,
        )
        .unwrap();
        assert_eq!(t.post("/api/v1/verify", None, &json!({"input": other.to_string()})).body["status"], "unknown");
        assert_eq!(t.post("/api/v1/verify", None, &json!({"input": "1.2.156.3005.2.nonsense"})).status, 422);
        // The holder finds it among their licences.
        let mine = t.get("/api/v1/me/licenses", Some(&company));
        assert!(mine.body["licenses"].as_array().unwrap().iter().any(|l| l["identifier"] == identifier.as_str()));
        // 双公示: the organisation's licensing decision is public, without personal data.
        let disc = t.get(&format!("/api/v1/disclosures?q={}", urlencode("塞上")), None);
        assert!(
            disc.body["disclosures"].as_array().unwrap().iter().any(|d| d["identifier"] == identifier.as_str()),
            "{:?}",
            disc.body
        );
        // 变更: a new version; the old one verifies as amended and names it.
        let dept_chief = format!("{}-chief", done["department"].as_str().unwrap());
        let chief = t.login(&dept_chief);
        let first_field = lic.body["public"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| "food_business_items".into());
        // An approver of another department may neither amend nor revoke it (issue 13 §1): refused, nothing written.
        let other = t.login("tax-chief");
        let events = t.events();
        let r = t.post(
            &format!("/api/v1/licenses/{identifier}/amend"),
            Some(&other),
            &json!({"fields": {first_field.clone(): "篡改"}, "reason": "越权"}),
        );
        assert_eq!(r.status, 403, "{:?}", r.body);
        let r = t.post(&format!("/api/v1/licenses/{identifier}/revoke"), Some(&other), &json!({"reason": "越权"}));
        assert_eq!(r.status, 403, "{:?}", r.body);
        let r = t.post(&format!("/api/v1/licenses/{identifier}/cancel"), Some(&other), &json!({"reason": "越权"}));
        assert_eq!(r.status, 403, "{:?}", r.body);
        assert_eq!(t.events(), events, "nothing written");
        let r = t.post(
            &format!("/api/v1/licenses/{identifier}/amend"),
            Some(&chief),
            &json!({"fields": {first_field.clone(): "变更后的内容"}, "reason": "经营项目变更"}),
        );
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("valid")), "{:?}", r.body);
        let amended = r.body["identifier"].as_str().unwrap().to_string();
        assert!(amended.contains(".002."), "{amended}");
        let old = t.post("/api/v1/verify", None, &json!({"input": identifier}));
        assert_eq!(
            (old.body["status"].as_str(), old.body["superseded_by"].as_str()),
            (Some("amended"), Some(amended.as_str()))
        );
        assert_eq!(
            t.post("/api/v1/verify", None, &json!({"input": qr})).body["status"],
            "amended",
            "the old QR says amended"
        );
        let identifier = amended;
        let lic = t.get(&format!("/api/v1/licenses/{identifier}"), None);
        let qr = lic.body["qr"].as_str().unwrap().to_string();
        // Revocation with a reason by an approver: the verdict and the status list change.
        let dept_chief = format!("{}-chief", done["department"].as_str().unwrap());
        let chief = t.login(&dept_chief);
        assert_eq!(
            t.post(&format!("/api/v1/licenses/{identifier}/revoke"), Some(&clerk), &json!({"reason": "x"})).status,
            403
        );
        let r = t.post(
            &format!("/api/v1/licenses/{identifier}/revoke"),
            Some(&chief),
            &json!({"reason": "以欺骗手段取得许可"}),
        );
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("revoked")), "{:?}", r.body);
        assert_eq!(t.post("/api/v1/verify", None, &json!({"input": qr})).body["status"], "revoked");
        let list = t.get("/api/v1/status-lists/1", None);
        let enc = list.body["credentialSubject"]["encodedList"].as_str().unwrap();
        use base64::Engine;
        let gz = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(enc.strip_prefix('u').unwrap()).unwrap();
        let mut bits = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut bits).unwrap();
        assert_eq!(bits.len() * 8, 131_072);
        let index = lic.body["status_index"].as_u64().unwrap() as usize;
        assert_ne!(bits[index / 8] & (0x80 >> (index % 8)), 0, "the revoked licence's bit is set");
        assert_eq!(bits.iter().map(|b| b.count_ones()).sum::<u32>(), 1);
        // Issued, amended (the old version superseded) and revoked licences rebuild identically.
        assert_rebuild_identical(t);
    });
}

#[test]
fn a_cancelled_licence_stays_cancelled_after_a_rebuild() {
    each_backend(|t| {
        let (_, _, no) = accepted_company_case(t);
        let done = drive_to_completion(t, &no);
        let identifier = first_licence(&done);
        let chief = t.login(&format!("{}-chief", done["department"].as_str().unwrap()));
        let cancel = format!("/api/v1/licenses/{identifier}/cancel");
        let r = t.post(&cancel, Some(&chief), &json!({"reason": "企业申请注销"}));
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("cancelled")), "{:?}", r.body);
        // Only a valid licence changes: a second cancellation is refused and writes nothing.
        let events = t.events();
        let r = t.post(&cancel, Some(&chief), &json!({"reason": "再次注销"}));
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("license_not_valid")), "{:?}", r.body);
        assert_eq!(t.events(), events);
        assert_rebuild_identical(t);
        let lic = t.get(&format!("/api/v1/licenses/{identifier}"), None);
        assert_eq!(lic.body["status"], "cancelled", "{:?}", lic.body);
    });
}

#[test]
fn a_licence_stands_for_a_material_and_fills_the_form() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let company = t.login("company");
    let org = json!({"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"});
    // The company is set up: its business licence is issued to the organisation.
    let code = t.item_code("公司设立登记");
    let mut sub = submission(&t, &code, "online");
    sub["applicant"] = org.clone();
    sub["form"]["enterprise_name"] = json!("银川塞上餐饮有限公司");
    let r = t.post("/api/v1/cases", Some(&company), &sub);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let no = r.body["case_no"].as_str().unwrap().to_string();
    let clerk = t.login("clerk");
    t.act(&clerk, &no, "accept", json!({}));
    drive_to_completion(&t, &no);
    let mine = t.get("/api/v1/me/licenses", Some(&company));
    assert!(
        mine.body["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["public"]["license_name"].as_str().unwrap_or_default().contains("营业执照")),
        "{:?}",
        mine.body
    );
    // Applying for the food licence: the business licence stands for the material, and the form takes its data.
    let food = t.item_code("食品经营许可");
    let mut sub = submission(&t, &food, "online");
    sub["applicant"] = org;
    sub["form"].as_object_mut().unwrap().remove("enterprise_name");
    let mats: Vec<Value> = sub["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["material_id"] != "business-license")
        .cloned()
        .collect();
    sub["materials"] = json!(mats);
    let r = t.post("/api/v1/cases", Some(&company), &sub);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let c = t.get(&format!("/api/v1/cases/{}", r.body["case_no"].as_str().unwrap()), Some(&company));
    let m = c.body["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["material_id"] == "business-license")
        .cloned()
        .expect("the material is satisfied by the licence");
    assert!(m["license"].as_str().unwrap().starts_with("1.2.156.3005.2."), "{m:?}");
    assert_eq!(c.body["form"]["enterprise_name"], "银川塞上餐饮有限公司", "filled from the licence");
    // Someone who does not act for the company gets nothing from its licences.
    let citizen = t.login("citizen");
    let company_rep = t.login("company");
    assert_eq!(
        t.call("DELETE", "/api/v1/organisations/91110000600037341L/agents/citizen", Some(&company_rep), None, &[])
            .status,
        204
    );
    let mut sub2 = submission(&t, &food, "online");
    sub2["form"].as_object_mut().unwrap().remove("enterprise_name");
    let r = t.post("/api/v1/cases", Some(&citizen), &sub2);
    assert_eq!(r.body["code"], "invalid_form", "no pre-filling from someone else's licence: {:?}", r.body);

    // A material "by licence" names a licence that exists, is valid, is of a type the material accepts and is held
    // by the applicant; anything else is refused and writes nothing.
    let business = m["license"].as_str().unwrap().to_string();
    let total = |t: &TestApp| t.get("/api/v1/cases", Some(&clerk)).body["total"].as_i64().unwrap();
    let before = total(&t);
    let cite = |sub: &Value, material: &str, licence: &str| {
        let mut sub = sub.clone();
        let mut mats: Vec<Value> =
            sub["materials"].as_array().unwrap().iter().filter(|x| x["material_id"] != material).cloned().collect();
        mats.push(json!({"material_id": material, "file_name": "电子证照", "license": licence}));
        sub["materials"] = json!(mats);
        sub
    };
    let mut own = submission(&t, &food, "online");
    own["applicant"] =
        json!({"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"});
    let r = t.post("/api/v1/cases", Some(&company), &cite(&own, "business-license", "bogus-licence-id"));
    assert_eq!((r.status, r.body["code"].as_str()), (422, Some("unknown_license")), "{:?}", r.body);
    let person = submission(&t, &food, "online");
    let r = t.post("/api/v1/cases", Some(&citizen), &cite(&person, "business-license", &business));
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("unknown_license")),
        "someone else's licence is as unknown as a made-up one: {:?}",
        r.body
    );
    let other_material = own["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["material_id"].as_str().unwrap().to_string())
        .find(|id| id != "business-license")
        .unwrap();
    let r = t.post("/api/v1/cases", Some(&company), &cite(&own, &other_material, &business));
    assert_eq!((r.status, r.body["code"].as_str()), (422, Some("license_type_not_accepted")), "{:?}", r.body);
    let chief = t.login("bureau-market-chief");
    let r =
        t.post(&format!("/api/v1/licenses/{business}/revoke"), Some(&chief), &json!({"reason": "以欺骗手段取得许可"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = t.post("/api/v1/cases", Some(&company), &cite(&own, "business-license", &business));
    assert_eq!((r.status, r.body["code"].as_str()), (422, Some("license_not_valid")), "{:?}", r.body);
    assert_eq!(total(&t), before, "no refused application was written");
}

#[test]
fn transparency_log_proves_and_audits_and_catches_tampering() {
    use base64::Engine;
    use oneseal_seal::merkle::{verify_consistency, verify_inclusion, TreeHash};
    let b64 =
        |s: &str| -> [u8; 32] { base64::engine::general_purpose::STANDARD.decode(s).unwrap().try_into().unwrap() };
    for (name, url) in oneseal_store::testing::backends() {
        let t = spawn_app(name, url);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let citizen = t.login("citizen");
        let code = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(&t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let admin = t.login("admin");
        let cp1 = t.call("POST", "/api/v1/transparency/checkpoint", Some(&admin), None, &[]);
        assert_eq!(cp1.status, 200, "{:?}", cp1.body);
        let note1 = cp1.body.as_str().unwrap().to_string();
        assert!(note1.starts_with("yinchuan.oneseal/transparency-log/sm3\n"), "{note1}");
        let size1: u64 = note1.lines().nth(1).unwrap().parse().unwrap();
        let root1 = b64(note1.lines().nth(2).unwrap());
        let clerk = t.login("clerk");
        t.act(&clerk, &no, "accept", json!({}));
        let note2 = t
            .call("POST", "/api/v1/transparency/checkpoint", Some(&admin), None, &[])
            .body
            .as_str()
            .unwrap()
            .to_string();
        let size2: u64 = note2.lines().nth(1).unwrap().parse().unwrap();
        let root2 = b64(note2.lines().nth(2).unwrap());
        assert!(size2 > size1);
        // Every event of the case is included in the latest checkpoint.
        let evs = t
            .app
            .store
            .read_blocking({
                let no = no.clone();
                move |db| db.read_stream(&format!("case-{no}"))
            })
            .unwrap();
        for e in &evs {
            let inc = t.get(&format!("/api/v1/transparency/inclusion?seq={}", e.seq), None);
            assert_eq!(inc.status, 200, "{:?}", inc.body);
            let proof: Vec<[u8; 32]> =
                inc.body["proof"].as_array().unwrap().iter().map(|p| b64(p.as_str().unwrap())).collect();
            let leaf = b64(inc.body["leaf_hash"].as_str().unwrap());
            let leaf_again = TreeHash::Sm3.leaf(&oneseal_store::leaf_bytes(
                e.seq,
                &e.stream_id,
                e.version,
                &e.event_type,
                e.schema_version,
                &e.actor,
                e.at_ms,
                &e.payload,
            ));
            assert_eq!(leaf, leaf_again, "{name}: the leaf is the event's canonical bytes");
            assert!(
                verify_inclusion(TreeHash::Sm3, &leaf, inc.body["leaf_index"].as_u64().unwrap(), size2, &proof, &root2),
                "{name}"
            );
        }
        // The second checkpoint extends the first.
        let c = t.get(&format!("/api/v1/transparency/consistency?old={size1}&new={size2}"), None);
        let proof: Vec<[u8; 32]> =
            c.body["proof"].as_array().unwrap().iter().map(|p| b64(p.as_str().unwrap())).collect();
        assert!(verify_consistency(TreeHash::Sm3, size1, size2, &root1, &root2, &proof), "{name}");
        assert!(rt.block_on(t.app.audit()).unwrap().problems.is_empty(), "{name}: an intact log audits clean");
        // An attacker with database access: alter a payload, reorder two events, delete one. Each is caught and located.
        let (a, b, c3) = (evs[0].seq, evs[1].seq, evs[2].seq);
        t.app.store.write_blocking(|db| db.testing_drop_append_only_guard()).unwrap();
        t.app
            .store
            .write_blocking(move |db| {
                db.exec_batch(&format!("UPDATE events SET payload = replace(payload, '张三', '李四') WHERE seq = {a}"))
            })
            .unwrap();
        let rep = rt.block_on(t.app.audit()).unwrap();
        assert!(
            rep.problems[0].contains(&format!("event seq {a}"))
                && rep.problems[0].contains(&format!("case-{no}"))
                && rep.problems[0].contains("altered"),
            "{name}: {:?}",
            rep.problems
        );
        // Undo the change, then swap two events (their content trades places).
        let (pb, pc) = (evs[1].clone(), evs[2].clone());
        let q = |x: &str| x.replace('\'', "''");
        t.app
            .store
            .write_blocking(move |db| {
                db.exec_batch(&format!(
                    "UPDATE events SET payload = replace(payload, '李四', '张三') WHERE seq = {a}; \
             UPDATE events SET type = '{}', payload = '{}', version = -1 WHERE seq = {b}; \
             UPDATE events SET type = '{}', payload = '{}', version = {} WHERE seq = {c3}; \
             UPDATE events SET version = {} WHERE seq = {b}",
                    q(&pc.event_type),
                    q(&pc.payload),
                    q(&pb.event_type),
                    q(&pb.payload),
                    pb.version,
                    pc.version
                ))
            })
            .unwrap();
        let rep = rt.block_on(t.app.audit()).unwrap();
        assert!(
            !rep.problems.iter().any(|p| p.contains(&format!("event seq {a}"))),
            "{name}: the undone change audits clean again: {:?}",
            rep.problems
        );
        assert!(
            rep.problems[0].contains(&format!("event seq {b}"))
                && rep.problems.iter().any(|p| p.contains(&format!("event seq {c3}"))),
            "{name}: {:?}",
            rep.problems
        );
        t.app.store.write_blocking(move |db| db.exec_batch(&format!("DELETE FROM events WHERE seq = {c3}"))).unwrap();
        let rep = rt.block_on(t.app.audit()).unwrap();
        assert!(
            rep.problems.iter().any(|p| p.contains(&format!("event seq {c3} was deleted"))),
            "{name}: {:?}",
            rep.problems
        );
    }
}

#[test]
fn holders_download_licence_pdfs_that_poppler_reads_zbar_scans_and_verify_accepts() {
    each_backend(|t| {
        let (company, _clerk, no) = accepted_company_case(t);
        let done = drive_to_completion(t, &no);
        let identifier = first_licence(&done);
        let lic = t.get(&format!("/api/v1/licenses/{identifier}"), None);
        let qr = lic.body["qr"].as_str().unwrap().to_string();
        let path = format!("/api/v1/me/licenses/{identifier}/pdf");
        let (status, pdf, disposition) = bytes_call(t, &path, Some(&company), None);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(disposition.is_some_and(|d| d.starts_with("attachment; filename=")));
        let (_, again, _) = bytes_call(t, &path, Some(&company), None);
        assert_eq!(pdf, again, "the same licence renders the same bytes");

        let (file, text, squeezed) = pdf_sample(&format!("food-licence-{}", t.backend), &pdf);
        let number = lic.body["public"]["number"].as_str().unwrap().to_string();
        for want in ["食品经营许可证", number.as_str(), "91110000600037341L", "银川市审批服务局", "扫码核验"]
        {
            assert!(squeezed.contains(want), "pdftotext lacks {want}:\n{text}");
        }
        let png = file.with_extension("");
        run_tool(
            "pdftoppm",
            &[
                "-r".as_ref(),
                "150".as_ref(),
                "-png".as_ref(),
                "-singlefile".as_ref(),
                file.as_os_str(),
                png.as_os_str(),
            ],
        );
        let scanned = run_tool("zbarimg", &["--raw".as_ref(), "-q".as_ref(), png.with_extension("png").as_os_str()]);
        assert_eq!(scanned.trim(), qr, "the printed QR code scans to the licence's QR text");

        // Anyone verifies the PDF without signing in.
        let (status, body, _) = bytes_call(t, "/api/v1/verify/pdf", None, Some(&pdf));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, v["status"].as_str()), (200, Some("valid")), "{v}");
        assert_eq!(v["public"]["holder"], "银川塞上餐饮有限公司");
        // Not a PDF, or a PDF without a licence: a clear 422, nothing else.
        let (status, body, _) = bytes_call(t, "/api/v1/verify/pdf", None, Some(b"hello"));
        assert_eq!(
            (status, serde_json::from_slice::<Value>(&body).unwrap()["code"].clone()),
            (422, json!("not_a_pdf"))
        );
        let (status, body, _) = bytes_call(t, "/api/v1/verify/pdf", None, Some(b"%PDF-1.7\n%%EOF"));
        assert_eq!(
            (status, serde_json::from_slice::<Value>(&body).unwrap()["code"].clone()),
            (422, json!("pdf_without_license"))
        );
        // Someone else's licence is "not found"; signing in is required.
        // (`citizen` is the company's agent in the demo, so a newly registered person stands in for a stranger.)
        let reg = json!({"username": "stranger", "password": "a-long-password", "name": "路人甲", "resident_id": "640106200201010010"});
        assert_eq!(t.post("/api/v1/register", None, &reg).status, 201);
        let stranger = t
            .post("/api/v1/sessions", None, &json!({"username": "stranger", "password": "a-long-password"}))
            .body["token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(bytes_call(t, &path, Some(&stranger), None).0, 404);
        let agent = t.login("citizen");
        assert_eq!(bytes_call(t, &path, Some(&agent), None).0, 200, "the company's agent prints its licence");
        assert_eq!(bytes_call(t, &path, None, None).0, 401);
        // A revoked licence: the old PDF verifies as revoked, and no new PDF is printed.
        let chief = t.login(&format!("{}-chief", done["department"].as_str().unwrap()));
        let r = t.post(&format!("/api/v1/licenses/{identifier}/revoke"), Some(&chief), &json!({"reason": "撤销测试"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let (_, body, _) = bytes_call(t, "/api/v1/verify/pdf", None, Some(&pdf));
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["status"], "revoked");
        let (status, body, _) = bytes_call(t, &path, Some(&company), None);
        assert_eq!(
            (status, serde_json::from_slice::<Value>(&body).unwrap()["code"].clone()),
            (422, json!("license_not_valid"))
        );
    });
}

#[test]
fn uploaded_materials_are_checked_sealed_bound_to_the_case_and_readable_only_by_those_who_may() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let pdf = b"%PDF-1.7\n% a scanned ID card 640104200501010010\n%%EOF".to_vec();
        let (status, a) = upload(t, &citizen, "身份证.pdf", &pdf);
        assert_eq!(status, 201, "{a}");
        assert_eq!(a["content_type"], "application/pdf");
        assert_eq!(a["file_name"], "身份证.pdf");
        // Sealed at rest: the file's bytes are not in the database.
        assert!(!contains(&raw_database(&t.url), "640104200501010010"), "{}: sealed at rest", t.backend);
        // Wrong type, empty, too large: refused clearly; nothing stored.
        let before = t.events();
        assert_eq!(upload(t, &citizen, "x.exe", b"MZ\x90\x00").1["code"], "attachment_type");
        assert_eq!(upload(t, &citizen, "x.pdf", b"").1["code"], "attachment_empty");
        let big = vec![b'%'; oneseal_app::attachments::MAX_ATTACHMENT_BYTES + 1];
        let (status, body) = upload(t, &citizen, "big.pdf", &big);
        assert!(status == 413 || body["code"] == "attachment_too_large", "{status} {body}");
        assert_eq!(t.events(), before);
        // A submission references the file; the event records its digest.
        let code = t.item_code("食品经营许可");
        let mut sub = submission(t, &code, "online");
        sub["materials"][0]["attachment"] = a["id"].clone();
        let r = t.post("/api/v1/cases", Some(&citizen), &sub);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let c = t.get(&format!("/api/v1/cases/{no}"), Some(&citizen));
        assert_eq!(c.body["materials"][0]["digest"], a["sha256"], "{:?}", c.body["materials"]);
        // Someone else's file cannot be referenced: refused whole.
        let company = t.login("company");
        let (_, other) = upload(t, &company, "lease.png", b"\x89PNG\r\n\x1a\nrest");
        let mut bad = submission(t, &code, "online");
        bad["materials"][0]["attachment"] = other["id"].clone();
        let before = t.events();
        let r = t.post("/api/v1/cases", Some(&citizen), &bad);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("unknown_attachment")), "{:?}", r.body);
        assert_eq!(t.events(), before, "nothing written");
        // Reading: the uploader; staff who may see the case that references it; nobody else.
        let id = a["id"].as_str().unwrap();
        let get = |token: &str, q: &str| {
            let mut resp = t
                .agent
                .get(&format!("{}/api/v1/attachments/{id}{q}", t.base))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap();
            (resp.status().as_u16(), resp.body_mut().read_to_vec().unwrap_or_default())
        };
        assert_eq!(get(&citizen, ""), (200, pdf.clone()));
        assert_eq!(get(&company, "").0, 404);
        let clerk = t.login("clerk");
        assert_eq!(get(&clerk, "").0, 404, "staff need the case that references the file");
        assert_eq!(get(&clerk, &format!("?case_no={no}")), (200, pdf.clone()));

        // A quota on files not yet part of an application; files a case took up do not count.
        t.app.set_upload_settings(oneseal_app::attachments::UploadSettings {
            quota_bytes: 1_000,
            quota_files: 2,
            orphan_grace_days: 7,
        });
        let (s1, loose) = upload(t, &citizen, "a.pdf", b"%PDF-1.7 loose one");
        assert_eq!(s1, 201, "the bound file does not count: {loose}");
        assert_eq!(upload(t, &citizen, "b.pdf", b"%PDF-1.7 loose two").0, 201);
        let (s3, refused) = upload(t, &citizen, "c.pdf", b"%PDF-1.7 loose three");
        assert_eq!((s3, refused["code"].as_str()), (422, Some("upload_quota_exceeded")), "{refused}");
        let mut heavy = b"%PDF-1.7 ".to_vec();
        heavy.resize(1_001, b'x');
        let (_, refused) = upload(t, &company, "heavy.pdf", &heavy);
        assert_eq!(refused["code"], "upload_quota_exceeded", "bytes count too: {refused}");
        // Unused files go after the grace period; files of cases stay.
        let loose_id = loose["id"].as_str().unwrap().to_string();
        let rt = tokio::runtime::Runtime::new().unwrap();
        t.clock.set(datetime!(2026-03-08 10:00 +8));
        assert_eq!(rt.block_on(t.app.clean_orphan_attachments()).unwrap(), 0, "not yet: six days");
        t.clock.set(datetime!(2026-03-09 10:01 +8));
        let gone = rt.block_on(t.app.clean_orphan_attachments()).unwrap();
        assert_eq!(gone, 3, "citizen's two loose files and company's lease.png");
        let citizen = t.login("citizen");
        assert_eq!(get(&citizen, "").0, 200, "the case's file stays");
        let r = t
            .agent
            .get(&format!("{}/api/v1/attachments/{loose_id}", t.base))
            .header("Authorization", &format!("Bearer {citizen}"))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "the loose file is gone");
        assert_eq!(upload(t, &citizen, "c.pdf", b"%PDF-1.7 again").0, 201, "the quota is free again");
        t.clock.set(datetime!(2026-03-02 10:00 +8));
    });
}
