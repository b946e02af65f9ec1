"""HTML with selectolax (lexbor): headings, paragraphs, list items, tables and code in document
order; the <title> and <meta name=author> as metadata."""

from __future__ import annotations

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
    metadata: dict[str, str] = {}
    if (title := tree.css_first("title")) is not None and title.text(strip=True):
        metadata["title"] = title.text(strip=True)
    # Metadata stands in the head: looking through the body as well would take a walk of it all.
    if (author := (tree.head or tree.root).css_first('meta[name="author"]')) is not None and author.attributes.get("content"):
        metadata["author"] = author.attributes["content"] or ""
    blocks: list[Block] = []
    if (body := tree.body) is not None:
        # Innermost first: removing an element frees the elements inside it.
        for node in reversed(body.css(_SKIPPED_OR_BREAK)):
            if node.tag == "br":
                node.replace_with("\n")  # a line break separates words as a space does
            else:
                node.decompose()
        _walk(body, blocks, _holders(body))
        _normalize(blocks)
        blocks = [block for block in blocks if block.text]
    metadata["page_count"] = 1
    return ParsedDocument(format="html", pages=[Page(number=1)], blocks=blocks, metadata=metadata,
                          warnings=[] if blocks else ["The document has no text."])  # fmt: skip


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
    for table in tables:
        table.rows = [row for row in table.rows or () if any(row)]
        table.text = "\n".join([" | ".join(row) for row in table.rows])


def _holders(body: LexborNode) -> set[int]:
    """The list items and paragraphs that hold blocks, found by one query (not one per element)."""
    return {node.mem_id for node in body.css(_HOLDS_BLOCKS) if node.tag != "p" or _holds_a_block(node)}


def _holds_a_block(node: LexborNode) -> bool:
    return any(block.mem_id != node.mem_id for block in node.css(_ANY_BLOCK))  # a node's css() finds the node too


def _walk(node: LexborNode, blocks: list[Block], holders: set[int]) -> None:
    """Blocks in document order. An element's text is read with text_lexbor (lexbor's own text
    content: what text() gives, at half its cost)."""
    inline: list[str] = []  # loose text and inline elements between blocks form one paragraph

    def flush() -> None:
        blocks.append(Block("paragraph", " ".join(inline), 1))
        inline.clear()

    loose = node.text(deep=False)  # its own text, outside its elements: most often only white space
    for child in node.iter(include_text=bool(loose) and not loose.isspace()):
        tag = child.tag
        if (kind := _READ_WHOLE.get(tag)) is not None:
            if inline:
                flush()
            if holders and child.mem_id in holders:
                _walk(child, blocks, holders)
            else:
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
            _walk(child, blocks, holders)
        elif tag == "table":
            if inline:
                flush()
            blocks.append(Block("table", "", 1, rows=_rows(child)))  # its text once its cells are normalized
        elif tag == "pre":
            if inline:
                flush()
            if code := child.text_lexbor().strip("\n"):
                blocks.append(Block("code", code, 1))
        elif tag is not None and not tag.startswith("-"):  # an inline element; comments are no text
            inline.append(child.text_lexbor())
    if inline:
        flush()


def _rows(table: LexborNode) -> list[list[str]]:
    """The table's rows of cell texts as read (each row its own cells; a nested table's rows come
    after the row holding it)."""
    return [[cell.text_lexbor() for cell in row.iter() if cell.tag in _CELLS] for row in table.css("tr")]
