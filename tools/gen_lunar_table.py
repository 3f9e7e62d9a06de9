#!/usr/bin/env python3
"""Generate data/calendar/lunar-festivals.tsv: the festival dates for provisional years.

For every year 1901-2100 the table gives the Gregorian dates of

    spring_festival  lunar 1/1 (春节; its eve, 除夕, is the day before)
    qingming         the day of the Qingming solar term (清明, the sun at apparent
                     ecliptic longitude 15 degrees), in Beijing time (UTC+8)
    dragon_boat      lunar 5/5 (端午)
    mid_autumn       lunar 8/15 (中秋)

OneSeal derives the statutory rest days of a year without an official notice
from these (crates/domain/src/calendar/provisional.rs).

Source: PyPI `lunar-python` (module lunar_python; 寿星天文历-derived lunisolar
calendar and solar terms). Every value is cross-checked against independent
implementations before anything is written:

  * lunar dates: `lunardate` (its own table, 1901-2099: the table ends before
    2100) and the lunisolar tables of `holidays` (holidays.calendars.chinese,
    1901-2100);
  * Qingming: `ephem` (VSOP87 via libastro: the moment the sun's apparent
    geocentric ecliptic longitude of date reaches 15 degrees, converted to
    UTC+8) and the Qingming rule of `holidays` (a 4-year-cycle approximation
    that holidays documents as reliable for 1901-2099);
  * arbiter for every lunar date: `ephem`'s new moon must fall on the first day
    of that lunar month in China's civil time (UTC+8 from 1929; Beijing local
    mean time, UTC+7:45:40, before, as the calendar of those years used).

Any disagreement aborts with a non-zero exit status and is printed, except
those in KNOWN_DISAGREEMENTS. Each of those is accepted only if it is still
exactly as listed and ephem decides it conclusively (its moment is more than
MARGIN_S seconds from midnight) for lunar-python. A listed disagreement that
no longer occurs is an error too, so the list cannot go stale. The output is
deterministic: re-running with the pinned versions gives the same file.

Usage (from the repository root; the venv is not committed):

    python3 -m venv .venv-lunar
    .venv-lunar/bin/pip install -r tools/requirements-lunar.txt
    .venv-lunar/bin/python tools/gen_lunar_table.py           # check, then (re)write
    .venv-lunar/bin/python tools/gen_lunar_table.py --check   # check, and compare with the file

Exit status: 0 ok; 1 a cross-check failed or (--check) the file differs;
2 the installed package versions are not the pinned ones. Needs no network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from importlib.metadata import version
from pathlib import Path

import ephem
from holidays.calendars.chinese import CHINESE_CALENDAR, _ChineseLunisolar
from lunar_python import Lunar
from lunardate import LunarDate

FIRST_YEAR = 1901
LAST_YEAR = 2100
LUNARDATE_LAST_YEAR = 2099  # lunardate raises "year out of range [1900, 2100)"
HOLIDAYS_QINGMING_LAST_YEAR = 2099  # holidays: "reliable for 1901-2099 years"

# Keep in step with tools/requirements-lunar.txt.
PINS = {"lunar-python": "1.4.8", "lunardate": "0.3.0", "holidays": "0.108", "ephem": "4.2.1"}

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT = REPO_ROOT / "data" / "calendar" / "lunar-festivals.tsv"

FIELDS = ("spring_festival", "qingming", "dragon_boat", "mid_autumn")
LUNAR = {"spring_festival": (1, 1), "dragon_boat": (5, 5), "mid_autumn": (8, 15)}

# ephem decides a date only when its moment is further than this from midnight.
# ephem and lunar-python agree on the Qingming moment within 47 s over
# 1901-2100 (they differ mostly in Delta T far from the present).
MARGIN_S = 120

BEIJING = dt.timedelta(hours=8)
BEIJING_LMT = dt.timedelta(hours=7, minutes=45, seconds=40)  # 116°25' E

# (year, field, library) -> that library's value, which differs from lunar-python's.
KNOWN_DISAGREEMENTS = {
    # New moon 1916-02-03 23:50:55 Beijing local mean time (the calendar's time
    # before 1929) = 1916-02-04 00:05:15 UTC+8. holidays' table uses UTC+8
    # throughout; lunar-python and lunardate give 02-03.
    (1916, "spring_festival", "holidays"): dt.date(1916, 2, 4),
    # New moon 1978-09-03 00:08:53 UTC+8, so lunar 8/1 = 09-03 and 8/15 = 09-17
    # (lunar-python, holidays). lunardate's table has 8/1 on 09-02.
    (1978, "mid_autumn", "lunardate"): dt.date(1978, 9, 16),
    # Qingming 2100-04-05 00:43:48 UTC+8 (lunar-python; ephem 47 s earlier).
    # holidays' 4-year rule is documented for 1901-2099 only and returns 04-04
    # (flagged as estimated).
    (2100, "qingming", "holidays"): dt.date(2100, 4, 4),
}


def check_versions() -> list[str]:
    return [f"{p} {version(p)} installed, {want} pinned" for p, want in PINS.items() if version(p) != want]


# ---------------------------------------------------------------- sources


def from_lunar_python(year: int) -> dict[str, dt.date]:
    out: dict[str, dt.date] = {}
    for field, (m, d) in LUNAR.items():
        s = Lunar.fromYmd(year, m, d).getSolar()  # positive month: the ordinary (not leap) month
        out[field] = dt.date(s.getYear(), s.getMonth(), s.getDay())
    # The jieqi table of lunar year `year` runs from the previous December to
    # the next March, so its 清明 is the one of Gregorian `year`.
    q = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
    out["qingming"] = dt.date(q.getYear(), q.getMonth(), q.getDay())
    return {f: out[f] for f in FIELDS}


def from_lunardate(year: int) -> dict[str, dt.date]:
    if year > LUNARDATE_LAST_YEAR:
        return {}
    return {f: LunarDate(year, m, d).to_solar_date() for f, (m, d) in LUNAR.items()}


HOLIDAYS_CAL = _ChineseLunisolar(CHINESE_CALENDAR)


def from_holidays(year: int) -> dict[str, dt.date]:
    out = {
        "spring_festival": HOLIDAYS_CAL.lunar_new_year_date(year)[0],
        "dragon_boat": HOLIDAYS_CAL.dragon_boat_date(year)[0],
        "mid_autumn": HOLIDAYS_CAL.mid_autumn_date(year)[0],
        "qingming": HOLIDAYS_CAL.qingming_date(year)[0],
    }
    return {f: v for f, v in out.items() if v is not None}


def ephem_utc(moment: dt.datetime) -> ephem.Date:
    return ephem.Date(moment.replace(tzinfo=None))


def sun_longitude(d: ephem.Date) -> float:
    """The sun's apparent geocentric ecliptic longitude of date, radians."""
    sun = ephem.Sun()
    sun.compute(d, epoch=d)
    return float(ephem.Ecliptic(ephem.Equatorial(sun.ra, sun.dec, epoch=d), epoch=d).lon)


