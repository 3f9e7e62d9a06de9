"""Process-mining export checked by an independent reader: run complete case lifecycles with the binary's
benchmark (a real server, real HTTP), export the event log as XES with `oneseal export xes`, and read it back
with PyPI pm4py. Every case is one trace that starts with its submission and ends with its completion, in time
order, and the alerts CSV parses with Python's csv module."""
import csv
import io
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("ONESEAL_BIN", "target/debug/oneseal")


def main() -> int:
    import pm4py  # noqa: deferred so the banner does not precede errors about the binary

    with tempfile.TemporaryDirectory() as d:
        n = 12
        r = subprocess.run([BIN, "bench", "lifecycle", "--n", str(n), "--concurrency", "4", "--raw", "10", "--dir", d],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("bench failed:", r.stderr[-2000:])
            return 1
        db = f"sqlite://{d}/lifecycle.db"
        out = os.path.join(d, "events.xes")
        r = subprocess.run([BIN, "export", "xes", "--database", db, "--out", out], capture_output=True, text=True)
        if r.returncode != 0:
            print("export failed:", r.stderr)
            return 1
        log = pm4py.read_xes(out, return_legacy_log_object=True)
        problems = []
        # The benchmark also runs a warm-up lifecycle before the measured ones.
        if len(log) < n:
            problems.append(f"{len(log)} traces, expected at least {n}")
        for trace in log:
            names = [e["concept:name"] for e in trace]
            times = [e["time:timestamp"] for e in trace]
            case = trace.attributes.get("concept:name", "?")
            if names[0] != "submitted" or names[-1] != "completed":
                problems.append(f"{case}: {names[0]} … {names[-1]}")
            if times != sorted(times):
                problems.append(f"{case}: events out of time order")
            if any(e["org:resource"] == "bench-applicant" for e in trace):
                problems.append(f"{case}: an applicant's account name leaked into the log")
        df = pm4py.convert_to_dataframe(log)
        if df["case:concept:name"].nunique() != len(log):
            problems.append("dataframe case count differs")
        r = subprocess.run([BIN, "export", "alerts-csv", "--database", db], capture_output=True, text=True)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        if r.returncode != 0 or (rows and "case_no" not in rows[0]):
            problems.append(f"alerts csv: {r.stderr or r.stdout[:200]}")
        events = sum(len(t) for t in log)
        if problems:
            for p in problems[:20]:
                print("MISMATCH", p)
            return 1
        print(f"xes: {len(log)} traces, {events} events read back by pm4py {pm4py.__version__}; alerts csv {len(rows)} rows")
        return 0


if __name__ == "__main__":
    sys.exit(main())
