"""Faults (docs/contract.md#run-modes, #reliability-and-security): a worker SIGKILLed mid-request, SIGTERM draining an
in-flight download, SIGHUP reloading the config under load, and upstream S3 endpoints that
reset, stall or send garbage. Each test has a server of its own, because these replace or
saturate workers. Figures are printed (pytest -s shows them); X2S3_LONG_TESTS=1 lengthens
the load around the reload.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import assert_s3_error
from faults import (BIN, LONG, MIB, FakeUpstream, FastCGIClient, bare_pool, fds_settle, file_target,
                    pattern_bytes, private_server, rebaseline, s3_target, wait_for, worker_serving)

BIG = 64 * MIB


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A bucket directory shared by the tests here (each server of its own reads it)."""
    top = tmp_path_factory.mktemp("faults-data")
    content = pattern_bytes(BIG, seed=11)
    files = {"big64.bin": content, "small.txt": b"small\n", "mid.bin": content[:3 * MIB + 17]}
    for k, v in files.items():
        (top / k).write_bytes(v)
    return top, files


def test_sigkilled_worker_cuts_its_response_and_the_pool_refills(tree, tmp_path):
    data, files = tree
    # nginx spools what a client has not read: with the default bound the worker would finish
    # the 64 MiB at once. Over a 1 MiB bound it stays mid-response while this client waits.
    with private_server(tmp_path, file_target("data", data), workers=2, warm=["/data/small.txt"],
                        env={"X2S3_SPOOL_MAX": "1m"}) as srv:
        before = srv.worker_pids()
        with requests.get(srv.base_url + "data/big64.bin", stream=True, timeout=30) as r:
            it = r.raw.stream(256 * 1024, decode_content=False)
            got = len(next(it))
            victim = None
            wait_for(lambda: worker_serving(srv, "big64.bin") is not None, 10)
            victim = worker_serving(srv, "big64.bin")
            assert victim is not None, "no worker has big64.bin open"
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            cut = False
            try:
                for chunk in it:
                    got += len(chunk)
            except Exception:  # urllib3 ProtocolError / IncompleteRead: the client sees the cut
                cut = True
        cut_seen = time.monotonic() - killed
        assert cut or got < BIG, "the killed worker's response arrived whole"
        # Recovery: the pool forks a replacement and the next request succeeds.
        refilled = wait_for(lambda: len(srv.worker_pids()) == 2 and victim not in srv.worker_pids(), 15)
        assert refilled, f"pool not refilled: killed {victim}, workers now {srv.worker_pids()}"
        statuses = []
        while time.monotonic() - killed < 15 and statuses[-1:] != [200]:
            statuses.append(requests.get(srv.base_url + "data/small.txt", timeout=10).status_code)
        recovery = time.monotonic() - killed
        assert statuses[-1:] == [200], f"no request succeeded after the kill: {statuses[:20]} (cut seen after {cut_seen:.1f}s, got {got})"
        r = requests.get(srv.base_url + "data/mid.bin", timeout=30)
        assert r.status_code == 200 and r.content == files["mid.bin"]
        print(f"\nSIGKILL: response cut after {got} of {BIG} bytes; workers {before} -> {srv.worker_pids()}; "
              f"recovered (replacement forked and a request served) {recovery * 1000:.0f} ms after the kill")
        for _ in range(8):  # warm the replacement before the teardown's fd check
            requests.get(srv.base_url + "data/small.txt", timeout=10)
        rebaseline(srv)


def test_sigterm_drains_an_in_flight_download(tree, tmp_path):
    """Talks FastCGI to the pool directly, so the result is the pool's and not nginx's."""
    if not BIN.exists():
        pytest.skip(f"no x2s3 binary at {BIN}")
    data, files = tree
    config = tmp_path / "config.yaml"
    config.write_text("log_level: INFO\ntargets:\n" + file_target("data", data))
    with bare_pool(config, 2, tmp_path / "pool.log") as (proc, port):
        c = FastCGIClient("127.0.0.1", port)
        try:
            c.send({"REQUEST_METHOD": "GET", "REQUEST_URI": "/data/big64.bin", "HTTP_HOST": "localhost",
                    "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"})
            out = c.read_stdout(limit=MIB)
            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            out += c.read_stdout()
            ended = c.ended
        finally:
            c.close()
        rc = proc.wait(timeout=15)
        drained = time.monotonic() - signalled
    head, _, body = out.partition(b"\r\n\r\n")
    print(f"\nSIGTERM: {len(body)} of {BIG} bytes after the signal arrived mid-stream; pool exited {rc} "
          f"{drained * 1000:.0f} ms after SIGTERM")
    assert head.startswith(b"Status: 200"), head[:200]
    assert ended, "no END_REQUEST: the request was not finished"
    assert body == files["big64.bin"], "the in-flight download was not completed byte for byte"
    assert rc == 0


