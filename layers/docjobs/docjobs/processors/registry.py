"""Operation name -> processor. Imported by the worker only."""

from __future__ import annotations

from docjobs.processors.base import Operation


def get_operation(name: str) -> Operation:
    from docjobs.processors.extract import Extract
    from docjobs.processors.operations import Chunk, Classify, Parse, Summarization
    from docjobs.processors.split import Split

    operations: dict[str, Operation] = {op.name: op for op in (Parse(), Chunk(), Extract(), Summarization(), Classify(), Split())}
    try:
        return operations[name]
    except KeyError:
        raise ValueError(f"no processor for operation {name!r}") from None
