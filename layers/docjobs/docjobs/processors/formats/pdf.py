"""PDF with pypdfium2 (PDFium: Apache/BSD; about 15x pypdf's speed on text). Lines come in
PDFium's reading order; their font sizes tell headings from body text, and vertical gaps tell
where paragraphs end."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from docjobs.processors.model import Block, DocumentError, Page, ParsedDocument

# PDFium is not thread-safe: every use of it in this process holds this lock. (A Lambda container
# handles one event at a time; the local stack runs several workers as threads in one process.)
PDFIUM_LOCK = threading.RLock()
# Extra space between two lines, as a share of the line's height, that starts a new paragraph.
PARAGRAPH_GAP = 0.35

_BULLET = re.compile(r"^(?:[•◦▪‣\-–*·]|\(?\d{1,3}[.)]|[a-z][.)])\s+")
_METADATA_KEYS = {"Title": "title", "Author": "author", "Subject": "subject", "Keywords": "keywords",
                  "Creator": "creator", "Producer": "producer", "CreationDate": "created", "ModDate": "modified"}  # fmt: skip


@dataclass
class _Line:
    text: str
    size: float
    top: float
    bottom: float
    page: int


def parse_pdf(data: bytes) -> ParsedDocument:
    with PDFIUM_LOCK:
        pdf = open_pdf(data)
        try:
            return _parse(pdf)
        finally:
            pdf.close()


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open a PDF (hold PDFIUM_LOCK), turning PDFium's refusals into clear DocumentErrors."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        message = str(error)
        if "password" in message.lower():
            raise DocumentError("The PDF is encrypted (password protected); send an unlocked copy.", code="encrypted_document") from None
        raise DocumentError(f"The PDF could not be read; it may be corrupt ({message}).", code="corrupt_document") from None


def _parse(pdf: pdfium.PdfDocument) -> ParsedDocument:
    metadata = {name: value for key, name in _METADATA_KEYS.items() if (value := pdf.get_metadata_value(key))}
    pages: list[Page] = []
    lines: list[_Line] = []
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            width, height = page.get_size()
            textpage = page.get_textpage()
            try:
                page_lines = _lines(textpage, index + 1)
            finally:
                textpage.close()
            info = Page(number=index + 1, width=width, height=height, has_text_layer=bool(page_lines))
            if not page_lines:
                info.image_count = sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))
            pages.append(info)
            lines.extend(page_lines)
        finally:
            page.close()

    warnings = []
    textless = [p.number for p in pages if not p.has_text_layer]
    if textless:
        scanned = [n for n in textless if pages[n - 1].image_count]
        if scanned:
            warnings.append(f"Pages {_ranges(scanned)} have no text layer (scanned images?): their text was not extracted; OCR is not available.")
        blank = [n for n in textless if n not in scanned]
        if blank:
            warnings.append(f"Pages {_ranges(blank)} are blank.")
    metadata["page_count"] = len(pages)
    return ParsedDocument(format="pdf", pages=pages, blocks=_blocks(lines), metadata=metadata, warnings=warnings)


def _lines(textpage: pdfium.PdfTextPage, page_number: int) -> list[_Line]:
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    out: list[_Line] = []
    offset = 0
    # PDFium's text carries generated "\r\n" line breaks, counted as characters, so a line's
    # offset in the string is its first character's index: one box call a line. The loose box
    # spans the font's ascent to descent as rendered, so its height is the line's real size
    # (FPDFText_GetFontSize is not: many generators set the font size to 1 and scale the text
    # matrix) and the space between two loose boxes is the extra leading between the lines.
    for piece in text.split("\r\n"):
        stripped = piece.strip()
        if stripped:
            first = offset + (len(piece) - len(piece.lstrip()))
            _left, bottom, _right, top = textpage.get_charbox(first, loose=True)
            out.append(_Line(stripped, round(top - bottom, 1), top, bottom, page_number))
        offset += len(piece) + 2
    return out


def _blocks(lines: list[_Line]) -> list[Block]:
    if not lines:
        return []
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body = weights.most_common(1)[0][0]
    heading_sizes = sorted({ln.size for ln in lines if _is_heading_size(ln, body)}, reverse=True)
    level_of = {size: min(i + 1, 6) for i, size in enumerate(heading_sizes)}

    blocks: list[Block] = []
    current: Block | None = None
    previous: _Line | None = None
    for line in lines:
        heading = _is_heading_size(line, body)
        bullet = not heading and _BULLET.match(line.text)
        same_run = (
            current is not None
            and previous is not None
            and previous.page == line.page
            and abs(previous.size - line.size) < 0.6
            and not bullet
            and _gap(previous, line) < PARAGRAPH_GAP * max(previous.size, 1.0)
            and (current.type == "heading") == heading
            and current.type in ("paragraph", "heading", "list_item")
        )
        if same_run and current is not None:
            current.text = _join(current.text, line.text)
        else:
            kind = "heading" if heading else ("list_item" if bullet else "paragraph")
            text = _BULLET.sub("", line.text) if bullet else line.text
            current = Block(type=kind, text=text, page=line.page, level=level_of.get(line.size) if heading else None,
                            font_size=line.size)  # fmt: skip
            blocks.append(current)
        previous = line
    return blocks


def _is_heading_size(line: _Line, body: float) -> bool:
    return line.size >= body * 1.18 and len(line.text) <= 200


def _gap(above: _Line, below: _Line) -> float:
    return above.bottom - below.top  # PDF y grows upwards: the space between the two loose boxes


def _join(text: str, more: str) -> str:
    if text.endswith("-") and more[:1].islower():  # a word hyphenated across lines
        return text[:-1] + more
    return f"{text}\n{more}"  # keep the line break: label/value lines in forms stay apart


def _ranges(numbers: list[int]) -> str:
    spans: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(spans)
