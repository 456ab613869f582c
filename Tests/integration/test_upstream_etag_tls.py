"""S3 targets: ETags on every response and listing entry, conditionals against them, s3fs reads
at offsets (issue 13 item 2), and upstream TLS with a private CA (item 8).

One moto_server holds the objects. One nginx (started here, by PID) runs three servers: a TLS
front before moto with a certificate from a CA made here with openssl, and a FastCGI front for
each of two x2s3 pools, one started with AWS_CA_BUNDLE in its environment and one without.

Targets (pool A, no AWS_CA_BUNDLE):
  derived   moto over http, prefix data/, default proxy_etag (derived ETags)
  proxied   the same with proxy_etag: true
  tls       moto through the TLS front at https://127.0.0.1, ca_bundle: the test CA
  tlsname   the same at https://localhost (the certificate's DNS name)
  notrust   the TLS front without ca_bundle: the system store does not know the CA → 503
  wrongca   the TLS front with ca_bundle: another CA → 503
Pool B (AWS_CA_BUNDLE=the test CA): envtls, the TLS front without ca_bundle.

Everything listens on 127.0.0.1 only.
"""
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import botocore
import pytest
import requests
from botocore.config import Config as BotoConfig

from procs import free_port, start_moto, stop, wait_port
from s3_upstream_support import fastcgi_server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("X2S3_BIN", ROOT / ".build/debug/x2s3"))
BLOB = random.Random(13).randbytes(3 * 1024 * 1024 + 17)
HELLO = b"hello world\n"
DERIVED = re.compile(r'^"[0-9a-f]{32}-1"$')


def openssl(tmp, *args):
    subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)


