"""Real clients against x2s3 serving the differential tree (s3diff): boto3, the AWS CLI,
rclone, s3fs + zarr-python. Every comparison is byte-exact against the tree on disk.
A client that is not installed is a skip, not a pass (the CI image installs all of them)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from s3diff import BUCKET, HIDDEN, MANYB, MANY, zarr_values


def s3_order(keys) -> list[str]:
    return sorted(keys, key=lambda k: k.encode())


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def s3(x2s3_diff):
    return boto3.client("s3", endpoint_url=x2s3_diff.base_url.rstrip("/"), region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def code_of(e: pytest.ExceptionInfo) -> tuple[str, int]:
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


# --- boto3 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op,size", [("list_objects_v2", 1000), ("list_objects_v2", 333), ("list_objects", 700)])
def test_boto3_paginators_list_every_key_in_s3_order(s3, diff_tree, op, size):
    pages = list(s3.get_paginator(op).paginate(Bucket=MANYB, PaginationConfig={"PageSize": size}))
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert len(keys) >= MANY
    assert keys == s3_order(diff_tree.many_files)
    assert len(pages) == -(-len(keys) // size)


def test_boto3_lists_the_hostile_tree_exactly(s3, diff_tree):
    # boto3 asks for encoding-type=url and decodes: every odd name must come back as it is on disk.
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 7})
            for o in p.get("Contents", [])]
    assert keys == s3_order(diff_tree.files)
    top = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    prefixes = [p["Prefix"] for p in top["CommonPrefixes"]]
    assert prefixes == s3_order({k.split("/")[0] + "/" for k in diff_tree.files if "/" in k})


def test_boto3_gets_every_object_byte_exact(s3, diff_tree):
    for key, content in diff_tree.files.items():
        r = s3.get_object(Bucket=BUCKET, Key=key)
        assert r["Body"].read() == content, key
        assert r["ContentLength"] == len(content)


def test_boto3_ranges_and_head(s3, diff_tree):
    data = diff_tree.files["blob/blob.bin"]
    r = s3.get_object(Bucket=BUCKET, Key="blob/blob.bin", Range="bytes=65530-131080")
    assert r["Body"].read() == data[65530:131081]
    assert r["ContentRange"] == f"bytes 65530-131080/{len(data)}"
    assert s3.get_object(Bucket=BUCKET, Key="blob/blob.bin", Range="bytes=-7")["Body"].read() == data[-7:]
    h = s3.head_object(Bucket=BUCKET, Key="blob/blob.bin")
    assert h["ContentLength"] == len(data) and h["ETag"] and h["AcceptRanges"] == "bytes"


def test_boto3_errors_are_client_error_codes(s3):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key="no/such key")
    assert code_of(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert code_of(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key="data.bin", Range="bytes=5000-")
    assert code_of(e) == ("InvalidRange", 416)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=HIDDEN, Key="no-such-key")
    assert code_of(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=HIDDEN)
    assert code_of(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=BUCKET, Key="dir")
    assert code_of(e) == ("404", 404)
    assert s3.get_object(Bucket=HIDDEN, Key="hello.txt")["Body"].read() == b"Hello, x2s3!\n"


# --- AWS CLI --------------------------------------------------------------------------------------

def aws(x2s3_diff, *args: str) -> subprocess.CompletedProcess:
    if not shutil.which("aws"):
        pytest.skip("no aws cli")
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    cmd = ["aws", "--endpoint-url", x2s3_diff.base_url.rstrip("/"), "--no-sign-request", "--region", "us-east-1", *args]
    out = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out


def test_aws_cli_ls(x2s3_diff, diff_tree):
    lines = aws(x2s3_diff, "s3", "ls", f"s3://{BUCKET}/").stdout.decode().splitlines()
    dirs = sorted(line.split("PRE ", 1)[1] for line in lines if " PRE " in line)
    files = sorted(line.split(None, 3)[3] for line in lines if " PRE " not in line)
    assert dirs == sorted({k.split("/")[0] + "/" for k in diff_tree.files if "/" in k})
    assert files == sorted(k for k in diff_tree.files if "/" not in k)
    lines = aws(x2s3_diff, "s3", "ls", "--recursive", f"s3://{MANYB}/").stdout.decode().splitlines()
    assert [line.split(None, 3)[3] for line in lines] == s3_order(diff_tree.many_files)


def test_aws_cli_cp_recursive_is_byte_exact(x2s3_diff, diff_tree, tmp_path):
    aws(x2s3_diff, "s3", "cp", "--recursive", "--only-show-errors", f"s3://{BUCKET}/", str(tmp_path / "cp"))
    assert read_tree(tmp_path / "cp") == diff_tree.files


def test_aws_cli_get_object_range(x2s3_diff, diff_tree, tmp_path):
    out = aws(x2s3_diff, "s3api", "get-object", "--bucket", BUCKET, "--key", "unicodé-ключ-日本.txt",
              "--range", "bytes=2-5", str(tmp_path / "part"))
    assert (tmp_path / "part").read_bytes() == diff_tree.files["unicodé-ключ-日本.txt"][2:6]
    assert '"ContentRange": "bytes 2-5/8"' in out.stdout.decode()


# --- rclone ------------------------------------------------------------------------------------------

def rclone(x2s3_diff, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    if not shutil.which("rclone"):
        pytest.skip("no rclone")
    # rclone reads AWS_CA_BUNDLE even for http endpoints and fails on bundles it cannot load.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update(RCLONE_CONFIG_X_TYPE="s3", RCLONE_CONFIG_X_PROVIDER="Other", RCLONE_CONFIG_X_ENV_AUTH="false",
               RCLONE_CONFIG_X_ENDPOINT=x2s3_diff.base_url.rstrip("/"), RCLONE_CONFIG_X_FORCE_PATH_STYLE="true")
    out = subprocess.run(["rclone", "--config", "/dev/null", *args], capture_output=True, env=env, timeout=300)
    if check:
        assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out


def test_rclone_lsf_lists_every_key(x2s3_diff, diff_tree):
    out = rclone(x2s3_diff, "lsf", "-R", "--files-only", f"x:{BUCKET}").stdout.decode().splitlines()
    assert sorted(out) == sorted(diff_tree.files)
    out = rclone(x2s3_diff, "lsf", "-R", "--files-only", f"x:{MANYB}").stdout.decode().splitlines()
    assert sorted(out) == sorted(diff_tree.many_files)


def test_rclone_copy_and_check_against_the_source(x2s3_diff, diff_tree, tmp_path):
    source = tmp_path / "source"  # the objects of the tree (the disk-only entries are not objects)
    for key, content in diff_tree.files.items():
        (source / key).parent.mkdir(parents=True, exist_ok=True)
        (source / key).write_bytes(content)
    rclone(x2s3_diff, "copy", f"x:{BUCKET}", str(tmp_path / "copy"))
    assert read_tree(tmp_path / "copy") == diff_tree.files
    # --download: x2s3's ETags are not MD5s, so rclone compares the bytes themselves.
    out = rclone(x2s3_diff, "check", "--download", str(source), f"x:{BUCKET}", check=False)
    log = out.stderr.decode(errors="replace")
    assert out.returncode == 0, log[-3000:]
    assert f"{len(diff_tree.files)} matching files" in log and "0 differences found" in log, log[-3000:]


# --- s3fs + zarr-python ------------------------------------------------------------------------------

def test_s3fs_and_zarr_read_the_arrays(x2s3_diff, diff_tree):
    s3fs = pytest.importorskip("s3fs")
    zarr = pytest.importorskip("zarr")
    np = pytest.importorskip("numpy")
    opts = {"anon": True, "client_kwargs": {"endpoint_url": x2s3_diff.base_url.rstrip("/"), "region_name": "us-east-1"}}
    fs = s3fs.S3FileSystem(**opts)
    assert fs.cat(f"{BUCKET}/q?mark.txt") == diff_tree.files["q?mark.txt"]
    assert fs.cat_file(f"{BUCKET}/blob/blob.bin", start=100, end=200) == diff_tree.files["blob/blob.bin"][100:200]
    assert sorted(fs.ls(f"{BUCKET}/zarr", detail=False)) == [f"{BUCKET}/zarr/v2.zarr", f"{BUCKET}/zarr/v3.zarr"]
    for fmt in (2, 3):
        arr = zarr.open_array(f"s3://{BUCKET}/zarr/v{fmt}.zarr", mode="r", storage_options=opts)
        assert arr.metadata.zarr_format == fmt
        assert np.array_equal(arr[:], zarr_values())
        assert np.array_equal(arr[3:21, 5:29], zarr_values()[3:21, 5:29])
