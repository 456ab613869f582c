"""Helpers for scripts/bench: data generation, a scripts/serve instance, wrk runs, /proc reads."""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from procs import free_port  # noqa: F401  (scripts/bench puts Tests/integration on the path)

WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"bytes":%d,"duration_us":%d,"errors":%d,"p50_us":%d}\\n',
    summary.requests, summary.bytes, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50)))
end
"""


def children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(entry))
    return sorted(kids)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def wrk_run(port: int, path: str, seconds: float, connections: int, threads: int, lua: str = "") -> dict:
    """One wrk run; returns requests, bytes, seconds, errors (non-2xx/3xx included), p50_ms.
    `lua` is more of wrk's script (e.g. a `request` function)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua + WRK_LUA)
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
             "--timeout", "10s", "-s", script, f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(script)
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    r = json.loads(line[len("WRKJSON "):])
    r["seconds"] = r["duration_us"] / 1e6
    r["p50_ms"] = r["p50_us"] / 1000
    return r


def _write_random(path: Path, size: int, rng: random.Random) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rng.getrandbits(8 * n).to_bytes(n, "little"))
            left -= n


def make_data(out: Path, n_files: int, log) -> dict[str, Path]:
    """bench-output/{data-root/data, flat, tree}, generated once per file count and reused."""
    root = out / "data-root"
    data = root / "data"
    flat = out / f"flat-{n_files}"
    tree = out / f"tree-{n_files}"
    stamp = out / f".data-{n_files}.done"
    paths = {"root": root, "data": data, "flat": flat, "tree": tree}
    if stamp.exists():
        return paths
    log(f"generating bench data under {out} (once) ...")
    rng = random.Random(2026)
    data.mkdir(parents=True, exist_ok=True)
    _write_random(data / "small-16k.bin", 16384, rng)
    _write_random(data / "large-64m.bin", 64 << 20, rng)
    with open(data / "huge-1g-sparse.bin", "wb") as f:
        f.truncate(1 << 30)  # sparse: streaming it costs no disk, only the worker's buffers
    # Flat: one directory of n files (names in S3 order are not readdir order).
    flat.mkdir(exist_ok=True)
    names = [f"chunk-{i:07d}.bin" for i in range(n_files)]
    rng.shuffle(names)
    for name in names:
        os.close(os.open(flat / name, os.O_CREAT | os.O_WRONLY, 0o644))
    # Nested: a Zarr-like tree, 10 x 10 x 10 directories of n/1000 files each.
    per_leaf = max(1, n_files // 1000)
    for a in range(10):
        for b in range(10):
            for c in range(10):
                d = tree / str(a) / str(b) / str(c)
                d.mkdir(parents=True, exist_ok=True)
                for i in range(per_leaf):
                    os.close(os.open(d / f"{i}.{a}.{b}", os.O_CREAT | os.O_WRONLY, 0o644))
    stamp.write_text("ok\n")
    return paths


def make_medium(data: Path, rng_seed: int = 16) -> Path:
    """data/medium-16m.bin (random), for the slow-client readers; made once."""
    path = data / "medium-16m.bin"
    if not path.exists() or path.stat().st_size != 16 << 20:
        _write_random(path, 16 << 20, random.Random(rng_seed))
    return path


class Serve:
    """scripts/serve on a free port with its own run directory; `server_conf` goes to server.d/,
    `http_conf` to http.d/. `workers=None` leaves scripts/serve's own default pool."""

    def __init__(self, repo: Path, run_dir: Path, config: Path, workers: int | None, env: dict[str, str], server_conf: str,
                 http_conf: str = ""):
        self.repo, self.run_dir, self.config, self.workers = repo, run_dir, config, workers
        self.env = dict(os.environ, X2S3_RUN_DIR=str(run_dir), **env)
        self.server_conf, self.http_conf = server_conf, http_conf
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        (self.run_dir / "server.d").mkdir(parents=True, exist_ok=True)
        conf = self.run_dir / "server.d" / "bench.conf"
        conf.write_text(self.server_conf or "# (nothing)\n")
        (self.run_dir / "http.d").mkdir(exist_ok=True)
        (self.run_dir / "http.d" / "bench.conf").write_text(self.http_conf or "# (nothing)\n")
        self.log = open(self.run_dir / "serve.log", "wb")
        workers = ["--workers", str(self.workers)] if self.workers else []
        self.proc = subprocess.Popen(
            [str(self.repo / "scripts" / "serve"), "--config", str(self.config), "--port", str(self.port), *workers],
            env=self.env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scripts/serve exited {self.proc.returncode}; see {self.run_dir / 'serve.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                if len(children(self.pool_pid())) >= (self.workers or 1):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError("scripts/serve did not come up within 60 s")

    def pool_pid(self) -> int:
        return int((self.run_dir / "x2s3.pid").read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
