"""The deployment recipes in deploy/, each started the way the recipe says and read through a
real nginx (with nginx/fastcgi_params.x2s3) byte-exactly:

- systemd: deploy/x2s3.socket + x2s3.service, emulated without systemd: the socket is bound as
  ListenStream/SocketMode/Backlog say and handed to ExecStart's command on fd 0
  (StandardInput=socket); ExecReload's SIGHUP and the stop SIGTERM are exercised too.
- spawn-fcgi: deploy/spawn-fcgi.sh.
- shared hosting: x2s3 as a CGI program under fcgiwrap, nginx using deploy/nginx-fcgiwrap.conf.

Paths in the recipes (/usr/local/bin/x2s3, /etc/x2s3/config.yaml, /run/...) are replaced by the
test's own; nothing else in them is changed."""

from __future__ import annotations

import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO, alive, children_of, free_port

DEPLOY = REPO / "deploy"


def x2s3_binary() -> Path:
    env_bin = os.environ.get("X2S3_BIN")
    if env_bin and "baseline" not in env_bin:
        return Path(env_bin)
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO,
                         capture_output=True, text=True, check=True)
    path = Path(out.stdout.strip()) / "x2s3"
    if not path.exists():
        pytest.skip("release binary not built (scripts/test builds it)")
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("deploy")
    data = top / "data"
    (data / "dir").mkdir(parents=True)
    rng = random.Random(3)
    content = rng.getrandbits(8 * 300_001).to_bytes(300_001, "little")
    (data / "dir" / "object.bin").write_bytes(content)
    config = top / "config.yaml"
    config.write_text(f"targets:\n  - name: data\n    client: file\n    options:\n      path: '{data}'\n")
    return {"top": top, "config": config, "content": content, "bin": x2s3_binary()}


