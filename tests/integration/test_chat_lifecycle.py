"""The chat job lifecycle against the template's real resources on the emulator."""

from __future__ import annotations

import json
import threading

import pytest
from docjobs.domain.errors import (
    ForbiddenError,
    IdempotencyConflictError,
    InvalidRequestError,
    JobConflictError,
    JobNotFoundError,
    UsageLimitExceededError,
)
from docjobs.domain.jobs import Status
from docjobs.services.chat import ChatRequest, approve_changes, submit_chat
from docjobs.services.jobs import cancel_job, get_owned_job, list_jobs

from tests.conftest import DOC, make_principal


def submit(container, principal, message='Replace "Acme Corp" with "Initech"', **kw):
    kw.setdefault("document_html", DOC)
    kw.setdefault("session_id", "s1")
    return submit_chat(container, principal, ChatRequest(message=message, **kw), route="chat_async").job


def usage(container, principal):
    from docjobs.domain import clock

    return container.accounts.get_usage(principal.owner, clock.month(container.now()))


def test_a_queued_chat_job_runs_to_completed_with_the_seed_result(container, principal, worker):
    job = submit(container, principal)
    assert job.status is Status.PENDING and job.progress == 0
    assert worker.drain() == 1
    done = get_owned_job(container, principal, job.job_id)
    assert done.status is Status.COMPLETED and done.progress == 100
    result = done.result
    assert result["response"].startswith("Replaced 1 occurrence")
    changes = result["document_changes"]
    assert "Initech" in changes["updated_html"] and "Acme Corp" not in changes["updated_html"]
    assert changes["updated_html"].count("data-chunk-id=") == 5
    assert changes["version_id"] and changes["requires_approval"] is False
    assert result["usage"] == {
        "monthly_used": 1, "monthly_limit": 500, "monthly_remaining": 499,
        "was_billable": True, "subscription_tier": "free",
    }  # fmt: skip
    assert [r["progress"] for r in done.metadata["intermediate_responses"]] == [20, 90]
    assert done.started_at and done.completed_at and done.expires_at == int(container.now()) + 3600


def test_a_redelivered_message_makes_one_result_and_counts_usage_once(container, principal, worker):
    job = submit(container, principal)
    body = json.dumps({"job_id": job.job_id})
    worker.invoke([body])
    first = get_owned_job(container, principal, job.job_id)
    response = worker.invoke([body, body], receive_count=2)  # delivered twice more, in one batch
    assert response == {"batchItemFailures": []}
    again = get_owned_job(container, principal, job.job_id)
    assert again.result == first.result and again.updated_at == first.updated_at
    assert usage(container, principal) == 1


def test_a_message_redelivered_while_the_job_is_in_progress_finishes_it_once(container, principal, worker):
    job = submit(container, principal)
    container.jobs.transition(job, Status.IN_PROGRESS, sources={Status.PENDING}, now=container.now(),
                              fields={"progress": 5})  # fmt: skip  # a worker that died mid-job
    worker.drain()
    done = get_owned_job(container, principal, job.job_id)
    assert done.status is Status.COMPLETED and done.attempts == 1
    assert usage(container, principal) == 1


def test_a_poison_message_fails_alone_in_its_batch(container, principal, worker):
    good = submit(container, principal)
    response = worker.invoke([json.dumps({"job_id": good.job_id}), "not json"])
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert get_owned_job(container, principal, good.job_id).status is Status.COMPLETED


def test_a_job_that_keeps_failing_is_failed_on_its_last_delivery(container, principal, worker, monkeypatch):
    from docjobs.services import chat_runner

    job = submit(container, principal)
    monkeypatch.setattr(chat_runner, "_load_document", lambda c, j: (_ for _ in ()).throw(RuntimeError("S3 is down")))
    body = json.dumps({"job_id": job.job_id})
    assert worker.invoke([body], receive_count=1)["batchItemFailures"]
    assert get_owned_job(container, principal, job.job_id).status is Status.IN_PROGRESS  # will be retried
    assert worker.invoke([body], receive_count=5)["batchItemFailures"]  # the last try: off to the DLQ
    failed = get_owned_job(container, principal, job.job_id)
    assert failed.status is Status.FAILED and "S3 is down" in failed.error
    assert usage(container, principal) == 0  # a failed job is not billed


def test_cancel_a_pending_job_refunds_it_and_the_worker_then_does_nothing(container, principal, worker):
    job = submit(container, principal)
    cancelled = cancel_job(container, principal, job.job_id)
    assert cancelled.status is Status.CANCELLED and cancelled.expires_at == int(container.now()) + 3600
    assert usage(container, principal) == 0
    worker.drain()
    assert get_owned_job(container, principal, job.job_id).status is Status.CANCELLED


