"""Helpers for the hardening suites (containment, bad input, load and faults).

- `private_server`: a scripts/serve instance of the test's own (own tree, own config, own
  worker count), for tests that kill, reload or saturate workers and so must not share the
  session server (whose teardown insists no worker was replaced). Teardown is conftest's:
  fds back to the baseline (unless a test resets it after replacing workers), then SIGTERM
  stops serve, nginx and every worker within 5 s.
- `FakeUpstream`: an S3 endpoint that misbehaves on purpose (reset, stall, stall mid-body,
  garbage), for the worker's upstream timeouts.
- `FastCGIClient`: a minimal FastCGI client, to talk to a pool without nginx in between
  (the SIGTERM drain test must not depend on how nginx is stopped; the kept-connection
  tests need to choose exactly which connection each request takes).
- `pattern_bytes`: big deterministic content where a misplaced block is detected.

Everything is bounded: every wait has a deadline, every loop a count or an end time, and
every process started here is stopped by its pid.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from conftest import Server, fd_targets, free_port, serving

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".build" / "release" / "x2s3"
LONG = os.environ.get("X2S3_LONG_TESTS") == "1"
MIB = 1024 * 1024


def pattern_bytes(size: int, seed: int = 7) -> bytes:
    """`size` bytes of 1 MiB random blocks, each stamped with its index, so a block served
    at the wrong offset or twice is caught by a byte comparison."""
    block = random.Random(seed).randbytes(MIB)
    out = bytearray()
    i = 0
    while len(out) < size:
        out += i.to_bytes(8, "little") + block[8:]
        i += 1
    return bytes(out[:size])


def wait_for(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Polls until predicate() is true or the deadline passes (a hang guard, not a timing
    assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def file_target(name: str, path: Path, browseable: bool = True) -> str:
    return (f"  - name: {name}\n    browseable: {'true' if browseable else 'false'}\n"
            f"    client: file\n    options:\n      path: '{path}'\n")


def s3_target(name: str, endpoint: str, bucket: str = "b", connect_timeout: float = 1,
              read_timeout: float = 2) -> str:
    return (f"  - name: {name}\n    client: s3\n    options:\n      bucket: {bucket}\n"
            f"      endpoint: '{endpoint}'\n      config:\n"
            f"        connect_timeout: {connect_timeout}\n        read_timeout: {read_timeout}\n")


@contextlib.contextmanager
def private_server(top: Path, targets: str, workers: int = 2, env: dict[str, str] | None = None,
                   warm: list[str] | None = None):
    """Runs scripts/serve on a free port with `targets` (YAML list items) and yields a
    conftest.Server. `warm` paths are fetched before the fd baseline is taken."""
    config = top / "config.yaml"
    config.write_text("log_level: INFO\nui: true\ntargets:\n" + targets)
    pairs = [tuple(path.lstrip("/").split("/", 1)) for path in warm or []]
    with serving(top, config, top, {}, pairs, workers=workers, env=env) as srv:
        yield srv


def rebaseline(srv: Server) -> None:
    """Takes the fd baseline again (after a test replaced workers on purpose)."""
    srv.fd_baseline = srv.fd_counts()
    srv.fd_baseline_targets = {pid: fd_targets(pid) for pid in srv.fd_baseline}


def fds_settle(srv: Server, baseline: dict[int, int], timeout: float = 5) -> dict[int, int]:
    """Waits (bounded) for the workers' fd counts to return to `baseline`; returns the last."""
    wait_for(lambda: srv.fd_counts() == baseline, timeout, 0.1)
    return srv.fd_counts()


def worker_serving(srv: Server, filename: str) -> int | None:
    """The worker that has `filename` open right now (it is streaming it), if any."""
    for pid in srv.worker_pids():
        if any(t.endswith("/" + filename) for t in fd_targets(pid).values()):
            return pid
    return None


# --- a misbehaving upstream ---------------------------------------------------------------

