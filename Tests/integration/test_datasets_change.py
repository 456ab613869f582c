"""Datasets published under a running 2-worker pool: a bucket root or a folder replaced by `mv`,
by `rm -rf` + recreate, or a root symlink re-pointed with `ln -sfn`, is answered from its new
content by every worker without a reload — GETs (stream and offload mode), HEADs and listings.

Both workers are made to serve the old version first (the pid of the worker behind each
response is found in the log by its request id), so each holds the old root and the old sorted
listings. After the swap, requests are repeated until the new content appears (bounded: a hang
guard, not a timing assertion) and then until both workers have answered with it; from 2.5 s
after publishing (the promise is 1 s) every answer must be new, also from nginx's open-file cache.
Directory mtimes are set an hour back, so the listing cache trusts and keeps them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from serve_instance import ServeInstance

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
OLD = time.time() - 3600
WORKERS = 2
SETTLED = 2.5  # seconds after publishing by which every answer must be new (promise: 1 s)
SCENARIOS = ["root-mv", "root-rm", "sub-mv", "sub-rm", "root-symlink"]


def fill(d: Path, version: str, mtime: float) -> None:
    """One version of a dataset: shared names with new bytes, and names only this version has."""
    (d / "sub").mkdir(parents=True)
    for base in [d, d / "sub"]:
        (base / "common.txt").write_bytes(f"{version} common {base.name}\n".encode() * (2 if version == "v2" else 1))
        (base / f"{version}-only.txt").write_bytes(f"only in {version}\n".encode())
    for p in [d / "sub", d]:
        os.utime(p, (mtime, mtime))


def bucket_dir(top: Path, name: str) -> Path:
    return top / name / ("current" if name == "root-symlink" else "ds")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    top = tmp_path_factory.mktemp("datasets")
    targets = []
    for name in SCENARIOS:
        (top / name).mkdir()
        if name == "root-symlink":
            fill(top / name / "v1", "v1", OLD)
            os.symlink("v1", top / name / "current")
        else:
            fill(top / name / "ds", "v1", OLD)
        path = bucket_dir(top, name)
        targets.append(f"  - name: {name}\n    client: file\n    options:\n      path: '{path}'\n")
        targets.append(f"  - name: {name}-off\n    client: file\n    options:\n      path: '{path}'\n      offload: true\n")
    with ServeInstance(top, "targets:\n" + "".join(targets), workers=WORKERS) as s:
        s.top = top
        yield s


def pids_of(s: ServeInstance, request_ids: list[str], timeout: float = 3.0) -> set[int]:
    """The pids of the workers that logged these request ids (log writes may trail responses)."""
    pattern = re.compile(r"pid[=\":]+(\d+)")
    deadline = time.monotonic() + timeout
    while True:
        found = {}
        for line in s.log().splitlines():
            for rid in request_ids:
                if rid in line and (m := pattern.search(line)):
                    found[rid] = int(m.group(1))
        if len(found) == len(request_ids):
            return set(found.values())
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line for requests {set(request_ids) - set(found)}")
        time.sleep(0.05)


def snapshot(s: ServeInstance, bucket: str, prefix: str) -> tuple[dict, list[str]]:
    """What one sequence of requests sees, and their request ids."""
    seen, ids = {}, []

    def get(path, method="GET"):
        r = s.get(path, method=method)
        ids.append(r.headers["x-amz-request-id"])
        return r

    listing = get(f"/{bucket}?list-type=2&prefix={prefix}")
    assert listing.status_code == 200, listing.text
    root = ET.fromstring(listing.content)
    seen["keys"] = sorted((c.find(f"{NS}Key").text, int(c.find(f"{NS}Size").text)) for c in root.iter(f"{NS}Contents"))
    delimited = ET.fromstring(get(f"/{bucket}?list-type=2&delimiter=/&prefix={prefix}").content)
    seen["level"] = sorted(c.find(f"{NS}Key").text for c in delimited.iter(f"{NS}Contents"))
    for name in ["common.txt", "v1-only.txt", "v2-only.txt"]:
        r = get(f"/{bucket}/{prefix}{name}")
        h = get(f"/{bucket}/{prefix}{name}", method="HEAD")
        seen[name] = (r.status_code, r.content if r.status_code == 200 else None, h.status_code,
                      h.headers.get("Content-Length") if h.status_code == 200 else None)
    return seen, ids


def expected(d: Path, prefix: str) -> dict:
    """The answers the directory on disk implies."""
    base = d / prefix if prefix else d
    want = {"keys": sorted((str(p.relative_to(d)), p.stat().st_size) for p in base.rglob("*") if p.is_file()),
            "level": sorted(prefix + p.name for p in base.iterdir() if p.is_file())}
    for name in ["common.txt", "v1-only.txt", "v2-only.txt"]:
        f = base / name
        want[name] = (200, f.read_bytes(), 200, str(f.stat().st_size)) if f.exists() else (404, None, 404, None)
    return want


def until_every_worker(s: ServeInstance, buckets: list[str], prefix: str, want: dict, bound: float = 8.0) -> None:
    """Concurrent request sequences on every bucket until each worker has answered a whole
    sequence exactly as `want` says. `bound` is a hang guard (the contract's promise is 1 s);
    a worker still serving the old version after it fails the test."""
    good: set[int] = set()
    deadline = time.monotonic() + bound
    last = None
    with ThreadPoolExecutor(4) as pool:
        while time.monotonic() < deadline:
            jobs = [b for b in buckets for _ in range(2)]
            for seen, ids in pool.map(lambda b: snapshot(s, b, prefix), jobs):
                if seen == want:
                    good |= pids_of(s, ids)
                else:
                    last = seen
            if len(good) >= WORKERS:
                return
    raise AssertionError(f"only workers {good} served the new content of {buckets} {prefix!r}: last other answer {last}, want {want}")


def publish(top: Path, scenario: str) -> Path:
    """Replaces version 1 by version 2 the way a lab would; returns the directory now served."""
    base = top / scenario
    if scenario == "root-mv":
        fill(base / "ds.new", "v2", OLD + 60)
        os.rename(base / "ds", base / "ds.old")
        os.rename(base / "ds.new", base / "ds")
    elif scenario == "root-rm":
        shutil.rmtree(base / "ds")
        (base / "ds").mkdir()
        fill(base / "ds", "v2", OLD + 60)  # fill makes sub/ inside an existing ds
    elif scenario == "sub-mv":
        fill(base / "stage", "v2", OLD + 60)
        os.rename(base / "ds" / "sub", base / "sub.old")
        os.rename(base / "stage" / "sub", base / "ds" / "sub")
    elif scenario == "sub-rm":
        shutil.rmtree(base / "ds" / "sub")
        fill(base / "stage", "v2", OLD + 60)
        (base / "ds" / "sub").mkdir()
        for f in (base / "stage" / "sub").iterdir():
            shutil.copy2(f, base / "ds" / "sub" / f.name)
        os.utime(base / "ds" / "sub", (OLD + 60, OLD + 60))
    elif scenario == "root-symlink":
        fill(base / "v2", "v2", OLD + 60)
        subprocess.run(["ln", "-sfn", "v2", str(base / "current")], check=True)
    return bucket_dir(top, scenario)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_replaced_dataset_is_served_new_by_every_worker(server, scenario):
    buckets = [scenario, scenario + "-off"]  # stream mode, offload mode
    prefix = "sub/" if scenario.startswith("sub") else ""
    old = expected(bucket_dir(server.top, scenario), prefix)
    assert old["v1-only.txt"][0] == 200 and old["v2-only.txt"][0] == 404
    until_every_worker(server, buckets, prefix, old)

    published = time.monotonic()
    new = expected(publish(server.top, scenario), prefix)
    assert new["v1-only.txt"][0] == 404 and new["v2-only.txt"][0] == 200
    assert new["common.txt"][1] != old["common.txt"][1] and new["keys"] != old["keys"]
    until_every_worker(server, buckets, prefix, new)
    # The gateway promises 1 s (workers' root checks, nginx's open-file cache in offload mode);
    # past that, with margin for nginx's one-second clock, no answer may be old any more.
    time.sleep(max(0.0, published + SETTLED - time.monotonic()))
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            for seen, _ids in pool.map(lambda b: snapshot(server, b, prefix), [b for b in buckets for _ in range(4)]):
                assert seen == new, f"{SETTLED} s after publishing, still {seen}"
