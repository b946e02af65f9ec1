"""Load on the local stack: 50 concurrent pollers for 60 s (DOCJOBS_LOAD_SECONDS to change it).
Holds: every response is a 200 or a 429 (the key's rate limit), never an error; prints the p50
and p99 latency and the request rate."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import numpy as np
import requests

from tests.e2e.test_local_stack import poll

POLLERS = 50
SECONDS = float(os.environ.get("DOCJOBS_LOAD_SECONDS", "60"))


def test_fifty_pollers_for_a_minute_get_answers_or_429s_never_errors(local_stack):
    base, headers = local_stack.base_url, local_stack.headers(2)
    job_id = requests.post(f"{base}/v1/chat/async", headers=headers, json={"message": "summarize the document",
                           "session_id": "load", "document_html": "<p>Load test. Two sentences.</p>"}, timeout=10).json()["job_id"]  # fmt: skip
    poll(local_stack, job_id, key=2)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def poller():
        session = requests.Session()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                response = session.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=30)
            except requests.RequestException as error:
                with lock:
                    errors.append(repr(error))
                continue
            with lock:
                statuses[response.status_code] += 1
                latencies.append((time.perf_counter() - started) * 1000)  # the request alone, not the wait below
            if response.status_code == 429:
                time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0))

    threads = [threading.Thread(target=poller) for _ in range(POLLERS)]
    started = time.monotonic()
    [t.start() for t in threads]
    [t.join() for t in threads]
    elapsed = time.monotonic() - started
    total = sum(statuses.values())
    print(f"\nload: {POLLERS} pollers for {elapsed:.0f} s: {total} requests ({total / elapsed:.0f}/s), statuses {dict(statuses)}, "
          f"p50 {np.percentile(latencies, 50):.0f} ms, p99 {np.percentile(latencies, 99):.0f} ms, {len(errors)} errors")  # fmt: skip
    assert errors == [] and set(statuses) <= {200, 429} and statuses[200] > 0
