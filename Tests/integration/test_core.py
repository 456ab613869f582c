"""Objects through real nginx + real workers, with curl, requests and boto3.

Written against docs/contract.md#s3-surface and #reliability-and-security (containment, client aborts).
"""

from __future__ import annotations

import email.utils
import os
import re
import socket
import struct
import subprocess
import time
import json

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (SECRET, WORKERS, assert_request_id, assert_s3_error, md5_hex,
                      strip_ns)

import xml.etree.ElementTree as ET

SIZED = ["empty.bin", "one.bin", "buf64k.bin", "buf64k1.bin", "big.bin", "hello.txt"]
SPECIAL = ["with space.txt", "plus+plus.txt", "eq=sign.txt", "at@sign.txt", "quote'(1).txt",
           "pct%41.txt", "unicodé-ключ-日本.txt", "b/c/=", "b/c/@", "a/b/c/deep.txt",
           "dir/inside.txt", "dir.txt"]
HTTP_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
                       r"|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


@pytest.fixture(scope="module")
def s3(server):
    return boto3.client(
        "s3", endpoint_url=server.base_url.rstrip("/"), region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--path-as-is", "--max-time", "30", *args],
                          capture_output=True, timeout=60)


# --- GET / HEAD ----------------------------------------------------------------------

@pytest.mark.parametrize("key", SIZED)
def test_get_returns_exact_bytes_with_requests(server, key):
    r = requests.get(server.url("data", key), timeout=30)
    assert r.status_code == 200
    assert_request_id(r.headers)
    assert r.content == server.files[key]
    assert int(r.headers["Content-Length"]) == len(server.files[key])


@pytest.mark.parametrize("key", ["one.bin", "buf64k.bin", "buf64k1.bin", "big.bin"])
def test_get_returns_exact_bytes_with_curl(server, key, tmp_path):
    out = tmp_path / "body"
    p = curl("-o", str(out), "-w", "%{http_code}", server.url("data", key))
    assert p.stdout == b"200", p.stderr
    assert out.read_bytes() == server.files[key]


def test_head_reports_object_headers_without_body(server):
    key = "hello.txt"
    r = requests.head(server.url("data", key), timeout=10)
    assert r.status_code == 200
    assert r.content == b""
    assert_request_id(r.headers)
    assert int(r.headers["Content-Length"]) == len(server.files[key])
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Last-Modified"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert r.headers["ETag"].startswith('"') and r.headers["ETag"].endswith('"')


@pytest.mark.parametrize("key", ["buf64k1.bin", "data.json", "dir/inside.txt"])
def test_head_and_get_agree(server, key):
    head = requests.head(server.url("data", key), timeout=10)
    get = requests.get(server.url("data", key), timeout=10)
    assert head.status_code == get.status_code == 200
    for h in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"):
        assert head.headers.get(h) == get.headers.get(h), h


@pytest.mark.parametrize("key", SIZED)
def test_last_modified_is_http_date_of_mtime(server, key):
    r = requests.head(server.url("data", key), timeout=10)
    lm = r.headers["Last-Modified"]
    assert HTTP_DATE.match(lm), lm
    mtime = int(os.stat(server.root / key).st_mtime)
    assert email.utils.parsedate_to_datetime(lm).timestamp() == mtime


@pytest.mark.parametrize("key", SIZED)
def test_etag_is_stable_and_never_a_fake_md5(server, key):
    e1 = requests.head(server.url("data", key), timeout=10).headers["ETag"]
    e2 = requests.get(server.url("data", key), timeout=30).headers["ETag"]
    assert e1 == e2
    bare = e1.strip('"')
    if re.fullmatch(r"[0-9a-f]{32}", bare):
        assert bare == md5_hex(server.files[key]), "a bare 32-hex ETag must be the real MD5"


