#!/usr/bin/env bash
# The tus 1.0 server (video inspection uploads) checked with the real clients: PyPI tuspy and npm tus-js-client,
# against `oneseal serve --demo` on a fresh SQLite database, through a proxy that cuts a connection halfway
# (tests/tus/tus_clients.py). Needs ffmpeg (test videos), node and python3 with venv.
#
# Usage: tests/tus/run.sh        (builds nothing: ONESEAL_BIN defaults to target/debug/oneseal)
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root" || exit 2
ONESEAL_BIN="${ONESEAL_BIN:-$repo_root/target/debug/oneseal}"
[[ -x "$ONESEAL_BIN" ]] || { echo "run.sh: no $ONESEAL_BIN; build it with: cargo build -p oneseal-oneseal" >&2; exit 2; }
for tool in ffmpeg ffprobe node python3; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed (.ci/run installs it)" >&2; exit 2; }
done
if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv || { echo "run.sh: cannot create .venv" >&2; exit 2; }
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/tus/requirements.txt \
    || { echo "run.sh: pip install failed" >&2; exit 2; }
( cd tests/tus && npm ci --no-audit --no-fund --silent ) || { echo "run.sh: npm ci failed" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/oneseal-tus.XXXXXX")"
server_pid=""
status=0
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    if [[ $status -eq 0 ]]; then rm -rf -- "$work"; else echo "run.sh: server log kept in $work" >&2; fi
}
trap cleanup EXIT

ONESEAL_LOGIN_LIMIT_PER_ADDRESS=0 ONESEAL_LOGIN_LIMIT_PER_ACCOUNT=0 ONESEAL_ANONYMOUS_PER_MINUTE=0 \
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
echo "== tus clients against $base"
ONESEAL_BASE_URL="$base" .venv/bin/python tests/tus/tus_clients.py || status=1
if grep -q "panicked" "$work/server.log"; then echo "run.sh: the server panicked" >&2; status=1; fi
# The sealed recordings are in the file store beside the database, the part files gone.
sealed=$(find "$work/files/videos" -name '*.osv' 2>/dev/null | wc -l)
parts=$(find "$work/files/uploads" -name '*.part' 2>/dev/null | wc -l)
echo "file store: $sealed sealed videos, $parts part files"
[[ $sealed -ge 3 && $parts -eq 0 ]] || { echo "run.sh: expected >= 3 sealed videos and no part files" >&2; status=1; }
exit $status
