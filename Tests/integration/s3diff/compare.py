"""The comparator: raw requests to both servers, the allow-list (ALLOW) of every tolerated
difference, XML reduced to comparable lines, and single-request cases (Case, run_cases).
Listings paged to the end are lists.py's."""

from __future__ import annotations

import difflib
import hashlib
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from procs import raw_request



# --- requests -------------------------------------------------------------------------

@dataclass
class Resp:
    status: int
    headers: dict[str, str]   # lower-case names
    body: bytes


def fetch(base: str, method: str, target: str, headers: dict[str, str] | None = None) -> Resp:
    """Sends `target` byte for byte (no client-side normalisation), unsigned, to base."""
    u = urllib.parse.urlsplit(base)
    return Resp(*raw_request(u.hostname, u.port, method, target, headers, timeout=60))


def q(s: str) -> str:
    """Percent-encodes a query value or key path the way SDKs do (RFC 3986 unreserved stay)."""
    return urllib.parse.quote(s, safe="-_.~")


def key_path(bucket: str, key: str) -> str:
    return f"/{bucket}/" + urllib.parse.quote(key, safe="/-_.~")


# --- the allow-list ---------------------------------------------------------------------
# Every difference the comparator tolerates, with its reason. The code below refers to these
# names; docs/compatibility.md summarises them.
ALLOW = {
    "values": "ETag, LastModified/Last-Modified, CreationDate, Owner ID/DisplayName, RequestId/HostId "
              "and continuation-token values are per-server by nature (x2s3's ETag is the cheap "
              "validator of docs/contract.md#objects; tokens are opaque): presence is compared, values are not",
    "order": "moto writes elements in the API reference's response-syntax order; AWS's wire order "
             "(its examples; docs/contract.md#listing) is asserted on x2s3 itself, then both sides are compared "
             "in that order (order of repeated elements, i.e. keys and prefixes, always counts)",
    "echo": "moto does not echo ContinuationToken, nor StartAfter once a token is sent; AWS echoes both "
            "when sent: added to moto's answer",
    "v1": "moto's ListObjects V1 ignores CommonPrefixes for max-keys and marker and sends an MD5 as "
          "NextMarker; V1 expectations are moto's V2 answer for the same parameters (marker as "
          "start-after) rewritten as AWS documents V1 (Marker always, NextMarker = last Key or "
          "CommonPrefix of a truncated page when a delimiter is given, Owner in Contents, no KeyCount)",
    "url": "under encoding-type=url moto writes a space as %20 and leaves Delimiter/StartAfter raw; AWS "
           "writes + (botocore decodes with unquote_plus) and encodes Delimiter, Prefix, Key, "
           "StartAfter: x2s3's + is read as %20, moto's raw Delimiter/StartAfter are encoded; the "
           "decoded values are compared as well",
    "max-keys": "moto serves more than 1000 keys per page; AWS caps at 1000: moto is asked for 1000",
    "fetch-owner": "moto adds Owner for fetch-owner=false (any value is true to it); AWS only for true",
    "validation": "moto does not validate list parameters (a bogus token or max-keys=abc is a 500, "
                  "max-keys=-1, encoding-type=bogus and list-type=3 are served): these cases are checked "
                  "against AWS's documented 400 InvalidArgument instead",
    "error-resource": "x2s3's errors carry <Resource> (the error shape AWS documents, docs/contract.md#errors) and "
                      "InvalidRange has Content-Range: bytes */size (RFC 9110, docs/contract.md#objects); moto omits both",
    "304": "moto's 304 has no Last-Modified; docs/contract.md#objects sends ETag and Last-Modified: asserted on x2s3 only",
    "conditionals": "moto ignores If-Range and `*`, and lets If-Unmodified-Since/If-Modified-Since override "
                    "If-Match/If-None-Match: those cases are checked against RFC 9110 §13.2.2 (which AWS's "
                    "GetObject documentation follows for the If-Match/If-Unmodified-Since pair)",
    "range-unit": "moto serves `Range: items=0-5` as bytes; RFC 9110 §14.2 (and S3) ignore an unknown unit",
    "empty-range": "a range on an empty object is 416 (docs/contract.md#objects); moto answers a suffix range with 200",
    "acl": "moto's bucket ACL also grants the owner FULL_CONTROL (the uploader's ACL); x2s3 serves the "
           "original's public-read document (docs/contract.md#other-requests): the AllUsers READ grant and the shape are "
           "compared",
    "content-type": "object Content-Type is not compared: S3 returns what the uploader stored, x2s3 its "
                    "fixed table (docs/contract.md#objects)",
    "overrides": "moto ignores the response-* query parameters (GetObject/HeadObject response header "
                 "overrides): status, length and bytes are compared with moto, the overridden headers are "
                 "checked against AWS's documented behaviour (each header equals its parameter)",
    "list-buckets": "moto's ListBuckets filters by prefix and cuts at max-buckets but sends no "
                    "ContinuationToken, does not echo Prefix and does not validate max-buckets: x2s3 is "
                    "paged to the end through its own tokens and the buckets compared with moto's unpaged "
                    "answer for the prefix; the first page with moto's cut one; validation against AWS's "
                    "documented 400 InvalidArgument",
}


