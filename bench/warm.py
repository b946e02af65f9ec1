"""Warm overhead per API request: the real Lambda handler (API Gateway event in, response out:
authentication, rate limiting and the job view, by the poll fast path, and again through Mangum
and FastAPI) with its storage answered in memory, against the lean peer, a bare Powertools `APIGatewayRestResolver` route that looks the
same job up in a dict and returns it as JSON. Median microseconds per request over many requests.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 2000
ROUNDS = 5


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 1024, "r1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30000


def per_request_us(call: Any) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(REQUESTS):
            call()
        rounds.append((time.perf_counter() - started) / REQUESTS * 1e6)
    return statistics.median(rounds)


def run() -> dict[str, Any]:
    import importlib.util
    import logging
    import os

    from docjobs.api import deps
    from docjobs.domain.jobs import Owner
    from docjobs.observability import logger
    from docjobs.services.auth import Principal, create_api_key
    from docjobs.services.chat import ChatRequest, submit_chat

    from bench.costs import environment

    mock, c = environment()
    try:
        for name in ("JOBS_TABLE", "ACCOUNTS_TABLE", "WORK_QUEUE_URL", "DOCUMENTS_BUCKET"):
            os.environ.setdefault(name, "bench")
        key, record = create_api_key(c, Owner("org", "warm"), tier="enterprise")
        principal = Principal(owner=record.owner, tier="enterprise", key_prefix=record.prefix)
        job = submit_chat(c, principal, ChatRequest(message="Summarize", session_id="s", document_html="<p>Hi.</p>"),
                          route="chat_async").job  # fmt: skip
        stored = c.jobs.get(job.job_id)
        c.jobs.get = lambda job_id, consistent=False: stored if job_id == stored.job_id else None  # storage in memory

        spec = importlib.util.spec_from_file_location("bench_api_app", ROOT / "functions/api/app.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        deps.get_container = module.get_container = lambda: c  # (dependency_overrides would make FastAPI analyse it per request)
        logger.setLevel(logging.WARNING)
        event = json.loads((ROOT / "events/api__get_job.json").read_text())
        event.update(path=f"/v1/jobs/{job.job_id}", pathParameters={"proxy": f"v1/jobs/{job.job_id}"})
        event["headers"] = {**(event.get("headers") or {}), "Authorization": f"Bearer {key}"}
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        first = module.handler(event, Context())  # the key is resolved once, then cached
        assert first["statusCode"] == 200, first
        ours = per_request_us(lambda: module.handler(event, Context()))
        through_fastapi = per_request_us(lambda: module.mangum()(event, Context()))

        from aws_lambda_powertools.event_handler import APIGatewayRestResolver

        jobs = {stored.job_id: {"job_id": stored.job_id, "status": stored.status.value, "created_at": stored.created_at}}
        peer = APIGatewayRestResolver()

        @peer.get("/v1/jobs/<job_id>")
        def get_job(job_id: str) -> dict[str, Any]:
            return jobs[job_id]

        assert peer.resolve(event, Context())["statusCode"] == 200
        baseline = per_request_us(lambda: peer.resolve(event, Context()))
        return {"docjobs_us": round(ours, 1), "powertools_resolver_us": round(baseline, 1), "ratio": round(ours / baseline, 2),
                "through_fastapi_us": round(through_fastapi, 1), "through_fastapi_ratio": round(through_fastapi / baseline, 2)}
    finally:
        mock.stop()


def report(r: dict[str, Any]) -> None:
    print("\n| warm request, GET /v1/jobs/{id} through the Lambda handler | docjobs | bare Powertools resolver | ratio |")
    print("|---|---|---|---|")
    print(f"| µs per poll (median of {ROUNDS} x {REQUESTS}) | {r['docjobs_us']} | {r['powertools_resolver_us']} | {r['ratio']}x |")
    print(f"| the same poll through Mangum and FastAPI (every other route's path) | {r['through_fastapi_us']} | "
          f"{r['powertools_resolver_us']} | {r['through_fastapi_ratio']}x |")


if __name__ == "__main__":
    report(run())
