"""Index operations, as the index function runs them: create_index, update_index and vector_store
change an index; research reads one.

A change does its expensive work once (parse the sources that have no parse result, chunk, embed
only the new chunks), then commits: load the current snapshot, apply the change, write the next
snapshot, and move the manifest on with a conditional write on its version. If another job moved
it first, the change is applied again to that newer snapshot (the parsing and embedding are not
redone). A change is idempotent (a source added again replaces its own chunks, an item with the
same id replaces itself), so a redelivered message that re-runs it is harmless.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.indexes import FAILED, IndexedSource, IndexManifest, check_size, snapshot_key
from docjobs.domain.jobs import Job, Status
from docjobs.domain.options import IndexChunkOptions
from docjobs.observability import logger
from docjobs.processors.base import Steps
from docjobs.processors.chunking import chunk_blocks
from docjobs.processors.model import DocumentError, ParsedDocument
from docjobs.retrieval.embedding import Embedder, default_embedder
from docjobs.retrieval.store import IndexSnapshot, NewChunk
from docjobs.services.parsed import MISSING, ParsedCache

COMMIT_ATTEMPTS = 8
CACHED_SNAPSHOTS = 4  # per process: a warm worker answers research without touching S3


_bedrock: dict[str, Embedder] = {}


def embedder_for(c: Container) -> Embedder:
    """The deployment's embedder: offline by default, Bedrock when EMBEDDINGS says so."""
    setting = c.settings.embeddings
    if not setting.startswith("bedrock"):
        return default_embedder()
    if setting not in _bedrock:
        import boto3

        from docjobs.retrieval.bedrock import BedrockEmbedder

        client = boto3.client("bedrock-runtime", region_name=c.settings.region)
        _bedrock[setting] = BedrockEmbedder.from_setting(setting, client)
    return _bedrock[setting]


def run_index_operation(c: Container, job: Job, steps: Steps) -> tuple[dict[str, Any], Status]:
    if job.request["operation"] == "research":
        return research(c, job, steps), Status.COMPLETED
    return change_index(c, job, steps)


# -- snapshots --------------------------------------------------------------------------------


class _SnapshotCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[str, IndexSnapshot] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> IndexSnapshot | None:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
            return self.entries.get(key)

    def put(self, key: str, snapshot: IndexSnapshot) -> None:
        with self.lock:
            self.entries[key] = snapshot
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


snapshots = _SnapshotCache(CACHED_SNAPSHOTS)


class _SnapshotGone(Exception):
    """The manifest named a snapshot that a newer commit has already replaced and deleted."""


def load_snapshot(c: Container, manifest: IndexManifest, embedder: Embedder) -> IndexSnapshot:
    if not manifest.searchable or manifest.snapshot_key is None:
        return IndexSnapshot.empty(embedder.dimensions, embedder.name)
    cached = snapshots.get(manifest.snapshot_key)
    if cached is not None:
        return cached
    try:
        data = c.blobs.get_bytes(manifest.snapshot_key)
    except ClientError as error:
        if error.response["Error"]["Code"] in MISSING:
            raise _SnapshotGone() from None
        raise
    snapshot = IndexSnapshot.from_bytes(data)
    snapshots.put(manifest.snapshot_key, snapshot)
    return snapshot


def current_snapshot(c: Container, job: Job, name: str, embedder: Embedder) -> tuple[IndexManifest, IndexSnapshot]:
    """The index's manifest and snapshot as of now (re-reading the manifest if the snapshot it
    named was replaced in between)."""
    for _ in range(COMMIT_ATTEMPTS):
        manifest = c.indexes.get(job.owner, job.project_id or "", name, consistent=True)
        if manifest is None:
            raise DocumentError(f"Index {name!r} no longer exists (it was deleted).", code="index_not_found")
        if manifest.embedding_model and manifest.embedding_model != embedder.name:
            raise DocumentError(f"Index {name!r} was built with the {manifest.embedding_model} embedding and this "
                                f"deployment embeds with {embedder.name}; create a new index.", code="embedding_mismatch")  # fmt: skip
        try:
            return manifest, load_snapshot(c, manifest, embedder)
        except _SnapshotGone:
            continue
    raise RuntimeError(f"index {name!r} kept changing while being read")


# -- change -------------------------------------------------------------------------------------


