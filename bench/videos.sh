#!/usr/bin/env bash
# Video upload benchmark (issue 18): N concurrent tus uploads of MB megabytes each against `oneseal serve --demo`
# on a fresh SQLite database, the server's resident memory sampled throughout (bench/videos.py), then range
# playback's time to first byte. Each recording's sealed file is deleted as soon as it is complete; clients wait
# while the disk has less than 8 GB (+ their file) free.
#
# Usage: bench/videos.sh [N=50] [MB=200]     ONESEAL_BIN (default target/release/oneseal, else target/debug)
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root" || exit 2
bin="${ONESEAL_BIN:-}"
if [[ -z "$bin" ]]; then
    bin="$repo_root/target/release/oneseal"
    [[ -x "$bin" ]] || bin="$repo_root/target/debug/oneseal"
fi
[[ -x "$bin" ]] || { echo "videos.sh: no oneseal binary; cargo build --release -p oneseal-oneseal" >&2; exit 2; }
for tool in ffmpeg ffprobe python3; do command -v "$tool" >/dev/null || { echo "videos.sh: $tool needed" >&2; exit 2; }; done
work="$(mktemp -d "${TMPDIR:-/tmp}/oneseal-bench-videos.XXXXXX")"
server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; rm -rf -- "$work"; }
trap cleanup EXIT
ONESEAL_LOGIN_LIMIT_PER_ADDRESS=0 ONESEAL_LOGIN_LIMIT_PER_ACCOUNT=0 ONESEAL_ANONYMOUS_PER_MINUTE=0 \
    "$bin" serve --demo --database "sqlite://$work/oneseal.db" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 300); do
    base="$(sed -n 's/^OneSeal listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/server.log" | head -n 1)"
    [[ -n "$base" ]] && curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 2; }
    sleep 0.1
done
[[ -n "$base" ]] || { echo "videos.sh: the server did not start" >&2; exit 2; }
echo "== $bin ($(git rev-parse --short HEAD)) on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB; df / free: $(df -h / | awk 'NR==2{print $4}')" >&2
ONESEAL_BASE_URL="$base" ONESEAL_PID="$server_pid" ONESEAL_FILES="$work/files" python3 bench/videos.py "${1:-50}" "${2:-200}"
st=$?
grep -q panicked "$work/server.log" && { echo "videos.sh: the server panicked" >&2; st=1; }
exit $st
