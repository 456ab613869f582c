"""Bad input catalogue (docs/contract.md#errors, #reliability-and-security): every row is one hostile or malformed
request and the answer it must get: a status, an S3 error Code (XML, with an
x-amz-request-id equal to its RequestId), or — for headers S3 ignores when malformed — the
whole object with 200. Never a 500, a crash or a hang (each request has a hang guard, and
the session teardown checks that no worker died and no fd leaked).

Rows marked `listing` need the listing engine (skipped while the stand-in answers 501).
Some rows are refused by nginx before any worker sees them (bad escapes, `..` above the
root, overlong lines, lowercase methods); nginx's error_page answers those in S3 XML too.
"""

from __future__ import annotations

import pytest
import requests

from conftest import assert_request_id, assert_s3_error
from faults import raw_http, request_bytes

HELLO = b"Hello, x2s3!\n"
BIG_QUERY = "x" * 9000


def send(server, method, target, headers=None):
    return raw_http(server.port, request_bytes(method, target, headers, port=server.port))


# (id, method, target, headers, statuses, code, needs listing)
ERRORS = [
    ("uri-over-8k", "GET", "/data/" + "a" * 9000, {}, (400,), "InvalidURI", False),
    ("uri-over-16k", "GET", "/data/" + "a" * 20000, {}, (400, 414), None, False),
    ("query-over-8k", "GET", "/data?prefix=" + BIG_QUERY, {}, (400,), "InvalidURI", False),
    ("header-over-16k", "GET", "/data/hello.txt", {"X-Big": "b" * 20000}, (400, 431, 494), None, False),
    ("bad-escape-path", "GET", "/data/%zz.txt", {}, (400,), None, False),
    ("truncated-escape-path", "GET", "/data/hello.txt%4", {}, (400,), None, False),
    ("bad-escape-query-name", "GET", "/data?list-type=2&%zz=1", {}, (400,), "InvalidArgument", False),
    ("bad-escape-query-value", "GET", "/data?list-type=2&prefix=%g1", {}, (400,), "InvalidArgument", False),
    ("invalid-utf8-escaped", "GET", "/data/%ff%fe.txt", {}, (400,), "InvalidURI", False),
    ("overlong-utf8-dot", "GET", "/data/%c0%ae", {}, (400,), "InvalidURI", False),
    ("utf8-surrogate", "GET", "/data/%ed%a0%80.txt", {}, (400,), "InvalidURI", False),
    ("invalid-utf8-raw", "GET", b"/data/\xff\xfe.txt", {}, (400,), "InvalidURI", False),
    ("invalid-utf8-raw-overlong", "GET", b"/data/\xc0\xae\xc0\xae/hello.txt", {}, (400,), "InvalidURI", False),
    ("invalid-utf8-query", "GET", "/data?list-type=2&prefix=%ff", {}, (400,), "InvalidArgument", False),
    ("nul-in-path", "GET", "/data/hello.txt%00", {}, (400,), None, False),
    ("max-keys-negative", "GET", "/data?list-type=2&max-keys=-1", {}, (400,), "InvalidArgument", False),
    ("max-keys-words", "GET", "/data?list-type=2&max-keys=ten", {}, (400,), "InvalidArgument", False),
    ("max-keys-empty", "GET", "/data?list-type=2&max-keys=", {}, (400,), "InvalidArgument", False),
    ("max-keys-float", "GET", "/data?list-type=2&max-keys=1.5", {}, (400,), "InvalidArgument", False),
    ("max-keys-huge", "GET", "/data?list-type=2&max-keys=99999999999999999999999", {}, (400,), "InvalidArgument", False),
    ("max-keys-v1-negative", "GET", "/data?max-keys=-5", {}, (400,), "InvalidArgument", False),
    ("list-type-1", "GET", "/data?list-type=1", {}, (400,), "InvalidArgument", False),
    ("list-type-3", "GET", "/data?list-type=3", {}, (400,), "InvalidArgument", False),
    ("list-type-empty", "GET", "/data?list-type=", {}, (400,), "InvalidArgument", False),
    ("list-type-words", "GET", "/data?list-type=two", {}, (400,), "InvalidArgument", False),
    ("encoding-type-bogus", "GET", "/data?list-type=2&encoding-type=xml", {}, (400,), "InvalidArgument", True),
    ("encoding-type-empty", "GET", "/data?list-type=2&encoding-type=", {}, (400,), "InvalidArgument", True),
    ("token-garbage", "GET", "/data?list-type=2&continuation-token=garbage", {}, (400,), "InvalidArgument", True),
    ("token-base64-of-key", "GET", "/data?list-type=2&continuation-token=aGVsbG8udHh0", {}, (400,), "InvalidArgument", True),
    ("token-traversal", "GET", "/data?list-type=2&continuation-token=..%2F..%2Fetc", {}, (400,), "InvalidArgument", True),
    ("token-long", "GET", "/data?list-type=2&continuation-token=" + "A" * 6000, {}, (400,), "InvalidArgument", True),
    ("method-propfind", "PROPFIND", "/data/hello.txt", {}, (405,), "MethodNotAllowed", False),
    ("method-mkcol", "MKCOL", "/data/new/", {}, (405,), "MethodNotAllowed", False),
    ("method-lock", "LOCK", "/data/hello.txt", {}, (405,), "MethodNotAllowed", False),
    ("method-lowercase-get", "get", "/data/hello.txt", {}, (400, 405), None, False),
    ("method-trace", "TRACE", "/data/hello.txt", {}, (405,), "MethodNotAllowed", False),
    ("options-without-origin", "OPTIONS", "/data/hello.txt", {}, (400,), "BadRequest", False),
    ("sub-versioning", "GET", "/data?versioning", {}, (501,), "NotImplemented", False),
    ("sub-uploads", "GET", "/data?uploads", {}, (501,), "NotImplemented", False),
    ("sub-tagging-object", "GET", "/data/hello.txt?tagging", {}, (501,), "NotImplemented", False),
    ("sub-policy", "GET", "/data?policy", {}, (501,), "NotImplemented", False),
    ("sub-cors", "GET", "/data?cors", {}, (501,), "NotImplemented", False),
    ("sub-version-id", "GET", "/data/hello.txt?versionId=3", {}, (501,), "NotImplemented", False),
    ("sub-part-number", "GET", "/data/hello.txt?partNumber=1", {}, (501,), "NotImplemented", False),
    ("unknown-bucket-odd-name", "GET", "/%3Cscript%3E/x", {}, (404,), "NoSuchBucket", False),
]


