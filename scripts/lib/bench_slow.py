"""Slow clients against the default scripts/serve, for scripts/bench (docs/contract.md#performance-targets, row:
small GET p99 while 200 clients download large objects at 100 KB/s, ≤ 2× unloaded and < 50 ms,
0 errors).

One scripts/serve started as a user would (no --workers, no bench knobs; only the bench's
config). Probes, each its own process on a fixed schedule: 16 KiB GETs and ListObjectsV2 pages
of 1000 keys. First unloaded, then for each target kind (a file target, an S3 target on moto)
with `bench_slowload.py load` running: 200 slow readers of a 16 MiB object at 100 KB/s plus 50
slowloris connections. A 16 MiB read at 100 KB/s lasts 160 s, longer than the window, so a
reader's health is "still receiving at the end, every byte so far equal to the object's".
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_support import children

LOADGEN = Path(__file__).resolve().parent / "bench_slowload.py"
SMALL_PER_S, LIST_PER_S = 50, 10


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)] if s else float("nan")


def summarize(p: dict) -> dict:
    lat = p["latencies_ms"]
    return {"n": len(lat), "p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "max": max(lat, default=float("nan")),
            "service_p99": pct(p["service_ms"], 0.99),
            "errors": sum(p["errors"].values()), "error_kinds": p["errors"], "error_samples": p["error_samples"],
            "cpu_s": p["cpu_s"]}


def start_probes(port: int, small_path: str, small_file: Path, list_path: str, seconds: float) -> list[subprocess.Popen]:
    common = [sys.executable, str(LOADGEN), "probe", "--port", str(port), "--duration", f"{seconds:g}"]
    return [subprocess.Popen(common + ["--path", small_path, "--expect", str(small_file), "--per-second",
                                       str(SMALL_PER_S), "--source", "1"], stdout=subprocess.PIPE, text=True),
            subprocess.Popen(common + ["--path", list_path, "--keys", "1000", "--per-second", str(LIST_PER_S),
                                       "--source", "2"], stdout=subprocess.PIPE, text=True)]


def finish_probes(procs: list[subprocess.Popen], seconds: float) -> dict:
    out = {}
    for name, p in zip(("small", "list"), procs):
        stdout, _ = p.communicate(timeout=seconds + 60)
        if p.returncode != 0:
            raise RuntimeError(f"the {name} probe exited {p.returncode}")
        out[name] = summarize(json.loads(stdout.strip().splitlines()[-1]))
    return out


class WorkerCount(threading.Thread):
    """The most workers the pool had at once while it runs (the pool may grow)."""

    def __init__(self, pool_pid: int):
        super().__init__(daemon=True)
        self.pool_pid, self.most, self.done = pool_pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            self.most = max(self.most, len(children(self.pool_pid)))


def arrival(window: float) -> float:
    """Seconds over which the 200 readers arrive (at a steady rate): 20 a second, within the
    first half of the window, so most of it measures them all reading at once."""
    return min(10.0, window / 2)


def measure(serve, paths: dict[str, str], small_path: str, small_file: Path, list_path: str, large_file: Path,
            window: float, unloaded: float, say) -> dict:
    """`paths`: target kind -> path of the 16 MiB object on `serve`. Returns per-phase summaries."""
    port = serve.port
    res: dict = {"window_s": window, "unloaded_s": unloaded, "workers_at_start": len(children(serve.pool_pid()))}
    say(f"slow clients: unloaded probes for {unloaded:g} s ...")
    res["unloaded"] = finish_probes(start_probes(port, small_path, small_file, list_path, unloaded), unloaded)
    for kind, path in paths.items():
        say(f"slow clients: 200 readers of {path} at 100 KB/s + 50 slowloris, {window:g} s ...")
        count = WorkerCount(serve.pool_pid())
        count.start()
        load = subprocess.Popen([sys.executable, str(LOADGEN), "load", "--port", str(port), "--path", path,
                                 "--small-path", small_path, "--expect", str(large_file), "--duration", f"{window:g}",
                                 "--arrive", f"{arrival(window):g}"],
                                stdout=subprocess.PIPE, text=True)
        try:
            line = load.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"the load generator did not start: {line!r}")
            probes = start_probes(port, small_path, small_file, list_path, window)
            phase = finish_probes(probes, window)
            stdout, _ = load.communicate(timeout=window + 120)
            phase["load"] = json.loads(stdout.strip().splitlines()[-1])
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
            count.done.set()
            count.join()
        phase["workers_most"] = count.most
        res[kind] = phase
        ld = phase["load"]
        say(f"slow clients ({kind}): small p99 {phase['small']['p99']:.2f} ms ({phase['small']['errors']} errors), "
            f"list p99 {phase['list']['p99']:.2f} ms ({phase['list']['errors']} errors), "
            f"{ld['progressing_at_end']}/{ld['clients']} readers progressing, {ld['errors']} reader errors, "
            f"load generator {ld['cpu_s'] / ld['window_s'] * 100:.0f}% of a core")
        time.sleep(3)  # let nginx close the readers' connections before the next phase
    return res


def rows(r: dict, ok) -> list[str]:
    """Table rows: per target kind, the probes' latency vs unloaded, the readers' health, the cost."""
    out = []
    un = r["unloaded"]
    for kind, label in (("file", "a file target"), ("s3", "an S3 target (moto)")):
        if kind not in r:
            continue
        ph = r[kind]
        ld = ph["load"]
        for probe, what in (("small", "16 KiB GET"), ("list", "ListObjectsV2 page (1000 keys)")):
            p, u = ph[probe], un[probe]
            ratio = p["p99"] / u["p99"]
            met = p["p99"] < 50 and ratio <= 2 and p["errors"] == 0 and u["errors"] == 0
            out.append(
                f"| {what} latency while 200 clients read 16 MiB from {label} at 100 KB/s + 50 slowloris, "
                f"default serve ({r['workers_at_start']} workers at start, {ph['workers_most']} at most) "
                f"| p50 {p['p50']:.2f} / p99 {p['p99']:.2f} / max {p['max']:.1f} ms, {p['errors']} errors of {p['n']:,} "
                f"| unloaded p99 {u['p99']:.2f} ms ({u['errors']} errors of {u['n']:,}) | {ratio:.2f}× "
                f"| p99 < 50 ms, ≤ 2×, 0 errors | {ok(met)} |")
        healthy = ld["progressing_at_end"] == ld["clients"] and ld["errors"] == 0 and ld["no_head"] == 0
        out.append(
            f"| the 200 slow downloads from {label} after {ld['window_s']:.0f} s: still receiving, every byte equal to the object's "
            f"| {ld['progressing_at_end']}/{ld['clients']} receiving, {ld['errors']} errors, {ld['no_head']} without a response head, "
            f"mean {ld['mean_rate_kbs']:.0f} KB/s, "
            f"least {ld['min_bytes'] / 1e6:.1f} MB | | | all, 0 errors | {ok(healthy)} |")
        lo = ld["slowloris"]
        probe_cpu = ph["small"]["cpu_s"] + ph["list"]["cpu_s"]
        out.append(
            f"| the 50 slowloris connections ({label} run); CPU of the load generator / the probes "
            f"| {lo['open_at_end']} still open, {lo['closed_by_server']} closed by nginx, {lo['failed']} failed to connect "
            f"| | | (info) {ld['cpu_s'] / ld['window_s'] * 100:.0f}% / {probe_cpu / ld['window_s'] * 100:.0f}% of a core "
            f"(response heads: {ld['heads']} of {ld['clients']}, after {ld['head_median_s']:.1f} s median, "
            f"{ld['head_max_s']:.1f} s the last) | |")
    return out


def notes(r: dict) -> list[str]:
    found = []
    for phase in ("unloaded", "file", "s3"):
        for probe in ("small", "list"):
            if phase in r and r[phase][probe]["errors"]:
                kinds = r[phase][probe]["error_kinds"]
                found.append(f"slow clients, {phase} {probe} probe errors: " + ", ".join(f"{k} × {n}" for k, n in kinds.items())
                             + " (first at " + ", ".join(x.split(":")[0] for x in r[phase][probe]["error_samples"][:3]) + ")")
        if phase in r and phase != "unloaded" and r[phase]["load"]["error_samples"]:
            found.append(f"slow clients, {phase} reader errors: " + ", ".join(r[phase]["load"]["error_samples"]))
    return found
