"""A project's indexes, as the API sees them: admitting index jobs (create_index reserves its name
in the same write that creates the job), and listing, showing and deleting indexes. The work
itself runs in the index function (services/indexing.py); nothing here imports numpy."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.errors import IndexConflictError, IndexNotFoundError, InvalidRequestError, SourceNotFoundError
from docjobs.domain.indexes import (
    BUILDING,
    FAILED,
    INDEX_NAME,
    INDEX_NAME_RULE,
    MAX_SOURCES_PER_JOB,
    IndexManifest,
)
from docjobs.domain.options import IndexChunkOptions
from docjobs.observability import logger
from docjobs.services.auth import Principal

INLINE_ITEMS_BYTES = 64 * 1024  # larger vector_store requests keep their items in S3, not in the job item


@dataclass
class Admission:
    """What an index job adds to its job: request fields, metadata and transaction items."""

    request: dict[str, Any] = field(default_factory=dict)
    also: list[dict[str, Any]] = field(default_factory=list)
    reserves: bool = False  # `also` creates the index (a failed transaction means the name is taken)


def admit_index_job(c: Container, principal: Principal, project_id: str, operation: str, options: dict[str, Any],
                    source_ids: list[str], job_id: str) -> Admission:  # fmt: skip
    """Checks an index job against the index as it is now (404, 409, 422 at once rather than a
    failed job later) and says what the job creation must write with it."""
    name = options["index"]
    manifest = c.indexes.get(principal.owner, project_id, name, consistent=True)
    if operation == "create_index":
        if not source_ids:
            raise InvalidRequestError("create_index needs source_ids (to index your own texts, use vector_store).",
                                      field="source_ids")  # fmt: skip
        _require_sources(c, principal, project_id, source_ids)
        if manifest is not None and not (manifest.status == FAILED and manifest.version == 0):
            raise IndexConflictError(f"Index {name!r} already exists in project {project_id!r}; change it with update_index.")
        reserved = _new_manifest(principal, project_id, name, job_id, c.now(), options["chunking"])
        return Admission(request={"add": source_ids}, also=[c.indexes.reserve_item(reserved)], reserves=True)
    if operation == "vector_store":
        if manifest is None:  # a vector store is made on first write
            fresh = _new_manifest(principal, project_id, name, job_id, c.now(), IndexChunkOptions().model_dump())
            return Admission(request=_items_request(c, job_id, options), also=[c.indexes.reserve_item(fresh)], reserves=True)
        return Admission(request=_items_request(c, job_id, options))
    if manifest is None:
        raise IndexNotFoundError(f"Index {name!r} not found in project {project_id!r}.")
    if operation == "update_index":
        adds = list(dict.fromkeys(source_ids + options.get("add", [])))
        if len(adds) > MAX_SOURCES_PER_JOB:
            raise InvalidRequestError(f"One update_index adds at most {MAX_SOURCES_PER_JOB} sources.", field="source_ids")
        if set(adds) & set(options.get("remove", [])):
            raise InvalidRequestError("A source cannot be both added and removed.", field="options.remove")
        if not (adds or options.get("remove") or options.get("remove_items")):
            raise InvalidRequestError("update_index needs sources to add (source_ids or options.add), or options.remove "
                                      "or options.remove_items.", field="options")  # fmt: skip
        _require_sources(c, principal, project_id, adds)
        return Admission(request={"add": adds})
    if not manifest.searchable:  # research
        state = "failed to build" if manifest.status == FAILED else "is still being built"
        raise IndexConflictError(f"Index {name!r} {state}; research needs a built index.")
    return Admission()


def _new_manifest(principal: Principal, project_id: str, name: str, job_id: str, now: float,
                  chunking: dict[str, Any]) -> IndexManifest:  # fmt: skip
    at = clock.iso(now)
    return IndexManifest(owner=principal.owner, project_id=project_id, name=name, status=BUILDING, version=0,
                         created_at=at, updated_at=at, last_job_id=job_id, chunking=chunking)  # fmt: skip


def _require_sources(c: Container, principal: Principal, project_id: str, source_ids: list[str]) -> None:
    found = c.sources.get_many(principal.owner, project_id, [s for s in source_ids if s.startswith("src_")])
    missing = [s for s in source_ids if s not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise SourceNotFoundError(f"Sources not found in project {project_id!r}: {shown}.", missing=missing[:100])


def _items_request(c: Container, job_id: str, options: dict[str, Any]) -> dict[str, Any]:
    """vector_store's items stay in the job's request when small, else in S3 beside it."""
    encoded = json.dumps(options["items"], separators=(",", ":"))
    if len(encoded) <= INLINE_ITEMS_BYTES:
        return {}
    key = f"payloads/{job_id}/items.json"
    c.blobs.put_text(key, encoded, "application/json")
    return {"items_key": key, "options": {"index": options["index"], "item_count": len(options["items"])}}


def is_name_taken(error: ClientError) -> bool:
    """A job creation whose index reservation (the transaction's second item) was refused."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    return len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed"


# -- reading and deleting -----------------------------------------------------------------------


def _require_name(name: str) -> None:
    if not INDEX_NAME.fullmatch(name):
        raise IndexNotFoundError(f"Index {name!r} not found: index names are {INDEX_NAME_RULE}.")


def get_index(c: Container, principal: Principal, project_id: str, name: str) -> IndexManifest:
    _require_name(name)
    manifest = c.indexes.get(principal.owner, project_id, name)
    if manifest is None:
        raise IndexNotFoundError(f"Index {name!r} not found in project {project_id!r}.")
    return manifest


def list_indexes(c: Container, principal: Principal, project_id: str, *, limit: int,
                 cursor: str | None) -> tuple[list[IndexManifest], str | None]:  # fmt: skip
    try:
        return c.indexes.list(principal.owner, project_id, limit=limit, cursor=cursor)
    except ValueError:
        raise InvalidRequestError("The cursor is not valid for this list.", field="cursor") from None


def delete_index(c: Container, principal: Principal, project_id: str, name: str) -> IndexManifest:
    """Delete the manifest (the index is gone at once), then its snapshot. A job still changing
    it fails when it tries to commit."""
    _require_name(name)
    gone = c.indexes.delete(principal.owner, project_id, name)
    if gone is None:
        raise IndexNotFoundError(f"Index {name!r} not found in project {project_id!r}.")
    if gone.snapshot_key:
        try:
            c.blobs.delete(gone.snapshot_key)
        except ClientError:
            logger.warning("index snapshot left behind", extra={"key": gone.snapshot_key})
    return gone
