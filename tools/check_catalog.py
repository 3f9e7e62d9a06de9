#!/usr/bin/env python3
"""Check the demo catalog under catalog/ before it is imported (python3.11+, standard library only).

Usage: python3 tools/check_catalog.py [catalog-dir]

It mirrors what the Rust side enforces, so a file that passes here is one `oneseal catalog import` accepts:
- every key against the field names of the serde structs in crates/domain/src/catalog.rs (all of them are
  `deny_unknown_fields`), required keys, value types and enum spellings (snake_case);
- identifiers as crates/domain/src/ids.rs parses them: USCC check character (GB 32100), implementation codes
  (USCC + 13 letters/digits), department ids (lowercase slug);
- the rules of `ServiceItem::validate` and `Bundle::validate` (limits, handling, tags, depth, visits, results,
  material ids, form keys, process shape, shares, decision step);
and adds the catalog's own conventions: department_uscc equals the department's USCC, codes unique, one form key
means one field everywhere (一表通), step conditions name a field of the form, licence type codes known and
documented in catalog/README.md, bundle items exist, the counts and the items the demo must contain.

Keep the key sets below in step with catalog.rs when a struct changes.
"""
import re
import sys
import tomllib
from pathlib import Path

# ----------------------------------------------------------------------------- schema (from catalog.rs)
# struct -> {field: (required, type)}; types: str, int, bool, float, list[str], or a struct/enum name.
SCHEMA = {
    "Department": {
        "id": (True, "dept_id"), "name": (True, "str"), "name_en": (False, "str"), "uscc": (True, "uscc"),
        "bureau_section": (False, "bool"),
    },
    "ServiceItem": {
        "impl_code": (True, "item_code"), "base_code": (True, "str"), "name": (True, "str"),
        "name_en": (False, "str"), "kind": (True, "ItemKind"), "power_source": (True, "str"), "level": (True, "str"),
        "department": (True, "dept_id"), "department_uscc": (True, "uscc"), "legal_basis": (True, "list[str]"),
        "conditions": (True, "list[str]"), "materials": (True, "list[Material]"), "handling": (True, "Handling"),
        "statutory_limit": (True, "Limit"), "promised_limit": (True, "Limit"), "limit_notes": (False, "str"),
        "max_extension_days": (False, "u32"), "handling_forms": (True, "list[HandlingForm]"), "place": (True, "str"),
        "hours": (True, "str"), "visits_required": (True, "u8"), "online_depth": (True, "u8"),
        "online_url": (False, "str"), "delivery_by_post": (False, "bool"), "appointment": (False, "bool"),
        "window_minutes": (False, "u32"),
        "fees": (False, "list[Fee]"), "consultation": (True, "str"), "complaint": (True, "str"),
        "results": (True, "list[ResultDoc]"), "tags": (False, "list[Tag]"), "topics": (False, "list[str]"),
        "keywords": (False, "list[str]"), "form": (True, "FormSchema"), "process": (True, "ProcessDefinition"),
    },
    "Material": {
        "id": (True, "str"), "name": (True, "str"), "form": (True, "MaterialForm"), "count": (False, "u32"),
        "required": (False, "bool"), "key": (False, "bool"), "source": (False, "str"), "blank_form": (False, "str"),
        "sample": (False, "str"), "license_substitutes": (False, "list[str]"), "notes": (False, "str"),
    },
    "Field": {
        "key": (True, "str"), "label": (True, "str"), "label_en": (False, "str"), "type": (True, "FieldType"),
        "required": (False, "bool"), "options": (False, "list[str]"), "min": (False, "float"),
        "max": (False, "float"), "max_len": (False, "u32"), "personal": (False, "bool"),
    },
    "FormSchema": {"fields": (False, "list[Field]")},
    "ProcessDefinition": {"steps": (True, "list[StepDef]")},
    "StepDef": {
        "id": (True, "str"), "name": (True, "str"), "name_en": (False, "str"), "kind": (True, "StepKind"),
        "role": (True, "Role"), "department": (False, "dept_id"), "departments": (False, "list[dept_id]"),
        "joint_mode": (False, "JointMode"), "inspection": (False, "InspectionMode"), "share_days": (False, "u32"),
        "condition": (False, "Condition"),
        "excluded_time": (False, "str"),
    },
    "Condition": {
        "field": (True, "str"), "equals": (False, "json"), "greater_than": (False, "float"),
        "is_true": (False, "bool"),
    },
    "Fee": {"name": (True, "str"), "amount_yuan": (True, "float"), "basis": (True, "str")},
    "ResultDoc": {"name": (True, "str"), "kind": (True, "ResultKind"), "license_type": (False, "str"),
                  "sample": (False, "str")},
    "Bundle": {
        "code": (True, "str"), "name": (True, "str"), "name_en": (False, "str"), "description": (True, "str"),
        "items": (True, "list[item_code]"), "department": (True, "dept_id"), "promised_limit": (True, "Limit"),
        "statutory_limit": (True, "Limit"), "max_extension_days": (False, "u32"),
        "process": (True, "ProcessDefinition"), "tags": (False, "list[Tag]"), "topics": (False, "list[str]"),
    },
}
ENUMS = {
    "ItemKind": {"licensing", "confirmation", "benefit", "adjudication", "award", "filing", "other_power",
                 "public_service"},
    "Handling": {"immediate", "promised"},
    "Tag": {"on_the_spot", "online", "nearby", "one_visit", "mobile"},
    "HandlingForm": {"window", "online", "post"},
    "MaterialForm": {"original", "copy", "original_and_copy", "electronic"},
    "FieldType": {"text", "long_text", "number", "integer", "date", "boolean", "choice", "phone", "uscc",
                  "resident_id", "region_code"},
    "StepKind": {"accept", "review", "joint_review", "inspection", "decision", "license_issuance", "delivery"},
    "JointMode": {"all", "any"},
    "InspectionMode": {"on_site", "video", "either"},
    "ResultKind": {"license", "approval", "filing_receipt", "other"},
    "Role": {"applicant", "window_clerk", "reviewer", "approver", "inspector", "supervisor", "regulator",
             "hotline_operator", "handling_unit", "administrator"},
}
LIMIT_UNITS = {"working_days", "minutes"}

