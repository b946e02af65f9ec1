"""batch_parse on the local stack: wall time from submission to the roll-up for 10, 100 and 1,000
children, and what one progress poll costs in DynamoDB calls (it must not grow with the batch)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

KEY = "sk_bench_batches_key_00000000001"
ROOT = Path(__file__).resolve().parent.parent


def tiny_pdf(i: int) -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, 720, f"Document {i}")
    c.setFont("Helvetica", 10)
    c.drawString(72, 700, f"Body of document number {i}.")
    c.showPage()
    c.save()
    return buffer.getvalue()


def poll_cost(stack: Any, job_id: str) -> dict[str, int]:
    """DynamoDB calls one progress poll makes: the API's own code, wired to the running emulator."""
    from docjobs.bootstrap import build_container
    from docjobs.config import Settings
    from docjobs.domain.jobs import Owner
    from docjobs.services.auth import Principal
    from docjobs.services.operations import get_project_job

    state = stack.state()
    env = state["environment"]
    aws = {"AWS_ENDPOINT_URL": state["endpoint_url"], "AWS_ACCESS_KEY_ID": "docjobs-local",
           "AWS_SECRET_ACCESS_KEY": "docjobs-local", "AWS_DEFAULT_REGION": state["region"]}  # fmt: skip
    saved = {name: os.environ.get(name) for name in aws}
    os.environ.update(aws)
    try:  # the container's clients are made now, on the emulator's endpoint; later benchmarks' must not be
        c = build_container(Settings(jobs_table=env["JOBS_TABLE"], accounts_table=env["ACCOUNTS_TABLE"],
                                     work_queue_url=env["WORK_QUEUE_URL"], documents_bucket=env["DOCUMENTS_BUCKET"]))  # fmt: skip
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    calls: dict[str, int] = {}
    client = c.jobs.client
    original = client._make_api_call

    def counting(operation: str, params: dict) -> Any:
        calls[operation] = calls.get(operation, 0) + 1
        return original(operation, params)

    client._make_api_call = counting
    get_project_job(c, Principal(Owner("org", "org-local-1"), "free", ""), "bench", job_id)
    return calls


def run(sizes: tuple[int, ...] = (10, 100, 1000), concurrency: int = 40) -> list[dict[str, Any]]:
    from docjobs.local.process import LocalStackProcess

    rows = []
    log = Path(tempfile.mkdtemp()) / "stack.log"
    # An enterprise key: uploading a thousand files at once is more than a free key's rate limit.
    env = {"DOCJOBS_LOCAL_WORKERS": "8", "DOCJOBS_TIER": "enterprise"}
    with LocalStackProcess(root=ROOT, keys=[KEY], log_path=log, extra_env=env) as stack:
        base = f"{stack.base_url}/v1/projects/bench"
        headers = {"x-api-key": KEY, "x-selected-account-id": "org-local-1"}
        uploaded: list[str] = []
        session = requests.Session()
        for size in sizes:
            while len(uploaded) < size:
                i = len(uploaded)
                uploaded.append(session.post(f"{base}/files", headers=headers,
                                             files={"file": (f"d{i}.pdf", tiny_pdf(i), "application/pdf")}).json()["id"])  # fmt: skip
            started = time.perf_counter()
            job = session.post(f"{base}/jobs", headers=headers, json={"operation": "batch_parse", "source_ids": uploaded[:size],
                                                                      "options": {"max_concurrency": concurrency}}).json()  # fmt: skip
            submitted = time.perf_counter() - started
            polls = 0
            while (status := session.get(f"{base}/jobs/{job['id']}", headers=headers).json())["status"] in ("pending", "running"):
                polls += 1
                time.sleep(0.25)
            wall = time.perf_counter() - started
            cost = poll_cost(stack, job["id"])
            rows.append({"children": size, "status": status["status"], "submit_s": round(submitted, 2),
                         "wall_s": round(wall, 1), "children_per_s": round(size / wall, 1), "polls": polls,
                         "dynamodb_calls_per_poll": cost})  # fmt: skip
    return rows