# Self-contradictory heads (RFC 9112 §6.3), each followed by FRAMING_BODY (or chunks of it).
# libcurl 7.88 reads such a body by the last Content-Length (or the first number of a list),
# while the first one is the size a gateway that reads headers naively announces.
FRAMING_BODY = pattern_bytes(128 * 1024, seed=5)
FRAMING_HEADS = {
    "two-lengths": b"Content-Length: 65536\r\nContent-Length: 131072\r\n",
    "length-list": b"Content-Length: 65536, 131072\r\n",
    "length-and-chunked": b"Content-Length: 65536\r\nTransfer-Encoding: chunked\r\n",
    # A 206 (whatever was asked) whose length is not its range's.
    "range-length": b"Content-Range: bytes 0-65535/1048576\r\nContent-Length: 131072\r\n",
}


class FakeUpstream(threading.Thread):
    """Modes: "reset" (RST as soon as the request arrives), "stall" (read the request, never
    answer), "stall-body" (send a 200 head promising 1 MiB and 64 KiB of it, then stall),
    "garbage" (answer with bytes that are not HTTP), "short-body" (a 200 head promising 1 MiB,
    64 KiB of it, then close), and the FRAMING_HEADS modes (a 200 whose Content-Length fields
    contradict each other or a Transfer-Encoding, with FRAMING_BODY; no body for a HEAD).
    Held connections are closed by close()."""

    def __init__(self, mode: str):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopping = threading.Event()
        self.held: list[socket.socket] = []
        self.requests = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)
            conn.settimeout(2)
            try:
                request = conn.recv(65536)
                self.requests += 1
                if self.mode == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
                elif self.mode == "stall-body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n"
                                 b"Content-Type: application/octet-stream\r\n"
                                 b"Last-Modified: Tue, 24 Nov 2026 16:43:15 GMT\r\n\r\n" + b"s" * 65536)
                elif self.mode == "garbage":
                    conn.sendall(b"\x00\xffSSH-2.0-not-http\r\n\r\n" * 4)
                    conn.close()
                elif self.mode == "short-body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n"
                                 b"Content-Type: application/octet-stream\r\n\r\n" + FRAMING_BODY[:65536])
                    conn.close()
                elif self.mode in FRAMING_HEADS:
                    conn.sendall(self.framing_reply(self.mode, request.startswith(b"HEAD ")))
                    conn.close()
            except OSError:
                pass

    @staticmethod
    def framing_reply(mode: str, head_only: bool) -> bytes:
        status = b"206 Partial Content" if mode == "range-length" else b"200 OK"
        head = (b"HTTP/1.1 " + status + b"\r\n" + FRAMING_HEADS[mode]
                + b"Last-Modified: Tue, 24 Nov 2026 16:43:15 GMT\r\n\r\n")
        if head_only:
            return head
        if mode == "length-and-chunked":
            return head + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in
                                   (FRAMING_BODY[i:i + 32768] for i in range(0, len(FRAMING_BODY), 32768))) + b"0\r\n\r\n"
        return head + FRAMING_BODY

    def close(self) -> None:
        self.stopping.set()
        self.join(2)
        for c in self.held:
            with contextlib.suppress(OSError):
                c.close()
        self.sock.close()


# --- FastCGI, spoken directly ---------------------------------------------------------------

