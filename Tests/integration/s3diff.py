"""The differential harness: one fixture tree, served from disk by x2s3 and uploaded
to moto_server, and a comparator for raw S3 responses.

Fixtures (session scope, registered from conftest via `pytest_plugins`):
  diff_tree   the generated tree: {key: bytes} of every object, and its directory
  x2s3_diff   x2s3 (scripts/serve) serving it as BUCKET and MANYB, and BUCKET's tree again as
              HIDDEN (browseable: false)
  moto_diff   moto_server holding the same objects in public-read buckets BUCKET and MANYB

The comparator (`compare`) reduces each response to status, the headers S3 defines for the
case, and the XML tree (namespaces stripped, element order kept), masks the values the
allow-list names (ALLOWED_VALUES) and reports every remaining difference.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import random
import shutil
import unicodedata
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from procs import raw_request, start_moto, stop

BUCKET = "diffbucket"     # the hostile tree
MANYB = "diffmany"        # a 2,500-file directory and its neighbours (its own bucket: moto's listing
                          # cost grows with the bucket, and the main matrix would wait on it)
HIDDEN = "hiddenbucket"   # the hostile tree again, browseable: false
MANY = 2500
ZARR_SHAPE = (40, 30)
ZARR_CHUNKS = (16, 16)


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _bytes(rng: random.Random, n: int) -> bytes:
    return rng.getrandbits(8 * n).to_bytes(n, "little") if n else b""


def make_tree(root: Path) -> dict[str, bytes]:
    """Writes BUCKET's tree under `root` and returns {key: content} of every object S3
    would hold. On disk only (never uploaded, must never be listed or served): an empty
    directory, a non-UTF-8 name, a symlink out of the tree and a broken symlink."""
    rng = random.Random(3)
    files: dict[str, bytes] = {
        # hostile names (docs/contract.md#keys)
        "plus+sign.txt": b"plus\n",
        "eq=sign.txt": b"eq\n",
        "at@sign.txt": b"at\n",
        "pct%41.txt": b"literal %41\n",
        "pct%20.txt": b"literal %20\n",
        "hash#tag.txt": b"hash\n",
        "q?mark.txt": b"question\n",
        "amp&and.txt": b"amp\n",
        "quote'1.txt": b"quote\n",
        "with space.txt": b"space\n",
        "sp ace/in dir.txt": b"space dir\n",
        "lt<gt>.txt": b"angle\n",
        nfc("unicodé-ключ-日本.txt"): "unicode\n".encode(),
        nfc("ü/ñ.txt"): b"nested unicode\n",
        "tilde~star*.txt": b"tilde\n",
        # S3 byte order: a-b < a/b < a0
        "a-b": b"a-b\n",
        "a/b": b"a/b\n",
        "a/b-c": b"a/b-c\n",
        "a0": b"a0\n",
        # a file and a directory sharing a prefix
        "dir": b"",  # placeholder, replaced below (dir is a directory)
        "dir.txt": b"beside dir\n",
        "dir/x": b"inside dir\n",
        "dir/x.txt": b"inside dir too\n",
        "dir-x": b"dir-x file\n",
        "dir0/y": b"dir0\n",
        # dotfiles, empty files
        ".dotfile": b"dot\n",
        "dir/.hidden": b"hidden\n",
        "empty.bin": b"",
        "dir/empty": b"",
        # nesting
        "n1/top.txt": b"n1\n",
        "n1/n2/x.txt": b"n2\n",
        "n1/n2/n3/n4/leaf.txt": b"leaf\n",
        "n1/n2/n3/n4/n5/deepest": b"deepest\n",
        # sized objects for ranges and byte-exact copies
        "data.bin": _bytes(rng, 1000),
        "blob/blob.bin": _bytes(rng, 300_001),
        "hello.txt": b"Hello, x2s3!\n",
        "data.json": b'{"answer": 42}\n',
    }
    del files["dir"]
    _write(root, files)
    # A symlink to a file inside the tree is served like the file itself.
    (root / "link-in.txt").symlink_to("hello.txt")
    files["link-in.txt"] = files["hello.txt"]
    files.update(_write_zarr(root))
    # Only on disk.
    (root / "emptydir" / "emptier").mkdir(parents=True)
    os.symlink("/etc/hostname", root / "link-out")
    os.symlink("no-such-target", root / "link-broken")
    try:
        with open(os.path.join(os.fsencode(root), b"bad-\xff-name.txt"), "wb") as f:
            f.write(b"not utf-8\n")
    except OSError:  # a filesystem that refuses non-UTF-8 names
        pass
    return dict(sorted(files.items(), key=lambda kv: kv[0].encode()))


def make_many(root: Path) -> dict[str, bytes]:
    """MANYB's tree: `many/` with MANY files named f0..f2499 (unpadded: byte order is not
    numeric order, f10 < f2), and neighbours on both sides of it."""
    files = {f"many/f{i}": f"{i}\n".encode() for i in range(MANY)}
    files.update({"man": b"before\n", "many-x": b"dash\n", "many.txt": b"dot\n", "many/sub/deep": b"deep\n",
                  "many0/x": b"after\n", "z": b"last\n"})
    _write(root, files)
    return dict(sorted(files.items(), key=lambda kv: kv[0].encode()))


def _write(root: Path, files: dict[str, bytes]) -> None:
    for key, content in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _write_zarr(root: Path) -> dict[str, bytes]:
    """A Zarr v2 and a v3 array written by zarr-python itself (the client test reads them back);
    returns their files. Empty when zarr is not installed (the client test then skips)."""
    try:
        import numpy as np
        import zarr
    except ImportError:
        return {}
    values = zarr_values()
    for fmt in (2, 3):
        arr = zarr.create_array(store=str(root / f"zarr/v{fmt}.zarr"), shape=ZARR_SHAPE, chunks=ZARR_CHUNKS,
                                dtype=np.int32, zarr_format=fmt, fill_value=0)
        arr[:] = values
    out = {}
    for dirpath, _, names in os.walk(root / "zarr"):
        for n in names:
            p = Path(dirpath) / n
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def zarr_values():
    import numpy as np
    return np.arange(ZARR_SHAPE[0] * ZARR_SHAPE[1], dtype=np.int32).reshape(ZARR_SHAPE) * 7 - 1000


@dataclass
class Tree:
    root: Path                  # BUCKET (and HIDDEN)
    files: dict[str, bytes]
    many_root: Path             # MANYB
    many_files: dict[str, bytes]

    @property
    def keys(self) -> list[str]:
        return list(self.files)


def _config(path: Path, root: Path, many_root: Path) -> None:
    path.write_text(
        "# Generated by Tests/integration/s3diff.py\n"
        "log_level: INFO\n"
        "ui: false\n"
        "targets:\n"
        f"  - name: {BUCKET}\n"
        "    client: file\n"
        "    options:\n"
        f"      path: '{root}'\n"
        f"  - name: {MANYB}\n"
        "    client: file\n"
        "    options:\n"
        f"      path: '{many_root}'\n"
        f"  - name: {HIDDEN}\n"
        "    browseable: false\n"
        "    client: file\n"
        "    options:\n"
        f"      path: '{root}'\n"
    )


@pytest.fixture(scope="session")
def diff_tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    top = tmp_path_factory.mktemp("diff")
    root, many_root = top / "tree", top / "many"
    root.mkdir()
    many_root.mkdir()
    return Tree(root, make_tree(root), many_root, make_many(many_root))


@pytest.fixture(scope="session")
def x2s3_diff(diff_tree: Tree, tmp_path_factory: pytest.TempPathFactory):
    from conftest import serving
    top = tmp_path_factory.mktemp("x2s3diff")
    config = top / "config.yaml"
    _config(config, diff_tree.root, diff_tree.many_root)
    warm = [(BUCKET, "hello.txt"), (BUCKET, "nope"), (MANYB, "z"), (HIDDEN, "hello.txt")]
    with serving(top, config, diff_tree.root, diff_tree.files, warm) as srv:
        yield srv


@pytest.fixture(scope="session")
def moto_diff(diff_tree: Tree, tmp_path_factory: pytest.TempPathFactory):
    if not shutil.which("moto_server"):
        pytest.skip("needs moto_server (pip install 'moto[server]')")
    top = tmp_path_factory.mktemp("moto")
    # AWS's default page is 1000 keys; moto's is 100 unless told.
    proc, url = start_moto(top / "moto.log", MOTO_S3_DEFAULT_MAX_KEYS="1000")
    try:
        seed(url, {BUCKET: diff_tree.files, MANYB: diff_tree.many_files})
        yield url
    finally:
        stop(proc)


def seed(url: str, buckets: dict[str, dict[str, bytes]]) -> None:
    """Creates each public-read bucket and uploads its objects."""
    import boto3
    from botocore.config import Config
    # No checksum: x2s3's objects have none, and moto would list the uploader's ChecksumAlgorithm.
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="seed",
                      aws_secret_access_key="seed",
                      config=Config(max_pool_connections=16, request_checksum_calculation="when_required"))
        # Anonymous reads need a public bucket and public objects, in moto as in S3.
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket, ACL="public-read")
    objects = [(b, k, v) for b, files in buckets.items() for k, v in files.items()]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda o: s3.put_object(Bucket=o[0], Key=o[1], Body=o[2], ACL="public-read"), objects))


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


# --- listings, paged to the end on each side independently -------------------------------------

@dataclass
class ListCase:
    name: str
    version: int                      # 2: list-type=2; 1: no list-type (V1)
    params: dict[str, str]            # prefix, delimiter, max-keys, start-after/marker, encoding-type, fetch-owner
    max_pages: int = 30
    bucket: str = BUCKET


def list_target(bucket: str, version: int, params: dict[str, str]) -> str:
    items = ([("list-type", "2")] if version == 2 else []) + list(params.items())
    return f"/{bucket}?" + "&".join(f"{k}={q(v)}" for k, v in items)


def _text(root: ET.Element, tag: str) -> str | None:
    el = root.find(tag)
    return None if el is None else (el.text or "")


def _set(root: ET.Element, tag: str, text: str) -> None:
    el = root.find(tag)
    if el is None:
        el = ET.SubElement(root, tag)
    el.text = text


def _encode(s: str) -> str:
    return urllib.parse.quote(s, safe="/-_.~")


def page_through(base: str, bucket: str, version: int, params: dict[str, str], max_pages: int, url: bool
                 ) -> list[tuple[Resp, dict[str, str]]]:
    """[(response, the parameters sent)] following each page's own token or marker."""
    out = []
    sent = dict(params)
    for _ in range(max_pages):
        r = fetch(base, "GET", list_target(bucket, version, sent))
        out.append((r, sent))
        if r.status != 200:
            break
        root = parse_xml(r.body)
        if _text(root, "IsTruncated") != "true":
            break
        sent = dict(params)
        if version == 2:
            sent["continuation-token"] = _text(root, "NextContinuationToken") or ""
        else:
            marker = _text(root, "NextMarker")
            if marker is None:
                keys = root.findall("Contents/Key")
                marker = keys[-1].text if keys else ""
            sent["marker"] = urllib.parse.unquote_plus(marker) if url else marker
    return out


