#!/usr/bin/env python3
"""Check catalog/license-types.toml against the demo catalog (python3.11+, standard library only).

Usage: python3 tools/check_license_types.py [catalog-dir] [--gaps]

Checks, naming the licence type and key on any problem (exit 1):
- the file parses, has only [[license_type]] tables with the documented keys and value types;
- codes are unique snake_case; every licence type code an item's [[results]] names has an entry, and every entry is
  issued by at least one item; the Chinese name equals the one in catalog/README.md's licence type table;
- type_code = an 18-character USCC (GB 32100 check character, and the GB 11714 check character of the embedded
  organisation code) + 3 digits; type codes unique;
- holder_kind, validity ("permanent", { years = N } or { months = N }), exactly one of number_prefix / number_from
  (a prefix without the region code 640100, which the engine inserts before the serial; "" allowed);
- fields: unique snake_case keys, label and label_en, a known source; a `form.<key>` source (and number_from) names a
  form field of at least one item that issues the type; the GB/T 36903 metadata keys are present; issuer_code is the
  USCC of the issuing items' department and issuer names it;
- public_fields: unique, a subset of the field keys, include license_no, issuer and issue_date, and never show a
  resident ID, a phone number, applicant.id_number or a form field marked `personal`;
- disclosure (双公示) is true exactly for licensing items issuing to organisations.
Warnings (exit 0): no holder_code field. With --gaps, also lists the form sources an issuing item lacks.
"""
import re
import sys
import tomllib
from pathlib import Path

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
OC_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
OC_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

KEYS = {"code": str, "name": str, "name_en": str, "type_code": str, "holder_kind": str, "validity": (str, dict),
        "fields": list, "public_fields": list, "number_prefix": str, "number_from": str, "disclosure": bool,
        "notes": str}
REQUIRED = {"code", "name", "name_en", "type_code", "holder_kind", "validity", "fields", "public_fields",
            "disclosure"}
FIELD_KEYS = {"key", "label", "label_en", "source"}
HOLDER_KINDS = {"person", "organisation", "either"}
PLAIN_SOURCES = {"applicant.name", "applicant.id_number", "case.decided_at", "case.case_no", "license.valid_from",
                 "license.valid_to", "license.number"}
METADATA = ["license_no", "holder", "issuer", "issuer_code", "issue_date", "valid_from", "valid_to"]
MUST_BE_PUBLIC = ["license_no", "issuer", "issue_date"]
SECRET_TYPES = {"resident_id", "phone"}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
BUREAU = "银川市审批服务局"
REGION = "640100"  # the engine numbers licences number_prefix + REGION + serial (crates/app/src/licensing.rs)


def uscc_problem(s):
    if not isinstance(s, str) or len(s) != 18:
        return f"USCC {s!r} must be 18 characters"
    bad = [c for c in s if c not in USCC_ALPHABET]
    if bad:
        return f"USCC {s} has characters outside the GB 32100 alphabet: {''.join(bad)}"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(s[:17], USCC_WEIGHTS))
    want = USCC_ALPHABET[(31 - total % 31) % 31]
    if want != s[17]:
        return f"USCC {s}: GB 32100 check character should be {want}"
    oc = s[8:17]
    if all(c in OC_ALPHABET for c in oc[:8]):
        c = 11 - sum(OC_ALPHABET.index(ch) * w for ch, w in zip(oc[:8], OC_WEIGHTS)) % 11
        want = "X" if c == 10 else "0" if c == 11 else str(c)
        if want != oc[8]:
            return f"USCC {s}: organisation code {oc[:8]}-{oc[8]} should end in GB 11714 check character {want}"
    return None


