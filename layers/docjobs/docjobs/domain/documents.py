"""HTML documents as a list of top-level blocks ("chunks"), each carrying `data-chunk-id`.

Chunk ids are stable: an id already in the document is kept, and a new one is derived from the
block's tag, text and how many identical blocks came before it, so chunking the same document
twice gives the same ids. Engines propose changes per chunk; `apply_changes` applies any subset
of them (the approved ones), in document order.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from docjobs.domain.text import normalize_space

CHUNK_ATTR = "data-chunk-id"

# Elements that flow inside a paragraph: at the top level, runs of them are wrapped in one <p>.
INLINE_TAGS = frozenset(
    "a abbr b bdi bdo br cite code data dfn em font i kbd mark q s samp small span strong sub sup "
    "time u var del ins label".split()
)
# Elements that are "a paragraph" for the purposes of an edit inside a larger block.
PARAGRAPH_TAGS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "dd", "dt")
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True)
class Block:
    chunk_id: str
    tag: str
    html: str  # outer HTML, with the data-chunk-id attribute
    text: str  # visible text, whitespace folded

    @property
    def is_heading(self) -> bool:
        return self.tag in HEADING_TAGS


@dataclass
class Document:
    blocks: list[Block] = field(default_factory=list)

    def to_html(self) -> str:
        return "\n".join(block.html for block in self.blocks)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks if block.text)

    def index_of(self, chunk_id: str) -> int:
        for i, block in enumerate(self.blocks):
            if block.chunk_id == chunk_id:
                return i
        raise KeyError(chunk_id)

    def chunk_ids(self) -> set[str]:
        return {block.chunk_id for block in self.blocks}


def derive_chunk_id(tag: str, text: str, occurrence: int) -> str:
    digest = hashlib.blake2b(f"{tag}\x1f{text}\x1f{occurrence}".encode(), digest_size=6).hexdigest()
    return f"c_{digest}"


def parse_fragment(html: str) -> LexborNode | None:
    """The first element of an HTML fragment (a single block)."""
    body = LexborHTMLParser(html).body
    if body is None:
        return None
    for node in body.iter(include_text=False):
        if node.tag and not node.tag.startswith("-"):
            return node
    return None


def block_from_node(node: LexborNode, chunk_id: str) -> Block:
    node.attrs[CHUNK_ATTR] = chunk_id
    return Block(chunk_id=chunk_id, tag=node.tag, html=node.html or "", text=normalize_space(node.text(deep=True)))


def block_from_html(html: str, chunk_id: str) -> Block:
    """Re-read one block's HTML (after an edit), stamping it with `chunk_id`."""
    node = parse_fragment(html)
    if node is None:
        return Block(chunk_id, "p", f'<p {CHUNK_ATTR}="{chunk_id}"></p>', "")
    return block_from_node(node, chunk_id)


def chunk_html(html: str) -> Document:
    """Split an HTML document (or fragment) into top-level blocks with stable chunk ids."""
    tree = LexborHTMLParser(html or "")
    body = tree.body
    if body is None:
        return Document()

    # Group top-level nodes into blocks: block elements stand alone; runs of text and inline
    # elements become one paragraph (otherwise they could not carry a chunk id).
    groups: list[LexborNode | list[LexborNode]] = []
    run: list[LexborNode] = []
    for node in body.iter(include_text=True):
        tag = node.tag or ""
        if tag == "-comment":
            continue
        if tag == "-text" or tag in INLINE_TAGS:
            run.append(node)
            continue
        if run:
            groups.append(run)
            run = []
        groups.append(node)
    if run:
        groups.append(run)

    seen_ids: set[str] = set()
    occurrences: dict[tuple[str, str], int] = defaultdict(int)
    blocks: list[Block] = []
    for group in groups:
        if isinstance(group, list):
            inner = "".join(_node_html(n) for n in group)
            if not normalize_space(htmllib.unescape(re.sub(r"<[^>]*>", "", inner))) and "<br" not in inner:
                continue  # whitespace between blocks
            node = parse_fragment(f"<p>{inner}</p>")
            if node is None:
                continue
        else:
            node = group
        tag = node.tag
        text = normalize_space(node.text(deep=True))
        existing = node.attrs.get(CHUNK_ATTR)
        if existing and existing not in seen_ids:
            chunk_id = existing
        else:
            key = (tag, text)
            chunk_id = derive_chunk_id(tag, text, occurrences[key])
            while chunk_id in seen_ids:  # an id the document already used for another block
                occurrences[key] += 1
                chunk_id = derive_chunk_id(tag, text, occurrences[key])
        occurrences[(tag, text)] += 1
        seen_ids.add(chunk_id)
        blocks.append(block_from_node(node, chunk_id))
    return Document(blocks)


