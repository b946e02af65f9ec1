"""API keys: creating them (for operators) and resolving them (on every request)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from docjobs.adapters.accounts_table import ApiKeyRecord, DynamoAccountsRepository, hash_key
from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.errors import AuthenticationError, InvalidRequestError
from docjobs.domain.jobs import Owner

KEY_PREFIX = "sk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the owner their key acts for, and its subscription tier."""

    owner: Owner
    tier: str
    key_prefix: str
    key_id: str = ""  # the key's hash: what rate limits count by


def issue_api_key(
    accounts: DynamoAccountsRepository,
    owner: Owner,
    *,
    tier: str,
    tiers: Iterable[str],
    now: float,
    name: str = "",
    api_key: str | None = None,
) -> tuple[str, ApiKeyRecord]:
    """A new key (or `api_key`, when an operator chooses it). Only its hash is stored, so the
    returned key is the one time anyone sees it."""
    if tier not in tiers:
        raise InvalidRequestError(f"Unknown tier {tier!r}; tiers: {', '.join(tiers)}.")
    api_key = api_key or KEY_PREFIX + secrets.token_urlsafe(32)
    if not api_key.startswith(KEY_PREFIX) or len(api_key) < 20:
        raise InvalidRequestError(f"An API key must start with {KEY_PREFIX!r} and be at least 20 characters.")
    record = ApiKeyRecord(
        key_hash=hash_key(api_key), owner=owner, tier=tier, name=name, prefix=api_key[:10], created_at=clock.iso(now)
    )
    accounts.put_key(record)
    return api_key, record


def create_api_key(
    c: Container, owner: Owner, tier: str = "free", name: str = "", api_key: str | None = None
) -> tuple[str, ApiKeyRecord]:
    return issue_api_key(c.accounts, owner, tier=tier, tiers=c.settings.tier_limits, now=c.now(), name=name, api_key=api_key)


class KeyResolver:
    """Resolves bearer keys to principals, caching each for `key_cache_seconds` (so a revoked
    key stops working within that time, and a hot key costs no read per request)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, ApiKeyRecord | None]] = {}
        self._lock = threading.Lock()

    def resolve(self, c: Container, api_key: str | None) -> Principal:
        if not api_key:
            raise AuthenticationError("Missing API key: send Authorization: Bearer sk_...")
        if not api_key.startswith(KEY_PREFIX):
            raise AuthenticationError("Invalid API key.")
        key_hash = hash_key(api_key)
        now = c.now()
        with self._lock:
            cached = self._cache.get(key_hash)
        if cached is None or now - cached[0] > c.settings.key_cache_seconds:
            record = c.accounts.get_key(key_hash)
            with self._lock:
                if len(self._cache) > 10_000:  # bound memory against a flood of random keys
                    self._cache.clear()
                self._cache[key_hash] = (now, record)
        else:
            record = cached[1]
        if record is None or record.revoked_at:
            raise AuthenticationError("Invalid API key.")
        return Principal(owner=record.owner, tier=record.tier, key_prefix=record.prefix, key_id=key_hash)


key_resolver = KeyResolver()
