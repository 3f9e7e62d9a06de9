"""Verify a OneSeal licence QR with a CBOR decoder and OpenSSL alone (docs/qr-format.md).

    python3 tools/verify_qr.py QR_TEXT_FILE PUBLIC_KEY_PEM

Independent of OneSeal's code: Base45 per RFC 9285 (written out below), CBOR by PyPI `cbor2`, the signature by
`openssl pkeyutl` (SM2 over SM3, distinguishing ID 1234567812345678). Exit 0 and the claims when the signature
verifies; exit 1 otherwise.
"""

import os
import subprocess
import sys
import tempfile

import cbor2

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45_decode(s: str) -> bytes:
    v = [B45.index(c) for c in s]
    out = bytearray()
    for i in range(0, len(v), 3):
        chunk = v[i:i + 3]
        if len(chunk) == 3:
            n = chunk[0] + chunk[1] * 45 + chunk[2] * 45 * 45
            out += bytes([n // 256, n % 256])
        else:
            out.append(chunk[0] + chunk[1] * 45)
    return bytes(out)


def der_int(b: bytes) -> bytes:
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return bytes([0x02, len(b)]) + b


def main() -> int:
    qr = open(sys.argv[1], encoding="ascii").read().strip()
    pem = sys.argv[2]
    if not qr.startswith("OS1:"):
        print("not a OneSeal QR")
        return 1
    cose = cbor2.loads(base45_decode(qr[4:]))
    if isinstance(cose, cbor2.CBORTag):
        assert cose.tag == 18, "COSE_Sign1 is tag 18"
        cose = cose.value
    protected, unprotected, payload, sig = cose
    assert cbor2.loads(protected) == {1: -65537}, "algorithm: SM2 with SM3 (private use -65537)"
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    der = der_int(sig[:32]) + der_int(sig[32:])
    der = bytes([0x30, len(der)]) + der
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "msg"), "wb").write(to_be_signed)
        open(os.path.join(d, "sig"), "wb").write(der)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", pem,
                            "-in", os.path.join(d, "msg"), "-sigfile", os.path.join(d, "sig"),
                            "-pkeyopt", "distid:1234567812345678"], capture_output=True, text=True)
    if "Signature Verified Successfully" not in r.stdout:
        print("bad signature:", r.stdout.strip(), r.stderr.strip())
        return 1
    claims = cbor2.loads(payload)
    names = {1: "identifier", 2: "licence", 3: "holder", 4: "issuer", 5: "issued", 6: "valid_to", 7: "number"}
    print("signature verified with OpenSSL; key id", unprotected[4].hex())
    for k in sorted(claims):
        print(f"{names.get(k, k)}: {claims[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