@pytest.mark.parametrize("name,method,target,headers,statuses,code,listing", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_request_gets_the_right_s3_error(server, name, method, target, headers, statuses, code, listing):
    if listing and requests.get(server.url("data", query="list-type=2"), timeout=10).status_code == 501:
        pytest.skip("the listing engine is not merged yet")
    status, hdrs, body = send(server, method, target, headers)
    assert status < 500 or status == 501, f"{name}: {status} {body[:300]!r}"
    assert HELLO not in body or status == 200
    if method == "HEAD":
        assert body == b""
        assert_request_id(hdrs)
    else:
        assert_s3_error(status, hdrs, body, statuses, code)


MALFORMED_RANGES = [
    "bytes=abc", "bytes=5-2", "bytes=0-1,4-5", "bytes=0-1,", "pages=1-2", "bytes=", "bytes=-", "bytes=--1",
    "bytes=1-2-3", "bytes=0x1-0x2", "bytes=+1-2", "bytes=1--2", "bytes=99999999999999999999-",
    "bytes=-99999999999999999999", "bytes 0-1", "=0-1", "bytes=1.0-2", "bytes=١-٢", "bytes=0-1\t,2-3",
]


@pytest.mark.parametrize("header", MALFORMED_RANGES)
def test_malformed_range_is_ignored_and_the_whole_object_sent(server, header):
    status, hdrs, body = send(server, "GET", "/data/hello.txt", {"Range": header})
    assert status == 200, f"Range {header!r}: {status} {body[:200]!r}"
    assert body == HELLO and "content-range" not in hdrs
    assert_request_id(hdrs)


BAD_DATES = ["yesterday", "", "0", "-1", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT x",
             "Sun, 06 Nov 99999 08:49:37 GMT", "Sun, 06 Nov 1500 08:49:37 GMT", "2026-11-25T10:00:00Z",
             "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Zzz 1994 08:49:37 GMT", "\u00e9t\u00e9"]


@pytest.mark.parametrize("name", ["If-Modified-Since", "If-Unmodified-Since"])
@pytest.mark.parametrize("value", BAD_DATES)
def test_malformed_date_is_ignored(server, name, value):
    status, hdrs, body = send(server, "GET", "/data/hello.txt", {name: value.encode()})
    assert status == 200 and body == HELLO, f"{name}: {value!r} → {status}"


# An empty If-Range never reaches the worker (nginx sends HTTP_IF_RANGE if_not_empty), so
# it counts as absent and the range is honoured; it is left out here.
@pytest.mark.parametrize("value", [d for d in BAD_DATES if d] + ['"not-the-etag"', "W/\"weak\""])
def test_unmatched_or_malformed_if_range_sends_the_whole_object(server, value):
    status, hdrs, body = send(server, "GET", "/data/hello.txt", {"Range": "bytes=0-1", "If-Range": value.encode()})
    assert status == 200 and body == HELLO, f"If-Range {value!r} → {status}"


@pytest.mark.parametrize("value", ["", "garbage", "\"unterminated", ",,,", "W/", "*, *"])
def test_malformed_entity_tags_never_break_a_request(server, value):
    for name in ("If-Match", "If-None-Match"):
        status, hdrs, body = send(server, "GET", "/data/hello.txt", {name: value})
        assert status in (200, 304, 412), f"{name}: {value!r} → {status}"
        if status == 412:
            assert_s3_error(status, hdrs, body, 412, "PreconditionFailed")


def test_max_keys_above_1000_is_capped_not_refused(server):
    r = requests.get(server.url("data", query="list-type=2&max-keys=5000"), timeout=10)
    if r.status_code == 501:
        pytest.skip("the listing engine is not merged yet")
    assert r.status_code == 200 and b"<MaxKeys>1000</MaxKeys>" in r.content
