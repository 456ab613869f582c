"""The repository stands alone: no tracked file sends its reader to a document the repository
does not hold (the developers' design notes kept outside it), and every `docs/…md#anchor`
named in the tree, and every relative link in README.md and docs/, leads to a file and a
heading that exist. The design and the contract live in docs/ (contract.md, original.md,
platform.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SELF = Path(__file__).resolve().relative_to(REPO).as_posix()

# Paths and names of the notes outside the repository, and the ways the tree used to cite them
# ("decisions.md §2", "decisions §6", "original-behaviour §9.3", "platform-notes: ...").
OUTSIDE = re.compile(
    r"\.\./shared/|\bshared/(?:design|reference|hooks|seed)\b"
    r"|\b(?:decisions|original-behaviour|platform-notes|landscape)\.md\b"
    r"|\bdecisions §|\boriginal-behaviour\b|\bplatform[- ]notes\b"
)
# `docs/name.md` or `docs/name.md#anchor` anywhere (code comments, scripts, docs).
DOC_REF = re.compile(r"(?<![\w/.-])docs/([\w.-]+\.md)(?:#([\w-]+))?")
# Relative Markdown links: [text](target) where target is not a URL.
MD_LINK = re.compile(r"\]\((?!https?:|mailto:)([^)\s]+)\)")


def tracked_text_files() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout
    files: dict[str, str] = {}
    for raw in names.split(b"\0"):
        name = raw.decode()
        if not name or name.startswith(".ci/") or name == SELF:
            continue
        path = REPO / name
        if not path.is_file():  # deleted in the work tree, or a symlink to a directory
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary (images, fuzz seeds with NULs)
        files[name] = data.decode("utf-8", errors="replace")
    return files


def github_anchors(markdown: str) -> set[str]:
    """The heading anchors GitHub generates: lower-cased, punctuation other than `-` and `_`
    dropped, spaces turned into `-`, repeats numbered."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        m = None if in_fence else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def test_no_file_points_outside_the_repository():
    hits = [
        f"{name}:{number}: {line.strip()}"
        for name, text in tracked_text_files().items()
        for number, line in enumerate(text.splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, "references to documents outside the repository (point them at docs/):\n" + "\n".join(hits)


def test_docs_references_resolve():
    files = tracked_text_files()
    anchors: dict[str, set[str]] = {}

    def check(target: Path, anchor: str | None, where: str, broken: list[str]) -> None:
        if not target.exists():
            broken.append(f"{where}: {target.relative_to(REPO)} does not exist")
        elif anchor and target.suffix == ".md":
            if target not in anchors:
                anchors[target] = github_anchors(target.read_text())
            if anchor not in anchors[target]:
                broken.append(f"{where}: no heading #{anchor} in {target.relative_to(REPO)}")

    broken: list[str] = []
    checked = 0
    for name, text in files.items():
        for number, line in enumerate(text.splitlines(), 1):
            for m in DOC_REF.finditer(line):
                check(REPO / "docs" / m.group(1), m.group(2), f"{name}:{number}", broken)
                checked += 1
            if name == "README.md" or (name.startswith("docs/") and name.endswith(".md")):
                for m in MD_LINK.finditer(line):
                    target, _, anchor = m.group(1).partition("#")
                    path = (REPO / name).parent / target if target else REPO / name
                    check(path.resolve(), anchor or None, f"{name}:{number}", broken)
                    checked += 1
    assert checked > 20, f"only {checked} references found: is the pattern still right?"
    assert not broken, "broken references:\n" + "\n".join(broken)


def test_the_docs_are_there():
    for name in ("contract.md", "original.md", "platform.md"):
        text = (REPO / "docs" / name).read_text()
        assert len(text) > 2000, f"docs/{name} is nearly empty"
