"""The emulator's DynamoDB transactions: all or nothing, at a cost that does not grow with the table."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError


def test_a_cancelled_transaction_leaves_every_item_as_it_was(stack):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "x"}, "n": {"N": "1"}})
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}, "sk": {"S": "x"}}, "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}, "sk": {"S": "x"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "c"}, "sk": {"S": "x"}}, "UpdateExpression": "SET n = :one",
                        "ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])  # fmt: skip
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert client.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "x"}})["Item"]["n"] == {"N": "1"}
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "b"}, "sk": {"S": "x"}})
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "c"}, "sk": {"S": "x"}})


def test_a_transaction_never_copies_a_whole_table(stack, monkeypatch):
    """moto deep-copies each table a transaction touches (cost grows with everything stored);
    the emulator snapshots only the touched items instead."""
    import copy

    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    copied: list[str] = []
    real_deepcopy = copy.deepcopy

    def recording_deepcopy(value, memo=None):
        copied.append(type(value).__name__)
        return real_deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", recording_deepcopy)
    client.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": {"pk": {"S": "counter"}, "sk": {"S": "x"}},
                    "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "sk": {"S": "x"}}}},
    ])  # fmt: skip
    assert "Table" not in copied
