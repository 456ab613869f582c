"""The web browser for people, against real nginx + x2s3 workers.

A server of its own, mounted under a base path with virtual-host buckets on
(`base_url: http://x2s3.localhost:PORT/x2s3/`), serves a "pages" bucket with hostile
names, a 2,500-entry folder and one dataset of each kind, plus a hidden bucket. The tests
follow every link the pages offer, page through the big folder both ways, check the
escaping and the dataset labels and viewer links, and drive headless Chromium through the
pages, saving screenshots under test-output/browser/.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections import deque

import pytest
import requests

from browser_site import HTML, OUT, browser, http, key_of, page, site  # noqa: F401 (fixtures)
from browser_support import BIG_FOLDER_SIZE, DATASETS, HOSTILE, Page
from conftest import Server

PAGE_SIZE = 200


# --- the pages, over HTTP ----------------------------------------------------------------

def test_root_lists_only_browseable_buckets(site, http):
    root = page(http, site.base_url)
    assert root.names == ["pages"]
    assert root.link() is not None and all("hidden" not in l["href"] for l in root.links)
    assert "/x2s3/pages/" in [l["href"] for l in root.links]
    assert "x2s3/static/x2s3.css" in " ".join(root.resources)


def test_every_link_on_every_page_resolves(site, http):
    """Breadth-first from the root: every page link answers a page, every file link the
    file's bytes, the XML link a listing, and every stylesheet/script/icon is served."""
    queue, pages, seen, files_seen = deque([site.base_url]), [], set(), set()
    many_previews = 0
    external = []
    while queue:
        url = queue.popleft()
        p = page(http, url)
        pages.append(url)
        for res in p.resources:
            target = urllib.parse.urljoin(url, res)
            if target not in seen:
                seen.add(target)
                r = http.get(target, timeout=30)
                assert r.status_code == 200 and r.content, target
        for link in p.links:
            target = urllib.parse.urljoin(url, link["href"])
            if target in seen:
                continue
            seen.add(target)
            parts = urllib.parse.urlsplit(target)
            if parts.netloc != f"127.0.0.1:{site.port}":
                external.append(target)
                assert parts.scheme == "https", target
                continue
            assert parts.path.startswith("/x2s3/"), f"{link['href']} on {url} lacks the base path"
            if parts.query == "preview":
                # Previews are pages too (test_browser_find.py checks them); a sample of the big folder's.
                if parts.path.startswith("/x2s3/pages/many/"):
                    many_previews += 1
                    if many_previews > 20:
                        continue
                queue.append(target)
            elif "list-type=2" in parts.query:
                r = http.get(target, timeout=30)
                assert r.status_code == 200 and ET.fromstring(r.content).tag.endswith("ListBucketResult"), target
            elif parts.path.endswith("/"):
                queue.append(target)
            else:
                r = http.get(target, timeout=30)
                key = key_of(site, target)
                assert r.status_code == 200, f"{target}: {r.status_code}"
                assert r.content == site.files[key], key
                files_seen.add(key)
    assert files_seen == set(site.files), sorted(set(site.files) - files_seen)[:10]
    assert len(pages) >= 2 + BIG_FOLDER_SIZE // PAGE_SIZE + len(DATASETS)
    assert all(u.startswith(("https://neuroglancer-demo.appspot.com/#!", "https://hms-dbmi.github.io/vizarr/?source="))
               for u in external), external


def test_hostile_names_are_escaped_text_and_encoded_links(site, http):
    r = http.get(site.url("pages", "hostile/"), timeout=30)
    p = Page(r.text)
    files = sorted(n for n in HOSTILE if "/" not in n)
    assert p.names == ["..", "weird #?& <dir>/", *files]
    # No name became markup: one <img> (the logo) and our one script.
    assert p.tags.count("img") == 1 and p.tags.count("script") == 1
    assert "<img src=x" not in r.text and "q#?&<b>" not in r.text
    for name in files:
        href = urllib.parse.quote(name, safe="")
        assert f'href="/x2s3/pages/hostile/{href}"' in r.text, name
    weird = page(http, urllib.parse.urljoin(site.base_url, "pages/hostile/" + urllib.parse.quote("weird #?& <dir>", safe="") + "/"))
    assert weird.h1 == "weird #?& <dir>/" and weird.names == ["..", "inside.txt"]


