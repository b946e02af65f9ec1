"""parse, chunk, summarization and classify: the operations that read one document."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from docjobs.domain.text import STOPWORDS, sentences, summarize_ranked, terms
from docjobs.processors.base import OperationContext
from docjobs.processors.chunking import chunk_blocks
from docjobs.processors.model import ParsedDocument, count_tokens


def document_info(ctx: OperationContext, parsed: ParsedDocument) -> dict[str, Any]:
    assert ctx.source is not None
    return {
        "source_id": ctx.source.source_id,
        "filename": ctx.source.filename,
        "content_type": ctx.source.content_type,
        "size": ctx.source.size,
        "sha256": ctx.source.sha256,
        "format": parsed.format,
        **parsed.metadata,
    }


def _chunks(ctx: OperationContext, parsed: ParsedDocument, options: dict[str, Any]) -> list[dict[str, Any]]:
    assert ctx.source is not None
    with ctx.steps.step("chunk", strategy=options.get("strategy", "tokens")) as details:
        chunks = chunk_blocks(
            parsed.blocks,
            strategy=options.get("strategy", "tokens"),
            max_tokens=options.get("max_tokens", 512),
            overlap_tokens=options.get("overlap_tokens", 64),
            sentences_per_chunk=options.get("sentences_per_chunk", 5),
            seed=ctx.source.sha256,
        )
        details["chunks"] = len(chunks)
    return chunks


class Parse:
    name = "parse"

    def run(self, ctx: OperationContext) -> dict[str, Any]:
        parsed = ctx.parsed()
        chunks = _chunks(ctx, parsed, ctx.options.get("chunking", {}))
        blocks = [b.to_dict(i) for i, b in enumerate(parsed.blocks)]
        return {
            "document": document_info(ctx, parsed),
            "pages": [p.to_dict(parsed.blocks) for p in parsed.pages],
            "blocks": blocks,
            "markdown": parsed.markdown(),
            "chunks": chunks,
            "warnings": parsed.warnings,
            "stats": {"pages": len(parsed.pages), "blocks": len(blocks), "chunks": len(chunks),
                      "characters": sum(len(b.text) for b in parsed.blocks), "tokens": count_tokens(parsed.text)},  # fmt: skip
        }


class Chunk:
    name = "chunk"

    def run(self, ctx: OperationContext) -> dict[str, Any]:
        parsed = ctx.parsed()
        chunks = _chunks(ctx, parsed, ctx.options)
        return {"document": document_info(ctx, parsed), "strategy": ctx.options.get("strategy", "tokens"),
                "chunks": chunks, "warnings": parsed.warnings}  # fmt: skip


class Summarization:
    name = "summarization"

    def run(self, ctx: OperationContext) -> dict[str, Any]:
        parsed = ctx.parsed()
        wanted = ctx.options.get("sentences", 5)
        with ctx.steps.step("summarize", sentences=wanted) as details:
            located = [(s, i, b.page) for i, b in enumerate(parsed.blocks) if b.type != "heading" for s in sentences(b.text)]
            picked = summarize_ranked([s for s, _, _ in located], wanted)
            details["candidates"] = len(located)
        chosen = [{"text": located[i][0], "page": located[i][2], "block_id": f"b_{located[i][1]}",
                   "sentence_index": i, "score": round(score, 4)} for i, score in picked]  # fmt: skip
        return {"document": document_info(ctx, parsed), "summary": " ".join(c["text"] for c in chosen),
                "sentences": chosen, "method": "textrank", "warnings": parsed.warnings}  # fmt: skip


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class Classify:
    """Scores each label by how strongly the document uses the label's own words (its name and
    description), weighted by how specific each word is across the labels; scores sum to 1."""

    name = "classify"

    def run(self, ctx: OperationContext) -> dict[str, Any]:
        parsed = ctx.parsed()
        labels = ctx.options["labels"]
        with ctx.steps.step("classify", labels=len(labels)) as details:
            doc_terms = Counter(_stem(t) for t in terms(parsed.text))
            total = sum(doc_terms.values()) or 1
            label_terms = [{_stem(t) for t in terms(f"{label['name']} {label.get('description') or ''}")}
                           | {_stem(w.lower()) for w in re.findall(r"[A-Za-z]{3,}", label["name"]) if w.lower() not in STOPWORDS}
                           for label in labels]  # fmt: skip
            spread = Counter(t for ts in label_terms for t in ts)
            raw = []
            for ts in label_terms:
                evidence = sum(math.log1p(doc_terms[t] * 1000 / total) / spread[t] for t in ts)
                raw.append(evidence / math.sqrt(len(ts) or 1))
            exp = [math.exp(4 * r) for r in raw]
            scores = [e / sum(exp) for e in exp]
            details["evidence"] = any(raw)
        ranked = sorted(zip(labels, scores, raw, strict=True), key=lambda x: -x[1])
        return {
            "document": document_info(ctx, parsed),
            "label": ranked[0][0]["name"] if ranked[0][2] > 0 else None,
            "scores": [{"name": label["name"], "score": round(score, 4)} for label, score, _ in ranked],
            "method": "keyword-evidence",
            "warnings": parsed.warnings + ([] if any(raw) else ["No label's words appear in the document."]),
        }
