"""The job events table (a job's event log) and the EventBridge bus."""

from __future__ import annotations

import json
from typing import Any

from docjobs.adapters.dynamo import from_item, to_item

EVENT_RETENTION_SECONDS = 8 * 24 * 3600  # outlives any job (7 days after finishing) by a margin


class DynamoJobEventLog:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def put(self, event: dict[str, Any], expires_at: int) -> None:
        """Write event number `seq` of its job; writing it again (a redelivery) changes nothing."""
        self.client.put_item(TableName=self.table, Item=to_item({**event, "expires_at": expires_at}))

    def mark_once(self, job_id: str, purpose: str, expires_at: int) -> bool:
        """Claim a one-time side effect of a job (e.g. its e-mail): True the first time only."""
        try:
            self.client.put_item(TableName=self.table, Item=to_item({"job_id": f"{job_id}#{purpose}", "seq": 0,
                                                                     "expires_at": expires_at}),
                                 ConditionExpression="attribute_not_exists(job_id)")  # fmt: skip
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def unmark(self, job_id: str, purpose: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"job_id": {"S": f"{job_id}#{purpose}"}, "seq": {"N": "0"}})

    def after(self, job_id: str, after_seq: int, limit: int = 100) -> list[dict[str, Any]]:
        """The job's events numbered above `after_seq`, in order: one Query."""
        page = self.client.query(
            TableName=self.table,
            KeyConditionExpression="job_id = :job AND seq > :after",
            ExpressionAttributeValues={":job": {"S": job_id}, ":after": {"N": str(after_seq)}},
            Limit=limit,
        )
        events = [from_item(item) for item in page.get("Items", [])]
        for event in events:
            event.pop("expires_at", None)
        return events


class SesMailer:
    def __init__(self, from_address: str, client: Any) -> None:
        self.from_address = from_address
        self.client = client

    def send(self, to: str, subject: str, text: str) -> str:
        return self.client.send_email(
            Source=self.from_address,
            Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}},
        )["MessageId"]


class EventBridgeBus:
    SOURCE = "docjobs"

    def __init__(self, bus_name: str, client: Any) -> None:
        self.bus_name = bus_name
        self.client = client

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if not self.bus_name:
            return
        response = self.client.put_events(Entries=[{"Source": self.SOURCE, "DetailType": detail_type,
                                                     "Detail": json.dumps(detail), "EventBusName": self.bus_name}])  # fmt: skip
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the event: {response['Entries']}")
