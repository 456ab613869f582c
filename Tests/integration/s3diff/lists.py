"""ListObjects (V1 and V2) compared page by page: each side is paged to the end through its own
tokens or markers, and moto's answers are rewritten as the allow-list (compare.ALLOW) says."""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .compare import URL_ENCODED, Resp, diff_lines, fetch, parse_xml, q, view
from .tree import BUCKET



# --- listings, paged to the end on each side independently -------------------------------------

@dataclass
class ListCase:
    name: str
    version: int                      # 2: list-type=2; 1: no list-type (V1)
    params: dict[str, str]            # prefix, delimiter, max-keys, start-after/marker, encoding-type, fetch-owner
    max_pages: int = 30
    bucket: str = BUCKET


def list_target(bucket: str, version: int, params: dict[str, str]) -> str:
    items = ([("list-type", "2")] if version == 2 else []) + list(params.items())
    return f"/{bucket}?" + "&".join(f"{k}={q(v)}" for k, v in items)


def _text(root: ET.Element, tag: str) -> str | None:
    el = root.find(tag)
    return None if el is None else (el.text or "")


def _set(root: ET.Element, tag: str, text: str) -> None:
    el = root.find(tag)
    if el is None:
        el = ET.SubElement(root, tag)
    el.text = text


def _encode(s: str) -> str:
    return urllib.parse.quote(s, safe="/-_.~")


def page_through(base: str, bucket: str, version: int, params: dict[str, str], max_pages: int, url: bool
                 ) -> list[tuple[Resp, dict[str, str]]]:
    """[(response, the parameters sent)] following each page's own token or marker."""
    out = []
    sent = dict(params)
    for _ in range(max_pages):
        r = fetch(base, "GET", list_target(bucket, version, sent))
        out.append((r, sent))
        if r.status != 200:
            break
        root = parse_xml(r.body)
        if _text(root, "IsTruncated") != "true":
            break
        sent = dict(params)
        if version == 2:
            sent["continuation-token"] = _text(root, "NextContinuationToken") or ""
        else:
            marker = _text(root, "NextMarker")
            if marker is None:
                keys = root.findall("Contents/Key")
                marker = keys[-1].text if keys else ""
            sent["marker"] = urllib.parse.unquote_plus(marker) if url else marker
    return out


def v1_from_v2(params: dict[str, str]) -> dict[str, str]:
    """The V2 request that pages like a V1 request (ALLOW["v1"])."""
    p = {k: v for k, v in params.items() if k != "marker"}
    if params.get("marker"):
        p["start-after"] = params["marker"]
    p["fetch-owner"] = "true"
    return p


def moto_page_fix(version: int, sent_v1: dict[str, str] | None, sent: dict[str, str]):
    url = sent.get("encoding-type") == "url"

    def fix(root: ET.Element) -> None:
        if root.tag != "ListBucketResult":
            return
        for tag in ("Delimiter", "StartAfter"):                       # ALLOW["url"]
            if url and root.find(tag) is not None:
                _set(root, tag, _encode(_text(root, tag)))
        if version == 2:
            if "continuation-token" in sent:                          # ALLOW["echo"]
                _set(root, "ContinuationToken", sent["continuation-token"])
                if "start-after" in sent:
                    _set(root, "StartAfter", _encode(sent["start-after"]) if url else sent["start-after"])
            if sent.get("fetch-owner", "false") != "true":            # ALLOW["fetch-owner"]
                for c in root.findall("Contents"):
                    for o in c.findall("Owner"):
                        c.remove(o)
            return
        # V1 from the V2 answer (ALLOW["v1"])
        for tag in ("KeyCount", "StartAfter", "ContinuationToken", "NextContinuationToken"):
            for el in root.findall(tag):
                root.remove(el)
        marker = sent_v1.get("marker", "")
        _set(root, "Marker", _encode(marker) if url and marker else marker)
        if _text(root, "IsTruncated") == "true" and sent_v1.get("delimiter"):
            last = [el.text or "" for el in root.findall("Contents/Key") + root.findall("CommonPrefixes/Prefix")]
            dec = urllib.parse.unquote if url else (lambda s: s)
            _set(root, "NextMarker", max(last, key=lambda s: dec(s).encode()))
    return fix


def x2s3_page_fix(sent: dict[str, str]):
    def fix(root: ET.Element) -> None:
        if sent.get("encoding-type") != "url":
            return
        for el in root.iter():                                        # ALLOW["url"]
            if el.tag in URL_ENCODED and el.text:
                el.text = el.text.replace("+", "%20")
    return fix


def run_list(x2s3: str, moto: str, c: ListCase) -> list[str]:
    url = c.params.get("encoding-type") == "url"
    xs = page_through(x2s3, c.bucket, c.version, c.params, c.max_pages, url)
    ref_params = dict(c.params)
    if int(ref_params.get("max-keys", "0") or 0) > 1000:              # ALLOW["max-keys"]
        ref_params["max-keys"] = "1000"
    if c.version == 2:
        ms = page_through(moto, c.bucket, 2, ref_params, c.max_pages, url)
        ms_v1 = [None] * len(ms)
    else:
        ms, ms_v1 = [], []
        sent_v1 = dict(ref_params)
        for _ in range(c.max_pages):
            r, sent = page_through(moto, c.bucket, 2, v1_from_v2(sent_v1), 1, url)[0]
            ms.append((r, sent))
            ms_v1.append(sent_v1)
            if r.status != 200:
                break
            root = parse_xml(r.body)
            moto_page_fix(1, sent_v1, sent)(root)
            if _text(root, "IsTruncated") != "true":
                break
            marker = _text(root, "NextMarker")
            if marker is None:
                marker = root.findall("Contents/Key")[-1].text
            sent_v1 = dict(ref_params, marker=urllib.parse.unquote(marker) if url else marker)
    problems = []
    if len(xs) != len(ms):
        problems.append(f"{len(xs)} pages from x2s3, {len(ms)} from the reference")
    for i, ((xr, xsent), (mr, msent), v1) in enumerate(zip(xs, ms, ms_v1), 1):
        xv, own = view(xr, "GET", False, fix=x2s3_page_fix(xsent))
        mv, _ = view(mr, "GET", False, fix=moto_page_fix(c.version, v1, msent))
        problems += [f"page {i}: x2s3: {p}" for p in own]
        if xv != mv:
            problems += [f"page {i}:"] + diff_lines(xv, mv)
            break
    return problems


def run_lists(x2s3: str, moto: str, cases: list[ListCase]) -> dict[str, list[str]]:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: run_list(x2s3, moto, c), cases))
    return {c.name: r for c, r in zip(cases, results) if r}
