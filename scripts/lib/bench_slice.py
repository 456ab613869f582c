"""Ranged reads with and without nginx's slice module, for scripts/bench.

The shipped cache (nginx/cache.conf) never caches a ranged request: its Range goes to the
worker, which reads exactly the range. The alternative the production issue asked to measure is
nginx's slice module: a range is served from cached 1 MiB slices, and a slice not yet cached is
fetched whole from the worker. Both run here on the bench's x2s3 (same nginx, same workers):
  - /data/<object> with Range: the shipped path;
  - /sliced/data/<object> with Range: slice 1m + a fastcgi_cache of its own (http.d/).
Measured on the 64 MiB object: the first 16 KiB read inside each of its 64 slices, one at a time
(median latency, and bytes the workers sent per read, from their log lines); then random 16 KiB
reads with wrk once every slice is cached.
"""
from __future__ import annotations

import http.client
import re
import statistics
import time
from pathlib import Path

from bench_support import wrk_run

SLICE = 1 << 20
READ = 16 << 10


def nginx_conf(repo: Path, cache_dir: Path) -> tuple[str, str]:
    """(http.d, server.d) config for /sliced/: the shipped FastCGI params, except that the key
    comes from the captured path and the Range is the slice's."""
    params = []
    for line in (repo / "nginx" / "fastcgi_params.x2s3").read_text().splitlines():
        words = line.split()
        if not words or words[0] != "fastcgi_param":
            continue
        if words[1] == "REQUEST_URI":
            line = "fastcgi_param REQUEST_URI $bench_key;"
        elif words[1] == "HTTP_RANGE":
            line = "fastcgi_param HTTP_RANGE $slice_range;"
        elif words[1] == "HTTP_IF_RANGE":
            continue
        params.append("    " + line.strip())
    http = (f"fastcgi_cache_path {cache_dir} levels=1:2 keys_zone=bench_slices:16m max_size=1g "
            "inactive=1h use_temp_path=off;\n")
    server = "\n".join([
        "location ~ ^/sliced(?<bench_key>/.*)$ {",
        "    slice 1m;",
        "    fastcgi_cache bench_slices;",
        '    fastcgi_cache_key "$bench_key $slice_range";',
        "    fastcgi_cache_valid 200 206 1h;",
        *params,
        "    fastcgi_pass x2s3_workers;",
        "    fastcgi_keep_conn on;",
        "    fastcgi_buffer_size 64k;",
        "    fastcgi_buffers 32 64k;",
        "    fastcgi_busy_buffers_size 256k;",
        "}", ""])
    return http, server


def worker_bytes(log: Path, uri: str) -> int:
    """Bytes the workers logged sending for `uri` so far (head and body)."""
    pattern = re.compile(rf"bytes=(\d+) .*uri={re.escape(uri)} ")
    return sum(int(m.group(1)) for m in pattern.finditer(log.read_text(errors="replace")))


def measure(port: int, obj: Path, log: Path, duration: float, repeat: int, say) -> dict[str, float]:
    content = obj.read_bytes()
    key = f"/data/{obj.name}"
    offsets = [k * SLICE + (k * 37 * 1024) % (SLICE - READ) for k in range(len(content) // SLICE)]
    r: dict[str, float] = {}
    # Slices first, so its reads are the first of each slice; the shipped path has no state.
    for name, path in (("slice", "/sliced" + key), ("direct", key)):
        before = worker_bytes(log, key)
        latencies = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for off in offsets:
            start = time.perf_counter()
            conn.request("GET", path, headers={"Range": f"bytes={off}-{off + READ - 1}"})
            resp = conn.getresponse()
            body = resp.read()
            latencies.append(time.perf_counter() - start)
            if resp.status != 206 or body != content[off:off + READ]:
                raise RuntimeError(f"{path} bytes={off}-: status {resp.status}, {len(body)} bytes, not the range")
        conn.close()
        time.sleep(0.5)  # the workers log each request just after answering it
        r[f"first_{name}_ms"] = statistics.median(latencies) * 1000
        r[f"first_{name}_worker_kib"] = (worker_bytes(log, key) - before) / len(offsets) / 1024
        say(f"first 16 KiB read of each slice, {name}: {r[f'first_{name}_ms']:.2f} ms, "
            f"{r[f'first_{name}_worker_kib']:,.0f} KiB from the workers per read")
    lua = (f"math.randomseed(2026)\nrequest = function()\n  local off = math.random(0, {len(content) - READ})\n"
           f'  return wrk.format(nil, nil, {{["Range"] = string.format("bytes=%d-%d", off, off + {READ - 1})}})\nend\n')
    runs: dict[str, list[float]] = {"slice": [], "direct": [], "offload": []}
    for _ in range(repeat):
        for name, path in (("slice", "/sliced" + key), ("direct", key), ("offload", f"/fast/{obj.name}")):
            w = wrk_run(port, path, duration, 32, threads=2, lua=lua)
            if w["errors"]:
                raise RuntimeError(f"random ranged reads of {path}: {w['errors']} errors")
            runs[name].append(w["requests"] / w["seconds"])
            say(f"random 16 KiB ranged reads, {name}: {runs[name][-1]:,.0f} req/s")
    for name, values in runs.items():
        r[f"random_{name}"] = statistics.median(values)
    r["ratio_random_slice_direct"] = statistics.median(s / d for s, d in zip(runs["slice"], runs["direct"]))
    return r
