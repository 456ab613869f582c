"""Shared setup for the private-bucket tests: a tree with a private bucket `lab` (hostile
names and a Zarr array), a public bucket `pub`, a second private bucket `other`, and three
credentials (lab only, other+pub only, everything), served by its own scripts/serve."""

from __future__ import annotations

import contextlib
import datetime
import os
from pathlib import Path
from typing import Iterator
from unittest import mock

import boto3
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from serve_instance import ServeInstance

LAB_KEY, LAB_SECRET = "AKLAB0000000000000001", "lab/Secret+With=Odd/Chars0000000000000001"
OTHER_KEY, OTHER_SECRET = "AKOTHER00000000000002", "other-secret-000000000000000000000000002"
ROOT_KEY, ROOT_SECRET = "AKROOT000000000000003", "root-secret-0000000000000000000000000003"
VHOST = "x2s3.localhost"  # Chromium resolves *.localhost to loopback by itself
ZARR_SHAPE, ZARR_CHUNKS = (20, 30), (8, 8)

LAB_FILES = {
    "hello.txt": b"private hello\n",
    "q#?&<b> +=@'(1)%.txt": b"hostile name\n",
    "unicodé-ключ-日本.txt": "unicode\n".encode(),
    "a/b/c/deep.txt": b"deep\n",
    "blob.bin": bytes(range(256)) * 600,
    **{f"ds/many/file-{i:03d}.txt": f"{i}\n".encode() for i in range(250)},  # two browser pages
}
PUB_FILES = {"hello.txt": b"public hello\n", "x/in.txt": b"in x\n"}


def zarr_values():
    import numpy as np
    return np.arange(ZARR_SHAPE[0] * ZARR_SHAPE[1], dtype=np.int32).reshape(ZARR_SHAPE) * 3 + 1


def _write(root: Path, files: dict[str, bytes]) -> None:
    for key, content in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(content)


def make_tree(top: Path) -> dict[str, bytes]:
    """Writes lab/, pub/, other/ and the secret files; returns lab's {key: bytes}."""
    files = dict(LAB_FILES)
    _write(top / "lab", LAB_FILES)
    _write(top / "pub", PUB_FILES)
    _write(top / "other", {"o.txt": b"other\n"})
    try:
        import numpy as np
        import zarr
        arr = zarr.create_array(store=str(top / "lab" / "ds" / "v2.zarr"), shape=ZARR_SHAPE, chunks=ZARR_CHUNKS,
                                dtype=np.int32, zarr_format=2, fill_value=0)
        arr[:] = zarr_values()
        for p in (top / "lab" / "ds").rglob("*"):
            if p.is_file():
                files[p.relative_to(top / "lab").as_posix()] = p.read_bytes()
    except ImportError:
        pass
    for name, secret in (("lab", LAB_SECRET), ("other", OTHER_SECRET), ("root", ROOT_SECRET)):
        (top / f"{name}.secret").write_text(secret + "\n")
    return files


def config_text(top: Path, port: int, base_host: str = "127.0.0.1", virtual: bool = False) -> str:
    return f"""
base_url: http://{base_host}:{port}/
virtual_buckets: {str(virtual).lower()}
targets:
  - {{name: lab, private: true, client: file, options: {{path: '{top / "lab"}'}}}}
  - {{name: pub, client: file, options: {{path: '{top / "pub"}'}}}}
  - {{name: other, private: true, client: file, options: {{path: '{top / "other"}'}}}}
credentials:
  - {{access_key: {LAB_KEY}, secret_key_path: '{top / "lab.secret"}', buckets: [lab]}}
  - {{access_key: {OTHER_KEY}, secret_key_path: '{top / "other.secret"}', buckets: [other, pub]}}
  - {{access_key: {ROOT_KEY}, secret_key_path: '{top / "root.secret"}', buckets: ["*"]}}
"""


@contextlib.contextmanager
def private_server(top: Path, profile: str = "dev", virtual: bool = False) -> Iterator[ServeInstance]:
    inst = ServeInstance(top, "", profile=profile)
    inst.config.write_text(config_text(top, inst.port, VHOST if virtual else "127.0.0.1", virtual))
    with inst:
        yield inst


def client(srv: ServeInstance, key: str | None = LAB_KEY, secret: str | None = LAB_SECRET, style: str = "path"):
    from botocore import UNSIGNED
    cfg = Config(s3={"addressing_style": style}, retries={"max_attempts": 1},
                 signature_version=UNSIGNED if not key else "s3v4")
    return boto3.client("s3", endpoint_url=srv.base_url, region_name="us-east-1", aws_access_key_id=key or "x",
                        aws_secret_access_key=secret or "x", config=cfg, verify=False)


def signed_headers(method: str, url: str, host: str, key: str = LAB_KEY, secret: str = LAB_SECRET,
                   when: datetime.datetime | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Headers botocore's S3 signer adds for `url` as sent to `host` (Host included)."""
    u = requests.utils.urlparse(url)
    req = AWSRequest(method=method, url=f"{u.scheme}://{host}{u.path}" + (f"?{u.query}" if u.query else ""),
                     headers=dict(extra or {}))
    with mock.patch("botocore.auth.get_current_datetime",
                    return_value=when or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)):
        S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(req)
    headers = dict(req.headers.items())
    headers["Host"] = host
    return headers


def aws_env(key: str, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return env
