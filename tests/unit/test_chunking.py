"""The chunker splits a paragraph into sentences only where a chunk boundary or an overlap falls
inside it. These tests hold it to the plain chunker it replaced (every block split up front,
tests/unit/chunking_reference.py): the same chunks, ids included, for any blocks and options."""

from __future__ import annotations

import re

import pytest
from docjobs.domain.text import normalize_space, sentences
from docjobs.processors.chunking import chunk_blocks
from docjobs.processors.formats import parse_bytes
from docjobs.processors.model import (
    Block,
    Page,
    ParsedDocument,
    count_tokens,
    count_tokens_and_spacing,
    count_tokens_each,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import documents
from tests.corpus import corpus
from tests.unit import chunking_reference

_PIECES = ["The", "cat", "sat", "on", "a", "mat", "3.5", "e.g.", "U.S.", "Ünïcode", "naïve", "—", "x_1", "(see", "it)",
           "\"Quoted", "“Curly”", ".", "!", "?", ". The", "! Then", "? 42", ",", " ", "  ", "\n", "\n\n", "\t", "\u00a0",
           "Sentence.", "Ends!", "Asks?"]  # fmt: skip
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=60).map(" ".join)


@st.composite
def _blocks(draw: st.DrawFn) -> list[Block]:
    blocks = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["paragraph", "paragraph", "paragraph", "list_item", "heading", "table", "code"]))
        level = draw(st.integers(1, 3)) if kind == "heading" else None
        blocks.append(Block(type=kind, text=draw(_TEXT), page=draw(st.integers(1, 4)), level=level))
    parsed = ParsedDocument(format="text", pages=[Page(number=1)], blocks=blocks)
    parsed.assign_heading_paths()
    return blocks


_OPTIONS = st.fixed_dictionaries({
    "strategy": st.sampled_from(["tokens", "tokens", "heading", "sentence"]),
    "max_tokens": st.integers(1, 80),
    "overlap_tokens": st.integers(0, 40),
    "sentences_per_chunk": st.integers(1, 6),
    "seed": st.sampled_from(["", "s"]),
})  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(_blocks(), _OPTIONS)
def test_the_chunks_are_those_of_the_plain_chunker_for_any_blocks_and_options(blocks, options):
    assert chunk_blocks(blocks, **options) == chunking_reference.chunk_blocks(blocks, **options)


@pytest.mark.parametrize("max_tokens, overlap_tokens", [(512, 64), (100, 30), (40, 0), (25, 24), (2000, 200)])
def test_the_chunks_of_real_documents_are_those_of_the_plain_chunker(max_tokens, overlap_tokens):
    from bench.html import document

    parsed_corpus = [parse_bytes(document(), "big.html"), parse_bytes(documents.report_pdf(sections=4, pages_per_section=2))]
    parsed_corpus += [parse_bytes(data, name) for name, data in corpus().items()]
    for parsed in parsed_corpus:
        for strategy in ("tokens", "heading"):
            ours = chunk_blocks(parsed.blocks, strategy=strategy, max_tokens=max_tokens, overlap_tokens=overlap_tokens)
            assert ours == chunking_reference.chunk_blocks(parsed.blocks, strategy=strategy, max_tokens=max_tokens,
                                                           overlap_tokens=overlap_tokens)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=30) | _TEXT, min_size=1, max_size=50))
def test_many_texts_are_counted_together_as_each_alone(texts):
    many = texts * (70_000 // max(1, sum(map(len, texts)) + len(texts)) + 1)  # past the size counted together
    counts, spaced = count_tokens_and_spacing(many)
    assert counts == count_tokens_each(many) == [count_tokens(text) for text in many]
    flagged = set(spaced)
    assert spaced == sorted(flagged)
    assert all(normalize_space(text) == text for i, text in enumerate(many) if i not in flagged)
    assert all(normalize_space(many[i]) != many[i] or not many[i] for i in spaced)


_LOOK_BEHIND_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])")


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_sentences_end_where_the_look_behind_pattern_split_them(text):
    expected = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        expected += [s.strip() for s in _LOOK_BEHIND_SENTENCE_END.split(paragraph) if s.strip()]
    assert sentences(text) == expected
