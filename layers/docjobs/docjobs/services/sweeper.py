"""The sweeper: nothing stays in flight forever.

A job with no activity for longer than its budget in pending (its message was lost) or in
in_progress (its worker died and SQS gave up, or the message was deleted) is queued again, a
bounded number of times, then failed with a clear error. batch_parse parents are left to their
state machine (its children are swept like any job, and a child the machine gave up on is failed
by it). Each job is re-queued only if nothing touched it since it was read, so a sweep never
races a worker that has just made progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.jobs import Job, Operation, Status
from docjobs.observability import logger, metrics
from docjobs.services.jobs import fail_job, work_message


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0

    def to_dict(self) -> dict:
        return {"requeued": self.requeued, "failed": self.failed, "skipped": self.skipped}


def sweep(c: Container, *, limit: int = 100) -> SweepReport:
    report = SweepReport()
    now = c.now()
    budgets = {Status.PENDING: c.settings.sweep_pending_seconds, Status.IN_PROGRESS: c.settings.sweep_running_seconds}
    for status, budget in budgets.items():
        cutoff = clock.iso(now - budget)
        for job in c.jobs.stale(status, cutoff, limit=limit):
            # The index is eventually consistent: judge the job by the item itself.
            if job.job_type == Operation.BATCH_PARSE or job.status is not status or job.updated_at >= cutoff or job.is_expired(now):
                report.skipped += 1
                continue
            _rescue(c, job, budget, report)
    if report.requeued or report.failed:
        logger.info("sweep", extra=report.to_dict())
        metrics.add_metric(name="JobsRequeuedBySweeper", unit="Count", value=len(report.requeued))
        metrics.add_metric(name="JobsFailedBySweeper", unit="Count", value=len(report.failed))
    return report


def _rescue(c: Container, job: Job, budget: int, report: SweepReport) -> None:
    sweeps = int(job.internal.get("sweeps", 0))
    if sweeps < c.settings.sweep_max_requeues:
        if c.jobs.mark_requeued(job, sweeps + 1, clock.iso(c.now())):
            queue, message = work_message(c, job)
            queue.send(message)
            report.requeued.append(job.job_id)
        return
    error = (f"The job made no progress for {budget // 60} minutes while {job.status.value}, even after being queued "
             f"again {sweeps} times; it was failed so that it does not stay in flight. Please submit it again.")  # fmt: skip
    if fail_job(c, job, error) is not None:
        report.failed.append(job.job_id)
