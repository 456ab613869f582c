"""Helpers for test_browser.py: the fixture tree (hostile names, a big folder, one dataset
of each kind), an HTML page parser, and a minimal Chrome DevTools Protocol client (a
websocket over the standard library) to drive Debian's headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
import zlib
from html.parser import HTMLParser
from pathlib import Path

# --- fixture tree ---------------------------------------------------------------------

HOSTILE = [
    "q#?&<b>.txt",
    "with space.txt",
    "plus+plus.txt",
    "pct%41.txt",
    "unicodé-ключ.txt",
    'quote"double".txt',
    "it's.txt",
    "<img src=x onerror=alert(1)>.txt",
    "semi;colon=eq,comma.txt",
    "weird #?& <dir>/inside.txt",
]
BIG_FOLDER_SIZE = 2500

ZARRAY = {"chunks": [32, 32], "compressor": None, "dtype": "<u2", "fill_value": 0, "filters": None,
          "order": "C", "shape": [64, 64], "zarr_format": 2}
OME04 = {"multiscales": [{
    "version": "0.4", "name": "cells",
    "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "micrometer"},
             {"name": "x", "type": "space", "unit": "micrometer"}],
    "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5, 0.5]}]},
                 {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [1, 1.0, 1.0]}]}]}],
    "omero": {"channels": [{"label": "DAPI"}, {"label": "GFP"}]}}
V3_ARRAY = {"zarr_format": 3, "node_type": "array", "shape": [64, 64], "data_type": "uint8",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [32, 32]}},
            "chunk_key_encoding": {"name": "default"}, "codecs": [{"name": "bytes"}],
            "dimension_names": ["y", "x"], "fill_value": 0}
OME05 = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "multiscales": [{
    "axes": [{"name": "y", "type": "space", "unit": "nanometer"}, {"name": "x", "type": "space", "unit": "nanometer"}],
    "datasets": [{"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [4, 4]}]}]}]}}}
N5_ARRAY = {"dimensions": [64, 64, 8], "blockSize": [32, 32, 8], "dataType": "uint8", "compression": {"type": "raw"}}
PRECOMPUTED = {"@type": "neuroglancer_multiscale_volume", "type": "image", "data_type": "uint8", "num_channels": 1,
               "scales": [{"key": "8_8_8", "size": [64, 64, 8], "resolution": [8, 8, 8],
                           "chunk_sizes": [[32, 32, 8]], "encoding": "raw", "voxel_offset": [0, 0, 0]}]}

# folder -> (label shown, Neuroglancer scheme or None, metadata key a viewer reads first, vizarr?)
DATASETS = {
    "zarr2-array.zarr": ("Zarr v2 array", "zarr2", ".zarray", False),
    "zarr2-group.zarr": ("Zarr v2 group", None, ".zgroup", False),
    "ome-0.4.ome.zarr": ("OME-Zarr 0.4 image", "zarr2", ".zattrs", True),
    "zarr3-array.zarr": ("Zarr v3 array", "zarr", "zarr.json", False),
    "zarr3-group.zarr": ("Zarr v3 group", None, "zarr.json", False),
    "ome-0.5.ome.zarr": ("OME-Zarr 0.5 image", "zarr", "zarr.json", True),
    "array.n5": ("N5 array", "n5", "attributes.json", False),
    "multiscale.n5": ("N5 multiscale group", "n5", "attributes.json", False),
    "precomputed": ("Neuroglancer precomputed volume", "precomputed", "info", False),
}


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG with a diagonal gradient (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 160))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# Preview fixtures: hostile content that must be shown as text, never run.
XSS = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
PREVIEW_JSON = {"name": XSS, "shape": [64, 64], "big": 12345678901234567890, "ok": True, "none": None}
PREVIEW_MD = f"""# Fixture {XSS}

Some *emphasis*, **strong**, `code <b>` and [the table](data.csv).
A [bad link](javascript:document.title='pwned') and raw HTML: {XSS}

- one
- two