def v1_from_v2(params: dict[str, str]) -> dict[str, str]:
    """The V2 request that pages like a V1 request (ALLOW["v1"])."""
    p = {k: v for k, v in params.items() if k != "marker"}
    if params.get("marker"):
        p["start-after"] = params["marker"]
    p["fetch-owner"] = "true"
    return p


def moto_page_fix(version: int, sent_v1: dict[str, str] | None, sent: dict[str, str]):
    url = sent.get("encoding-type") == "url"

    def fix(root: ET.Element) -> None:
        if root.tag != "ListBucketResult":
            return
        for tag in ("Delimiter", "StartAfter"):                       # ALLOW["url"]
            if url and root.find(tag) is not None:
                _set(root, tag, _encode(_text(root, tag)))
        if version == 2:
            if "continuation-token" in sent:                          # ALLOW["echo"]
                _set(root, "ContinuationToken", sent["continuation-token"])
                if "start-after" in sent:
                    _set(root, "StartAfter", _encode(sent["start-after"]) if url else sent["start-after"])
            if sent.get("fetch-owner", "false") != "true":            # ALLOW["fetch-owner"]
                for c in root.findall("Contents"):
                    for o in c.findall("Owner"):
                        c.remove(o)
            return
        # V1 from the V2 answer (ALLOW["v1"])
        for tag in ("KeyCount", "StartAfter", "ContinuationToken", "NextContinuationToken"):
            for el in root.findall(tag):
                root.remove(el)
        marker = sent_v1.get("marker", "")
        _set(root, "Marker", _encode(marker) if url and marker else marker)
        if _text(root, "IsTruncated") == "true" and sent_v1.get("delimiter"):
            last = [el.text or "" for el in root.findall("Contents/Key") + root.findall("CommonPrefixes/Prefix")]
            dec = urllib.parse.unquote if url else (lambda s: s)
            _set(root, "NextMarker", max(last, key=lambda s: dec(s).encode()))
    return fix


