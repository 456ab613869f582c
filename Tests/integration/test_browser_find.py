"""Finding and previewing in the web browser, against real nginx + x2s3 workers (the same
site as test_browser.py: base path, virtual buckets on, the hostile fixture tree).

Over HTTP: the folder search (`?find=`) pages with its prefix, previews (`?preview`) of every
kind with their raw and download links, errors and hidden buckets. In headless Chromium: the
filter box, sorting by keyboard, a search that pages, the previews (hostile Markdown and CSV
run no script), the copy buttons. Screenshots go to test-output/browser/.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import xml.etree.ElementTree as ET

import requests

from browser_support import HOSTILE, HOSTILE_MTIME, PREVIEWS, Page
from browser_site import HTML, OUT, browser, http, page, site  # noqa: F401 (fixtures)

FILES = sorted(n for n in HOSTILE if "/" not in n)


def rows(p: Page) -> list[str]:
    return [n for n in p.names if n != ".."]


def follow(url: str, href: str | None) -> str | None:
    return urllib.parse.urljoin(url, href) if href else None


# --- over HTTP ---------------------------------------------------------------------------

def test_search_lists_names_with_the_prefix_and_pages_keeping_it(site, http):
    url = site.url("pages", "many/", query="find=file-01")
    names, pages = [], 0
    while url:
        r = http.get(url, timeout=30)
        assert r.status_code == 200
        p = Page(r.text)
        assert 'name="find" value="file-01"' in r.text, "the typed text is shown"
        assert follow(url, p.link(cls="clear")) == site.url("pages", "many/")
        names += rows(p)
        pages += 1
        url = follow(url, p.link(rel="next"))
        if url:
            assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["find"] == ["file-01"]
        if pages > 2:
            assert "find=file-01" in p.link(cls="first") and "find=file-01" in p.link(rel="prev")
    assert names == [f"file-{i:05d}.txt" for i in range(1000, 2000)] and pages == 5


def test_search_for_hostile_names_links_them_correctly(site, http):
    for typed, expect in (("q#?&<", ["q#?&<b>.txt"]), ("weird #?& <dir>/in", ["weird #?& <dir>/inside.txt"]),
                          ("<img", ["<img src=x onerror=alert(1)>.txt"]), ("nothing", [])):
        url = site.url("pages", "hostile/", query="find=" + urllib.parse.quote(typed, safe=""))
        r = http.get(url, timeout=30)
        p = Page(r.text)
        assert rows(p) == expect, typed
        assert "<img src=x" not in r.text and p.tags.count("script") == 1
        previews = [l["href"] for l in p.links if l["href"].endswith("?preview")]
        assert previews == ["/x2s3/pages/hostile/" + urllib.parse.quote(n, safe="/") + "?preview" for n in expect]
        for link in p.links:
            target = urllib.parse.urljoin(url, link["href"])
            if urllib.parse.urlsplit(target).netloc == f"127.0.0.1:{site.port}":
                assert http.get(target, timeout=30).status_code == 200, target
        if not expect:
            assert "No names here start with “nothing”." in r.text


def test_previews_of_every_kind(site, http):
    def preview(key: str) -> requests.Response:
        r = http.get(site.url("pages", key, query="preview"), timeout=30)
        assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8", key
        assert r.headers["cache-control"] == "no-cache" and r.headers["vary"] == "Accept, Accept-Encoding"
        assert Page(r.text).tags.count("script") == 1, "no script but ours"
        return r

    j = preview("previews/attrs.json").text
    assert '<span class="n">12345678901234567890</span>' in j and "&lt;script&gt;" in j and "<script>document" not in j
    md = preview("previews/README.md")
    mp = Page(md.text)
    assert "<h1>Fixture &lt;script&gt;" in md.text and "javascript:" not in md.text and 'onerror="' not in md.text
    assert mp.tags.count("img") == 2 and '<img src="pixel.png" alt="the picture">' in md.text  # logo + the picture
    assert '<a href="data.csv">the table</a>' in md.text
    csv = preview("previews/data.csv").text
    assert "<th>name</th><th>value</th><th>note</th>" in csv and "<td>a, quoted</td>" in csv
    assert "<td>&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;&lt;img src=x onerror=&quot;" in csv
    assert "<th>a</th><th>b</th>" in preview("previews/table.tsv").text
    assert '<img src="/x2s3/pages/previews/pixel.png" alt="pixel.png">' in preview("previews/pixel.png").text
    assert "previews show files up to 1.0 MiB" in preview("previews/big.txt").text
    assert "There is no preview for this type of file" in preview("previews/blob.bin").text
    assert "plain text without an extension" in preview("previews/notes").text


def test_preview_links_give_the_raw_bytes_and_a_download(site, http):
    for key in [*PREVIEWS, *("hostile/" + n for n in HOSTILE)]:
        url = site.url("pages", key, query="preview")
        p = page(http, url)
        raw, download = follow(url, p.link(cls="raw")), follow(url, p.link(cls="download"))
        assert raw == site.url("pages", key)
        r = http.get(raw, timeout=30)
        assert r.status_code == 200 and r.content == site.files[key], key
        d = http.get(download, timeout=30)
        assert d.status_code == 200 and d.content == site.files[key]
        assert d.headers["content-disposition"].startswith("attachment; filename=")
        # Every other link and resource on the page answers 2xx.
        for target in [urllib.parse.urljoin(url, h) for h in [l["href"] for l in p.links] + p.resources]:
            if urllib.parse.urlsplit(target).netloc == f"127.0.0.1:{site.port}":
                assert http.get(target, timeout=30).status_code == 200, (key, target)
        assert p.codes["u-s3"] == "s3://pages/" + key and p.codes["u-https"] == raw


def test_preview_errors_head_and_the_object_url(site, http):
    missing = site.url("pages", "hostile/q#?&<b>.missing", query="preview")
    r = http.get(missing, timeout=30)
    assert r.status_code == 404 and r.headers["content-type"] == "text/html; charset=utf-8"
    x = requests.get(missing, timeout=30)
    assert x.status_code == 404 and ET.fromstring(x.content).findtext("Code") == "NoSuchKey"
    # A key-only bucket: an existing key previews, a missing one is 403 as for GET.
    assert http.get(site.base_url + "hidden/key-only.txt?preview", timeout=30).status_code == 200
    assert http.get(site.base_url + "hidden/nope.txt?preview", timeout=30).status_code == 403
    # HEAD: the page's headers, no body.
    url = site.url("pages", "previews/data.csv", query="preview")
    g, h = http.get(url, timeout=30), http.head(url, timeout=30)
    strip = lambda r: {k: v for k, v in r.headers.items() if k.lower() not in ("date", "x-amz-request-id")}
    assert h.status_code == 200 and strip(h) == strip(g) and h.content == b""
    # The object URL answers bytes to a browser too.
    o = http.get(site.url("pages", "previews/README.md"), timeout=30)
    assert o.content == PREVIEWS["previews/README.md"] and o.headers["content-type"] == "text/markdown"


# --- headless Chromium -------------------------------------------------------------------

def visible(b) -> list[str]:
    return b.cdp.evaluate("[...document.querySelectorAll('tbody tr.dir, tbody tr.file')].filter(r => !r.hidden)"
                          ".map(r => r.querySelector('td.name a').textContent)")


def key(b, name: str, code: int, text: str = "") -> None:
    for kind in ("keyDown", "keyUp"):
        b.cdp.call("Input.dispatchKeyEvent", type=kind, key=name, code=name if len(name) > 1 else "Slash",
                   windowsVirtualKeyCode=code, nativeVirtualKeyCode=code, **({"text": text} if text and kind == "keyDown" else {}))


def test_chromium_filter_hides_rows_as_you_type(site, browser):
    b = browser
    b.goto(site.url("pages", "many/"))
    assert b.cdp.evaluate("document.querySelector('.filter').hidden") is False
    key(b, "/", 191, "/")  # the page's shortcut to the filter box
    assert b.cdp.evaluate("document.activeElement.id") == "filter"
    b.cdp.call("Input.insertText", text="file-0001")
    assert visible(b) == [f"file-{i:05d}.txt" for i in range(10, 20)]
    assert b.cdp.evaluate("document.getElementById('summary').textContent") == "10 of 200 on this page contain “file-0001”"
    b.screenshot(OUT / "11-filter.png")
    b.cdp.call("Input.insertText", text="x")
    assert visible(b) == [] and b.cdp.evaluate("document.querySelector('tr.no-match').hidden") is False
    key(b, "Escape", 27)
    assert len(visible(b)) == 200


def test_chromium_sorts_by_size_date_and_name_with_the_keyboard(site, browser):
    b = browser
    b.goto(site.url("pages", "hostile/"))
    folder = "weird #?& <dir>/"
    assert visible(b) == [folder, *FILES]

    def press(sort: str) -> list[str]:
        b.cdp.evaluate(f"document.querySelector('button.sort[data-sort={sort}]').focus()")
        key(b, "Enter", 13, "\r")
        return visible(b)

    by_size = sorted(FILES, key=lambda n: len(n.encode()))
    assert press("size") == [folder, *by_size[::-1]], "largest first"
    assert b.cdp.evaluate("document.querySelector('th.size').getAttribute('aria-sort')") == "descending"
    assert press("size") == [folder, *by_size]
    b.screenshot(OUT / "12-sorted-by-size.png")
    order = {n: (i * 7) % len(HOSTILE) for i, n in enumerate(HOSTILE)}
    assert press("date") == [folder, *sorted(FILES, key=lambda n: -order[n])], "newest first"
    dates = b.cdp.evaluate("[...document.querySelectorAll('tr.file')].map(r => Number(r.dataset.date))")
    assert dates == sorted(dates, reverse=True) and dates[0] <= HOSTILE_MTIME + 9 * 3600
    assert press("name") == [folder, *FILES]
    assert press("name") == [folder, *FILES[::-1]]
    assert b.cdp.evaluate("document.querySelector('th.name').getAttribute('aria-sort')") == "descending"


def test_chromium_search_form_pages_with_its_prefix(site, browser):
    b = browser
    b.goto(site.url("pages", "many/"))
    b.cdp.evaluate("document.getElementById('find').focus()")
    b.cdp.call("Input.insertText", text="file-02")
    b.cdp.events.clear()
    key(b, "Enter", 13, "\r")  # submits the form: a plain GET
    b.cdp.wait_event("Page.loadEventFired")
    assert b.cdp.evaluate("location.search") == "?find=file-02"
    names = visible(b)
    assert names == [f"file-{i:05d}.txt" for i in range(2000, 2200)]
    assert b.cdp.evaluate("document.getElementById('find').value") == "file-02"
    b.screenshot(OUT / "13-search.png")
    href = b.click("a.next")
    assert "find=file-02" in href and "continuation-token=" in href
    assert visible(b) == [f"file-{i:05d}.txt" for i in range(2200, 2400)]
    b.click("a.clear")
    assert b.cdp.evaluate("location.search") == "" and visible(b)[0] == "file-00000.txt"


def test_chromium_previews_show_json_images_markdown_and_csv_without_running_them(site, browser):
    b = browser
    b.goto(site.url("pages", "previews/"))
    b.click('td.name a[href$="/attrs.json?preview"]')
    text = b.cdp.evaluate("document.querySelector('pre.json').textContent")
    assert json.loads(text) == json.loads(PREVIEWS["previews/attrs.json"]) and text.count("\n") >= 8
    b.screenshot(OUT / "14-preview-json.png")

    b.goto(site.url("pages", "previews/pixel.png", query="preview"))
    assert b.cdp.evaluate("document.querySelector('figure.image img').naturalWidth") == 240
    b.screenshot(OUT / "15-preview-image.png")

    for key_, shot in (("previews/README.md", "16-preview-markdown.png"), ("previews/data.csv", "17-preview-csv.png")):
        b.goto(site.url("pages", key_, query="preview"))
        time.sleep(0.2)  # an onerror handler, had one got through, fires after the load event
        assert b.cdp.evaluate("document.title") == key_.split("/")[-1] + " · x2s3", "no injected script ran"
        assert b.cdp.evaluate("document.querySelectorAll('script').length") == 1
        assert b.cdp.evaluate("document.querySelectorAll('[onerror]').length") == 0
        b.screenshot(OUT / shot, full_page=True)
    assert b.cdp.evaluate("document.querySelectorAll('table.grid tbody tr').length") == 2
    assert b.cdp.evaluate("document.querySelector('table.grid tbody td:nth-child(3)').textContent").startswith("<script>")


def test_chromium_preview_copy_buttons(site, browser):
    b = browser
    b.goto(site.url("pages", "hostile/q#?&<b>.txt", query="preview"))
    assert b.cdp.evaluate("document.querySelector('h1').textContent") == "q#?&<b>.txt"
    assert b.cdp.evaluate("document.querySelector('pre.text').textContent") == "q#?&<b>.txt\n"
    assert b.cdp.evaluate("[...document.querySelectorAll('button.copy')].map(x => x.hidden)") == [False, False]
    b.cdp.call("Browser.grantPermissions", permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
    box = b.cdp.evaluate("(() => { const r = document.querySelector('button[data-copy=u-https]').getBoundingClientRect();"
                         " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()")
    for kind in ("mousePressed", "mouseReleased"):
        b.cdp.call("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)
    deadline, label = time.monotonic() + 5, ""
    while time.monotonic() < deadline and label != "Copied":
        label = b.cdp.evaluate("document.querySelector('button[data-copy=u-https]').textContent")
        time.sleep(0.05)
    assert label == "Copied"
    assert b.cdp.evaluate("navigator.clipboard.readText()") == site.url("pages", "hostile/q#?&<b>.txt")
    b.screenshot(OUT / "18-preview-text.png")
