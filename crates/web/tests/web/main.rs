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

mod acceptance;
mod assessments;
mod cases;
mod channels;
mod drawings;
mod hall;
mod hotline;
mod inspections;
mod licences;
mod parties;
mod project_types;
mod projects;
mod security;
mod shipments;
mod supervision;
mod videos;

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
    app.set_video_settings(oneseal_app::videos::VideoSettings { dir: test_files_dir(), ..Default::default() });
    let addr = serve_node(app.clone(), oneseal_web::WebSettings { oidc, ..Default::default() }, true);
    // No connection reuse: a connection the server closed after refusing a body must not be picked for the next
    // request (that would be a flaky test, not a server fault).
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_idle_connections(0).build().into();
    TestApp { url: db_url, base: format!("http://{addr}"), app, clock, agent, backend }
}

/// A second node of `t`: its own store, application and server on the same database (the catalog and accounts
/// are already there). Returns its base URL and its application.
fn spawn_node(t: &TestApp, oidc: Option<oneseal_web::oidc::OidcConfig>) -> (String, App) {
    spawn_node_with(t, oneseal_web::WebSettings { oidc, ..Default::default() })
}

/// [`spawn_node`] with the web edge's settings.
fn spawn_node_with(t: &TestApp, settings: oneseal_web::WebSettings) -> (String, App) {
    let store = Store::open(&t.url, StoreOptions::default()).expect("store");
    let app = App::new(store, t.clock.clone(), test_master_key()).expect("app");
    app.set_anonymous_per_minute(0);
    let addr = serve_node(app.clone(), settings, false);
    (format!("http://{addr}"), app)
}

/// Serve an application on 127.0.0.1 from a thread of its own; `demo`: first load the demo catalog, accounts and
/// seal (the first node of a fresh database).
fn serve_node(app: App, settings: oneseal_web::WebSettings, demo: bool) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            if demo {
                let set = oneseal_app::catalog::demo_catalog().unwrap();
                app.import_catalog(set, "demo", "demo catalog").await.unwrap();
                app.ensure_demo_accounts().await.unwrap();
                app.install_seal("demo", "a test seal passphrase", None).await.unwrap();
            }
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            oneseal_web::serve_router(oneseal_web::router_with(app, settings), l, std::future::pending())
                .await
                .unwrap();
        });
    });
    rx.recv().expect("server address")
}

/// A fresh file store (videos) for one test server.
fn test_files_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("oneseal-web-files-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn test_master_key() -> oneseal_seal::pd::MasterKey {
    oneseal_seal::pd::MasterKey::from_hex(&"5a".repeat(32)).unwrap()
}

/// Rebuild the projections from the log and check every table equals the live one, row by row.
fn assert_rebuild_identical(t: &TestApp) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = rt.block_on(t.app.dump_projections()).unwrap();
    rt.block_on(t.app.rebuild()).unwrap();
    let after = rt.block_on(t.app.dump_projections()).unwrap();
    assert_eq!(before.len(), after.len());
    for ((name, a), (_, b)) in before.iter().zip(after.iter()) {
        assert_eq!(a, b, "{}: {name} differs after rebuild", t.backend);
    }
}

