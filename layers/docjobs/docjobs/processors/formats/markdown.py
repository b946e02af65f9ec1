"""Markdown (ATX and setext headings, lists, fenced and indented code, pipe tables) and plain
text (paragraphs separated by blank lines)."""

from __future__ import annotations

import re

from docjobs.processors.model import Block, Page, ParsedDocument

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_INLINE = [(re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"), (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
           (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"), (re.compile(r"(?<!\w)([*_])(.+?)\1(?!\w)"), r"\2"),
           (re.compile(r"`([^`]+)`"), r"\1")]  # fmt: skip


def _plain(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text.strip()


def parse_markdown(text: str) -> ParsedDocument:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(type="paragraph", text=_plain(" ".join(s.strip() for s in paragraph)), page=1))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            flush()
            fence = _FENCE.match(line).group(1)  # type: ignore[union-attr]
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].lstrip().startswith(fence):
                code.append(lines[i])
                i += 1
            blocks.append(Block(type="code", text="\n".join(code), page=1))
        elif match := _ATX.match(line):
            flush()
            blocks.append(Block(type="heading", text=_plain(match.group(2)), page=1, level=len(match.group(1))))
        elif paragraph and _SETEXT.match(line) and len(paragraph) == 1:
            level = 1 if line.strip().startswith("=") else 2
            blocks.append(Block(type="heading", text=_plain(paragraph.pop()), page=1, level=level))
        elif "|" in line and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            flush()
            rows = [_cells(line)]
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            blocks.append(Block(type="table", text="\n".join(" | ".join(r) for r in rows), page=1, rows=rows))
            continue
        elif match := _LIST.match(line):
            flush()
            blocks.append(Block(type="list_item", text=_plain(match.group(1)), page=1))
        elif not line.strip():
            flush()
        elif line.startswith("    ") and not paragraph:
            code = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                code.append(lines[i][4:])
                i += 1
            blocks.append(Block(type="code", text="\n".join(code).strip("\n"), page=1))
            continue
        elif blocks and blocks[-1].type == "list_item" and line.startswith((" ", "\t")) and not paragraph:
            blocks[-1].text += " " + _plain(line)
        else:
            paragraph.append(line.lstrip("> ") if line.startswith(">") else line)
        i += 1
    flush()
    return ParsedDocument(format="markdown", pages=[Page(number=1)], blocks=blocks, metadata=_title(blocks),
                          warnings=[] if blocks else ["The document has no text."])  # fmt: skip


def _cells(line: str) -> list[str]:
    return [_plain(c) for c in line.strip().strip("|").split("|")]


def _title(blocks: list[Block]) -> dict[str, object]:
    first = next((b for b in blocks if b.type == "heading" and b.level == 1), None)
    return {"page_count": 1, **({"title": first.text} if first else {})}


# Plain-text headings: a line underlined with === or ---; a short numbered line ("3.3. Distribution
# of a Larger Work", "13. Use with the GNU Affero General Public License."); or a numbered title
# that opens its paragraph ("3. Grant of Patent License. Subject to ..."), as licences and
# contracts write them. Level: below the document's title, one more per number ("3" is 2, "3.3" is 3).
_UNDERLINE = re.compile(r"^(.{3,120})\n\s*(=+|-+)\s*$")
_NUMBERED_LINE = re.compile(r"^\s*((?:\d+\.)*\d+)\.?\s+([A-Z\"'][^\n]{1,100}?)\.?\s*$")
_NUMBERED_TITLE = re.compile(r"^\s*((?:\d+\.)*\d+)\.\s+([A-Z][\w ,'’()/&-]{2,70}?)\.\s+(?=[A-Z(])")
_SHORT_TITLE = re.compile(r"^[A-Z][\w ,'’()/&:-]{2,80}$")


def _plain_blocks(paragraph: str, page: int, first: bool) -> list[Block]:
    lines = [line.strip() for line in paragraph.strip().split("\n")]
    text = " ".join(lines)
    if underlined := _UNDERLINE.match(paragraph.strip()):
        return [Block(type="heading", text=underlined.group(1).strip(), page=page, level=1 if underlined.group(2)[0] == "=" else 2)]
    if len(lines) == 1 and (numbered := _NUMBERED_LINE.match(text)) and len(text.split()) <= 14:
        return [Block(type="heading", text=text.rstrip("."), page=page, level=numbered.group(1).count(".") + 2)]
    if len(lines) == 1 and len(text.split()) <= 8 and _SHORT_TITLE.match(text) and not text.endswith((".", ",", ";", ":")):
        return [Block(type="heading", text=text, page=page, level=1 if first else 2)]
    if titled := _NUMBERED_TITLE.match(text):
        heading = f"{titled.group(1)}. {titled.group(2)}"
        return [Block(type="heading", text=heading, page=page, level=titled.group(1).count(".") + 2),
                Block(type="paragraph", text=text[titled.end() :].strip(), page=page)]  # fmt: skip
    return [Block(type="paragraph", text=text, page=page)]


def parse_plain_text(text: str) -> ParsedDocument:
    """Paragraphs are separated by blank lines; a form feed starts a new page; section titles
    (numbered or underlined) become headings."""
    pages_text = text.replace("\r\n", "\n").replace("\r", "\n").split("\f")
    blocks: list[Block] = []
    for number, page_text in enumerate(pages_text, start=1):
        for chunk in re.split(r"\n\s*\n", page_text):
            if chunk.strip():
                blocks.extend(_plain_blocks(chunk, number, first=not blocks))
    pages = [Page(number=n) for n in range(1, len(pages_text) + 1)]
    title = blocks[0].text if blocks and blocks[0].type == "heading" else None
    return ParsedDocument(format="text", pages=pages, blocks=blocks,
                          metadata={"page_count": len(pages), **({"title": title} if title else {})},
                          warnings=[] if blocks else ["The document has no text."])  # fmt: skip