@dataclass
class _Change:
    """What one job does to an index, prepared before any commit attempt."""

    chunks: list[NewChunk] = field(default_factory=list)
    sources: dict[str, IndexedSource] = field(default_factory=dict)  # documents (re)indexed
    drop_groups: set[str] = field(default_factory=set)  # sources removed, or replaced by `sources`
    drop_items: set[str] = field(default_factory=set)  # item ids removed, or replaced by new items
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o["status"] == "failed")

    @property
    def does_something(self) -> bool:
        return bool(self.chunks or self.sources or self.drop_groups or self.drop_items)


def change_index(c: Container, job: Job, steps: Steps) -> tuple[dict[str, Any], Status]:
    name = job.request["options"]["index"]
    manifest = c.indexes.get(job.owner, job.project_id or "", name, consistent=True)
    if manifest is None:
        raise DocumentError(f"Index {name!r} no longer exists (it was deleted).", code="index_not_found")
    try:
        return _change_index(c, job, steps, manifest)
    except DocumentError as error:
        if job.request["operation"] == "create_index" and manifest.version == 0:
            _mark_failed(c, manifest, str(error))  # the name is free again for another create_index
        raise


def _change_index(c: Container, job: Job, steps: Steps, manifest: IndexManifest) -> tuple[dict[str, Any], Status]:
    operation, options = job.request["operation"], job.request["options"]
    name = options["index"]
    embedder = embedder_for(c)
    change = _Change()
    if operation == "vector_store":
        _prepare_items(c, job, change)
    else:
        chunking = {**IndexChunkOptions().model_dump(), **(manifest.chunking or {})}
        with steps.step("prepare_sources", sources=len(job.request.get("add", []))) as details:
            _prepare_sources(c, job, job.request.get("add", []), chunking, change)
            details.update({s: sum(1 for o in change.outcomes if o.get("parse") == s) for s in ("reused", "parsed")},
                           failed=change.failed, chunks=len(change.chunks))  # fmt: skip
        for source_id in options.get("remove", []):
            change.drop_groups.add(source_id)
            change.outcomes.append({"source_id": source_id, "status": "removed"})
        change.drop_items.update(options.get("remove_items", []))
    if not change.does_something:
        reasons = "; ".join(f"{o['source_id']}: {o['error']}" for o in change.outcomes if o["status"] == "failed")
        raise DocumentError(f"Nothing could be indexed. {reasons}".strip(), code="nothing_indexed")
    with steps.step("embed", chunks=len(change.chunks), model=embedder.name):
        vectors = embedder.embed([chunk.searchable_text for chunk in change.chunks]) if change.chunks else None
    with steps.step("commit", index=name) as details:
        manifest, snapshot, attempts = _commit(c, job, name, change, vectors, embedder)
        details.update(version=manifest.version, attempts=attempts, chunk_count=snapshot.size, bytes=manifest.size_bytes)
    partial = change.failed > 0
    result = {
        "index": manifest.to_public(with_sources=False),
        "operation": operation,
        "sources": change.outcomes,
        "stats": {"chunks_added": len(change.chunks), "chunk_count": manifest.chunk_count,
                  "source_count": len(manifest.sources), "item_count": manifest.item_count,
                  "version": manifest.version, "size_bytes": manifest.size_bytes},  # fmt: skip
    }
    if operation == "vector_store":
        result["items"] = {"written": len(change.item_ids), "ids": change.item_ids}
    if options.get("remove_items"):
        result["removed_items"] = sorted(change.drop_items)
    return result, Status.PARTIALLY_COMPLETED if partial else Status.COMPLETED


