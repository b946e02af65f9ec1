"""A process that parses documents keeps the memory it frees, for the next document.

glibc's malloc gives the top of its heap back to the kernel once a little of it is free, and serves
large blocks by mmap, unmapped when freed (it raises both limits as it sees large blocks freed,
but only to the size of the last one). A parse builds and frees tens of megabytes (lexbor's tree,
pdfium's pages, the blocks), so in a warm worker the next document may find its memory handed back
and fault every page in again, each zeroed by the kernel: on a 1 MB rustdoc page, 1,700 page faults
and 6 ms of system time a parse, a third of it. Kept, the pages are reused. The peak barely moves
(parsing a 300-page PDF: 16.1 MB above the imports, now 16.5): what is kept is what was in use."""

from __future__ import annotations

import functools
import sys

# mallopt's parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
KEPT_FREE = 256 << 20  # at the heap's top, kept up to this much free (the worker has 1 to 2 GB)
LARGEST_FROM_HEAP = 32 << 20  # blocks up to this size from the heap: glibc's own ceiling for its limit


@functools.cache
def keep_freed_memory() -> bool:
    """Once per process; True where the C library is glibc's (elsewhere its allocator's own ways)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # (pypdfium2 imports it anyway)

    libc = ctypes.CDLL(None)  # the process's own C library
    if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: no such knobs
        return False
    return bool(libc.mallopt(_M_TRIM_THRESHOLD, KEPT_FREE)) and bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGEST_FROM_HEAP))