![the picture](pixel.png)
"""
PREVIEW_CSV = f'name,value,note\n"a, quoted",1,"{XSS.replace(chr(34), chr(34) * 2)}"\nb,2,plain\n'
PREVIEWS = {
    "previews/attrs.json": json.dumps(PREVIEW_JSON).encode().replace(b"12345678901234567890.0", b"12345678901234567890"),
    "previews/README.md": PREVIEW_MD.encode(),
    "previews/data.csv": PREVIEW_CSV.encode(),
    "previews/table.tsv": b"a\tb\n1\t2\n",
    "previews/pixel.png": png(240, 160),
    "previews/big.txt": b"x" * ((1 << 20) + 10),
    "previews/blob.bin": bytes(range(256)),
    "previews/notes": b"plain text without an extension\n",
}
# Hostile files' modification times, in an order that is neither the names' nor the sizes'.
HOSTILE_MTIME = 1_700_000_000


def make_browser_tree(bucket: Path) -> dict[str, bytes]:
    """Writes the "pages" bucket and returns {key: content} of every file in it."""
    files: dict[str, bytes] = {"README.txt": b"x2s3 browser fixture\n"}
    for name in HOSTILE:
        files["hostile/" + name] = name.encode() + b"\n"
    files.update(PREVIEWS)
    for i in range(BIG_FOLDER_SIZE):
        files[f"many/file-{i:05d}.txt"] = f"{i}\n".encode()

    def put(key: str, doc) -> None:
        files["datasets/" + key] = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc

    put("zarr2-array.zarr/.zarray", ZARRAY)
    put("zarr2-array.zarr/0.0", bytes(64))
    put("zarr2-group.zarr/.zgroup", {"zarr_format": 2})
    put("zarr2-group.zarr/.zattrs", {})
    put("ome-0.4.ome.zarr/.zgroup", {"zarr_format": 2})
    put("ome-0.4.ome.zarr/.zattrs", OME04)
    put("ome-0.4.ome.zarr/0/.zarray", {**ZARRAY, "shape": [2, 64, 64], "chunks": [1, 32, 32]})
    put("ome-0.4.ome.zarr/1/.zarray", {**ZARRAY, "shape": [2, 32, 32], "chunks": [1, 32, 32]})
    put("zarr3-array.zarr/zarr.json", V3_ARRAY)
    put("zarr3-array.zarr/c/0/0", bytes(16))
    put("zarr3-group.zarr/zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {}})
    put("ome-0.5.ome.zarr/zarr.json", OME05)
    put("ome-0.5.ome.zarr/s0/zarr.json", V3_ARRAY)
    put("array.n5/attributes.json", N5_ARRAY)
    put("array.n5/0/0/0", bytes(16))
    put("multiscale.n5/attributes.json", {"n5": "2.5.1", "resolution": [8, 8, 8], "units": ["nm", "nm", "nm"]})
    put("multiscale.n5/s0/attributes.json", N5_ARRAY)
    put("multiscale.n5/s1/attributes.json", {**N5_ARRAY, "dimensions": [32, 32, 4]})
    put("precomputed/info", PRECOMPUTED)
    put("precomputed/8_8_8/0-32_0-32_0-8", bytes(16))
    for key, content in files.items():
        path = bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for i, name in enumerate(HOSTILE):
        t = HOSTILE_MTIME + ((i * 7) % len(HOSTILE)) * 3600
        os.utime(bucket / "hostile" / name, (t, t))
    return files


# --- page parsing ---------------------------------------------------------------------

class Page(HTMLParser):
    """What a test needs from one x2s3 page: every link (with its class and rel), the
    resources it loads, the names in the listing, the dataset label and facts, the copyable
    URLs and every tag used (to prove no name became markup)."""

    CAPTURE = {"a", "code", "strong", "dt", "dd", "h1", "title"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str]] = []
        self.resources: list[str] = []        # <link href>, <script src>, <img src>
        self.names: list[str] = []            # link texts in the listing's name cells, in order
        self.tags: list[str] = []
        self.codes: dict[str, str] = {}       # <code id> -> text
        self.facts: dict[str, str] = {}       # dataset facts, <dt> -> <dd>
        self.title = self.h1 = self.ds_kind = ""
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self._in_name_cell = False
        self._dt = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        self.tags.append(tag)
        if tag == "a":
            self.links.append({"href": a.get("href", ""), "class": a.get("class", ""), "rel": a.get("rel", "")})
        elif tag == "link":
            self.resources.append(a.get("href", ""))
        elif tag in ("script", "img"):
            self.resources.append(a.get("src", ""))
        elif tag == "td":
            self._in_name_cell = "name" in a.get("class", "").split()
        if tag in self.CAPTURE:
            self._open.append((tag, a, []))

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_name_cell = False
        if tag not in self.CAPTURE or not self._open or self._open[-1][0] != tag:
            return
        _, a, parts = self._open.pop()
        text = "".join(parts)
        if tag == "title":
            self.title = text
        elif tag == "h1":
            self.h1 = text
        elif tag == "a" and self._in_name_cell:
            self.names.append(text)
        elif tag == "code" and a.get("id"):
            self.codes[a["id"]] = text
        elif tag == "strong" and "ds-kind" in a.get("class", ""):
            self.ds_kind = text
        elif tag == "dt":
            self._dt = text
        elif tag == "dd" and self._dt:
            self.facts[self._dt] = text
            self._dt = ""

    def handle_data(self, data):
        for _, _, parts in self._open:
            parts.append(data)

    def link(self, cls: str = "", rel: str = "") -> str | None:
        """The href of the first link with that class and/or rel."""
        for l in self.links:
            if (not cls or cls in l["class"].split()) and (not rel or l["rel"] == rel):
                return l["href"]
        return None


# --- headless Chromium over the DevTools protocol -------------------------------------

def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class CDP:
    """One websocket to a page target, speaking JSON-RPC (RFC 6455 client framing)."""

    def __init__(self, ws_url: str, timeout: float = 30):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", ws_url)
        assert m, ws_url
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "DevTools closed the connection during the handshake"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head[:200]
        self.buf = head.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        self.sock.close()

    def _send(self, text: str) -> None:
        payload = text.encode()
        n = len(payload)
        header = bytes([0x81])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            assert chunk, "DevTools closed the connection"
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _recv(self) -> dict:
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            data = self._read(n)  # servers never mask
            if b0 & 0x0F in (0x1, 0x0):
                message += data
                if b0 & 0x80:
                    return json.loads(message)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = self._recv()
            if msg.get("id") == self.next_id:
                assert "error" not in msg, f"{method}: {msg['error']}"
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._recv())
        raise AssertionError(f"no {method} within {timeout} s")

    def evaluate(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")


class Browser:
    """A headless Chromium process with one page, driven over CDP."""

    def __init__(self, binary: str, width: int = 1280, height: int = 800):
        self.profile = tempfile.mkdtemp(prefix="x2s3-chromium-")
        args = [binary, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--hide-scrollbars", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t.get("type") == "page"]
        self.cdp = CDP(pages[0]["webSocketDebuggerUrl"])
        self.cdp.call("Page.enable")
        self.cdp.call("Runtime.enable")
        self.cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def goto(self, url: str) -> None:
        self.cdp.events.clear()
        self.cdp.call("Page.navigate", url=url)
        self.cdp.wait_event("Page.loadEventFired")

    def click(self, selector: str) -> str:
        """Clicks the element like a person would (mouse at its centre) and waits for the
        next page; returns the element's href."""
        box = self.cdp.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2, href: e.href}; })()")
        assert box, f"nothing matches {selector}"
        self.cdp.events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self.cdp.call("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)
        self.cdp.wait_event("Page.loadEventFired")
        return box["href"]

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params = {"format": "png"}
        if full_page:
            size = self.cdp.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 4000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.cdp.call("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        if getattr(self, "cdp", None):
            self.cdp.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