class FastCGIClient:
    """One FastCGI request over TCP (the record layout of the FastCGI 1.0 spec): BEGIN_REQUEST
    (responder), PARAMS, empty STDIN; then STDOUT records until END_REQUEST."""

    def __init__(self, host: str, port: int, timeout: float = 30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.ended = False

    @staticmethod
    def _record(kind: int, content: bytes, request_id: int = 1) -> bytes:
        return struct.pack(">BBHHBx", 1, kind, request_id, len(content), 0) + content

    @staticmethod
    def _pair(name: str, value: str) -> bytes:
        n, v = name.encode(), value.encode()
        def length(b: bytes) -> bytes:
            return bytes([len(b)]) if len(b) < 128 else struct.pack(">I", len(b) | 0x80000000)
        return length(n) + length(v) + n + v

    @classmethod
    def request(cls, params: dict[str, str], keep: bool = False, stdin: bytes = b"") -> bytes:
        """The bytes of one request: BEGIN_REQUEST (responder), PARAMS, then `stdin` as one
        STDIN record (at most 65535 bytes) and the empty STDIN record that ends it."""
        body = b"".join(cls._pair(k, v) for k, v in params.items())
        return (cls._record(1, struct.pack(">HB5x", 1, 1 if keep else 0))  # role 1: responder
                + cls._record(4, body) + cls._record(4, b"")
                + (cls._record(5, stdin) if stdin else b"") + cls._record(5, b""))

    def send(self, params: dict[str, str], keep: bool = False, stdin: bytes = b"") -> None:
        """Sends one request; `keep` sets FCGI_KEEP_CONN (as nginx's fastcgi_keep_conn does), so
        the connection stays open for the next request."""
        self.ended = False
        self.sock.sendall(self.request(params, keep, stdin))

    def get(self, key: str, keep: bool = True) -> tuple[bytes, bytes]:
        """A GET of /key on this connection; returns (head, body) after END_REQUEST."""
        self.send({"REQUEST_METHOD": "GET", "REQUEST_URI": key, "HTTP_HOST": "localhost",
                   "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}, keep=keep)
        head, _, body = self.read_stdout().partition(b"\r\n\r\n")
        return head, body

    def closed_by_peer(self, timeout: float) -> bool:
        """True when the peer closes the connection within `timeout` s (nothing more to read)."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (TimeoutError, socket.timeout):
            return False
        except ConnectionResetError:
            return True

    def read_stdout(self, limit: int | None = None) -> bytes:
        """Reads STDOUT content until END_REQUEST, EOF, or at least `limit` bytes."""
        out = bytearray()
        while not self.ended and (limit is None or len(out) < limit):
            while len(self.buf) < 8:
                chunk = self.sock.recv(262144)
                if not chunk:
                    return bytes(out)
                self.buf += chunk
            _, kind, _, clen, plen = struct.unpack(">BBHHB", self.buf[:7])
            need = 8 + clen + plen
            while len(self.buf) < need:
                chunk = self.sock.recv(262144)
                if not chunk:
                    return bytes(out)
                self.buf += chunk
            content, self.buf = self.buf[8:8 + clen], self.buf[need:]
            if kind == 6:
                out += content
            elif kind == 3:
                self.ended = True
        return bytes(out)

    def close(self) -> None:
        self.sock.close()


@contextlib.contextmanager
def bare_pool(config: Path, workers: int, log: Path):
    """The x2s3 pool on its own (no nginx) on a TCP port; yields (process, port). Stopped
    with SIGTERM, then SIGKILL of its process group after 10 s."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN), "--config", str(config), "--socket", f"tcp:127.0.0.1:{port}",
                                 "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        def listening() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
            return False
        if not wait_for(listening, 30, 0.1):
            raise AssertionError(f"pool did not listen: {log.read_text(errors='replace')[-2000:]}")
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# --- raw HTTP ---------------------------------------------------------------------------------

def raw_http(port: int, request: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Sends `request` byte for byte (http.client refuses control characters, spaces and
    non-ASCII in a request line; a hostile client does not) and parses the response."""
    import http.client
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(request)
        resp = http.client.HTTPResponse(s, method=request.split(b" ", 1)[0].decode("latin-1"))
        resp.begin()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        s.close()


def request_bytes(method: str | bytes, target: str | bytes, headers: dict[str, str | bytes] | None = None,
                  port: int = 80) -> bytes:
    """An HTTP/1.1 request with Connection: close, assembled from raw parts."""
    def b(x: str | bytes) -> bytes:
        return x if isinstance(x, bytes) else x.encode("utf-8")
    lines = [b(method) + b" " + b(target) + b" HTTP/1.1", b"Host: 127.0.0.1:%d" % port, b"Connection: close"]
    lines += [b(k) + b": " + b(v) for k, v in (headers or {}).items()]
    return b"\r\n".join(lines) + b"\r\n\r\n"
