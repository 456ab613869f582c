"""Kept FastCGI connections (nginx upstream keepalive + fastcgi_keep_conn): a worker keeps one
libfcgi request per connection and waits on all of them and the listening socket at once, so
an idle kept connection never pins it; before slow work it closes its idle connections; past
FastCGIRequest.maxKeptConnections it closes the least recently used one. The pool tests speak
FastCGI to a one-worker pool directly, choosing which connection carries each request; the
last test checks the same through nginx with its default keepalive.

Timeouts here only turn a hang (the old behaviour: a worker blocked on an idle connection)
into a failure; nothing asserts a speed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import children_of
from faults import BIN, MIB, FastCGIClient, bare_pool, file_target, pattern_bytes, private_server

MAX_KEPT = 128  # FastCGIRequest.maxKeptConnections
SMALL = b"small object\n" * 100


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    top = tmp_path_factory.mktemp("keepalive-data")
    files = {"small.bin": SMALL, "big.bin": pattern_bytes(16 * MIB, seed=5), "huge.bin": pattern_bytes(64 * MIB, seed=6)}
    for k, v in files.items():
        (top / k).write_bytes(v)
    return top, files


@pytest.fixture()
def pool(tree, tmp_path):
    """A one-worker x2s3 pool on a TCP port, no nginx."""
    if not BIN.exists():
        pytest.skip(f"no x2s3 binary at {BIN}")
    config = tmp_path / "config.yaml"
    config.write_text("log_level: INFO\ntargets:\n" + file_target("data", tree[0]))
    with bare_pool(config, 1, tmp_path / "pool.log") as (proc, port):
        yield proc, port


def client(port: int) -> FastCGIClient:
    return FastCGIClient("127.0.0.1", port, timeout=10)


def assert_small(head: bytes, body: bytes) -> None:
    assert head.startswith(b"Status: 200 OK"), head[:200]
    assert body == SMALL


def test_an_idle_kept_connection_does_not_pin_the_worker(pool):
    _, port = pool
    kept, fresh = client(port), client(port)
    try:
        assert_small(*kept.get("/data/small.bin"))
        # The only worker holds `kept` open and idle; a plain libfcgi loop would now block
        # reading it and never accept `fresh`.
        assert_small(*fresh.get("/data/small.bin", keep=False))
        assert fresh.closed_by_peer(10), "a connection without FCGI_KEEP_CONN was not closed"
        # And the kept one is still served, on the same connection.
        for _ in range(3):
            assert_small(*kept.get("/data/small.bin"))
    finally:
        kept.close()
        fresh.close()


def test_requests_on_many_kept_connections_are_all_answered(pool):
    _, port = pool
    conns = [client(port) for _ in range(6)]
    try:
        for c in conns:
            assert_small(*c.get("/data/small.bin"))
        for order in (conns, conns[::-1]):
            # Every connection has a request waiting before any answer is read.
            for c in order:
                c.send({"REQUEST_METHOD": "GET", "REQUEST_URI": "/data/small.bin", "HTTP_HOST": "localhost"},
                       keep=True)
            for c in order:
                head, _, body = c.read_stdout().partition(b"\r\n\r\n")
                assert c.ended, "no END_REQUEST"
                assert_small(head, body)
    finally:
        for c in conns:
            c.close()


def test_a_large_body_first_closes_the_idle_connections(pool, tree):
    _, port = pool
    idle, big = client(port), client(port)
    try:
        assert_small(*idle.get("/data/small.bin"))
        big.send({"REQUEST_METHOD": "GET", "REQUEST_URI": "/data/big.bin", "HTTP_HOST": "localhost"}, keep=True)
        first = big.read_stdout(limit=MIB)
        # The worker is now busy for as long as this client takes; nginx must not queue new
        # requests on its idle connection, so the worker has closed it.
        assert idle.closed_by_peer(10), "the idle kept connection stayed open during a 16 MiB body"
        head, _, body = (first + big.read_stdout()).partition(b"\r\n\r\n")
        assert big.ended
        assert head.startswith(b"Status: 200 OK"), head[:200]
        assert body == tree[1]["big.bin"]
        # The connection that carried the large body is kept and still works.
        assert_small(*big.get("/data/small.bin"))
    finally:
        idle.close()
        big.close()


def test_past_the_limit_the_least_recently_used_connection_is_closed(pool):
    _, port = pool
    conns = []
    try:
        for _ in range(MAX_KEPT):
            conns.append(client(port))
            assert_small(*conns[-1].get("/data/small.bin"))
        # Use the first one again: the least recently used is now the second.
        assert_small(*conns[0].get("/data/small.bin"))
        extra = client(port)
        conns.append(extra)
        assert_small(*extra.get("/data/small.bin"))
        assert conns[1].closed_by_peer(10), "the least recently used connection was not closed"
        for c in (conns[0], conns[2], conns[-2], extra):
            assert_small(*c.get("/data/small.bin"))
    finally:
        for c in conns:
            c.close()


def test_sigterm_closes_idle_kept_connections(pool):
    proc, port = pool
    kept = client(port)
    try:
        assert_small(*kept.get("/data/small.bin"))
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        assert kept.closed_by_peer(5), "a kept connection outlived its worker"
    finally:
        kept.close()


def test_a_stopped_worker_finishes_its_request_and_takes_no_other(pool, tree, tmp_path):
    """SIGTERM reaches a worker busy writing a response: that response completes, and requests
    already waiting for it (readable kept or new connections) are left to its replacement. The
    signal stays blocked while a response is written, and ppoll reports ready connections
    rather than a pending signal, so without a check a worker under steady load kept serving
    until the pool's SIGKILL cut a response."""
    proc, port = pool
    _, files = tree
    (worker,) = children_of(proc.pid)
    busy, queued = client(port), [client(port) for _ in range(2)]
    try:
        busy.send({"REQUEST_METHOD": "GET", "REQUEST_URI": "/data/huge.bin", "HTTP_HOST": "localhost",
                   "SERVER_PROTOCOL": "HTTP/1.1"}, keep=True)
        first = busy.read_stdout(limit=1)  # in flight; not read further until the signal is sent
        assert first.startswith(b"Status: 200")
        for c in queued:
            c.send({"REQUEST_METHOD": "GET", "REQUEST_URI": "/data/small.bin", "HTTP_HOST": "localhost",
                    "SERVER_PROTOCOL": "HTTP/1.1"}, keep=True)
        os.kill(worker, signal.SIGTERM)
        _, _, body = (first + busy.read_stdout()).partition(b"\r\n\r\n")
        assert busy.ended and body == files["huge.bin"]
        ids = []
        for c in queued:
            head, _, body = c.read_stdout().partition(b"\r\n\r\n")
            assert_small(head, body)
            ids.append(re.search(rb"x-amz-request-id: (\w+)", head).group(1).decode())
    finally:
        busy.close()
        for c in queued:
            c.close()
    log = (tmp_path / "pool.log").read_text()
    for rid in ids:
        line = next(l for l in log.splitlines() if f"request.id={rid}" in l)
        assert f"pid={worker} " not in line, f"the stopped worker took a new request: {line}"


