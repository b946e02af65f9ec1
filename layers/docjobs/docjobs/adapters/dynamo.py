"""Shared DynamoDB helpers: (de)serialising plain Python values and building update expressions."""

from __future__ import annotations

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