def readme_names(readme):
    """code -> 证照 from the licence type table of catalog/README.md."""
    names = {}
    if not readme.exists():
        return names
    section = False
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line.strip() == "## Licence type codes"
        if not section:
            continue
        m = re.match(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*([^|]+?)\s*\|", line)
        if m:
            names[m.group(1)] = m.group(2)
    return names


def main(argv):
    gaps = "--gaps" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "catalog"
    errors, warnings, infos = [], [], []

    def err(where, msg):
        errors.append(f"{where}: {msg}")

    # ------------------------------------------------------------------ the catalog
    depts = {}
    try:
        for d in tomllib.loads((root / "departments.toml").read_text(encoding="utf-8")).get("department", []):
            depts[d["id"]] = d
    except (OSError, tomllib.TOMLDecodeError, KeyError) as e:
        err("departments.toml", f"cannot read: {e}")
    issuers = {}       # licence type -> [(slug, item)]
    substitutes = set()
    field_defs = {}    # form key -> field table (one form key means one field everywhere)
    for path in sorted((root / "items").glob("*.toml")):
        try:
            it = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            err(f"items/{path.name}", f"invalid TOML: {e}")
            continue
        for f in it.get("form", {}).get("fields", []):
            field_defs.setdefault(f["key"], f)
        for r in it.get("results", []):
            if r.get("license_type"):
                issuers.setdefault(r["license_type"], []).append((path.stem, it))
        for m in it.get("materials", []):
            substitutes.update(m.get("license_substitutes", []))

    # ------------------------------------------------------------------ the licence types
    path = root / "license-types.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"license-types.toml: {e}")
        return 1
    extra = set(doc) - {"license_type"}
    if extra:
        err("license-types.toml", f"unknown top-level keys {sorted(extra)}")
    types = doc.get("license_type", [])
    if not isinstance(types, list) or not types:
        err("license-types.toml", "no [[license_type]] tables")
        types = []
    names = readme_names(root / "README.md")
    seen_codes, seen_type_codes = {}, {}
    n_fields = n_public = 0
    for i, lt in enumerate(types):
        where = f"license_type[{i}] {lt.get('code', '?')}"
        for k in set(lt) - set(KEYS):
            err(where, f"unknown key {k}")
        for k in REQUIRED - set(lt):
            err(where, f"missing key {k}")
        for k, t in KEYS.items():
            if k in lt and not isinstance(lt[k], t):
                err(where, f"{k} has the wrong type ({type(lt[k]).__name__})")
        if any(k in REQUIRED and k not in lt for k in REQUIRED) or any(
                k in lt and not isinstance(lt[k], t) for k, t in KEYS.items()):
            continue
        code = lt["code"]
        if not SNAKE.match(code):
            err(where, "code is not snake_case")
        if code in seen_codes:
            err(where, f"code also used by license_type[{seen_codes[code]}]")
        seen_codes[code] = i
        for k in ("name", "name_en"):
            if not lt[k].strip():
                err(where, f"{k} is empty")
        if code in names and names[code] != lt["name"]:
            err(where, f"name {lt['name']!r} differs from README.md's {names[code]!r}")
        elif code not in names:
            err(where, "not in README.md's licence type table")

        tc = lt["type_code"]
        if len(tc) != 21 or not tc[18:].isdigit() or not tc[18:].isascii():
            err(where, f"type_code {tc!r} must be a USCC (18) + 3 digits")
        else:
            p = uscc_problem(tc[:18])
            if p:
                err(where, f"type_code: {p}")
        if tc in seen_type_codes:
            err(where, f"type_code also used by {seen_type_codes[tc]}")
        seen_type_codes[tc] = code

        if lt["holder_kind"] not in HOLDER_KINDS:
            err(where, f"holder_kind must be one of {sorted(HOLDER_KINDS)}")
        v = lt["validity"]
        if isinstance(v, str):
            if v != "permanent":
                err(where, 'validity is "permanent", { years = N } or { months = N }')
        elif len(v) != 1 or next(iter(v)) not in ("years", "months") or not isinstance(next(iter(v.values())), int) \
                or isinstance(next(iter(v.values())), bool) or next(iter(v.values())) <= 0:
            err(where, "validity table must be exactly { years = N } or { months = N } with N > 0")

        issued_by = issuers.get(code, [])
        if not issued_by:
            err(where, "no item's [[results]] issues this type (types issued outside the catalog do not belong here)")
        forms = {slug: {f["key"]: f for f in it.get("form", {}).get("fields", [])} for slug, it in issued_by}

        def source_problem(src, what):
            if src in PLAIN_SOURCES:
                return None
            if src.startswith("text:"):
                return None if src[5:].strip() else f"{what}: empty literal"
            if src.startswith("form."):
                key = src[5:]
                if forms and not any(key in f for f in forms.values()):
                    return f"{what}: form key {key!r} is not in the form of any issuing item ({', '.join(forms)})"
                if gaps:
                    missing = [s for s, f in forms.items() if key not in f]
                    if missing:
                        infos.append(f"{code}: {what} form.{key} missing in {', '.join(missing)}")
                return None
            return f"{what}: unknown source {src!r}"

        has_prefix, has_from = "number_prefix" in lt, "number_from" in lt
        if has_prefix == has_from:
            err(where, "give exactly one of number_prefix and number_from")
        if has_prefix and (lt["number_prefix"] != lt["number_prefix"].strip() or REGION in lt["number_prefix"]):
            err(where, f"number_prefix has spaces or the region code {REGION} (the number is prefix + {REGION} + serial)")
        if has_from:
            if not lt["number_from"].startswith("form."):
                err(where, "number_from must be a form.<key> source")
            else:
                p = source_problem(lt["number_from"], "number_from")
                if p:
                    err(where, p)

        fields, keys = {}, []
        for j, f in enumerate(lt["fields"]):
            fw = f"{where} fields[{j}]"
            if not isinstance(f, dict):
                err(fw, "not a table")
                continue
            if set(f) != FIELD_KEYS:
                err(fw, f"keys must be exactly {sorted(FIELD_KEYS)} (got {sorted(f)})")
                continue
            if not all(isinstance(f[k], str) and f[k].strip() for k in FIELD_KEYS):
                err(fw, "key, label, label_en and source are non-empty strings")
                continue
            k = f["key"]
            if not SNAKE.match(k):
                err(fw, f"key {k!r} is not snake_case")
            if k in fields:
                err(fw, f"key {k!r} appears twice")
            fields[k] = f
            keys.append(k)
            p = source_problem(f["source"], f"field {k}")
            if p:
                err(where, p)
        n_fields += len(fields)
        for k in METADATA:
            if k not in fields:
                err(where, f"missing GB/T 36903 metadata field {k}")
        if "holder_code" not in fields:
            warnings.append(f"{code}: no holder_code field (the holder's code has no source yet)")
        for k, src in (("license_no", "license.number"), ("issue_date", "case.decided_at"),
                       ("valid_from", "license.valid_from"), ("valid_to", "license.valid_to")):
            if k in fields and fields[k]["source"] != src:
                err(where, f"field {k} should come from {src}")
        if lt["holder_kind"] == "person" and "holder" in fields and fields["holder"]["source"] != "applicant.name":
            err(where, "a person's licence names the applicant as holder (applicant.name)")

        # issuer: the department of the issuing items
        dept_usccs = {it.get("department_uscc") for _, it in issued_by}
        ic = fields.get("issuer_code", {}).get("source", "")
        if ic:
            if not ic.startswith("text:"):
                err(where, "issuer_code is a literal text:<USCC>")
            else:
                p = uscc_problem(ic[5:])
                if p:
                    err(where, f"issuer_code: {p}")
                if dept_usccs and dept_usccs != {ic[5:]}:
                    err(where, f"issuer_code {ic[5:]} is not the issuing department's USCC {sorted(dept_usccs)}")
        iss = fields.get("issuer", {}).get("source", "")
        if iss.startswith("text:"):
            for slug, it in issued_by:
                d = depts.get(it.get("department"), {})
                dname = BUREAU if d.get("bureau_section") else d.get("name", "")
                if dname and not dname.startswith(iss[5:]):
                    err(where, f"issuer {iss[5:]!r} does not name {slug}'s department {dname!r}")
        elif iss:
            err(where, "issuer is a literal text:<name>")

        # public fields
        pub = lt["public_fields"]
        if len(set(pub)) != len(pub):
            err(where, "public_fields has duplicates")
        n_public += len(set(pub))
        for k in pub:
            if not isinstance(k, str) or k not in fields:
                err(where, f"public field {k!r} is not a field key")
                continue
            src = fields[k]["source"]
            if src == "applicant.id_number":
                err(where, f"public field {k} shows applicant.id_number (a resident ID for persons)")
            if src.startswith("form."):
                fk = src[5:]
                for slug, form in forms.items():
                    fd = form.get(fk)
                    if fd is None:
                        continue
                    if fd.get("type") in SECRET_TYPES:
                        err(where, f"public field {k} shows {fd['type']} field form.{fk} ({slug})")
                    if fd.get("personal"):
                        err(where, f"public field {k} shows personal field form.{fk} ({slug})")
                gd = field_defs.get(fk, {})
                if gd.get("type") in SECRET_TYPES or gd.get("personal"):
                    if not any(fk in f for f in forms.values()):
                        err(where, f"public field {k} shows a personal field form.{fk}")
        for k in MUST_BE_PUBLIC:
            if k in fields and k not in pub:
                err(where, f"public_fields must include {k} (needed to verify the licence)")

        # 双公示: licensing decisions on organisations
        licensing = any(it.get("kind") == "licensing" for _, it in issued_by)
        want = licensing and lt["holder_kind"] == "organisation"
        if issued_by and lt["disclosure"] != want:
            err(where, f"disclosure should be {str(want).lower()} (licensing item: {licensing}, "
                       f"holder_kind: {lt['holder_kind']})")

    for code, items in sorted(issuers.items()):
        if code not in seen_codes:
            err("license-types.toml", f"licence type {code} (issued by {', '.join(s for s, _ in items)}) has no entry")
    external = sorted(substitutes - set(issuers) - set(seen_codes))
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").exists() else ""
    if "## Licence types (license-types.toml)" not in readme:
        warnings.append("README.md has no section 'Licence types (license-types.toml)'")

    for line in infos:
        print("gap:", line)
    for w in warnings:
        print("warning:", w)
    if errors:
        for e in errors:
            print("error:", e)
        print(f"{len(errors)} error(s)")
        return 1
    print(f"OK: {len(types)} licence types, {n_fields} fields ({n_public} public), "
          f"{len(issuers)} codes issued by items all covered"
          + (f"; issued outside the catalog (only as license_substitutes, no entry needed): {', '.join(external)}"
             if external else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
