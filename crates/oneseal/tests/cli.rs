//! The binary as users run it: the calendar and id commands print what README.md promises, and the crash test
//! kills `oneseal serve` during concurrent submissions and checks that every acknowledged case is there after restart.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_oneseal");

/// Three nodes on one PostgreSQL database (runs when ONESEAL_TEST_PG is set).
#[path = "cli/nodes.rs"]
mod nodes;

/// The growth loader's database passes `rebuild --check` and `audit verify` (both backends).
#[path = "cli/growth.rs"]
mod growth;
/// `oneseal simulate hall`: repeatable, consistent, side by side.
#[path = "cli/simulate.rs"]
mod simulate;

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run oneseal");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[test]
fn calendar_commands() {
    assert_eq!(run(&["calendar", "is-workday", "2026-02-14"]), (true, "true".into(), String::new()));
    assert_eq!(run(&["calendar", "is-workday", "2026-02-16"]).1, "false");
    assert_eq!(run(&["calendar", "deadline", "2025-09-26", "20"]).1, "2025-10-30");
    // A year after the official data is provisional and says so; a year before it is an error, never a guess.
    assert_eq!(run(&["calendar", "is-workday", "2027-02-08"]).1, "false provisional");
    assert_eq!(run(&["calendar", "is-workday", "2027-01-04"]).1, "true provisional");
    assert_eq!(run(&["calendar", "deadline", "2026-12-07", "20"]).1, "2027-01-05 provisional");
    assert_eq!(run(&["calendar", "deadline", "2026-12-01", "5"]).1, "2026-12-08");
    let (ok, _, err) = run(&["calendar", "is-workday", "2003-01-06"]);
    assert!(!ok && err.contains("2003"), "a year without data before 2004 is an error, never a guess: {err}");
    let (ok, _, err) = run(&["calendar", "is-workday", "2026-02-30"]);
    assert!(!ok && err.contains("invalid date"), "{err}");
}

#[test]
fn id_commands() {
    assert_eq!(run(&["id", "check", "91110000600037341L"]).1, "uscc valid");
    assert_eq!(run(&["id", "check", "11010519491231002X"]).1, "resident-id valid");
    let (ok, _, err) = run(&["id", "check", "110105194912310021"]);
    assert!(!ok && err.starts_with("error: resident-id invalid: check digit"), "{err}");
    let (ok, _, err) = run(&["id", "check", "91110000600037341M"]);
    assert!(!ok && err.contains("uscc invalid"), "{err}");
    assert_eq!(run(&["id", "check-digit", "uscc", "91110000600037341"]).1, "L");
}

