"""deploy/haproxy.cfg + deploy/multi-host.md: three gateways (scripts/serve instances on loopback
ports, each its own nginx and pool over the same data) behind HAProxy on 127.0.0.1.

- HAProxy's active checks of /_x2s3/health see all three UP; the client's Host reaches the
  gateway (a virtual-host bucket answers through the balancer); the gateway's nginx logs the
  client's address from X-Forwarded-For (X2S3_REAL_IP_FROM), not the balancer's, and a client
  cannot forge it; the same path always lands on the same gateway (balance uri, consistent).
- A ListObjectsV2 walked page by page over the three gateways in turn (each page's token
  from another host) is complete and ordered.
- Under concurrent GETs, one gateway is killed (its nginx and workers, SIGKILL by PID): every
  request that started after the kill succeeds byte-exactly (HAProxy retries what had not
  started answering on another gateway, then its checks take the dead one out); the requests
  cut mid-response on the killed host are counted and reported. A listing begun on the killed
  gateway continues on another with the same continuation tokens.

- A gateway that stops answering (its nginx SIGSTOPped: connections are still accepted, nothing
  comes back) costs the requests sent to it `timeout server`, then HAProxy retries them on
  another gateway (retry-on response-timeout): all succeed.

Paths in the recipe (bind, servers, health-check Host, stats socket, syslog, chroot, user) are
replaced by the test's, and `timeout server` shortened to 5 s; nothing else is changed."""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from conftest import REPO, alive, children_of, free_port
from serve_instance import ServeInstance

HAPROXY = "/usr/sbin/haproxy"
pytestmark = pytest.mark.skipif(not os.path.exists(HAPROXY), reason="haproxy not installed (apt-get install haproxy)")

BASE_HOST = "gw.test"
S3 = "{http://s3.amazonaws.com/doc/2006-03-01/}"
LIST_KEYS = [f"list/k{i:04d}" for i in range(450)]
PAGE = 50


def make_data(top: Path) -> dict[str, bytes]:
    rng = random.Random(1414)
    files = {f"obj/{i:03d}.bin": rng.randbytes(rng.randint(4096, 65536)) for i in range(300)}
    files.update({f"big/{i:02d}.bin": rng.randbytes(2 * 1024 * 1024 + i) for i in range(20)})
    files.update({k: k.encode() for k in LIST_KEYS})
    for key, content in files.items():
        path = top / "data" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


def render_haproxy(run: Path, port: int, gateways: list[ServeInstance]) -> Path:
    cfg = (REPO / "deploy" / "haproxy.cfg").read_text()
    replacements = [
        (r"\n    log /dev/log local0\n", "\n    log stdout format raw local0\n"),
        (r"\n    chroot /var/lib/haproxy\n", "\n"),
        (r"\n    user haproxy\n    group haproxy\n", "\n"),
        (r"stats socket /run/haproxy/admin\.sock", f"stats socket {run}/admin.sock"),
        (r"\n    bind :80\n", f"\n    bind 127.0.0.1:{port}\n"),
        (r"http-check send hdr Host x2s3\.example\.org", f"http-check send hdr Host {BASE_HOST}"),
        # A silent gateway is given up on after 5 s instead of 80, so the test need not wait.
        (r"\n    timeout server 80s\n", "\n    timeout server 5s\n"),
    ]
    for pattern, new in replacements:
        cfg, n = re.subn(pattern, new, cfg)
        assert n == 1, f"deploy/haproxy.cfg no longer has {pattern!r}"
    servers = "".join(f"    server gw{i + 1} 127.0.0.1:{g.port}\n" for i, g in enumerate(gateways))
    cfg, n = re.subn(r"(    server gw\d 10\.0\.0\.\d+:8080\n)+", servers, cfg)
    assert n == 1, "deploy/haproxy.cfg's server lines changed"
    path = run / "haproxy.cfg"
    path.write_text(cfg)
    return path


