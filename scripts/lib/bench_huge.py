"""A ListObjectsV2 page of a huge flat directory against a page of a small one, for scripts/bench
(docs/contract.md#performance-targets, row: 1,000,000 entries, warm, ≤ 3× a 1,000-entry directory's page;
worker RSS < 64 MiB).

The directories (empty files) are made once under bench-output/ and reused. Timed one request at a
time on one kept connection: the first (cold) page once, then the first page and a page in the
middle (start-after, the same position a continuation token names) `n` times each, warm; the
small directory's only page likewise. The workers' RSS is sampled throughout.
"""
from __future__ import annotations

import http.client
import os
import statistics
import threading
import time
from pathlib import Path

from bench_support import children, rss_kib


def make_flat(out: Path, n: int, log) -> Path:
    """bench-output/flat-<n>: n empty files chunk-NNNNNNN.bin, created in shuffled order."""
    d = out / f"flat-{n}"
    stamp = out / f".flat-{n}.done"
    if stamp.exists():
        return d
    log(f"creating {n:,} empty files in {d} (once) ...")
    d.mkdir(parents=True, exist_ok=True)
    # Created in a scrambled order (a multiplicative permutation) so readdir order is not S3 order.
    step = 1_000_003 if n % 1_000_003 else 999_983
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(n):
            name = f"chunk-{(i * step) % n:07d}.bin"
            os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    stamp.write_text("ok\n")
    return d


class RssPeak(threading.Thread):
    def __init__(self, pool_pid: int):
        super().__init__(daemon=True)
        self.pool_pid, self.peak, self.done = pool_pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            for p in children(self.pool_pid):
                self.peak = max(self.peak, rss_kib(p))


def _page(conn: http.client.HTTPConnection, path: str) -> float:
    start = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    took = (time.perf_counter() - start) * 1000
    if resp.status != 200 or body.count(b"<Key>") != 1000:
        raise RuntimeError(f"{path}: status {resp.status}, {body.count(b'<Key>')} keys, not 1000")
    return took


def measure(port: int, pool_pid: int, huge: str, huge_n: int, small: str, n: int, say) -> dict[str, float]:
    first = "/{}/?list-type=2&max-keys=1000"
    later = first + f"&start-after=chunk-{huge_n // 2:07d}.bin"
    rss = RssPeak(pool_pid)
    rss.start()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        r = {"huge_n": huge_n, "huge_cold_ms": _page(conn, first.format(huge))}
        say(f"{huge_n:,}-entry directory, cold first page: {r['huge_cold_ms']:.1f} ms")
        _page(conn, later.format(huge))
        _page(conn, first.format(small))
        times: dict[str, list[float]] = {"huge_first": [], "huge_later": [], "small": []}
        # Kept connections spread requests over the workers: n rounds warm every one of them.
        # Bounded in time too (at least 3 rounds), for builds where such a page costs seconds.
        began = time.monotonic()
        for k in range(n):
            if k >= 3 and time.monotonic() - began > 30:
                break
            times["huge_first"].append(_page(conn, first.format(huge)))
            times["huge_later"].append(_page(conn, later.format(huge)))
            times["small"].append(_page(conn, first.format(small)))
    finally:
        conn.close()
        rss.done.set()
        rss.join()
    for k, v in times.items():
        r[f"{k}_ms"] = statistics.median(v)
    r["huge_rss_mib"] = rss.peak / 1024
    say(f"{huge_n:,}-entry directory, warm: first page {r['huge_first_ms']:.2f} ms, middle page "
        f"{r['huge_later_ms']:.2f} ms; 1,000-entry page {r['small_ms']:.2f} ms; worker RSS peak {r['huge_rss_mib']:.1f} MiB")
    return r


def rows(r: dict, ok) -> list[str]:
    out = []
    for which, label in (("first", "first page"), ("later", "middle page (start-after)")):
        ratio = r[f"huge_{which}_ms"] / r["small_ms"]
        out.append(f"| ListObjectsV2 {label} of a {int(r['huge_n']):,}-entry flat directory, warm "
                   f"| {r[f'huge_{which}_ms']:.2f} ms | 1,000-entry directory {r['small_ms']:.2f} ms | {ratio:.2f}× "
                   f"| ≤ 3× | {ok(ratio <= 3)} |")
    out.append(f"| worker RSS (peak) while listing the {int(r['huge_n']):,}-entry directory (cold page {r['huge_cold_ms']:,.0f} ms) "
               f"| {r['huge_rss_mib']:.1f} MiB | | | < 64 MiB | {ok(r['huge_rss_mib'] < 64)} |")
    return out
