"""Split a multi-document PDF into parts, by given page ranges or by detected document starts;
each part is stored as a source of its own."""

from __future__ import annotations

import io
import re
from typing import Any

from docjobs.processors.base import OperationContext
from docjobs.processors.model import DocumentError
from docjobs.processors.operations import document_info

_PAGE_ONE = re.compile(r"\bpage\s+1\s+(?:of|/)\s+\d+\b", re.I)


class Split:
    name = "split"

    def run(self, ctx: OperationContext) -> dict[str, Any]:
        parsed = ctx.parsed()
        if parsed.format != "pdf":
            raise DocumentError("split needs a PDF (page ranges only exist in paged documents).", code="unsupported_format")
        count = len(parsed.pages)
        with ctx.steps.step("plan_parts") as details:
            if ranges := ctx.options.get("ranges"):
                parts = [(int(a), int(b)) for a, b in ranges]
                for a, b in parts:
                    if not 1 <= a <= b <= count:
                        raise DocumentError(f"Page range {a}-{b} is outside the document's {count} pages.", code="invalid_page_range")
                details["method"] = "ranges"
            else:
                starts = detect_starts(parsed)
                parts = [(s, (starts[i + 1] - 1) if i + 1 < len(starts) else count) for i, s in enumerate(starts)]
                details["method"] = "detected"
            details["parts"] = len(parts)
        assert ctx.source is not None and ctx.store_source is not None
        stored = []
        with ctx.steps.step("store_parts") as details:
            import pypdfium2 as pdfium

            from docjobs.processors.formats.pdf import PDFIUM_LOCK, open_pdf

            stem = ctx.source.filename.rsplit(".", 1)[0] or "document"
            blobs = []
            with PDFIUM_LOCK:
                source = open_pdf(ctx.source.data)
                try:
                    for first, last in parts:
                        part = pdfium.PdfDocument.new()
                        part.import_pages(source, list(range(first - 1, last)))
                        buffer = io.BytesIO()
                        part.save(buffer)
                        part.close()
                        blobs.append(buffer.getvalue())
                finally:
                    source.close()
            # Stored outside the lock: S3 and DynamoDB writes need no PDFium.
            for number, ((first, last), blob) in enumerate(zip(parts, blobs, strict=True), start=1):
                described = ctx.store_source(blob, f"{stem}-part{number}-p{first}-{last}.pdf", "application/pdf")
                stored.append({"part": number, "page_start": first, "page_end": last, "page_count": last - first + 1,
                               "source_id": described["id"], "filename": described["filename"], "size": described["size"]})  # fmt: skip
            details["stored"] = len(stored)
        method = "ranges" if ctx.options.get("ranges") else "detected"
        return {"document": document_info(ctx, parsed), "parts": stored, "method": method, "warnings": parsed.warnings}


def detect_starts(parsed: Any) -> list[int]:
    """Pages that begin a new document: a top-level heading first on the page, or "Page 1 of N"."""
    top_level = min((b.level for b in parsed.blocks if b.type == "heading" and b.level), default=None)
    starts = [1]
    for page in parsed.pages[1:]:
        blocks = [b for b in parsed.blocks if b.page == page.number]
        if not blocks:
            continue
        first = blocks[0]
        page_text = "\n".join(b.text for b in blocks)
        if (first.type == "heading" and first.level == top_level) or _PAGE_ONE.search(page_text):
            starts.append(page.number)
    return starts
