"""The emulator's DynamoDB transactions: all or nothing, at a cost that does not grow with the table."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st


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


def _compare_with_motos_serializer(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Answer with the emulator's direct encoding, asserting each answer equals moto's own."""
    from docjobs.local.emulator import serialize_items_directly
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    serialize_items_directly()
    compared: list[str] = []
    for handler in (DynamoHandler, DynamoDBStreamsHandler):

        def both(self, action_result, direct=handler.serialized):  # type: ignore[no-untyped-def]
            theirs = BaseResponse.serialized(self, action_result)
            ours = direct(self, action_result)
            if ours[2] is not theirs[2]:
                assert (ours[0], json.loads(ours[2])) == (theirs[0], json.loads(theirs[2])), self._get_action()
                assert ours[1]["Content-Type"] == theirs[1]["Content-Type"]
                compared.append(self._get_action())
            return ours

        monkeypatch.setattr(handler, "serialized", both)
    return compared


ITEM = {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xffbin"}, "bs": {"BS": [b"a"]},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "l": {"L": [{"S": "x"}, {"M": {"q": {"NULL": True}}}]},
        "t": {"BOOL": False}, "u": {"S": "é\u2028<script>&\U0001f600"}}  # fmt: skip


def test_items_encoded_directly_are_what_motos_own_serializer_gives(stack, monkeypatch):
    """The emulator JSON-encodes DynamoDB item results itself (moto's shape-walking serializer was
    most of a call's cost): every response of every item operation, binary, sets, nesting,
    unicode, failed conditions and moto's own bookkeeping keys included, must equal moto's."""
    compared = _compare_with_motos_serializer(monkeypatch)
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    client.put_item(TableName=table, Item=ITEM, ReturnConsumedCapacity="TOTAL")
    client.put_item(TableName=table, Item=ITEM, ReturnValues="ALL_OLD")
    assert client.get_item(TableName=table, Key=key)["Item"]["b"] == {"B": b"\x00\xffbin"}
    client.get_item(TableName=table, Key={"pk": {"S": "none"}, "sk": {"S": "1"}}, ReturnConsumedCapacity="TOTAL")
    client.update_item(TableName=table, Key=key, UpdateExpression="SET n = n + :one",
                       ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW")  # fmt: skip
    with pytest.raises(ClientError):
        client.update_item(TableName=table, Key=key, UpdateExpression="SET n = :one", ConditionExpression="attribute_not_exists(pk)",
                           ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
    client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}, Limit=1)
    client.scan(TableName=table)
    client.batch_get_item(RequestItems={table: {"Keys": [key]}})
    client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": "c"}, "sk": {"S": "1"}}}}]})
    client.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "d"}, "sk": {"S": "1"}}}}])
    client.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}])
    client.delete_item(TableName=table, Key={"pk": {"S": "c"}, "sk": {"S": "1"}}, ReturnValues="ALL_OLD")
    assert {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
            "TransactWriteItems", "TransactGetItems"} <= set(compared)  # fmt: skip


def test_stream_records_encoded_directly_are_what_motos_own_serializer_gives(monkeypatch):
    """The same for DynamoDB stream records (times included), on the emulator's server, as the
    local stack's stream poller reads them (moto's in-process mode has no streams endpoint)."""
    from docjobs.local.stack import free_port
    from moto.server import ThreadedMotoServer

    compared = _compare_with_motos_serializer(monkeypatch)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        endpoint = "http://{}:{}".format(*server.get_host_and_port())
        options = {"region_name": "us-east-1", "endpoint_url": endpoint, "aws_access_key_id": "k", "aws_secret_access_key": "s"}
        client, streams = boto3.client("dynamodb", **options), boto3.client("dynamodbstreams", **options)
        client.create_table(TableName="streamed", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})  # fmt: skip
        client.put_item(TableName="streamed", Item=ITEM)
        client.update_item(TableName="streamed", Key={"pk": ITEM["pk"], "sk": ITEM["sk"]}, UpdateExpression="REMOVE b")
        stream_arn = client.describe_table(TableName="streamed")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
    finally:
        server.stop()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["OldImage"]["b"] == {"B": b"\x00\xffbin"} and "b" not in records[1]["dynamodb"]["NewImage"]
    assert records[0]["dynamodb"]["ApproximateCreationDateTime"].year >= 2024
    assert "GetRecords" in compared


