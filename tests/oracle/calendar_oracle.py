#!/usr/bin/env python3
"""Check the `oneseal calendar` CLI against an independent implementation.

The oracle is the PyPI package `chinesecalendar` (module `chinese_calendar`).
It is maintained separately from OneSeal and carries its own transcription of
the 国务院办公厅 holiday notices. OneSeal's Rust code reads
data/calendar/*.toml and applies its own rule, so comparing the two catches
bugs in the Rust logic (weekday arithmetic, make-up Saturdays/Sundays, year
boundaries, off-by-one deadlines) and in the data files.

Checks:
  (a) `calendar dump 2004-01-01 2026-12-31` prints `YYYY-MM-DD true|false` for
      every date. Each date must agree with chinese_calendar.is_workday.
  (b) `calendar deadline --stdin` reads lines `YYYY-MM-DD N` and prints the
      deadline for each, one per line, in order. The deadline is the N-th
      working day strictly after the start date; the start date never counts,
      whether or not it is a working day. The cases are fixed edge cases
      (including the worked example 2025-09-26 + 20 -> 2025-10-30) plus
      3000 deterministic random cases (random.Random(2025)) with start dates in
      2004-01-01..2026-10-31, N in 1..60 and deadlines no later than
      2026-12-31.
  (c) `calendar is-workday 2003-01-06` must fail, and its error output must
      name the year 2003: before the official data (2004) nothing is guessed.
      (Years after the data are provisional, derived from the statutory
      holidays; tests/oracle/provisional_oracle.py checks those.)
      `calendar is-workday 2026-02-14` (a make-up Saturday) must print `true`,
      and 2026-02-16 (a Monday in the Spring Festival) must print `false`.

Note on chinese_calendar.find_workday(delta, date): it counts `date` itself
when `date` is a working day. find_workday(0, d) is the first working day on
or after d, so find_workday(n, d) matches our definition only when d is a
working day. The oracle therefore walks is_workday day by day. As a
cross-check it also uses find_workday(n - 1, start + 1 day), which counts
strictly after the start date.

Environment: ONESEAL_BIN is the binary to test (default:
<repo>/target/debug/oneseal). Exit status: 0 if all checks pass, 1 on any
mismatch, 2 if the binary cannot be run.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import chinese_calendar

REPO_ROOT = Path(__file__).resolve().parents[2]
ONESEAL_BIN = os.environ.get("ONESEAL_BIN") or str(REPO_ROOT / "target" / "debug" / "oneseal")

FIRST = dt.date(2004, 1, 1)
LAST = dt.date(2026, 12, 31)
LAST_START = dt.date(2026, 10, 31)
RANDOM_DEADLINE_CASES = 3000
MAX_N = 60
SHOW = 20  # how many individual mismatches to print per check

ONE_DAY = dt.timedelta(days=1)


class BinaryError(Exception):
    pass


def run(args: list[str], stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    cmd = [ONESEAL_BIN, *args]
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise BinaryError(f"binary not found: {ONESEAL_BIN} (set ONESEAL_BIN)") from None
    except PermissionError:
        raise BinaryError(f"binary not executable: {ONESEAL_BIN}") from None
    except subprocess.TimeoutExpired:
        raise BinaryError(f"timed out after {timeout}s: {' '.join(cmd)}") from None


def run_ok(args: list[str], stdin: str | None = None) -> list[str]:
    """Run the binary, require exit 0, return stdout lines (trailing blank lines dropped)."""
    proc = run(args, stdin)
    if proc.returncode != 0:
        raise BinaryError(
            f"`oneseal {' '.join(args)}` exited {proc.returncode}\nstderr:\n{proc.stderr.strip()}"
        )
    lines = [line.rstrip("\r") for line in proc.stdout.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def report(name: str, problems: list[str], total: int) -> int:
    for p in problems[:SHOW]:
        print(f"  MISMATCH {p}")
    if len(problems) > SHOW:
        print(f"  ... and {len(problems) - SHOW} more")
    status = "ok" if not problems else "FAILED"
    print(f"[{status}] {name}: {len(problems)} mismatch(es) out of {total}")
    return len(problems)


# ---------------------------------------------------------------- oracle


def expected_deadline(start: dt.date, n: int) -> dt.date:
    """N-th working day strictly after `start`, by walking is_workday.

    Raises NotImplementedError (from chinese_calendar) if the walk leaves the
    years the package covers.
    """
    day, left = start, n
    while left:
        day += ONE_DAY
        if chinese_calendar.is_workday(day):
            left -= 1
    return day


def deadline_cases() -> list[tuple[dt.date, int, dt.date]]:
    cases: list[tuple[dt.date, int]] = [
        (dt.date(2025, 9, 26), 20),  # worked example -> 2025-10-30
        (dt.date(2025, 9, 27), 1),  # rest Saturday -> make-up Sunday 09-28
        (dt.date(2025, 9, 28), 1),  # make-up Sunday (a workday) -> 09-29
        (dt.date(2025, 9, 30), 1),  # eve of National Day -> 10-09
        (dt.date(2025, 10, 1), 1),  # inside the holiday -> 10-09
        (dt.date(2025, 10, 8), 3),  # last holiday day -> 10-09, 10-10, 10-11 (Sat make-up)
        (dt.date(2025, 12, 31), 1),  # across the year -> 2026-01-04 (make-up Sunday)
        (dt.date(2026, 2, 13), 1),  # -> 2026-02-14 (make-up Saturday)
        (dt.date(2026, 2, 14), 1),  # make-up Saturday -> 2026-02-24
        (dt.date(2004, 1, 1), 1),  # first date with data
        (dt.date(2004, 12, 31), 1),  # year boundary
        (dt.date(2026, 12, 30), 1),  # -> 2026-12-31, last date with data
        (dt.date(2026, 10, 31), 40),
        (dt.date(2020, 1, 23), 5),  # 2020 Spring Festival (extended for COVID)
        (dt.date(2008, 4, 30), 1),
        (dt.date(2015, 9, 2), 2),  # 2015 Anti-Fascist 70th anniversary days
    ]
    out: list[tuple[dt.date, int, dt.date]] = [(s, n, expected_deadline(s, n)) for s, n in cases]

    # Hand-checked values, so the oracle itself is checked too.
    hand = {
        (dt.date(2025, 9, 26), 20): dt.date(2025, 10, 30),
        (dt.date(2025, 9, 27), 1): dt.date(2025, 9, 28),
        (dt.date(2025, 9, 30), 1): dt.date(2025, 10, 9),
        (dt.date(2025, 10, 8), 3): dt.date(2025, 10, 11),
        (dt.date(2025, 12, 31), 1): dt.date(2026, 1, 4),
        (dt.date(2026, 2, 14), 1): dt.date(2026, 2, 24),
    }
    for (s, n, e) in out:
        if (s, n) in hand:
            assert e == hand[(s, n)], f"oracle disagrees with hand-checked {s} + {n}: {e}"

    rng = random.Random(2025)
    span = (LAST_START - FIRST).days
    randoms = 0
    while randoms < RANDOM_DEADLINE_CASES:
        start = FIRST + dt.timedelta(days=rng.randint(0, span))
        n = rng.randint(1, MAX_N)
        try:
            deadline = expected_deadline(start, n)
        except NotImplementedError:  # walked into 2027: outside the data
            continue
        if deadline > LAST:
            continue
        out.append((start, n, deadline))
        randoms += 1

    # Cross-check the walk with find_workday, which counts from the day after
    # the start.  (find_workday(n, start) would count `start` itself when it
    # is a working day.)
    for start, n, deadline in out:
        via_find = chinese_calendar.find_workday(n - 1, start + ONE_DAY)
        assert via_find == deadline, f"walk and find_workday disagree on {start} + {n}"
    return out


# ---------------------------------------------------------------- checks

LINE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (true|false)$")


def check_dump() -> int:
    name = f"(a) calendar dump {FIRST}..{LAST} vs chinese_calendar.is_workday"
    lines = run_ok(["calendar", "dump", FIRST.isoformat(), LAST.isoformat()])
    expected: dict[dt.date, bool] = {}
    day = FIRST
    while day <= LAST:
        expected[day] = chinese_calendar.is_workday(day)
        day += ONE_DAY

    problems: list[str] = []
    seen: dict[dt.date, bool] = {}
    for i, line in enumerate(lines, 1):
        m = LINE_RE.match(line.strip())
        if not m:
            problems.append(f"line {i}: malformed {line!r} (want `YYYY-MM-DD true|false`)")
            continue
        try:
            day = dt.date.fromisoformat(m.group(1))
        except ValueError:
            problems.append(f"line {i}: invalid date {m.group(1)!r}")
            continue
        if day in seen:
            problems.append(f"line {i}: {day} printed twice")
            continue
        seen[day] = m.group(2) == "true"
        if day not in expected:
            problems.append(f"line {i}: {day} is outside the requested range")
        elif seen[day] != expected[day]:
            problems.append(
                f"{day} ({day:%a}): oneseal says {m.group(2)}, "
                f"chinesecalendar says {str(expected[day]).lower()}"
            )
    missing = [d for d in expected if d not in seen]
    if missing:
        problems.insert(0, f"{len(missing)} date(s) not printed, first {missing[0]}, last {missing[-1]}")
    return report(name, problems, len(expected))


def check_deadlines() -> int:
    cases = deadline_cases()
    name = f"(b) calendar deadline --stdin, {len(cases)} cases"
    stdin = "".join(f"{s.isoformat()} {n}\n" for s, n, _ in cases)
    lines = run_ok(["calendar", "deadline", "--stdin"], stdin)
    problems: list[str] = []
    if len(lines) != len(cases):
        problems.append(f"got {len(lines)} output lines for {len(cases)} input lines")
    for (start, n, want), got in zip(cases, lines):
        if got.strip() != want.isoformat():
            problems.append(
                f"{start} ({start:%a}, workday={chinese_calendar.is_workday(start)}) + {n} "
                f"working days: oneseal says {got.strip()!r}, expected {want}"
            )
    return report(name, problems, len(cases))


# The year must appear as a number of its own, e.g. "year 2003", "2003年" or
# "(2003)". Echoing the input date "2003-01-06" alone does not count.
YEAR_2003_RE = re.compile(r"(?<![\d-])2003(?!\d|-\d)")


def check_is_workday() -> int:
    name = "(c) calendar is-workday: no guessing before the data, make-up days"
    problems: list[str] = []

    proc = run(["calendar", "is-workday", "2003-01-06"])
    output = proc.stderr + proc.stdout
    if proc.returncode == 0:
        problems.append(
            f"is-workday 2003-01-06 exited 0 (stdout {proc.stdout.strip()!r}); "
            "a year without data before the official calendar must be an error"
        )
    if proc.stdout.strip().split(" ")[0] in ("true", "false"):
        problems.append(f"is-workday 2003-01-06 printed a guess: {proc.stdout.strip()!r}")
    if not YEAR_2003_RE.search(output):
        problems.append(
            "is-workday 2003-01-06: error output does not name the year 2003 as a year "
            f"(not just inside the date): {output.strip()!r}"
        )

    for date, want in (("2026-02-14", "true"), ("2026-02-16", "false")):
        assert str(chinese_calendar.is_workday(dt.date.fromisoformat(date))).lower() == want
        proc = run(["calendar", "is-workday", date])
        if proc.returncode != 0 or proc.stdout.strip() != want:
            problems.append(
                f"is-workday {date}: want exit 0 and {want!r}, got exit {proc.returncode}, "
                f"stdout {proc.stdout.strip()!r}, stderr {proc.stderr.strip()!r}"
            )
    return report(name, problems, 3)


def main() -> int:
    print(f"calendar oracle: chinesecalendar vs {ONESEAL_BIN}")
    failed = errors = 0
    for check in (check_dump, check_deadlines, check_is_workday):
        try:
            failed += check() > 0
        except BinaryError as e:
            print(f"[ERROR] {check.__name__}: {e}")
            errors += 1
    if errors:
        print(f"calendar oracle: {errors} check(s) could not run, {failed} FAILED")
        return 2
    print("calendar oracle:", "all checks passed" if not failed else f"{failed} check(s) FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
