"""The S3-upstream environment shared by test_s3_upstream.py and test_s3_upstream_clients.py:
moto_server as the upstream, x2s3 (own pool) behind nginx, boto3 as the client. Everything
listens on 127.0.0.1 only, and every process started here is stopped by PID at teardown.

`s3_upstream_env` is session-scoped and registered once (conftest.py's pytest_plugins), so the
two modules, collected one after the other, share one environment and send it the same requests
in the same order as when they were one module; it is stopped at the end of the session. Each
module names it `env` through a one-line fixture. boto3 is imported only when it starts.

Targets (docs/contract.md#backends-and-scale-out):
  anon    the upstream bucket, anonymous, unsigned
  pref    the same bucket rooted at prefix `data/`
  etag    `data/` prefix with proxy_etag: the upstream's ETag passes through
  signed  a bucket on a second moto that verifies SigV4 (INITIAL_NO_AUTH_ACTION_COUNT), keys from files
  badkey  the same with a wrong secret → AccessDenied
  hidden  `data/` prefix, browseable: false
  nobucket  a bucket the upstream does not have → 502
  refused an endpoint nobody listens on → 503
  stall   an endpoint that accepts and never answers → 504 within read_timeout
  cut     a fake S3 that sends a head promising 1 MiB, then 100 KiB, then closes → cut stream
  slow    a fake S3 that sends part of a body, then stalls → cut stream within read_timeout
  flaky   a fake S3 whose odd-numbered requests get a 503 → retried
  nginxup an nginx serving files as a bucket (a keep-alive upstream)

Needs: a built x2s3 (X2S3_BIN, default .build/debug/x2s3), nginx, moto_server, boto3.
"""
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from procs import free_port, stop, wait_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("X2S3_BIN", ROOT / ".build/debug/x2s3"))
BIG = 64 * 1024 * 1024
MANY = 2600
ODD = ["q#?&<b> +=@'(1)%.txt", "ሴ 日本 ключ.txt", "a+b.txt", "sp ace/x.txt", "ctrl\x01char.txt", "tilde~star*.txt"]


