"""SM4-GCM and HMAC-SM3 of the oneseal binary against independent implementations.

Personal data at rest is sealed with SM4-GCM and found through HMAC-SM3 blind indexes. Debian's OpenSSL 3.0
command line has no SM4-GCM, so the oracle is PyPI `cryptography` (which bundles a newer OpenSSL with SM4-GCM);
HMAC-SM3 is checked against Python's hmac over hashlib's SM3 when the system OpenSSL provides it, and the Rust
tests also check it against `openssl dgst -sm3 -hmac`.

For random keys, nonces, associated data and plaintexts of many lengths:
  (a) `oneseal crypto sm4-gcm-encrypt` == cryptography's SM4-GCM ciphertext and tag;
  (b) `oneseal crypto sm4-gcm-decrypt` opens what cryptography sealed;
  (c) a flipped bit makes `oneseal crypto sm4-gcm-decrypt` fail;
  (d) `oneseal crypto hmac-sm3` == hmac.new(key, data, 'sm3');
  (e) `oneseal crypto totp` == PyPI pyotp's TOTP for random secrets and times (the staff second factor).
Exit 0 when all agree, 1 on a mismatch, 2 when the binary cannot run.
"""

import hashlib
import hmac
import os
import random
import subprocess
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BIN = os.environ.get("ONESEAL_BIN", "target/debug/oneseal")


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def main():
    rng = random.Random(2026)
    mismatches = 0
    cases = 0
    for i in range(60):
        key = rng.randbytes(16)
        nonce = rng.randbytes(12)
        aad = rng.randbytes(rng.choice([0, 3, 16, 33]))
        plain = rng.randbytes(rng.choice([0, 1, 15, 16, 17, 18, 31, 64, 100]))
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        theirs = enc.update(plain) + enc.finalize() + enc.tag
        rc, ours, err = run("crypto", "sm4-gcm-encrypt", "--key", key.hex(), "--nonce", nonce.hex(), "--aad", aad.hex(), plain.hex())
        if rc != 0:
            print(f"cannot run {BIN}: {err}")
            return 2
        cases += 1
        if ours != theirs.hex():
            mismatches += 1
            print(f"[mismatch] encrypt case {i}: ours {ours} theirs {theirs.hex()}")
        rc, opened, err = run("crypto", "sm4-gcm-decrypt", "--key", key.hex(), "--nonce", nonce.hex(), "--aad", aad.hex(), theirs.hex())
        cases += 1
        if rc != 0 or opened != plain.hex():
            mismatches += 1
            print(f"[mismatch] decrypt case {i}: rc {rc} {err}")
        tampered = bytearray(theirs)
        tampered[rng.randrange(len(tampered))] ^= 1 << rng.randrange(8)
        rc, _, _ = run("crypto", "sm4-gcm-decrypt", "--key", key.hex(), "--nonce", nonce.hex(), "--aad", aad.hex(), bytes(tampered).hex())
        cases += 1
        if rc == 0:
            mismatches += 1
            print(f"[mismatch] tampered case {i} decrypted")
    try:
        hashlib.new("sm3")
        have_sm3 = True
    except ValueError:
        have_sm3 = False
    if have_sm3:
        for i in range(40):
            key = rng.randbytes(rng.choice([1, 16, 32, 64, 100]))
            data = rng.randbytes(rng.choice([0, 5, 64, 200]))
            theirs = hmac.new(key, data, "sm3").hexdigest()
            rc, ours, err = run("crypto", "hmac-sm3", "--key", key.hex(), data.hex())
            cases += 1
            if ours != theirs:
                mismatches += 1
                print(f"[mismatch] hmac case {i}: ours {ours} theirs {theirs}")
    else:
        print("hashlib has no sm3 here; HMAC-SM3 is checked against `openssl dgst` by the Rust tests")
    import base64
    import pyotp
    for i in range(40):
        secret = base64.b32encode(rng.randbytes(20)).decode().rstrip("=")
        t = rng.randrange(0, 4_000_000_000)
        theirs = pyotp.TOTP(secret).at(t)
        rc, ours, err = run("crypto", "totp", "--secret", secret, "--time", str(t))
        cases += 1
        if ours != theirs:
            mismatches += 1
            print(f"[mismatch] totp case {i}: ours {ours} theirs {theirs} ({err})")
    status = "ok" if mismatches == 0 else "FAIL"
    print(f"[{status}] SM4-GCM, HMAC-SM3 and TOTP vs cryptography/hashlib/pyotp: {mismatches} mismatch(es) out of {cases}")
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
