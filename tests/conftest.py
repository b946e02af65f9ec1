"""Shared fixtures: the template's resources on in-process moto, a frozen clock, API clients.

Integration tests use moto in-process (mock_aws); end-to-end tests start the local stack in a
subprocess, so the two never share a moto backend (leaving mock_aws wipes a server's state).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# Never let a test reach a real AWS account or a developer's emulator.
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)

START = 1_795_000_000.0  # 2026-11-18, a fixed instant so that expiry tests are exact


@dataclass
class FakeClock:
    t: float = START

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stack():
    """The resources of template.yaml, created on in-process moto by the local stack's provisioner."""
    import boto3
    from docjobs.local.emulator import prepare_emulator
    from docjobs.local.provision import provision
    from moto import mock_aws

    prepare_emulator()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        names = ("dynamodb", "dynamodbstreams", "sqs", "s3", "stepfunctions", "events", "ses")
        clients = {name: boto3.client(name, region_name="us-east-1") for name in names}
        yield provision(TEMPLATE, clients, stack_name="test")


@pytest.fixture
def settings(stack):
    from docjobs.config import Settings

    env = stack.environment
    return Settings(
        jobs_table=env["JOBS_TABLE"],
        accounts_table=env["ACCOUNTS_TABLE"],
        work_queue_url=env["WORK_QUEUE_URL"],
        index_queue_url=env["INDEX_QUEUE_URL"],
        documents_bucket=env["DOCUMENTS_BUCKET"],
        batch_state_machine_arn=env["BATCH_STATE_MACHINE_ARN"],
        job_events_table=env["JOB_EVENTS_TABLE"],
        event_bus_name=env["EVENT_BUS_NAME"],
        notify_from_address=env["NOTIFY_FROM_ADDRESS"],
        webhook_queue_url=env["WEBHOOK_QUEUE_URL"],
        webhook_dead_letter_queue_url=env["WEBHOOK_DEAD_LETTER_QUEUE_URL"],
        # Retries wait on the test's clock, not on SQS: a not-yet-due message comes straight back.
        webhook_max_delay_seconds=0,
        webhook_timeout_seconds=2.0,
        tier_limits={"free": 500, "tiny": 2, "enterprise": None},
    )


@pytest.fixture
def container(settings, clock):
    from docjobs.bootstrap import build_container

    return build_container(settings, clock_fn=clock)


@pytest.fixture
def principal(container):
    return make_principal(container, "org", "acme")


def make_principal(container, kind: str, ident: str, tier: str = "free"):
    from docjobs.domain.jobs import Owner
    from docjobs.services.auth import Principal, create_api_key

    api_key, record = create_api_key(container, Owner(kind, ident), tier=tier)
    principal = Principal(owner=record.owner, tier=tier, key_prefix=record.prefix)
    object.__setattr__(principal, "api_key", api_key)  # frozen dataclass; handy for HTTP tests
    return principal


@pytest.fixture
def worker(stack, container, monkeypatch):
    """Feeds the work queue to the real worker handler, as Lambda's SQS event source would."""
    from docjobs import bootstrap
    from docjobs.local.runtime import SqsPoller

    monkeypatch.setattr(bootstrap, "get_container", lambda: container)
    import importlib

    pollers = []
    for name in ("WorkerFunction", "IndexFunction"):  # the index function runs the worker's code on its own queue
        function = stack.functions[name]
        poller = SqsPoller(function, function.sqs_sources[0], container.queue.client, stop=None, name=f"test-{name}")  # type: ignore[arg-type]
        monkeypatch.setattr(importlib.import_module(poller.handler.__module__), "get_container", lambda: container)
        pollers.append(poller)
    return Worker(*pollers)


@dataclass
class Worker:
    poller: object
    index_poller: object

    def poll_once(self) -> int:
        return self.poller.poll_once(wait_seconds=0) + self.index_poller.poll_once(wait_seconds=0)  # type: ignore[attr-defined]

    def drain(self, max_rounds: int = 20) -> int:
        """Deliver queued messages until the queues are empty; returns how many were delivered."""
        total = 0
        for _ in range(max_rounds):
            n = self.poll_once()
            if n == 0:
                return total
            total += n
        return total

    def drain_until(self, condition, timeout: float = 30.0) -> None:
        """Deliver messages until `condition()` holds: a state machine execution runs in its own
        thread and sends its messages as it goes."""
        import time

        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached before the timeout")
            if self.poll_once() == 0:
                time.sleep(0.05)

    def receive_raw(self, max_wait: float = 10.0) -> list[dict]:
        """Take messages off the queue without handling them (to redeliver them by hand)."""
        import time

        deadline = time.monotonic() + max_wait
        while time.monotonic() < deadline:
            poller = self.poller
            messages = poller.sqs.receive_message(QueueUrl=poller.source.queue_url, MaxNumberOfMessages=10,  # type: ignore[attr-defined]
                                                  AttributeNames=["All"]).get("Messages", [])  # fmt: skip
            if messages:
                return messages
            time.sleep(0.05)
        return []

    def invoke(self, bodies: list[str], receive_count: int = 1) -> dict:
        """Call the handler directly with an SQS event of `bodies` (for redelivery tests)."""
        from docjobs.local.runtime import LambdaContext, sqs_event

        messages = [
            {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": body,
             "Attributes": {"ApproximateReceiveCount": str(receive_count)}}  # fmt: skip
            for i, body in enumerate(bodies)
        ]
        event = sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:test-WorkQueue")
        return self.poller.handler(event, LambdaContext("WorkerFunction", 120))  # type: ignore[attr-defined]