def test_big_folder_pages_forward_and_back(site, http):
    url = site.url("pages", "many/")
    forward = []
    while url:
        p = page(http, url)
        rows = [n for n in p.names if n != ".."]
        assert 0 < len(rows) <= PAGE_SIZE
        forward.append((url, rows))
        nxt = p.link(rel="next")
        url = urllib.parse.urljoin(url, nxt) if nxt else None
        if len(forward) > 3:
            assert p.link(cls="first") is not None
    names = [n for _, rows in forward for n in rows]
    assert names == [f"file-{i:05d}.txt" for i in range(BIG_FOLDER_SIZE)]
    assert len(forward) == -(-BIG_FOLDER_SIZE // PAGE_SIZE)

    # Back from the last page by "previous": the same pages, in reverse.
    url, back = forward[-1][0], []
    while url:
        p = page(http, url)
        back.append((url, [n for n in p.names if n != ".."]))
        prev = p.link(rel="prev")
        url = urllib.parse.urljoin(url, prev) if prev else None
    assert back == forward[::-1]


def test_hidden_bucket_is_absent_and_its_folders_are_403(site, http):
    root = Page(http.get(site.base_url, timeout=30).text)
    assert root.names == ["pages"] and not any("hidden" in l["href"] for l in root.links)
    for folder in ("hidden/", "hidden/dir/"):
        r = http.get(site.base_url + folder, timeout=30)
        assert r.status_code == 403 and "AccessDenied" in r.text
    assert http.get(site.base_url + "hidden/key-only.txt", timeout=30).status_code == 200


def error_page(r: requests.Response, status: int, code: str) -> Page:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers.get("vary") == "Accept, Accept-Encoding"
    p = Page(r.text)
    assert f"<code>{code}</code>" in r.text
    assert f'<code class="rid">{r.headers["x-amz-request-id"]}</code>' in r.text
    return p


def back_link(site: Server, r: requests.Response) -> str:
    p = Page(r.text)
    href = p.link(cls="back")
    assert href, r.text[:500]
    return urllib.parse.urljoin(r.url, href)


def test_errors_are_pages_for_people_with_a_working_way_back(site, http):
    files = sorted(n for n in HOSTILE if "/" not in n)
    for name in files + ["weird #?& <dir>/" + name for name in files[:2]]:
        folder = "hostile/" + (name.rsplit("/", 1)[0] + "/" if "/" in name else "")
        url = site.url("pages", "hostile/" + name + ".missing")
        r = http.get(url, timeout=30)
        error_page(r, 404, "NoSuchKey")
        assert "<img src=x" not in r.text and "q#?&<b>" not in r.text
        back = back_link(site, r)
        assert back == site.url("pages", folder), (name, back)
        assert http.get(back, timeout=30).status_code == 200
    # The other errors a browser can meet, each a page with its own status.
    error_page(http.get(site.base_url + "hidden/dir/", timeout=30), 403, "AccessDenied")
    error_page(http.get(site.base_url + "nosuchbucket/x", timeout=30), 404, "NoSuchBucket")
    error_page(http.delete(site.url("pages", "README.txt"), timeout=30), 405, "MethodNotAllowed")
    r = http.get(site.url("pages", "README.txt"), headers={"Range": "bytes=100000-"}, timeout=30)
    error_page(r, 416, "InvalidRange")
    assert r.headers["content-range"] == f"bytes */{len(site.files['README.txt'])}"
    assert http.get(back_link(site, r), timeout=30).status_code == 200


def test_errors_stay_s3_xml_for_programs_and_head(site, http):
    url = site.url("pages", "hostile/nope.txt")
    for accept in ({}, {"Accept": "*/*"}, {"Accept": "application/xml, text/html"}):
        r = requests.get(url, headers=accept, timeout=30)
        assert r.status_code == 404 and r.headers["content-type"] == "application/xml"
        assert ET.fromstring(r.content).findtext("Code") == "NoSuchKey"
    h = http.head(url, timeout=30)
    assert h.status_code == 404 and h.headers["content-type"] == "application/xml" and h.content == b""


def test_dev_profile_gzips_pages_and_listings_but_not_objects(site):
    """The dev nginx profile passes X2S3_GZIP too (the production one: test_production.py)."""
    for url, accept in ((site.url("pages", "many/"), HTML["Accept"]),
                        (site.url("pages", query="list-type=2&prefix=many/"), "application/xml")):
        gz = requests.get(url, headers={"Accept": accept, "Accept-Encoding": "gzip"}, timeout=30, stream=True)
        packed = gz.raw.read(decode_content=False)
        plain = requests.get(url, headers={"Accept": accept, "Accept-Encoding": "identity"}, timeout=30)
        assert gz.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
        assert "Accept-Encoding" in gz.headers["vary"] and len(packed) == int(gz.headers["content-length"])
        assert len(packed) * 5 < len(plain.content), (url, len(packed), len(plain.content))
    key = "datasets/ome-0.4.ome.zarr/.zattrs"
    r = requests.get(site.url("pages", key), headers={"Accept-Encoding": "gzip"}, timeout=30, stream=True)
    assert "content-encoding" not in r.headers and r.raw.read(decode_content=False) == site.files[key]
    assert r.headers["content-length"] == str(len(site.files[key]))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_folders_are_labelled_with_working_viewer_links(site, http, name):
    label, scheme, first_read, vizarr = DATASETS[name]
    folder = site.url("pages", f"datasets/{name}/")
    p = page(http, folder)
    assert p.ds_kind == label
    https = folder.rstrip("/")
    assert p.codes == {"u-s3": f"s3://pages/datasets/{name}", "u-https": https}
    ng = p.link(cls="ng")
    if scheme is None:
        assert ng is None
    else:
        assert ng.startswith("https://neuroglancer-demo.appspot.com/#!")
        state = json.loads(urllib.parse.unquote(ng.split("#!", 1)[1]))
        assert state["layers"][0]["source"] == f"{scheme}://{https}"
    # What a viewer fetches first is served, with CORS, at the URL the page hands out.
    r = requests.get(f"{https}/{first_read}", headers={"Origin": "https://neuroglancer-demo.appspot.com"}, timeout=30)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert (p.link(cls="vizarr") is not None) == vizarr
    if vizarr:
        assert p.link(cls="vizarr") == "https://hms-dbmi.github.io/vizarr/?source=" + urllib.parse.quote(https, safe="")
    if name == "ome-0.4.ome.zarr":
        assert p.facts["Scales"] == "2 (0, 1)" and p.facts["Channels"] == "2 (DAPI, GFP)"
        assert p.facts["Shape (scale 0)"] == "2 × 64 × 64 (c, y, x)" and p.facts["Pixel size"] == "0.5 × 0.5 µm"


def test_parent_of_datasets_hints_from_names_alone(site, http):
    r = http.get(site.url("pages", "datasets/"), timeout=30)
    assert r.text.count('<span class="badge">Zarr</span>') == 4
    assert r.text.count('<span class="badge">OME-Zarr</span>') == 2
    assert r.text.count('<span class="badge">N5</span>') == 2


def test_virtual_host_pages_link_relative_to_the_bucket_root(site, http):
    """The bucket named by the Host header (sent to 127.0.0.1: requests sends our Host as is)."""
    host = f"pages.x2s3.localhost:{site.port}"
    r = http.get(site.base_url + "hostile/", headers={"Host": host}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    p = Page(r.text)
    assert p.codes["u-https"] == f"http://{host}/x2s3/hostile/"
    assert p.links[1]["href"] == f"http://x2s3.localhost:{site.port}/x2s3/"  # "Buckets": on the base host
    hrefs = [l["href"] for l in p.links]
    for name in HOSTILE:
        if "/" in name:
            continue
        href = "/x2s3/hostile/" + urllib.parse.quote(name, safe="")
        assert href in hrefs, name
        f = http.get(f"http://127.0.0.1:{site.port}{href}", headers={"Host": host}, timeout=30)
        assert f.status_code == 200 and f.content == site.files["hostile/" + name]


def test_head_on_pages_matches_get(site, http):
    for url in (site.base_url, site.url("pages", "many/"), site.url("pages", "datasets/array.n5/"),
                site.base_url + "static/x2s3.css", site.base_url + "static/x2s3.js"):
        g, h = http.get(url, timeout=30), http.head(url, timeout=30)
        strip = lambda r: {k: v for k, v in r.headers.items() if k.lower() not in ("date", "x-amz-request-id")}
        assert h.status_code == g.status_code == 200 and strip(h) == strip(g) and h.content == b"", url
    css = http.get(site.base_url + "static/x2s3.css", timeout=30)
    assert css.headers["content-type"].startswith("text/css") and "max-age" in css.headers["cache-control"]


def test_programs_still_get_xml_on_the_same_urls(site):
    root = requests.get(site.base_url, timeout=30)
    assert root.headers["content-type"] == "application/xml" and root.headers["vary"] == "Accept"
    assert requests.get(site.url("pages", "many/"), timeout=30).status_code == 404  # GetObject("many/")


# --- headless Chromium -------------------------------------------------------------------

def test_chromium_clicks_from_the_root_into_a_folder_and_a_dataset(site, browser):
    b = browser
    b.goto(site.base_url)
    assert b.cdp.evaluate("document.title") == "Buckets · x2s3"
    # The compiled-in stylesheet applied (the header is not unstyled).
    assert b.cdp.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") != "rgba(0, 0, 0, 0)"
    b.screenshot(OUT / "01-root.png")

    b.click('td.name a[href="/x2s3/pages/"]')
    assert b.cdp.evaluate("location.pathname") == "/x2s3/pages/"
    b.screenshot(OUT / "02-bucket.png")

    b.click('td.name a[href="/x2s3/pages/hostile/"]')
    assert "q#?&<b>.txt" in b.cdp.evaluate("[...document.querySelectorAll('td.name a')].map(a => a.textContent)")
    b.screenshot(OUT / "03-hostile-names.png")
    href = b.click('td.name a[href$="/weird%20%23%3F%26%20%3Cdir%3E/"]')
    assert urllib.parse.unquote(href).endswith("/weird #?& <dir>/")
    assert b.cdp.evaluate("document.querySelector('h1').textContent") == "weird #?& <dir>/"

    b.goto(site.url("pages", "datasets/"))
    b.screenshot(OUT / "04-datasets.png")
    b.click('td.name a[href$="/ome-0.4.ome.zarr/"]')
    assert b.cdp.evaluate("document.querySelector('.ds-kind').textContent") == "OME-Zarr 0.4 image"
    # The copy buttons are revealed by the script; the viewer link opens Neuroglancer.
    assert b.cdp.evaluate("document.querySelector('button.copy').hidden") is False
    assert b.cdp.evaluate("document.querySelector('a.ng').href").startswith("https://neuroglancer-demo.appspot.com/#!")
    b.screenshot(OUT / "05-dataset.png")

    b.cdp.call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}])
    b.goto(site.url("pages", "datasets/zarr3-array.zarr/"))
    b.screenshot(OUT / "06-dataset-dark.png")
    b.cdp.call("Emulation.setEmulatedMedia", features=[])

    b.goto(site.url("pages", "many/"))
    b.click("a.next")
    b.click("a.next")
    assert "page=3" in b.cdp.evaluate("location.search")
    b.click("a.prev")
    assert "page=2" in b.cdp.evaluate("location.search")
    b.screenshot(OUT / "07-paging.png")


