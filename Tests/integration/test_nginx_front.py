"""nginx in front of the pool, both profiles: slow clients cost nginx spool space, not workers;
the responses nginx makes itself (400, 404, 413 hand-off, 414, 494, 502, 503, 504) are S3 XML with a
request id and CORS; per-client limits and worker_connections in production. The full temp disk
(the free-space watchdog) is in test_nginx_space.py."""

from __future__ import annotations

import hashlib
import os
import random
import re
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import assert_s3_error
from faults import FakeUpstream, s3_target
from serve_instance import ServeInstance
from test_production import prod  # noqa: F401  (the production fixture, reused)

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

BIG = 96 * 1024 * 1024 + 5      # far beyond nginx's 2 MiB of buffers and the socket buffers
STALL_BOUND = 5.0               # only a request queued behind a stalled worker takes this long
SMALL = {f"small/s{i}.txt": f"small object {i}\n".encode() * (i + 1) for i in range(6)}
EXPOSE = "x-amz-request-id"


def write_sparse_big(path: Path, size: int, seed: int) -> str:
    """A sparse file with random 64 KiB blocks at its start, middle and end (a cheap object whose
    bytes still tell a shifted or truncated body from the right one); returns its SHA-256."""
    rng = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(size)
        for off in (0, size // 2, size - 65536):
            f.seek(off)
            f.write(rng.getrandbits(8 * 65536).to_bytes(65536, "little"))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def data_config(root: Path) -> str:
    return f"ui: true\ntargets:\n  - name: data\n    client: file\n    options:\n      path: '{root}'\n"


def make_tree(top: Path) -> Path:
    root = top / "data"
    for key, content in SMALL.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(content)
    return root


# --- a raw client: exactly the bytes given, plain or TLS (self-signed) ----------------------

def connect(inst: ServeInstance, rcvbuf: int | None = None, timeout: float = 30) -> socket.socket:
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", inst.port))
    if inst.scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="localhost")
    return s


