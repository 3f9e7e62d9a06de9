"""Open311 GeoReport v2 checked with an independent client: run `oneseal serve --demo`, create service requests
with form-encoded POSTs written from the specification's examples (api_key, service_code, lat/long or
address_string, description), then read services, service definitions and requests back with the PyPI
`georeport` client in both JSON and XML (it parses XML with xmltodict) and compare. Bad requests answer the spec's
error list."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BIN = os.environ.get("ONESEAL_BIN", "target/debug/oneseal")


def call(base, method, path, token=None, body=None, form=None):
    data, ctype = None, "application/json"
    if body is not None:
        data = json.dumps(body).encode()
    if form is not None:
        data, ctype = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", ctype)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main() -> int:
    from georeport import GeoReport  # noqa: deferred

    problems = []
    with tempfile.TemporaryDirectory() as d:
        log = open(os.path.join(d, "server.log"), "w+")
        env = dict(os.environ, ONESEAL_LOGIN_LIMIT_PER_ADDRESS="0")
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
            s, b = call(base, "POST", "/api/v1/sessions", body={"username": "hotline", "password": "oneseal-demo"})
            session = json.loads(b)["token"]
            s, b = call(base, "POST", "/api/v1/tokens", session, body={"name": "open311", "scopes": ["read", "write"]})
            api_key = json.loads(b)["token"]
            root = f"{base}/open311/v2"
            # POST as in the specification's example (form-encoded, api_key in the body).
            created = []
            for form in (
                {"api_key": api_key, "service_code": "city-appearance", "lat": "38.4872", "long": "106.2309",
                 "description": "解放西街路口垃圾堆放多日", "first_name": "五", "last_name": "王", "phone": "13912345678"},
                {"api_key": api_key, "service_code": "noise", "address_string": "西夏区怀远路 88 号",
                 "description": "夜间施工噪音", "attribute[urgent]": "true"},
            ):
                s, b = call(base, "POST", "/open311/v2/requests.json", form=form)
                if s != 201:
                    problems.append(f"POST requests.json: {s} {b[:200]!r}")
                    continue
                created.append(json.loads(b)[0]["service_request_id"])
            # Refusals in the spec's error format.
            for form, want in (({"service_code": "noise", "description": "x", "address_string": "y"}, 403),
                               ({"api_key": "nope", "service_code": "noise", "description": "x", "address_string": "y"}, 403),
                               ({"api_key": api_key, "service_code": "noise", "description": "x"}, 400),
                               ({"api_key": api_key, "service_code": "nope", "description": "x", "address_string": "y"}, 400)):
                s, b = call(base, "POST", "/open311/v2/requests.json", form=form)
                body = json.loads(b or b"[]")
                if s != want or not (isinstance(body, list) and body and body[0].get("code") == want and body[0].get("description")):
                    problems.append(f"refusal {form.get('service_code')}: {s} {body}")
            s, b = call(base, "POST", "/open311/v2/requests.xml", form={"api_key": api_key, "service_code": "noise", "address_string": "y"})
            if s != 400 or b"<errors><error><code>400</code>" not in b:
                problems.append(f"XML error: {s} {b[:200]!r}")
            for fmt in ("json", "xml"):
                client = GeoReport(root, output_format=fmt)
                services = client.get_service_list()
                codes = sorted(x["service_code"] for x in services)
                if "city-appearance" not in codes or "noise" not in codes:
                    problems.append(f"{fmt}: services {codes}")
                definition = client.get_service_definition("noise")
                attrs = definition["attributes"]
                attr = attrs[0] if isinstance(attrs, list) else attrs["attribute"]
                if attr["code"] != "urgent":
                    problems.append(f"{fmt}: definition {definition}")
                requests = client.get_service_requests(service_code="city-appearance,noise")
                if isinstance(requests, dict):
                    requests = [requests]
                got = sorted(r["service_request_id"] for r in requests)
                if got != sorted(created):
                    problems.append(f"{fmt}: requests {got} != {sorted(created)}")
                one = client.get_service_request(created[0])
                if one["service_code"] != "city-appearance" or one["status"] != "open" or one["description"] != "解放西街路口垃圾堆放多日":
                    problems.append(f"{fmt}: request {one}")
                text = json.dumps(requests, ensure_ascii=False)
                if "13912345678" in text or "王五" in text:
                    problems.append(f"{fmt}: the caller's details leaked")
                # Nothing is closed yet: an empty list (the client cannot parse an empty XML list, so read it raw).
                s, b = call(base, "GET", f"/open311/v2/requests.{fmt}?status=closed")
                empty = json.loads(b) == [] if fmt == "json" else b.endswith(b"<service_requests></service_requests>")
                if s != 200 or not empty:
                    problems.append(f"{fmt}: closed filter {s} {b[:200]!r}")
            s, b = call(base, "GET", f"/open311/v2/tokens/{created[0]}.json")
            if s != 200 or json.loads(b)[0]["service_request_id"] != created[0]:
                problems.append(f"tokens: {s} {b!r}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    if problems:
        for p in problems:
            print("MISMATCH", p)
        return 1
    print(f"open311: {len(created)} requests created by form POST, read back by georeport in JSON and XML; refusals in the spec's error format")
    return 0


if __name__ == "__main__":
    sys.exit(main())
