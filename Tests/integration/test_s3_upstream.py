"""S3 upstream targets end to end: objects, signing, listings and upstream failures. The
environment (moto upstream, x2s3 behind nginx, the targets) is s3_upstream_support.py's; the AWS
CLI, rclone and the throughput report run on the same environment in test_s3_upstream_clients.py.

Run: python3 -m pytest -q Tests/integration/test_s3_upstream.py Tests/integration/test_s3_upstream_clients.py
"""
import hashlib
import time

import botocore
import pytest
import requests

from s3_upstream_support import BIG, MANY, ODD, error_code


@pytest.fixture
def env(s3_upstream_env):
    return s3_upstream_env


# ---- objects ---------------------------------------------------------------------------------

def test_get_through_a_prefix_is_byte_exact_with_a_derived_etag(env):
    r = env["s3"].get_object(Bucket="pref", Key="hello.txt")
    assert r["Body"].read() == b"hello world\n"
    assert r["ContentLength"] == 12
    # Not the upstream's MD5 (proxy_etag is off): the multipart form no SDK verifies.
    assert r["ETag"].endswith('-1"') and hashlib.md5(b"hello world\n").hexdigest() not in r["ETag"]
    assert r["LastModified"].year >= 2024


def test_proxy_etag_passes_the_upstream_etag(env):
    r = env["s3"].head_object(Bucket="etag", Key="hello.txt")
    assert r["ETag"] == '"' + hashlib.md5(b"hello world\n").hexdigest() + '"'


@pytest.mark.parametrize("rng,expected", [("bytes=0-4", b"hello"), ("bytes=6-", b"world\n"), ("bytes=-3", b"ld\n"),
                                          ("bytes=3-1000", b"lo world\n")])
def test_ranges_are_forwarded(env, rng, expected):
    r = env["s3"].get_object(Bucket="pref", Key="hello.txt", Range=rng)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["Body"].read() == expected
    start = 12 - len(expected) if rng.startswith("bytes=-") else int(rng[6:].split("-")[0])
    assert r["ContentRange"] == f"bytes {start}-{start + len(expected) - 1}/12"


def test_unsatisfiable_range_is_invalid_range_416(env):
    r = requests.get(env["base"] + "/pref/hello.txt", headers={"Range": "bytes=100-"})
    assert r.status_code == 416
    assert "<Code>InvalidRange</Code>" in r.text
    assert r.headers["Content-Range"] == "bytes */12"


