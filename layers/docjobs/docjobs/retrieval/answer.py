"""An extractive answer: the sentences of the best passages that answer the question, each with
its citation. Offline and honest: every sentence of the answer is a sentence of a cited passage,
word for word, and when no passage has anything to do with the question there is no answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from docjobs.domain.text import sentences
from docjobs.retrieval.bm25 import terms
from docjobs.retrieval.embedding import Embedder

ANSWER_PASSAGES = 5  # sentences are drawn from the best passages only
MIN_WORDS = 4  # shorter "sentences" are headings, labels and fragments
# Below this cosine similarity, and with no word of the question in it, a sentence is unrelated
# (measured on the test corpus: unrelated sentences score 0.1-0.3, answers 0.45 and up).
MIN_SIMILARITY = 0.4
KEEP_RATIO = 0.6  # a sentence scoring under this share of the best one is filler, not answer
SAME_SENTENCE = 0.7  # term overlap (Jaccard) above which two sentences say the same thing
WEIGHTS = (0.55, 0.35, 0.10)  # question-term coverage, embedding similarity, passage rank


@dataclass(frozen=True)
class _Candidate:
    passage: dict[str, Any]
    text: str
    offset: int
    terms: frozenset[str]


def extractive_answer(question: str, passages: list[dict[str, Any]], embedder: Embedder, *, max_sentences: int,
                      idf: Callable[[str], float]) -> dict[str, Any]:  # fmt: skip
    """{"answer", "sentences": [{"text", "citations"}], "citations"}; the answer is None when
    nothing in the passages bears on the question."""
    question_terms = set(terms(question))
    candidates = [_Candidate(p, s, offset, frozenset(terms(s))) for p in passages[:ANSWER_PASSAGES]
                  for s, offset in _sentences_with_offsets(p["text"]) if len(s.split()) >= MIN_WORDS]  # fmt: skip
    if not candidates:
        return {"answer": None, "sentences": [], "citations": []}
    weight = {t: idf(t) for t in question_terms}
    total = sum(weight.values()) or 1.0
    coverage = np.array([sum(weight[t] for t in question_terms & c.terms) / total for c in candidates])
    vectors = embedder.embed([question] + [c.text for c in candidates])
    similarity = vectors[1:] @ vectors[0]
    prior = np.array([1.0 / c.passage["rank"] for c in candidates])
    scores = WEIGHTS[0] * coverage + WEIGHTS[1] * similarity + WEIGHTS[2] * prior
    related = (coverage > 0) | (similarity >= MIN_SIMILARITY)
    if not related.any():
        return {"answer": None, "sentences": [], "citations": []}
    best = float(scores[related].max())
    picked: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if len(picked) == max_sentences or scores[i] < KEEP_RATIO * best:
            break
        if not related[i] or any(_jaccard(candidates[i].terms, candidates[j].terms) > SAME_SENTENCE for j in picked):
            continue
        picked.append(int(i))
    picked.sort(key=lambda i: (candidates[i].passage["rank"], candidates[i].offset))  # read in passage order
    chosen = [{"text": candidates[i].text, "citations": [_citation(candidates[i])]} for i in picked]
    cited = list({c["chunk_id"]: c for s in chosen for c in s["citations"]}.values())
    return {"answer": " ".join(s["text"] for s in chosen), "sentences": chosen, "citations": cited}


def _sentences_with_offsets(text: str) -> list[tuple[str, int]]:
    out, start = [], 0
    for sentence in sentences(text):
        # sentences() joins a paragraph's lines: find the sentence by its first words.
        head = re.escape(sentence[:40]).replace(r"\ ", r"\s+")
        found = re.compile(head).search(text, start)
        offset = found.start() if found else start
        out.append((sentence, offset))
        start = offset + 1 if found else start
    return out


def page_at(passage: dict[str, Any], offset: int) -> int | None:
    """The page a character of the passage is on (a chunk may span pages)."""
    page = passage.get("page")
    for span_start, span_page in passage.get("page_spans") or []:
        if span_start <= offset:
            page = span_page
    return page


def _citation(candidate: _Candidate) -> dict[str, Any]:
    p = candidate.passage
    return {"chunk_id": p["chunk_id"], "source_id": p.get("source_id"), "filename": p.get("filename"),
            "page": page_at(p, candidate.offset), "heading_path": p.get("heading_path", []),
            **({"item_id": p["item_id"]} if p.get("item_id") else {})}  # fmt: skip


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
