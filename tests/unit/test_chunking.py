"""The chunker splits a paragraph into sentences only where a chunk boundary or an overlap falls
inside it. These tests hold it to the plain chunker it replaced (every block split up front,
tests/unit/chunking_reference.py): the same chunks, ids included, for any blocks and options."""

from __future__ import annotations

import re
import sys
from unittest import mock

import pytest
from docjobs.domain.text import normalize_space, sentences
from docjobs.processors import model
from docjobs.processors.chunking import _split_long, chunk_blocks
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


def test_the_compiled_count_is_built():
    assert model._compiled is not None, "the compiled token count is not built: pip install -e . (make) builds it"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=()), max_size=40) | _TEXT)
def test_the_compiled_count_is_the_regex_count_and_the_python_count(text):
    """Any text (any code point, lone surrogates too): as many tokens as the token regex finds."""
    assert count_tokens(text) == model.count_tokens_in_python(text) == len(model._TOKEN.findall(text))
    counts, spaced = count_tokens_and_spacing([text, "x", text])
    assert counts == [count_tokens(text), 1, count_tokens(text)]
    assert spaced == ([0, 2] if normalize_space(text) != text else [])


_RUNS = st.lists(st.sampled_from(["word", "Word_9", " ", "  ", "\t", "\n", "\x1c", ".", "--", "é", "—", "“", "\xa0",
                                   "\u3000", "😀", "ß", "\x85", "\x00", "x" * 40, " " * 20]), max_size=400).map("".join)


@settings(max_examples=300, deadline=None)
@given(_RUNS)
def test_the_compiled_count_of_long_texts_is_the_regex_count(text):
    """Long texts, mostly of ASCII (counted 16 characters at a time) with others among them (one at a
    time), past the 1,600 characters after which the lanes' sums are taken."""
    for long in (text, text * 5, "a" + text * 9, "." * 5_000 + text, text + "a b " * 2_000 + "—"):  # (a token in every lane)
        assert count_tokens(long) == len(model._TOKEN.findall(long))
        assert count_tokens_and_spacing([long])[1] == ([0] if normalize_space(long) != long else [])


def test_the_compiled_count_knows_every_code_point():
    """Each code point before a letter: one token with it (a word character), one for it alone (white
    space) or one for each (a mark), as the token regex's \\w and \\s say (str.isalnum or "_", str.isspace)."""
    texts = [chr(code) + "a" for code in range(sys.maxunicode + 1)]
    expected = [1 if text[0].isalnum() or text[0] == "_" else 1 if text[0].isspace() else 2 for text in texts]
    assert count_tokens_each(texts) == expected
    assert [len(model._TOKEN.findall(text)) for text in texts[:0x3400]] == expected[:0x3400]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=30) | _TEXT
                | st.text(st.characters(exclude_categories=()), max_size=30), min_size=1, max_size=50))
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_many_texts_are_counted_together_as_each_alone(compiled, texts):
    with mock.patch.object(model, "_compiled", model._compiled if compiled else None):
        _counted_together_as_each_alone(texts)


