"""The offline chat engine: deterministic, rule-based edits on the document's chunks.

It understands a handful of instructions, several per message, applied in the order written:

- replace "A" with "B"
- delete the paragraph containing "X"
- insert "text" after/before the paragraph containing "X"   (or: at the end / at the beginning)
- summarize the document (optionally: in N sentences)
- restructure the document into N sections

Anything else gets an honest answer saying what it can do, and no changes. Edits are made on a
working copy; the proposed changes are the difference from the original, one per changed chunk.
"""

from __future__ import annotations

import html as htmllib
import re
from collections import Counter
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from docjobs.domain.documents import (
    PARAGRAPH_TAGS,
    Block,
    Change,
    Document,
    block_from_html,
    derive_chunk_id,
    normalize_space,
    parse_fragment,
)
from docjobs.domain.text import key_terms, summarize, terms
from docjobs.engines.base import ChatTurn, EngineReply, ProgressCallback

_Q = r"""(?:"([^"]+)"|'([^']+)')"""  # a quoted argument: two groups, one of which matches
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_NUMBER = r"(\d+|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT = r"(?:paragraph|section|block|line|sentence|item|bullet|heading|part|note)s?"
_CONTAINING = (
    r"(?:that\s+|which\s+)?(?:contains?|containing|with|mentioning|mentions|about|saying|says|"
    r"titled|starting\s+with|beginning\s+with)"
)

REPLACE = re.compile(
    rf"\b(?:replace|change|substitute|swap|rename)\s+(?:all\s+(?:occurrences\s+of\s+)?|every\s+)?{_Q}"
    rf"\s+(?:with|to|by|into|for)\s+{_Q}",
    re.I,
)
DELETE = re.compile(
    rf"\b(?:delete|remove|drop|cut)\s+(?:the\s+|a\s+|any\s+|all\s+)?{_UNIT}\s+{_CONTAINING}\s+{_Q}", re.I
)
INSERT_RELATIVE = re.compile(
    rf"\b(?:insert|add|put)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:{_UNIT}\s*)?"
    rf"(?:saying|that\s+says|reading|with\s+(?:the\s+)?text|containing)?\s*:?\s*{_Q}\s+"
    rf"(before|after|below|above|under)\s+(?:the\s+)?(?:{_UNIT}\s+)?(?:{_CONTAINING}\s+)?{_Q}",
    re.I,
)
INSERT_EDGE = re.compile(
    rf"\b(?:insert|add|append|prepend|put)\s+(?:a\s+|an\s+)?(?:new\s+)?(?:{_UNIT}\s*)?"
    rf"(?:saying|that\s+says|reading|with\s+(?:the\s+)?text|containing)?\s*:?\s*{_Q}\s+"
    rf"(?:at|to)\s+the\s+(end|beginning|start|top|bottom)",
    re.I,
)
SUMMARIZE = re.compile(
    r"\b(?:summari[sz]e|summary|tl;?dr|sum\s+up|gist|what\s+is\s+(?:this|the)\s+(?:document|text)\s+about)\b"
    rf"(?:.{{0,40}}?\bin\s+{_NUMBER}\s+sentences?)?",
    re.I,
)
RESTRUCTURE = re.compile(
    r"\b(?:restructure|reorgani[sz]e|organi[sz]e|split|divide|break|arrange|group)\b.{0,60}?"
    rf"\binto\s+{_NUMBER}\s+(?:sections?|parts?|chapters?)",
    re.I,
)

CAPABILITIES = (
    "The offline engine can: replace \"A\" with \"B\"; delete the paragraph containing \"X\"; "
    "insert \"new text\" after (or before) the paragraph containing \"X\", or at the end or the "
    "beginning; summarize the document (optionally in N sentences); restructure the document into "
    "N sections; summarize an attached file. Put the text you mean in quotes."
)


def _quoted(match: re.Match, first_group: int) -> str:
    return match.group(first_group) or match.group(first_group + 1) or ""


def _number(word: str | None, default: int) -> int:
    if not word:
        return default
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


