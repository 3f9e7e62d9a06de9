#!/usr/bin/env bash
# Run the oracle tests: compare the oneseal binary with independent Python
# implementations (chinesecalendar for working days and deadlines,
# holidays, lunardate and ephem for the provisional years 2027+,
# python-stdnum for identifier check digits, Python cryptography on OpenSSL
# for SM4-GCM and HMAC-SM3).
#
# Usage: tests/oracle/run.sh          (from anywhere)
#   ONESEAL_BIN=/path/to/oneseal tests/oracle/run.sh
#
# This script builds nothing. Build the binary first; the default is
# target/debug/oneseal. It creates .venv at the repository root if needed and
# installs the pinned requirements into it. Both oracles always run. The exit
# status is non-zero if either fails.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root" || exit 2

export ONESEAL_BIN="${ONESEAL_BIN:-$repo_root/target/debug/oneseal}"

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv || { echo "run.sh: cannot create .venv" >&2; exit 2; }
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/oracle/requirements.txt \
    || { echo "run.sh: pip install failed" >&2; exit 2; }

status=0
for oracle in tests/oracle/calendar_oracle.py tests/oracle/ids_oracle.py tests/oracle/sm4_oracle.py tests/oracle/qr_oracle.py tests/oracle/xes_oracle.py tests/oracle/webhook_oracle.py tests/oracle/open311_oracle.py tests/oracle/provisional_oracle.py; do
    echo "== $oracle"
    .venv/bin/python "$oracle" || status=1
done

if [[ $status -ne 0 ]]; then
    echo "oracle tests FAILED" >&2
else
    echo "oracle tests passed"
fi
exit $status
