"""The retrieval core: BM25, the offline embedding, and their fusion."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from docjobs.retrieval import store
from docjobs.retrieval.answer import extractive_answer
from docjobs.retrieval.bm25 import terms
from docjobs.retrieval.embedding import StaticEmbedder, default_embedder
from docjobs.retrieval.fusion import reciprocal_rank_fusion
from docjobs.retrieval.store import IndexSnapshot, NewChunk

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


def snapshot_of(passages: dict[str, str], embedder=None) -> IndexSnapshot:
    chunks = [NewChunk(chunk_id=k, group=f"src_{k}", text=v, citation={"source_id": f"src_{k}"}) for k, v in passages.items()]
    vectors = embedder.embed([c.text for c in chunks]) if embedder else np.zeros((len(chunks), 4), np.float32)
    empty = IndexSnapshot.empty(vectors.shape[1], "test")
    return empty.changed(add=chunks, vectors=vectors)


def ids(snapshot: IndexSnapshot, hits) -> list[str]:
    return [snapshot.citation(h.row)["chunk_id"] for h in hits]


def test_bm25_ranks_the_passage_with_the_rare_query_terms_first():
    snapshot = snapshot_of(PASSAGES)
    hits = snapshot.search("When is the invoice payment due?", None, top_k=4, mode="lexical")
    assert ids(snapshot, hits)[0] == "pay" and "cat" not in ids(snapshot, hits)
    assert snapshot.search("zebra", None, top_k=4, mode="lexical") == []
    scores = snapshot.lexical_scores("invoice payment")
    assert scores[0] > 0 and not scores[1:].any()


def test_a_change_keeps_what_it_does_not_touch_and_equals_a_fresh_build():
    snapshot = snapshot_of(PASSAGES)
    changed = snapshot.changed(drop_groups={"src_pay", "src_end"},
                               add=[NewChunk("end2", "src_end", "Invoices are paid monthly.", {"source_id": "src_end"})],
                               vectors=np.ones((1, 4), np.float32))  # fmt: skip
    assert changed.size == 3 and sorted(changed.groups) == ["src_cat", "src_end", "src_secret"]
    assert "terminat" not in changed.vocab and changed.search("terminate", None, top_k=3, mode="lexical") == []
    assert ids(changed, changed.search("invoice", None, top_k=3, mode="lexical")) == ["end2"]
    fresh = snapshot_of({"secret": PASSAGES["secret"], "cat": PASSAGES["cat"], "end2": "Invoices are paid monthly."})
    query = "invoice third parties birds"
    by_id = lambda snap: {snap.citation(r)["chunk_id"]: float(x) for r, x in enumerate(snap.lexical_scores(query))}  # noqa: E731
    assert by_id(changed) == pytest.approx(by_id(fresh))
    assert changed.text(changed.size - 1) == "Invoices are paid monthly."
    # Dropping rows (vector_store items) rather than whole sources.
    assert snapshot.changed(drop_rows={0, 3}).size == 2


def test_a_snapshot_survives_storage_byte_for_byte(embedder, monkeypatch):
    snapshot = snapshot_of(PASSAGES, embedder)
    loaded = IndexSnapshot.from_bytes(snapshot.to_bytes())
    question = "How can the contract be ended?"
    vector = embedder.embed([question])[0]
    assert ids(loaded, loaded.search(question, vector, top_k=4)) == ids(snapshot, snapshot.search(question, vector, top_k=4))
    assert loaded.citation(1) == snapshot.citation(1) and loaded.text(2) == PASSAGES["secret"]
    assert loaded.group_sizes() == {f"src_{k}": 1 for k in PASSAGES}
    with pytest.raises(ValueError, match="unreadable"):
        IndexSnapshot.from_bytes(snapshot.to_bytes().replace(b'"format": 1', b'"format": 9'))  # the zip's CRC
    monkeypatch.setattr(store, "FORMAT", 9)
    newer = snapshot.to_bytes()
    monkeypatch.undo()
    with pytest.raises(ValueError, match="unknown index snapshot format 9"):
        IndexSnapshot.from_bytes(newer)


def test_hybrid_search_finds_paraphrases_that_share_no_word_and_honours_a_source_filter(embedder):
    snapshot = snapshot_of(PASSAGES, embedder)
    question = "How can the contract be ended?"  # no word in common with the answer
    vector = embedder.embed([question])[0]
    assert snapshot.search(question, vector, top_k=3, mode="lexical") == []
    hits = snapshot.search(question, vector, top_k=3)
    assert ids(snapshot, hits)[0] == "end" and hits[0].dense_rank == 1 and hits[0].lexical_rank is None
    only = snapshot.search(question, vector, top_k=3, groups={"src_cat", "src_pay"})
    assert set(ids(snapshot, only)) <= {"cat", "pay"}


def test_an_extractive_answer_quotes_and_cites_its_passages(embedder):
    snapshot = snapshot_of(PASSAGES, embedder)
    question = "When must an invoice be paid?"
    hits = snapshot.search(question, embedder.embed([question])[0], top_k=3)
    passages = [{"rank": i, "chunk_id": snapshot.citation(h.row)["chunk_id"], "text": snapshot.text(h.row), "page": 1,
                 "page_spans": [[0, 1], [40, 2]]} for i, h in enumerate(hits, start=1)]  # fmt: skip
    answer = extractive_answer(question, passages, embedder, max_sentences=2, idf=snapshot.idf)
    assert answer["answer"].startswith("Payment is due within 30 days")
    for sentence in answer["sentences"]:
        cited = next(p for p in passages if p["chunk_id"] == sentence["citations"][0]["chunk_id"])
        assert sentence["text"] in cited["text"]  # word for word
    assert answer["sentences"][0]["citations"][0]["page"] == 1
    late = [s for s in answer["sentences"] if s["text"].startswith("Late payments")]
    assert not late or late[0]["citations"][0]["page"] == 2  # the second sentence starts past offset 40
    unrelated = extractive_answer("zebra migration", passages, embedder, max_sentences=2, idf=snapshot.idf)
    assert unrelated == {"answer": None, "sentences": [], "citations": []}


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


def test_bedrock_embeddings_plug_in_behind_the_same_interface():
    import io
    import json

    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber
    from docjobs.retrieval.bedrock import BedrockEmbedder

    client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    embedder = BedrockEmbedder.from_setting("bedrock:amazon.titan-embed-text-v2:0:256", client)
    assert embedder.name == "bedrock:amazon.titan-embed-text-v2:0:256" and embedder.dimensions == 256
    with Stubber(client) as stub:
        for value in (3.0, 4.0):
            payload = json.dumps({"embedding": [value] + [0.0] * 255}).encode()
            stub.add_response("invoke_model", {"body": StreamingBody(io.BytesIO(payload), len(payload)),
                                               "contentType": "application/json"})  # fmt: skip
        embedder.concurrency = 1  # the stub answers in order
        vectors = embedder.embed(["first", "", "second"])
        stub.assert_no_pending_responses()
    assert vectors.shape == (3, 256) and vectors[0, 0] == pytest.approx(1.0) and not vectors[1].any()
    assert BedrockEmbedder.from_setting("bedrock", client).model_id == "amazon.titan-embed-text-v2:0"
    with pytest.raises(ValueError):
        BedrockEmbedder.from_setting("bedrock:amazon.titan-embed-text-v2:0:300", client)
