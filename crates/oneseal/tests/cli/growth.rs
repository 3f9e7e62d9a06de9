//! The growth loader (issue 16 §5): `bench lifecycle --preload N` grows its database through the real write path,
//! so the result is a database like any other — `rebuild --check` finds the projections it would make and
//! `audit verify` finds a leaf for every event (the copying loader before it failed both: copied events without
//! leaves, case rows without licence rows or liaison messages). Then the measured lifecycles run on it. On both
//! backends (PostgreSQL when ONESEAL_TEST_PG is set).

use std::process::Command;

use super::BIN;

fn oneseal(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("ONESEAL_PD_KEY", "11".repeat(32))
        .env("ONESEAL_SEAL_PASSPHRASE", "bench-test-passphrase")
        .output()
        .expect("run oneseal");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_preloaded_database_passes_rebuild_check_and_audit_verify() {
    let dir = std::env::temp_dir().join(format!("oneseal-growth-{}", std::process::id()));
    let mut databases = vec![None];
    if let Some(pg) = oneseal_store::testing::pg_url() {
        let url = oneseal_store::testing::fresh_postgres(&pg).expect("fresh PostgreSQL database");
        let oneseal_store::DatabaseUrl::Postgres(u) = url else { unreachable!() };
        databases.push(Some(u));
    }
    for db in databases {
        let d = dir.join(if db.is_some() { "pg" } else { "sqlite" });
        let d = d.to_string_lossy().to_string();
        let mut args = vec!["bench", "lifecycle", "--n", "6", "--concurrency", "2", "--item", "公司设立登记"];
        args.extend(["--preload", "200", "--raw", "20", "--dir", &d]);
        if let Some(u) = &db {
            args.extend(["--database", u.as_str()]);
        }
        let (ok, stdout, stderr) = oneseal(&args);
        assert!(ok, "{db:?}: {stdout} {stderr}");
        assert!(stdout.contains("preloaded 200 completed cases"), "{stdout}");
        assert!(stdout.contains("(cases stored: 201)"), "{stdout}");
        // Every approval's message to the regulator (审管互动) was pushed by the subscriber and acknowledged.
        assert!(stdout.contains("200 liaison messages acknowledged"), "{stdout}");
        assert!(stdout.contains("6 lifecycles of 5 requests"), "{stdout}");
        // The loader reports its progress with the time left.
        assert!(stderr.contains("load: ") && stderr.contains("left"), "{stderr}");

        let url = db.clone().unwrap_or_else(|| format!("sqlite://{d}/lifecycle.db"));
        let (ok, out, err) = oneseal(&["rebuild", "--check", "--database", &url]);
        assert!(ok, "{db:?} rebuild --check: {out} {err}");
        assert!(out.contains("identical"), "{out}");
        let (ok, out, err) = oneseal(&["audit", "verify", "--database", &url]);
        assert!(ok, "{db:?} audit verify: {out} {err}");
        assert!(out.starts_with("log intact"), "{out}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
