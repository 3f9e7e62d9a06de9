#!/usr/bin/env python3
"""Peer benchmark: OneSeal's case lifecycle run by SpiffWorkflow, persisted durably to SQLite.

Each instance runs lifecycle.bpmn: start → user task "accept" → user task "review" → exclusive gateway
(approve?) → user task "decide" → end. After the instance is started and after every user-task completion,
the whole workflow is serialized with SpiffWorkflow's BpmnWorkflowSerializer (JSON) and written into that
instance's row of a SQLite table in its own committed transaction (journal_mode=WAL, synchronous=FULL by
default): 1 insert + 3 updates = 4 commits per instance.

This is in-process Python with no HTTP, no authentication and no business validation; one process is bound
by the GIL, so --procs K runs K OS processes, each doing its share of the instances into the same SQLite
file (busy_timeout, BEGIN IMMEDIATE), and reports the aggregate throughput.

Prints one line of JSON.
"""

import argparse
import json
import multiprocessing as mp
import os
import sqlite3
import sys
import time
from importlib.metadata import version as pkg_version

HERE = os.path.dirname(os.path.abspath(__file__))
BPMN = os.path.join(HERE, "lifecycle.bpmn")
PROCESS_ID = "lifecycle"
BUSY_TIMEOUT_MS = 60_000


def load_spec():
    from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator

    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(BPMN)
    return parser.get_spec(PROCESS_ID)