def test_chromium_pages_work_without_javascript(site, browser):
    b = browser
    b.cdp.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        b.goto(site.url("pages", "datasets/precomputed/"))
        assert b.cdp.evaluate("document.querySelector('button.copy').hidden") is True
        assert b.cdp.evaluate("document.querySelector('#u-https').textContent").endswith("/datasets/precomputed")
        b.click('td.name a[href$="/datasets/"]')  # the ".." row
        assert b.cdp.evaluate("location.pathname") == "/x2s3/pages/datasets/"
    finally:
        b.cdp.call("Emulation.setScriptExecutionDisabled", value=False)


def test_chromium_virtual_host_bucket(site, browser):
    """*.localhost resolves to loopback in Chromium, so the virtual-host bucket is reachable."""
    browser.goto(f"http://pages.x2s3.localhost:{site.port}/x2s3/")
    assert browser.cdp.evaluate("document.querySelector('[aria-current]').textContent") == "pages"
    browser.click('td.name a[href="/x2s3/datasets/"]')
    assert browser.cdp.evaluate("location.host") == f"pages.x2s3.localhost:{site.port}"
    browser.screenshot(OUT / "08-virtual-host.png")


def test_chromium_error_page(site, browser):
    b = browser
    b.goto(site.url("pages", "hostile/no such file.txt"))
    assert b.cdp.evaluate("document.querySelector('h1').textContent") == "The specified key does not exist."
    assert b.cdp.evaluate("document.title") == "404 Not Found · x2s3"
    assert b.cdp.evaluate("getComputedStyle(document.querySelector('.badge.err')).backgroundColor") != "rgba(0, 0, 0, 0)"
    b.screenshot(OUT / "09-error-404.png")
    b.click("a.back")
    assert b.cdp.evaluate("location.pathname") == "/x2s3/pages/hostile/"


