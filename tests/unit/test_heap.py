"""A process that has parsed a document keeps the memory it frees: the next document of the same
size finds its pages mapped (no page faults), where glibc's defaults hand them back each time."""

from __future__ import annotations

import subprocess
import sys

import pytest
from docjobs.processors.heap import keep_freed_memory

# In a fresh process (the heap's state is the test's own): a "document" of 40 MB in 1 MB pieces,
# each page written, freed, three times; the page faults of the last time are printed.
PROBE = """
import resource, sys
from docjobs.processors.formats import parse_bytes
if sys.argv[1] == "after a parse":
    parse_bytes(b"<p>A first document.</p>", "first.html")
def document():
    pieces = [bytearray(1 << 20) for _ in range(40)]
    for piece in pieces:
        piece[::4096] = bytes(256)  # a byte in each page: a page not mapped faults in
for _ in range(2):
    document()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
document()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES = 40 * 256


def page_faults(when: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, when], capture_output=True, text=True, check=True)
    return int(out.stdout)


glibc_only = pytest.mark.skipif(not keep_freed_memory(), reason="glibc's malloc only")


@glibc_only
def test_after_a_parse_freed_memory_is_reused_without_page_faults():
    assert page_faults("after a parse") < PAGES // 20


@glibc_only
def test_without_it_glibc_hands_the_pages_back_and_faults_them_in_again():
    # The control: what the setting changes (were it a no-op, this and the test above disagree).
    assert page_faults("no parse") >= PAGES * 9 // 10