def make_ca(tmp, name):
    openssl(tmp, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem",
            "-days", "2", "-subj", f"/CN=x2s3 test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return tmp / f"{name}.pem"


def make_server_cert(tmp, ca):
    (tmp / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                    "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    openssl(tmp, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost")
    openssl(tmp, "x509", "-req", "-in", "server.csr", "-CA", ca.name, "-CAkey", ca.stem + ".key", "-set_serial", "4242",
            "-days", "2", "-out", "server.pem", "-extfile", "server.ext")


def target(name, **options):
    lines = [f"  - name: {name}", "    client: s3", "    options:"]
    lines += [f"      {k}: {v}" for k, v in options.items()]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def env():
    if not BIN.exists():
        pytest.skip(f"no x2s3 binary at {BIN}")
    for tool in ("nginx", "moto_server", "openssl"):
        if not shutil.which(tool):
            pytest.skip(f"needs {tool}")
    tmp = Path(tempfile.mkdtemp(prefix="x2s3-etagtls."))
    procs = []
    try:
        moto, upstream = start_moto(tmp / "moto.log")
        procs.append(moto)
        s3 = boto3.client("s3", endpoint_url=upstream, region_name="us-east-1",
                          aws_access_key_id="seed", aws_secret_access_key="seed")
        s3.create_bucket(Bucket="upstream", ACL="public-read")
        for key, body in {"data/hello.txt": HELLO, "data/blob.bin": BLOB, "data/dir/x.txt": b"x"}.items():
            s3.put_object(Bucket="upstream", Key=key, Body=body, ACL="public-read")

        ca = make_ca(tmp, "ca")
        other_ca = make_ca(tmp, "otherca")
        make_server_cert(tmp, ca)
        tls_port = free_port()
        https = f"https://127.0.0.1:{tls_port}"
        common = dict(bucket="upstream", prefix="data")
        fast = "{connect_timeout: 2, read_timeout: 5, retries: {total_max_attempts: 1}}"
        configs = {
            "a": [target("derived", endpoint=upstream, **common),
                  target("proxied", endpoint=upstream, proxy_etag="true", **common),
                  target("tls", endpoint=https, ca_bundle=ca, **common),
                  target("tlsname", endpoint=f"https://localhost:{tls_port}", ca_bundle=ca, **common),
                  target("notrust", endpoint=https, config=fast, **common),
                  target("wrongca", endpoint=https, ca_bundle=other_ca, config=fast, **common)],
            "b": [target("envtls", endpoint=https, **common)],
        }
        pools = {}
        for name, targets in configs.items():
            (tmp / f"{name}.yaml").write_text("log_level: INFO\nui: false\ntargets:\n" + "\n".join(targets) + "\n")
            penv = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
            if name == "b":
                penv["AWS_CA_BUNDLE"] = str(ca)
            fcgi_port = free_port()
            log = tmp / f"x2s3-{name}.log"
            pool = subprocess.Popen([str(BIN), "--config", str(tmp / f"{name}.yaml"), "--socket", f"tcp:127.0.0.1:{fcgi_port}",
                                     "--workers", "2"], env=penv, stdout=open(log, "w"), stderr=subprocess.STDOUT)
            procs.append(pool)
            wait_port(fcgi_port, pool)
            pools[name] = (fcgi_port, free_port(), log)

        (tmp / "nginx").mkdir()
        user = "user root;" if os.getuid() == 0 else ""
        fronts = "".join(fastcgi_server(port, fcgi) for fcgi, port, _ in pools.values())
        (tmp / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx/nginx.pid;
error_log {tmp}/nginx/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx/body;
    fastcgi_temp_path {tmp}/nginx/fastcgi;
    proxy_temp_path {tmp}/nginx/proxy;
    uwsgi_temp_path {tmp}/nginx/uwsgi;
    scgi_temp_path {tmp}/nginx/scgi;
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {tmp}/server.pem;
        ssl_certificate_key {tmp}/server.key;
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_buffering off;
        }}
    }}
    {fronts}
}}
""")
        nginx = subprocess.Popen(["nginx", "-e", f"{tmp}/nginx/error.log", "-p", f"{tmp}/nginx", "-c", f"{tmp}/nginx.conf"])
        procs.append(nginx)
        for _, port, _ in pools.values():
            wait_port(port, nginx)
        wait_port(tls_port, nginx)
        base = f"http://127.0.0.1:{pools['a'][1]}"
        client = boto3.client("s3", endpoint_url=base, region_name="us-east-1",
                              config=BotoConfig(signature_version=botocore.UNSIGNED, s3={"addressing_style": "path"},
                                                retries={"max_attempts": 1}))
        yield {"base": base, "env_base": f"http://127.0.0.1:{pools['b'][1]}", "s3": client, "upstream": s3,
               "log": pools["a"][2], "tmp": tmp, "ca": ca, "tls": https}
    finally:
        for p in reversed(procs):
            stop(p)
        if not os.environ.get("KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


# ---- ETags (item 2) -------------------------------------------------------------------------

def etags_of(env, bucket, key):
    """The ETag of GET, ranged GET, HEAD and the listing entry of one key."""
    url = f"{env['base']}/{bucket}/{key}"
    get = requests.get(url)
    assert get.status_code == 200
    ranged = requests.get(url, headers={"Range": "bytes=1-3"})
    assert ranged.status_code == 206
    head = requests.head(url)
    listed = [o for o in env["s3"].list_objects_v2(Bucket=bucket)["Contents"] if o["Key"] == key]
    v1 = [o for o in env["s3"].list_objects(Bucket=bucket)["Contents"] if o["Key"] == key]
    return [get.headers.get("ETag"), ranged.headers.get("ETag"), head.headers.get("ETag"), listed[0].get("ETag"), v1[0].get("ETag")]


def test_every_response_and_listing_entry_carries_the_same_derived_etag(env):
    tags = etags_of(env, "derived", "hello.txt")
    assert len(set(tags)) == 1, tags
    tag = tags[0]
    assert DERIVED.match(tag), tag
    upstream = env["upstream"].head_object(Bucket="upstream", Key="data/hello.txt")["ETag"]
    assert tag != upstream and tag.strip('"')[:32] != hashlib.md5(HELLO).hexdigest()
    # Stable: both workers, and repeated requests, give the same tag.
    assert {requests.head(f"{env['base']}/derived/hello.txt").headers["ETag"] for _ in range(12)} == {tag}


def test_proxy_etag_sends_the_upstreams_everywhere(env):
    tags = etags_of(env, "proxied", "hello.txt")
    assert tags == ['"' + hashlib.md5(HELLO).hexdigest() + '"'] * 5


def test_conditionals_use_the_etag_that_was_sent(env):
    url = f"{env['base']}/derived/blob.bin"
    tag = requests.head(url).headers["ETag"]
    upstream = env["upstream"].head_object(Bucket="upstream", Key="data/blob.bin")["ETag"]
    r = requests.get(url, headers={"If-Match": tag, "Range": "bytes=100-199"})
    assert (r.status_code, r.content, r.headers["ETag"]) == (206, BLOB[100:200], tag)
    r = requests.get(url, headers={"If-Match": tag})
    assert r.status_code == 200 and r.content == BLOB
    assert requests.head(url, headers={"If-Match": tag}).status_code == 200
    for wrong in (upstream, '"0123456789abcdef0123456789abcdef-1"'):
        r = requests.get(url, headers={"If-Match": wrong, "Range": "bytes=0-9"})
        assert r.status_code == 412 and "<Code>PreconditionFailed</Code>" in r.text
    r = requests.get(url, headers={"If-None-Match": tag})
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"] == tag
    assert requests.get(url, headers={"If-None-Match": upstream}).status_code == 200
    r = requests.get(url, headers={"If-Range": tag, "Range": "bytes=5-9"})
    assert (r.status_code, r.content) == (206, BLOB[5:10])
    r = requests.get(url, headers={"If-Range": upstream, "Range": "bytes=5-9"})
    assert (r.status_code, len(r.content)) == (200, len(BLOB))


def test_the_etag_follows_the_upstream_object(env):
    url = f"{env['base']}/derived/changing.txt"
    env["upstream"].put_object(Bucket="upstream", Key="data/changing.txt", Body=b"one", ACL="public-read")
    first = requests.head(url).headers["ETag"]
    env["upstream"].put_object(Bucket="upstream", Key="data/changing.txt", Body=b"two", ACL="public-read")
    second = requests.get(url).headers["ETag"]
    assert DERIVED.match(first) and DERIVED.match(second) and first != second
    assert requests.get(url, headers={"If-Match": first}).status_code == 412


def test_s3fs_reads_at_random_offsets(env):
    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True, use_listings_cache=False,
                           client_kwargs={"endpoint_url": env["base"], "region_name": "us-east-1"})
    rng = random.Random(2)
    with fs.open("derived/blob.bin", "rb", block_size=64 * 1024) as f:
        assert f.details["ETag"] == requests.head(f"{env['base']}/derived/blob.bin").headers["ETag"]
        for _ in range(25):
            off, n = rng.randrange(len(BLOB)), rng.randrange(1, 200_000)
            f.seek(off)
            assert f.read(n) == BLOB[off:off + n], (off, n)
    # Details from a listing (ls first), then a fresh open: the same tag, the same bytes.
    assert {d["name"]: d["ETag"] for d in fs.ls("derived", detail=True) if d["type"] == "file"}["derived/blob.bin"] == f.details["ETag"]
    with fs.open("derived/hello.txt", "rb") as f:
        f.seek(6)
        assert f.read() == HELLO[6:]
    assert fs.cat_file("derived/blob.bin", start=1000, end=5000) == BLOB[1000:5000]


# ---- upstream TLS (item 8) ------------------------------------------------------------------

@pytest.mark.parametrize("bucket", ["tls", "tlsname"])
def test_reads_through_tls_with_the_ca_bundle(env, bucket):
    s3 = env["s3"]
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == HELLO
    r = s3.get_object(Bucket=bucket, Key="blob.bin", Range="bytes=1000-2999999")
    assert r["Body"].read() == BLOB[1000:3000000]
    listed = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]][:1] == ["blob.bin"] and "hello.txt" in [o["Key"] for o in listed["Contents"]]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["dir/"]
    assert DERIVED.match(s3.head_object(Bucket=bucket, Key="blob.bin")["ETag"])


def test_aws_ca_bundle_in_the_environment_is_honoured(env):
    r = requests.get(f"{env['env_base']}/envtls/blob.bin", headers={"Range": "bytes=7-70006"})
    assert (r.status_code, r.content) == (206, BLOB[7:70007])


def log_line(env, request_id):
    """The worker's line for a request: written once the response is out, so it may trail it."""
    deadline = time.monotonic() + 5
    while True:
        line = next((l for l in env["log"].read_text(errors="replace").splitlines() if request_id in l), "")
        if line or time.monotonic() > deadline:
            return line
        time.sleep(0.05)


