"""A project's search indexes: their names, their limits, and the manifest that says what an index
holds. The index itself (chunks, vectors, BM25 postings) is one snapshot object in S3, written
anew for each change; the manifest in DynamoDB names the current snapshot and is moved on only by
a conditional write on its version, so two jobs changing one index never lose each other's work.
No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from docjobs.domain.jobs import Owner

INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
INDEX_NAME_RULE = "1-63 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"
ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")

# Documented limits (README "Indexes and research"). An index past MAX_CHUNKS would take more
# than about 2 s to load into a cold worker; past MAX_SOURCES its manifest nears DynamoDB's
# 400 KB item limit.
MAX_CHUNKS = 25_000
MAX_SOURCES = 1_000
MAX_SOURCES_PER_JOB = 200  # sources parsed by one create_index or update_index job
MAX_ITEMS_PER_JOB = 1_000  # vector_store items in one job
MAX_ITEM_CHARS = 20_000
MAX_ITEM_METADATA_BYTES = 4_096
MAX_QUESTION_CHARS = 2_000
MAX_TOP_K = 50

BUILDING, READY, FAILED = "building", "ready", "failed"
INDEX_OPERATIONS = frozenset({"create_index", "update_index", "vector_store", "research"})
# Operations that change an index (research only reads one).
WRITE_OPERATIONS = frozenset({"create_index", "update_index", "vector_store"})


@dataclass(frozen=True)
class IndexedSource:
    """A document source in an index, and what indexing it produced."""

    source_id: str
    filename: str
    sha256: str
    chunks: int
    pages: int
    indexed_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "filename": self.filename, "sha256": self.sha256, "chunks": self.chunks,
                "pages": self.pages, "indexed_at": self.indexed_at}  # fmt: skip

    @classmethod
    def from_dict(cls, v: dict[str, Any]) -> IndexedSource:
        return cls(v["source_id"], v["filename"], v["sha256"], int(v["chunks"]), int(v["pages"]), v["indexed_at"])


@dataclass(frozen=True)
class IndexManifest:
    owner: Owner
    project_id: str
    name: str
    status: str
    version: int  # 0 until the first snapshot is committed; +1 for every change
    created_at: str
    updated_at: str
    last_job_id: str
    chunking: dict[str, Any] = field(default_factory=dict)
    embedding_model: str = ""
    dimensions: int = 0
    snapshot_key: str | None = None
    sources: dict[str, IndexedSource] = field(default_factory=dict)
    item_count: int = 0
    chunk_count: int = 0
    size_bytes: int = 0
    error: str | None = None

    @property
    def searchable(self) -> bool:
        return self.version > 0 and self.snapshot_key is not None

    def committed(self, *, job_id: str, at: str, snapshot_key: str, sources: dict[str, IndexedSource], item_count: int,
                  chunk_count: int, size_bytes: int, embedding_model: str, dimensions: int) -> IndexManifest:  # fmt: skip
        """The manifest once a change's snapshot is written: the next version, ready."""
        return replace(self, status=READY, version=self.version + 1, updated_at=at, last_job_id=job_id,
                       snapshot_key=snapshot_key, sources=sources, item_count=item_count, chunk_count=chunk_count,
                       size_bytes=size_bytes, embedding_model=embedding_model, dimensions=dimensions, error=None)  # fmt: skip

    def to_public(self, *, with_sources: bool) -> dict[str, Any]:
        view: dict[str, Any] = {
            "object": "index",
            "name": self.name,
            "project_id": self.project_id,
            "status": self.status,
            "version": self.version,
            "source_count": len(self.sources),
            "item_count": self.item_count,
            "chunk_count": self.chunk_count,
            "size_bytes": self.size_bytes,
            "embedding_model": self.embedding_model or None,
            "dimensions": self.dimensions or None,
            "chunking": self.chunking,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_job_id": self.last_job_id,
            "error": self.error,
            "limits": {"max_chunks": MAX_CHUNKS, "max_sources": MAX_SOURCES},
        }
        if with_sources:
            view["sources"] = [s.to_dict() for s in sorted(self.sources.values(), key=lambda s: (s.indexed_at, s.source_id))]
        return view


def snapshot_key(owner: Owner, project_id: str, name: str, version: int, job_id: str) -> str:
    # The job id keeps two racing writers of the same version from overwriting each other's object.
    return f"indexes/{owner.kind}/{owner.id}/{project_id}/{name}/v{version:08d}-{job_id}.npz"


def index_prefix(owner: Owner, project_id: str, name: str) -> str:
    return f"indexes/{owner.kind}/{owner.id}/{project_id}/{name}/"


def check_size(chunk_count: int, source_count: int) -> str | None:
    """Why an index of this size is refused, or None."""
    if chunk_count > MAX_CHUNKS:
        return (f"The index would hold {chunk_count:,} chunks; an index holds at most {MAX_CHUNKS:,}. "
                "Split the sources across several indexes, or remove some first.")  # fmt: skip
    if source_count > MAX_SOURCES:
        return f"The index would hold {source_count:,} documents; an index holds at most {MAX_SOURCES:,}."
    return None