class Cluster:
    def __init__(self, top: Path):
        self.top = top
        self.files = make_data(top)
        config = (f"virtual_buckets: true\nbase_url: http://{BASE_HOST}/\nui: false\ntargets:\n"
                  f"  - name: data\n    client: file\n    options:\n      path: '{top / 'data'}'\n")
        env = {"X2S3_REAL_IP_FROM": "127.0.0.1", "X2S3_NGINX_WORKERS": "1"}
        self.gateways = [ServeInstance(top, config, workers=2, env=env) for _ in range(3)]
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = top / "haproxy.log"

    def start(self) -> None:
        for g in self.gateways:
            g.__enter__()
        cfg = render_haproxy(self.top, self.port, self.gateways)
        out = subprocess.run([HAPROXY, "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdin=subprocess.DEVNULL,
                                     stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while self.states() != ["UP"] * 3:
            assert self.proc.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, f"health checks never passed: {self.states()}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for g in self.gateways:
            g.__exit__(None, None, None)

    def admin(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.top / "admin.sock"))
            s.sendall(command.encode() + b"\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return data.decode()

    def states(self) -> list[str]:
        """HAProxy's view of gw1..gw3 (UP, DOWN, ...), from `show stat`."""
        try:
            rows = self.admin("show stat").splitlines()
        except OSError:
            return []
        header = rows[0].lstrip("# ").split(",")
        table = [dict(zip(header, r.split(","))) for r in rows[1:] if r]
        by_name = {r["svname"]: r["status"].split()[0] for r in table if r["pxname"] == "x2s3"}
        return [by_name.get(f"gw{i + 1}", "?") for i in range(len(self.gateways))]

    def served_by(self, needle: str) -> list[int]:
        """How many access-log lines of each gateway contain `needle`."""
        return [sum(needle in line for line in g.access_lines()) for g in self.gateways]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("multihost"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def list_page(s: requests.Session, base: str, token: str | None, host: str | None = None) -> tuple[list[str], str | None]:
    query = {"list-type": "2", "prefix": "list/", "max-keys": str(PAGE)}
    if token:
        query["continuation-token"] = token
    path = "/" if host else "/data"
    r = s.get(f"{base}{path}?{urllib.parse.urlencode(query)}", headers={"Host": host} if host else {}, timeout=30)
    assert r.status_code == 200, r.text[:500]
    doc = ET.fromstring(r.content)
    keys = [e.findtext(f"{S3}Key") for e in doc.iter(f"{S3}Contents")]
    truncated = doc.findtext(f"{S3}IsTruncated") == "true"
    return keys, doc.findtext(f"{S3}NextContinuationToken") if truncated else None


def wait_for(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_health_host_real_address_and_locality(cluster):
    assert cluster.states() == ["UP", "UP", "UP"]
    for g in cluster.gateways:
        assert g.get("/_x2s3/health", headers={"Host": BASE_HOST}).status_code == 200
    s = session()
    # The client's Host reaches the gateway: a virtual-host bucket through the balancer.
    r = s.get(f"{cluster.base}/obj/007.bin", headers={"Host": f"data.{BASE_HOST}"}, timeout=30)
    assert r.status_code == 200 and r.content == cluster.files["obj/007.bin"]
    r = s.get(f"{cluster.base}/data/obj/007.bin", timeout=30)
    assert r.status_code == 200 and r.content == cluster.files["obj/007.bin"]

    # The client's address, from 127.0.0.2: HAProxy connects from 127.0.0.1 (trusted) and
    # appends what it saw to a forged X-Forwarded-For; nginx keeps the right-most untrusted one.
    for marker, forged in (("xff-plain", None), ("xff-forged", "6.6.6.6")):
        conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30, source_address=("127.0.0.2", 0))
        headers = {"Host": BASE_HOST, **({"X-Forwarded-For": forged} if forged else {})}
        conn.request("GET", f"/data/obj/008.bin?{marker}", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == cluster.files["obj/008.bin"]
        conn.close()
        wait_for(lambda: sum(cluster.served_by(marker)) == 1, 5, "the access-log line")
        line = next(l for g in cluster.gateways for l in g.access_lines() if marker in l)
        assert line.startswith("127.0.0.2 "), line

    # A presigned URL's signature and a capability token stay out of HAProxy's log and the gateway's.
    s.get(f"{cluster.base}/data/obj/009.bin?redact-marker&X-Amz-Signature=SIGHAPROXY1", timeout=30)
    s.get(f"{cluster.base}/_x2s3/c/TOKENHAPROXY2/data/obj/", timeout=30)
    wait_for(lambda: all(m in cluster.log_path.read_text() for m in ("redact-marker", "/_x2s3/c/")), 5, "the HAProxy log lines")
    logs = cluster.log_path.read_text() + "".join(l for g in cluster.gateways for l in g.access_lines())
    assert "SIGHAPROXY1" not in logs and "TOKENHAPROXY2" not in logs
    assert "?redact-marker&X-Amz-Signature=REDACTED HTTP/1.1" in cluster.log_path.read_text()

    # Cache locality: each path always goes to the same gateway, and the paths spread.
    homes = set()
    for i in range(0, 300, 10):
        key = f"obj/{i:03d}.bin"
        for _ in range(3):
            assert s.get(f"{cluster.base}/data/{key}", timeout=30).content == cluster.files[key]
        # nginx logs a request once its response is out: the line may trail the client.
        wait_for(lambda: sum(cluster.served_by(f"GET /data/{key} ")) == 3, 5, "the access-log lines")
        counts = cluster.served_by(f"GET /data/{key} ")
        assert sorted(counts) == [0, 0, 3], (key, counts)
        homes.add(counts.index(3))
    assert homes == {0, 1, 2}


def test_listing_pages_across_hosts(cluster):
    """Each page from another gateway, the token of one accepted by the next."""
    s = session()
    keys, token, page = [], None, 0
    while True:
        gw = cluster.gateways[page % 3]
        got, token = list_page(s, gw.base_url, token)
        keys += got
        page += 1
        if token is None:
            break
    assert page == len(LIST_KEYS) // PAGE and keys == LIST_KEYS
    # And through the balancer with the virtual-host bucket's Host.
    keys, token = [], None
    while True:
        got, token = list_page(s, cluster.base, token, host=f"data.{BASE_HOST}")
        keys += got
        if token is None:
            break
    assert keys == LIST_KEYS


def kill_gateway(g: ServeInstance) -> list[int]:
    """SIGKILL to its nginx (master and workers) and its pool (leader and workers), by PID."""
    pids = []
    for pidfile in ("nginx.pid", "x2s3.pid"):
        leader = int((g.run_dir / pidfile).read_text())
        pids += [leader, *children_of(leader)]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def test_kill_one_gateway_under_load(cluster):
    s = session()
    # The victim is the gateway holding the listing's path; a listing starts there.
    marker = "GET /data?list-type=2"
    counts0 = cluster.served_by(marker)
    listed, token = list_page(s, cluster.base, None)
    wait_for(lambda: sum(cluster.served_by(marker)) == sum(counts0) + 1, 5, "the access-log line")
    victim_index = [a - b for a, b in zip(cluster.served_by(marker), counts0)].index(1)
    victim = cluster.gateways[victim_index]
    for _ in range(2):
        got, token = list_page(s, cluster.base, token)
        listed += got
    assert token is not None
    counts3 = cluster.served_by(marker)
    assert counts3[victim_index] - counts0[victim_index] == 3, (counts0, counts3)

    keys = [k for k in cluster.files if not k.startswith("list/")]
    results: list[tuple[float, float, bool, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(seed: int) -> None:
        rng = random.Random(seed)
        sess = session()
        while not stop.is_set():
            key = rng.choice(keys)
            t0 = time.monotonic()
            try:
                r = sess.get(f"{cluster.base}/data/{key}", timeout=60)
                ok = r.status_code == 200 and r.content == cluster.files[key]
                err = "" if ok else f"{r.status_code} {len(r.content)} bytes"
            except requests.RequestException as e:
                ok, err = False, type(e).__name__
                sess = session()
            with lock:
                results.append((t0, time.monotonic(), ok, err))

    threads = [threading.Thread(target=load, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    try:
        time.sleep(3)
        killed = kill_gateway(victim)
        t_kill = time.monotonic()
        wait_for(lambda: cluster.states()[victim_index] != "UP", 15, "HAProxy to take the victim out")
        t_down = time.monotonic()
        time.sleep(3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=90)
    wait_for(lambda: not any(alive(p) for p in killed), 10, "the killed processes to be gone")

    before = [r for r in results if r[0] < t_kill]
    after = [r for r in results if r[0] >= t_kill]
    cut = [r for r in before if not r[2]]
    failed_after = [r for r in after if not r[2]]
    # HAProxy's httplog: "<termination state> actconn/feconn/beconn/srv_conn/retries", retries
    # with a "+" when the request was redispatched to another gateway.
    states = [m.groups() for m in re.finditer(r" ([-A-Za-z]{4}) \d+/\d+/\d+/\d+/(\+?\d+) ",
                                               cluster.log_path.read_text())]
    retried = sum(r != "0" for _, r in states)
    aborted = sorted(t for t, _ in states if t != "----")
    report = (f"{len(results)} GETs, {len(before)} started before the kill ({len(cut)} failed: cut on the killed "
              f"host: {sorted({r[3] for r in cut})}), {len(after)} after ({len(failed_after)} failed); "
              f"HAProxy marked it {cluster.states()[victim_index]} {t_down - t_kill:.2f} s after the kill; "
              f"{retried} requests retried by HAProxy, terminations other than normal: {aborted}")
    print("\nmultihost:", report)
    assert len(after) > 100 and not failed_after, report
    assert all(r[2] for r in before if r[1] < t_kill), report  # finished before the kill: all fine

    # The listing goes on, on another gateway, with the dead one's tokens.
    while token is not None:
        got, token = list_page(s, cluster.base, token)
        listed += got
    assert listed == LIST_KEYS
    wait_for(lambda: sum(cluster.served_by(marker)) - sum(counts3) == len(LIST_KEYS) // PAGE - 3, 5, "the log lines")
    served = [a - b for a, b in zip(cluster.served_by(marker), counts3)]
    assert served[victim_index] == 0 and sum(served) == len(LIST_KEYS) // PAGE - 3, served


def test_silent_gateway_requests_retried_elsewhere(cluster):
    """After the kill: one of the two survivors stops answering (SIGSTOP to its nginx)."""
    up = [i for i, state in enumerate(cluster.states()) if state == "UP"]
    assert len(up) == 2, cluster.states()
    frozen = cluster.gateways[up[0]]
    master = int((frozen.run_dir / "nginx.pid").read_text())
    pids = [master, *children_of(master)]
    retried_before = len(re.findall(r" [-A-Za-z]{4} \d+/\d+/\d+/\d+/\+?[1-9]\d* ", cluster.log_path.read_text()))
    keys = [f"obj/{i:03d}.bin" for i in range(0, 300, 15)]
    results: dict[str, bool] = {}

    def fetch(key: str) -> None:
        try:
            r = session().get(f"{cluster.base}/data/{key}", timeout=60)
            results[key] = r.status_code == 200 and r.content == cluster.files[key]
        except requests.RequestException:
            results[key] = False

    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        threads = [threading.Thread(target=fetch, args=(k,)) for k in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert all(results.get(k) for k in keys), results
    log = cluster.log_path.read_text()
    retried = len(re.findall(r" [-A-Za-z]{4} \d+/\d+/\d+/\d+/\+?[1-9]\d* ", log)) - retried_before
    print(f"\nmultihost: {len(keys)} GETs while gateway {up[0] + 1} was stopped: all succeeded, {retried} retried")
    assert retried >= 1
