"""The job event log and EventBridge events, driven by the jobs table's stream."""

from __future__ import annotations

import json

import boto3

from tests.conftest import DOC, bearer


def watch_bus(stack):
    """An EventBridge rule on the docjobs bus delivering "Job Status Changed" events to a queue."""
    events, sqs = boto3.client("events", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="bus-watch")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.environment["EVENT_BUS_NAME"]
    events.put_rule(Name="all-status-changes", EventBusName=bus,
                    EventPattern=json.dumps({"source": ["docjobs"], "detail-type": ["Job Status Changed"]}))  # fmt: skip
    events.put_targets(Rule="all-status-changes", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def received() -> list[dict]:
        out = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in messages:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    return received


def run_chat(api, principal, worker):
    job_id = api.post("/v1/chat/async", json={"message": 'Replace "Acme Corp" with "Initech"', "session_id": "s",
                                              "document_html": DOC}, headers=bearer(principal)).json()["job_id"]  # fmt: skip
    worker.drain()
    return job_id


def test_every_change_is_an_event_numbered_in_order(api, principal, worker, stream):
    job_id = run_chat(api, principal, worker)
    assert stream.deliver() == {"batchItemFailures": []}
    body = api.get(f"/v1/jobs/{job_id}/events", headers=bearer(principal)).json()
    events = body["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [(e["type"], e.get("status")) for e in events if e["type"] == "status"] == [
        ("status", "pending"), ("status", "in_progress"), ("status", "completed")]  # fmt: skip
    assert any(e["type"] == "intermediate_response" for e in events)
    after = api.get(f"/v1/jobs/{job_id}/events", params={"after": 2}, headers=bearer(principal)).json()["events"]
    assert [e["seq"] for e in after] == [e["seq"] for e in events[2:]]


def test_a_redelivered_stream_batch_changes_nothing(api, principal, worker, stream):
    job_id = run_chat(api, principal, worker)
    stream.deliver()
    first = api.get(f"/v1/jobs/{job_id}/events", headers=bearer(principal)).json()["events"]
    stream.deliver(redeliver_from=0)
    assert api.get(f"/v1/jobs/{job_id}/events", headers=bearer(principal)).json()["events"] == first


def test_status_changes_go_to_eventbridge(api, principal, worker, stream, stack):
    received = watch_bus(stack)
    job_id = run_chat(api, principal, worker)
    stream.deliver()
    changes = [e for e in received() if e["detail"]["job_id"] == job_id]
    assert [(e["detail"]["old_status"], e["detail"]["new_status"]) for e in changes] == [
        (None, "pending"), ("pending", "in_progress"), ("in_progress", "completed")]  # fmt: skip
    assert all(e["source"] == "docjobs" and e["detail-type"] == "Job Status Changed" for e in changes)
    assert changes[0]["detail"]["organization_id"] == "acme"


def test_the_event_log_is_the_owners_only(api, principal, worker, stream, container):
    from tests.conftest import make_principal

    job_id = run_chat(api, principal, worker)
    stream.deliver()
    other = make_principal(container, "org", "globex")
    assert api.get(f"/v1/jobs/{job_id}/events", headers=bearer(other)).status_code == 403
    assert api.get(f"/v1/jobs/job_{'q' * 32}/events", headers=bearer(principal)).status_code == 404


def test_sse_sends_the_events_and_ends_at_the_terminal_status(api, principal, worker, stream):
    job_id = run_chat(api, principal, worker)
    stream.deliver()
    with api.stream("GET", f"/v1/jobs/{job_id}/stream", headers=bearer(principal)) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    frames = [f for f in text.split("\n\n") if f.startswith("id:")]
    ids = [int(f.split("\n")[0].removeprefix("id: ")) for f in frames]
    assert ids == list(range(1, len(ids) + 1))
    assert frames[-1].split("\n")[1] == "event: status" and '"status":"completed"' in frames[-1]
    # Reconnecting after event 3 resumes at 4: nothing lost, nothing twice.
    with api.stream("GET", f"/v1/jobs/{job_id}/stream", headers={**bearer(principal), "Last-Event-ID": "3"}) as response:
        again = [f for f in "".join(response.iter_text()).split("\n\n") if f.startswith("id:")]
    assert [int(f.split("\n")[0].removeprefix("id: ")) for f in again] == ids[3:]


def sent_mail():
    from moto.ses.models import ses_backends

    return ses_backends["123456789012"]["us-east-1"].sent_messages


def test_notify_email_sends_one_email_when_the_job_finishes(api, principal, worker, stream):
    job_id = api.post("/v1/chat/async", json={"message": "Summarize", "session_id": "s", "document_html": DOC,
                                              "notify_email": "dana@example.org"}, headers=bearer(principal)).json()["job_id"]  # fmt: skip
    worker.drain()
    stream.deliver()
    stream.deliver(redeliver_from=0)  # the stream delivers again: still one e-mail
    mails = sent_mail()
    assert len(mails) == 1
    assert mails[0].destinations["ToAddresses"] == ["dana@example.org"]
    assert mails[0].subject == "docjobs: job completed (chat)" and job_id in mails[0].body


def test_a_failed_job_says_why_and_jobs_without_notify_email_send_nothing(api, principal, worker, stream):
    from tests import documents

    headers = {"x-api-key": principal.api_key, "x-selected-account-id": "acme"}
    source = api.post("/v1/projects/p/files", files={"file": ("x.pdf", documents.corrupt_pdf(), "application/pdf")}, headers=headers).json()
    api.post("/v1/projects/p/jobs", json={"operation": "parse", "source_id": source["id"], "notify_email": "ops@example.org"}, headers=headers)
    api.post("/v1/projects/p/jobs", json={"operation": "chunk", "source_id": source["id"]}, headers=headers)
    worker.drain()
    stream.deliver()
    mails = sent_mail()
    assert len(mails) == 1 and "failed" in mails[0].subject and "corrupt" in mails[0].body
    assert "/v1/projects/p/jobs/" in mails[0].body


def test_notify_email_must_be_an_address(api, principal):
    response = api.post("/v1/chat/async", json={"message": "Summarize", "document_html": DOC, "notify_email": "not-an-address"},
                        headers=bearer(principal))  # fmt: skip
    assert response.status_code == 422
