from __future__ import annotations

import pytest
from docjobs.domain.errors import JobConflictError
from docjobs.domain.jobs import (
    CANCELLABLE,
    HOUR,
    Job,
    JobType,
    Owner,
    Status,
    can_transition,
    expiry_after,
    is_job_id,
    new_job_id,
    require_transition,
)


def test_only_pending_and_in_progress_jobs_can_be_cancelled():
    assert CANCELLABLE == {Status.PENDING, Status.IN_PROGRESS}
    for status in Status:
        assert can_transition(status, Status.CANCELLED) == (status in CANCELLABLE)


def test_terminal_statuses_never_move_again():
    for terminal in (Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.PARTIALLY_COMPLETED):
        assert not any(can_transition(terminal, target) for target in Status)


def test_approval_completes_but_cannot_be_cancelled():
    assert can_transition(Status.AWAITING_APPROVAL, Status.COMPLETED)
    assert not can_transition(Status.AWAITING_APPROVAL, Status.CANCELLED)


def test_refused_transition_says_which_statuses_are_allowed():
    with pytest.raises(JobConflictError) as raised:
        require_transition(Status.COMPLETED, Status.CANCELLED, "cancel")
    assert "completed" in raised.value.message
    assert "in_progress" in raised.value.message and "pending" in raised.value.message
    assert raised.value.details["status"] == "completed"


def test_chat_jobs_expire_an_hour_after_finishing_or_awaiting_approval():
    for status in (Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.AWAITING_APPROVAL):
        assert expiry_after(JobType.CHAT, status, 1000.0) == 1000 + HOUR
    assert expiry_after(JobType.CHAT, Status.IN_PROGRESS, 1000.0) is None
    assert expiry_after(JobType.CHAT, Status.PENDING, 1000.0) is None


def test_document_operation_jobs_expire_after_seven_days():
    assert expiry_after("parse", Status.COMPLETED, 0.0) == 7 * 24 * HOUR


def test_an_expired_job_reads_as_absent_from_the_second_it_expires():
    job = Job("job_x", "chat", Owner("org", "a"), Status.COMPLETED, "t", "t", expires_at=100)
    assert not job.is_expired(99.9)
    assert job.is_expired(100)


def test_job_ids_are_opaque_unguessable_and_recognisable():
    ids = {new_job_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(is_job_id(i) and i.startswith("job_") for i in ids)
    assert not is_job_id("job_abc123")
    assert not is_job_id("../../etc/passwd")


def test_owner_keys_round_trip_and_split_org_from_user():
    org, user = Owner("org", "acme"), Owner("user", "u1")
    assert Owner.from_key(org.key) == org
    assert (org.organization_id, org.user_id) == ("acme", None)
    assert (user.organization_id, user.user_id) == (None, "u1")
    with pytest.raises(ValueError):
        Owner("team", "x")
