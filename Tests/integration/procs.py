"""Process helpers shared by the integration tests: free ports, waiting for a listener,
stopping a child by PID, and a local moto_server (the reference S3 implementation).
Everything listens on 127.0.0.1 only."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Waits until 127.0.0.1:port accepts a connection; fails if `proc` exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not ready")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 5 s: only this process, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def raw_request(host: str, port: int, method: str, target: str, headers: dict[str, str] | None = None,
                timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Sends the request target exactly as given (no client-side normalisation of '..', '//'
    or escapes, which requests/urllib3 would do); returns status, lower-cased headers, body."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


# Credentials moto accepts for seeding (it checks none unless told to).
MOTO_ENV = {"AWS_ACCESS_KEY_ID": "seed", "AWS_SECRET_ACCESS_KEY": "seed", "AWS_DEFAULT_REGION": "us-east-1"}


def start_moto(log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """Starts `moto_server` on a free 127.0.0.1 port; returns (process, base URL). The caller
    stops it with stop(process)."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                env=dict(os.environ, **MOTO_ENV, **env),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc)
    except RuntimeError:
        stop(proc)
        raise
    return proc, f"http://127.0.0.1:{port}"
