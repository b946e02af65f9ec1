"""Indexes and research on the project API: create_index, update_index, vector_store and research
jobs over HTTP, with the real worker and index function on the emulator, on a small real corpus."""

from __future__ import annotations

import textwrap
import threading

import pytest

from tests import documents
from tests.corpus import QUESTIONS, corpus
from tests.integration.test_project_api import create, seed_headers, upload

DIRECT = [q for q in QUESTIONS if not q.paraphrase]


def run(api, principal, worker, body, project="p1"):
    response = create(api, principal, body, project=project)
    assert response.status_code == 202, response.text
    worker.drain()
    return api.get(f"/v1/projects/{project}/jobs/{response.json()['id']}", headers=seed_headers(principal)).json()


def upload_corpus(api, principal, project="p1") -> dict[str, str]:
    """filename -> source id"""
    kinds = {"md": "text/markdown", "txt": "text/plain"}
    return {name: upload(api, principal, data, name=name, kind=kinds[name.rsplit(".", 1)[1]], project=project)["id"]
            for name, data in corpus().items()}  # fmt: skip


def research(api, principal, worker, question, index="docs", project="p1", **options):
    job = run(api, principal, worker, {"operation": "research", "options": {"index": index, "question": question, **options}},
              project=project)  # fmt: skip
    assert job["status"] == "succeeded", job
    return job["result"]


@pytest.fixture
def indexed(api, principal, worker):
    sources = upload_corpus(api, principal)
    job = run(api, principal, worker, {"operation": "create_index", "source_ids": list(sources.values()),
                                        "options": {"index": "docs"}})  # fmt: skip
    assert job["status"] == "succeeded", job
    return sources, job


def test_create_index_builds_a_searchable_index_and_shows_what_it_holds(api, principal, worker, indexed):
    sources, job = indexed
    result = job["result"]
    assert {s["source_id"] for s in result["sources"]} == set(sources.values())
    assert all(s["status"] == "indexed" and s["chunks"] > 0 and s["parse"] == "parsed" for s in result["sources"])
    assert [h["step"] for h in job["history"]] == ["prepare_sources", "embed", "commit", "store_result"]
    index = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()
    assert index["object"] == "index" and index["status"] == "ready" and index["version"] == 1
    assert index["source_count"] == 5 and index["chunk_count"] == result["stats"]["chunks_added"] > 50
    assert index["embedding_model"] == "wordllama-l2-supercat-256" and index["dimensions"] == 256
    assert index["chunking"]["max_tokens"] == 256 and index["size_bytes"] > 0 and index["last_job_id"] == job["id"]
    assert {s["filename"] for s in index["sources"]} == set(sources)
    listed = api.get("/v1/projects/p1/indexes", headers=seed_headers(principal)).json()
    assert [i["name"] for i in listed["data"]] == ["docs"] and listed["data"][0]["sources"] is None
    assert listed["has_more"] is False
    # Another project (or another account) sees none of it.
    assert api.get("/v1/projects/p2/indexes", headers=seed_headers(principal)).json()["data"] == []
    assert api.get("/v1/projects/p2/indexes/docs", headers=seed_headers(principal)).status_code == 404


def test_known_questions_find_their_passage_in_the_top_three(api, principal, worker, indexed):
    """All 24 direct questions have their answer in the top 5, and all but at most one in the top 3
    (measured: the Apache "support or warranty for a fee" question ranks GPL section 4, which says
    the same of the GPL, above Apache section 9)."""
    ranks = {}
    for q in DIRECT:
        passages = research(api, principal, worker, q.question, top_k=5)["passages"]
        ranks[q.question] = next((p["rank"] for p in passages if q.answered_by(p)), None)
    assert all(ranks.values()), {q: r for q, r in ranks.items() if r is None}
    outside_top_three = {q: r for q, r in ranks.items() if r > 3}
    assert len(outside_top_three) <= 1, outside_top_three