@pytest.mark.parametrize("forged", ["request", "record_length"])
def test_a_request_body_is_never_read_as_the_next_request(pool, forged):
    """x2s3 reads no request body, but whatever a request leaves unread on a kept connection is
    parsed as the next request on it: a client's body (nginx forwards up to 16 KiB) could carry
    forged FastCGI records, a whole request of its choosing or a header whose length holds the
    worker reading forever. libfcgi's first read takes 8192 bytes, so the forgery starts there."""
    _, port = pool
    params = {"REQUEST_METHOD": "PUT", "REQUEST_URI": "/data/upload", "HTTP_HOST": "localhost",
              "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_LENGTH": "12288"}
    body_starts = len(FastCGIClient.request(params, keep=True)) - 8 + 8  # minus the end record, plus the STDIN header
    if forged == "request":
        forgery = FastCGIClient.request({"REQUEST_METHOD": "GET", "REQUEST_URI": "/data/forged-marker",
                                         "HTTP_HOST": "localhost", "SERVER_PROTOCOL": "HTTP/1.1"}, keep=True)
    else:  # a STDIN header for another request id announcing 65528 bytes that never come
        forgery = struct.pack(">BBHHBx", 1, 5, 2, 0xFFF8, 0)
    body = b"x" * (8192 - body_starts) + forgery
    body += b"y" * (12288 - len(body))
    c = client(port)
    try:
        c.send(params, keep=True, stdin=body)
        head, _, _ = c.read_stdout().partition(b"\r\n\r\n")
        assert head.startswith(b"Status: 405"), head[:200]
        # The next request on the same connection gets its own answer, and only that.
        assert_small(*c.get("/data/small.bin"))
        assert_small(*c.get("/data/small.bin"))
    finally:
        c.close()


