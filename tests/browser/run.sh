#!/usr/bin/env bash
# Browser tests: Playwright (npm playwright-core) driving Debian's Chromium against `oneseal serve --demo` on a
# fresh SQLite database; axe-core on every page; screenshots written to target/screenshots (open them).
#
# Usage: tests/browser/run.sh        (builds nothing: ONESEAL_BIN defaults to target/debug/oneseal)
#   CHROMIUM=/path/to/chromium tests/browser/run.sh
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root" || exit 2
export ONESEAL_BIN="${ONESEAL_BIN:-$repo_root/target/debug/oneseal}"
export CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)}"
[[ -x "$ONESEAL_BIN" ]] || { echo "run.sh: no $ONESEAL_BIN; build it with: cargo build -p oneseal-oneseal" >&2; exit 2; }
[[ -x "$CHROMIUM" ]] || { echo "run.sh: no Chromium; apt-get install chromium (.ci/run does)" >&2; exit 2; }
command -v node >/dev/null || { echo "run.sh: node is needed (apt-get install nodejs npm)" >&2; exit 2; }

( cd tests/browser && npm ci --no-audit --no-fund --silent ) || { echo "run.sh: npm ci failed" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/oneseal-browser.XXXXXX")"
server_pid=""
status=0
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    if [[ $status -eq 0 ]]; then rm -rf -- "$work"; else echo "run.sh: server log kept in $work" >&2; fi
}
trap cleanup EXIT

ONESEAL_LOGIN_LIMIT_PER_ADDRESS=0 ONESEAL_LOGIN_LIMIT_PER_ACCOUNT=0 ONESEAL_REGISTRATIONS_PER_HOUR=0 ONESEAL_ANONYMOUS_PER_MINUTE=0 ONESEAL_EGRESS_ALLOW=127.0.0.1/32 ONESEAL_KIOSK_IDLE_SECONDS=4 \
    "$ONESEAL_BIN" serve --demo --database "sqlite://$work/oneseal.db" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 300); do
    base="$(sed -n 's/^OneSeal listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/server.log" | head -n 1)"
    [[ -n "$base" ]] && curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; status=2; exit 2; }
    sleep 0.1
done
[[ -n "$base" ]] || { echo "run.sh: the server did not start" >&2; status=2; exit 2; }
echo "== browser tests against $base with $CHROMIUM"
mkdir -p target/screenshots
ONESEAL_BASE_URL="$base" node --test --test-concurrency=1 tests/browser/ || status=1
if grep -q "panicked" "$work/server.log"; then echo "run.sh: the server panicked" >&2; status=1; fi
echo "screenshots: $(ls target/screenshots | wc -l) files in target/screenshots"
exit $status