def test_chromium_per_file_copy_buttons_carry_working_urls(site, browser):
    """The script adds an s3:// and an https:// copy button to every file row; for hostile
    names both URLs name the file exactly, and the https one fetches its bytes."""
    b = browser
    b.goto(site.url("pages", "hostile/"))
    rows = b.cdp.evaluate("[...document.querySelectorAll('tr.file')].map(tr => [tr.querySelector('td.name a').textContent,"
                          " [...tr.querySelectorAll('button.mini')].map(x => [x.textContent, x.getAttribute('data-url')])])")
    files = sorted(n for n in HOSTILE if "/" not in n)
    assert [r[0] for r in rows] == files
    for name, buttons in rows:
        assert [t for t, _ in buttons] == ["s3", "https"], name
        assert buttons[0][1] == "s3://pages/hostile/" + name
        assert buttons[1][1] == site.url("pages", "hostile/" + name)
        r = requests.get(buttons[1][1], timeout=30)
        assert r.status_code == 200 and r.content == site.files["hostile/" + name], name
    # A click copies (the clipboard needs a secure context: 127.0.0.1 is one) and says so.
    b.cdp.call("Browser.grantPermissions", permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
    b.cdp.evaluate("document.querySelector('tr.file button.mini').scrollIntoView({block: 'center'})")
    box = b.cdp.evaluate("(() => { const r = document.querySelector('tr.file button.mini').getBoundingClientRect();"
                         " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()")
    for kind in ("mousePressed", "mouseReleased"):
        b.cdp.call("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)
    deadline = time.monotonic() + 5
    text = ""
    while time.monotonic() < deadline and text != "Copied":
        text = b.cdp.evaluate("document.querySelector('tr.file button.mini').textContent")
        time.sleep(0.05)
    assert text == "Copied"
    b.screenshot(OUT / "10-file-copy-buttons.png")
