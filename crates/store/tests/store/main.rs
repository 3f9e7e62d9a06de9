//! The store conformance suite: the same behaviour on SQLite and on PostgreSQL (when `ONESEAL_TEST_PG` is set).

use std::sync::Arc;
use std::thread;

use oneseal_store::testing::backends;
use oneseal_store::*;

mod pg_concurrency;

fn ev(t: &str, n: i64) -> NewEvent {
    NewEvent {
        event_type: t.into(),
        schema_version: 1,
        actor: "tester".into(),
        at_ms: 1_000 + n,
        payload: format!("{{\"n\":{n}}}"),
    }
}

fn open(url: &DatabaseUrl) -> Store {
    Store::open(url, StoreOptions::default()).unwrap()
}

fn append(s: &Store, stream: &str, expected: i64, events: Vec<NewEvent>) -> Result<Vec<i64>, StoreError> {
    let stream = stream.to_string();
    s.write_blocking(move |db| db.append(&stream, expected, &events))
}

#[test]
fn append_read_and_optimistic_concurrency() {
    for (name, url) in backends() {
        let s = open(&url);
        let seqs = append(&s, "case-1", 0, vec![ev("a", 1), ev("b", 2)]).unwrap();
        assert_eq!(seqs.len(), 2, "{name}");
        assert!(seqs[1] > seqs[0]);
        // A stale version is refused whole: neither event is written.
        let err = append(&s, "case-1", 1, vec![ev("c", 3), ev("d", 4)]).unwrap_err();
        assert_eq!(err, StoreError::Conflict { stream: "case-1".into(), expected: 1, actual: 2 }, "{name}");
        append(&s, "case-1", 2, vec![ev("c", 3)]).unwrap();
        append(&s, "case-2", 0, vec![ev("x", 9)]).unwrap();
        let evs = s.read_blocking(|db| db.read_stream("case-1")).unwrap();
        assert_eq!(
            evs.iter().map(|e| (e.version, e.event_type.as_str())).collect::<Vec<_>>(),
            vec![(1, "a"), (2, "b"), (3, "c")],
            "{name}"
        );
        assert_eq!(evs[0].payload, "{\"n\":1}");
        let all = s.read_blocking(|db| db.read_from(0, 100)).unwrap();
        assert_eq!(all.len(), 4);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "{name}: global order");
        let tail = s.read_blocking(move |db| db.read_from(all[1].seq, 100)).unwrap();
        assert_eq!(tail.len(), 2);
    }
}

#[test]
fn events_cannot_be_changed_or_deleted() {
    for (name, url) in backends() {
        let s = open(&url);
        let seqs = append(&s, "case-1", 0, vec![ev("a", 1)]).unwrap();
        let seq = seqs[0];
        let r = s.write_blocking(move |db| db.try_tamper(seq));
        assert!(r.is_err(), "{name}: tampering must fail");
        let msg = format!("{:?}", r.unwrap_err());
        assert!(msg.contains("append-only"), "{name}: {msg}");
        let evs = s.read_blocking(|db| db.read_stream("case-1")).unwrap();
        assert_eq!(evs[0].payload, "{\"n\":1}", "{name}");
    }
}

#[test]
fn a_failed_job_changes_nothing_and_does_not_disturb_its_batch() {
    for (name, url) in backends() {
        let s = Arc::new(open(&url));
        let mut handles = Vec::new();
        for i in 0..40i64 {
            let s = s.clone();
            handles.push(thread::spawn(move || {
                let stream = format!("s-{i}");
                s.write_blocking(move |db| -> Result<(), StoreError> {
                    db.append(&stream, 0, &[ev("a", i)])?;
                    db.next_counter("c")?;
                    if i % 4 == 0 {
                        // Fails after writing: the savepoint must undo the append and the counter.
                        return Err(StoreError::Constraint("deliberate".into()));
                    }
                    Ok(())
                })
            }));
        }
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 10, "{name}");
        assert_eq!(s.read_blocking(|db| db.count_events()).unwrap(), 30, "{name}");
        let c = s.write_blocking(|db| db.next_counter("c")).unwrap();
        match s.backend() {
            // One writer: a failed job gives its counter value back.
            Backend::Sqlite => assert_eq!(c, 31, "{name}: counter rolled back for failed jobs"),
            // Concurrent writers: counters commit on their own (unique, increasing); a failed job leaves a gap.
            Backend::Postgres => assert_eq!(c, 41, "{name}: every value handed out once"),
        }
        for i in (0..40).step_by(4) {
            let stream = format!("s-{i}");
            assert!(s.read_blocking(move |db| db.read_stream(&stream)).unwrap().is_empty());
        }
    }
}

