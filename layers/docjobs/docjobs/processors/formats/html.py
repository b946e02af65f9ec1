"""HTML with selectolax (lexbor): headings, paragraphs, list items, tables and code in document
order; the <title> and <meta name=author> as metadata."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import astuple, fields
from types import ModuleType
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from docjobs.processors.model import Block, Page, ParsedDocument, normalize_each

# Never text of the document: removed before reading (their text would otherwise join that of
# the paragraph or heading they sit in).
_SKIPPED = {"script", "style", "noscript", "template", "svg", "nav", "iframe", "object"}
_SKIPPED_OR_BREAK = ", ".join(sorted(_SKIPPED)) + ", br"
_CELLS = ("td", "th")
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_PARAGRAPHS = {"p", "dt", "dd", "figcaption", "caption", "address"}
_READ_WHOLE = {**{tag: "paragraph" for tag in _PARAGRAPHS}, "li": "list_item"}  # unless they hold blocks
_CONTAINERS = {"div", "section", "article", "main", "body", "header", "footer", "aside", "form", "fieldset",
               "figure", "details", "ul", "ol", "dl", "blockquote", "center"}  # fmt: skip
# A list item or paragraph holding a block (a nested list, a paragraph, a table...) is read as a
# container: its blocks one by one, not its text run together.
_BLOCKS = sorted({*_HEADINGS, *_PARAGRAPHS, *_CONTAINERS, "li", "table", "pre"} - {"body"})
_ANY_BLOCK = ", ".join(_BLOCKS)
# A paragraph cannot hold a block but through one of these: the start of a block ends an open
# paragraph unless one of them stands between (HTML's "p element in button scope"; a table in
# quirks mode). Looking for them costs a third of looking for every kind of block.
_PARAGRAPH_SCOPES = ("applet", "button", "marquee", "math", "object", "select", "svg", "table")
# One selector per tag costs less than :is(...) of them all (lexbor finds nothing with :is in :has).
_HOLDS_BLOCKS = ", ".join([f"{tag}:has({_ANY_BLOCK})" for tag in sorted(_READ_WHOLE) if tag != "p"]
                          + [f"p:has({', '.join(_PARAGRAPH_SCOPES)})"])  # fmt: skip


def parse_html(html: str | bytes) -> ParsedDocument:
    """`html` as text, or as bytes of UTF-8."""
    tree = LexborHTMLParser(html)
    metadata: dict[str, Any] = {}
    if (title := tree.css_first("title")) is not None and title.text(strip=True):
        metadata["title"] = title.text(strip=True)
    # Metadata stands in the head: looking through the body as well would take a walk of it all.
    if (head := tree.head or tree.root) is not None and (author := head.css_first('meta[name="author"]')) is not None \
            and author.attributes.get("content"):  # fmt: skip
        metadata["author"] = author.attributes["content"] or ""
    blocks = [] if tree.body is None else read_blocks(tree.body)
    metadata["page_count"] = 1
    return ParsedDocument(format="html", pages=[Page(number=1)], blocks=blocks, metadata=metadata,
                          warnings=[] if blocks else ["The document has no text."])  # fmt: skip


def read_blocks(body: LexborNode) -> list[Block]:
    """The blocks under <body>, with text, in document order: by the compiled walk where it is
    built (a fraction of the time), else by the walk below (the reference it is checked against)."""
    if _compiled is not None:
        return _compiled.walk(body)  # type: ignore[no-any-return]
    return read_blocks_in_python(body)


def read_blocks_in_python(body: LexborNode) -> list[Block]:
    """The walk in Python. It edits the tree: skipped elements go, line breaks become text."""
    # Innermost first: removing an element frees the elements inside it.
    for node in reversed(body.css(_SKIPPED_OR_BREAK)):
        if node.tag == "br":
            node.replace_with("\n")  # a line break separates words as a space does
        else:
            node.decompose()
    blocks: list[Block] = []
    _walk(body, blocks, _holders(body))
    _normalize(blocks)
    return [block for block in blocks if block.text]


def _normalize(blocks: list[Block]) -> None:
    """The walk keeps the texts of blocks and of table cells as read; their white space is
    collapsed for all at once (most often there is none to collapse: one look at all of them), and
    a table's text is made of its rows' cells (rows without text are left out)."""
    prose = [block for block in blocks if block.type not in ("table", "code")]
    tables = [block for block in blocks if block.type == "table"]
    texts = [block.text for block in prose] + [text for table in tables for row in table.rows or () for text in row]
    if (normalized := normalize_each(texts)) is not texts:
        for block, text in zip(prose, normalized):
            block.text = text
        cells = iter(normalized[len(prose) :])
        for table in tables:
            table.rows = [[next(cells) for _ in row] for row in table.rows or ()]
    for table in tables:  # (rows without text are left out)
        table.rows = [row for row in table.rows or () if any(row)]
        table.text = "\n".join([" | ".join(row) for row in table.rows])


def _holders(body: LexborNode) -> set[int]:
    """The list items and paragraphs that hold blocks, found by one query (not one per element)."""
    return {node.mem_id for node in body.css(_HOLDS_BLOCKS) if node.tag != "p" or _holds_a_block(node)}


def _holds_a_block(node: LexborNode) -> bool:
    return any(block.mem_id != node.mem_id for block in node.css(_ANY_BLOCK))  # a node's css() finds the node too


def _walk(body: LexborNode, blocks: list[Block], holders: set[int]) -> None:
    """Blocks in document order. An element's text is read with text_lexbor (lexbor's own text
    content: what text() gives, at half its cost). Containers are entered with a stack of their
    children, not by recursion: a page may nest thousands deep."""
    inline: list[str] = []  # loose text and inline elements between blocks form one paragraph

    def flush() -> None:
        blocks.append(Block("paragraph", " ".join(inline), 1))
        inline.clear()

    def children(node: LexborNode) -> Iterator[LexborNode]:
        loose = node.text(deep=False)  # its own text, outside its elements: most often only white space
        return node.iter(include_text=bool(loose) and not loose.isspace())

    stack = [children(body)]
    while stack:
        for child in stack[-1]:  # (resumed where it stopped to enter a container)
            tag = child.tag or ""
            if (kind := _READ_WHOLE.get(tag)) is not None:
                if inline:
                    flush()
                if holders and child.mem_id in holders:
                    stack.append(children(child))
                    break
                blocks.append(Block(kind, child.text_lexbor(), 1))
            elif tag == "-text":
                if not (text := child.text(deep=False)).isspace():  # the space between blocks is no text
                    inline.append(text)
            elif tag in _HEADINGS:
                if inline:
                    flush()
                blocks.append(Block("heading", child.text_lexbor(), 1, _HEADINGS[tag]))
            elif tag in _CONTAINERS:
                if inline:
                    flush()
                stack.append(children(child))
                break
            elif tag == "table":
                if inline:
                    flush()
                blocks.append(Block("table", "", 1, rows=_rows(child)))  # its text once its cells are normalized
            elif tag == "pre":
                if inline:
                    flush()
                if code := child.text_lexbor().strip("\n"):
                    blocks.append(Block("code", code, 1))
            elif tag and not tag.startswith("-"):  # an inline element; comments are no text
                inline.append(child.text_lexbor())
        else:  # a container's end closes its paragraph
            stack.pop()
            if inline:
                flush()


def _rows(table: LexborNode) -> list[list[str]]:
    """The table's rows of cell texts as read (each row its own cells; a nested table's rows come
    after the row holding it)."""
    return [[cell.text_lexbor() for cell in row.iter() if cell.tag in _CELLS] for row in table.css("tr")]


# The compiled walk (_htmlwalk.c): told what each tag id is to it, then checked against the walk
# above on a document with every kind of element in it. Where it is not built (or reads the tree
# otherwise: another selectolax), the walk above runs.
_TYPES = ("paragraph", "list_item", "heading", "table", "code")  # the Block types of the compiled walk's kinds
_SAMPLE = """<html><head><title>t</title><style>p {}</style></head><body>Loose <b>bold</b> text
<h2> A  heading </h2><p>A&nbsp;paragraph<br>broken, <script>skipped()</script>with <i>inline</i>\u2003text.</p>
<ul><li>One</li><li>Two<ul><li>nested</li></ul></li></ul><div>In <span>a</span> div<!-- no --></div>
<table><tr><th>k</th><td>v<table><tr><td>inner</td></tr></table></td></tr><tr><td> </td></tr></table>
<pre>\n  code\n    indented\n</pre><nav>menu</nav><dl><dt>term</dt><dd>its <p>definition</p></dd></dl>
<p><button><div>in a button</div></button></p><my-widget>custom</my-widget><caption>lone</caption>
<svg><text>drawn</text></svg>end</body></html>"""


def _load_compiled() -> ModuleType | None:
    try:
        from docjobs.processors.formats import _htmlwalk  # type: ignore[attr-defined]
    except ImportError:
        return None
    kinds = {tag: _htmlwalk.SKIPPED for tag in _SKIPPED} | {"br": _htmlwalk.BREAK}
    kinds |= {tag: _htmlwalk.PARAGRAPH for tag in _PARAGRAPHS} | {"li": _htmlwalk.LIST_ITEM}
    kinds |= {tag: _htmlwalk.HEADING | level << _htmlwalk.LEVEL_SHIFT for tag, level in _HEADINGS.items()}
    kinds |= {tag: _htmlwalk.CONTAINER for tag in _CONTAINERS}
    kinds |= {"table": _htmlwalk.TABLE, "pre": _htmlwalk.PRE, "tr": _htmlwalk.ROW, "td": _htmlwalk.CELL, "th": _htmlwalk.CELL}
    for tag in _BLOCKS:
        kinds[tag] |= _htmlwalk.BLOCK
    try:
        if [f.name for f in fields(Block)] != ["type", "text", "page", "level", "heading_path", "rows", "font_size"] \
                or hasattr(Block, "__post_init__"):  # fmt: skip
            raise TypeError("the walk makes Blocks of other fields")
        tree = LexborHTMLParser("")
        nodes = {tag: tree.create_node(tag) for tag in kinds}
        _htmlwalk.configure(type(nodes["p"]), {}, Block, _TYPES)  # (to read the tag ids)
        ids = {tag: _htmlwalk.tag_id(node) for tag, node in nodes.items()}
        if len(set(ids.values())) != len(ids):
            raise ValueError(f"tag ids read wrong: {ids}")
        _htmlwalk.configure(type(nodes["p"]), {ids[tag]: kind for tag, kind in kinds.items()}, Block, _TYPES)
        compiled = [astuple(block) for block in _htmlwalk.walk(LexborHTMLParser(_SAMPLE).body)]
        reference = [astuple(block) for block in read_blocks_in_python(LexborHTMLParser(_SAMPLE).body)]
        if compiled != reference:
            raise ValueError(f"the compiled walk read {compiled}, the Python walk {reference}")
    except (TypeError, ValueError, OverflowError) as error:
        logging.getLogger(__name__).warning("HTML: the compiled walk is not used (%s)", error)
        return None
    return _htmlwalk


_compiled = _load_compiled()
