//! Channels recorded right (渠道): an application made through each path — the portal's wizard in a browser, on a
//! phone (the layout's field or the client hint), at a kiosk (with and without a configured point), the general
//! window's page, the JSON API as an applicant, an app and a window clerk, and a hotline operator — records its true
//! channel and point, and the dashboard's channel counts and shares equal a count of the recorded cases.

use super::*;

/// A browser session of `user` on the pages: (cookie header, CSRF token of its forms).
pub(crate) fn session(t: &TestApp, user: &str) -> (String, String) {
    let token = t.login(user);
    (format!("oneseal_session={token}"), oneseal_web::policy::csrf_token(&token))
}

/// An agent that does not follow redirects (the answer to a page form is a redirect).
fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_idle_connections(0).max_redirects(0).build().into()
}

/// POST a page form as a browser on this site, expecting success; returns (status, Location).
pub(crate) fn form_post(
    t: &TestApp,
    path: &str,
    cookie: &str,
    extra: &[(&str, &str)],
    form: &[(&str, String)],
) -> (u16, String) {
    let (status, loc, text) = form_post_any(t, path, cookie, extra, form);
    assert!(status < 400, "{path}: {status} {text}");
    (status, loc)
}

/// POST a page form as a browser on this site, whatever the answer; returns (status, Location, body).
pub(crate) fn form_post_any(
    t: &TestApp,
    path: &str,
    cookie: &str,
    extra: &[(&str, &str)],
    form: &[(&str, String)],
) -> (u16, String, String) {
    let body = form.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
    let mut r = no_redirects()
        .post(&format!("{}{path}", t.base))
        .header("Accept", "text/html")
        .header("Origin", &t.base)
        .header("Cookie", cookie)
        .header("Content-Type", "application/x-www-form-urlencoded");
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    let mut resp = r.send(body.as_bytes()).unwrap();
    let loc = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, loc, text)
}

/// POST a multipart page form (text fields and files) as a browser; returns (status, Location).
pub(crate) fn multipart_post(
    t: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, String)],
    files: &[(&str, &str, &[u8])],
) -> (u16, String) {
    let (status, loc, text) = multipart_post_any(t, path, cookie, fields, files);
    assert!(status < 400, "{path}: {status} {text}");
    (status, loc)
}

/// POST a multipart page form, whatever the answer; returns (status, Location, body).
pub(crate) fn multipart_post_any(
    t: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, String)],
    files: &[(&str, &str, &[u8])],
) -> (u16, String, String) {
    let boundary = "----oneseal-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    for (k, name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut resp = no_redirects()
        .post(&format!("{}{path}", t.base))
        .header("Accept", "text/html")
        .header("Origin", &t.base)
        .header("Cookie", cookie)
        .header("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
        .send(&body[..])
        .unwrap();
    let loc = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let status = resp.status().as_u16();
    (status, loc, resp.body_mut().read_to_string().unwrap_or_default())
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// The first case number (`YC` + 15 digits) in a text.
fn case_no_in(text: &str) -> String {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(16))
        .find(|&i| &b[i..i + 2] == b"YC" && b[i + 2..i + 17].iter().all(u8::is_ascii_digit))
        .map(|i| text[i..i + 17].to_string())
        .unwrap_or_else(|| panic!("no case number in {text}"))
}

/// The form fields of an item as the pages post them (`f_<key>`).
fn page_fields(t: &TestApp, code: &str) -> Vec<(String, String)> {
    let view = t.app.catalog();
    let item = &view.latest_item(code).unwrap().body;
    fill(&item.form)
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((format!("f_{k}"), s)),
            Value::Number(n) => Some((format!("f_{k}"), n.to_string())),
            Value::Bool(true) => Some((format!("f_{k}"), "on".into())),
            _ => None,
        })
        .collect()
}