def qingming_moment(year: int) -> dt.datetime:
    """The Qingming moment (longitude 15 degrees) in UTC+8, by bisection."""
    target = math.radians(15)
    lo = float(ephem_utc(dt.datetime(year, 3, 28)))
    hi = float(ephem_utc(dt.datetime(year, 4, 12)))
    for _ in range(45):
        mid = (lo + hi) / 2
        diff = (sun_longitude(ephem.Date(mid)) - target + math.pi) % (2 * math.pi) - math.pi
        lo, hi = (mid, hi) if diff < 0 else (lo, mid)
    return ephem.Date((lo + hi) / 2).datetime() + BEIJING


def china_civil_offset(year: int) -> dt.timedelta:
    return BEIJING if year >= 1929 else BEIJING_LMT


def new_moon_near(first_day: dt.date, offset: dt.timedelta) -> dt.datetime:
    """The new moon nearest to `first_day` (within half a lunation), in local time."""
    start = dt.datetime.combine(first_day, dt.time()) - offset - dt.timedelta(days=14.5)
    return ephem.next_new_moon(ephem_utc(start)).datetime() + offset


def to_midnight_s(moment: dt.datetime) -> float:
    since = (moment - dt.datetime.combine(moment.date(), dt.time())).total_seconds()
    return min(since, 86400 - since)


def ephem_verdict(year: int, field: str, value: dt.date, qm: dt.datetime | None) -> tuple[bool, bool, str]:
    """(agrees, conclusive, detail) for one value by ephem."""
    if field == "qingming":
        assert qm is not None
        return qm.date() == value, to_midnight_s(qm) > MARGIN_S, f"Qingming {qm:%Y-%m-%d %H:%M:%S} UTC+8"
    lunar_day = LUNAR[field][1]
    first = value - dt.timedelta(days=lunar_day - 1)
    offset = china_civil_offset(year)
    nm = new_moon_near(first, offset)
    tz = "UTC+8" if offset == BEIJING else "Beijing LMT"
    return (
        nm.date() == first,
        to_midnight_s(nm) > MARGIN_S,
        f"new moon {nm:%Y-%m-%d %H:%M:%S} {tz}, so day {lunar_day} of that month is "
        f"{nm.date() + dt.timedelta(days=lunar_day - 1)}",
    )


# ---------------------------------------------------------------- build and check


