//! HTTP tests on a spawned server (`spawn_app`), on SQLite and, when `ONESEAL_TEST_PG` is set, on PostgreSQL:
//! whole lifecycles, bundles, filings, on-the-spot items, idempotency, optimistic concurrency, authorization,
//! bad input of every kind (answered 4xx with problem+json and nothing written), rebuild, calendar and catalog.

use std::net::SocketAddr;
use std::sync::Arc;

use oneseal_app::{App, ManualClock};
use oneseal_domain::catalog::{FieldType, FormSchema};
use oneseal_store::{DatabaseUrl, Store, StoreOptions};
use serde_json::{json, Map, Value};
use time::macros::datetime;

struct TestApp {
    url: DatabaseUrl,
    base: String,
    app: App,
    clock: Arc<ManualClock>,
    agent: ureq::Agent,
    backend: &'static str,
}

/// Start a real server on 127.0.0.1 with a fresh database, the demo catalog and demo accounts, at a fixed time.
fn spawn_app(backend: &'static str, url: DatabaseUrl) -> TestApp {
    spawn_app_with(backend, url, None)
}

fn spawn_app_with(backend: &'static str, url: DatabaseUrl, oidc: Option<oneseal_web::oidc::OidcConfig>) -> TestApp {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 10:00 +8)));
    let store = Store::open(&url, StoreOptions::default()).expect("store");
    let db_url = url.clone();
    let app = App::new(store, clock.clone(), test_master_key()).expect("app");
    // The test clock stands still, so buckets would never refill: the anonymous limit has its own test.
    app.set_anonymous_per_minute(0);
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    let a = app.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let set = oneseal_app::catalog::demo_catalog().unwrap();
            a.import_catalog(set, "demo", "demo catalog").await.unwrap();
            a.ensure_demo_accounts().await.unwrap();
            a.install_seal("demo", "a test seal passphrase", None).await.unwrap();
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            oneseal_web::serve_router(
                oneseal_web::router_with(a, oneseal_web::WebSettings { oidc, ..Default::default() }),
                l,
                std::future::pending(),
            )
            .await
            .unwrap();
        });
    });
    let addr = rx.recv().expect("server address");
    // No connection reuse: a connection the server closed after refusing a body must not be picked for the next
    // request (that would be a flaky test, not a server fault).
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_idle_connections(0).build().into();
    TestApp { url: db_url, base: format!("http://{addr}"), app, clock, agent, backend }
}

fn test_master_key() -> oneseal_seal::pd::MasterKey {
    oneseal_seal::pd::MasterKey::from_hex(&"5a".repeat(32)).unwrap()
}

fn each_backend(f: impl Fn(&TestApp)) {
    for (name, url) in oneseal_store::testing::backends() {
        let t = spawn_app(name, url);
        f(&t);
    }
}

struct Resp {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl TestApp {
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let url = format!("{}{}", self.base, path);
        let mut resp = match (method, body) {
            ("GET", _) => {
                let mut r = self.agent.get(&url);
                if let Some(t) = token {
                    r = r.header("Authorization", &format!("Bearer {t}"));
                }
                for (k, v) in extra {
                    r = r.header(*k, *v);
                }
                r.call()
            }
            (m, b) => {
                let mut r = match m {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    "DELETE" => {
                        let mut r = self.agent.delete(&url);
                        if let Some(t) = token {
                            r = r.header("Authorization", &format!("Bearer {t}"));
                        }
                        for (k, v) in extra {
                            r = r.header(*k, *v);
                        }
                        let mut resp = r.call().unwrap();
                        let headers = resp
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect();
                        let body = serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default())
                            .unwrap_or(Value::Null);
                        return Resp { status: resp.status().as_u16(), body, headers };
                    }
                    _ => panic!("method {m}"),
                };
                if let Some(t) = token {
                    r = r.header("Authorization", &format!("Bearer {t}"));
                }
                for (k, v) in extra {
                    r = r.header(*k, *v);
                }
                match b {
                    Some(b) => r.send_json(b),
                    None => r.send_empty(),
                }
            }
        }
        .expect("request");
        let status = resp.status().as_u16();
        let headers =
            resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, body, headers }
    }

    fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call("GET", path, token, None, &[])
    }

    fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.call("POST", path, token, Some(body), &[])
    }

    fn login(&self, user: &str) -> String {
        let r = self.post("/api/v1/sessions", None, &json!({"username": user, "password": "oneseal-demo"}));
        assert_eq!(r.status, 201, "login {user}: {:?}", r.body);
        r.body["token"].as_str().unwrap().to_string()
    }

    fn item_code(&self, name: &str) -> String {
        let view = self.app.catalog();
        view.items
            .iter()
            .find(|(_, v)| v.last().unwrap().body.name.contains(name))
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| panic!("no item named {name}"))
    }

    fn events(&self) -> i64 {
        self.app.store.read_blocking(|db| db.count_events()).unwrap()
    }

    fn act(&self, token: &str, case_no: &str, action: &str, body: Value) -> Resp {
        self.post(&format!("/api/v1/cases/{case_no}/{action}"), Some(token), &body)
    }
}

/// Valid values for every field of a form schema.
fn fill(schema: &FormSchema) -> Map<String, Value> {
    let mut m = Map::new();
    for f in &schema.fields {
        let v = match f.field_type {
            FieldType::Text | FieldType::LongText => json!("银川测试内容"),
            FieldType::Number | FieldType::Integer => {
                json!(f.min.unwrap_or(0.0).max(120.0).min(f.max.unwrap_or(1e12)))
            }
            FieldType::Date => json!("2026-03-01"),
            FieldType::Boolean => json!(false),
            FieldType::Choice => json!(f.options[0]),
            FieldType::Phone => json!("13800000000"),
            FieldType::Uscc => json!("91110000600037341L"),
            FieldType::ResidentId => json!("64010420050101001X"),
            FieldType::RegionCode => json!("640104"),
        };
        m.insert(f.key.clone(), v);
    }
    m
}

fn submission(t: &TestApp, code: &str, channel: &str) -> Value {
    let view = t.app.catalog();
    let item = &view.latest_item(code).unwrap().body;
    let materials: Vec<Value> = item
        .materials
        .iter()
        .filter(|m| m.required)
        .map(|m| json!({"material_id": m.id, "file_name": format!("{}.pdf", m.id)}))
        .collect();
    json!({
        "item_code": code, "channel": channel, "service_point": "市民大厅",
        "applicant": {"kind": "person", "name": "张三", "id_number": "64010420050101001X", "phone": "13800000000"},
        "form": fill(&item.form), "materials": materials,
    })
}

/// Work the current step of a case with the demo account of the task's department until the case completes.
fn drive_to_completion(t: &TestApp, case_no: &str) -> Value {
    drive_until(t, case_no, None)
}

