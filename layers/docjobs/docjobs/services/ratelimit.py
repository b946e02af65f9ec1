"""Rate limits per API key across the API's processes.

Every process decides alone, from its exact log of the key's requests plus what it last heard of
the key's requests elsewhere. A quiet key (fewer than `SYNC_FRACTION` of its limit in this
process's window; a client polling every 2 seconds is one) never touches DynamoDB, so a poll stays
one item read. A busy key shares its counts: at most once a second per process, one UpdateItem
adds this process's requests per second to the key's counters and returns everyone's (five times
a second once half the allowance is used). The limit then holds across containers to within that
lag and each process's unshared part.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

from docjobs.bootstrap import Container
from docjobs.domain.errors import RateLimitedError
from docjobs.domain.ratelimit import Decision, RateLimit, SlidingWindowLog
from docjobs.observability import logger
from docjobs.services.auth import Principal

SYNC_FRACTION = 0.05  # share counts once this process alone has used 5% of the window's allowance
SYNC_INTERVAL_SECONDS = 1.0
NEAR_LIMIT_SYNC_SECONDS = 0.2  # once half the allowance is used, share five times a second


@dataclass
class _KeyState:
    log: SlidingWindowLog = field(default_factory=SlidingWindowLog)
    unshared: Counter[int] = field(default_factory=Counter)  # this process's requests per second, not yet shared
    shared_mine: Counter[int] = field(default_factory=Counter)  # ... and those already shared
    others: dict[int, int] = field(default_factory=dict)  # other processes' requests per second, as last heard
    last_sync: float = 0.0


class RateLimiter:
    def __init__(self, max_keys: int = 50_000) -> None:
        self._keys: dict[str, _KeyState] = {}
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def check(self, c: Container, principal: Principal) -> Decision | None:
        """Count one request of the caller's key; RateLimitedError when it is over its limit.
        None for an unlimited tier."""
        limit = c.settings.rate_limits.get(principal.tier, c.settings.rate_limits.get("free"))
        if limit is None:
            return None
        now = c.now()
        key = principal.key_id or principal.key_prefix
        with self._lock:
            if len(self._keys) > self.max_keys:  # bound memory; the dropped keys' windows start afresh
                self._keys.clear()
            state = self._keys.setdefault(key, _KeyState())
            decision = state.log.decide(now, limit, _others_in_window(state, now, limit))
            if decision.allowed:
                state.unshared[int(now)] += 1
            mine = state.log.count(now, limit.window_seconds)
            busy = mine >= max(2, math.ceil(limit.requests * SYNC_FRACTION))
            near = limit.requests - decision.remaining >= limit.requests / 2
            interval = NEAR_LIMIT_SYNC_SECONDS if near else SYNC_INTERVAL_SECONDS
            sync_due = bool((busy or state.others) and state.unshared) and now - state.last_sync >= interval
            if sync_due:
                state.last_sync = now
                counts = dict(state.unshared)
                state.shared_mine.update(counts)
                state.unshared.clear()
        if sync_due:
            self._share(c, key, state, counts, now, limit)
        if not decision.allowed:
            raise RateLimitedError(
                f"Too many requests: this key may make {limit.requests} requests per {limit.window_seconds:g} seconds "
                f"({principal.tier} tier). Retry after {decision.reset_seconds} s.",
                decision=decision,
            )
        return decision

    def _share(self, c: Container, key: str, state: _KeyState, counts: dict[int, int], now: float, limit: RateLimit) -> None:
        window = math.ceil(limit.window_seconds)
        first_kept = int(now) - window
        try:
            everyone = c.accounts.add_request_counts(key, counts, forget=list(range(first_kept - 30, first_kept)),
                                                     expires_at=int(now) + window + 3600)  # fmt: skip
        except Exception:  # a limit we cannot share is still enforced here; never fail the request for it
            logger.warning("could not share request counts", exc_info=True)
            with self._lock:
                state.unshared.update(counts)
                state.shared_mine.subtract(counts)
            return
        with self._lock:
            for second in [s for s in state.shared_mine if s < first_kept]:
                del state.shared_mine[second]
            state.others = {s: n - state.shared_mine.get(s, 0) for s, n in everyone.items() if s >= first_kept}


def _others_in_window(state: _KeyState, now: float, limit: RateLimit) -> int:
    start = now - limit.window_seconds
    return sum(n for second, n in state.others.items() if second + 1 > start and n > 0)


rate_limiter = RateLimiter()