class Nginx:
    """A minimal nginx: one server, `location_conf` inside it, every path in `run`."""

    def __init__(self, run: Path, location_conf: str):
        self.run = run
        self.port = free_port()
        run.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "nginx" / "fastcgi_params.x2s3", run / "fastcgi_params.x2s3")
        shutil.copy(REPO / "nginx" / "maps.conf", run / "maps.conf")
        # As scripts/serve: as root, workers would drop to "nobody" and could not connect.
        user = "user root root;" if os.geteuid() == 0 else ""
        (run / "nginx.conf").write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {run}/tmp_body;
    fastcgi_temp_path {run}/tmp_fastcgi;
    proxy_temp_path {run}/tmp_proxy;
    uwsgi_temp_path {run}/tmp_uwsgi;
    scgi_temp_path {run}/tmp_scgi;
    map $host $x2s3_offload_prefix {{ default ""; }}
    include {run}/maps.conf;
    server {{
        listen 127.0.0.1:{self.port};
        merge_slashes off;
        {location_conf}
    }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", f"{run}/", "-c", f"{run}/nginx.conf", "-e", f"{run}/error.log"],
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None, (run / "error.log").read_text()
                time.sleep(0.05)
        raise AssertionError("nginx did not start")

    def get(self, path: str, **kw) -> requests.Response:
        s = requests.Session()
        s.trust_env = False
        return s.get(f"http://127.0.0.1:{self.port}{path}", timeout=30, **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def fastcgi_location(sock: Path) -> str:
    return f"location / {{ include fastcgi_params.x2s3; fastcgi_pass unix:{sock}; }}"


def read_object(nginx: Nginx, site) -> None:
    r = nginx.get("/data/dir/object.bin")
    assert r.status_code == 200, r.text[:300]
    assert r.content == site["content"]
    r = nginx.get("/data/dir/object.bin", headers={"Range": "bytes=-1000"})
    assert r.status_code == 206 and r.content == site["content"][-1000:]
    assert nginx.get("/data/nope").status_code == 404
    # A query reaches the worker inside REQUEST_URI (the params send no QUERY_STRING).
    r = nginx.get("/data?list-type=2&prefix=dir/&delimiter=/")
    assert r.status_code == 200 and b"<Key>dir/object.bin</Key>" in r.content and b"<Prefix>dir/</Prefix>" in r.content, r.text[:300]


def unit_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            values[m.group(1)] = m.group(2)
    return values


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_systemd_units(site, tmp_path):
    sock_unit = unit_values(DEPLOY / "x2s3.socket")
    svc = unit_values(DEPLOY / "x2s3.service")
    assert svc["StandardInput"] == "socket" and sock_unit["Accept"] == "no"
    assert svc["ExecReload"] == "/bin/kill -HUP $MAINPID"
    sock_path = tmp_path / "x2s3.sock"
    assert sock_unit["ListenStream"] == "/run/x2s3/x2s3.sock"
    argv = shlex.split(svc["ExecStart"])
    argv = [str(site["bin"]) if a == "/usr/local/bin/x2s3" else str(site["config"]) if a == "/etc/x2s3/config.yaml" else a
            for a in argv]
    workers = int(argv[argv.index("--workers") + 1])

    # What systemd does for the socket unit, then for the service.
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    os.chmod(sock_path, int(sock_unit["SocketMode"], 8))
    listener.listen(int(sock_unit["Backlog"]))
    proc = subprocess.Popen(argv, stdin=listener.fileno(), stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "journal.log", "wb"), start_new_session=True)
    listener.close()  # systemd keeps its copy; the pool has fd 0
    nginx = None
    try:
        # Inside the try: an nginx that fails to start must not leave the pool running.
        nginx = Nginx(tmp_path / "nginx", fastcgi_location(sock_path))
        wait_for(lambda: len(children_of(proc.pid)) == workers, what=f"{workers} workers")
        read_object(nginx, site)
        # systemctl reload: a new generation of workers, the socket and the service stay up.
        before = set(children_of(proc.pid))
        subprocess.run(shlex.split(svc["ExecReload"].replace("$MAINPID", str(proc.pid))), check=True)
        wait_for(lambda: set(children_of(proc.pid)).isdisjoint(before) and len(children_of(proc.pid)) == workers,
                 what="reloaded workers")
        read_object(nginx, site)
        # systemctl stop: SIGTERM (KillMode=mixed sends it to the main process), a clean exit.
        kids = children_of(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        wait_for(lambda: not any(alive(k) for k in kids), what="workers gone")
    finally:
        if nginx:
            nginx.stop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.skipif(shutil.which("spawn-fcgi") is None, reason="spawn-fcgi not installed")
def test_spawn_fcgi(site, tmp_path):
    sock_path = tmp_path / "x2s3.sock"
    pidfile = tmp_path / "x2s3.pid"
    env = dict(os.environ, X2S3_BIN=str(site["bin"]), X2S3_CONFIG=str(site["config"]),
               X2S3_SOCKET=str(sock_path), X2S3_WORKERS="2", X2S3_PIDFILE=str(pidfile))
    out = subprocess.run([str(DEPLOY / "spawn-fcgi.sh")], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    pid = int(re.search(r"PID: (\d+)", out.stderr + out.stdout).group(1))
    assert int(pidfile.read_text()) == pid
    nginx = None
    try:
        nginx = Nginx(tmp_path / "nginx", fastcgi_location(sock_path))
        wait_for(lambda: len(children_of(pid)) == 2, what="2 workers")
        read_object(nginx, site)
        kids = children_of(pid)
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid) and not any(alive(k) for k in kids), what="pool stopped")
    finally:
        if nginx:
            nginx.stop()
        for p in [pid, *children_of(pid)]:
            if alive(p):
                os.kill(p, signal.SIGKILL)


@pytest.mark.skipif(shutil.which("fcgiwrap") is None and not Path("/usr/sbin/fcgiwrap").exists(),
                    reason="fcgiwrap not installed (apt-get install fcgiwrap)")
def test_cgi_under_fcgiwrap(site, tmp_path):
    fcgiwrap = shutil.which("fcgiwrap") or "/usr/sbin/fcgiwrap"
    sock_path = tmp_path / "fcgiwrap.sock"
    # As Debian's fcgiwrap.service runs it (socket on fd 0 from fcgiwrap.socket), but bound by
    # fcgiwrap itself; -p restricts it to the one program, as a shared host should.
    proc = subprocess.Popen([fcgiwrap, "-c", "2", "-s", f"unix:{sock_path}", "-p", str(site["bin"])],
                            stdin=subprocess.DEVNULL, stderr=open(tmp_path / "fcgiwrap.log", "wb"),
                            start_new_session=True)
    nginx = None
    try:
        wait_for(lambda: sock_path.exists(), what="fcgiwrap socket")
        recipe = (DEPLOY / "nginx-fcgiwrap.conf").read_text()
        for old, new in (("/etc/nginx/x2s3/fastcgi_params.x2s3", "fastcgi_params.x2s3"),
                         ("/usr/local/bin/x2s3", str(site["bin"])),
                         ("/etc/x2s3/config.yaml", str(site["config"])),
                         ("/run/fcgiwrap.socket", str(sock_path)),
                         ("/var/log/nginx/access.log", str(tmp_path / "access.log"))):
            assert old in recipe
            recipe = recipe.replace(old, new)
        nginx = Nginx(tmp_path / "nginx", recipe)
        read_object(nginx, site)
        # Offload is never used by a CGI, even when nginx announces it and the target asks.
        r = nginx.get("/data/dir/object.bin")
        assert "X-Accel-Redirect" not in r.headers and r.content == site["content"]
        # The recipe logs in maps.conf's format: the request line without a signature.
        nginx.get("/data/dir/object.bin?X-Amz-Signature=SIGSECRET1")
        wait_for(lambda: "SIGSECRET1" in (tmp_path / "access.log").read_text() or
                 "X-Amz-Signature=REDACTED" in (tmp_path / "access.log").read_text(), what="the access log line")
        log = (tmp_path / "access.log").read_text()
        assert '"GET /data/dir/object.bin?X-Amz-Signature=REDACTED HTTP/1.1"' in log and "SIGSECRET1" not in log, log
    finally:
        if nginx:
            nginx.stop()
        # fcgiwrap -c N preforks N children that outlive a SIGTERM to the parent alone: stop the
        # whole process group (its own session, started above).
        kids = children_of(proc.pid)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wait_for(lambda: not any(alive(k) for k in kids), what="fcgiwrap children gone")
