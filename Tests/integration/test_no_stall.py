"""No client can stall the pool: the default serve (the dynamic pool, default spooling) with
many clients reading large objects from a file target and an S3 target (moto) and never
finishing, slowloris connections that never complete their headers, and one worker SIGSTOPped
— small GETs and listing pages from another client are all answered, byte-exactly, each within
a bound only a request queued behind a stalled client would exceed. Outcomes, not times: the
bound is a stall detector, the speed figures are scripts/bench's.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import time
import xml.etree.ElementTree as ET

import pytest

from procs import MOTO_ENV, start_moto, stop
from s3diff import seed
from serve_instance import ServeInstance
from test_pool import alive, pool_children

BIG = 16 * 1024 * 1024
SLOW_FILE, SLOW_S3, SLOWLORIS = 24, 12, 20
STALL_BOUND = 5.0
SMALL = {f"s/{i:02d}.txt": f"small {i}\n".encode() * (i + 1) for i in range(20)}


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    top = tmp_path_factory.mktemp("moto-nostall")
    proc, url = start_moto(top / "moto.log")
    rng = random.Random(5)
    big = rng.randbytes(BIG)
    try:
        seed(url, {"upstream-big": {"big.bin": big}})
        yield url, big
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def served(tmp_path_factory, moto):
    url, _ = moto
    top = tmp_path_factory.mktemp("nostall")
    data = top / "data"
    (data / "s").mkdir(parents=True)
    for key, content in SMALL.items():
        (data / key).write_bytes(content)
    big = random.Random(6).randbytes(BIG)
    (data / "big.bin").write_bytes(big)
    config = (f"targets:\n  - name: data\n    client: file\n    options:\n      path: '{data}'\n"
              f"  - name: up\n    client: s3\n    options:\n      bucket: upstream-big\n      endpoint: '{url}'\n"
              "pool: {stuck_after: 90, max_wait: 30}\n")
    env = {k: v for k, v in MOTO_ENV.items() if k == "AWS_DEFAULT_REGION"}
    with ServeInstance(top, config, workers=None, env=env) as inst:
        inst.big = big
        yield inst


def slow_reader(inst: ServeInstance, path: str) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", inst.port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    return s


def slowloris(inst: ServeInstance) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", inst.port), timeout=30)
    s.sendall(b"GET /data/s/00.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    return s


def probe(inst: ServeInstance) -> list[str]:
    """Every small object and a two-page listing; returns what went wrong (empty: nothing)."""
    problems = []
    for key, content in SMALL.items():
        t0 = time.monotonic()
        r = inst.session.get(f"{inst.base_url}/data/{key}", timeout=STALL_BOUND * 4)
        took = time.monotonic() - t0
        if r.status_code != 200 or r.content != content:
            problems.append(f"GET {key}: {r.status_code} {r.content[:80]!r}")
        elif took > STALL_BOUND:
            problems.append(f"GET {key} waited {took:.1f} s")
    keys: list[str] = []
    token = None
    for _ in range(2):
        q = "list-type=2&prefix=s/&max-keys=10" + (f"&continuation-token={token}" if token else "")
        t0 = time.monotonic()
        r = inst.session.get(f"{inst.base_url}/data?{q}", timeout=STALL_BOUND * 4)
        took = time.monotonic() - t0
        if r.status_code != 200 or took > STALL_BOUND:
            problems.append(f"listing: {r.status_code} after {took:.1f} s")
            break

        doc = ET.fromstring(r.content)
        ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
        keys += [e.text for e in doc.findall("s:Contents/s:Key", ns)]
        token = doc.findtext("s:NextContinuationToken", namespaces=ns)
        if not token:
            break
    if keys != sorted(SMALL):
        problems.append(f"listing keys {keys}")
    return problems


@pytest.mark.parametrize("stop_a_worker", [False, True], ids=["running", "one-worker-stopped"])
def test_slow_clients_slowloris_and_a_stopped_worker_stall_no_one(served, moto, stop_a_worker):
    sockets: list[socket.socket] = []
    victim = None
    try:
        sockets += [slow_reader(served, "/data/big.bin") for _ in range(SLOW_FILE)]
        sockets += [slow_reader(served, "/up/big.bin") for _ in range(SLOW_S3)]
        sockets += [slowloris(served) for _ in range(SLOWLORIS)]
        # Every slow download has its answer under way (its head) before a worker is stopped: a
        # request a worker holds when it is stopped is lost with it, like one whose worker crashed.
        heads = {}
        for s in sockets[:SLOW_FILE + SLOW_S3]:
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                assert chunk, f"slow download closed before its head: {buf[:200]!r}"
                buf += chunk
            heads[s] = buf
        if stop_a_worker:
            victim = max(pool_children(served))
            os.kill(victim, signal.SIGSTOP)
        assert probe(served) == []
        # The slow downloads are intact: each starts with a 200 head and, read on, the
        # object's first bytes.
        for s, want in zip(sockets[:SLOW_FILE + SLOW_S3],
                           [served.big] * SLOW_FILE + [moto[1]] * SLOW_S3):
            buf = heads[s]
            while len(buf.split(b"\r\n\r\n", 1)[1]) < 65536:
                try:
                    chunk = s.recv(65536)
                except TimeoutError:
                    raise AssertionError(f"slow download {sockets.index(s)} stalled after {len(buf)} bytes: "
                                         f"{buf[:300]!r}\n" + (served.run_dir / "error.log").read_text()[-3000:])
                assert chunk, f"slow download closed early: {buf[:200]!r}"
                buf += chunk
            head, body = buf.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 200"), head[:100]
            assert f"Content-Length: {BIG}".encode() in head
            assert body == want[:len(body)]
    finally:
        for s in sockets:
            s.close()
        if victim is not None and alive(victim):
            os.kill(victim, signal.SIGCONT)
