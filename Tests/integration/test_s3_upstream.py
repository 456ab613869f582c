"""S3 upstream targets end to end, the working paths: objects, signing, listings, other
clients (the AWS CLI and rclone skip when missing) and a throughput report. The environment
(moto upstream, x2s3 behind nginx, the targets) is s3_upstream_support.py's; upstream failures
are test_s3_upstream_failures.py's.

Run: python3 -m pytest -q Tests/integration/test_s3_upstream.py
"""
import hashlib
import os
import shutil
import subprocess
import time

import botocore
import pytest
import requests

from s3_upstream_support import BIG, MANY, ODD, env, error_code  # noqa: F401 (env: the fixture)


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




# ---- other clients ----------------------------------------------------------------------------

def test_aws_cli_lists_and_copies(env):
    if not shutil.which("aws"):
        pytest.skip("no aws cli")
    cli_env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    base = ["aws", "--endpoint-url", env["base"], "--no-sign-request", "--region", "us-east-1"]
    out = subprocess.run(base + ["s3", "ls", "--recursive", "s3://pref/many/"], capture_output=True, text=True, env=cli_env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == MANY
    dest = env["tmp"] / "cli-big.bin"
    out = subprocess.run(base + ["s3", "cp", "s3://pref/big.bin", str(dest)], capture_output=True, text=True, env=cli_env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(env["objects"]["data/big.bin"]).digest()


def test_rclone_lists_and_reads(env):
    if not shutil.which("rclone"):
        pytest.skip("no rclone")
    # rclone reads AWS_CA_BUNDLE even for http endpoints and fails on bundles it cannot load.
    renv = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    renv.update(RCLONE_CONFIG_X_TYPE="s3", RCLONE_CONFIG_X_PROVIDER="Other",
                RCLONE_CONFIG_X_ENDPOINT=env["base"], RCLONE_CONFIG_X_FORCE_PATH_STYLE="true")
    out = subprocess.run(["rclone", "lsf", "-R", "--files-only", "x:pref/many"], capture_output=True, text=True, env=renv, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == MANY
    out = subprocess.run(["rclone", "cat", "x:pref/odd/" + ODD[0]], capture_output=True, env=renv, timeout=60)
    assert out.returncode == 0 and out.stdout == ODD[0].encode()
    dest = env["tmp"] / "rclone"
    out = subprocess.run(["rclone", "copy", "x:pref/big.bin", str(dest)], capture_output=True, text=True, env=renv, timeout=120)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256((dest / "big.bin").read_bytes()).digest() == hashlib.sha256(env["objects"]["data/big.bin"]).digest()


# ---- throughput (reported, not asserted) ----------------------------------------------------------

def test_report_64mib_throughput_direct_vs_through_x2s3(env, capsys):
    """Best of 5 for each path, same run, same client (curl when present: a Python client
    would be the bottleneck). Reported, not asserted: both paths share 2 cores with moto."""
    def mbps(url):
        best = 0
        for _ in range(5):
            if shutil.which("curl"):
                out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", url],
                                     capture_output=True, text=True, timeout=60, check=True).stdout.split()
                assert int(out[0]) == BIG
                best = max(best, float(out[1]) / 1e6)
            else:
                t = time.perf_counter()
                with requests.get(url, stream=True) as r:
                    n = sum(len(c) for c in r.iter_content(1 << 20))
                assert n == BIG
                best = max(best, n / (time.perf_counter() - t) / 1e6)
        return best
    direct = mbps(env["upstream_url"] + "/upstream/data/big.bin")
    through = mbps(env["base"] + "/pref/big.bin")
    static = mbps(env["static_url"] + "/bkt/data/big.bin")
    via_static = mbps(env["base"] + "/nginxup/big.bin")
    with capsys.disabled():
        print(f"\n64 MiB GET: moto direct {direct:.0f} MB/s, through nginx+x2s3 {through:.0f} MB/s ({through / direct:.2f}x)"
              f"\n64 MiB GET: nginx-static upstream direct {static:.0f} MB/s, through nginx+x2s3 {via_static:.0f} MB/s"
              f" ({via_static / static:.2f}x)")
