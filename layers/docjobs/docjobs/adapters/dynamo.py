"""Shared DynamoDB helpers: (de)serialising plain Python values and building update expressions."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(value: Any) -> dict:
    return _serializer.serialize(_to_dynamo(value))


def to_item(values: dict[str, Any]) -> dict[str, dict]:
    return {k: serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, dict]) -> dict[str, Any]:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


class UpdateBuilder:
    """Builds `SET a = :a, b.c = :b REMOVE d` with placeholder names for every path segment."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, dict] = {}
        self._set: list[str] = []
        self._remove: list[str] = []
        self._add: list[str] = []

    def name(self, path: str) -> str:
        parts = []
        for segment in path.split("."):
            placeholder = f"#{segment.replace('-', '_')}"
            self.names[placeholder] = segment
            parts.append(placeholder)
        return ".".join(parts)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = serialize(value)
        return placeholder

    def set(self, path: str, value: Any) -> UpdateBuilder:
        if value is None:
            self._remove.append(self.name(path))
        else:
            self._set.append(f"{self.name(path)} = {self.value(value)}")
        return self

    def append(self, path: str, items: list[Any]) -> UpdateBuilder:
        empty = self.value([])
        target = self.name(path)
        self._set.append(f"{target} = list_append(if_not_exists({target}, {empty}), {self.value(items)})")
        return self

    def add(self, path: str, amount: int) -> UpdateBuilder:
        self._add.append(f"{self.name(path)} {self.value(amount)}")
        return self

    def expression(self) -> str:
        clauses = []
        if self._set:
            clauses.append("SET " + ", ".join(self._set))
        if self._remove:
            clauses.append("REMOVE " + ", ".join(self._remove))
        if self._add:
            clauses.append("ADD " + ", ".join(self._add))
        return " ".join(clauses)

    def params(self, condition: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"UpdateExpression": self.expression()}
        if condition:
            params["ConditionExpression"] = condition
        if self.names:
            params["ExpressionAttributeNames"] = self.names
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        return params


def encode_cursor(plain: dict[str, object]) -> str:
    """An opaque page cursor: a DynamoDB key (or keys) as URL-safe base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor_json(cursor: str) -> dict:
    """What encode_cursor encoded; ValueError for anything else."""
    try:
        plain = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError("not a cursor") from None
    if not isinstance(plain, dict):
        raise ValueError("not a cursor")
    return plain


def string_key(last_evaluated_key: dict[str, dict]) -> dict[str, str]:
    return {k: v["S"] for k, v in last_evaluated_key.items()}
