"""Parsing and chunking build hundreds of thousands of small objects, freed by reference counting
(next to none sits in a reference cycle). Python's cyclic collector still runs after every few
hundred allocations and now and then walks every live object: on a 1 MB HTML page that was 5-10%
of the time. It is paused while they run; anything cyclic they leave is collected afterwards."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():  # paused by an outer call (or by the application): theirs to resume
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused
