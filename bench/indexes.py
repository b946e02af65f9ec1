"""Index and research benchmark: build cost per 1,000 chunks, query latency warm and cold, and
recall@5 on a fixed question set, hybrid retrieval side by side with plain BM25 in the same run.

Corpus: the test corpus (four licence texts and the README, with known questions) among
distractors: the long descriptions of every package installed in the virtual environment (real
prose and code about other software, pinned by constraints.txt, so the same on every machine).
Measured in process on the index's own code (snapshot build, serialisation, load and search); S3
and SQS time is not included.
"""

from __future__ import annotations

import statistics
import time
from importlib.metadata import distributions
from typing import Any

import numpy as np

QUERY_RUNS = 5  # each question, warm
COLD_RUNS = 5


def distractors() -> dict[str, bytes]:
    docs: dict[str, bytes] = {}
    for dist in sorted(distributions(), key=lambda d: d.metadata["Name"].lower()):
        name = dist.metadata["Name"]
        text = (dist.read_text("METADATA") or "").split("\n\n", 1)[-1]
        if name.lower() != "docjobs" and len(text) > 500:  # (docjobs' description is the README itself)
            docs[f"pkg-{name.lower()}.md"] = text.encode()
    return docs


def chunks_of(files: dict[str, bytes]) -> list[Any]:
    from docjobs.processors.chunking import chunk_blocks
    from docjobs.processors.formats import parse_bytes
    from docjobs.retrieval.store import NewChunk
    from docjobs.services.indexing import chunk_context

    chunks = []
    for name, data in files.items():
        kind = "text/markdown" if name.endswith(".md") else "text/plain"
        parsed = parse_bytes(data, name, kind)
        for chunk in chunk_blocks(parsed.blocks, max_tokens=256, overlap_tokens=32, seed=name):
            chunks.append(NewChunk(chunk_id=chunk["id"], group=name, text=chunk["text"], context=chunk_context(name, chunk["heading_path"]),
                                   citation={"filename": name, "page_start": chunk["page_start"], "heading_path": chunk["heading_path"]}))  # fmt: skip
    return chunks


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p))


def run() -> dict[str, Any]:
    from docjobs.retrieval.answer import extractive_answer
    from docjobs.retrieval.embedding import StaticEmbedder
    from docjobs.retrieval.store import IndexSnapshot

    from tests.corpus import QUESTIONS, corpus

    started = time.perf_counter()
    embedder = StaticEmbedder.from_package()
    model_load_s = time.perf_counter() - started
    chunks = chunks_of({**corpus(), **distractors()})
    n = len(chunks)

    # Build: hybrid (embed + postings + serialise) against BM25 alone (postings + serialise).
    started = time.perf_counter()
    vectors = embedder.embed([c.searchable_text for c in chunks])
    embed_s = time.perf_counter() - started
    started = time.perf_counter()
    hybrid = IndexSnapshot.empty(embedder.dimensions, embedder.name).changed(add=chunks, vectors=vectors)
    data = hybrid.to_bytes()
    hybrid_rest_s = time.perf_counter() - started
    started = time.perf_counter()
    IndexSnapshot.empty(1, "none").changed(add=chunks, vectors=np.zeros((n, 1), np.float32)).to_bytes()
    bm25_build_s = time.perf_counter() - started
    per_thousand = 1000 / n

    # An update: one more document into the built index, against building the whole index again.
    extra = chunks_of({"extra.txt": ("An extra document about index updates. " * 400).encode()})
    started = time.perf_counter()
    hybrid.changed(drop_groups={"extra.txt"}, add=extra, vectors=embedder.embed([c.searchable_text for c in extra])).to_bytes()
    update_s = time.perf_counter() - started

    # Queries, warm: embed the question, search, and (research) write the extractive answer.
    def query(snapshot: IndexSnapshot, question: str, mode: str) -> list[Any]:
        vector = embedder.embed([question])[0] if mode != "lexical" else None
        return snapshot.search(question, vector, top_k=5, mode=mode)

    def research(snapshot: IndexSnapshot, question: str) -> None:
        hits = query(snapshot, question, "hybrid")
        passages = [{"rank": i, "chunk_id": str(h.row), "text": snapshot.text(h.row)} for i, h in enumerate(hits, 1)]
        extractive_answer(question, passages, embedder, max_sentences=3, idf=snapshot.idf)

    timings: dict[str, list[float]] = {"hybrid": [], "lexical": [], "research": []}
    for _ in range(QUERY_RUNS):
        for q in QUESTIONS:
            for mode in ("hybrid", "lexical"):
                t = time.perf_counter()
                query(hybrid, q.question, mode)
                timings[mode].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            research(hybrid, q.question)
            timings["research"].append((time.perf_counter() - t) * 1000)

    # Cold: a new process holds only the snapshot's bytes (fetched from S3): load, then one query.
    cold: list[float] = []
    load: list[float] = []
    for i in range(COLD_RUNS):
        t = time.perf_counter()
        loaded = IndexSnapshot.from_bytes(data)
        load.append((time.perf_counter() - t) * 1000)
        query(loaded, QUESTIONS[i % len(QUESTIONS)].question, "hybrid")
        cold.append((time.perf_counter() - t) * 1000)

    # Recall@5: a question is answered when a top-5 passage comes from its document and holds its answer.
    def recall(mode: str, questions: list[Any]) -> float:
        found = 0
        for q in questions:
            hits = query(hybrid, q.question, mode)
            found += any(q.answered_by({**hybrid.citation(h.row), "text": hybrid.text(h.row)}) for h in hits)
        return found / len(questions)

    direct = [q for q in QUESTIONS if not q.paraphrase]
    paraphrased = [q for q in QUESTIONS if q.paraphrase]
    return {
        "chunks": n,
        "documents": len(hybrid.groups),
        "snapshot_mb": round(len(data) / 1e6, 2),
        "embedding_model_load_s": round(model_load_s, 3),
        "build_per_1000_chunks_s": {"hybrid": round((embed_s + hybrid_rest_s) * per_thousand, 3),
                                    "of_which_embedding": round(embed_s * per_thousand, 3),
                                    "bm25_only": round(bm25_build_s * per_thousand, 3)},  # fmt: skip
        "update_one_document_s": round(update_s, 3),
        "full_rebuild_s": round(embed_s + hybrid_rest_s, 3),
        "query_ms": {name: {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2)} for name, v in timings.items()},
        "cold_ms": {"load_p50": round(statistics.median(load), 1), "load_and_query_p50": round(statistics.median(cold), 1),
                    "load_and_query_p95": round(percentile(cold, 95), 1)},  # fmt: skip
        "recall_at_5": {mode: {"all": round(recall(mode, QUESTIONS), 3), "direct": round(recall(mode, direct), 3),
                               "paraphrased": round(recall(mode, paraphrased), 3)} for mode in ("hybrid", "lexical", "dense")},  # fmt: skip
        "questions": len(QUESTIONS),
    }


def report(r: dict[str, Any]) -> None:
    b, q, cold, rec = r["build_per_1000_chunks_s"], r["query_ms"], r["cold_ms"], r["recall_at_5"]
    print(f"\nindex: {r['chunks']} chunks from {r['documents']} documents, snapshot {r['snapshot_mb']} MB; "
          f"embedding model loads in {r['embedding_model_load_s']} s (once per process)\n")  # fmt: skip
    print("| index benchmark | hybrid (docjobs) | plain BM25 baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| build, s per 1,000 chunks | {b['hybrid']} (embedding {b['of_which_embedding']}) | {b['bm25_only']} | "
          f"{b['hybrid'] / b['bm25_only']:.2f}x |")  # fmt: skip
    print(f"| query p50 / p95, ms (warm) | {q['hybrid']['p50']} / {q['hybrid']['p95']} | {q['lexical']['p50']} / "
          f"{q['lexical']['p95']} | {q['hybrid']['p50'] / q['lexical']['p50']:.2f}x |")  # fmt: skip
    print(f"| research p50 / p95, ms (warm, with answer) | {q['research']['p50']} / {q['research']['p95']} | | |")
    print(f"| cold: load + first query p50 / p95, ms | {cold['load_and_query_p50']} / {cold['load_and_query_p95']} "
          f"(load alone {cold['load_p50']}) | | |")  # fmt: skip
    print(f"| recall@5, {r['questions']} questions | {rec['hybrid']['all']} | {rec['lexical']['all']} | "
          f"{rec['hybrid']['all'] / rec['lexical']['all']:.2f}x |")  # fmt: skip
    print(f"| recall@5, direct / paraphrased | {rec['hybrid']['direct']} / {rec['hybrid']['paraphrased']} | "
          f"{rec['lexical']['direct']} / {rec['lexical']['paraphrased']} | |")  # fmt: skip
    print(f"| recall@5, dense alone | {rec['dense']['all']} | | |")
    print(f"| add one document to the index, s | {r['update_one_document_s']} | full rebuild {r['full_rebuild_s']} | "
          f"{r['update_one_document_s'] / r['full_rebuild_s']:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    report(run())