@pytest.fixture
def webhooks(stack, container, clock, monkeypatch):
    """Feeds the webhook queue to the real webhook handler. Loopback targets are allowed (the
    receivers are local test servers), as on the local stack."""
    import sys

    from docjobs.adapters.webhook_http import WebhookSender
    from docjobs.local.runtime import load_handler

    container.webhook_sender = WebhookSender(allow_loopback=True, timeout=container.settings.webhook_timeout_seconds,
                                             connect_timeout=1.0)  # fmt: skip
    handler = load_handler(stack.functions["WebhookFunction"])
    monkeypatch.setattr(sys.modules[handler.__module__], "get_container", lambda: container)
    return WebhookQueue(handler, container, clock)


@dataclass
class WebhookQueue:
    handler: object
    container: object
    clock: FakeClock

    def _take_all(self, queue_url: str) -> list[dict]:
        sqs = self.container.webhook_queue.client  # type: ignore[attr-defined]
        taken = []
        while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", []):
            for message in batch:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            taken += batch
        return taken

    def drain(self, max_rounds: int = 50) -> list[dict]:
        """Hand every message that is due by the test's clock to the handler, until none is due
        (messages due later go back on the queue). Returns the handler's responses."""
        import json

        from docjobs.local.runtime import LambdaContext, sqs_event

        queue_url = self.container.webhook_queue.queue_url  # type: ignore[attr-defined]
        responses = []
        for _ in range(max_rounds):
            messages = self._take_all(queue_url)
            due = [m for m in messages if json.loads(m["Body"])["not_before"] <= self.clock() + 1]
            for later in (m for m in messages if m not in due):
                self.container.webhook_queue.client.send_message(QueueUrl=queue_url, MessageBody=later["Body"])  # type: ignore[attr-defined]
            if not due:
                return responses
            for i in range(0, len(due), 10):
                event = sqs_event(due[i : i + 10], "arn:aws:sqs:us-east-1:123456789012:test-WebhookQueue")
                responses.append(self.handler(event, LambdaContext("WebhookFunction", 60)))  # type: ignore[operator]
        return responses

    def pending(self) -> list[dict]:
        """The messages on the queue (put back untouched)."""
        import json

        queue_url = self.container.webhook_queue.queue_url  # type: ignore[attr-defined]
        messages = self._take_all(queue_url)
        for m in messages:
            self.container.webhook_queue.client.send_message(QueueUrl=queue_url, MessageBody=m["Body"])  # type: ignore[attr-defined]
        return [json.loads(m["Body"]) for m in messages]

    def dead_letters(self) -> list[dict]:
        import json

        return [json.loads(m["Body"]) for m in self._take_all(self.container.webhook_dead_letters.queue_url)]  # type: ignore[attr-defined]


@pytest.fixture
def receiver():
    from tests.receiver import Receiver

    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def stream(stack, container, monkeypatch):
    """Feeds the jobs table's stream to the real events handler, as Lambda's DynamoDB event source
    would. (moto records stream data in process; its Streams API answers only in server mode, which
    the local stack and the end-to-end tests use.)"""
    import sys

    from docjobs.local.runtime import load_handler

    handler = load_handler(stack.functions["EventsFunction"])
    monkeypatch.setattr(sys.modules[handler.__module__], "get_container", lambda: container)
    return Stream(handler, container.settings.jobs_table)


@dataclass
class Stream:
    handler: object
    table: str
    position: int = 0

    def records(self) -> list[dict]:
        from moto.dynamodb.models import dynamodb_backends

        shard = dynamodb_backends["123456789012"]["us-east-1"].tables[self.table].stream_shard
        return [item.to_json() for item in shard.items]

    def deliver(self, redeliver_from: int | None = None) -> dict:
        """Hand the records written since the last delivery to the handler (all of them again
        from `redeliver_from`, to test redelivery)."""
        from docjobs.local.runtime import LambdaContext

        records = self.records()
        start = self.position if redeliver_from is None else redeliver_from
        batch = records[start:]
        self.position = len(records)
        event = {"Records": [{**r, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                              "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/1"}
                             for r in batch]}  # fmt: skip
        return self.handler(event, LambdaContext("EventsFunction", 60)) if batch else {"batchItemFailures": []}


@pytest.fixture
def api(container) -> Iterator[object]:
    """An HTTP client for the FastAPI app, wired to the test container."""
    from docjobs.api import deps
    from docjobs.api.app import create_app
    from docjobs.services.auth import key_resolver
    from fastapi.testclient import TestClient

    key_resolver._cache.clear()
    app = create_app()
    app.dependency_overrides[deps.container] = lambda: container
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def bearer(principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {principal.api_key}"}


DOC = (
    "<h1>Master Services Agreement</h1>"
    "<p>This agreement is between Acme Corp and Globex Inc.</p>"
    "<p>Payment is due within 30 days of the invoice date. Late payments accrue interest.</p>"
    "<p>Either party may terminate with 60 days written notice.</p>"
    "<p>Confidential information must not be disclosed to third parties.</p>"
)
