"""`x2s3 presign`: presigned URLs for one object (fetched with curl) and capability links for a
prefix (browsed in headless Chromium, read by zarr over plain HTTP, refused outside the prefix)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.parse

import pytest
import requests

from conftest import REPO, xml_fields
from private_support import LAB_KEY, OTHER_KEY, VHOST, make_tree, private_server, zarr_values

X2S3 = REPO / ".build" / "release" / "x2s3"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    top = tmp_path_factory.mktemp("private-links")
    files = make_tree(top)
    with private_server(top, virtual=True) as srv:
        srv.files = files
        yield srv


def presign(srv, *args: str, config=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(X2S3), "presign", *args, "--config", str(config or srv.config)],
                          capture_output=True, text=True, timeout=60)


def url_of(srv, *args: str) -> str:
    out = presign(srv, *args)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert url.startswith(f"http://{VHOST}:{srv.port}/"), url
    return url


def curl(srv, url: str, *args: str) -> tuple[int, bytes]:
    if not shutil.which("curl"):
        pytest.skip("no curl")
    out = subprocess.run(["curl", "-sS", "--connect-to", f"{VHOST}:{srv.port}:127.0.0.1:{srv.port}", *args,
                          "-o", "-", "-w", "\n%{http_code}", url], capture_output=True, timeout=60)
    body, _, status = out.stdout.rpartition(b"\n")
    return int(status), body


def local(srv, url: str) -> str:
    """The same URL on 127.0.0.1 (the base host's name is only for Chromium and curl)."""
    return url.replace(f"http://{VHOST}:{srv.port}", f"http://127.0.0.1:{srv.port}")


def code(r: requests.Response) -> str:
    return xml_fields(r.content)[1]["Code"]


# --- presigned object URLs -----------------------------------------------------------------------

def test_presign_prints_urls_curl_can_fetch(lab):
    for key in ("hello.txt", "q#?&<b> +=@'(1)%.txt", "unicodé-ключ-日本.txt", "a/b/c/deep.txt"):
        url = url_of(lab, f"s3://lab/{key}", "--access-key", LAB_KEY, "--expires", "7d")
        assert "X-Amz-Expires=604800" in url
        assert curl(lab, url) == (200, lab.files[key]), key
    url = url_of(lab, "s3://lab/blob.bin", "--access-key", LAB_KEY)
    status, out = curl(lab, url, "-D", "/dev/stdout")
    assert status == 200 and out.endswith(lab.files["blob.bin"])
    assert f"Content-Length: {len(lab.files['blob.bin'])}".encode() in out and b"Cache-Control: private" in out
    # The method is signed: a URL presigned for GET is no HEAD URL (as on S3).
    assert curl(lab, url, "-I")[0] == 403
    assert curl(lab, url, "-r", "5-9") == (206, lab.files["blob.bin"][5:10])
    assert curl(lab, url_of(lab, "s3://other/o.txt", "--access-key", OTHER_KEY)) == (200, b"other\n")


def test_presigned_urls_open_only_what_they_sign(lab):
    url = url_of(lab, "s3://lab/hello.txt", "--access-key", LAB_KEY)
    status, body = curl(lab, url.replace("/lab/hello.txt", "/lab/blob.bin"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert curl(lab, url.split("?")[0])[0] == 403


@pytest.mark.parametrize("args,message", [
    (["s3://lab/hello.txt"], "several credentials may read bucket lab; choose one with --access-key"),
    (["s3://lab/hello.txt", "--access-key", OTHER_KEY], f"credentials: {OTHER_KEY} may not read bucket lab"),
    (["s3://lab/hello.txt", "--access-key", "AKNOBODY"], "credentials: no access_key AKNOBODY"),
    (["s3://nope/k", "--access-key", LAB_KEY], "targets: no target is named nope"),
    (["s3://lab/hello.txt", "--access-key", LAB_KEY, "--expires", "8d"], "--expires must be"),
    (["lab/hello.txt"], "expected s3://bucket/key"),
    (["s3://lab/", "--access-key", LAB_KEY], "names no key"),
    # The warning about a prefix without `/` waits for a link to be made: an error stays one line.
    (["s3://lab/ds", "--capability", "--access-key", "AKNOBODY"], "credentials: no access_key AKNOBODY"),
])
def test_presign_errors_are_one_line(lab, args, message):
    out = presign(lab, *args)
    assert out.returncode == 1 and message in out.stderr and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1


def test_presign_without_a_config_file_says_so(tmp_path):
    # No --config, no X2S3_CONFIG, no ./config.yaml: the defaults would load, without base_url or
    # credentials, and blame those.
    env = {k: v for k, v in os.environ.items() if k.upper() != "X2S3_CONFIG"}
    out = subprocess.run([str(X2S3), "presign", "s3://lab/hello.txt"], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path, env=env)
    assert out.returncode == 1 and out.stderr.strip().splitlines() == [
        "x2s3 presign: no config file: ./config.yaml does not exist; name one with --config FILE or X2S3_CONFIG"]
    check = subprocess.run([str(X2S3), "--check-config"], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert check.returncode == 0 and check.stdout.startswith("config OK: 0 targets; no config file"), check.stdout


def test_presign_takes_a_config_written_before_it(lab):
    for args in (["--config", str(lab.config), "presign"], [f"--config={lab.config}", "presign"]):
        out = subprocess.run([str(X2S3), *args, "s3://lab/hello.txt", "--access-key", LAB_KEY],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "X-Amz-Signature=" in out.stdout, (args, out.stderr)
        assert curl(lab, out.stdout.strip()) == (200, lab.files["hello.txt"])


def test_presign_of_a_public_bucket_gives_its_plain_url(lab):
    out = presign(lab, "s3://pub/hello.txt")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == f"x2s3 presign: bucket pub is public and checks no signature: its URL is http://{VHOST}:{lab.port}/pub/hello.txt"


def test_a_capability_prefix_without_a_slash_is_warned_about(lab):
    out = presign(lab, "s3://lab/ds", "--capability", "--access-key", LAB_KEY)
    assert out.returncode == 0 and "/_x2s3/c/" in out.stdout
    assert "warning: the prefix ds does not end in /" in out.stderr
    assert "warning" not in presign(lab, "s3://lab/ds/", "--capability", "--access-key", LAB_KEY).stderr


def test_check_config_names_the_private_buckets_and_the_file(lab):
    out = subprocess.run([str(X2S3), "--check-config", "--config", str(lab.config)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"config OK: 3 targets (2 private: lab, other); from {lab.config}"


def test_presign_without_base_url_names_the_key(lab, tmp_path):
    config = tmp_path / "no-base.yaml"
    config.write_text("\n".join(l for l in lab.config.read_text().splitlines() if not l.startswith(("base_url", "virtual_buckets"))))
    out = presign(lab, "s3://other/o.txt", config=config)
    assert out.returncode == 1 and "base_url is not set" in out.stderr


# --- capability links ----------------------------------------------------------------------------

def capability(lab, prefix="ds/", expires="1h") -> str:
    url = url_of(lab, f"s3://lab/{prefix}", "--capability", "--access-key", LAB_KEY, "--expires", expires)
    assert re.fullmatch(rf"http://{re.escape(VHOST)}:{lab.port}/_x2s3/c/[A-Za-z0-9_-]+/lab/{re.escape(prefix)}", url), url
    return url


def test_a_capability_link_opens_its_prefix_and_nothing_else(lab):
    cap = local(lab, capability(lab))
    base = cap[: -len("lab/ds/")]
    for key in ("ds/v2.zarr/.zarray", "ds/v2.zarr/0.0", "ds/many/file-007.txt"):
        r = requests.get(base + "lab/" + key)
        assert r.status_code == 200 and r.content == lab.files[key] and r.headers["Cache-Control"].startswith("private")
        assert requests.head(base + "lab/" + key).headers["Content-Length"] == str(len(lab.files[key]))
    r = requests.get(base + "lab?list-type=2&prefix=ds%2Fmany%2F&max-keys=1000")
    assert r.status_code == 200 and r.content.count(b"<Key>") == 250
    for outside in ("lab/hello.txt", "lab?list-type=2", "lab?list-type=2&prefix=d", "", "other/o.txt", "pub/hello.txt",
                    "lab/ds/v2.zarr/0.0?acl"):
        r = requests.get(base + outside)
        assert r.status_code == 403 and code(r) == "AccessDenied", outside
    # Without the token, or with it altered, the same keys are private.
    assert requests.get(f"http://127.0.0.1:{lab.port}/lab/ds/v2.zarr/0.0").status_code == 403
    tok = base.rstrip("/").rsplit("/", 1)[1]
    altered = base.replace(tok, tok[:-2] + ("AA" if not tok.endswith("AA") else "BB"))
    assert requests.get(altered + "lab/ds/v2.zarr/0.0").status_code == 403


def test_an_expired_capability_link_is_refused(lab):
    cap = local(lab, capability(lab, expires="1s"))
    time.sleep(2.1)
    r = requests.get(cap + "v2.zarr/0.0")
    assert r.status_code == 403 and xml_fields(r.content)[1]["Message"] == "Request has expired"
    # A person's browser is told to ask for a new link (not how a private bucket opens).
    page = requests.get(cap, headers={"Accept": "text/html"})
    assert page.status_code == 403 and "This link has expired, or it does not open this path" in page.text
    assert "This bucket is private." not in page.text


def test_zarr_reads_chunks_under_a_capability_base_url(lab):
    zarr = pytest.importorskip("zarr")
    np = pytest.importorskip("numpy")
    pytest.importorskip("aiohttp")
    cap = local(lab, capability(lab))
    arr = zarr.open_array(cap + "v2.zarr", mode="r")
    assert np.array_equal(arr[:], zarr_values())
    assert np.array_equal(arr[3:17, 9:25], zarr_values()[3:17, 9:25])
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("http")
    assert fs.cat(cap + "many/file-042.txt") == b"42\n"
    with pytest.raises(Exception, match="403"):
        fs.cat(cap.replace("/lab/ds/", "/lab/") + "hello.txt")


def test_chromium_browses_and_pages_through_a_capability_link(lab):
    from browser_support import Browser, find_chromium
    binary = find_chromium()
    if binary is None:
        pytest.skip("headless Chromium is not installed")
    cap = capability(lab)
    base_path = urllib.parse.urlsplit(cap).path[: -len("lab/ds/")]
    b = Browser(binary)
    try:
        b.goto(cap)
        assert b.cdp.evaluate("document.querySelector('h1').textContent") == "ds/"
        hrefs = b.cdp.evaluate("[...document.querySelectorAll('a[href]')].map(a => new URL(a.href).pathname)")
        internal = [h for h in hrefs if h.startswith("/")]
        assert internal and all(h.startswith(base_path + "lab/ds/") or h == base_path + "lab/" or
                                h.startswith(base_path + "static/") for h in internal), internal
        b.click('td.name a[href$="/lab/ds/many/"]')
        assert b.cdp.evaluate("location.pathname") == base_path + "lab/ds/many/"
        assert b.cdp.evaluate("document.querySelectorAll('tr.file').length") == 200
        b.click("a.next")
        assert b.cdp.evaluate("location.pathname") == base_path + "lab/ds/many/"
        assert b.cdp.evaluate("document.querySelectorAll('tr.file').length") == 50
        b.click("a.prev")
        assert b.cdp.evaluate("document.querySelectorAll('tr.file').length") == 200
        # The breadcrumb leads back to the granted folder and never above it.
        b.click('nav.crumbs a[href$="/lab/ds/"]')
        assert b.cdp.evaluate("location.pathname") == base_path + "lab/ds/"
        assert b.cdp.evaluate("document.querySelectorAll('nav.crumbs a').length") == 0
        b.click('td.name a[href$="/lab/ds/v2.zarr/"]')
        ng = b.cdp.evaluate("document.querySelector('a.ng') && document.querySelector('a.ng').href")
        assert ng and urllib.parse.unquote(ng).count(base_path + "lab/ds/v2.zarr") == 1, ng
        status = b.cdp.evaluate("fetch(document.querySelector('a[href$=\"/0.0\"]').href).then(r => r.status)")
        assert status == 200
    finally:
        b.close()


def test_the_logs_keep_neither_signatures_nor_capability_tokens(lab):
    """A presigned URL's signature and a capability token open the data until they expire: the
    worker's log and nginx's access log write them REDACTED and name the key that granted them."""
    from faults import wait_for
    url = local(lab, url_of(lab, "s3://lab/hello.txt", "--access-key", LAB_KEY))
    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    cap = local(lab, capability(lab))
    token = cap.split("/_x2s3/c/", 1)[1].split("/", 1)[0]
    # The presigned URL signs its host: sent to 127.0.0.1 with the host it names.
    got = [requests.get(url, headers={"Host": f"{VHOST}:{lab.port}"}), requests.get(cap + "v2.zarr/.zarray")]
    assert [r.status_code for r in got] == [200, 200]
    rids = [r.headers["x-amz-request-id"] for r in got]

    def lines() -> tuple[list[str], list[str]]:
        return ([l for l in lab.log().splitlines() if any(f"request.id={rid}" in l for rid in rids)],
                [l for l in lab.access_lines() if any(f"rid={rid}" in l for rid in rids)])
    assert wait_for(lambda: all(len(x) == 2 for x in lines()), 5), lines()
    worker, access = lines()
    for line in worker + access:
        assert signature not in line and token not in line and "REDACTED" in line, line
    presigned_w, capability_w = sorted(worker, key=lambda l: "/_x2s3/c/" in l)
    assert "uri=/lab/hello.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&" in presigned_w and "X-Amz-Signature=REDACTED" in presigned_w
    assert "uri=/_x2s3/c/REDACTED/lab/ds/v2.zarr/.zarray" in capability_w
    assert all(f"user.name={LAB_KEY}" in l for l in worker), worker
    presigned_a, capability_a = sorted(access, key=lambda l: "/_x2s3/c/" in l)
    assert '"GET /lab/hello.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&' in presigned_a and "X-Amz-Signature=REDACTED" in presigned_a
    assert '"GET /_x2s3/c/REDACTED/lab/ds/v2.zarr/.zarray HTTP/1.1"' in capability_a
    # Whatever the request: every X-Amz-Signature, and a token behind a base_url path, are gone too.
    odd = [requests.get(f"http://127.0.0.1:{lab.port}/lab/hello.txt?X-Amz-Signature=SIGONE111&a=1&X-Amz-Signature=SIGTWO222"),
           requests.get(f"http://127.0.0.1:{lab.port}/x2s3/_x2s3/c/TOKEN333/lab/ds/")]
    rids = [r.headers["x-amz-request-id"] for r in odd]
    assert wait_for(lambda: all(len(x) == 2 for x in lines()), 5), lines()
    for line in lines()[0] + lines()[1]:
        assert not any(s in line for s in ("SIGONE111", "SIGTWO222", "TOKEN333")) and "REDACTED" in line, line


def test_s3_clients_take_a_capability_base_as_their_endpoint(lab, tmp_path):
    """What docs/private.md shows: the link's part before the bucket is an S3 endpoint, unsigned."""
    from botocore import UNSIGNED
    from botocore.config import Config
    import boto3
    base = local(lab, capability(lab))[: -len("lab/ds/")].rstrip("/")
    s3 = boto3.client("s3", endpoint_url=base, region_name="us-east-1",
                      config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="lab", Prefix="ds/many/") for o in p["Contents"]]
    assert len(keys) == 250 and keys == sorted(k for k in lab.files if k.startswith("ds/many/"))
    assert s3.get_object(Bucket="lab", Key="ds/v2.zarr/0.0")["Body"].read() == lab.files["ds/v2.zarr/0.0"]
    with pytest.raises(Exception, match="AccessDenied|403"):
        s3.get_object(Bucket="lab", Key="hello.txt")
    if shutil.which("aws"):
        out = subprocess.run(["aws", "--no-sign-request", "--endpoint-url", base, "--region", "us-east-1", "s3", "cp",
                              "--recursive", "--only-show-errors", "s3://lab/ds/many/", str(tmp_path / "cp")],
                             capture_output=True, timeout=300)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        assert len(list((tmp_path / "cp").iterdir())) == 250
