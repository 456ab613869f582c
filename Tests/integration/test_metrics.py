"""/_x2s3/health and /_x2s3/metrics (docs/production.md#health-and-metrics): what they answer,
where (the base host only), and that the counters are the whole pool's: exactly 1,000 requests
of known outcome, a worker SIGKILLed and the config reloaded half-way, and every counter moves
by exactly what was sent. The exposition passes `promtool check metrics`.

Upstream failures (test_metrics_upstream.py) and log lines have their own file."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from conftest import children_of
from faults import wait_for
from serve_instance import ServeInstance

BIN = Path(__file__).resolve().parents[2] / ".build" / "release" / "x2s3"
HELLO = b"hello, metrics\n"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str) -> dict[tuple[str, frozenset], float]:
    """The samples of a Prometheus text exposition (0.0.4), checking the rules a scraper
    relies on: every sample's family has one TYPE line before it, counters end in _total,
    no series appears twice, label values are properly quoted, values are numbers."""
    samples: dict[tuple[str, frozenset], float] = {}
    types: dict[str, str] = {}
    assert text.endswith("\n"), "the exposition must end with a newline"
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, f"second TYPE line for {name}"
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            if kind == "counter":
                assert name.endswith("_total"), line
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"sample before its TYPE line: {line!r}"
        labels = LABEL.findall(labels_text)
        assert ",".join(f'{k}="{v}"' for k, v in labels) == labels_text, f"bad labels: {line!r}"
        key = (name, frozenset(labels))
        assert key not in samples, f"duplicate series: {line!r}"
        samples[key] = float(value)
    return samples


def proc_state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat[stat.rindex(")") + 2]


def settle(inst) -> None:
    """Waits until every worker sleeps (bounded): a worker counts a request just after its last
    byte went to nginx, so the client can hold the answer a moment before the count lands; a
    worker sleeps only waiting for the next request (or writing its log line, after counting)."""
    pool_pid = int((inst.run_dir / "x2s3.pid").read_text())
    assert wait_for(lambda: all(proc_state(p) in ("S", "gone") for p in children_of(pool_pid)), 10)


def metric(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def promtool_check(text: str) -> None:
    tool = shutil.which("promtool")
    if tool is None:
        return  # parse_exposition checked the format's rules already
    r = subprocess.run([tool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    top = tmp_path_factory.mktemp("metrics")
    (top / "data" / "dir").mkdir(parents=True)
    (top / "data" / "hello.txt").write_bytes(HELLO)
    (top / "data" / "dir" / "a.txt").write_bytes(b"a")
    # On a bucket's virtual host, /_x2s3/health is this key.
    (top / "data" / "_x2s3").mkdir()
    (top / "data" / "_x2s3" / "health").write_bytes(b"a key, not the health check\n")
    (top / "keys").mkdir()
    return top


def config_text(tree: Path, vhosts: bool = False, extra: str = "") -> str:
    # Virtual hosts are matched on the host name alone (any port).
    base = "virtual_buckets: true\nbase_url: http://gw.test/\n" if vhosts else ""
    return (f"log_level: INFO\n{base}{extra}targets:\n"
            f"  - {{name: data, client: file, options: {{path: '{tree / 'data'}'}}}}\n"
            f"  - {{name: keys, browseable: false, client: file, options: {{path: '{tree / 'keys'}'}}}}\n"
            # Nothing listens on port 9 of 127.0.0.1 (discard): an unreachable upstream.
            "  - {name: down, client: s3, options: {bucket: b, endpoint: 'http://127.0.0.1:9',"
            " config: {connect_timeout: 1, read_timeout: 1}}}\n")


@pytest.fixture(scope="module")
def inst(tree):
    with ServeInstance(tree, config_text(tree)) as s:
        yield s


# --- health -----------------------------------------------------------------------------------

def test_health_reports_the_pool_and_an_unreachable_upstream_with_200(inst):
    # Both workers have taken their slots once each has started (a hang guard, not timing).
    assert wait_for(lambda: sum(inst.get("/_x2s3/health").json()["pool"]["workers"].values()) == 2, 10)
    r = inst.get("/_x2s3/health")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"[A-Z0-9]{16}", r.headers["x-amz-request-id"])
    h = r.json()
    assert h["status"] == "ok"
    workers = h["pool"]["workers"]
    assert set(workers) == {"idle", "busy", "shedding"}
    assert workers["idle"] + workers["busy"] == 2 and workers["busy"] >= 1, workers  # this request's
    assert h["config"]["generation"] == 0
    by_name = {t["name"]: t for t in h["targets"]}
    assert set(by_name) == {"data", "down"}, "a hidden bucket is not named"
    assert by_name["data"] == {"name": "data", "kind": "file", "reachable": True}
    assert by_name["down"]["kind"] == "s3" and by_name["down"]["reachable"] is False
    assert by_name["down"]["cause"] == "connect"
    assert h["hidden_targets"] == {"count": 1, "unreachable": 0}
    head = inst.get("/_x2s3/health", method="HEAD")
    assert head.status_code == 200 and head.content == b"" and head.headers["Cache-Control"] == "no-store"


def test_health_and_metrics_are_the_base_hosts_only(tree):
    top = tree / "vhost"
    top.mkdir(exist_ok=True)
    with ServeInstance(top, config_text(tree, vhosts=True)) as s:
        base = s.get("/_x2s3/health", headers={"Host": f"gw.test:{s.port}"})
        assert base.status_code == 200 and base.json()["status"] == "ok"
        vhost = {"Host": f"data.gw.test:{s.port}"}
        key = s.get("/_x2s3/health", headers=vhost)
        assert key.status_code == 200 and key.content == (tree / "data" / "_x2s3" / "health").read_bytes()
        missing = s.get("/_x2s3/metrics", headers=vhost)
        assert missing.status_code == 404 and b"<Code>NoSuchKey</Code>" in missing.content
        assert s.get("/_x2s3/metrics", headers={"Host": f"gw.test:{s.port}"}).status_code == 200
        # Any other /_x2s3/ path on the base host names no bucket.
        other = s.get("/_x2s3/other")
        assert other.status_code == 404 and b"<Code>NoSuchBucket</Code>" in other.content


def test_a_target_named_x2s3_is_a_config_error(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(f"targets:\n  - name: _X2S3\n    client: file\n    options: {{path: '{tmp_path}'}}\n")
    r = subprocess.run([str(BIN), "--config", str(config), "--check-config"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "targets[0].name" in lines[0] and "_x2s3" in lines[0], r.stderr


def test_metrics_allow_list_refuses_with_s3_xml_403(tree):
    top = tree / "allow"
    top.mkdir(exist_ok=True)
    with ServeInstance(top, config_text(tree), env={"X2S3_METRICS_ALLOW": "10.9.0.0/16, 192.0.2.1"}) as s:
        r = s.get("/_x2s3/metrics")
        assert r.status_code == 403 and r.headers["Content-Type"] == "application/xml"
        assert b"<Code>AccessDenied</Code>" in r.content and r.headers["x-amz-request-id"].encode() in r.content
        assert s.get("/_x2s3/health").status_code == 200, "health is not behind the allow-list"
    with ServeInstance(top, config_text(tree), env={"X2S3_METRICS_ALLOW": "127.0.0.0/8"}) as s:
        assert s.get("/_x2s3/metrics").status_code == 200


# --- 1,000 requests, a worker killed, a reload ------------------------------------------------

def mixed_requests(etag: str) -> list[tuple[str, str, dict[str, str], tuple[str, str, str]]]:
    """(method, path, headers, (operation, status, bucket)) of every kind the test sends."""
    html = {"Accept": "text/html"}
    return [
        ("GET", "/data/hello.txt", {}, ("GetObject", "200", "data")),
        ("GET", "/data/hello.txt", {"Range": "bytes=0-4"}, ("GetObject", "206", "data")),
        ("GET", "/data/hello.txt", {"If-None-Match": etag}, ("GetObject", "304", "data")),
        ("GET", "/data/hello.txt", {"If-Match": '"other"'}, ("GetObject", "412", "data")),
        ("GET", "/data/hello.txt", {"Range": "bytes=999-"}, ("GetObject", "416", "data")),
        ("GET", "/data/missing.txt", {}, ("GetObject", "404", "data")),
        ("GET", "/keys/missing.txt", {}, ("GetObject", "403", "keys")),
        ("GET", "/NoSuchBucket/k", {}, ("GetObject", "404", "-")),
        ("HEAD", "/data/hello.txt", {}, ("HeadObject", "200", "data")),
        ("HEAD", "/data", {}, ("HeadBucket", "200", "data")),
        ("GET", "/data?list-type=2&prefix=dir/", {}, ("ListObjectsV2", "200", "data")),
        ("GET", "/data?list-type=2&max-keys=-1", {}, ("ListObjectsV2", "400", "data")),
        ("GET", "/keys?list-type=2", {}, ("ListObjectsV2", "403", "keys")),
        ("GET", "/DATA?delimiter=/", {}, ("ListObjects", "200", "data")),
        ("GET", "/data/dir/", html, ("Browse", "200", "data")),
        ("GET", "/", {}, ("ListBuckets", "200", "-")),
        ("GET", "/data?acl", {}, ("GetBucketAcl", "200", "data")),
        ("GET", "/data?location", {}, ("GetBucketLocation", "200", "data")),
        ("GET", "/data?versioning", {}, ("ListObjects", "501", "data")),
        ("OPTIONS", "/data/hello.txt", {"Origin": "https://x.test", "Access-Control-Request-Method": "GET"},
         ("Preflight", "204", "-")),
        ("PUT", "/data/hello.txt", {}, ("Other", "405", "-")),
    ]


def test_thousand_requests_counted_exactly_across_a_sigkill_and_a_reload(inst):
    session = requests.Session()
    session.trust_env = False
    # Identity: the bytes received are the bytes the worker sent (no gzip of documents).
    session.headers["Accept-Encoding"] = "identity"
    etag = session.get(inst.base_url + "/data/hello.txt", timeout=10).headers["ETag"]
    kinds = mixed_requests(etag)

    pool_pid = int((inst.run_dir / "x2s3.pid").read_text())
    settle(inst)
    before_text = session.get(inst.base_url + "/_x2s3/metrics", timeout=10).text
    before = parse_exposition(before_text)
    expected: Counter = Counter({("Other", "200", "-"): 1})  # the read just made
    body_bytes: Counter = Counter({"-": 0})
    ops: Counter = Counter({"Other": 1})
    victim = None
    for i in range(1000):
        # Between two requests, once the victim sleeps (see settle). A request a worker is
        # killed in the middle of is lost with it.
        if i == 400:
            victim = children_of(pool_pid)[0]
            assert wait_for(lambda: proc_state(victim) == "S", 10)
            os.kill(victim, signal.SIGKILL)
            assert wait_for(lambda: len(children_of(pool_pid)) == 2 and victim not in children_of(pool_pid), 10)
        if i == 700:
            os.kill(pool_pid, signal.SIGHUP)
            polls = 0

            def reloaded() -> bool:
                nonlocal polls
                polls += 1
                return session.get(inst.base_url + "/_x2s3/health", timeout=10).json()["config"]["generation"] == 1
            assert wait_for(reloaded, 10, 0.1)
            expected[("Other", "200", "-")] += polls
            ops["Other"] += polls
        method, path, headers, want = kinds[i % len(kinds)]
        r = session.request(method, inst.base_url + path, headers=headers, timeout=10, allow_redirects=False)
        assert (r.status_code, r.headers.get("x-amz-request-id") is not None) == (int(want[1]), True), (method, path, r.text[:300])
        expected[want] += 1
        ops[want[0]] += 1
        body_bytes[want[2]] += len(r.content)

    settle(inst)
    after_text = session.get(inst.base_url + "/_x2s3/metrics", timeout=10).text
    after = parse_exposition(after_text)
    promtool_check(after_text)

    deltas = {}
    for (name, labels), value in after.items():
        if name == "x2s3_requests_total":
            d = value - before.get((name, labels), 0.0)
            if d:
                l = dict(labels)
                deltas[(l["operation"], l["status"], l["bucket"])] = d
    assert deltas == {k: float(v) for k, v in expected.items()}
    for bucket, n in body_bytes.items():
        got = metric(after, "x2s3_response_bytes_total", bucket=bucket) - metric(before, "x2s3_response_bytes_total", bucket=bucket)
        if bucket == "-":
            continue  # includes the health and metrics documents, whose sizes vary
        assert got == n, (bucket, got, n)
    for op, n in ops.items():
        got = (metric(after, "x2s3_request_duration_seconds_count", operation=op)
               - metric(before, "x2s3_request_duration_seconds_count", operation=op))
        assert got == n, (op, got, n)
        inf = (metric(after, "x2s3_request_duration_seconds_bucket", operation=op, le="+Inf")
               - metric(before, "x2s3_request_duration_seconds_bucket", operation=op, le="+Inf"))
        assert inf == n, (op, inf, n)
    assert metric(after, "x2s3_worker_restarts_total") - metric(before, "x2s3_worker_restarts_total") == 1
    assert metric(after, "x2s3_config_generation") == 1
    # This request's worker is busy; the other one is idle (the old generation has gone).
    assert wait_for(lambda: metric(parse_exposition(session.get(inst.base_url + "/_x2s3/metrics", timeout=10).text),
                                   "x2s3_workers", state="idle") == 1, 10)
    assert metric(after, "x2s3_listing_cache_hits_total") + metric(after, "x2s3_listing_cache_misses_total") > 0


def test_exposition_passes_promtool(inst):
    inst.get("/data/hello.txt")
    text = inst.get("/_x2s3/metrics").text
    assert inst.get("/_x2s3/metrics").headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    parse_exposition(text)
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed (apt package prometheus); the format rules were checked by the parser")
    promtool_check(text)


def test_production_profile_never_caches_health_or_metrics(tree):
    top = tree / "production"
    top.mkdir(exist_ok=True)
    with ServeInstance(top, config_text(tree), profile="production",
                       env={"X2S3_METRICS_ALLOW": "192.0.2.0/24"}) as s:
        ids = set()
        for _ in range(3):
            r = s.get("/_x2s3/health")
            assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
            assert "X-Cache-Status" not in r.headers, "the cache is not even consulted"
            assert r.headers.get("Strict-Transport-Security", "").startswith("max-age="), r.headers
            ids.add(r.headers["x-amz-request-id"])
        assert len(ids) == 3, "every check reached a worker"
        refused = s.get("/_x2s3/metrics")
        assert refused.status_code == 403 and b"<Code>AccessDenied</Code>" in refused.content
        # The data path still goes through the cache.
        assert "X-Cache-Status" in s.get("/data/hello.txt").headers
