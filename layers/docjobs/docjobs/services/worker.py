"""The worker's use case: run one queued job, safely under SQS's at-least-once delivery."""

from __future__ import annotations

import time

from docjobs.bootstrap import Container
from docjobs.domain.jobs import AVAILABLE_OPERATIONS, Job, JobType, Operation, Status
from docjobs.observability import logger
from docjobs.services.jobs import fail_job


class UnknownJobTypeError(Exception):
    pass


class PoisonMessageError(ValueError):
    """A message that is not a docjobs work message: it can never succeed."""


def handle_message(c: Container, message: dict, *, receive_count: int = 1, max_receives: int = 5) -> None:
    """One work message: run a job (answering the batch's task token once it has finished), or
    one of the batch_parse state machine's requests."""
    try:
        action, job_id = message.get("action", "run"), message["job_id"]
    except (KeyError, TypeError, AttributeError) as error:
        raise PoisonMessageError(f"not a docjobs work message: {str(message)[:200]!r}") from error
    token = message.get("task_token")
    if action == "run":
        outcome = run_job(c, job_id, receive_count=receive_count, max_receives=max_receives)
        if token:  # a batch child: its state machine waits for the child's end
            # The job as this run left it, when it ended it (an end is final); else read it: the
            # run was dropped, or superseded (another delivery or a cancel may have ended it).
            ended = outcome is not None and outcome.status.is_terminal
            job = outcome if ended else c.jobs.get(job_id, consistent=True)
            if job is None or job.status.is_terminal:
                c.workflow.answer(token, {"job_id": job_id, "status": job.status.value if job else "gone"})
    elif action in ("child_lost", "roll_up", "cancel_children"):
        from docjobs.services import batches

        if action == "child_lost":
            batches.child_lost(c, job_id, str(message.get("error") or ""))
        elif action == "roll_up":
            batches.finish_batch(c, job_id)
        else:
            batches.cancel_children(c, job_id)
        if token:
            c.workflow.answer(token, {"job_id": job_id, "action": action})
    else:
        raise PoisonMessageError(f"unknown action {action!r}")


def run_job(c: Container, job_id: str, *, receive_count: int = 1, max_receives: int = 5) -> Job | None:
    """Run the job if it still needs running. A redelivered message for a job that is already
    finished, awaiting approval, cancelled or expired does nothing.

    On an unexpected error the message is retried (the error propagates); on its last delivery
    the job is failed with the error first, so it never stays in flight once the message goes
    to the dead-letter queue.
    """
    job = c.jobs.get(job_id, consistent=True)
    if job is None or job.is_expired(c.now()):
        logger.info("job gone; message dropped", extra={"job_id": job_id})
        return None
    if job.status not in (Status.PENDING, Status.IN_PROGRESS):
        logger.info("job already %s; message dropped", job.status.value, extra={"job_id": job_id})
        return None
    started = time.perf_counter()
    try:
        if job.job_type == JobType.CHAT:
            from docjobs.services.chat_runner import run_chat

            outcome = run_chat(c, job)
        elif job.job_type == Operation.BATCH_PARSE:
            raise UnknownJobTypeError("a batch_parse job is run by its state machine, not by a work message")
        elif job.job_type in AVAILABLE_OPERATIONS or job.job_type == JobType.ATTACHMENT_PROCESSING:
            from docjobs.services.operations import run_operation

            outcome = run_operation(c, job)
        else:
            raise UnknownJobTypeError(f"no runner for job type {job.job_type!r}")
    except Exception as error:
        final = receive_count >= max_receives or isinstance(error, UnknownJobTypeError)
        if final:
            fail_job(c, job, f"The job failed after {receive_count} attempt(s): {error}")
        logger.exception("job run failed", extra={"job_id": job_id, "attempt": receive_count, "final": final})
        raise
    logger.info(
        "job run",
        extra={
            "job_id": job_id,
            "job_type": job.job_type,
            "status": outcome.status.value if outcome else "superseded",  # superseded: cancelled meanwhile
            "attempt": receive_count,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return outcome