def test_an_update_expression_parsed_once_still_updates_each_item_on_its_own(stack):
    """The emulator parses each distinct update expression once and hands every call a private
    tree: the same text used again, on new and existing items, gives each its own result, and a
    malformed expression is refused every time."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    expression = "SET n = if_not_exists(n, :zero) + :step, #h = list_append(if_not_exists(#h, :empty), :entry) REMOVE gone"
    for name, step in (("a", "1"), ("b", "5"), ("a", "2")):
        client.update_item(TableName=table, Key={"pk": {"S": name}, "sk": {"S": "x"}}, UpdateExpression=expression,
                           ExpressionAttributeNames={"#h": "history"},
                           ExpressionAttributeValues={":zero": {"N": "0"}, ":step": {"N": step}, ":empty": {"L": []},
                                                      ":entry": {"L": [{"S": f"{name}{step}"}]}})  # fmt: skip
    a = client.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "x"}})["Item"]
    b = client.get_item(TableName=table, Key={"pk": {"S": "b"}, "sk": {"S": "x"}})["Item"]
    assert a["n"] == {"N": "3"} and a["history"] == {"L": [{"S": "a1"}, {"S": "a2"}]}
    assert b["n"] == {"N": "5"} and b["history"] == {"L": [{"S": "b5"}]}
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            client.update_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "x"}}, UpdateExpression="SET n = = 1")
        assert raised.value.response["Error"]["Code"] == "ValidationException"


_SCALARS = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-1000, 1000)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=8)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda ss: {"SS": sorted(ss)}, st.sets(st.text(min_size=1, max_size=4), min_size=1, max_size=3)),
    st.builds(lambda ns: {"NS": [str(n) for n in sorted(ns)]}, st.sets(st.integers(0, 99), min_size=1, max_size=3)),
)
_ATTRIBUTES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
                            st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=5), inner, max_size=4))),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(_ATTRIBUTES)
def test_attributes_as_plain_json_are_what_motos_own_conversion_gives_and_share_nothing(attribute):
    """DynamoType.to_regular_json, built once instead of deep-copied at every level (stream
    images, transaction snapshots): the same JSON, and changing it never changes the item."""
    from docjobs.local.emulator import make_attribute_json_cheap
    from moto.dynamodb.models.dynamo_type import DynamoType

    make_attribute_json_cheap()
    value = DynamoType(attribute)
    ours = DynamoType.to_regular_json(value)
    assert ours == DynamoType.to_regular_json.__wrapped__(value)

    def scribble(node):  # change every container in our copy
        if isinstance(node, dict):
            for key in list(node):
                scribble(node[key])
            node["scribbled"] = True
        elif isinstance(node, list):
            for child in node:
                scribble(child)
            node.append("scribbled")

    scribble(ours)
    assert DynamoType.to_regular_json(value) == DynamoType.to_regular_json.__wrapped__(DynamoType(attribute))


def test_the_emulators_apps_are_not_in_debug_mode(stack):
    """Flask's debug mode built a class per request; out of it, the emulator still answers."""
    from moto.moto_server import threaded_moto_server, werkzeug_app

    assert werkzeug_app.create_backend_app("sqs").debug is False
    assert threaded_moto_server.create_backend_app is werkzeug_app.create_backend_app


@settings(max_examples=300, deadline=None)
@given(_ATTRIBUTES)
def test_an_attributes_size_is_what_motos_own_measure_gives(attribute):
    """The 400 KB item check measures without moto's copies: the same size for every kind of
    attribute, nested or not."""
    from docjobs.local.emulator import measure_item_size_cheaply
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    measure_item_size_cheaply()
    assert LimitedSizeDict.__setitem__.attribute_size(DynamoType(attribute)) == DynamoType(attribute).size()


def test_items_over_400_kb_are_still_refused_and_updates_never_copy_to_measure(stack, monkeypatch):
    from moto.dynamodb.models.dynamo_type import DynamoType

    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    key = {"pk": {"S": "big"}, "sk": {"S": "x"}}
    nested = {"M": {"history": {"L": [{"M": {"text": {"S": "x" * 100}, "n": {"N": str(i)}}} for i in range(50)]}}}
    measure = DynamoType.size

    def size(self):  # keys are still measured this way (cheap); a document never
        if self.type in ("M", "L"):
            pytest.fail("a document measured through DynamoType.size")
        return measure(self)

    monkeypatch.setattr(DynamoType, "size", size)
    client.put_item(TableName=table, Item={**key, "doc": nested, "text": {"S": "y" * 300_000}})
    client.update_item(TableName=table, Key=key, UpdateExpression="SET a = :v, b = :v, c = :v",
                       ExpressionAttributeValues={":v": nested})  # fmt: skip
    for write in (
        lambda: client.put_item(TableName=table, Item={**key, "text": {"S": "y" * 410_000}}),
        lambda: client.update_item(TableName=table, Key=key, UpdateExpression="SET more = :v",
                                   ExpressionAttributeValues={":v": {"S": "z" * 110_000}}),
    ):  # fmt: skip
        with pytest.raises(ClientError) as raised:
            write()
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert "maximum allowed size" in raised.value.response["Error"]["Message"]
    assert "more" not in client.get_item(TableName=table, Key=key)["Item"]


