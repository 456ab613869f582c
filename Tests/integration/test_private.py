"""Private buckets through real nginx and real workers: boto3, the AWS CLI, rclone and
s3fs/zarr with the right credentials read byte-exactly; without credentials, with a wrong
secret, a stale clock, a tampered or expired presigned URL, a signature for another bucket
or a key allowed only elsewhere they get S3's errors."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from unittest import mock
from urllib.parse import quote

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import xml_fields
from private_support import (LAB_KEY, LAB_SECRET, OTHER_KEY, OTHER_SECRET, ROOT_KEY, ROOT_SECRET, VHOST, aws_env,
                             client, make_tree, private_server, signed_headers, zarr_values)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    top = tmp_path_factory.mktemp("private")
    files = make_tree(top)
    with private_server(top, virtual=True) as srv:
        srv.files = files
        srv.top = top
        yield srv


def error_of(e: pytest.ExceptionInfo) -> tuple[str, int]:
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def fields(r: requests.Response) -> dict[str, str]:
    root, f = xml_fields(r.content)
    assert root == "Error", r.content[:300]
    return f


# --- right credentials: every client reads byte-exactly ---------------------------------------

def test_boto3_reads_every_object_byte_exact_and_privately(lab):
    s3 = client(lab)
    for key, content in lab.files.items():
        r = s3.get_object(Bucket="lab", Key=key)
        assert r["Body"].read() == content, key
        assert r["CacheControl"].startswith("private"), key
    blob = lab.files["blob.bin"]
    assert s3.get_object(Bucket="lab", Key="blob.bin", Range="bytes=1000-70000")["Body"].read() == blob[1000:70001]
    assert s3.get_object(Bucket="lab", Key="blob.bin", Range="bytes=-5")["Body"].read() == blob[-5:]
    h = s3.head_object(Bucket="lab", Key="blob.bin")
    assert h["ContentLength"] == len(blob) and h["CacheControl"] == "private"
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="lab", PaginationConfig={"PageSize": 3})
            for o in p.get("Contents", [])]
    assert keys == sorted(lab.files, key=lambda k: k.encode())
    assert [o["Key"] for o in s3.list_objects(Bucket="lab", Prefix="a/")["Contents"]] == ["a/b/c/deep.txt"]
    # A signed conditional request: the ETag it sent back answers 304.
    etag = s3.head_object(Bucket="lab", Key="hello.txt")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="lab", Key="hello.txt", IfNoneMatch=etag)
    assert error_of(e)[1] == 304


def test_the_bucket_list_shows_private_buckets_only_to_keys_allowed_on_them(lab):
    names = lambda s3: [b["Name"] for b in s3.list_buckets()["Buckets"]]  # noqa: E731
    assert names(client(lab)) == ["lab", "pub"]
    assert names(client(lab, OTHER_KEY, OTHER_SECRET)) == ["pub", "other"]
    assert names(client(lab, ROOT_KEY, ROOT_SECRET)) == ["lab", "pub", "other"]
    assert names(client(lab, None, None)) == ["pub"]
    # A wrong signature on the public list is not an error: it is the anonymous list.
    assert names(client(lab, LAB_KEY, "wrong")) == ["pub"]
    page = lab.get("/", headers={"Accept": "text/html"}).text
    assert "/pub/" in page and "/lab/" not in page and "/other/" not in page


def test_a_private_buckets_acl_grants_its_owner_alone(lab):
    s3 = client(lab)
    for acl in (s3.get_bucket_acl(Bucket="lab"), s3.get_object_acl(Bucket="lab", Key="hello.txt")):
        assert [(g["Grantee"]["Type"], g["Permission"]) for g in acl["Grants"]] == [("CanonicalUser", "FULL_CONTROL")]
        assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    # A public bucket keeps the original's public-read ACL.
    grants = client(lab, None, None).get_bucket_acl(Bucket="pub")["Grants"]
    assert [(g["Grantee"]["Type"], g["Grantee"].get("URI"), g["Permission"]) for g in grants] == [
        ("Group", "http://acs.amazonaws.com/groups/global/AllUsers", "READ")]
    with pytest.raises(ClientError) as e:
        client(lab, None, None).get_bucket_acl(Bucket="lab")
    assert error_of(e) == ("AccessDenied", 403)


def test_a_person_refused_by_a_private_bucket_is_told_how_it_opens(lab):
    html = {"Accept": "text/html"}
    for path in ("/lab/", "/lab/hello.txt", "/lab/no-such-key"):
        r = lab.get(path, headers=html)
        assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html"), path
        assert "This bucket is private." in r.text and "/_x2s3/c/" in r.text, path
    # Not for machines (the XML error is S3's), and not on a public bucket's errors.
    assert b"private" not in lab.get("/lab/hello.txt").content
    r = lab.get("/pub/no-such-key", headers=html)
    assert r.status_code == 404 and "This bucket is private." not in r.text


def test_virtual_host_style_requests_verify(lab):
    url = f"{lab.base_url}/q%23%3F%26%3Cb%3E%20%2B%3D%40%27%281%29%25.txt"
    host = f"lab.{VHOST}:{lab.port}"
    r = requests.get(url, headers=signed_headers("GET", url, host))
    assert r.status_code == 200 and r.content == lab.files["q#?&<b> +=@'(1)%.txt"]
    r = requests.get(f"{lab.base_url}/?list-type=2&prefix=a%2F",
                     headers=signed_headers("GET", f"{lab.base_url}/?list-type=2&prefix=a%2F", host))
    assert r.status_code == 200 and b"<Key>a/b/c/deep.txt</Key>" in r.content
    r = requests.get(url, headers={"Host": host})
    assert r.status_code == 403 and fields(r)["Code"] == "AccessDenied"


def test_aws_cli_copies_the_private_bucket(lab, tmp_path):
    if not shutil.which("aws"):
        pytest.skip("no aws cli")
    cmd = ["aws", "--endpoint-url", lab.base_url, "--region", "us-east-1", "s3", "cp", "--recursive",
           "--only-show-errors", "s3://lab/", str(tmp_path / "cp")]
    out = subprocess.run(cmd, capture_output=True, env=aws_env(LAB_KEY, LAB_SECRET), timeout=300)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    got = {p.relative_to(tmp_path / "cp").as_posix(): p.read_bytes() for p in (tmp_path / "cp").rglob("*") if p.is_file()}
    assert got == lab.files
    out = subprocess.run(cmd[:6] + ["ls", "s3://lab/"], capture_output=True, env=aws_env(LAB_KEY, "wrong"), timeout=60)
    assert out.returncode != 0 and b"SignatureDoesNotMatch" in out.stderr


def rclone(lab, key: str, secret: str, *args: str) -> subprocess.CompletedProcess:
    if not shutil.which("rclone"):
        pytest.skip("no rclone")
    env = {"PATH": "/usr/bin:/bin", "RCLONE_CONFIG_X_TYPE": "s3", "RCLONE_CONFIG_X_PROVIDER": "Other",
           "RCLONE_CONFIG_X_ACCESS_KEY_ID": key, "RCLONE_CONFIG_X_SECRET_ACCESS_KEY": secret,
           "RCLONE_CONFIG_X_ENDPOINT": lab.base_url, "RCLONE_CONFIG_X_FORCE_PATH_STYLE": "true"}
    return subprocess.run(["rclone", "--config", "/dev/null", "--retries", "1", "--low-level-retries", "1", *args],
                          capture_output=True, env=env, timeout=300)


def test_rclone_copies_the_private_bucket(lab, tmp_path):
    out = rclone(lab, LAB_KEY, LAB_SECRET, "copy", "x:lab", str(tmp_path / "copy"))
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-3000:]
    got = {p.relative_to(tmp_path / "copy").as_posix(): p.read_bytes() for p in (tmp_path / "copy").rglob("*") if p.is_file()}
    assert got == lab.files
    out = rclone(lab, LAB_KEY, "wrong", "lsf", "x:lab")
    assert out.returncode != 0 and b"SignatureDoesNotMatch" in out.stderr


def test_s3fs_and_zarr_read_the_private_array(lab):
    s3fs = pytest.importorskip("s3fs")
    zarr = pytest.importorskip("zarr")
    np = pytest.importorskip("numpy")
    opts = {"key": LAB_KEY, "secret": LAB_SECRET, "client_kwargs": {"endpoint_url": lab.base_url, "region_name": "us-east-1"}}
    fs = s3fs.S3FileSystem(**opts)
    assert fs.cat("lab/hello.txt") == lab.files["hello.txt"]
    assert fs.cat_file("lab/blob.bin", start=100, end=5000) == lab.files["blob.bin"][100:5000]
    arr = zarr.open_array("s3://lab/ds/v2.zarr", mode="r", storage_options=opts)
    assert np.array_equal(arr[:], zarr_values())
    anon = s3fs.S3FileSystem(anon=True, skip_instance_cache=True, client_kwargs=opts["client_kwargs"])
    with pytest.raises(PermissionError):
        anon.cat("lab/hello.txt")


# --- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who,expected", [
    ("anonymous", ("AccessDenied", 403)), ("wrong secret", ("SignatureDoesNotMatch", 403)),
    ("unknown key", ("InvalidAccessKeyId", 403)), ("key of other buckets", ("AccessDenied", 403)),
])
def test_wrong_or_missing_credentials_get_s3s_errors(lab, who, expected):
    key, secret = {"anonymous": (None, None), "wrong secret": (LAB_KEY, "wrong"), "unknown key": ("AKNOBODY", "x"),
                   "key of other buckets": (OTHER_KEY, OTHER_SECRET)}[who]
    s3 = client(lab, key, secret)
    for call in (lambda: s3.get_object(Bucket="lab", Key="hello.txt"), lambda: s3.list_objects_v2(Bucket="lab")):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == expected


def test_signature_does_not_match_tells_what_was_computed(lab):
    url = f"{lab.base_url}/lab/hello.txt"
    r = requests.get(url, headers=signed_headers("GET", url, f"127.0.0.1:{lab.port}", secret="wrong"))
    f = fields(r)
    assert r.status_code == 403 and f["Code"] == "SignatureDoesNotMatch" and f["AWSAccessKeyId"] == LAB_KEY
    assert f["CanonicalRequest"].startswith("GET\n/lab/hello.txt\n\nhost:127.0.0.1:")
    assert f["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert bytes.fromhex(f["CanonicalRequestBytes"].replace(" ", "")).decode() == f["CanonicalRequest"]
    assert LAB_SECRET not in r.text and r.headers["Cache-Control"] == "private"


def test_headers_outside_what_x2s3_reads_are_verified_when_signed(lab):
    """botocore signs every header it sends but a few: a custom one (and Range, which x2s3 reads
    anyway) must reach the verifier with the value that was signed, and a changed value fails."""
    url = f"{lab.base_url}/lab/hello.txt"
    host = f"127.0.0.1:{lab.port}"
    extra = {"X-Lab-Tag": "alpha  beta", "Range": "bytes=1-3"}
    headers = signed_headers("GET", url, host, extra=extra)
    assert "x-lab-tag" in headers["Authorization"] and "range" in headers["Authorization"]
    r = requests.get(url, headers=headers)
    assert r.status_code == 206 and r.content == lab.files["hello.txt"][1:4]
    r = requests.get(url, headers={**headers, "X-Lab-Tag": "gamma"})
    assert r.status_code == 403 and fields(r)["Code"] == "SignatureDoesNotMatch"
    assert "x-lab-tag:gamma\n" in fields(r)["CanonicalRequest"]


def test_a_stale_clock_is_request_time_too_skewed(lab):
    url = f"{lab.base_url}/lab/hello.txt"
    past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    r = requests.get(url, headers=signed_headers("GET", url, f"127.0.0.1:{lab.port}", when=past))
    f = fields(r)
    assert r.status_code == 403 and f["Code"] == "RequestTimeTooSkewed"
    assert f["RequestTime"] == past.strftime("%Y%m%dT%H%M%SZ") and f["MaxAllowedSkewMilliseconds"] == "900000"


def presign(lab, method="get_object", key="hello.txt", bucket="lab", expires=600, when=None, **kw):
    s3 = client(lab, **kw)
    if when is None:
        return s3.generate_presigned_url(method, Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        return s3.generate_presigned_url(method, Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires)


def test_presigned_get_and_head(lab):
    for key, content in lab.files.items():
        r = requests.get(presign(lab, key=key))
        assert r.status_code == 200 and r.content == content, key
    r = requests.head(presign(lab, "head_object", key="blob.bin"))
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(lab.files["blob.bin"]))
    r = requests.get(presign(lab, key="blob.bin"), headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == lab.files["blob.bin"][10:20]


def test_an_expired_presigned_url_is_access_denied(lab):
    hour_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
    r = requests.get(presign(lab, when=hour_ago, expires=600))
    f = fields(r)
    assert r.status_code == 403 and f["Code"] == "AccessDenied" and f["Message"] == "Request has expired"
    assert f["X-Amz-Expires"] == "600" and f["Expires"].endswith("Z") and f["ServerTime"].endswith("Z")


@pytest.mark.parametrize("tamper,code,status", [
    (lambda u: u.replace("X-Amz-Expires=600", "X-Amz-Expires=900"), "SignatureDoesNotMatch", 403),
    (lambda u: u + "&response-content-type=text%2Fhtml", "SignatureDoesNotMatch", 403),
    (lambda u: u.replace("/lab/hello.txt", "/lab/a/b/c/deep.txt"), "SignatureDoesNotMatch", 403),
    (lambda u: u.replace("X-Amz-Expires=600", "X-Amz-Expires=604801"), "AuthorizationQueryParametersError", 400),
    (lambda u: u.replace("X-Amz-Credential=", "X-Amz-Credentia="), "AuthorizationQueryParametersError", 400),
    # An item that decodes to no text: refused before any signature is read.
    (lambda u: u + "&a=%FF", "InvalidArgument", 400),
    (lambda u: u.replace("X-Amz-Algorithm=", "a=%C3&X-Amz-Algorithm="), "InvalidArgument", 400),
])
def test_a_tampered_presigned_url_is_refused(lab, tamper, code, status):
    r = requests.get(tamper(presign(lab)))
    assert r.status_code == status and fields(r)["Code"] == code


def test_a_signature_for_another_bucket_does_not_open_this_one(lab):
    # The root key may read both: a URL signed for pub/hello.txt, pointed at lab, fails.
    root = client(lab, ROOT_KEY, ROOT_SECRET)
    url = root.generate_presigned_url("get_object", Params={"Bucket": "pub", "Key": "hello.txt"})
    assert requests.get(url).content == b"public hello\n"
    r = requests.get(url.replace("/pub/", "/lab/"))
    assert r.status_code == 403 and fields(r)["Code"] == "SignatureDoesNotMatch"
    # A key allowed only on other buckets, signing correctly for lab: AccessDenied.
    url = client(lab, OTHER_KEY, OTHER_SECRET).generate_presigned_url("get_object", Params={"Bucket": "lab", "Key": "hello.txt"})
    r = requests.get(url)
    assert r.status_code == 403 and fields(r)["Code"] == "AccessDenied"


def test_public_buckets_never_check_signatures(lab):
    for key, secret in ((LAB_KEY, "wrong"), ("AKNOBODY", "x"), (None, None)):
        r = client(lab, key, secret).get_object(Bucket="pub", Key="hello.txt")
        assert r["Body"].read() == b"public hello\n" and "CacheControl" not in r


def test_preflights_allow_the_signing_headers_without_a_signature(lab):
    asked = "authorization,x-amz-date,x-amz-content-sha256,x-amz-user-agent,range"
    r = requests.options(f"{lab.base_url}/lab/hello.txt", headers={
        "Origin": "https://viewer.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": asked})
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Headers"] == asked
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_quoted_keys_in_urls_are_signed_as_s3_signs_them(lab):
    # Lower-case escapes and unescaped sub-delims on the wire: decoded once, encoded once.
    key = "q#?&<b> +=@'(1)%.txt"
    url = f"{lab.base_url}/lab/" + quote(key, safe="/~")
    headers = signed_headers("GET", url, f"127.0.0.1:{lab.port}")
    del headers["Host"]  # http.client sends the same one
    wire = "/lab/" + quote(key, safe="/~").lower().replace("%28", "(").replace("%29", ")")
    status, _, body = lab_raw(lab, wire, headers)
    assert status == 200 and body == lab.files[key]


def lab_raw(lab, target: str, headers: dict[str, str]):
    from procs import raw_request
    return raw_request("127.0.0.1", lab.port, "GET", target, headers, timeout=30)


def test_a_sigv2_presigned_url_is_refused_not_ignored(lab):
    import boto3
    s3 = boto3.client("s3", endpoint_url=lab.base_url, region_name="us-east-1", aws_access_key_id=LAB_KEY,
                      aws_secret_access_key=LAB_SECRET)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "lab", "Key": "hello.txt"})
    assert "AWSAccessKeyId=" in url  # botocore's legacy default for presigned S3 URLs
    r = requests.get(url)
    assert r.status_code == 400 and fields(r)["Code"] == "InvalidRequest"


def test_curl_aws_sigv4_reads_the_private_bucket(lab):
    # curl 7.88 signs without sending x-amz-content-sha256: the empty body's hash is assumed.
    if not shutil.which("curl"):
        pytest.skip("no curl")
    cmd = ["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{LAB_KEY}:{LAB_SECRET}",
           "-o", "-", "-w", "\n%{http_code}", f"{lab.base_url}/lab/a/b/c/deep.txt"]
    body, _, status = subprocess.run(cmd, capture_output=True, timeout=60).stdout.rpartition(b"\n")
    assert (status, body) == (b"200", lab.files["a/b/c/deep.txt"])
    cmd[5] = f"{LAB_KEY}:wrong"
    body, _, status = subprocess.run(cmd, capture_output=True, timeout=60).stdout.rpartition(b"\n")
    assert status == b"403" and b"<Code>SignatureDoesNotMatch</Code>" in body


def test_a_rotated_secret_takes_effect_on_sighup(tmp_path):
    import os
    import signal
    import time
    make_tree(tmp_path)
    with private_server(tmp_path) as srv:
        assert client(srv).get_object(Bucket="lab", Key="hello.txt")["Body"].read() == b"private hello\n"
        (tmp_path / "lab.secret").write_text("rotated-secret\n")
        os.kill(int((srv.run_dir / "x2s3.pid").read_text()), signal.SIGHUP)
        deadline = time.monotonic() + 10  # the new generation of workers takes over
        while time.monotonic() < deadline:
            try:
                if client(srv, LAB_KEY, "rotated-secret").get_object(Bucket="lab", Key="hello.txt")["Body"].read():
                    break
            except ClientError:
                time.sleep(0.2)
        assert client(srv, LAB_KEY, "rotated-secret").get_object(Bucket="lab", Key="hello.txt")["Body"].read() == b"private hello\n"
        with pytest.raises(ClientError) as e:
            client(srv).get_object(Bucket="lab", Key="hello.txt")
        assert error_of(e) == ("SignatureDoesNotMatch", 403)
        assert "rotated-secret" not in srv.log() and LAB_SECRET not in srv.log()
