"""The compiled HTML walk (_htmlwalk.c) reads every document as the Python walk does: the same
blocks, texts, levels and table rows, on any markup, white space and bytes."""

from __future__ import annotations

import sys
from dataclasses import asdict, astuple

import pytest
from docjobs.processors.formats import html, parse_bytes
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from tests.unit.test_parsing import _HTML_ELEMENTS


def _compiled(page: str | bytes) -> list[tuple]:
    body = LexborHTMLParser(page).body
    return [] if body is None else [astuple(block) for block in html._compiled.walk(body)]


def _python(page: str | bytes) -> list[tuple]:
    body = LexborHTMLParser(page).body
    return [] if body is None else [astuple(block) for block in html.read_blocks_in_python(body)]


def test_the_compiled_walk_is_built_and_passed_its_check():
    """`make` builds it (setup.py); html.py takes it only once it has read a sample as the Python walk does."""
    assert html._compiled is not None, "the compiled HTML walk is not built: pip install -e . (make) builds it"


_TAGS = ["p", "div", "li", "ul", "ol", "h1", "h3", "h6", "table", "tr", "td", "th", "pre", "span", "b", "a", "br",
         "script", "style", "nav", "svg", "template", "dl", "dt", "dd", "caption", "figcaption", "section", "button",
         "blockquote", "address", "code", "my-widget", "math", "select", "object", "iframe", "noscript"]  # fmt: skip
# White space of every kind, the bytes near it in UTF-8 that are none, entities, markup characters.
_TEXTS = ["word", "Two words.", " ", "  ", "\n", "\t", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680",
          "\u2000", "\u200a", "\u200b", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u2014", "\u201c", "\u2020",
          "\u205e", "\u3001", "\xa1", "\x84", "&nbsp;", "&amp;", "&#x2003;", "<", "é", "😀", "\x01"]  # fmt: skip


@st.composite
def _markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(st.sampled_from(_TAGS))
            parts.append(f"<{tag}>{draw(_markup(depth + 1))}</{tag}>")
        elif draw(st.integers(0, 9)) == 0:
            parts.append("<!-- a comment -->")
        else:
            parts.append("".join(draw(st.lists(st.sampled_from(_TEXTS), max_size=4))))
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(_markup(), st.sampled_from(["<!doctype html>", ""]))
def test_any_markup_is_read_alike(markup, doctype):
    page = f"{doctype}<html><body>{markup}</body></html>"
    assert _compiled(page) == _python(page)


@pytest.mark.parametrize("element", _HTML_ELEMENTS)
def test_every_element_is_read_alike_around_blocks_and_text(element):
    for inside in ("x", "<p>x</p>", "<div>x<li>y</li></div>", "a<br>b", "<tr><td>c</td></tr>", "<h2>t</h2> tail"):
        page = f"<body>before<{element}>{inside}</{element}>after<p>p<{element}>{inside}</{element}></p></body>"
        assert _compiled(page) == _python(page), page


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60), st.sampled_from(["p", "li", "td", "pre", "span", "h2"]))
def test_any_bytes_are_read_alike(data, tag):
    """Bytes that are not UTF-8 pass through lexbor as they are; both walks decode them to U+FFFD."""
    page = b"<html><body><table><tr><" + tag.encode() + b">" + data + b"</" + tag.encode() + b"></tr></table><" + tag.encode() + b">" + data + b" x " + data + b"</" + tag.encode() + b"></body></html>"
    assert _compiled(page) == _python(page)


def test_white_space_is_what_python_calls_white_space():
    """Every code point str.isspace() calls white space is collapsed, and no other: all of ASCII,
    and of the planes whose UTF-8 starts with a byte that white space starts with (C2, E1, E2, E3)."""
    codes = [c for c in [*range(0x80, 0xC0), *range(0x1000, 0x4000), *range(1, 0x80)]
             if c not in (0x0C, 0x0D) and chr(c) not in "<&" and not 0xD800 <= c <= 0xDFFF]  # (the parser changes those)
    spaces = {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert spaces <= {*codes, 0x0C, 0x0D}
    for start in range(0, len(codes), 2000):
        batch = codes[start : start + 2000]
        page = "<body>" + "".join(f"<p>a{chr(c)}{chr(c)}b</p>" for c in batch) + "</body>"
        got = [block[1] for block in _compiled(page)]
        assert got == [block[1] for block in _python(page)]
        assert got == ["a b" if c in spaces else f"a{chr(c)}{chr(c)}b" for c in batch]


def test_a_page_nested_thousands_deep_is_read():
    depth = 20_000
    page = ("<div>" * depth + "<p>deep</p>" + "<span>" * depth + "inline" + "</span>" * depth + "</div>" * depth).encode()
    assert [b.text for b in parse_bytes(page, "deep.html").blocks] == ["deep", "inline"]
    assert _python(page) == _compiled(page)


def test_the_compiled_walk_makes_blocks_like_any_other():
    page = b"<body><h1>Title</h1><p>Text</p><table><tr><td>a</td><td>b</td></tr><tr><td></td></tr></table></body>"
    blocks = html._compiled.walk(LexborHTMLParser(page).body)
    assert all(type(block) is html.Block for block in blocks)
    assert [asdict(block) for block in blocks] == [asdict(block) for block in html.read_blocks_in_python(LexborHTMLParser(page).body)]
    assert blocks[2].rows == [["a", "b"]] and blocks[2].text == "a | b"
    blocks[1].heading_path.append("Title")  # each block its own list, as the dataclass's default gives
    assert blocks[0].heading_path == [] and blocks[1].to_dict(1)["heading_path"] == ["Title"]
    parsed = parse_bytes(page, "page.html")
    assert [b.heading_path for b in parsed.blocks] == [[], ["Title"], ["Title"]]


def test_the_walk_reads_only_nodes_of_selectolax():
    with pytest.raises(TypeError):
        html._compiled.walk("<p>not a node</p>")