def test_sighup_reload_under_load_loses_no_request(tree, tmp_path):
    data, files = tree
    duration = 30 if LONG else 6
    with private_server(tmp_path, file_target("data", data), workers=3, warm=["/data/small.txt"]) as srv:
        before = set(srv.worker_pids())
        errors: list[str] = []
        served = [0]
        lock = threading.Lock()
        stop = threading.Event()

        def client(seed: int) -> None:
            rng = random.Random(seed)
            with requests.Session() as s:
                while not stop.is_set() and served[0] < 1_000_000:
                    key = rng.choice(["small.txt", "mid.bin", "big64.bin"] if rng.random() < 0.05 else ["small.txt", "mid.bin"])
                    try:
                        if rng.random() < 0.5:
                            r = s.get(srv.base_url + "data/" + key, timeout=60)
                            ok = r.status_code == 200 and r.content == files[key]
                        else:
                            a = rng.randrange(len(files[key]) - 1)
                            r = s.get(srv.base_url + "data/" + key, headers={"Range": f"bytes={a}-{a + 999}"}, timeout=60)
                            ok = r.status_code == 206 and r.content == files[key][a:a + 1000]
                    except requests.RequestException as e:
                        ok, r = False, e
                    with lock:
                        served[0] += 1
                        if not ok:
                            errors.append(f"{key}: {getattr(r, 'status_code', r)!r}")

        reloads = 0
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client, i) for i in range(4)]
            end = time.monotonic() + duration
            while time.monotonic() < end:
                time.sleep(1)
                os.kill(srv.pool_pid, signal.SIGHUP)
                reloads += 1
            time.sleep(1)
            stop.set()
            for f in futures:
                f.result(timeout=120)
        assert wait_for(lambda: len(srv.worker_pids()) == 3, 15)
        after = set(srv.worker_pids())
        print(f"\nSIGHUP: {reloads} reloads under load, {served[0]} requests, errors: {len(errors)}; "
              f"workers {sorted(before)} -> {sorted(after)}")
        assert not errors, errors[:10]
        assert not (before & after), "a worker of the old generation is still serving"
        for _ in range(12):
            requests.get(srv.base_url + "data/small.txt", timeout=10)
        rebaseline(srv)


@pytest.fixture(scope="module")
def upstreams():
    fakes = {m: FakeUpstream(m) for m in ("reset", "stall", "stall-body", "garbage")}
    for f in fakes.values():
        f.start()
    yield fakes
    for f in fakes.values():
        f.close()


@pytest.fixture(scope="module")
def faulty(tree, upstreams, tmp_path_factory):
    data, files = tree
    targets = file_target("data", data) + "".join(s3_target(m, f.url) for m, f in upstreams.items())
    # One worker, so each bucket's upstream client (a libcurl multi handle with its wakeup
    # socket pair, kept for the worker's life) is opened exactly once and fd counts compare.
    with private_server(tmp_path_factory.mktemp("faulty"), targets, workers=1,
                        warm=["/data/small.txt", "/reset/warm", "/garbage/warm"]) as srv:
        yield srv


@pytest.mark.parametrize("mode,statuses", [("reset", (502, 503)), ("garbage", (502, 503)), ("stall", (504,))])
def test_failing_upstream_is_a_gateway_error_and_the_worker_serves_the_next_request(faulty, mode, statuses):
    workers = faulty.worker_pids()
    start = time.monotonic()
    r = requests.get(faulty.base_url + f"{mode}/some/key.bin", timeout=60)
    took = time.monotonic() - start
    print(f"\nupstream {mode}: {r.status_code} after {took * 1000:.0f} ms")
    assert_s3_error(r.status_code, r.headers, r.content, statuses)
    nxt = requests.get(faulty.base_url + "data/small.txt", timeout=10)
    assert nxt.status_code == 200 and nxt.content == b"small\n"
    assert faulty.worker_pids() == workers


def test_upstream_stalling_mid_body_cuts_the_stream_within_the_timeout(faulty):
    workers = faulty.worker_pids()
    start = time.monotonic()
    got, cut = 0, False
    with requests.get(faulty.base_url + "stall-body/key.bin", stream=True, timeout=60) as r:
        assert r.status_code == 200
        try:
            for chunk in r.raw.stream(65536, decode_content=False):
                got += len(chunk)
        except Exception:
            cut = True
    took = time.monotonic() - start
    print(f"\nupstream stalling mid-body: stream cut after {got} bytes, {took * 1000:.0f} ms")
    assert cut or got < MIB
    nxt = requests.get(faulty.base_url + "data/small.txt", timeout=10)
    assert nxt.status_code == 200
    assert faulty.worker_pids() == workers


def test_repeated_upstream_failures_leak_no_descriptors(faulty):
    """Runs last: every bucket has its client by now, so any growth is a per-request leak."""
    fds = faulty.fd_counts()
    for mode in ("reset", "garbage") * 5 + ("stall",):
        requests.get(faulty.base_url + f"{mode}/again.bin", timeout=60)
    with requests.get(faulty.base_url + "stall-body/again.bin", stream=True, timeout=60) as r:
        try:
            for _ in r.raw.stream(65536, decode_content=False):
                pass
        except Exception:
            pass
    after = fds_settle(faulty, fds)
    print(f"\nupstream failures: fds {fds} -> {after}")
    assert after == fds
    rebaseline(faulty)  # the stall buckets' clients were opened after the warm-up baseline
