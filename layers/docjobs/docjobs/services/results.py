"""Reading results and the status of many jobs at once (the extraction-jobs seed's endpoints)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from docjobs.bootstrap import Container
from docjobs.domain.errors import InvalidRequestError, JobNotFinishedError
from docjobs.domain.jobs import Job, Status, is_job_id
from docjobs.domain.statuses import chat_api_status
from docjobs.services.auth import Principal
from docjobs.services.jobs import get_owned_job

RESULT_URL_SECONDS = 900


def result_url(c: Container, job: Job) -> str | None:
    """A fresh short-lived link to the whole result, when it lives in S3 (kept here, not with the
    operations, so that serving a poll does not import them)."""
    key = (job.result or {}).get("result_key")
    return c.blobs.presign_get(key, RESULT_URL_SECONDS) if key else None


MAX_STATUS_IDS = 100
FINISHED_WITH_RESULT = (Status.COMPLETED, Status.PARTIALLY_COMPLETED)


@dataclass(frozen=True)
class JobResult:
    job: Job
    inline: dict[str, Any] | None  # the result, when the job item holds it
    s3_key: str | None  # otherwise: where the whole result lives


def get_result(c: Container, principal: Principal, job_id: str) -> JobResult:
    """The whole result of a finished job (404 once expired; 409 while there is none)."""
    job = get_owned_job(c, principal, job_id)
    if job.status not in FINISHED_WITH_RESULT or job.result is None:
        detail = f": {job.error}" if job.status is Status.FAILED and job.error else ""
        raise JobNotFinishedError(f"Job {job_id} is {job.status.value}{detail}; it has no result.", status=job.status.value)
    if key := job.result.get("result_key"):
        return JobResult(job, None, key)
    return JobResult(job, job.result, None)


def status_of_many(
    c: Container, principal: Principal, ids: list[str], *, include_progress: bool
) -> list[dict[str, Any]]:
    """One entry per requested id, in the order asked: the status of the caller's jobs, and a
    per-id error for unknown or expired ids (not found) and other owners' jobs (forbidden)."""
    ids = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not ids:
        raise InvalidRequestError("Pass job ids: ?ids=job_a,job_b", field="ids")
    if len(ids) > MAX_STATUS_IDS:
        raise InvalidRequestError(f"At most {MAX_STATUS_IDS} ids per call; got {len(ids)}.", field="ids")
    found = c.jobs.get_many([i for i in ids if is_job_id(i)])
    now = c.now()
    entries = []
    for job_id in ids:
        job = found.get(job_id)
        if job is None or job.is_expired(now):
            entries.append({"job_id": job_id, "error": {"code": "job_not_found", "message": "No such job (or it expired)."}})
        elif not job.is_owned_by(principal.owner):
            entries.append({"job_id": job_id, "error": {"code": "forbidden", "message": "This job belongs to another account."}})
        else:
            entries.append(_status_entry(job, include_progress))
    return entries


def _status_entry(job: Job, include_progress: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "job_id": job.job_id,
        "job_type": job.job_type,
        "status": chat_api_status(job.status),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }
    if job.status is Status.FAILED:
        entry["error"] = job.error
    if include_progress:
        from docjobs.domain.batches import Counters

        entry["progress"] = Counters.of(job.batch).percent_done if job.batch else job.progress
        if job.batch:
            entry["batch"] = {k: job.batch.get(k) for k in ("total", "succeeded", "failed", "cancelled", "pending")}
    return entry


def summarize(entries: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = Counter(e["status"] for e in entries if "status" in e)
    return {"total": len(entries), "found": sum(statuses.values()), "by_status": dict(statuses)}
