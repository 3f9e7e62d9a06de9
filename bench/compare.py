"""Comparison table for bench/run.sh: reads the outputs that run.sh saved in the directory given."""

import json
import re
import sys

out, procs = sys.argv[1], sys.argv[2:]


def probe(name):
    """The disk's durable-commit rate measured just before the measurement `name`."""
    return json.load(open(f"{out}/probe_{name}"))["raw_commits_per_s"]


def oneseal(name):
    text = open(f"{out}/{name}", encoding="utf-8").read()
    m = re.search(r"lifecycles/s: (\d+)\s+\((\d+) lifecycles of (\d+) requests in ([\d.]+) s\)", text)
    item = re.search(r"item: (.+?) \(", text).group(1)
    raw = float(re.search(r"raw single-row committed inserts/s \(same disk, same durability\): (\d+)", text).group(1))
    n, per, secs = int(m.group(2)), int(m.group(3)), float(m.group(4))
    cpu = re.search(r"CPU per lifecycle: ([\d.]+) ms", text)
    minimal = name.endswith("m")  # run.sh names the runs with `--answers minimal` a1m, …
    return {
        "item": item + (" (minimal answers)" if minimal else ""),
        "rate": n / secs,
        "per": per,
        "steps_s": n * per / secs,
        "raw_after": raw,
        "disk": probe(name),
        "cpu": float(cpu.group(1)) if cpu else float("nan"),
    }


def w(text, width):
    """Pad to a width, counting CJK characters as two columns."""
    return text + " " * max(0, width - sum(2 if ord(c) > 0x2E7F else 1 for c in text))


spiff = {k: json.load(open(f"{out}/spiff{k}")) for k in procs}
best_k = max(spiff, key=lambda k: spiff[k]["instances_per_s"])
best = spiff[best_k]
a = [oneseal("a1"), oneseal("a1m"), oneseal("a2")]

rows = []
for r in a:
    rows.append((f"OneSeal {r['item']}", f"HTTP, {r['per']} requests", r["rate"], r["steps_s"], r["disk"], r["cpu"]))
for k, s in spiff.items():
    rows.append(
        (
            f"SpiffWorkflow --procs {k}" + (" (best)" if k == best_k else ""),
            "in-process, 4 commits",
            s["instances_per_s"],
            s["commits_per_s"],
            probe(f"spiff{k}"),
            s.get("cpu_ms_per_instance", float("nan")),
        )
    )

print("== comparison (same run, same disk, SQLite WAL + synchronous=FULL)")
print(f"{w('engine / workload', 49)}{w('per lifecycle', 22)}{'lifecycles/s':>13}{'steps/s':>9}{'disk commits/s':>16}{'CPU ms':>8}")
print(f"{'':71}{'':>13}{'':>9}{'just before':>16}{'each':>8}")
for name, how, rate, steps, disk, cpu in rows:
    print(f"{w(name, 49)}{w(how, 22)}{rate:>13.0f}{steps:>9.0f}{disk:>16.0f}{cpu:>8.2f}")
print()
print(
    f"SpiffWorkflow's best: --procs {best_k}, {best['instances_per_s']:.0f} lifecycles/s "
    f"({best['instances']} instances in {best['seconds']:.1f} s)"
)
for r in a:
    print(
        f"ratio OneSeal {r['item']} ({r['per']} requests) ÷ SpiffWorkflow best: "
        f"{r['rate'] / best['instances_per_s']:.1f}× in lifecycles/s, "
        f"{best.get('cpu_ms_per_instance', float('nan')) / r['cpu']:.2f}× less CPU per lifecycle"
    )
print(
    "OneSeal's own raw reference, right after each of its runs (committed inserts/s): "
    + ", ".join(f"{r['raw_after']:.0f}" for r in a)
)
