"""The differential trees: BUCKET's hostile tree, MANYB's 2,500-file directory (both written to
disk for x2s3 and uploaded to moto by `seed`), and the Zarr arrays the client test reads back."""

from __future__ import annotations

import os
import random
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


BUCKET = "diffbucket"     # the hostile tree
MANYB = "diffmany"        # a 2,500-file directory and its neighbours (its own bucket: moto's listing
                          # cost grows with the bucket, and the main matrix would wait on it)
HIDDEN = "hiddenbucket"   # the hostile tree again, browseable: false
MANY = 2500
ZARR_SHAPE = (40, 30)
ZARR_CHUNKS = (16, 16)


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _bytes(rng: random.Random, n: int) -> bytes:
    return rng.getrandbits(8 * n).to_bytes(n, "little") if n else b""


def make_tree(root: Path) -> dict[str, bytes]:
    """Writes BUCKET's tree under `root` and returns {key: content} of every object S3
    would hold. On disk only (never uploaded, must never be listed or served): an empty
    directory, a non-UTF-8 name, a symlink out of the tree and a broken symlink."""
    rng = random.Random(3)
    files: dict[str, bytes] = {
        # hostile names (docs/contract.md#keys)
        "plus+sign.txt": b"plus\n",
        "eq=sign.txt": b"eq\n",
        "at@sign.txt": b"at\n",
        "pct%41.txt": b"literal %41\n",
        "pct%20.txt": b"literal %20\n",
        "hash#tag.txt": b"hash\n",
        "q?mark.txt": b"question\n",
        "amp&and.txt": b"amp\n",
        "quote'1.txt": b"quote\n",
        "with space.txt": b"space\n",
        "sp ace/in dir.txt": b"space dir\n",
        "lt<gt>.txt": b"angle\n",
        nfc("unicodé-ключ-日本.txt"): "unicode\n".encode(),
        nfc("ü/ñ.txt"): b"nested unicode\n",
        "tilde~star*.txt": b"tilde\n",
        # S3 byte order: a-b < a/b < a0
        "a-b": b"a-b\n",
        "a/b": b"a/b\n",
        "a/b-c": b"a/b-c\n",
        "a0": b"a0\n",
        # a file and a directory sharing a prefix
        "dir": b"",  # placeholder, replaced below (dir is a directory)
        "dir.txt": b"beside dir\n",
        "dir/x": b"inside dir\n",
        "dir/x.txt": b"inside dir too\n",
        "dir-x": b"dir-x file\n",
        "dir0/y": b"dir0\n",
        # dotfiles, empty files
        ".dotfile": b"dot\n",
        "dir/.hidden": b"hidden\n",
        "empty.bin": b"",
        "dir/empty": b"",
        # nesting
        "n1/top.txt": b"n1\n",
        "n1/n2/x.txt": b"n2\n",
        "n1/n2/n3/n4/leaf.txt": b"leaf\n",
        "n1/n2/n3/n4/n5/deepest": b"deepest\n",
        # sized objects for ranges and byte-exact copies
        "data.bin": _bytes(rng, 1000),
        "blob/blob.bin": _bytes(rng, 300_001),
        "hello.txt": b"Hello, x2s3!\n",
        "data.json": b'{"answer": 42}\n',
    }
    del files["dir"]
    _write(root, files)
    # A symlink to a file inside the tree is served like the file itself.
    (root / "link-in.txt").symlink_to("hello.txt")
    files["link-in.txt"] = files["hello.txt"]
    files.update(_write_zarr(root))
    # Only on disk.
    (root / "emptydir" / "emptier").mkdir(parents=True)
    os.symlink("/etc/hostname", root / "link-out")
    os.symlink("no-such-target", root / "link-broken")
    try:
        with open(os.path.join(os.fsencode(root), b"bad-\xff-name.txt"), "wb") as f:
            f.write(b"not utf-8\n")
    except OSError:  # a filesystem that refuses non-UTF-8 names
        pass
    return dict(sorted(files.items(), key=lambda kv: kv[0].encode()))


def make_many(root: Path) -> dict[str, bytes]:
    """MANYB's tree: `many/` with MANY files named f0..f2499 (unpadded: byte order is not
    numeric order, f10 < f2), and neighbours on both sides of it."""
    files = {f"many/f{i}": f"{i}\n".encode() for i in range(MANY)}
    files.update({"man": b"before\n", "many-x": b"dash\n", "many.txt": b"dot\n", "many/sub/deep": b"deep\n",
                  "many0/x": b"after\n", "z": b"last\n"})
    _write(root, files)
    return dict(sorted(files.items(), key=lambda kv: kv[0].encode()))


def _write(root: Path, files: dict[str, bytes]) -> None:
    for key, content in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _write_zarr(root: Path) -> dict[str, bytes]:
    """A Zarr v2 and a v3 array written by zarr-python itself (the client test reads them back);
    returns their files. Empty when zarr is not installed (the client test then skips)."""
    try:
        import numpy as np
        import zarr
    except ImportError:
        return {}
    values = zarr_values()
    for fmt in (2, 3):
        arr = zarr.create_array(store=str(root / f"zarr/v{fmt}.zarr"), shape=ZARR_SHAPE, chunks=ZARR_CHUNKS,
                                dtype=np.int32, zarr_format=fmt, fill_value=0)
        arr[:] = values
    out = {}
    for dirpath, _, names in os.walk(root / "zarr"):
        for n in names:
            p = Path(dirpath) / n
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def zarr_values():
    import numpy as np
    return np.arange(ZARR_SHAPE[0] * ZARR_SHAPE[1], dtype=np.int32).reshape(ZARR_SHAPE) * 7 - 1000


@dataclass
class Tree:
    root: Path                  # BUCKET (and HIDDEN)
    files: dict[str, bytes]
    many_root: Path             # MANYB
    many_files: dict[str, bytes]

    @property
    def keys(self) -> list[str]:
        return list(self.files)



def seed(url: str, buckets: dict[str, dict[str, bytes]]) -> None:
    """Creates each public-read bucket and uploads its objects."""
    import boto3
    from botocore.config import Config
    # No checksum: x2s3's objects have none, and moto would list the uploader's ChecksumAlgorithm.
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="seed",
                      aws_secret_access_key="seed",
                      config=Config(max_pool_connections=16, request_checksum_calculation="when_required"))
        # Anonymous reads need a public bucket and public objects, in moto as in S3.
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket, ACL="public-read")
    objects = [(b, k, v) for b, files in buckets.items() for k, v in files.items()]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda o: s3.put_object(Bucket=o[0], Key=o[1], Body=o[2], ACL="public-read"), objects))