@dataclass
class _Workspace:
    """The working copy of the document, plus why each chunk changed."""

    blocks: list[Block]
    taken_ids: set[str]
    explanations: dict[str, list[str]] = field(default_factory=dict)

    def explain(self, chunk_id: str, why: str) -> None:
        self.explanations.setdefault(chunk_id, []).append(why)

    def new_block(self, html: str, hint: str) -> Block:
        n = 0
        chunk_id = derive_chunk_id("new", hint, n)
        while chunk_id in self.taken_ids:
            n += 1
            chunk_id = derive_chunk_id("new", hint, n)
        self.taken_ids.add(chunk_id)
        return block_from_html(html, chunk_id)

    def find(self, needle: str) -> list[int]:
        """Indices of blocks whose text contains `needle` (case and white space ignored)."""
        wanted = normalize_space(needle).lower()
        return [i for i, b in enumerate(self.blocks) if wanted and wanted in b.text.lower()]


class OfflineChatEngine:
    name = "offline"

    def reply(self, turn: ChatTurn, progress: ProgressCallback) -> EngineReply:
        commands = self._plan(turn.message)
        if not commands:
            return EngineReply(response=f"I can't do that with the offline engine. {CAPABILITIES}")
        if turn.attachments and all(kind == "summarize" for kind, _ in commands) and _about_attachments(turn):
            answers = [self._summarize_attachments(turn, match) for _, match in commands]
            return EngineReply(response=" ".join(answers))
        if turn.document is None or not turn.document.blocks:
            return EngineReply(
                response="This session has no document yet (or it is empty): send document_html "
                "with your message and I'll work on it."
            )

        original = turn.document
        progress(20, f"Read the document: {len(original.blocks)} blocks.")
        space = _Workspace(list(original.blocks), set(original.chunk_ids()))
        answers: list[str] = []
        for i, (kind, match) in enumerate(commands, start=1):
            answers.append(getattr(self, f"_{kind}")(space, match))
            progress(20 + int(70 * i / len(commands)), answers[-1])

        changes = _diff(original, space, turn.change_id_prefix)
        words = len(turn.message.split()) + sum(len(b.text.split()) for b in original.blocks)
        response = " ".join(answers)
        return EngineReply(
            response=response,
            changes=changes,
            input_tokens=words,
            output_tokens=len(response.split()) + sum(len(c.new_html.split()) for c in changes),
        )

    @staticmethod
    def _plan(message: str) -> list[tuple[str, re.Match]]:
        """Every instruction in the message, in the order written; overlapping matches dropped."""
        found: list[tuple[int, int, str, re.Match]] = []
        for kind, pattern in (
            ("insert_relative", INSERT_RELATIVE),
            ("insert_edge", INSERT_EDGE),
            ("replace", REPLACE),
            ("delete", DELETE),
            ("restructure", RESTRUCTURE),
            ("summarize", SUMMARIZE),
        ):
            for m in pattern.finditer(message):
                found.append((m.start(), m.end(), kind, m))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        plan: list[tuple[str, re.Match]] = []
        end = -1
        for start, stop, kind, m in found:
            if start >= end:
                plan.append((kind, m))
                end = stop
        return plan

    # -- instructions ---------------------------------------------------------------------------

    def _replace(self, space: _Workspace, m: re.Match) -> str:
        old, new = _quoted(m, 1), _quoted(m, 3)
        total, touched = self._replace_in_blocks(space, old, new, re.escape(htmllib.escape(old, quote=False)))
        if total == 0:  # nothing as written: try ignoring case
            total, touched = self._replace_in_blocks(
                space, old, new, "(?i)" + re.escape(htmllib.escape(old, quote=False))
            )
        if total == 0:
            return f'I could not find "{old}" in the document, so nothing was replaced.'
        s = "s" if total != 1 else ""
        return f'Replaced {total} occurrence{s} of "{old}" with "{new}" in {touched} block{"s" if touched != 1 else ""}.'

    @staticmethod
    def _replace_in_blocks(space: _Workspace, old: str, new: str, pattern: str) -> tuple[int, int]:
        regex = re.compile(pattern)
        replacement = htmllib.escape(new, quote=False).replace("\\", "\\\\")
        total = touched = 0
        for i, block in enumerate(space.blocks):
            # Only text between tags is edited: markup and attributes (the chunk id) stay intact.
            parts = re.split(r"(<[^>]*>)", block.html)
            count = 0
            for j in range(0, len(parts), 2):
                parts[j], n = regex.subn(replacement, parts[j])
                count += n
            if count:
                space.blocks[i] = block_from_html("".join(parts), block.chunk_id)
                space.explain(block.chunk_id, f'Replaced "{old}" with "{new}" ({count}x).')
                total += count
                touched += 1
        return total, touched

    def _delete(self, space: _Workspace, m: re.Match) -> str:
        needle = _quoted(m, 1)
        hits = space.find(needle)
        if not hits:
            return f'I could not find a paragraph containing "{needle}", so nothing was deleted.'
        removed = 0
        for i in reversed(hits):
            block = space.blocks[i]
            node = parse_fragment(block.html)
            inner = _innermost_paragraphs(node, needle) if node is not None else []
            if node is None or block.tag in PARAGRAPH_TAGS or not inner or inner == [node]:
                space.explain(block.chunk_id, f'Deleted the block containing "{needle}".')
                del space.blocks[i]
                removed += 1
                continue
            for paragraph in inner:  # a paragraph inside a larger block: edit that block
                paragraph.decompose()
                removed += 1
            space.blocks[i] = block_from_html(node.html or "", block.chunk_id)
            space.explain(block.chunk_id, f'Removed the paragraph containing "{needle}".')
        s = "s" if removed != 1 else ""
        return f'Deleted {removed} paragraph{s} containing "{needle}".'

    def _insert_relative(self, space: _Workspace, m: re.Match) -> str:
        text, where, anchor = _quoted(m, 1), m.group(3).lower(), _quoted(m, 4)
        hits = space.find(anchor)
        if not hits:
            return f'I could not find a paragraph containing "{anchor}", so "{text}" was not inserted.'
        position = hits[0] + (1 if where in ("after", "below", "under") else 0)
        space.blocks.insert(position, self._paragraph(space, text, f'Inserted {where} the paragraph containing "{anchor}".'))
        return f'Inserted a paragraph {where} the one containing "{anchor}".'

    def _insert_edge(self, space: _Workspace, m: re.Match) -> str:
        text, edge = _quoted(m, 1), m.group(3).lower()
        at_end = edge in ("end", "bottom")
        block = self._paragraph(space, text, f"Inserted at the {'end' if at_end else 'beginning'} of the document.")
        space.blocks.insert(len(space.blocks) if at_end else 0, block)
        return f"Inserted a paragraph at the {'end' if at_end else 'beginning'} of the document."

    @staticmethod
    def _paragraph(space: _Workspace, text: str, why: str) -> Block:
        block = space.new_block(f"<p>{htmllib.escape(text, quote=False)}</p>", text)
        space.explain(block.chunk_id, why)
        return block

    def _summarize(self, space: _Workspace, m: re.Match) -> str:
        count = _number(m.group(1), 3)
        picked = summarize("\n\n".join(b.text for b in space.blocks if b.text), max_sentences=count)
        if not picked:
            return "The document has no text to summarize."
        return "Summary: " + " ".join(picked)

    @staticmethod
    def _summarize_attachments(turn: ChatTurn, m: re.Match) -> str:
        count = _number(m.group(1), 3)
        parts = []
        for attachment in _named_attachments(turn):
            picked = summarize(attachment.text, max_sentences=count)
            parts.append(f"Summary of {attachment.filename}: " + (" ".join(picked) if picked else "it has no text."))
        return " ".join(parts)

    def _restructure(self, space: _Workspace, m: re.Match) -> str:
        wanted = _number(m.group(1), 3)
        if wanted < 1:
            return "A document needs at least one section."
        start = 1 if space.blocks and space.blocks[0].tag == "h1" else 0  # keep the title on top
        body = space.blocks[start:]
        # A section may start at any block that does not follow a heading (a heading stays with
        # the text it introduces).
        candidates = [i for i in range(1, len(body)) if not body[i - 1].is_heading]
        if not any(not b.is_heading for b in body):
            return "The document has no text to organise into sections."
        sections = min(wanted, len(candidates) + 1)
        sizes = [len(b.text) + 1 for b in body]
        cumulative = [sum(sizes[:i]) for i in range(len(body) + 1)]
        target = cumulative[-1] / sections
        starts = [0]
        for k in range(1, sections):
            remaining = sections - 1 - k  # boundaries still to place after this one
            options = [c for c in candidates if c > starts[-1]]
            options = options[: len(options) - remaining] if remaining else options
            # Closest to an even split; a block that is already a heading is a natural start.
            best = min(
                options,
                key=lambda c: abs(cumulative[c] - k * target) - (0.2 * target if body[c].is_heading else 0),
            )
            starts.append(best)

        background = Counter(t for b in body for t in set(terms(b.text)))
        titles: list[str] = []
        plan: list[Block] = space.blocks[:start]
        for k, begin in enumerate(starts, start=1):
            end = starts[k] if k < len(starts) else len(body)
            group = body[begin:end]
            first = group[0]
            if first.is_heading:
                title = first.text
                heading = block_from_html(f"<h2>{k}. {htmllib.escape(title, quote=False)}</h2>", first.chunk_id)
                space.explain(first.chunk_id, f"Made this heading the title of section {k}.")
                rest = group[1:]
                plan.append(heading)
            else:
                words = key_terms(" ".join(b.text for b in group), background, len(body), k=3)
                title = _title(words) or f"Part {k}"
                heading = space.new_block(f"<h2>{k}. {htmllib.escape(title, quote=False)}</h2>", f"section {k} {title}")
                space.explain(heading.chunk_id, f"New heading for section {k}.")
                rest = group
                plan.append(heading)
            titles.append(f"{k}. {title}")
            for block in rest:
                if block.tag in ("h1", "h2"):  # headings inside a section now rank below it
                    node = parse_fragment(block.html)
                    inner = node.inner_html if node is not None else htmllib.escape(block.text)
                    block = block_from_html(f"<h3>{inner}</h3>", block.chunk_id)
                    space.explain(block.chunk_id, f"Demoted to a subheading of section {k}.")
                plan.append(block)
        space.blocks = plan
        note = "" if sections == wanted else f" (the document only has room for {sections})"
        return f"I restructured the document into {sections} sections{note}: " + "; ".join(titles) + "."