def _counted_together_as_each_alone(texts):
    many = texts * (70_000 // max(1, sum(map(len, texts)) + len(texts)) + 1)  # past the size counted together
    counts, spaced = count_tokens_and_spacing(many)
    assert counts == count_tokens_each(many) == [count_tokens(text) for text in many]
    with mock.patch.object(model, "_WINDOW", 997):  # in many runs: the same
        assert count_tokens_and_spacing(many) == (counts, spaced)
    joined = " ".join(many)
    assert model.normalize_each(many) == [normalize_space(text) for text in many]
    assert model.has_double_space(joined) == ("  " in joined)
    with mock.patch.object(model, "_WINDOW", 997):  # two spaces across windows are seen too
        assert model.has_double_space(joined) == ("  " in joined)
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


_CODE_LINE = st.sampled_from(["def f(x):", "    return x + 1", "", "    # a comment, e.g. this", "x = [1, 2, 3]",
                              "print(f'{x!r}')", "        deeply(nested, call)", "}", "a_very_long_name_" * 12,
                              "url = 'https://example.com/a/b/c?d=e&f=g'", "\t"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_CODE_LINE | _TEXT, max_size=80).map("\n".join), st.integers(1, 60), st.booleans())
def test_a_block_longer_than_a_chunk_is_cut_into_pieces_that_fit_and_lose_nothing(text, max_tokens, by_lines):
    pieces, tokens, joiners = _split_long(text, max_tokens, by_lines)
    assert len(pieces) == len(tokens) == len(joiners) >= 1
    assert all(n == count_tokens(piece) <= max_tokens for piece, n in zip(pieces, tokens))
    rejoined = pieces[0] + "".join(joiner + piece for joiner, piece in zip(joiners[1:], pieces[1:]))
    # Only white space may change, and only where a sentence or a line was cut.
    assert rejoined.split() == text.split() or "".join(rejoined.split()) == "".join(text.split())
    if by_lines and text.strip() and all(count_tokens(line) <= max_tokens for line in text.split("\n")):
        assert rejoined == text.strip("\n")  # code and tables: every line as it is, blank lines kept


@settings(max_examples=300, deadline=None)
@given(_blocks(), _OPTIONS)
def test_every_block_with_text_is_in_a_chunk(blocks, options):
    chunks = chunk_blocks(blocks, **options)
    in_chunks = {block_id for chunk in chunks for block_id in chunk["block_ids"]}
    assert {f"b_{i}" for i, block in enumerate(blocks) if count_tokens(block.text)} <= in_chunks


def test_a_heading_before_a_block_that_fills_a_chunk_is_kept():
    table = Block("table", "\n".join(f"r{n} | {n}" for n in range(10)), 1)  # 30 tokens
    blocks = [Block("paragraph", "Intro.", 1), Block("heading", "Results", 1, 1), table]
    ParsedDocument(format="html", pages=[Page(number=1)], blocks=blocks).assign_heading_paths()
    chunks = chunk_blocks(blocks, max_tokens=count_tokens(table.text), overlap_tokens=0)
    assert [c["text"] for c in chunks] == ["Intro.", "Results", table.text]


def test_code_longer_than_a_chunk_is_chunked_between_its_lines():
    code = "\n".join(f"def handler_{n}(event, context):\n    return {{'n': {n}, 'ok': True}}\n" for n in range(200))
    parsed = parse_bytes(f"<h1>Handlers</h1><p>All of them.</p><pre>{code}</pre>".encode(), "code.html")
    chunks = chunk_blocks(parsed.blocks, max_tokens=100, overlap_tokens=0)
    assert len(chunks) > 10 and all(c["token_count"] <= 100 for c in chunks)
    assert chunks[0]["text"].startswith("Handlers\n\nAll of them.\n\ndef handler_0(event, context):\n    return")
    bodies = [chunks[0]["text"].removeprefix("Handlers\n\nAll of them.\n\n")] + [c["text"] for c in chunks[1:]]
    assert all(body in code for body in bodies)  # lines whole, with their indentation, line breaks and blank lines
    assert [line for line in "\n".join(bodies).split("\n") if line] == [line for line in code.split("\n") if line]
    assert all(c["heading_path"] == ["Handlers"] for c in chunks)


def test_a_word_longer_than_a_chunk_is_cut_between_its_tokens():
    blob = "data:image/png;base64," + "iVBORw0KGgo/AAAA+NSUhEUg" * 200  # punctuation: many tokens, no space
    chunks = chunk_blocks([Block("paragraph", f"An image: {blob}", 1)], max_tokens=50, overlap_tokens=0)
    assert all(c["token_count"] == count_tokens(c["text"]) <= 50 for c in chunks)
    assert "".join(c["text"] for c in chunks) == f"An image:{blob}"


@pytest.mark.parametrize("at", [0, 995, 996, 997, 70_000])
def test_two_spaces_are_found_wherever_they_stand(at):
    text = "a" * at + "  " + "b" * (70_000 - at)
    with mock.patch.object(model, "_WINDOW", 997):  # the spaces at 996 and 997 stand in two windows
        assert model.has_double_space(text) and not model.has_double_space(text.replace("  ", " "))
