"""SQS: the work queue that feeds the worker function."""

from __future__ import annotations

import json
from typing import Any


class SqsWorkQueue:
    def __init__(self, queue_url: str, client: Any) -> None:
        self.queue_url = queue_url
        self.client = client

    def send(self, message: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))
