"""`virtual_prefix` (a file target option of the original 1.6.1) on the real stack: the
directory is mounted at `a/b/` inside its bucket. Listings page in that key space with tokens,
the prefix's ancestors are CommonPrefixes, GET/HEAD strip it (stream and offload mode), keys
outside it are NoSuchKey, the browser walks down to the files, and boto3 pages through it."""
from __future__ import annotations

import re
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from serve_instance import ServeInstance

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
FILES = {f"f{i:02d}.txt": f"file {i}\n".encode() for i in range(7)} | {"sub/x.bin": b"x" * 300, "sub-y": b"y",
                                                                   "big.bin": bytes(range(256)) * 400}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    top = tmp_path_factory.mktemp("vprefix")
    root = top / "data"
    for name, body in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(body)
    # Written as a 1.6.1 config would: a leading slash and no trailing one.
    config = (
        "ui: true\n"
        "targets:\n"
        f"  - name: vp\n    client: file\n    options:\n      path: '{root}'\n      virtual_prefix: /a/b\n"
        f"  - name: vpoff\n    client: file\n    options:\n      path: '{root}'\n      virtual_prefix: a/b/\n      offload: true\n"
    )
    with ServeInstance(top, config, workers=2) as s:
        yield s


def listing(s, bucket, **params):
    query = "&".join(f"{k.replace('_', '-')}={v}" for k, v in params.items())
    r = s.get(f"/{bucket}?list-type=2&{query}")
    assert r.status_code == 200, r.text
    x = ET.fromstring(r.content)
    keys = [c.find(f"{NS}Key").text for c in x.iter(f"{NS}Contents")]
    prefixes = [c.find(f"{NS}Prefix").text for c in x.iter(f"{NS}CommonPrefixes")]
    token = x.find(f"{NS}NextContinuationToken")
    return keys, prefixes, (token.text if token is not None else None)


WANT = sorted("a/b/" + k for k in FILES)


@pytest.mark.parametrize("bucket", ["vp", "vpoff"])
def test_listing_pages_with_tokens_in_the_mounted_key_space(server, bucket):
    got, token, pages = [], None, 0
    while True:
        params = {"max_keys": 3} | ({"continuation_token": token} if token else {})
        keys, prefixes, token = listing(server, bucket, **params)
        assert prefixes == [] and len(keys) <= 3
        got += keys
        pages += 1
        if not token:
            break
    assert got == WANT and pages == -(-len(WANT) // 3)
    assert listing(server, bucket, prefix="a/b/f0", start_after="a/b/f03.txt")[0] == [f"a/b/f0{i}.txt" for i in range(4, 7)]
    assert listing(server, bucket, prefix="a/c")[0] == [] and listing(server, bucket, prefix="b")[0] == []


def test_delimiter_listings_show_the_prefixes_ancestors(server):
    assert listing(server, "vp", delimiter="/") == ([], ["a/"], None)
    assert listing(server, "vp", delimiter="/", prefix="a/") == ([], ["a/b/"], None)
    assert listing(server, "vp", delimiter="/", prefix="a/b") == ([], ["a/b/"], None)
    keys, prefixes, _ = listing(server, "vp", delimiter="/", prefix="a/b/")
    assert keys == sorted(k for k in WANT if "/" not in k[4:]) and prefixes == ["a/b/sub/"]
    # The ancestor is one item: it pages like one (max-keys=1, then nothing after it).
    assert listing(server, "vp", delimiter="/", max_keys=1) == ([], ["a/"], None)
    assert listing(server, "vp", delimiter="/", start_after="a/") == ([], [], None)


@pytest.mark.parametrize("bucket", ["vp", "vpoff"])
def test_get_and_head_strip_the_prefix(server, bucket):
    for name, body in FILES.items():
        r = server.get(f"/{bucket}/a/b/{name}")
        assert r.status_code == 200 and r.content == body, name
        h = server.get(f"/{bucket}/a/b/{name}", method="HEAD")
        assert h.status_code == 200 and h.headers["Content-Length"] == str(len(body))
    r = server.get(f"/{bucket}/a/b/sub/x.bin", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == b"x" * 10
    for outside in ["f00.txt", "sub/x.bin", "a/f00.txt", "a/bf00.txt", "a/b/nope"]:
        r = server.get(f"/{bucket}/{outside}")
        assert r.status_code == 404 and b"<Code>NoSuchKey</Code>" in r.content, outside
        assert f"<Key>{outside}</Key>".encode() in r.content
        assert server.get(f"/{bucket}/{outside}", method="HEAD").status_code == 404


@pytest.mark.parametrize("bucket, offloaded", [("vp", False), ("vpoff", True)])
def test_offload_mode_offloads_the_files_real_path(server, bucket, offloaded):
    uri = f"/{bucket}/a/b/big.bin"
    before = len(server.worker_lines(uri))
    r = server.get(uri)
    assert r.status_code == 200 and r.content == FILES["big.bin"]
    # Offloaded: the worker wrote headers only and nginx sent the file the redirect named.
    line = server.settle(uri, before + 1)[-1]
    sent = int(re.search(r"\bbytes=(\d+)", line).group(1))
    assert (sent < 2048) if offloaded else (sent == len(FILES["big.bin"])), line


def links(server, path):
    r = server.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"], (path, r.status_code)
    return {urllib.parse.urlsplit(urllib.parse.urljoin(server.base_url + path, h)).path
            for h in re.findall(r'href="([^"]*)"', r.text)}


def test_browser_walks_down_the_mount_point(server):
    assert "/vp/a/" in links(server, "/vp/")
    assert "/vp/a/b/" in links(server, "/vp/a/")
    inner = links(server, "/vp/a/b/")
    assert {"/vp/a/b/sub/", "/vp/a/b/f00.txt", "/vp/a/b/sub-y"} <= inner
    assert "/vp/a/b/x.bin" in {p.replace("sub/", "") for p in links(server, "/vp/a/b/sub/")}


def test_boto3_pages_and_reads(server):
    s3 = boto3.client("s3", endpoint_url=server.base_url, region_name="us-east-1",
                      config=Config(signature_version=UNSIGNED))
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="vp", PaginationConfig={"PageSize": 2})
            for o in p.get("Contents", [])]
    assert keys == WANT
    assert s3.get_object(Bucket="vp", Key="a/b/sub-y")["Body"].read() == b"y"