#[test]
fn catalog_check_and_import() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog");
    let (ok, out, err) = run(&["catalog", "check", root]);
    assert!(ok, "{err}");
    assert!(out.starts_with("valid: ") && out.contains(" 2 project types"), "{out}");
    let dir = std::env::temp_dir().join(format!("oneseal-cli-{}", std::process::id()));
    let db = format!("sqlite://{}/o.db", dir.display());
    let (ok, out, err) = run(&["catalog", "import", root, "--database", &db]);
    assert!(ok, "{err}");
    assert!(out.contains("published project_type social-investment-general v1"), "{out}");
    // An administrator edits a project type's file and imports it: a new version, without a release.
    let edited = dir.join("catalog");
    copy_dir(std::path::Path::new(root), &edited);
    let t = edited.join("project-types/social-investment-general.toml");
    let text = std::fs::read_to_string(&t).unwrap().replacen("limit_days = 12", "limit_days = 11", 1);
    std::fs::write(&t, text).unwrap();
    let (ok, out, err) =
        run(&["catalog", "import", edited.to_str().unwrap(), "--database", &db, "--reason", "施工许可阶段压缩一日"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("\n1 published,") && out.contains("published project_type social-investment-general v2"),
        "{out}"
    );
    // A file that breaks its type's rules is refused before anything is written.
    std::fs::write(&t, std::fs::read_to_string(&t).unwrap().replacen("limit_days = 11", "limit_days = 0", 1)).unwrap();
    let (ok, _, err) = run(&["catalog", "check", edited.to_str().unwrap()]);
    assert!(!ok && err.contains("social-investment-general") && err.contains("needs items and a limit"), "{err}");
    // Importing the original files again publishes the type as it was (version 3), then nothing more: a version is
    // made only for a change.
    let (_, out, _) = run(&["catalog", "import", root, "--database", &db]);
    assert!(out.contains("published project_type social-investment-general v3\n1 published,"), "{out}");
    let (_, out, _) = run(&["catalog", "import", root, "--database", &db]);
    assert!(out.starts_with("0 published"), "{out}");
    let (_, out, _) = run(&["catalog", "list", "--database", &db, "--search", "护士"]);
    assert!(out.lines().next().unwrap_or_default().contains("护士"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn license_verify_takes_the_qr_text_or_the_pdf_offline() {
    let dir = std::env::temp_dir().join(format!("oneseal-cli-lic-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let (ok, qr, err) = run(&["license", "sample", "--out-dir", d]);
    assert!(ok && qr.starts_with("OS1:"), "{err}");
    let keys = format!("{d}/keys.json");
    let pdf = format!("{d}/licence.pdf");
    for input in [qr.as_str(), pdf.as_str()] {
        let (ok, out, err) = run(&["license", "verify", input, "--keys", &keys]);
        assert!(ok, "{input}: {err}");
        assert!(out.starts_with("signature valid") && out.contains("holder: 银川塞上餐饮有限公司"), "{out}");
    }
    // A PDF whose embedded payload was altered fails; so does a file that is not a licence PDF.
    let mut bytes = std::fs::read(&pdf).unwrap();
    // Change a character near the end of the payload (inside the signature).
    let start = bytes.windows(12).position(|w| w == b"/OneSealQR (").unwrap() + 12;
    let at = start + bytes[start..].iter().position(|b| *b == b')').unwrap() - 6;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(format!("{d}/altered.pdf"), &bytes).unwrap();
    let (ok, _, err) = run(&["license", "verify", &format!("{d}/altered.pdf"), "--keys", &keys]);
    assert!(!ok && err.contains("bad signature"), "{err}");
    let (ok, _, err) = run(&["license", "verify", &keys, "--keys", &keys]);
    assert!(!ok && err.contains("not a PDF"), "{err}");
    let (ok, _, err) = run(&["license", "verify", &format!("{d}/nothing.pdf"), "--keys", &keys]);
    assert!(!ok && err.contains("nothing.pdf"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_sweep_runs() {
    let dir = std::env::temp_dir().join(format!("oneseal-cli-sweep-{}", std::process::id()));
    let (ok, out, err) =
        run(&["bench", "sweep", "--cases", "2000", "--due", "50", "--rounds", "2", "--dir", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("find 50 due") && out.contains("raised 50 alerts"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_inbox_runs() {
    let dir = std::env::temp_dir().join(format!("oneseal-cli-inbox-{}", std::process::id()));
    let (ok, out, err) = run(&["bench", "inbox", "--cases", "500", "--n", "2", "--dir", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("500 open cases") && out.contains("/work?view=to_claim"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(db: &str, port: u16) -> Child {
    let child = Command::new(BIN)
        .args(["serve", "--demo", "--database", db, "--listen", &format!("127.0.0.1:{port}")])
        .env("ONESEAL_PD_KEY", "7e".repeat(32))
        .env("ONESEAL_SEAL_PASSPHRASE", "crash-test seal passphrase")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not start");
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn login(a: &ureq::Agent, base: &str) -> String {
    let mut r = a
        .post(&format!("{base}/api/v1/sessions"))
        .send_json(json!({"username": "citizen", "password": "oneseal-demo"}))
        .unwrap();
    let v: Value = r.body_mut().read_json().unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn crash_test(db: &str) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(db, port);
    let a = agent();
    let token = login(&a, &base);
    // A filing item needs no intake: each submission is one durable write.
    let mut r = a.get(&format!("{base}/api/v1/items?q=%E4%BD%8F%E6%88%BF%E5%85%AC%E7%A7%AF%E9%87%91")).call().unwrap();
    let items: Value = r.body_mut().read_json().unwrap();
    let code = items["items"][0]["impl_code"].as_str().unwrap().to_string();
    let mut r = a.get(&format!("{base}/api/v1/items/{code}")).call().unwrap();
    let item: Value = r.body_mut().read_json().unwrap();
    let body = nodes::fill(&item);
    assert_eq!(body["item_code"], json!(code));

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for w in 0..8 {
        let (acked, stop, base, token, body) = (acked.clone(), stop.clone(), base.clone(), token.clone(), body.clone());
        threads.push(std::thread::spawn(move || {
            let a = agent();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let r = a
                    .post(&format!("{base}/api/v1/cases"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .header("Idempotency-Key", &format!("crash-{w}-{i}"))
                    .send_json(&body);
                match r {
                    Ok(mut resp) if resp.status().as_u16() == 201 => {
                        let v: Value = resp.body_mut().read_json().unwrap();
                        acked.lock().unwrap().push(v["case_no"].as_str().unwrap().to_string());
                    }
                    Ok(resp) => {
                        assert!(resp.status().as_u16() < 500 || stop.load(Ordering::SeqCst), "status {}", resp.status())
                    }
                    Err(_) => break,
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().expect("kill -9 the server");
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    let _ = server.wait();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "only {} submissions acknowledged before the kill", acked.len());

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(db, port);
    let a = agent();
    let token = login(&a, &base);
    for no in &acked {
        let r = a
            .get(&format!("{base}/api/v1/cases/{no}"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "acknowledged case {no} lost after the crash");
    }
    let mut r = a
        .get(&format!("{base}/api/v1/cases?per_page=1"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let v: Value = r.body_mut().read_json().unwrap();
    assert!(v["total"].as_u64().unwrap() >= acked.len() as u64);
    server.kill().ok();
    let _ = server.wait();
    // The projections still equal a rebuild from the events.
    let out = Command::new(BIN)
        .args(["rebuild", "--check", "--database", db])
        .env("ONESEAL_PD_KEY", "7e".repeat(32))
        .env("ONESEAL_SEAL_PASSPHRASE", "crash-test seal passphrase")
        .output()
        .unwrap();
    let (ok, out, err) = (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(ok && out.contains("identical"), "{out} {err}");
    // Its progress: events done of all, the rate and the time left (the last batch always reports).
    let last = err.lines().filter(|l| l.starts_with("rebuild: ")).last().unwrap_or_default();
    let counts: Vec<&str> = last.split_whitespace().collect();
    assert!(last.contains("events/s") && last.contains("left"), "{err}");
    assert_eq!(counts.get(1), counts.get(3), "the last report has done everything: {last}");
    eprintln!("crash test ({db}): {} acknowledged submissions, all present after kill -9", acked.len());
}

#[test]
fn acknowledged_cases_survive_kill_9() {
    let dir = std::env::temp_dir().join(format!("oneseal-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    crash_test(&format!("sqlite://{}/o.db", dir.display()));
    if let Some(pg) = oneseal_store::testing::pg_url() {
        let url = oneseal_store::testing::fresh_postgres(&pg).unwrap();
        let oneseal_store::DatabaseUrl::Postgres(u) = url else { unreachable!() };
        crash_test(&u);
    }
}

/// The README's settings table is the one `oneseal settings` prints, and every `ONESEAL_*` variable the code
/// reads is in it (the test harness's own variables aside).
#[test]
fn the_readme_lists_every_setting_and_the_code_reads_no_other() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let begin = readme.find("<!-- settings:begin").expect("the README marks its settings table");
    let body_start = readme[begin..].find('\n').unwrap() + begin + 1;
    let end = readme.find("<!-- settings:end -->").unwrap();
    let (ok, table, err) = run(&["settings"]);
    assert!(ok, "{err}");
    assert_eq!(
        readme[body_start..end].trim_end(),
        table.trim_end(),
        "regenerate the README table with `oneseal settings`"
    );
    let mut used = std::collections::BTreeSet::new();
    let mut stack = vec![root.join("crates")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("tests") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("testing.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let mut rest = text.as_str();
                while let Some(i) = rest.find("ONESEAL_") {
                    let name: String = rest[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || *c == '_' || c.is_ascii_digit())
                        .collect();
                    used.insert(name.trim_end_matches('_').to_string());
                    rest = &rest[i + 8..];
                }
            }
        }
    }
    for name in used {
        // (prefixes written in prose, e.g. `ONESEAL_OIDC_*`, and the test harness's own variables)
        if [
            "ONESEAL",
            "ONESEAL_TEST_PG",
            "ONESEAL_REQUIRE_PG",
            "ONESEAL_PG_DIR",
            "ONESEAL_OIDC",
            "ONESEAL_LOGIN_LIMIT",
            "ONESEAL_UPLOAD_QUOTA",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        assert!(
            table.contains(&format!("`{name}`")),
            "{name} is read by the code but not documented in config::SETTINGS"
        );
    }
}

/// `ONESEAL_CARRIER` names the postal carrier's adapter: an unknown name stops `serve` at start, saying which
/// names this build has, before it listens.
#[test]
fn an_unknown_carrier_stops_the_server_at_start() {
    let dir = std::env::temp_dir().join(format!("oneseal-carrier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}"), "--database"])
        .arg(format!("sqlite://{}", dir.join("o.db").display()))
        .env("ONESEAL_PD_KEY", "7e".repeat(32))
        .env("ONESEAL_SEAL_PASSPHRASE", "carrier-test seal passphrase")
        .env("ONESEAL_CARRIER", "china-post")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let Some(status) = status else {
        child.kill().unwrap();
        panic!("serve kept running with an unknown carrier");
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains("ONESEAL_CARRIER") && err.contains("simulated") && err.contains("china-post"), "{err}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "it never listened");
    std::fs::remove_dir_all(&dir).unwrap();
}