def _node_html(node: LexborNode) -> str:
    if node.tag == "-text":
        return htmllib.escape(node.text(deep=False), quote=False)
    return node.html or ""


@dataclass(frozen=True)
class Change:
    """One proposed change to one chunk, in the chat-jobs seed's words."""

    change_id: str
    operation: str  # "update" | "insert" | "delete"
    chunk_id: str
    old_html: str
    new_html: str
    ai_explanation: str
    # Inserts only: the existing chunk the new one follows (None: the start of the document).
    after_chunk_id: str | None = None

    def to_public(self) -> dict[str, Any]:
        public: dict[str, Any] = {
            "change_id": self.change_id,
            "operation": self.operation,
            "chunk_id": self.chunk_id,
            "old_html": self.old_html,
            "new_html": self.new_html,
            "ai_explanation": self.ai_explanation,
        }
        if self.operation == "insert":
            public["after_chunk_id"] = self.after_chunk_id
        return public

    @classmethod
    def from_public(cls, data: dict[str, Any]) -> Change:
        return cls(
            change_id=data["change_id"],
            operation=data["operation"],
            chunk_id=data["chunk_id"],
            old_html=data.get("old_html", ""),
            new_html=data.get("new_html", ""),
            ai_explanation=data.get("ai_explanation", ""),
            after_chunk_id=data.get("after_chunk_id"),
        )


def apply_changes(document: Document, changes: list[Change]) -> Document:
    """The document with `changes` applied; inserts land after their anchor, in the given order."""
    updates = {c.chunk_id: c for c in changes if c.operation == "update"}
    deletes = {c.chunk_id for c in changes if c.operation == "delete"}
    inserts: dict[str | None, list[Change]] = defaultdict(list)
    for change in changes:
        if change.operation == "insert":
            inserts[change.after_chunk_id].append(change)

    known = document.chunk_ids()
    orphans = [c for anchor, cs in inserts.items() if anchor is not None and anchor not in known for c in cs]

    out = [block_from_html(c.new_html, c.chunk_id) for c in inserts.get(None, [])]
    for block in document.blocks:
        if block.chunk_id in updates:
            out.append(block_from_html(updates[block.chunk_id].new_html, block.chunk_id))
        elif block.chunk_id not in deletes:
            out.append(block)
        out.extend(block_from_html(c.new_html, c.chunk_id) for c in inserts.get(block.chunk_id, []))
    # An insert whose anchor is gone (a stale proposal) goes at the end rather than being lost.
    out.extend(block_from_html(c.new_html, c.chunk_id) for c in orphans)
    return Document(out)


def summarize_changes(changes: list[Change]) -> str:
    if not changes:
        return "No changes"
    counts: dict[str, int] = defaultdict(int)
    for change in changes:
        counts[change.operation] += 1
    words = {"update": "updated", "insert": "inserted", "delete": "deleted"}
    parts = [f"{n} block{'s' if n != 1 else ''} {words.get(op, op)}" for op, n in counts.items()]
    return "Document updated by AI: " + ", ".join(parts)