def test_conditionals_are_answered_from_upstream_facts(env):
    r = requests.get(env["base"] + "/pref/hello.txt")
    lm = r.headers["Last-Modified"]
    assert requests.get(env["base"] + "/pref/hello.txt", headers={"If-Modified-Since": lm}).status_code == 304
    assert requests.get(env["base"] + "/pref/hello.txt", headers={"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}).status_code == 412


def test_big_object_streams_byte_exact_with_ranges(env):
    big = env["objects"]["data/big.bin"]
    body = env["s3"].get_object(Bucket="pref", Key="big.bin")["Body"].read()
    assert len(body) == BIG and hashlib.sha256(body).digest() == hashlib.sha256(big).digest()
    part = env["s3"].get_object(Bucket="pref", Key="big.bin", Range="bytes=33554431-33620000")["Body"].read()
    assert part == big[33554431:33620001]


@pytest.mark.parametrize("name", ODD)
def test_odd_keys_round_trip(env, name):
    assert env["s3"].get_object(Bucket="pref", Key=f"odd/{name}")["Body"].read() == name.encode()


def test_head_reports_size_and_missing_keys_are_404(env):
    assert env["s3"].head_object(Bucket="pref", Key="big.bin")["ContentLength"] == BIG
    assert env["s3"].head_object(Bucket="anon", Key="outside.txt")["ContentLength"] == 20
    with pytest.raises(botocore.exceptions.ClientError) as e:
        env["s3"].get_object(Bucket="pref", Key="outside.txt")  # outside the prefix chroot
    assert error_code(e) == ("NoSuchKey", 404)
    r = requests.get(env["base"] + "/pref/nope/x.txt")
    assert r.status_code == 404 and "<Key>nope/x.txt</Key>" in r.text
    assert requests.head(env["base"] + "/pref/nope").status_code == 404


def test_empty_object(env):
    assert env["s3"].get_object(Bucket="pref", Key="empty")["Body"].read() == b""


def test_hidden_bucket_masks_misses_and_listings(env):
    assert env["s3"].get_object(Bucket="hidden", Key="hello.txt")["Body"].read() == b"hello world\n"
    assert requests.get(env["base"] + "/hidden/nope").status_code == 403
    assert requests.head(env["base"] + "/hidden/nope").status_code == 403
    assert requests.get(env["base"] + "/hidden?list-type=2").status_code == 403
    assert "hidden" not in [b["Name"] for b in env["s3"].list_buckets()["Buckets"]]


# ---- signing ---------------------------------------------------------------------------------

def test_signed_target_is_accepted_by_a_verifying_upstream(env):
    r = env["s3"].get_object(Bucket="signed", Key="dir/secret file.txt", Range="bytes=7-")
    assert r["Body"].read() == b"bytes"
    assert env["s3"].head_object(Bucket="signed", Key="dir/plain.txt")["ContentLength"] == 5
    # moto's verifier also rejects botocore's signature when a query value holds `/`: no
    # delimiter here, and a prefix without one.
    page = env["s3"].list_objects_v2(Bucket="signed", Prefix="dir", MaxKeys=1)
    assert [o["Key"] for o in page["Contents"]] == ["dir/plain.txt"]
    page = env["s3"].list_objects_v2(Bucket="signed", Prefix="dir", ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in page["Contents"]] == ["dir/secret file.txt"]


def test_wrong_secret_is_access_denied(env):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        env["s3"].get_object(Bucket="badkey", Key="dir/plain.txt")
    assert error_code(e) == ("AccessDenied", 403)


# ---- listings ---------------------------------------------------------------------------------

def test_paginator_lists_every_key_through_the_prefix(env):
    pages = env["s3"].get_paginator("list_objects_v2").paginate(Bucket="pref", Prefix="many/", PaginationConfig={"PageSize": 1000})
    keys, tokens = [], []
    for p in pages:
        keys += [o["Key"] for o in p.get("Contents", [])]
        if "NextContinuationToken" in p:
            tokens.append(p["NextContinuationToken"])
    assert keys == [f"many/k{i:05d}" for i in range(MANY)]
    assert len(tokens) == 2


def test_v1_paging_with_markers(env):
    keys = [o["Key"] for p in env["s3"].get_paginator("list_objects").paginate(Bucket="pref", Prefix="many/", PaginationConfig={"PageSize": 700})
            for o in p.get("Contents", [])]
    assert keys == [f"many/k{i:05d}" for i in range(MANY)]


def test_delimiter_listing_strips_the_prefix(env):
    r = env["s3"].list_objects_v2(Bucket="pref", Delimiter="/")
    assert sorted(p["Prefix"] for p in r["CommonPrefixes"]) == ["many/", "odd/"]
    assert [o["Key"] for o in r["Contents"]] == ["big.bin", "empty", "hello.txt"]
    heads = {k: env["s3"].head_object(Bucket="pref", Key=k)["ETag"] for k in ("big.bin", "empty", "hello.txt")}
    assert {o["Key"]: o["ETag"] for o in r["Contents"]} == heads


def test_odd_keys_list_exactly_with_and_without_url_encoding(env):
    expected = sorted(f"odd/{n}" for n in ODD)
    r = env["s3"].list_objects_v2(Bucket="pref", Prefix="odd/")  # boto3 asks for encoding-type=url
    assert sorted(o["Key"] for o in r["Contents"]) == expected
    raw = requests.get(env["base"] + "/pref?list-type=2&prefix=odd/")
    assert raw.status_code == 200 and "&lt;b&gt;" in raw.text


def test_start_after_is_applied_below_the_prefix(env):
    r = env["s3"].list_objects_v2(Bucket="pref", Prefix="many/", StartAfter="many/k02597")
    assert [o["Key"] for o in r["Contents"]] == ["many/k02598", "many/k02599"]


def test_forged_or_foreign_tokens_are_invalid_argument(env):
    first = env["s3"].list_objects_v2(Bucket="pref", Prefix="many/", MaxKeys=10)
    token = first["NextContinuationToken"]
    for bucket, prefix, t in [("pref", "many/", token[:-2] + "AA"), ("pref", "odd/", token), ("anon", "many/", token),
                              ("pref", "many/", "bm90LWEtdG9rZW4")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            env["s3"].list_objects_v2(Bucket=bucket, Prefix=prefix, ContinuationToken=t)
        assert error_code(e) == ("InvalidArgument", 400)


# ---- failures ---------------------------------------------------------------------------------

def test_misconfigured_upstream_bucket_is_a_gateway_error(env):
    r = requests.get(env["base"] + "/nobucket/k")
    assert r.status_code == 502 and "does-not-exist" not in r.text


def test_refused_upstream_is_503_xml(env):
    t = time.time()
    r = requests.get(env["base"] + "/refused/k")
    assert r.status_code == 503 and "<Code>ServiceUnavailable</Code>" in r.text
    assert time.time() - t < 5


def test_stalled_upstream_is_504_within_the_read_timeout(env):
    t = time.time()
    r = requests.get(env["base"] + "/stall/k", timeout=30)
    assert r.status_code == 504 and "<Code>GatewayTimeout</Code>" in r.text
    assert time.time() - t < 4  # read_timeout is 2 s
    assert requests.get(env["base"] + "/pref/hello.txt").content == b"hello world\n"


@pytest.mark.parametrize("target", ["cut", "slow"])
def test_upstream_failing_mid_body_cuts_the_stream(env, target):
    t = time.time()
    r = requests.get(env["base"] + f"/{target}/k", stream=True, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Length"] == "1048576"
    got = 0
    with pytest.raises(requests.exceptions.RequestException):
        for chunk in r.iter_content(65536):
            got += len(chunk)
    assert got < 1048576
    assert time.time() - t < 5  # read_timeout is 2 s
    assert requests.get(env["base"] + "/pref/hello.txt").content == b"hello world\n"


def test_workers_survive_a_client_abort_mid_stream(env):
    r = requests.get(env["base"] + "/pref/big.bin", stream=True)
    next(r.iter_content(65536))
    r.close()
    time.sleep(0.3)
    assert env["worker"].poll() is None
    assert requests.get(env["base"] + "/pref/hello.txt").content == b"hello world\n"


def test_500_and_503_are_retried_before_any_byte(env):
    r = requests.get(env["base"] + "/flaky/k")
    assert r.status_code == 200 and r.content == b"ok"


def test_upstream_connections_are_reused_across_requests(env):
    for _ in range(6):
        assert requests.get(env["base"] + "/nginxup/hello.txt").content == b"hello world\n"
    assert env["s3"].get_object(Bucket="nginxup", Key="hello.txt", Range="bytes=0-4")["Body"].read() == b"hello"
    lines = [l.split() for l in (env["tmp"] / "nginx/static.log").read_text().splitlines()]
    per_connection = {}
    for conn, n, *_ in lines:
        per_connection[conn] = max(per_connection.get(conn, 0), int(n))
    # Two workers, seven requests: at most two upstream connections, each used again.
    assert len(per_connection) <= 2 and max(per_connection.values()) >= 3, per_connection
