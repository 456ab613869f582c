"""The table scripts/bench prints and writes to bench-output/bench.md."""
from __future__ import annotations

import os

import bench_huge
import bench_slow
from bench_original import VERSION as ORIGINAL_VERSION


def ok(cond: bool) -> str:
    return "met" if cond else "**missed**"


def original_rows(r: dict) -> list[str]:
    """x2s3 against the Python original (docs/contract.md#performance-targets: ≥ 6× on small GETs, ≥ 5× on listing pages)."""
    if r["original_missing"]:
        return [f"| x2s3 vs the Python original {ORIGINAL_VERSION} | | not measured: {r['original_missing']} | | ≥ 6× / ≥ 5× | **not measured** |"]
    small = r["ratio_small_stream_small_original"]
    rows = [f"| 16 KiB GETs/s vs the Python original {ORIGINAL_VERSION} (uvicorn, same worker count, no nginx in front) "
            f"| {r['small_stream']:,.0f} | original {r['small_original']:,.0f} | {small:.1f}× | ≥ 6× | {ok(small >= 6)} |"]
    for bucket, label in (("flat", "flat dir"), ("tree", "nested tree")):
        for which in ("first", "last"):
            mine, theirs = r[f"list_{bucket}_{which}_ms"], r[f"orig_list_{bucket}_{which}_ms"]
            rows.append(f"| ListObjectsV2 {which} page, {label}, vs the Python original {ORIGINAL_VERSION} | {mine:.2f} ms "
                        f"| original {theirs:.2f} ms | {theirs / mine:.1f}× | ≥ 5× | {ok(theirs / mine >= 5)} |")
    return rows


def main_rows(r: dict) -> list[str]:
    s_c = r["ratio_small_stream_small_c"]
    s_static = r["ratio_small_stream_small_static"]
    l_stream = r["ratio_large_stream_large_static"]
    l_off = r["ratio_large_offload_large_static"]
    up = r["ratio_upstream_x2s3_upstream_direct"]
    flat = r["list_flat_last_ms"] / r["list_flat_first_ms"]
    tree = r["list_tree_last_ms"] / r["list_tree_first_ms"]
    rss_growth = r["rss_after_gets_mib"] - r["rss_idle_mib"]
    return [
        f"| 16 KiB GETs/s, stream mode | {r['small_stream']:,.0f} | C libfcgi {r['small_c']:,.0f} | {s_c:.2f}× | ≥ 0.9× | {ok(s_c >= 0.9)} |",
        f"| 16 KiB GETs/s, stream mode | {r['small_stream']:,.0f} | nginx static {r['small_static']:,.0f} | {s_static:.2f}× | ≥ 0.25× | {ok(s_static >= 0.25)} |",
        f"| 16 KiB GETs/s, stream mode without upstream keepalive (the C baseline's nginx settings) | {r['small_stream_nokeepalive']:,.0f} | C libfcgi {r['small_c']:,.0f} | {r['ratio_small_stream_nokeepalive_small_c']:.2f}× | (info) | |",
        f"| 16 KiB GETs/s, offload mode | {r['small_offload']:,.0f} | nginx static {r['small_static']:,.0f} | {r['ratio_small_offload_small_static']:.2f}× | (info) | |",
        f"| 64 MiB MB/s, stream mode | {r['large_stream']:,.0f} | nginx static {r['large_static']:,.0f} | {l_stream:.2f}× | ≥ 0.7× | {ok(l_stream >= 0.7)} |",
        f"| 64 MiB MB/s, stream mode with libfcgi's 8 KiB records (before FastCGIOutput's direct records) | {r['large_stream_libfcgi']:,.0f} | nginx static {r['large_static']:,.0f} | {r['ratio_large_stream_libfcgi_large_static']:.2f}× | (info) | |",
        f"| 64 MiB MB/s, offload mode | {r['large_offload']:,.0f} | nginx static {r['large_static']:,.0f} | {l_off:.2f}× | ≥ 0.9× | {ok(l_off >= 0.9)} |",
        f"| 64 MiB MB/s from an S3 target through x2s3 (moto upstream), 1 connection | {r['upstream_x2s3']:,.0f} | the same upstream read directly {r['upstream_direct']:,.0f} | {up:.2f}× | ≥ 0.9× | {ok(up >= 0.9)} |",
        f"| 64 MiB MB/s from an S3 target through x2s3 (moto upstream), 1 connection | {r['upstream_x2s3']:,.0f} | the same upstream through nginx's proxy_pass on the same nginx (the same hop, no worker) {r['upstream_proxy']:,.0f} | {r['ratio_upstream_x2s3_upstream_proxy']:.2f}× | (info) | |",
        f"| ListObjectsV2 page, flat dir ({int(r['list_flat_pages'])} pages) | last {r['list_flat_last_ms']:.2f} ms | first {r['list_flat_first_ms']:.2f} ms | {flat:.2f}× | ≤ 1.5× | {ok(flat <= 1.5)} |",
        f"| ListObjectsV2 page, nested tree ({int(r['list_tree_pages'])} pages) | last {r['list_tree_last_ms']:.2f} ms | first {r['list_tree_first_ms']:.2f} ms | {tree:.2f}× | ≤ 1.5× | {ok(tree <= 1.5)} |",
    ] + bench_huge.rows(r["huge"], ok) + [
        f"| 16 KiB ranged read of the 64 MiB object, first read of its 1 MiB slice: shipped (Range to the worker) vs slice module + cache | {r['first_direct_ms']:.2f} ms, {r['first_direct_worker_kib']:,.0f} KiB from the worker | slice {r['first_slice_ms']:.2f} ms, {r['first_slice_worker_kib']:,.0f} KiB from the worker | {r['first_slice_worker_kib'] / r['first_direct_worker_kib']:.0f}× the bytes | (info) | |",
        f"| random 16 KiB ranged reads/s of the 64 MiB object once every slice is cached: shipped vs slice-cached | {r['random_direct']:,.0f} | slice {r['random_slice']:,.0f} | {r['ratio_random_slice_direct']:.2f}× | (info) | |",
        f"| random 16 KiB ranged reads/s, offload mode (nginx sendfile, no cache) | {r['random_offload']:,.0f} | slice {r['random_slice']:,.0f} | {r['random_offload'] / r['random_slice']:.2f}× | (info) | |",
    ] + original_rows(r) + [
        f"| worker RSS streaming 1 GiB | {r['rss_stream_1g_mib']:.1f} MiB | idle {r['rss_idle_mib']:.1f} MiB | | < 32 MiB | {ok(r['rss_stream_1g_mib'] < 32)} |",
        f"| worker RSS after {int(r['requests_before_rss']):,} 16 KiB GETs | {r['rss_after_gets_mib']:.1f} MiB | idle {r['rss_idle_mib']:.1f} MiB | +{rss_growth:.1f} MiB | < 32 MiB, no growth | {ok(r['rss_after_gets_mib'] < 32 and rss_growth < 1)} |",
        f"| worker RSS after the listings too (per-worker sorted-name cache of 2 × {int(r['list_flat_pages']) * 1000:,} names) | {r['rss_after_mib']:.1f} MiB | idle {r['rss_idle_mib']:.1f} MiB | | < 32 MiB | {ok(r['rss_after_mib'] < 32)} |",
    ]


