"""The accounts table: API keys, monthly usage, idempotency keys and chat sessions.

    pk = "KEY#<sha256 of the key>"            sk = "KEY"          an API key (never the key itself)
    pk = "USAGE#<owner key>"                  sk = "<YYYY-MM>"    billable requests that month
    pk = "IDEMPOTENCY#<owner key>#<sha256>"   sk = "IDEMPOTENCY"  a replayable job creation (TTL)
    pk = "SESSION#<owner key>#<session_id>"   sk = "SESSION"      current document version, history
    pk = "RATE#<key hash>"                    sk = "RATE"         a busy key's requests per second, shared
                                                                  by the API's containers (TTL)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from docjobs.adapters.dynamo import UpdateBuilder, from_item, serialize, to_item
from docjobs.domain.jobs import Owner

SESSION_HISTORY_LIMIT = 50


@dataclass(frozen=True)
class ApiKeyRecord:
    key_hash: str
    owner: Owner
    tier: str
    name: str
    prefix: str
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    job_id: str
    response: dict[str, Any] | None
    expires_at: int


@dataclass
class Session:
    owner: Owner
    session_id: str
    current_version_id: str | None = None
    current_version_key: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    # Parsed attachments: {"attachment_id", "filename", "text_key", "characters"}.
    attachments: list[dict[str, Any]] = field(default_factory=list)
    updated_at: str | None = None


def hash_key(api_key: str) -> str:
    # API keys are 256-bit random secrets, so a fast hash is safe (no dictionary to attack) and
    # lets every request find its key with one GetItem.
    return hashlib.sha256(api_key.encode()).hexdigest()


class DynamoAccountsRepository:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    # -- request rates --------------------------------------------------------------------------

    def add_request_counts(self, key_hash: str, counts: dict[int, int], forget: list[int], expires_at: int) -> dict[int, int]:
        """Add this process's requests per second (`counts`, by epoch second) to the key's shared
        counters, drop seconds that left every window (`forget`), and return all counters: one UpdateItem."""
        update = UpdateBuilder()
        for second, n in counts.items():
            update.add(f"s{second}", n)
        for second in forget:
            if second not in counts:
                update.set(f"s{second}", None)
        update.set("expires_at", expires_at)
        item = self.client.update_item(TableName=self.table, Key={"pk": {"S": f"RATE#{key_hash}"}, "sk": {"S": "RATE"}},
                                       ReturnValues="ALL_NEW", **update.params())["Attributes"]  # fmt: skip
        return {int(name[1:]): int(value["N"]) for name, value in item.items() if name.startswith("s") and name[1:].isdigit()}

    # -- API keys -----------------------------------------------------------------------------

    def put_key(self, record: ApiKeyRecord) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {
                    "pk": f"KEY#{record.key_hash}",
                    "sk": "KEY",
                    "owner": record.owner.key,
                    "tier": record.tier,
                    "name": record.name,
                    "prefix": record.prefix,
                    "created_at": record.created_at,
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_key(self, key_hash: str) -> ApiKeyRecord | None:
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": f"KEY#{key_hash}"}, "sk": {"S": "KEY"}}
        ).get("Item")
        if not item:
            return None
        v = from_item(item)
        return ApiKeyRecord(
            key_hash=key_hash,
            owner=Owner.from_key(v["owner"]),
            tier=v["tier"],
            name=v.get("name", ""),
            prefix=v.get("prefix", ""),
            created_at=v.get("created_at", ""),
            revoked_at=v.get("revoked_at"),
        )

    def revoke_key(self, key_hash: str, at: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"KEY#{key_hash}"}, "sk": {"S": "KEY"}},
                UpdateExpression="SET revoked_at = :at",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":at": {"S": at}},
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def list_keys(self) -> list[ApiKeyRecord]:
        """Every key (an operator's command, not a request path: it scans)."""
        records = []
        for page in self.client.get_paginator("scan").paginate(
            TableName=self.table, FilterExpression="sk = :sk", ExpressionAttributeValues={":sk": {"S": "KEY"}}
        ):
            for item in page["Items"]:
                key_hash = from_item(item)["pk"].removeprefix("KEY#")
                if record := self.get_key(key_hash):
                    records.append(record)
        return records

    # -- usage --------------------------------------------------------------------------------

    @staticmethod
    def _usage_key(owner: Owner, period: str) -> dict[str, dict]:
        return {"pk": {"S": f"USAGE#{owner.key}"}, "sk": {"S": period}}

    def get_usage(self, owner: Owner, period: str) -> int:
        item = self.client.get_item(TableName=self.table, Key=self._usage_key(owner, period)).get("Item")
        return int(from_item(item).get("used", 0)) if item else 0

    def reserve_usage_item(self, owner: Owner, period: str, limit: int | None) -> dict[str, Any]:
        """Transaction item: count one billable request, failing if the month's limit is reached."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": self._usage_key(owner, period),
            "UpdateExpression": "ADD used :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        if limit is not None:
            update["ConditionExpression"] = "attribute_not_exists(used) OR used < :limit"
            update["ExpressionAttributeValues"][":limit"] = serialize(limit)
        return {"Update": update}

    def refund_usage_item(self, owner: Owner, period: str) -> dict[str, Any]:
        """Transaction item: give back a reserved request (the job failed or was cancelled)."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._usage_key(owner, period),
                "UpdateExpression": "ADD used :minus_one",
                "ConditionExpression": "used > :zero",
                "ExpressionAttributeValues": {":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
            }
        }

    # -- idempotency --------------------------------------------------------------------------

    @staticmethod
    def _idempotency_key(owner: Owner, key: str) -> dict[str, dict]:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return {"pk": {"S": f"IDEMPOTENCY#{owner.key}#{digest}"}, "sk": {"S": "IDEMPOTENCY"}}

    def claim_idempotency_key(
        self, owner: Owner, key: str, request_hash: str, job_id: str, now: float, ttl_seconds: int
    ) -> IdempotencyRecord | None:
        """Claim `key` for a new job; None if claimed, else the record that already holds it."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **self._idempotency_key(owner, key),
                    **to_item(
                        {"request_hash": request_hash, "job_id": job_id, "expires_at": int(now) + ttl_seconds}
                    ),
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": serialize(int(now))},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            v = from_item(error.response.get("Item") or {})
            if not v:  # pragma: no cover - the emulator always returns the old item
                item = self.client.get_item(
                    TableName=self.table, Key=self._idempotency_key(owner, key), ConsistentRead=True
                )["Item"]
                v = from_item(item)
            return IdempotencyRecord(v["request_hash"], v["job_id"], v.get("response"), int(v["expires_at"]))

    def save_idempotent_response(self, owner: Owner, key: str, response: dict[str, Any]) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self._idempotency_key(owner, key),
            UpdateExpression="SET #r = :r",
            ExpressionAttributeNames={"#r": "response"},
            ExpressionAttributeValues={":r": serialize(response)},
        )

    def release_idempotency_key(self, owner: Owner, key: str) -> None:
        """Forget a claim whose job was never created (e.g. refused for usage)."""
        self.client.delete_item(TableName=self.table, Key=self._idempotency_key(owner, key))

    # -- sessions -----------------------------------------------------------------------------

    @staticmethod
    def _session_key(owner: Owner, session_id: str) -> dict[str, dict]:
        return {"pk": {"S": f"SESSION#{owner.key}#{session_id}"}, "sk": {"S": "SESSION"}}

    def get_session(self, owner: Owner, session_id: str, *, consistent: bool = False) -> Session | None:
        item = self.client.get_item(
            TableName=self.table, Key=self._session_key(owner, session_id), ConsistentRead=consistent
        ).get("Item")
        if not item:
            return None
        v = from_item(item)
        return Session(
            owner=owner,
            session_id=session_id,
            current_version_id=v.get("current_version_id"),
            current_version_key=v.get("current_version_key"),
            history=v.get("history", []),
            attachments=v.get("attachments", []),
            updated_at=v.get("updated_at"),
        )

    def session_update_item(
        self,
        owner: Owner,
        session_id: str,
        *,
        now: float,
        now_iso: str,
        ttl_seconds: int,
        turns: list[dict[str, Any]],
        version_id: str | None = None,
        version_key: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Transaction item: append turns to the session's history and move its current version."""
        update = UpdateBuilder().set("updated_at", now_iso).set("expires_at", int(now) + ttl_seconds)
        update.append("history", turns)
        if attachments:
            update.append("attachments", attachments)
        if version_id:
            update.set("current_version_id", version_id).set("current_version_key", version_key)
        return {"Update": {"TableName": self.table, "Key": self._session_key(owner, session_id), **update.params()}}

    def trim_session_history(self, owner: Owner, session_id: str) -> None:
        """Keep the most recent SESSION_HISTORY_LIMIT turns (history is only context for the engine)."""
        session = self.get_session(owner, session_id, consistent=True)
        if session and len(session.history) > SESSION_HISTORY_LIMIT:
            excess = len(session.history) - SESSION_HISTORY_LIMIT
            self.client.update_item(
                TableName=self.table,
                Key=self._session_key(owner, session_id),
                UpdateExpression="REMOVE " + ", ".join(f"history[{i}]" for i in range(excess)),
            )
