from __future__ import annotations

from docjobs.domain.events import event_from_change, is_final, status_changed_detail

BASE = {"sk": "JOB", "job_id": "job_x", "job_type": "chat", "owner": "org#acme", "status": "pending", "progress": 0,
        "created_at": "t0", "updated_at": "t0", "event_seq": 1, "metadata": {"intermediate_responses": []}, "history": []}  # fmt: skip


def test_a_new_job_is_a_status_event_number_one():
    event = event_from_change(None, BASE)
    assert event["type"] == "status" and event["seq"] == 1 and event["status"] == "pending"
    assert event["previous_status"] is None


def test_status_changes_come_first_and_carry_the_previous_status():
    after = {**BASE, "status": "failed", "error": "boom", "event_seq": 4, "updated_at": "t4"}
    event = event_from_change({**BASE, "status": "in_progress", "event_seq": 3}, after)
    assert (event["type"], event["previous_status"], event["error"], event["seq"]) == ("status", "in_progress", "boom", 4)
    assert is_final(event)


def test_new_intermediate_responses_and_steps_are_their_own_events():
    before = {**BASE, "status": "in_progress", "event_seq": 2}
    after = {**before, "event_seq": 3, "progress": 20,
             "metadata": {"intermediate_responses": [{"content": "Read the document"}]}}  # fmt: skip
    event = event_from_change(before, after)
    assert event["type"] == "intermediate_response" and event["intermediate_responses"] == [{"content": "Read the document"}]
    steps = event_from_change(before, {**before, "event_seq": 3, "history": [{"step": "fetch"}]})
    assert steps["type"] == "progress" and steps["steps"] == [{"step": "fetch"}]
    assert not is_final(steps)


def test_batch_counters_are_progress():
    before = {**BASE, "status": "in_progress", "batch": {"total": 2, "succeeded": 0, "failed": 0, "cancelled": 0, "pending": 2}}
    after = {**before, "event_seq": 5, "batch": {"total": 2, "succeeded": 1, "failed": 0, "cancelled": 0, "pending": 1, "child_jobs": []}}
    assert event_from_change(before, after)["batch"] == {"total": 2, "succeeded": 1, "failed": 0, "cancelled": 0, "pending": 1}


def test_deletions_and_other_items_make_no_event():
    assert event_from_change(BASE, None) is None
    assert event_from_change(None, {**BASE, "sk": "SOURCE"}) is None
    assert event_from_change(None, {k: v for k, v in BASE.items() if k != "event_seq"}) is None


def test_eventbridge_detail_names_the_owner_and_both_statuses():
    event = event_from_change({**BASE}, {**BASE, "status": "in_progress", "event_seq": 2})
    assert status_changed_detail(event, BASE | {"project_id": "p"}) == {
        "job_id": "job_x", "job_type": "chat", "organization_id": "acme", "user_id": None, "project_id": "p",
        "old_status": "pending", "new_status": "in_progress", "seq": 2, "at": "t0",
    }  # fmt: skip