def _prepare_sources(c: Container, job: Job, source_ids: list[str], chunking: dict[str, Any], change: _Change) -> None:
    project_id = job.project_id or ""
    found = c.sources.get_many(job.owner, project_id, source_ids)
    cache = ParsedCache(c, job.owner, project_id)
    for source_id in source_ids:
        source = found.get(source_id)
        if source is None:
            change.outcomes.append({"source_id": source_id, "status": "failed", "error": "The source no longer exists."})
            continue
        outcome: dict[str, Any] = {"source_id": source_id, "filename": source.filename}
        try:
            parsed = cache.get(source.sha256)
            outcome["parse"] = "reused" if parsed is not None else "parsed"
            if parsed is None:
                parsed = _parse(c.blobs.get_bytes(source.key), source.filename, source.content_type)
                cache.put(source.sha256, parsed)
        except DocumentError as error:
            change.outcomes.append({**outcome, "status": "failed", "error": str(error)})
            continue
        chunks = chunk_blocks(parsed.blocks, strategy=chunking["strategy"], max_tokens=chunking["max_tokens"],
                              overlap_tokens=chunking["overlap_tokens"], sentences_per_chunk=chunking["sentences_per_chunk"],
                              seed=source.sha256)  # fmt: skip
        if not chunks:
            reason = "The document has no text to index" + (" (a scan without a text layer?)." if parsed.pages else ".")
            change.outcomes.append({**outcome, "status": "failed", "error": reason})
            continue
        for chunk in chunks:
            change.chunks.append(NewChunk(chunk_id=chunk["id"], group=source_id, text=chunk["text"],
                                          context=chunk_context(source.filename, chunk["heading_path"]), citation={
                "source_id": source_id, "filename": source.filename, "page_start": chunk["page_start"],
                "page_end": chunk["page_end"], "heading_path": chunk["heading_path"],
                "page_spans": _page_spans(chunk, parsed)}))  # fmt: skip
        change.drop_groups.add(source_id)  # an indexed source is replaced, not duplicated
        change.sources[source_id] = IndexedSource(source_id, source.filename, source.sha256, len(chunks), len(parsed.pages),
                                                  clock.iso(c.now()))  # fmt: skip
        change.outcomes.append({**outcome, "status": "indexed", "chunks": len(chunks), "pages": len(parsed.pages)})


def chunk_context(filename: str | None, heading_path: list[Any]) -> str:
    """The document's name (without its extension's noise) and the headings above the chunk."""
    name = re.sub(r"[_\-.]+", " ", (filename or "").rsplit(".", 1)[0]) if filename else ""
    return " / ".join([name, *map(str, heading_path)]).strip(" /")


def _parse(data: bytes, filename: str, content_type: str) -> ParsedDocument:
    from docjobs.processors.formats import parse_bytes

    return parse_bytes(data, filename, content_type)


def _page_spans(chunk: dict[str, Any], parsed: ParsedDocument) -> list[list[int]]:
    """[offset, page] where each page of a chunk that spans pages begins in its text."""
    if chunk["page_start"] == chunk["page_end"]:
        return []
    spans: list[list[int]] = []
    start = 0
    for block_id in chunk["block_ids"]:
        block = parsed.blocks[int(block_id.removeprefix("b_"))]
        found = chunk["text"].find(block.text[:40], start)
        offset = found if found >= 0 else start
        if not spans or spans[-1][1] != block.page:
            spans.append([offset, block.page])
        start = offset
    return spans


def _prepare_items(c: Container, job: Job, change: _Change) -> None:
    items = job.request["options"].get("items")
    if items is None:  # large requests keep their items in S3 (a job item holds at most 400 KB)
        items = c.blobs.get_json(job.request["items_key"])
    for item in items:
        metadata = item.get("metadata") or {}
        item_id = item.get("id") or "item_" + hashlib.blake2b(
            json.dumps([item["text"], metadata], sort_keys=True).encode(), digest_size=10).hexdigest()  # fmt: skip
        page = metadata.get("page")
        change.chunks.append(NewChunk(
            chunk_id="ch_" + hashlib.blake2b(item_id.encode(), digest_size=8).hexdigest(), group=str(metadata.get("source_id") or ""),
            text=item["text"], item_id=item_id,
            context=chunk_context(metadata.get("filename"), metadata.get("heading_path") or []),
            citation={"item_id": item_id, "source_id": metadata.get("source_id"), "filename": metadata.get("filename"),
                      "page_start": page, "page_end": page, "heading_path": metadata.get("heading_path") or [],
                      "metadata": metadata},
        ))  # fmt: skip
        change.drop_items.add(item_id)  # the same id again replaces the item
        change.item_ids.append(item_id)