# Licence type codes the catalog may name (results and license_substitutes); each must be listed in README.md.
LICENSE_TYPES = {
    "business_license": "营业执照", "individual_business_license": "营业执照（个体工商户）",
    "food_business_license": "食品经营许可证", "food_production_license": "食品生产许可证",
    "food_production_filing": "食品生产经营登记证（小作坊、小餐饮、小食杂店）",
    "prepackaged_food_filing": "仅销售预包装食品备案凭证", "pharmacy_retail_license": "药品经营许可证（零售）",
    "pharmacist_registration": "执业药师注册证", "class2_device_filing": "第二类医疗器械经营备案凭证",
    "gas_cylinder_use_certificate": "特种设备使用登记证（车用气瓶）",
    "special_equipment_use_certificate": "特种设备使用登记证",
    "physician_qualification": "医师资格证书", "physician_practice_filing": "医师执业注册备案凭证",
    "nurse_practice_filing": "护士执业注册备案凭证", "clinic_filing": "诊所备案凭证",
    "public_place_hygiene_license": "公共场所卫生许可证", "hr_service_license": "人力资源服务许可证",
    "labor_dispatch_license": "劳务派遣经营许可证", "private_non_enterprise_certificate": "民办非企业单位登记证书",
    "construction_planning_permit": "建设工程规划许可证", "construction_permit": "建筑工程施工许可证",
    "fire_design_review_opinion": "特殊建设工程消防设计审查意见书", "fire_acceptance_opinion": "特殊建设工程消防验收意见书",
    "eia_approval": "建设项目环境影响报告表审批意见", "commodity_housing_presale_permit": "商品房预售许可证",
    "road_transport_business_license": "道路运输经营许可证", "road_transport_certificate": "道路运输证",
    "vehicle_license": "机动车行驶证", "outdoor_advertising_permit": "户外广告设施设置许可决定书",
    "drainage_permit": "城镇污水排入排水管网许可证", "real_estate_certificate": "不动产权证书",
    "mortgage_certificate": "不动产登记证明（抵押权）", "pre_notice_certificate": "不动产登记证明（预告登记）",
    "housing_contract_filing": "存量房买卖合同网签备案证明", "deed_tax_receipt": "契税完税凭证",
    "seal_filing": "印章刻制备案信息", "employment_card": "就业创业证", "marriage_certificate": "结婚证",
    "elderly_care_filing": "养老机构备案回执", "completion_acceptance_filing": "工程竣工验收备案表",
    "public_venue_fire_safety_license": "公众聚集场所投入使用、营业前消防安全检查合格证",
}

