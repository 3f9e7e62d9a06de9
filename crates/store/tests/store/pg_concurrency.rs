//! PostgreSQL without a global write lock: concurrent writers (several writer threads per store, and two stores on
//! one database as two nodes) while a subscriber follows the log below the safe horizon. Runs when
//! `ONESEAL_TEST_PG` is set (and fails without it when `ONESEAL_REQUIRE_PG=1`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use oneseal_store::testing::backends;
use oneseal_store::*;

fn ev(t: &str, n: i64) -> NewEvent {
    NewEvent {
        event_type: t.into(),
        schema_version: 1,
        actor: "tester".into(),
        at_ms: 1_000 + n,
        payload: format!("{{\"n\":{n}}}"),
    }
}

fn pg() -> Option<DatabaseUrl> {
    backends().into_iter().find(|(name, _)| *name == "postgres").map(|(_, url)| url)
}

fn opts(writers: usize) -> StoreOptions {
    StoreOptions { pg_writers: writers, ..StoreOptions::default() }
}

/// A subscriber step as the application runs one: settle, then in a write job read after the cursor (claimed)
/// and move it, in the same transaction.
fn follow(s: &Store, name: &'static str) -> Vec<StoredEvent> {
    s.settle_blocking().unwrap();
    s.write_blocking(move |db| -> Result<Vec<StoredEvent>, StoreError> {
        let c = db.cursor(name)?;
        let evs = db.read_from(c, 97)?;
        if let Some(last) = evs.last() {
            db.set_cursor(name, last.seq)?;
        }
        Ok(evs)
    })
    .unwrap()
}

#[test]
fn concurrent_writers_on_two_nodes_and_a_gapless_subscriber() {
    let Some(url) = pg() else { return };
    // Two nodes on one database, each with a pool of writers.
    let nodes = [Arc::new(Store::open(&url, opts(4)).unwrap()), Arc::new(Store::open(&url, opts(3)).unwrap())];
    let done = Arc::new(AtomicBool::new(false));
    let (threads, streams_per_thread, versions) = (12usize, 6usize, 8i64);

    // The subscriber and the transparency folder follow on both nodes while the writers write.
    let mut followers = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let (node, done) = (node.clone(), done.clone());
        followers.push(thread::spawn(move || {
            let mut seen = Vec::new();
            loop {
                let finished = done.load(Ordering::Acquire);
                let got = follow(&node, "sub");
                if i == 0 {
                    node.settle_blocking().unwrap();
                    node.write_blocking(|db| db.fold_tree(50)).unwrap();
                }
                if got.is_empty() && finished {
                    return seen;
                }
                seen.extend(got);
            }
        }));
    }

    let mut writers = Vec::new();
    for t in 0..threads {
        let node = nodes[t % 2].clone();
        writers.push(thread::spawn(move || {
            let mut counters = Vec::new();
            for v in 0..versions {
                for k in 0..streams_per_thread {
                    let stream = format!("w-{t}-{k}");
                    // Two events per append on every other version; a counter value per append.
                    let n = if v % 2 == 0 { 2 } else { 1 };
                    let evs: Vec<NewEvent> = (0..n).map(|j| ev("e", v * 10 + j)).collect();
                    let c = node
                        .write_blocking(move |db| -> Result<i64, StoreError> {
                            let at = db.stream_version(&stream)?;
                            db.append(&stream, at, &evs)?;
                            db.next_counter("day")
                        })
                        .unwrap();
                    counters.push(c);
                }
            }
            counters
        }));
    }
    let counters: Vec<i64> = writers.into_iter().flat_map(|h| h.join().unwrap()).collect();
    done.store(true, Ordering::Release);
    let seen: Vec<StoredEvent> = followers.into_iter().flat_map(|h| h.join().unwrap()).collect();

    // Counters: every value handed out once.
    let unique: BTreeSet<i64> = counters.iter().copied().collect();
    assert_eq!(unique.len(), counters.len(), "counter values are unique");

    // The subscriber (shared cursor, two nodes) saw every event exactly once.
    let s = &nodes[0];
    let total = s.read_blocking(|db| db.count_events()).unwrap();
    let per_stream_events = versions + versions / 2;
    assert_eq!(total, (threads * streams_per_thread) as i64 * per_stream_events);
    let mut seqs: Vec<i64> = seen.iter().map(|e| e.seq).collect();
    assert_eq!(seqs.len() as i64, total, "every event once: no event skipped, none twice");
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len() as i64, total, "no event delivered twice");
    let all = s.read_blocking(|db| db.read_from(0, 1_000_000)).unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs, "exactly the stored events");

    // In an order consistent with each stream: the positions of a stream's events grow with its versions.
    let mut by_stream: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for e in &all {
        by_stream.entry(e.stream_id.as_str()).or_default().push((e.seq, e.version));
    }
    for (stream, evs) in &by_stream {
        let versions: Vec<i64> = evs.iter().map(|x| x.1).collect();
        assert_eq!(versions, (1..=evs.len() as i64).collect::<Vec<_>>(), "{stream}: versions in position order");
    }

    // The transparency log: a leaf for every event, in position order, and the stored tree agrees.
    s.settle_blocking().unwrap();
    assert_eq!(s.write_blocking(|db| db.sync_tree()).unwrap() as i64, total);
    let (_, kind) = s.read_blocking(|db| db.log_head()).unwrap();
    let leaves = s.read_blocking(|db| db.event_leaves_from(-1, 1_000_000)).unwrap();
    assert_eq!(leaves.len() as i64, total, "leaves folded = events");
    let mut mem = oneseal_seal::merkle::MemStore::new();
    let mut size = 0u64;
    for ((seq, index, hash), e) in leaves.iter().zip(&all) {
        assert_eq!((*seq, *index), (e.seq, size), "leaf {size} is the event at that position");
        let leaf = kind.leaf(&leaf_bytes(
            e.seq,
            &e.stream_id,
            e.version,
            &e.event_type,
            e.schema_version,
            &e.actor,
            e.at_ms,
            &e.payload,
        ));
        assert_eq!(leaf, *hash, "leaf {size} hashes its event");
        size = oneseal_seal::merkle::append(&mut mem, kind, size, *hash).unwrap();
    }
    let root = s.read_blocking(move |db| db.log_root(size)).unwrap();
    assert_eq!(root, oneseal_seal::merkle::root(&mut mem, kind, size).unwrap(), "stored tree = recomputed tree");
    let st = s.writer_stats();
    assert!(st.jobs > 0 && st.failed_batches == 0, "{st:?}");
}

