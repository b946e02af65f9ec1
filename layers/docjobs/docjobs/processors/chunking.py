"""Chunking a parsed document: by size in tokens (with overlap), by section, or by sentences.
Every chunk keeps its pages, its heading path and the blocks it came from; ids are stable for
the same document and options."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import Any

from docjobs.domain.text import normalize_space, paragraph_sentences, sentences
from docjobs.processors.collector import collector_paused
from docjobs.processors.model import Block, count_tokens, count_tokens_and_spacing, count_tokens_each, token_starts

STRATEGIES = ("tokens", "heading", "sentence")
_WHOLE = ("heading", "table", "code")  # blocks never split at sentences when they fit in a chunk
_BY_LINES = ("table", "code")  # blocks longer than a chunk split between rows and lines of code


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
        units = _Units.of_sentences(blocks)
        groups = _by_sentences(units, sentences_per_chunk)
        return [units.chunk(group, index, seed) for index, group in enumerate(groups)]
    units = _Units.of_blocks(blocks, max_tokens)
    if strategy == "heading":  # each section (its headings and what follows them, up to the next) packed alone
        bounds = [0, *units.section_starts, units.count]
        groups = [g for lo, hi in zip(bounds, bounds[1:]) for g in _pack(units, lo, hi, max_tokens, 0)]
    else:
        groups = _pack(units, 0, units.count, max_tokens, overlap_tokens)
    return [units.chunk(group, index, seed) for index, group in enumerate(groups) if group]


class _Units:
    """The pieces chunks are made of, as parallel lists indexed by unit (a list per field costs less
    to build and to read than an object per unit): one unit per block (a paragraph longer than a
    chunk: one per sentence, and a sentence longer than a chunk is cut by words), each counted once
    (counting is most of chunking's time). A paragraph's tokens are its sentences' tokens: sentences
    split at white space only. Units 0 to `count` - 1 are in document order; a paragraph's sentences,
    made where a chunk ends inside it or an overlap takes part of it, are added after those."""

    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = blocks
        self.text: list[str] = []
        self.tokens: list[int] = []
        self.heads: list[bool] = []  # a heading: it starts a section
        # A whole paragraph that fits in a chunk stays one unit (its text as its sentences rejoined
        # with spaces); it is split into them only where a chunk ends inside it or an overlap takes
        # part of it (most paragraphs never are). This is the paragraph as written, else None.
        self.paragraph: list[str | None] = []
        self.block: list[int] = []  # the index of the unit's block
        self.count = 0
        self.cumulative: list[int] = []  # tokens of units 0 to i - 1 at [i]
        # The headings a chunk may end before: those not right after another heading.
        self.section_starts: list[int] = []
        # What joins a unit to the one before it when both are of one block in a chunk: a space
        # between sentences, a line break (and the blank lines there) between lines of code.
        self.joiner: list[str] = []
        # Every block has at least one of units 0 to `count` - 1 (by sentences, an empty block has
        # none): then a run of them whose blocks span as many numbers as it has units is one unit a block.
        self.every_block_held = False
        # Every chunk's pages where all blocks are on one page (HTML, Markdown and text: page 1).
        self.pages: list[int] = pages if len(pages := list({block.page for block in blocks})) == 1 else []

    @classmethod
    def of_blocks(cls, blocks: list[Block], max_tokens: int) -> _Units:
        self = cls(blocks)
        texts = [block.text for block in blocks]
        whole = [block.type in _WHOLE for block in blocks]
        tokens, spaced = count_tokens_and_spacing(texts)
        # Each unit's text: a paragraph's is what its sentences rejoined with spaces give (headings,
        # tables and code stay as they are).
        unit_texts = texts.copy()
        for i in spaced:
            if not whole[i]:
                unit_texts[i] = normalize_space(texts[i])
        heads = [block.type == "heading" for block in blocks]
        # Blocks that are not one unit each; between them, runs of blocks are taken as they are.
        uneven = [i for i, n in enumerate(tokens) if n > max_tokens or not unit_texts[i]]
        start = 0
        for index in [*uneven, len(blocks)]:
            self.text += unit_texts[start:index]
            self.tokens += tokens[start:index]
            self.heads += heads[start:index]
            self.paragraph += [None if w else text for text, w in zip(texts[start:index], whole[start:index])]
            self.block += range(start, index)
            self.joiner += [" "] * (index - start)
            if index < len(blocks):
                pieces, piece_tokens, joiners = _split_long(texts[index], max_tokens, blocks[index].type in _BY_LINES)
                self.text += pieces
                self.tokens += piece_tokens
                self.heads += [heads[index]] * len(pieces)
                self.paragraph += [None] * len(pieces)
                self.block += [index] * len(pieces)
                self.joiner += joiners
            start = index + 1
        self.count = len(self.text)
        self.every_block_held = True
        self.cumulative = [0, *accumulate(self.tokens)]
        self.section_starts = [i for i in range(1, self.count) if self.heads[i] and not self.heads[i - 1]]
        return self

    @classmethod
    def of_sentences(cls, blocks: list[Block]) -> _Units:
        """Every sentence a unit (a heading whole)."""
        self = cls(blocks)
        for index, block in enumerate(blocks):
            heading = block.type == "heading"
            for sentence in [block.text] if heading else sentences(block.text):
                self.add(sentence, count_tokens(sentence), heading, index)
        self.count = len(self.text)
        self.cumulative = [0, *accumulate(self.tokens)]
        return self

    def add(self, text: str, tokens: int, heads: bool, block: int) -> int:
        self.text.append(text)
        self.tokens.append(tokens)
        self.heads.append(heads)
        self.paragraph.append(None)
        self.block.append(block)
        self.joiner.append(" ")
        return len(self.text) - 1

    def sentence_units(self, unit: int) -> list[int]:
        """A whole paragraph's unit as its sentences (each fits in a chunk, as the whole did)."""
        return [self.add(s, count_tokens(s), False, self.block[unit]) for s in self.sentence_texts(unit)]

    def sentence_texts(self, unit: int) -> list[str]:
        """A paragraph's sentences; from its unit's text (the paragraph normalized) unless a line
        break in it may be a paragraph break."""
        paragraph = self.paragraph[unit] or ""
        return sentences(paragraph) if "\n" in paragraph else paragraph_sentences(self.text[unit])

    def chunk(self, group: list[int], index: int, seed: str) -> dict[str, Any]:
        first_unit, last_unit = group[0], group[-1]
        if last_unit < self.count and last_unit - first_unit + 1 == len(group):  # most often: units one after another
            owners = self.block[first_unit : last_unit + 1]  # (in document order: never decreasing)
            distinct = self.every_block_held and owners[-1] - owners[0] + 1 == len(owners)
            block_ids = owners if distinct else list(dict.fromkeys(owners))
            token_count = self.cumulative[last_unit + 1] - self.cumulative[first_unit]
        else:
            owners = list(map(self.block.__getitem__, group))
            block_ids = list(dict.fromkeys(owners))
            token_count = sum(map(self.tokens.__getitem__, group))
        if len(block_ids) == len(group):  # blocks are separated by a blank line
            text = "\n\n".join(map(self.text.__getitem__, group))
        else:  # sentences of one block rejoin with a space, lines with their line breaks
            parts: list[str] = []
            run = [self.text[first_unit]]  # one block's units and what joins them
            for i in range(1, len(group)):
                unit = group[i]
                if owners[i] == owners[i - 1]:
                    run += (self.joiner[unit], self.text[unit])
                else:
                    parts.append("".join(run))
                    run = [self.text[unit]]
            parts.append("".join(run))
            text = "\n\n".join(parts)
        blocks = self.blocks
        pages = [*self.pages] if self.pages else sorted({blocks[b].page for b in block_ids})
        digest = hashlib.blake2b(f"{seed}\x1f{index}\x1f{text}".encode(), digest_size=8).hexdigest()
        # A chunk's path: that of its body (a heading's path ends with the heading itself).
        heads = self.heads
        body = owners[0] if not heads[first_unit] else next((b for u, b in zip(group, owners) if not heads[u]), owners[0])
        first = blocks[body]
        return {
            "id": f"ch_{digest}",
            "index": index,
            "text": text,
            "token_count": token_count,
            "page_start": pages[0],
            "page_end": pages[-1],
            "pages": pages,
            "heading_path": [*first.heading_path, first.text] if first.type == "heading" else list(first.heading_path),
            "block_ids": [f"b_{b}" for b in block_ids],
        }


def _split_long(text: str, max_tokens: int, by_lines: bool = False) -> tuple[list[str], list[int], list[str]]:
    """Pieces, their tokens and what joins each to the one before: none over `max_tokens` (a
    chunk can always hold one). A paragraph's sentences, or a table's or code's lines (each line
    as it is, indented; the line breaks and blank lines between them join them). A sentence or line
    longer than a chunk is cut between words, a word longer than a chunk between its tokens."""
    if by_lines:
        # Lines and what stands between them (a line break, and blank lines with it), taken apart.
        split = _LINE_BREAKS.split(text.strip("\n"))
        parts, joiners = split[0::2], ["\n", *split[1::2]]
    else:
        parts = sentences(text)
        joiners = [" "] * len(parts)
    if not parts or not any(parts):  # (a block without text stays one unit, as any other that fits)
        return [text], [0], [" "]
    tokens = count_tokens_each(parts)
    if max(tokens) <= max_tokens:
        return parts, tokens, joiners
    pieces: list[str] = []
    counts: list[int] = []
    joins: list[str] = []
    for part, n, joiner in zip(parts, tokens, joiners):
        if n <= max_tokens:
            pieces.append(part)
            counts.append(n)
            joins.append(joiner)
            continue
        for k, (piece, piece_tokens, piece_joiner) in enumerate(_cut(part, max_tokens)):
            pieces.append(piece)
            counts.append(piece_tokens)
            joins.append(joiner if k == 0 else piece_joiner)
    return pieces, counts, joins


_LINE_BREAKS = re.compile(r"(\n(?:[^\S\n]*\n)*)")


def _cut(text: str, max_tokens: int) -> list[tuple[str, int, str]]:
    """Text longer than a chunk in runs of words as long as fit (tokens never span white space: a
    run's tokens are its words'), found by bisection over the running sums; a word longer than a
    chunk (a URL, base64, a run of punctuation) is cut between its tokens. (piece, tokens, joiner)."""
    words = text.split()
    counts = count_tokens_each(words)
    cumulative = [0, *accumulate(counts)]
    runs: list[tuple[str, int, str]] = []
    i = 0
    while i < len(words):
        if counts[i] > max_tokens:
            starts = token_starts(words[i])
            for k in range(0, len(starts), max_tokens):
                end = starts[k + max_tokens] if k + max_tokens < len(starts) else None
                runs.append((words[i][starts[k] : end], min(max_tokens, len(starts) - k), "" if k else " "))
            i += 1
            continue
        end = bisect_right(cumulative, cumulative[i] + max_tokens, i + 1) - 1
        runs.append((" ".join(words[i:end]), cumulative[end] - cumulative[i], " "))
        i = end
    return runs


def _pack(units: _Units, lo: int, hi: int, max_tokens: int, overlap_tokens: int) -> list[list[int]]:
    """Units lo to hi - 1 in chunks of at most `max_tokens`, each chunk's tail repeated at the start
    of the next. Each unit takes one step of the rules below; between the units where a rule acts
    (a chunk is full, a section starts), the units that only join the chunk are found by bisection
    over the running token sums and taken at once."""
    tokens, heads, paragraph = units.tokens, units.heads, units.paragraph
    cumulative, section_starts = units.cumulative, units.section_starts
    quarter = max_tokens // 4
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0

    def close() -> list[int]:
        """End the current chunk; trailing headings move on to the next one (never end a chunk)."""
        nonlocal current
        carried: list[int] = []
        while current and heads[current[-1]]:
            carried.insert(0, current.pop())
        if current:
            groups.append(current)
        return carried

    i = lo
    while i < hi:
        todo = [i]  # a stack: a whole paragraph that does not fit goes back as its sentences
        while todo:
            unit = todo.pop()
            # A heading starts a new chunk unless the current one is still small (a short section's
            # tail then shares a chunk with the next section rather than standing alone).
            new_section = heads[unit] and size >= quarter and bool(current) and not heads[current[-1]]
            if current and (size + tokens[unit] > max_tokens or new_section):
                if paragraph[unit] is not None:
                    todo.extend(reversed(units.sentence_units(unit)))
                    continue
                previous = current
                carried = close()
                current = carried or ([] if new_section else _overlap(units, previous, overlap_tokens))
                size = sum([tokens[u] for u in current])
                if size + tokens[unit] > max_tokens:
                    if carried:  # headings that fit with nothing after them: a chunk of their own
                        groups.append(carried)
                    current, size = [], 0
            current.append(unit)
            size += tokens[unit]
        i += 1
        if i >= hi:
            break
        # Units i, i + 1, ... join the chunk (which is not empty, and ends with unit i - 1 or its
        # last sentence) up to the first that would overflow it or that starts a section once it
        # holds a quarter of its tokens; that one takes the step above.
        before = cumulative[i] - size  # the running sum where the current chunk began
        stop = bisect_right(cumulative, before + max_tokens, i + 1, hi + 1) - 1
        quarter_full = bisect_left(cumulative, before + quarter, i, hi)
        if (s := bisect_left(section_starts, quarter_full)) < len(section_starts):
            stop = min(stop, section_starts[s])
        if stop > i:
            current.extend(range(i, stop))
            size += cumulative[stop] - cumulative[i]
            i = stop
    if carried := close():  # headings at the end: a chunk of their own
        groups.append(carried)
    return groups


def _overlap(units: _Units, group: list[int], overlap_tokens: int) -> list[int]:
    """The tail of a chunk, repeated at the start of the next, whole units only."""
    tail: list[int] = []
    size = 0
    for unit in reversed(group):
        if size + units.tokens[unit] > overlap_tokens:
            if units.paragraph[unit] is not None:  # its last sentences may fit: only those are counted
                for text in reversed(units.sentence_texts(unit)):
                    if size + (tokens := count_tokens(text)) > overlap_tokens:
                        break
                    tail.insert(0, units.add(text, tokens, False, units.block[unit]))
                    size += tokens
            break
        tail.insert(0, unit)
        size += units.tokens[unit]
    return tail


def _by_sentences(units: _Units, per_chunk: int) -> list[list[int]]:
    """`per_chunk` sentences a chunk; a heading starts a new one (with the sentences after it)."""
    groups: list[list[int]] = []
    body = 0  # sentences in the last chunk
    for unit in range(units.count):
        if not groups or body >= per_chunk or units.heads[unit]:
            groups.append([])
            body = 0
        groups[-1].append(unit)
        body += not units.heads[unit]
    return groups
