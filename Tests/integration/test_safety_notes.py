"""Every unsafe site in Sources/ says why it is sound: a `// SAFETY:` comment in its scope.

A site is code (not a comment) using `Unsafe*`, `withUnsafe*`, `unsafeBitCast`,
`nonisolated(unsafe)`, `@unchecked Sendable`, `Unmanaged`, memory rebinding, an
uninitialized-capacity initialiser, or libfcgi's private `ipcFd`/`requestId`. Pointer types in
a function's signature are not sites (the body's use of them is). A site is covered by a
`SAFETY:` line between it and the nearest enclosing function, initialiser, type or type-level
property declaration, the comments just above that declaration included: one note may cover
a function's few related uses."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNSAFE = re.compile(r"\bUnsafe\w*|\bwithUnsafe\w*|unsafeBitCast|nonisolated\(unsafe\)|@unchecked Sendable|\bUnmanaged\b|\bipcFd\b|\brequestId\b|unsafeUninitializedCapacity|assumingMemoryBound|bindMemory|withMemoryRebound")
MODS = r"^\s*(@\w+(\([^)]*\))?\s+)*((public|private|fileprivate|internal|package|static|final|mutating|nonmutating|consuming|borrowing|override|nonisolated|lazy|indirect|required|convenience)\s+)*"
FUNC = re.compile(MODS + r"(func|init[?!]?|deinit|subscript)\b")
TYPE = re.compile(MODS + r"(struct|class|enum|extension|protocol|actor)\b")
PROP = re.compile(r"^ {0,4}" + MODS[2:] + r"(var|let)\b")

def check(root) -> tuple[list[str], int]:
    bad, total = [], 0
    for path in sorted(Path(root).rglob("*.swift")):
        lines = path.read_text().splitlines()
        in_signature = False
        for i, line in enumerate(lines):
            stripped = line.lstrip()
            if FUNC.match(line):
                in_signature = True
            code = "" if stripped.startswith("//") else line.split("//", 1)[0]
            if in_signature:
                if "{" in code or code.rstrip().endswith(")") and "->" not in code and "(" not in code:
                    in_signature = False
                    code = code.split("{", 1)[1] if "{" in code else ""
                else:
                    continue
            if not UNSAFE.search(code):
                continue
            total += 1
            j = i
            while j >= 0 and not (FUNC.match(lines[j]) or TYPE.match(lines[j]) or PROP.match(lines[j])):
                j -= 1
            k = j - 1
            while k >= 0 and lines[k].lstrip().startswith(("//", "@")):
                k -= 1
            if not any("SAFETY:" in l for l in lines[k + 1:i + 1]):
                bad.append(f"{path}:{i + 1}: {line.strip()}")
    return bad, total


def test_every_unsafe_site_has_a_safety_note():
    bad, total = check(REPO / "Sources")
    assert total > 50, "the scan found almost nothing: is the pattern broken?"
    assert not bad, "unsafe code without a `// SAFETY:` note in its scope:\n" + "\n".join(bad)


def test_the_scan_catches_an_unexplained_site(tmp_path):
    (tmp_path / "A.swift").write_text(
        "struct A {\n"
        "    func f(_ p: UnsafeRawBufferPointer) -> Int {\n"
        "        [1].withUnsafeBufferPointer { $0.count }\n"
        "    }\n"
        "    // SAFETY: the closure only reads within the count.\n"
        "    func g() -> Int { [1].withUnsafeBufferPointer { $0.count } }\n"
        "}\n"
    )
    bad, total = check(tmp_path)
    assert total == 2
    assert [b.split(":")[1] for b in bad] == ["3"]
