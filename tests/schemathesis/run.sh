#!/usr/bin/env bash
# Check the running API against its served OpenAPI document (crates/web/openapi.json + the declared access rules).
#
# Usage: tests/schemathesis/run.sh          (from anywhere)
#   ONESEAL_BIN=/path/to/oneseal tests/schemathesis/run.sh
#   SCHEMATHESIS_MAX_EXAMPLES=300 SCHEMATHESIS_SEED=7 tests/schemathesis/run.sh
#
# This script builds nothing: build the binary first (the default is target/debug/oneseal). It creates .venv
# at the repository root if needed and installs the pinned requirements into it, then:
#   1. validates the document with openapi-spec-validator;
#   2. starts `oneseal serve --demo` on a fresh temporary SQLite database and a free port, waits for /healthz;
#   3. workflow.py: walks one case through intake, joint review, suspension, extension, decision and delivery
#      with the demo staff accounts and checks every answer against the document (schemathesis signs in as a
#      citizen and cannot reach the staff side);
#   4. schemathesis: signs in as the demo account `citizen`, generates requests for every operation from the
#      document (examples, coverage, fuzzing and stateful phases, positive and negative data) with a fixed seed
#      and checks not_a_server_error, status_code_conformance, content_type_conformance and
#      response_schema_conformance. DELETE /api/v1/sessions/current is left out because it would end the
#      session every other request uses; workflow.py covers it;
#   5. checks that the server survived: no panic in its log, and it still writes (a sign-in succeeds);
# and stops the server. The exit status is non-zero if any step fails. The server log and the JUnit report are
# kept in the printed directory when something fails.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root" || exit 2

ONESEAL_BIN="${ONESEAL_BIN:-$repo_root/target/debug/oneseal}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
SEED="${SCHEMATHESIS_SEED:-20261127}"
# The document as served: crates/web/openapi.json with each operation's access rule filled in from the routes'
# declarations (fetched once the server runs).
DOC=""
here=tests/schemathesis

if [[ ! -x "$ONESEAL_BIN" ]]; then
    echo "run.sh: no executable $ONESEAL_BIN; build it with: cargo build -p oneseal-oneseal" >&2
    exit 2
fi
if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv || { echo "run.sh: cannot create .venv" >&2; exit 2; }
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" \
    || { echo "run.sh: pip install failed" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/oneseal-schemathesis.XXXXXX")"
server_pid=""
status=0

cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    if [[ $status -eq 0 ]]; then
        rm -rf -- "$work"
    else
        echo "run.sh: server log and reports kept in $work" >&2
    fi
}
trap cleanup EXIT
trap 'status=130; exit 130' INT
trap 'status=143; exit 143' TERM

fail() { echo "run.sh: $*" >&2; status=1; }

echo "== starting $ONESEAL_BIN serve --demo (sign-in throttling off: generated requests come from 127.0.0.1 and reuse the documented example account; throttling has its own tests)"
ONESEAL_LOGIN_LIMIT_PER_ADDRESS=0 ONESEAL_LOGIN_LIMIT_PER_ACCOUNT=0 ONESEAL_REGISTRATIONS_PER_HOUR=0 ONESEAL_ANONYMOUS_PER_MINUTE=0 "$ONESEAL_BIN" serve --demo --database "sqlite://$work/oneseal.db" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 300); do
    base="$(sed -n 's/^OneSeal listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/server.log" | head -n 1)"
    [[ -n "$base" ]] && curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$work/server.log" >&2
        status=2
        echo "run.sh: the server exited" >&2
        exit 2
    fi
    base=""
    sleep 0.1
done
if [[ -z "$base" ]]; then
    cat "$work/server.log" >&2
    status=2
    echo "run.sh: the server did not answer /healthz within 30 s" >&2
    exit 2
fi
echo "server at $base (pid $server_pid, database $work/oneseal.db)"

DOC="$work/openapi.json"
curl -fsS "$base/api/v1/openapi.json" -o "$DOC" || { status=1; echo "run.sh: cannot fetch the served document" >&2; exit 1; }
echo "== openapi-spec-validator (the served document)"
.venv/bin/openapi-spec-validator "$DOC" || { status=1; exit 1; }

sign_in() {
    curl -fsS -X POST "$base/api/v1/sessions" -H 'Content-Type: application/json' \
        -d '{"username":"citizen","password":"oneseal-demo"}' \
        | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

echo "== workflow.py"
.venv/bin/python "$here/workflow.py" "$base" "$DOC" >"$work/workflow.log" 2>&1
wf=$?
grep -v '^ok ' "$work/workflow.log"
[[ $wf -eq 0 ]] || fail "workflow.py failed (exit $wf); full log: $work/workflow.log"

echo "== schemathesis (max examples $MAX_EXAMPLES per operation, seed $SEED)"
if token="$(sign_in)" && [[ -n "$token" ]]; then
    # Run in the work directory so schemathesis and hypothesis leave their state there, not in the repository.
    (
        cd "$work" &&
        SCHEMATHESIS_HOOKS="$repo_root/tests/schemathesis/hooks.py" \
        "$repo_root/.venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
            --url "$base" \
            --header "Authorization: Bearer $token" \
            --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
            --exclude-path /api/v1/sessions/current \
            --max-examples "$MAX_EXAMPLES" \
            --seed "$SEED" \
            --generation-database none \
            --workers 1 \
            --request-timeout 30 \
            --report junit --report-dir "$work/report" \
            --no-color
    ) || fail "schemathesis found failures"
else
    fail "cannot sign in as citizen"
fi

echo "== server health after the run"
if ! kill -0 "$server_pid" 2>/dev/null; then
    fail "the server died during the run"
elif ! sign_in >/dev/null; then
    fail "the server no longer accepts a sign-in (its store writer may have died)"
fi
if grep -q 'panicked' "$work/server.log"; then
    fail "the server panicked:"
    grep -A1 'panicked' "$work/server.log" >&2
fi

if [[ $status -ne 0 ]]; then
    echo "schemathesis tests FAILED" >&2
else
    echo "schemathesis tests passed"
fi
exit $status
