"""The differential test: the same raw requests to x2s3 (serving a generated tree from disk)
and to moto_server (holding the same objects), compared response by response.

Compared: status; for objects Content-Length, Content-Range, Accept-Ranges, the presence of ETag
and Last-Modified, the body bytes; for XML the whole tree with namespaces stripped, element
order included (AWS's wire order is checked on x2s3's own bytes); listings page by page to the
end, each side following its own tokens or markers. Tolerated differences are the named entries
of s3diff.ALLOW, nothing else. A failure prints every differing case as a unified diff
(x2s3 → reference).
"""

from __future__ import annotations

import itertools

import pytest

from s3diff import BUCKET, MANYB, Case, ListCase, key_path, report, run_cases, run_lists

# --- listings ---------------------------------------------------------------------------------

PREFIXES = ["", "a", "a/", "a/b", "dir", "dir/", "dir-", "dir/x", "n1/", "n1/n2/n3", "sp ace/", "ü", "q?",
            "plus+", "pct%", "zarr/v2.zarr/", "nope/", "zzz"]
DELIMITERS = [None, "/", "-", ".txt", "a", "/n"]


def _params(prefix=None, delimiter=None, max_keys=None, **more) -> dict[str, str]:
    p = {}
    if prefix is not None:
        p["prefix"] = prefix
    if delimiter is not None:
        p["delimiter"] = delimiter
    if max_keys is not None:
        p["max-keys"] = str(max_keys)
    p.update({k.replace("_", "-"): v for k, v in more.items()})
    return p


def list_cases(version: int) -> list[ListCase]:
    """The hostile tree (BUCKET), every case paged to the end."""
    v, pos = f"v{version}", ("start-after" if version == 2 else "marker")
    cases = []
    # Every prefix with every delimiter, in pages of 7 and of the default 1000.
    for prefix, delim, mk in itertools.product(PREFIXES, DELIMITERS, [7, None]):
        cases.append(ListCase(f"{v} prefix={prefix!r} delimiter={delim!r} max-keys={mk}", version,
                              _params(prefix, delim, mk)))
    for prefix, delim, mk in itertools.product(["", "dir"], [None, "/"], [0, 1, 1000, 1001]):
        cases.append(ListCase(f"{v} prefix={prefix!r} delimiter={delim!r} max-keys={mk}", version,
                              _params(prefix, delim, mk), max_pages=200))
    cases.append(ListCase(f"{v} empty delimiter", version, _params("dir", "")))
    # start-after (V2) / marker (V1): before, inside, between and past the keys, inside and equal
    # to a common prefix, before the prefix.
    for after, prefix, delim in [("a", None, None), ("a/b", None, "/"), ("a/", None, "/"), ("dir/x", "dir", None),
                                 ("dir/x", "dir", "/"), ("zzzz", None, None), ("0", "n1/", None),
                                 ("n1/n2/x.txt", "n1/", "/"), ("ü", None, "/"), ("plus+sign.txt", None, None),
                                 ("dir", None, "/"), ("dir/", None, "/"), ("a0", "a", "/")]:
        cases.append(ListCase(f"{v} {pos}={after!r} prefix={prefix!r} delimiter={delim!r}", version,
                              _params(prefix, delim, 7, **{pos: after})))
    # encoding-type=url over the hostile names, delimiters that need encoding too.
    for prefix, delim, mk, extra in [("", None, 10, {pos: "a b"}), ("", "/", 10, {}), ("sp ace/", "/", None, {}),
                                     ("ü", None, None, {}), ("", " ", None, {}), ("plus+", "+", None, {}),
                                     ("q?", "?", None, {}), ("", "%", None, {}), ("", "é", None, {pos: "ü"})]:
        cases.append(ListCase(f"{v} url prefix={prefix!r} delimiter={delim!r} {extra}", version,
                              _params(prefix, delim, mk, encoding_type="url", **extra)))
    if version == 2:
        for owner in ("true", "false"):
            cases.append(ListCase(f"v2 fetch-owner={owner}", 2, _params("dir/", None, 3, fetch_owner=owner)))
    return cases


