"""Offload mode (X-Accel-Redirect to nginx/offload.conf) against stream mode, behind the plain
(dev) nginx front: the same directory served by two buckets, one with `offload: true`. Every
response must carry the same status, headers (except the request id and Date) and bytes, and
the worker must have sent no body for the offloaded ones."""

from __future__ import annotations

import os
import random
import re

import pytest

from serve_instance import ServeInstance

SIZE = 3 * 1024 * 1024 + 5
ODD = "sub/q#?&<b> x+%41 é.bin"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    top = tmp_path_factory.mktemp("offload")
    root = top / "data"
    (root / "sub").mkdir(parents=True)
    rng = random.Random(7)
    big = rng.getrandbits(8 * SIZE).to_bytes(SIZE, "little")
    (root / "big.bin").write_bytes(big)
    (root / ODD).write_bytes(b"odd name\n")
    (root / "meta.json").write_text('{"a": 1}\n')
    (root / "vol").mkdir()
    (root / "vol" / "0.0").write_bytes(big[:16384])
    os.symlink("big.bin", root / "link.bin")
    config = (
        "targets:\n"
        f"  - name: stream\n    client: file\n    options:\n      path: '{root}'\n"
        f"  - name: fast\n    client: file\n    options:\n      path: '{root}'\n      offload: true\n"
    )
    with ServeInstance(top, config) as s:
        s.big = big
        yield s


def comparable(r):
    skip = {"date", "x-amz-request-id", "connection", "keep-alive"}
    return r.status_code, sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() not in skip), r.content


def quote(key: str) -> str:
    from urllib.parse import quote as q
    return q(key, safe="/")


CASES = [
    ("plain", {}), ("range", {"Range": "bytes=10-99"}), ("suffix", {"Range": "bytes=-100"}),
    ("open-range", {"Range": f"bytes={SIZE - 7}-"}), ("inm-miss", {"If-None-Match": '"nope"'}),
    ("ims-old", {"If-Modified-Since": "Wed, 01 Jan 2020 00:00:00 GMT"}),
    ("ifrange-bad", {"Range": "bytes=0-9", "If-Range": '"nope"'}), ("unsatisfiable", {"Range": f"bytes={SIZE + 1}-"}),
    ("malformed", {"Range": "bytes=x-y"}), ("multi", {"Range": "bytes=0-1,5-6"}),
    ("origin", {"Origin": "https://viewer.example", "Access-Control-Request-Private-Network": "true"}),
]


@pytest.mark.parametrize("key", ["big.bin", ODD, "meta.json", "vol/0.0", "link.bin", "missing.bin"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("name,headers", CASES, ids=[c[0] for c in CASES])
def test_offload_matches_stream(both, key, method, name, headers):
    s = both.get("/stream/" + quote(key), method=method, headers=headers)
    o = both.get("/fast/" + quote(key), method=method, headers=headers)
    cs, co = comparable(s), comparable(o)
    if s.status_code >= 400:  # the XML names the bucket; only the status and headers must agree
        cs, co = cs[:2], co[:2]
        cs = (cs[0], [h for h in cs[1] if h[0] != "content-length"])
        co = (co[0], [h for h in co[1] if h[0] != "content-length"])
    assert cs == co


def test_conditionals_with_the_real_validators(both):
    base = both.get("/stream/big.bin")
    etag, lm = base.headers["ETag"], base.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": lm}, {"If-Match": etag},
                    {"If-Unmodified-Since": lm}, {"Range": "bytes=0-9", "If-Range": etag},
                    {"Range": "bytes=0-9", "If-Range": lm}, {"If-Match": '"nope"'}):
        for method in ("GET", "HEAD"):
            s = both.get("/stream/big.bin", method=method, headers=headers)
            o = both.get("/fast/big.bin", method=method, headers=headers)
            strip = lambda r: [h for h in comparable(r)[1] if r.status_code < 400 or h[0] != "content-length"]
            assert (s.status_code, strip(s)) == (o.status_code, strip(o)), headers
            if s.status_code < 400:  # error XML names the bucket
                assert s.content == o.content, headers


def test_worker_sends_no_body_when_offloading(both):
    before = len(both.worker_lines("/fast/big.bin"))
    r = both.get("/fast/big.bin")
    assert r.status_code == 200 and r.content == both.big and "X-Accel-Redirect" not in r.headers
    r = both.get("/fast/big.bin", headers={"Range": "bytes=1000000-1000099"})
    assert r.status_code == 206 and r.content == both.big[1000000:1000100]
    lines = both.settle("/fast/big.bin", before + 2)[before:]
    assert len(lines) == 2
    assert all(int(re.search(r"\bbytes=(\d+)", l).group(1)) < 2048 for l in lines), lines
    # A symlinked key is never offloaded (nginx re-opens by path): streamed by the worker.
    before = len(both.worker_lines("/fast/link.bin"))
    assert both.get("/fast/link.bin").content == both.big
    line = both.settle("/fast/link.bin", before + 1)[-1]
    assert int(re.search(r"\bbytes=(\d+)", line).group(1)) >= SIZE


def test_offload_location_is_internal(both):
    r = both.get("/.x2s3-offload" + str(both.top / "data" / "big.bin"))
    assert r.status_code != 200 or r.content != both.big


OVERRIDES = {
    "response-content-type": "text/csv", "response-content-disposition": 'attachment; filename="renamed.csv"',
    "response-content-language": "de-CH", "response-content-encoding": "identity",
    "response-cache-control": "private, max-age=60", "response-expires": "Thu, 01 Dec 2094 16:00:00 GMT",
}


@pytest.mark.parametrize("key", ["big.bin", "vol/0.0", "meta.json"])
@pytest.mark.parametrize("rng", [None, "bytes=5-20"])
def test_response_overrides_survive_offload(both, key, rng):
    """Issue 13 item 4: the response-* headers reach the client in offload mode too (nginx keeps
    only some upstream headers across X-Accel-Redirect; offload.conf restores the others)."""
    from urllib.parse import urlencode
    query = "?" + urlencode(OVERRIDES)
    headers = {"Range": rng} if rng else {}
    before = len(both.worker_lines("/fast/" + key + query))
    s = both.get("/stream/" + key + query, headers=headers)
    o = both.get("/fast/" + key + query, headers=headers)
    assert s.status_code == (206 if rng else 200)
    assert comparable(s) == comparable(o)
    for name, value in [("Content-Type", "text/csv"), ("Content-Disposition", 'attachment; filename="renamed.csv"'),
                        ("Content-Language", "de-CH"), ("Content-Encoding", "identity"),
                        ("Cache-Control", "private, max-age=60"), ("Expires", "Thu, 01 Dec 2094 16:00:00 GMT")]:
        assert o.headers.get(name) == value, (name, o.headers)
        assert len([k for k in o.raw.headers.keys() if k.lower() == name.lower()]) == 1, name
    # It was offloaded: the worker wrote no body.
    line = both.settle("/fast/" + key + query, before + 1)[-1]
    assert int(re.search(r"\bbytes=(\d+)", line).group(1)) < 2048, line
