"""The licence QR verified by a third party with a CBOR decoder and OpenSSL alone (tools/verify_qr.py).

`oneseal license sample` writes a throwaway seal's public key and a signed QR; tools/verify_qr.py must verify it
and recover the claims, and must refuse a QR altered by one character. Exit 0 when both hold.
"""

import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("ONESEAL_BIN", "target/debug/oneseal")
HERE = os.path.dirname(os.path.abspath(__file__))
VERIFY = os.path.join(HERE, "..", "..", "tools", "verify_qr.py")


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([BIN, "license", "sample", "--out-dir", d], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"cannot run {BIN}: {r.stderr}")
            return 2
        ok = subprocess.run([sys.executable, VERIFY, os.path.join(d, "qr.txt"), os.path.join(d, "public.pem")], capture_output=True, text=True)
        good = ok.returncode == 0 and "银川塞上餐饮有限公司" in ok.stdout and "1.2.156.3005.2." in ok.stdout
        qr = open(os.path.join(d, "qr.txt")).read().strip()
        i = len(qr) // 2
        altered = qr[:i] + ("A" if qr[i] != "A" else "B") + qr[i + 1:]
        open(os.path.join(d, "bad.txt"), "w").write(altered)
        bad = subprocess.run([sys.executable, VERIFY, os.path.join(d, "bad.txt"), os.path.join(d, "public.pem")], capture_output=True, text=True)
        refused = bad.returncode != 0
    status = "ok" if good and refused else "FAIL"
    print(f"[{status}] QR verified by cbor2 + openssl: genuine {'accepted' if good else 'REJECTED'}, altered {'refused' if refused else 'ACCEPTED'}")
    if not good:
        print(ok.stdout, ok.stderr)
    return 0 if good and refused else 1


if __name__ == "__main__":
    sys.exit(main())