/// Apply through the portal's four-step wizard as the citizen, with the given extra cookie (kiosk mode), request
/// headers (client hints) and `device` field of the review form; returns the case number from the receipt.
fn wizard(t: &TestApp, code: &str, kiosk_cookie: &str, hints: &[(&str, &str)], device: &str) -> String {
    let (session, csrf) = session(t, "citizen");
    let cookie = if kiosk_cookie.is_empty() { session } else { format!("{session}; {kiosk_cookie}") };
    let path = format!("/apply/{code}");
    form_post(
        t,
        &path,
        &cookie,
        hints,
        &[("_csrf", csrf.clone()), ("step", "1".into()), ("applicant", "person".into()), ("go", "2".into())],
    );
    let mut step2 = vec![("_csrf".to_string(), csrf.clone()), ("step".into(), "2".into()), ("go".into(), "3".into())];
    step2.extend(page_fields(t, code));
    let step2: Vec<(&str, String)> = step2.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    form_post(t, &path, &cookie, hints, &step2);
    let view = t.app.catalog();
    let item = &view.latest_item(code).unwrap().body;
    let names: Vec<String> = item.materials.iter().filter(|m| m.required).map(|m| format!("file_{}", m.id)).collect();
    let files: Vec<(&str, &str, &[u8])> = names.iter().map(|n| (n.as_str(), "scan.pdf", PDF)).collect();
    multipart_post(t, &format!("{path}/materials"), &cookie, &[("_csrf", csrf.clone()), ("go", "4".into())], &files);
    let (status, receipt) = form_post(
        t,
        &path,
        &cookie,
        hints,
        &[("_csrf", csrf), ("step", "4".into()), ("device", device.into()), ("go", "submit".into())],
    );
    assert_eq!(status, 303, "{} submit: {receipt}", t.backend);
    let (status, html) = page_get(t, &receipt, Some(&cookie));
    assert_eq!(status, 200, "{html}");
    case_no_in(&html)
}