def test_research_answers_with_a_citation_for_every_sentence(api, principal, worker, indexed):
    result = research(api, principal, worker, "Under the Apache License, what happens to my patent license if I start "
                                              "patent litigation?")  # fmt: skip
    assert result["method"] == "extractive" and result["index_version"] == 1 and result["warnings"] == []
    assert "patent" in result["answer"].lower() and 1 <= len(result["sentences"]) <= 3
    passages = {p["chunk_id"]: p for p in result["passages"]}
    for sentence in result["sentences"]:
        (citation,) = sentence["citations"]
        assert sentence["text"] in " ".join(passages[citation["chunk_id"]]["text"].split())  # word for word
        assert citation["source_id"] and citation["filename"] and citation["page"] == 1
    assert result["answer"] == " ".join(s["text"] for s in result["sentences"])
    first = result["passages"][0]
    assert first["rank"] == 1 and first["filename"] == "apache-2.0.txt" and first["page"] == 1
    assert first["lexical_rank"] or first["dense_rank"]
    assert {"chunk_id", "source_id", "filename", "page", "heading_path", "text", "score"} <= set(first)
    # A question nothing in the index bears on: passages, but no made-up answer.
    unrelated = research(api, principal, worker, "zebra migration xylophone")
    assert unrelated["answer"] is None and unrelated["sentences"] == [] and unrelated["warnings"]


def test_citations_name_the_page_and_heading_of_a_pdf(api, principal, worker):
    apache = corpus()["apache-2.0.txt"].decode()
    patent = apache[apache.index("3. Grant of Patent License") : apache.index("4. Redistribution")]
    redistribution = apache[apache.index("4. Redistribution") : apache.index("5. Submission of Contributions")]

    def lines(text):
        return [(line, 10.0) for line in textwrap.wrap(" ".join(text.split()), 95)]

    pdf = documents.pdf([[("Patents", 18.0), *lines(patent)], [("Redistribution", 18.0), *lines(redistribution)[:40]]],
                        title="Licence terms")  # fmt: skip
    source = upload(api, principal, pdf, name="terms.pdf")
    assert run(api, principal, worker, {"operation": "create_index", "source_ids": [source["id"]],
                                        "options": {"index": "terms"}})["status"] == "succeeded"  # fmt: skip
    result = research(api, principal, worker, "Must a redistribution carry prominent notices stating that files were "
                                               "modified?", index="terms", top_k=1)  # fmt: skip
    (passage,) = result["passages"]
    assert passage["filename"] == "terms.pdf" and passage["page"] == 2 and passage["heading_path"] == ["Redistribution"]
    assert result["sentences"] and all(s["citations"][0]["page"] == 2 for s in result["sentences"])


def test_update_index_adds_removes_and_reuses_parse_results(api, principal, worker):
    sources = upload_corpus(api, principal)
    # A source parsed before (by a parse job) is not parsed again by the index.
    assert run(api, principal, worker, {"operation": "parse", "source_id": sources["mpl-2.0.txt"]})["status"] == "succeeded"
    created = run(api, principal, worker, {"operation": "create_index", "source_ids": [sources["apache-2.0.txt"],
                  sources["mpl-2.0.txt"]], "options": {"index": "docs"}})  # fmt: skip
    parse = {s["filename"]: s["parse"] for s in created["result"]["sources"]}
    assert parse == {"apache-2.0.txt": "parsed", "mpl-2.0.txt": "reused"}
    before = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()

    updated = run(api, principal, worker, {"operation": "update_index", "source_ids": [sources["gpl-3.txt"]],
                                            "options": {"index": "docs", "remove": [sources["apache-2.0.txt"]]}})  # fmt: skip
    assert updated["status"] == "succeeded", updated
    outcome = {s["source_id"]: s["status"] for s in updated["result"]["sources"]}
    assert outcome == {sources["gpl-3.txt"]: "indexed", sources["apache-2.0.txt"]: "removed"}
    after = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()
    assert after["version"] == 2 and {s["filename"] for s in after["sources"]} == {"mpl-2.0.txt", "gpl-3.txt"}
    mpl = lambda index: next(s for s in index["sources"] if s["filename"] == "mpl-2.0.txt")  # noqa: E731
    assert mpl(after) == mpl(before)  # untouched: not indexed again
    apache_chunks = next(s["chunks"] for s in before["sources"] if s["filename"] == "apache-2.0.txt")
    gpl_chunks = next(s["chunks"] for s in after["sources"] if s["filename"] == "gpl-3.txt")
    assert after["chunk_count"] == before["chunk_count"] - apache_chunks + gpl_chunks
    result = research(api, principal, worker, "Does a contributor to an Apache licensed work grant me a patent license?")
    assert all(p["filename"] != "apache-2.0.txt" for p in result["passages"])
    # Adding a source that is already there replaces its chunks rather than duplicating them.
    again = run(api, principal, worker, {"operation": "update_index", "source_ids": [sources["gpl-3.txt"]],
                                          "options": {"index": "docs"}})  # fmt: skip
    assert again["result"]["stats"]["chunk_count"] == after["chunk_count"]
    assert again["result"]["sources"][0]["parse"] == "reused"


