"""S3 upstream targets through other clients: the AWS CLI and rclone (each skips when missing),
and a 64 MiB throughput report. Same environment as test_s3_upstream.py (s3_upstream_support.py),
used after that module's tests, as when both were one module.

Run: python3 -m pytest -q Tests/integration/test_s3_upstream.py Tests/integration/test_s3_upstream_clients.py
"""
import hashlib
import os
import shutil
import subprocess
import time

import pytest
import requests

from s3_upstream_support import BIG, MANY, ODD


@pytest.fixture
def env(s3_upstream_env):
    return s3_upstream_env


# ---- other clients ----------------------------------------------------------------------------

def test_aws_cli_lists_and_copies(env):
    if not shutil.which("aws"):
        pytest.skip("no aws cli")
    cli_env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    base = ["aws", "--endpoint-url", env["base"], "--no-sign-request", "--region", "us-east-1"]
    out = subprocess.run(base + ["s3", "ls", "--recursive", "s3://pref/many/"], capture_output=True, text=True, env=cli_env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == MANY
    dest = env["tmp"] / "cli-big.bin"
    out = subprocess.run(base + ["s3", "cp", "s3://pref/big.bin", str(dest)], capture_output=True, text=True, env=cli_env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(env["objects"]["data/big.bin"]).digest()


def test_rclone_lists_and_reads(env):
    if not shutil.which("rclone"):
        pytest.skip("no rclone")
    # rclone reads AWS_CA_BUNDLE even for http endpoints and fails on bundles it cannot load.
    renv = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    renv.update(RCLONE_CONFIG_X_TYPE="s3", RCLONE_CONFIG_X_PROVIDER="Other",
                RCLONE_CONFIG_X_ENDPOINT=env["base"], RCLONE_CONFIG_X_FORCE_PATH_STYLE="true")
    out = subprocess.run(["rclone", "lsf", "-R", "--files-only", "x:pref/many"], capture_output=True, text=True, env=renv, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == MANY
    out = subprocess.run(["rclone", "cat", "x:pref/odd/" + ODD[0]], capture_output=True, env=renv, timeout=60)
    assert out.returncode == 0 and out.stdout == ODD[0].encode()
    dest = env["tmp"] / "rclone"
    out = subprocess.run(["rclone", "copy", "x:pref/big.bin", str(dest)], capture_output=True, text=True, env=renv, timeout=120)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256((dest / "big.bin").read_bytes()).digest() == hashlib.sha256(env["objects"]["data/big.bin"]).digest()


# ---- throughput (reported, not asserted) ----------------------------------------------------------

def test_report_64mib_throughput_direct_vs_through_x2s3(env, capsys):
    """Best of 5 for each path, same run, same client (curl when present: a Python client
    would be the bottleneck). Reported, not asserted: both paths share 2 cores with moto."""
    def mbps(url):
        best = 0
        for _ in range(5):
            if shutil.which("curl"):
                out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", url],
                                     capture_output=True, text=True, timeout=60, check=True).stdout.split()
                assert int(out[0]) == BIG
                best = max(best, float(out[1]) / 1e6)
            else:
                t = time.perf_counter()
                with requests.get(url, stream=True) as r:
                    n = sum(len(c) for c in r.iter_content(1 << 20))
                assert n == BIG
                best = max(best, n / (time.perf_counter() - t) / 1e6)
        return best
    direct = mbps(env["upstream_url"] + "/upstream/data/big.bin")
    through = mbps(env["base"] + "/pref/big.bin")
    static = mbps(env["static_url"] + "/bkt/data/big.bin")
    via_static = mbps(env["base"] + "/nginxup/big.bin")
    with capsys.disabled():
        print(f"\n64 MiB GET: moto direct {direct:.0f} MB/s, through nginx+x2s3 {through:.0f} MB/s ({through / direct:.2f}x)"
              f"\n64 MiB GET: nginx-static upstream direct {static:.0f} MB/s, through nginx+x2s3 {via_static:.0f} MB/s"
              f" ({via_static / static:.2f}x)")