/// A test server's file store goes with it (videos are large).
impl Drop for TestApp {
    fn drop(&mut self) {
        let dir = self.app.video_settings().dir;
        if dir.starts_with(std::env::temp_dir()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
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
                    "PATCH" => self.agent.patch(&url),
                    "DELETE" | "HEAD" | "OPTIONS" => {
                        let mut r = match m {
                            "DELETE" => self.agent.delete(&url),
                            "HEAD" => self.agent.head(&url),
                            _ => self.agent.options(&url),
                        };
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

/// A submission of the 开餐馆 bundle (open-restaurant) by the demo company, every required material named.
fn restaurant_submission(t: &TestApp) -> Value {
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
    json!({"bundle_code": "open-restaurant", "channel": "online",
        "applicant": {"kind": "organisation", "name": "银川塞上餐饮有限公司", "id_number": "91110000600037341L"},
        "form": fill(&def.form), "materials": materials})
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
            "inspection" if by_checklist(t, case_no) => {
                pass_checklist_inspection(t, case_no);
                continue;
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

/// The case's current inspection is by checklist (联合验收: its entries name their departments).
fn by_checklist(t: &TestApp, case_no: &str) -> bool {
    let i = t.get(&format!("/api/v1/cases/{case_no}/inspection"), Some(&t.login("clerk")));
    i.body["checklist"].as_array().is_some_and(|c| c.iter().any(|e| e["department"].is_string()))
}

/// The next slot of the bureau's hours at least 30 minutes from the test clock (the same day's if one is left).
fn next_slot(t: &TestApp) -> time::OffsetDateTime {
    let cal = t.app.calendar();
    let now = t.app.now().to_offset(time::macros::offset!(+8));
    let soon = now + time::Duration::minutes(30);
    let soon = soon.replace_second(0).unwrap().replace_nanosecond(0).unwrap();
    let m = u32::from(soon.hour()) * 60 + u32::from(soon.minute());
    if cal.is_workday(soon.date()).unwrap() && ((540..=660).contains(&m) || (810..=990).contains(&m)) {
        return soon;
    }
    let mut d = now.date().next_day().unwrap();
    while !cal.is_workday(d).unwrap() {
        d = d.next_day().unwrap();
    }
    d.with_hms(9, 30, 0).unwrap().assume_offset(time::macros::offset!(+8))
}

/// 联合验收 with every entry passed: the case's department (the lead) schedules one visit in the next slot, the
/// clock moves to it, each department records its own entries, and the lead records the joint result.
fn pass_checklist_inspection(t: &TestApp, case_no: &str) {
    let c = t.get(&format!("/api/v1/cases/{case_no}"), Some(&t.login("clerk"))).body;
    let lead = t.login(&format!("{}-reviewer", c["department"].as_str().unwrap()));
    let checklist = t.get(&format!("/api/v1/cases/{case_no}/inspection"), Some(&lead)).body["checklist"].clone();
    let start = next_slot(t);
    let slot = json!({"visit": "on_site", "start": start.format(&time::format_description::well_known::Rfc3339).unwrap(), "minutes": 60});
    let r = t.post(&format!("/api/v1/cases/{case_no}/inspection/schedule"), Some(&lead), &slot);
    assert_eq!(r.status, 201, "{} schedule {case_no}: {:?}", t.backend, r.body);
    t.clock.set(start);
    for task in c["current_step"]["tasks"].as_array().unwrap().iter().filter(|x| x["status"] == "open") {
        let dept = task["department"].as_str().unwrap();
        let entries: Vec<Value> = checklist
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["department"] == dept)
            .map(|e| json!({"item": e["id"], "passed": true}))
            .collect();
        let body = json!({"task_id": task["task_id"], "findings": "符合要求", "checklist": entries});
        let r = t.post(
            &format!("/api/v1/cases/{case_no}/inspection/findings"),
            Some(&t.login(&format!("{dept}-reviewer"))),
            &body,
        );
        assert_eq!(r.status, 200, "{} {dept} checklist: {:?}", t.backend, r.body);
    }
    let r = t.post(
        &format!("/api/v1/cases/{case_no}/inspection/joint-result"),
        Some(&lead),
        &json!({"opinion": "联合验收合格"}),
    );
    assert_eq!(r.status, 200, "{} joint result: {:?}", t.backend, r.body);
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
    use rsa::{Pkcs1v15Sign, PrivateKey as RsaPrivateKey};
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
            json!({"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64(&p.n().as_ref().to_be_bytes_trimmed_vartime()), "e": b64(&p.e().to_be_bytes_trimmed_vartime())}]}),
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

/// Keep a PDF in target/pdf-samples as `{name}.pdf` (to look at) and read its text with pdftotext: the file, the
/// text, and the text without white space.
fn pdf_sample(name: &str, pdf: &[u8]) -> (std::path::PathBuf, String, String) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pdf-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let text = run_tool("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), file.as_os_str(), "-".as_ref()]);
    let squeezed = text.chars().filter(|c| !c.is_whitespace()).collect();
    (file, text, squeezed)
}

fn run_tool(name: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e} (apt-get install poppler-utils zbar-tools; .ci/run installs them)"));
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
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

fn ticket_body(category: &str, content: &str, location: &str) -> Value {
    json!({"category": category, "caller_name": "王五", "caller_phone": "13912345678", "content": content, "location": location})
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

/// The source files of the web crate that add routes to an axum router directly (`.route(`): only the declaring
/// builder may.
fn route_calls_in_source() -> Vec<String> {
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
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    let mut out: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(".route("))
        .map(|f| format!("crates/web/{}", f.strip_prefix(root).unwrap().display()))
        .collect();
    out.sort();
    out
}