def test_content_types_from_the_fixed_table(server):
    assert requests.head(server.url("data", "data.json"), timeout=10).headers["Content-Type"] \
        .startswith("application/json")
    zarray = requests.get(server.url("demo", "example.zarr/.zarray"), timeout=10)
    assert zarray.status_code == 200
    assert zarray.headers["Content-Type"].startswith("application/json")
    assert json.loads(zarray.content)["shape"] == [4, 4]
    unknown = requests.head(server.url("data", "one.bin"), timeout=10)
    assert unknown.headers["Content-Type"] == "application/octet-stream"
    assert "attachment" in unknown.headers.get("Content-Disposition", "")


def test_demo_zarr_chunk_holds_its_values(server):
    r = requests.get(server.url("demo", "example.zarr/1.1"), timeout=10)
    assert r.status_code == 200
    assert list(struct.unpack("<4i", r.content)) == [10, 11, 14, 15]


# --- Range ---------------------------------------------------------------------------

@pytest.mark.parametrize("header,start,end", [
    ("bytes=0-9", 0, 9),
    ("bytes=-5", 65537 - 5, 65536),
    ("bytes=10-", 10, 65536),
    ("bytes=65530-70000", 65530, 65536),   # end past the object is clamped
    ("bytes=65536-65536", 65536, 65536),    # the last byte, across the buffer edge
])
def test_range_returns_206_with_exact_bytes(server, header, start, end):
    data = server.files["buf64k1.bin"]
    r = requests.get(server.url("data", "buf64k1.bin"), headers={"Range": header}, timeout=10)
    assert r.status_code == 206
    assert_request_id(r.headers)
    assert r.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    assert int(r.headers["Content-Length"]) == end - start + 1
    assert r.content == data[start:end + 1]


@pytest.mark.parametrize("start,end", [
    (0, 262142),                  # just under 256 KiB: read and written by the worker
    (1, 262144),                  # 256 KiB: spliced (FastCGIOutput.sendFile)
    (4095, 1052670),              # unaligned start: a record's pages straddle page edges
    (65527, 65527 + 3 * 65528 + 262143),  # record-sized steps from an odd offset
    (100000, None),               # to the end: several pipe fills, a short last record
])
def test_large_ranges_are_exact_whichever_path_sends_them(server, start, end):
    data = server.files["big.bin"]
    last = len(data) - 1 if end is None else end
    header = f"bytes={start}-" + ("" if end is None else str(end))
    r = requests.get(server.url("data", "big.bin"), headers={"Range": header}, timeout=30)
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes {start}-{last}/{len(data)}"
    assert r.content == data[start:last + 1]


def test_range_with_curl_on_big_object(server, tmp_path):
    data = server.files["big.bin"]
    out = tmp_path / "part"
    p = curl("-o", str(out), "-w", "%{http_code}", "-r", "1000000-3999999", server.url("data", "big.bin"))
    assert p.stdout == b"206"
    assert out.read_bytes() == data[1000000:4000000]


def test_head_honours_range(server):
    r = requests.head(server.url("data", "buf64k1.bin"), headers={"Range": "bytes=0-9"}, timeout=10)
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "bytes 0-9/65537"
    assert r.headers["Content-Length"] == "10"
    assert r.content == b""


@pytest.mark.parametrize("key,header", [
    ("hello.txt", "bytes=999999999-"),
    ("empty.bin", "bytes=0-0"),        # any range of an empty object
    ("empty.bin", "bytes=-5"),
])
def test_unsatisfiable_range_is_416_invalid_range(server, key, header):
    size = len(server.files[key])
    r = requests.get(server.url("data", key), headers={"Range": header}, timeout=10)
    assert_s3_error(r.status_code, r.headers, r.content, 416, "InvalidRange")
    assert r.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "bytes=0-1,4-5", "pages=1-2"])
def test_malformed_or_multi_range_is_ignored(server, header):
    r = requests.get(server.url("data", "hello.txt"), headers={"Range": header}, timeout=10)
    assert r.status_code == 200
    assert r.content == server.files["hello.txt"]


