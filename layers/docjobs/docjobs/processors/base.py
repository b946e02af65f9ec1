"""The interface every document operation implements."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from docjobs.processors.model import ParsedDocument


@dataclass(frozen=True)
class SourceFile:
    source_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


class Steps:
    """Records each step actually run (the job's `history`): name, start, duration, status, details."""

    def __init__(self, on_step: Callable[[dict[str, Any]], None], clock: Callable[[], float]) -> None:
        self.on_step = on_step
        self.clock = clock

    @contextmanager
    def step(self, name: str, **details: Any) -> Iterator[dict[str, Any]]:
        from docjobs.domain.clock import iso

        started_at, started = self.clock(), time.perf_counter()
        event_details: dict[str, Any] = dict(details)
        try:
            yield event_details
        except Exception as error:
            event_details["error"] = str(error)
            self.on_step(_event(name, iso(started_at), started, "failed", event_details))
            raise
        self.on_step(_event(name, iso(started_at), started, "succeeded", event_details))


def _event(name: str, timestamp: str, started: float, status: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"step": name, "timestamp": timestamp, "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "status": status, "details": details}  # fmt: skip


class ParseStore(Protocol):
    """Parse results kept by content (services/parsed.py)."""

    def get(self, sha256: str) -> ParsedDocument | None: ...

    def put(self, sha256: str, parsed: ParsedDocument) -> None: ...


@dataclass
class OperationContext:
    source: SourceFile | None
    options: dict[str, Any]
    steps: Steps
    # Stores bytes as a new source of the same project (split's parts); returns its description.
    store_source: Callable[[bytes, str, str], dict[str, Any]] | None = None
    parse_store: ParseStore | None = None
    _parsed: ParsedDocument | None = field(default=None, repr=False)

    def parsed(self) -> ParsedDocument:
        """The source, parsed once (detect + extract_text steps), or its kept parse result."""
        if self._parsed is None:
            assert self.source is not None
            self._parsed = parse_source(self.source, self.steps, self.parse_store)
        return self._parsed


def parse_source(source: SourceFile, steps: Steps, store: ParseStore | None = None) -> ParsedDocument:
    if store is not None:
        with steps.step("load_parse", sha256=source.sha256) as details:
            kept = store.get(source.sha256)
            details["found"] = kept is not None
        if kept is not None:
            return kept
    from docjobs.processors.formats import detect_format, parse_bytes

    with steps.step("detect") as details:
        details["format"] = detect_format(source.data, source.filename, source.content_type)
    with steps.step("extract_text") as details:
        parsed = parse_bytes(source.data, source.filename, source.content_type)
        details.update(pages=len(parsed.pages), blocks=len(parsed.blocks))
        if parsed.warnings:
            details["warnings"] = parsed.warnings
    if store is not None:
        store.put(source.sha256, parsed)
    return parsed


class Operation(Protocol):
    name: str

    def run(self, ctx: OperationContext) -> dict[str, Any]: ...
