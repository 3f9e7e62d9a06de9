"""Standard Webhooks checked by an independent verifier: run `oneseal serve --demo`, register two webhook
endpoints of the market regulator served here by Python's http.server, complete a filing the regulator oversees,
and verify every delivery with the PyPI `standardwebhooks` library (signature, id, timestamp tolerance). The first
endpoint answers 500 once (the retry must carry the same webhook-id and a fresh valid signature), the second
answers 410 (the endpoint must end up disabled with a dead letter)."""
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BIN = os.environ.get("ONESEAL_BIN", "target/debug/oneseal")


class Hooks(http.server.BaseHTTPRequestHandler):
    received = []  # (path, headers, body)
    answers = {"/a": [500], "/b": [410, 410]}

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Hooks.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        queue = Hooks.answers.get(self.path, [])
        code = queue.pop(0) if queue else 200
        self.send_response(code)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def login(base, user):
    status, body = call(base, "POST", "/api/v1/sessions", body={"username": user, "password": "oneseal-demo"})
    assert status == 201, (user, status, body)
    return body["token"]


def value_for(field):
    t = field["type"]
    return {
        "text": "银川测试内容", "long_text": "银川测试内容", "number": 120, "integer": 120, "date": "2026-03-01",
        "boolean": False, "choice": (field.get("options") or [""])[0], "phone": "13800000000",
        "uscc": "91110000600037341L", "resident_id": "64010420050101001X", "region_code": "640104",
    }[t]


def main() -> int:
    from standardwebhooks.webhooks import Webhook  # noqa: deferred

    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    hook_base = f"http://127.0.0.1:{hooks.server_address[1]}"
    problems = []
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, ONESEAL_WEBHOOK_RETRY_SECONDS="1,1", ONESEAL_LOGIN_LIMIT_PER_ADDRESS="0",
                   ONESEAL_EGRESS_ALLOW="127.0.0.1/32")
        log = open(os.path.join(d, "server.log"), "w+")
        server = subprocess.Popen([BIN, "serve", "--demo", "--database", f"sqlite://{d}/o.db", "--listen", "127.0.0.1:0"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            base = None
            for _ in range(600):
                log.seek(0)
                m = re.search(r"OneSeal listening on (http://\S+)", log.read())
                if m:
                    base = m.group(1)
                    break
                if server.poll() is not None:
                    break
                time.sleep(0.1)
            if not base:
                log.seek(0)
                print("server did not start:", log.read()[-2000:])
                return 1
            admin = login(base, "admin")
            secrets = {}
            for name in ("a", "b"):
                s, ep = call(base, "POST", "/api/v1/webhooks", admin, {"department": "market", "url": f"{hook_base}/{name}"})
                assert s == 201, (s, ep)
                secrets["/" + name] = ep["secret"]
            # A filing the market regulator oversees completes on submission.
            s, items = call(base, "GET", "/api/v1/items?per_page=200")
            code = next(i["impl_code"] for i in items["items"] if i["name"] == "仅销售预包装食品备案")
            s, item = call(base, "GET", f"/api/v1/items/{code}")
            form = {f["key"]: value_for(f) for f in item["form"]["fields"]}
            mats = [{"material_id": m["id"], "file_name": m["id"] + ".pdf"} for m in item["materials"] if m["required"]]
            citizen = login(base, "citizen")
            s, case = call(base, "POST", "/api/v1/cases", citizen, {
                "item_code": code, "channel": "online", "service_point": "网上办事大厅",
                "applicant": {"kind": "person", "name": "张三", "id_number": "64010420050101001X", "phone": "13800000000"},
                "form": form, "materials": mats})
            assert s == 201 and case["status"] == "completed", (s, case)
            deadline = time.time() + 30
            while time.time() < deadline:
                if len([r for r in Hooks.received if r[0] == "/a"]) >= 2 and any(r[0] == "/b" for r in Hooks.received):
                    break
                time.sleep(0.2)
            got_a = [r for r in Hooks.received if r[0] == "/a"]
            got_b = [r for r in Hooks.received if r[0] == "/b"]
            if len(got_a) != 2:
                problems.append(f"endpoint a got {len(got_a)} deliveries, expected 2 (500, then a retry)")
            if len(got_b) != 1:
                problems.append(f"endpoint b got {len(got_b)} deliveries, expected 1 (410 disables)")
            for path, headers, body in got_a + got_b:
                try:
                    payload = Webhook(secrets[path]).verify(body, headers)
                except Exception as e:  # noqa: BLE001 — any verification failure is the finding
                    problems.append(f"{path}: standardwebhooks refused the delivery: {e!r}")
                    continue
                if payload.get("type") != "liaison.filing" or payload["data"]["case_no"] != case["case_no"]:
                    problems.append(f"{path}: unexpected payload {payload}")
                if "64010420050101001X" in body.decode() or "13800000000" in body.decode():
                    problems.append(f"{path}: personal data in the payload")
            if len(got_a) == 2 and got_a[0][1]["webhook-id"] != got_a[1][1]["webhook-id"]:
                problems.append("the retry carried another webhook-id")
            # A tampered body must fail the independent verifier (the check can fail).
            if got_a:
                path, headers, body = got_a[-1]
                try:
                    Webhook(secrets[path]).verify(body + b" ", headers)
                    problems.append("a tampered body verified")
                except Exception:  # noqa: BLE001
                    pass
            time.sleep(1)
            s, eps = call(base, "GET", "/api/v1/webhooks", admin)
            b = next(e for e in eps["endpoints"] if e["url"].endswith("/b"))
            if b["enabled"]:
                problems.append("410 did not disable endpoint b")
            s, dead = call(base, "GET", "/api/v1/webhooks/deliveries?status=dead", admin)
            if len(dead["deliveries"]) != 1 or dead["deliveries"][0]["last_status"] != 410:
                problems.append(f"dead letters: {dead}")
        finally:
            server.terminate()
            server.wait(timeout=10)
            hooks.shutdown()
    if problems:
        for p in problems:
            print("MISMATCH", p)
        return 1
    print(f"webhooks: {len(Hooks.received)} deliveries verified by standardwebhooks (retry kept its id; 410 disabled; dead letter listed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