def render(r: dict, args, loads: list[tuple[float, float, float]], notes: list[str]) -> str:
    """`r` holds the main figures (absent with --slow-clients) and r["slow"] (absent with --no-slow-clients)."""
    uname = os.uname()
    head = ["# x2s3 benchmark", ""]
    lines = ["| what | x2s3 | baseline | ratio | target | |", "|---|---:|---:|---:|---|---|"]
    if "small_stream" in r:
        head += [
            f"`{args.command_line}`: figures are medians of {args.repeat} run(s) of {args.duration:g} s each, "
            f"modes interleaved; ratios are medians of the ratios within each repeat; {args.workers} FastCGI workers for x2s3 and for the C baseline; one nginx "
            f"(worker_processes auto, access log off) per FastCGI service, with upstream keepalive 32 for x2s3 (the shipped default) and none for the C baseline (its best: a plain libfcgi loop is pinned by kept connections); wrk -t2 -c{args.connections} for 16 KiB, "
            "-t2 -c4 for 64 MiB, -c1 for listing pages (median latency); the huge-directory pages one at a time on one connection (median). "
            "x2s3 logs every request (INFO), as in production; the C baseline logs nothing, the Python original logs at WARNING.",
            "",
            f"Machine: {os.cpu_count()} cores, {uname.sysname} {uname.release}; load average (1 min) at start / after "
            "16 KiB / after 64 MiB / after ranged reads / after the S3 target / after listings / after the huge directory: " + " / ".join(f"{l[0]:.2f}" for l in loads) + ".",
            "",
        ]
        lines += main_rows(r)
    else:
        head += [f"`{args.command_line}` (the slow-client section only). Machine: {os.cpu_count()} cores, "
                 f"{uname.sysname} {uname.release}; load average (1 min) at start: {loads[0][0]:.2f}.", ""]
    if "slow" in r:
        sl = r["slow"]
        head += [
            f"Slow clients: scripts/serve started as a user would (no --workers, the bench's config, access log on). "
            f"Probes on their own kept connections, on a fixed schedule: {bench_slow.SMALL_PER_S} 16 KiB GETs/s and "
            f"{bench_slow.LIST_PER_S} ListObjectsV2 pages/s (first page of the {int(sl['list_keys_dir']):,}-file flat dir), "
            f"each checked (status, bytes or key count), 5 s timeout counted as an error; first {sl['unloaded_s']:g} s "
            f"with no other load (unloaded), then {sl['window_s']:g} s with 200 readers of a 16 MiB object at 100 KB/s each, "
            f"arriving at a steady rate over the first {bench_slow.arrival(sl['window_s']):g} s "
            "(asyncio raw sockets, 64 KiB receive buffer, every byte compared with the object) and 50 slowloris connections "
            "(a partial header, one more line every 10 s), from 250 distinct loopback addresses; once for a file target, "
            "once for an S3 target. Each probe is timed from its scheduled slot (one held back by an earlier slow "
            "request counts its wait; slots never sent count as errors); p99 is over every slot, errors included.",
            "",
        ]
        lines += bench_slow.rows(sl, ok)
    runs = r.get("runs", {})
    per_run = [f"- {k}: " + ", ".join(f"{v:,.0f}" for v in vs) for k, vs in runs.items()]
    tail = ([""] + ["Every run (req/s or MB/s, in run order):", ""] + per_run if per_run else []) + [""] + \
        ([f"Notes: {'; '.join(notes)}."] if notes else []) + [""]
    return "\n".join(head + lines + tail)
