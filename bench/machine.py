"""This machine's speed, for reading absolute figures."""

from __future__ import annotations

import statistics
import time


def machine_speed_ms() -> float:
    """A fixed pure-Python loop, median of 3, in ms: this machine's speed drifts (the same loop has
    taken 190 and 330 ms minutes apart), and absolute figures (HTML ms, local-stack seconds) drift
    with it. Printed at the start, before batch_parse, before the local stack's latency and at the end."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        sum(i * i for i in range(3_000_000))
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)
