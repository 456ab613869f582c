"""Load generator and latency probes for scripts/bench's slow-client section (run as subprocesses).

    python3 bench_slowload.py load  --port P --path /b/key --expect FILE --clients 200 --rate 100000
                                    --slowloris 50 --duration S
    python3 bench_slowload.py probe --port P --path /b/?list-type=2 --per-second R --duration S
                                    (--expect FILE | --keys 1000)

`load`, one asyncio process: `clients` raw-socket readers, each GET one object and recv()ing at
most `rate` bytes a second (a 64 KiB receive buffer, so the server feels the pace as a slow
network would, not a 32 MiB loopback window), comparing every byte received with the expected
file; and `slowloris` connections that send a partial request header and then one more header
line every 10 s, never finishing. Every client binds its own loopback source address (127.0.1.x,
127.0.2.x): 250 distinct clients, as on the internet, not 250 connections from one address. It
prints READY and opens them at a steady rate over the first `--arrive` seconds (0: all at once;
the probes start at READY: the window includes the slow clients' arrival), runs `duration` seconds from then, and prints one JSON line of outcomes (a
reader is healthy when it received bytes in the last 2 s and every byte so far was right) and its
own CPU time.

`probe`: one sequential keep-alive client with `per-second` slots a second on a fixed schedule,
checking each answer (200 and the expected body, or `keys` <Key> elements), timing out at 5 s.
A request is timed from its slot, so one held back by an earlier slow request counts its wait;
slots still unsent at the end count as errors. Prints one JSON line with every latency in ms and
the errors. Both stop by themselves.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import resource
import socket
import statistics
import sys
import time

RCVBUF = 64 << 10
TICK = 0.05
PROBE_TIMEOUT = 5.0


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Reader:
    def __init__(self, i: int):
        self.i = i
        self.got = 0
        self.status = ""
        self.error = ""
        self.last_progress = 0.0
        self.head_at = 0.0


async def open_sock(loop, port: int, source: str) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.setblocking(False)
    s.bind((source, 0))
    await loop.sock_connect(s, ("127.0.0.1", port))
    return s


async def read_slowly(r: Reader, port: int, path: str, expected: memoryview, rate: int, stop: asyncio.Event):
    loop = asyncio.get_running_loop()
    try:
        s = await open_sock(loop, port, f"127.0.1.{r.i % 250 + 1}")
    except OSError as e:
        r.error = f"connect: {e}"
        return
    try:
        await loop.sock_sendall(s, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await loop.sock_recv(s, 4096)
            if not chunk:
                r.error = "closed before the response head"
                return
            head += chunk
        head, _, body = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        r.status = lines[0]
        length = next((int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:")), -1)
        if lines[0].split()[1:2] != ["200"] or length != len(expected):
            r.error = f"{lines[0]!r}, Content-Length {length}"
            return
        start = r.head_at = time.monotonic()
        while not stop.is_set():
            if body:
                if expected[r.got:r.got + len(body)] != body:
                    r.error = f"bytes differ from the object within offset {r.got}..{r.got + len(body)}"
                    return
                r.got += len(body)
                r.last_progress = time.monotonic()
                if r.got == len(expected):
                    return
            # A token bucket: never ahead of `rate` bytes a second since the head arrived.
            allowed = int(rate * (time.monotonic() - start)) - r.got
            if allowed <= 0:
                await asyncio.sleep(TICK)
                body = b""
                continue
            body = await loop.sock_recv(s, min(allowed, len(expected) - r.got, RCVBUF))
            if not body:
                r.error = f"closed after {r.got} of {len(expected)} bytes"
                return
    except OSError as e:
        r.error = f"{type(e).__name__}: {e}"
    finally:
        s.close()


async def slowloris(i: int, port: int, path: str, stop: asyncio.Event, out: dict):
    loop = asyncio.get_running_loop()
    try:
        s = await open_sock(loop, port, f"127.0.2.{i % 250 + 1}")
        await loop.sock_sendall(s, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
    except OSError:
        out["failed"] += 1
        return
    closed = loop.create_task(loop.sock_recv(s, 4096))
    stopped = loop.create_task(stop.wait())
    n = 0
    try:
        while not stop.is_set():
            done, _ = await asyncio.wait([closed, stopped], timeout=10, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                out["closed_by_server"] += 1
                return
            if stop.is_set():
                break
            n += 1
            await loop.sock_sendall(s, f"X-Slow-{n}: {n}\r\n".encode())
        out["open_at_end"] += 1
    except OSError:
        out["closed_by_server"] += 1
    finally:
        closed.cancel()
        stopped.cancel()
        s.close()


async def load(args) -> dict:
    expected = memoryview(open(args.expect, "rb").read())
    stop = asyncio.Event()
    readers = [Reader(i) for i in range(args.clients)]
    loris = {"failed": 0, "closed_by_server": 0, "open_at_end": 0}
    print("READY", flush=True)
    cpu0, t0 = cpu_seconds(), time.monotonic()
    async def arrive(r: Reader) -> None:
        # Clients arrive at a steady rate over the first `arrive` seconds, as people do; 0 opens
        # them all at once (a burst of clients × object size asked for in one instant).
        await asyncio.sleep(r.i * args.arrive / max(1, len(readers)))
        await read_slowly(r, args.port, args.path, expected, args.rate, stop)
    tasks = [asyncio.create_task(arrive(r)) for r in readers]
    tasks += [asyncio.create_task(slowloris(i, args.port, args.small_path, stop, loris)) for i in range(args.slowloris)]
    await asyncio.sleep(args.duration)
    # The outcome is the state at the end of the window, taken before anything stops.
    end = time.monotonic()
    cpu = cpu_seconds() - cpu0
    window = end - t0
    heads = [r.head_at - t0 for r in readers if r.head_at]
    got = [r.got for r in readers]
    out = {"clients": len(readers), "window_s": window, "cpu_s": cpu,
           "progressing_at_end": sum(1 for r in readers if not r.error and r.got and
                                     (r.got == len(expected) or end - r.last_progress < 2.0)),
           "errors": sum(1 for r in readers if r.error), "error_samples": [f"client {r.i}: {r.error}" for r in readers if r.error][:5],
           "no_head": sum(1 for r in readers if not r.head_at and not r.error),
           "completed": sum(1 for g in got if g == len(expected)),
           # The readers' pace since their response heads arrived, all together (the limit is `rate`).
           "mean_rate_kbs": sum(got) / max(sum(end - r.head_at for r in readers if r.head_at), 1e-9) / 1000,
           "min_bytes": min(got, default=0), "bytes_total": sum(got),
           "heads": len(heads), "head_median_s": statistics.median(heads) if heads else float("nan"), "head_max_s": max(heads, default=float("nan"))}
    stop.set()
    # Readers stop at their next tick, slowloris at once; a reader the server stalled waits in
    # recv() and is cancelled.
    _, pending = await asyncio.wait(tasks, timeout=2)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    out["slowloris"] = loris
    return out


def probe(args) -> dict:
    expected = open(args.expect, "rb").read() if args.expect else None
    source = (f"127.0.3.{args.source}", 0)
    conn = None
    lat: list[float] = []
    service: list[float] = []
    errors: dict[str, int] = {}
    samples: list[str] = []

    def error(err: str, at: float) -> None:
        errors[err] = errors.get(err, 0) + 1
        if len(samples) < 5:
            samples.append(f"{at - t0:.1f} s: {err}")

    period = 1.0 / args.per_second
    cpu0, t0 = cpu_seconds(), time.monotonic()
    # Every slot due within the window is sent, late ones too (their wait counts); only what a
    # stalled request still holds a probe timeout past the window is given up, as errors.
    slots = round(args.duration * args.per_second)
    give_up = t0 + args.duration + PROBE_TIMEOUT
    for slot in range(slots):
        due = t0 + slot * period
        now = time.monotonic()
        if now >= give_up:
            for k in range(slot, slots):
                lat.append((now - (t0 + k * period)) * 1000)
                error("not sent: the probe was held by a stalled request", now)
            break
        if due > now:
            time.sleep(due - now)
        start = time.monotonic()
        err = ""
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=PROBE_TIMEOUT, source_address=source)
            conn.request("GET", args.path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                err = f"status {resp.status}"
            elif expected is not None and body != expected:
                err = f"body differs ({len(body)} bytes)"
            elif args.keys and body.count(b"<Key>") != args.keys:
                err = f"{body.count(b'<Key>')} keys, not {args.keys}"
        except (OSError, http.client.HTTPException) as e:
            err = type(e).__name__
        done = time.monotonic()
        # From the scheduled time, not the send: a request held back by an earlier slow one
        # counts its wait, as a client arriving then would (no coordinated omission).
        lat.append((done - due) * 1000)
        service.append((done - start) * 1000)
        if err:
            error(err, done)
            if conn is not None:
                conn.close()
                conn = None
    return {"latencies_ms": lat, "service_ms": service, "errors": errors, "error_samples": samples,
            "cpu_s": cpu_seconds() - cpu0}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("load", "probe"))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--small-path", default="/")
    ap.add_argument("--expect")
    ap.add_argument("--keys", type=int, default=0)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--rate", type=int, default=100_000)
    ap.add_argument("--slowloris", type=int, default=50)
    ap.add_argument("--per-second", type=float, default=50)
    ap.add_argument("--source", type=int, default=1)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--arrive", type=float, default=0.0)
    args = ap.parse_args()
    out = asyncio.run(load(args)) if args.mode == "load" else probe(args)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