#[test]
fn every_path_records_its_channel_and_the_dashboard_counts_them() {
    each_backend(|t| {
        let code = t.item_code("个体工商户设立登记");
        // (case number, expected channel, expected point)
        let mut made: Vec<(String, &str, String)> = Vec::new();

        // The portal in a desktop browser; on a phone by the layout's field; on a phone by the client hint.
        made.push((wizard(t, &code, "", &[], ""), "online", "online".into()));
        made.push((wizard(t, &code, "", &[], "mobile"), "mobile", "mobile".into()));
        made.push((wizard(t, &code, "", &[("Sec-CH-UA-Mobile", "?1")], ""), "mobile", "mobile".into()));
        // A kiosk configured at a point (set by /kiosk?point=…), and one whose point is not a valid slug.
        let (_, _) = page_get(t, "/kiosk?point=yc-hall-kiosk-3", None);
        made.push((
            wizard(t, &code, "oneseal_kiosk=1; oneseal_kiosk_point=yc-hall-kiosk-3", &[], ""),
            "kiosk",
            "yc-hall-kiosk-3".into(),
        ));
        made.push((
            wizard(t, &code, "oneseal_kiosk=1; oneseal_kiosk_point=Hall_1%2F..", &[], "mobile"),
            "kiosk",
            "kiosk".into(),
        ));
        let long = "k".repeat(41);
        made.push((
            wizard(t, &code, &format!("oneseal_kiosk=1; oneseal_kiosk_point={long}"), &[], ""),
            "kiosk",
            "kiosk".into(),
        ));

        // The general window's page (a clerk at the hall; recorded at the clerk's post, or "window").
        let (clerk_cookie, clerk_csrf) = session(t, "clerk");
        let mut fields: Vec<(String, String)> = vec![
            ("_csrf".into(), clerk_csrf),
            ("nonce".into(), "w1".into()),
            ("kind".into(), "person".into()),
            ("name".into(), "李四".into()),
            ("id_number".into(), "11010519491231002X".into()),
            ("phone".into(), "13900000000".into()),
            ("accept".into(), "0".into()),
        ];
        fields.extend(page_fields(t, &code));
        let fields: Vec<(&str, String)> = fields.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let view = t.app.catalog();
        let item = &view.latest_item(&code).unwrap().body;
        let names: Vec<String> =
            item.materials.iter().filter(|m| m.required).map(|m| format!("file_{}", m.id)).collect();
        let files: Vec<(&str, &str, &[u8])> = names.iter().map(|n| (n.as_str(), "scan.pdf", PDF)).collect();
        let (status, loc) = multipart_post(t, &format!("/window/apply/{code}"), &clerk_cookie, &fields, &files);
        assert_eq!(status, 303, "{} window: {loc}", t.backend);
        let clerk = t.login("clerk");
        let post = t.get(&format!("/api/v1/cases/{}", case_no_in(&loc)), Some(&clerk)).body["service_point"].clone();
        made.push((case_no_in(&loc), "window", post.as_str().unwrap().to_string()));

        // The JSON API: an applicant's client (no channel, or a page's channel named) is `api`; an app on a phone
        // says `mobile`; a window clerk's client names its own (a bank branch); a hotline operator's is `hotline`.
        let citizen = t.login("citizen");
        let api_item = t.item_code("食品经营许可");
        for (said, want) in [(None, "api"), (Some("online"), "api"), (Some("kiosk"), "api"), (Some("mobile"), "mobile")]
        {
            let mut sub = submission(t, &api_item, "api");
            match said {
                Some(c) => sub["channel"] = json!(c),
                None => {
                    sub.as_object_mut().unwrap().remove("channel");
                }
            }
            sub.as_object_mut().unwrap().remove("service_point");
            let r = t.post("/api/v1/cases", Some(&citizen), &sub);
            assert_eq!(r.status, 201, "{} {said:?}: {:?}", t.backend, r.body);
            made.push((r.body["case_no"].as_str().unwrap().to_string(), want, want.to_string()));
        }
        let mut bank = submission(t, &api_item, "bank");
        bank["service_point"] = json!("bank-icbc-xingqing");
        let r = t.post("/api/v1/cases", Some(&clerk), &bank);
        assert_eq!(r.status, 201, "{:?}", r.body);
        made.push((r.body["case_no"].as_str().unwrap().to_string(), "bank", "bank-icbc-xingqing".into()));
        let mut by_clerk = submission(t, &api_item, "window");
        by_clerk.as_object_mut().unwrap().remove("channel");
        by_clerk.as_object_mut().unwrap().remove("service_point");
        let r = t.post("/api/v1/cases", Some(&clerk), &by_clerk);
        assert_eq!(r.status, 201, "{:?}", r.body);
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let point =
            t.get(&format!("/api/v1/cases/{no}"), Some(&clerk)).body["service_point"].as_str().unwrap().to_string();
        made.push((no, "window", point));
        let operator = t.login("hotline");
        let mut assisted = submission(t, &api_item, "hotline");
        assisted.as_object_mut().unwrap().remove("channel");
        assisted.as_object_mut().unwrap().remove("service_point");
        let r = t.post("/api/v1/cases", Some(&operator), &assisted);
        assert_eq!(r.status, 201, "{:?}", r.body);
        made.push((r.body["case_no"].as_str().unwrap().to_string(), "hotline", "hotline".into()));
        // A hotline operator cannot record another channel; an applicant cannot claim a window's.
        let mut wrong = submission(t, &api_item, "window");
        let r = t.post("/api/v1/cases", Some(&operator), &wrong);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("invalid_channel")), "{:?}", r.body);
        wrong["channel"] = json!("bank");
        let r = t.post("/api/v1/cases", Some(&citizen), &wrong);
        assert_eq!((r.status, r.body["code"].as_str()), (422, Some("invalid_channel")), "{:?}", r.body);

        // Each case records its channel and point.
        for (no, channel, point) in &made {
            let c = t.get(&format!("/api/v1/cases/{no}"), Some(&clerk));
            assert_eq!(c.status, 200, "{:?}", c.body);
            assert_eq!(
                (c.body["channel"].as_str().unwrap(), c.body["service_point"].as_str().unwrap()),
                (*channel, point.as_str()),
                "{} {no}",
                t.backend
            );
        }

        // The dashboard's counts and shares are those of the recorded cases (every case of this database).
        let supervisor = t.login("supervisor");
        let all = t.get("/api/v1/cases?per_page=100", Some(&supervisor));
        assert_eq!(all.status, 200, "{:?}", all.body);
        let mut brute = std::collections::BTreeMap::<String, i64>::new();
        for c in all.body["cases"].as_array().unwrap() {
            *brute.entry(c["channel"].as_str().unwrap().to_string()).or_default() += 1;
        }
        let total: i64 = brute.values().sum();
        assert_eq!(total as usize, made.len());
        for ch in ["online", "mobile", "kiosk", "window", "bank", "hotline", "api"] {
            let want = made.iter().filter(|m| m.1 == ch).count() as i64;
            assert_eq!(brute.get(ch).copied().unwrap_or(0), want, "{ch}");
        }
        let d = t.get("/api/v1/dashboard", Some(&supervisor));
        assert_eq!(d.status, 200, "{:?}", d.body);
        assert_eq!(d.body["month_by_channel"], json!(brute), "{}", t.backend);
        assert_eq!(d.body["month_total"], json!(total));
        for (ch, n) in &brute {
            let share = d.body["month_channel_shares"][ch].as_f64().unwrap();
            assert!((share - *n as f64 / total as f64).abs() < 1e-12, "{ch}: {share}");
        }
        let online = (brute.get("online").unwrap_or(&0) + brute.get("mobile").unwrap_or(&0)) as f64 / total as f64;
        assert!((d.body["online_share"].as_f64().unwrap() - online).abs() < 1e-12);
        let windows = (brute.get("window").unwrap_or(&0) + brute.get("bank").unwrap_or(&0)) as f64 / total as f64;
        assert!((d.body["window_share"].as_f64().unwrap() - windows).abs() < 1e-12);
    });
}
