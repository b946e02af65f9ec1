"""The Lambda handlers themselves, fed the sample events in events/ (as `sam local invoke -e` does):
API Gateway -> Mangum -> FastAPI, and SQS -> Powertools batch processing -> the worker."""

from __future__ import annotations

import json
import sys

import pytest
from docjobs.domain.jobs import Owner
from docjobs.local.runtime import LambdaContext, load_handler
from docjobs.services.auth import create_api_key, key_resolver

from tests.conftest import ROOT

EXAMPLE_KEY = "sk_local_example_key_000000001"


def event(name: str, **replace: str) -> dict:
    text = (ROOT / "events" / f"{name}.json").read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    return json.loads(text)


@pytest.fixture
def handlers(stack, container, monkeypatch):
    from docjobs.api import deps

    monkeypatch.setattr(deps, "get_container", lambda: container)
    key_resolver._cache.clear()
    create_api_key(container, Owner("org", "example"), api_key=EXAMPLE_KEY)
    loaded = {name: load_handler(stack.functions[name]) for name in ("ApiFunction", "WorkerFunction")}
    for name in ("ApiFunction", "WorkerFunction"):
        monkeypatch.setattr(sys.modules[loaded[name].__module__], "get_container", lambda: container)
    return loaded


def call_api(handlers, ev):
    response = handlers["ApiFunction"](ev, LambdaContext("ApiFunction", 29))
    return response["statusCode"], json.loads(response["body"]), response.get("multiValueHeaders") or response["headers"]


def test_every_sample_event_is_served_by_its_handler_without_a_server_error(handlers):
    for path in sorted((ROOT / "events").glob("api__*.json")):
        status, body, _ = call_api(handlers, json.loads(path.read_text()))
        assert status < 500, (path.name, body)


def test_api_gateway_event_to_job_and_back(handlers, worker):
    status, body, headers = call_api(handlers, event("api__post_chat_async"))
    assert status == 202 and body["status"] == "pending"
    job_id = body["job_id"]
    worker.drain()
    status, job, headers = call_api(handlers, event("api__get_job", job_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=job_id))
    assert status == 200 and job["status"] == "completed"
    assert job["result"]["document_changes"]["updated_html"].count("<h2") == 2
    request_id = headers.get("x-request-id")
    assert request_id in ("example-request-1", ["example-request-1"])


def test_sqs_sample_events_through_the_worker_handler(handlers, container):
    from docjobs.services.auth import Principal
    from docjobs.services.chat import ChatRequest, submit_chat

    who = Principal(Owner("org", "example"), "free", "sk_local_e")
    job = submit_chat(container, who, ChatRequest("Summarize this", "s", "<p>One. Two. Three.</p>"), route="chat_async").job
    ctx = LambdaContext("WorkerFunction", 120)
    result = handlers["WorkerFunction"](event("worker__sqs_job", job_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=job.job_id), ctx)
    assert result == {"batchItemFailures": []}
    assert container.jobs.get(job.job_id).status.value == "completed"
    poison = handlers["WorkerFunction"](event("worker__sqs_poison"), ctx)
    assert poison == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}


def test_the_request_id_follows_the_job_into_the_worker_logs(handlers, worker, container):
    import logging

    status, body, _ = call_api(handlers, event("api__post_chat_async", **{"example-request-1": "trace-job-42"}))
    assert container.jobs.get(body["job_id"]).correlation_id == "trace-job-42"
    import io

    from docjobs.observability import logger

    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    logger.setLevel(logging.INFO)
    try:
        worker.drain()
    finally:
        logger.setLevel(logging.WARNING)
        logger.registered_handler.setStream(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    run = [line for line in lines if line.get("message") == "job run" and line.get("job_id") == body["job_id"]]
    assert len(run) == 1 and run[0]["status"] == "completed"
    assert run[0]["correlation_id"] == "trace-job-42"


def test_the_sweeper_handler_serves_its_scheduled_event(stack, container, monkeypatch):
    sweeper = load_handler(stack.functions["SweeperFunction"])
    monkeypatch.setattr(sys.modules[sweeper.__module__], "get_container", lambda: container)
    report = sweeper(event("sweeper__scheduled"), LambdaContext("SweeperFunction", 120))
    assert report == {"requeued": [], "failed": [], "skipped": 0}


def test_the_events_handler_serves_its_sample_stream_event(stack, container, monkeypatch):
    events_handler = load_handler(stack.functions["EventsFunction"])
    monkeypatch.setattr(sys.modules[events_handler.__module__], "get_container", lambda: container)
    assert events_handler(event("events__job_changed"), LambdaContext("EventsFunction", 60)) == {"batchItemFailures": []}
    logged = container.events.after("job_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0)
    assert [(e["seq"], e["type"], e["previous_status"], e["status"]) for e in logged] == [(4, "status", "in_progress", "completed")]


def test_the_webhook_handler_serves_its_sample_event(stack, container, monkeypatch):
    """A message whose delivery is unknown (expired, or never recorded) is dropped; a malformed one
    is the only failure reported, so SQS retries it alone and then dead-letters it."""
    webhook_handler = load_handler(stack.functions["WebhookFunction"])
    monkeypatch.setattr(sys.modules[webhook_handler.__module__], "get_container", lambda: container)
    report = webhook_handler(event("webhooks__sqs_delivery"), LambdaContext("WebhookFunction", 60))
    assert report == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}


def test_the_events_handler_reads_an_owners_webhook_endpoints_once_per_batch(stack, container, monkeypatch):
    """A batch of stream records (a job makes several in a row) reads each owner's endpoints with
    one Query, not one per record, and still queues a delivery for every record."""
    import secrets

    from docjobs.adapters.webhooks_table import Endpoint
    from docjobs.domain.webhooks import EVENT_TYPES, new_secret

    owner = Owner("org", "example")
    container.webhooks.put_endpoint(Endpoint(webhook_id="wh_" + secrets.token_hex(12), owner=owner, url="https://hooks.example.com/in",
                                             event_types=list(EVENT_TYPES), secret=new_secret(),
                                             created_at="2026-11-23T09:00:00.000Z"))  # fmt: skip
    sample = event("events__job_changed")["Records"][0]
    records = []
    for n, job in enumerate(("a" * 32, "b" * 32, "c" * 32)):
        record = json.loads(json.dumps(sample).replace("a" * 32, job))
        record["eventID"], record["dynamodb"]["SequenceNumber"] = f"e{n}", str(1100000000017454423010 + n)
        records.append(record)
    reads = []
    list_endpoints = container.webhooks.list_endpoints
    monkeypatch.setattr(container.webhooks, "list_endpoints", lambda o: reads.append(o) or list_endpoints(o))
    events_handler = load_handler(stack.functions["EventsFunction"])
    monkeypatch.setattr(sys.modules[events_handler.__module__], "get_container", lambda: container)
    assert events_handler({"Records": records}, LambdaContext("EventsFunction", 60)) == {"batchItemFailures": []}
    assert reads == [owner]
    queue = container.webhook_queue
    queued = queue.client.get_queue_attributes(QueueUrl=queue.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert queued["Attributes"]["ApproximateNumberOfMessages"] == "3"
