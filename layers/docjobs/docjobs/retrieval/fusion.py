"""Reciprocal rank fusion: one ranking from several, by rank rather than incomparable scores."""

from __future__ import annotations

RRF_K = 60  # the constant of Cormack et al. (2009): dampens the weight of the very top ranks


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
