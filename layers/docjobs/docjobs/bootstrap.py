"""The one place dependencies are wired. Built once per process (warm Lambda starts reuse it);
tests build their own Container around the emulator or fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from docjobs.adapters.accounts_table import DynamoAccountsRepository
from docjobs.adapters.blobs import S3BlobStore
from docjobs.adapters.events_table import DynamoJobEventLog, EventBridgeBus, SesMailer
from docjobs.adapters.indexes_table import DynamoIndexRepository
from docjobs.adapters.jobs_table import DynamoJobRepository
from docjobs.adapters.lazy import LazyClient
from docjobs.adapters.queue import SqsQueue
from docjobs.adapters.sources_table import DynamoSourceRepository
from docjobs.adapters.webhook_http import WebhookSender
from docjobs.adapters.webhooks_table import DynamoWebhookRepository
from docjobs.adapters.workflow import StepFunctionsWorkflow
from docjobs.config import Settings, get_settings
from docjobs.domain import clock


@dataclass
class Container:
    settings: Settings
    jobs: DynamoJobRepository
    accounts: DynamoAccountsRepository
    blobs: S3BlobStore
    queue: SqsQueue
    index_queue: SqsQueue
    sources: DynamoSourceRepository
    indexes: DynamoIndexRepository
    workflow: StepFunctionsWorkflow
    events: DynamoJobEventLog
    bus: EventBridgeBus
    mailer: SesMailer
    webhooks: DynamoWebhookRepository
    webhook_queue: SqsQueue
    webhook_dead_letters: SqsQueue
    webhook_sender: WebhookSender
    clock: Callable[[], float] = field(default=clock.now)

    def now(self) -> float:
        return self.clock()


def build_container(settings: Settings, *, session: object | None = None, clock_fn: Callable[[], float] | None = None) -> Container:
    import boto3
    from botocore.config import Config

    boto_session = session or boto3.session.Session(region_name=settings.region)
    config = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3, read_timeout=10)
    dynamodb = boto_session.client("dynamodb", config=config)  # type: ignore[attr-defined]
    # Made on first use: a poll needs only DynamoDB (see adapters/lazy.py).
    s3 = LazyClient(lambda: boto_session.client("s3", config=config))  # type: ignore[attr-defined]
    sqs = LazyClient(lambda: boto_session.client("sqs", config=config))  # type: ignore[attr-defined]
    blobs = S3BlobStore(settings.documents_bucket, s3)
    return Container(
        settings=settings,
        jobs=DynamoJobRepository(settings.jobs_table, dynamodb, blobs),
        accounts=DynamoAccountsRepository(settings.accounts_table, dynamodb),
        blobs=blobs,
        queue=SqsQueue(settings.work_queue_url, sqs),
        index_queue=SqsQueue(settings.index_queue_url or settings.work_queue_url, sqs),
        sources=DynamoSourceRepository(settings.jobs_table, dynamodb),
        indexes=DynamoIndexRepository(settings.jobs_table, dynamodb),
        workflow=StepFunctionsWorkflow(
            settings.batch_state_machine_arn,
            LazyClient(lambda: boto_session.client("stepfunctions", config=config)),  # type: ignore[attr-defined]
        ),
        events=DynamoJobEventLog(settings.job_events_table, dynamodb),
        bus=EventBridgeBus(settings.event_bus_name, LazyClient(lambda: boto_session.client("events", config=config))),  # type: ignore[attr-defined]
        mailer=SesMailer(settings.notify_from_address, LazyClient(lambda: boto_session.client("ses", config=config))),  # type: ignore[attr-defined]
        webhooks=DynamoWebhookRepository(settings.accounts_table, dynamodb),
        webhook_queue=SqsQueue(settings.webhook_queue_url, sqs),
        webhook_dead_letters=SqsQueue(settings.webhook_dead_letter_queue_url, sqs),
        webhook_sender=WebhookSender(allow_loopback=settings.webhook_allow_loopback, timeout=settings.webhook_timeout_seconds),
        clock=clock_fn or clock.now,
    )


@lru_cache(maxsize=1)
def get_container() -> Container:
    return build_container(get_settings())
