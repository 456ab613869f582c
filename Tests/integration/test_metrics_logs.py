"""Upstream failures and the logs (docs/production.md#logs, #health-and-metrics):

- each cause of a failed upstream exchange (DNS, connect refused, TLS, timeout, an error status)
  is the request's log line at WARN, with the request id and the cause, and is counted once in
  x2s3_upstream_errors_total{bucket,cause};
- with log_format json those lines are ECS objects, and nginx's access log carries the same
  request id as the worker's line;
- spawn-fcgi's workers (no common parent) count into one metrics_file, which outlives a worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from conftest import alive, free_port
from faults import FakeUpstream, FastCGIClient, wait_for
from procs import start_moto, stop
from serve_instance import ServeInstance
from test_metrics import metric, parse_exposition, promtool_check, settle

BIN = Path(__file__).resolve().parents[2] / ".build" / "release" / "x2s3"


def s3(name: str, endpoint: str, keys: str = "") -> str:
    return (f"  - {{name: {name}, client: s3, options: {{bucket: b, endpoint: '{endpoint}',{keys}"
            " config: {connect_timeout: 2, read_timeout: 1, retries: {total_max_attempts: 1}}}}\n")


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory):
    if not shutil.which("moto_server"):
        pytest.skip("needs moto_server")
    top = tmp_path_factory.mktemp("upstream-causes")
    # Checks signatures from the first request on: an anonymous read is 403 AccessDenied.
    moto, moto_url = start_moto(top / "moto.log", INITIAL_NO_AUTH_ACTION_COUNT="0")
    stall = FakeUpstream("stall")
    stall.start()
    stall_body = FakeUpstream("stall-body")
    stall_body.start()
    try:
        yield top, moto_url, stall, stall_body
    finally:
        stall.close()
        stall_body.close()
        stop(moto)


CAUSES = {
    # bucket: (expected status, cause)
    "dns": (503, "dns"),
    "refused": (503, "connect"),
    "tls": (503, "tls"),
    "slow": (504, "timeout"),
    # moto checking signatures fails on an unsigned request with a 500 ...
    "broken": (500, "status"),
    # ... and refuses a key it does not know with a 403.
    "denied": (403, "status"),
}


@pytest.fixture(scope="module")
def inst(upstreams):
    top, moto_url, stall, stall_body = upstreams
    closed = free_port()  # nothing listens there
    targets = (s3("dns", "http://nonexistent.invalid")
               + s3("refused", f"http://127.0.0.1:{closed}")
               # TLS spoken to a plain-HTTP server: the handshake fails.
               + s3("tls", moto_url.replace("http://", "https://"))
               + s3("slow", stall.url)
               + s3("midway", stall_body.url)
               + s3("broken", moto_url)
               + s3("denied", moto_url, f" access_key_path: '{top / 'ak'}', secret_key_path: '{top / 'sk'}',"))
    (top / "ak").write_text("AKIDNOTKNOWNTOMOTO00\n")
    (top / "sk").write_text("not-a-secret-moto-knows\n")
    data = top / "data"
    data.mkdir(exist_ok=True)
    (data / "a.txt").write_bytes(b"a")
    config = f"log_level: INFO\nlog_format: json\ntargets:\n  - {{name: data, client: file, options: {{path: '{data}'}}}}\n" + targets
    with ServeInstance(top, config) as s:
        yield s


def json_lines(inst) -> list[dict]:
    # Only whole lines: the log may be read while a worker's line is still being written.
    complete = inst.log().rpartition("\n")[0]
    return [json.loads(l) for l in complete.splitlines() if l.startswith("{")]


def line_for(inst, rid: str) -> dict:
    found: list[dict] = []

    def present() -> bool:
        found[:] = [o for o in json_lines(inst) if o.get("http.request.id") == rid]
        return bool(found)
    assert wait_for(present, 5), f"no log line for {rid}:\n{inst.log()[-3000:]}"
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("bucket", list(CAUSES))
def test_an_upstream_failure_is_a_warning_naming_its_cause_and_is_counted(inst, bucket):
    status, cause = CAUSES[bucket]
    settle(inst)
    before = parse_exposition(inst.get("/_x2s3/metrics").text)
    r = inst.get(f"/{bucket}/some/key.txt")
    assert r.status_code == status, r.text
    rid = r.headers["x-amz-request-id"]
    o = line_for(inst, rid)
    assert o["log.level"] == "warning" and o["upstream.cause"] == cause, o
    assert o["bucket"] == bucket and o["trace.id"] == rid and o["http.response.status_code"] == status, o
    assert o["event.dataset"] == "x2s3.access" and o["url.path"] == f"/{bucket}/some/key.txt", o
    assert o.get("error.message"), "the cause's detail is the operator's"
    settle(inst)
    after_text = inst.get("/_x2s3/metrics").text
    after = parse_exposition(after_text)
    for c in ("dns", "connect", "tls", "timeout", "status", "protocol", "other"):
        delta = (metric(after, "x2s3_upstream_errors_total", bucket=bucket, cause=c)
                 - metric(before, "x2s3_upstream_errors_total", bucket=bucket, cause=c))
        assert delta == (1 if c == cause else 0), (c, delta)
    promtool_check(after_text)


def test_an_upstream_failing_mid_body_cuts_the_stream_and_is_counted(inst):
    settle(inst)
    before = parse_exposition(inst.get("/_x2s3/metrics").text)
    r = inst.session.get(inst.base_url + "/midway/big.bin", stream=True, timeout=30)
    assert r.status_code == 200
    rid = r.headers["x-amz-request-id"]
    with pytest.raises(requests.exceptions.RequestException):
        r.content  # 64 KiB of the promised 1 MiB, then the cut
    o = line_for(inst, rid)
    assert o["log.level"] == "warning" and o["upstream.cause"] == "timeout", o
    settle(inst)
    after = parse_exposition(inst.get("/_x2s3/metrics").text)
    assert (metric(after, "x2s3_upstream_errors_total", bucket="midway", cause="timeout")
            - metric(before, "x2s3_upstream_errors_total", bucket="midway", cause="timeout")) == 1


def test_health_reports_each_upstream_as_probed(inst):
    h = inst.get("/_x2s3/health")
    assert h.status_code == 200 and h.json()["status"] == "ok"
    t = {x["name"]: x for x in h.json()["targets"]}
    assert t["data"]["reachable"] is True
    for name, cause in (("dns", "dns"), ("refused", "connect"), ("tls", "tls"), ("slow", "timeout")):
        assert t[name]["reachable"] is False and t[name]["cause"] == cause, t[name]
    assert t["denied"]["reachable"] is True and t["denied"]["status"] == 403 and t["denied"]["cause"] == "status"
    assert t["broken"]["reachable"] is True and t["broken"]["status"] == 500 and t["broken"]["cause"] == "status"


def test_json_lines_carry_ecs_fields_and_the_access_log_the_same_request_id(inst):
    r = inst.get("/data/a.txt?x=1")
    rid = r.headers["x-amz-request-id"]
    o = line_for(inst, rid)
    for field in ("@timestamp", "log.level", "log.logger", "message", "service.name", "process.pid",
                  "event.dataset", "event.duration", "http.request.method", "http.response.status_code",
                  "http.response.body.bytes", "url.path", "url.query", "trace.id"):
        assert field in o, (field, o)
    assert o["log.level"] == "info" and o["http.response.body.bytes"] == 1, o
    assert wait_for(lambda: any(f"rid={rid}" in l for l in inst.access_lines()), 5), inst.access_lines()[-3:]
    line = next(l for l in inst.access_lines() if f"rid={rid}" in l)
    assert '"GET /data/a.txt?x=1 HTTP/1.1" 200 ' in line, line


# --- spawn-fcgi: workers with no common parent ------------------------------------------------

@pytest.mark.skipif(shutil.which("spawn-fcgi") is None, reason="spawn-fcgi not installed")
def test_spawn_fcgi_workers_share_one_metrics_file_that_outlives_a_worker(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_bytes(b"abc")
    config = tmp_path / "config.yaml"
    config.write_text(f"targets:\n  - {{name: data, client: file, options: {{path: '{tmp_path / 'data'}'}}}}\n")
    port = free_port()
    env = dict(os.environ, X2S3_METRICS_FILE=str(tmp_path / "metrics"))
    out = subprocess.run(["spawn-fcgi", "-a", "127.0.0.1", "-p", str(port), "-F", "2", "--", str(BIN),
                          "--config", str(config)], env=env, capture_output=True, text=True, timeout=30)
    pids = [int(p) for p in re.findall(r"PID: (\d+)", out.stdout + out.stderr)]
    try:
        assert out.returncode == 0 and len(pids) == 2, out.stderr

        def fetch(key: str) -> tuple[bytes, bytes]:
            c = FastCGIClient("127.0.0.1", port)
            try:
                return c.get(key, keep=False)
            finally:
                c.close()

        # Two connections held at once are two workers (each serves one connection at a time).
        served: set[str] = set()
        barrier = threading.Barrier(2)

        def hold() -> None:
            c = FastCGIClient("127.0.0.1", port)
            try:
                barrier.wait(10)
                head, body = c.get("/data/a.txt", keep=True)
                assert body == b"abc", head
                barrier.wait(10)  # both answered while both connections are open
                served.add(head.decode())
            finally:
                c.close()
        threads = [threading.Thread(target=hold) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert len(served) == 2
        for _ in range(18):
            assert fetch("/data/a.txt")[1] == b"abc"

        def counted() -> float:
            return metric(parse_exposition(fetch("/_x2s3/metrics")[1].decode()),
                          "x2s3_requests_total", operation="GetObject", status="200", bucket="data")
        assert counted() == 20
        os.kill(pids[0], signal.SIGKILL)
        assert wait_for(lambda: not alive(pids[0]), 5)
        text = fetch("/_x2s3/metrics")[1].decode()
        assert metric(parse_exposition(text), "x2s3_requests_total", operation="GetObject", status="200", bucket="data") == 20
        assert metric(parse_exposition(text), "x2s3_workers", state="busy") == 1
        promtool_check(text)
    finally:
        for p in pids:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGTERM)
        wait_for(lambda: not any(alive(p) for p in pids), 10)
        for p in pids:
            if alive(p):
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGKILL)
