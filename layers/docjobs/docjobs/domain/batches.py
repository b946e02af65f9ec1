"""batch_parse: the parent's counters and how a finished batch rolls up. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docjobs.domain.jobs import Status

MAX_CHILDREN = 1000  # one inline Map execution; see template.yaml for the 10,000 design
CHILD_JOBS_HEAD = 20  # children shown in progress.child_jobs (the rest: GET .../children)
DEFAULT_MAX_CONCURRENCY = 10
OUTCOME_COUNTER = {Status.COMPLETED: "succeeded", Status.FAILED: "failed", Status.CANCELLED: "cancelled"}


@dataclass(frozen=True)
class Counters:
    total: int
    succeeded: int
    failed: int
    cancelled: int
    pending: int

    @classmethod
    def of(cls, batch: dict[str, Any]) -> Counters:
        return cls(*(int(batch.get(k, 0)) for k in ("total", "succeeded", "failed", "cancelled", "pending")))

    @property
    def consistent(self) -> bool:
        return self.succeeded + self.failed + self.cancelled + self.pending == self.total and self.pending >= 0

    @property
    def percent_done(self) -> int:
        return 100 if self.total == 0 else int(100 * (self.total - self.pending) / self.total)


def roll_up(counters: Counters) -> Status:
    """The parent's final status: succeeded when every child did, failed when none did,
    cancelled when children were cancelled and none failed, partially succeeded otherwise."""
    if counters.succeeded == counters.total:
        return Status.COMPLETED
    if counters.succeeded == 0 and counters.cancelled == 0:
        return Status.FAILED
    if counters.cancelled and not counters.failed:
        return Status.CANCELLED
    return Status.PARTIALLY_COMPLETED