def test_a_job_cancelled_while_running_is_never_overwritten_by_the_late_worker(container, principal, worker, monkeypatch):
    from docjobs.engines.offline import OfflineChatEngine

    job = submit(container, principal)
    real_reply = OfflineChatEngine.reply

    def cancel_midway(self, turn, progress):
        cancel_job(container, principal, job.job_id)  # the user cancels while the engine works
        return real_reply(self, turn, lambda p, n: None)  # an engine that never reports progress

    monkeypatch.setattr(OfflineChatEngine, "reply", cancel_midway)
    worker.drain()
    final = get_owned_job(container, principal, job.job_id)
    assert final.status is Status.CANCELLED and final.result is None
    assert usage(container, principal) == 0


def test_cancel_races_completion_and_exactly_one_wins(container, principal):
    from docjobs.services.chat_runner import run_chat

    for _ in range(8):
        job = submit(container, principal)
        barrier = threading.Barrier(2)
        outcomes = {}

        def cancel():
            barrier.wait()
            try:
                outcomes["cancel"] = cancel_job(container, principal, job.job_id).status
            except JobConflictError:
                outcomes["cancel"] = "conflict"

        def run():
            barrier.wait()
            outcomes["run"] = run_chat(container, job)

        threads = [threading.Thread(target=cancel), threading.Thread(target=run)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        final = get_owned_job(container, principal, job.job_id)
        assert final.status in (Status.CANCELLED, Status.COMPLETED)
        if final.status is Status.CANCELLED:
            assert outcomes["cancel"] is Status.CANCELLED and final.result is None
        else:
            assert outcomes["cancel"] == "conflict" and final.result is not None
    completed = sum(1 for j in list_jobs(container, principal, limit=100).jobs if j.status is Status.COMPLETED)
    assert usage(container, principal) == completed  # cancelled ones were refunded, exactly


def test_cancel_of_a_finished_job_is_a_conflict(container, principal, worker):
    job = submit(container, principal)
    worker.drain()
    with pytest.raises(JobConflictError) as raised:
        cancel_job(container, principal, job.job_id)
    assert "completed" in raised.value.message


def test_approval_applies_exactly_the_approved_changes(container, principal, worker):
    job = submit(container, principal, 'Replace "Acme Corp" with "Initech" and delete the paragraph containing "Late payments"',
                 require_approval=True)  # fmt: skip
    worker.drain()
    waiting = get_owned_job(container, principal, job.job_id)
    assert waiting.status is Status.AWAITING_APPROVAL and waiting.result is None
    pending = waiting.metadata["pending_changes"]
    assert [p["operation"] for p in pending] == ["update", "delete"]
    assert set(pending[0]) >= {"change_id", "operation", "chunk_id", "old_html", "new_html", "ai_explanation"}
    assert waiting.expires_at == int(container.now()) + 3600

    done = approve_changes(container, principal, job.job_id, [pending[0]["change_id"]])
    assert done.status is Status.COMPLETED
    html = done.result["document_changes"]["updated_html"]
    assert "Initech" in html and "Late payments" in html  # the delete was denied
    decisions = {c["change_id"]: c["status"] for c in done.result["document_changes"]["changes"]}
    assert decisions == {pending[0]["change_id"]: "approved", pending[1]["change_id"]: "denied"}
    assert "pending_changes" not in done.metadata

    with pytest.raises(JobConflictError):
        approve_changes(container, principal, job.job_id, [])


def test_an_empty_approval_denies_everything_and_keeps_the_document(container, principal, worker):
    job = submit(container, principal, 'Replace "Acme Corp" with "Initech"', require_approval=True)
    worker.drain()
    done = approve_changes(container, principal, job.job_id, [])
    assert "Acme Corp" in done.result["document_changes"]["updated_html"]
    assert done.result["document_changes"]["changes_summary"] == "No changes"


def test_two_approvals_at_once_only_one_wins(container, principal, worker):
    job = submit(container, principal, 'Replace "Acme Corp" with "Initech"', require_approval=True)
    worker.drain()
    change_id = get_owned_job(container, principal, job.job_id).metadata["pending_changes"][0]["change_id"]
    barrier = threading.Barrier(2)
    results = []

    def approve(ids):
        barrier.wait()
        try:
            results.append(approve_changes(container, principal, job.job_id, ids).result["document_changes"]["changes"])
        except JobConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=approve, args=(ids,)) for ids in ([change_id], [])]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count("conflict") == 1
    winner = next(r for r in results if r != "conflict")
    final = get_owned_job(container, principal, job.job_id).result["document_changes"]["changes"]
    assert final == winner