def test_small_requests_do_not_queue_behind_a_slow_download_through_nginx(tree, tmp_path):
    """nginx with its default upstream keepalive, 2 workers: one worker is held by a client
    that stops reading a 64 MiB download (more than nginx's buffers and both sockets' can
    take, so the worker stays busy writing it); 200 small GETs meanwhile all succeed (had nginx sent
    any of them down that worker's idle kept connections, it would wait for the download)."""
    data, files = tree
    with private_server(tmp_path, file_target("data", data), workers=2, warm=["/data/small.bin"]) as srv:
        slow = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        slow.sendall(b"GET /data/huge.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        got = slow.recv(4096)
        assert got.startswith(b"HTTP/1.1 200"), got[:200]
        errors: list[str] = []
        lock = threading.Lock()

        url = srv.base_url.rstrip("/") + "/data/small.bin"

        def small(_: int) -> None:
            with requests.Session() as s:
                for _ in range(25):
                    r = s.get(url, timeout=10)
                    if r.status_code != 200 or r.content != SMALL:
                        with lock:
                            errors.append(f"{r.status_code} {len(r.content)}")
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(small, range(8)))
        assert errors == []
        # The held download is still whole once its client reads again.
        rest = bytearray(got)
        while chunk := slow.recv(1 << 20):
            rest += chunk
        slow.close()
        assert bytes(rest).partition(b"\r\n\r\n")[2] == files["huge.bin"]


def test_writes_racing_closed_kept_connections_still_get_405_through_nginx(tree, tmp_path):
    """Workers close their idle kept connections before every large body; a POST nginx was just
    sending down one is retried on a fresh connection (fastcgi_next_upstream non_idempotent),
    so it is answered 405 MethodNotAllowed like any other write, never 502."""
    data, _ = tree
    with private_server(tmp_path, file_target("data", data), workers=2, warm=["/data/small.bin"]) as srv:
        base = srv.base_url.rstrip("/")
        statuses: list[int] = []
        lock = threading.Lock()

        def large(_: int) -> None:
            with requests.Session() as s:
                for _ in range(20):
                    s.get(base + "/data/big.bin", timeout=30).content

        def writes(_: int) -> None:
            with requests.Session() as s:
                for i in range(150):
                    r = s.post(base + f"/data/new-{i}", data=b"z" * 100, timeout=30)
                    with lock:
                        statuses.append(r.status_code)
                    assert r.status_code != 405 or b"<Code>MethodNotAllowed</Code>" in r.content

        with ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda n: large(n) if n < 2 else writes(n), range(8)))
        assert len(statuses) == 6 * 150
        assert set(statuses) == {405}, sorted(set(statuses))
