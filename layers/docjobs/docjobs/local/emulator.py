"""Fidelity fixes for the in-process AWS emulator (moto).

DynamoDB checks a condition and writes an item as one atomic step; moto does not lock, so two
threads can both pass a condition and both write. Our correctness rests on that atomicity
(cancel vs. complete, two approvals), so the local stack and the tests serialise moto's
DynamoDB item operations with one lock, as DynamoDB itself serialises writes to an item.
"""

from __future__ import annotations

import functools
import threading

_LOCK = threading.RLock()
_OPERATIONS = (
    "put_item", "update_item", "delete_item", "get_item", "batch_write_item", "batch_get_item",
    "transact_write_items", "transact_get_items", "query", "scan",
)  # fmt: skip


def make_dynamodb_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in _OPERATIONS:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_docjobs_atomic", False):
            continue

        @functools.wraps(original)
        def locked(self, *args, __original=original, **kwargs):  # type: ignore[no-untyped-def]
            with _LOCK:
                return __original(self, *args, **kwargs)

        locked._docjobs_atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, locked)
