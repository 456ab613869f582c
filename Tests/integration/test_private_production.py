"""Private buckets behind the production profile's shared cache: a signed or capability
request never fills or uses it, and reaches the worker with every header it signed (If-*,
Range), so a signed conditional GET gets its 304."""

from __future__ import annotations

import datetime
import subprocess

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import xml_fields
from private_support import LAB_KEY, client, make_tree, private_server, signed_headers
from test_private_links import X2S3


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    top = tmp_path_factory.mktemp("private-prod")
    files = make_tree(top)
    with private_server(top, profile="production") as srv:
        srv.files = files
        yield srv


def signed(prod, path: str, extra: dict[str, str] | None = None) -> requests.Response:
    url = prod.base_url + path
    headers = signed_headers("GET", url, f"127.0.0.1:{prod.port}", extra=extra)
    return prod.get(path, headers=headers)


def code(r: requests.Response) -> str:
    return xml_fields(r.content)[1]["Code"]


def test_an_authorised_fetch_never_serves_an_anonymous_one(prod):
    for _ in range(2):
        r = signed(prod, "/lab/hello.txt")
        assert r.status_code == 200 and r.content == prod.files["hello.txt"]
        assert r.headers["Cache-Control"] == "private" and "X-Cache-Status" not in r.headers
    for _ in range(2):
        r = prod.get("/lab/hello.txt")
        assert r.status_code == 403 and code(r) == "AccessDenied"
    # The same through a presigned URL, and a chunk (whose answer would otherwise be cacheable).
    s3 = client(prod)
    for key in ("hello.txt", "ds/v2.zarr/0.0"):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "lab", "Key": key})
        assert prod.session.get(url, timeout=30).content == prod.files[key]
        r = prod.get("/lab/" + key)
        assert r.status_code == 403 and code(r) == "AccessDenied"
    # Public objects are cached as before.
    statuses = [prod.get("/pub/hello.txt").headers.get("X-Cache-Status") for _ in range(3)]
    assert statuses[-1] == "HIT", statuses


def test_every_signed_request_reaches_the_worker(prod):
    before = len(prod.worker_lines("/lab/a/b/c/deep.txt"))
    for _ in range(3):
        assert signed(prod, "/lab/a/b/c/deep.txt").status_code == 200
    assert len(prod.settle("/lab/a/b/c/deep.txt", before + 3)) == before + 3


def test_a_signed_conditional_get_is_answered_by_the_worker(prod):
    r = signed(prod, "/lab/hello.txt")
    etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    r = signed(prod, "/lab/hello.txt", extra={"If-None-Match": etag})
    assert r.status_code == 304 and r.headers["ETag"] == etag
    r = signed(prod, "/lab/hello.txt", extra={"If-Modified-Since": modified})
    assert r.status_code == 304
    r = signed(prod, "/lab/hello.txt", extra={"If-Match": '"not-it"'})
    assert r.status_code == 412 and code(r) == "PreconditionFailed"
    r = signed(prod, "/lab/blob.bin", extra={"Range": "bytes=100-199", "If-Match": signed(prod, "/lab/blob.bin").headers["ETag"]})
    assert r.status_code == 206 and r.content == prod.files["blob.bin"][100:200]
    # boto3's own conditional and ranged reads, signing the headers itself.
    s3 = client(prod)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="lab", Key="hello.txt", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket="lab", Key="blob.bin", Range="bytes=-3")["Body"].read() == prod.files["blob.bin"][-3:]


def test_capability_requests_bypass_the_cache(prod):
    out = subprocess.run([str(X2S3), "presign", "s3://lab/ds/", "--capability", "--access-key", LAB_KEY,
                          "--config", str(prod.config)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    path = "/" + out.stdout.strip().split("/", 3)[3] + "v2.zarr/0.0"
    token = path.split("/")[3]
    logged = path.replace(token, "REDACTED")  # the worker's log keeps no token
    before = len(prod.worker_lines(logged))
    for _ in range(3):
        r = prod.get(path)
        assert r.status_code == 200 and r.content == prod.files["ds/v2.zarr/0.0"] and "X-Cache-Status" not in r.headers
    assert len(prod.settle(logged, before + 3)) == before + 3
    assert not any(token in line for line in prod.log().splitlines() + prod.access_lines())
    assert prod.get("/lab/ds/v2.zarr/0.0").status_code == 403


def test_a_stale_signature_is_refused_even_after_a_good_one(prod):
    past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=30)
    url = prod.base_url + "/lab/hello.txt"
    assert signed(prod, "/lab/hello.txt").status_code == 200
    r = prod.get("/lab/hello.txt", headers=signed_headers("GET", url, f"127.0.0.1:{prod.port}", when=past))
    assert r.status_code == 403 and code(r) == "RequestTimeTooSkewed"
