"""Huge directories through the shared listing index (`listing_cache`), on the real stack.

A directory of a few thousand entries takes the index path here because the config lowers
`index_min_entries`. Every page must be byte-identical to the answer of a server that keeps
all sorted names in memory (index off), every worker must map the one index file instead of
sorting again, and a restarted pool must reuse the file as it is.
"""
from __future__ import annotations

import os
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from conftest import serving

ENTRIES = 3000
OLD = time.time() - 3600  # older than the cache's racy-mtime window


def make_tree(top: Path) -> Path:
    root = top / "data"
    big = root / "big"
    big.mkdir(parents=True)
    names = [f"f{i * 7919 % ENTRIES:05d}.dat" for i in range(ENTRIES)]
    names += ["d-x", "d0", "caf\u00e9", "\u65e5\u672c", "a b", "a+b", "z~"]
    for n in names:
        (big / n).write_bytes(n.encode()[:5])
    # `d` sorts as `d/`, between `d-x` and `d0`; it holds keys of its own.
    (big / "d").mkdir()
    for n in ["x", "y"]:
        (big / "d" / n).write_bytes(b"in d")
    (big / "link").symlink_to("f00001.dat")
    (big / "broken").symlink_to("no-such-file")
    (big / "outside").symlink_to("/etc/passwd")
    os.mkfifo(big / "fifo")
    (big / b"bad-\xff".decode("utf-8", "surrogateescape")).write_bytes(b"not UTF-8")
    for d in [big / "d", big, root]:
        os.utime(d, (OLD, OLD))
    return root


def write_config(path: Path, root: Path, listing_cache: str) -> None:
    path.write_text(
        "targets:\n"
        "  - name: data\n"
        "    client: file\n"
        "    options:\n"
        f"      path: '{root}'\n"
        f"listing_cache: {listing_cache}\n"
    )


QUERIES = [
    "list-type=2&prefix=big/&max-keys=250",
    "list-type=2&prefix=big/&delimiter=/&max-keys=100",
    "list-type=2&delimiter=/",
    "list-type=2&prefix=big/d&max-keys=3",
    "list-type=2&prefix=big/f01&max-keys=40",
    "list-type=2&prefix=big/&start-after=big/f01500.dat&max-keys=500",
    "list-type=2&prefix=big/&start-after=big/d&max-keys=400",
    "list-type=2&prefix=big/&start-after=big/d/x&max-keys=999",
    "list-type=2&prefix=big/&start-after=big/zz",
    "prefix=big/&marker=big/f02990.dat&max-keys=20",
    "prefix=big/&delimiter=/&marker=big/d/&max-keys=700",
]


def all_pages(srv, query: str) -> list[bytes]:
    """Every page of a listing, following continuation tokens (V2) or NextMarker (V1)."""
    pages = []
    q = query
    for _ in range(100):
        r = requests.get(srv.url("data", "", q), timeout=30)
        assert r.status_code == 200, r.text
        pages.append(r.content)
        text = r.text
        if "<IsTruncated>true</IsTruncated>" not in text:
            return pages
        if "<NextContinuationToken>" in text:
            token = text.split("<NextContinuationToken>")[1].split("<")[0]
            q = query + "&continuation-token=" + urllib.parse.quote(token, safe="")
        else:
            marker = text.split("<NextMarker>")[1].split("<")[0]
            q = query + "&marker=" + urllib.parse.quote(marker, safe="")
    raise AssertionError(f"{query}: more than 100 pages")


def listings(srv) -> dict[str, list[bytes]]:
    return {q: all_pages(srv, q) for q in QUERIES}


def index_files(index: Path) -> dict[str, tuple[int, int]]:
    """{file name: (inode, mtime_ns)} of the index files."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in index.iterdir()}


def mapped_by_every_worker(srv, path: Path) -> bool:
    """Whether each worker has `path` mapped: it listed the directory through the file."""
    for pid in srv.worker_pids():
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            return False
        if str(path) not in maps:
            return False
    return True


def spread_until_mapped(srv, path: Path) -> bool:
    """Concurrent listings (nginx spreads them over the workers) until every worker maps the
    file; bounded at 40 rounds."""
    with ThreadPoolExecutor(8) as ex:
        for _ in range(40):
            list(ex.map(lambda q: requests.get(srv.url("data", "", q), timeout=30).status_code,
                        [QUERIES[0]] * 8 + [QUERIES[5]] * 8))
            if mapped_by_every_worker(srv, path):
                return True
    return False


def test_pages_through_the_shared_index_equal_the_in_memory_answer(tmp_path):
    root = make_tree(tmp_path)
    index = tmp_path / "index"

    ref_top = tmp_path / "memory"
    ref_top.mkdir()
    write_config(ref_top / "config.yaml", root, "{index_max_mb: 0}")
    with serving(ref_top, ref_top / "config.yaml", root, {}, [("data", "big/d/x")]) as srv:
        expected = listings(srv)
    assert not index.exists()
    first_page = expected[QUERIES[0]][0]
    assert first_page.count(b"<Key>") == 250
    d_page = expected["list-type=2&prefix=big/d&max-keys=3"][0]
    assert d_page.index(b"<Key>big/d-x</Key>") < d_page.index(b"<Key>big/d/x</Key>") < d_page.index(b"<Key>big/d/y</Key>")
    assert b"<Key>big/link</Key>" in b"".join(expected[QUERIES[0]])
    for hidden in [b"<Key>big/broken", b"<Key>big/outside", b"<Key>big/fifo", b"<Key>big/bad-"]:
        assert hidden not in b"".join(expected[QUERIES[0]])

    shared_top = tmp_path / "shared"
    shared_top.mkdir()
    write_config(shared_top / "config.yaml", root, f"{{index_dir: '{index}', index_min_entries: 1000}}")
    with serving(shared_top, shared_top / "config.yaml", root, {}, [("data", "big/d/x")]) as srv:
        assert listings(srv) == expected
        # Only big/ is large enough for a file; the root and big/d stay in memory.
        files = index_files(index)
        assert len(files) == 1, files
        (name,) = files
        assert name.endswith(".names")
        assert spread_until_mapped(srv, index / name), "not every worker mapped the index file"
        assert listings(srv) == expected
        assert index_files(index) == files, "a worker wrote the index again"

    # A new pool (as after a restart, or workers spawned later) maps the same file as it is.
    with serving(shared_top, shared_top / "config.yaml", root, {}, [("data", "big/d/x")]) as srv:
        assert listings(srv) == expected
        assert spread_until_mapped(srv, index / name)
        assert index_files(index) == files


def test_a_changed_directory_replaces_its_index_file(tmp_path):
    root = make_tree(tmp_path)
    index = tmp_path / "index"
    write_config(tmp_path / "config.yaml", root, f"{{index_dir: '{index}', index_min_entries: 1000}}")
    query = "list-type=2&prefix=big/new&max-keys=10"
    with serving(tmp_path, tmp_path / "config.yaml", root, {}, [("data", "big/d/x")]) as srv:
        assert b"<KeyCount>0</KeyCount>" in all_pages(srv, query)[0]
        before = index_files(index)
        assert len(before) == 1
        (root / "big" / "new-file").write_bytes(b"new")
        os.utime(root / "big", (OLD + 60, OLD + 60))
        page = all_pages(srv, query)[0]
        assert b"<Key>big/new-file</Key>" in page
        after = index_files(index)
        # One file per directory: the old mtime's file is gone, a new one took its place.
        assert len(after) == 1 and after.keys() != before.keys(), (before, after)
