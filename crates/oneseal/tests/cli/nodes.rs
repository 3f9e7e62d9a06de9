//! Three `oneseal serve` processes on one PostgreSQL database (issue 16 §4): lifecycles driven round-robin through
//! all three over HTTP, a webhook receiver on loopback, one node killed with SIGKILL mid-run. Then: every
//! acknowledged write is there, every webhook delivery arrived (duplicates only from claims the killed node held),
//! each liaison message, notification and alert exists once, the transparency log verifies, and a rebuild matches.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{agent, free_port, BIN};

const PD_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const PASS: &str = "three-node seal passphrase";

fn node(db: &str, port: u16, log: &std::path::Path) -> Child {
    let err = std::fs::File::create(log).expect("node log");
    let child = Command::new(BIN)
        .args(["serve", "--demo", "--database", db, "--listen", &format!("127.0.0.1:{port}")])
        .env("ONESEAL_PD_KEY", PD_KEY)
        .env("ONESEAL_SEAL_PASSPHRASE", PASS)
        .env("ONESEAL_EGRESS_ALLOW", "127.0.0.0/8")
        .env("ONESEAL_WEBHOOK_LEASE_SECONDS", "20")
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .expect("start node");
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("node on {port} did not start: {}", std::fs::read_to_string(log).unwrap_or_default());
}

/// A webhook receiver: counts each `webhook-id` it is sent, answers 204.
fn receiver() -> (u16, Arc<Mutex<HashMap<String, usize>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let g = got.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let g = g.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                loop {
                    let (mut id, mut len) = (None, 0usize);
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':') {
                            match k.trim().to_ascii_lowercase().as_str() {
                                "webhook-id" => id = Some(v.trim().to_string()),
                                "content-length" => len = v.trim().parse().unwrap_or(0),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0u8; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    if let Some(id) = id {
                        *g.lock().unwrap().entry(id).or_default() += 1;
                    }
                    if s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, got)
}

fn call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let r = match (method, body) {
        ("GET", _) => {
            let mut q = a.get(url);
            if let Some(t) = token {
                q = q.header("Authorization", &format!("Bearer {t}"));
            }
            q.call()
        }
        (_, b) => {
            let mut q = a.post(url);
            if let Some(t) = token {
                q = q.header("Authorization", &format!("Bearer {t}"));
            }
            q.send_json(b.cloned().unwrap_or(json!({})))
        }
    };
    let mut r = r.map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let v: Value = r.body_mut().read_json().unwrap_or(Value::Null);
    Ok((status, v))
}

