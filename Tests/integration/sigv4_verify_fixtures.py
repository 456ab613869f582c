#!/usr/bin/env python3
"""Oracle fixtures for SigV4VerifierTests: requests signed by botocore, as they reach x2s3.

Signs a fixed set of S3 GET/HEAD requests (header form with S3SigV4Auth, presigned with
S3SigV4QueryAuth) at a fixed time, plus seeded random keys and secrets with hostile
characters, and writes each as the worker sees it (raw path, raw query, lower-case headers)
to Tests/X2S3CoreTests/SigV4VerifierFixtures.swift. The unit tests do not run Python; re-run
this after changing a case and commit the output:

    python3 Tests/integration/sigv4_verify_fixtures.py
"""
import datetime
import os
import random
import re
from unittest import mock
from urllib.parse import quote, urlsplit

import botocore
import botocore.config
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

WHEN = datetime.datetime(2024, 5, 17, 9, 30, 15)
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
AK = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
OUT = os.path.join(os.path.dirname(__file__), "..", "X2S3CoreTests", "SigV4VerifierFixtures.swift")
HOSTILE = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\té߷ሴ😀abcXYZ019"


def url_for(host, key, query, scheme="http"):
    url = scheme + "://" + host + quote(key, safe="/~")
    if query:
        url += "?" + "&".join(quote(k, safe="~") + ("=" + quote(v, safe="~") if v is not None else "") for k, v in query)
    return url


def wire(req, host):
    parts = urlsplit(req.url)
    headers = {k.lower(): v for k, v in req.headers.items()}
    headers["host"] = host
    return parts.path, parts.query, headers


def header_signed(method, host, key, query=(), region="us-east-1", extra=None, unsigned=False, secret=SECRET):
    req = AWSRequest(method=method, url=url_for(host, key, list(query)), headers=dict(extra or {}))
    if unsigned:
        req.context["client_config"] = botocore.config.Config(s3={"payload_signing_enabled": False})
    auth = S3SigV4Auth(Credentials(AK, secret), "s3", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        auth.add_auth(req)
        authorization = req.headers["Authorization"]
        del req.headers["Authorization"]
        canonical = auth.canonical_request(req)
        req.headers["Authorization"] = authorization
    return wire(req, host), canonical


def presigned(method, host, key, query=(), region="us-east-1", expires=600, secret=SECRET):
    req = AWSRequest(method=method, url=url_for(host, key, list(query)), headers={})
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        S3SigV4QueryAuth(Credentials(AK, secret), "s3", region, expires=expires).add_auth(req)
    return wire(req, host), None


def swift(s):
    out = []
    for ch in s:
        if ch in "\\\"":
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    return '"' + "".join(out) + '"'


def main():
    rng = random.Random(20240517)
    cases = []

    def add(name, method, signed, secret=SECRET, path_override=None):
        (path, query, headers), canonical = signed
        cases.append((name, method, path_override or path, query, headers, secret, canonical))

    add("plain key, unsigned payload", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/data/file.txt", unsigned=True))
    add("empty payload hash", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/data/file.txt"))
    add("HEAD", "HEAD", header_signed("HEAD", "127.0.0.1:8080", "/lab/data/file.txt"))
    add("odd key", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/q#?&<b> +=@'(1)%.txt"))
    add("unicode key", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/ሴ/日本語 ключ"))
    add("dots and double slashes", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/a//b/./c/../d"))
    add("list v2", "GET", header_signed("GET", "127.0.0.1:8080", "/lab", [
        ("list-type", "2"), ("prefix", "root/a b+c/"), ("delimiter", "/"), ("max-keys", "1000"),
        ("encoding-type", "url"), ("start-after", "root/ሴ")]))
    add("subresource without value", "GET", header_signed("GET", "127.0.0.1:8080", "/lab", [("acl", "")]))
    add("range and conditionals signed", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/data/file.txt", extra={
        "Range": "bytes=0-99", "If-None-Match": '"abc-1"', "If-Modified-Since": "Fri, 17 May 2024 09:00:00 GMT"}))
    add("virtual host", "GET", header_signed("GET", "lab.data.example.org:8080", "/x y/z.zarr/0.0"))
    add("other region", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/k", region="eu-central-1"))
    add("response overrides", "GET", header_signed("GET", "127.0.0.1:8080", "/lab/k.bin", [
        ("response-content-disposition", 'attachment; filename="a b.bin"'), ("response-content-type", "text/plain")]))
    (p, q, h), c = header_signed("GET", "127.0.0.1:8080", "/lab/a+b ሴ(1).txt")
    add("lower-case hex on the wire", "GET", ((p, q, h), c),
        path_override=re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), p))
    add("presigned GET", "GET", presigned("GET", "127.0.0.1:8080", "/lab/data/file.txt"))
    add("presigned HEAD", "HEAD", presigned("HEAD", "127.0.0.1:8080", "/lab/data/file.txt"))
    add("presigned odd key", "GET", presigned("GET", "127.0.0.1:8080", "/lab/q#?&<b> +=@'(1)%.txt", expires=604800))
    add("presigned with overrides", "GET", presigned("GET", "127.0.0.1:8080", "/lab/k.bin", [
        ("response-content-disposition", "attachment"), ("x-id", "GetObject")]))
    add("presigned virtual host", "GET", presigned("GET", "lab.data.example.org", "/ሴ/x", region="eu-west-1"))
    for i in range(24):
        key = "/lab/" + "".join(rng.choice(HOSTILE) for _ in range(rng.randint(1, 24)))
        secret = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") for _ in range(40))
        query = [("prefix", "".join(rng.choice(HOSTILE) for _ in range(rng.randint(0, 12))))] if i % 3 == 0 else []
        sign = presigned if i % 2 else header_signed
        add(f"random {i}", "GET", sign("GET", "127.0.0.1:8080", key, query, secret=secret), secret=secret)

    lines = [
        "// Generated by Tests/integration/sigv4_verify_fixtures.py with botocore %s: do not edit." % botocore.__version__,
        "",
        "/// Requests signed by botocore (S3SigV4Auth, S3SigV4QueryAuth) at 2024-05-17T09:30:15Z, as a worker",
        "/// receives them: raw path, raw query, lower-case headers. `canonical` is botocore's canonical",
        "/// request for the header form.",
        "enum SigV4VerifierFixtures {",
        "    struct Case: Sendable {",
        "        let name: String",
        "        let method: String",
        "        let rawPath: String",
        "        let rawQuery: String",
        "        let headers: [String: String]",
        "        let secret: String",
        "        let canonical: String?",
        "    }",
        "",
        "    static let accessKey = %s" % swift(AK),
        "    static let cases: [Case] = [",
    ]
    for name, method, path, query, headers, secret, canonical in cases:
        hs = ", ".join("%s: %s" % (swift(k), swift(v)) for k, v in sorted(headers.items()))
        lines.append("        Case(name: %s, method: %s, rawPath: %s, rawQuery: %s," % (swift(name), swift(method), swift(path), swift(query)))
        lines.append("             headers: [%s]," % hs)
        lines.append("             secret: %s, canonical: %s)," % (swift(secret), swift(canonical) if canonical else "nil"))
    lines += ["    ]", "}", ""]
    with open(OUT, "w") as f:
        f.write("\n".join(lines))
    print(f"{len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