def x2s3_page_fix(sent: dict[str, str]):
    def fix(root: ET.Element) -> None:
        if sent.get("encoding-type") != "url":
            return
        for el in root.iter():                                        # ALLOW["url"]
            if el.tag in URL_ENCODED and el.text:
                el.text = el.text.replace("+", "%20")
    return fix


def run_list(x2s3: str, moto: str, c: ListCase) -> list[str]:
    url = c.params.get("encoding-type") == "url"
    xs = page_through(x2s3, c.bucket, c.version, c.params, c.max_pages, url)
    ref_params = dict(c.params)
    if int(ref_params.get("max-keys", "0") or 0) > 1000:              # ALLOW["max-keys"]
        ref_params["max-keys"] = "1000"
    if c.version == 2:
        ms = page_through(moto, c.bucket, 2, ref_params, c.max_pages, url)
        ms_v1 = [None] * len(ms)
    else:
        ms, ms_v1 = [], []
        sent_v1 = dict(ref_params)
        for _ in range(c.max_pages):
            r, sent = page_through(moto, c.bucket, 2, v1_from_v2(sent_v1), 1, url)[0]
            ms.append((r, sent))
            ms_v1.append(sent_v1)
            if r.status != 200:
                break
            root = parse_xml(r.body)
            moto_page_fix(1, sent_v1, sent)(root)
            if _text(root, "IsTruncated") != "true":
                break
            marker = _text(root, "NextMarker")
            if marker is None:
                marker = root.findall("Contents/Key")[-1].text
            sent_v1 = dict(ref_params, marker=urllib.parse.unquote(marker) if url else marker)
    problems = []
    if len(xs) != len(ms):
        problems.append(f"{len(xs)} pages from x2s3, {len(ms)} from the reference")
    for i, ((xr, xsent), (mr, msent), v1) in enumerate(zip(xs, ms, ms_v1), 1):
        xv, own = view(xr, "GET", False, fix=x2s3_page_fix(xsent))
        mv, _ = view(mr, "GET", False, fix=moto_page_fix(c.version, v1, msent))
        problems += [f"page {i}: x2s3: {p}" for p in own]
        if xv != mv:
            problems += [f"page {i}:"] + diff_lines(xv, mv)
            break
    return problems


def run_lists(x2s3: str, moto: str, cases: list[ListCase]) -> dict[str, list[str]]:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: run_list(x2s3, moto, c), cases))
    return {c.name: r for c, r in zip(cases, results) if r}


def report(diffs: dict[str, list[str]], total: int) -> str:
    lines = [f"{len(diffs)} of {total} cases differ"]
    for name, d in diffs.items():
        lines.append(f"--- {name}")
        lines += ["    " + x for x in d]
    return "\n".join(lines)
