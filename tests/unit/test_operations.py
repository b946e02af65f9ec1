"""Chunking, extraction, summarization, classification and splitting on real documents."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from docjobs.domain.options import normalize_options
from docjobs.processors.base import OperationContext, SourceFile, Steps
from docjobs.processors.chunking import chunk_blocks
from docjobs.processors.extract import coerce, parse_date, validate
from docjobs.processors.formats import parse_bytes
from docjobs.processors.model import DocumentError, count_tokens
from docjobs.processors.registry import get_operation

from tests import documents

INVOICES = documents.pdf(
    [
        [("Invoice", 22), ("Invoice Number: INV-2024-001", 11), ("Invoice Date: March 5, 2024", 11),
         ("Bill To: Globex Corp", 11), ("Email: billing@globex.example", 11), ("Total Due: $1,234.56", 11)],
        [("Terms: payment within 30 days. Late fees apply.", 11), ("Page 2 of 2", 11)],
        [("Invoice", 22), ("Invoice Number: INV-2024-002", 11), ("Total Due: $99.00", 11)],
    ]
)  # fmt: skip


def run(operation, data, options=None, filename="doc.pdf"):
    events, stored = [], []

    def store(blob, name, kind):
        stored.append((blob, name))
        return {"id": "src_" + hashlib.sha256(blob).hexdigest()[:32], "filename": name, "size": len(blob)}

    source = SourceFile("src_x", filename, "application/octet-stream", len(data), hashlib.sha256(data).hexdigest(), data)
    ctx = OperationContext(source, normalize_options(operation, options or {}), Steps(events.append, time.time), store)
    return get_operation(operation).run(ctx), events, stored


def test_token_chunks_respect_the_size_and_overlap_and_keep_pages_and_headings():
    parsed = parse_bytes(documents.report_pdf(sections=3, pages_per_section=2))
    chunks = chunk_blocks(parsed.blocks, max_tokens=120, overlap_tokens=30, seed="s")
    assert len(chunks) > 3
    assert all(c["token_count"] <= 120 for c in chunks)
    assert all(c["heading_path"] and c["heading_path"][0].startswith("Section") for c in chunks)
    assert all(1 <= c["page_start"] <= c["page_end"] <= 6 for c in chunks)
    # Consecutive chunks within a section share their overlap: whole sentences, at most 30 tokens.
    last_sentence = lambda text: re.split(r"(?<=\.)\s+", text)[-1]  # noqa: E731
    same_section = [i for i in range(len(chunks) - 1) if chunks[i]["heading_path"] == chunks[i + 1]["heading_path"]]
    assert same_section and all(last_sentence(chunks[i]["text"]) in chunks[i + 1]["text"] for i in same_section)
    assert all(not c["text"].endswith("Results") for c in chunks)  # a heading never ends a chunk
    again = chunk_blocks(parsed.blocks, max_tokens=120, overlap_tokens=30, seed="s")
    assert [c["id"] for c in again] == [c["id"] for c in chunks]  # stable ids


def test_heading_chunks_follow_sections_and_sentence_chunks_count_sentences():
    parsed = parse_bytes(documents.report_pdf(sections=3, pages_per_section=1))
    sections = chunk_blocks(parsed.blocks, strategy="heading", max_tokens=2000)
    assert [c["heading_path"] for c in sections] == [["Section 1: Results"], ["Section 2: Results"], ["Section 3: Results"]]
    text = parse_bytes(documents.LOREM.encode(), "a.txt")
    by_sentence = chunk_blocks(text.blocks, strategy="sentence", sentences_per_chunk=2)
    assert [c["text"].count(".") for c in by_sentence] == [2, 2, 1]


def test_a_block_longer_than_a_chunk_is_cut_at_sentences():
    parsed = parse_bytes((documents.LOREM + " ") .encode() * 40, "long.txt")
    chunks = chunk_blocks(parsed.blocks, max_tokens=100, overlap_tokens=0)
    assert len(chunks) > 5 and all(c["token_count"] <= 100 for c in chunks)
    assert all(c["text"].endswith(".") for c in chunks)


def test_parse_result_has_pages_blocks_markdown_and_chunks_and_records_its_steps():
    result, events, _ = run("parse", documents.report_pdf(2, 1), {"chunking": {"max_tokens": 64, "overlap_tokens": 8}})
    assert set(result) >= {"document", "pages", "blocks", "markdown", "chunks", "warnings", "stats"}
    assert result["document"]["sha256"] and result["document"]["page_count"] == 2
    assert result["markdown"].startswith("# Section 1: Results")
    assert result["stats"]["chunks"] == len(result["chunks"]) > 2
    assert [e["step"] for e in events] == ["detect", "extract_text", "chunk"]
    assert all(e["status"] == "succeeded" and e["duration_ms"] >= 0 for e in events)


def test_extract_finds_labelled_values_with_their_location_and_validates():
    schema = {
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string", "description": "The invoice id"},
            "invoice_date": {"type": "string", "format": "date"},
            "total_due": {"type": "number"},
            "email": {"type": "string", "format": "email"},
            "bill_to": {"type": "string"},
            "po_number": {"type": "string"},
        },
        "required": ["invoice_number", "total_due"],
    }
    result, events, _ = run("extract", INVOICES, {"schema": schema})
    assert result["data"] == {"invoice_number": "INV-2024-001", "invoice_date": "2024-03-05", "total_due": 1234.56,
                              "email": "billing@globex.example", "bill_to": "Globex Corp"}  # fmt: skip
    assert result["valid"] is True and result["missing"] == ["po_number"]
    field = result["fields"]["invoice_number"]
    page_text = run("parse", INVOICES)[0]["pages"][0]["text"]
    assert field["page"] == 1 and page_text[field["span"][0]:field["span"][1]] == "INV-2024-001"
    assert 0 < field["confidence"] <= 1
    assert {e["text"] for e in result["entities"]["emails"]} == {"billing@globex.example"}
    assert "extract" in [e["step"] for e in events]


def test_extract_reports_missing_required_values_instead_of_inventing_them():
    schema = {"type": "object", "properties": {"vat_id": {"type": "string"}}, "required": ["vat_id"]}
    result, _, _ = run("extract", documents.pdf([[("Nothing relevant here.", 11)]]), {"schema": schema})
    assert result["data"] == {} and result["valid"] is False
    assert result["errors"] == ["vat_id: required but not found"]


def test_extract_reads_tables_into_arrays_of_objects():
    data = documents.docx([("paragraph", "Order"), ("table", "Item,Quantity,Price;Apples,3,1.50;Pears,5,2.25")])
    schema = {"type": "object", "properties": {"line_items": {"type": "array", "items": {"type": "object", "properties": {
        "item": {"type": "string"}, "quantity": {"type": "integer"}, "price": {"type": "number"}}}}}}  # fmt: skip
    result, _, _ = run("extract", data, {"schema": schema}, filename="order.docx")
    assert result["data"]["line_items"] == [{"item": "Apples", "quantity": 3, "price": 1.5},
                                            {"item": "Pears", "quantity": 5, "price": 2.25}]  # fmt: skip
    assert result["valid"]


@pytest.mark.parametrize(("raw", "spec", "value"), [
    ("$1,234.56", {"type": "number"}, 1234.56), ("EUR 12,5", {"type": "number"}, 12.5), ("1,234", {"type": "integer"}, 1234),
    ("Yes", {"type": "boolean"}, True), ("5 March 2024", {"type": "string", "format": "date"}, "2024-03-05"),
    ("PAID", {"type": "string", "enum": ["paid", "due"]}, "paid"),
])  # fmt: skip
def test_values_are_coerced_to_the_schema_types(raw, spec, value):
    assert coerce(raw, spec) == value


def test_dates_and_validation():
    assert parse_date("Dec 1st, 2025") == "2025-12-01"
    assert parse_date("2024-02-29") == "2024-02-29"
    assert validate({"a": "x"}, {"type": "object", "properties": {"a": {"type": "integer"}}}) == ["a: expected integer"]


def test_summarization_picks_sentences_with_their_locations():
    text = ("# Report\n\n" + documents.LOREM + "\n\nRevenue and costs drove the quarter. Revenue grew because costs fell.\n").encode()
    result, _, _ = run("summarization", text, {"sentences": 2}, filename="r.md")
    assert len(result["sentences"]) == 2
    assert all(s["page"] == 1 and s["block_id"].startswith("b_") for s in result["sentences"])
    assert result["summary"] == " ".join(s["text"] for s in result["sentences"])


def test_classify_ranks_the_label_the_document_is_about():
    labels = [{"name": "invoice", "description": "a bill asking for payment of an amount due"},
              {"name": "employment contract", "description": "terms of employment, salary, notice period"},
              {"name": "recipe", "description": "ingredients and cooking steps"}]  # fmt: skip
    result, _, _ = run("classify", INVOICES, {"labels": labels})
    assert result["label"] == "invoice"
    assert [s["name"] for s in result["scores"]][0] == "invoice"
    assert abs(sum(s["score"] for s in result["scores"]) - 1) < 1e-3


def test_split_by_detected_document_starts_and_by_ranges():
    result, events, stored = run("split", INVOICES)
    assert [(p["page_start"], p["page_end"]) for p in result["parts"]] == [(1, 2), (3, 3)]
    assert len(parse_bytes(stored[0][0]).pages) == 2 and parse_bytes(stored[1][0]).blocks[1].text.startswith("Invoice Number: INV-2024-002")
    assert [e["step"] for e in events][-2:] == ["plan_parts", "store_parts"]
    result, _, _ = run("split", INVOICES, {"ranges": [[1, 1], [2, 3]]})
    assert [p["page_count"] for p in result["parts"]] == [1, 2]
    with pytest.raises(DocumentError):
        run("split", INVOICES, {"ranges": [[2, 9]]})
    with pytest.raises(DocumentError):
        run("split", b"just text", filename="a.txt")


@pytest.mark.parametrize(("operation", "options"), [
    ("extract", {}), ("extract", {"schema": {"type": "string"}}), ("classify", {"labels": ["only one"]}),
    ("classify", {"labels": ["a", "a"]}), ("chunk", {"max_tokens": 10}), ("chunk", {"max_tokens": 100, "overlap_tokens": 100}),
    ("summarization", {"sentences": 0}), ("split", {"ranges": [[3, 1]]}), ("parse", {"unknown": 1}),
])  # fmt: skip
def test_bad_options_are_refused(operation, options):
    with pytest.raises(ValueError):
        normalize_options(operation, options)


def test_token_counts_are_close_to_words_and_punctuation():
    assert count_tokens("Hello, world!") == 4
