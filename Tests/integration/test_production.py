"""The production nginx front (nginx/production.conf.template + cache.conf + tls.conf + offload.conf):
TLS with a self-signed certificate made at test time, HTTP/2, the response cache and its traps
(docs/original.md#deployment-lessons), HSTS, offload behind the cache. Each check looks at what reached the
worker (its log lines, by REQUEST_URI) as well as at what the client got."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from serve_instance import ServeInstance

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

HSTS = "max-age=63072000; includeSubDomains"
BIG = 8 * 1024 * 1024 + 17  # unranged: under the 10 MB cacheable limit


def worker_bytes(line: str) -> int:
    return int(re.search(r"\bbytes=(\d+)", line).group(1))


def worker_status(line: str) -> int:
    return int(re.search(r"\bstatus=(\d+)", line).group(1))


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed for the self-signed certificate")
    top = tmp_path_factory.mktemp("prod")
    rng = random.Random(6)
    files = {}
    for bucket, content in (("alpha", b"alpha bucket\n"), ("beta", b"beta bucket, other bytes\n")):
        root = top / bucket
        (root / "vol" / "0").mkdir(parents=True)
        (root / "same.txt").write_bytes(content)
        files[bucket] = root
    a = files["alpha"]
    big = rng.getrandbits(8 * BIG).to_bytes(BIG, "little")
    (a / "big.bin").write_bytes(big)
    (a / "vol" / ".zarray").write_text('{"zarr_format": 2}\n')
    (a / "vol" / "0" / "0.0").write_bytes(rng.getrandbits(8 * 16384).to_bytes(16384, "little"))
    # Compressible objects of the types x2s3's own documents have: never to be compressed.
    (a / "gz").mkdir()
    (a / "gz" / ".zattrs").write_text(json.dumps({"multiscales": [{"path": str(i)} for i in range(300)]}))
    (a / "gz" / "meta.json").write_text(json.dumps({"k": ["value"] * 1000}))
    (a / "gz" / "page.html").write_text("<p>hello</p>\n" * 500)
    (a / "preview.json").write_text(json.dumps({"shape": [64, 64]}))
    for name in ("plain.txt", "nocache.txt", "head.txt", "hsts.txt"):
        (a / name).write_text(f"{name}\n")
    config = (
        "ui: true\n"
        "virtual_buckets: true\n"
        "base_url: https://localhost/\n"
        "targets:\n"
        f"  - name: alpha\n    client: file\n    options:\n      path: '{a}'\n"
        f"  - name: beta\n    client: file\n    options:\n      path: '{files['beta']}'\n"
        f"  - name: fast\n    client: file\n    options:\n      path: '{a}'\n      offload: true\n"
    )
    with ServeInstance(top, config, profile="production") as s:
        s.big = big
        s.alpha = a
        yield s


def test_http2_and_tls(prod):
    if shutil.which("curl") is None:
        pytest.skip("curl missing")
    out = subprocess.run(["curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                          prod.base_url + "/alpha/plain.txt"], capture_output=True, text=True, timeout=30)
    assert out.stdout == "2 200", out


def test_second_unranged_get_is_a_cache_hit_and_skips_the_worker(prod):
    uri = "/alpha/vol/0/0.0"
    first = prod.get(uri)
    second = prod.get(uri)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content == (prod.alpha / "vol/0/0.0").read_bytes()
    assert first.headers["X-Cache-Status"] == "MISS"
    assert second.headers["X-Cache-Status"] == "HIT"
    # Chunk policy (CachePolicy.swift) survives the cache; CORS and the request id come from the worker.
    assert second.headers["Cache-Control"] == "public, max-age=86400"
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert second.headers["x-amz-request-id"] == first.headers["x-amz-request-id"]
    time.sleep(0.3)
    assert len(prod.worker_lines(uri)) == 1, prod.worker_lines(uri)


def test_ranged_get_reads_only_the_range_and_never_fills_the_cache(prod):
    uri = "/alpha/big.bin"
    start, length = 5_000_000, 16384
    r = prod.get(uri, headers={"Range": f"bytes={start}-{start + length - 1}"})
    assert r.status_code == 206
    assert r.content == prod.big[start:start + length]
    assert r.headers["Content-Range"] == f"bytes {start}-{start + length - 1}/{BIG}"
    assert r.headers["X-Cache-Status"] == "BYPASS"
    lines = prod.settle(uri, 1)
    assert len(lines) == 1 and worker_status(lines[0]) == 206
    assert worker_bytes(lines[0]) < length + 2048, lines  # the range plus the head, not 8 MiB
    # A suffix range too, and again: never served from the cache.
    r2 = prod.get(uri, headers={"Range": "bytes=-100"})
    assert r2.status_code == 206 and r2.content == prod.big[-100:]
    assert r2.headers["X-Cache-Status"] == "BYPASS"
    # The 206s stored nothing: the first unranged GET is a MISS and gets the whole object.
    full = prod.get(uri)
    assert full.status_code == 200 and full.headers["X-Cache-Status"] == "MISS"
    assert full.content == prod.big
    # Once the whole object is cached, a ranged GET still goes to the worker (and reads the range).
    r3 = prod.get(uri, headers={"Range": "bytes=10-19"})
    assert r3.status_code == 206 and r3.content == prod.big[10:20]
    lines = prod.settle(uri, 4)
    assert [worker_status(l) for l in lines] == [206, 206, 200, 206]
    assert worker_bytes(lines[3]) < 2048


def test_revalidation_gets_a_304_from_the_worker(prod):
    uri = "/alpha/vol/.zarray"  # metadata: max-age=10, must-revalidate (CachePolicy.swift)
    first = prod.get(uri)
    assert first.status_code == 200 and first.headers["X-Cache-Status"] == "MISS"
    assert first.headers["Cache-Control"] == "public, max-age=10, must-revalidate"
    assert prod.get(uri).headers["X-Cache-Status"] == "HIT"
    time.sleep(11)
    again = prod.get(uri)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["X-Cache-Status"] == "REVALIDATED"
    lines = prod.settle(uri, 2)
    assert [worker_status(l) for l in lines] == [200, 304]
    # The 304 carried the policy, so the entry is fresh again for 10 s, not for fastcgi_cache_valid.
    assert prod.get(uri).headers["X-Cache-Status"] == "HIT"
    # A client's own conditional GET gets its 304 too.
    c = prod.get(uri, headers={"If-None-Match": first.headers["ETag"]})
    assert c.status_code == 304 and c.headers["ETag"] == first.headers["ETag"]


def test_html_and_xml_variants_are_cached_separately(prod):
    html = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    xml = {"Accept": "application/xml"}
    results = [prod.get("/", headers=h) for h in (html, xml, html, xml)]
    assert [r.headers["X-Cache-Status"] for r in results] == ["MISS", "MISS", "HIT", "HIT"]
    for r, kind in zip(results, ("html", "xml", "html", "xml")):
        assert r.status_code == 200
        assert kind in r.headers["Content-Type"], (kind, r.headers["Content-Type"])
        assert "Accept" in r.headers.get("Vary", "")
    assert results[2].content == results[0].content and results[3].content == results[1].content
    assert b"ListAllMyBucketsResult" in results[1].content and b"<html" in results[0].content.lower()


def test_virtual_host_buckets_never_share_a_cache_entry(prod):
    def get(bucket):
        return prod.get("/same.txt", headers={"Host": f"{bucket}.localhost:{prod.port}"})

    a1, b1, a2, b2 = get("alpha"), get("beta"), get("alpha"), get("beta")
    assert a1.content == a2.content == b"alpha bucket\n"
    assert b1.content == b2.content == b"beta bucket, other bytes\n"
    assert [r.headers["X-Cache-Status"] for r in (a1, b1, a2, b2)] == ["MISS", "MISS", "HIT", "HIT"]


def test_head_and_get_are_separate_entries(prod):
    uri = "/alpha/head.txt"
    h = prod.get(uri, method="HEAD")
    g = prod.get(uri)
    assert h.status_code == g.status_code == 200 and g.content == b"head.txt\n"
    assert h.headers["X-Cache-Status"] == "MISS" and g.headers["X-Cache-Status"] == "MISS"
    assert prod.get(uri).content == b"head.txt\n"
    assert [worker_status(l) for l in prod.settle(uri, 2)] == [200, 200]
    assert [l.split("method=")[1].split()[0] for l in prod.worker_lines(uri)] == ["HEAD", "GET"]


def test_no_cache_bypass_works(prod):
    uri = "/alpha/nocache.txt"
    assert prod.get(uri).headers["X-Cache-Status"] == "MISS"
    assert prod.get(uri).headers["X-Cache-Status"] == "HIT"
    for h in ({"Cache-Control": "no-cache"}, {"Pragma": "no-cache"}, {"Cache-Control": "max-age=0, no-cache"}):
        r = prod.get(uri, headers=h)
        assert r.status_code == 200 and r.headers["X-Cache-Status"] == "BYPASS", h
    assert len(prod.settle(uri, 4)) == 4


def test_hsts_on_every_kind_of_response(prod):
    cases = {
        "miss": prod.get("/alpha/hsts.txt"),
        "hit": prod.get("/alpha/hsts.txt"),
        "404": prod.get("/alpha/no-such-key"),
        "range": prod.get("/alpha/hsts.txt", headers={"Range": "bytes=0-1"}),
        "offload": prod.get("/fast/hsts.txt"),
        "405": prod.get("/alpha/x", method="PUT", data=b"x" * 20000),
    }
    for name, r in cases.items():
        assert r.headers.get("Strict-Transport-Security") == HSTS, (name, r.status_code, dict(r.headers))
    assert cases["hit"].headers["X-Cache-Status"] == "HIT"
    assert cases["405"].status_code == 405


def test_404_is_cached_briefly(prod):
    uri = "/alpha/vol/0/9.9"  # a missing chunk of a sparse array
    a, b = prod.get(uri), prod.get(uri)
    assert a.status_code == b.status_code == 404
    assert (a.headers["X-Cache-Status"], b.headers["X-Cache-Status"]) == ("MISS", "HIT")
    assert b"NoSuchKey" in b.content and b.headers["Access-Control-Allow-Origin"] == "*"


def test_offload_behind_the_cache_serves_exact_bytes(prod):
    uri = "/fast/big.bin"
    r = prod.get(uri)
    assert r.status_code == 200 and r.content == prod.big
    assert "X-Accel-Redirect" not in r.headers
    rr = prod.get(uri, headers={"Range": "bytes=100-199"})
    assert rr.status_code == 206 and rr.content == prod.big[100:200]
    lines = prod.settle(uri, 2)
    assert all(worker_bytes(l) < 2048 for l in lines), lines  # the worker sent heads only


def test_conditional_requests_reach_the_worker_and_are_never_cached(prod):
    """nginx blanks the client's validators wherever fastcgi_cache is configured, even for a
    bypassed request: s3fs's If-Match on every ranged read never reached the worker."""
    uri = "/alpha/vol/.zarray"
    etag = prod.get(uri).headers["ETag"]
    ok = prod.get(uri, headers={"Range": "bytes=0-9", "If-Match": etag})
    assert ok.status_code == 206 and ok.headers["X-Cache-Status"] == "BYPASS"
    bad = prod.get(uri, headers={"Range": "bytes=0-9", "If-Match": '"not-the-etag"'})
    assert bad.status_code == 412, (bad.status_code, bad.content[:200])
    bad = prod.get(uri, headers={"If-Match": '"not-the-etag"'})
    assert bad.status_code == 412 and bad.headers["X-Cache-Status"] == "BYPASS"
    old = prod.get(uri, headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert old.status_code == 412
    # None of those was stored: a plain GET still gets the object.
    plain = prod.get(uri)
    assert plain.status_code == 200 and plain.headers["ETag"] == etag


CHROME = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"}
FIREFOX = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_cached_error_pages_are_keyed_by_the_negotiated_type(prod):
    """A 404 cached for a browser is a page; for a program it is S3 XML; two browsers with
    different Accept strings share one entry (the key holds the decision, not the string)."""
    uri = "/alpha/vol/0/7.7"
    results = [prod.get(uri, headers=h) for h in
               (CHROME, FIREFOX, {"Accept": "*/*"}, {}, {"Accept": "application/xml, text/html"})]
    assert [r.status_code for r in results] == [404] * 5
    assert [r.headers["X-Cache-Status"] for r in results] == ["MISS", "HIT", "MISS", "HIT", "HIT"]
    for r in results[:2]:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8" and b"<!DOCTYPE html>" in r.content
        assert r.headers["Vary"] == "Accept, Accept-Encoding"
    for r in results[2:]:
        assert r.headers["Content-Type"] == "application/xml" and b"<Code>NoSuchKey</Code>" in r.content
        assert r.headers["Vary"] == "Accept"
    assert len(prod.settle(uri, 2)) == 2


def test_previews_are_never_stored_and_the_object_keeps_its_own_entry(prod):
    """A preview carries Cache-Control: no-cache, which nginx honours: every request reaches
    the worker, so a preview never shows an older object than a download would."""
    uri = "/alpha/preview.json"
    pages = [prod.get(uri + "?preview", headers=CHROME) for _ in range(2)]
    assert [r.status_code for r in pages] == [200, 200]
    assert all(r.headers["Content-Type"] == "text/html; charset=utf-8" and r.headers["Cache-Control"] == "no-cache"
               for r in pages)
    assert [r.headers["X-Cache-Status"] for r in pages] == ["MISS", "MISS"]
    assert len(prod.settle(uri + "?preview", 2)) == 2
    objects = [prod.get(uri, headers=CHROME) for _ in range(2)]
    assert [r.headers["X-Cache-Status"] for r in objects] == ["MISS", "HIT"]
    assert objects[1].content == (prod.alpha / "preview.json").read_bytes()


def test_nginx_and_the_worker_negotiate_alike(prod):
    """The cache key's map mirrors Router.prefersHTML: for each Accept the type served fresh
    (a MISS, decided by the worker) is the type the key was made for (a second request with
    an Accept the map puts in the same class is a HIT with the same type)."""
    cases = [
        ("text/html", "html"), ("application/xml", "xml"), ("text/html, application/xml", "html"),
        ("application/xml, text/html", "xml"), ("application/xhtml+xml, text/html", "html"),
        ("TEXT/HTML", "xml"), ("text/htm", "xml"), ("application/xml;q=0.1, text/html;q=1", "xml"),
        ("xtext/htmlx", "html"), ("", "xml"),
    ]
    for i, (accept, kind) in enumerate(cases):
        uri = f"/alpha/vol/0/neg.{i}"
        fresh = prod.get(uri, headers={"Accept": accept})
        again = prod.get(uri, headers={"Accept": "text/html" if kind == "html" else "application/xml"})
        assert fresh.headers["X-Cache-Status"] == "MISS", accept
        assert again.headers["X-Cache-Status"] == "HIT", accept
        want = "text/html; charset=utf-8" if kind == "html" else "application/xml"
        assert fresh.headers["Content-Type"] == again.headers["Content-Type"] == want, accept


def test_two_accept_lines_are_decided_on_the_keyed_one(prod):
    if shutil.which("curl") is None:
        pytest.skip("curl missing")
    uri = "/alpha/vol/0/dup.1"
    out = subprocess.run(["curl", "-sk", "--http1.1", "-o", "/dev/null", "-w", "%{content_type}",
                          "-H", "Accept: application/xml", "-H", "Accept: text/html", prod.base_url + uri],
                         capture_output=True, text=True, timeout=30)
    # nginx 1.22 keys on the first line; the worker must have decided on the same.
    assert out.stdout == "application/xml", out
    r = prod.get(uri, headers={"Accept": "application/xml", "Accept-Encoding": "identity"})  # as curl: no gzip
    assert r.headers["X-Cache-Status"] == "HIT" and b"<Code>NoSuchKey</Code>" in r.content


GZ = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


def test_generated_documents_are_gzipped_and_cached_apart_from_plain_ones(prod):
    """An HTML page and an XML listing: gzip for clients that take it, plain for the others,
    each kept in the cache as its own entry (a gzipped page never reaches a plain client)."""
    for uri, accept, kind in (("/alpha/gz/", FIREFOX["Accept"], "text/html; charset=utf-8"),
                              ("/alpha/?list-type=2", "application/xml", "application/xml")):
        order = (GZ, PLAIN, GZ, PLAIN)
        rs = [prod.get(uri, headers={"Accept": accept, **h}) for h in order]
        assert [r.status_code for r in rs] == [200] * 4
        assert [r.headers["X-Cache-Status"] for r in rs] == ["MISS", "MISS", "HIT", "HIT"], uri
        assert [r.headers.get("Content-Encoding") for r in rs] == ["gzip", None, "gzip", None], uri
        assert all(r.headers["Content-Type"] == kind for r in rs)
        assert "Accept-Encoding" in rs[0].headers["Vary"] and "Accept-Encoding" in rs[1].headers["Vary"]
        # requests decodes the gzip: the documents are the same.
        assert rs[0].content == rs[1].content == rs[2].content == rs[3].content
        raw = prod.get(uri, headers={"Accept": accept, **GZ}, stream=True)
        packed = raw.raw.read(decode_content=False)
        assert packed[:2] == b"\x1f\x8b" and len(packed) == int(raw.headers["Content-Length"])
        assert len(packed) * 3 < len(rs[1].content), (uri, len(packed), len(rs[1].content))


@pytest.mark.parametrize("name", [".zattrs", "meta.json", "page.html"])
def test_objects_are_never_compressed(prod, name):
    uri = f"/alpha/gz/{name}"
    stored = (prod.alpha / "gz" / name).read_bytes()
    plain = prod.get(uri, headers=PLAIN)
    for _ in range(2):  # a miss, then a hit
        r = prod.get(uri, headers=GZ, stream=True)
        body = r.raw.read(decode_content=False)
        assert r.status_code == 200 and body == stored
        assert "Content-Encoding" not in r.headers and "Accept-Encoding" not in r.headers.get("Vary", "")
        assert r.headers["Content-Length"] == str(len(stored)) and r.headers["ETag"] == plain.headers["ETag"]
