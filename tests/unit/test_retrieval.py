"""The retrieval core: BM25, the offline embedding, and their fusion."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from docjobs.retrieval.bm25 import Bm25Index, terms
from docjobs.retrieval.embedding import StaticEmbedder, default_embedder
from docjobs.retrieval.fusion import reciprocal_rank_fusion

PASSAGES = {
    "pay": "Payment is due within 30 days of the invoice date. Late payments accrue interest.",
    "end": "Either party may terminate this agreement with 60 days written notice.",
    "secret": "Confidential information must not be disclosed to third parties.",
    "cat": "The cat sat on the mat and watched the birds.",
}


def test_terms_fold_case_drop_stopwords_and_meet_plurals():
    assert terms("The Invoices were PAID") == terms("invoice paid")
    assert len(set(terms("invoice invoices invoiced invoicing"))) == 1
    assert terms("terminate terminated")[0] == terms("terminated")[0] and terms("is it") == []
    assert terms("") == []


def test_bm25_ranks_the_passage_with_the_rare_query_terms_first():
    index = Bm25Index()
    for doc_id, text in PASSAGES.items():
        index.add(doc_id, text)
    scores = index.scores("When is the invoice payment due?")
    assert max(scores, key=scores.get) == "pay"
    assert "cat" not in scores
    assert index.scores("zebra") == {}


def test_bm25_updates_without_a_rebuild():
    index = Bm25Index()
    for doc_id, text in PASSAGES.items():
        index.add(doc_id, text)
    index.remove("pay")
    assert "pay" not in index.scores("invoice payment")
    assert "invoice" not in index.postings
    index.add("end", "Invoices are paid monthly.")  # replacing a document replaces its terms
    assert index.scores("terminate") == {}
    assert "end" in index.scores("invoice")
    fresh = Bm25Index()
    fresh.add("secret", PASSAGES["secret"])
    fresh.add("end", "Invoices are paid monthly.")
    fresh.add("cat", PASSAGES["cat"])
    assert index.scores("invoice third parties") == pytest.approx(fresh.scores("invoice third parties"))


def test_fusion_rewards_agreement_between_rankings():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]])
    assert [doc for doc, _ in fused][0] == "b"
    assert reciprocal_rank_fusion([]) == []


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return default_embedder()


def test_the_embedding_loads_from_the_installed_package_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the embedding tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    model = StaticEmbedder.from_package()
    vectors = model.embed(["Payment terms", ""])
    assert vectors.shape == (2, 256) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert not vectors[1].any()  # an empty text has no direction rather than a made-up one


def test_the_embedding_puts_a_question_near_its_answer(embedder):
    ids = list(PASSAGES)
    vectors = embedder.embed([PASSAGES[i] for i in ids])
    for question, expected in [("When must invoices be paid?", "pay"), ("How can the contract be ended?", "end"),
                               ("keeping secrets private", "secret")]:  # fmt: skip
        similarity = vectors @ embedder.embed([question])[0]
        assert ids[int(np.argmax(similarity))] == expected, (question, similarity)
