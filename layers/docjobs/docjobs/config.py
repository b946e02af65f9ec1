"""Settings, read once from the environment (the template sets these on every function)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from docjobs.domain.ratelimit import DEFAULT_RATE_LIMITS, RateLimit

# Monthly billable-request limits per subscription tier (None: unlimited).
DEFAULT_TIER_LIMITS: dict[str, int | None] = {"free": 500, "pro": 10_000, "enterprise": None}


@dataclass(frozen=True)
class Settings:
    jobs_table: str
    accounts_table: str
    work_queue_url: str
    documents_bucket: str
    batch_state_machine_arn: str = ""
    # Index operations (create_index, update_index, vector_store, research) have their own queue
    # and function: an index build may run for minutes, a chat job's retry must not wait that long.
    index_queue_url: str = ""
    job_events_table: str = ""
    notify_from_address: str = ""
    event_bus_name: str = ""
    batch_max_concurrency: int = 10
    region: str = "us-east-1"
    chat_engine: str = "offline"
    # Index embeddings: "offline" (WordLlama, in the wheel) or "bedrock:<model id>:<dimensions>".
    embeddings: str = "offline"
    tier_limits: dict[str, int | None] = field(default_factory=lambda: dict(DEFAULT_TIER_LIMITS))
    # Requests per rolling window per API key, by tier (DOCJOBS_RATE_LIMITS='{"free": [200, 10]}').
    rate_limits: dict[str, RateLimit | None] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # POST /v1/chat waits this long before handing the job to the queue (API Gateway stops at 29 s).
    sync_timeout_seconds: float = 25.0
    # How long a resolved API key is cached in memory: a revoked key stops working within this.
    key_cache_seconds: float = 60.0
    # Largest accepted document_html, in bytes of UTF-8.
    max_document_bytes: int = 5 * 1024 * 1024
    # The sweeper: how long a job may sit in pending / in_progress without any activity before it
    # is re-queued (at most sweep_max_requeues times) and then failed.
    sweep_pending_seconds: int = 900
    sweep_running_seconds: int = 1800
    sweep_max_requeues: int = 2
    # Webhooks: the queue that feeds the sender and where deliveries go once their retries run out.
    webhook_queue_url: str = ""
    webhook_dead_letter_queue_url: str = ""
    # Loopback targets are refused, except by the local stack (make run), for development.
    webhook_allow_loopback: bool = False
    # The longest SQS delay of a retry (SQS allows 900 s; longer waits hop through the queue).
    webhook_max_delay_seconds: int = 900
    webhook_timeout_seconds: float = 10.0
    # Largest accepted request body (API Gateway's own limit is 10 MB, Lambda's payload 6 MB).
    max_request_bytes: int = 6 * 1024 * 1024


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    limits = dict(DEFAULT_TIER_LIMITS)
    if raw := os.environ.get("DOCJOBS_TIER_LIMITS"):
        limits.update(json.loads(raw))
    rate_limits = dict(DEFAULT_RATE_LIMITS)
    if raw := os.environ.get("DOCJOBS_RATE_LIMITS"):
        rate_limits.update({tier: RateLimit(int(v[0]), float(v[1])) if v else None for tier, v in json.loads(raw).items()})
    return Settings(
        jobs_table=_env("JOBS_TABLE"),
        accounts_table=_env("ACCOUNTS_TABLE"),
        work_queue_url=_env("WORK_QUEUE_URL"),
        documents_bucket=_env("DOCUMENTS_BUCKET"),
        batch_state_machine_arn=os.environ.get("BATCH_STATE_MACHINE_ARN", ""),
        index_queue_url=os.environ.get("INDEX_QUEUE_URL", ""),
        job_events_table=os.environ.get("JOB_EVENTS_TABLE", ""),
        notify_from_address=os.environ.get("NOTIFY_FROM_ADDRESS", ""),
        event_bus_name=os.environ.get("EVENT_BUS_NAME", ""),
        batch_max_concurrency=int(os.environ.get("BATCH_MAX_CONCURRENCY", "10")),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        chat_engine=os.environ.get("CHAT_ENGINE", "offline"),
        embeddings=os.environ.get("EMBEDDINGS", "offline"),
        tier_limits=limits,
        rate_limits=rate_limits,
        sync_timeout_seconds=float(os.environ.get("SYNC_TIMEOUT_SECONDS", "25")),
        key_cache_seconds=float(os.environ.get("KEY_CACHE_SECONDS", "60")),
        max_document_bytes=int(os.environ.get("MAX_DOCUMENT_BYTES", str(5 * 1024 * 1024))),
        sweep_pending_seconds=int(os.environ.get("SWEEP_PENDING_SECONDS", "900")),
        sweep_running_seconds=int(os.environ.get("SWEEP_RUNNING_SECONDS", "1800")),
        sweep_max_requeues=int(os.environ.get("SWEEP_MAX_REQUEUES", "2")),
        webhook_queue_url=os.environ.get("WEBHOOK_QUEUE_URL", ""),
        webhook_dead_letter_queue_url=os.environ.get("WEBHOOK_DEAD_LETTER_QUEUE_URL", ""),
        webhook_allow_loopback=os.environ.get("WEBHOOK_ALLOW_LOOPBACK", "").lower() in ("1", "true", "yes"),
        webhook_timeout_seconds=float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
    )
