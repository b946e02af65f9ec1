"""What Lambda would do locally: load a function's handler, give it a context, and feed it from
its SQS event sources in Lambda's event shape, honouring batch size and partial batch failures."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from docjobs.local.provision import ACCOUNT, REGION, LocalFunction, SqsSource, StreamSource
from docjobs.observability import logger

SHARD_LISTING_SECONDS = 10.0


def load_function_module(function: LocalFunction) -> ModuleType:
    module_file, _, _ = function.handler.rpartition(".")
    path = Path(function.code_dir) / f"{module_file.replace('.', '/')}.py"
    name = f"docjobs_local_{function.logical_id}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_handler(function: LocalFunction) -> Any:
    return getattr(load_function_module(function), function.handler.rpartition(".")[2])


@dataclass
class LambdaContext:
    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


class StreamPoller(threading.Thread):
    """Feeds a DynamoDB stream to a function as Lambda's event source mapping would: records in
    order per shard, in batches; on a partial failure, the shard resumes at the failed record."""

    def __init__(self, function: LocalFunction, source: StreamSource, streams: Any, stop: threading.Event) -> None:
        super().__init__(name=f"{function.logical_id}-stream", daemon=True)
        self.function, self.source, self.streams, self.stop_event = function, source, streams, stop
        self.handler = load_handler(function)

    def run(self) -> None:
        iterators: dict[str, str] = {}
        shards: list[dict[str, Any]] = []
        listed_at = float("-inf")
        while not self.stop_event.is_set():
            try:
                # Shards change rarely (DynamoDB rolls them over every few hours): list them now and
                # then, not before every read (a call to the emulator, 5 times a second when idle).
                if not shards or time.monotonic() - listed_at > SHARD_LISTING_SECONDS:
                    shards = self.streams.describe_stream(StreamArn=self.source.stream_arn)["StreamDescription"]["Shards"]
                    listed_at = time.monotonic()
                busy = False
                for shard in shards:
                    shard_id = shard["ShardId"]
                    if shard_id not in iterators:
                        iterators[shard_id] = self.streams.get_shard_iterator(
                            StreamArn=self.source.stream_arn, ShardId=shard_id,
                            ShardIteratorType=self.source.starting_position,
                        )["ShardIterator"]  # fmt: skip
                    busy |= self._poll_shard(shard_id, iterators)
                if not busy:
                    self.stop_event.wait(0.2)
            except Exception:
                if self.stop_event.is_set():
                    return
                logger.exception("local stream poller error", extra={"function": self.function.logical_id})
                self.stop_event.wait(1.0)

    def _poll_shard(self, shard_id: str, iterators: dict[str, str]) -> bool:
        page = self.streams.get_records(ShardIterator=iterators[shard_id], Limit=self.source.batch_size)
        records = page.get("Records", [])
        if not records:
            iterators[shard_id] = page.get("NextShardIterator") or iterators[shard_id]
            return False
        event = {"Records": [self._lambda_record(r) for r in records]}
        try:
            result = self.handler(event, LambdaContext(self.function.logical_id, self.function.timeout)) or {}
            failed = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
        except Exception:
            logger.exception("stream handler failed; the batch is retried", extra={"function": self.function.logical_id})
            failed = [records[0]["dynamodb"]["SequenceNumber"]]
        if failed:  # retry from the first failed record, keeping the shard's order
            iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=self.source.stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=min(failed, key=int),
            )["ShardIterator"]  # fmt: skip
            self.stop_event.wait(0.5)
        else:
            iterators[shard_id] = page["NextShardIterator"]
        return True

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if hasattr(created, "timestamp"):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        return {"eventID": record.get("eventID"), "eventName": record.get("eventName"), "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": dynamodb,
                "eventSourceARN": self.source.stream_arn}  # fmt: skip


class ScheduleRunner(threading.Thread):
    """Invokes a function every `every` seconds with a scheduled event, as EventBridge would."""

    def __init__(self, function: LocalFunction, every: int, stop: threading.Event) -> None:
        super().__init__(name=f"{function.logical_id}-schedule", daemon=True)
        self.function, self.every, self.stop_event = function, every, stop
        self.handler = load_handler(function)

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                     "account": ACCOUNT, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": REGION,
                     "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{self.function.logical_id}"], "detail": {}}  # fmt: skip
            try:
                self.handler(event, LambdaContext(self.function.logical_id, self.function.timeout))
            except Exception:
                logger.exception("scheduled invocation failed", extra={"function": self.function.logical_id})


class SqsPoller(threading.Thread):
    """One poller of one SQS event source; several run per source for concurrency."""

    def __init__(self, function: LocalFunction, source: SqsSource, sqs: Any, stop: threading.Event, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.function = function
        self.source = source
        self.sqs = sqs
        self.stop_event = stop
        self.handler = load_handler(function)
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # the emulator going away at shutdown, or a handler crash
                if self.stop_event.is_set():
                    return
                logger.exception("local SQS poller error", extra={"function": self.function.logical_id})
                time.sleep(0.5)

    def poll_once(self, wait_seconds: int = 0) -> int:
        response = self.sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        context = LambdaContext(self.function.logical_id, self.function.timeout)
        try:
            result = self.handler(sqs_event(messages, self.queue_arn), context) or {}
        except Exception:
            # Like Lambda: a failed invocation returns the whole batch to the queue.
            logger.exception("handler failed; batch returns to the queue", extra={"function": self.function.logical_id})
            return len(messages)
        failed = set()
        if self.source.report_batch_item_failures:
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)