# --- errors and listings -----------------------------------------------------------------

def test_missing_key_is_404_no_such_key(server):
    r = requests.get(server.url("data", "no/such/key.txt"), timeout=10)
    fields = assert_s3_error(r.status_code, r.headers, r.content, 404, "NoSuchKey")
    assert fields.get("Key") == "no/such/key.txt"


def test_head_of_missing_key_is_404_without_body(server):
    r = requests.head(server.url("data", "no-such-key"), timeout=10)
    assert r.status_code == 404
    assert_request_id(r.headers)
    assert r.content == b""


@pytest.mark.parametrize("key", ["dir", "dir/", "a/b"])
def test_directory_is_not_an_object(server, key):
    r = requests.get(server.url("data", key), headers={"Accept": "application/xml"}, timeout=10)
    assert_s3_error(r.status_code, r.headers, r.content, 404, "NoSuchKey")


def test_unknown_bucket_is_404_no_such_bucket(server):
    r = requests.get(server.url("nosuchbucket", "x.txt"), timeout=10)
    fields = assert_s3_error(r.status_code, r.headers, r.content, 404, "NoSuchBucket")
    assert fields.get("BucketName") == "nosuchbucket"


def test_root_lists_buckets_as_xml(server):
    r = requests.get(server.base_url, headers={"Accept": "application/xml"}, timeout=10)
    assert r.status_code == 200
    assert_request_id(r.headers)
    assert "xml" in r.headers["Content-Type"]
    root = ET.fromstring(r.content)
    assert strip_ns(root.tag) == "ListAllMyBucketsResult"
    names = [e.text for e in root.iter() if strip_ns(e.tag) == "Name"]
    assert names == ["data", "demo"]


@pytest.mark.parametrize("method,target", [
    ("GET", "/"), ("HEAD", "/"), ("GET", "/data/hello.txt"), ("HEAD", "/data/hello.txt"),
    ("GET", "/data/nope"), ("HEAD", "/data/nope"), ("GET", "/nosuchbucket/"),
    ("OPTIONS", "/data/hello.txt"), ("PUT", "/data/hello.txt"), ("DELETE", "/data/hello.txt"),
])
def test_every_response_has_a_request_id(server, method, target):
    status, headers, _ = server.raw(method, target)
    assert_request_id(headers)


