"""The Python original for scripts/bench (docs/contract.md#performance-targets: beaten ≥ 6× on small GETs, ≥ 5× on
listing pages, run side by side on the same box).

PyPI's x2s3 1.6.1, the newest release, is installed once into its own venv under bench-output/
(never into the interpreter the tests use; it needs Python >= 3.12, found on PATH or under
pyenv when the bench's own interpreter is older) and served by uvicorn with uvloop and httptools,
its fastest setup, with as many workers as x2s3 gets and no nginx in front (one hop fewer than
x2s3 has: the comparison favours the original). It logs at WARNING (no per-request lines, while
x2s3 logs every request). Its app mounts `static/` and `templates/` from the working directory,
which its wheel does not ship; empty ones serve the S3 API, which is all the bench asks of it.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from procs import wait_port

VERSION = "1.6.1"
# Pinned where the figures depend on them; the rest as its wheel declares.
PACKAGES = [f"x2s3=={VERSION}", "fastapi==0.165.0", "starlette==1.10.0", "pydantic==2.14.4",
            "uvicorn[standard]==0.55.0"]


def python312() -> str | None:
    """An interpreter x2s3 1.6.1 accepts (Requires-Python >= 3.12)."""
    if sys.version_info >= (3, 12):
        return sys.executable
    candidates = [shutil.which(n) for n in ("python3.13", "python3.12")]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.1[2-9]*/bin/python3")), reverse=True)
    for c in candidates:
        if c and subprocess.run([c, "-c", "import sys, venv; assert sys.version_info >= (3, 12)"],
                                capture_output=True).returncode == 0:
            return c
    return None


class Original:
    """The original x2s3 serving `targets` (bucket name -> directory) on a free loopback port."""

    def __init__(self, out: Path, targets: dict[str, Path], workers: int, port: int):
        self.venv = out / "original-venv"
        self.run_dir = out / "run-original"
        self.targets, self.workers, self.port = targets, workers, port
        self.proc: subprocess.Popen | None = None

    def install(self, log) -> str | None:
        """Creates the venv once; returns None when ready, else why it could not be."""
        stamp = self.venv / ".installed"
        if stamp.exists() and stamp.read_text() == " ".join(PACKAGES):
            return None
        python = python312()
        if python is None:
            return f"x2s3 {VERSION} needs Python >= 3.12 and none was found (python3.12 on PATH)"
        log(f"installing the Python original (PyPI x2s3 {VERSION}) into bench-output/original-venv ...")
        try:
            subprocess.run([python, "-m", "venv", "--clear", str(self.venv)], check=True,
                           capture_output=True, text=True)
            subprocess.run([str(self.venv / "bin" / "pip"), "install", "-q", *PACKAGES], check=True,
                           capture_output=True, text=True, timeout=600)
        except subprocess.CalledProcessError as e:
            return f"pip failed: {(e.stderr or e.stdout or '').strip().splitlines()[-1:]}"
        except subprocess.TimeoutExpired:
            return "pip timed out"
        stamp.write_text(" ".join(PACKAGES))
        return None

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for d in ("static", "templates"):
            (self.run_dir / d).mkdir(exist_ok=True)
        # Its settings file is ./config.yaml (no flag); the same format x2s3 reads.
        (self.run_dir / "config.yaml").write_text(
            "log_level: WARNING\ntargets:\n" + "".join(
                f"  - name: {name}\n    client: file\n    options:\n      path: '{path}'\n"
                for name, path in self.targets.items()))
        self.log = open(self.run_dir / "uvicorn.log", "wb")
        self.proc = subprocess.Popen(
            [str(self.venv / "bin" / "uvicorn"), "x2s3.app:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--no-access-log", "--log-level", "warning"],
            cwd=self.run_dir, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            wait_port(self.port, self.proc, timeout=60)
        except RuntimeError as e:
            raise RuntimeError(f"the original did not come up ({e}); see {self.run_dir / 'uvicorn.log'}") from None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
