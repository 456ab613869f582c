"""The site test_browser.py and test_browser_find.py run against, and their shared fixtures:
`site` (a server of its own, module-scoped: each module that imports it starts one), `http` (a
session that asks for HTML), `browser` (headless Chromium, skipped when missing), `page` and
`key_of`. The fixture tree itself is browser_support.py's."""

from __future__ import annotations

import urllib.parse

import pytest
import requests

from browser_support import Browser, Page, find_chromium, make_browser_tree
from conftest import REPO, Server, free_port, serving

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
OUT = REPO / "test-output" / "browser"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("browser")
    files = make_browser_tree(top / "pages")
    (top / "hidden" / "dir").mkdir(parents=True)
    (top / "hidden" / "key-only.txt").write_bytes(b"served to those who know the key\n")
    (top / "hidden" / "dir" / "x.txt").write_bytes(b"x\n")
    port = free_port()
    config = top / "config.yaml"
    config.write_text(
        "ui: true\n"
        f"base_url: http://x2s3.localhost:{port}/x2s3/\n"
        "virtual_buckets: true\n"
        "targets:\n"
        "  - name: pages\n"
        "    client: file\n"
        "    options:\n"
        f"      path: '{top / 'pages'}'\n"
        "  - name: hidden\n"
        "    client: file\n"
        "    browseable: false\n"
        "    options:\n"
        f"      path: '{top / 'hidden'}'\n"
    )
    # Every worker opens its per-bucket state for both buckets before the fd baseline.
    warm = [("pages", "README.txt"), ("pages", "datasets/"), ("hidden", "key-only.txt")]
    with serving(top, config, top / "pages", files, warm, port=port, base_path="/x2s3/") as srv:
        yield srv


@pytest.fixture()
def http():
    with requests.Session() as s:
        s.headers.update(HTML)
        yield s


def page(http, url: str) -> Page:
    r = http.get(url, timeout=30)
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers.get("vary") == "Accept, Accept-Encoding"
    return Page(r.text)


def key_of(site: Server, url: str) -> str:
    """The key a path-style object URL names."""
    path = urllib.parse.urlsplit(url).path
    prefix = "/x2s3/pages/"
    assert path.startswith(prefix), url
    return urllib.parse.unquote(path[len(prefix):])


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    try:
        b = Browser(binary)
    except (RuntimeError, OSError) as e:
        pytest.skip(f"Chromium could not start here: {e}")
    yield b
    b.close()
