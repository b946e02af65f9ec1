"""HTML with selectolax (lexbor): headings, paragraphs, list items, tables and code in document
order; the <title> and <meta name=author> as metadata."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from docjobs.domain.documents import normalize_space
from docjobs.processors.model import Block, Page, ParsedDocument

_SKIP = {"script", "style", "noscript", "template", "head", "svg", "nav", "iframe", "object"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CONTAINERS = {"div", "section", "article", "main", "body", "header", "footer", "aside", "form", "fieldset",
               "figure", "details", "ul", "ol", "dl", "blockquote", "center"}  # fmt: skip


def parse_html(text: str) -> ParsedDocument:
    tree = LexborHTMLParser(text)
    metadata: dict[str, str] = {}
    if (title := tree.css_first("title")) is not None and title.text(strip=True):
        metadata["title"] = title.text(strip=True)
    if (author := tree.css_first('meta[name="author"]')) is not None and author.attributes.get("content"):
        metadata["author"] = author.attributes["content"] or ""
    blocks: list[Block] = []
    if tree.body is not None:
        _walk(tree.body, blocks)
    metadata["page_count"] = 1
    return ParsedDocument(format="html", pages=[Page(number=1)], blocks=blocks, metadata=metadata,
                          warnings=[] if blocks else ["The document has no text."])  # fmt: skip


def _walk(node: LexborNode, blocks: list[Block]) -> None:
    inline: list[str] = []  # loose text and inline elements between blocks form one paragraph

    def flush() -> None:
        text = normalize_space(" ".join(inline))
        inline.clear()
        if text:
            blocks.append(Block(type="paragraph", text=text, page=1))

    for child in node.iter(include_text=True):
        tag = child.tag or ""
        if tag == "-text":
            inline.append(child.text(deep=False))
        elif tag in _SKIP or tag.startswith("-"):
            continue
        elif tag in _HEADINGS:
            flush()
            if text := normalize_space(child.text()):
                blocks.append(Block(type="heading", text=text, page=1, level=_HEADINGS[tag]))
        elif tag == "li":
            flush()
            nested = child.css_first("ul, ol, table, p, div")
            if nested is None:
                if text := normalize_space(child.text()):
                    blocks.append(Block(type="list_item", text=text, page=1))
            else:
                _walk(child, blocks)
        elif tag == "table":
            flush()
            rows = [[normalize_space(c.text()) for c in row.css("th, td")] for row in child.css("tr")]
            rows = [r for r in rows if any(r)]
            if rows:
                blocks.append(Block(type="table", text="\n".join(" | ".join(r) for r in rows), page=1, rows=rows))
        elif tag == "pre":
            flush()
            if code := child.text().strip("\n"):
                blocks.append(Block(type="code", text=code, page=1))
        elif tag in ("p", "dt", "dd", "figcaption", "caption", "address"):
            flush()
            if child.css_first("p, div, table, ul, ol") is not None:
                _walk(child, blocks)
            elif text := normalize_space(child.text()):
                blocks.append(Block(type="paragraph", text=text, page=1))
        elif tag in _CONTAINERS:
            flush()
            _walk(child, blocks)
        elif tag == "br":
            inline.append("\n")
        else:
            inline.append(child.text())
    flush()
