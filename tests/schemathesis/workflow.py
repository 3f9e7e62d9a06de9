#!/usr/bin/env python3
"""Walk one case through the whole workflow with the demo staff accounts and check every answer against
crates/web/openapi.json: the status is documented for the operation, the content type matches, the body fits the
documented schema (formats included), and the documented ETag / Location headers are present.

Schemathesis signs in as a citizen only, so it cannot reach the staff side (queues, accept, review, decide,
deliver) or the answers of a case in progress; this walk covers them.

Usage: workflow.py BASE_URL OPENAPI_JSON   (a server started with `serve --demo` on a fresh database)
Exit status: 0 all answers conform, 1 a mismatch, 2 cannot run.
"""
import datetime
import secrets
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE, DOC_PATH = sys.argv[1].rstrip("/"), sys.argv[2]
DOC = json.load(open(DOC_PATH, encoding="utf-8"))
REGISTRY = Registry().with_resource("urn:oneseal:openapi", Resource.from_contents(DOC, default_specification=DRAFT202012))
PASSWORD = "oneseal-demo"
ITEM = "11640100MB960001070100037000001"  # 城市道路临时占用审批: joint review by two departments, decision, delivery

failures = []


def esc(token):
    return urllib.parse.quote(str(token).replace("~", "~0").replace("/", "~1"), safe="~")


def resolve(obj, pointer):
    """Follow local $refs; return the object and its JSON pointer in the document."""
    while "$ref" in obj:
        pointer = obj["$ref"].removeprefix("#")
        obj = DOC
        for p in pointer.strip("/").split("/"):
            obj = obj[p.replace("~1", "/").replace("~0", "~")]
    return obj, pointer


def schema_errors(pointer, value):
    v = Draft202012Validator({"$ref": "urn:oneseal:openapi#" + pointer}, registry=REGISTRY, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}" for e in v.iter_errors(value)]


def call(method, template, params=None, body=None, token=None, headers=None, query=None, expect=None):
    """Send a request and check the answer against the operation `method template` of the document."""
    path = template.format(**{k: urllib.parse.quote(str(v), safe="") for k, v in (params or {}).items()})
    if query:
        path += "?" + urllib.parse.urlencode(query)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    name = f"{method} {path}"
    problems = []
    op = DOC["paths"][template][method.lower()]
    resp = op["responses"].get(str(status))
    pointer = f"/paths/{esc(template)}/{method.lower()}/responses/{status}"
    ctype = (hdrs.get("content-type") or "").split(";")[0].strip()
    value = None
    if resp is None:
        problems.append(f"status {status} is not documented ({', '.join(op['responses'])})")
    else:
        resp, pointer = resolve(resp, pointer)
        content = resp.get("content", {})
        if content:
            if ctype not in content:
                problems.append(f"content type {ctype!r} is not documented ({', '.join(content)})")
            elif "json" in ctype:
                try:
                    value = json.loads(raw)
                except ValueError as e:
                    problems.append(f"body is not JSON: {e}")
                else:
                    problems += schema_errors(f"{pointer}/content/{esc(ctype)}/schema", value)
        elif raw:
            problems.append(f"undocumented body: {raw[:100]!r}")
        for hname, hdef in resp.get("headers", {}).items():
            # A header documented with "required": false (one that answers a request header, as
            # Preference-Applied answers Prefer) may be absent; every other documented header must be there.
            if hdef.get("required") is False:
                continue
            if hname.lower() != "www-authenticate" and hdrs.get(hname) is None:
                problems.append(f"documented header {hname} is missing")
    if expect is not None and status != expect:
        problems.append(f"expected {expect}, got {status}: {raw[:300]!r}")
    if problems:
        failures.append((name, problems))
        print(f"FAIL {name} -> {status}")
        for p in problems:
            print(f"     {p}")
    else:
        print(f"ok   {name} -> {status}")
    return status, hdrs, value


def login(user):
    return call("POST", "/api/v1/sessions", body={"username": user, "password": PASSWORD}, expect=201)[2]["token"]


