"""Format detection and one parser per format, each returning a ParsedDocument."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import PurePath

from docjobs.processors.collector import collector_paused
from docjobs.processors.heap import keep_freed_memory
from docjobs.processors.model import DocumentError, ParsedDocument

FORMATS = ("pdf", "docx", "html", "markdown", "text")
_EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".xhtml": "html",
               ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".csv": "text"}  # fmt: skip
_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/html": "html", "application/xhtml+xml": "html", "text/markdown": "markdown",
    "text/x-markdown": "markdown", "text/plain": "text",
}  # fmt: skip


def detect_format(data: bytes, filename: str | None = None, content_type: str | None = None) -> str:
    """The format, from the bytes first (magic numbers), then the file name, then the content type."""
    head = data[:1024].lstrip()
    if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            raise DocumentError("The file looks like a ZIP container (DOCX?) but is corrupt.") from None
        if "word/document.xml" in names:
            return "docx"
        raise DocumentError("ZIP files other than DOCX documents are not supported.", code="unsupported_format")
    by_name = _EXTENSIONS.get(PurePath(filename or "").suffix.lower())
    by_type = _CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())
    lowered = head[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or by_name == "html" or by_type == "html":
        return "html"
    if by_name in ("markdown", "text"):
        return by_name
    if by_type in ("markdown", "text"):
        return by_type
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("Unsupported binary file: send PDF, DOCX, HTML, Markdown or text.", code="unsupported_format")
    return "text"


@collector_paused
def parse_bytes(data: bytes, filename: str | None = None, content_type: str | None = None) -> ParsedDocument:
    if not data:
        raise DocumentError("The file is empty.", code="empty_document")
    keep_freed_memory()
    fmt = detect_format(data, filename, content_type)
    if fmt == "pdf":
        from docjobs.processors.formats.pdf import parse_pdf

        parsed = parse_pdf(data)
    elif fmt == "docx":
        from docjobs.processors.formats.docx import parse_docx

        parsed = parse_docx(data)
    elif fmt == "html":
        from docjobs.processors.formats.html import parse_html

        parsed = parse_html(data if _is_plain_utf8(data) else decode_text(data))
    elif fmt == "markdown":
        from docjobs.processors.formats.markdown import parse_markdown

        parsed = parse_markdown(decode_text(data))
    else:
        from docjobs.processors.formats.markdown import parse_plain_text

        parsed = parse_plain_text(decode_text(data))
    parsed.assign_heading_paths()
    return parsed


def _is_plain_utf8(data: bytes) -> bool:
    """UTF-8 without a byte order mark: what lexbor reads as it is (a str it would first encode
    again, a millisecond a megabyte past ASCII)."""
    if data.isascii():
        return True
    if data.startswith(tuple(bom for bom, _ in _BYTE_ORDER_MARKS)):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_BYTE_ORDER_MARKS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(data: bytes) -> str:
    for bom, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(bom):
            return data.decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # the usual suspect for legacy text files