def test_approve_rejects_unknown_change_ids_and_jobs_not_awaiting_approval(container, principal, worker):
    job = submit(container, principal, 'Replace "Acme Corp" with "Initech"', require_approval=True)
    worker.drain()
    with pytest.raises(InvalidRequestError):
        approve_changes(container, principal, job.job_id, ["chg_999"])
    plain = submit(container, principal)
    with pytest.raises(JobConflictError):
        approve_changes(container, principal, plain.job_id, [])  # still pending


def test_jobs_are_gone_an_hour_after_finishing_even_before_ttl_deletes_them(container, principal, worker, clock):
    job = submit(container, principal)
    worker.drain()
    clock.advance(3599)
    assert get_owned_job(container, principal, job.job_id).status is Status.COMPLETED
    clock.advance(1)
    assert container.jobs.get(job.job_id) is not None  # the item is still in the table...
    with pytest.raises(JobNotFoundError):  # ...but no read serves it
        get_owned_job(container, principal, job.job_id)
    assert job.job_id not in [j.job_id for j in list_jobs(container, principal).jobs]
    with pytest.raises(JobNotFoundError):
        cancel_job(container, principal, job.job_id)


def test_awaiting_approval_expires_after_an_hour_and_can_no_longer_be_approved(container, principal, worker, clock):
    job = submit(container, principal, 'Replace "Acme Corp" with "Initech"', require_approval=True)
    worker.drain()
    clock.advance(3600)
    with pytest.raises(JobNotFoundError):
        approve_changes(container, principal, job.job_id, [])


def test_another_owners_job_is_forbidden(container, principal):
    job = submit(container, principal)
    other = make_principal(container, "user", "mallory")
    with pytest.raises(ForbiddenError):
        get_owned_job(container, other, job.job_id)
    with pytest.raises(ForbiddenError):
        cancel_job(container, other, job.job_id)
    assert list_jobs(container, other).jobs == []


def test_listing_is_newest_first_and_paginates_with_a_cursor(container, principal, clock):
    ids = []
    for _ in range(7):
        ids.append(submit(container, principal).job_id)
        clock.advance(1)
    page1 = list_jobs(container, principal, limit=3)
    page2 = list_jobs(container, principal, limit=3, cursor=page1.next_cursor)
    page3 = list_jobs(container, principal, limit=3, cursor=page2.next_cursor)
    listed = [j.job_id for p in (page1, page2, page3) for j in p.jobs]
    assert listed == list(reversed(ids))


def test_a_cursor_cannot_be_forged_or_reused_by_another_owner(container, principal):
    for _ in range(3):
        submit(container, principal)
    cursor = list_jobs(container, principal, limit=1).next_cursor
    other = make_principal(container, "org", "globex")
    with pytest.raises(InvalidRequestError):
        list_jobs(container, other, limit=1, cursor=cursor)
    with pytest.raises(InvalidRequestError):
        list_jobs(container, principal, limit=1, cursor="garbage!!")


def test_idempotency_key_replays_the_same_job_and_refuses_a_different_body(container, principal, clock):
    request = ChatRequest(message="Summarize this", session_id="s1", document_html=DOC)
    first = submit_chat(container, principal, request, route="chat_async", idempotency_key="k-1")
    again = submit_chat(container, principal, request, route="chat_async", idempotency_key="k-1")
    assert again.replayed and again.job.job_id == first.job.job_id
    assert usage(container, principal) == 1
    with pytest.raises(IdempotencyConflictError):
        submit_chat(container, principal, ChatRequest(message="Other", session_id="s1", document_html=DOC),
                    route="chat_async", idempotency_key="k-1")  # fmt: skip
    with pytest.raises(IdempotencyConflictError):  # same body, different endpoint
        submit_chat(container, principal, request, route="chat_sync", idempotency_key="k-1")
    # The same key from another owner is a different key.
    other = make_principal(container, "org", "globex")
    assert not submit_chat(container, other, request, route="chat_async", idempotency_key="k-1").replayed
    clock.advance(24 * 3600)  # kept 24 hours; after that the key is fresh
    assert not submit_chat(container, principal, request, route="chat_async", idempotency_key="k-1").replayed


