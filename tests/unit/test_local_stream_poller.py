"""The local stack's DynamoDB stream poller lists the stream's shards now and then, not before every
read: each listing is a call to the emulator, which sets the local stack's pace."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from docjobs.local import runtime
from docjobs.local.provision import LocalFunction, StreamSource


class FakeStreams:
    """A stream whose shards can grow, counting the calls made to it."""

    def __init__(self) -> None:
        self.shards = ["shard-1"]
        self.calls: dict[str, int] = {}
        self.records = {"shard-1": [{"eventID": "1", "eventName": "INSERT", "dynamodb": {"SequenceNumber": "1"}}]}

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def describe_stream(self, StreamArn: str) -> dict:
        self._count("describe_stream")
        return {"StreamDescription": {"Shards": [{"ShardId": s} for s in self.shards]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, **_: object) -> dict:
        self._count("get_shard_iterator")
        return {"ShardIterator": ShardId}

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        self._count("get_records")
        records, self.records[ShardIterator] = self.records.get(ShardIterator, []), []
        return {"Records": records, "NextShardIterator": ShardIterator}


def poll_for(seconds: float, streams: FakeStreams, monkeypatch, delivered: list, meanwhile=lambda: None) -> None:
    monkeypatch.setattr(runtime, "load_handler", lambda function: lambda event, context: delivered.extend(event["Records"]))
    function = LocalFunction("EventsFunction", Path("."), "app.handler", 30, {})
    source = StreamSource("arn:aws:dynamodb:stream", 100, True, "TRIM_HORIZON")
    stop = threading.Event()
    poller = runtime.StreamPoller(function, source, streams, stop)
    poller.start()
    time.sleep(seconds / 2)
    meanwhile()
    time.sleep(seconds / 2)
    stop.set()
    poller.join(timeout=5)


def test_shards_are_listed_once_while_the_poller_reads_them_again_and_again(monkeypatch):
    streams, delivered = FakeStreams(), []
    poll_for(1.0, streams, monkeypatch, delivered)
    assert [r["eventID"] for r in delivered] == ["1"]
    assert streams.calls["describe_stream"] == 1 and streams.calls["get_records"] >= 3


def test_a_new_shard_is_read_after_the_next_listing(monkeypatch):
    monkeypatch.setattr(runtime, "SHARD_LISTING_SECONDS", 0.3)
    streams, delivered = FakeStreams(), []

    def split_the_shard() -> None:  # as DynamoDB does every few hours
        streams.records["shard-2"] = [{"eventID": "2", "eventName": "INSERT", "dynamodb": {"SequenceNumber": "2"}}]
        streams.shards.append("shard-2")

    poll_for(1.6, streams, monkeypatch, delivered, meanwhile=split_the_shard)
    assert [r["eventID"] for r in delivered] == ["1", "2"]
    assert 2 <= streams.calls["describe_stream"] <= 8
