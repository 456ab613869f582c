"""The session harness: runs scripts/serve on a config, waits for the pool, takes the workers'
fd baseline after warm-up, and on exit checks fds and a clean SIGTERM shutdown (see conftest.py's
docstring). conftest.py re-exports these names, so tests import them from either place."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml

from procs import free_port, raw_request

REPO = Path(__file__).resolve().parents[2]
SERVE = REPO / "scripts" / "serve"
WORKERS = 2


# --- process helpers ----------------------------------------------------------------

def children_of(pid: int) -> list[int]:
    """Direct children of pid, from /proc/*/stat (field 4 is the parent pid)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may contain spaces.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return sorted(kids)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has exited


def _held_fastcgi_connections() -> set[str]:
    """fd targets ('socket:[inode]') of connected unix sockets on a pool socket (*x2s3.sock,
    state 03 in /proc/net/unix): connections nginx keeps open between requests (upstream
    keepalive), which a worker holds until nginx or the worker closes them; not a leak."""
    held = set()
    with open("/proc/net/unix") as f:
        for line in f.read().splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 8 and cols[7].endswith("x2s3.sock") and cols[5] == "03":
                held.add(f"socket:[{cols[6]}]")
    return held


def bucket_roots(config: Path, cwd: Path) -> frozenset[str]:
    """The directories of the file buckets `config` defines (targets and local_path), resolved
    as the service resolves them (relative to its working directory `cwd`)."""
    doc = yaml.safe_load(config.read_text()) or {}
    paths = [(t.get("options") or {}).get("path") for t in doc.get("targets") or [] if t.get("client") == "file"]
    paths.append(doc.get("local_path"))
    return frozenset(os.path.realpath(cwd / p) for p in paths if p)


def fd_count(pid: int, roots: frozenset[str] = frozenset()) -> int:
    """Open fds of a worker, not counting a FastCGI connection it holds between requests, nor
    the first descriptor on each bucket root in `roots`: a worker opens a file bucket's root
    the first time it serves the bucket and keeps it (which worker serves a warm-up request
    is nginx's choice, so when that happens is not the test's). A second one is counted."""
    held = _held_fastcgi_connections()
    count, kept_roots = 0, set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target in held:
            continue
        if target in roots and target not in kept_roots:
            kept_roots.add(target)
            continue
        count += 1
    return count


def fd_targets(pid: int) -> dict[int, str]:
    """{fd: what it points at} for a leak report."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return out


@dataclass
class Server:
    """What tests need to know about the running service."""

    base_url: str
    port: int
    run_dir: Path
    root: Path                      # the "data" bucket's directory
    files: dict[str, bytes]         # key -> content of every file in "data"
    serve: subprocess.Popen
    log_path: Path
    bucket_roots: frozenset[str] = frozenset()  # see fd_count
    fd_baseline: dict[int, int] = field(default_factory=dict)
    fd_baseline_targets: dict[int, dict[int, str]] = field(default_factory=dict)

    @property
    def pool_pid(self) -> int:
        return int((self.run_dir / "x2s3.pid").read_text())

    @property
    def nginx_pid(self) -> int:
        return int((self.run_dir / "nginx.pid").read_text())

    def worker_pids(self) -> list[int]:
        """The pool's worker processes (its direct children)."""
        return children_of(self.pool_pid)

    def nginx_worker_pids(self) -> list[int]:
        return children_of(self.nginx_pid)

    def fd_counts(self) -> dict[int, int]:
        return {pid: fd_count(pid, self.bucket_roots) for pid in self.worker_pids()}

    def url(self, bucket: str, key: str = "", query: str = "") -> str:
        """URL of a key, each byte outside RFC 3986 unreserved and '/' percent-encoded."""
        path = f"/{bucket}/" + urllib.parse.quote(key, safe="/") if bucket else "/"
        return self.base_url.rstrip("/") + path + (f"?{query}" if query else "")

    def raw(self, method: str, target: str, headers: dict[str, str] | None = None,
            ) -> tuple[int, dict[str, str], bytes]:
        """Sends the request target exactly as given (no client-side normalisation of
        '..', '//' or escapes, which requests/urllib3 would do)."""
        return raw_request("127.0.0.1", self.port, method, target, headers, timeout=30)

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


def _wait_until_answering(server: Server, deadline: float) -> None:
    last = None
    while time.monotonic() < deadline:
        if server.serve.poll() is not None:
            pytest.fail(f"scripts/serve exited with {server.serve.returncode}:\n{server.log_tail()}")
        try:
            r = requests.get(server.base_url, timeout=2)
            if r.status_code not in (502, 503, 504):
                return
            last = f"HTTP {r.status_code}"
        except requests.RequestException as e:
            last = repr(e)
        time.sleep(0.2)
    pytest.fail(f"server did not answer within the deadline ({last}):\n{server.log_tail()}")


def _warm_every_worker(srv: Server, warm: list[tuple[str, str]], workers: int) -> None:
    """Touches every bucket in `warm` until each worker has opened its per-bucket state (a
    worker keeps one directory fd per file bucket it has served): concurrent requests, so
    nginx spreads them over several FastCGI connections (sequential ones would all reuse one
    kept connection, and so one worker), in rounds until all workers hold the same number of
    fds and a round changes nothing. Bounded: at most 40 rounds."""
    if not warm:
        time.sleep(0.2)
        return
    batch = [bk for bk in warm for _ in range(4 * workers)]
    last: dict[int, int] = {}
    with ThreadPoolExecutor(4 * workers) as ex:
        for _ in range(40):
            list(ex.map(lambda bk: requests.get(srv.url(*bk), timeout=10), batch))
            time.sleep(0.05)
            counts = srv.fd_counts()
            if counts == last and len(set(counts.values())) == 1:
                return
            last = counts


@contextlib.contextmanager
def serving(top: Path, config: Path, root: Path, files: dict[str, bytes],
            warm: list[tuple[str, str]], port: int | None = None, base_path: str = "/",
            workers: int = WORKERS, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Runs scripts/serve on `config` (run directory and log under `top`) until the block
    ends, then checks fds and shutdown as described above. `warm` lists (bucket, key)
    requests that open every bucket's per-worker state before the fd baseline is taken.
    `port` is for configs that must name it (a base_url); `base_path` is base_url's path;
    `env` is added to serve's environment."""
    port = port or free_port()
    run_dir = top / "run"
    log_path = top / "serve.log"
    penv = dict(os.environ)
    penv.setdefault("X2S3_SERVE_NO_BUILD", "1")
    penv["X2S3_SERVE_NO_INSTALL"] = "1"
    penv["X2S3_RUN_DIR"] = str(run_dir)
    # Only read by the scripts/lib/baseline-pool stand-in: /data/<key> maps onto it.
    penv.setdefault("X2S3_BASELINE_ROOT", str(top))
    penv.update(env or {})
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(SERVE), "--config", str(config), "--port", str(port), "--workers", str(workers)],
            cwd=top, env=penv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of pytest must not hit serve's children directly
        )
    srv = Server(base_url=f"http://127.0.0.1:{port}{base_path}", port=port, run_dir=run_dir,
                 root=root, files=files, serve=proc, log_path=log_path, bucket_roots=bucket_roots(config, top))
    try:
        _wait_until_answering(srv, time.monotonic() + 60)
        # Workers may still be forking; wait for the full pool, then warm up every
        # worker (lazy per-process state) before taking the fd baseline.
        deadline = time.monotonic() + 10
        while len(srv.worker_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        _warm_every_worker(srv, warm, workers)
        srv.fd_baseline = srv.fd_counts()
        srv.fd_baseline_targets = {pid: fd_targets(pid) for pid in srv.fd_baseline}
        yield srv
    finally:
        _stop(srv)


def _stop(srv: Server) -> None:
    problems = []
    pids = {}
    if srv.serve.poll() is None:
        try:
            pids = {"nginx": [srv.nginx_pid, *srv.nginx_worker_pids()],
                    "x2s3": [srv.pool_pid, *srv.worker_pids()]}
            if srv.fd_baseline:
                # A worker may still be finishing the last request: let it settle.
                deadline = time.monotonic() + 2
                while srv.fd_counts() != srv.fd_baseline and time.monotonic() < deadline:
                    time.sleep(0.05)
                now = srv.fd_counts()
                for pid, before in srv.fd_baseline.items():
                    if pid not in now:
                        problems.append(f"worker {pid} was replaced during the session")
                    elif now[pid] != before:
                        problems.append(
                            f"worker {pid}: {before} open fds after warm-up, {now[pid]} at the end: "
                            f"{srv.fd_baseline_targets.get(pid)} -> {fd_targets(pid)}")
        except (OSError, ValueError) as e:
            problems.append(f"could not read the run directory: {e!r}")
        srv.serve.send_signal(signal.SIGTERM)
    else:
        problems.append(f"scripts/serve had already exited with {srv.serve.returncode}")
    try:
        rc = srv.serve.wait(timeout=5)
        if rc != 0:
            problems.append(f"scripts/serve exited with {rc} after SIGTERM")
    except subprocess.TimeoutExpired:
        problems.append("scripts/serve still running 5 s after SIGTERM")
        os.killpg(srv.serve.pid, signal.SIGKILL)
        srv.serve.wait()
    time.sleep(0.1)
    for name, group in pids.items():
        left = [p for p in group if alive(p)]
        if left:
            problems.append(f"{name} processes still alive after serve exited: {left}")
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
    if problems:
        raise AssertionError("; ".join(problems) + "\n--- serve log ---\n" + srv.log_tail())
