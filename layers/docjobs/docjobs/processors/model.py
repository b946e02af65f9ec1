"""A parsed document: pages and blocks in reading order, with heading paths. Every format's
parser produces this; every operation works from it."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from typing import Any

from docjobs.domain.text import normalize_spaces

try:  # the compiled count (_tokens.c), where it is built
    from docjobs.processors import _tokens as _compiled  # type: ignore[attr-defined]
except ImportError:  # not built: the counts below, in Python
    _compiled = None

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_WORD_CHARACTER = re.compile(r"\w")
# The same count without the regex (counting is most of chunking's time): each punctuation mark is
# a token, and so is each run of word characters. Past ASCII, a character that is no word character
# is first replaced by one of ASCII of its kind; the UTF-8 bytes of all others then are past ASCII.
_NOT_WORD_PAST_ASCII = re.compile(r"[^\x00-\x7f\w]")
_WORD = bytes(c for c in range(256) if c >= 128 or re.fullmatch(r"\w", chr(c)))
_SPACE = bytes(c for c in range(128) if chr(c).isspace())
_NOT_PUNCTUATION = _WORD + _SPACE
_WORD_RUNS = bytes(ord("w") if c in _WORD else ord(" ") for c in range(256))
# 1 for a word character, 2 for a punctuation mark, 0 for white space (of ASCII).
_KINDS = bytes(1 if c in _WORD else 0 if c in _SPACE else 2 for c in range(256))


def count_tokens(text: str) -> int:
    """Approximate model tokens: words and punctuation marks (close to BPE counts for prose)."""
    if _compiled is not None:
        return _compiled.count_tokens(text)  # type: ignore[no-any-return]
    return count_tokens_in_python(text)


def count_tokens_in_python(text: str) -> int:
    """count_tokens without the compiled count (_tokens.c): the reference it is tested against."""
    if text.isascii():
        data = text.encode("ascii")
    else:
        data = _NOT_WORD_PAST_ASCII.sub(_of_ascii, text).encode("utf-8")
    runs = data.translate(_WORD_RUNS)  # "w" for word characters, " " for the rest; a run starts after a " "
    return len(data.translate(None, _NOT_PUNCTUATION)) + runs.count(b" w") + runs.startswith(b"w")


def _of_ascii(character: re.Match[str]) -> str:
    return " " if character[0].isspace() else "!"


def token_starts(text: str) -> list[int]:
    """Where each of count_tokens' tokens starts."""
    return [match.start() for match in _TOKEN.finditer(text)]


def count_tokens_each(texts: list[str]) -> list[int]:
    """count_tokens of each text (without count_tokens_and_spacing's look at white space)."""
    if _compiled is not None:
        return _compiled.count_tokens_each(texts)[0]  # type: ignore[no-any-return]
    return _counts(texts, spacing=False)[0]


def count_tokens_and_spacing(texts: list[str]) -> tuple[list[int], list[int]]:
    """count_tokens of each text, and the indices of the texts whose white space may not be
    normalized (all those normalize_space would change, in order; an empty one may be among them).
    Many texts are looked at together, with numpy, in runs of `_WINDOW` characters: the texts joined
    by spaces, a token starts at each punctuation mark and each word character after no word
    character; each text's count is the sum over its span (a fraction of the cost of one count per
    text). The compiled count (_tokens.c) does both in one pass over each text, where it is built."""
    if _compiled is not None:
        return _compiled.count_tokens_each(texts)  # type: ignore[no-any-return]
    return _counts(texts, spacing=True)


def _counts(texts: list[str], spacing: bool) -> tuple[list[int], list[int]]:
    if sum(map(len, texts)) + len(texts) < _MANY:
        return list(map(count_tokens_in_python, texts)), _changed_by_normalizing(texts) if spacing else []
    counts: list[int] = []
    spaced: list[int] = []
    start = 0
    for end in _windows(texts, _WINDOW):
        window_counts, window_spaced = _count_together(texts[start:end], spacing)
        counts += window_counts
        spaced += [start + i for i in window_spaced]
        start = end
    return counts, spaced


