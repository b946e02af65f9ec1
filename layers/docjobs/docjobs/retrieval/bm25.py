"""BM25 (Okapi; k1 = 1.2, b = 0.75) over chunks: the lexical half of hybrid retrieval."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

K1 = 1.2
B = 0.75
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
# Words too common to say anything about a passage (a short list: BM25's idf handles the rest).
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were will with".split()
)


def terms(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [_stem(w) for w in WORD.findall(folded) if w not in STOPWORDS]


def _stem(word: str) -> str:
    """A light suffix strip so that "invoice", "invoices" and "invoiced" meet (not a full
    stemmer: it only has to treat a query and a passage alike)."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


@dataclass
class Bm25Index:
    """An inverted index (term -> {doc: term frequency}) with document lengths: adding or
    removing a document changes only its own entries (update_index never rebuilds), and a query
    reads only the postings of its terms."""

    postings: dict[str, dict[str, int]] = field(default_factory=dict)
    doc_lengths: dict[str, int] = field(default_factory=dict)
    doc_terms: dict[str, list[str]] = field(default_factory=dict)

    def add(self, doc_id: str, text: str) -> None:
        self.remove(doc_id)
        counts = Counter(terms(text))
        for term, tf in counts.items():
            self.postings.setdefault(term, {})[doc_id] = tf
        self.doc_terms[doc_id] = list(counts)
        self.doc_lengths[doc_id] = sum(counts.values())

    def remove(self, doc_id: str) -> None:
        for term in self.doc_terms.pop(doc_id, []):
            docs = self.postings.get(term, {})
            docs.pop(doc_id, None)
            if not docs:
                self.postings.pop(term, None)
        self.doc_lengths.pop(doc_id, None)

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score of every document that holds a query term."""
        n = len(self.doc_lengths)
        wanted = [t for t in dict.fromkeys(terms(query)) if t in self.postings]
        if not wanted or not n:
            return {}
        average = sum(self.doc_lengths.values()) / n or 1.0
        scored: dict[str, float] = {}
        for term in wanted:
            docs = self.postings[term]
            idf = math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            for doc_id, tf in docs.items():
                norm = tf + K1 * (1 - B + B * self.doc_lengths[doc_id] / average)
                scored[doc_id] = scored.get(doc_id, 0.0) + idf * tf * (K1 + 1) / norm
        return scored
