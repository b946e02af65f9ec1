"""SQS queues: the work queue that feeds the worker, the webhook queue that feeds the webhook
sender, and the webhooks' dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

MAX_DELAY_SECONDS = 900  # SQS's longest per-message delay


class SqsQueue:
    def __init__(self, queue_url: str, client: Any) -> None:
        self.queue_url = queue_url
        self.client = client

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        params: dict[str, Any] = {"QueueUrl": self.queue_url, "MessageBody": json.dumps(message)}
        if delay_seconds > 0:
            params["DelaySeconds"] = min(int(delay_seconds), MAX_DELAY_SECONDS)
        self.client.send_message(**params)