def many_cases(version: int) -> list[ListCase]:
    """The 2,500-file directory (MANYB): full pages to the end, small pages, resumption near the end."""
    v, pos = f"v{version}", ("start-after" if version == 2 else "marker")
    cases = [ListCase(f"{v} many prefix={p!r} delimiter={d!r}", version, _params(p, d), bucket=MANYB)
             for p, d in itertools.product(["", "many/", "many/f1", "man"], [None, "/"])]
    cases += [ListCase(f"{v} many max-keys={mk}", version, _params("many/", None, mk), max_pages=pages, bucket=MANYB)
              for mk, pages in [(0, 2), (1, 15), (7, 15), (1001, 5)]]
    cases += [ListCase(f"{v} many {pos}={after!r} delimiter={d!r}", version, _params(None, d, 7, **{pos: after}),
                       bucket=MANYB)
              for after, d in [("many/f2499", None), ("many/f999", None), ("many/f999", "/"), ("many/f", "/"),
                               ("many/sub/", None), ("man", "/")]]
    cases.append(ListCase(f"{v} many url", version, _params("many/f24", None, 5, encoding_type="url"), bucket=MANYB))
    return cases


@pytest.mark.parametrize("version", [2, 1])
def test_listings_match_the_reference(x2s3_diff, moto_diff, version):
    cases = list_cases(version) + many_cases(version)
    diffs = run_lists(x2s3_diff.base_url, moto_diff + "/", cases)
    assert not diffs, report(diffs, len(cases))


# --- objects ----------------------------------------------------------------------------------

RANGES = ["bytes=0-9", "bytes=-5", "bytes=5-", "bytes=99999-100000", "bytes=995-2000", "bytes=-2000",
          "bytes=0-0", "bytes=999-", "bytes=1000-", "bytes=abc", "bytes=5-2", "bytes=0-1,5-6"]
EMPTY_RANGES = ["bytes=0-0", "bytes=0-", "bytes=5-9"]
RAW_TARGETS = ["with%20space.txt", "plus+sign.txt", "plus%2Bsign.txt", "pct%2541.txt", "pct%41.txt", "pct%2520.txt",
               "hash%23tag.txt", "q%3Fmark.txt", "amp&and.txt", "amp%26and.txt", "eq=sign.txt", "at@sign.txt",
               "quote'1.txt", "lt%3Cgt%3E.txt", "tilde~star*.txt", "unicod%C3%A9-%D0%BA%D0%BB%D1%8E%D1%87-%E6%97%A5%E6%9C%AC.txt",
               "%C3%BC/%C3%B1.txt", "sp%20ace/in%20dir.txt", "dir//x", "dir/x/", "DIR/x", "dir/./x", "n1/n2/../top.txt"]


def object_cases(keys: list[str]) -> list[Case]:
    cases = []
    for key in keys + ["nope", "dir", "dir/", "n1/n2", "zarr/v2.zarr", "emptydir", "emptydir/", "link-out",
                       "link-broken", "blob/blob.bin/", ".dotfile/", "a/b/"]:
        for method in ("GET", "HEAD"):
            cases.append(Case(f"{method} {key!r}", key_path(BUCKET, key), method))
    for raw in RAW_TARGETS:
        cases.append(Case(f"GET raw {raw}", f"/{BUCKET}/{raw}"))
    for method, rng in itertools.product(("GET", "HEAD"), RANGES):
        cases.append(Case(f"{method} data.bin {rng}", key_path(BUCKET, "data.bin"), method, {"Range": rng}))
        # ALLOW["range-unit"]: a Range in another unit is ignored (RFC 9110 §14.2); moto serves it
    for method in ("GET", "HEAD"):
        cases.append(Case(f"{method} data.bin items=0-5", key_path(BUCKET, "data.bin"), method, {"Range": "items=0-5"},
                          expect=(200, None), allow="range-unit"))
    for method, rng in itertools.product(("GET", "HEAD"), EMPTY_RANGES):
        cases.append(Case(f"{method} empty.bin {rng}", key_path(BUCKET, "empty.bin"), method, {"Range": rng}))
    for method in ("GET", "HEAD"):  # ALLOW["empty-range"]
        cases.append(Case(f"{method} empty.bin bytes=-5", key_path(BUCKET, "empty.bin"), method, {"Range": "bytes=-5"},
                          expect=(416, "InvalidRange"), allow="empty-range"))
    return cases


def test_objects_match_the_reference(x2s3_diff, moto_diff, diff_tree):
    cases = object_cases(list(diff_tree.files))
    diffs = run_cases(x2s3_diff.base_url, moto_diff + "/", cases)
    assert not diffs, report(diffs, len(cases))


