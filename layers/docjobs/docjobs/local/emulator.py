"""Fidelity fixes (and an outbox) for the in-process AWS emulator (moto).

1. Atomicity. DynamoDB checks a condition and writes an item as one atomic step; moto does not
   lock, so two threads can both pass a condition and both write. Our correctness rests on that
   atomicity (cancel vs. complete, two approvals), so the local stack and the tests serialise
   moto's DynamoDB item operations with one lock, as DynamoDB itself serialises writes to an item.
2. Transaction cost. For rollback, moto deep-copies every table a transaction touches, so each
   transaction costs time in proportion to everything stored: a batch whose children each commit
   one slowed to a crawl. Here a transaction snapshots only the items it touches, and puts those
   back if it is cancelled; what it costs then depends on the transaction, as in DynamoDB.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from pathlib import Path
from typing import Any

_LOCK = threading.RLock()
_OPERATIONS = (
    "put_item", "update_item", "delete_item", "get_item", "batch_write_item", "batch_get_item",
    "transact_write_items", "transact_get_items", "query", "scan",
)  # fmt: skip


class _NoTableCopies:
    """Stands in for the `copy` module inside moto's DynamoDB models: tables are not copied
    (transactions snapshot their own items instead); anything else is copied as before."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched_keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    keys = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table_name = op.get("TableName")
        if not table_name or table_name not in backend.tables:
            continue
        if "Item" in op:
            table = backend.tables[table_name]
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None and table.range_key_attr in op["Item"]:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op.get("Key")
        if key:
            keys.append((table_name, key))
    return keys


def _item_level_transactions(original: Any) -> Any:
    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = []
        for table_name, key in _touched_keys(self, transact_items):
            try:
                current = self.get_item(table_name, key)
            except Exception:  # an invalid key: moto's own validation reports it
                continue
            snapshots.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(snapshots):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise

    return transact_write_items


def keep_outbox(directory: Path) -> None:
    """Write every e-mail the emulator's SES "sends" to `directory` as JSON, so that a developer
    (or a test) can read it back: the local stand-in for an inbox."""
    from moto.ses.models import SESBackend

    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.json"):
        old.unlink()
    original = SESBackend.send_email
    if getattr(original, "_docjobs_outbox", False):
        return
    counter = iter(range(1, 10**9))

    @functools.wraps(original)
    def send_email(self, source, subject, body, destinations, *args, **kwargs):  # type: ignore[no-untyped-def]
        message = original(self, source, subject, body, destinations, *args, **kwargs)
        record = {"message_id": message.id, "from": source, "to": destinations.get("ToAddresses", []),
                  "subject": subject, "body": body}  # fmt: skip
        (directory / f"{next(counter):06d}.json").write_text(json.dumps(record, indent=2))
        return message

    send_email._docjobs_outbox = True  # type: ignore[attr-defined]
    SESBackend.send_email = send_email  # type: ignore[method-assign]


def make_dynamodb_atomic() -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend

    if not isinstance(models.copy, _NoTableCopies):
        models.copy = _NoTableCopies()  # type: ignore[assignment]
        DynamoDBBackend.transact_write_items = _item_level_transactions(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
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