/// Work the steps of a case until it completes or reaches a step of kind `stop_at`.
fn drive_until(t: &TestApp, case_no: &str, stop_at: Option<&str>) -> Value {
    for _ in 0..20 {
        let clerk = t.login("clerk");
        let c = t.get(&format!("/api/v1/cases/{case_no}"), Some(&clerk));
        assert_eq!(c.status, 200, "{:?}", c.body);
        if c.body["status"] == "completed" || (stop_at.is_some() && c.body["current_step"]["kind"].as_str() == stop_at)
        {
            return c.body;
        }
        let step = &c.body["current_step"];
        let task = step["tasks"].as_array().unwrap().iter().find(|x| x["status"] == "open").unwrap().clone();
        let dept = task["department"].as_str().unwrap();
        let kind = step["kind"].as_str().unwrap();
        let (user, action, body) = match kind {
            "review" | "joint_review" => {
                (format!("{dept}-reviewer"), "complete", json!({"task_id": task["task_id"], "opinion": "同意"}))
            }
            "inspection" => {
                (format!("{dept}-reviewer"), "complete", json!({"task_id": task["task_id"], "opinion": "现场符合要求"}))
            }
            "decision" => (format!("{dept}-chief"), "decide", json!({"outcome": "grant"})),
            "license_issuance" => (format!("{dept}-clerk"), "issue-licenses", json!({})),
            "delivery" => {
                (format!("{dept}-clerk"), "deliver", json!({"delivery": {"method": "pickup", "window": "A12"}}))
            }
            other => panic!("step kind {other}"),
        };
        let tok = t.login(&user);
        let r = t.act(&tok, case_no, action, body);
        assert_eq!(r.status, 200, "{} {action} as {user}: {:?}", t.backend, r.body);
    }
    panic!("case {case_no} did not complete");
}

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
fn bundle_filing_and_on_the_spot() {
    each_backend(|t| {
        let company = t.login("company");
        let view = t.app.catalog();
        let b = view.latest_bundle("open-restaurant").expect("open-restaurant bundle");
        let def = view
            .definition(&oneseal_domain::case::Subject::Bundle { code: "open-restaurant".into(), version: b.version })
            .unwrap();
        let materials: Vec<Value> = def
            .materials
            .iter()
            .filter(|m| m.required)
            .map(|m| json!({"material_id": m.id, "file_name": "x.pdf"}))
            .collect();
        let sub = json!({"bundle_code": "open-restaurant", "channel": "online",
            "applicant": {"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"},
            "form": fill(&def.form), "materials": materials});
        let r = t.post("/api/v1/cases", Some(&company), &sub);
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
        assert!(rt.block_on(t.app.progress(&no, &code, Some("203.0.113.5"))).is_ok());
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

/// A POST over a plain socket, for bodies the server refuses before reading them whole.
fn raw_tcp(base: &str, path: &str, token: &str, body: &[u8]) -> (u16, String, Value) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text.split_whitespace().nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
    let ctype = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-type:"))
        .map(|l| l[13..].trim().to_string())
        .unwrap_or_default();
    let json = text.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, ctype, json)
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[test]
fn every_route_is_in_the_openapi_document_and_answers() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let doc: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (p, ops) in paths {
        for m in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&m.as_str()) {
                documented.push((m.to_uppercase(), p.clone()));
            }
        }
    }
    let mut routed: Vec<(String, String)> =
        oneseal_web::ROUTES.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed, "openapi.json and ROUTES must list the same operations");
    // Each route is really in the router: filling its parameters never hits the router's fallback.
    for (m, p, _) in oneseal_web::ROUTES {
        let path = p
            .replace("{code}", "X")
            .replace("{version}", "1")
            .replace("{year}", "2026")
            .replace("{date}", "2026-01-05")
            .replace("{case_no}", "YC202603020000001")
            .replace("{action}", "accept");
        let empty = json!({});
        let r = t.call(m, &path, None, if *m == "GET" { None } else { Some(&empty) }, &[]);
        assert_ne!(r.body["code"], "no_route", "{m} {p}");
        assert_ne!(r.body["code"], "method_not_allowed", "{m} {p}");
    }
}