def walk():
    citizen, clerk = login("citizen"), login("clerk")
    transport, police = login("bureau-transport-reviewer"), login("public-security-reviewer")
    chief, supervisor, admin = login("bureau-transport-chief"), login("supervisor"), login("admin")
    call("GET", "/api/v1/me", token=chief, expect=200)
    call("GET", "/api/v1/notifications", token=citizen, expect=200)
    call("GET", "/api/v1/departments", expect=200)
    call("GET", "/api/v1/bundles", expect=200)
    for b in call("GET", "/api/v1/bundles")[2]["bundles"]:
        call("GET", "/api/v1/bundles/{code}", {"code": b["code"]}, expect=200)
    items = call("GET", "/api/v1/items", query={"per_page": 200}, expect=200)[2]["items"]
    for it in items:
        call("GET", "/api/v1/items/{code}", {"code": it["impl_code"]}, expect=200)
    call("GET", "/api/v1/items", query={"q": "餐饮", "tag": "online", "kind": "licensing", "per_page": 5}, expect=200)
    call("GET", "/api/v1/items/{code}/versions", {"code": ITEM}, expect=200)
    call("GET", "/api/v1/items/{code}/versions/{version}", {"code": ITEM, "version": 1}, expect=200)
    call("GET", "/api/v1/items/{code}/flowchart.svg", {"code": ITEM}, expect=200)
    call("GET", "/api/v1/calendar/years", expect=200)
    call("GET", "/api/v1/calendar/years/{year}", {"year": 2025}, expect=200)
    call("GET", "/api/v1/calendar/workdays/{date}", {"date": "2025-09-28"}, expect=200)
    call("GET", "/api/v1/calendar/deadline", query={"start": "2025-09-26", "days": 20}, expect=200)

    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
    pledge_due = call("GET", "/api/v1/calendar/deadline", query={"start": today, "days": 1}, expect=200)[2]["deadline"]
    form = {"applicant_name": "张三", "contact_phone": "13800138000", "road_name": "解放东街", "occupation_area": 12.5,
            "start_date": pledge_due, "end_date": pledge_due}
    submission = {
        "item_code": ITEM, "channel": "mobile", "service_point": "兴庆区政务服务中心",
        "applicant": {"kind": "person", "name": "张三", "id_number": "64010420050101001X", "phone": "13800138000"},
        "form": form,
        "materials": [{"material_id": "application-form", "file_name": "application.pdf"},
                      {"material_id": "site-plan", "file_name": "site-plan.pdf"}],
    }
    key = "workflow-" + secrets.token_hex(8)
    _, _, receipt = call("POST", "/api/v1/cases", body=submission, token=citizen, headers={"Idempotency-Key": key}, expect=201)
    call("POST", "/api/v1/cases", body=submission, token=citizen, headers={"Idempotency-Key": key}, expect=200)
    no = {"case_no": receipt["case_no"]}
    act = lambda action, body, token, **kw: call("POST", "/api/v1/cases/{case_no}/{action}", {**no, "action": action},
                                                 body=body, token=token, **kw)
    call("GET", "/api/v1/cases/{case_no}", no, token=citizen, expect=200)
    call("GET", "/api/v1/cases", token=citizen, query={"status": "submitted", "channel": "mobile"}, expect=200)
    call("GET", "/api/v1/intake-queue", token=clerk, expect=200)
    act("request-correction", {"problems": [{"subject": "site-plan", "message": "请加盖公章"}]}, clerk, expect=200)
    act("request-correction", {"problems": [{"subject": "site-plan", "message": "again"}]}, clerk, expect=409)
    act("submit-correction", {"materials": [{"material_id": "site-plan", "file_name": "site-plan-2.pdf"}]}, citizen, expect=200)
    act("accept", {}, clerk, headers={"If-Match": '"1"'}, expect=409)
    _, h, _ = call("GET", "/api/v1/cases/{case_no}", no, token=clerk, expect=200)
    act("accept", {"pledges": [{"material_id": "business-license", "due": "2000-01-01"}]}, clerk, headers={"If-Match": h["etag"]}, expect=422)
    act("accept", {"pledges": [{"material_id": "business-license", "due": pledge_due}]}, clerk, headers={"If-Match": h["etag"]}, expect=200)
    _, ph, minimal = act("fulfil-pledge", {"material": {"material_id": "business-license", "file_name": "licence.pdf"}},
                         citizen, headers={"Prefer": "return=minimal"}, expect=200)
    if ph.get("Preference-Applied") != "return=minimal" or "applicant" in minimal or "case_no" not in minimal:
        failures.append(("Prefer: return=minimal", [f"expected the case summary, got {ph.get('Preference-Applied')!r} {minimal!r}"]))
    for view in ["to_claim", "mine", "due_soon", "overdue"]:
        call("GET", "/api/v1/work-queue", token=transport, query={"view": view, "per_page": 50}, expect=200)
    call("GET", "/api/v1/work-queue", token=citizen, expect=403)
    _, _, case = call("GET", "/api/v1/cases/{case_no}", no, token=transport, expect=200)
    tasks = {t["department"]: t["task_id"] for t in case["current_step"]["tasks"]}
    act("claim", {"task_id": tasks["bureau-transport"]}, transport, expect=200)
    act("claim", {"task_id": tasks["bureau-transport"]}, police, expect=403)
    act("suspend", {"kind": "expert_review", "reason": "专家评审", "expected_days": 3}, chief, expect=200)
    call("GET", "/api/v1/cases/{case_no}", no, token=citizen, expect=200)
    act("resume", None, chief, expect=200)
    act("extend", {"days": 1, "reason": "需要补充勘验"}, chief, expect=200)
    act("complete", {"task_id": tasks["bureau-transport"], "opinion": "同意"}, transport, expect=200)
    act("complete", {"task_id": tasks["public-security"], "opinion": "同意"}, police, expect=200)
    act("decide", {"outcome": "grant"}, chief, expect=200)
    act("deliver", {"delivery": {"method": "post", "address": "银川市兴庆区解放东街 1 号"}}, clerk, expect=200)
    act("withdraw", {}, citizen, expect=409)
    call("GET", "/api/v1/cases/{case_no}/events", no, token=supervisor, expect=200)
    call("POST", "/api/v1/progress", body={"case_no": no["case_no"], "query_code": receipt["query_code"].lower()}, expect=200)
    call("GET", "/api/v1/cases", token=supervisor, query={"status": "completed", "overdue": "true"}, expect=200)
    call("GET", "/api/v1/cases", token=supervisor, query={"due_within": 61}, expect=400)

    # A second case, refused at intake; and a third, withdrawn by the applicant.
    for action, body, token in [("refuse", {"reasons": ["不属于本机关职权范围"]}, clerk), ("withdraw", {"reason": "不再需要"}, citizen)]:
        _, _, r = call("POST", "/api/v1/cases", body=submission, token=citizen, expect=201)
        call("POST", "/api/v1/cases/{case_no}/{action}", {"case_no": r["case_no"], "action": action}, body=body, token=token, expect=200)

    guide = call("GET", "/api/v1/items/{code}", {"code": ITEM}, expect=200)[2]
    item = {k: v for k, v in guide.items()
            if k not in ("version", "published_at_ms", "published_by", "reason", "department_name", "flowchart")}
    item["hours"] = "工作日 9:00-12:00, 13:00-17:00"
    call("POST", "/api/v1/items/{code}/versions", {"code": ITEM}, body={"item": item, "reason": "调整办理时间"}, token=citizen, expect=403)
    call("POST", "/api/v1/items/{code}/versions", {"code": ITEM}, body={"item": item, "reason": "调整办理时间"}, token=admin, expect=201)
    year = call("GET", "/api/v1/calendar/years/{year}", {"year": 2025}, expect=200)[2]
    assert year.pop("provisional") is False, "2025 has an official notice"
    prov = call("GET", "/api/v1/calendar/years/{year}", {"year": 2031}, expect=200)[2]
    if prov.get("provisional") is not True:
        failures.append(("GET /api/v1/calendar/years/2031", [f"a year without a notice must be provisional: {prov!r}"]))
    call("PUT", "/api/v1/calendar/years/{year}", {"year": 2025}, body=year, token=admin, expect=200)
    call("DELETE", "/api/v1/sessions/current", token=supervisor, expect=204)
    call("GET", "/api/v1/me", token=supervisor, expect=401)


try:
    walk()
except (urllib.error.URLError, KeyError, TypeError) as e:
    print(f"workflow.py: cannot run: {e!r}", file=sys.stderr)
    sys.exit(2)
if failures:
    print(f"workflow: {len(failures)} answer(s) do not match the OpenAPI document")
    sys.exit(1)
print("workflow: every answer matches the OpenAPI document")