@pytest.mark.parametrize(("expression", "values", "message"), [
    ("SET a = :v, a = :w", (":v", ":w"), "Two document paths overlap with each other; must remove or rewrite one of "
                                         "these paths; path one: [a], path two: [a]"),
    ("SET a.b = :v, a = :w", (":v", ":w"), "path one: [a, b], path two: [a]"),
    ("SET a = :v REMOVE a", (":v",), "path one: [a], path two: [a]"),
    ("SET a = :v, b = :w REMOVE c, c", (":v", ":w"), "path one: [c], path two: [c]"),
    ("SET a = :v SET b = :w", (":v", ":w"), 'The "SET" section can only be used once in an update expression'),
    ("ADD n :one ADD m :one", (":one",), 'The "ADD" section can only be used once in an update expression'),
])  # fmt: skip
def test_an_update_the_checks_refuse_is_refused_as_moto_refuses_it(stack, expression, values, message):
    """Errors are moto's own, word for word (recorded from moto without the emulator's fixes)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    given_values = {":v": {"S": "1"}, ":w": {"S": "2"}, ":one": {"N": "1"}}
    with pytest.raises(ClientError) as raised:
        client.update_item(TableName=table, Key={"pk": {"S": "u"}, "sk": {"S": "x"}}, UpdateExpression=expression,
                           ExpressionAttributeValues={v: given_values[v] for v in values})  # fmt: skip
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert message in raised.value.response["Error"]["Message"]
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "u"}, "sk": {"S": "x"}})


def test_a_valid_update_is_checked_once_from_its_root(stack, monkeypatch):
    """The clause and path checks run once per validation, not at each of its clause nodes."""
    from moto.dynamodb.parsing import validators

    calls: list[str] = []
    validate = validators.Validator.validate
    monkeypatch.setattr(validators.Validator, "validate", lambda self: calls.append("validate") or validate(self))
    for check, method in ((validators.ActionCountValidator, "verify_action_counts"),
                          (validators.OverlappingPathsValidator, "check_for_overlapping_paths")):  # fmt: skip
        original = getattr(check, method)
        monkeypatch.setattr(check, method, lambda self, node, __o=original, __m=method: calls.append(__m) or __o(self, node))
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    client.update_item(TableName=table, Key={"pk": {"S": "v"}, "sk": {"S": "x"}},
                       UpdateExpression="SET a = :v, b = :v, c = :v, d = :v, e = :v REMOVE f, g ADD n :one",
                       ExpressionAttributeValues={":v": {"S": "1"}, ":one": {"N": "1"}})  # fmt: skip
    assert calls.count("validate") >= 1
    assert calls.count("verify_action_counts") == calls.count("check_for_overlapping_paths") == calls.count("validate")
    item = client.get_item(TableName=table, Key={"pk": {"S": "v"}, "sk": {"S": "x"}})["Item"]
    assert item["e"] == {"S": "1"} and item["n"] == {"N": "1"}


def test_a_dynamodb_response_is_made_while_no_other_request_can_change_its_item(stack, monkeypatch):
    """The response is made from the stored item itself: another thread's update, changing the
    item as it was read, failed a job ("dictionary changed size during iteration")."""
    from docjobs.local import emulator
    from moto.dynamodb.models.dynamo_type import Item

    client = boto3.client("dynamodb", region_name="us-east-1")
    table = stack.environment["ACCOUNTS_TABLE"]
    key = {"pk": {"S": "a"}, "sk": {"S": "x"}}
    client.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    held = []
    to_json = Item.to_json

    def watched(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        held.append(emulator._LOCK._is_owned())
        return to_json(self, *args, **kwargs)

    monkeypatch.setattr(Item, "to_json", watched)
    client.update_item(TableName=table, Key=key, UpdateExpression="SET m = :two", ExpressionAttributeValues={":two": {"N": "2"}},
                       ReturnValues="ALL_NEW")  # fmt: skip
    client.get_item(TableName=table, Key=key)
    assert held and all(held)
