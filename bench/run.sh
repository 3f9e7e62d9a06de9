#!/usr/bin/env bash
# Side-by-side: OneSeal's case lifecycle (HTTP, 32 clients) against SpiffWorkflow (in-process Python), one run,
# one after the other, on the same disk (everything under the repo), with the same durability (SQLite WAL +
# synchronous=FULL). Only the ratios printed at the end mean anything: this machine's disk and CPU are noisy.
#
#   bash bench/run.sh                      # everything (~1–3 minutes)
#   ONESEAL_N=3000 SPIFF_SECONDS=30 bash bench/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ONESEAL_N="${ONESEAL_N:-3000}"
CONCURRENCY="${CONCURRENCY:-32}"
SPIFF_SECONDS="${SPIFF_SECONDS:-30}"   # target duration of each SpiffWorkflow measurement
FLUSH="${FLUSH:-1}"                    # 1: `sync` before each measurement, so none inherits others' dirty pages
PY="${PYTHON:-$ROOT/.venv/bin/python}"
SPIFF="$ROOT/bench/spiffworkflow/lifecycle.py"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

# --- set-up -------------------------------------------------------------------------------------------------
if [ ! -x "$PY" ]; then
  echo "no Python at $PY (make the venv: python3 -m venv .venv)" >&2
  exit 1
fi
if ! "$PY" -c 'import SpiffWorkflow' 2>/dev/null; then
  "$PY" -m pip install -q -r bench/spiffworkflow/requirements.txt
fi
if [ ! -x target/release/oneseal ]; then
  echo "building target/release/oneseal (may wait for the cargo lock) ..."
  cargo build --release -p oneseal-oneseal
fi

# --- machine ------------------------------------------------------------------------------------------------
echo "== machine"
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "kernel:      $(uname -srm)"
echo "cores:       $(nproc)"
echo "disk (df -h .):"
df -h . | sed 's/^/  /'
echo "== versions"
echo "oneseal:       $(target/release/oneseal --version) (target/release/oneseal built $(date -u -r target/release/oneseal '+%Y-%m-%d %H:%M UTC'); SQLite bundled by rusqlite $(sed -n '/^name = "rusqlite"/{n;s/version = "\(.*\)"/\1/p}' Cargo.lock))"
echo "rustc:         $(rustc --version 2>/dev/null || echo '?')"
echo "python:        $("$PY" -c 'import sys; print(sys.version.split()[0])') (SQLite $("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)'))"
echo "SpiffWorkflow: $("$PY" -c 'from importlib.metadata import version; print(version("SpiffWorkflow"))')"
echo

# Before each measurement: flush dirty pages (other engineers' builds leave hundreds of MB, and every fsync then
# waits for them), then print the dirty memory and the disk's durable-commit rate right now (500 single-row
# committed inserts, WAL + synchronous=FULL, next to the SpiffWorkflow database), saved for the table.
disk_state() {
  [ "$FLUSH" = 1 ] && sync
  local dirty probe
  dirty="$(awk '/^Dirty:/{d=$2} /^Writeback:/{w=$2} END{printf "dirty %d MB, writeback %d MB", d/1024, w/1024}' /proc/meminfo)"
  probe="$("$PY" "$SPIFF" --raw-only --raw 500 --sync FULL)"
  echo "$probe" > "$OUT/probe_$1"
  echo "disk now: $dirty; $("$PY" -c 'import json,sys; print(round(json.loads(sys.argv[1])["raw_commits_per_s"]))' "$probe") committed single-row inserts/s (FULL)"
}

# --- (a) OneSeal --------------------------------------------------------------------------------------------
echo "== (a1) OneSeal: 公司设立登记, $ONESEAL_N lifecycles, $CONCURRENCY concurrent HTTP clients"
disk_state a1
target/release/oneseal bench lifecycle --n "$ONESEAL_N" --concurrency "$CONCURRENCY" --item 公司设立登记 | tee "$OUT/a1"
echo
echo "== (a1m) OneSeal: 公司设立登记 as (a1), the clients asking for minimal answers (Prefer: return=minimal)"
disk_state a1m
target/release/oneseal bench lifecycle --n "$ONESEAL_N" --concurrency "$CONCURRENCY" --item 公司设立登记 --answers minimal | tee "$OUT/a1m"
echo
echo "== (a2) OneSeal: default item (食品经营许可), $ONESEAL_N lifecycles, $CONCURRENCY concurrent HTTP clients"
disk_state a2
target/release/oneseal bench lifecycle --n "$ONESEAL_N" --concurrency "$CONCURRENCY" | tee "$OUT/a2"
echo

# --- (b) SpiffWorkflow --------------------------------------------------------------------------------------
echo "== (b) SpiffWorkflow: lifecycle.bpmn, state serialized to SQLite after every step, synchronous=FULL"
disk_state cal
"$PY" "$SPIFF" --n 300 --sync FULL > "$OUT/cal"
SPIFF_N="$("$PY" - "$OUT/cal" "$SPIFF_SECONDS" <<'EOF'
import json, sys
rate = json.load(open(sys.argv[1]))["instances_per_s"]
n = int(rate * float(sys.argv[2]) / 100) * 100
print(max(1000, min(n, 12_000)))
EOF
)"
echo "calibration: $(cat "$OUT/cal")"
echo "→ N = $SPIFF_N instances per measurement (~${SPIFF_SECONDS} s at the calibrated rate)"
PROCS_LIST="1"
if [ "$(nproc)" -gt 1 ]; then PROCS_LIST="1 $(nproc)"; fi
for k in $PROCS_LIST; do
  echo "--procs $k:"
  disk_state "spiff$k"
  "$PY" "$SPIFF" --n "$SPIFF_N" --sync FULL --procs "$k" | tee "$OUT/spiff$k"
done
rm -f bench/spiffworkflow/spiff.db bench/spiffworkflow/spiff.db-wal bench/spiffworkflow/spiff.db-shm
echo

# --- comparison ---------------------------------------------------------------------------------------------
"$PY" bench/compare.py "$OUT" $PROCS_LIST