# --- XML views ------------------------------------------------------------------------------

MASKED = {"ETag", "LastModified", "CreationDate", "ID", "DisplayName", "RequestId", "HostId",
          "ContinuationToken", "NextContinuationToken"}                      # ALLOW["values"]
# AWS's wire order (the examples of the S3 API reference; docs/contract.md#listing). Repeated elements keep
# their relative order whatever this says.
AWS_ORDER = {
    "ListBucketResult": ["Name", "Prefix", "StartAfter", "Marker", "ContinuationToken", "NextContinuationToken",
                         "NextMarker", "KeyCount", "MaxKeys", "Delimiter", "EncodingType", "IsTruncated",
                         "Contents", "CommonPrefixes"],
    "Contents": ["Key", "LastModified", "ETag", "Size", "Owner", "StorageClass"],
    "Owner": ["ID", "DisplayName"],
    "ListAllMyBucketsResult": ["Owner", "Buckets", "ContinuationToken", "Prefix"],
    "Bucket": ["Name", "CreationDate"],
    "AccessControlPolicy": ["Owner", "AccessControlList"],
    "Grant": ["Grantee", "Permission"],
}
URL_ENCODED = {"Key", "Prefix", "Delimiter", "StartAfter", "Marker", "NextMarker"}


def parse_xml(body: bytes) -> ET.Element:
    root = ET.fromstring(body)
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
        el.attrib = {k.rsplit("}", 1)[-1]: v for k, v in el.attrib.items()}
    return root


def order_violations(root: ET.Element) -> list[str]:
    """Elements out of AWS's wire order (checked on x2s3's own bytes)."""
    out = []
    for el in root.iter():
        rank = AWS_ORDER.get(el.tag)
        if not rank:
            continue
        seen = [c.tag for c in el]
        want = sorted(seen, key=lambda t: rank.index(t) if t in rank else len(rank))
        if seen != want:
            out.append(f"<{el.tag}> children {dedup(seen)}, AWS order {dedup(want)}")
    return out


def dedup(tags: list[str]) -> list[str]:
    return [t for i, t in enumerate(tags) if i == 0 or tags[i - 1] != t]


def canonical(el: ET.Element) -> ET.Element:
    """A copy with children in AWS order (stable, so repeated elements keep their order).
    ALLOW["order"]"""
    rank = AWS_ORDER.get(el.tag)
    kids = [canonical(c) for c in el]
    if rank:
        kids.sort(key=lambda c: rank.index(c.tag) if c.tag in rank else len(rank))
    elif el.tag == "Error":  # AWS documents no order for error fields: compare them as a set
        kids.sort(key=lambda c: c.tag)
    new = ET.Element(el.tag, el.attrib)
    new.text = el.text
    new.extend(kids)
    return new


def flatten(el: ET.Element, path: str = "") -> list[str]:
    """`path = 'text'` lines, depth first; a repeated element carries its index
    (`/ListBucketResult/Contents[3]/Key`). Masked values become <present>."""
    text = (el.text or "").strip()
    lines = [f"{path or '/' + el.tag} = {'<present>' if el.tag in MASKED else repr(text)}"]
    lines += [f"{path} @{k} = {v!r}" for k, v in sorted(el.attrib.items())]
    counts: dict[str, int] = {}
    for c in el:
        counts[c.tag] = counts.get(c.tag, 0) + 1
    seen: dict[str, int] = {}
    for c in el:
        seen[c.tag] = seen.get(c.tag, 0) + 1
        sub = f"{path or '/' + el.tag}/{c.tag}" + (f"[{seen[c.tag]}]" if counts[c.tag] > 1 else "")
        lines += flatten(c, sub)
    return lines


# --- response views and the comparison --------------------------------------------------------

