"""Worker function: SQS work queue -> run each job. Partial batch responses: only the messages
that failed go back to the queue (and, after maxReceiveCount, to the dead-letter queue)."""

from __future__ import annotations

import json
import os

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from docjobs.bootstrap import get_container
from docjobs.observability import logger, metrics
from docjobs.services.worker import PoisonMessageError, handle_message

# Report every failed record (even a whole batch) in batchItemFailures rather than raising.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# Must match the work queue's RedrivePolicy maxReceiveCount (template.yaml sets both).
MAX_RECEIVES = int(os.environ.get("WORK_QUEUE_MAX_RECEIVES", "5"))


def record_handler(record: SQSRecord) -> None:
    try:
        message = json.loads(record.body)
    except ValueError as error:
        raise PoisonMessageError(f"not a docjobs work message: {record.body[:200]!r}") from error
    if isinstance(message, dict):
        logger.set_correlation_id(message.get("correlation_id"))  # the request that created the job
        # Thread-local keys: the local stack runs several workers (and the API) in one process.
        logger.thread_safe_append_keys(job_id=message.get("job_id"), action=message.get("action", "run"))
    receive_count = int(record.raw_event.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    handle_message(get_container(), message, receive_count=receive_count, max_receives=MAX_RECEIVES)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