@pytest.mark.parametrize("bucket", ["notrust", "wrongca"])
def test_an_unverifiable_certificate_is_a_gateway_error_and_logged(env, bucket):
    for method in ("GET", "HEAD"):
        r = requests.request(method, f"{env['base']}/{bucket}/hello.txt")
        assert r.status_code in (502, 503), (method, r.status_code, r.text)
        if method == "GET":
            assert "<Code>ServiceUnavailable</Code>" in r.text or "<Code>BadGateway</Code>" in r.text
            # curl's text is the operator's, not the client's.
            assert "certificate" not in r.text.lower()
        line = log_line(env, r.headers["x-amz-request-id"])
        assert "error.message=upstream: " in line, line
        assert re.search(r"SSL certificate problem|certificate verify failed|unable to get local issuer", line), line
    r = requests.get(f"{env['base']}/{bucket}?list-type=2")
    assert r.status_code in (502, 503) and "<Error>" in r.text


def test_a_missing_ca_bundle_stops_the_start_naming_the_key(env):
    tmp = env["tmp"]
    (tmp / "bad.yaml").write_text(f"targets:\n  - name: t\n    options:\n      bucket: upstream\n      endpoint: {env['tls']}\n"
                                  f"      ca_bundle: {tmp}/nope.pem\n")
    r = subprocess.run([str(BIN), "--config", str(tmp / "bad.yaml"), "--socket", f"tcp:127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "targets[0].options.ca_bundle" in r.stdout + r.stderr and "nope.pem" in r.stdout + r.stderr
    penv = dict(os.environ, AWS_CA_BUNDLE=f"{tmp}/nope.pem")
    (tmp / "envbad.yaml").write_text(f"targets:\n  - name: t\n    options:\n      bucket: upstream\n      endpoint: {env['tls']}\n")
    r = subprocess.run([str(BIN), "--config", str(tmp / "envbad.yaml"), "--socket", f"tcp:127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=30, env=penv)
    assert r.returncode != 0 and "AWS_CA_BUNDLE" in r.stdout + r.stderr
