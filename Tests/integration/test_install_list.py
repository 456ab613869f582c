"""scripts/serve installs every Debian package the build needs: the -dev package that ships
each header the C shims include (found with dpkg -S), so the README's first command builds
on a fresh machine. scripts/test installs more, which would hide a missing entry in CI."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The C library itself and the kernel headers come with the toolchain (build-essential).
TOOLCHAIN = {"libc6-dev", "linux-libc-dev"}


def serve_packages() -> set[str]:
    text = (REPO / "scripts" / "serve").read_text()
    line = next(l for l in text.splitlines() if "scripts/lib/install-deps" in l and not l.lstrip().startswith("#"))
    return set(line.split("install-deps\"", 1)[1].split())


def shim_headers() -> set[str]:
    headers: set[str] = set()
    for path in (REPO / "Sources").glob("C*/**/*"):
        if path.suffix in {".h", ".c", ".modulemap"}:
            headers |= set(re.findall(r"#include\s*<([^>]+)>", path.read_text()))
    return headers


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg (Debian)")
def test_serve_installs_the_package_of_every_header_the_shims_include():
    owners: dict[str, str] = {}
    for header in sorted(shim_headers()):
        for root in ("/usr/include", "/usr/include/x86_64-linux-gnu"):
            candidate = Path(root) / header
            if candidate.exists():
                out = subprocess.run(["dpkg", "-S", str(candidate)], capture_output=True, text=True)
                if out.returncode == 0:
                    owners[header] = out.stdout.split(":", 1)[0].strip()
                break
    assert {"curl/curl.h", "fcgiapp.h", "yaml.h"} <= owners.keys(), owners
    needed = {pkg for pkg in owners.values() if pkg not in TOOLCHAIN}
    missing = needed - serve_packages()
    assert not missing, f"scripts/serve does not install {sorted(missing)} (headers: {owners})"
