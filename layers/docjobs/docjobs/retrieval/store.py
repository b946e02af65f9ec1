"""An index snapshot: every chunk's text and citation, its embedding, and its BM25 postings, as
flat arrays in one uncompressed .npz object.

A cold worker loads a snapshot with one S3 GET and `np.load` (no per-chunk parsing: texts and
citations sit in byte blobs with offsets and are decoded only for the chunks a query returns), and
a query reads only the postings of its own terms. A change (update_index, vector_store) keeps the
arrays of every chunk it does not touch: only new chunks are parsed, tokenised and embedded.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from docjobs.retrieval.bm25 import K1, B, terms
from docjobs.retrieval.fusion import reciprocal_rank_fusion

FORMAT = 1
CANDIDATES = 100  # from each ranking, before fusion
MAX_TERM_FREQUENCY = np.iinfo(np.uint16).max


@dataclass
class NewChunk:
    """A chunk about to enter an index."""

    chunk_id: str
    group: str  # the source id it came from (vector_store items: their metadata's source_id, or "")
    text: str
    citation: dict[str, Any]  # source_id, filename, page_start, page_end, heading_path, item_id, metadata
    item_id: str | None = None
    # Where the chunk sits (document name, heading path): searched and embedded with the text, so
    # that "the Apache licence's patent clause" finds a chunk that never names its document.
    context: str = ""
    term_counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if not self.term_counts:
            self.term_counts = Counter(terms(self.searchable_text))

    @property
    def searchable_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Hit:
    row: int
    score: float
    lexical_rank: int | None
    dense_rank: int | None
    lexical_score: float | None
    dense_score: float | None


def _blob(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    if values:
        np.cumsum([len(v) for v in values], out=offsets[1:])
    return np.frombuffer(b"".join(values), dtype=np.uint8), offsets


def _csc(n_terms: int, row_indptr: np.ndarray, row_terms: np.ndarray, row_tf: np.ndarray) -> tuple[np.ndarray, ...]:
    """Postings by term (term -> rows, frequencies) from the same counts by row."""
    rows = np.repeat(np.arange(len(row_indptr) - 1, dtype=np.int32), np.diff(row_indptr))
    order = np.argsort(row_terms, kind="stable")
    term_indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_terms, minlength=n_terms), out=term_indptr[1:])
    return term_indptr, rows[order], row_tf[order]


class IndexSnapshot:
    def __init__(self, arrays: dict[str, np.ndarray], vocab: list[str], groups: list[str], embedding_model: str,
                 items: dict[str, int] | None = None) -> None:  # fmt: skip
        self.a = arrays
        self.vocab = vocab
        self.groups = groups
        self.items = items or {}  # vector_store item id -> row
        self.embedding_model = embedding_model
        self.vectors = arrays["vectors"].astype(np.float32)  # BLAS has no float16 matmul
        self.lengths = arrays["lengths"].astype(np.float32)
        self._term_ids: dict[str, int] | None = None

    # -- shape --------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    @classmethod
    def empty(cls, dimensions: int, embedding_model: str) -> IndexSnapshot:
        arrays = {"vectors": np.zeros((0, dimensions), np.float16), "lengths": np.zeros(0, np.int32),
                  "row_group": np.zeros(0, np.int32), "row_indptr": np.zeros(1, np.int64),
                  "row_terms": np.zeros(0, np.int32), "row_tf": np.zeros(0, np.uint16),
                  "term_indptr": np.zeros(1, np.int64), "term_rows": np.zeros(0, np.int32),
                  "term_tf": np.zeros(0, np.uint16), "text_blob": np.zeros(0, np.uint8),
                  "text_offsets": np.zeros(1, np.int64), "meta_blob": np.zeros(0, np.uint8),
                  "meta_offsets": np.zeros(1, np.int64)}  # fmt: skip
        return cls(arrays, [], [], embedding_model)

    def text(self, row: int) -> str:
        start, end = self.a["text_offsets"][row : row + 2]
        return self.a["text_blob"][start:end].tobytes().decode("utf-8")

    def citation(self, row: int) -> dict[str, Any]:
        start, end = self.a["meta_offsets"][row : row + 2]
        return json.loads(self.a["meta_blob"][start:end].tobytes())

    def group_of(self, row: int) -> str:
        return self.groups[int(self.a["row_group"][row])]

    def group_sizes(self) -> dict[str, int]:
        counts = np.bincount(self.a["row_group"], minlength=len(self.groups))
        return {g: int(n) for g, n in zip(self.groups, counts, strict=True) if n}

    def item_ids(self) -> dict[str, int]:
        """vector_store items' ids -> row."""
        return self.items

    # -- change -------------------------------------------------------------------------------

    def changed(self, *, drop_groups: Collection[str] = (), drop_rows: Collection[int] = (), add: Sequence[NewChunk] = (),
                vectors: np.ndarray | None = None) -> IndexSnapshot:  # fmt: skip
        """A new snapshot without the rows of `drop_groups` and `drop_rows`, with `add` appended
        (their embeddings in `vectors`). The arrays of kept rows are copied, never recomputed."""
        add = list(add)
        if add and (vectors is None or len(vectors) != len(add)):
            raise ValueError("one embedding per new chunk")
        dropped_codes = np.array([i for i, g in enumerate(self.groups) if g in drop_groups], dtype=np.int32)
        keep = ~np.isin(self.a["row_group"], dropped_codes)
        if drop_rows:
            keep[np.fromiter(drop_rows, dtype=np.int64)] = False
        kept = np.flatnonzero(keep)
        new_row = np.cumsum(keep) - 1  # a kept row's position in the new snapshot
        items = {item: int(new_row[row]) for item, row in self.items.items() if keep[row]}
        items.update({c.item_id: len(kept) + i for i, c in enumerate(add) if c.item_id})

        # Terms: kept rows' postings, then the new chunks' counts under a vocabulary that grows.
        row_len = np.diff(self.a["row_indptr"])
        kept_entries = np.repeat(keep, row_len)
        vocab = list(self.vocab)
        term_ids = dict(self.term_ids())
        new_terms: list[int] = []
        new_tf: list[int] = []
        new_len: list[int] = []
        for chunk in add:
            for term, count in chunk.term_counts.items():
                tid = term_ids.get(term)
                if tid is None:
                    tid = term_ids[term] = len(vocab)
                    vocab.append(term)
                new_terms.append(tid)
                new_tf.append(min(count, MAX_TERM_FREQUENCY))
            new_len.append(len(chunk.term_counts))
        row_terms = np.concatenate([self.a["row_terms"][kept_entries], np.array(new_terms, dtype=np.int32)])
        row_tf = np.concatenate([self.a["row_tf"][kept_entries], np.array(new_tf, dtype=np.uint16)])
        lengths_per_row = np.concatenate([row_len[kept], np.array(new_len, dtype=np.int64)])
        row_indptr = np.zeros(len(lengths_per_row) + 1, dtype=np.int64)
        np.cumsum(lengths_per_row, out=row_indptr[1:])
        # Forget terms no chunk uses any more, so that the vocabulary does not only ever grow.
        used, row_terms = np.unique(row_terms, return_inverse=True)
        vocab = [vocab[i] for i in used]
        row_terms = row_terms.astype(np.int32)

        # Groups: codes of kept rows are remapped onto the groups still present plus new ones.
        groups = list(self.groups)
        codes = {g: i for i, g in enumerate(groups)}
        for chunk in add:
            if chunk.group not in codes:
                codes[chunk.group] = len(groups)
                groups.append(chunk.group)
        row_group = np.concatenate([self.a["row_group"][kept], np.array([codes[c.group] for c in add], dtype=np.int32)])
        present, row_group = np.unique(row_group, return_inverse=True)
        groups = [groups[i] for i in present]

        texts = [self.a["text_blob"][s:e].tobytes() for s, e in _spans(self.a["text_offsets"], kept)]
        metas = [self.a["meta_blob"][s:e].tobytes() for s, e in _spans(self.a["meta_offsets"], kept)]
        texts += [c.text.encode("utf-8") for c in add]
        metas += [json.dumps({**c.citation, "chunk_id": c.chunk_id}, separators=(",", ":")).encode() for c in add]
        text_blob, text_offsets = _blob(texts)
        meta_blob, meta_offsets = _blob(metas)
        new_vectors = self.a["vectors"][kept]
        if add:
            new_vectors = np.concatenate([new_vectors, np.asarray(vectors, dtype=np.float16)])
        n_rows = len(row_indptr) - 1
        entry_rows = np.repeat(np.arange(n_rows), np.diff(row_indptr))
        lengths = np.bincount(entry_rows, weights=row_tf, minlength=n_rows)  # BM25's length: all term occurrences
        term_indptr, term_rows, term_tf = _csc(len(vocab), row_indptr, row_terms, row_tf)
        arrays = {"vectors": new_vectors, "lengths": lengths.astype(np.int32), "row_group": row_group.astype(np.int32),
                  "row_indptr": row_indptr, "row_terms": row_terms, "row_tf": row_tf, "term_indptr": term_indptr,
                  "term_rows": term_rows, "term_tf": term_tf, "text_blob": text_blob, "text_offsets": text_offsets,
                  "meta_blob": meta_blob, "meta_offsets": meta_offsets}  # fmt: skip
        return IndexSnapshot(arrays, vocab, groups, self.embedding_model, items)

    # -- storage ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        header = {"format": FORMAT, "embedding_model": self.embedding_model, "vocab": self.vocab, "groups": self.groups,
                  "items": self.items}  # fmt: skip
        out = io.BytesIO()
        np.savez(out, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **self.a)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> IndexSnapshot:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
            header = json.loads(arrays.pop("header").tobytes())
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"unreadable index snapshot: {error}") from None
        if header.get("format") != FORMAT:
            raise ValueError(f"unknown index snapshot format {header.get('format')!r}")
        return cls(arrays, header["vocab"], header["groups"], header["embedding_model"], header.get("items"))

    # -- search -------------------------------------------------------------------------------

    def term_ids(self) -> dict[str, int]:
        if self._term_ids is None:
            self._term_ids = {t: i for i, t in enumerate(self.vocab)}
        return self._term_ids

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a (stemmed) term; the rarest for an unseen one."""
        tid = self.term_ids().get(term)
        df = 0 if tid is None else int(self.a["term_indptr"][tid + 1] - self.a["term_indptr"][tid])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def lexical_scores(self, query: str) -> np.ndarray:
        """BM25 (Okapi) of every row; 0 where no query term occurs."""
        scores = np.zeros(self.size, dtype=np.float32)
        n = self.size
        if not n:
            return scores
        average = float(self.lengths.mean()) or 1.0
        ids = self.term_ids()
        indptr, rows, tfs = self.a["term_indptr"], self.a["term_rows"], self.a["term_tf"]
        for term in dict.fromkeys(terms(query)):
            tid = ids.get(term)
            if tid is None:
                continue
            start, end = indptr[tid], indptr[tid + 1]
            postings, tf = rows[start:end], tfs[start:end].astype(np.float32)
            df = end - start
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            scores[postings] += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[postings] / average))
        return scores

    def search(self, query: str, query_vector: np.ndarray | None, *, top_k: int, mode: str = "hybrid",
               groups: set[str] | None = None) -> list[Hit]:  # fmt: skip
        """The best `top_k` rows: BM25 and embedding rankings fused by reciprocal rank ("hybrid"),
        or one of them alone ("lexical", "dense")."""
        allowed = None
        if groups is not None:
            codes = np.array([i for i, g in enumerate(self.groups) if g in groups], dtype=np.int32)
            allowed = np.isin(self.a["row_group"], codes)
        lexical: list[int] = []
        lexical_scores = None
        if mode in ("hybrid", "lexical"):
            lexical_scores = self.lexical_scores(query)
            if allowed is not None:
                lexical_scores[~allowed] = 0
            lexical = _top(lexical_scores, CANDIDATES, positive=True)
        dense: list[int] = []
        dense_scores = None
        if mode in ("hybrid", "dense") and query_vector is not None and query_vector.any() and self.size:
            dense_scores = self.vectors @ query_vector.astype(np.float32)
            if allowed is not None:
                dense_scores[~allowed] = -np.inf
            dense = _top(dense_scores, CANDIDATES, positive=False)
        rankings = [r for r in (lexical, dense) if r]
        lexical_rank = {row: rank for rank, row in enumerate(lexical, start=1)}
        dense_rank = {row: rank for rank, row in enumerate(dense, start=1)}
        fused = reciprocal_rank_fusion([[str(r) for r in ranking] for ranking in rankings])[:top_k]
        return [Hit(row=int(r), score=score, lexical_rank=lexical_rank.get(int(r)), dense_rank=dense_rank.get(int(r)),
                    lexical_score=float(lexical_scores[int(r)]) if lexical_scores is not None else None,
                    dense_score=float(dense_scores[int(r)]) if dense_scores is not None else None)
                for r, score in fused]  # fmt: skip


def _spans(offsets: np.ndarray, rows: np.ndarray) -> list[tuple[int, int]]:
    return list(zip(offsets[rows].tolist(), offsets[rows + 1].tolist(), strict=True))


def _top(scores: np.ndarray, k: int, *, positive: bool) -> list[int]:
    """Rows of the `k` highest scores, best first (only scores above 0 when `positive`)."""
    finite = np.isfinite(scores)
    candidates = np.flatnonzero((scores > 0) & finite) if positive else np.flatnonzero(finite)
    if len(candidates) > k:
        candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    return candidates[np.lexsort((candidates, -scores[candidates]))].tolist()
