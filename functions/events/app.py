"""Events function: the jobs table's stream -> each change becomes an event in the job's log and,
for status changes, "Job Status Changed" on the docjobs EventBridge bus. Partial batch responses:
a failed record is retried (the rest of the shard waits behind it, keeping each job's order)."""

from __future__ import annotations

import functools

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from docjobs.adapters.dynamo import from_item
from docjobs.bootstrap import get_container
from docjobs.observability import logger, metrics
from docjobs.services.events import record_change
from docjobs.services.webhooks import EndpointsOfBatch

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def record_handler(record: DynamoDBRecord, endpoints: EndpointsOfBatch) -> None:
    images = record.raw_event.get("dynamodb", {})
    old = from_item(images["OldImage"]) if images.get("OldImage") else None
    new = from_item(images["NewImage"]) if images.get("NewImage") else None
    event = record_change(get_container(), old, new, endpoints)
    if event:
        logger.debug("job event", extra={"job_id": event["job_id"], "seq": event["seq"], "type": event["type"]})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    # Webhook endpoints are read once per owner for the whole batch, not once per record.
    handle = functools.partial(record_handler, endpoints=EndpointsOfBatch(get_container()))
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
