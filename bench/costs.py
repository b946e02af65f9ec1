"""Cost per operation, counted (not timed): the AWS calls each API request makes through the real
FastAPI app, and the DynamoDB capacity they consume, on the template's resources in in-process moto.
Counts are exact and the same on every machine; tests/reliability asserts the goals from them.

Goals: a poll is one DynamoDB item read at every batch size; creating a job at most two writes
and one SQS send; a list page one query.
"""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = "<h1>Agreement</h1><p>Acme sells things to Globex.</p><p>Payment is due in 30 days.</p>"


class CallCounter:
    """Counts every AWS call the clients make (service.Operation), and DynamoDB's consumed
    capacity (ReturnConsumedCapacity is asked of every call that accepts it)."""

    CAPACITY_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                           "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}  # fmt: skip

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self.items_written = 0
        self.lock = threading.Lock()

    def attach(self, client: Any) -> None:
        events = client.meta.events
        service = client.meta.service_model.service_name
        events.register("before-call", self._count)
        if service == "dynamodb":
            events.register("provide-client-params.dynamodb", self._ask_capacity)
            events.register("after-call.dynamodb", self._capacity)

    def _count(self, model: Any, **_: Any) -> None:
        with self.lock:
            self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def _ask_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in self.CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        written = {"PutItem": 1, "UpdateItem": 1, "DeleteItem": 1, "TransactWriteItems": len(params.get("TransactItems", [])),
                   "BatchWriteItem": sum(len(v) for v in params.get("RequestItems", {}).values())}.get(model.name, 0)  # fmt: skip
        with self.lock:
            self.items_written += written

    def _capacity(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            units = float(entry.get("CapacityUnits") or 0)
            with self.lock:
                if model.name in ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"):
                    self.read_units += units
                else:
                    self.write_units += units

    @contextmanager
    def measure(self) -> Any:
        self.calls.clear()
        self.read_units = self.write_units = 0.0
        self.items_written = 0
        yield self

    def summary(self) -> dict[str, Any]:
        return {"calls": dict(sorted(self.calls.items())), "dynamodb_items_written": self.items_written,
                "dynamodb_read_units": round(self.read_units, 2), "dynamodb_write_units": round(self.write_units, 2)}  # fmt: skip


def environment() -> Any:
    """The template's resources on in-process moto, a container wired to them, the API app."""
    import boto3
    from docjobs.bootstrap import build_container
    from docjobs.config import Settings
    from docjobs.local.emulator import prepare_emulator
    from docjobs.local.provision import provision
    from moto import mock_aws

    prepare_emulator()
    mock = mock_aws()
    mock.start()
    names = ("dynamodb", "dynamodbstreams", "sqs", "s3", "stepfunctions", "events", "ses")
    stack = provision(ROOT / "template.yaml", {n: boto3.client(n, region_name="us-east-1") for n in names}, stack_name="bench")
    env = stack.environment
    settings = Settings(jobs_table=env["JOBS_TABLE"], accounts_table=env["ACCOUNTS_TABLE"], work_queue_url=env["WORK_QUEUE_URL"],
                        index_queue_url=env["INDEX_QUEUE_URL"], documents_bucket=env["DOCUMENTS_BUCKET"],
                        batch_state_machine_arn=env["BATCH_STATE_MACHINE_ARN"], job_events_table=env["JOB_EVENTS_TABLE"],
                        tier_limits={"enterprise": None}, rate_limits={"enterprise": None})  # fmt: skip
    return mock, build_container(settings)


def run(batch_sizes: tuple[int, ...] = (10, 100, 1000)) -> dict[str, Any]:
    from docjobs.api import deps
    from docjobs.api.app import create_app
    from docjobs.domain.jobs import Owner
    from docjobs.services.auth import Principal, create_api_key
    from docjobs.services.batches import submit_batch
    from docjobs.services.sources import add_source
    from docjobs.services.worker import run_job
    from fastapi.testclient import TestClient

    mock, c = environment()
    try:
        counter = CallCounter()
        for client in (c.jobs.client, c.queue.client, c.blobs.client):
            counter.attach(client)  # (a LazyClient makes its client on first use)
        owner = Owner("org", "bench")
        key, record = create_api_key(c, owner, tier="enterprise")
        principal = Principal(owner=owner, tier="enterprise", key_prefix=record.prefix)
        app = create_app()
        app.dependency_overrides[deps.container] = lambda: c
        headers = {"Authorization": f"Bearer {key}"}
        seed = {"x-api-key": key, "x-selected-account-id": "bench"}
        results: dict[str, Any] = {}
        with TestClient(app) as api:
            api.get("/v1/jobs", headers=headers)  # the key is resolved once, then cached: not a per-request cost

            def measured(name: str, call: Any) -> Any:
                with counter.measure():
                    response = call()
                assert response.status_code < 300, (name, response.status_code, response.text)
                results[name] = counter.summary()
                return response

            body = {"message": 'Replace "Acme" with "Initech"', "session_id": "s1", "document_html": DOC}
            job_id = measured("create chat job", lambda: api.post("/v1/chat/async", headers=headers, json=body)).json()["job_id"]
            measured("poll", lambda: api.get(f"/v1/jobs/{job_id}", headers=headers))
            measured("list page (20)", lambda: api.get("/v1/jobs?limit=20", headers=headers))
            measured("cancel", lambda: api.post(f"/v1/jobs/{job_id}/cancel", headers=headers))
            waiting = api.post("/v1/chat/async", headers=headers, json={**body, "session_id": "s2", "require_approval": True}).json()["job_id"]
            run_job(c, waiting)
            changes = [ch["change_id"] for ch in c.jobs.get(waiting).metadata["pending_changes"]]
            measured("approve", lambda: api.post(f"/v1/jobs/{waiting}/approve", headers=headers, json={"approved_change_ids": changes}))
            source = api.post("/v1/projects/p/files", headers=seed, files={"file": ("a.txt", b"Some text.", "text/plain")}).json()
            measured("create project job", lambda: api.post("/v1/projects/p/jobs", headers=seed,
                                                            json={"operation": "parse", "source_id": source["id"]}))  # fmt: skip
            for size in batch_sizes:
                ids = [add_source(c, owner, "p", f"document {size}-{i}".encode(), f"d{i}.txt", "text/plain").id for i in range(size)]
                batch, _ = submit_batch(c, principal, "p", source_ids=ids, options={}, tags=[], correlation_id=None)
                measured(f"batch poll ({size} children)", lambda b=batch: api.get(f"/v1/projects/p/jobs/{b.job_id}", headers=seed))
        return results
    finally:
        mock.stop()


def report(results: dict[str, Any]) -> None:
    print("\n| request | AWS calls | DynamoDB items written | read / write units (moto reports none for transactions) |")
    print("|---|---|---|---|")
    for name, r in results.items():
        calls = ", ".join(f"{n} {op}" for op, n in r["calls"].items()) or "none"
        print(f"| {name} | {calls} | {r['dynamodb_items_written']} | {r['dynamodb_read_units']} / {r['dynamodb_write_units']} |")


if __name__ == "__main__":
    report(run())
