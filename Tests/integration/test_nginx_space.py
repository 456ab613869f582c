"""A full temp (and cache) disk: scripts/serve's watchdog turns nginx's spooling and caching off
while the filesystem under X2S3_TEMP_DIR (and X2S3_CACHE_DIR) has less than X2S3_MIN_FREE free,
and back on once it has 1.5x that. nginx 1.22 cuts a response whose temp or cache write hits
ENOSPC; with spooling off it writes nothing there, so responses succeed on a full disk.

The temp space is a 64 MiB tmpfs (mounted for the test: root only) that another process fills."""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from conftest import children_of
from serve_instance import ServeInstance

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

OBJ = 12 * 1024 * 1024 + 3      # over 10 MB: never cached, so it always goes through the spool
SMALL = b"a small, cacheable object\n"


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "space"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the temp dir needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def wait_for(what, check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def nginx_workers(inst: ServeInstance) -> set[int]:
    return set(children_of(int((inst.run_dir / "nginx.pid").read_text())))


def wait_reloaded(inst: ServeInstance, before: set[int]) -> None:
    """A reload starts new nginx workers; the old ones leave once their requests are done."""
    wait_for("nginx's reload", lambda: (w := nginx_workers(inst)) and not (w & before))


def conf(inst: ServeInstance) -> str:
    return (inst.run_dir / "x2s3.conf").read_text()


@pytest.mark.parametrize("profile", ["dev", "production"])
def test_watchdog_turns_spooling_off_on_a_full_temp_disk_and_back(tmp_path, tmpfs, profile):
    root = tmp_path / "data"
    root.mkdir()
    obj = random.Random(3).getrandbits(8 * OBJ).to_bytes(OBJ, "little")
    (root / "obj.bin").write_bytes(obj)
    (root / "small.txt").write_bytes(SMALL)
    config = f"targets:\n  - name: data\n    client: file\n    options:\n      path: '{root}'\n"
    env = {"X2S3_TEMP_DIR": str(tmpfs / "temp"), "X2S3_MIN_FREE": "25%", "X2S3_WATCH_INTERVAL": "0.3",
           "X2S3_CACHE_DIR": str(tmpfs / "cache")}
    with ServeInstance(tmp_path, config, profile=profile, env=env) as inst:
        # Normal mode: spooling at most a quarter of the 64 MiB per response; the cache on.
        assert "fastcgi_max_temp_file_size 16384k;" in conf(inst)
        if profile == "production":
            assert "cache.conf;" in conf(inst)
            inst.get("/data/small.txt")
            assert inst.get("/data/small.txt").headers.get("X-Cache-Status") == "HIT"
        r = inst.get("/data/obj.bin")
        assert r.status_code == 200 and r.content == obj

        # Another process fills the temp filesystem to the last byte.
        before = nginx_workers(inst)
        fill = subprocess.run(["dd", "if=/dev/zero", f"of={tmpfs / 'filler'}", "bs=1M"],
                              capture_output=True, text=True)
        assert "No space left" in fill.stderr, fill.stderr
        wait_for("the watchdog's switch", lambda: "watchdog: low on space" in inst.log())
        assert "fastcgi_max_temp_file_size 0;" in conf(inst)
        if profile == "production":
            assert "cache-off.conf;" in conf(inst)
        wait_reloaded(inst, before)

        # Responses still succeed, whole: nothing is written to the full disk now.
        for _ in range(3):
            r = inst.get("/data/obj.bin")
            assert r.status_code == 200 and r.content == obj
        r = inst.get("/data/small.txt")
        assert r.status_code == 200 and r.content == SMALL
        if profile == "production":
            assert "X-Cache-Status" not in r.headers, "the cache is still on"

        # Space comes back: spooling (and caching) too.
        before = nginx_workers(inst)
        (tmpfs / "filler").unlink()
        wait_for("the switch back", lambda: "watchdog: free space recovered" in inst.log())
        assert "fastcgi_max_temp_file_size 16384k;" in conf(inst)
        wait_reloaded(inst, before)
        r = inst.get("/data/obj.bin")
        assert r.status_code == 200 and r.content == obj
        if profile == "production":
            inst.get("/data/small.txt")
            assert inst.get("/data/small.txt").headers.get("X-Cache-Status") == "HIT"
        log = inst.log()
        assert log.count("watchdog: low on space") == 1 and log.count("watchdog: free space recovered") == 1, log