_MANY = 65_536  # characters: for fewer, numpy's fixed costs outweigh what it saves
# Characters looked at together: a fresh megabyte-sized array costs its page faults each time, arrays
# of this size are reused from the heap (a third less time on a 1 MB page).
_WINDOW = 131_072


def _windows(texts: list[str], size: int) -> list[int]:
    """Where each run of texts of about `size` characters ends (a longer text is a run alone)."""
    cumulative = list(accumulate(map(len, texts)))
    ends = [0]
    while ends[-1] < len(texts):
        before = cumulative[ends[-1] - 1] if ends[-1] else 0
        ends.append(max(ends[-1] + 1, bisect_left(cumulative, before + size)))
    return ends[1:]


def _count_together(texts: list[str], spacing: bool) -> tuple[list[int], list[int]]:
    """_counts of texts joined, with numpy."""
    import numpy as np

    joined = " ".join(texts) + " "  # a space after the last too: each text's span is never empty
    if joined.isascii():
        data = joined.encode("ascii")
        codes = np.frombuffer(data, np.uint8)
        # bytes.translate tells each byte's kind (a numpy lookup would first widen each to an index).
        kinds = np.frombuffer(data.translate(_KINDS), np.uint8)
    else:  # one code point a character: spans in characters stay right
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
        # A code point's low byte tells the kind of ASCII; characters past ASCII are set right after:
        # each distinct one's kind is found once (a document has few).
        kinds = np.frombuffer(codes.astype(np.uint8).tobytes().translate(_KINDS), np.uint8).copy()
        others = np.flatnonzero(codes >= 128)
        distinct, which = np.unique(codes[others], return_inverse=True)
        kinds[others] = np.array([_kind(chr(c)) for c in distinct.tolist()], np.uint8)[which]
    word = kinds == 1
    starts = kinds == 2
    starts[0] |= word[0]
    starts[1:] |= word[1:] > word[:-1]
    spans = np.fromiter(map(len, texts), np.int64, len(texts))
    spans += 1  # each text and the space after it
    offsets = np.cumsum(spans)
    offsets -= spans  # where each text starts
    # Sums over each span (booleans read as bytes: half the cost of summing them as booleans).
    counts: list[int] = np.add.reduceat(starts.view(np.uint8), offsets, dtype=np.int32).tolist()
    if not spacing:
        return counts, []
    # White space to normalize: any but " ", or two together (a text's leading or trailing space
    # stands next to the space that joins it to its neighbour).
    space = kinds == 0
    uneven = space & (codes != 32)
    uneven[0] |= space[0]
    uneven[1:] |= space[1:] & space[:-1]
    spaced: list[int] = np.flatnonzero(np.add.reduceat(uneven.view(np.uint8), offsets, dtype=np.int32)).tolist()
    return counts, spaced


def normalize_each(texts: list[str]) -> list[str]:
    """normalize_spaces, with two spaces together looked for by numpy in many texts (str's search
    for "  " takes a millisecond a megabyte: its skips are short where spaces abound)."""
    return normalize_spaces(texts, has_double_space)


def has_double_space(text: str) -> bool:
    """Whether two spaces stand together in the text (`"  " in text`)."""
    if len(text) < _MANY:
        return "  " in text
    import numpy as np

    data = text.encode("utf-8", "surrogatepass")  # a space is the byte 32, never part of another character
    for start in range(0, len(data), _WINDOW):  # each window shares its last byte with the next
        space = np.frombuffer(data, np.uint8, min(_WINDOW + 1, len(data) - start), start) == 32
        if (space[1:] & space[:-1]).any():
            return True
    return False