def connect(db, sync):
    conn = sqlite3.connect(db, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise SystemExit(f"journal_mode is {mode}, not wal")
    conn.execute(f"PRAGMA synchronous={sync}")
    return conn


def remove_db(db):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(db + suffix)
        except FileNotFoundError:
            pass


def init_db(db, sync):
    remove_db(db)
    os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    conn = connect(db, sync)
    conn.execute(
        "CREATE TABLE instances ("
        " id INTEGER PRIMARY KEY,"
        " status TEXT NOT NULL,"
        " state TEXT NOT NULL,"
        " updated_at REAL NOT NULL)"
    )
    conn.close()


def run_instances(db, sync, ids, reload_each_step, barrier=None):
    """Run the given instance ids to completion; return (started, finished, commits, bytes written)."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.util.task import TaskState

    spec = load_spec()
    serializer = BpmnWorkflowSerializer()
    conn = connect(db, sync)
    commits = 0
    written = 0

    def save(instance_id, wf, insert):
        nonlocal commits, written
        state = serializer.serialize_json(wf)
        status = "completed" if wf.is_completed() else "running"
        conn.execute("BEGIN IMMEDIATE")
        if insert:
            conn.execute(
                "INSERT INTO instances (id, status, state, updated_at) VALUES (?, ?, ?, ?)",
                (instance_id, status, state, time.time()),
            )
        else:
            conn.execute(
                "UPDATE instances SET status = ?, state = ?, updated_at = ? WHERE id = ?",
                (status, state, time.time(), instance_id),
            )
        conn.execute("COMMIT")
        commits += 1
        written += len(state)

    if barrier is not None:
        barrier.wait()
    started = time.time()
    for instance_id in ids:
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        save(instance_id, wf, insert=True)
        done = []
        while not wf.is_completed():
            if reload_each_step:
                # What a stateless server does per request: read the instance back and deserialize it.
                row = conn.execute("SELECT state FROM instances WHERE id = ?", (instance_id,)).fetchone()
                wf = serializer.deserialize_json(row[0])
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if len(ready) != 1:
                raise RuntimeError(f"instance {instance_id}: expected one ready user task, got {ready}")
            task = ready[0]
            done.append(task.task_spec.bpmn_id)
            task.set_data(approve=True, by=task.task_spec.bpmn_id)
            task.run()
            wf.do_engine_steps()
            save(instance_id, wf, insert=False)
        if done != ["accept", "review", "decide"]:
            raise RuntimeError(f"instance {instance_id}: ran {done}")
    finished = time.time()
    conn.close()
    return started, finished, commits, written


def raw_reference(db, sync, n):
    """The disk's durable-commit rate: n single-row committed inserts (200-byte body) into a fresh file next to
    db, as OneSeal's own raw reference does; returns commits/s."""
    path = db + ".raw"
    remove_db(path)
    conn = connect(path, sync)
    conn.execute("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    body = "x" * 200
    t = time.perf_counter()
    for i in range(1, n + 1):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO bench_raw (id, body) VALUES (?, ?)", (i, body))
        conn.execute("COMMIT")
    secs = time.perf_counter() - t
    conn.close()
    remove_db(path)
    return n / secs


def worker(db, sync, ids, reload_each_step, barrier, out):
    try:
        out.put(("ok", run_instances(db, sync, ids, reload_each_step, barrier)))
    except BaseException as e:  # report instead of hanging the parent
        barrier.abort()
        out.put(("err", repr(e)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="process instances (default 1000)")
    ap.add_argument(
        "--db",
        default=os.path.join(HERE, "spiff.db"),
        help="SQLite file, recreated fresh (default bench/spiffworkflow/spiff.db, on the repo's disk)",
    )
    ap.add_argument("--sync", default="FULL", type=str.upper, choices=["FULL", "NORMAL"], help="PRAGMA synchronous")
    ap.add_argument("--procs", type=int, default=1, help="OS processes in parallel, each doing N/K instances")
    ap.add_argument(
        "--reload",
        action="store_true",
        help="read back and deserialize the instance from SQLite before every task (a stateless server's cost)",
    )
    ap.add_argument(
        "--raw",
        type=int,
        default=0,
        help="after the run, also measure this many single-row committed inserts on the same disk (default 0: skip)",
    )
    ap.add_argument(
        "--raw-only",
        action="store_true",
        help="run no workflow: only measure --raw (default 500) committed inserts next to --db and print them",
    )
    a = ap.parse_args()
    if a.raw_only:
        n = a.raw if a.raw > 0 else 500
        rate = raw_reference(a.db, a.sync, n)
        print(json.dumps({"raw_commits": n, "raw_commits_per_s": round(rate, 1), "sync": a.sync}))
        return
    if a.n < 1 or a.procs < 1:
        ap.error("--n and --procs must be at least 1")

    init_db(a.db, a.sync)
    load_spec()  # fail early on a bad BPMN file
    ids = list(range(1, a.n + 1))
    shares = [ids[k :: a.procs] for k in range(a.procs)]

    # CPU time (user + system) of this process and of the worker processes it waits for, over the measurement:
    # the figure OneSeal's `bench lifecycle` reports as CPU per lifecycle.
    cpu0 = os.times()
    if a.procs == 1:
        results = [run_instances(a.db, a.sync, ids, a.reload)]
    else:
        ctx = mp.get_context("fork")
        barrier = ctx.Barrier(a.procs)
        out = ctx.Queue()
        procs = [
            ctx.Process(target=worker, args=(a.db, a.sync, share, a.reload, barrier, out)) for share in shares
        ]
        for p in procs:
            p.start()
        results = []
        errors = []
        for _ in procs:
            kind, value = out.get()
            (results if kind == "ok" else errors).append(value)
        for p in procs:
            p.join()
        if errors:
            print(f"worker failed: {errors[0]}", file=sys.stderr)
            sys.exit(1)

    cpu1 = os.times()
    cpu_s = sum(getattr(cpu1, f) - getattr(cpu0, f) for f in ("user", "system", "children_user", "children_system"))
    started = min(r[0] for r in results)
    finished = max(r[1] for r in results)
    commits = sum(r[2] for r in results)
    written = sum(r[3] for r in results)
    secs = finished - started

    # Check what is on disk: every instance stored and completed.
    conn = sqlite3.connect(a.db)
    stored, completed = conn.execute(
        "SELECT count(*), sum(status = 'completed') FROM instances"
    ).fetchone()
    conn.close()
    if stored != a.n or completed != a.n:
        print(f"expected {a.n} completed instances on disk, found {stored} ({completed} completed)", file=sys.stderr)
        sys.exit(1)

    raw = round(raw_reference(a.db, a.sync, a.raw), 1) if a.raw > 0 else None

    result = {
        "engine": f"SpiffWorkflow {pkg_version('SpiffWorkflow')}",
        "python": sys.version.split()[0],
        "instances": a.n,
        "procs": a.procs,
        "seconds": round(secs, 3),
        "instances_per_s": round(a.n / secs, 1),
        "cpu_ms_per_instance": round(cpu_s * 1000 / a.n, 3),
        "commits": commits,
        "commits_per_s": round(commits / secs, 1),
        "avg_state_bytes": round(written / commits),
        "reload": a.reload,
        "sync": a.sync,
        "journal_mode": "WAL",
        "db": os.path.abspath(a.db),
    }
    if raw is not None:
        result["raw_commits_per_s"] = raw
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
