"""Every relative link in the README and the docs resolves: to a file or folder of the repository,
and, with a #fragment into a Markdown file, to one of its headings (GitHub's anchors)."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in CODE.sub("", path.read_text()).splitlines():
        if match := re.match(r"#{1,6}\s+(.*)", line):
            slug = anchor(match.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path: Path):
    for match in LINK.finditer(CODE.sub("", path.read_text())):
        target = match.group(1)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not ours to check
            yield target


def test_every_relative_link_resolves():
    broken = []
    for document in DOCUMENTS:
        for target in links(document):
            path_part, _, fragment = target.partition("#")
            resolved = (document.parent / path_part).resolve() if path_part else document
            if not resolved.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such file)")
            elif not resolved.is_relative_to(ROOT):
                broken.append(f"{document.relative_to(ROOT)}: {target} (outside the repository)")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                broken.append(f"{document.relative_to(ROOT)}: {target} (no heading #{fragment})")
    assert not broken, "\n".join(broken)


def test_the_checker_sees_links_and_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Points and 积分\n## The ledger\n`[not a link](nowhere.md)`\n[a](other.md#x) ![img](i.png)\n")
    assert anchors(page) == {"points-and-积分", "the-ledger"}
    assert list(links(page)) == ["other.md#x"]
