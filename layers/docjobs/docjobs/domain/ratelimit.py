"""Request rate limits per API key, on a rolling window. No I/O here.

Each process keeps an exact log of a key's recent requests; requests the key made through other
processes (other Lambda containers) come in as a count (`others`, see services/ratelimit.py). A
refused request is not counted, so once the window has passed the key has its whole allowance back.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window_seconds: float


# Requests per rolling window, per API key, by tier (None: unlimited).
DEFAULT_RATE_LIMITS: dict[str, RateLimit | None] = {
    "free": RateLimit(200, 10),
    "pro": RateLimit(1000, 10),
    "enterprise": RateLimit(5000, 10),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the oldest counted request leaves the window
    window_seconds: float

    def headers(self) -> dict[str, str]:
        """The RateLimit-* headers (IETF httpapi draft), and Retry-After on a refusal."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": f"{self.limit};w={self.window_seconds:g}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


@dataclass
class SlidingWindowLog:
    """One key's requests in this process over the last window: exact, bounded by the limit."""

    times: deque[float] = field(default_factory=deque)

    def count(self, now: float, window: float) -> int:
        while self.times and self.times[0] <= now - window:
            self.times.popleft()
        return len(self.times)

    def decide(self, now: float, limit: RateLimit, others: int = 0) -> Decision:
        used = self.count(now, limit.window_seconds) + others
        oldest = self.times[0] if self.times else now
        reset = max(1, math.ceil(oldest + limit.window_seconds - now)) if used else 0
        if used >= limit.requests:
            # Others' requests leave the window at times we do not know: wait the whole window
            # when they alone fill it.
            wait = reset if self.times else math.ceil(limit.window_seconds)
            return Decision(False, limit.requests, 0, wait, limit.window_seconds)
        self.times.append(now)
        reset = max(1, math.ceil(self.times[0] + limit.window_seconds - now))
        return Decision(True, limit.requests, limit.requests - used - 1, reset, limit.window_seconds)