def view(r: Resp, method: str, obj: bool, fix=None) -> tuple[list[str], list[str]]:
    """(lines to compare, problems found on this side alone). `obj`: an object request, whose
    2xx carries bytes and representation headers. `fix(root)` may edit the parsed XML."""
    lines = [f"status {r.status}"]
    own: list[str] = []
    h = r.headers
    ok = 200 <= r.status < 300
    if obj and ok:  # not Content-Type: ALLOW["content-type"]
        for name in ("content-length", "accept-ranges"):
            lines.append(f"{name}: {h.get(name)}")
    if "content-range" in h or r.status == 206:
        if r.status == 416:  # ALLOW["error-resource"]: x2s3 must send it, moto does not
            size = h.get("content-range", "")
            if not size.startswith("bytes */"):
                own.append(f"416 Content-Range {size!r}")
        else:
            lines.append(f"content-range: {h.get('content-range')}")
    if obj and ok:
        for name in ("etag", "last-modified"):                       # ALLOW["values"]
            lines.append(f"{name}: {'<present>' if name in h else None}")
    if obj and r.status == 304:
        lines.append(f"etag: {'<present>' if 'etag' in h else None}")
        if "last-modified" not in h:                                  # ALLOW["304"]
            own.append("304 without Last-Modified")
    if obj and ok and method == "GET":
        lines.append(f"body {len(r.body)} bytes sha256 {hashlib.sha256(r.body).hexdigest()[:16]}")
    elif r.body:
        try:
            root = parse_xml(r.body)
        except ET.ParseError as e:
            lines.append(f"body not XML ({e}): {r.body[:80]!r}")
        else:
            own += order_violations(root)
            if fix:
                fix(root)
            lines += flatten(canonical(root))
    return lines, own


def diff_lines(a: list[str], b: list[str], limit: int = 30) -> list[str]:
    out = list(difflib.unified_diff(a, b, "x2s3", "reference", n=1, lineterm=""))
    return out[:limit] + ([f"... {len(out) - limit} more lines"] if len(out) > limit else [])


@dataclass
class Case:
    """One request sent to both servers. Header values may hold `{etag}`: replaced by the ETag
    each side returned for the same path. `expect` = (status, code): AWS's documented answer,
    used instead of moto's (ALLOW[...] named by `allow`)."""
    name: str
    target: str
    method: str = "GET"
    headers: dict | None = None
    obj: bool = True
    expect: tuple[int, str | None] | None = None
    allow: str | None = None
    # Headers x2s3 must send with these exact values (lower-case names), where moto has no
    # opinion (ALLOW[...] named by `allow`).
    want_headers: dict | None = None


def run_case(x2s3: str, moto: str, c: Case) -> list[str]:
    """Differences for one case (empty: equal)."""
    def send(base: str) -> Resp:
        headers = dict(c.headers or {})
        if any("{etag}" in v for v in headers.values()):
            etag = fetch(base, "HEAD", c.target.split("?")[0]).headers.get("etag", "")
            headers = {k: v.replace("{etag}", etag) for k, v in headers.items()}
        return fetch(base, c.method, c.target, headers)
    xr = send(x2s3)
    xv, own = view(xr, c.method, c.obj, fix=drop_resource)
    problems = [f"x2s3: {p}" for p in own]
    if c.method == "HEAD" and xr.body:
        problems.append(f"x2s3: HEAD with a body of {len(xr.body)} bytes")
    if c.want_headers:
        assert c.allow in ALLOW, f"{c.name}: header expectation without an allow-list entry"
        for name, value in c.want_headers.items():
            if xr.headers.get(name) != value:
                problems.append(f"x2s3 {name}: {xr.headers.get(name)!r}, AWS sends {value!r} ({c.allow})")
    if c.expect is not None:
        assert c.allow in ALLOW, f"{c.name}: expectation without an allow-list entry"
        status, code = c.expect
        got_code = None
        if xr.body:
            try:
                got_code = parse_xml(xr.body).findtext("Code")
            except ET.ParseError:
                got_code = "<not XML>"
        if xr.status != status or (code is not None and c.method != "HEAD" and got_code != code):
            problems.append(f"x2s3 {xr.status} {got_code}, AWS documents {status} {code} ({c.allow})")
        return problems
    mv, _ = view(send(moto), c.method, c.obj, fix=moto_fixes(c))
    if xv != mv:
        problems += diff_lines(xv, mv)
    return problems


def drop_resource(root: ET.Element) -> None:
    if root.tag == "Error":                                        # ALLOW["error-resource"]
        for el in root.findall("Resource"):
            root.remove(el)


def moto_fixes(c: Case):
    def fix(root: ET.Element) -> None:
        if root.tag == "AccessControlPolicy":                       # ALLOW["acl"]
            acl = root.find("AccessControlList")
            for g in list(acl):
                if g.findtext("Grantee/URI") is None:
                    acl.remove(g)
    return fix


def run_cases(x2s3: str, moto: str, cases: list[Case]) -> dict[str, list[str]]:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: run_case(x2s3, moto, c), cases))
    return {c.name: r for c, r in zip(cases, results) if r}




def report(diffs: dict[str, list[str]], total: int) -> str:
    lines = [f"{len(diffs)} of {total} cases differ"]
    for name, d in diffs.items():
        lines.append(f"--- {name}")
        lines += ["    " + x for x in d]
    return "\n".join(lines)
