"""S3 upstream targets end to end, the failure paths: a misconfigured bucket, a refused, stalled,
cut, slow or flaky upstream, a client that aborts mid-stream, and upstream connection reuse.
The environment (its own, module-scoped) is s3_upstream_support.py's.

Run: python3 -m pytest -q Tests/integration/test_s3_upstream_failures.py
"""
import time

import pytest
import requests

from s3_upstream_support import env  # noqa: F401 (the fixture)


# ---- failures ---------------------------------------------------------------------------------

def test_misconfigured_upstream_bucket_is_a_gateway_error(env):
    r = requests.get(env["base"] + "/nobucket/k")
    assert r.status_code == 502 and "does-not-exist" not in r.text


def test_refused_upstream_is_503_xml(env):
    t = time.time()
    r = requests.get(env["base"] + "/refused/k")
    assert r.status_code == 503 and "<Code>ServiceUnavailable</Code>" in r.text
    assert time.time() - t < 5


def test_stalled_upstream_is_504_within_the_read_timeout(env):
    t = time.time()
    r = requests.get(env["base"] + "/stall/k", timeout=30)
    assert r.status_code == 504 and "<Code>GatewayTimeout</Code>" in r.text
    assert time.time() - t < 4  # read_timeout is 2 s
    assert requests.get(env["base"] + "/pref/hello.txt").content == b"hello world\n"


@pytest.mark.parametrize("target", ["cut", "slow"])
def test_upstream_failing_mid_body_cuts_the_stream(env, target):
    t = time.time()
    r = requests.get(env["base"] + f"/{target}/k", stream=True, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Length"] == "1048576"
    got = 0
    with pytest.raises(requests.exceptions.RequestException):
        for chunk in r.iter_content(65536):
            got += len(chunk)
    assert got < 1048576
    assert time.time() - t < 5  # read_timeout is 2 s
    assert requests.get(env["base"] + "/pref/hello.txt").content == b"hello world\n"


def test_workers_survive_a_client_abort_mid_stream(env):
    r = requests.get(env["base"] + "/pref/big.bin", stream=True)
    next(r.iter_content(65536))
    r.close()
    time.sleep(0.3)
    assert env["worker"].poll() is None
    assert requests.get(env["base"] + "/pref/hello.txt").content == b"hello world\n"


def test_500_and_503_are_retried_before_any_byte(env):
    r = requests.get(env["base"] + "/flaky/k")
    assert r.status_code == 200 and r.content == b"ok"


def test_upstream_connections_are_reused_across_requests(env):
    for _ in range(6):
        assert requests.get(env["base"] + "/nginxup/hello.txt").content == b"hello world\n"
    assert env["s3"].get_object(Bucket="nginxup", Key="hello.txt", Range="bytes=0-4")["Body"].read() == b"hello"
    lines = [l.split() for l in (env["tmp"] / "nginx/static.log").read_text().splitlines()]
    per_connection = {}
    for conn, n, *_ in lines:
        per_connection[conn] = max(per_connection.get(conn, 0), int(n))
    # Two workers, seven requests: at most two upstream connections, each used again.
    assert len(per_connection) <= 2 and max(per_connection.values()) >= 3, per_connection