def build() -> tuple[dict[int, dict[str, dt.date]], list[str], dict[str, int]]:
    table: dict[int, dict[str, dt.date]] = {}
    problems: list[str] = []
    stats = {"lunardate": 0, "holidays": 0, "ephem": 0, "known": 0, "ephem_close": 0}
    seen_known: set[tuple[int, str, str]] = set()

    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        ours = from_lunar_python(year)
        table[year] = ours
        qm = qingming_moment(year)
        others = {"lunardate": from_lunardate(year), "holidays": from_holidays(year)}
        if year <= HOLIDAYS_QINGMING_LAST_YEAR:
            assert "qingming" in others["holidays"]

        for field in FIELDS:
            value = ours[field]
            if value.year != year:
                problems.append(f"{year} {field}: lunar-python gives {value}, not in {year}")
            agrees, conclusive, detail = ephem_verdict(year, field, value, qm)
            stats["ephem"] += 1
            if not conclusive:
                stats["ephem_close"] += 1
            if conclusive and not agrees:
                problems.append(f"{year} {field}: lunar-python {value}, but ephem: {detail}")

            for lib, values in others.items():
                if field not in values:
                    continue
                stats[lib] += 1
                theirs = values[field]
                if theirs == value:
                    continue
                key = (year, field, lib)
                if KNOWN_DISAGREEMENTS.get(key) != theirs:
                    problems.append(f"{year} {field}: lunar-python {value}, {lib} {theirs} ({detail})")
                    continue
                t_agrees, t_conclusive, t_detail = ephem_verdict(year, field, theirs, qm)
                if not (agrees and conclusive and t_conclusive and not t_agrees):
                    problems.append(
                        f"{year} {field}: known disagreement (lunar-python {value}, {lib} {theirs}) "
                        f"not decided by ephem for lunar-python: {detail}"
                    )
                    continue
                seen_known.add(key)
                stats["known"] += 1
                print(f"  known disagreement {year} {field}: lunar-python {value}, {lib} {theirs}; ephem: {detail}")

    for key in sorted(set(KNOWN_DISAGREEMENTS) - seen_known):
        problems.append(f"listed disagreement {key} did not occur: update KNOWN_DISAGREEMENTS")
    return table, problems, stats


def render(table: dict[int, dict[str, dt.date]], stats: dict[str, int]) -> str:
    v = PINS
    head = [
        "# Lunar festival dates for OneSeal's provisional calendar years (data/calendar/README.md), 1901-2100:",
        "# the Gregorian dates of the Spring Festival (lunar 1/1; the eve is the day before), the Qingming solar",
        "# term (Beijing time, UTC+8), the Dragon Boat Festival (lunar 5/5) and the Mid-Autumn Festival (lunar 8/15).",
        f"# Generated by tools/gen_lunar_table.py from PyPI lunar-python {v['lunar-python']}. Do not edit by hand.",
        f"# Cross-checked value by value: lunar dates against lunardate {v['lunardate']} (1901-2099) and the tables",
        f"# of holidays {v['holidays']} (1901-2100); Qingming against ephem {v['ephem']} (sun's apparent longitude",
        f"# 15 degrees, 1901-2100) and holidays' rule (1901-2099); every lunar date against ephem's new moon (UTC+8",
        "# from 1929, Beijing local mean time before, as the calendar then used).",
        f"# {stats['lunardate'] + stats['holidays'] + stats['ephem']} comparisons; {stats['known']} known "
        "disagreements, each decided by ephem for lunar-python (see KNOWN_DISAGREEMENTS in the script).",
        "# year\tspring_festival\tqingming\tdragon_boat\tmid_autumn",
    ]
    rows = ["\t".join([str(y), *(table[y][f].isoformat() for f in FIELDS)]) for y in sorted(table)]
    return "\n".join(head + rows) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="do not write; fail if the file differs")
    args = ap.parse_args()

    wrong = check_versions()
    if wrong:
        print("gen_lunar_table: wrong package versions (pip install -r tools/requirements-lunar.txt):")
        for w in wrong:
            print(f"  {w}")
        return 2

    table, problems, stats = build()
    years = LAST_YEAR - FIRST_YEAR + 1
    print(
        f"gen_lunar_table: {years} years, {years * len(FIELDS)} values from lunar-python; compared "
        f"{stats['lunardate']} with lunardate, {stats['holidays']} with holidays, {stats['ephem']} with ephem "
        f"({stats['ephem_close']} within {MARGIN_S} s of midnight, not decided by ephem); "
        f"{stats['known']} known disagreement(s)"
    )
    if problems:
        for p in problems:
            print(f"  DISAGREEMENT {p}")
        print(f"gen_lunar_table: {len(problems)} problem(s); nothing written")
        return 1

    text = render(table, stats)
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"gen_lunar_table: {OUT.relative_to(REPO_ROOT)} differs from the generated table")
            return 1
        print(f"gen_lunar_table: {OUT.relative_to(REPO_ROOT)} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"gen_lunar_table: wrote {OUT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
