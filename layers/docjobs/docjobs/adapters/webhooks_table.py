"""Webhook endpoints and their deliveries, in the accounts table.

    pk = "WEBHOOKS#<owner key>"                  sk = "WEBHOOK#<webhook id>"   a registered endpoint
    pk = "WEBHOOKS#<owner key>"                  sk = "JOB_URL_SECRET"         signs jobs' own webhook_url
    pk = "DELIVERIES#<owner key>#<target>"       sk = "<event time>#<msg id>"  one message to one target
                                                                               and its attempts (TTL)

A target is a webhook id, or "job_<job id>" for a job's own webhook_url. An owner's endpoints are
one Query; a target's deliveries, newest first, are one Query per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docjobs.adapters.dynamo import UpdateBuilder, decode_cursor_json, encode_cursor, from_item, string_key, to_item
from docjobs.domain.errors import InvalidRequestError
from docjobs.domain.jobs import Owner

DELIVERY_RETENTION_SECONDS = 7 * 24 * 3600


@dataclass
class Endpoint:
    webhook_id: str
    owner: Owner
    url: str
    event_types: list[str]
    secret: str
    created_at: str
    description: str | None = None
    status: str = "enabled"  # or "disabled" (the receiver answered 410 Gone)
    disabled_reason: str | None = None
    previous_secret: str | None = None
    previous_secret_until: int | None = None

    def secrets_at(self, now: float) -> list[str]:
        """The secrets that sign a message now: the current one, and a rotated-out one for a day."""
        keep_previous = self.previous_secret and (self.previous_secret_until or 0) > now
        return [self.secret, self.previous_secret] if keep_previous else [self.secret]  # type: ignore[list-item]


@dataclass
class Delivery:
    owner: Owner
    target: str
    sort_key: str
    message_id: str
    event_type: str
    job_id: str
    url: str | None
    status: str  # pending, retrying, succeeded, failed, dead_lettered, skipped
    created_at: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    attempt_count: int = 0
    next_attempt_at: str | None = None
    claimed_until: int | None = None


class DynamoWebhookRepository:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    # -- endpoints ---------------------------------------------------------------------------

    def put_endpoint(self, endpoint: Endpoint) -> None:
        self.client.put_item(TableName=self.table, Item=to_item(_endpoint_values(endpoint)),
                             ConditionExpression="attribute_not_exists(pk)")  # fmt: skip

    def get_endpoint(self, owner: Owner, webhook_id: str) -> Endpoint | None:
        item = self.client.get_item(TableName=self.table, Key=_endpoint_key(owner, webhook_id), ConsistentRead=True).get("Item")
        return _endpoint(from_item(item)) if item else None

    def list_endpoints(self, owner: Owner) -> list[Endpoint]:
        """An owner's endpoints: one Query (an owner has at most MAX_ENDPOINTS)."""
        items = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"WEBHOOKS#{owner.key}"}, ":prefix": {"S": "WEBHOOK#"}},
        ).get("Items", [])
        return sorted((_endpoint(from_item(i)) for i in items), key=lambda e: e.created_at)

    def delete_endpoint(self, owner: Owner, webhook_id: str) -> bool:
        gone = self.client.delete_item(TableName=self.table, Key=_endpoint_key(owner, webhook_id), ReturnValues="ALL_OLD")
        return "Attributes" in gone

    def update_endpoint(self, owner: Owner, webhook_id: str, **values: Any) -> Endpoint | None:
        update = UpdateBuilder()
        for path, value in values.items():
            update.set(path, value)
        try:
            item = self.client.update_item(TableName=self.table, Key=_endpoint_key(owner, webhook_id), ReturnValues="ALL_NEW",
                                           **update.params("attribute_exists(pk)"))["Attributes"]  # fmt: skip
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return _endpoint(from_item(item))

    def job_url_secret(self, owner: Owner, make: Any) -> str:
        """The owner's secret for jobs' own webhook_url, made (by `make()`) on first use."""
        key = {"pk": {"S": f"WEBHOOKS#{owner.key}"}, "sk": {"S": "JOB_URL_SECRET"}}
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if item:
            return str(from_item(item)["secret"])
        secret = make()
        try:
            self.client.put_item(TableName=self.table, Item={**key, "secret": {"S": secret}},
                                 ConditionExpression="attribute_not_exists(pk)")  # fmt: skip
            return str(secret)
        except self.client.exceptions.ConditionalCheckFailedException:  # made at the same moment elsewhere
            return self.job_url_secret(owner, make)

    # -- deliveries --------------------------------------------------------------------------

    def add_delivery(self, delivery: Delivery, expires_at: int) -> bool:
        """Record a message to a target; False if it is already recorded (a redelivered event)."""
        try:
            self.client.put_item(TableName=self.table, Item=to_item({**_delivery_values(delivery), "expires_at": expires_at}),
                                 ConditionExpression="attribute_not_exists(pk)")  # fmt: skip
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def get_delivery(self, owner: Owner, target: str, sort_key: str) -> Delivery | None:
        item = self.client.get_item(TableName=self.table, Key=_delivery_key(owner, target, sort_key),
                                    ConsistentRead=True).get("Item")  # fmt: skip
        return _delivery(from_item(item)) if item else None

    def claim_attempt(self, delivery: Delivery, attempt: int, now: float, lease_seconds: int) -> bool:
        """Take attempt number `attempt` of a delivery: only one sender makes it. A claim whose
        sender died (its lease ran out without an outcome) may be taken again."""
        update = UpdateBuilder().set("attempt_count", attempt).set("claimed_until", int(now) + lease_seconds).set("status", "sending")
        params = update.params()
        params["ExpressionAttributeValues"].update({":prev": {"N": str(attempt - 1)}, ":now": {"N": str(int(now))},
                                                    ":sending": {"S": "sending"}, ":attempt": {"N": str(attempt)}})  # fmt: skip
        condition = ("(attempt_count = :prev AND (#status <> :sending OR claimed_until < :now)) OR "
                     "(attempt_count = :attempt AND #status = :sending AND claimed_until < :now)")  # fmt: skip
        try:
            self.client.update_item(TableName=self.table, Key=_delivery_key(delivery.owner, delivery.target, delivery.sort_key),
                                    ConditionExpression=condition, **params)  # fmt: skip
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False

    def record_attempt(self, delivery: Delivery, outcome: dict[str, Any], status: str, next_attempt_at: str | None) -> None:
        update = UpdateBuilder().append("attempts", [outcome]).set("status", status).set("next_attempt_at", next_attempt_at)
        update.set("claimed_until", None)
        self.client.update_item(TableName=self.table, Key=_delivery_key(delivery.owner, delivery.target, delivery.sort_key),
                                **update.params())  # fmt: skip

    def set_delivery_status(self, delivery: Delivery, status: str) -> None:
        update = UpdateBuilder().set("status", status).set("next_attempt_at", None).set("claimed_until", None)
        self.client.update_item(TableName=self.table, Key=_delivery_key(delivery.owner, delivery.target, delivery.sort_key),
                                **update.params())  # fmt: skip

    def list_deliveries(self, owner: Owner, target: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
        """A target's deliveries, newest first: one Query per page."""
        partition = f"DELIVERIES#{owner.key}#{target}"
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            params["ExclusiveStartKey"] = _decode_key(cursor, partition)
        page = self.client.query(**params)
        last = page.get("LastEvaluatedKey")
        return [_delivery(from_item(i)) for i in page.get("Items", [])], (encode_cursor(string_key(last)) if last else None)


def _endpoint_key(owner: Owner, webhook_id: str) -> dict[str, dict]:
    return {"pk": {"S": f"WEBHOOKS#{owner.key}"}, "sk": {"S": f"WEBHOOK#{webhook_id}"}}


def _delivery_key(owner: Owner, target: str, sort_key: str) -> dict[str, dict]:
    return {"pk": {"S": f"DELIVERIES#{owner.key}#{target}"}, "sk": {"S": sort_key}}


def _endpoint_values(e: Endpoint) -> dict[str, Any]:
    return {**{k: v["S"] for k, v in _endpoint_key(e.owner, e.webhook_id).items()},
            "webhook_id": e.webhook_id, "owner": e.owner.key, "url": e.url, "event_types": e.event_types,
            "secret": e.secret, "created_at": e.created_at, "description": e.description, "status": e.status}  # fmt: skip


def _endpoint(v: dict[str, Any]) -> Endpoint:
    return Endpoint(webhook_id=v["webhook_id"], owner=Owner.from_key(v["owner"]), url=v["url"],
                    event_types=list(v.get("event_types") or []), secret=v["secret"], created_at=v["created_at"],
                    description=v.get("description"), status=v.get("status", "enabled"),
                    disabled_reason=v.get("disabled_reason"), previous_secret=v.get("previous_secret"),
                    previous_secret_until=v.get("previous_secret_until"))  # fmt: skip


def _delivery_values(d: Delivery) -> dict[str, Any]:
    return {**{k: v["S"] for k, v in _delivery_key(d.owner, d.target, d.sort_key).items()},
            "owner": d.owner.key, "target": d.target, "message_id": d.message_id, "event_type": d.event_type,
            "job_id": d.job_id, "url": d.url, "status": d.status, "created_at": d.created_at,
            "attempts": d.attempts, "attempt_count": d.attempt_count}  # fmt: skip


def _delivery(v: dict[str, Any]) -> Delivery:
    return Delivery(owner=Owner.from_key(v["owner"]), target=v["target"], sort_key=v["sk"], message_id=v["message_id"],
                    event_type=v["event_type"], job_id=v["job_id"], url=v.get("url"), status=v["status"],
                    created_at=v["created_at"], attempts=list(v.get("attempts") or []),
                    attempt_count=int(v.get("attempt_count", 0)), next_attempt_at=v.get("next_attempt_at"),
                    claimed_until=v.get("claimed_until"))  # fmt: skip


def _decode_key(cursor: str, partition: str) -> dict[str, dict]:
    try:
        plain = decode_cursor_json(cursor)
        if set(plain) != {"pk", "sk"} or plain["pk"] != partition:
            raise ValueError
        return {k: {"S": str(v)} for k, v in plain.items()}
    except ValueError:
        raise InvalidRequestError("The cursor is not valid; pass next_cursor from a previous page.") from None
