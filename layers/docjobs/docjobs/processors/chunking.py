"""Chunking a parsed document: by size in tokens (with overlap), by section, or by sentences.
Every chunk keeps its pages, its heading path and the blocks it came from; ids are stable for
the same document and options."""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

from docjobs.domain.text import normalize_spaces, sentences
from docjobs.processors.collector import collector_paused
from docjobs.processors.model import Block, count_tokens

STRATEGIES = ("tokens", "heading", "sentence")
_WHOLE = ("heading", "table", "code")  # blocks never split at sentences when they fit in a chunk


class _Unit(NamedTuple):
    text: str
    page: int
    heading_path: tuple[str, ...]
    block_id: str
    tokens: int
    starts_section: bool = False
    # A whole paragraph that fits in a chunk stays one unit (its text as its sentences rejoined
    # with spaces); it is split into them only where a chunk ends inside it or an overlap takes part
    # of it (most paragraphs never are). This is the paragraph as written, else None.
    paragraph: str | None = None


@collector_paused
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
    """One unit per block (a paragraph longer than a chunk: one per sentence, and a sentence
    longer than a chunk is cut by words), each counted once (counting is most of chunking's time).
    A paragraph's tokens are its sentences' tokens: sentences split at white space only."""
    units: list[_Unit] = []
    path: tuple[str, ...] = ()
    path_of: list[str] | None = None
    # What a paragraph's sentences rejoined with spaces give (headings, tables and code stay whole).
    rejoined = normalize_spaces(["" if block.type in _WHOLE else block.text for block in blocks])
    for index, block in enumerate(blocks):
        if block.heading_path is not path_of:  # blocks under one heading often share its path list
            path_of, path = block.heading_path, tuple(block.heading_path)
        heading = block.type == "heading"
        block_path = (*path, block.text) if heading else path
        tokens = count_tokens(block.text)
        if tokens <= max_tokens:
            if block.type in _WHOLE:
                units.append(_Unit(block.text, block.page, block_path, f"b_{index}", tokens, heading))
                continue
            if text := rejoined[index]:
                units.append(_Unit(text, block.page, block_path, f"b_{index}", tokens, False, block.text))
                continue
        for piece, piece_tokens in _split_long(block.text, max_tokens):
            units.append(_Unit(piece, block.page, block_path, f"b_{index}", piece_tokens, heading))
    return units


def _sentences_of(unit: _Unit) -> list[_Unit]:
    """A whole paragraph's unit as its sentences (each fits in a chunk, as the whole did)."""
    return [_sentence_of(unit, s, count_tokens(s)) for s in sentences(unit.paragraph or "")]


def _sentence_of(paragraph: _Unit, text: str, tokens: int) -> _Unit:
    """The unit of one sentence of a paragraph's unit: where the paragraph is, with its own text."""
    return _Unit(text, paragraph.page, paragraph.heading_path, paragraph.block_id, tokens)


def _split_long(text: str, max_tokens: int) -> list[tuple[str, int]]:
    """(sentence, its tokens); a sentence longer than `max_tokens` is cut by words."""
    pieces: list[tuple[str, int]] = []
    for sentence in sentences(text) or [text]:
        tokens = count_tokens(sentence)
        if tokens <= max_tokens:
            pieces.append((sentence, tokens))
            continue
        words = sentence.split()
        while count_tokens(" ".join(words)) > max_tokens and len(words) > 1:  # one enormous "sentence"
            take = max(1, len(words) // 2)
            while take > 1 and count_tokens(" ".join(words[:take])) > max_tokens:
                take //= 2
            piece = " ".join(words[:take])
            pieces.append((piece, count_tokens(piece)))
            words = words[take:]
        if words:
            rest = " ".join(words)
            pieces.append((rest, count_tokens(rest)))
    return pieces


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

    todo = units[::-1]  # a stack: a whole paragraph that does not fit goes back as its sentences
    while todo:
        unit = todo.pop()
        # A heading starts a new chunk unless the current one is still small (a short section's
        # tail then shares a chunk with the next section rather than standing alone).
        new_section = unit.starts_section and size >= max_tokens // 4 and bool(current) and not current[-1].starts_section
        if current and (size + unit.tokens > max_tokens or new_section):
            if unit.paragraph is not None:
                todo.extend(reversed(_sentences_of(unit)))
                continue
            previous = current
            carried = close()
            current = carried or ([] if new_section else _overlap(previous, overlap_tokens))
            size = sum(u.tokens for u in current)
            if size + unit.tokens > max_tokens:
                current, size = [], 0
        current.append(unit)
        size += unit.tokens
    close()
    return groups


def _overlap(group: list[_Unit], overlap_tokens: int) -> list[_Unit]:
    """The tail of a chunk, repeated at the start of the next, whole units only."""
    tail: list[_Unit] = []
    size = 0
    for unit in reversed(group):
        if size + unit.tokens > overlap_tokens:
            if unit.paragraph is not None:  # its last sentences may fit: only those are counted
                for text in reversed(sentences(unit.paragraph)):
                    if size + (tokens := count_tokens(text)) > overlap_tokens:
                        break
                    tail.insert(0, _sentence_of(unit, text, tokens))
                    size += tokens
            break
        tail.insert(0, unit)
        size += unit.tokens
    return tail


def _sections(units: list[_Unit]) -> list[list[_Unit]]:
    sections: list[list[_Unit]] = []
    for unit in units:
        if unit.starts_section or not sections:
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


def _chunk(group: list[_Unit], index: int, seed: str) -> dict[str, Any]:
    block_ids = list(dict.fromkeys([u.block_id for u in group]))
    if len(block_ids) == len(group):  # blocks are separated by a blank line
        text = "\n\n".join([u.text for u in group])
    else:  # sentences of one block rejoin with a space
        parts: list[str] = []
        for i, unit in enumerate(group):
            if i and unit.block_id == group[i - 1].block_id:
                parts[-1] += " " + unit.text
            else:
                parts.append(unit.text)
        text = "\n\n".join(parts)
    pages = sorted({u.page for u in group})
    digest = hashlib.blake2b(f"{seed}\x1f{index}\x1f{text}".encode(), digest_size=8).hexdigest()
    first = next((u for u in group if not u.starts_section), group[0])  # a chunk's path: that of its body
    return {
        "id": f"ch_{digest}",
        "index": index,
        "text": text,
        "token_count": sum([u.tokens for u in group]),
        "page_start": pages[0],
        "page_end": pages[-1],
        "pages": pages,
        "heading_path": list(first.heading_path),
        "block_ids": block_ids,
    }