/// Every byte the database holds: the SQLite file and its WAL, or a pg_dump of the PostgreSQL database.
fn raw_database(url: &DatabaseUrl) -> Vec<u8> {
    match url {
        DatabaseUrl::Sqlite(p) => {
            let mut all = std::fs::read(p).unwrap();
            for suffix in ["-wal", "-shm"] {
                if let Ok(b) = std::fs::read(format!("{}{suffix}", p.display())) {
                    all.extend(b);
                }
            }
            all
        }
        DatabaseUrl::Postgres(u) => {
            let out = std::process::Command::new("pg_dump")
                .arg(u)
                .output()
                .expect("pg_dump (Debian postgresql-client) must be installed for the PostgreSQL half");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
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
    let doc: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let mut checked = 0;
    for (role, user) in &accounts {
        let token = user.map(|u| t.login(u));
        let actor = token.as_ref().map(|tok| {
            serde_json::from_value::<oneseal_domain::roles::Actor>(t.get("/api/v1/me", Some(tok)).body).unwrap()
        });
        if let (Some(r), Some(a)) = (role, &actor) {
            assert!(a.has(*r), "{user:?} must hold {r:?}");
        }
        for (m, p, access) in oneseal_web::ROUTES {
            if *p == "/api/v1/sessions/current" {
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
            let r = t.call(m, &path, token.as_deref(), if *m == "GET" { None } else { Some(&empty) }, &[]);
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
            let x = doc["paths"][*p][m.to_lowercase()]["x-access"].as_str().unwrap_or_default().to_string();
            assert!(x.starts_with(access.name()), "{m} {p}: x-access {x} vs {access:?}");
            if *access != Access::Public {
                assert!(doc["paths"][*p][m.to_lowercase()]["responses"].get("403").is_some(), "{m} {p} documents 403");
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

/// A minimal OpenID provider for the SSO test: discovery, JWKS, an authorization endpoint that approves at once,
/// and a token endpoint that checks the client secret and the PKCE verifier and signs an RS256 ID token.
mod idp {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use axum::extract::{Form, Query, State};
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::sha2::{Digest, Sha256};
    use rsa::traits::PublicKeyParts;
    use rsa::{Pkcs1v15Sign, RsaPrivateKey};
    use serde_json::{json, Value};

    #[derive(Clone)]
    pub struct Idp {
        pub issuer: String,
        key: Arc<RsaPrivateKey>,
        /// code → (nonce, code_challenge, username)
        codes: Arc<Mutex<HashMap<String, (String, String, String)>>>,
        pub user: Arc<Mutex<String>>,
        /// The subject (`sub`) to put in the ID token instead of one derived from the user name.
        pub subject: Arc<Mutex<Option<String>>>,
        pub audience: Arc<Mutex<String>>,
        pub now: Arc<Mutex<i64>>,
    }

    fn b64(b: &[u8]) -> String {
        oneseal_web::oidc::b64url(b)
    }

    pub fn start(now: i64) -> Idp {
        let pem = std::process::Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            .output()
            .expect("openssl")
            .stdout;
        let key = RsaPrivateKey::from_pkcs8_pem(std::str::from_utf8(&pem).unwrap()).unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", l.local_addr().unwrap());
        let idp = Idp {
            issuer,
            key: Arc::new(key),
            codes: Arc::default(),
            user: Arc::new(Mutex::new("bureau-market-chief".into())),
            subject: Arc::default(),
            audience: Arc::new(Mutex::new("oneseal".into())),
            now: Arc::new(Mutex::new(now)),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(idp.clone());
        l.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(l).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        idp
    }

    async fn discovery(State(i): State<Idp>) -> Json<Value> {
        Json(
            json!({"issuer": i.issuer, "authorization_endpoint": format!("{}/authorize", i.issuer), "token_endpoint": format!("{}/token", i.issuer), "jwks_uri": format!("{}/jwks", i.issuer), "id_token_signing_alg_values_supported": ["RS256"]}),
        )
    }

    async fn jwks(State(i): State<Idp>) -> Json<Value> {
        let p = i.key.to_public_key();
        Json(
            json!({"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64(&p.n().to_bytes_be()), "e": b64(&p.e().to_bytes_be())}]}),
        )
    }

    async fn authorize(State(i): State<Idp>, Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        let code = format!("code-{}", q["state"].len() + i.codes.lock().unwrap().len());
        let user = i.user.lock().unwrap().clone();
        i.codes.lock().unwrap().insert(code.clone(), (q["nonce"].clone(), q["code_challenge"].clone(), user));
        Redirect::to(&format!("{}?code={code}&state={}", q["redirect_uri"], q["state"]))
    }

    async fn token(State(i): State<Idp>, Form(f): Form<HashMap<String, String>>) -> axum::response::Response {
        let Some((nonce, challenge, user)) = i.codes.lock().unwrap().remove(&f["code"]) else {
            return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
        };
        if f["client_secret"] != "s3cret" || b64(&Sha256::digest(f["code_verifier"].as_bytes())) != challenge {
            return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
        }
        let now = *i.now.lock().unwrap();
        let header = b64(json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}).to_string().as_bytes());
        let sub = i.subject.lock().unwrap().clone().unwrap_or_else(|| format!("sub-{user}"));
        let claims = b64(json!({"iss": i.issuer, "aud": *i.audience.lock().unwrap(), "sub": sub, "preferred_username": user, "nonce": nonce, "iat": now, "exp": now + 300}).to_string().as_bytes());
        let input = format!("{header}.{claims}");
        let sig = i.key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input.as_bytes())).unwrap();
        Json(json!({"access_token": "x", "token_type": "Bearer", "id_token": format!("{input}.{}", b64(&sig))}))
            .into_response()
    }
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
    let t = spawn_app_with("sqlite", oneseal_store::testing::fresh_sqlite(), Some(cfg));
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
    // Pending sign-ins are bounded.
    let o = oneseal_web::oidc::Oidc::new(oneseal_web::oidc::OidcConfig {
        issuer: idp.issuer.clone(),
        client_id: "oneseal".into(),
        client_secret: "s3cret".into(),
        redirect_url: "http://oneseal.test/api/v1/oidc/callback".into(),
        username_claim: "preferred_username".into(),
    });
    let ms = now * 1000;
    for _ in 0..oneseal_web::oidc::MAX_PENDING {
        assert!(o.start(ms).is_ok());
    }
    assert_eq!(o.start(ms).err().map(|e| e.0), Some(503));
    assert!(o.start(ms + 600_000).is_ok(), "expired sign-ins make room");
}

#[test]
fn single_sign_on_is_off_unless_configured() {
    // (The binary's Config reads ONESEAL_OIDC_*; an unconfigured deployment has no provider.)
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let r = t.get("/api/v1/oidc/login", None);
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("not_found")));
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

fn register_person(t: &TestApp, username: &str, name: &str, id: &str) -> String {
    let r = t.post(
        "/api/v1/register",
        None,
        &json!({"username": username, "password": "a-long-password", "name": name, "resident_id": id}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = t.post("/api/v1/sessions", None, &json!({"username": username, "password": "a-long-password"}));
    r.body["token"].as_str().unwrap().to_string()
}

fn uscc_with(prefix17: &str) -> String {
    format!("{prefix17}{}", oneseal_domain::ids::Uscc::check_char(prefix17).unwrap())
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

/// A 食品经营许可 case of the demo company, submitted online and accepted: (company token, clerk token, case no).
fn accepted_company_case(t: &TestApp) -> (String, String, String) {
    let company = t.login("company");
    let code = t.item_code("食品经营许可");
    let mut sub = submission(t, &code, "online");
    sub["applicant"] =
        json!({"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"});
    let r = t.post("/api/v1/cases", Some(&company), &sub);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let no = r.body["case_no"].as_str().unwrap().to_string();
    let clerk = t.login("clerk");
    assert_eq!(t.act(&clerk, &no, "accept", json!({})).status, 200);
    (company, clerk, no)
}

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

/// The GB/T 36904 identifier of the first licence a completed case lists.
fn first_licence(case: &Value) -> String {
    case["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .find(|l| l.starts_with("1.2.156.3005.2."))
        .unwrap_or_else(|| panic!("a GB/T 36904 identifier: {:?}", case["licenses"]))
        .to_string()
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

fn bytes_call(t: &TestApp, path: &str, token: Option<&str>, pdf: Option<&[u8]>) -> (u16, Vec<u8>, Option<String>) {
    let url = format!("{}{}", t.base, path);
    let auth = token.map(|tk| format!("Bearer {tk}"));
    let mut resp = match pdf {
        None => {
            let mut r = t.agent.get(&url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call().unwrap()
        }
        Some(b) => t.agent.post(&url).header("Content-Type", "application/pdf").send(b).unwrap(),
    };
    let disposition = resp.headers().get("content-disposition").and_then(|v| v.to_str().ok()).map(str::to_string);
    (resp.status().as_u16(), resp.body_mut().read_to_vec().unwrap(), disposition)
}

fn run_tool(name: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e} (apt-get install poppler-utils zbar-tools; .ci/run installs them)"));
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
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

        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pdf-samples");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("food-licence-{}.pdf", t.backend));
        std::fs::write(&file, &pdf).unwrap();
        let text = run_tool("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), file.as_os_str(), "-".as_ref()]);
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let number = lic.body["public"]["number"].as_str().unwrap().to_string();
        for want in ["食品经营许可证", number.as_str(), "91110000600037341L", "银川市审批服务局", "扫码核验"]
        {
            assert!(squeezed.contains(want), "pdftotext lacks {want}:\n{text}");
        }
        let png = dir.join(format!("food-licence-{}", t.backend));
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

fn page_get(t: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut r = t.agent.get(&format!("{}{path}", t.base)).header("Accept", "text/html");
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    let mut resp = r.call().unwrap();
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}

/// POST a form to a page as a browser on this site would (same origin), without a session.
fn page_post(t: &TestApp, path: &str, form: &str) -> (u16, String) {
    let mut resp = t
        .agent
        .post(&format!("{}{path}", t.base))
        .header("Accept", "text/html")
        .header("Origin", &t.base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap();
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn portal_pages_render_every_guide_in_both_languages_and_print_its_form() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    // Every page route is routed (a page, a redirect or a 404 page of ours — never the router's fallback).
    for (m, p, _) in oneseal_web::pages::PAGES {
        if *m != "GET" {
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

fn html_escape(s: &str) -> String {
    s.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

fn upload(t: &TestApp, token: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let mut resp = t
        .agent
        .post(&format!("{}/api/v1/attachments?name={}", t.base, urlencode(name)))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/octet-stream")
        .send(bytes)
        .unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null))
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
fn supervision_raises_yellow_red_and_rule_alerts_once_with_evidence() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let clerk = t.login("clerk");
        let supervisor = t.login("supervisor");
        let code = t.item_code("食品经营许可");
        // Sessions end after some hours: sign in again after moving the clock.
        let sweep = |_: &str| t.post("/api/v1/supervision/sweep", Some(&t.login("supervisor")), &json!({}));
        let alerts = |q: &str, tk: &str| t.get(&format!("/api/v1/alerts?{q}"), Some(tk));
        // A case accepted on Mon 2026-03-02 with 5 working days: deadline Mon 03-09.
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let acc = t.act(&clerk, &no, "accept", json!({}));
        assert_eq!(acc.status, 200);
        let deadline = acc.body["clock"]["deadline"].as_str().unwrap().to_string();
        assert_eq!(
            sweep(&supervisor).body,
            json!({"yellow": 0, "red": 0, "stalled": 0, "pledge_overdue": 0, "urgings_escalated": 0, "liaison_ack_overdue": 0, "ticket_alerts": 0, "rating_remediation_overdue": 0})
        );
        // Yellow comes with 80 % of the limit (Fri 03-06: 4 of 5 days), red the day after the deadline.
        t.clock.set(datetime!(2026-03-06 09:00 +8));
        let s = sweep(&supervisor);
        assert_eq!(s.body["yellow"], 1, "{:?}", s.body);
        assert_eq!(sweep(&supervisor).body["yellow"], 0, "never twice");
        t.clock.set(datetime!(2026-03-10 09:00 +8));
        let supervisor = t.login("supervisor");
        let s = sweep(&supervisor);
        assert_eq!(s.body["red"], 1, "{:?}", s.body);
        let list = alerts(&format!("case_no={no}"), &supervisor);
        let kinds: Vec<&str> =
            list.body["alerts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"yellow") && kinds.contains(&"red"), "{kinds:?}");
        let red = list.body["alerts"].as_array().unwrap().iter().find(|a| a["kind"] == "red").unwrap().clone();
        assert!(red["detail"].as_str().unwrap().contains(&deadline), "{red}");
        // A late acceptance (8 working days after receipt) is a rule alert pointing at both events.
        let citizen = t.login("citizen");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let late = r.body["case_no"].as_str().unwrap().to_string();
        t.clock.set(datetime!(2026-03-20 10:00 +8));
        let (clerk, supervisor) = (t.login("clerk"), t.login("supervisor"));
        assert_eq!(t.act(&clerk, &late, "accept", json!({})).status, 200);
        sweep(&supervisor);
        let la = alerts(&format!("case_no={late}&kind=late_acceptance"), &supervisor);
        assert_eq!(la.body["total"], 1, "{:?}", la.body);
        assert_eq!(la.body["alerts"][0]["evidence"].as_array().unwrap().len(), 2);
        // Department staff see their own department's alerts only; applicants none.
        let dept = red["department"].as_str().unwrap().to_string();
        let own = t.login(&format!("{dept}-chief"));
        assert!(alerts("", &own).body["alerts"].as_array().unwrap().iter().all(|a| a["department"] == dept.as_str()));
        let other = t.login(if dept == "fire" { "bureau-market-reviewer" } else { "fire-reviewer" });
        assert_eq!(alerts(&format!("case_no={no}"), &other).body["total"], 0);
        assert_eq!(alerts("", &t.login("citizen")).status, 403);
        // Closing needs a note and a supervisor; it is an event, and a closed alert stays closed.
        let id = red["id"].as_str().unwrap();
        let before = t.events();
        assert_eq!(t.post(&format!("/api/v1/alerts/{id}/close"), Some(&supervisor), &json!({"note": " "})).status, 422);
        assert_eq!(t.post(&format!("/api/v1/alerts/{id}/close"), Some(&own), &json!({"note": "已督办"})).status, 403);
        assert_eq!(t.events(), before, "refusals change nothing");
        let c =
            t.post(&format!("/api/v1/alerts/{id}/close"), Some(&supervisor), &json!({"note": "已督办，窗口已补办"}));
        assert_eq!((c.status, c.body["status"].as_str()), (200, Some("closed")), "{:?}", c.body);
        assert_eq!(
            t.post(&format!("/api/v1/alerts/{id}/close"), Some(&supervisor), &json!({"note": "again"})).body["code"],
            "alert_closed"
        );
        // Urging (督办): to the department, answered there, closed by the supervisor; an unanswered one
        // escalates once after its date, with a red alert and every supervisor notified.
        let u = t.post(
            "/api/v1/urgings",
            Some(&supervisor),
            &json!({"case_no": no, "alert_id": id, "message": "请于两日内办结", "days": 2}),
        );
        assert_eq!(u.status, 201, "{:?}", u.body);
        let uid = u.body["id"].as_str().unwrap().to_string();
        assert_eq!(t.post("/api/v1/urgings", Some(&own), &json!({"case_no": no, "message": "x"})).status, 403);
        assert_eq!(
            t.post("/api/v1/urgings", Some(&supervisor), &json!({"case_no": no, "message": "x", "days": 0})).status,
            422
        );
        assert_eq!(t.post(&format!("/api/v1/urgings/{uid}/reply"), Some(&other), &json!({"reply": "x"})).status, 404);
        let r =
            t.post(&format!("/api/v1/urgings/{uid}/reply"), Some(&own), &json!({"reply": "已联系申请人，今日办结"}));
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("replied")), "{:?}", r.body);
        let r = t.post(&format!("/api/v1/urgings/{uid}/close"), Some(&supervisor), &json!({"note": "办结"}));
        assert_eq!(r.body["status"], "closed");
        let u2 =
            t.post("/api/v1/urgings", Some(&supervisor), &json!({"case_no": no, "message": "请尽快处理", "days": 1}));
        let u2 = u2.body["id"].as_str().unwrap().to_string();
        t.clock.set(datetime!(2026-03-25 10:00 +8));
        let s = sweep(&supervisor);
        assert_eq!(s.body["urgings_escalated"], 1, "{:?}", s.body);
        assert_eq!(sweep(&supervisor).body["urgings_escalated"], 0, "once");
        let supervisor = t.login("supervisor");
        let over = alerts("kind=urging_overdue", &supervisor);
        assert_eq!(over.body["total"], 1, "{:?}", over.body);
        let notes = t.get("/api/v1/notifications", Some(&supervisor));
        assert!(
            notes.body["notifications"].as_array().unwrap().iter().any(|n| n["kind"] == "urging_escalated"),
            "{:?}",
            notes.body
        );
        let listed = t.get("/api/v1/urgings", Some(&supervisor));
        assert!(listed.body["urgings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == u2.as_str() && x["escalated"] == true));
        // The alerts and urgings projections rebuild identically from the events.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let audit = rt.block_on(t.app.audit()).unwrap();
        assert!(
            audit.problems.is_empty(),
            "{}: a leaf for every alert raised in a batch: {:?}",
            t.backend,
            audit.problems
        );
        let before = rt.block_on(t.app.dump_projections()).unwrap();
        assert!(before.iter().any(|(n, rows)| n == "alerts" && rows.len() >= 3));
        assert!(before.iter().any(|(n, rows)| n == "urgings" && rows.len() == 2));
        rt.block_on(t.app.rebuild()).unwrap();
        assert_eq!(rt.block_on(t.app.dump_projections()).unwrap(), before, "{}", t.backend);
    });
}

#[test]
fn metrics_expose_latency_by_route_pattern_store_batches_lag_and_alerts() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let citizen = t.login("citizen");
    let code = t.item_code("食品经营许可");
    let r = t.post("/api/v1/cases", Some(&citizen), &submission(&t, &code, "online"));
    let no = r.body["case_no"].as_str().unwrap().to_string();
    assert_eq!(t.get(&format!("/api/v1/cases/{no}"), Some(&citizen)).status, 200);
    let get = |token: &str| {
        let mut resp = t
            .agent
            .get(&format!("{}/metrics", t.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
    };
    assert_eq!(get(&citizen).0, 403, "not for applicants");
    let (status, text) = get(&t.login("supervisor"));
    assert_eq!(status, 200);
    // Every sample line is `name{labels} value` with a number, after its TYPE line.
    let mut typed = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.insert(rest.split(' ').next().unwrap().to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let base = name.split('{').next().unwrap();
        let family = base.trim_end_matches("_bucket").trim_end_matches("_sum").trim_end_matches("_count");
        assert!(typed.contains(base) || typed.contains(family), "{line}: no TYPE line before");
    }
    assert!(
        text.contains(r#"route="/api/v1/cases/{case_no}",status="2xx",le="+Inf"} 1"#),
        "latency under the route pattern:\n{text}"
    );
    assert!(!text.contains(&no), "no concrete identifiers as labels");
    assert!(
        text.contains("oneseal_store_transaction_seconds_count") && text.contains("oneseal_store_batch_jobs_bucket")
    );
    assert!(text.contains(r#"oneseal_subscriber_lag_events{subscriber="supervision"}"#), "{text}");
}

/// A minimal SMTP sink on 127.0.0.1: answers the commands a client sends and keeps each message's DATA.
fn smtp_sink() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut w) = conn else { continue };
            let mut r = BufReader::new(w.try_clone().unwrap());
            let _ = w.write_all(b"220 sink ESMTP\r\n");
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                let cmd = line.trim_end().to_uppercase();
                if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                    let _ = w.write_all(b"250-sink\r\n250 8BITMIME\r\n");
                } else if cmd.starts_with("DATA") {
                    let _ = w.write_all(b"354 go on\r\n");
                    let mut data = String::new();
                    let mut l2 = String::new();
                    while r.read_line(&mut l2).unwrap_or(0) > 0 {
                        if l2 == ".\r\n" {
                            break;
                        }
                        data.push_str(&l2);
                        l2.clear();
                    }
                    g.lock().unwrap().push(data);
                    let _ = w.write_all(b"250 queued\r\n");
                } else if cmd.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n");
                    break;
                } else {
                    let _ = w.write_all(b"250 ok\r\n");
                }
                line.clear();
            }
        }
    });
    (port, got)
}

#[test]
fn red_alerts_are_mailed_over_smtp_at_least_once() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let citizen = t.login("citizen");
    let clerk = t.login("clerk");
    let code = t.item_code("食品经营许可");
    let r = t.post("/api/v1/cases", Some(&citizen), &submission(&t, &code, "online"));
    let no = r.body["case_no"].as_str().unwrap().to_string();
    assert_eq!(t.act(&clerk, &no, "accept", json!({})).status, 200);
    t.clock.set(datetime!(2026-03-20 09:00 +8));
    let s = t.post("/api/v1/supervision/sweep", Some(&t.login("supervisor")), &json!({}));
    assert_eq!(s.body["red"], 1, "{:?}", s.body);
    // Red-level alerts: the overdue one and the stalled one (yellow ones are not mailed).
    let red_level = s.body["red"].as_u64().unwrap() + s.body["stalled"].as_u64().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The relay is down: an error, and nothing is lost.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = |port: u16| {
        oneseal_app::mail::MailConfig::new(
            &format!("smtp://127.0.0.1:{port}"),
            "OneSeal <noreply@oneseal.test>",
            "jiancha@oneseal.test, leader@oneseal.test",
        )
        .unwrap()
    };
    assert!(rt.block_on(t.app.run_mail_once(&cfg(down), 1000)).is_err());
    // The relay is up: one message per mailbox, with the case in the subject.
    let (port, got) = smtp_sink();
    while rt.block_on(t.app.run_mail_once(&cfg(port), 1000)).unwrap() > 0 {}
    let mails = got.lock().unwrap().clone();
    assert_eq!(mails.len() as u64, 2 * red_level, "one per mailbox per red-level alert: {mails:?}");
    assert!(mails.iter().all(|m| m.contains("Subject:") && m.contains(&no)), "{mails:?}");
    assert!(mails.iter().any(|m| m.contains("To: jiancha@oneseal.test") && m.contains("Kind: red")));
    assert!(!mails.iter().any(|m| m.contains("Kind: yellow")), "yellow alerts are not mailed");
    // Sent once: a second run reads nothing new.
    assert_eq!(rt.block_on(t.app.run_mail_once(&cfg(port), 1000)).unwrap(), 0);
    assert_eq!(got.lock().unwrap().len() as u64, 2 * red_level);
    assert!(oneseal_app::mail::MailConfig::new("http://x", "a@b.c", "d@e.f").is_err());
    assert!(oneseal_app::mail::MailConfig::new("smtp://x", "a@b.c", "").is_err());
}

#[test]
fn exports_xes_and_alerts_csv_for_supervisors_without_personal_data() {
    let t = spawn_app("sqlite", oneseal_store::testing::fresh_sqlite());
    let citizen = t.login("citizen");
    let code = t.item_code("食品经营许可");
    let r = t.post("/api/v1/cases", Some(&citizen), &submission(&t, &code, "online"));
    let no = r.body["case_no"].as_str().unwrap().to_string();
    assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
    drive_to_completion(&t, &no);
    let get = |path: &str, token: &str| {
        let mut resp = t
            .agent
            .get(&format!("{}{path}", t.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
    };
    let supervisor = t.login("supervisor");
    let (status, xes) = get("/api/v1/export/events.xes", &supervisor);
    assert_eq!(status, 200);
    assert!(xes.starts_with("<?xml") && xes.contains(&format!(r#"<string key="concept:name" value="{no}"/>"#)));
    assert!(xes.contains(r#"value="submitted""#) && xes.contains(r#"value="completed""#));
    assert!(xes.contains(r#"<string key="org:resource" value="applicant"/>"#), "the applicant is not named");
    assert!(!xes.contains("64010420050101001X") && !xes.contains("张三"), "no personal data");
    let (status, csv) = get("/api/v1/export/alerts.csv", &supervisor);
    assert_eq!(status, 200);
    assert!(csv.starts_with("id,kind,level,case_no,"));
    assert_eq!(get("/api/v1/export/events.xes", &t.login("clerk")).0, 403);
}

/// A webhook receiver on 127.0.0.1: records every request to `/hook/{name}` and answers with the next scripted
/// status for that name (200 when the script is empty).
struct Receiver {
    base: String,
    got: Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>, String)>>>,
    script: Arc<std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<u16>>>>,
}

impl Receiver {
    fn start() -> Receiver {
        use axum::extract::{Path, State};
        type Shared = (
            Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>, String)>>>,
            Arc<std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<u16>>>>,
        );
        async fn hook(
            State((got, script)): State<Shared>,
            Path(name): Path<String>,
            headers: axum::http::HeaderMap,
            body: String,
        ) -> axum::http::StatusCode {
            let h = headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
            got.lock().unwrap().push((name.clone(), h, body));
            let code = script.lock().unwrap().get_mut(&name).and_then(|q| q.pop_front()).unwrap_or(200);
            axum::http::StatusCode::from_u16(code).unwrap()
        }
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let state: Shared = (got.clone(), script.clone());
        let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let app = axum::Router::new().route("/hook/{name}", axum::routing::post(hook)).with_state(state);
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(l.local_addr().unwrap()).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        Receiver { base: format!("http://{}", rx.recv().unwrap()), got, script }
    }

    fn answer(&self, name: &str, codes: &[u16]) {
        self.script.lock().unwrap().insert(name.to_string(), codes.iter().copied().collect());
    }

    fn received(&self, name: &str) -> Vec<(Vec<(String, String)>, String)> {
        self.got.lock().unwrap().iter().filter(|(n, ..)| n == name).map(|(_, h, b)| (h.clone(), b.clone())).collect()
    }
}

fn header_of<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
}

#[test]
fn liaison_pushes_approvals_to_regulators_with_acknowledgement_and_signed_webhooks() {
    each_backend(|t| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        t.app
            .set_liaison_settings(oneseal_app::liaison::LiaisonSettings { ack_days: 5, retry_seconds: vec![5, 60] })
            .unwrap();
        let hooks = Receiver::start();
        let admin = t.login("admin");
        let regulator = t.login("regulator");
        let supervisor = t.login("supervisor");
        // Webhooks reach public addresses only: loopback, link-local (cloud metadata), private and unique-local
        // targets are refused and nothing is stored...
        let events = t.events();
        for url in [
            "http://127.0.0.1:22/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/",
            "http://[::1]:8080/",
            "http://localhost:8080/",
            "http://[fd00::1]/",
            format!("{}/hook/a", hooks.base).as_str(),
        ] {
            let r = t.post("/api/v1/webhooks", Some(&admin), &json!({"department": "market", "url": url}));
            assert_eq!(
                (r.status, r.body["code"].as_str()),
                (422, Some("webhook_address_not_allowed")),
                "{url}: {:?}",
                r.body
            );
        }
        assert_eq!(t.events(), events);
        // ...unless the deployment's configuration allows a block (here the test's own receiver).
        t.app.set_egress_allow(oneseal_app::egress::Cidr::parse_list("127.0.0.1/32").unwrap());
        // Registering endpoints: the administrator for any department, a regulator only for its own.
        let a = t.post(
            "/api/v1/webhooks",
            Some(&admin),
            &json!({"department": "market", "url": format!("{}/hook/a", hooks.base)}),
        );
        assert_eq!(a.status, 201, "{:?}", a.body);
        let secret = a.body["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"));
        let b = t.post(
            "/api/v1/webhooks",
            Some(&regulator),
            &json!({"department": "market", "url": format!("{}/hook/b", hooks.base)}),
        );
        assert_eq!(b.status, 201, "{:?}", b.body);
        let other = json!({"department": "health", "url": format!("{}/hook/c", hooks.base)});
        assert_eq!(t.post("/api/v1/webhooks", Some(&regulator), &other).status, 403);
        let bad = t.post("/api/v1/webhooks", Some(&admin), &json!({"department": "market", "url": "ftp://x"}));
        assert_eq!((bad.status, bad.body["code"].as_str()), (422, Some("invalid_url")), "{:?}", bad.body);
        let bad = t.post("/api/v1/webhooks", Some(&admin), &json!({"department": "nowhere", "url": "http://x/"}));
        assert_eq!((bad.status, bad.body["code"].as_str()), (422, Some("unknown_department")));
        let listed = t.get("/api/v1/webhooks", Some(&regulator));
        assert_eq!(listed.body["endpoints"].as_array().unwrap().len(), 2);
        assert!(!serde_json::to_string(&listed.body).unwrap().contains(&secret), "the secret is shown once");
        assert_eq!(t.get("/api/v1/webhooks", Some(&t.login("citizen"))).status, 403);
        let stored = t.app.store.read_blocking(|db| db.webhook_endpoints(None)).unwrap();
        assert!(stored.iter().all(|e| !e.secret_sealed.contains(&secret[6..])), "sealed at rest");

        // An approval of an item the market regulator oversees.
        hooks.answer("a", &[500]);
        hooks.answer("b", &[410]);
        let citizen = t.login("citizen");
        let code = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
        let done = drive_to_completion(t, &no);
        rt.block_on(t.app.drain_subscribers()).unwrap();
        rt.block_on(t.app.drain_subscribers()).unwrap();
        let inbox = t.get("/api/v1/liaison/messages?unacknowledged=true", Some(&regulator));
        assert_eq!(inbox.status, 200, "{:?}", inbox.body);
        assert_eq!(inbox.body["total"], 1, "one message, never twice: {:?}", inbox.body);
        let m = inbox.body["messages"][0].clone();
        assert_eq!((m["kind"].as_str(), m["case_no"].as_str()), (Some("approval"), Some(no.as_str())));
        assert_eq!(m["ack_due"], "2026-03-09", "5 working days after Mon 03-02");
        assert_eq!(m["summary"]["holder"], "张*", "a natural person's name is masked: {m}");
        assert!(!serde_json::to_string(&m).unwrap().contains("64010420050101001X"));
        assert_eq!(m["summary"]["licenses"], done["licenses"]);
        // Other regulators and citizens do not see it.
        assert_eq!(t.get("/api/v1/liaison/messages", Some(&citizen)).status, 403);
        assert_eq!(t.get("/api/v1/liaison/messages", Some(&supervisor)).body["total"], 1);

        // Delivery: a signed POST to each endpoint; 500 → retried later with the same id; 410 → endpoint disabled.
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 2);
        let got_a = hooks.received("a");
        assert_eq!(got_a.len(), 1);
        let (h, body) = &got_a[0];
        let id = header_of(h, "webhook-id").to_string();
        assert!(id.starts_with("msg_"));
        assert_eq!(header_of(h, "webhook-timestamp"), t.app.now().unix_timestamp().to_string());
        let ts: i64 = header_of(h, "webhook-timestamp").parse().unwrap();
        let expected = oneseal_seal::webhook::sign(&secret, &id, ts, body.as_bytes()).unwrap();
        assert_eq!(header_of(h, "webhook-signature"), expected);
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (payload["type"].as_str(), payload["data"]["id"].as_str()),
            (Some("liaison.approval"), m["id"].as_str())
        );
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 0, "nothing due before the backoff");
        let eps = t.get("/api/v1/webhooks", Some(&admin));
        let b_ep = eps.body["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"].as_str().unwrap().ends_with("/b"))
            .unwrap()
            .clone();
        assert_eq!(b_ep["enabled"], false, "410 disables: {b_ep}");
        let dead = t.get("/api/v1/webhooks/deliveries?status=dead", Some(&admin));
        assert_eq!(dead.body["deliveries"].as_array().unwrap().len(), 1);
        assert_eq!(dead.body["deliveries"][0]["last_status"], 410);
        t.clock.advance(time::Duration::seconds(6));
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 1);
        let got_a = hooks.received("a");
        assert_eq!(got_a.len(), 2);
        assert_eq!(header_of(&got_a[1].0, "webhook-id"), id, "the same id on a retry");
        let delivered = t.get("/api/v1/webhooks/deliveries?status=delivered", Some(&regulator));
        assert_eq!((delivered.body["deliveries"][0]["attempts"].as_i64()), Some(2), "{:?}", delivered.body);

        // A revocation is a message too; endpoint A fails three times → a dead letter, visible and re-sendable.
        hooks.answer("a", &[503, 502, 500]);
        let identifier = done["licenses"][0].as_str().unwrap().to_string();
        let chief = t.login(&format!("{}-chief", done["department"].as_str().unwrap()));
        let r = t.post(&format!("/api/v1/licenses/{identifier}/revoke"), Some(&chief), &json!({"reason": "撤销测试"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        rt.block_on(t.app.drain_subscribers()).unwrap();
        assert_eq!(t.get("/api/v1/liaison/messages?unacknowledged=true", Some(&regulator)).body["total"], 2);
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 1, "not to the disabled endpoint");
        t.clock.advance(time::Duration::seconds(6));
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 1);
        t.clock.advance(time::Duration::seconds(61));
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 1);
        let dead = t.get("/api/v1/webhooks/deliveries?status=dead", Some(&regulator));
        let letter = dead.body["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["event_type"] == "liaison.revocation")
            .unwrap()
            .clone();
        assert_eq!((letter["attempts"].as_i64(), letter["last_status"].as_i64()), (Some(3), Some(500)));
        let metrics = t.get("/metrics", Some(&supervisor));
        let text = metrics.body.as_str().unwrap_or_default();
        assert!(text.contains("oneseal_webhook_deliveries{status=\"dead\"} 2"), "{text}");
        assert!(text.contains("oneseal_webhook_failures_total 5"), "{text}");
        let path = format!("/api/v1/webhooks/deliveries/{}/resend", letter["id"].as_str().unwrap());
        assert_eq!(t.post(&path, Some(&citizen), &json!({})).status, 403);
        let r = t.post(&path, Some(&regulator), &json!({}));
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("pending")), "{:?}", r.body);
        let again = t.post(&path, Some(&regulator), &json!({}));
        assert_eq!((again.status, again.body["code"].as_str()), (422, Some("not_dead")));
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 1);
        assert_eq!(hooks.received("a").len(), 6);
        // The dead letter of the disabled endpoint is refused until it is enabled.
        let b_letter = t.get("/api/v1/webhooks/deliveries?status=dead", Some(&admin)).body["deliveries"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t.post(&format!("/api/v1/webhooks/deliveries/{b_letter}/resend"), Some(&admin), &json!({}));
        assert_eq!(r.body["code"], "endpoint_disabled");
        let b_id = b_ep["id"].as_str().unwrap();
        assert_eq!(t.post(&format!("/api/v1/webhooks/{b_id}/enable"), Some(&admin), &json!({})).body["enabled"], true);
        assert_eq!(
            t.post(&format!("/api/v1/webhooks/deliveries/{b_letter}/resend"), Some(&admin), &json!({})).status,
            200
        );
        assert_eq!(rt.block_on(t.app.run_webhooks_once(50)).unwrap(), 1);
        assert_eq!(hooks.received("b").len(), 2);

        // Acknowledgement: only the regulator's staff, once; late → one alert; counters per regulator.
        let approval = m["id"].as_str().unwrap().to_string();
        let ack =
            |id: &str, tk: &str| t.post(&format!("/api/v1/liaison/messages/{id}/acknowledge"), Some(tk), &json!({}));
        assert_eq!(ack(&approval, &supervisor).status, 403);
        let events = t.events();
        assert_eq!(ack("liaison-nope", &regulator).status, 404);
        assert_eq!(t.events(), events, "nothing written");
        let r = ack(&approval, &regulator);
        assert_eq!((r.status, r.body["late"].as_bool()), (200, Some(false)), "{:?}", r.body);
        assert_eq!(ack(&approval, &regulator).body["code"], "already_acknowledged");
        // The revocation message stays unacknowledged past its last day: the sweep raises one alert.
        t.clock.set(datetime!(2026-03-20 09:00 +8));
        let (supervisor, regulator) = (t.login("supervisor"), t.login("regulator"));
        let s = t.post("/api/v1/supervision/sweep", Some(&supervisor), &json!({}));
        assert_eq!(s.body["liaison_ack_overdue"], 1, "{:?}", s.body);
        assert_eq!(t.post("/api/v1/supervision/sweep", Some(&supervisor), &json!({})).body["liaison_ack_overdue"], 0);
        let alerts = t.get("/api/v1/alerts?kind=liaison_ack_overdue", Some(&supervisor));
        assert_eq!(alerts.body["total"], 1, "{:?}", alerts.body);
        assert_eq!(alerts.body["alerts"][0]["department"], "market");
        let c = t.get("/api/v1/liaison/counters", Some(&supervisor));
        let market =
            c.body["counters"].as_array().unwrap().iter().find(|x| x["regulator"] == "market").unwrap().clone();
        assert_eq!(
            (market["pushed"].as_i64(), market["acknowledged"].as_i64(), market["overdue"].as_i64()),
            (Some(2), Some(1), Some(1)),
            "{market}"
        );
        let revocation = t.get("/api/v1/liaison/messages?unacknowledged=true", Some(&regulator)).body["messages"][0]
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = ack(&revocation, &regulator);
        assert_eq!(r.body["late"], true);
        let c = t.get("/api/v1/liaison/counters", Some(&regulator));
        assert_eq!(c.body["counters"].as_array().unwrap().len(), 1, "a regulator sees its own counters");
        assert_eq!(
            (c.body["counters"][0]["acknowledged_late"].as_i64(), c.body["counters"][0]["overdue"].as_i64()),
            (Some(1), Some(0))
        );
        assert_eq!(
            t.get("/api/v1/alerts?kind=liaison_ack_overdue", Some(&supervisor)).body["total"],
            1,
            "still one alert"
        );

        // The liaison projections rebuild identically from their events.
        let before = rt.block_on(t.app.dump_projections()).unwrap();
        rt.block_on(t.app.rebuild()).unwrap();
        assert_eq!(rt.block_on(t.app.dump_projections()).unwrap(), before, "{}", t.backend);
    });
}

#[test]
fn consulting_a_regulator_pauses_the_clock_where_the_item_says_so() {
    each_backend(|t| {
        let citizen = t.login("citizen");
        let code = t.item_code("食品生产许可");
        let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        let acc = t.act(&t.login("clerk"), &no, "accept", json!({}));
        assert_eq!(acc.status, 200);
        let deadline = acc.body["clock"]["deadline"].as_str().unwrap().to_string();
        let dept = acc.body["current_step"]["tasks"][0]["department"].as_str().unwrap().to_string();
        let reviewer = t.login(&format!("{dept}-reviewer"));
        let path = format!("/api/v1/cases/{no}/consultations");
        let ask = |tk: &str, body: Value| t.post(&path, Some(tk), &body);
        // Bad requests change nothing.
        let events = t.events();
        for (body, code) in [
            (json!({"kind": "consult", "regulator": "nowhere", "question": "意见?"}), "unknown_regulator"),
            (json!({"kind": "consult", "regulator": "bureau-economy", "question": "意见?"}), "unknown_regulator"),
            (json!({"kind": "chat", "regulator": "market", "question": "意见?"}), "invalid_kind"),
            (json!({"kind": "consult", "regulator": "market", "question": "  "}), "text_required"),
            (json!({"kind": "consult", "regulator": "market", "question": "意见?", "days": 0}), "invalid_days"),
            (json!({"kind": "join", "regulator": "market", "question": "请参加现场核查"}), "not_an_inspection"),
        ] {
            let r = ask(&reviewer, body);
            assert_eq!((r.status, r.body["code"].as_str()), (422, Some(code)), "{:?}", r.body);
        }
        assert_eq!(ask(&citizen, json!({"kind": "consult", "regulator": "market", "question": "?"})).status, 403);
        assert_eq!(
            ask(&t.login("health-reviewer"), json!({"kind": "consult", "regulator": "market", "question": "?"})).status,
            404
        );
        assert_eq!(t.events(), events, "nothing written");

        // The reviewer consults the market regulator on Tue 03-03; the item pauses the clock.
        t.clock.set(datetime!(2026-03-03 10:00 +8));
        let reviewer = t.login(&format!("{dept}-reviewer"));
        let c = ask(
            &reviewer,
            json!({"kind": "consult", "regulator": "market", "question": "申请人有无监管处罚记录？", "days": 3}),
        );
        assert_eq!(c.status, 201, "{:?}", c.body);
        assert_eq!((c.body["pauses_clock"].as_bool(), c.body["due"].as_str()), (Some(true), Some("2026-03-06")));
        let case = t.get(&format!("/api/v1/cases/{no}"), Some(&reviewer));
        assert_eq!(case.body["status"], "suspended");
        let regulator = t.login("regulator");
        let inbox = t.get("/api/v1/consultations", Some(&regulator));
        assert_eq!(inbox.body["consultations"][0]["id"], c.body["id"]);
        let notes = t.get("/api/v1/notifications", Some(&regulator));
        assert!(notes.body["notifications"].as_array().unwrap().iter().any(|n| n["kind"] == "consultation_consult"));
        // The answer comes Thu 03-05: the clock runs again, the deadline moves by the days paused.
        t.clock.set(datetime!(2026-03-05 15:00 +8));
        let regulator = t.login("regulator");
        let id = c.body["id"].as_str().unwrap();
        let answer = |tk: &str, text: &str| {
            t.post(&format!("/api/v1/consultations/{id}/answer"), Some(tk), &json!({"answer": text}))
        };
        assert_eq!(answer(&t.login("supervisor"), "无").status, 403);
        let a = answer(&regulator, "近三年无行政处罚记录");
        assert_eq!((a.status, a.body["status"].as_str()), (200, Some("answered")), "{:?}", a.body);
        assert_eq!(answer(&regulator, "again").body["code"], "consultation_closed");
        let reviewer = t.login(&format!("{dept}-reviewer"));
        let case = t.get(&format!("/api/v1/cases/{no}"), Some(&reviewer));
        assert_eq!(case.body["status"], "in_progress", "{:?}", case.body);
        assert_ne!(case.body["clock"]["deadline"].as_str(), Some(deadline.as_str()), "the deadline moved");
        let trail = t.get(&format!("/api/v1/cases/{no}/events"), Some(&reviewer));
        let resumed = trail.body["events"].as_array().unwrap().iter().find(|e| e["type"] == "resumed").unwrap().clone();
        assert_eq!(resumed["actor"], "liaison", "{resumed}");
        let listed = t.get(&path, Some(&reviewer));
        assert_eq!(listed.body["consultations"][0]["answer"], "近三年无行政处罚记录");
        // At the inspection step the regulator is invited to take part (no pause).
        let at = drive_until(t, &no, Some("inspection"));
        assert_eq!(at["current_step"]["kind"], "inspection");
        let inspector = t.login(&format!("{dept}-reviewer"));
        let j = ask(&inspector, json!({"kind": "join", "regulator": "market", "question": "请于3月10日参加现场核查"}));
        assert_eq!((j.status, j.body["pauses_clock"].as_bool()), (201, Some(false)), "{:?}", j.body);
        let jid = j.body["id"].as_str().unwrap();
        let r = t.post(
            &format!("/api/v1/consultations/{jid}/answer"),
            Some(&regulator),
            &json!({"answer": "已参加，现场符合要求"}),
        );
        assert_eq!(r.status, 200);
        assert_eq!(t.get(&format!("/api/v1/cases/{no}"), Some(&inspector)).body["status"], "in_progress");
        // A filing completes on submission; it reaches the regulator as a filing.
        let filing = t.item_code("仅销售预包装食品备案");
        let r = t.post("/api/v1/cases", Some(&t.login("citizen")), &submission(t, &filing, "online"));
        assert_eq!((r.status, r.body["status"].as_str()), (201, Some("completed")), "{:?}", r.body);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(t.app.drain_subscribers()).unwrap();
        let q = format!("/api/v1/liaison/messages?case_no={}", r.body["case_no"].as_str().unwrap());
        let inbox = t.get(&q, Some(&regulator));
        assert_eq!(
            (inbox.body["total"].as_i64(), inbox.body["messages"][0]["kind"].as_str()),
            (Some(1), Some("filing")),
            "{:?}",
            inbox.body
        );
    });
}

/// Working minutes by brute force: step minute by minute and count those inside 09:00–12:00 or 13:30–17:30
/// (Beijing) on a working day of the calendar.
fn brute_working_minutes(
    cal: &oneseal_domain::calendar::Calendar,
    from: time::OffsetDateTime,
    to: time::OffsetDateTime,
) -> i64 {
    let off = time::UtcOffset::from_hms(8, 0, 0).unwrap();
    let mut t = from.to_offset(off);
    let mut n = 0;
    while t + time::Duration::minutes(1) <= to {
        let hm = u32::from(t.hour()) * 60 + u32::from(t.minute());
        if cal.is_workday(t.date()).unwrap() && ((540..720).contains(&hm) || (810..1050).contains(&hm)) {
            n += 1;
        }
        t += time::Duration::minutes(1);
    }
    n
}

#[test]
fn dashboard_numbers_equal_a_brute_force_count() {
    each_backend(|t| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let food = t.item_code("食品经营许可");
        let company = t.item_code("公司设立登记");
        let filing = t.item_code("仅销售预包装食品备案");
        let mut cases = Vec::new();
        let mut submit = |who: &str, code: &str, channel: &str, point: &str| {
            let mut sub = submission(t, code, channel);
            sub["service_point"] = json!(point);
            let r = t.post("/api/v1/cases", Some(&t.login(who)), &sub);
            assert_eq!(r.status, 201, "{:?}", r.body);
            let no = r.body["case_no"].as_str().unwrap().to_string();
            cases.push(no.clone());
            no
        };
        // Last week (Thu 02-26), then today (Mon 03-02) at several hours, through several channels and windows.
        t.clock.set(datetime!(2026-02-26 15:10 +8));
        let old = submit("citizen", &food, "online", "网上办事大厅");
        t.clock.set(datetime!(2026-03-02 09:20 +8));
        let c1 = submit("clerk", &company, "window", "A01");
        submit("clerk", &food, "window", "A01");
        t.clock.set(datetime!(2026-03-02 10:40 +8));
        submit("bank-clerk", &food, "bank", "建设银行北京路网点");
        submit("citizen", &filing, "online", "网上办事大厅");
        submit("citizen", &food, "mobile", "我的宁夏");
        t.clock.set(datetime!(2026-03-02 14:05 +8));
        let c2 = submit("clerk", &food, "window", "A02");
        // Accept and complete some: the company today (same afternoon), the old one across the weekend.
        for no in [&c1, &old, &c2] {
            assert_eq!(t.act(&t.login("clerk"), no, "accept", json!({})).status, 200);
        }
        t.clock.set(datetime!(2026-03-02 16:20 +8));
        drive_to_completion(t, &c1);
        drive_to_completion(t, &old);
        rt.block_on(t.app.drain_subscribers()).unwrap();
        let sup = t.login("supervisor");
        let d = t.get("/api/v1/dashboard", Some(&sup));
        assert_eq!(d.status, 200, "{:?}", d.body);
        assert_eq!(t.get("/api/v1/dashboard", Some(&t.login("clerk"))).status, 403);

        // Brute force from each case as the API shows it.
        let cal = t.app.calendar();
        let off = time::UtcOffset::from_hms(8, 0, 0).unwrap();
        let rfc = |v: &Value| {
            v.as_str().map(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap())
        };
        let today = time::macros::date!(2026 - 03 - 02);
        let (mut today_total, mut month_total, mut completed, mut on_time, mut with_deadline) = (0, 0, 0, 0, 0);
        let mut by_channel = std::collections::BTreeMap::<String, i64>::new();
        let mut by_window = std::collections::BTreeMap::<String, i64>::new();
        let mut by_hour = std::collections::BTreeMap::<String, i64>::new();
        let mut minutes = Vec::new();
        let mut company_minutes = Vec::new();
        for no in &cases {
            let c = t.get(&format!("/api/v1/cases/{no}"), Some(&sup)).body;
            let sub = rfc(&c["submitted_at"]).unwrap().to_offset(off);
            let channel = c["channel"].as_str().unwrap().to_string();
            if sub.date() == today {
                today_total += 1;
                if channel == "window" || channel == "bank" {
                    *by_window.entry(c["service_point"].as_str().unwrap().to_string()).or_default() += 1;
                    *by_hour.entry(sub.hour().to_string()).or_default() += 1;
                }
            }
            if sub.month() == time::Month::March {
                month_total += 1;
                *by_channel.entry(channel.clone()).or_default() += 1;
            }
            if c["status"] == "completed" {
                let fin = rfc(&c["finished_at"]).unwrap();
                completed += 1;
                // The deadline day: the working-day deadline, or the day an on-the-spot (minutes) limit runs out.
                let dl = c["clock_state"]["deadline"].as_str().map(str::to_string).or_else(|| {
                    rfc(&c["clock_state"]["deadline_at"])
                        .map(|x| oneseal_domain::calendar::format_date(x.to_offset(off).date()))
                });
                if let Some(dl) = dl.as_deref() {
                    with_deadline += 1;
                    if oneseal_domain::calendar::format_date(fin.to_offset(off).date()).as_str() <= dl {
                        on_time += 1;
                    }
                }
                let m = brute_working_minutes(&cal, rfc(&c["submitted_at"]).unwrap(), fin);
                minutes.push(m);
                if c["subject"]["code"] == company.as_str() {
                    company_minutes.push(m);
                }
            }
        }
        let b = &d.body;
        assert_eq!(b["today_total"], today_total, "{b}");
        assert_eq!(b["month_total"], month_total);
        assert_eq!(b["month_by_channel"], json!(by_channel));
        assert_eq!(b["today_by_window"], json!(by_window));
        assert_eq!(b["today_by_hour"], json!(by_hour));
        assert_eq!(b["month_completed"], completed);
        assert_eq!(
            (b["month_on_time"].as_i64(), b["month_with_deadline"].as_i64()),
            (Some(on_time), Some(with_deadline))
        );
        let avg = minutes.iter().sum::<i64>() as f64 / minutes.len() as f64 / 420.0;
        assert!(
            (b["average_working_days"].as_f64().unwrap() - avg).abs() < 1e-9,
            "{} vs {avg}",
            b["average_working_days"]
        );
        let online = (by_channel.get("online").unwrap_or(&0) + by_channel.get("mobile").unwrap_or(&0)) as f64;
        assert!((b["online_share"].as_f64().unwrap() - online / month_total as f64).abs() < 1e-9);
        let target = b["targets"].as_array().unwrap().iter().find(|x| x["id"] == "company-setup").unwrap();
        let cavg = company_minutes.iter().sum::<i64>() as f64 / company_minutes.len() as f64 / 420.0;
        assert_eq!(target["completed"], company_minutes.len());
        assert!((target["average_working_days"].as_f64().unwrap() - cavg).abs() < 1e-9, "{target}");
        assert_eq!(target["met"], json!(cavg <= 0.5));
        // Open cases past their deadline day, per department (none here yet; then one, three working days late).
        assert_eq!(b["overdue_by_department"], json!({}));
        t.clock.set(datetime!(2026-03-20 10:00 +8));
        let late = t.get("/api/v1/dashboard", Some(&t.login("supervisor"))).body;
        let mut overdue = std::collections::BTreeMap::<String, i64>::new();
        for no in &cases {
            let c = t.get(&format!("/api/v1/cases/{no}"), Some(&t.login("supervisor"))).body;
            let open = ["submitted", "awaiting_correction", "in_progress", "suspended"]
                .contains(&c["status"].as_str().unwrap());
            let dl = c["clock_state"]["deadline"].as_str().map(str::to_string);
            if open && dl.is_some_and(|d| d.as_str() < "2026-03-20") {
                *overdue.entry(c["department"].as_str().unwrap().to_string()).or_default() += 1;
            }
        }
        assert!(!overdue.is_empty(), "the accepted, unfinished case is overdue by 03-20");
        assert_eq!(late["overdue_by_department"], json!(overdue));
        t.clock.set(datetime!(2026-03-02 16:20 +8));
        // The trend counts today's applications and completions.
        let last = b["trend"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last, json!(["2026-03-02", today_total, completed]));
        // Every table downloads as CSV with a header row; the page and the big screen render.
        let page = |path: &str| {
            let mut r = t
                .agent
                .get(&format!("{}{path}", t.base))
                .header("Authorization", &format!("Bearer {sup}"))
                .call()
                .unwrap();
            (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default())
        };
        for table in oneseal_app::dashboard::TABLES {
            let (status, text) = page(&format!("/dashboard/tables/{table}.csv"));
            assert_eq!(status, 200, "{table}");
            assert!(
                text.lines().count() >= 2 || *table == "liaison" || *table == "alerts" || *table == "overdue",
                "{table}: {text}"
            );
        }
        let (_, text) = page("/dashboard/tables/channels.csv");
        assert!(text.contains(&format!("\"window\",\"window\",\"{}\"", by_channel["window"])), "{text}");
        assert_eq!(page("/dashboard/tables/nope.csv").0, 404);
        let (status, html) = page("/dashboard");
        assert_eq!(status, 200);
        assert!(html.contains("dashboard-data") && html.contains("echarts.simple.min.js"));
        assert_eq!(page("/dashboard/screen").0, 200);
    });
}

#[test]
fn a_case_without_action_is_stalled_after_fourteen_working_hours() {
    each_backend(|t| {
        let code = t.item_code("食品经营许可");
        let r = t.post("/api/v1/cases", Some(&t.login("citizen")), &submission(t, &code, "online"));
        let no = r.body["case_no"].as_str().unwrap().to_string();
        // Accepted Mon 03-02 10:00; nobody acts. Monday leaves 6 bureau hours, Tuesday 7, so the 14th hour ends
        // Wed 03-04 at 10:00 — not a minute earlier.
        assert_eq!(t.act(&t.login("clerk"), &no, "accept", json!({})).status, 200);
        let sweep = || t.post("/api/v1/supervision/sweep", Some(&t.login("supervisor")), &json!({})).body;
        t.clock.set(datetime!(2026-03-04 09:59 +8));
        assert_eq!(sweep()["stalled"], 0);
        t.clock.set(datetime!(2026-03-04 10:00 +8));
        assert_eq!(sweep()["stalled"], 1);
        assert_eq!(sweep()["stalled"], 0, "once");
        let a = t.get(&format!("/api/v1/alerts?kind=stalled&case_no={no}"), Some(&t.login("supervisor")));
        assert!(a.body["alerts"][0]["detail"].as_str().unwrap().contains("14 working hours"), "{:?}", a.body);
        // What people write reaches the CSV export as text, never as a spreadsheet formula.
        let id = a.body["alerts"][0]["id"].as_str().unwrap().to_string();
        let supervisor = t.login("supervisor");
        let note = "=HYPERLINK(\"http://evil.example\",\"点我\")";
        let r = t.post(&format!("/api/v1/alerts/{id}/close"), Some(&supervisor), &json!({"note": note}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let mut resp = t
            .agent
            .get(&format!("{}/api/v1/export/alerts.csv", t.base))
            .header("Authorization", &format!("Bearer {supervisor}"))
            .call()
            .unwrap();
        let csv = resp.body_mut().read_to_string().unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")\""), "{csv}");
        assert!(!csv.contains(",\"=") && !csv.contains(",="), "no cell starts with a formula: {csv}");
    });
}

fn ticket_body(category: &str, content: &str, location: &str) -> Value {
    json!({"category": category, "caller_name": "王五", "caller_phone": "13912345678", "content": content, "location": location})
}

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

/// Submit `code` as the citizen and accept it at the general window, at the test clock's time.
fn submitted_and_accepted(t: &TestApp, code: &str) -> Value {
    let citizen = t.login("citizen");
    let clerk = t.login("clerk");
    let r = t.post("/api/v1/cases", Some(&citizen), &submission(t, code, "online"));
    assert_eq!(r.status, 201, "{}: {:?}", t.backend, r.body);
    let no = r.body["case_no"].as_str().unwrap().to_string();
    let r = t.act(&clerk, &no, "accept", json!({}));
    assert_eq!(r.status, 200, "{}: accept {no}: {:?}", t.backend, r.body);
    r.body
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

/// Every `.route("path", get(..).post(..))` in the web crate's source, as (method, path).
fn routes_in_source() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            // The call's arguments, up to the matching parenthesis.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(j, _)| j)
                .unwrap();
            let args = &rest[..end];
            let path = args.split('"').nth(1).unwrap().to_string();
            let handlers = &args[args.find(',').unwrap()..];
            for m in ["get", "post", "put", "delete", "patch"] {
                let called = |h: &str| {
                    h.match_indices(&format!("{m}(")).any(|(k, _)| {
                        k == 0 || !h.as_bytes()[k - 1].is_ascii_alphanumeric() && h.as_bytes()[k - 1] != b'_'
                    })
                };
                if called(handlers) {
                    out.push((m.to_uppercase(), path.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn every_route_in_the_router_has_a_declared_rule_and_undeclared_methods_are_refused() {
    let declared: Vec<(&str, &str)> = oneseal_web::ROUTES
        .iter()
        .chain(oneseal_web::pages::PAGES)
        .chain(oneseal_web::policy::INFRA)
        .map(|(m, p, _)| (*m, *p))
        .collect();
    let found = routes_in_source();
    assert!(found.len() > 150, "the scan finds the routes: {}", found.len());
    for (m, p) in &found {
        assert!(declared.contains(&(m.as_str(), p.as_str())), "{m} {p} is routed but has no access rule");
        assert!(oneseal_web::policy::rule(m, p).is_some());
    }
    for (m, p) in &declared {
        assert!(found.iter().any(|(fm, fp)| fm == m && fp == p), "{m} {p} is declared but not routed");
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