#[test]
fn a_position_an_open_transaction_holds_is_never_passed() {
    let Some(url) = pg() else { return };
    let s = Arc::new(Store::open(&url, opts(2)).unwrap());
    let DatabaseUrl::Postgres(u) = &url else { unreachable!() };
    // Another node's transaction takes a position and stays open.
    let mut other = postgres::Client::connect(u, postgres::NoTls).unwrap();
    other.batch_execute("BEGIN; SELECT pg_current_xact_id()").unwrap();
    let held: i64 = other
        .query_one(
            "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) \
             VALUES ('slow', 1, 'a', 1, 't', 0, '{}') RETURNING seq",
            &[],
        )
        .unwrap()
        .get(0);
    // A later position commits.
    let later = s.write_blocking(|db| db.append("fast", 0, &[ev("b", 1)])).unwrap()[0];
    assert!(later > held);
    // A subscriber in a write job does not pass the open position: it waits (reads nothing) rather than skip it.
    let got = s.write_blocking(|db| db.read_from(0, 100)).unwrap();
    assert!(got.is_empty(), "nothing below the horizon yet: {got:?}");
    // Settling waits for the open transaction.
    let settler = {
        let s = s.clone();
        thread::spawn(move || s.settle_blocking().unwrap())
    };
    thread::sleep(Duration::from_millis(300));
    assert!(!settler.is_finished(), "the horizon cannot pass an open transaction");
    other.batch_execute("COMMIT").unwrap();
    assert!(settler.join().unwrap() >= later);
    let got = s.write_blocking(|db| db.read_from(0, 100)).unwrap();
    assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![held, later], "both, in position order");

    // A rolled-back position is a gap for good: the horizon passes it once its transaction ended.
    other.batch_execute("BEGIN; SELECT pg_current_xact_id()").unwrap();
    other
        .execute(
            "INSERT INTO events (stream_id, version, type, schema_version, actor, at_ms, payload) \
             VALUES ('slow', 2, 'a', 1, 't', 0, '{}')",
            &[],
        )
        .unwrap();
    let after = s.write_blocking(|db| db.append("fast", 1, &[ev("c", 2)])).unwrap()[0];
    other.batch_execute("ROLLBACK").unwrap();
    let got = s.read_blocking(move |db| db.read_from(later, 100)).unwrap();
    assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![after]);
}

#[test]
fn a_long_transaction_in_another_database_of_the_cluster_does_not_hold_the_horizon_back() {
    let Some(url) = pg() else { return };
    let s = Store::open(&url, opts(2)).unwrap();
    let DatabaseUrl::Postgres(u) = &url else { unreachable!() };
    // A writing transaction in another database of the same cluster (a report, another application) stays open.
    let base = u.rsplit_once('/').map(|(b, _)| b).unwrap();
    let mut elsewhere = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls).unwrap();
    elsewhere.batch_execute("BEGIN; SELECT pg_current_xact_id()").unwrap();
    let last = s.write_blocking(|db| db.append("here", 0, &[ev("a", 1)])).unwrap()[0];
    let started = std::time::Instant::now();
    assert!(s.settle_blocking().unwrap() >= last);
    assert!(started.elapsed() < Duration::from_secs(5), "settled in {:?}", started.elapsed());
    let got = s.read_blocking(|db| db.read_from(0, 100)).unwrap();
    assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![last]);
    // The cluster-wide oldest running transaction is at or before the one elsewhere (other tests run beside this
    // one): waiting on it, as the horizon did before, would have waited for the transaction elsewhere.
    let x: String = elsewhere.query_one("SELECT pg_current_xact_id()::text", &[]).unwrap().get(0);
    let mut mine = postgres::Client::connect(u, postgres::NoTls).unwrap();
    let xmin: String = mine.query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[]).unwrap().get(0);
    assert!(xmin.parse::<u64>().unwrap() <= x.parse::<u64>().unwrap(), "cluster xmin {xmin}, elsewhere {x}");
    elsewhere.batch_execute("ROLLBACK").unwrap();
}