def pattern(n, seed=7):
    """Deterministic bytes that differ at every offset (a shifted range cannot match)."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(block[:32] + i.to_bytes(8, "big")).digest() + block[: 65536 - 32]
        i += 1
    return bytes(out[:n])


class FakeS3(threading.Thread):
    """A one-trick HTTP server: `mode` is "stall" (accept, never answer), "cut" (promise
    1 MiB, send 100 KiB, close), "slow" (send 100 KiB of 1 MiB, then stall) or "flaky"
    (odd-numbered requests get a 503, even ones a 200)."""

    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.held = []

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)
            if self.mode == "stall":
                continue
            if self.mode == "flaky":
                self.flaky(conn)
                continue
            conn.settimeout(2)
            try:
                conn.recv(65536)
                head = ("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nLast-Modified: Tue, 24 Nov 2026 16:43:15 GMT\r\n"
                        "Content-Type: application/octet-stream\r\n\r\n")
                conn.sendall(head.encode() + b"x" * 102400)
                if self.mode == "cut":
                    conn.close()
            except OSError:
                pass

    def flaky(self, conn):
        conn.settimeout(2)
        try:
            conn.recv(65536)
            self.count = getattr(self, "count", 0) + 1
            if self.count % 2:
                body = b"<Error><Code>ServiceUnavailable</Code><Message>try again</Message></Error>"
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
            conn.close()
        except OSError:
            pass

    def close(self):
        self.stopping = True
        self.join(2)
        for c in self.held:
            c.close()
        self.sock.close()


@pytest.fixture(scope="session")
def s3_upstream_env():
    import boto3
    import botocore
    from botocore.config import Config as BotoConfig

    if not BIN.exists():
        pytest.skip(f"no x2s3 binary at {BIN}")
    if not shutil.which("nginx") or not shutil.which("moto_server"):
        pytest.skip("needs nginx and moto_server")
    tmp = Path(tempfile.mkdtemp(prefix="x2s3-s3it."))
    procs, fakes = [], []
    try:
        # ---- upstreams -----------------------------------------------------------------------
        moto_port, auth_port = free_port(), free_port()
        menv = dict(os.environ, AWS_ACCESS_KEY_ID="seed", AWS_SECRET_ACCESS_KEY="seed", AWS_DEFAULT_REGION="us-east-1")
        moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], env=menv,
                                stdout=open(tmp / "moto.log", "w"), stderr=subprocess.STDOUT)
        procs.append(moto)
        # The second moto checks signatures once its first 6 actions (the seeding below) are done.
        moto_auth = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(auth_port)],
                                     env=dict(menv, INITIAL_NO_AUTH_ACTION_COUNT="6"),
                                     stdout=open(tmp / "moto-auth.log", "w"), stderr=subprocess.STDOUT)
        procs.append(moto_auth)
        wait_port(moto_port, moto)
        wait_port(auth_port, moto_auth)
        upstream = f"http://127.0.0.1:{moto_port}"
        s3 = boto3.client("s3", endpoint_url=upstream, region_name="us-east-1",
                          aws_access_key_id="seed", aws_secret_access_key="seed",
                          config=BotoConfig(max_pool_connections=16))
        # moto, like S3, refuses anonymous reads of private objects: the anonymous targets read a
        # public bucket.
        s3.create_bucket(Bucket="upstream", ACL="public-read")
        objects = {"data/hello.txt": b"hello world\n", "data/empty": b"", "outside.txt": b"not under the prefix",
                   "data/big.bin": pattern(BIG)}
        objects.update({f"data/odd/{n}": n.encode() for n in ODD})
        objects.update({f"data/many/k{i:05d}": str(i).encode() for i in range(MANY)})
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda kv: s3.put_object(Bucket="upstream", Key=kv[0], Body=kv[1], ACL="public-read"), objects.items()))

        iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{auth_port}", region_name="us-east-1",
                           aws_access_key_id="seed", aws_secret_access_key="seed")
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        iam.put_user_policy(UserName="reader", PolicyName="all", PolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'))
        s3a = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{auth_port}", region_name="us-east-1",
                           aws_access_key_id="seed", aws_secret_access_key="seed")
        s3a.create_bucket(Bucket="secure")
        # moto's own verifier rejects even botocore's signatures for keys with `+`, non-ASCII or
        # most punctuation, so the live check uses a space; SigV4Tests covers the odd keys
        # against botocore offline.
        s3a.put_object(Bucket="secure", Key="dir/secret file.txt", Body=b"signed bytes")
        s3a.put_object(Bucket="secure", Key="dir/plain.txt", Body=b"plain")
        (tmp / "ak").write_text(key["AccessKeyId"] + "\n")
        (tmp / "sk").write_text("  " + key["SecretAccessKey"] + "\n")
        (tmp / "bad-sk").write_text("not-the-secret\n")

        for mode in ("stall", "cut", "slow", "flaky"):
            f = FakeS3(mode)
            f.start()
            fakes.append(f)
        stall, cut, slow, flaky = fakes
        # nginx serving files as a bucket: a keep-alive upstream (moto's server closes every
        # connection) for the connection-reuse check and the throughput baseline.
        (tmp / "static/bkt/data").mkdir(parents=True)
        (tmp / "static/bkt/data/hello.txt").write_bytes(b"hello world\n")
        (tmp / "static/bkt/data/big.bin").write_bytes(objects["data/big.bin"])
        static_port = free_port()

        # ---- x2s3 behind nginx ---------------------------------------------------------------
        def target(name, **options):
            browseable = options.pop("browseable", True)
            lines = [f"  - name: {name}", f"    browseable: {'true' if browseable else 'false'}", "    client: s3",
                     "    options:"]
            for k, v in options.items():
                if isinstance(v, dict):
                    lines.append(f"      {k}:")
                    lines += [f"        {kk}: {vv}" for kk, vv in v.items()]
                else:
                    lines.append(f"      {k}: '{v}'")
            return "\n".join(lines)

        fast = {"connect_timeout": 1, "read_timeout": 2}
        config = "\n".join([
            "log_level: INFO", "ui: false", "targets:",
            target("anon", bucket="upstream", endpoint=upstream),
            target("pref", bucket="upstream", endpoint=upstream, prefix="/data/"),
            target("etag", bucket="upstream", endpoint=upstream, prefix="data", proxy_etag="true"),
            target("hidden", bucket="upstream", endpoint=upstream, prefix="data", browseable=False),
            target("signed", bucket="secure", endpoint=f"http://127.0.0.1:{auth_port}",
                   access_key_path=tmp / "ak", secret_key_path=tmp / "sk"),
            target("badkey", bucket="secure", endpoint=f"http://127.0.0.1:{auth_port}",
                   access_key_path=tmp / "ak", secret_key_path=tmp / "bad-sk"),
            target("nobucket", bucket="does-not-exist", endpoint=upstream),
            target("refused", bucket="b", endpoint=f"http://127.0.0.1:{free_port()}", config=fast),
            target("stall", bucket="b", endpoint=f"http://127.0.0.1:{stall.port}", config=fast),
            target("cut", bucket="b", endpoint=f"http://127.0.0.1:{cut.port}", config=fast),
            target("slow", bucket="b", endpoint=f"http://127.0.0.1:{slow.port}", config=fast),
            target("flaky", bucket="b", endpoint=f"http://127.0.0.1:{flaky.port}", config=fast),
            target("nginxup", bucket="bkt", endpoint=f"http://127.0.0.1:{static_port}", prefix="data"),
        ]) + "\n"
        (tmp / "config.yaml").write_text(config.replace("'true'", "true"))
        fcgi_port, http_port = free_port(), free_port()
        worker = subprocess.Popen([str(BIN), "--config", str(tmp / "config.yaml"), "--socket",
                                   f"tcp:127.0.0.1:{fcgi_port}", "--workers", "2"],
                                  stdout=open(tmp / "x2s3.log", "w"), stderr=subprocess.STDOUT)
        procs.append(worker)
        wait_port(fcgi_port, worker)
        (tmp / "nginx").mkdir()
        user = "user root;" if os.getuid() == 0 else ""
        (tmp / "nginx.conf").write_text(f"""
{user}
worker_processes 2;
daemon off;
pid {tmp}/nginx/nginx.pid;
error_log {tmp}/nginx/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    log_format conn '$connection $connection_requests $request_method $uri';
    client_body_temp_path {tmp}/nginx/body;
    fastcgi_temp_path {tmp}/nginx/fastcgi;
    proxy_temp_path {tmp}/nginx/proxy;
    uwsgi_temp_path {tmp}/nginx/uwsgi;
    scgi_temp_path {tmp}/nginx/scgi;
{fastcgi_server(http_port, fcgi_port)}
    server {{
        listen 127.0.0.1:{static_port};
        access_log {tmp}/nginx/static.log conn;
        keepalive_requests 1000;
        location / {{ root {tmp}/static; }}
    }}
}}
""")
        nginx = subprocess.Popen(["nginx", "-e", f"{tmp}/nginx/error.log", "-p", f"{tmp}/nginx", "-c", f"{tmp}/nginx.conf"])
        procs.append(nginx)
        wait_port(http_port, nginx)
        base = f"http://127.0.0.1:{http_port}"
        client = boto3.client("s3", endpoint_url=base, region_name="us-east-1",
                              config=BotoConfig(signature_version=botocore.UNSIGNED, s3={"addressing_style": "path"},
                                                retries={"max_attempts": 1}))
        yield {"base": base, "s3": client, "upstream": s3, "objects": objects, "tmp": tmp, "worker": worker,
               "upstream_url": upstream, "static_url": f"http://127.0.0.1:{static_port}"}
    finally:
        for p in reversed(procs):
            stop(p)
        for f in fakes:
            f.close()
        if not os.environ.get("KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


def error_code(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def fastcgi_server(port, fcgi_port):
    """An nginx server block passing everything to x2s3 workers on `fcgi_port` (no cache, no
    spooling), shared by the S3-upstream tests."""
    return f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{
            fastcgi_pass 127.0.0.1:{fcgi_port};
            # As nginx/x2s3.conf.template: a worker's cut must reach the client as a cut.
            fastcgi_keep_conn on;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param SCRIPT_NAME "";
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param HTTP_HOST $http_host;
            fastcgi_buffer_size 64k;
            fastcgi_buffers 32 64k;
            fastcgi_busy_buffers_size 256k;
            fastcgi_max_temp_file_size 0;
        }}
    }}"""