def _named_attachments(turn: ChatTurn) -> list:
    """The attachments a message names by file name, else all of them."""
    named = [a for a in turn.attachments if a.filename and a.filename.lower() in turn.message.lower()]
    return named or list(turn.attachments)


def _about_attachments(turn: ChatTurn) -> bool:
    lowered = turn.message.lower()
    mentioned = any(a.filename and a.filename.lower() in lowered for a in turn.attachments)
    return mentioned or "attach" in lowered or "file" in lowered or turn.document is None


def _title(words: list[str]) -> str:
    words = [w.capitalize() for w in words]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _innermost_paragraphs(node: LexborNode, needle: str) -> list[LexborNode]:
    wanted = normalize_space(needle).lower()
    matching = [n for n in node.css(", ".join(PARAGRAPH_TAGS)) if wanted in normalize_space(n.text()).lower()]
    # Keep those with no matching paragraph inside them.
    return [n for n in matching if not any(o is not n and _contains(n, o) for o in matching)]


def _contains(outer: LexborNode, inner: LexborNode) -> bool:
    parent = inner.parent
    while parent is not None:
        if parent == outer:
            return True
        parent = parent.parent
    return False


def _diff(original: Document, space: _Workspace, prefix: str) -> list[Change]:
    """One change per changed chunk: updates and deletes of original chunks, inserts of new ones."""
    before = {b.chunk_id: b for b in original.blocks}
    after_ids = {b.chunk_id for b in space.blocks}
    changes: list[Change] = []

    def why(chunk_id: str) -> str:
        return " ".join(space.explanations.get(chunk_id, [])) or "Changed by the offline engine."

    def add(**fields: object) -> None:
        changes.append(Change(change_id=f"{prefix}_{len(changes) + 1}", **fields))  # type: ignore[arg-type]

    anchor: str | None = None  # the nearest original chunk before the current position
    for block in space.blocks:
        if block.chunk_id in before:
            old = before[block.chunk_id]
            if old.html != block.html:
                add(operation="update", chunk_id=block.chunk_id, old_html=old.html, new_html=block.html,
                    ai_explanation=why(block.chunk_id))
            anchor = block.chunk_id
        else:
            add(operation="insert", chunk_id=block.chunk_id, old_html="", new_html=block.html,
                ai_explanation=why(block.chunk_id), after_chunk_id=anchor)
    for block in original.blocks:
        if block.chunk_id not in after_ids:
            add(operation="delete", chunk_id=block.chunk_id, old_html=block.html, new_html="",
                ai_explanation=why(block.chunk_id))
    return changes
