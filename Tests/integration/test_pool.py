"""The supervised pool (`x2s3 --socket ...` without --workers): it grows while workers are held,
shrinks when they are idle again, answers 503 SlowDown once every worker has been busy for
`max_wait`, replaces a stopped worker, and its workers exit when the leader dies.

Workers are held by an S3 target whose upstream never answers (faults.FakeUpstream "stall"):
the worker waits out its read_timeout whatever nginx buffers or spools, so the tests do not
depend on nginx's settings. Waits are bounded (a hang guard), never timed assertions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from conftest import REQUEST_ID
from faults import BIN, FakeUpstream, bare_pool, file_target, s3_target, wait_for
from serve_instance import ServeInstance


def pool_children(s: ServeInstance) -> set[int]:
    return children_of(int((s.run_dir / "x2s3.pid").read_text()))


def children_of(leader: int) -> set[int]:
    try:
        text = Path(f"/proc/{leader}/task/{leader}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in text.split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # an exited child its dead leader never reaped


@pytest.fixture
def stall():
    up = FakeUpstream("stall")
    up.start()
    yield up
    up.close()


def config(tmp: Path, stall_url: str, pool: str) -> str:
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    (data / "small.txt").write_bytes(b"small\n")
    return ("log_level: INFO\ntargets:\n" + file_target("data", data)
            + s3_target("stall", stall_url, read_timeout=20) + f"pool: {pool}\n")


def hold(s: ServeInstance, n: int) -> list[threading.Thread]:
    """n requests that each hold a worker until the upstream read times out (or is closed)."""
    def one():
        try:
            s.get("/stall/key.bin")
        except requests.RequestException:
            pass
    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def small_get_ok(s: ServeInstance) -> None:
    start = time.monotonic()
    r = s.get("/data/small.txt")
    took = time.monotonic() - start
    assert r.status_code == 200 and r.content == b"small\n", (r.status_code, r.content[:200])
    assert took < 5, f"a small GET waited {took:.1f} s behind held workers"


def test_pool_grows_while_workers_are_held_and_shrinks_when_idle(tmp_path, stall):
    text = config(tmp_path, stall.url, "{start: 1, min_spare: 1, max_spare: 1, max_workers: 5, stuck_after: 60, max_wait: 30}")
    with ServeInstance(tmp_path, text, workers=None) as s:
        assert len(pool_children(s)) == 1
        threads = hold(s, 3)
        assert wait_for(lambda: stall.requests >= 3, 10), "the held requests did not reach the upstream"
        # Three held, one spare kept idle: four workers.
        assert wait_for(lambda: len(pool_children(s)) == 4, 10), pool_children(s)
        for _ in range(5):
            small_get_ok(s)
        stall.close()  # the held requests fail now; their workers go idle
        for t in threads:
            t.join(30)
        # One idle worker retires per second until one spare is left.
        assert wait_for(lambda: len(pool_children(s)) == 1, 20), pool_children(s)
        small_get_ok(s)


def test_a_saturated_pool_answers_slowdown_after_max_wait_then_recovers(tmp_path, stall):
    text = config(tmp_path, stall.url, "{start: 2, min_spare: 1, max_spare: 2, max_workers: 2, stuck_after: 60, max_wait: 1}")
    with ServeInstance(tmp_path, text, workers=None) as s:
        threads = hold(s, 2)
        assert wait_for(lambda: stall.requests >= 2, 10)
        start = time.monotonic()
        r = s.get("/data/small.txt", headers={"Origin": "https://viewer.example"})
        took = time.monotonic() - start
        assert r.status_code == 503, (r.status_code, r.content[:300])
        assert took < 10, f"SlowDown took {took:.1f} s"
        assert r.headers["Retry-After"] == "1"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        rid = r.headers["x-amz-request-id"]
        assert REQUEST_ID.match(rid)
        err = ET.fromstring(r.content)
        assert err.findtext("Code") == "SlowDown" and err.findtext("RequestId") == rid
        assert "answering 503 SlowDown" in s.log()
        stall.close()
        for t in threads:
            t.join(30)
        # A worker is free again: the shedding process stops and requests are served.
        assert wait_for(lambda: s.get("/data/small.txt").status_code == 200, 10)
        for _ in range(5):
            small_get_ok(s)


def test_a_stopped_worker_is_replaced_and_no_request_waits_behind_it(tmp_path, stall):
    text = config(tmp_path, stall.url, "{stuck_after: 60, max_wait: 30}")
    with ServeInstance(tmp_path, text, workers=2) as s:
        for _ in range(20):  # kept FastCGI connections to both workers
            small_get_ok(s)
        before = pool_children(s)
        assert len(before) == 2
        victim = max(before)
        os.kill(victim, signal.SIGSTOP)
        try:
            # Requests nginx sends down the stopped worker's kept connection are retried on
            # another once the leader has replaced it (within a few seconds).
            for _ in range(20):
                small_get_ok(s)
            assert wait_for(lambda: victim not in pool_children(s) and len(pool_children(s)) == 2, 10), (pool_children(s), s.log()[-3000:])
            assert "stopped (SIGSTOP)" in s.log()
        finally:
            if alive(victim):
                os.kill(victim, signal.SIGCONT)


def test_workers_exit_when_their_leader_dies(tmp_path):
    """Without nginx or serve around it (serve would kill the process group itself): only the
    parent-death signal can make the workers go."""
    data = tmp_path / "data"
    data.mkdir()
    cfg = tmp_path / "config.yaml"
    cfg.write_text("targets:\n" + file_target("data", data))
    with bare_pool(cfg, 3, tmp_path / "pool.log") as (proc, _port):
        assert wait_for(lambda: len(children_of(proc.pid)) == 3, 10)
        workers = children_of(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert wait_for(lambda: not any(alive(w) for w in workers), 10), [w for w in workers if alive(w)]


def test_a_stuck_after_below_an_upstream_read_timeout_is_warned_about_at_start(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cfg = tmp_path / "config.yaml"
    cfg.write_text("targets:\n" + file_target("data", data)
                   + s3_target("up", "http://127.0.0.1:9", read_timeout=45) + "pool: {stuck_after: 30}\n")
    out = subprocess.run([str(BIN), "--check-config", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert 'pool.stuck_after (30.0 s) is not above the read_timeout of target "up" (45.0 s)' in out.stderr, out.stderr