#[test]
fn concurrent_writes_are_group_committed() {
    for (name, url) in backends() {
        let s = Arc::new(open(&url));
        let mut handles = Vec::new();
        for t in 0..16 {
            let s = s.clone();
            handles.push(thread::spawn(move || {
                for i in 0..25 {
                    let stream = format!("g-{t}-{i}");
                    s.write_blocking(move |db| db.append(&stream, 0, &[ev("a", 0)])).unwrap();
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
        let st = s.writer_stats();
        assert_eq!(s.read_blocking(|db| db.count_events()).unwrap(), 400, "{name}");
        assert!(st.jobs >= 400 && st.transactions < st.jobs, "{name}: {st:?} should batch");
    }
}

fn case_row(no: &str, status: &str, dept: &str, deadline: Option<&str>, at: i64) -> CaseRow {
    CaseRow {
        case_no: no.into(),
        subject_kind: "item".into(),
        subject_code: "ITEM".into(),
        subject_version: 1,
        title: "食品经营许可".into(),
        department: dept.into(),
        channel: "online".into(),
        service_point: "online".into(),
        status: status.into(),
        applicant_account: Some("citizen".into()),
        submitted_at_ms: at,
        accepted_at_ms: None,
        finished_at_ms: None,
        deadline: deadline.map(String::from),
        version: 1,
        state: "{}".into(),
        applicant_index: None,
    }
}

fn task(no: &str, id: &str, role: &str, dept: &str, assignee: Option<&str>, due: &str) -> TaskRow {
    TaskRow {
        case_no: no.into(),
        task_id: id.into(),
        step_id: "review".into(),
        step_name: "审查".into(),
        title: "食品经营许可".into(),
        role: role.into(),
        department: Some(dept.into()),
        assignee: assignee.map(String::from),
        due: Some(due.into()),
        created_at_ms: 5,
    }
}

#[test]
fn case_list_and_work_queues() {
    for (name, url) in backends() {
        let s = open(&url);
        s.write_blocking(|db| -> Result<(), StoreError> {
            db.put_case(
                &case_row("C1", "in_progress", "market", Some("2026-03-01"), 1),
                &[task("C1", "t1", "reviewer", "market", None, "2026-02-20")],
            )?;
            db.put_case(
                &case_row("C2", "in_progress", "market", Some("2026-03-10"), 2),
                &[task("C2", "t1", "reviewer", "market", Some("rev-a"), "2026-02-25")],
            )?;
            db.put_case(&case_row("C3", "completed", "health", Some("2026-01-10"), 3), &[])?;
            db.put_case(
                &case_row("C4", "in_progress", "health", Some("2026-02-01"), 4),
                &[task("C4", "t2", "approver", "health", None, "2026-01-30")],
            )?;
            Ok(())
        })
        .unwrap();
        let q = |f: CaseFilter| s.read_blocking(move |db| db.list_cases(&f)).unwrap();
        let (rows, total) = q(CaseFilter { limit: 2, ..Default::default() });
        assert_eq!(
            (rows.iter().map(|r| r.case_no.as_str()).collect::<Vec<_>>(), total),
            (vec!["C4", "C3"], 4),
            "{name}"
        );
        let (rows, _) = q(CaseFilter { department: Some("market".into()), limit: 10, ..Default::default() });
        assert_eq!(rows.len(), 2);
        let (rows, _) = q(CaseFilter { overdue_on: Some("2026-02-15".into()), limit: 10, ..Default::default() });
        assert_eq!(
            rows.iter().map(|r| r.case_no.as_str()).collect::<Vec<_>>(),
            vec!["C4"],
            "{name}: completed C3 is not overdue"
        );
        let (rows, _) = q(CaseFilter { due_by: Some("2026-03-05".into()), limit: 10, ..Default::default() });
        assert_eq!(rows.len(), 2);
        let (_, total) = q(CaseFilter { status: Some("completed".into()), limit: 10, ..Default::default() });
        assert_eq!(total, 1);

        let wq = |f: TaskFilter| s.read_blocking(move |db| db.work_queue(&f)).unwrap();
        let (rows, total) = wq(TaskFilter {
            roles: vec!["reviewer".into()],
            department: Some("market".into()),
            unclaimed: true,
            limit: 10,
            ..Default::default()
        });
        assert_eq!((rows.len(), total, rows[0].case_no.as_str()), (1, 1, "C1"), "{name}");
        let (rows, _) = wq(TaskFilter { assignee: Some("rev-a".into()), limit: 10, ..Default::default() });
        assert_eq!(rows[0].case_no, "C2");
        let (rows, _) = wq(TaskFilter { overdue_on: Some("2026-02-21".into()), limit: 10, ..Default::default() });
        assert_eq!(
            rows.iter().map(|r| r.case_no.as_str()).collect::<Vec<_>>(),
            vec!["C4", "C1"],
            "{name}: most urgent first"
        );
        // Replacing a case's tasks drops those no longer open.
        s.write_blocking(|db| db.put_case(&case_row("C1", "completed", "market", None, 1), &[])).unwrap();
        let (_, total) = wq(TaskFilter { roles: vec!["reviewer".into()], limit: 10, ..Default::default() });
        assert_eq!(total, 1, "{name}");
    }
}

#[test]
fn counters_idempotency_cursors_and_sessions() {
    for (name, url) in backends() {
        let s = open(&url);
        assert_eq!(s.write_blocking(|db| db.next_counter("day")).unwrap(), 1);
        assert_eq!(s.write_blocking(|db| db.next_counter("day")).unwrap(), 2, "{name}");
        s.write_blocking(|db| db.idempotency_put("u1", "k1", "C1", 1)).unwrap();
        let dup = s.write_blocking(|db| db.idempotency_put("u1", "k1", "C2", 1));
        assert!(matches!(dup, Err(StoreError::Constraint(_))), "{name}: {dup:?}");
        assert_eq!(s.read_blocking(|db| db.idempotency_get("u1", "k1")).unwrap(), Some("C1".into()));
        assert_eq!(s.read_blocking(|db| db.idempotency_get("u2", "k1")).unwrap(), None);
        assert_eq!(s.read_blocking(|db| db.cursor("notify")).unwrap(), 0);
        s.write_blocking(|db| db.set_cursor("notify", 42)).unwrap();
        assert_eq!(s.read_blocking(|db| db.cursor("notify")).unwrap(), 42);
        s.write_blocking(|db| db.put_session("h", "alice", 100)).unwrap();
        assert_eq!(s.read_blocking(|db| db.session_user("h", 99)).unwrap(), Some("alice".into()));
        assert_eq!(s.read_blocking(|db| db.session_user("h", 100)).unwrap(), None, "{name}: expired");
    }
}

#[test]
fn sqlite_is_wal_with_full_sync() {
    let url = oneseal_store::testing::fresh_sqlite();
    let DatabaseUrl::Sqlite(path) = &url else { unreachable!() };
    let _s = open(&url);
    let c = SqliteConn::open(path).unwrap();
    assert_eq!(c.durability().unwrap(), ("wal".to_string(), 2));
}

#[test]
fn reopening_migrates_once() {
    for (name, url) in backends() {
        drop(open(&url));
        let s = open(&url);
        append(&s, "x", 0, vec![ev("a", 1)]).unwrap();
        drop(s);
        let s = open(&url);
        assert_eq!(s.read_blocking(|db| db.count_events()).unwrap(), 1, "{name}");
    }
}

#[test]
fn database_urls() {
    assert!(matches!(DatabaseUrl::parse("sqlite://a.db"), Ok(DatabaseUrl::Sqlite(_))));
    assert!(DatabaseUrl::parse("mysql://x").is_err());
    assert!(DatabaseUrl::parse("sqlite://").is_err());
    let u = DatabaseUrl::parse("postgres://u:secret@h:5/db").unwrap();
    assert_eq!(u.redacted(), "postgres://u:***@h:5/db");
}

#[test]
fn a_panicking_job_is_rolled_back_and_the_writer_lives_on() {
    for (name, url) in backends() {
        let s = open(&url);
        let r = s.write_blocking(|db| -> Result<(), StoreError> {
            db.append("p", 0, &[ev("a", 1)])?;
            let v: Vec<i64> = Vec::new();
            // Index out of bounds on purpose: a bug in a job.
            let _ = v[usize::from(v.is_empty())];
            Ok(())
        });
        assert_eq!(r, Err(StoreError::Closed), "{name}");
        assert_eq!(s.read_blocking(|db| db.count_events()).unwrap(), 0, "{name}: rolled back");
        append(&s, "q", 0, vec![ev("b", 2)]).unwrap();
        assert_eq!(s.read_blocking(|db| db.count_events()).unwrap(), 1, "{name}: the writer still works");
    }
}

#[test]
fn debug_output_never_shows_secrets_or_personal_data() {
    let a = AccountRow {
        username: "u".into(),
        display_name: "d".into(),
        password_hash: "$argon2id$secret".into(),
        roles: "reviewer".into(),
        department: None,
        active: true,
        service_point: None,
    };
    assert!(!format!("{a:?}").contains("argon2"));
    let p = PersonRow {
        username: "u".into(),
        name: "张三".into(),
        id_sealed: "sm4gcm:v1:k:AAAA".into(),
        id_index: "abc".into(),
        phone_sealed: None,
        created_at_ms: 0,
    };
    assert!(!format!("{p:?}").contains("sm4gcm") && !format!("{p:?}").contains("abc"));
}

#[test]
fn transparency_leaves_fold_in_bounded_steps_to_the_same_tree() {
    use oneseal_seal::merkle;
    for (name, url) in backends() {
        let s = open(&url);
        for i in 0..7 {
            append(&s, &format!("case-{i}"), 0, vec![ev("a", i)]).unwrap();
        }
        // Leaves are written with their events (SQLite) or below the safe horizon by the folder (PostgreSQL); the
        // tree is folded later, a bounded step at a time.
        assert_eq!(s.read_blocking(|db| db.log_head()).unwrap().0, 0, "{name}");
        s.settle_blocking().unwrap();
        assert_eq!(s.write_blocking(|db| db.fold_tree(3)).unwrap(), 3, "{name}");
        assert_eq!(s.read_blocking(|db| db.log_head()).unwrap().0, 3, "{name}");
        let root3 = s.read_blocking(|db| db.log_root(3)).unwrap();
        assert_eq!(s.write_blocking(|db| db.fold_tree(0)).unwrap(), 3, "{name}");
        assert_eq!(s.write_blocking(|db| db.sync_tree()).unwrap(), 7, "{name}");
        // The same tree as folding every leaf at once, in memory.
        let (_, kind) = s.read_blocking(|db| db.log_head()).unwrap();
        let leaves = s.read_blocking(|db| db.event_leaves_from(-1, 100)).unwrap();
        assert_eq!(leaves.len(), 7);
        let mut mem = merkle::MemStore::new();
        let mut size = 0;
        for (_, index, hash) in &leaves {
            assert_eq!(*index, size);
            size = merkle::append(&mut mem, kind, size, *hash).unwrap();
        }
        assert_eq!(root3, merkle::root(&mut mem, kind, 3).unwrap(), "{name}");
        assert_eq!(s.read_blocking(|db| db.log_root(7)).unwrap(), merkle::root(&mut mem, kind, 7).unwrap(), "{name}");
    }
}

#[test]
fn counter_blocks_never_overlap_single_values() {
    for (name, url) in backends() {
        let s = open(&url);
        assert_eq!(s.write_blocking(|db| db.reserve_counter("serial", 64)).unwrap(), 64, "{name}: block 1..=64");
        assert_eq!(s.write_blocking(|db| db.next_counter("serial")).unwrap(), 65, "{name}");
        assert_eq!(s.write_blocking(|db| db.reserve_counter("serial", 10)).unwrap(), 75, "{name}: block 66..=75");
        assert_eq!(s.write_blocking(|db| db.reserve_counter("fresh", 3)).unwrap(), 3, "{name}");
        assert!(s.write_blocking(|db| db.reserve_counter("serial", 0)).is_err(), "{name}: an empty block is refused");
        assert_eq!(s.write_blocking(|db| db.next_counter("serial")).unwrap(), 76, "{name}: nothing moved");
    }
}

#[test]
fn attachments_are_immutable_and_drafts_are_one_per_account_and_service() {
    for (name, url) in backends() {
        let s = open(&url);
        let a = AttachmentRow {
            id: "att1".into(),
            owner: "citizen".into(),
            file_name: "营业执照.pdf".into(),
            content_type: "application/pdf".into(),
            size: 1234,
            sha256: "ab".repeat(32),
            sealed: "sm4gcm:v1:k1:AAAA".into(),
            created_at_ms: 5,
        };
        s.write_blocking({
            let a = a.clone();
            move |db| db.put_attachment(&a)
        })
        .unwrap();
        assert_eq!(s.read_blocking(|db| db.attachment("att1")).unwrap(), Some(a.clone()), "{name}");
        assert_eq!(s.read_blocking(|db| db.attachment("nope")).unwrap(), None);
        let again = s.write_blocking(move |db| db.put_attachment(&a));
        assert!(matches!(again, Err(StoreError::Constraint(_))), "{name}: an attachment is never replaced: {again:?}");

        s.write_blocking(|db| db.put_draft("citizen", "ITEM1", "{\"a\":1}", 10)).unwrap();
        s.write_blocking(|db| db.put_draft("citizen", "ITEM1", "{\"a\":2}", 20)).unwrap();
        s.write_blocking(|db| db.put_draft("citizen", "ITEM2", "{}", 15)).unwrap();
        s.write_blocking(|db| db.put_draft("other", "ITEM1", "{}", 30)).unwrap();
        assert_eq!(s.read_blocking(|db| db.draft("citizen", "ITEM1")).unwrap(), Some(("{\"a\":2}".into(), 20)));
        assert_eq!(
            s.read_blocking(|db| db.drafts_of("citizen")).unwrap(),
            vec![("ITEM1".to_string(), 20), ("ITEM2".to_string(), 15)],
            "{name}: newest first, mine only"
        );
        s.write_blocking(|db| db.delete_draft("citizen", "ITEM1")).unwrap();
        assert_eq!(s.read_blocking(|db| db.draft("citizen", "ITEM1")).unwrap(), None);
        assert_eq!(s.read_blocking(|db| db.draft("other", "ITEM1")).unwrap().map(|d| d.1), Some(30));
    }
}

#[test]
fn work_queue_pages_match_a_brute_force_sort() {
    // A deterministic mix of roles, departments (and none), claimed and unclaimed, with and without due dates.
    let mut seed = 20_261_127u64;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut all = Vec::new();
    for i in 0..240 {
        let mut t = task(
            &format!("C{i:04}"),
            "t1",
            ["reviewer", "approver", "inspector"][next(3) as usize],
            ["d1", "d2"][next(2) as usize],
            [None, Some("rev-a")][usize::from(next(4) == 0)],
            &format!("2026-02-{:02}", 1 + next(28)),
        );
        if next(5) == 0 {
            t.due = None;
        }
        if next(6) == 0 {
            t.department = None;
        }
        t.created_at_ms = next(1000) as i64;
        all.push(t);
    }
    for (name, url) in backends() {
        let s = open(&url);
        let tasks = all.clone();
        s.write_blocking(move |db| -> Result<(), StoreError> {
            for t in &tasks {
                db.put_case(&case_row(&t.case_no, "in_progress", "d1", None, 1), std::slice::from_ref(t))?;
            }
            Ok(())
        })
        .unwrap();
        let key = |t: &TaskRow| {
            (
                t.due.clone().unwrap_or_else(|| "9999-12-31".into()),
                t.created_at_ms,
                t.case_no.clone(),
                t.task_id.clone(),
            )
        };
        let roles = vec!["reviewer".to_string(), "inspector".to_string()];
        for (unclaimed, due_by, overdue_on) in [
            (true, None, None),
            (false, Some("2026-02-10"), None),
            (false, None, Some("2026-02-15")),
            (false, None, None),
        ] {
            let mut want: Vec<TaskRow> = all
                .iter()
                .filter(|t| roles.contains(&t.role))
                .filter(|t| t.department.as_deref().is_none_or(|d| d == "d1"))
                .filter(|t| !unclaimed || t.assignee.is_none())
                .filter(|t| due_by.is_none_or(|d| t.due.as_deref().is_some_and(|x| x <= d)))
                .filter(|t| overdue_on.is_none_or(|d| t.due.as_deref().is_some_and(|x| x < d)))
                .cloned()
                .collect();
            want.sort_by_key(key);
            for (limit, offset) in [(7, 0), (7, 5), (20, 13), (500, 0)] {
                let f = TaskFilter {
                    roles: roles.clone(),
                    department: Some("d1".into()),
                    unclaimed,
                    due_by: due_by.map(String::from),
                    overdue_on: overdue_on.map(String::from),
                    limit,
                    offset,
                    ..Default::default()
                };
                let (got, total) = s.read_blocking(move |db| db.work_queue(&f)).unwrap();
                let expect: Vec<String> =
                    want.iter().skip(offset as usize).take(limit as usize).map(|t| t.case_no.clone()).collect();
                assert_eq!(
                    got.iter().map(|t| t.case_no.clone()).collect::<Vec<_>>(),
                    expect,
                    "{name}: unclaimed {unclaimed}, due_by {due_by:?}, overdue {overdue_on:?}, page {limit}+{offset}"
                );
                assert_eq!(total as usize, want.len(), "{name}: total");
            }
        }
    }
}

fn project_row(code: &str, owner: &str, at: i64, version: i64) -> ProjectRow {
    ProjectRow {
        code: code.into(),
        name: format!("项目 {code}"),
        project_type: "social-investment-general".into(),
        owner_account: "company".into(),
        owner_uscc: owner.into(),
        registered_at_ms: at,
        version,
        state: format!("{{\"v\":{version}}}"),
        updated_at_ms: at + version,
    }
}

#[test]
fn projects_are_found_by_owner_and_by_assistant_newest_first() {
    for (name, url) in backends() {
        let s = open(&url);
        s.write_blocking(|db| {
            db.put_project(&project_row("2026-640100-47-03-000001", "ORG-A", 1_000, 1), &[])?;
            db.put_project(&project_row("2026-640100-47-03-000002", "ORG-A", 2_000, 1), &["helper".into()])?;
            db.put_project(
                &project_row("2026-640100-47-03-000003", "ORG-B", 3_000, 1),
                &["helper".into(), "other".into()],
            )
        })
        .unwrap();
        // A later version replaces the state and the assistants, never the registration.
        s.write_blocking(|db| {
            db.put_project(&project_row("2026-640100-47-03-000003", "ORG-B", 9_999, 2), &["other".into()])
        })
        .unwrap();
        let codes = |rows: Vec<ProjectRow>| rows.into_iter().map(|r| r.code[18..].to_string()).collect::<Vec<_>>();
        let mine = s.read_blocking(|db| db.projects_of(&["ORG-A".into()], "nobody", 10)).unwrap();
        assert_eq!(codes(mine), ["000002", "000001"], "{name}");
        let helped = s.read_blocking(|db| db.projects_of(&[], "helper", 10)).unwrap();
        assert_eq!(codes(helped), ["000002"], "{name}: revoked on 000003");
        let both = s.read_blocking(|db| db.projects_of(&["ORG-B".into()], "helper", 1)).unwrap();
        assert_eq!(codes(both), ["000003"], "{name}: limited");
        let p = s.read_blocking(|db| db.project("2026-640100-47-03-000003")).unwrap().unwrap();
        assert_eq!((p.version, p.registered_at_ms, p.state.as_str()), (2, 3_000, "{\"v\":2}"), "{name}");
        assert_eq!(s.read_blocking(|db| db.projects_since(2_000)).unwrap().len(), 2);
        assert!(s.read_blocking(|db| db.project("2026-640100-47-03-000009")).unwrap().is_none());
    }
}
