#!/usr/bin/env python3
"""Check OneSeal's identifier check-digit code against an independent implementation.

The oracle is the PyPI package `python-stdnum`. It is maintained separately
from OneSeal and implements the standards independently:

- USCC (统一社会信用代码, GB 32100-2015): 17-character body over the alphabet
  0123456789ABCDEFGHJKLMNPQRTUWXY, check character = stdnum.cn.uscc.calc_check_digit(body).
- Resident identity number (居民身份证号码, GB 11643-1999, ISO 7064 MOD 11-2):
  17-digit body, check character 0-9 or X. stdnum.cn.ric.calc_check_digit
  takes the full 18-character number and ignores its last character, so the
  oracle calls it with body + "0". The oracle is also checked against the
  textbook weights (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, map "10X98765432").

Contract under test:
    $ONESEAL_BIN id check-digit uscc --stdin         (one body per line in, one check char per line out)
    $ONESEAL_BIN id check-digit resident-id --stdin  (same)

Inputs are 5000 random bodies of each kind, generated deterministically
(random.Random(2025) and random.Random(11643)). Every position of a USCC body
is drawn from the whole alphabet, so many bodies start with a letter. GB 32100
allows letters in the leading positions (e.g. registration authority 'Y'), even
though stdnum.cn.uscc.validate() rejects them. The inputs also include known
real numbers (91110000600037341L, 11010519491231002X, 360426199101010071).

Environment: ONESEAL_BIN is the binary to test (default:
<repo>/target/debug/oneseal). Exit status: 0 if all checks pass, 1 on any
mismatch, 2 if the binary cannot be run.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from stdnum.cn import ric, uscc

REPO_ROOT = Path(__file__).resolve().parents[2]
ONESEAL_BIN = os.environ.get("ONESEAL_BIN") or str(REPO_ROOT / "target" / "debug" / "oneseal")

COUNT = 5000
SHOW = 20
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Known valid numbers: (full number, stdnum module).
KNOWN_USCC = ["91110000600037341L"]
KNOWN_RIC = ["11010519491231002X", "360426199101010071"]


class BinaryError(Exception):
    pass


def uscc_oracle(body: str) -> str:
    return uscc.calc_check_digit(body)


def ric_oracle(body: str) -> str:
    return ric.calc_check_digit(body + "0")


def ric_textbook(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def mod3736_oracle(body: str) -> str:
    from stdnum.iso7064 import mod_37_36
    return mod_37_36.calc_check_digit(body)


def licence_bodies() -> list[str]:
    """Bodies of GB/T 36904 licence identifiers: type code (USCC + 3 digits) + issuer USCC + serial + version."""
    rng = random.Random(36904)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ["11100000000013338W03291110000600037341L0000001001"]
    for _ in range(3000):
        n = rng.randrange(1, 60)
        out.append("".join(rng.choice(alphabet) for _ in range(n)))
    return out


def uscc_bodies() -> list[str]:
    rng = random.Random(2025)
    bodies = [number[:17] for number in KNOWN_USCC]
    bodies += ["0" * 17, "Y" * 17, "Y" + "1" * 16]
    bodies += ["".join(rng.choice(USCC_ALPHABET) for _ in range(17)) for _ in range(COUNT)]
    return bodies


def ric_bodies() -> list[str]:
    rng = random.Random(11643)
    bodies = [number[:17] for number in KNOWN_RIC]
    bodies += ["0" * 17, "9" * 17]
    bodies += ["".join(rng.choice("0123456789") for _ in range(17)) for _ in range(COUNT)]
    return bodies


def self_check() -> None:
    """Make sure the oracle itself behaves as documented before trusting it."""
    for number in KNOWN_USCC:
        assert uscc.is_valid(number), number
        assert uscc_oracle(number[:17]) == number[17], number
    for number in KNOWN_RIC:
        assert ric.is_valid(number), number
        assert ric_oracle(number[:17]) == number[17], number
    for body in ric_bodies():
        assert ric_oracle(body) == ric_textbook(body), body
    letter_led = sum(b[0].isalpha() for b in uscc_bodies())
    assert letter_led > COUNT // 2, letter_led


def run_binary(kind: str, bodies: list[str]) -> list[str]:
    cmd = [ONESEAL_BIN, "id", "check-digit", kind, "--stdin"]
    try:
        proc = subprocess.run(
            cmd, input="".join(b + "\n" for b in bodies), capture_output=True, text=True, timeout=300
        )
    except FileNotFoundError:
        raise BinaryError(f"binary not found: {ONESEAL_BIN} (set ONESEAL_BIN)") from None
    except PermissionError:
        raise BinaryError(f"binary not executable: {ONESEAL_BIN}") from None
    except subprocess.TimeoutExpired:
        raise BinaryError(f"timed out: {' '.join(cmd)}") from None
    if proc.returncode != 0:
        raise BinaryError(f"`{' '.join(cmd[1:])}` exited {proc.returncode}\nstderr:\n{proc.stderr.strip()}")
    lines = [line.strip() for line in proc.stdout.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def check(kind: str, bodies: list[str], oracle) -> int:
    got = run_binary(kind, bodies)
    problems = []
    if len(got) != len(bodies):
        problems.append(f"got {len(got)} output lines for {len(bodies)} input lines")
    for body, out in zip(bodies, got):
        want = oracle(body)
        if out != want:
            problems.append(f"{body}: oneseal says {out!r}, python-stdnum says {want!r}")
    for p in problems[:SHOW]:
        print(f"  MISMATCH {p}")
    if len(problems) > SHOW:
        print(f"  ... and {len(problems) - SHOW} more")
    status = "ok" if not problems else "FAILED"
    print(f"[{status}] id check-digit {kind}: {len(problems)} mismatch(es) out of {len(bodies)}")
    return len(problems)


def main() -> int:
    print(f"ids oracle: python-stdnum vs {ONESEAL_BIN}")
    self_check()
    failed = errors = 0
    for kind, bodies, oracle in (
        ("uscc", uscc_bodies(), uscc_oracle),
        ("resident-id", ric_bodies(), ric_oracle),
        ("mod37-36", licence_bodies(), mod3736_oracle),
    ):
        try:
            failed += check(kind, bodies, oracle) > 0
        except BinaryError as e:
            print(f"[ERROR] id check-digit {kind}: {e}")
            errors += 1
    if errors:
        print(f"ids oracle: {errors} check(s) could not run, {failed} FAILED")
        return 2
    print("ids oracle:", "all checks passed" if not failed else f"{failed} check(s) FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