MUST_ITEMS = {
    "company-establishment": "公司设立登记", "individual-business-establishment": "个体工商户登记",
    "food-business-license": "食品经营许可", "small-food-workshop-registration": "食品小作坊/小餐饮登记",
    "pharmacy-retail-license": "药品零售企业经营许可", "physician-practice-filing": "医师执业注册（备案）",
    "nurse-practice-filing": "护士执业注册（备案）", "vehicle-gas-cylinder-registration": "车用气瓶使用登记",
    "real-estate-transfer": "不动产转移登记", "mortgage-registration": "抵押权登记",
    "construction-permit": "建筑工程施工许可",
}
MUST_BUNDLES = ["open-restaurant", "open-pharmacy", "company-setup-half-day", "buy-home"]
MIN_ITEMS, MIN_DEPTS_USED, MIN_BUNDLES, MIN_IMMEDIATE, MIN_CONDITIONAL_STEPS = 45, 8, 4, 6, 2

# ----------------------------------------------------------------------------- identifiers (from ids.rs)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(body):
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(s):
    if not isinstance(s, str) or len(s) != 18:
        return f"USCC {s!r} must be 18 characters"
    bad = [c for c in s if c not in USCC_ALPHABET]
    if bad:
        return f"USCC {s} has characters outside the GB 32100 alphabet: {''.join(bad)}"
    want = uscc_check_char(s[:17])
    if want != s[17]:
        return f"USCC {s}: check character should be {want}"
    return None


def item_code_problem(s):
    if not isinstance(s, str) or len(s) != 31:
        return f"implementation code {s!r} must be 31 characters"
    p = uscc_problem(s[:18])
    if p:
        return f"implementation code {s}: {p}"
    if not re.fullmatch(r"[A-Za-z0-9]{13}", s[18:]):
        return f"implementation code {s}: the last 13 characters must be letters or digits"
    return None


def dept_id_problem(s):
    if not isinstance(s, str) or not (1 <= len(s) <= 40) or not re.fullmatch(r"[a-z0-9-]+", s):
        return f"department id {s!r} must be 1–40 of a-z, 0-9 and '-'"
    return None


