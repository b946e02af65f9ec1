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


@dataclass
class OperationContext:
    source: SourceFile | None
    options: dict[str, Any]
    steps: Steps
    # Stores bytes as a new source of the same project (split's parts); returns its description.
    store_source: Callable[[bytes, str, str], dict[str, Any]] | None = None
    _parsed: ParsedDocument | None = field(default=None, repr=False)

    def parsed(self) -> ParsedDocument:
        """The source, parsed once per job (detect + extract_text steps)."""
        if self._parsed is None:
            from docjobs.processors.formats import detect_format, parse_bytes

            assert self.source is not None
            with self.steps.step("detect") as details:
                details["format"] = detect_format(self.source.data, self.source.filename, self.source.content_type)
            with self.steps.step("extract_text") as details:
                self._parsed = parse_bytes(self.source.data, self.source.filename, self.source.content_type)
                details.update(pages=len(self._parsed.pages), blocks=len(self._parsed.blocks))
                if self._parsed.warnings:
                    details["warnings"] = self._parsed.warnings
        return self._parsed


class Operation(Protocol):
    name: str

    def run(self, ctx: OperationContext) -> dict[str, Any]: ...
