"""The chunker as first written, every block split into sentences up front: slow, plainly right.
The fast chunker (docjobs.processors.chunking) must give exactly what this one gives. Only the
splitting of a long sentence by words is the module's own."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from docjobs.domain.text import sentences
from docjobs.processors.chunking import _split_long
from docjobs.processors.model import Block, count_tokens

STRATEGIES = ("tokens", "heading", "sentence")


@dataclass(frozen=True)
class _Unit:
    text: str
    page: int
    heading_path: tuple[str, ...]
    block_id: str
    tokens: int
    starts_section: bool = False
    joiner: str = " "  # between pieces of its block in one chunk


def chunk_blocks(
    blocks: list[Block],
    *,
    strategy: str = "tokens",
    max_tokens: int = 512,
    overlap_tokens: int = 64,
    sentences_per_chunk: int = 5,
    seed: str = "",
) -> list[dict[str, Any]]:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown chunking strategy {strategy!r}")
    if strategy == "sentence":
        groups = _by_sentences(_sentence_units(blocks), sentences_per_chunk)
    else:
        units = _units(blocks, max_tokens)
        if strategy == "heading":
            groups = [g for section in _sections(units) for g in _pack(section, max_tokens, 0)]
        else:
            groups = _pack(units, max_tokens, overlap_tokens)
    return [_chunk(group, index, seed) for index, group in enumerate(groups) if group]


def _units(blocks: list[Block], max_tokens: int) -> list[_Unit]:
    """Sentences (a heading, a table or code whole), so that chunks end at sentence boundaries and
    overlap by whole sentences; a sentence longer than a chunk is cut by words. Each piece's tokens
    are counted once (counting is most of chunking's time)."""
    units: list[_Unit] = []
    for index, block in enumerate(blocks):
        path = tuple(block.heading_path + ([block.text] if block.type == "heading" else []))
        pieces: list[tuple[str, int, str]] | None = None
        if block.type in ("heading", "table", "code"):
            whole = count_tokens(block.text)
            pieces = [(block.text, whole, " ")] if whole <= max_tokens else None
        by_lines = block.type in ("table", "code")
        for piece, tokens, joiner in pieces or zip(*_split_long(block.text, max_tokens, by_lines)):
            units.append(_Unit(piece, block.page, path, f"b_{index}", tokens, block.type == "heading", joiner))
    return units


def _pack(units: list[_Unit], max_tokens: int, overlap_tokens: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0

    def close() -> list[_Unit]:
        """End the current chunk; trailing headings move on to the next one (never end a chunk)."""
        nonlocal current
        carried: list[_Unit] = []
        while current and current[-1].starts_section:
            carried.insert(0, current.pop())
        if current:
            groups.append(current)
        return carried

    for unit in units:
        # A heading starts a new chunk unless the current one is still small (a short section's
        # tail then shares a chunk with the next section rather than standing alone).
        new_section = unit.starts_section and size >= max_tokens // 4 and bool(current) and not current[-1].starts_section
        if current and (size + unit.tokens > max_tokens or new_section):
            previous = current
            carried = close()
            current = carried or ([] if new_section else _overlap(previous, overlap_tokens))
            size = sum(u.tokens for u in current)
            if size + unit.tokens > max_tokens:
                if carried:  # headings never lost: a chunk of their own
                    groups.append(carried)
                current, size = [], 0
        current.append(unit)
        size += unit.tokens
    if carried := close():
        groups.append(carried)
    return groups


def _overlap(group: list[_Unit], overlap_tokens: int) -> list[_Unit]:
    """The tail of a chunk, repeated at the start of the next, whole units only."""
    tail: list[_Unit] = []
    size = 0
    for unit in reversed(group):
        if size + unit.tokens > overlap_tokens:
            break
        tail.insert(0, unit)
        size += unit.tokens
    return tail


def _chunk(group: list[_Unit], index: int, seed: str) -> dict[str, Any]:
    # Sentences of one block rejoin with a space (lines with a line break); blocks are separated by a blank line.
    parts: list[str] = []
    for i, unit in enumerate(group):
        if i and unit.block_id == group[i - 1].block_id:
            parts[-1] += unit.joiner + unit.text
        else:
            parts.append(unit.text)
    text = "\n\n".join(parts)
    pages = sorted({u.page for u in group})
    digest = hashlib.blake2b(f"{seed}\x1f{index}\x1f{text}".encode(), digest_size=8).hexdigest()
    body = [u for u in group if not u.starts_section] or group
    return {
        "id": f"ch_{digest}",
        "index": index,
        "text": text,
        "token_count": sum(u.tokens for u in group),
        "page_start": pages[0],
        "page_end": pages[-1],
        "pages": pages,
        "heading_path": list(body[0].heading_path),
        "block_ids": list(dict.fromkeys(u.block_id for u in group)),
    }


def _sections(units: list[_Unit]) -> list[list[_Unit]]:
    sections: list[list[_Unit]] = []
    for unit in units:
        if not sections or (unit.starts_section and not sections[-1][-1].starts_section):
            sections.append([])
        sections[-1].append(unit)
    return sections


def _sentence_units(blocks: list[Block]) -> list[_Unit]:
    units = []
    for index, block in enumerate(blocks):
        path = tuple(block.heading_path + ([block.text] if block.type == "heading" else []))
        for sentence in sentences(block.text) if block.type != "heading" else [block.text]:
            units.append(_Unit(sentence, block.page, path, f"b_{index}", count_tokens(sentence), block.type == "heading"))
    return units


def _by_sentences(units: list[_Unit], per_chunk: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    for unit in units:
        if not groups or len([u for u in groups[-1] if not u.starts_section]) >= per_chunk or unit.starts_section:
            groups.append([])
        groups[-1].append(unit)
    return groups
