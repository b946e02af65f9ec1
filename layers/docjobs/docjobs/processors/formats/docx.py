"""DOCX with the standard library (zip + XML): headings (by paragraph style), paragraphs, list
items and tables in document order, and the core properties. No lxml in the Lambda package."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from xml.etree import ElementTree

from docjobs.processors.model import Block, DocumentError, Page, ParsedDocument

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|berschrift|titre|título|titolo)\s*(\d)$", re.I)
_MAX_XML_BYTES = 200 * 1024 * 1024  # a zip bomb guard: document.xml this large is not a document


def parse_docx(data: bytes) -> ParsedDocument:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        info = archive.getinfo("word/document.xml")
        if info.file_size > _MAX_XML_BYTES:
            raise DocumentError("The DOCX document body is too large to process.", code="document_too_large")
        root = ElementTree.fromstring(archive.read(info))
        styles = _style_names(archive)
        metadata = _core_properties(archive)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, EOFError) as error:
        raise DocumentError(f"The DOCX file could not be read; it may be corrupt ({error}).", code="corrupt_document") from None

    body = root.find(f"{W}body")
    blocks: list[Block] = []
    for element in list(body) if body is not None else []:
        if element.tag == f"{W}p":
            block = _paragraph(element, styles)
            if block is not None:
                blocks.append(block)
        elif element.tag == f"{W}tbl":
            rows = [[_text(cell) for cell in row.findall(f"{W}tc")] for row in element.findall(f"{W}tr")]
            rows = [r for r in rows if any(c.strip() for c in r)]
            if rows:
                blocks.append(Block(type="table", text="\n".join(" | ".join(r) for r in rows), page=1, rows=rows))
    metadata["page_count"] = 1
    return ParsedDocument(format="docx", pages=[Page(number=1)], blocks=blocks, metadata=metadata,
                          warnings=[] if blocks else ["The document has no text."])  # fmt: skip


def _paragraph(element: ElementTree.Element, styles: dict[str, str]) -> Block | None:
    text = _text(element).strip()
    if not text:
        return None
    properties = element.find(f"{W}pPr")
    style_id = ""
    if properties is not None and (style := properties.find(f"{W}pStyle")) is not None:
        style_id = style.get(f"{W}val", "")
    name = styles.get(style_id, style_id)
    if name.lower() == "title":
        return Block(type="heading", text=text, page=1, level=1)
    if match := _HEADING_STYLE.match(name.replace("_", " ")):
        return Block(type="heading", text=text, page=1, level=min(int(match.group(1)), 6))
    if (properties is not None and properties.find(f"{W}numPr") is not None) or name.lower().startswith("list"):
        return Block(type="list_item", text=text, page=1)
    return Block(type="paragraph", text=text, page=1)


def _text(element: ElementTree.Element) -> str:
    parts: list[str] = []
    for node in element.iter():
        if node.tag == f"{W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{W}tab":
            parts.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif node.tag == f"{W}p" and parts and node is not element:
            parts.append("\n")
    return "".join(parts)


def _style_names(archive: zipfile.ZipFile) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(archive.read("word/styles.xml"))
    except (KeyError, ElementTree.ParseError):
        return {}
    names = {}
    for style in root.findall(f"{W}style"):
        name = style.find(f"{W}name")
        if name is not None:
            names[style.get(f"{W}styleId", "")] = name.get(f"{W}val", "")
    return names


def _core_properties(archive: zipfile.ZipFile) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(archive.read("docProps/core.xml"))
    except (KeyError, ElementTree.ParseError):
        return {}
    wanted = {"title": "title", "creator": "author", "subject": "subject", "created": "created", "modified": "modified"}
    out = {}
    for node in root:
        local = node.tag.rsplit("}", 1)[-1]
        if local in wanted and node.text:
            out[wanted[local]] = node.text
    return out
