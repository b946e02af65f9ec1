"""On the local stack (`make run`'s, in a subprocess): how long a small chat job takes from submit to
completed, p50 and p95 over sequential jobs polled every 10 ms, and how long 500 jobs submitted at
once take to drain. Goals: p50 under 300 ms; 500 jobs within 60 s."""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import requests

KEY = "sk_bench_latency_key_00000000001"
ROOT = Path(__file__).resolve().parent.parent
DOC = "<h1>Agreement</h1><p>Acme Corp sells widgets to Globex.</p><p>Payment is due within 30 days.</p>"
SEQUENTIAL = 30
AT_ONCE = 500


def run() -> dict[str, Any]:
    from docjobs.local.process import LocalStackProcess

    log = Path(tempfile.mkdtemp()) / "stack.log"
    env = {"DOCJOBS_LOCAL_WORKERS": "8", "DOCJOBS_TIER": "enterprise"}
    with LocalStackProcess(root=ROOT, keys=[KEY], log_path=log, extra_env=env) as stack:
        base, headers = stack.base_url, {"Authorization": f"Bearer {KEY}"}
        session = requests.Session()

        def submit(i: int) -> str:
            body = {"message": 'Replace "Acme Corp" with "Initech"', "session_id": f"lat-{i}", "document_html": DOC}
            return session.post(f"{base}/v1/chat/async", headers=headers, json=body, timeout=30).json()["job_id"]

        def status(job_id: str, s: requests.Session = session) -> str:
            return s.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=30).json()["status"]

        submit(-1)  # warm the stack up: the first job pays for imports
        time.sleep(1)
        latencies = []
        for i in range(SEQUENTIAL):
            started = time.perf_counter()
            job_id = submit(i)
            while status(job_id) not in ("completed", "failed"):
                time.sleep(0.01)
            latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            ids = list(pool.map(submit, range(1000, 1000 + AT_ONCE)))
        submitted = time.perf_counter() - started
        pending = set(ids)
        checker = requests.Session()
        while pending and time.perf_counter() - started < 600:
            done = {j for j in list(pending)[:100] if status(j, checker) in ("completed", "failed")}
            pending -= done
            if not done:
                time.sleep(0.2)
        drained = time.perf_counter() - started
    return {"chat_job_ms": {"p50": round(statistics.median(latencies), 1), "p95": round(float(np.percentile(latencies, 95)), 1)},
            "jobs_at_once": AT_ONCE, "submit_s": round(submitted, 1), "drained_s": round(drained, 1), "left": len(pending)}  # fmt: skip


def report(r: dict[str, Any]) -> None:
    print("\n| local stack | measured | goal |")
    print("|---|---|---|")
    print(f"| small chat job, submit to completed, p50 / p95 ({SEQUENTIAL} jobs, polled every 10 ms) | "
          f"{r['chat_job_ms']['p50']} / {r['chat_job_ms']['p95']} ms | p50 under 300 ms |")  # fmt: skip
    print(f"| {r['jobs_at_once']} chat jobs submitted at once (16 clients): submitted / all completed | "
          f"{r['submit_s']} s / {r['drained_s']} s ({r['left']} left) | within 60 s |")  # fmt: skip


if __name__ == "__main__":
    report(run())