def test_request_ids_differ_between_requests(server):
    ids = {requests.head(server.url("data", "hello.txt"), timeout=10).headers["x-amz-request-id"]
           for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
def test_writes_are_405_method_not_allowed(server, method):
    status, headers, body = server.raw(method, "/data/hello.txt", {"Content-Length": "0"})
    assert_s3_error(status, headers, body, 405, "MethodNotAllowed")
    assert "GET" in headers.get("allow", "")


def test_large_upload_body_still_gets_s3_xml(server):
    """nginx refuses bodies over client_max_body_size; its error_page hands the request
    to the worker, so the client sees S3's 405, not nginx's HTML 413."""
    r = requests.put(server.url("data", "upload.bin"), data=b"x" * (1024 * 1024), timeout=30)
    assert_s3_error(r.status_code, r.headers, r.content, 405, "MethodNotAllowed")


# --- boto3 ---------------------------------------------------------------------------

def test_boto3_get_object(server, s3):
    obj = s3.get_object(Bucket="data", Key="big.bin")
    assert obj["Body"].read() == server.files["big.bin"]
    assert obj["ContentLength"] == len(server.files["big.bin"])


def test_boto3_head_object(server, s3):
    head = s3.head_object(Bucket="data", Key="buf64k.bin")
    assert head["ContentLength"] == 65536
    assert head["AcceptRanges"] == "bytes"
    assert head["ETag"] == requests.head(server.url("data", "buf64k.bin"), timeout=10).headers["ETag"]


def test_boto3_ranged_get_object(server, s3):
    obj = s3.get_object(Bucket="data", Key="big.bin", Range="bytes=65530-65545")
    assert obj["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert obj["ContentRange"] == f"bytes 65530-65545/{len(server.files['big.bin'])}"
    assert obj["Body"].read() == server.files["big.bin"][65530:65546]


def test_boto3_list_buckets(s3):
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["data", "demo"]


def test_boto3_missing_key_raises_no_such_key(s3):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="data", Key="missing/key.bin")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# --- keys that break naive encoding --------------------------------------------------

@pytest.mark.parametrize("key", SPECIAL)
def test_special_key_round_trips_through_boto3(server, s3, key):
    assert s3.get_object(Bucket="data", Key=key)["Body"].read() == server.files[key]


@pytest.mark.parametrize("key", SPECIAL)
def test_special_key_round_trips_through_curl(server, key, tmp_path):
    out = tmp_path / "body"
    p = curl("-o", str(out), "-w", "%{http_code}", server.url("data", key))
    assert p.stdout == b"200", (key, p.stderr)
    assert out.read_bytes() == server.files[key]


@pytest.mark.parametrize("target", ["/data/plus+plus.txt", "/data/plus%2Bplus.txt",
                                    "/data/with%20space.txt", "/data/eq%3Dsign.txt",
                                    "/data/b/c/%3D", "/data/b/c/%40"])
def test_raw_encodings_of_the_same_key(server, target):
    status, headers, body = server.raw("GET", target)
    assert status == 200, (target, body[:200])


def test_percent_is_decoded_exactly_once(server):
    status, _, body = server.raw("GET", "/data/pct%2541.txt")
    assert status == 200 and body == server.files["pct%41.txt"]


def test_plus_in_path_is_not_a_space(server):
    status, _, _ = server.raw("GET", "/data/with+space.txt")
    assert status == 404


# --- containment ---------------------------------------------------------------------

TRAVERSALS = [
    "/demo/..%2f..%2fetc%2fpasswd",
    "/demo/%2e%2e/%2e%2e/etc/passwd",
    "/demo/../../etc/passwd",
    "/data/..%2foutside%2fsecret.txt",
    "/data/%2e%2e/outside/secret.txt",
    "/data/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/data/%2Fetc%2Fpasswd",
    "/data//etc/passwd",
    "/data/hello.txt%00.png",
    "/data/link-out.txt",
    "/data/link-passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_leaves_the_bucket(server, target):
    status, headers, body = server.raw("GET", target)
    assert SECRET not in body
    assert b"root:" not in body
    assert_s3_error(status, headers, body, (400, 403, 404))


def test_traversal_with_curl_path_as_is(server):
    p = curl("-i", server.base_url.rstrip("/") + "/demo/../../../../etc/passwd")
    assert b"root:" not in p.stdout


# --- robustness ------------------------------------------------------------------------

def _abort_download(server, key: str, after: int) -> None:
    """Starts a GET, reads `after` bytes of the response, then resets the connection."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(f"GET /data/{key} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        got = 0
        while got < after:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        # SO_LINGER 0: close() sends RST, the harshest way a client can go away.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


def test_pool_survives_clients_aborting_big_downloads(server):
    workers = server.worker_pids()
    assert len(workers) == WORKERS, f"pool children: {workers}"
    fds = server.fd_counts()
    for _ in range(3 * WORKERS):  # more aborts than workers: each one must recover
        _abort_download(server, "big.bin", 256 * 1024)
    # Every worker must be free again: as many concurrent-ish requests as workers, twice.
    for _ in range(2 * WORKERS):
        r = requests.get(server.url("data", "buf64k1.bin"), timeout=10)
        assert r.status_code == 200 and r.content == server.files["buf64k1.bin"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and server.fd_counts() != fds:
        time.sleep(0.1)
    assert server.worker_pids() == workers, "a worker died (or was replaced) after a client abort"
    assert server.fd_counts() == fds, "file descriptors leaked after client aborts"
