"""An upstream reply that contradicts itself (docs/contract.md#reliability-and-security, RFC 9112 §6.3): Content-Length
fields that disagree, a Content-Length list, a Content-Length beside Transfer-Encoding, a 206
whose Content-Length is not its Content-Range's, or a body shorter than its Content-Length. Each ends in a 502 S3 XML error (found before the head)
or a cut connection (found after it), never a complete-looking 200 with the wrong bytes.
libcurl 7.88 alone reads the first three by its own rule (the last field, or the first number
of a list), which made a 64 KiB 200 of a 128 KiB body.
"""

from __future__ import annotations

import http.client

import pytest
import requests

from conftest import assert_s3_error
from faults import (FRAMING_HEADS, MIB, FakeUpstream, fds_settle, file_target, private_server, rebaseline,
                    s3_target, wait_for)

MODES = (*FRAMING_HEADS, "short-body")


@pytest.fixture(scope="module")
def framing(tmp_path_factory):
    fakes = {m: FakeUpstream(m) for m in (*MODES, "stall-body")}
    for f in fakes.values():
        f.start()
    top = tmp_path_factory.mktemp("framing")
    data = top / "data"
    data.mkdir()
    (data / "small.txt").write_bytes(b"small\n")
    targets = file_target("data", data) + "".join(s3_target(m, f.url) for m, f in fakes.items())
    # One worker: every request below is served by the worker that met the bad upstream. Each
    # bucket's upstream client (a libcurl multi handle, kept for the worker's life) is opened
    # before the fd baseline: by the warm-up, and for the two whose bodies are cut (which the
    # warm-up cannot read to their end) by one request here.
    warm = ["/data/small.txt"] + [f"/{m}/warm" for m in FRAMING_HEADS]
    (top / "srv").mkdir()
    with private_server(top / "srv", targets, workers=1, warm=warm) as srv:
        for mode in ("short-body", "stall-body"):
            with requests.get(srv.base_url + f"{mode}/warm", stream=True, timeout=30) as r:
                try:
                    r.content
                except requests.RequestException:
                    pass
        wait_for(lambda: requests.get(srv.base_url + "data/small.txt", timeout=10).ok, 10)
        rebaseline(srv)
        yield srv, fakes
    for f in fakes.values():
        f.close()


def the_worker_still_serves(srv, workers) -> None:
    nxt = requests.get(srv.base_url + "data/small.txt", timeout=10)
    assert nxt.status_code == 200 and nxt.content == b"small\n"
    assert srv.worker_pids() == workers


@pytest.mark.parametrize("mode", list(FRAMING_HEADS))
def test_contradictory_content_length_is_a_502_never_a_short_200(framing, mode):
    srv, fakes = framing
    workers = srv.worker_pids()
    before = fakes[mode].requests
    # range-length answers a 206 for the first 64 KiB: ask for exactly that part.
    headers = {"Range": "bytes=0-65535"} if mode == "range-length" else {}
    r = requests.get(srv.base_url + f"{mode}/key.bin", headers=headers, timeout=30)
    print(f"\nupstream {mode}: {r.status_code}, {len(r.content)} bytes")
    assert_s3_error(r.status_code, r.headers, r.content, 502, code="BadGateway")
    assert fakes[mode].requests == before + 1  # asked once: a bad reply is not retried
    the_worker_still_serves(srv, workers)


@pytest.mark.parametrize("mode", [m for m in FRAMING_HEADS if m != "range-length"])
def test_contradictory_content_length_on_head_is_a_502(framing, mode):
    srv, _ = framing
    r = requests.head(srv.base_url + f"{mode}/key.bin", timeout=30)
    assert r.status_code == 502 and r.content == b""
    assert r.headers.get("x-amz-request-id")


def test_upstream_body_shorter_than_announced_cuts_the_stream(framing):
    srv, fakes = framing
    workers = srv.worker_pids()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request("GET", "/short-body/key.bin")
        resp = conn.getresponse()
        # The head went out before the body fell short; then only a cut can tell the client.
        assert resp.status == 200 and int(resp.getheader("Content-Length")) == MIB
        with pytest.raises(http.client.IncompleteRead) as cut:
            resp.read()
        got = len(cut.value.partial)
    finally:
        conn.close()
    print(f"\nupstream short body: the client got {got} of {MIB} bytes, then a cut")
    assert got <= 65536
    the_worker_still_serves(srv, workers)


def test_what_the_upstream_sent_before_stalling_reaches_the_client(framing):
    """The worker gathers upstream bytes into large writes, but hands on what it has whenever
    the upstream socket is drained: the 64 KiB sent before the stall must reach the client
    (before the stall timeout cuts the stream), not wait for a full buffer that never comes."""
    srv, _ = framing
    workers = srv.worker_pids()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request("GET", "/stall-body/key.bin")
        resp = conn.getresponse()
        assert resp.status == 200
        with pytest.raises(http.client.IncompleteRead) as cut:
            resp.read()
        got = cut.value.partial
    finally:
        conn.close()
    assert got == b"s" * 65536
    the_worker_still_serves(srv, workers)


def test_bad_replies_leak_no_descriptors(framing):
    srv, _ = framing
    fds = srv.fd_counts()
    for _ in range(3):
        for mode in MODES:
            with requests.get(srv.base_url + f"{mode}/again.bin", stream=True, timeout=30) as r:
                try:
                    for _ in r.raw.stream(65536, decode_content=False):
                        pass
                except Exception:
                    pass
    assert fds_settle(srv, fds) == fds