def read_head(s: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers, and the body bytes already received with them."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed inside the headers: {buf[:300]!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, rest


def raw(inst: ServeInstance, method: str, target: str, headers: dict[str, str] | None = None,
        body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection (Connection: close); the body is read to EOF."""
    hdrs = {"Host": "localhost", "Connection": "close", **(headers or {})}
    if body:
        hdrs["Content-Length"] = str(len(body))
    req = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    with connect(inst) as s:
        s.sendall(req.encode("latin-1") + body)
        status, h, rest = read_head(s)
        chunks = [rest]
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return status, h, b"".join(chunks)


def assert_nginx_error(inst: ServeInstance, status: int, headers: dict[str, str], body: bytes,
                       want_status: int, code: str, method: str = "GET") -> str:
    """nginx's own error: S3 XML (or, for HEAD, its headers without a body), x-amz-request-id,
    CORS, HSTS in production; the id is also the access log's for that request."""
    assert status == want_status, (status, body[:300])
    rid = headers.get("x-amz-request-id", "")
    assert headers.get("access-control-allow-origin") == "*", headers
    assert EXPOSE in headers.get("access-control-expose-headers", ""), headers
    if inst.profile == "production":
        assert headers.get("strict-transport-security", "").startswith("max-age="), headers
    if method == "HEAD":
        assert body == b"", body[:200]
        assert len(rid) == 16 and rid.isalnum() and rid.upper() == rid, rid
    else:
        fields = assert_s3_error(status, headers, body, want_status, code)
        rid = fields["RequestId"]
    deadline = time.monotonic() + 2
    while not any(f"rid={rid}" in line for line in inst.access_lines()) and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next((line for line in inst.access_lines() if f"rid={rid}" in line), None)
    assert line is not None, f"request id {rid} not in the access log: {inst.access_lines()[-3:]}"
    assert f'" {want_status} ' in line, line
    return rid


def timed_get(inst: ServeInstance, path: str) -> tuple[int, bytes, float]:
    t0 = time.monotonic()
    r = inst.session.get(inst.base_url + path, timeout=STALL_BOUND * 3)
    return r.status_code, r.content, time.monotonic() - t0


# --- slow clients (the default serve: 2 workers, default spooling) -------------------------

@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    top = tmp_path_factory.mktemp("front")
    root = make_tree(top)
    digest = write_sparse_big(root / "big.bin", BIG, 11)
    with ServeInstance(top, data_config(root)) as inst:
        inst.root = root
        inst.big_sha = digest
        yield inst


def test_slow_readers_do_not_stall_other_requests(dev):
    """Three clients (more than the pool's 2 workers) request a 96 MiB object and then read
    nothing. nginx spools what they have not taken, so the workers finish those responses at
    once (their log lines show all the bytes sent) and every other request is answered; read to
    the end afterwards, each slow download is complete and byte-exact. With spooling off
    (fastcgi_max_temp_file_size 0) the small GETs below waited for nginx's 75 s timeout."""
    listing = "/data?list-type=2&prefix=small/"
    status, before, _ = timed_get(dev, listing)
    assert status == 200 and before.count(b"<Key>") == len(SMALL), before[:500]
    slow = []
    try:
        for _ in range(3):
            s = connect(dev, rcvbuf=4096)
            s.sendall(b"GET /data/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            slow.append(s)
        heads = [read_head(s) for s in slow]
        assert [h[0] for h in heads] == [200] * 3
        # The workers are done with all three while their clients read nothing more.
        lines = dev.settle("/data/big.bin", 3, timeout=20)
        assert len(lines) >= 3, f"the workers did not finish the slow responses: {lines}"
        # (the worker's bytes= counts the FastCGI headers too)
        assert all(int(re.search(r"\bbytes=(\d+)", line).group(1)) >= BIG for line in lines[-3:]), lines

        for key, content in SMALL.items():
            status, body, took = timed_get(dev, "/data/" + key)
            assert status == 200 and body == content, (key, status, body[:100])
            assert took < STALL_BOUND, f"GET {key} took {took:.1f} s behind the slow readers"
        status, body, took = timed_get(dev, listing)
        assert status == 200 and took < STALL_BOUND, (status, took)
        assert body == before

        # Now drain the slow downloads at full speed: each one whole and byte-exact.
        for s, (_, headers, rest) in zip(slow, heads):
            assert int(headers["content-length"]) == BIG
            h, n = hashlib.sha256(rest), len(rest)
            while n < BIG:
                chunk = s.recv(1 << 20)
                assert chunk, f"slow download cut after {n} of {BIG} bytes"
                h.update(chunk)
                n += len(chunk)
            assert n == BIG and h.hexdigest() == dev.big_sha
    finally:
        for s in slow:
            s.close()


# --- nginx's own errors, both profiles ----------------------------------------------------

@pytest.fixture(params=["dev", "production"])
def front(request, dev):
    """The dev instance above (bucket "data"), or test_production's production one ("alpha")."""
    if request.param == "dev":
        dev.bucket = "data"
        return dev
    inst = request.getfixturevalue("prod")
    inst.bucket = "alpha"
    return inst


def test_400_path_above_root_is_s3_xml(front):
    for method in ("GET", "HEAD"):
        status, h, body = raw(front, method, f"/{front.bucket}/%2e%2e/%2e%2e/etc/passwd")
        assert_nginx_error(front, status, h, body, 400, "InvalidURI", method)


def test_414_overlong_request_line_is_s3_xml(front):
    status, h, body = raw(front, "GET", f"/{front.bucket}/" + "a" * 20000)
    assert_nginx_error(front, status, h, body, 414, "InvalidURI")


def test_501_unimplemented_transfer_encoding_is_s3_xml(front):
    status, h, body = raw(front, "GET", f"/{front.bucket}/x.txt", {"Transfer-Encoding": "gzip"})
    assert_nginx_error(front, status, h, body, 501, "NotImplemented")


def test_505_unsupported_http_version_is_s3_xml(front):
    with connect(front) as s:
        s.sendall(f"GET /{front.bucket}/x.txt HTTP/3.0\r\nHost: localhost\r\n\r\n".encode())
        status, h, rest = read_head(s)
        chunks = [rest]
        while chunk := s.recv(65536):
            chunks.append(chunk)
    assert_nginx_error(front, status, h, b"".join(chunks), 505, "InvalidRequest")


def test_494_oversized_header_is_s3_xml_400(front):
    status, h, body = raw(front, "GET", f"/{front.bucket}/x.txt", {"X-Big": "b" * 20000})
    assert_nginx_error(front, status, h, body, 400, "RequestHeaderSectionTooLarge")


def test_internal_locations_are_not_reachable_and_answer_s3_xml(front):
    """The error pages and the offload location are internal: a client asking for them gets
    nginx's 404, as S3 XML, and nothing of what they would serve."""
    for target in ("/.x2s3-error/502", "/.x2s3-offload/etc/passwd"):
        status, h, body = raw(front, "GET", target)
        assert_nginx_error(front, status, h, body, 404, "NoSuchKey")
        assert b"root:" not in body


def test_plain_http_on_the_tls_port_is_s3_xml(prod):  # noqa: F811
    """nginx's 497 (sent as 400) in production."""
    with socket.create_connection(("127.0.0.1", prod.port), timeout=30) as s:
        s.sendall(b"GET /alpha/plain.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status, h, rest = read_head(s)
        chunks = [rest]
        while chunk := s.recv(65536):
            chunks.append(chunk)
    assert_nginx_error(prod, status, h, b"".join(chunks), 400, "InvalidRequest")


def test_body_over_the_limit_is_the_workers_xml_405(front):
    """A body over client_max_body_size is nginx's 413, which errors.conf hands to the worker:
    a write to a read-only bucket is S3's 405 MethodNotAllowed, with the worker's request id."""
    status, h, body = raw(front, "PUT", f"/{front.bucket}/new.bin", body=b"x" * 40000)
    fields = assert_s3_error(status, h, body, 405, "MethodNotAllowed")
    assert h.get("access-control-allow-origin") == "*"
    assert fields["RequestId"] == h["x-amz-request-id"]


# --- 502 / 503 / 504: a pool that is gone, stopped, or one address over its limit ----------

@pytest.fixture(scope="module")
def stall_upstream():
    up = FakeUpstream("stall")
    up.start()
    yield up
    up.close()


@pytest.fixture(scope="module", params=["dev", "production"])
def faulty(request, tmp_path_factory, stall_upstream):
    """A separate instance for breaking the pool: nginx waits 2 s for a worker; no upstream
    keepalive (a kept connection would survive the socket's removal); production allows 2
    requests in progress per address. Bucket "stall" is an S3 target whose upstream never
    answers: its worker waits 3 s (its read_timeout), longer than nginx waits for it."""
    top = tmp_path_factory.mktemp(f"faulty-{request.param}")
    root = make_tree(top)
    env = {"X2S3_FASTCGI_READ_TIMEOUT": "2s", "X2S3_UPSTREAM_KEEPALIVE": "0", "X2S3_CONN_PER_IP": "2"}
    config = data_config(root) + s3_target("stall", stall_upstream.url, read_timeout=3)
    with ServeInstance(top, config, profile=request.param, env=env) as inst:
        yield inst


def test_504_when_a_worker_does_not_answer_in_time(faulty):
    """nginx's own 504 (its fastcgi_read_timeout), not the worker's: the worker is still
    waiting for its upstream when nginx gives up."""
    t0 = time.monotonic()
    status, h, body = raw(faulty, "GET", "/stall/k.bin")
    took = time.monotonic() - t0
    assert_nginx_error(faulty, status, h, body, 504, "GatewayTimeout")
    assert took < 15, took
    status, h, body = raw(faulty, "HEAD", "/stall/k.bin")
    assert_nginx_error(faulty, status, h, body, 504, "GatewayTimeout", "HEAD")
    status, h, body = raw(faulty, "GET", "/data/small/s2.txt")
    assert status == 200 and body == SMALL["small/s2.txt"]


def test_502_when_the_pool_socket_is_gone(faulty):
    sock = faulty.run_dir / "x2s3.sock"
    away = faulty.run_dir / "x2s3.sock.away"
    os.rename(sock, away)
    try:
        status, h, body = raw(faulty, "GET", "/data/small/s1.txt")
        assert_nginx_error(faulty, status, h, body, 502, "BadGateway")
        status, h, body = raw(faulty, "HEAD", "/data/small/s1.txt")
        assert_nginx_error(faulty, status, h, body, 502, "BadGateway", "HEAD")
        # The 413 hand-off to the worker fails too: still XML (a second error page).
        status, h, body = raw(faulty, "PUT", "/data/x", body=b"y" * 40000)
        assert_nginx_error(faulty, status, h, body, 502, "BadGateway")
    finally:
        os.rename(away, sock)
    status, h, body = raw(faulty, "GET", "/data/small/s1.txt")
    assert status == 200 and body == SMALL["small/s1.txt"]


def test_503_slowdown_past_the_per_client_limit(faulty):
    """Production: X2S3_CONN_PER_IP=2 requests in progress per address. Two hang on a stalled
    upstream; a third is refused at once with S3's 503 SlowDown and Retry-After."""
    if faulty.profile != "production":
        pytest.skip("per-client limits are a production-profile feature")
    with ThreadPoolExecutor(2) as ex:
        hung = [ex.submit(raw, faulty, "GET", f"/stall/k{i}.bin") for i in (4, 5)]
        time.sleep(0.5)  # both are in progress (waiting for a worker)
        status, h, body = raw(faulty, "GET", "/data/small/s0.txt")
        assert_nginx_error(faulty, status, h, body, 503, "SlowDown")
        assert h.get("retry-after") == "1", h
        assert [f.result(timeout=30)[0] for f in hung] == [504, 504]


def test_half_open_connections_do_not_exhaust_nginx(prod):  # noqa: F811
    """2,100 connections from one address that never send a byte (nor a TLS hello): not
    counted by limit_conn, held until client_header_timeout, and within worker_connections, so a
    real request from the same address is still answered."""
    conns = []
    try:
        for _ in range(2100):
            s = socket.create_connection(("127.0.0.1", prod.port), timeout=10)
            conns.append(s)
        t0 = time.monotonic()
        r = prod.get("/alpha/plain.txt")
        assert r.status_code == 200 and r.content == b"plain.txt\n"
        assert time.monotonic() - t0 < STALL_BOUND
        # client_header_timeout (10 s): nginx closes them, none is kept.
        conns[0].settimeout(30)
        t0 = time.monotonic()
        assert conns[0].recv(1) == b"", "nginx sent something to a connection that sent nothing"
        assert time.monotonic() - t0 < 15
    finally:
        for s in conns:
            s.close()
    errors = (prod.run_dir / "error.log").read_text(errors="replace")
    assert "worker_connections are not enough" not in errors
