"""A private scripts/serve instance for test modules that need their own config or nginx
profile (production, offload), next to conftest.py's shared session server.

    with ServeInstance(tmp, config_text, profile="production") as s:
        s.get("/bucket/key")  # requests.Response, TLS unverified for the self-signed cert

The worker log (scripts/serve's stdout+stderr) and nginx's access log are exposed so tests can
count what reached the worker. Everything started is stopped by pid (serve stops its children).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests
import urllib3

from conftest import REPO, SERVE, free_port

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


class ServeInstance:
    def __init__(self, top: Path, config_text: str, profile: str = "dev", workers: int | None = 2,
                 env: dict[str, str] | None = None):
        self.top = top
        self.profile = profile
        self.port = free_port()
        self.scheme = "https" if profile == "production" else "http"
        self.base_url = f"{self.scheme}://127.0.0.1:{self.port}"
        self.run_dir = top / f"run-{self.port}"
        self.log_path = top / f"serve-{self.port}.log"
        self.config = top / f"config-{self.port}.yaml"
        self.config.write_text(config_text)
        self.workers = workers
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.session = requests.Session()
        # Self-signed certificate. trust_env off: REQUESTS_CA_BUNDLE in the environment would
        # otherwise override verify=False (a requests quirk), and no proxy may intercept 127.0.0.1.
        self.session.verify = False
        self.session.trust_env = False

    def __enter__(self) -> "ServeInstance":
        env = dict(os.environ)
        env.setdefault("X2S3_SERVE_NO_BUILD", "1")
        env["X2S3_SERVE_NO_INSTALL"] = "1"
        env["X2S3_RUN_DIR"] = str(self.run_dir)
        env["X2S3_NGINX_PROFILE"] = self.profile
        env.update(self.extra_env)
        with open(self.log_path, "wb") as log:
            # workers=None: the config's dynamic pool instead of a fixed one.
            fixed = ["--workers", str(self.workers)] if self.workers is not None else []
            self.proc = subprocess.Popen(
                [str(SERVE), "--config", str(self.config), "--port", str(self.port), *fixed],
                cwd=self.top, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                if self.session.get(self.base_url + "/robots.txt", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise AssertionError(f"serve did not answer:\n{self.log()}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    # --- requests ---------------------------------------------------------------------

    def get(self, path: str, method: str = "GET", headers: dict[str, str] | None = None,
            **kw) -> requests.Response:
        return self.session.request(method, self.base_url + path, headers=headers or {},
                                    timeout=30, allow_redirects=False, **kw)

    # --- logs -------------------------------------------------------------------------

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def worker_lines(self, uri: str) -> list[str]:
        """The worker's log lines for requests whose REQUEST_URI is exactly `uri`."""
        return [l for l in self.log().splitlines() if f" uri={uri} " in l or l.endswith(f" uri={uri}")]

    def access_lines(self) -> list[str]:
        try:
            return (self.run_dir / "access.log").read_text(errors="replace").splitlines()
        except OSError:
            return []

    def settle(self, uri: str, count: int, timeout: float = 2.0) -> list[str]:
        """Worker log lines for `uri` once there are `count` (log writes may trail the response)."""
        deadline = time.monotonic() + timeout
        lines = self.worker_lines(uri)
        while len(lines) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            lines = self.worker_lines(uri)
        return lines


def repo_path(*parts: str) -> Path:
    return REPO.joinpath(*parts)
