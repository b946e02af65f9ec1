"""Chat attachments (the chat-jobs seed's attachment_processing jobs): a file is parsed in the
worker and its text joins the session, where later chat messages can use it."""

from __future__ import annotations

from typing import Any

from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.jobs import Job, JobType, Notify, Status, new_job_id
from docjobs.services.auth import Principal
from docjobs.services.chat import SESSION_TTL_SECONDS, new_session_id
from docjobs.services.idempotency import create_once, fingerprint
from docjobs.services.jobs import enqueue_job
from docjobs.services.sources import add_source
from docjobs.services.webhooks import require_safe_target

ATTACHMENT_TEXT_LIMIT = 2_000_000  # characters of an attachment kept for the engine


def session_scope(session_id: str) -> str:
    """Attachments are stored as sources in a per-session scope (':' never occurs in project ids)."""
    return f"session:{session_id}"


def submit_attachment(
    c: Container,
    principal: Principal,
    *,
    session_id: str | None,
    data: bytes,
    filename: str | None,
    content_type: str | None,
    correlation_id: str | None,
    idempotency_key: str | None = None,
    notify: Notify = Notify(),
) -> tuple[Job, bool]:
    require_safe_target(c, notify)
    session_id = session_id or new_session_id()
    source = add_source(c, principal.owner, session_scope(session_id), data, filename, content_type)

    def create() -> Job:
        at = clock.iso(c.now())
        job = Job(
            job_id=job_id,
            job_type=JobType.ATTACHMENT_PROCESSING,
            owner=principal.owner,
            status=Status.PENDING,
            created_at=at,
            updated_at=at,
            session_id=session_id,
            source_id=source.id,
            request={"operation": "parse", "options": {}, "source_scope": session_scope(session_id)},
            metadata={"filename": source.filename, "file_size": source.size, "content_type": source.content_type,
                      "intermediate_responses": []},  # fmt: skip
            correlation_id=correlation_id,
            notify=notify,
        )
        c.jobs.create(job)
        return job

    job_id = new_job_id()
    body = {"session_id": session_id, "sha256": source.sha256, "filename": source.filename}
    job, replayed = create_once(c, principal.owner, idempotency_key, fingerprint("chat_attachments", body), job_id, create)
    if not replayed:
        enqueue_job(c, job)
    return job, replayed


def attach_to_session(c: Container, job: Job, parsed: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The attachment job's result, and the transaction item adding the text to the session."""
    attachment_id = "att_" + job.job_id[4:]
    text = "\n\n".join(block["text"] for block in parsed.get("blocks", []))[:ATTACHMENT_TEXT_LIMIT]
    key = f"sessions/{job.owner.kind}/{job.owner.id}/{job.session_id}/attachments/{attachment_id}.txt"
    c.blobs.put_text(key, text, "text/plain; charset=utf-8")
    document = parsed.get("document", {})
    attachment = {"attachment_id": attachment_id, "filename": document.get("filename"), "text_key": key,
                  "characters": len(text), "job_id": job.job_id}  # fmt: skip
    now = c.now()
    item = c.accounts.session_update_item(job.owner, job.session_id or "", now=now, now_iso=clock.iso(now),
                                          ttl_seconds=SESSION_TTL_SECONDS, turns=[], attachments=[attachment])  # fmt: skip
    result = {
        "attachment_id": attachment_id,
        "session_id": job.session_id,
        "response": f"Attachment {document.get('filename')} processed: {parsed.get('stats', {}).get('pages', 0)} page(s), "
        f"{len(text)} characters of text are now available to this session's messages.",
        "filename": document.get("filename"),
        "content_type": document.get("content_type"),
        "file_size": document.get("size"),
        "page_count": document.get("page_count"),
        "characters": len(text),
        "warnings": parsed.get("warnings", []),
    }
    return result, [item]
