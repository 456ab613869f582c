"""Issue 13's S3 details behind real nginx and a 2-worker pool, on one instance configured the
way x2s3 1.6.1 writes configs with `log_format: json`:

- ListBuckets paging: the real AWS CLI (`aws s3api list-buckets --max-items/--page-size/--prefix`,
  which pages with max-buckets and continuation-token) and boto3's paginator;
- response-* overrides reaching the client (GET and HEAD);
- keys over 1,024 bytes: absent from listings, 400 KeyTooLongError on GET/HEAD;
- a Range end past 2^64 served as "to the end";
- content types of the imaging formats;
- every log line x2s3 wrote is one JSON object with the ECS fields.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from serve_instance import ServeInstance

BUCKETS = ["alpha", "beta-1", "beta-2", "beta-3", "gamma", "beta-4", "delta"]
LONG_DIR = "/".join(["d" * 250] * 4)           # 1,003 bytes with its slashes
LONG_KEY = LONG_DIR + "/" + "f" * 30            # 1,034 bytes
EDGE_KEY = LONG_DIR + "/" + "e" * 20            # 1,024 bytes: the longest allowed
FORMATS = {"map.mrc": "application/octet-stream", "stack.mrcs": "application/octet-stream",
           "img.tif": "image/tiff", "img.tiff": "image/tiff", "d.h5": "application/x-hdf5",
           "d.hdf5": "application/x-hdf5", "brain.nii": "application/octet-stream",
           "brain.nii.gz": "application/gzip", "cells.ims": "application/x-hdf5",
           "slide.czi": "application/octet-stream", "plate.nd2": "application/octet-stream"}


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    top = tmp_path_factory.mktemp("s3details")
    root = top / "data"
    (root / LONG_DIR).mkdir(parents=True)
    (root / LONG_KEY).write_bytes(b"too long\n")
    (root / EDGE_KEY).write_bytes(b"just fits\n")
    (root / "hello.txt").write_bytes(b"Hello, x2s3!\n")
    (root / "blob").write_bytes(bytes(range(256)))
    for name in FORMATS:
        (root / "fmt").mkdir(exist_ok=True)
        (root / "fmt" / name).write_bytes(b"\0" * 16)
    # A 1.6.1-style config: log_format json, the original's keys only.
    config = "log_level: INFO\nlog_format: json\nui: false\ntargets:\n" + "".join(
        f"  - name: {b}\n    browseable: true\n    client: file\n    options:\n      path: '{root}'\n" for b in BUCKETS)
    with ServeInstance(top, config) as s:
        yield s


def aws(inst, *args: str) -> dict:
    if not shutil.which("aws"):
        pytest.skip("no aws cli")
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    cmd = ["aws", "--endpoint-url", inst.base_url, "--no-sign-request", "--region", "us-east-1", "--output", "json", *args]
    out = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return json.loads(out.stdout or b"{}")


def names(doc: dict) -> list[str]:
    return [b["Name"] for b in doc.get("Buckets", [])]


# --- ListBuckets --------------------------------------------------------------------------------

def test_aws_cli_list_buckets_pages(inst):
    # --page-size 2: the CLI follows continuation tokens, max-buckets=2 per request.
    assert names(aws(inst, "s3api", "list-buckets", "--page-size", "2")) == BUCKETS
    # --max-items: a NextToken to resume from, then the rest.
    first = aws(inst, "s3api", "list-buckets", "--max-items", "3", "--page-size", "2")
    assert names(first) == BUCKETS[:3] and first.get("NextToken")
    rest = aws(inst, "s3api", "list-buckets", "--page-size", "2", "--starting-token", first["NextToken"])
    assert names(rest) == BUCKETS[3:]
    # --prefix, paged and not.
    beta = [b for b in BUCKETS if b.startswith("beta")]
    assert names(aws(inst, "s3api", "list-buckets", "--prefix", "beta", "--page-size", "1")) == beta
    doc = aws(inst, "s3api", "list-buckets", "--prefix", "beta", "--max-items", "2")
    assert names(doc) == beta[:2] and doc.get("Prefix") == "beta"
    assert names(aws(inst, "s3api", "list-buckets", "--prefix", "nope")) == []


def test_list_buckets_raw_xml(inst):
    r = inst.get("/?max-buckets=3&prefix=beta")
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    tags = [el.tag.rsplit("}", 1)[-1] for el in root]
    assert tags == ["Owner", "Buckets", "ContinuationToken", "Prefix"]
    token = root.find("{*}ContinuationToken").text
    r2 = inst.get("/?max-buckets=3&prefix=beta&continuation-token=" + token)
    assert [e.text for e in ET.fromstring(r2.content).findall(".//{*}Name")] == ["beta-4"]
    for bad in ["max-buckets=0", "max-buckets=10001", "max-buckets=x", "continuation-token=forged",
                "prefix=alpha&continuation-token=" + token]:
        e = inst.get("/?" + bad)
        assert e.status_code == 400 and b"<Code>InvalidArgument</Code>" in e.content, bad


# --- GetObject details --------------------------------------------------------------------------

def test_response_overrides_reach_the_client(inst):
    q = ("?response-content-type=text%2Fcsv&response-content-disposition=attachment%3B%20filename%3D%22t.csv%22"
         "&response-content-language=fr&response-cache-control=no-cache&response-expires=0"
         "&response-content-encoding=identity")
    for method in ("GET", "HEAD"):
        r = inst.get("/alpha/blob" + q, method=method)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/csv"
        assert r.headers["Content-Disposition"] == 'attachment; filename="t.csv"'
        assert r.headers["Content-Language"] == "fr"
        assert r.headers["Cache-Control"] == "no-cache"
        assert r.headers["Expires"] == "0"
        assert r.headers["Content-Encoding"] == "identity"
        assert r.headers["Content-Length"] == "256"
    assert inst.get("/alpha/blob" + q).content == bytes(range(256))
    # Without overrides the unknown type is a named download.
    plain = inst.get("/alpha/blob")
    assert plain.headers["Content-Type"] == "application/octet-stream"
    assert plain.headers["Content-Disposition"] == 'attachment; filename="blob"'
    bad = inst.get("/alpha/blob?response-content-type=a%0D%0AX-Evil%3A%201")
    assert bad.status_code == 400 and "X-Evil" not in bad.headers


def test_boto3_response_overrides(inst):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=inst.base_url, region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    o = s3.get_object(Bucket="alpha", Key="hello.txt", ResponseContentType="application/x-test",
                      ResponseContentDisposition="inline", ResponseCacheControl="max-age=1")
    assert (o["ContentType"], o["ContentDisposition"], o["CacheControl"]) == ("application/x-test", "inline", "max-age=1")
    assert o["Body"].read() == b"Hello, x2s3!\n"
    h = s3.head_object(Bucket="alpha", Key="hello.txt", ResponseContentLanguage="en")
    assert h["ContentLanguage"] == "en"


def test_long_keys_are_not_listed_nor_served(inst):
    from urllib.parse import quote
    r = inst.get("/alpha?list-type=2&prefix=d")
    keys = [e.text for e in ET.fromstring(r.content).findall(".//{*}Key")]
    assert keys == [EDGE_KEY]
    assert inst.get("/alpha/" + quote(EDGE_KEY)).content == b"just fits\n"
    g = inst.get("/alpha/" + quote(LONG_KEY))
    assert g.status_code == 400 and b"<Code>KeyTooLongError</Code>" in g.content
    h = inst.get("/alpha/" + quote(LONG_KEY), method="HEAD")
    assert h.status_code == 400 and h.content == b""
    # Multi-byte: 513 × "é" is 1,026 bytes though 513 characters.
    assert inst.get("/alpha/" + quote("é" * 513)).status_code == 400


def test_range_end_past_2_pow_64_is_to_the_end(inst):
    for rng in ("bytes=0-99999999999999999999", "bytes=100-18446744073709551616"):
        r = inst.get("/alpha/blob", headers={"Range": rng})
        start = int(rng.split("=")[1].split("-")[0])
        assert r.status_code == 206 and r.content == bytes(range(256))[start:], rng
        assert r.headers["Content-Range"] == f"bytes {start}-255/256"


def test_imaging_content_types(inst):
    for name, ctype in FORMATS.items():
        assert inst.get("/alpha/fmt/" + name, method="HEAD").headers["Content-Type"] == ctype, name


# --- JSON logs ----------------------------------------------------------------------------------

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+ (trace|debug|info|notice|warning|error|critical) ")


def test_every_log_line_is_ecs_json(inst):
    r = inst.get("/alpha/hello.txt?x=1")
    rid = r.headers["x-amz-request-id"]
    deadline = time.monotonic() + 5
    while rid not in inst.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    objects, others = [], []
    for line in inst.log().splitlines():
        if line.startswith("{"):
            objects.append(json.loads(line))
        else:
            others.append(line)
    # scripts/serve's own lines are plain; none of x2s3's may be.
    assert not [l for l in others if TEXT_LINE.match(l) or "[X2S3Core]" in l or " x2s3: " in l], others
    assert len(objects) >= 10
    for o in objects:
        for field in ("@timestamp", "log.level", "log.logger", "message", "service.name", "service.version", "process.pid"):
            assert field in o, (field, o)
        assert o["service.name"] == "x2s3"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["@timestamp"]), o
    mine = [o for o in objects if o.get("http.request.id") == rid]
    assert len(mine) == 1, mine
    o = mine[0]
    assert o["event.dataset"] == "x2s3.access" and o["trace.id"] == rid
    assert o["http.request.method"] == "GET" and o["url.path"] == "/alpha/hello.txt" and o["url.query"] == "x=1"
    assert o["http.response.status_code"] == 200 and isinstance(o["http.response.body.bytes"], int)
    assert isinstance(o["event.duration"], int)