def test_over_the_monthly_limit_requests_are_refused_and_a_refund_frees_a_slot(container):
    tiny = make_principal(container, "org", "tiny", tier="tiny")  # 2 per month
    first = submit(container, tiny)
    submit(container, tiny)
    with pytest.raises(UsageLimitExceededError):
        submit(container, tiny)
    assert usage(container, tiny) == 2
    cancel_job(container, tiny, first.job_id)
    submit(container, tiny)
    assert usage(container, tiny) == 2


def test_a_refused_request_does_not_burn_its_idempotency_key(container):
    tiny = make_principal(container, "org", "tiny2", tier="tiny")
    submit(container, tiny)
    submit(container, tiny)
    request = ChatRequest(message="Summarize", session_id="s", document_html=DOC)
    with pytest.raises(UsageLimitExceededError):
        submit_chat(container, tiny, request, route="chat_async", idempotency_key="retry-me")
    with pytest.raises(UsageLimitExceededError):  # still refused for usage, not a key conflict
        submit_chat(container, tiny, request, route="chat_async", idempotency_key="retry-me")


def test_the_session_keeps_the_document_so_the_next_message_can_omit_it(container, principal, worker):
    first = submit(container, principal, 'Replace "Acme Corp" with "Initech"')
    worker.drain()
    v1 = get_owned_job(container, principal, first.job_id).result["document_changes"]["version_id"]
    second = submit(container, principal, 'Replace "Globex Inc" with "Hooli"', document_html=None)
    worker.drain()
    done = get_owned_job(container, principal, second.job_id)
    html = done.result["document_changes"]["updated_html"]
    assert "Initech" in html and "Hooli" in html  # built on the first job's version
    assert done.result["document_changes"]["version_id"] not in (None, v1)
    assert done.metadata["document_html_provided"] is False
    session = container.accounts.get_session(principal.owner, "s1")
    assert session.current_version_id == done.result["document_changes"]["version_id"]
    assert [t["role"] for t in session.history] == ["user", "assistant", "user", "assistant"]
    # Chunk ids carry over from one version to the next.
    ids = lambda h: sorted(x.split('"')[0] for x in h.split('data-chunk-id="')[1:])  # noqa: E731
    v1_html = get_owned_job(container, principal, first.job_id).result["document_changes"]["updated_html"]
    assert ids(html) == ids(v1_html)


def test_a_session_without_a_document_needs_document_html(container, principal):
    with pytest.raises(InvalidRequestError):
        submit(container, principal, "Summarize", document_html=None, session_id="fresh")


def test_a_large_result_lives_in_s3_and_is_served_whole(container, principal, worker):
    big = "".join(f"<p>Paragraph {i} mentions Acme Corp and more text to make it long.</p>" for i in range(8000))
    job = submit(container, principal, document_html=big)
    worker.drain()
    done = get_owned_job(container, principal, job.job_id)
    assert done.status is Status.COMPLETED
    assert done.result["document_changes"]["updated_html"].count("Initech") == 8000
    raw = container.jobs.client.get_item(TableName=container.settings.jobs_table,
                                         Key={"pk": {"S": f"JOB#{job.job_id}"}, "sk": {"S": "JOB"}})["Item"]  # fmt: skip
    assert "payload_key" in raw and "result" not in raw


def test_session_history_is_capped_to_the_most_recent_turns(container, principal, worker):
    from docjobs.adapters.accounts_table import SESSION_HISTORY_LIMIT

    submit(container, principal, "Summarize", session_id="long")
    for i in range(SESSION_HISTORY_LIMIT // 2 + 2):
        submit(container, principal, f"Summarize in {i % 3 + 1} sentences", session_id="long", document_html=None)
        worker.drain()
    history = container.accounts.get_session(principal.owner, "long").history
    assert len(history) == SESSION_HISTORY_LIMIT
    assert history[-1]["role"] == "assistant" and history[0]["role"] == "user"
    assert history[-2]["content"] == f"Summarize in {(SESSION_HISTORY_LIMIT // 2 + 1) % 3 + 1} sentences"


def test_the_next_message_can_omit_the_document_before_the_first_job_has_run(container, principal, worker):
    first = submit(container, principal, 'Replace "Acme Corp" with "Initech"', session_id="quick")
    second = submit(container, principal, 'Replace "Globex Inc" with "Hooli"', session_id="quick", document_html=None)
    worker.drain()  # delivered in order, as one session's messages are sent
    assert get_owned_job(container, principal, first.job_id).status is Status.COMPLETED
    html = get_owned_job(container, principal, second.job_id).result["document_changes"]["updated_html"]
    assert "Initech" in html and "Hooli" in html