/// A complete online submission for an item as the API describes it (every field filled, every required
/// material named).
pub(crate) fn fill(item: &Value) -> Value {
    let mut form = serde_json::Map::new();
    for f in item["form"]["fields"].as_array().unwrap() {
        let v = match f["type"].as_str().unwrap() {
            "uscc" => json!("91110000600037341L"),
            "phone" => json!("13800000000"),
            "number" | "integer" => json!(f["min"].as_f64().unwrap_or(0.0).max(100.0)),
            "choice" => f["options"][0].clone(),
            "resident_id" => json!("64010420050101001X"),
            "region_code" => json!("640104"),
            "date" => json!("2026-03-01"),
            "boolean" => json!(false),
            _ => json!("银川"),
        };
        form.insert(f["key"].as_str().unwrap().to_string(), v);
    }
    let materials: Vec<Value> = item["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["required"] == true)
        .map(|m| json!({"material_id": m["id"], "file_name": "x.pdf"}))
        .collect();
    json!({"item_code": item["impl_code"], "channel": "online", "applicant": {"kind": "person", "name": "张三", "id_number": "64010420050101001X"}, "form": form, "materials": materials})
}

fn item(a: &ureq::Agent, base: &str, name: &str) -> Value {
    let q: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
    let (_, items) = call(a, "GET", &format!("{base}/api/v1/items?q={q}"), None, None).unwrap();
    let code = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item {name}: {items}"))["impl_code"]
        .as_str()
        .unwrap()
        .to_string();
    call(a, "GET", &format!("{base}/api/v1/items/{code}"), None, None).unwrap().1
}

/// What a client was told last about a case: its status and version in the last 2xx answer.
#[derive(Debug, Clone)]
struct Acked {
    status: String,
    version: Option<i64>,
}

fn login(a: &ureq::Agent, base: &str, user: &str) -> String {
    let (s, v) = call(
        a,
        "POST",
        &format!("{base}/api/v1/sessions"),
        None,
        Some(&json!({"username": user, "password": "oneseal-demo"})),
    )
    .unwrap();
    assert_eq!(s, 201, "login {user}: {v}");
    v["token"].as_str().unwrap().to_string()
}

fn cli(db: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database", db])
        .env("ONESEAL_PD_KEY", PD_KEY)
        .env("ONESEAL_SEAL_PASSPHRASE", PASS)
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn three_nodes_on_one_postgres_survive_a_kill_9() {
    let Some(pg) = oneseal_store::testing::pg_url() else {
        assert!(
            std::env::var_os("ONESEAL_REQUIRE_PG").is_none(),
            "ONESEAL_REQUIRE_PG is set but ONESEAL_TEST_PG is not"
        );
        eprintln!("three_nodes: ONESEAL_TEST_PG not set, skipped");
        return;
    };
    let url = oneseal_store::testing::fresh_postgres(&pg).unwrap();
    let oneseal_store::DatabaseUrl::Postgres(db) = url.clone() else { unreachable!() };
    let dir = std::env::temp_dir().join(format!("oneseal-nodes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (rport, received) = receiver();

    // The first node loads the demo data; the other two start on the database it made.
    let ports = [free_port(), free_port(), free_port()];
    let mut nodes: Vec<Option<Child>> = vec![Some(node(&db, ports[0], &dir.join("node0.log")))];
    for (i, p) in ports.iter().enumerate().skip(1) {
        nodes.push(Some(node(&db, *p, &dir.join(format!("node{i}.log")))));
    }
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let a = agent();
    // Sessions live in the database: a token from one node works on every node.
    let admin = login(&a, &bases[1], "admin");
    let (s, ep) = call(
        &a,
        "POST",
        &format!("{}/api/v1/webhooks", bases[2]),
        Some(&admin),
        Some(&json!({"department": "market", "url": format!("http://127.0.0.1:{rport}/hook")})),
    )
    .unwrap();
    assert_eq!(s, 201, "register the webhook: {ep}");
    let filing = fill(&item(&a, &bases[0], "仅销售预包装食品备案"));
    let licensing = fill(&item(&a, &bases[0], "公司设立登记"));
    let depts: Vec<String> = {
        let (_, v) = call(&a, "GET", &format!("{}/api/v1/departments", bases[0]), None, None).unwrap();
        v["departments"]
            .as_array()
            .map(|d| d.iter().filter_map(|x| x["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut tokens: BTreeMap<String, String> = BTreeMap::new();
    tokens.insert("citizen".into(), login(&a, &bases[0], "citizen"));
    tokens.insert("clerk".into(), login(&a, &bases[1], "clerk"));
    for d in &depts {
        for role in ["reviewer", "chief", "clerk"] {
            let u = format!("{d}-{role}");
            tokens.insert(u.clone(), login(&a, &bases[2], &u));
        }
    }
    let tokens = Arc::new(tokens);

    let acked: Arc<Mutex<BTreeMap<String, Acked>>> = Arc::default();
    let dead = Arc::new(AtomicUsize::new(usize::MAX));
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for w in 0..6 {
        let (acked, dead, stop, requests, bases, tokens) =
            (acked.clone(), dead.clone(), stop.clone(), requests.clone(), bases.clone(), tokens.clone());
        let (filing, licensing) = (filing.clone(), licensing.clone());
        clients.push(std::thread::spawn(move || {
            let a = agent();
            // Round-robin over the nodes, skipping the one that was killed.
            let mut turn = w;
            let mut next = || loop {
                turn += 1;
                let i = turn % 3;
                if dead.load(Ordering::SeqCst) != i {
                    return bases[i].clone();
                }
            };
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let body = if n % 2 == 0 { &filing } else { &licensing };
                requests.fetch_add(1, Ordering::Relaxed);
                let Ok((s, v)) =
                    call(&a, "POST", &format!("{}/api/v1/cases", next()), Some(&tokens["citizen"]), Some(body))
                else {
                    continue;
                };
                if s != 201 {
                    assert!(s < 500, "submit: {s} {v}");
                    continue;
                }
                let no = v["case_no"].as_str().unwrap().to_string();
                let remember = |v: &Value| {
                    let status = v["status"].as_str().unwrap_or("submitted").to_string();
                    acked.lock().unwrap().insert(no.clone(), Acked { status, version: v["version"].as_i64() });
                };
                remember(&v);
                if v["status"] == "completed" {
                    continue;
                }
                // The licensing lifecycle: accept, then each step by the department's demo account.
                let mut step: (String, Value, String) = ("accept".into(), json!({}), "clerk".into());
                for _ in 0..20 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    requests.fetch_add(1, Ordering::Relaxed);
                    let r = call(
                        &a,
                        "POST",
                        &format!("{}/api/v1/cases/{no}/{}", next(), step.0),
                        Some(&tokens[&step.2]),
                        Some(&step.1),
                    );
                    let Ok((s, v)) = r else { continue };
                    if s != 200 {
                        // A retry after a node died may find the step done already (a conflict), never a 5xx.
                        assert!(s < 500, "{}: {s} {v}", step.0);
                        break;
                    }
                    remember(&v);
                    if v["status"] == "completed" {
                        break;
                    }
                    let cur = &v["current_step"];
                    let Some(task) =
                        cur["tasks"].as_array().and_then(|ts| ts.iter().find(|t| t["status"] == "open")).cloned()
                    else {
                        break;
                    };
                    let dept = task["department"].as_str().unwrap_or_default().to_string();
                    step = match cur["kind"].as_str().unwrap_or_default() {
                        "review" | "joint_review" | "inspection" => (
                            "complete".into(),
                            json!({"task_id": task["task_id"], "opinion": "同意"}),
                            format!("{dept}-reviewer"),
                        ),
                        "decision" => ("decide".into(), json!({"outcome": "grant"}), format!("{dept}-chief")),
                        "license_issuance" => ("issue-licenses".into(), json!({}), format!("{dept}-clerk")),
                        "delivery" => {
                            ("deliver".into(), json!({"delivery": {"method": "electronic"}}), format!("{dept}-clerk"))
                        }
                        other => panic!("step kind {other}"),
                    };
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(6));
    // SIGKILL one node mid-run; the clients go on through the other two.
    let mut killed = nodes[2].take().unwrap();
    killed.kill().expect("kill -9 node 2");
    let _ = killed.wait();
    dead.store(2, Ordering::SeqCst);
    let at_kill = acked.lock().unwrap().len();
    std::thread::sleep(Duration::from_secs(6));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let completed: Vec<&String> = acked.iter().filter(|(_, x)| x.status == "completed").map(|(k, _)| k).collect();
    assert!(
        at_kill > 5 && acked.len() > at_kill,
        "cases acknowledged: {at_kill} before the kill, {} in all",
        acked.len()
    );

    // Every acknowledged write is there, at least as far as the client was told (its last acknowledged version).
    let staff = login(&a, &bases[0], "supervisor");
    for (no, x) in &acked {
        let (s, v) = call(&a, "GET", &format!("{}/api/v1/cases/{no}", bases[0]), Some(&staff), None).unwrap();
        assert_eq!(s, 200, "acknowledged case {no} lost: {v}");
        if let (Some(acked_v), Some(now_v)) = (x.version, v["version"].as_i64()) {
            assert!(now_v >= acked_v, "case {no}: acknowledged version {acked_v}, stored {now_v}");
            if now_v == acked_v {
                assert_eq!(v["status"].as_str(), Some(x.status.as_str()), "case {no}: {v}");
            }
        }
    }

    // Webhooks: wait until nothing is pending (a delivery the killed node held is due again after its 20 s lease).
    let store = oneseal_store::Store::open(
        &url,
        oneseal_store::StoreOptions { readers: 1, pg_writers: 1, ..Default::default() },
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let deliveries = loop {
        let d = store.read_blocking(|db| db.webhook_deliveries(None, None, 1_000_000)).unwrap();
        let pending = d.iter().filter(|x| x.status == "pending").count();
        // Every completed case's message has its delivery row (the liaison subscriber caught up) and none pending.
        let with_case = completed.iter().filter(|no| d.iter().any(|x| x.payload.contains(no.as_str()))).count();
        if pending == 0 && with_case == completed.len() {
            break d;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries still pending: {pending}; completed cases with a delivery: {with_case}/{}",
            completed.len()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let got = received.lock().unwrap().clone();
    let mut duplicates = 0;
    for d in &deliveries {
        assert_eq!(d.status, "delivered", "{d:?}");
        let n = got.get(&d.id).copied().unwrap_or(0);
        assert!(n >= 1, "delivery {} never arrived", d.id);
        duplicates += n - 1;
    }
    assert!(got.keys().all(|id| deliveries.iter().any(|d| &d.id == id)), "the receiver got an unknown id");
    // At least once: a duplicate only for what the killed node had claimed (one batch of at most 50) and sent.
    assert!(duplicates <= 50, "{duplicates} duplicate deliveries");
    // Once per completed case: the liaison subscriber (advisory-locked cursor) made one message each.
    for no in &completed {
        let n = deliveries.iter().filter(|d| d.payload.contains(no.as_str())).count();
        assert_eq!(n, 1, "case {no}: {n} webhook deliveries");
    }
    // Notifications and alerts: each event's effect once.
    let events = store.read_blocking(|db| db.read_from(0, 10_000_000)).unwrap();
    let notes = store.read_blocking(|db| db.notifications("citizen", 1_000_000)).unwrap();
    let mut seen = std::collections::HashSet::new();
    for n in &notes {
        assert!(seen.insert((n.event_seq, n.kind.clone())), "notification of event {} twice", n.event_seq);
    }
    let mut alerts = std::collections::HashSet::new();
    for e in events.iter().filter(|e| e.event_type == "alert_raised") {
        assert!(alerts.insert(e.stream_id.clone()), "alert {} raised twice", e.stream_id);
    }
    drop(store);

    for n in nodes.iter_mut().flatten() {
        n.kill().ok();
        let _ = n.wait();
    }
    // The transparency log: a checkpoint signed now extends the log every node wrote; everything verifies.
    let (ok, out) = cli(&db, &["audit", "checkpoint"]);
    assert!(ok, "{out}");
    let (ok, out) = cli(&db, &["audit", "verify"]);
    assert!(ok, "audit verify: {out}");
    let (ok, out) = cli(&db, &["rebuild", "--check"]);
    assert!(ok && out.contains("identical"), "rebuild --check: {out}");
    eprintln!(
        "three nodes: {} requests, {} cases acknowledged ({at_kill} before node 2 was killed), {} completed; \
         {} webhook deliveries, {} received, {duplicates} duplicates; {} notifications; {} alerts",
        requests.load(Ordering::Relaxed),
        acked.len(),
        completed.len(),
        deliveries.len(),
        got.values().sum::<usize>(),
        notes.len(),
        alerts.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