def _commit(c: Container, job: Job, name: str, change: _Change, vectors: Any,
            embedder: Embedder) -> tuple[IndexManifest, IndexSnapshot, int]:  # fmt: skip
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        manifest, snapshot = current_snapshot(c, job, name, embedder)
        drop_rows = {row for item, row in snapshot.item_ids().items() if item in change.drop_items}
        changed = snapshot.changed(drop_groups=change.drop_groups, drop_rows=drop_rows, add=change.chunks, vectors=vectors)
        sources = {sid: s for sid, s in manifest.sources.items() if sid not in change.drop_groups} | change.sources
        if refusal := check_size(changed.size, len(sources)):
            raise DocumentError(refusal + " The index is unchanged.", code="index_too_large")
        data = changed.to_bytes()
        key = snapshot_key(job.owner, job.project_id or "", name, manifest.version + 1, job.job_id)
        c.blobs.put_bytes(key, data, "application/octet-stream")
        item_count = len(changed.item_ids())
        committed = manifest.committed(job_id=job.job_id, at=clock.iso(c.now()), snapshot_key=key, sources=sources,
                                       item_count=item_count, chunk_count=changed.size, size_bytes=len(data),
                                       embedding_model=embedder.name, dimensions=embedder.dimensions)  # fmt: skip
        if c.indexes.commit(committed, expected_version=manifest.version):
            snapshots.put(key, changed)
            if manifest.snapshot_key:
                _delete_quietly(c, manifest.snapshot_key)
            return committed, changed, attempt
        _delete_quietly(c, key)  # another job moved the index on first: apply the change to its version
        logger.info("index changed meanwhile; applying again", extra={"index": name, "attempt": attempt})
    raise RuntimeError(f"index {name!r} kept changing; the job will be retried")


def _mark_failed(c: Container, manifest: IndexManifest, error: str) -> None:
    failed = replace(manifest, status=FAILED, error=error[:1000], updated_at=clock.iso(c.now()))
    c.indexes.commit(failed, expected_version=0)  # version stays 0: nothing was ever built


def _delete_quietly(c: Container, key: str) -> None:
    try:
        c.blobs.delete(key)
    except ClientError:
        logger.warning("could not delete an old index snapshot", extra={"key": key})


# -- research -----------------------------------------------------------------------------------


def research(c: Container, job: Job, steps: Steps) -> dict[str, Any]:
    from docjobs.retrieval.answer import extractive_answer

    options = job.request["options"]
    name, question = options["index"], options["question"]
    embedder = embedder_for(c)
    with steps.step("load_index", index=name) as details:
        manifest, snapshot = current_snapshot(c, job, name, embedder)
        details.update(version=manifest.version, chunks=snapshot.size)
    if not manifest.searchable:
        raise DocumentError(f"Index {name!r} has not been built yet.", code="index_not_ready")
    with steps.step("retrieve", mode=options.get("mode", "hybrid"), top_k=options.get("top_k", 5)) as details:
        vector = embedder.embed([question])[0]
        filter_groups = set(options["source_ids"]) if options.get("source_ids") else None
        hits = snapshot.search(question, vector, top_k=options.get("top_k", 5), mode=options.get("mode", "hybrid"),
                               groups=filter_groups)  # fmt: skip
        details["passages"] = len(hits)
    passages = [_passage(snapshot, rank, hit) for rank, hit in enumerate(hits, start=1)]
    with steps.step("answer", method="extractive") as details:
        answer = extractive_answer(question, passages, embedder, max_sentences=options.get("answer_sentences", 3),
                                   idf=snapshot.idf)  # fmt: skip
        details["sentences"] = len(answer["sentences"])
    warnings = [] if answer["answer"] else ["No passage in the index answers the question."]
    return {
        "index": name,
        "index_version": manifest.version,
        "question": question,
        **answer,
        "method": "extractive",
        "passages": [{k: v for k, v in p.items() if k != "page_spans"} for p in passages],
        "retrieval": {"mode": options.get("mode", "hybrid"), "embedding_model": embedder.name, "chunks_searched": snapshot.size},
        "warnings": warnings,
    }


def _passage(snapshot: IndexSnapshot, rank: int, hit: Any) -> dict[str, Any]:
    citation = snapshot.citation(hit.row)
    passage = {
        "rank": rank,
        "chunk_id": citation["chunk_id"],
        "source_id": citation.get("source_id"),
        "filename": citation.get("filename"),
        "page": citation.get("page_start"),
        "page_end": citation.get("page_end"),
        "heading_path": citation.get("heading_path") or [],
        "text": snapshot.text(hit.row),
        "score": round(hit.score, 6),
        "lexical_rank": hit.lexical_rank,
        "dense_rank": hit.dense_rank,
        "page_spans": citation.get("page_spans") or [],
    }
    if citation.get("item_id"):
        passage.update(item_id=citation["item_id"], metadata=citation.get("metadata") or {})
    return passage