def test_research_can_search_only_some_sources_and_in_one_mode(api, principal, worker, indexed):
    sources, _ = indexed
    only = research(api, principal, worker, "patent license", source_ids=[sources["mpl-2.0.txt"]], top_k=5)
    assert only["passages"] and {p["filename"] for p in only["passages"]} == {"mpl-2.0.txt"}
    lexical = research(api, principal, worker, "patent license", mode="lexical")
    assert all(p["dense_rank"] is None and p["lexical_rank"] for p in lexical["passages"])
    dense = research(api, principal, worker, "patent license", mode="dense")
    assert all(p["lexical_rank"] is None and p["dense_rank"] for p in dense["passages"])


def test_vector_store_writes_texts_with_metadata_and_replaces_by_id(api, principal, worker):
    items = [
        {"id": "faq-1", "text": "Refunds are issued within 14 days of a return being received.",
         "metadata": {"source_id": "faq", "filename": "faq.html", "page": 3, "heading_path": ["Billing"], "lang": "en"}},
        {"id": "faq-2", "text": "Shipping to Canada takes five to seven business days.", "metadata": {"source_id": "faq"}},
        {"text": "Our office is closed on public holidays."},
    ]  # fmt: skip
    job = run(api, principal, worker, {"operation": "vector_store", "options": {"index": "kb", "items": items}})
    assert job["status"] == "succeeded", job
    ids = job["result"]["items"]["ids"]
    assert ids[:2] == ["faq-1", "faq-2"] and ids[2].startswith("item_")
    index = api.get("/v1/projects/p1/indexes/kb", headers=seed_headers(principal)).json()
    assert index["item_count"] == 3 and index["chunk_count"] == 3 and index["source_count"] == 0
    result = research(api, principal, worker, "How long do refunds take?", index="kb", top_k=1)
    (passage,) = result["passages"]
    assert passage["item_id"] == "faq-1" and passage["page"] == 3 and passage["heading_path"] == ["Billing"]
    assert passage["metadata"]["lang"] == "en" and passage["source_id"] == "faq"
    assert result["sentences"][0]["citations"][0] == {"chunk_id": passage["chunk_id"], "source_id": "faq",
                                                      "filename": "faq.html", "page": 3, "heading_path": ["Billing"],
                                                      "item_id": "faq-1"}  # fmt: skip
    # The same id replaces its item; the same text again is the same item.
    changed = [{"id": "faq-1", "text": "Refunds are issued within 30 days."}, items[2]]
    assert run(api, principal, worker, {"operation": "vector_store", "options": {"index": "kb", "items": changed}})["status"] == "succeeded"
    index = api.get("/v1/projects/p1/indexes/kb", headers=seed_headers(principal)).json()
    assert index["item_count"] == 3 and index["version"] == 2
    assert "30 days" in research(api, principal, worker, "refund", index="kb", top_k=1)["passages"][0]["text"]
    # Items go by id, or by their source_id.
    removed = run(api, principal, worker, {"operation": "update_index", "options": {"index": "kb", "remove_items": ["faq-1"],
                                                                                    "remove": ["faq"]}})  # fmt: skip
    assert removed["status"] == "succeeded", removed
    assert api.get("/v1/projects/p1/indexes/kb", headers=seed_headers(principal)).json()["item_count"] == 1


