"""The jobs table: one item per job, a GSI per owner for listing newest first.

Item shape (never leaves this module; the API renders views of `Job`):
    pk = "JOB#<job_id>", sk = "JOB"
    gsi1pk = "<owner key>", gsi1sk = "<created_at>#<job_id>"   (ByOwner index: list newest first)
    gsi2pk = "<owner key>#<project_id>", gsi2sk = as gsi1sk      (ByProject index: project jobs only)
    gsi3pk = "<parent job id>", gsi3sk = "<child index, 6 digits>"  (ByParent index: a batch's children)
    gsi4pk = "<status>#<shard>", gsi4sk = "<time of the last activity>"  (ByStatus index: the sweeper)
    gsi5pk = "<owner key>#<status>", gsi6pk = "<owner key>#<job type>", sort gsi1sk  (listing filters)
    event_seq: one more on every write: the stream record's number in the job's event log
    expires_at: epoch seconds, the table's TTL attribute
Large payloads (result, pending changes, the engine's draft) move to S3 when they would not fit
an item (400 KB); the item then names them in `payload_key`/`payload_paths`.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from docjobs.adapters.blobs import S3BlobStore
from docjobs.adapters.dynamo import (
    UpdateBuilder,
    decode_cursor_json,
    encode_cursor,
    from_item,
    serialize,
    string_key,
    to_item,
)
from docjobs.domain.batches import CHILD_JOBS_HEAD
from docjobs.domain.clock import iso
from docjobs.domain.errors import InvalidRequestError, JobConflictError, JobNotFoundError
from docjobs.domain.jobs import Job, Notify, Owner, Status

# Fields that may grow large; stashed in S3 together when they would not fit an item.
OFFLOADABLE = ("result", "metadata.pending_changes", "internal.draft")
OFFLOAD_THRESHOLD_BYTES = 300_000


def job_key(job_id: str) -> dict[str, dict]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}


def _to_job(values: dict[str, Any]) -> Job:
    return Job(
        job_id=values["job_id"],
        job_type=values["job_type"],
        owner=Owner.from_key(values["owner"]),
        status=Status(values["status"]),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        progress=int(values.get("progress", 0)),
        session_id=values.get("session_id"),
        request=values.get("request", {}),
        metadata=values.get("metadata", {}),
        result=values.get("result"),
        error=values.get("error"),
        started_at=values.get("started_at"),
        completed_at=values.get("completed_at"),
        expires_at=values.get("expires_at"),
        attempts=int(values.get("attempts", 0)),
        billing_period=values.get("billing_period"),
        tags=values.get("tags", []),
        correlation_id=values.get("correlation_id"),
        event_seq=int(values.get("event_seq", 0)),
        notify=Notify(values.get("notify_email"), values.get("webhook_url")),
        project_id=values.get("project_id"),
        source_id=values.get("source_id"),
        history=values.get("history", []),
        batch=values.get("batch"),
        parent_job_id=values.get("parent_job_id"),
        child_index=values.get("child_index"),
        internal=values.get("internal", {}),
    )


def _job_values(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "job_type": job.job_type,
        "owner": job.owner.key,
        "status": job.status.value,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "progress": job.progress,
        "session_id": job.session_id,
        "request": job.request,
        "metadata": job.metadata,
        "result": job.result,
        "error": job.error,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "expires_at": job.expires_at,
        "attempts": job.attempts,
        "billing_period": job.billing_period,
        "tags": job.tags,
        "correlation_id": job.correlation_id,
        **job.notify.as_dict(),
        "project_id": job.project_id,
        "source_id": job.source_id,
        "history": job.history,
        "batch": job.batch,
        "parent_job_id": job.parent_job_id,
        "child_index": job.child_index,
        "internal": job.internal,
    }


def _get_path(values: dict[str, Any], path: str) -> Any:
    for segment in path.split("."):
        if not isinstance(values, dict):
            return None
        values = values.get(segment)  # type: ignore[assignment]
    return values


def _set_path(values: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for segment in parents:
        values = values.setdefault(segment, {})
    values[last] = value


class DynamoJobRepository:
    def __init__(self, table: str, client: Any, blobs: S3BlobStore) -> None:
        self.table = table
        self.client = client
        self.blobs = blobs

    # -- reads --------------------------------------------------------------------------------

    def get(self, job_id: str, *, consistent: bool = False) -> Job | None:
        """One GetItem (plus one S3 read only for a payload too large for the item)."""
        item = self.client.get_item(TableName=self.table, Key=job_key(job_id), ConsistentRead=consistent).get("Item")
        return self._load(item) if item else None

    def stale(self, status: Status, updated_before: str, limit: int = 100) -> list[Job]:
        """Jobs in `status` not updated since `updated_before`, oldest first: one small Query per
        shard of the ByStatus index (the sweeper's question; never a table scan)."""
        found: list[Job] = []
        for shard in range(STATUS_SHARDS):
            page = self.client.query(
                TableName=self.table,
                IndexName="ByStatus",
                KeyConditionExpression="gsi4pk = :partition AND gsi4sk < :before",
                ExpressionAttributeValues={":partition": {"S": f"{status.value}#{shard}"}, ":before": {"S": updated_before}},
                Limit=limit,
            )
            found += [self._load(item) for item in page.get("Items", [])]
        return sorted(found, key=lambda j: j.updated_at)[:limit]

    def mark_requeued(self, job: Job, sweeps: int, now_iso: str) -> bool:
        """Record a re-queue of a stuck job, if nothing touched it since it was read."""
        update = UpdateBuilder().set("internal.sweeps", sweeps).set("updated_at", now_iso).set("gsi4sk", now_iso)
        update.add("event_seq", 1)
        update.names.update({"#status": "status", "#updated_at": "updated_at"})
        condition = f"#status = {update.value(job.status.value)} AND #updated_at = {update.value(job.updated_at)}"
        try:
            self.client.update_item(TableName=self.table, Key=job_key(job.job_id), **update.params(condition))
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def get_many(self, job_ids: list[str]) -> dict[str, Job]:
        """The jobs that exist among `job_ids`: BatchGetItem, 100 keys a call, one item read each."""
        found: dict[str, Job] = {}
        for start in range(0, len(job_ids), 100):
            request: dict[str, Any] = {self.table: {"Keys": [job_key(j) for j in job_ids[start : start + 100]]}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    job = self._load(item)
                    found[job.job_id] = job
                request = response.get("UnprocessedKeys") or {}
        return found

    def _load(self, item: dict[str, dict]) -> Job:
        values = from_item(item)
        if key := values.get("payload_key"):
            stash = self.blobs.get_json(key)
            for path in values.get("payload_paths", []):
                if _get_path(values, path) is None:  # a later inline write wins over the stash
                    _set_path(values, path, stash.get(path))
        return _to_job(values)

    def list_for_project(
        self,
        owner: Owner,
        project_id: str,
        *,
        limit: int,
        cursor: str | None,
        now: float,
        operations: list[str] | None = None,
        statuses: list[str] | None = None,
    ) -> tuple[list[Job], str | None]:
        """One Query on the ByProject index, newest first: reads at most `limit` items. The
        operation and status filters apply to what was read (so a page may come back short,
        with a cursor to go on)."""
        names = {"#status": "status", "#job_type": "job_type"}
        values: dict[str, Any] = {":project": {"S": project_partition(owner, project_id)}, ":now": serialize(int(now))}
        conditions = ["(attribute_not_exists(expires_at) OR expires_at > :now)"]
        for attribute, wanted in (("#job_type", operations), ("#status", statuses)):
            if wanted:
                placeholders = []
                for value in wanted:
                    placeholders.append(f":f{len(values)}")
                    values[placeholders[-1]] = {"S": value}
                conditions.append(f"{attribute} IN ({', '.join(placeholders)})")
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "ByProject",
            "KeyConditionExpression": "gsi2pk = :project",
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": {k: v for k, v in names.items() if any(k in c for c in conditions)},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if not params["ExpressionAttributeNames"]:
            del params["ExpressionAttributeNames"]
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(cursor, owner, partition=project_partition(owner, project_id))
        page = self.client.query(**params)
        last = page.get("LastEvaluatedKey")
        return [self._load(item) for item in page.get("Items", [])], encode_cursor(string_key(last)) if last else None

    def append_history(self, job_id: str, events: list[dict[str, Any]], now_iso: str) -> bool:
        """Add steps to a running job's timeline; False when it is no longer running."""
        update = UpdateBuilder().append("history", events).set("updated_at", now_iso).set("gsi4sk", now_iso)
        return self._update_running(job_id, update)

    def search(self, owner: Owner, query: JobQuery, now: float) -> tuple[list[Job], str | None]:
        """One page of the owner's jobs, newest first, for GET /v1/jobs.

        What it reads: with statuses, the ByOwnerStatus partition of each status; else with job
        types, the ByOwnerType partition of each type; else the ByOwner partition. In each, only
        the created_after..created_before range (a key condition), at most `limit` items, so a
        page costs the page and the time range, never the owner's whole history. Other filters
        (type when statuses chose the index, tags, expiry) apply to what was read, so a page may
        come back short with a cursor to go on. Several partitions are merged newest first.
        """
        if query.statuses:
            index, attribute, partitions = "ByOwnerStatus", "gsi5pk", [f"{owner.key}#{s}" for s in query.statuses]
        elif query.job_types:
            index, attribute, partitions = "ByOwnerType", "gsi6pk", [f"{owner.key}#{t}" for t in query.job_types]
        else:
            index, attribute, partitions = "ByOwner", "gsi1pk", [owner.key]
        starts = _decode_search_cursor(query.cursor, owner, partitions)
        names: dict[str, str] = {}
        # gsi1sk is "<created_at>#<job_id>": "#~" after a time excludes jobs created at that very instant.
        values: dict[str, Any] = {":lo": {"S": f"{query.created_after}#~" if query.created_after else "0"},
                                  ":hi": {"S": query.created_before or "~"},
                                  ":now": serialize(int(now))}  # fmt: skip
        filters = ["(attribute_not_exists(expires_at) OR expires_at > :now)"]
        if query.job_types and attribute != "gsi6pk":
            names["#job_type"] = "job_type"
            filters.append("#job_type IN (" + ", ".join(_bind(values, t) for t in query.job_types) + ")")
        for tag in query.tags:
            names["#tags"] = "tags"
            filters.append(f"contains(#tags, {_bind(values, tag)})")
        pages: dict[str, tuple[list[dict], dict | None]] = {}
        for partition in partitions:
            if partition in starts and starts[partition] is None:
                continue  # exhausted on an earlier page
            params: dict[str, Any] = {
                "TableName": self.table, "IndexName": index, "ScanIndexForward": False, "Limit": query.limit,
                "KeyConditionExpression": f"{attribute} = :partition AND gsi1sk BETWEEN :lo AND :hi",
                "FilterExpression": " AND ".join(filters),
                "ExpressionAttributeValues": {**values, ":partition": {"S": partition}},
            }  # fmt: skip
            if names:
                params["ExpressionAttributeNames"] = names
            if starts.get(partition):
                params["ExclusiveStartKey"] = starts[partition]
            page = self.client.query(**params)
            pages[partition] = (page.get("Items", []), page.get("LastEvaluatedKey"))
        merged = sorted(((item["gsi1sk"]["S"], partition, item) for partition, (items, _) in pages.items() for item in items),
                        key=lambda entry: entry[0], reverse=True)[: query.limit]  # fmt: skip
        next_starts = dict(starts)
        for partition, (items, last) in pages.items():
            taken = [item for _, p, item in merged if p == partition]
            if len(taken) == len(items):
                next_starts[partition] = last  # None: this partition is exhausted
            else:  # resume right after the last item of this partition that made the page
                next_starts[partition] = {k: taken[-1][k] for k in ("pk", "sk", attribute, "gsi1sk")} if taken else starts.get(partition)
        more = any(next_starts.get(p) is not None for p in partitions)
        return [self._load(item) for _, _, item in merged], _encode_search_cursor(next_starts) if more else None

    # -- writes -------------------------------------------------------------------------------

    def create_item(self, job: Job) -> dict[str, Any]:
        """The transaction item that creates `job` (fails if the id exists)."""
        values = _job_values(job)
        values.update(
            pk=f"JOB#{job.job_id}",
            event_seq=1,
            sk="JOB",
            gsi1pk=job.owner.key,
            gsi1sk=f"{job.created_at}#{job.job_id}",
            gsi4pk=status_partition(job.status, job.job_id),
            gsi4sk=job.updated_at,
            gsi5pk=f"{job.owner.key}#{job.status.value}",
            gsi6pk=f"{job.owner.key}#{job.job_type}",
        )
        if job.project_id and not job.parent_job_id:  # children are listed under their parent, not the project
            values.update(gsi2pk=project_partition(job.owner, job.project_id), gsi2sk=f"{job.created_at}#{job.job_id}")
        if job.parent_job_id:
            values.update(gsi3pk=job.parent_job_id, gsi3sk=f"{job.child_index:06d}")
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(values),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def create(self, job: Job, *also: dict[str, Any]) -> None:
        """Create the job, atomically with `also` (e.g. the usage reservation)."""
        self.transact([self.create_item(job), *also])

    def create_many(self, jobs: list[Job]) -> None:
        """Create many jobs (a batch's children): 25 per BatchWriteItem, unprocessed ones retried."""
        puts = [{"PutRequest": {"Item": self.create_item(job)["Put"]["Item"]}} for job in jobs]
        for start in range(0, len(puts), 25):
            pending = {self.table: puts[start : start + 25]}
            for attempt in range(8):
                left = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not left:
                    break
                pending = left
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise RuntimeError("DynamoDB kept throttling the batch's children")

    def child_outcome_item(self, parent_job_id: str, outcome: str, child_index: int | None, summary: dict[str, Any]) -> dict[str, Any]:
        """Transaction item: count a child's outcome on its parent (and show it in the first page
        of children), written in the same transaction as the child's own status change."""
        update = UpdateBuilder().add(f"batch.{outcome}", 1).add("batch.pending", -1).add("event_seq", 1)
        if child_index is not None and child_index < CHILD_JOBS_HEAD:
            for key, value in summary.items():
                update._set.append(f"#batch.#child_jobs[{child_index}].{update.name(key)} = {update.value(value)}")
            update.names["#child_jobs"] = "child_jobs"
        update.names["#batch"] = "batch"
        return {"Update": {"TableName": self.table, "Key": job_key(parent_job_id), **update.params()}}

    def list_children(
        self, parent_job_id: str, *, limit: int, cursor: str | None, statuses: list[str] | None = None
    ) -> tuple[list[Job], str | None]:
        """One Query on the ByParent index, in submission order (status filtered after reading)."""
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "ByParent",
            "KeyConditionExpression": "gsi3pk = :parent",
            "ExpressionAttributeValues": {":parent": {"S": parent_job_id}},
            "Limit": limit,
        }
        if statuses:
            placeholders = [f":s{i}" for i in range(len(statuses))]
            params["FilterExpression"] = f"#status IN ({', '.join(placeholders)})"
            params["ExpressionAttributeNames"] = {"#status": "status"}
            params["ExpressionAttributeValues"].update({p: {"S": s} for p, s in zip(placeholders, statuses, strict=True)})
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(cursor, None, partition=parent_job_id, index="gsi3")
        page = self.client.query(**params)
        last = page.get("LastEvaluatedKey")
        return [self._load(item) for item in page.get("Items", [])], encode_cursor(string_key(last)) if last else None

    def transact(self, items: list[dict[str, Any]]) -> None:
        if len(items) == 1 and "Put" in items[0]:
            self.client.put_item(**items[0]["Put"])
        else:
            self.client.transact_write_items(TransactItems=items)

    def transition(
        self,
        job: Job,
        target: Status,
        *,
        sources: frozenset[Status] | set[Status],
        now: float,
        fields: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
        append: dict[str, list[Any]] | None = None,
        also: list[dict[str, Any]] | None = None,
    ) -> Job:
        """Move a job to `target` if, and only if, it is in one of `sources` and not expired.

        `also` are further transaction items written atomically with the change (a usage refund,
        the session's new document version). Raises JobConflictError when the job is in another
        status (naming it), JobNotFoundError when it is gone or expired.
        """
        job_id = job.job_id
        fields = fields or {}
        # Every write to a job adds one to event_seq, so each stream record carries the number of
        # the event it becomes (the job's event log is numbered without gaps, in order).
        update = UpdateBuilder().set("status", target.value).add("event_seq", 1)
        # Keep the ByStatus index on the job's new status and the time of this change.
        update.set("gsi4pk", status_partition(target, job_id)).set("gsi4sk", fields.get("updated_at") or iso(now))
        update.set("gsi5pk", f"{job.owner.key}#{target.value}")  # ByOwnerStatus follows the status
        for path, value in self._offload(job_id, fields).items():
            update.set(path, value)
        for path, amount in (add or {}).items():
            update.add(path, amount)
        for path, items in (append or {}).items():
            update.append(path, items)
        status_values = [update.value(s.value) for s in sorted(sources)]
        update.names["#status"] = "status"
        condition = (
            f"#status IN ({', '.join(status_values)}) "
            f"AND (attribute_not_exists(#expires_at) OR #expires_at > {update.value(int(now))})"
        )
        update.names["#expires_at"] = "expires_at"
        params = {"TableName": self.table, "Key": job_key(job_id), **update.params(condition)}
        try:
            if also:
                self.client.transact_write_items(TransactItems=[{"Update": params}, *also])
                job = self.get(job_id, consistent=True)
                if job is None:  # pragma: no cover - deleted between the write and the read
                    raise JobNotFoundError(f"Job {job_id} not found.")
                return job
            response = self.client.update_item(
                **params, ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD"
            )
            return self._load(response["Attributes"])
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise
            if code == "TransactionCanceledException":
                reasons = error.response.get("CancellationReasons") or [{}]
                if reasons[0].get("Code") != "ConditionalCheckFailed":
                    raise
                current = self.get(job_id, consistent=True)
            else:
                old = error.response.get("Item")
                current = self._load(old) if old else None
            if current is None or current.is_expired(now):
                raise JobNotFoundError(f"Job {job_id} not found (it may have expired).") from None
            raise JobConflictError(
                f"Job {job_id} is {current.status.value}.", status=current.status.value, job=current
            ) from None

    def record_progress(self, job_id: str, progress: int, note: dict[str, Any] | None, now_iso: str) -> bool:
        """Progress of a running job; False when it is no longer in progress (e.g. cancelled)."""
        # gsi4sk too: a job that makes progress is not stale, whenever its status last changed.
        update = UpdateBuilder().set("progress", progress).set("updated_at", now_iso).set("gsi4sk", now_iso)
        if note:
            update.append("metadata.intermediate_responses", [note])
        return self._update_running(job_id, update)

    def _update_running(self, job_id: str, update: UpdateBuilder) -> bool:
        """Apply `update` only while the job is in progress; False once it is not."""
        update.add("event_seq", 1)
        update.names["#status"] = "status"
        condition = f"#status = {update.value(Status.IN_PROGRESS.value)}"
        try:
            self.client.update_item(TableName=self.table, Key=job_key(job_id), **update.params(condition))
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def _offload(self, job_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Move large fields to S3 so the item stays under DynamoDB's 400 KB item limit."""
        if not any(path in fields for path in OFFLOADABLE):
            return fields
        big = {path: fields[path] for path in OFFLOADABLE if fields.get(path) is not None}
        if not big or len(json.dumps(big, separators=(",", ":"))) < OFFLOAD_THRESHOLD_BYTES:
            # Written inline: an earlier stash (say, pending changes) must not shadow it on read.
            return {**fields, "payload_key": None, "payload_paths": None}
        # A fresh key per write: a writer that loses the conditional write never clobbers the
        # winner's payload (the orphan expires with the bucket's lifecycle rule).
        key = f"payloads/{job_id}/{uuid.uuid4().hex}.json"
        self.blobs.put_json(key, big)
        slim = {path: value for path, value in fields.items() if path not in big}
        for path in big:
            # Keep a marker so the item still says the field exists, without the bulk.
            slim[path] = None
        slim["payload_key"] = key
        slim["payload_paths"] = sorted(big)
        return slim


STATUS_SHARDS = 8  # spreads the many jobs of one status over partitions of the ByStatus index


def status_partition(status: Status, job_id: str) -> str:
    return f"{status.value}#{zlib.crc32(job_id.encode()) % STATUS_SHARDS}"


@dataclass(frozen=True)
class JobQuery:
    statuses: list[str] = field(default_factory=list)
    job_types: list[str] = field(default_factory=list)
    created_after: str | None = None
    created_before: str | None = None
    tags: list[str] = field(default_factory=list)
    limit: int = 20
    cursor: str | None = None


def _bind(values: dict[str, Any], value: str) -> str:
    placeholder = f":f{len(values)}"
    values[placeholder] = {"S": value}
    return placeholder


def _encode_search_cursor(starts: dict[str, dict | None]) -> str:
    return encode_cursor({p: (string_key(key) if key else None) for p, key in starts.items()})


def _decode_search_cursor(cursor: str | None, owner: Owner, partitions: list[str]) -> dict[str, dict | None]:
    if not cursor:
        return {}
    try:
        plain = decode_cursor_json(cursor)
        if set(plain) - set(partitions):
            raise ValueError  # a cursor from another listing (other filters, another owner)
        return {p: ({k: {"S": str(v)} for k, v in key.items()} if key else None) for p, key in plain.items()}
    except (ValueError, AttributeError):
        raise InvalidRequestError("The cursor is not valid for this listing; pass next_cursor from a previous page "
                                  "with the same filters.") from None  # fmt: skip


def project_partition(owner: Owner, project_id: str) -> str:
    return f"{owner.key}#{project_id}"


def decode_cursor(cursor: str, owner: Owner | None, partition: str | None = None, index: str | None = None) -> dict[str, dict]:
    """The key a cursor encodes, if it came from this owner's listing (of this project, or parent)."""
    index = index or ("gsi2" if partition else "gsi1")
    try:
        plain = decode_cursor_json(cursor)
        if set(plain) != {"pk", "sk", f"{index}pk", f"{index}sk"}:
            raise ValueError
        if plain[f"{index}pk"] != (partition or (owner.key if owner else None)):  # only for the listing it came from
            raise ValueError
        return {k: {"S": str(v)} for k, v in plain.items()}
    except ValueError:
        raise InvalidRequestError("The cursor is not valid; pass next_cursor from a previous page.") from None