FUTURE, PAST = "Wed, 01 Jan 2098 00:00:00 GMT", "Sat, 01 Jan 2000 00:00:00 GMT"
# (headers, status RFC 9110 and AWS's GetObject documentation give where moto differs)
CONDITIONS = [
    ({"If-None-Match": "{etag}"}, None), ({"If-None-Match": '"nomatch"'}, None),
    ({"If-Match": "{etag}"}, None), ({"If-Match": '"nomatch"'}, None),
    ({"If-Modified-Since": FUTURE}, None), ({"If-Modified-Since": PAST}, None),
    ({"If-Unmodified-Since": PAST}, None), ({"If-Unmodified-Since": FUTURE}, None),
    ({"If-None-Match": "{etag}", "If-Modified-Since": PAST}, None),         # If-None-Match decides
    ({"If-Range": "{etag}", "Range": "bytes=0-9"}, None),
    ({"If-Match": "{etag}", "Range": "bytes=0-9"}, None), ({"If-None-Match": "{etag}", "Range": "bytes=0-9"}, None),
    # ALLOW["conditionals"]: moto evaluates these unlike RFC 9110 §13.2.2 and AWS's documentation
    ({"If-None-Match": "*"}, 304), ({"If-Match": "*"}, 200),
    ({"If-Match": "{etag}", "If-Unmodified-Since": PAST}, 200),             # AWS: If-Match true wins
    ({"If-None-Match": '"nomatch"', "If-Modified-Since": FUTURE}, 200),     # If-Modified-Since ignored
    ({"If-Range": '"nomatch"', "Range": "bytes=0-9"}, 200),                 # a failed If-Range: whole object
]


def conditional_cases() -> list[Case]:
    cases = []
    for key, method, (cond, status) in itertools.product(["hello.txt", "data.bin"], ("GET", "HEAD"), CONDITIONS):
        cases.append(Case(f"{method} {key} {cond}", key_path(BUCKET, key), method, cond,
                          expect=None if status is None else (status, None), allow="conditionals"))
    return cases


def test_conditionals_match_the_reference(x2s3_diff, moto_diff):
    cases = conditional_cases()
    diffs = run_cases(x2s3_diff.base_url, moto_diff + "/", cases)
    assert not diffs, report(diffs, len(cases))


# --- buckets, subresources, validation ----------------------------------------------------------

def bucket_cases() -> list[Case]:
    b = BUCKET
    cases = [
        Case("ListBuckets", "/", obj=False),
        Case("HeadBucket", f"/{b}", "HEAD", obj=False),
        Case("HeadBucket missing", "/nobucket", "HEAD", obj=False),
        Case("GET missing bucket V2", "/nobucket?list-type=2", obj=False),
        Case("GET missing bucket V1", "/nobucket", obj=False),
        Case("GET missing bucket key", "/nobucket/key", obj=False),
        Case("GetBucketAcl", f"/{b}?acl", obj=False),
        Case("GetBucketLocation", f"/{b}?location", obj=False),
        Case("GET bucket with trailing slash", f"/{b}/?list-type=2&prefix=dir/&delimiter=/", obj=False),
    ]
    # Validation AWS documents and moto skips (ALLOW["validation"]).
    for query in ["list-type=2&continuation-token=bm90LWEtdG9rZW4", "list-type=2&continuation-token=",
                  "list-type=2&max-keys=-1", "list-type=2&max-keys=abc", "max-keys=1.5",
                  "list-type=2&encoding-type=bogus", "list-type=3"]:
        cases.append(Case(f"GET ?{query}", f"/{b}?{query}", obj=False, expect=(400, "InvalidArgument"),
                          allow="validation"))
    return cases


def test_buckets_and_subresources_match_the_reference(x2s3_diff, moto_diff):
    cases = bucket_cases()
    diffs = run_cases(x2s3_diff.base_url, moto_diff + "/", cases)
    assert not diffs, report(diffs, len(cases))


# --- ListBuckets paging and prefix (issue 13) ---------------------------------------------------

def _bucket_names(body: bytes) -> list[str]:
    from s3diff import parse_xml
    return [el.text for el in parse_xml(body).iter("Name")]


