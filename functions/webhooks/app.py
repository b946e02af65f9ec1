"""Webhook function: the webhook queue -> one attempt per message. The messages of a batch are
sent concurrently, so a receiver that hangs until its timeout delays no other receiver. Partial
batch responses: a message whose handling failed (not a receiver's failure, which is recorded and
retried by the schedule) goes back to the queue, and to the dead-letter queue after 5 receives."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from docjobs.bootstrap import get_container
from docjobs.observability import logger, metrics
from docjobs.services.webhooks import deliver

_senders = ThreadPoolExecutor(max_workers=10, thread_name_prefix="webhook")


def deliver_record(record: dict) -> str:
    message = json.loads(record["body"])
    if not isinstance(message, dict) or not {"owner", "target", "sort_key", "attempt", "not_before", "body"} <= set(message):
        raise ValueError(f"not a docjobs webhook message: {record['body'][:200]!r}")
    return deliver(get_container(), message)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    records = event.get("Records", [])
    futures = [(record, _senders.submit(deliver_record, record)) for record in records]
    failures = []
    for record, future in futures:
        try:
            outcome = future.result()
            metrics.add_metric(name=f"Webhook_{outcome}", unit="Count", value=1)
        except Exception:
            logger.exception("webhook message failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
