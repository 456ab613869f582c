#!/usr/bin/env python3
"""Independent signer for the SigV4 unit tests: botocore's S3SigV4Auth.

Prints, for a fixed set of S3 requests, the Authorization header botocore computes at a
fixed time with fixed credentials. Tests/X2S3CoreTests/SigV4Tests.swift pastes this output
(`botocoreVectors`); re-run this script after changing a case and compare:

    python3 Tests/integration/sigv4_crosscheck.py

The requests are built the way x2s3 builds them: the path is the decoded key, encoded once
per RFC 3986 (S3 never normalises paths), the query is sorted and fully encoded. Only host,
x-amz-content-sha256 and x-amz-date are signed (x2s3 sends no other headers it signs).
"""
import datetime
from unittest import mock
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime.datetime(2024, 5, 17, 9, 30, 15)
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# (name, host, decoded path, query pairs, region)
CASES = [
    ("plain key", "127.0.0.1:9000", "/bucket/data/file.txt", [], "us-east-1"),
    ("odd key", "127.0.0.1:9000", "/bucket/q#?&<b> +=@'(1)%.txt", [], "us-east-1"),
    ("unicode key", "s3.eu-west-1.amazonaws.com", "/bucket/ሴ/日本語 ключ", [], "eu-west-1"),
    ("double slash key", "127.0.0.1:9000", "/bucket/a//b/./c", [], "us-east-1"),
    ("virtual host", "bucket.s3.us-west-2.amazonaws.com", "/x~y_z-1.2", [], "us-west-2"),
    ("list v2", "127.0.0.1:9000", "/bucket",
     [("list-type", "2"), ("prefix", "root/a b+c/"), ("delimiter", "/"), ("max-keys", "1000"),
      ("encoding-type", "url"), ("start-after", "root/ሴ")], "us-east-1"),
    ("list token", "127.0.0.1:9000", "/bucket",
     [("list-type", "2"), ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
      ("encoding-type", "url"), ("prefix", "")], "us-east-1"),
]


def sign(host, path, query, region, creds=CREDS):
    url = "http://" + host + quote(path, safe="/~")
    if query:
        url += "?" + "&".join(quote(k, safe="~") + "=" + quote(v, safe="~") for k, v in query)
    req = AWSRequest(method="GET", url=url, headers={"x-amz-content-sha256": EMPTY})
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        S3SigV4Auth(creds, "s3", region).add_auth(req)
    return req.headers["Authorization"], req.headers["X-Amz-Date"]


if __name__ == "__main__":
    for name, host, path, query, region in CASES:
        auth, date = sign(host, path, query, region)
        print(f"// {name}: {date}")
        print(f'("{host}", "{path}", {[tuple(q) for q in query]}, "{region}", "{auth}"),')
    token = Credentials(CREDS.access_key, CREDS.secret_key, "FQoGZXIvYXdzEXAMPLE//token+with/odd=chars")
    auth, date = sign("127.0.0.1:9000", "/bucket/key", [], "us-east-1", token)
    print(f"// session token {token.token}: {date}")
    print(f'"{auth}"')