def test_large_vector_store_requests_keep_their_items_out_of_the_job(api, principal, worker, container):
    items = [{"id": f"n{i}", "text": f"Note {i}: " + "lorem ipsum dolor " * 40} for i in range(150)]
    job = run(api, principal, worker, {"operation": "vector_store", "options": {"index": "notes", "items": items}})
    assert job["status"] == "succeeded" and job["result"]["items"]["written"] == 150
    stored = container.jobs.get(job["id"])
    assert "items" not in stored.request["options"] and stored.request["items_key"].startswith("payloads/")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"operation": "create_index", "source_ids": ["src_nope"], "options": {"index": "x"}}, 404, "source_not_found"),
        ({"operation": "create_index", "options": {"index": "x"}}, 422, "invalid_request"),
        ({"operation": "create_index", "source_ids": ["src_a"], "options": {"index": "Bad Name!"}}, 422, "invalid_request"),
        ({"operation": "create_index", "source_id": "src_a", "options": {"index": "x"}}, 422, "invalid_request"),
        ({"operation": "update_index", "source_ids": ["src_a"], "options": {"index": "missing"}}, 404, "index_not_found"),
        ({"operation": "research", "options": {"index": "missing", "question": "why?"}}, 404, "index_not_found"),
        ({"operation": "research", "options": {"index": "x", "question": "   "}}, 422, "invalid_request"),
        ({"operation": "research", "options": {"index": "x", "question": "q", "top_k": 500}}, 422, "invalid_request"),
        ({"operation": "vector_store", "options": {"index": "x", "items": []}}, 422, "invalid_request"),
        ({"operation": "vector_store", "options": {"index": "x", "items": [{"text": "a", "metadata": {"k": {"deep": 1}}}]}},
         422, "invalid_request"),
        ({"operation": "vector_store", "options": {"index": "x", "items": [{"text": "a", "id": "same"}, {"text": "b", "id": "same"}]}},
         422, "invalid_request"),
    ],
)  # fmt: skip
def test_bad_index_requests_are_refused_at_once(api, principal, body, status, code):
    response = create(api, principal, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_an_index_name_is_taken_once_and_research_waits_for_the_build(api, principal, worker):
    sources = upload_corpus(api, principal)
    body = {"operation": "create_index", "source_ids": [sources["cc0-1.0.txt"]], "options": {"index": "docs"}}
    assert create(api, principal, body).status_code == 202
    taken = create(api, principal, body)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "index_conflict"
    early = create(api, principal, {"operation": "research", "options": {"index": "docs", "question": "waiver"}})
    assert early.status_code == 409 and "being built" in early.json()["error"]["message"]
    building = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()
    assert building["status"] == "building" and building["version"] == 0
    worker.drain()
    assert api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()["status"] == "ready"
    # Idempotency-Key: the same create replays its job rather than colliding with its own index.
    key = {"Idempotency-Key": "make-other"}
    first = create(api, principal, {**body, "options": {"index": "other"}}, **key)
    replay = create(api, principal, {**body, "options": {"index": "other"}}, **key)
    assert replay.status_code == 202 and replay.json()["id"] == first.json()["id"]


def test_two_creates_racing_for_one_name_make_one_index(api, principal, container):
    from docjobs.services.operations import submit_operation

    source = upload(api, principal, corpus()["cc0-1.0.txt"], name="cc0.txt", kind="text/plain")
    outcomes, barrier = [], threading.Barrier(4)

    def submit():
        barrier.wait()
        try:
            submit_operation(container, principal, "p1", operation="create_index", source_id=None, source_ids=[source["id"]],
                             options={"index": "race"}, tags=[], correlation_id=None)  # fmt: skip
            outcomes.append("created")
        except Exception as error:  # noqa: BLE001
            outcomes.append(getattr(error, "code", repr(error)))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created", "index_conflict", "index_conflict", "index_conflict"]


def test_a_source_that_cannot_be_indexed_makes_the_job_partially_succeed(api, principal, worker):
    good = upload(api, principal, corpus()["cc0-1.0.txt"], name="cc0.txt", kind="text/plain")
    scanned = upload(api, principal, documents.blank_pdf(), name="blank.pdf")
    broken = upload(api, principal, documents.corrupt_pdf(), name="broken.pdf")
    job = run(api, principal, worker, {"operation": "create_index", "source_ids": [good["id"], scanned["id"], broken["id"]],
                                        "options": {"index": "mixed"}})  # fmt: skip
    assert job["status"] == "partially_succeeded", job
    outcome = {s["source_id"]: s for s in job["result"]["sources"]}
    assert outcome[good["id"]]["status"] == "indexed"
    assert outcome[scanned["id"]]["status"] == "failed" and "no text" in outcome[scanned["id"]]["error"]
    assert outcome[broken["id"]]["status"] == "failed" and outcome[broken["id"]]["error"]
    index = api.get("/v1/projects/p1/indexes/mixed", headers=seed_headers(principal)).json()
    assert index["status"] == "ready" and [s["filename"] for s in index["sources"]] == ["cc0.txt"]
    # Nothing indexable at all: the job fails, and the name is free again.
    failed = run(api, principal, worker, {"operation": "create_index", "source_ids": [broken["id"]], "options": {"index": "bad"}})
    assert failed["status"] == "failed" and "Nothing could be indexed" in failed["error"]
    assert api.get("/v1/projects/p1/indexes/bad", headers=seed_headers(principal)).json()["status"] == "failed"
    retry = run(api, principal, worker, {"operation": "create_index", "source_ids": [good["id"]], "options": {"index": "bad"}})
    assert retry["status"] == "succeeded"


def test_an_index_past_its_size_limit_is_refused_and_left_unchanged(api, principal, worker, monkeypatch):
    from docjobs.domain import indexes

    sources = upload_corpus(api, principal)
    assert run(api, principal, worker, {"operation": "create_index", "source_ids": [sources["cc0-1.0.txt"]],
                                        "options": {"index": "docs"}})["status"] == "succeeded"  # fmt: skip
    before = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()
    monkeypatch.setattr(indexes, "MAX_CHUNKS", before["chunk_count"] + 5)
    job = run(api, principal, worker, {"operation": "update_index", "source_ids": [sources["gpl-3.txt"]], "options": {"index": "docs"}})
    assert job["status"] == "failed" and "at most" in job["error"] and "unchanged" in job["error"]
    after = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()
    assert after["version"] == before["version"] and after["chunk_count"] == before["chunk_count"]


def test_concurrent_changes_to_one_index_both_land(api, principal, worker, container, monkeypatch):
    """Job A reads version 1; job B commits version 2 meanwhile; A's conditional write fails, and A
    applies its change again on top of B's: both sources end up in the index."""
    from docjobs.services.worker import run_job

    sources = upload_corpus(api, principal)
    run(api, principal, worker, {"operation": "create_index", "source_ids": [sources["cc0-1.0.txt"]], "options": {"index": "docs"}})
    a = create(api, principal, {"operation": "update_index", "source_ids": [sources["mpl-2.0.txt"]], "options": {"index": "docs"}}).json()
    b = create(api, principal, {"operation": "update_index", "source_ids": [sources["apache-2.0.txt"]], "options": {"index": "docs"}}).json()
    original_commit = container.indexes.commit
    interleaved = []

    def commit(manifest, *, expected_version):
        if manifest.last_job_id == a["id"] and not interleaved:
            interleaved.append(True)
            run_job(container, b["id"])  # B runs to completion between A's read and A's write
        return original_commit(manifest, expected_version=expected_version)

    monkeypatch.setattr(container.indexes, "commit", commit)
    run_job(container, a["id"])
    monkeypatch.undo()
    worker.drain()  # (both messages are still queued: their jobs are finished, so they do nothing)
    index = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()
    assert index["version"] == 3 and {s["filename"] for s in index["sources"]} == {"cc0-1.0.txt", "mpl-2.0.txt", "apache-2.0.txt"}
    job_a = api.get(f"/v1/projects/p1/jobs/{a['id']}", headers=seed_headers(principal)).json()
    assert job_a["status"] == "succeeded" and next(h for h in job_a["history"] if h["step"] == "commit")["details"]["attempts"] == 2
    # Only the current snapshot is left in S3.
    listed = container.blobs.client.list_objects_v2(Bucket=container.blobs.bucket, Prefix="indexes/")
    assert [o["Key"] for o in listed.get("Contents", [])] == [container.indexes.get(principal.owner, "p1", "docs").snapshot_key]


def test_a_job_rerun_after_its_commit_changes_nothing_more(api, principal, worker, container, monkeypatch):
    """The worker dies after committing the index but before finishing the job: SQS redelivers, the
    job runs again, and the index holds each chunk once."""
    from docjobs.services import operations
    from docjobs.services.worker import run_job

    sources = upload_corpus(api, principal)
    response = create(api, principal, {"operation": "create_index", "source_ids": [sources["mpl-2.0.txt"]], "options": {"index": "docs"}})
    original = operations._store_result
    calls = []

    def crash_once(c, job, result):
        if not calls:
            calls.append(True)
            raise RuntimeError("worker lost")
        return original(c, job, result)

    monkeypatch.setattr(operations, "_store_result", crash_once)
    worker.drain()  # the first delivery crashes after the commit
    assert calls and container.indexes.get(principal.owner, "p1", "docs").version == 1
    run_job(container, response.json()["id"], receive_count=2)  # SQS delivers the message again
    job = api.get(f"/v1/projects/p1/jobs/{response.json()['id']}", headers=seed_headers(principal)).json()
    assert job["status"] == "succeeded" and job["result"]["stats"]["version"] == 2
    index = api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).json()
    assert index["chunk_count"] == index["sources"][0]["chunks"] == job["result"]["stats"]["chunk_count"]