def _kind(character: str) -> int:
    """1 for a word character, 2 for a punctuation mark (a token of its own), 0 for white space."""
    return 1 if _WORD_CHARACTER.fullmatch(character) else 0 if character.isspace() else 2


def _changed_by_normalizing(texts: list[str]) -> list[int]:
    normalized = normalize_spaces(texts)
    return [] if normalized is texts else [i for i, (text, new) in enumerate(zip(texts, normalized)) if new != text]


class DocumentError(Exception):
    """The document cannot be processed (corrupt, encrypted, unsupported): the job fails with
    this message, and retrying will not help."""

    def __init__(self, message: str, code: str = "unprocessable_document") -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)  # a large document has tens of thousands: slots make them quicker to build
class Block:
    type: str  # heading | paragraph | list_item | table | code
    text: str
    page: int  # 1-based
    level: int | None = None  # headings: 1 (largest) to 6
    heading_path: list[str] = field(default_factory=list)
    rows: list[list[str]] | None = None  # tables
    font_size: float | None = None

    def to_dict(self, index: int) -> dict[str, Any]:
        data: dict[str, Any] = {"id": f"b_{index}", "type": self.type, "text": self.text, "page": self.page,
                                "heading_path": list(self.heading_path)}  # fmt: skip
        if self.level is not None:
            data["level"] = self.level
        if self.rows is not None:
            data["rows"] = self.rows
        return data


@dataclass
class Page:
    number: int
    width: float | None = None
    height: float | None = None
    has_text_layer: bool = True
    image_count: int = 0

    def to_dict(self, blocks: list[Block]) -> dict[str, Any]:
        mine = [b for b in blocks if b.page == self.number]
        data: dict[str, Any] = {
            "page_number": self.number,
            "text": "\n\n".join(b.text for b in mine),
            "block_count": len(mine),
            "has_text_layer": self.has_text_layer,
        }
        if self.width is not None:
            data.update(width=round(self.width, 1), height=round(self.height or 0, 1))
        if not self.has_text_layer:
            data["warning"] = "This page has no text layer (a scanned image?); its text was not extracted."
        return data


@dataclass
class ParsedDocument:
    format: str
    pages: list[Page]
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def assign_heading_paths(self) -> None:
        """Each block's heading path: the titles of the headings it sits under."""
        stack: list[tuple[int, str]] = []
        path: list[str] = []  # the blocks under one heading share one list (to_dict hands out copies)
        for block in self.blocks:
            if block.type == "heading":
                level = block.level or 1
                while stack and stack[-1][0] >= level:
                    stack.pop()
                block.heading_path = [t for _, t in stack]
                stack.append((level, block.text))
                path = [t for _, t in stack]
            else:
                block.heading_path = path

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        """Everything, losslessly (the parse cache stores this)."""
        return {"format": self.format, "pages": [asdict(p) for p in self.pages], "blocks": [asdict(b) for b in self.blocks],
                "metadata": self.metadata, "warnings": self.warnings}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParsedDocument:
        return cls(format=data["format"], pages=[Page(**p) for p in data["pages"]], blocks=[Block(**b) for b in data["blocks"]],
                   metadata=data["metadata"], warnings=data["warnings"])  # fmt: skip

    def markdown(self) -> str:
        out: list[str] = []
        for block in self.blocks:
            if block.type == "heading":
                out.append("#" * min(block.level or 1, 6) + " " + block.text)
            elif block.type == "list_item":
                out.append("- " + block.text)
            elif block.type == "code":
                out.append("```\n" + block.text + "\n```")
            elif block.type == "table" and block.rows:
                width = max(len(r) for r in block.rows)
                rows = [r + [""] * (width - len(r)) for r in block.rows]
                cell = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
                lines = ["| " + " | ".join(cell(c) for c in rows[0]) + " |", "|" + " --- |" * width]
                lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows[1:]]
                out.append("\n".join(lines))
            else:
                out.append(block.text)
        return "\n\n".join(out)