# ----------------------------------------------------------------------------- generic shape check
class Checker:
    def __init__(self):
        self.errors = []

    def err(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def shape(self, where, struct, value):
        """Check keys and value types of `value` against SCHEMA[struct]."""
        if not isinstance(value, dict):
            self.err(where, f"{struct} must be a table")
            return
        fields = SCHEMA[struct]
        for k in value:
            if k not in fields:
                self.err(where, f"unknown key {k!r} in {struct} (allowed: {', '.join(fields)})")
        for k, (required, ty) in fields.items():
            if k not in value:
                if required:
                    self.err(where, f"missing required key {k!r} in {struct}")
                continue
            self.value(f"{where}.{k}", ty, value[k])

    def value(self, where, ty, v):
        if ty.startswith("list["):
            inner = ty[5:-1]
            if not isinstance(v, list):
                self.err(where, "must be an array")
                return
            for i, x in enumerate(v):
                self.value(f"{where}[{i}]", inner, x)
            return
        if ty == "str":
            ok = isinstance(v, str)
        elif ty in ("u32", "u8", "int"):
            ok = isinstance(v, int) and not isinstance(v, bool) and v >= 0 and (ty != "u8" or v <= 255)
        elif ty == "bool":
            ok = isinstance(v, bool)
        elif ty == "float":
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        elif ty == "json":
            ok = True
        elif ty == "uscc":
            p = uscc_problem(v)
            if p:
                self.err(where, p)
            return
        elif ty == "item_code":
            p = item_code_problem(v)
            if p:
                self.err(where, p)
            return
        elif ty == "dept_id":
            p = dept_id_problem(v)
            if p:
                self.err(where, p)
            return
        elif ty == "Limit":
            if not (isinstance(v, dict) and len(v) == 1 and next(iter(v)) in LIMIT_UNITS
                    and isinstance(next(iter(v.values())), int) and next(iter(v.values())) >= 0):
                self.err(where, "a limit is { working_days = N } or { minutes = N }")
            return
        elif ty in ENUMS:
            if v not in ENUMS[ty]:
                self.err(where, f"{v!r} is not a {ty} ({', '.join(sorted(ENUMS[ty]))})")
            return
        elif ty in SCHEMA:
            self.shape(where, ty, v)
            return
        else:
            raise AssertionError(ty)
        if not ok:
            self.err(where, f"must be of type {ty}, got {type(v).__name__}")


def limit_parts(limit):
    (unit, n), = limit.items()
    return unit, n


def steps_of(obj):
    return obj.get("process", {}).get("steps", []) if isinstance(obj.get("process"), dict) else []


def check_process(c, where, steps, depts, limit_days, filing, handling):
    """Mirror of validate_process in catalog.rs."""
    if not steps:
        c.err(where, "process has no steps")
        return
    if steps[0].get("kind") != "accept":
        c.err(where, "process must start with an accept (受理) step")
    ids, share = set(), 0
    for st in steps:
        sid = st.get("id")
        if sid in ids:
            c.err(where, f"step id {sid} appears twice")
        ids.add(sid)
        share += st.get("share_days", 0)
        kind = st.get("kind")
        if kind == "joint_review":
            ds = st.get("departments", [])
            if len(ds) < 2:
                c.err(where, f"joint review {sid} needs at least two departments")
            if len(set(ds)) != len(ds):
                c.err(where, f"joint review {sid} names a department twice")
            if st.get("joint_mode") is None:
                c.err(where, f"joint review {sid} needs joint_mode all or any")
            for d in ds:
                if d not in depts:
                    c.err(where, f"step {sid}: unknown department {d}")
            if "department" in st:
                c.err(where, f"joint review {sid} names its departments in `departments`, not `department`")
        else:
            d = st.get("department")
            if d is not None and d not in depts:
                c.err(where, f"step {sid}: unknown department {d}")
            if d is None and kind != "accept":
                c.err(where, f"step {sid} needs a department")
            if st.get("departments") or st.get("joint_mode"):
                c.err(where, f"step {sid}: departments/joint_mode belong to joint_review steps only")
        if kind == "inspection" and st.get("inspection") is None:
            c.err(where, f"inspection step {sid} needs inspection = on_site, video or either")
        if kind != "inspection" and "inspection" in st:
            c.err(where, f"step {sid}: `inspection` belongs to inspection steps only")
        # Conventions of the catalog: who works which kind of step.
        expected_roles = {"accept": {"window_clerk"}, "review": {"reviewer"}, "joint_review": {"reviewer"},
                          "inspection": {"inspector"}, "decision": {"approver"},
                          "license_issuance": {"window_clerk", "reviewer"}, "delivery": {"window_clerk"}}
        if kind in expected_roles and st.get("role") not in expected_roles[kind]:
            c.err(where, f"step {sid}: a {kind} step is worked by {'/'.join(sorted(expected_roles[kind]))}")
    if share > limit_days:
        c.err(where, f"step shares add up to {share} working days, more than the promised {limit_days}")
    has_decision = any(st.get("kind") == "decision" for st in steps)
    if not filing and handling == "promised" and not has_decision:
        c.err(where, "process needs a decision (决定) step")


def check_condition_fields(c, where, steps, form_keys):
    n = 0
    for st in steps:
        cond = st.get("condition")
        if cond is None:
            continue
        n += 1
        if cond.get("field") not in form_keys:
            c.err(where, f"step {st.get('id')}: condition field {cond.get('field')!r} is not a field of the form")
        tests = [k for k in ("equals", "greater_than", "is_true") if k in cond]
        if not tests:
            c.err(where, f"step {st.get('id')}: condition tests nothing (equals, greater_than or is_true)")
    return n


# ----------------------------------------------------------------------------- main
def main(root):
    root = Path(root)
    c = Checker()

    def load(path):
        try:
            with open(path, "rb") as f:
                return tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            c.err(str(path), f"TOML parse error: {e}")
            return None

    # Departments
    dept_doc = load(root / "departments.toml") or {}
    for k in dept_doc:
        if k != "department":
            c.err("departments.toml", f"unknown top-level key {k!r} (use [[department]])")
    depts = {}
    for i, d in enumerate(dept_doc.get("department", [])):
        c.shape(f"departments.toml[{i}]", "Department", d)
        if d.get("id") in depts:
            c.err("departments.toml", f"department id {d.get('id')} appears twice")
        depts[d.get("id")] = d
    bureau_usccs = {d["uscc"] for d in depts.values() if d.get("bureau_section")}
    if len(bureau_usccs) > 1:
        c.err("departments.toml", "the bureau's sections should all carry the bureau's USCC")
    other = [d for d in depts.values() if not d.get("bureau_section")]
    seen_uscc = {}
    for d in other:
        if d.get("uscc") in seen_uscc or d.get("uscc") in bureau_usccs:
            c.err("departments.toml", f"{d.get('id')}: USCC {d.get('uscc')} is used by another body")
        seen_uscc[d.get("uscc")] = d.get("id")

    # Items
    items, by_code, base_codes = {}, {}, {}
    field_defs = {}  # key -> (definition, first item) for 一表通 consistency
    license_codes_used = set()
    conditional_steps = 0
    for path in sorted((root / "items").glob("*.toml")):
        where = f"items/{path.name}"
        it = load(path)
        if it is None:
            continue
        slug = path.stem
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
            c.err(where, "file name must be a lowercase slug")
        n_before = len(c.errors)
        c.shape(where, "ServiceItem", it)
        if len(c.errors) > n_before:
            continue  # the Rust side would refuse to deserialise it; skip the rules
        items[slug] = it
        code = it["impl_code"]
        if code in by_code:
            c.err(where, f"impl_code {code} is also used by {by_code[code]}")
        by_code[code] = slug
        if it["base_code"] in base_codes:
            c.err(where, f"base_code {it['base_code']} is also used by {base_codes[it['base_code']]}")
        base_codes[it["base_code"]] = slug
        # ServiceItem::validate
        if not it["name"].strip():
            c.err(where, "name is empty")
        if not re.fullmatch(r"[A-Za-z0-9]{12}", it["base_code"]):
            c.err(where, f"base_code {it['base_code']!r} must be 12 letters or digits")
        dep = depts.get(it["department"])
        if dep is None:
            c.err(where, f"unknown department {it['department']}")
        elif dep["uscc"] != it["department_uscc"]:
            c.err(where, f"department_uscc {it['department_uscc']} is not the USCC of {it['department']} ({dep['uscc']})")
        if not code.startswith(it["department_uscc"]):
            c.err(where, "impl_code must start with the implementing body's USCC")
        su, sn = limit_parts(it["statutory_limit"])
        pu, pn = limit_parts(it["promised_limit"])
        if su != pu:
            c.err(where, "promised and statutory limits must use the same unit")
        elif pn > sn:
            c.err(where, "promised limit is longer than the statutory limit")
        if it["handling"] == "immediate" and pu != "minutes":
            c.err(where, "an on-the-spot (即办) item counts its limit in minutes")
        if it["handling"] == "promised" and pu != "working_days":
            c.err(where, "a promised (承诺) item counts its limit in working days")
        tags = it.get("tags", [])
        if len(set(tags)) != len(tags):
            c.err(where, "a tag appears twice")
        if "on_the_spot" in tags and it["handling"] != "immediate":
            c.err(where, "tag on_the_spot (马上办) needs handling = immediate")
        if not 1 <= it["online_depth"] <= 4:
            c.err(where, "online_depth must be 1–4 (I–IV)")
        if it["online_depth"] == 4 and it["visits_required"] != 0:
            c.err(where, "online depth IV means zero visits")
        if it["visits_required"] > 2:
            c.err(where, "visits_required must be 0, 1 or 2")
        if not it["results"]:
            c.err(where, "an item must name its result")
        mids = [m["id"] for m in it["materials"]]
        for m in set(mids):
            if mids.count(m) > 1:
                c.err(where, f"material id {m} appears twice")
        fields = it["form"].get("fields", [])
        keys = [f["key"] for f in fields]
        for k in set(keys):
            if keys.count(k) > 1:
                c.err(where, f"form field {k} appears twice")
        for f in fields:
            if f["type"] == "choice" and not f.get("options"):
                c.err(where, f"choice field {f['key']} has no options")
            if f["type"] != "choice" and f.get("options"):
                c.err(where, f"field {f['key']}: options belong to choice fields")
            d = {k: f.get(k) for k in ("label", "label_en", "type", "options", "min", "max", "max_len")}
            if f["key"] in field_defs and field_defs[f["key"]][0] != d:
                c.err(where, f"form field {f['key']} differs from its definition in {field_defs[f['key']][1]} "
                             "(一表通: one key, one field)")
            field_defs.setdefault(f["key"], (d, slug))
        limit_days = pn if pu == "working_days" else 0
        steps = steps_of(it)
        check_process(c, where, steps, depts, limit_days, it["kind"] == "filing", it["handling"])
        conditional_steps += check_condition_fields(c, where, steps, set(keys))
        # Catalog conventions
        if it["handling"] == "immediate":
            if [s["kind"] for s in steps] != ["accept"]:
                c.err(where, "an on-the-spot item's process is only the accept step")
            if "on_the_spot" not in tags:
                c.err(where, "an on-the-spot item carries the tag on_the_spot")
        if it.get("max_extension_days", 10) > 15:
            c.err(where, "max_extension_days above 15 exceeds what the law allows")
        for r in it["results"]:
            if r.get("license_type"):
                license_codes_used.add(r["license_type"])
                if r["license_type"] not in LICENSE_TYPES:
                    c.err(where, f"unknown licence type {r['license_type']} (add it to LICENSE_TYPES and README.md)")
        for m in it["materials"]:
            for code_ in m.get("license_substitutes", []):
                license_codes_used.add(code_)
                if code_ not in LICENSE_TYPES:
                    c.err(where, f"material {m['id']}: unknown licence type {code_}")
        for fee in it.get("fees", []):
            if fee["amount_yuan"] < 0:
                c.err(where, f"fee {fee['name']} is negative")
        for k in ("legal_basis", "conditions", "keywords", "topics"):
            if not it.get(k):
                c.err(where, f"{k} is empty")
        if not it.get("name_en"):
            c.err(where, "name_en is empty")

    # Bundles
    bundles = {}
    for path in sorted((root / "bundles").glob("*.toml")):
        where = f"bundles/{path.name}"
        b = load(path)
        if b is None:
            continue
        n_before = len(c.errors)
        c.shape(where, "Bundle", b)
        if len(c.errors) > n_before:
            continue
        bundles[b["code"]] = b
        if b["code"] != path.stem:
            c.err(where, f"file name should be the bundle code {b['code']}.toml")
        if len(b["items"]) < 2:
            c.err(where, "a bundle combines at least two items")
        if len(set(b["items"])) != len(b["items"]):
            c.err(where, "an item appears twice")
        members = []
        for code in b["items"]:
            if code not in by_code:
                c.err(where, f"unknown item {code}")
            else:
                members.append(items[by_code[code]])
        if b["department"] not in depts:
            c.err(where, f"unknown department {b['department']}")
        pu, pn = limit_parts(b["promised_limit"])
        su, sn = limit_parts(b["statutory_limit"])
        if pu != "working_days" or su != "working_days":
            c.err(where, "a bundle counts its limit in working days")
        elif pn > sn:
            c.err(where, "promised limit is longer than the statutory limit")
        steps = steps_of(b)
        check_process(c, where, steps, depts, pn if pu == "working_days" else 0, False, "promised")
        merged_keys = {f["key"] for m in members for f in m["form"].get("fields", [])}
        conditional_steps += check_condition_fields(c, where, steps, merged_keys)
        # Conventions: joint review across the items' departments, one inspection if any item inspects.
        joints = [s for s in steps if s["kind"] == "joint_review"]
        if len(joints) != 1 or joints[0].get("joint_mode") != "all":
            c.err(where, "a bundle has one joint_review step with joint_mode all")
        else:
            missing = {m["department"] for m in members} - set(joints[0]["departments"])
            if missing:
                c.err(where, f"joint review leaves out the items' departments {sorted(missing)}")
        n_insp = sum(s["kind"] == "inspection" for s in steps)
        needs_insp = any(s["kind"] == "inspection" for m in members for s in steps_of(m))
        if n_insp > 1 or (needs_insp and n_insp == 0):
            c.err(where, "a bundle has exactly one inspection when its items need one (一次勘验)")
        if b.get("max_extension_days", 15) != 15:
            c.err(where, "bundles allow 15 extension days (行政许可法 §42 joint handling)")

    # README documents every licence type used
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").exists() else ""
    if not readme:
        c.err("README.md", "missing")
    for code in sorted(license_codes_used):
        if f"`{code}`" not in readme:
            c.err("README.md", f"licence type `{code}` is used but not documented")

    # Counts and must-includes
    used_depts = {it["department"] for it in items.values()}
    immediate = [s for s, it in items.items() if it["handling"] == "immediate"]
    if len(items) < MIN_ITEMS:
        c.err("catalog", f"{len(items)} items, at least {MIN_ITEMS} expected")
    if len(used_depts) < MIN_DEPTS_USED:
        c.err("catalog", f"items come from {len(used_depts)} departments, at least {MIN_DEPTS_USED} expected")
    if len(bundles) < MIN_BUNDLES:
        c.err("catalog", f"{len(bundles)} bundles, at least {MIN_BUNDLES} expected")
    if len(immediate) < MIN_IMMEDIATE:
        c.err("catalog", f"{len(immediate)} on-the-spot items, at least {MIN_IMMEDIATE} expected")
    if conditional_steps < MIN_CONDITIONAL_STEPS:
        c.err("catalog", f"{conditional_steps} conditional steps, at least {MIN_CONDITIONAL_STEPS} expected")
    for slug, what in MUST_ITEMS.items():
        if slug not in items:
            c.err("catalog", f"missing must-include item {slug} ({what})")
    for code in MUST_BUNDLES:
        if code not in bundles:
            c.err("catalog", f"missing must-include bundle {code}")
    for slug in ("physician-practice-filing", "nurse-practice-filing"):
        it = items.get(slug)
        if it and (it["kind"] != "filing" or [s["kind"] for s in steps_of(it)] != ["accept"]):
            c.err(f"items/{slug}.toml", "审批改备案: kind filing and a process of only the accept step")
    cp = items.get("construction-permit")
    if cp:
        st = steps_of(cp)
        j = [s for s in st if s["kind"] == "joint_review"]
        if not j or j[0].get("joint_mode") != "all" or not {"housing", "fire", "civil-air-defence"} <= set(j[0]["departments"]):
            c.err("items/construction-permit.toml", "needs a joint_review (多图联审) of housing, fire, civil air defence, mode all")
        if not any(s["kind"] == "inspection" for s in st):
            c.err("items/construction-permit.toml", "needs an inspection step")
    experts = [s for s, it in items.items()
               if any(st["kind"] == "review" and st["name"] == "专家评审" for st in steps_of(it))]
    if not experts:
        c.err("catalog", "no item has an expert review (专家评审) step")
    for s in experts:
        if "不计入" not in items[s].get("limit_notes", ""):
            c.err(f"items/{s}.toml", "limit_notes should say that expert review time is not counted (§45)")

    # Report
    for e in c.errors:
        print("ERROR", e)
    kinds = {}
    for it in items.values():
        kinds[it["kind"]] = kinds.get(it["kind"], 0) + 1
    print(f"departments: {len(depts)} ({sum(bool(d.get('bureau_section')) for d in depts.values())} bureau sections); "
          f"used by items: {len(used_depts)}")
    print(f"items: {len(items)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
          f"on the spot: {len(immediate)}; with expert review: {len(experts)}; conditional steps: {conditional_steps}")
    print(f"bundles: {len(bundles)}; shared form keys: {len(field_defs)}; licence types used: {len(license_codes_used)}")
    print("OK" if not c.errors else f"{len(c.errors)} problem(s)")
    return 1 if c.errors else 0


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "catalog"
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else default))