def test_list_buckets_paging_matches_the_reference(x2s3_diff, moto_diff):
    """Each prefix and page size: x2s3 paged to the end through its own tokens lists what moto
    lists unpaged for that prefix; its first page is moto's cut page (ALLOW["list-buckets"])."""
    from s3diff import ALLOW, fetch, parse_xml, q
    assert "list-buckets" in ALLOW
    problems = []
    for prefix, mb in itertools.product([None, "", "diff", "diffm", "diffbucket", "DIFF", "zzz"], [None, 1, 2, 3, 10000]):
        base = {} if prefix is None else {"prefix": prefix}
        moto_all = _bucket_names(fetch(moto_diff + "/", "GET", "/?" + "&".join(f"{k}={q(v)}" for k, v in base.items())).body)
        params = dict(base, **({} if mb is None else {"max-buckets": str(mb)}))
        moto_first = _bucket_names(fetch(moto_diff + "/", "GET", "/?" + "&".join(f"{k}={q(v)}" for k, v in params.items())).body)
        got, token, pages = [], None, 0
        while pages < 10:
            p = dict(params, **({"continuation-token": token} if token else {}))
            r = fetch(x2s3_diff.base_url, "GET", "/?" + "&".join(f"{k}={q(v)}" for k, v in p.items()))
            if r.status != 200:
                problems.append(f"prefix={prefix!r} max-buckets={mb}: status {r.status}")
                break
            root = parse_xml(r.body)
            names = [el.text for el in root.iter("Name")]
            if pages == 0 and names != moto_first:
                problems.append(f"prefix={prefix!r} max-buckets={mb}: first page {names}, moto {moto_first}")
            if mb is not None and len(names) > mb:
                problems.append(f"prefix={prefix!r} max-buckets={mb}: {len(names)} buckets on a page")
            if root.findtext("Prefix") != prefix:  # echoed exactly when sent
                problems.append(f"prefix={prefix!r}: Prefix element {root.findtext('Prefix')!r}")
            got += names
            pages += 1
            token = root.findtext("ContinuationToken")
            if not token:
                break
        if got != moto_all:
            problems.append(f"prefix={prefix!r} max-buckets={mb}: paged {got}, moto {moto_all}")
    assert not problems, "\n".join(problems)


def list_buckets_validation_cases() -> list[Case]:
    # Validation AWS documents and moto skips (ALLOW["list-buckets"]).
    return [Case(f"ListBuckets ?{query}", f"/?{query}", obj=False, expect=(400, "InvalidArgument"), allow="list-buckets")
            for query in ["max-buckets=0", "max-buckets=10001", "max-buckets=-1", "max-buckets=abc",
                          "continuation-token=bm90LWEtdG9rZW4", "continuation-token="]]


# --- response-* overrides (issue 13) ------------------------------------------------------------

OVERRIDES = [
    ("response-content-type", "content-type", "text/csv"),
    ("response-content-disposition", "content-disposition", 'attachment; filename="x.csv"'),
    ("response-content-language", "content-language", "de"),
    ("response-content-encoding", "content-encoding", "identity"),
    ("response-cache-control", "cache-control", "no-store"),
    ("response-expires", "expires", "Thu, 01 Dec 2094 16:00:00 GMT"),
]


def override_cases() -> list[Case]:
    from s3diff import q
    cases = []
    every = "&".join(f"{p}={q(v)}" for p, _, v in OVERRIDES)
    for key, method in itertools.product(["hello.txt", "data.bin", "blob/blob.bin", "empty.bin"], ("GET", "HEAD")):
        for param, header, value in OVERRIDES:
            cases.append(Case(f"{method} {key} {param}", f"{key_path(BUCKET, key)}?{param}={q(value)}", method,
                              allow="overrides", want_headers={header: value}))
        cases.append(Case(f"{method} {key} all overrides", f"{key_path(BUCKET, key)}?{every}", method,
                          allow="overrides", want_headers={h: v for _, h, v in OVERRIDES}))
        if key != "empty.bin":  # a range of an empty object is 416, which no override touches
            cases.append(Case(f"{method} {key} all overrides + range", f"{key_path(BUCKET, key)}?{every}", method,
                              {"Range": "bytes=0-4"}, allow="overrides", want_headers={h: v for _, h, v in OVERRIDES}))
    return cases


def test_overrides_match_the_reference(x2s3_diff, moto_diff):
    cases = override_cases() + list_buckets_validation_cases()
    diffs = run_cases(x2s3_diff.base_url, moto_diff + "/", cases)
    assert not diffs, report(diffs, len(cases))