def test_a_cold_worker_loads_the_index_from_s3(api, principal, worker, indexed):
    from docjobs.services import indexing

    warm = research(api, principal, worker, "How are docjobs webhook messages signed?")
    indexing.snapshots.entries.clear()  # a new process
    cold = research(api, principal, worker, "How are docjobs webhook messages signed?")
    assert [p["chunk_id"] for p in cold["passages"]] == [p["chunk_id"] for p in warm["passages"]]
    assert cold["answer"] == warm["answer"]


def test_deleting_an_index_removes_it_and_its_snapshot(api, principal, worker, container, indexed):
    key = container.indexes.get(principal.owner, "p1", "docs").snapshot_key
    gone = api.delete("/v1/projects/p1/indexes/docs", headers=seed_headers(principal))
    assert gone.status_code == 200 and gone.json()["name"] == "docs"
    assert api.get("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).status_code == 404
    assert api.delete("/v1/projects/p1/indexes/docs", headers=seed_headers(principal)).status_code == 404
    assert container.blobs.size_of(key) is None
    research_after = create(api, principal, {"operation": "research", "options": {"index": "docs", "question": "q"}})
    assert research_after.status_code == 404
    # A job that was queued before the delete fails clearly rather than resurrecting the index.
    sources, _ = indexed
    run(api, principal, worker, {"operation": "create_index", "source_ids": [sources["cc0-1.0.txt"]], "options": {"index": "tmp"}})
    pending = create(api, principal, {"operation": "update_index", "source_ids": [sources["gpl-3.txt"]], "options": {"index": "tmp"}}).json()
    api.delete("/v1/projects/p1/indexes/tmp", headers=seed_headers(principal))
    worker.drain()
    job = api.get(f"/v1/projects/p1/jobs/{pending['id']}", headers=seed_headers(principal)).json()
    assert job["status"] == "failed" and "deleted" in job["error"]
    assert api.get("/v1/projects/p1/indexes/tmp", headers=seed_headers(principal)).status_code == 404


def test_listing_indexes_pages_by_name(api, principal, worker):
    for name in ("a", "b", "c"):
        run(api, principal, worker, {"operation": "vector_store", "options": {"index": name, "items": [{"text": f"text {name}"}]}})
    first = api.get("/v1/projects/p1/indexes?limit=2", headers=seed_headers(principal)).json()
    assert [i["name"] for i in first["data"]] == ["a", "b"] and first["has_more"]
    rest = api.get(f"/v1/projects/p1/indexes?limit=2&cursor={first['next_cursor']}", headers=seed_headers(principal)).json()
    assert [i["name"] for i in rest["data"]] == ["c"]
    bad = api.get("/v1/projects/p2/indexes?cursor=" + first["next_cursor"], headers=seed_headers(principal))
    assert bad.status_code == 422


def test_an_index_refuses_a_query_embedded_by_another_model(api, principal, worker, monkeypatch):
    from docjobs.services import indexing

    source = upload(api, principal, corpus()["cc0-1.0.txt"], name="cc0.txt", kind="text/plain")
    run(api, principal, worker, {"operation": "create_index", "source_ids": [source["id"]], "options": {"index": "docs"}})

    class Other:
        name, dimensions = "bedrock:amazon.titan-embed-text-v2:0:256", 256

    monkeypatch.setattr(indexing, "embedder_for", lambda c: Other())
    job = run(api, principal, worker, {"operation": "research", "options": {"index": "docs", "question": "waiver"}})
    assert job["status"] == "failed" and "wordllama" in job["error"] and "create a new index" in job["error"]


def test_vector_stores_made_by_racing_writes_take_every_write(api, principal, worker, container):
    from docjobs.services.operations import submit_operation

    barrier, errors = threading.Barrier(4), []

    def write(i):
        barrier.wait()
        try:
            submit_operation(container, principal, "p1", operation="vector_store", source_id=None,
                             options={"index": "fresh", "items": [{"id": f"i{i}", "text": f"Fact number {i}."}]}, tags=[],
                             correlation_id=None)  # fmt: skip
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    worker.drain()
    index = api.get("/v1/projects/p1/indexes/fresh", headers=seed_headers(principal)).json()
    assert index["item_count"] == 4 and index["version"] == 4
